/* SEARCH arguments; see imap-search-args.h. */
#include "imap-search-args.h"

#include "../../common/mutf7.h"
#include "../../store/charset.h"
#include "imap-store-args.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct imap_search_ctx {
	struct imap_search_args *args;
	unsigned max_depth;
	size_t max_seq_items;
	const char *error;
};

static void imap_search_key_free(struct imap_search_key *key)
{
	for (size_t i = 0; i < key->child_count; i++)
		imap_search_key_free(&key->children[i]);
	free(key->children);
	imap_seqset_free(&key->set);
	free(key->str);
	free(key->header);
	free(key->modseq_entry);
	memset(key, 0, sizeof(*key));
}

void imap_search_args_free(struct imap_search_args *search)
{
	imap_search_key_free(&search->root);
	free(search->charset);
	memset(search, 0, sizeof(*search));
}

static void imap_search_key_init(struct imap_search_key *key,
				 enum imap_search_type type)
{
	memset(key, 0, sizeof(*key));
	imap_seqset_init(&key->set);
	key->type = type;
}

/* Appends a child to an AND/OR/NOT node and returns it, initialised. */
static struct imap_search_key *imap_search_add(struct imap_search_key *key,
					       enum imap_search_type type)
{
	key->children = xrealloc(key->children, (key->child_count + 1) *
							sizeof(*key->children));
	struct imap_search_key *c = &key->children[key->child_count++];
	imap_search_key_init(c, type);
	return c;
}

/* ---- argument readers ---- */

static int imap_search_string(struct imap_search_ctx *ctx,
			      const struct imap_arg *a,
			      struct imap_search_key *key)
{
	if (!imap_arg_is_astring(a)) {
		ctx->error = "Invalid search string";
		return -1;
	}
	/* CHAR8 excludes NUL (RFC 9051 section 9), and evaluators use C
	 * strings */
	if (memchr(a->str, '\0', a->len) != NULL) {
		ctx->error = "NUL in search string";
		return -1;
	}
	key->str = xstrndup(a->str, a->len);
	key->str_len = a->len;
	return 0;
}

static int imap_search_date(struct imap_search_ctx *ctx,
			    const struct imap_arg *a,
			    struct imap_search_key *key)
{
	/* date = date-text / DQUOTE date-text DQUOTE */
	if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED) ||
	    imap_date_parse(a->str, a->len, &key->date, &ctx->error) < 0) {
		ctx->error = "Invalid search date";
		return -1;
	}
	return 0;
}

/* number64 for LARGER/SMALLER (RFC 9051), nz-number for OLDER/YOUNGER
 * (RFC 5032 section 4). */
static int imap_search_number(struct imap_search_ctx *ctx,
			      const struct imap_arg *a, uint64_t max,
			      bool nonzero, struct imap_search_key *key)
{
	uint64_t v = 0;
	ctx->error = "Invalid search number";
	if (a->type != IMAP_ARG_ATOM)
		return -1;
	for (size_t i = 0; i < a->len; i++) {
		if (a->str[i] < '0' || a->str[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(a->str[i] - '0');
		if (v > max)
			return -1;
	}
	if (nonzero && v == 0)
		return -1;
	key->number = v;
	return 0;
}

static int imap_search_set(struct imap_search_ctx *ctx,
			   const struct imap_arg *a,
			   struct imap_search_key *key)
{
	if (a->type != IMAP_ARG_ATOM ||
	    imap_seqset_parse(a->str, a->len, true, ctx->max_seq_items,
			      &key->set, &ctx->error) < 0) {
		if (a->type != IMAP_ARG_ATOM)
			ctx->error = "Invalid sequence set";
		return -1;
	}
	if (key->set.saved)
		ctx->args->uses_saved = true;
	return 0;
}

/* RFC 7162 section 3.1.5: "MODSEQ" [SP entry-name SP entry-type-req]
 * SP mod-sequence-valzer, entry-name = DQUOTE "/flags/" attr-flag
 * DQUOTE. */
static int imap_search_modseq(struct imap_search_ctx *ctx,
			      const struct imap_arg *args, size_t count,
			      size_t *i, struct imap_search_key *key)
{
	ctx->args->uses_modseq = true;
	if (*i < count && args[*i].type == IMAP_ARG_QUOTED) {
		const struct imap_arg *e = &args[*i];
		static const char *const types[] = { "priv", "shared", "all" };
		if (e->len <= 7 || strncasecmp(e->str, "/flags/", 7) != 0 ||
		    memchr(e->str, '\0', e->len) != NULL) {
			ctx->error = "Invalid MODSEQ entry name";
			return -1;
		}
		if (*i + 1 >= count) {
			ctx->error = "Missing MODSEQ entry type";
			return -1;
		}
		for (unsigned t = 0; t < 3; t++) {
			if (imap_arg_atom_equals(&args[*i + 1], types[t]))
				key->modseq_type =
					(enum imap_search_modseq_type)(t + 1);
		}
		if (key->modseq_type == IMAP_SEARCH_MODSEQ_NONE) {
			ctx->error = "Invalid MODSEQ entry type";
			return -1;
		}
		key->modseq_entry = xstrndup(e->str, e->len);
		*i += 2;
	}
	if (*i >= count || !imap_modseq_parse(&args[*i], true, &key->number)) {
		ctx->error = "Invalid MODSEQ value";
		return -1;
	}
	(*i)++;
	return 0;
}

/* ---- keys ---- */

enum imap_search_arg {
	IMAP_SEARCH_ARG_NONE,
	IMAP_SEARCH_ARG_STRING,
	IMAP_SEARCH_ARG_DATE,
	IMAP_SEARCH_ARG_SIZE,
	IMAP_SEARCH_ARG_INTERVAL,
	IMAP_SEARCH_ARG_KEYWORD,
	IMAP_SEARCH_ARG_SET,
};

static const struct imap_search_word {
	const char *name;
	enum imap_search_type type;
	enum imap_search_arg arg;
	bool negate;		/* UNxxx: NOT of type */
} imap_search_words[] = {
	{ "ALL", IMAP_SEARCH_ALL, IMAP_SEARCH_ARG_NONE, false },
	{ "ANSWERED", IMAP_SEARCH_ANSWERED, IMAP_SEARCH_ARG_NONE, false },
	{ "BCC", IMAP_SEARCH_BCC, IMAP_SEARCH_ARG_STRING, false },
	{ "BEFORE", IMAP_SEARCH_BEFORE, IMAP_SEARCH_ARG_DATE, false },
	{ "BODY", IMAP_SEARCH_BODY, IMAP_SEARCH_ARG_STRING, false },
	{ "CC", IMAP_SEARCH_CC, IMAP_SEARCH_ARG_STRING, false },
	{ "DELETED", IMAP_SEARCH_DELETED, IMAP_SEARCH_ARG_NONE, false },
	{ "DRAFT", IMAP_SEARCH_DRAFT, IMAP_SEARCH_ARG_NONE, false },
	{ "FLAGGED", IMAP_SEARCH_FLAGGED, IMAP_SEARCH_ARG_NONE, false },
	{ "FROM", IMAP_SEARCH_FROM, IMAP_SEARCH_ARG_STRING, false },
	{ "KEYWORD", IMAP_SEARCH_KEYWORD, IMAP_SEARCH_ARG_KEYWORD, false },
	{ "LARGER", IMAP_SEARCH_LARGER, IMAP_SEARCH_ARG_SIZE, false },
	{ "OLD", IMAP_SEARCH_RECENT, IMAP_SEARCH_ARG_NONE, true },
	{ "OLDER", IMAP_SEARCH_OLDER, IMAP_SEARCH_ARG_INTERVAL, false },
	{ "ON", IMAP_SEARCH_ON, IMAP_SEARCH_ARG_DATE, false },
	{ "RECENT", IMAP_SEARCH_RECENT, IMAP_SEARCH_ARG_NONE, false },
	{ "SAVEDATESUPPORTED", IMAP_SEARCH_SAVEDATESUPPORTED,
	  IMAP_SEARCH_ARG_NONE, false },
	{ "SAVEDBEFORE", IMAP_SEARCH_SAVEDBEFORE, IMAP_SEARCH_ARG_DATE, false },
	{ "SAVEDON", IMAP_SEARCH_SAVEDON, IMAP_SEARCH_ARG_DATE, false },
	{ "SAVEDSINCE", IMAP_SEARCH_SAVEDSINCE, IMAP_SEARCH_ARG_DATE, false },
	{ "SEEN", IMAP_SEARCH_SEEN, IMAP_SEARCH_ARG_NONE, false },
	{ "SENTBEFORE", IMAP_SEARCH_SENTBEFORE, IMAP_SEARCH_ARG_DATE, false },
	{ "SENTON", IMAP_SEARCH_SENTON, IMAP_SEARCH_ARG_DATE, false },
	{ "SENTSINCE", IMAP_SEARCH_SENTSINCE, IMAP_SEARCH_ARG_DATE, false },
	{ "SINCE", IMAP_SEARCH_SINCE, IMAP_SEARCH_ARG_DATE, false },
	{ "SMALLER", IMAP_SEARCH_SMALLER, IMAP_SEARCH_ARG_SIZE, false },
	{ "SUBJECT", IMAP_SEARCH_SUBJECT, IMAP_SEARCH_ARG_STRING, false },
	{ "TEXT", IMAP_SEARCH_TEXT, IMAP_SEARCH_ARG_STRING, false },
	{ "TO", IMAP_SEARCH_TO, IMAP_SEARCH_ARG_STRING, false },
	{ "UID", IMAP_SEARCH_UIDSET, IMAP_SEARCH_ARG_SET, false },
	{ "UNANSWERED", IMAP_SEARCH_ANSWERED, IMAP_SEARCH_ARG_NONE, true },
	{ "UNDELETED", IMAP_SEARCH_DELETED, IMAP_SEARCH_ARG_NONE, true },
	{ "UNDRAFT", IMAP_SEARCH_DRAFT, IMAP_SEARCH_ARG_NONE, true },
	{ "UNFLAGGED", IMAP_SEARCH_FLAGGED, IMAP_SEARCH_ARG_NONE, true },
	{ "UNKEYWORD", IMAP_SEARCH_KEYWORD, IMAP_SEARCH_ARG_KEYWORD, true },
	{ "UNSEEN", IMAP_SEARCH_SEEN, IMAP_SEARCH_ARG_NONE, true },
	{ "YOUNGER", IMAP_SEARCH_YOUNGER, IMAP_SEARCH_ARG_INTERVAL, false },
};

static int imap_search_key(struct imap_search_ctx *ctx,
			   const struct imap_arg *args, size_t count,
			   size_t *i, unsigned depth,
			   struct imap_search_key *parent);

/* Parses keys args[0..count) into the AND node parent. */
static int imap_search_keys(struct imap_search_ctx *ctx,
			    const struct imap_arg *args, size_t count,
			    unsigned depth, struct imap_search_key *parent)
{
	size_t i = 0;
	while (i < count) {
		if (imap_search_key(ctx, args, count, &i, depth, parent) < 0)
			return -1;
	}
	return 0;
}

/* Parses one key at args[*i] as a new child of parent (an AND, OR or
 * NOT node). A parenthesised list is merged into an AND parent. */
static int imap_search_key(struct imap_search_ctx *ctx,
			   const struct imap_arg *args, size_t count,
			   size_t *i, unsigned depth,
			   struct imap_search_key *parent)
{
	const struct imap_arg *a = &args[(*i)++];
	struct imap_search_key *key;

	if (depth > ctx->max_depth) {
		ctx->error = "Search nested too deeply";
		return -1;
	}
	if (a->type == IMAP_ARG_LIST) {
		/* "(" search-key *(SP search-key) ")" */
		if (a->list_count == 0) {
			ctx->error = "Empty search key list";
			return -1;
		}
		if (parent->type == IMAP_SEARCH_AND)
			return imap_search_keys(ctx, a->list, a->list_count,
						depth + 1, parent);
		key = imap_search_add(parent, IMAP_SEARCH_AND);
		if (imap_search_keys(ctx, a->list, a->list_count, depth + 1,
				     key) < 0)
			return -1;
		if (key->child_count == 1) {
			/* "OR (SEEN) x": the list is just its key */
			struct imap_search_key *only = key->children;
			*key = *only;
			free(only);
		}
		return 0;
	}
	if (a->type != IMAP_ARG_ATOM) {
		ctx->error = "Invalid search key";
		return -1;
	}
	/* sequence-set (or "$") as a key */
	if ((a->str[0] >= '0' && a->str[0] <= '9') || a->str[0] == '*' ||
	    a->str[0] == '$') {
		key = imap_search_add(parent, IMAP_SEARCH_SEQSET);
		return imap_search_set(ctx, a, key);
	}
	if (strcasecmp(a->str, "NOT") == 0 || strcasecmp(a->str, "OR") == 0) {
		bool or = strcasecmp(a->str, "OR") == 0;
		key = imap_search_add(parent,
				      or ? IMAP_SEARCH_OR : IMAP_SEARCH_NOT);
		for (int n = 0; n < (or ? 2 : 1); n++) {
			if (*i >= count) {
				ctx->error = or ? "OR needs two search keys" :
						  "NOT needs a search key";
				return -1;
			}
			if (imap_search_key(ctx, args, count, i, depth + 1,
					    key) < 0)
				return -1;
		}
		return 0;
	}
	if (strcasecmp(a->str, "NEW") == 0) {
		/* RFC 3501 section 6.4.4: "equivalent to (RECENT UNSEEN)" */
		key = parent;
		if (parent->type != IMAP_SEARCH_AND)
			key = imap_search_add(parent, IMAP_SEARCH_AND);
		imap_search_add(key, IMAP_SEARCH_RECENT);
		imap_search_add(imap_search_add(key, IMAP_SEARCH_NOT),
				IMAP_SEARCH_SEEN);
		return 0;
	}
	if (strcasecmp(a->str, "HEADER") == 0) {
		/* "HEADER" SP header-fld-name SP astring */
		key = imap_search_add(parent, IMAP_SEARCH_HEADER);
		if (*i + 2 > count || !imap_arg_is_astring(&args[*i])) {
			ctx->error = "HEADER needs a field name and a string";
			return -1;
		}
		const struct imap_arg *f = &args[(*i)++];
		/* RFC 5322 field-name = 1*ftext (printable except ":") */
		bool ok = f->len > 0;
		for (size_t k = 0; k < f->len && ok; k++) {
			unsigned char c = (unsigned char)f->str[k];
			ok = c >= 33 && c <= 126 && c != ':';
		}
		if (!ok) {
			ctx->error = "Invalid header field name";
			return -1;
		}
		key->header = xstrndup(f->str, f->len);
		return imap_search_string(ctx, &args[(*i)++], key);
	}
	if (strcasecmp(a->str, "MODSEQ") == 0) {
		key = imap_search_add(parent, IMAP_SEARCH_MODSEQ);
		return imap_search_modseq(ctx, args, count, i, key);
	}

	const struct imap_search_word *w = NULL;
	for (size_t k = 0; k < sizeof(imap_search_words) /
				       sizeof(imap_search_words[0]); k++) {
		if (strcasecmp(a->str, imap_search_words[k].name) == 0) {
			w = &imap_search_words[k];
			break;
		}
	}
	if (w == NULL) {
		ctx->error = "Unknown search key";
		return -1;
	}
	key = parent;
	if (w->negate)
		key = imap_search_add(key, IMAP_SEARCH_NOT);
	key = imap_search_add(key, w->type);
	if (w->arg == IMAP_SEARCH_ARG_NONE)
		return 0;
	if (*i >= count) {
		ctx->error = "Missing search key argument";
		return -1;
	}
	const struct imap_arg *v = &args[(*i)++];
	switch (w->arg) {
	case IMAP_SEARCH_ARG_STRING:
		return imap_search_string(ctx, v, key);
	case IMAP_SEARCH_ARG_DATE:
		return imap_search_date(ctx, v, key);
	case IMAP_SEARCH_ARG_SIZE:
		return imap_search_number(ctx, v, INT64_MAX, false, key);
	case IMAP_SEARCH_ARG_INTERVAL:
		return imap_search_number(ctx, v, UINT32_MAX, true, key);
	case IMAP_SEARCH_ARG_KEYWORD:
		/* flag-keyword = atom; "\Seen" is not a keyword */
		if (v->type != IMAP_ARG_ATOM ||
		    !imap_keyword_is_valid(v->str, v->len)) {
			ctx->error = "Invalid keyword";
			return -1;
		}
		key->str = xstrndup(v->str, v->len);
		key->str_len = v->len;
		return 0;
	case IMAP_SEARCH_ARG_SET:
		return imap_search_set(ctx, v, key);
	case IMAP_SEARCH_ARG_NONE:
		break;
	}
	return 0;
}

/* search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP
 * search-return-opt)] ")" (RFC 4731 section 3.1) */
static int imap_search_return(struct imap_search_ctx *ctx,
			      const struct imap_arg *list)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} opts[] = {
		{ "MIN", IMAP_SEARCH_RETURN_MIN },
		{ "MAX", IMAP_SEARCH_RETURN_MAX },
		{ "ALL", IMAP_SEARCH_RETURN_ALL },
		{ "COUNT", IMAP_SEARCH_RETURN_COUNT },
		{ "SAVE", IMAP_SEARCH_RETURN_SAVE },
	};
	struct imap_search_args *s = ctx->args;
	s->return_set = true;
	for (size_t i = 0; i < list->list_count; i++) {
		size_t k;
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			if (imap_arg_atom_equals(&list->list[i], opts[k].name))
				break;
		}
		if (k == sizeof(opts) / sizeof(opts[0])) {
			ctx->error = "Unknown SEARCH return option";
			return -1;
		}
		s->ret |= opts[k].bit;
	}
	/* RFC 4731 section 3.1: "RETURN ()" means ALL */
	if (list->list_count == 0)
		s->ret = IMAP_SEARCH_RETURN_ALL;
	return 0;
}

int imap_search_args_parse(const struct imap_arg *args, size_t count,
			   unsigned max_depth, size_t max_seq_items,
			   struct imap_search_args *search_r,
			   const char **error_r)
{
	struct imap_search_ctx ctx = { search_r, max_depth, max_seq_items,
				       NULL };
	size_t i = 0;
	memset(search_r, 0, sizeof(*search_r));
	imap_search_key_init(&search_r->root, IMAP_SEARCH_AND);
	if (count >= 2 && imap_arg_atom_equals(&args[0], "RETURN") &&
	    args[1].type == IMAP_ARG_LIST) {
		if (imap_search_return(&ctx, &args[1]) < 0)
			goto fail;
		i = 2;
	}
	if (i < count && imap_arg_atom_equals(&args[i], "CHARSET")) {
		/* charset = atom / quoted */
		if (i + 1 >= count || (args[i + 1].type != IMAP_ARG_ATOM &&
				       args[i + 1].type != IMAP_ARG_QUOTED) ||
		    args[i + 1].len == 0) {
			ctx.error = "Invalid CHARSET";
			goto fail;
		}
		search_r->charset = xstrndup(args[i + 1].str, args[i + 1].len);
		i += 2;
	}
	if (i >= count) {
		ctx.error = "Missing search keys";
		goto fail;
	}
	if (imap_search_keys(&ctx, args + i, count - i, 1, &search_r->root) < 0)
		goto fail;
	return 0;
fail:
	*error_r = ctx.error;
	imap_search_args_free(search_r);
	return -1;
}

/* ---- charset ---- */

static bool imap_search_key_has_text(const struct imap_search_key *key)
{
	return key->str != NULL && key->type != IMAP_SEARCH_KEYWORD;
}

static enum imap_search_charset_result
imap_search_key_to_utf8(struct imap_search_key *key, int mode,
			const char *charset, const char **error_r)
{
	for (size_t i = 0; i < key->child_count; i++) {
		enum imap_search_charset_result r = imap_search_key_to_utf8(
			&key->children[i], mode, charset, error_r);
		if (r != IMAP_SEARCH_CHARSET_OK)
			return r;
	}
	if (!imap_search_key_has_text(key))
		return IMAP_SEARCH_CHARSET_OK;
	if (mode == 0 || mode == 1) {
		/* 0: UTF-8, 1: US-ASCII */
		for (size_t i = 0; mode == 1 && i < key->str_len; i++) {
			if ((unsigned char)key->str[i] >= 0x80) {
				*error_r = "8-bit characters in a US-ASCII "
					   "search string";
				return IMAP_SEARCH_CHARSET_INVALID;
			}
		}
		if (!mutf7_utf8_is_valid(key->str, key->str_len)) {
			*error_r = "Invalid UTF-8 in search string";
			return IMAP_SEARCH_CHARSET_INVALID;
		}
		return IMAP_SEARCH_CHARSET_OK;
	}
	struct buf b;
	buf_init(&b);
	if (charset_to_utf8(charset, strlen(charset),
			    (const uint8_t *)key->str, key->str_len, &b) < 0) {
		buf_free(&b);
		*error_r = "Unsupported charset";
		return IMAP_SEARCH_CHARSET_UNKNOWN;
	}
	/* a NUL could come out of e.g. UTF-16 input */
	if (memchr(b.data, '\0', b.len) != NULL) {
		buf_free(&b);
		*error_r = "NUL in search string";
		return IMAP_SEARCH_CHARSET_INVALID;
	}
	free(key->str);
	key->str_len = b.len;
	key->str = xstrndup(buf_cstr(&b), b.len);
	buf_free(&b);
	return IMAP_SEARCH_CHARSET_OK;
}

enum imap_search_charset_result
imap_search_args_to_utf8(struct imap_search_args *search,
			 const char **error_r)
{
	const char *cs = search->charset;
	int mode;
	if (cs == NULL || strcasecmp(cs, "UTF-8") == 0 ||
	    strcasecmp(cs, "UTF8") == 0)
		mode = 0;
	else if (strcasecmp(cs, "US-ASCII") == 0)
		mode = 1;
	else if (charset_is_known(cs, strlen(cs)))
		mode = 2;
	else {
		*error_r = "Unsupported charset";
		return IMAP_SEARCH_CHARSET_UNKNOWN;
	}
	enum imap_search_charset_result r =
		imap_search_key_to_utf8(&search->root, mode, cs, error_r);
	if (r == IMAP_SEARCH_CHARSET_OK && mode == 2) {
		free(search->charset);
		search->charset = xstrdup("UTF-8");
	}
	return r;
}

/* ---- printing ---- */

static const char *const imap_search_names[] = {
	[IMAP_SEARCH_AND] = "AND",
	[IMAP_SEARCH_OR] = "OR",
	[IMAP_SEARCH_NOT] = "NOT",
	[IMAP_SEARCH_ALL] = "ALL",
	[IMAP_SEARCH_SEQSET] = "",
	[IMAP_SEARCH_UIDSET] = "UID",
	[IMAP_SEARCH_ANSWERED] = "ANSWERED",
	[IMAP_SEARCH_DELETED] = "DELETED",
	[IMAP_SEARCH_DRAFT] = "DRAFT",
	[IMAP_SEARCH_FLAGGED] = "FLAGGED",
	[IMAP_SEARCH_SEEN] = "SEEN",
	[IMAP_SEARCH_RECENT] = "RECENT",
	[IMAP_SEARCH_KEYWORD] = "KEYWORD",
	[IMAP_SEARCH_BEFORE] = "BEFORE",
	[IMAP_SEARCH_ON] = "ON",
	[IMAP_SEARCH_SINCE] = "SINCE",
	[IMAP_SEARCH_SENTBEFORE] = "SENTBEFORE",
	[IMAP_SEARCH_SENTON] = "SENTON",
	[IMAP_SEARCH_SENTSINCE] = "SENTSINCE",
	[IMAP_SEARCH_SAVEDBEFORE] = "SAVEDBEFORE",
	[IMAP_SEARCH_SAVEDON] = "SAVEDON",
	[IMAP_SEARCH_SAVEDSINCE] = "SAVEDSINCE",
	[IMAP_SEARCH_SAVEDATESUPPORTED] = "SAVEDATESUPPORTED",
	[IMAP_SEARCH_OLDER] = "OLDER",
	[IMAP_SEARCH_YOUNGER] = "YOUNGER",
	[IMAP_SEARCH_LARGER] = "LARGER",
	[IMAP_SEARCH_SMALLER] = "SMALLER",
	[IMAP_SEARCH_BCC] = "BCC",
	[IMAP_SEARCH_BODY] = "BODY",
	[IMAP_SEARCH_CC] = "CC",
	[IMAP_SEARCH_FROM] = "FROM",
	[IMAP_SEARCH_SUBJECT] = "SUBJECT",
	[IMAP_SEARCH_TEXT] = "TEXT",
	[IMAP_SEARCH_TO] = "TO",
	[IMAP_SEARCH_HEADER] = "HEADER",
	[IMAP_SEARCH_MODSEQ] = "MODSEQ",
};

static void imap_search_print_quoted(struct buf *out, const char *s,
				     size_t len)
{
	buf_append_byte(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			buf_printf(out, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			buf_append_byte(out, c);
		else
			buf_printf(out, "\\x%02x", c);
	}
	buf_append_byte(out, '"');
}

static void imap_search_print_list(const struct imap_search_key *key,
				   struct buf *out)
{
	for (size_t i = 0; i < key->child_count; i++) {
		if (i > 0)
			buf_append_byte(out, ' ');
		imap_search_key_print(&key->children[i], out);
	}
}

void imap_search_key_print(const struct imap_search_key *key,
			   struct buf *out)
{
	char date[IMAP_DATE_SIZE];
	switch (key->type) {
	case IMAP_SEARCH_AND:
		buf_append_byte(out, '(');
		imap_search_print_list(key, out);
		buf_append_byte(out, ')');
		return;
	case IMAP_SEARCH_OR:
	case IMAP_SEARCH_NOT:
		buf_append_str(out, imap_search_names[key->type]);
		buf_append_byte(out, ' ');
		imap_search_print_list(key, out);
		return;
	case IMAP_SEARCH_SEQSET:
		imap_seqset_format(&key->set, out);
		return;
	case IMAP_SEARCH_UIDSET:
		buf_append_str(out, "UID ");
		imap_seqset_format(&key->set, out);
		return;
	case IMAP_SEARCH_KEYWORD:
		buf_printf(out, "KEYWORD %s", key->str);
		return;
	case IMAP_SEARCH_BEFORE:
	case IMAP_SEARCH_ON:
	case IMAP_SEARCH_SINCE:
	case IMAP_SEARCH_SENTBEFORE:
	case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE:
	case IMAP_SEARCH_SAVEDBEFORE:
	case IMAP_SEARCH_SAVEDON:
	case IMAP_SEARCH_SAVEDSINCE:
		imap_date_format(&key->date, date);
		buf_printf(out, "%s %s", imap_search_names[key->type], date);
		return;
	case IMAP_SEARCH_OLDER:
	case IMAP_SEARCH_YOUNGER:
	case IMAP_SEARCH_LARGER:
	case IMAP_SEARCH_SMALLER:
		buf_printf(out, "%s %llu", imap_search_names[key->type],
			   (unsigned long long)key->number);
		return;
	case IMAP_SEARCH_BCC:
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_CC:
	case IMAP_SEARCH_FROM:
	case IMAP_SEARCH_SUBJECT:
	case IMAP_SEARCH_TEXT:
	case IMAP_SEARCH_TO:
		buf_printf(out, "%s ", imap_search_names[key->type]);
		imap_search_print_quoted(out, key->str, key->str_len);
		return;
	case IMAP_SEARCH_HEADER:
		buf_printf(out, "HEADER %s ", key->header);
		imap_search_print_quoted(out, key->str, key->str_len);
		return;
	case IMAP_SEARCH_MODSEQ:
		buf_append_str(out, "MODSEQ ");
		if (key->modseq_entry != NULL) {
			static const char *const t[] = { "", "priv", "shared",
							 "all" };
			imap_search_print_quoted(out, key->modseq_entry,
						 strlen(key->modseq_entry));
			buf_printf(out, " %s ", t[key->modseq_type]);
		}
		buf_printf(out, "%llu", (unsigned long long)key->number);
		return;
	default:
		buf_append_str(out, imap_search_names[key->type]);
		return;
	}
}

void imap_search_args_print(const struct imap_search_args *search,
			    struct buf *out)
{
	static const char *const rets[] = { "MIN", "MAX", "ALL", "COUNT",
					    "SAVE" };
	if (search->return_set) {
		buf_append_str(out, "RETURN (");
		bool first = true;
		for (unsigned i = 0; i < 5; i++) {
			if ((search->ret & (1u << i)) == 0)
				continue;
			buf_printf(out, "%s%s", first ? "" : " ", rets[i]);
			first = false;
		}
		buf_append_str(out, ") ");
	}
	if (search->charset != NULL)
		buf_printf(out, "CHARSET %s ", search->charset);
	imap_search_print_list(&search->root, out);
}
