/* Structured MIME header values: Content-Type and Content-Disposition
 * with parameters (RFC 2045 section 5.1, RFC 2183), RFC 2231 parameter
 * continuations and extended values, Content-Transfer-Encoding and
 * Content-Language tokens. Lenient: comments are skipped anywhere between
 * tokens, garbage up to the next ";" is skipped, a quoted string may end
 * at the end of the value. */
#include "mime-private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mime_lex {
	const uint8_t *s;
	size_t len, pos;
};

/* RFC 2045 tspecials, plus SP and CTLs. 8-bit bytes are let through:
 * some mailers put raw UTF-8 in parameter values without quoting. */
static bool mime_is_token_char(uint8_t c)
{
	if (c <= ' ' || c == 0x7f)
		return false;
	return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Skips blanks, line breaks and (nested) comments. */
static void mime_lex_skip_cfws(struct mime_lex *l)
{
	unsigned depth = 0;
	while (l->pos < l->len) {
		uint8_t c = l->s[l->pos];
		if (depth > 0) {
			if (c == '\\' && l->pos + 1 < l->len)
				l->pos++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			l->pos++;
		} else if (c == '(') {
			depth = 1;
			l->pos++;
		} else if (mime_is_wsp(c) || c == '\r' || c == '\n') {
			l->pos++;
		} else {
			break;
		}
	}
}

static bool mime_lex_token(struct mime_lex *l, const uint8_t **tok_r,
			   size_t *len_r)
{
	size_t start = l->pos;
	while (l->pos < l->len && mime_is_token_char(l->s[l->pos]))
		l->pos++;
	*tok_r = l->s + start;
	*len_r = l->pos - start;
	return *len_r > 0;
}

/* Quoted string at pos (which is '"'), unescaped into out. */
static void mime_lex_quoted(struct mime_lex *l, struct buf *out)
{
	l->pos++;
	while (l->pos < l->len) {
		uint8_t c = l->s[l->pos++];
		if (c == '"')
			return;
		if (c == '\\' && l->pos < l->len)
			c = l->s[l->pos++];
		else if (c == '\r' || c == '\n')
			continue;	/* folding inside quotes */
		buf_append_byte(out, c);
	}
}

struct mime_raw_param {
	const uint8_t *name;	/* base name (before any "*") */
	size_t name_len;
	struct mime_str value;	/* arena copy */
	unsigned section;	/* RFC 2231 continuation number */
	bool continued;		/* name*N form */
	bool extended;		/* trailing "*": charset'lang'%XX */
	size_t order;		/* position in the header */
};

static int mime_raw_param_cmp(const void *a, const void *b)
{
	const struct mime_raw_param *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int r = strncasecmp((const char *)x->name, (const char *)y->name, n);
	if (r != 0)
		return r;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	if (x->section != y->section)
		return x->section < y->section ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

struct mime_out_param {
	struct mime_param p;
	size_t order;
};

static int mime_out_param_cmp(const void *a, const void *b)
{
	const struct mime_out_param *x = a, *y = b;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Percent-encodes a non-extended continuation joined to an extended one
 * (RFC 2231 section 4.1: the extended form must be all attribute-char
 * or %XX). */
static void mime_percent_encode(const char *s, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];
		if (mime_is_token_char(c) && c < 0x80 && c != '*' &&
		    c != '\'' && c != '%') {
			buf_append_byte(out, c);
		} else {
			buf_append_byte(out, '%');
			buf_append_byte(out, (uint8_t)hex[c >> 4]);
			buf_append_byte(out, (uint8_t)hex[c & 15]);
		}
	}
}

/* Parses "name*N*" into base, section, flags. */
static void mime_param_classify(struct mime_raw_param *rp,
				const uint8_t *name, size_t len)
{
	rp->name = name;
	rp->name_len = len;
	rp->section = 0;
	rp->continued = false;
	rp->extended = false;
	const uint8_t *star = memchr(name, '*', len);
	if (star == NULL)
		return;
	size_t base = (size_t)(star - name), i = base + 1;
	unsigned sec = 0;
	size_t digits = 0;
	while (i < len && name[i] >= '0' && name[i] <= '9' && digits < 6) {
		sec = sec * 10 + (unsigned)(name[i] - '0');
		i++;
		digits++;
	}
	bool ext = false;
	if (i < len && name[i] == '*') {
		ext = true;
		i++;
	}
	/* "name*", "name*N", "name*N*"; anything else is a plain name
	 * that happens to contain "*". A leading zero on N>0 is invalid
	 * (2231 section 3) but harmless. */
	if (i != len || base == 0 || (digits == 0 && !ext))
		return;
	rp->name_len = base;
	rp->section = sec;
	rp->continued = digits > 0;
	rp->extended = ext;
}

/* Joins RFC 2231 continuations and produces the final parameter list. */
static void mime_params_finish(struct mime_arena *a,
			       struct mime_raw_param *raw, size_t n,
			       struct mime_param **params_r, size_t *count_r)
{
	struct mime_out_param *out = xcalloc(n ? n : 1, sizeof(*out));
	size_t nout = 0;
	/* Plain parameters pass through; starred ones are grouped. */
	size_t nstar = 0;
	for (size_t i = 0; i < n; i++) {
		if (raw[i].name_len == 0)
			continue;
		bool starred = raw[i].continued || raw[i].extended;
		if (!starred) {
			out[nout].p.name = mime_arena_upper(a, raw[i].name,
							    raw[i].name_len);
			out[nout].p.value = raw[i].value;
			out[nout].order = raw[i].order;
			nout++;
		} else {
			raw[nstar++] = raw[i];
		}
	}
	if (nstar > 1)
		qsort(raw, nstar, sizeof(*raw), mime_raw_param_cmp);
	struct buf v;
	buf_init(&v);
	for (size_t i = 0; i < nstar;) {
		size_t j = i;
		while (j < nstar && raw[j].name_len == raw[i].name_len &&
		       strncasecmp((const char *)raw[j].name,
				   (const char *)raw[i].name,
				   raw[i].name_len) == 0)
			j++;
		/* Group [i, j): sections 0, 1, 2, ... until a gap; a name*
		 * without number counts as section 0 on its own. */
		buf_clear(&v);
		bool ext = raw[i].extended;
		size_t order = raw[i].order;
		unsigned want = 0;
		for (size_t k = i; k < j; k++) {
			if (raw[k].section != want)
				break;
			if (!raw[k].continued && k > i)
				break;
			if (raw[k].order < order)
				order = raw[k].order;
			if (ext && !raw[k].extended)
				mime_percent_encode(raw[k].value.s,
						    raw[k].value.len, &v);
			else
				buf_append(&v, raw[k].value.s,
					   raw[k].value.len);
			want++;
			if (!raw[k].continued)
				break;
		}
		if (want > 0) {
			struct buf name;
			buf_init(&name);
			buf_append(&name, raw[i].name, raw[i].name_len);
			if (ext)
				buf_append_byte(&name, '*');
			out[nout].p.name = mime_arena_upper(a, name.data,
							    name.len);
			out[nout].p.value = mime_arena_str(a, v.data, v.len);
			out[nout].order = order;
			nout++;
			buf_free(&name);
		}
		i = j;
	}
	buf_free(&v);
	if (nout > 1)
		qsort(out, nout, sizeof(*out), mime_out_param_cmp);
	struct mime_param *params = mime_arena_array(a, nout, sizeof(*params));
	for (size_t i = 0; i < nout; i++)
		params[i] = out[i].p;
	free(out);
	*params_r = params;
	*count_r = nout;
}

void mime_parse_content_type(struct mime_arena *a, const uint8_t *value,
			     size_t len, bool with_subtype,
			     struct mime_ctype *ct_r)
{
	struct mime_lex l = { value, len, 0 };
	const uint8_t *tok;
	size_t tlen;
	memset(ct_r, 0, sizeof(*ct_r));
	mime_lex_skip_cfws(&l);
	if (mime_lex_token(&l, &tok, &tlen)) {
		struct mime_str type = mime_arena_upper(a, tok, tlen);
		if (!with_subtype) {
			ct_r->type = type;
		} else {
			mime_lex_skip_cfws(&l);
			if (l.pos < l.len && l.s[l.pos] == '/') {
				l.pos++;
				mime_lex_skip_cfws(&l);
				if (mime_lex_token(&l, &tok, &tlen)) {
					ct_r->type = type;
					ct_r->subtype = mime_arena_upper(
						a, tok, tlen);
				}
			}
		}
	}

	struct mime_raw_param *raw = NULL;
	size_t n = 0, cap = 0;
	struct buf qv;
	buf_init(&qv);
	for (;;) {
		/* Skip to the next ";", over quoted strings and comments. */
		while (l.pos < l.len && l.s[l.pos] != ';') {
			if (l.s[l.pos] == '"') {
				buf_clear(&qv);
				mime_lex_quoted(&l, &qv);
			} else if (l.s[l.pos] == '(') {
				mime_lex_skip_cfws(&l);
			} else {
				l.pos++;
			}
		}
		if (l.pos >= l.len)
			break;
		l.pos++;
		mime_lex_skip_cfws(&l);
		if (!mime_lex_token(&l, &tok, &tlen))
			continue;
		const uint8_t *name = tok;
		size_t name_len = tlen;
		mime_lex_skip_cfws(&l);
		if (l.pos >= l.len || l.s[l.pos] != '=')
			continue;
		l.pos++;
		mime_lex_skip_cfws(&l);
		struct mime_str v;
		if (l.pos < l.len && l.s[l.pos] == '"') {
			buf_clear(&qv);
			mime_lex_quoted(&l, &qv);
			v = mime_arena_str(a, qv.data, qv.len);
		} else {
			/* Lenient token: up to ";" or a blank, so unquoted
			 * values with "/" or "=" (common) survive. */
			size_t start = l.pos;
			while (l.pos < l.len && l.s[l.pos] != ';' &&
			       l.s[l.pos] > ' ' && l.s[l.pos] != '"' &&
			       l.s[l.pos] != '(')
				l.pos++;
			v = mime_arena_str(a, l.s + start, l.pos - start);
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			raw = xrealloc(raw, cap * sizeof(*raw));
		}
		mime_param_classify(&raw[n], name, name_len);
		raw[n].value = v;
		raw[n].order = n;
		n++;
	}
	buf_free(&qv);
	mime_params_finish(a, raw, n, &ct_r->params, &ct_r->nparams);
	free(raw);
}

struct mime_str mime_param_get(const struct mime_param *params, size_t n,
			       const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (mime_str_eq_ci(params[i].name, name))
			return params[i].value;
	}
	return (struct mime_str){ NULL, 0 };
}

struct mime_str mime_parse_token(struct mime_arena *a, const uint8_t *value,
				 size_t len)
{
	struct mime_lex l = { value, len, 0 };
	const uint8_t *tok;
	size_t tlen;
	mime_lex_skip_cfws(&l);
	if (!mime_lex_token(&l, &tok, &tlen))
		return (struct mime_str){ NULL, 0 };
	return mime_arena_upper(a, tok, tlen);
}

void mime_parse_token_list(struct mime_arena *a, const uint8_t *value,
			   size_t len, struct mime_str **list_r,
			   size_t *count_r)
{
	struct mime_lex l = { value, len, 0 };
	struct mime_str *list = NULL;
	size_t n = 0, cap = 0;
	while (l.pos < l.len) {
		const uint8_t *tok;
		size_t tlen;
		mime_lex_skip_cfws(&l);
		if (mime_lex_token(&l, &tok, &tlen)) {
			if (n == cap) {
				cap = cap ? cap * 2 : 4;
				list = xrealloc(list, cap * sizeof(*list));
			}
			list[n++] = mime_arena_str(a, tok, tlen);
		} else if (l.pos < l.len) {
			l.pos++;	/* "," or garbage */
		}
	}
	*list_r = mime_arena_array(a, n, sizeof(**list_r));
	if (n > 0)
		memcpy(*list_r, list, n * sizeof(*list));
	*count_r = n;
	free(list);
}
