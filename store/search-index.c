/* The search index in the store's LMDB environment: the hooks that keep it
 * in step with the messages, batch merges from the holding area into the
 * postings, and candidate lookup; see search-index.h. */
#include "store-private.h"

#include <stdlib.h>
#include <string.h>

#include "../common/log.h"

/* Documents per merge transaction: bounds the memory of one merge (about
 * 12 bytes per distinct trigram of each document) and the size of a
 * transaction, while a large batch rewrites each tail chunk once for
 * many documents. */
#define SX_BATCH_DEFAULT 4096

void (*store_sx_debug_merge_hook)(void);

void store_set_search_extractor(struct store *s, store_sx_extractor *fn,
				void *ctx)
{
	s->sx_extractor = fn;
	s->sx_ctx = ctx;
}

void store_set_search_merge_threshold(struct store *s, size_t n)
{
	s->sx_merge_threshold = n;
}

static void sx_key_doc(uint8_t key[8], uint64_t id)
{
	store_key_blob(key, id);
}

static void sx_key_post(uint8_t key[12], unsigned ns, uint32_t tri,
			uint64_t first)
{
	key[0] = (uint8_t)ns;
	key[1] = (uint8_t)(tri >> 16);
	key[2] = (uint8_t)(tri >> 8);
	key[3] = (uint8_t)tri;
	store_key_blob(key + 4, first);
}

/* ---- hooks ---- */

int store_sx_msg_put(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		     uint32_t uid, uint64_t blob_id)
{
	uint8_t key[8], val[8];
	sx_key_doc(key, blob_id);
	store_key_message(val, mailbox_id, uid);
	MDB_val k = { 8, key }, v = { 8, val };
	int rc = mdb_put(txn, s->db_sx_blobmsg, &k, &v, MDB_NODUPDATA);
	if (rc != 0 && rc != MDB_KEYEXIST)
		return store_mdb_fail(s, rc, "mdb_put sx_blobmsg");
	return 0;
}

int store_sx_doc_add(struct store *s, MDB_txn *txn, uint64_t blob_id,
		     const struct buf *rec)
{
	uint8_t key[8];
	sx_key_doc(key, blob_id);
	if (rec != NULL &&
	    store_db_put(s, txn, s->db_sx_text, key, 8, rec->data, rec->len,
			 0) < 0)
		return -1;
	return store_db_put(s, txn, s->db_sx_pending, key, 8, "", 0, 0);
}

int store_sx_doc_gone(struct store *s, MDB_txn *txn, uint64_t blob_id)
{
	uint8_t key[8];
	sx_key_doc(key, blob_id);
	/* its postings stay until the chunks are rewritten: a reader finds
	 * no message for it (search-index.h, invariant 3) */
	if (store_db_del(s, txn, s->db_sx_text, key, 8, NULL, 0) < 0 ||
	    store_db_del(s, txn, s->db_sx_pending, key, 8, NULL, 0) < 0 ||
	    store_db_del(s, txn, s->db_sx_blobmsg, key, 8, NULL, 0) < 0)
		return -1;
	return 0;
}

int store_sx_doc_stale(struct store *s, MDB_txn *txn, uint64_t blob_id)
{
	uint8_t key[8];
	sx_key_doc(key, blob_id);
	if (store_db_del(s, txn, s->db_sx_text, key, 8, NULL, 0) < 0)
		return -1;
	return store_db_put(s, txn, s->db_sx_pending, key, 8, "", 0, 0);
}

bool store_sx_extract(struct store *s, const uint8_t *data, size_t len,
		      const struct buf *cache, bool have_cache,
		      struct buf *rec_out)
{
	if (s->sx_extractor == NULL)
		return false;
	return s->sx_extractor(s->sx_ctx, data != NULL ? data :
			       (const uint8_t *)"", len,
			       have_cache ? cache->data : NULL,
			       have_cache ? cache->len : 0, rec_out) == 0;
}

static size_t sx_held_count(struct store *s, MDB_txn *txn)
{
	MDB_stat st;
	if (mdb_stat(txn, s->db_sx_pending, &st) != 0)
		return 0;
	return st.ms_entries;
}

void store_sx_after_append(struct store *s)
{
	if (s->sx_merge_threshold == 0)
		return;
	MDB_txn *txn;
	if (store_read_begin(s, &txn) < 0)
		return;
	size_t held = sx_held_count(s, txn);
	mdb_txn_abort(txn);
	if (held < s->sx_merge_threshold)
		return;
	const char *err;
	/* The append is committed already: a failed merge leaves the
	 * documents held, which queries read. Each append merges a bounded
	 * step, so a large backlog (mail stored while no extractor ran)
	 * drains over several appends instead of stalling the user's
	 * sessions for seconds in one. */
	if (store_search_merge(s, SX_MERGE_STEP_MAX, 0, NULL, &err) < 0)
		log_warn("store %s: search index merge: %s", s->dir, err);
	s->err = STORE_ERR_NONE;
}

int store_schema_upgrade_2_to_3(struct store *s, MDB_txn *txn)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_messages, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	MDB_val k, v;
	int r = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct store_rec_message m;
		if (k.mv_size != 8 ||
		    store_rec_message_decode(v.mv_data, v.mv_size, &m) < 0) {
			r = store_corrupt(s, "message");
			break;
		}
		r = store_sx_msg_put(s, txn, store_get_be32(k.mv_data),
				     store_get_be32((uint8_t *)k.mv_data + 4),
				     m.blob_id);
		if (r == 0)
			r = store_sx_doc_add(s, txn, m.blob_id, NULL);
	}
	if (r == 0 && rc != MDB_NOTFOUND)
		r = store_mdb_fail(s, rc, "upgrade: messages walk");
	mdb_cursor_close(c);
	return r;
}

/* ---- merge ---- */

/* (namespace, trigram) -> the batch's documents, ascending. */
struct acc_entry {
	uint32_t key;		/* ns << 24 | trigram, plus one; 0 = empty */
	uint32_t n, cap;
	uint64_t *ids;
};

struct acc {
	struct acc_entry *e;
	size_t cap, used;
	uint64_t doc;		/* being added */
	unsigned ns;
};

static void acc_init(struct acc *a)
{
	a->cap = 1 << 14;
	a->used = 0;
	a->e = xcalloc(a->cap, sizeof(*a->e));
}

static void acc_free(struct acc *a)
{
	for (size_t i = 0; i < a->cap; i++)
		free(a->e[i].ids);
	free(a->e);
	memset(a, 0, sizeof(*a));
}

static size_t acc_slot(const struct acc *a, uint32_t key)
{
	size_t i = (key * 2654435761u) & (a->cap - 1);
	while (a->e[i].key != 0 && a->e[i].key != key)
		i = (i + 1) & (a->cap - 1);
	return i;
}

static void acc_grow(struct acc *a)
{
	struct acc_entry *old = a->e;
	size_t oldcap = a->cap;
	a->cap *= 2;
	a->e = xcalloc(a->cap, sizeof(*a->e));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key != 0)
			a->e[acc_slot(a, old[i].key)] = old[i];
	free(old);
}

static void acc_add(void *vctx, uint32_t tri)
{
	struct acc *a = vctx;
	uint32_t key = ((uint32_t)a->ns << 24 | tri) + 1;
	if ((a->used + 1) * 2 > a->cap)
		acc_grow(a);
	struct acc_entry *e = &a->e[acc_slot(a, key)];
	if (e->key == 0) {
		e->key = key;
		a->used++;
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 4;
		e->ids = xrealloc(e->ids, e->cap * sizeof(*e->ids));
	}
	e->ids[e->n++] = a->doc;
}

static int cmp_entry(const void *x, const void *y)
{
	const struct acc_entry *a = x, *b = y;
	return a->key < b->key ? -1 : a->key > b->key;
}

/* Merges sorted a[0..na) and b[0..nb) into out without duplicates. */
static size_t merge_ids(const uint64_t *a, size_t na, const uint64_t *b,
			size_t nb, uint64_t *out)
{
	size_t i = 0, j = 0, k = 0;
	while (i < na || j < nb) {
		uint64_t v;
		if (j >= nb || (i < na && a[i] < b[j]))
			v = a[i++];
		else if (i >= na || b[j] < a[i])
			v = b[j++];
		else {
			v = a[i++];
			j++;
		}
		out[k++] = v;
	}
	return k;
}

struct post_scratch {
	uint64_t *old, *all;
	size_t nold, oldcap, allcap;
	struct buf val;
};

static int put_chunks(struct store *s, MDB_txn *txn, unsigned ns,
		      uint32_t tri, const uint64_t *ids, size_t n,
		      struct post_scratch *ps)
{
	while (n > 0) {
		size_t k = sx_chunk_fit(ids, n, SX_CHUNK_BYTES_MAX);
		uint8_t key[12];
		sx_key_post(key, ns, tri, ids[0]);
		buf_clear(&ps->val);
		sx_chunk_encode(ids, k, &ps->val);
		if (store_db_put(s, txn, s->db_sx_post, key, 12, ps->val.data,
				 ps->val.len, 0) < 0)
			return -1;
		ids += k;
		n -= k;
	}
	return 0;
}

/* Adds ids (ascending) to the postings of (ns, tri). Only the chunks the
 * new ids fall into are read and rewritten: with ids above every id in
 * the list, that is the tail chunk alone. */
static int post_add(struct store *s, MDB_txn *txn, MDB_cursor *c,
		    unsigned ns, uint32_t tri, const uint64_t *ids, size_t n,
		    struct post_scratch *ps)
{
	size_t i = 0;
	while (i < n) {
		uint8_t key[12];
		sx_key_post(key, ns, tri, ids[i]);
		MDB_val k = { 12, key }, v;
		bool have = false;	/* a chunk with first <= ids[i] */
		uint64_t first = 0, bound = UINT64_MAX;
		int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return store_mdb_fail(s, rc, "mdb_cursor_get");
		bool at_next = rc == 0 && k.mv_size == 12 &&
			       memcmp(k.mv_data, key, 4) == 0;
		if (at_next && store_get_be64((uint8_t *)k.mv_data + 4) ==
			       ids[i]) {
			have = true;
			first = ids[i];
		} else {
			if (at_next)
				bound = store_get_be64((uint8_t *)k.mv_data + 4);
			rc = mdb_cursor_get(c, &k, &v, rc == MDB_NOTFOUND ?
					    MDB_LAST : MDB_PREV);
			if (rc == 0 && k.mv_size == 12 &&
			    memcmp(k.mv_data, key, 4) == 0) {
				have = true;
				first = store_get_be64((uint8_t *)k.mv_data + 4);
			} else if (rc != 0 && rc != MDB_NOTFOUND) {
				return store_mdb_fail(s, rc, "mdb_cursor_get");
			}
		}
		ps->nold = 0;
		if (have) {
			if (sx_chunk_decode(v.mv_data, v.mv_size, first,
					    &ps->old, &ps->nold,
					    &ps->oldcap) < 0)
				return store_corrupt(s, "search posting");
			if (bound == UINT64_MAX) {
				/* the chunk after this one, if any */
				MDB_val k2, v2;
				rc = mdb_cursor_get(c, &k2, &v2, MDB_NEXT);
				if (rc == 0 && k2.mv_size == 12 &&
				    memcmp(k2.mv_data, key, 4) == 0)
					bound = store_get_be64(
						(uint8_t *)k2.mv_data + 4);
				else if (rc != 0 && rc != MDB_NOTFOUND)
					return store_mdb_fail(s, rc,
							      "mdb_cursor_get");
			}
			uint8_t okey[12];
			sx_key_post(okey, ns, tri, first);
			if (store_db_del(s, txn, s->db_sx_post, okey, 12, NULL,
					 0) < 0)
				return -1;
		}
		size_t j = i;
		while (j < n && ids[j] < bound)
			j++;
		size_t need = ps->nold + (j - i);
		if (need > ps->allcap) {
			ps->allcap = need * 2;
			ps->all = xrealloc(ps->all, ps->allcap *
						    sizeof(*ps->all));
		}
		size_t nall = merge_ids(ps->old, ps->nold, ids + i, j - i,
					ps->all);
		if (put_chunks(s, txn, ns, tri, ps->all, nall, ps) < 0)
			return -1;
		i = j;
	}
	return 0;
}

struct merge_ctx {
	size_t batch;
	size_t merged;
	bool more;		/* held documents remain */
};

/* The text of a held document, extracting it if it has none. 1 with
 * rec, 0 if there is none and none can be made. */
static int merge_doc_text(struct store *s, MDB_txn *txn, uint64_t id,
			  struct buf *rec)
{
	uint8_t key[8];
	MDB_val v;
	sx_key_doc(key, id);
	buf_clear(rec);
	int r = store_db_get(s, txn, s->db_sx_text, key, 8, &v);
	if (r < 0)
		return -1;
	if (r > 0) {
		buf_append(rec, v.mv_data, v.mv_size);
		return 1;
	}
	if (s->sx_extractor == NULL)
		return 0;
	struct buf data, cache;
	buf_init(&data);
	buf_init(&cache);
	const char *err;
	if (store_message_read(s, id, &data, &err) < 0) {
		/* a blob that cannot be read now is left held */
		buf_free(&data);
		s->err = STORE_ERR_NONE;
		return 0;
	}
	r = store_db_get(s, txn, s->db_cache, key, 8, &v);
	if (r < 0) {
		buf_free(&data);
		return -1;
	}
	if (r > 0)
		buf_append(&cache, v.mv_data, v.mv_size);
	bool ok = store_sx_extract(s, data.data, data.len, &cache, r > 0, rec);
	buf_free(&data);
	buf_free(&cache);
	if (!ok)
		return 0;
	return store_db_put(s, txn, s->db_sx_text, key, 8, rec->data,
			    rec->len, 0) < 0 ? -1 : 1;
}

static int merge_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct merge_ctx *ctx = vctx;
	ctx->merged = 0;
	ctx->more = false;
	if (s->sx_seen == NULL)
		s->sx_seen = xcalloc(1, SX_SEEN_BYTES);
	MDB_cursor *pc;
	int rc = mdb_cursor_open(txn, s->db_sx_pending, &pc);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	uint64_t *docs = NULL;
	size_t ndocs = 0, cap = 0;
	MDB_val k, v;
	for (rc = mdb_cursor_get(pc, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(pc, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8)
			continue;
		if (ndocs == ctx->batch) {
			ctx->more = true;
			break;
		}
		if (ndocs == cap) {
			cap = cap ? cap * 2 : 256;
			docs = xrealloc(docs, cap * sizeof(*docs));
		}
		docs[ndocs++] = store_get_be64(k.mv_data);
	}
	mdb_cursor_close(pc);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		free(docs);
		return store_mdb_fail(s, rc, "mdb_cursor_get");
	}

	struct acc acc;
	struct sx_doc doc;
	struct buf rec;
	acc_init(&acc);
	sx_doc_init(&doc);
	buf_init(&rec);
	int r = 0;
	for (size_t i = 0; i < ndocs && r == 0; i++) {
		r = merge_doc_text(s, txn, docs[i], &rec);
		if (r <= 0)
			continue;	/* stays held; -1 ends the loop */
		r = 0;
		if (sx_doc_unpack(rec.data, rec.len, &doc) < 0) {
			/* cannot happen unless the disk lies: index
			 * nothing, keep it held, queries use the matcher */
			log_warn("store %s: bad search text of blob %llu",
				 s->dir, (unsigned long long)docs[i]);
			continue;
		}
		acc.doc = docs[i];
		for (unsigned ns = 0; ns < SX_NS_COUNT; ns++) {
			acc.ns = ns;
			sx_doc_trigrams(&doc, (enum sx_ns)ns, s->sx_seen,
					acc_add, &acc);
		}
		uint8_t key[8];
		sx_key_doc(key, docs[i]);
		if (store_db_del(s, txn, s->db_sx_pending, key, 8, NULL,
				 0) < 0)
			r = -1;
		ctx->merged++;
	}
	sx_doc_free(&doc);
	buf_free(&rec);
	free(docs);

	if (r == 0 && acc.used > 0) {
		/* in key order: neighbouring keys share pages */
		struct acc_entry *list = xmalloc(acc.used * sizeof(*list));
		size_t n = 0;
		for (size_t i = 0; i < acc.cap; i++)
			if (acc.e[i].key != 0)
				list[n++] = acc.e[i];
		qsort(list, n, sizeof(*list), cmp_entry);
		struct post_scratch ps = { 0 };
		buf_init(&ps.val);
		MDB_cursor *c;
		rc = mdb_cursor_open(txn, s->db_sx_post, &c);
		if (rc != 0)
			r = store_mdb_fail(s, rc, "mdb_cursor_open");
		for (size_t i = 0; i < n && r == 0; i++) {
			uint32_t key = list[i].key - 1;
			/* docs were added in ascending order, once each */
			r = post_add(s, txn, c, key >> 24, key & 0xffffff,
				     list[i].ids, list[i].n, &ps);
		}
		if (rc == 0)
			mdb_cursor_close(c);
		free(ps.old);
		free(ps.all);
		buf_free(&ps.val);
		free(list);
	}
	acc_free(&acc);
	if (r == 0 && store_sx_debug_merge_hook != NULL)
		store_sx_debug_merge_hook();
	return r;
}

int store_search_merge(struct store *s, size_t max, size_t batch,
		       size_t *merged_r, const char **error_r)
{
	size_t total = 0;
	if (batch == 0)
		batch = SX_BATCH_DEFAULT;
	s->err = STORE_ERR_NONE;
	for (;;) {
		struct merge_ctx ctx = { .batch = batch };
		if (max != 0 && max - total < batch)
			ctx.batch = max - total;
		if (store_write(s, merge_txn, &ctx) < 0) {
			if (merged_r != NULL)
				*merged_r = total;
			return store_ret(s, -1, error_r);
		}
		total += ctx.merged;
		/* documents left held for lack of text do not count: stop
		 * when a round merged nothing */
		if (!ctx.more || ctx.merged == 0 || (max != 0 && total >= max))
			break;
	}
	if (merged_r != NULL)
		*merged_r = total;
	return 0;
}

/* ---- candidates ---- */

struct idlist {
	uint64_t *v;
	size_t n, cap;
};

/* Chunks of the list of (ns, tri): a cheap size estimate (no decoding)
 * for ordering the intersection rarest first. */
static size_t post_chunks(MDB_cursor *c, unsigned ns, uint32_t tri,
			  size_t limit)
{
	uint8_t key[12];
	sx_key_post(key, ns, tri, 0);
	MDB_val k = { 12, key }, v;
	size_t n = 0;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == 12 && memcmp(k.mv_data, key, 4) == 0 &&
	       n < limit) {
		n++;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	return n;
}

static int post_read_all(struct store *s, MDB_cursor *c, unsigned ns,
			 uint32_t tri, struct idlist *out, size_t *read_r)
{
	uint8_t key[12];
	sx_key_post(key, ns, tri, 0);
	MDB_val k = { 12, key }, v;
	out->n = 0;
	int rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size == 12 && memcmp(k.mv_data, key, 4) == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		size_t before = out->n;
		if (sx_chunk_decode(v.mv_data, v.mv_size,
				    store_get_be64((uint8_t *)k.mv_data + 4),
				    &out->v, &out->n, &out->cap) < 0 ||
		    (before > 0 && out->v[before] <= out->v[before - 1]))
			return store_corrupt(s, "search posting");
		*read_r += out->n - before;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_mdb_fail(s, rc, "mdb_cursor_get");
	return 0;
}

/* Keeps the ids of a that are in the list of (ns, tri), decoding only
 * the chunks that can hold one. */
static int post_intersect(struct store *s, MDB_cursor *c, unsigned ns,
			  uint32_t tri, struct idlist *a, struct idlist *chunk,
			  size_t *read_r)
{
	size_t keep = 0, ci = 0;
	uint64_t lo = 1, hi = 0;	/* ids covered by chunk: [lo, hi] */
	for (size_t i = 0; i < a->n; i++) {
		uint64_t id = a->v[i];
		if (id < lo || id > hi) {
			/* the chunk with the greatest first <= id */
			uint8_t key[12];
			sx_key_post(key, ns, tri, id);
			MDB_val k = { 12, key }, v;
			int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
			uint64_t next = UINT64_MAX;
			if (rc == 0 && k.mv_size == 12 &&
			    memcmp(k.mv_data, key, 4) == 0) {
				uint64_t f = store_get_be64(
					(uint8_t *)k.mv_data + 4);
				if (f != id) {
					next = f;
					rc = mdb_cursor_get(c, &k, &v,
							    MDB_PREV);
				}
			} else if (rc == 0 || rc == MDB_NOTFOUND) {
				rc = mdb_cursor_get(c, &k, &v, rc == 0 ?
						    MDB_PREV : MDB_LAST);
			}
			if (rc != 0 && rc != MDB_NOTFOUND)
				return store_mdb_fail(s, rc, "mdb_cursor_get");
			chunk->n = 0;
			ci = 0;
			if (rc == 0 && k.mv_size == 12 &&
			    memcmp(k.mv_data, key, 4) == 0) {
				uint64_t f = store_get_be64(
					(uint8_t *)k.mv_data + 4);
				if (sx_chunk_decode(v.mv_data, v.mv_size, f,
						    &chunk->v, &chunk->n,
						    &chunk->cap) < 0)
					return store_corrupt(s,
							     "search posting");
				*read_r += chunk->n;
				lo = f;
				/* ids up to the next chunk's first are
				 * answered by this one */
				hi = next != UINT64_MAX ? next - 1 :
					chunk->v[chunk->n - 1];
				if (hi < chunk->v[chunk->n - 1])
					hi = chunk->v[chunk->n - 1];
			} else {
				/* below the first chunk: up to it, none */
				lo = id;
				hi = next != UINT64_MAX ? next - 1 : UINT64_MAX;
			}
		}
		while (ci < chunk->n && chunk->v[ci] < id)
			ci++;
		if (ci < chunk->n && chunk->v[ci] == id)
			a->v[keep++] = id;
	}
	a->n = keep;
	return 0;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

static void idlist_union(struct idlist *dst, const struct idlist *src)
{
	if (src->n == 0)
		return;
	uint64_t *out = xmalloc((dst->n + src->n) * sizeof(*out));
	size_t n = merge_ids(dst->v, dst->n, src->v, src->n, out);
	free(dst->v);
	dst->v = out;
	dst->n = dst->cap = n;
	if (dst->cap == 0)
		dst->cap = 1;
}

struct tri_order {
	uint32_t tri;
	size_t chunks;
};

static int cmp_tri(const void *x, const void *y)
{
	const struct tri_order *a = x, *b = y;
	return a->chunks < b->chunks ? -1 : a->chunks > b->chunks;
}

static int candidates_txn(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
			  unsigned ns_mask, const uint8_t *needle, size_t len,
			  struct store_sx_cand *cand)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_sx_post, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	size_t ntri = 0;
	struct tri_order *tris = xmalloc((len - 2) * sizeof(*tris));
	for (size_t i = 0; i + 2 < len; i++) {
		uint32_t t = (uint32_t)needle[i] << 16 |
			     (uint32_t)needle[i + 1] << 8 | needle[i + 2];
		bool dup = false;
		for (size_t j = 0; j < ntri && !dup; j++)
			dup = tris[j].tri == t;
		if (!dup)
			tris[ntri++].tri = t;
	}
	struct idlist docs = { 0 }, cur = { 0 }, chunk = { 0 };
	int r = 0;
	for (unsigned ns = 0; ns < SX_NS_COUNT && r == 0; ns++) {
		if (!(ns_mask & (1u << ns)))
			continue;
		for (size_t i = 0; i < ntri; i++)
			tris[i].chunks = post_chunks(c, ns, tris[i].tri, 64);
		qsort(tris, ntri, sizeof(*tris), cmp_tri);
		if (tris[0].chunks == 0)
			continue;	/* a trigram no document has */
		r = post_read_all(s, c, ns, tris[0].tri, &cur,
				  &cand->postings_read);
		for (size_t i = 1; i < ntri && r == 0 && cur.n > 0; i++)
			r = post_intersect(s, c, ns, tris[i].tri, &cur, &chunk,
					   &cand->postings_read);
		if (r == 0)
			idlist_union(&docs, &cur);
	}
	mdb_cursor_close(c);
	free(tris);
	free(cur.v);
	free(chunk.v);
	cand->docs = docs.n;

	/* every held document is a candidate: it has no postings yet */
	MDB_cursor *pc = NULL;
	if (r == 0 && (rc = mdb_cursor_open(txn, s->db_sx_pending, &pc)) != 0)
		r = store_mdb_fail(s, rc, "mdb_cursor_open");
	if (r == 0) {
		struct idlist held = { 0 };
		MDB_val k, v;
		for (rc = mdb_cursor_get(pc, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(pc, &k, &v, MDB_NEXT)) {
			if (k.mv_size != 8)
				continue;
			if (held.n == held.cap) {
				held.cap = held.cap ? held.cap * 2 : 64;
				held.v = xrealloc(held.v, held.cap *
							  sizeof(*held.v));
			}
			held.v[held.n++] = store_get_be64(k.mv_data);
		}
		mdb_cursor_close(pc);
		if (rc != MDB_NOTFOUND)
			r = store_mdb_fail(s, rc, "mdb_cursor_get");
		cand->held = held.n;
		idlist_union(&docs, &held);
		free(held.v);
	}

	/* documents -> UIDs of this mailbox */
	MDB_cursor *bc = NULL;
	if (r == 0 && (rc = mdb_cursor_open(txn, s->db_sx_blobmsg, &bc)) != 0)
		r = store_mdb_fail(s, rc, "mdb_cursor_open");
	size_t ucap = 0;
	for (size_t i = 0; i < docs.n && r == 0; i++) {
		uint8_t key[8], val[8];
		sx_key_doc(key, docs.v[i]);
		store_key_message(val, mailbox_id, 0);
		MDB_val k = { 8, key }, v = { 8, val };
		for (rc = mdb_cursor_get(bc, &k, &v, MDB_GET_BOTH_RANGE);
		     rc == 0; rc = mdb_cursor_get(bc, &k, &v, MDB_NEXT_DUP)) {
			if (v.mv_size != 8 ||
			    store_get_be32(v.mv_data) != mailbox_id)
				break;
			if (cand->count == ucap) {
				ucap = ucap ? ucap * 2 : 64;
				cand->uids = xrealloc(cand->uids, ucap *
						      sizeof(*cand->uids));
			}
			cand->uids[cand->count++] =
				store_get_be32((uint8_t *)v.mv_data + 4);
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			r = store_mdb_fail(s, rc, "mdb_cursor_get");
	}
	if (bc != NULL)
		mdb_cursor_close(bc);
	free(docs.v);
	if (r == 0 && cand->count > 1) {
		qsort(cand->uids, cand->count, sizeof(*cand->uids), cmp_u32);
		size_t k = 1;
		for (size_t i = 1; i < cand->count; i++)
			if (cand->uids[i] != cand->uids[k - 1])
				cand->uids[k++] = cand->uids[i];
		cand->count = k;
	}
	return r;
}

int store_search_candidates(struct store *s, uint32_t mailbox_id,
			    unsigned ns_mask, const uint8_t *needle,
			    size_t len, struct store_sx_cand *cand_r,
			    const char **error_r)
{
	memset(cand_r, 0, sizeof(*cand_r));
	if (len < 3) {
		cand_r->all = true;
		return 0;
	}
	MDB_txn *txn;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	int r = candidates_txn(s, txn, mailbox_id, ns_mask, needle, len,
			       cand_r);
	mdb_txn_abort(txn);
	if (r < 0)
		store_sx_cand_free(cand_r);
	return store_ret(s, r, error_r);
}

void store_sx_cand_free(struct store_sx_cand *c)
{
	free(c->uids);
	c->uids = NULL;
	c->count = 0;
}

int store_search_doc(struct store *s, uint64_t blob_id, struct sx_doc *d,
		     const char **error_r)
{
	MDB_txn *txn;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	uint8_t key[8];
	MDB_val v;
	sx_key_doc(key, blob_id);
	int r = store_db_get(s, txn, s->db_sx_text, key, 8, &v);
	/* blocks are inflated when a key needs them (sx_doc_need) */
	if (r > 0 && sx_doc_load(v.mv_data, v.mv_size, d) < 0)
		r = 0;	/* unreadable text: let the matcher decide */
	mdb_txn_abort(txn);
	return store_ret(s, r, error_r);
}

static uint64_t db_pages(MDB_txn *txn, MDB_dbi dbi, MDB_stat *st)
{
	if (mdb_stat(txn, dbi, st) != 0) {
		memset(st, 0, sizeof(*st));
		return 0;
	}
	return st->ms_branch_pages + st->ms_leaf_pages +
	       st->ms_overflow_pages;
}

int store_search_stats(struct store *s, struct store_sx_stats *st,
		       const char **error_r)
{
	MDB_txn *txn;
	memset(st, 0, sizeof(*st));
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	MDB_stat ms;
	st->post_pages = db_pages(txn, s->db_sx_post, &ms);
	st->post_chunks = ms.ms_entries;
	st->text_pages = db_pages(txn, s->db_sx_text, &ms);
	st->docs = ms.ms_entries;
	st->other_pages = db_pages(txn, s->db_sx_pending, &ms);
	st->held = ms.ms_entries;
	st->other_pages += db_pages(txn, s->db_sx_blobmsg, &ms);
	st->post_bytes = st->post_pages * ms.ms_psize;
	st->text_bytes = st->text_pages * ms.ms_psize;
	/* held documents without text */
	MDB_cursor *c;
	if (mdb_cursor_open(txn, s->db_sx_pending, &c) == 0) {
		MDB_val k, v, v2;
		int rc;
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			if (mdb_get(txn, s->db_sx_text, &k, &v2) != 0)
				st->held_no_text++;
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	return 0;
}

/* ---- test hooks ---- */

struct debug_post {
	unsigned ns;
	uint32_t tri;
	const uint64_t *ids;
	size_t n;
};

static int debug_post_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct debug_post *d = vctx;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_sx_post, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	struct post_scratch ps = { 0 };
	buf_init(&ps.val);
	int r = post_add(s, txn, c, d->ns, d->tri, d->ids, d->n, &ps);
	mdb_cursor_close(c);
	free(ps.old);
	free(ps.all);
	buf_free(&ps.val);
	return r;
}

int store_sx_debug_post_add(struct store *s, unsigned ns, uint32_t tri,
			    const uint64_t *ids, size_t n,
			    const char **error_r)
{
	struct debug_post d = { ns, tri, ids, n };
	return store_ret(s, store_write(s, debug_post_txn, &d), error_r);
}

int store_sx_debug_post_read(struct store *s, unsigned ns, uint32_t tri,
			     uint64_t **ids_r, size_t *n_r, size_t *chunks_r,
			     size_t *max_value_r, const char **error_r)
{
	MDB_txn *txn;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_sx_post, &c);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return store_ret(s, store_mdb_fail(s, rc, "cursor"), error_r);
	}
	struct idlist l = { 0 };
	size_t read = 0;
	int r = post_read_all(s, c, ns, tri, &l, &read);
	*chunks_r = 0;
	*max_value_r = 0;
	uint8_t key[12];
	sx_key_post(key, ns, tri, 0);
	MDB_val k = { 12, key }, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     rc == 0 && memcmp(k.mv_data, key, 4) == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		(*chunks_r)++;
		if (v.mv_size > *max_value_r)
			*max_value_r = v.mv_size;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	*ids_r = l.v;
	*n_r = l.n;
	return store_ret(s, r, error_r);
}
