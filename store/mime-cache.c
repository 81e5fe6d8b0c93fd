/* The parsed-message cache record; format in mime-cache.h. */
#include "mime-cache.h"

#include "mime-private.h"

#include <stdlib.h>
#include <string.h>

/* ---- encoding ---- */

static void mc_put_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	do {
		uint8_t c = v & 0x7f;
		v >>= 7;
		tmp[n++] = v != 0 ? (uint8_t)(c | 0x80) : c;
	} while (v != 0);
	buf_append(b, tmp, n);
}

static void mc_put_str(struct buf *b, struct mime_str s)
{
	mc_put_varint(b, s.len);
	if (s.len > 0)
		buf_append(b, s.s, s.len);
}

static void mc_put_nstr(struct buf *b, struct mime_str s)
{
	if (s.s == NULL) {
		mc_put_varint(b, 0);
		return;
	}
	mc_put_varint(b, (uint64_t)s.len + 1);
	if (s.len > 0)
		buf_append(b, s.s, s.len);
}

static void mc_put_params(struct buf *b, const struct mime_param *p, size_t n)
{
	mc_put_varint(b, n);
	for (size_t i = 0; i < n; i++) {
		mc_put_str(b, p[i].name);
		mc_put_str(b, p[i].value);
	}
}

static void mc_put_envelope(struct buf *b, const struct mime_envelope *env)
{
	mc_put_nstr(b, env->date);
	mc_put_nstr(b, env->subject);
	const struct mime_addresses *lists[] = {
		&env->from, &env->sender, &env->reply_to, &env->to, &env->cc,
		&env->bcc,
	};
	for (size_t i = 0; i < 6; i++) {
		mc_put_varint(b, lists[i]->count);
		for (size_t j = 0; j < lists[i]->count; j++) {
			const struct mime_address *a = &lists[i]->addr[j];
			mc_put_nstr(b, a->name);
			mc_put_nstr(b, a->adl);
			mc_put_nstr(b, a->mailbox);
			mc_put_nstr(b, a->host);
		}
	}
	mc_put_nstr(b, env->in_reply_to);
	mc_put_nstr(b, env->message_id);
}

/* Pre-order, iterative: trees can be MIME_DEPTH_HARD_MAX deep. */
static void mc_put_parts(struct buf *b, const struct mime_part *root)
{
	const struct mime_part *stack[MIME_DEPTH_HARD_MAX + 2];
	size_t idx[MIME_DEPTH_HARD_MAX + 2];
	size_t sp = 0;
	stack[0] = root;
	idx[0] = 0;
	for (;;) {
		const struct mime_part *p = stack[sp];
		if (idx[sp] == 0) {
			mc_put_varint(b, p->flags);
			mc_put_varint(b, p->nchildren);
			mc_put_varint(b, p->hdr_off);
			mc_put_varint(b, p->hdr_len);
			mc_put_varint(b, p->body_off);
			mc_put_varint(b, p->body_len);
			mc_put_varint(b, p->body_lines);
			mc_put_str(b, p->type);
			mc_put_str(b, p->subtype);
			mc_put_params(b, p->params, p->nparams);
			mc_put_nstr(b, p->id);
			mc_put_nstr(b, p->desc);
			mc_put_nstr(b, p->location);
			mc_put_varint(b, (uint64_t)p->enc);
			mc_put_str(b, p->enc_name);
			mc_put_nstr(b, p->disp);
			mc_put_params(b, p->disp_params, p->ndisp_params);
			mc_put_varint(b, p->nlang);
			for (size_t i = 0; i < p->nlang; i++)
				mc_put_str(b, p->lang[i]);
			if (sp > 0 && (p->flags & MIME_PART_HAS_ENVELOPE) != 0)
				mc_put_envelope(b, p->env);
		}
		if (idx[sp] < p->nchildren && sp + 1 < MIME_DEPTH_HARD_MAX + 2) {
			stack[sp + 1] = &p->children[idx[sp]++];
			idx[++sp] = 0;
			continue;
		}
		if (sp == 0)
			break;
		sp--;
	}
}

static void mc_put_block(struct buf *out, struct buf *block)
{
	mc_put_varint(out, block->len);
	buf_append(out, block->data, block->len);
	buf_clear(block);
}

void mime_cache_encode(const struct mime_message *msg, struct buf *out)
{
	struct buf blk;
	buf_init(&blk);
	buf_append(out, "PMC", 3);
	buf_append_byte(out, MIME_CACHE_VERSION);
	mc_put_varint(out, msg->size);

	mc_put_envelope(&blk, msg->root->env);
	mc_put_block(out, &blk);

	const struct mime_search_fields *s = &msg->search;
	mc_put_str(&blk, s->subject);
	mc_put_str(&blk, s->from);
	mc_put_str(&blk, s->to);
	mc_put_str(&blk, s->cc);
	mc_put_str(&blk, s->bcc);
	mc_put_varint(&blk, s->date_valid ? 1 : 0);
	/* zig-zag: dates before 1970 stay small */
	mc_put_varint(&blk, ((uint64_t)s->date << 1) ^
			    (uint64_t)(s->date >> 63));
	mc_put_block(out, &blk);

	mc_put_varint(&blk, msg->nparts);
	mc_put_parts(&blk, msg->root);
	mc_put_block(out, &blk);
	buf_free(&blk);
}

int mime_cache_build(const uint8_t *msg, size_t len,
		     const struct mime_limits *lim, struct buf *out)
{
	struct mime_message *m = mime_parse(msg, len, lim);
	mime_cache_encode(m, out);
	mime_message_free(&m);
	return 0;
}

/* ---- decoding: nothing in the record is trusted ---- */

struct mc_reader {
	const uint8_t *p;
	size_t left;
	const char *error;	/* first error; reads after it return 0 */
};

static bool mc_fail(struct mc_reader *r, const char *error)
{
	if (r->error == NULL)
		r->error = error;
	r->left = 0;
	return false;
}

static bool mc_get_varint(struct mc_reader *r, uint64_t *v_r)
{
	uint64_t v = 0;
	*v_r = 0;
	if (r->error != NULL)
		return false;
	for (unsigned i = 0; i < 10; i++) {
		if (r->left == 0)
			return mc_fail(r, "truncated integer");
		uint8_t c = *r->p++;
		r->left--;
		if (i == 9 && c > 1)
			return mc_fail(r, "integer overflow");
		v |= (uint64_t)(c & 0x7f) << (7 * i);
		if ((c & 0x80) == 0) {
			if (c == 0 && i > 0)
				return mc_fail(r, "overlong integer");
			*v_r = v;
			return true;
		}
	}
	return mc_fail(r, "integer too long");
}

/* A count of items that take at least min_size bytes each. */
static bool mc_get_count(struct mc_reader *r, size_t min_size, size_t *n_r)
{
	uint64_t v;
	*n_r = 0;
	if (!mc_get_varint(r, &v))
		return false;
	if (v > r->left / min_size)
		return mc_fail(r, "count larger than the record");
	*n_r = (size_t)v;
	return true;
}

static bool mc_get_bytes(struct mc_reader *r, uint64_t n, struct mime_str *s)
{
	if (n > r->left)
		return mc_fail(r, "string past the end");
	if (memchr(r->p, '\0', (size_t)n) != NULL)
		return mc_fail(r, "NUL in string");
	s->s = (const char *)r->p;
	s->len = (size_t)n;
	r->p += n;
	r->left -= (size_t)n;
	return true;
}

static bool mc_get_str(struct mc_reader *r, struct mime_str *s)
{
	uint64_t n;
	*s = (struct mime_str){ "", 0 };
	return mc_get_varint(r, &n) && mc_get_bytes(r, n, s);
}

static bool mc_get_nstr(struct mc_reader *r, struct mime_str *s)
{
	uint64_t n;
	*s = (struct mime_str){ NULL, 0 };
	if (!mc_get_varint(r, &n))
		return false;
	if (n == 0)
		return true;
	return mc_get_bytes(r, n - 1, s);
}

static bool mc_get_nonempty(struct mc_reader *r, struct mime_str *s)
{
	if (!mc_get_str(r, s))
		return false;
	return s->len > 0 || mc_fail(r, "empty type or encoding");
}

static bool mc_get_params(struct mc_reader *r, struct mime_arena *a,
			  struct mime_param **p_r, size_t *n_r)
{
	size_t n;
	*p_r = NULL;
	*n_r = 0;
	if (!mc_get_count(r, 2, &n))
		return false;
	struct mime_param *p = mime_arena_array(a, n, sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		if (!mc_get_str(r, &p[i].name) || !mc_get_str(r, &p[i].value))
			return false;
	}
	*p_r = p;
	*n_r = n;
	return true;
}

static bool mc_get_envelope(struct mc_reader *r, struct mime_arena *a,
			    struct mime_envelope *env)
{
	memset(env, 0, sizeof(*env));
	if (!mc_get_nstr(r, &env->date) || !mc_get_nstr(r, &env->subject))
		return false;
	struct mime_addresses *lists[] = {
		&env->from, &env->sender, &env->reply_to, &env->to, &env->cc,
		&env->bcc,
	};
	for (size_t i = 0; i < 6; i++) {
		size_t n;
		if (!mc_get_count(r, 4, &n))
			return false;
		lists[i]->addr = mime_arena_array(a, n, sizeof(struct mime_address));
		lists[i]->count = n;
		for (size_t j = 0; j < n; j++) {
			struct mime_address *ad = &lists[i]->addr[j];
			if (!mc_get_nstr(r, &ad->name) ||
			    !mc_get_nstr(r, &ad->adl) ||
			    !mc_get_nstr(r, &ad->mailbox) ||
			    !mc_get_nstr(r, &ad->host))
				return false;
		}
	}
	return mc_get_nstr(r, &env->in_reply_to) &&
	       mc_get_nstr(r, &env->message_id);
}

struct mc_view {
	uint64_t size;
	struct mc_reader env, search, parts;
};

/* Checks the frame: magic, version, size, three blocks, nothing after. */
static int mc_open(const uint8_t *cache, size_t len, struct mc_view *v,
		   const char **error_r)
{
	struct mc_reader r = { cache, len, NULL };
	memset(v, 0, sizeof(*v));
	if (len < 4 || memcmp(cache, "PMC", 3) != 0) {
		*error_r = "not a parsed-message cache record";
		return -1;
	}
	if (cache[3] != MIME_CACHE_VERSION) {
		*error_r = "unsupported cache record version";
		return -1;
	}
	r.p += 4;
	r.left -= 4;
	mc_get_varint(&r, &v->size);
	struct mc_reader *blocks[] = { &v->env, &v->search, &v->parts };
	for (size_t i = 0; i < 3; i++) {
		uint64_t n;
		if (!mc_get_varint(&r, &n))
			break;
		if (n > r.left) {
			mc_fail(&r, "block past the end");
			break;
		}
		*blocks[i] = (struct mc_reader){ r.p, (size_t)n, NULL };
		r.p += n;
		r.left -= (size_t)n;
	}
	if (r.error == NULL && r.left != 0)
		r.error = "trailing bytes after the record";
	if (r.error != NULL) {
		*error_r = r.error;
		return -1;
	}
	return 0;
}

static int mc_finish(struct mc_reader *r, const char **error_r)
{
	if (r->error == NULL && r->left != 0)
		r->error = "trailing bytes in a block";
	if (r->error != NULL) {
		*error_r = r->error;
		return -1;
	}
	return 0;
}

static bool mc_is_message_type(const struct mime_part *p)
{
	return mime_str_eq_ci(p->type, "MESSAGE") &&
	       (mime_str_eq_ci(p->subtype, "RFC822") ||
		mime_str_eq_ci(p->subtype, "GLOBAL"));
}

static int mc_get_search(struct mc_reader *r, struct mime_search_fields *s,
			 const char **error_r)
{
	uint64_t valid = 0, date = 0;
	mc_get_str(r, &s->subject);
	mc_get_str(r, &s->from);
	mc_get_str(r, &s->to);
	mc_get_str(r, &s->cc);
	mc_get_str(r, &s->bcc);
	mc_get_varint(r, &valid);
	mc_get_varint(r, &date);
	if (r->error == NULL && valid > 1)
		mc_fail(r, "bad date flag");
	if (mc_finish(r, error_r) < 0)
		return -1;
	s->date_valid = valid == 1;
	s->date = (int64_t)(date >> 1) ^ -(int64_t)(date & 1);
	return 0;
}

struct mc_tree {
	struct mc_reader *r;
	struct mime_arena *a;
	uint64_t size;
	size_t remaining;	/* parts the record declared, not yet read */
};

static bool mc_range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* Reads one part and, recursively, its children. parent is NULL for the
 * root. The shape checks make every tree the decoder returns one that
 * the parser could have produced, as far as the writers care. */
static bool mc_get_part(struct mc_tree *t, struct mime_part *p,
			const struct mime_part *parent, unsigned depth)
{
	struct mc_reader *r = t->r;
	uint64_t flags, nchildren, v;
	if (depth > MIME_DEPTH_HARD_MAX + 1)
		return mc_fail(r, "parts nested too deep");
	if (t->remaining == 0)
		return mc_fail(r, "more parts than declared");
	t->remaining--;
	memset(p, 0, sizeof(*p));
	if (!mc_get_varint(r, &flags) || !mc_get_varint(r, &nchildren))
		return false;
	if ((flags & ~(uint64_t)MIME_PART_FLAGS_ALL) != 0)
		return mc_fail(r, "unknown part flags");
	p->flags = (unsigned)flags;
	if (!mc_get_varint(r, &p->hdr_off) || !mc_get_varint(r, &p->hdr_len) ||
	    !mc_get_varint(r, &p->body_off) ||
	    !mc_get_varint(r, &p->body_len) ||
	    !mc_get_varint(r, &p->body_lines))
		return false;
	if (!mc_range_ok(p->hdr_off, p->hdr_len, t->size) ||
	    !mc_range_ok(p->body_off, p->body_len, t->size) ||
	    p->hdr_off + p->hdr_len != p->body_off ||
	    p->body_lines > p->body_len)
		return mc_fail(r, "bad part range");
	if (parent != NULL &&
	    (p->hdr_off < parent->body_off ||
	     p->body_off + p->body_len > parent->body_off + parent->body_len))
		return mc_fail(r, "part outside its parent");
	if (!mc_get_nonempty(r, &p->type) || !mc_get_nonempty(r, &p->subtype) ||
	    !mc_get_params(r, t->a, &p->params, &p->nparams) ||
	    !mc_get_nstr(r, &p->id) || !mc_get_nstr(r, &p->desc) ||
	    !mc_get_nstr(r, &p->location) || !mc_get_varint(r, &v))
		return false;
	if (v > MIME_ENC_LAST)
		return mc_fail(r, "unknown encoding");
	p->enc = (enum mime_encoding)v;
	if (!mc_get_nonempty(r, &p->enc_name) || !mc_get_nstr(r, &p->disp) ||
	    !mc_get_params(r, t->a, &p->disp_params, &p->ndisp_params) ||
	    !mc_get_count(r, 1, &p->nlang))
		return false;
	p->lang = mime_arena_array(t->a, p->nlang, sizeof(*p->lang));
	for (size_t i = 0; i < p->nlang; i++) {
		if (!mc_get_str(r, &p->lang[i]))
			return false;
	}

	bool multipart = (flags & MIME_PART_MULTIPART) != 0;
	bool message = (flags & MIME_PART_MESSAGE) != 0;
	bool opaque = (flags & MIME_PART_OPAQUE) != 0;
	bool has_env = (flags & MIME_PART_HAS_ENVELOPE) != 0;
	bool want_env = parent == NULL ||
		(parent->flags & MIME_PART_MESSAGE) != 0;
	if ((multipart && (message || opaque)) || (message && opaque) ||
	    has_env != want_env)
		return mc_fail(r, "inconsistent part flags");
	if (multipart ? nchildren == 0 || !mime_str_eq_ci(p->type, "MULTIPART")
	    : message ? nchildren != 1 || !mc_is_message_type(p)
	    : nchildren != 0 || mc_is_message_type(p) ||
	      mime_str_eq_ci(p->type, "MULTIPART"))
		return mc_fail(r, "part type does not match its shape");
	if (nchildren > t->remaining)
		return mc_fail(r, "more children than declared parts");
	if (has_env && parent != NULL) {
		p->env = mime_arena_alloc(t->a, sizeof(*p->env));
		if (!mc_get_envelope(r, t->a, p->env))
			return false;
	}
	p->nchildren = (size_t)nchildren;
	p->children = mime_arena_array(t->a, p->nchildren, sizeof(*p));
	uint64_t prev_end = p->body_off;
	for (size_t i = 0; i < p->nchildren; i++) {
		struct mime_part *c = &p->children[i];
		if (!mc_get_part(t, c, p, depth + 1))
			return false;
		if (c->hdr_off < prev_end)
			return mc_fail(r, "overlapping parts");
		if (message && c->hdr_off != p->body_off)
			return mc_fail(r, "message part not at the body");
		prev_end = c->body_off + c->body_len;
	}
	return true;
}

static int mc_decode_tree(const struct mc_view *v, struct mime_arena *a,
			  struct mime_part **root_r, unsigned *nparts_r,
			  const char **error_r)
{
	struct mc_reader r = v->parts;
	size_t nparts;
	*root_r = NULL;
	/* A part takes at least 20 bytes; this bounds the allocation. */
	if (!mc_get_count(&r, 20, &nparts) || nparts == 0 ||
	    nparts > UINT32_MAX) {
		*error_r = r.error != NULL ? r.error : "no parts";
		return -1;
	}
	struct mime_part *root = mime_arena_alloc(a, sizeof(*root));
	struct mc_tree t = { &r, a, v->size, nparts };
	if (mc_get_part(&t, root, NULL, 0) && t.remaining != 0)
		mc_fail(&r, "fewer parts than declared");
	if (mc_finish(&r, error_r) < 0)
		return -1;
	*root_r = root;
	*nparts_r = (unsigned)nparts;
	return 0;
}

int mime_cache_decode(const uint8_t *cache, size_t len,
		      struct mime_message **msg_r, const char **error_r)
{
	struct mc_view v;
	*msg_r = NULL;
	if (mc_open(cache, len, &v, error_r) < 0)
		return -1;
	struct mime_message *m = xcalloc(1, sizeof(*m));
	m->arena = mime_arena_new();
	m->size = v.size;
	struct mime_envelope *env = mime_arena_alloc(m->arena, sizeof(*env));
	struct mc_reader r = v.env;
	mc_get_envelope(&r, m->arena, env);
	if (mc_finish(&r, error_r) < 0)
		goto fail;
	r = v.search;
	if (mc_get_search(&r, &m->search, error_r) < 0)
		goto fail;
	if (mc_decode_tree(&v, m->arena, &m->root, &m->nparts, error_r) < 0)
		goto fail;
	m->root->env = env;
	*msg_r = m;
	return 0;
fail:
	mime_message_free(&m);
	return -1;
}

int mime_cache_envelope(const uint8_t *cache, size_t len, struct buf *out,
			const char **error_r)
{
	struct mc_view v;
	if (mc_open(cache, len, &v, error_r) < 0)
		return -1;
	struct mime_arena *a = mime_arena_new();
	struct mime_envelope env;
	mc_get_envelope(&v.env, a, &env);
	int ret = mc_finish(&v.env, error_r);
	if (ret == 0)
		mime_envelope_write(&env, out);
	mime_arena_free(a);
	return ret;
}

int mime_cache_bodystructure(const uint8_t *cache, size_t len, bool extended,
			     struct buf *out, const char **error_r)
{
	struct mc_view v;
	if (mc_open(cache, len, &v, error_r) < 0)
		return -1;
	/* The root's own envelope is not written by BODYSTRUCTURE, so the
	 * envelope block is not read. */
	struct mime_arena *a = mime_arena_new();
	struct mime_part *root;
	unsigned nparts;
	int ret = mc_decode_tree(&v, a, &root, &nparts, error_r);
	if (ret == 0)
		mime_bodystructure_write(root, extended, out);
	mime_arena_free(a);
	return ret;
}

int mime_cache_section(const uint8_t *cache, size_t len, const char *section,
		       uint64_t *offset_r, uint64_t *len_r,
		       const char **error_r)
{
	struct mc_view v;
	if (mc_open(cache, len, &v, error_r) < 0)
		return -1;
	struct mime_arena *a = mime_arena_new();
	struct mime_part *root;
	unsigned nparts;
	int ret = mc_decode_tree(&v, a, &root, &nparts, error_r);
	if (ret == 0) {
		if (*section == '\0') {
			*offset_r = 0;
			*len_r = v.size;
		} else if (mime_section_find_part(root, section, offset_r,
						  len_r) < 0) {
			ret = 1;
		}
	}
	mime_arena_free(a);
	return ret;
}

int mime_cache_message_size(const uint8_t *cache, size_t len,
			    uint64_t *size_r, const char **error_r)
{
	struct mc_view v;
	if (mc_open(cache, len, &v, error_r) < 0)
		return -1;
	*size_r = v.size;
	return 0;
}

int mime_cache_part_count(const uint8_t *cache, size_t len,
			  unsigned *count_r, const char **error_r)
{
	struct mc_view v;
	if (mc_open(cache, len, &v, error_r) < 0)
		return -1;
	struct mime_arena *a = mime_arena_new();
	struct mime_part *root;
	int ret = mc_decode_tree(&v, a, &root, count_r, error_r);
	mime_arena_free(a);
	return ret;
}

int mime_cache_search_fields(const uint8_t *cache, size_t len,
			     struct mime_search_fields *fields_r,
			     const char **error_r)
{
	struct mc_view v;
	if (mc_open(cache, len, &v, error_r) < 0)
		return -1;
	memset(fields_r, 0, sizeof(*fields_r));
	return mc_get_search(&v.search, fields_r, error_r);	/* views */
}

int mime_cache_text_parts(const uint8_t *cache, size_t len,
			  struct mime_text_part **parts_r, size_t *count_r,
			  const char **error_r)
{
	struct mime_message *m;
	*parts_r = NULL;
	*count_r = 0;
	if (mime_cache_decode(cache, len, &m, error_r) < 0)
		return -1;
	/* Strings point into cache, except the "US-ASCII" default, which
	 * is a literal: both outlive m. */
	*count_r = mime_text_parts(m, parts_r);
	mime_message_free(&m);
	return 0;
}
