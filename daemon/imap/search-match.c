/* Text keys and the sent date of one message; see search-match.h. */
#include "search-match.h"

#include "../../common/unicode-fold.h"
#include "../../store/mime-cache.h"
#include "../../store/mime-decode.h"
#include "../../store/mime-header.h"
#include "../../store/mime.h"
#include "../../store/search-index.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Ends each unit of folded text. 0xFF never occurs in UTF-8, and folded
 * text and needles are always valid UTF-8, so no match spans two units
 * and one memmem() covers a whole buffer. */
#define UNIT_END 0xFF

enum search_field_idx {
	FIELD_SUBJECT, FIELD_FROM, FIELD_TO, FIELD_CC, FIELD_BCC, FIELD_COUNT
};

struct search_message_state {
	bool fields_done;
	struct mime_search_fields fields;
	bool tree_done;
	struct mime_message *tree;
	bool field_done[FIELD_COUNT];
	struct buf field_fold[FIELD_COUNT];
	bool header_done;
	struct buf header_fold;		/* top-level header, unit per field */
	bool part_headers_done;
	struct buf part_headers_fold;	/* every other part's header */
	/* BODY text, folded part by part as far as a search needed */
	struct mime_text_part *parts;
	size_t nparts, parts_done;
	bool parts_listed;
	struct buf body_fold;
	struct buf tmp, tmp2;
};

bool search_type_is_text(enum imap_search_type type)
{
	switch (type) {
	case IMAP_SEARCH_SUBJECT:
	case IMAP_SEARCH_FROM:
	case IMAP_SEARCH_TO:
	case IMAP_SEARCH_CC:
	case IMAP_SEARCH_BCC:
	case IMAP_SEARCH_HEADER:
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_TEXT:
		return true;
	default:
		return false;
	}
}

void search_text_key_init(struct search_text_key *k,
			  enum imap_search_type type, const char *header,
			  const char *str, size_t len)
{
	struct buf b;
	memset(k, 0, sizeof(*k));
	k->type = type;
	if (header != NULL)
		k->header = xstrdup(header);
	buf_init(&b);
	unicode_fold_utf8((const uint8_t *)str, len, &b);
	k->needle_len = b.len;
	k->needle = xmalloc(b.len + 1);
	if (b.len > 0)
		memcpy(k->needle, b.data, b.len);
	buf_free(&b);
}

void search_text_key_free(struct search_text_key *k)
{
	free(k->header);
	free(k->needle);
	memset(k, 0, sizeof(*k));
}

void search_message_init(struct search_message *m, const uint8_t *data,
			 size_t len, const uint8_t *cache, size_t cache_len)
{
	memset(m, 0, sizeof(*m));
	m->data = data;
	m->len = len;
	m->cache = cache;
	m->cache_len = cache_len;
	m->data_loaded = true;
	m->cache_loaded = true;
}

void search_message_init_lazy(struct search_message *m, search_load_fn *load,
			      void *ctx)
{
	memset(m, 0, sizeof(*m));
	m->load = load;
	m->load_ctx = ctx;
}

void search_message_free(struct search_message *m)
{
	struct search_message_state *st = m->st;
	if (st == NULL)
		return;
	mime_message_free(&st->tree);
	for (size_t i = 0; i < FIELD_COUNT; i++)
		buf_free(&st->field_fold[i]);
	buf_free(&st->header_fold);
	buf_free(&st->part_headers_fold);
	buf_free(&st->body_fold);
	buf_free(&st->tmp);
	buf_free(&st->tmp2);
	free(st->parts);
	free(st);
	m->st = NULL;
}

static struct search_message_state *msg_state(struct search_message *m)
{
	if (m->st == NULL)
		m->st = xcalloc(1, sizeof(*m->st));
	return m->st;
}

static int msg_load(struct search_message *m, enum search_load what,
		    const char **error_r)
{
	bool *done = what == SEARCH_LOAD_DATA ? &m->data_loaded :
						&m->cache_loaded;
	if (*done)
		return 0;
	*done = true;
	if (m->load == NULL)
		return 0;
	return m->load(m->load_ctx, m, what, error_r);
}

/* The MIME tree: decoded from the cache record, or parsed from the bytes
 * when there is no record or it does not decode. */
static int msg_tree(struct search_message *m, const struct mime_message **tree_r,
		    const char **error_r)
{
	struct search_message_state *st = msg_state(m);
	if (!st->tree_done) {
		const char *cerr;
		if (msg_load(m, SEARCH_LOAD_CACHE, error_r) < 0)
			return -1;
		if (m->cache == NULL ||
		    mime_cache_decode(m->cache, m->cache_len, &st->tree,
				      &cerr) < 0) {
			if (msg_load(m, SEARCH_LOAD_DATA, error_r) < 0)
				return -1;
			st->tree = mime_parse(m->data != NULL ? m->data :
					      (const uint8_t *)"",
					      m->data != NULL ? m->len : 0,
					      NULL);
		}
		st->tree_done = true;
	}
	*tree_r = st->tree;
	return 0;
}

static int msg_fields(struct search_message *m,
		      const struct mime_search_fields **fields_r,
		      const char **error_r)
{
	struct search_message_state *st = msg_state(m);
	if (!st->fields_done) {
		const char *cerr;
		if (msg_load(m, SEARCH_LOAD_CACHE, error_r) < 0)
			return -1;
		if (m->cache == NULL ||
		    mime_cache_search_fields(m->cache, m->cache_len,
					     &st->fields, &cerr) < 0) {
			const struct mime_message *tree;
			if (msg_tree(m, &tree, error_r) < 0)
				return -1;
			st->fields = tree->search;
		}
		st->fields_done = true;
	}
	*fields_r = &st->fields;
	return 0;
}

/* The bytes of a range of the message, if the message has them (a record
 * from disk is not trusted to agree with the blob). */
static bool msg_range(const struct search_message *m, uint64_t off,
		      uint64_t len, const uint8_t **p_r)
{
	if (m->data == NULL || off > m->len || len > m->len - off)
		return false;
	*p_r = m->data + off;
	return true;
}

/* Appends "Name: decoded value" of every field of hdr, folded, one unit
 * each; only fields named name if name is set (then without "Name: "). */
static void fold_header(struct search_message_state *st, const uint8_t *hdr,
			size_t len, const char *name, struct buf *out)
{
	struct mime_header_iter it;
	struct mime_header_field f;
	mime_header_iter_init(&it, hdr, len);
	while (name != NULL ? mime_header_next_named(&it, name, &f) :
			      mime_header_next(&it, &f)) {
		buf_clear(&st->tmp);
		buf_clear(&st->tmp2);
		if (name == NULL) {
			buf_append(&st->tmp2, f.name, f.name_len);
			buf_append_str(&st->tmp2, ": ");
		}
		mime_header_unfold(f.value, f.value_len, &st->tmp);
		mime_decode_header_text(st->tmp.data, st->tmp.len, &st->tmp2);
		unicode_fold_utf8(st->tmp2.data, st->tmp2.len, out);
		buf_append_byte(out, UNIT_END);
	}
}

/* Charsets whose conversion to UTF-8 is the identity on valid UTF-8
 * and U+FFFD for each invalid byte (store/charset.c); other spellings
 * and aliases take the general path, with the same result. */
static bool charset_is_utf8_like(struct mime_str cs)
{
	static const char *const names[] = { "utf-8", "utf8", "us-ascii",
					     "ascii" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (cs.len == strlen(names[i]) &&
		    strncasecmp(cs.s, names[i], cs.len) == 0)
			return true;
	return false;
}

static bool buf_has(const struct buf *b, size_t from,
		    const struct search_text_key *k)
{
	if (k->needle_len == 0)
		return true;
	if (from >= b->len)
		return false;
	return memmem(b->data + from, b->len - from, k->needle,
		      k->needle_len) != NULL;
}

static int ensure_field_fold(struct search_message *m,
			     enum search_field_idx i, const char **error_r)
{
	struct search_message_state *st = msg_state(m);
	if (!st->field_done[i]) {
		const struct mime_search_fields *f;
		if (msg_fields(m, &f, error_r) < 0)
			return -1;
		const struct mime_str *v[FIELD_COUNT] = {
			&f->subject, &f->from, &f->to, &f->cc, &f->bcc };
		if (v[i]->s != NULL)
			unicode_fold_utf8((const uint8_t *)v[i]->s, v[i]->len,
					  &st->field_fold[i]);
		st->field_done[i] = true;
	}
	return 0;
}

static int match_field(struct search_message *m, enum search_field_idx i,
		       const struct search_text_key *k, const char **error_r)
{
	if (ensure_field_fold(m, i, error_r) < 0)
		return -1;
	return buf_has(&m->st->field_fold[i], 0, k) ? 1 : 0;
}

static int top_header(struct search_message *m, const uint8_t **hdr_r,
		      size_t *len_r, const char **error_r)
{
	const struct mime_message *tree;
	if (msg_tree(m, &tree, error_r) < 0 ||
	    msg_load(m, SEARCH_LOAD_DATA, error_r) < 0)
		return -1;
	if (!msg_range(m, tree->root->hdr_off, tree->root->hdr_len, hdr_r)) {
		*len_r = 0;
		return 0;
	}
	*len_r = (size_t)tree->root->hdr_len;
	return 0;
}

static int match_header_field(struct search_message *m,
			      const struct search_text_key *k,
			      const char **error_r)
{
	struct search_message_state *st = msg_state(m);
	const uint8_t *hdr;
	size_t len;
	if (top_header(m, &hdr, &len, error_r) < 0)
		return -1;
	if (len == 0)
		return 0;
	if (k->needle_len == 0) {
		/* RFC 9051 6.4.4: an empty string matches every message
		 * that has the field */
		struct mime_header_field f;
		return mime_header_find(hdr, len, k->header, &f) ? 1 : 0;
	}
	struct buf fold;
	buf_init(&fold);
	fold_header(st, hdr, len, k->header, &fold);
	int r = buf_has(&fold, 0, k) ? 1 : 0;
	buf_free(&fold);
	return r;
}

static int ensure_header_fold(struct search_message *m, const char **error_r)
{
	struct search_message_state *st = msg_state(m);
	if (st->header_done)
		return 0;
	const uint8_t *hdr;
	size_t len;
	if (top_header(m, &hdr, &len, error_r) < 0)
		return -1;
	fold_header(st, hdr, len, NULL, &st->header_fold);
	st->header_done = true;
	return 0;
}

/* The headers of every part but the root, pre-order, without recursion:
 * a tree from a cache record may be MIME_DEPTH_HARD_MAX deep. */
static int ensure_part_headers_fold(struct search_message *m,
				    const char **error_r)
{
	struct search_message_state *st = msg_state(m);
	if (st->part_headers_done)
		return 0;
	const struct mime_message *tree;
	if (msg_tree(m, &tree, error_r) < 0 ||
	    msg_load(m, SEARCH_LOAD_DATA, error_r) < 0)
		return -1;
	struct walk {
		const struct mime_part *p;
		size_t next;
	};
	size_t cap = 16, sp = 0;
	struct walk *stack = xmalloc(cap * sizeof(*stack));
	stack[0] = (struct walk){ tree->root, 0 };
	for (;;) {
		struct walk *w = &stack[sp];
		if (w->next < w->p->nchildren) {
			const struct mime_part *c = &w->p->children[w->next++];
			const uint8_t *hdr;
			if (c->hdr_len > 0 &&
			    msg_range(m, c->hdr_off, c->hdr_len, &hdr))
				fold_header(st, hdr, (size_t)c->hdr_len, NULL,
					    &st->part_headers_fold);
			if (++sp == cap) {
				cap *= 2;
				stack = xrealloc(stack, cap * sizeof(*stack));
			}
			stack[sp] = (struct walk){ c, 0 };
			continue;
		}
		if (sp == 0)
			break;
		sp--;
	}
	free(stack);
	st->part_headers_done = true;
	return 0;
}

/* Lists the text parts and loads the bytes if a part is left to fold:
 * 1 if there is one, 0 if all are folded, -1 on error. */
static int body_parts_left(struct search_message *m, const char **error_r)
{
	struct search_message_state *st = msg_state(m);
	if (!st->parts_listed) {
		const struct mime_message *tree;
		if (msg_tree(m, &tree, error_r) < 0)
			return -1;
		st->nparts = mime_text_parts(tree, &st->parts);
		st->parts_listed = true;
	}
	if (st->parts_done >= st->nparts)
		return 0;
	if (msg_load(m, SEARCH_LOAD_DATA, error_r) < 0)
		return -1;
	return 1;
}

/* Folds the next text part into body_fold, one unit (none if its range
 * is not in the message). */
static void fold_next_part(struct search_message *m)
{
	struct search_message_state *st = m->st;
	const struct mime_text_part *p = &st->parts[st->parts_done++];
	const uint8_t *body;
	if (!msg_range(m, p->body_off, p->body_len, &body))
		return;
	buf_clear(&st->tmp);
	if (charset_is_utf8_like(p->charset)) {
		/* mime_text_decode() would copy valid UTF-8 and turn
		 * each invalid byte into U+FFFD, which folding does
		 * as well: fold the transfer-decoded bytes, or the
		 * mapped ones, without the copy. */
		const uint8_t *t = body;
		size_t tlen = (size_t)p->body_len;
		if (p->enc == MIME_ENC_BASE64 || p->enc == MIME_ENC_QP) {
			if (p->enc == MIME_ENC_BASE64)
				mime_decode_base64(body, tlen, &st->tmp);
			else
				mime_decode_qp(body, tlen, &st->tmp);
			t = st->tmp.data;
			tlen = st->tmp.len;
		}
		/* folding keeps the length of most text: one allocation
		 * instead of doubling (whose copy of a 60 MB part held
		 * both the old and the new buffer) */
		buf_reserve(&st->body_fold, tlen + tlen / 16 + 16);
		if (tlen > 0)
			unicode_fold_utf8(t, tlen, &st->body_fold);
	} else {
		mime_text_decode(body, (size_t)p->body_len, p->enc,
				 p->charset.s, p->charset.len,
				 &st->tmp);
		buf_reserve(&st->body_fold, st->tmp.len + st->tmp.len / 16 +
						    16);
		unicode_fold_utf8(st->tmp.data, st->tmp.len,
				  &st->body_fold);
	}
	buf_append_byte(&st->body_fold, UNIT_END);
}

/* BODY: folds text parts one at a time until the needle is found, so a
 * hit in the first part costs only that part; what was folded stays for
 * the next key on the same message. */
static int match_body(struct search_message *m,
		      const struct search_text_key *k, const char **error_r)
{
	int r = body_parts_left(m, error_r);
	if (r < 0)
		return -1;
	struct search_message_state *st = m->st;
	if (buf_has(&st->body_fold, 0, k))
		return 1;
	while (st->parts_done < st->nparts) {
		size_t from = st->body_fold.len;
		fold_next_part(m);
		if (buf_has(&st->body_fold, from, k))
			return 1;
	}
	return 0;
}

int search_match_text(struct search_message *m,
		      const struct search_text_key *k, const char **error_r)
{
	int r;
	switch (k->type) {
	case IMAP_SEARCH_SUBJECT:
		return match_field(m, FIELD_SUBJECT, k, error_r);
	case IMAP_SEARCH_FROM:
		return match_field(m, FIELD_FROM, k, error_r);
	case IMAP_SEARCH_TO:
		return match_field(m, FIELD_TO, k, error_r);
	case IMAP_SEARCH_CC:
		return match_field(m, FIELD_CC, k, error_r);
	case IMAP_SEARCH_BCC:
		return match_field(m, FIELD_BCC, k, error_r);
	case IMAP_SEARCH_HEADER:
		return match_header_field(m, k, error_r);
	case IMAP_SEARCH_BODY:
		if (k->needle_len == 0)
			return 1;
		return match_body(m, k, error_r);
	case IMAP_SEARCH_TEXT:
		if (k->needle_len == 0)
			return 1;
		if (ensure_header_fold(m, error_r) < 0)
			return -1;
		if (buf_has(&m->st->header_fold, 0, k))
			return 1;
		r = match_body(m, k, error_r);
		if (r != 0)
			return r;
		if (ensure_part_headers_fold(m, error_r) < 0)
			return -1;
		return buf_has(&m->st->part_headers_fold, 0, k) ? 1 : 0;
	default:
		*error_r = "not a text search key";
		return -1;
	}
}

int search_message_sent_date(struct search_message *m,
			     struct imap_date *date_r, const char **error_r)
{
	const struct mime_message *tree;
	if (msg_tree(m, &tree, error_r) < 0)
		return -1;
	const struct mime_envelope *env = tree->root->env;
	if (env == NULL || env->date.s == NULL)
		return 0;
	time_t t;
	int tz;
	if (imap_date_parse_rfc5322(env->date.s, env->date.len, &t, &tz) < 0)
		return 0;
	imap_date_from_time(t, tz, date_r);
	return 1;
}

/* ---- the index's copy (search-match.h) ---- */

int search_message_extract(struct search_message *m, struct buf *rec_out,
			   const char **error_r)
{
	struct search_message_state *st = msg_state(m);
	struct buf hdr, tmp, tmp2, val;
	for (int i = 0; i < FIELD_COUNT; i++)
		if (ensure_field_fold(m, (enum search_field_idx)i, error_r) < 0)
			return -1;
	const uint8_t *top = NULL;
	size_t top_len = 0;
	if (top_header(m, &top, &top_len, error_r) < 0 ||
	    ensure_part_headers_fold(m, error_r) < 0 ||
	    body_parts_left(m, error_r) < 0)
		return -1;
	while (st->parts_done < st->nparts)
		fold_next_part(m);
	buf_init(&hdr);
	buf_init(&tmp);
	buf_init(&tmp2);
	buf_init(&val);
	for (int i = 0; i < FIELD_COUNT; i++)
		sx_buf_str(&hdr, st->field_fold[i].data, st->field_fold[i].len);
	/* the top-level header field by field: the raw name (HEADER
	 * compares it), the value as fold_header() makes it */
	struct mime_header_iter it;
	struct mime_header_field f;
	size_t nfields = 0;
	mime_header_iter_init(&it, top, top_len);
	while (mime_header_next(&it, &f))
		nfields++;
	sx_buf_varint(&hdr, nfields);
	mime_header_iter_init(&it, top, top_len);
	while (mime_header_next(&it, &f)) {
		buf_clear(&tmp);
		buf_clear(&tmp2);
		buf_clear(&val);
		mime_header_unfold(f.value, f.value_len, &tmp);
		mime_decode_header_text(tmp.data, tmp.len, &tmp2);
		unicode_fold_utf8(tmp2.data, tmp2.len, &val);
		sx_buf_str(&hdr, f.name, f.name_len);
		sx_buf_str(&hdr, val.data, val.len);
	}
	sx_buf_str(&hdr, st->part_headers_fold.data, st->part_headers_fold.len);
	sx_doc_pack(&hdr, &st->body_fold, rec_out);
	buf_free(&hdr);
	buf_free(&tmp);
	buf_free(&tmp2);
	buf_free(&val);
	return 0;
}

int search_index_extractor(void *ctx, const uint8_t *data, size_t len,
			   const uint8_t *cache, size_t cache_len,
			   struct buf *rec_out)
{
	(void)ctx;
	struct search_message m;
	const char *err;
	search_message_init(&m, data, len, cache, cache_len);
	int r = search_message_extract(&m, rec_out, &err);
	search_message_free(&m);
	return r;
}

static bool str_has(struct sx_str s, const struct search_text_key *k)
{
	if (k->needle_len == 0)
		return true;
	return s.len >= k->needle_len &&
	       memmem(s.p, s.len, k->needle, k->needle_len) != NULL;
}

/* mime_header_next_named()'s comparison: ASCII letters only */
static bool name_eq_ci(struct sx_str name, const char *lit)
{
	size_t n = strlen(lit);
	if (name.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t a = name.p[i], b = (uint8_t)lit[i];
		if (a >= 'a' && a <= 'z')
			a = (uint8_t)(a - 32);
		if (b >= 'a' && b <= 'z')
			b = (uint8_t)(b - 32);
		if (a != b)
			return false;
	}
	return true;
}

int search_doc_match(struct sx_doc *d, const struct search_text_key *k)
{
	/* only the block the key reads is inflated */
	if (sx_doc_need(d, k->type == IMAP_SEARCH_BODY ? SX_DOC_BODY :
			   k->type == IMAP_SEARCH_TEXT ?
			   SX_DOC_BODY | SX_DOC_HDR : SX_DOC_HDR) < 0)
		return -1;
	switch (k->type) {
	case IMAP_SEARCH_SUBJECT:
		return str_has(d->field[FIELD_SUBJECT], k);
	case IMAP_SEARCH_FROM:
		return str_has(d->field[FIELD_FROM], k);
	case IMAP_SEARCH_TO:
		return str_has(d->field[FIELD_TO], k);
	case IMAP_SEARCH_CC:
		return str_has(d->field[FIELD_CC], k);
	case IMAP_SEARCH_BCC:
		return str_has(d->field[FIELD_BCC], k);
	case IMAP_SEARCH_HEADER:
		/* "" = has the field (match_header_field) */
		for (size_t i = 0; i < d->nfields; i++)
			if (name_eq_ci(d->fields[i].name, k->header) &&
			    str_has(d->fields[i].value, k))
				return 1;
		return 0;
	case IMAP_SEARCH_BODY:
		return str_has(d->body_text, k);
	case IMAP_SEARCH_TEXT: {
		if (k->needle_len == 0 || str_has(d->body_text, k) ||
		    str_has(d->part_headers, k))
			return 1;
		/* each top-level unit as fold_header() makes it: the
		 * folding of "Name: value" is fold(Name) ": " fold(value),
		 * folding being per code point and ":" ASCII */
		struct buf u;
		buf_init(&u);
		int r = 0;
		for (size_t i = 0; i < d->nfields && r == 0; i++) {
			buf_clear(&u);
			unicode_fold_utf8(d->fields[i].name.p,
					  d->fields[i].name.len, &u);
			buf_append(&u, ": ", 2);
			buf_append(&u, d->fields[i].value.p,
				   d->fields[i].value.len);
			struct sx_str s = { u.data, u.len };
			r = str_has(s, k);
		}
		buf_free(&u);
		return r;
	}
	default:
		return 0;
	}
}
