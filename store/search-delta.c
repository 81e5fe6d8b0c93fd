/* Generations of recent merges (sx_delta), their combination, and their
 * fold into sx_post; see search-index.h ("Generations"). A small merge
 * writes its lists here, in key order at the end of the database,
 * instead of into sx_post, where they would land on nearly every page.
 * Generations of one level are combined into one of the next (a
 * sequential rewrite of the small ones), which keeps them few for
 * readers; a fold moves them all into sx_post once they are a fair part
 * of it, in steps over token id ranges, so that each page of sx_post is
 * rewritten once for many merges. Readers take the union of sx_post and
 * every generation, so every state between steps answers the same. */
#include "search-index-private.h"

#include <stdlib.h>
#include <string.h>

/* Lists moved into sx_post by one fold step: each step rewrites one
 * stretch of sx_post's pages, within one append's time. */
#define SX_FOLD_STEP_LISTS 16384

size_t store_sx_debug_fold_step;

static const uint8_t fold_key[SX_FOLD_KEY_LEN] = { 0, 0, 0, 0 };

static void put_be32(uint8_t p[4], uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int sx_gens_list(struct store *s, MDB_txn *txn, struct sx_gen **gens_r,
		 size_t *n_r)
{
	*gens_r = NULL;
	*n_r = 0;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_sx_delta, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	struct sx_gen *gens = NULL;
	size_t n = 0, cap = 0;
	uint32_t next = 1;
	int r = 0;
	for (;;) {
		uint8_t key[4];
		put_be32(key, next);
		MDB_val k = { 4, key }, v;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND)
			break;
		if (rc != 0) {
			r = store_mdb_fail(s, rc, "mdb_cursor_get");
			break;
		}
		/* a generation starts with its header */
		if (k.mv_size != SX_GEN_HDR_LEN || v.mv_size != 5) {
			r = store_corrupt(s, "search generation header");
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			gens = xrealloc(gens, cap * sizeof(*gens));
		}
		const uint8_t *p = v.mv_data;
		gens[n].gen = store_get_be32(k.mv_data);
		gens[n].level = p[0];
		gens[n].docs = store_get_be32(p + 1);
		if (gens[n++].gen == UINT32_MAX)
			break;
		next = gens[n - 1].gen + 1;
	}
	mdb_cursor_close(c);
	if (r < 0) {
		free(gens);
		return -1;
	}
	*gens_r = gens;
	*n_r = n;
	return 0;
}

/* 1 with *lo_r if a fold is in progress, 0 if not, -1 on error. */
static int fold_state(struct store *s, MDB_txn *txn, uint32_t *lo_r)
{
	MDB_val v;
	int r = store_db_get(s, txn, s->db_sx_delta, fold_key, SX_FOLD_KEY_LEN,
			     &v);
	if (r <= 0)
		return r;
	if (v.mv_size != 4)
		return store_corrupt(s, "search fold state");
	*lo_r = store_get_be32(v.mv_data);
	return 1;
}

static int fold_state_put(struct store *s, MDB_txn *txn, uint32_t lo)
{
	uint8_t v[4];
	put_be32(v, lo);
	return store_db_put(s, txn, s->db_sx_delta, fold_key, SX_FOLD_KEY_LEN,
			    v, 4, 0);
}

/* ---- writing a generation ---- */

/* A new generation, above every key of sx_delta: its keys are appended,
 * which fills pages instead of splitting them. */
struct gen_writer {
	uint32_t gen;
	struct buf val;
};

static int gen_begin(struct store *s, MDB_txn *txn, unsigned level,
		     size_t docs, struct gen_writer *w)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_sx_delta, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	MDB_val k, v;
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	w->gen = 1;	/* the last key may be the fold state's, gen 0 */
	if (rc == 0) {
		uint32_t last = store_get_be32(k.mv_data);
		if (last == UINT32_MAX)
			return store_corrupt(s, "search generations exhausted");
		w->gen = last + 1;
	} else if (rc != MDB_NOTFOUND) {
		return store_mdb_fail(s, rc, "mdb_cursor_get");
	}
	buf_init(&w->val);
	uint8_t key[SX_GEN_HDR_LEN], hdr[5];
	put_be32(key, w->gen);
	hdr[0] = (uint8_t)level;
	put_be32(hdr + 1, docs > UINT32_MAX ? UINT32_MAX : (uint32_t)docs);
	return store_db_put(s, txn, s->db_sx_delta, key, SX_GEN_HDR_LEN, hdr,
			    5, MDB_APPEND);
}

static int gen_put_list(struct store *s, MDB_txn *txn, struct gen_writer *w,
			unsigned ns, uint32_t id, const uint64_t *ids,
			size_t n)
{
	while (n > 0) {
		size_t fit = sx_chunk_fit(ids, n, SX_CHUNK_BYTES_MAX);
		uint8_t key[SX_DKEY_LEN];
		sx_key_delta(key, w->gen, ns, id, ids[0]);
		buf_clear(&w->val);
		sx_chunk_encode(ids, fit, &w->val);
		if (store_db_put(s, txn, s->db_sx_delta, key, SX_DKEY_LEN,
				 w->val.data, w->val.len, MDB_APPEND) < 0)
			return -1;
		ids += fit;
		n -= fit;
	}
	return 0;
}

/* ---- reading generations in key order ---- */

/* A generation's cursor and a copy of its key: deleting through one
 * cursor moves the data on the pages others stand on (LMDB moves the
 * cursors themselves), so no cursor keeps an MDB_val across a change. */
struct gen_cursor {
	MDB_cursor *c;
	uint32_t gen;
	uint8_t key[SX_DKEY_LEN];
	bool valid;
};

/* Positions g with op (k: the key for MDB_SET_RANGE). */
static int gen_cursor_move(struct store *s, struct gen_cursor *g,
			   MDB_val *k, MDB_cursor_op op)
{
	MDB_val v;
	g->valid = false;
	int rc = mdb_cursor_get(g->c, k, &v, op);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_get");
	if (store_get_be32(k->mv_data) != g->gen)
		return 0;
	if (k->mv_size != SX_DKEY_LEN)
		return store_corrupt(s, "search generation key");
	memcpy(g->key, k->mv_data, SX_DKEY_LEN);
	g->valid = true;
	return 0;
}

static void gen_cursors_close(struct gen_cursor *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (g[i].c != NULL)
			mdb_cursor_close(g[i].c);
	free(g);
}

/* Cursors on the lists of gens whose token id is at least lo. */
static int gen_cursors_open(struct store *s, MDB_txn *txn,
			    const struct sx_gen *gens, size_t n, uint32_t lo,
			    struct gen_cursor **g_r)
{
	struct gen_cursor *g = xcalloc(n + 1, sizeof(*g));
	for (size_t i = 0; i < n; i++) {
		g[i].gen = gens[i].gen;
		int rc = mdb_cursor_open(txn, s->db_sx_delta, &g[i].c);
		if (rc != 0) {
			gen_cursors_close(g, n);
			return store_mdb_fail(s, rc, "mdb_cursor_open");
		}
		uint8_t key[SX_DKEY_LEN];
		sx_key_delta(key, gens[i].gen, 0, lo, 0);
		MDB_val k = { SX_DKEY_LEN, key };
		if (gen_cursor_move(s, &g[i], &k, MDB_SET_RANGE) < 0) {
			gen_cursors_close(g, n);
			return -1;
		}
	}
	*g_r = g;
	return 0;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* Sorts ids[0..n) and drops duplicates: generations usually hold
 * ascending documents, but a document merged again (made stale) comes
 * back in a later one. */
static size_t sort_unique(uint64_t *ids, size_t n)
{
	bool sorted = true;
	for (size_t i = 1; i < n && sorted; i++)
		sorted = ids[i - 1] < ids[i];
	if (sorted)
		return n;
	qsort(ids, n, sizeof(*ids), cmp_u64);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || ids[k - 1] != ids[i])
			ids[k++] = ids[i];
	return k;
}

/* Decodes the chunk under g into all, deletes it, and moves g on. */
static int take_chunk(struct store *s, struct gen_cursor *g,
		      struct idlist *all)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(g->c, &k, &v, MDB_GET_CURRENT);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_get");
	if (sx_chunk_decode(v.mv_data, v.mv_size,
			    store_get_be64(g->key + 4 + SX_PPREFIX_LEN),
			    &all->v, &all->n, &all->cap) < 0)
		return store_corrupt(s, "search posting");
	if ((rc = mdb_cursor_del(g->c, 0)) != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_del");
	return gen_cursor_move(s, g, &k, MDB_NEXT);
}

/* Moves the chunk under g into generation w unchanged (its key but the
 * generation's number), and moves g on. */
static int copy_chunk(struct store *s, MDB_txn *txn, struct gen_cursor *g,
		      struct gen_writer *w)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(g->c, &k, &v, MDB_GET_CURRENT);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_get");
	/* the put may move the page the value is on */
	buf_clear(&w->val);
	buf_append(&w->val, v.mv_data, v.mv_size);
	uint8_t key[SX_DKEY_LEN];
	memcpy(key, g->key, SX_DKEY_LEN);
	put_be32(key, w->gen);
	if ((rc = mdb_cursor_del(g->c, 0)) != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_del");
	if (store_db_put(s, txn, s->db_sx_delta, key, SX_DKEY_LEN,
			 w->val.data, w->val.len, MDB_APPEND) < 0)
		return -1;
	return gen_cursor_move(s, g, &k, MDB_NEXT);
}

/* Where the lists read go: a new generation, or sx_post. */
struct list_sink {
	struct gen_writer *gen;		/* or NULL: sx_post */
	MDB_cursor *post;
	struct post_scratch ps;
};

/* Moves the lists of the cursors, in key order, to the sink: until
 * max_lists (0: no bound) have moved and the next has another token id
 * (*stop_r; *finished_r if none is left). Each chunk read is deleted
 * through its cursor, which then stands on the next (LMDB's MDB_NEXT
 * after a delete): one pass over the generations' pages. */
static int move_lists(struct store *s, MDB_txn *txn, struct gen_cursor *g,
		      size_t ng, size_t max_lists, struct list_sink *sink,
		      uint32_t *stop_r, bool *finished_r)
{
	struct idlist all = { 0 };
	size_t lists = 0;
	uint32_t last_id = 0;
	int r = 0;
	*finished_r = false;
	while (r == 0) {
		size_t best = ng;
		for (size_t i = 0; i < ng; i++)
			if (g[i].valid &&
			    (best == ng || memcmp(g[i].key + 4, g[best].key + 4,
						  SX_PPREFIX_LEN) < 0))
				best = i;
		if (best == ng) {
			*finished_r = true;
			break;
		}
		uint8_t pre[SX_PPREFIX_LEN];
		memcpy(pre, g[best].key + 4, SX_PPREFIX_LEN);
		uint32_t id = store_get_be32(pre);
		if (max_lists != 0 && lists >= max_lists && id != last_id) {
			*stop_r = id;
			break;
		}
		size_t holders = 0;
		for (size_t i = 0; i < ng; i++)
			holders += g[i].valid &&
				   memcmp(g[i].key + 4, pre, SX_PPREFIX_LEN) == 0;
		if (holders == 1 && sink->gen != NULL) {
			/* in one generation only, as most lists of a
			 * combination are: its chunks as they are */
			while (r == 0 && g[best].valid &&
			       memcmp(g[best].key + 4, pre,
				      SX_PPREFIX_LEN) == 0)
				r = copy_chunk(s, txn, &g[best], sink->gen);
			lists++;
			last_id = id;
			continue;
		}
		all.n = 0;
		for (size_t i = 0; i < ng && r == 0; i++)
			while (r == 0 && g[i].valid &&
			       memcmp(g[i].key + 4, pre, SX_PPREFIX_LEN) == 0)
				r = take_chunk(s, &g[i], &all);
		if (r < 0)
			break;
		all.n = sort_unique(all.v, all.n);
		if (sink->gen != NULL)
			r = gen_put_list(s, txn, sink->gen, pre[4], id, all.v,
					 all.n);
		else
			r = sx_post_add(s, txn, sink->post, pre[4], id, all.v,
					all.n, &sink->ps);
		lists++;
		last_id = id;
	}
	free(all.v);
	return r;
}

/* Drops the headers of generations left without lists. */
static int drop_empty(struct store *s, MDB_txn *txn)
{
	struct sx_gen *gens;
	size_t ng;
	if (sx_gens_list(s, txn, &gens, &ng) < 0)
		return -1;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_sx_delta, &c);
	if (rc != 0) {
		free(gens);
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	}
	int r = 0;
	for (size_t i = 0; i < ng && r == 0; i++) {
		uint8_t key[SX_DKEY_LEN];
		sx_key_delta(key, gens[i].gen, 0, 0, 0);
		MDB_val k = { SX_DKEY_LEN, key }, v;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc != 0 && rc != MDB_NOTFOUND) {
			r = store_mdb_fail(s, rc, "mdb_cursor_get");
			break;
		}
		if (rc == 0 && store_get_be32(k.mv_data) == gens[i].gen)
			continue;
		put_be32(key, gens[i].gen);
		if (store_db_del(s, txn, s->db_sx_delta, key, SX_GEN_HDR_LEN,
				 NULL, 0) < 0)
			r = -1;
	}
	mdb_cursor_close(c);
	free(gens);
	return r;
}

/* ---- combining ---- */

/* Combines the generations of one level into one of the next. */
static int combine(struct store *s, MDB_txn *txn, const struct sx_gen *gens,
		   size_t ng, unsigned level)
{
	size_t docs = 0;
	for (size_t i = 0; i < ng; i++)
		docs += gens[i].docs;
	struct gen_cursor *g;
	if (gen_cursors_open(s, txn, gens, ng, 0, &g) < 0)
		return -1;
	struct gen_writer w;
	struct list_sink sink = { .gen = &w };
	uint32_t stop;
	bool finished;
	int r = gen_begin(s, txn, level + 1, docs, &w);
	if (r == 0)
		r = move_lists(s, txn, g, ng, 0, &sink, &stop, &finished);
	gen_cursors_close(g, ng);
	buf_free(&w.val);
	for (size_t i = 0; i < ng && r == 0; i++) {
		uint8_t key[SX_GEN_HDR_LEN];
		put_be32(key, gens[i].gen);
		if (store_db_del(s, txn, s->db_sx_delta, key, SX_GEN_HDR_LEN,
				 NULL, 0) < 0)
			r = -1;
	}
	return r;
}

/* After a new generation: combines full levels, then starts a fold if
 * the generations hold max(fold_min, 1/SX_FOLD_RATIO of the others)
 * documents. */
static int gens_settle(struct store *s, MDB_txn *txn)
{
	for (unsigned level = 0; level < 255; level++) {
		struct sx_gen *gens;
		size_t ng;
		if (sx_gens_list(s, txn, &gens, &ng) < 0)
			return -1;
		size_t k = 0;
		for (size_t i = 0; i < ng; i++)
			if (gens[i].level == level)
				gens[k++] = gens[i];
		int r = 0;
		bool full = s->sx_gen_fanout >= 2 && k >= s->sx_gen_fanout;
		if (full)
			r = combine(s, txn, gens, k, level);
		free(gens);
		if (r < 0)
			return -1;
		if (!full)
			break;
	}
	if (s->sx_fold_min == 0)
		return 0;
	uint32_t lo;
	int st = fold_state(s, txn, &lo);
	if (st != 0)
		return st < 0 ? -1 : 0;
	struct sx_gen *gens;
	size_t ng;
	if (sx_gens_list(s, txn, &gens, &ng) < 0)
		return -1;
	uint64_t docs = 0;
	for (size_t i = 0; i < ng; i++)
		docs += gens[i].docs;
	free(gens);
	MDB_stat ms;
	int rc = mdb_stat(txn, s->db_sx_text, &ms);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_stat");
	uint64_t merged = ms.ms_entries > docs ? ms.ms_entries - docs : 0;
	if (docs < s->sx_fold_min || docs * SX_FOLD_RATIO < merged)
		return 0;
	return fold_state_put(s, txn, 0);
}

int sx_gen_write(struct store *s, MDB_txn *txn, const struct acc_entry *list,
		 size_t n, size_t docs)
{
	struct gen_writer w;
	int r = gen_begin(s, txn, 0, docs, &w);
	for (size_t i = 0; i < n && r == 0; i++)
		r = gen_put_list(s, txn, &w, (unsigned)(list[i].key & 0xff),
				 (uint32_t)(list[i].key >> 8), list[i].ids,
				 list[i].n);
	buf_free(&w.val);
	return r < 0 ? -1 : gens_settle(s, txn);
}

/* ---- fold ---- */

struct fold_ctx {
	bool start;		/* start a fold if none is in progress */
	bool done;		/* out: no fold in progress */
};

/* One step: the lists of every generation whose token id is at least
 * the state's, in key order, into sx_post, until a step's worth has
 * moved and the next list has another token id (the state is a token
 * id). */
static int fold_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct fold_ctx *ctx = vctx;
	ctx->done = false;
	uint32_t lo = 0;
	int st = fold_state(s, txn, &lo);
	if (st < 0)
		return -1;
	if (st == 0 && !ctx->start) {
		ctx->done = true;
		return 0;
	}
	struct sx_gen *gens;
	size_t ng;
	if (sx_gens_list(s, txn, &gens, &ng) < 0)
		return -1;
	struct gen_cursor *g;
	int r = gen_cursors_open(s, txn, gens, ng, lo, &g);
	free(gens);
	if (r < 0)
		return -1;
	struct list_sink sink = { .gen = NULL };
	buf_init(&sink.ps.val);
	uint32_t stop = 0;
	bool finished = false;
	int rc = mdb_cursor_open(txn, s->db_sx_post, &sink.post);
	if (rc != 0)
		r = store_mdb_fail(s, rc, "mdb_cursor_open");
	else
		r = sx_post_last(s, sink.post, &sink.ps);
	if (r == 0)
		r = move_lists(s, txn, g, ng, store_sx_debug_fold_step != 0 ?
			       store_sx_debug_fold_step : SX_FOLD_STEP_LISTS,
			       &sink, &stop, &finished);
	if (rc == 0)
		mdb_cursor_close(sink.post);
	sx_post_scratch_free(&sink.ps);
	gen_cursors_close(g, ng);
	if (r == 0 && finished) {
		if (store_db_del(s, txn, s->db_sx_delta, fold_key,
				 SX_FOLD_KEY_LEN, NULL, 0) < 0 ||
		    drop_empty(s, txn) < 0)
			r = -1;
		ctx->done = true;
	} else if (r == 0) {
		r = fold_state_put(s, txn, stop);
	}
	if (r == 0 && store_sx_debug_merge_hook != NULL)
		store_sx_debug_merge_hook();
	return r;
}

int store_sx_fold_step(struct store *s)
{
	struct fold_ctx ctx = { .start = false };
	return store_write(s, fold_txn, &ctx);
}

int store_search_fold(struct store *s, const char **error_r)
{
	s->err = STORE_ERR_NONE;
	/* a fold in progress ends at the last token id; generations made
	 * meanwhile keep their lists below where it began: fold again */
	for (;;) {
		struct fold_ctx ctx = { .start = true };
		if (store_write(s, fold_txn, &ctx) < 0)
			return store_ret(s, -1, error_r);
		if (!ctx.done)
			continue;
		MDB_txn *txn;
		if (store_read_begin(s, &txn) < 0)
			return store_ret(s, -1, error_r);
		struct sx_gen *gens;
		size_t ng;
		int r = sx_gens_list(s, txn, &gens, &ng);
		mdb_txn_abort(txn);
		free(gens);
		if (r < 0)
			return store_ret(s, -1, error_r);
		if (ng == 0)
			return 0;
	}
}
