/* FETCH data items; see imap-fetch-args.h. */
#include "imap-fetch-args.h"

#include "../../common/buf.h"
#include "imap-store-args.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void imap_fetch_body_free(struct imap_fetch_body *body)
{
	free(body->part);
	for (size_t i = 0; i < body->field_count; i++)
		free(body->fields[i]);
	free(body->fields);
	free(body->response_name);
	memset(body, 0, sizeof(*body));
}

void imap_fetch_args_free(struct imap_fetch_args *fetch)
{
	for (size_t i = 0; i < fetch->body_count; i++)
		imap_fetch_body_free(&fetch->bodies[i]);
	free(fetch->bodies);
	memset(fetch, 0, sizeof(*fetch));
}

/* ---- the section inside "[...]" ---- */

struct imap_fetch_lex {
	const char *s;
	size_t len, pos;
};

static bool imap_fetch_lex_word(struct imap_fetch_lex *l, const char *word)
{
	size_t n = strlen(word);
	if (l->len - l->pos < n || strncasecmp(l->s + l->pos, word, n) != 0)
		return false;
	l->pos += n;
	return true;
}

static bool imap_fetch_lex_char(struct imap_fetch_lex *l, char c)
{
	if (l->pos >= l->len || l->s[l->pos] != c)
		return false;
	l->pos++;
	return true;
}

/* number (RFC 9051 section 9: 1*DIGIT, here up to max) */
static bool imap_fetch_lex_number(struct imap_fetch_lex *l, uint64_t max,
				  uint64_t *v_r)
{
	size_t start = l->pos;
	uint64_t v = 0;
	while (l->pos < l->len && l->s[l->pos] >= '0' && l->s[l->pos] <= '9') {
		v = v * 10 + (uint64_t)(l->s[l->pos++] - '0');
		if (v > max)
			return false;
	}
	*v_r = v;
	return l->pos > start;
}

/* header-fld-name = astring; as atom or quoted string (literals cannot
 * appear inside the command parser's bracket atom). Field names are
 * RFC 5322 ftext: printable ASCII except ":". */
static int imap_fetch_field_name(struct imap_fetch_lex *l, struct buf *name,
				 const char **error_r)
{
	buf_clear(name);
	if (imap_fetch_lex_char(l, '"')) {
		for (;;) {
			if (l->pos >= l->len) {
				*error_r = "Unterminated quoted string in section";
				return -1;
			}
			char c = l->s[l->pos++];
			if (c == '"')
				break;
			if (c == '\\' && l->pos < l->len)
				c = l->s[l->pos++];
			buf_append_byte(name, (uint8_t)c);
		}
	} else {
		while (l->pos < l->len && l->s[l->pos] != ' ' &&
		       l->s[l->pos] != ')' && l->s[l->pos] != '(' &&
		       l->s[l->pos] != '"')
			buf_append_byte(name, (uint8_t)l->s[l->pos++]);
	}
	if (name->len == 0) {
		*error_r = "Empty header field name";
		return -1;
	}
	if (name->len > IMAP_FETCH_MAX_FIELD_LEN) {
		*error_r = "Header field name too long";
		return -1;
	}
	for (size_t i = 0; i < name->len; i++) {
		uint8_t c = name->data[i];
		if (c < 33 || c > 126 || c == ':') {
			*error_r = "Invalid header field name";
			return -1;
		}
		if (c >= 'a' && c <= 'z')
			name->data[i] = (uint8_t)(c - 'a' + 'A');
	}
	return 0;
}

/* header-list = "(" header-fld-name *(SP header-fld-name) ")" */
static int imap_fetch_header_list(struct imap_fetch_lex *l,
				  struct imap_fetch_body *body,
				  const char **error_r)
{
	struct buf name;
	int ret = -1;
	buf_init(&name);
	if (!imap_fetch_lex_char(l, ' ') || !imap_fetch_lex_char(l, '(')) {
		*error_r = "Missing header field list";
		goto out;
	}
	for (;;) {
		if (imap_fetch_field_name(l, &name, error_r) < 0)
			goto out;
		bool dup = false;
		const char *n = buf_cstr(&name);
		for (size_t i = 0; i < body->field_count && !dup; i++)
			dup = strcmp(body->fields[i], n) == 0;
		if (!dup) {
			if (body->field_count == IMAP_FETCH_MAX_FIELDS) {
				*error_r = "Too many header fields";
				goto out;
			}
			body->fields = xrealloc(
				body->fields,
				(body->field_count + 1) * sizeof(char *));
			body->fields[body->field_count++] = xstrdup(n);
		}
		if (imap_fetch_lex_char(l, ')'))
			break;
		if (!imap_fetch_lex_char(l, ' ')) {
			*error_r = "Invalid header field list";
			goto out;
		}
	}
	ret = 0;
out:
	buf_free(&name);
	return ret;
}

/* section-spec = section-msgtext / (section-part ["." section-text]),
 * section-part = nz-number *("." nz-number), section-text =
 * section-msgtext / "MIME"; BINARY allows section-part only (RFC 3516
 * section-binary). l is positioned after "[". */
static int imap_fetch_section(struct imap_fetch_lex *l,
			      struct imap_fetch_body *body,
			      const char **error_r)
{
	bool after_part = false;
	*error_r = "Invalid section";
	while (l->pos < l->len && l->s[l->pos] >= '0' && l->s[l->pos] <= '9') {
		uint64_t n;
		if (l->s[l->pos] == '0' ||
		    !imap_fetch_lex_number(l, UINT32_MAX, &n)) {
			*error_r = "Invalid section part number";
			return -1;
		}
		if (body->part_count == IMAP_FETCH_MAX_PART_DEPTH) {
			*error_r = "Section part number too deep";
			return -1;
		}
		body->part = xrealloc(body->part,
				      (body->part_count + 1) * sizeof(uint32_t));
		body->part[body->part_count++] = (uint32_t)n;
		after_part = true;
		if (!imap_fetch_lex_char(l, '.'))
			break;
		after_part = false;
		if (l->pos < l->len && (l->s[l->pos] < '0' || l->s[l->pos] > '9'))
			break;	/* ".TEXT" etc. follows */
	}
	if (body->part_count > 0 && !after_part &&
	    (body->binary || body->binary_size))
		return -1;
	if (imap_fetch_lex_char(l, ']')) {
		/* "1." then "]" is not a section */
		if (body->part_count > 0 && !after_part)
			return -1;
		body->section = IMAP_SECTION_FULL;
		return 0;
	}
	if (body->binary || body->binary_size || after_part)
		return -1;
	if (imap_fetch_lex_word(l, "HEADER.FIELDS.NOT")) {
		body->section = IMAP_SECTION_HEADER_FIELDS_NOT;
		if (imap_fetch_header_list(l, body, error_r) < 0)
			return -1;
	} else if (imap_fetch_lex_word(l, "HEADER.FIELDS")) {
		body->section = IMAP_SECTION_HEADER_FIELDS;
		if (imap_fetch_header_list(l, body, error_r) < 0)
			return -1;
	} else if (imap_fetch_lex_word(l, "HEADER")) {
		body->section = IMAP_SECTION_HEADER;
	} else if (imap_fetch_lex_word(l, "TEXT")) {
		body->section = IMAP_SECTION_TEXT;
	} else if (imap_fetch_lex_word(l, "MIME")) {
		if (body->part_count == 0) {
			*error_r = "MIME section needs a part number";
			return -1;
		}
		body->section = IMAP_SECTION_MIME;
	} else {
		return -1;
	}
	if (!imap_fetch_lex_char(l, ']')) {
		*error_r = "Invalid section";
		return -1;
	}
	return 0;
}

/* The response name (RFC 9051 section 7.5.2 msg-att-static: "BODY"
 * section ["<" number ">"], "BINARY" section-binary ["<" number ">"],
 * "BINARY.SIZE" section-binary). Field names are written as atoms when
 * they are atoms, else quoted. */
static char *imap_fetch_response_name(const struct imap_fetch_body *body)
{
	static const char *const section_names[] = {
		[IMAP_SECTION_FULL] = "",
		[IMAP_SECTION_HEADER] = "HEADER",
		[IMAP_SECTION_HEADER_FIELDS] = "HEADER.FIELDS",
		[IMAP_SECTION_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
		[IMAP_SECTION_TEXT] = "TEXT",
		[IMAP_SECTION_MIME] = "MIME",
	};
	struct buf b;
	buf_init(&b);
	buf_append_str(&b, body->binary_size ? "BINARY.SIZE[" :
			   body->binary	    ? "BINARY[" :
						      "BODY[");
	for (size_t i = 0; i < body->part_count; i++)
		buf_printf(&b, "%s%u", i > 0 ? "." : "", body->part[i]);
	if (body->section != IMAP_SECTION_FULL) {
		if (body->part_count > 0)
			buf_append_byte(&b, '.');
		buf_append_str(&b, section_names[body->section]);
	}
	if (body->field_count > 0) {
		buf_append_str(&b, " (");
		for (size_t i = 0; i < body->field_count; i++) {
			const char *f = body->fields[i];
			if (i > 0)
				buf_append_byte(&b, ' ');
			if (imap_keyword_is_valid(f, strlen(f))) {
				buf_append_str(&b, f);
				continue;
			}
			buf_append_byte(&b, '"');
			for (; *f != '\0'; f++) {
				if (*f == '"' || *f == '\\')
					buf_append_byte(&b, '\\');
				buf_append_byte(&b, (uint8_t)*f);
			}
			buf_append_byte(&b, '"');
		}
		buf_append_byte(&b, ')');
	}
	buf_append_byte(&b, ']');
	if (body->partial)
		buf_printf(&b, "<%llu>",
			   (unsigned long long)body->partial_origin);
	char *name = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return name;
}

int imap_fetch_body_parse(const char *s, size_t len,
			  struct imap_fetch_body *body_r,
			  const char **error_r)
{
	struct imap_fetch_lex l = { s, len, 0 };
	memset(body_r, 0, sizeof(*body_r));
	if (imap_fetch_lex_word(&l, "BODY.PEEK[")) {
		body_r->peek = true;
	} else if (imap_fetch_lex_word(&l, "BODY[")) {
	} else if (imap_fetch_lex_word(&l, "BINARY.PEEK[")) {
		body_r->peek = body_r->binary = true;
	} else if (imap_fetch_lex_word(&l, "BINARY.SIZE[")) {
		/* reading a size does not read the message: no \Seen */
		body_r->peek = body_r->binary_size = true;
	} else if (imap_fetch_lex_word(&l, "BINARY[")) {
		body_r->binary = true;
	} else {
		*error_r = "Unknown FETCH attribute";
		return -1;
	}
	if (imap_fetch_section(&l, body_r, error_r) < 0)
		goto fail;
	/* partial = "<" number64 "." nz-number64 ">" (RFC 9051; number in
	 * RFC 3501, which a 64-bit value includes) */
	if (imap_fetch_lex_char(&l, '<')) {
		if (body_r->binary_size) {
			*error_r = "BINARY.SIZE takes no partial";
			goto fail;
		}
		*error_r = "Invalid partial";
		if (!imap_fetch_lex_number(&l, INT64_MAX,
					   &body_r->partial_origin) ||
		    !imap_fetch_lex_char(&l, '.') ||
		    !imap_fetch_lex_number(&l, INT64_MAX,
					   &body_r->partial_octets) ||
		    body_r->partial_octets == 0 ||
		    !imap_fetch_lex_char(&l, '>'))
			goto fail;
		body_r->partial = true;
	}
	if (l.pos != len) {
		*error_r = "Garbage after section";
		goto fail;
	}
	body_r->response_name = imap_fetch_response_name(body_r);
	return 0;
fail:
	imap_fetch_body_free(body_r);
	return -1;
}

/* ---- the item list ---- */

static const struct {
	const char *name;
	uint32_t items;
} imap_fetch_simple[] = {
	{ "UID", IMAP_FETCH_UID },
	{ "FLAGS", IMAP_FETCH_FLAGS },
	{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
	{ "RFC822.SIZE", IMAP_FETCH_RFC822_SIZE },
	{ "ENVELOPE", IMAP_FETCH_ENVELOPE },
	{ "BODY", IMAP_FETCH_BODY },
	{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
	{ "MODSEQ", IMAP_FETCH_MODSEQ },
	{ "PREVIEW", IMAP_FETCH_PREVIEW },
	{ "SAVEDATE", IMAP_FETCH_SAVEDATE },
};

/* RFC 9051 section 6.4.5 macros, valid only as the whole item list. */
static const struct {
	const char *name;
	uint32_t items;
} imap_fetch_macros[] = {
	{ "ALL", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			 IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE },
	{ "FAST", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			  IMAP_FETCH_RFC822_SIZE },
	{ "FULL", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			  IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE |
			  IMAP_FETCH_BODY },
};

static struct imap_fetch_body *imap_fetch_add_body(struct imap_fetch_args *f,
						   const char **error_r)
{
	if (f->body_count == IMAP_FETCH_MAX_BODY_ITEMS) {
		*error_r = "Too many body items in FETCH";
		return NULL;
	}
	f->bodies = xrealloc(f->bodies,
			     (f->body_count + 1) * sizeof(*f->bodies));
	return &f->bodies[f->body_count++];
}

/* RFC822, RFC822.HEADER and RFC822.TEXT are BODY[], BODY.PEEK[HEADER]
 * and BODY[TEXT] answered under their own names (RFC 3501 section
 * 6.4.5). */
static int imap_fetch_rfc822(struct imap_fetch_args *f, const char *name,
			     const char **error_r)
{
	enum imap_fetch_section section;
	bool peek = false;
	if (strcasecmp(name, "RFC822") == 0) {
		section = IMAP_SECTION_FULL;
	} else if (strcasecmp(name, "RFC822.HEADER") == 0) {
		section = IMAP_SECTION_HEADER;
		peek = true;
	} else if (strcasecmp(name, "RFC822.TEXT") == 0) {
		section = IMAP_SECTION_TEXT;
	} else {
		return 0;
	}
	struct imap_fetch_body *b = imap_fetch_add_body(f, error_r);
	if (b == NULL)
		return -1;
	memset(b, 0, sizeof(*b));
	b->peek = peek;
	b->section = section;
	b->response_name = xstrdup(name);
	for (char *p = b->response_name; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	}
	return 1;
}

/* One fetch-att at args[*i]; PREVIEW may take the next argument, its
 * modifier list (RFC 8970 section 3.2). */
static int imap_fetch_att(struct imap_fetch_args *f, const struct imap_arg *args,
			  size_t count, size_t *i, const char **error_r)
{
	const struct imap_arg *a = &args[*i];
	if (a->type != IMAP_ARG_ATOM) {
		*error_r = "Invalid FETCH attribute";
		return -1;
	}
	for (size_t k = 0; k < sizeof(imap_fetch_simple) /
				       sizeof(imap_fetch_simple[0]); k++) {
		if (strcasecmp(a->str, imap_fetch_simple[k].name) != 0)
			continue;
		f->items |= imap_fetch_simple[k].items;
		if (imap_fetch_simple[k].items != IMAP_FETCH_PREVIEW ||
		    *i + 1 >= count || args[*i + 1].type != IMAP_ARG_LIST)
			return 0;
		/* "FETCH 1 PREVIEW (CHANGEDSINCE 5)": a lone PREVIEW is
		 * followed by the FETCH modifiers, not its own */
		const struct imap_arg *next = &args[*i + 1];
		if (next->list_count > 0 &&
		    (imap_arg_atom_equals(&next->list[0], "CHANGEDSINCE") ||
		     imap_arg_atom_equals(&next->list[0], "VANISHED")))
			return 0;
		/* preview-mod list: "(" preview-mod *(SP preview-mod) ")" */
		const struct imap_arg *mods = &args[++*i];
		if (mods->list_count == 0) {
			*error_r = "Empty PREVIEW modifier list";
			return -1;
		}
		for (size_t m = 0; m < mods->list_count; m++) {
			if (!imap_arg_atom_equals(&mods->list[m], "LAZY")) {
				*error_r = "Unknown PREVIEW modifier";
				return -1;
			}
			f->preview_lazy = true;
		}
		return 0;
	}
	int ret = imap_fetch_rfc822(f, a->str, error_r);
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	if (strchr(a->str, '[') == NULL) {
		*error_r = "Unknown FETCH attribute";
		return -1;
	}
	struct imap_fetch_body *b = imap_fetch_add_body(f, error_r);
	if (b == NULL)
		return -1;
	if (imap_fetch_body_parse(a->str, a->len, b, error_r) < 0) {
		f->body_count--;
		return -1;
	}
	return 0;
}

/* fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")" */
static int imap_fetch_modifiers(struct imap_fetch_args *f,
				const struct imap_arg *list,
				const char **error_r)
{
	if (list->list_count == 0) {
		*error_r = "Empty FETCH modifier list";
		return -1;
	}
	for (size_t i = 0; i < list->list_count; i++) {
		const struct imap_arg *a = &list->list[i];
		if (imap_arg_atom_equals(a, "CHANGEDSINCE")) {
			if (f->changedsince_set ||
			    i + 1 >= list->list_count ||
			    !imap_modseq_parse(&list->list[i + 1], false,
					       &f->changedsince)) {
				*error_r = "Invalid CHANGEDSINCE";
				return -1;
			}
			f->changedsince_set = true;
			/* RFC 7162 section 3.1.4.1: MODSEQ is implied */
			f->items |= IMAP_FETCH_MODSEQ;
			i++;
		} else if (imap_arg_atom_equals(a, "VANISHED")) {
			f->vanished = true;
		} else {
			*error_r = "Unknown FETCH modifier";
			return -1;
		}
	}
	/* RFC 7162 section 3.2.6: VANISHED requires CHANGEDSINCE */
	if (f->vanished && !f->changedsince_set) {
		*error_r = "VANISHED requires CHANGEDSINCE";
		return -1;
	}
	return 0;
}

int imap_fetch_args_parse(const struct imap_arg *args, size_t count,
			  struct imap_fetch_args *fetch_r,
			  const char **error_r)
{
	memset(fetch_r, 0, sizeof(*fetch_r));
	if (count == 0) {
		*error_r = "Missing FETCH attributes";
		return -1;
	}
	size_t next = 1;
	const struct imap_arg *a = &args[0];
	if (a->type == IMAP_ARG_LIST) {
		if (a->list_count == 0) {
			*error_r = "Empty FETCH attribute list";
			return -1;
		}
		for (size_t i = 0; i < a->list_count; i++) {
			if (imap_fetch_att(fetch_r, a->list, a->list_count, &i,
					   error_r) < 0)
				goto fail;
		}
	} else {
		bool macro = false;
		for (size_t k = 0; k < sizeof(imap_fetch_macros) /
					       sizeof(imap_fetch_macros[0]); k++) {
			if (imap_arg_atom_equals(a, imap_fetch_macros[k].name)) {
				fetch_r->items = imap_fetch_macros[k].items;
				macro = true;
			}
		}
		size_t i = 0;
		if (!macro &&
		    imap_fetch_att(fetch_r, args, count, &i, error_r) < 0)
			goto fail;
		next = i + 1;
	}
	if (next < count) {
		if (args[next].type != IMAP_ARG_LIST || next + 1 != count) {
			*error_r = "Unexpected argument after FETCH attributes";
			goto fail;
		}
		if (imap_fetch_modifiers(fetch_r, &args[next], error_r) < 0)
			goto fail;
	}
	for (size_t i = 0; i < fetch_r->body_count; i++) {
		if (!fetch_r->bodies[i].peek)
			fetch_r->sets_seen = true;
	}
	return 0;
fail:
	imap_fetch_args_free(fetch_r);
	return -1;
}
