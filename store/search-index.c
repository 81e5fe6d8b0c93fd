/* The search index in the store's LMDB environment: the hooks that keep it
 * in step with the messages, the vocabulary mirror, and batch merges from
 * the holding area into the postings; see search-index.h. Queries are in
 * search-query.c. */
#include "search-index-private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/log.h"
#include "../common/unicode-fold.h"

/* Documents per merge transaction: bounds the memory of one merge (about
 * 12 bytes per distinct token of each document: some 20 MB) and the size
 * of a transaction, while a large batch rewrites each tail chunk once
 * for many documents (4096 -> 8192: 100k documents merge at 7,500/s
 * instead of 4,800/s). */
#define SX_BATCH_DEFAULT 8192

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

void store_set_search_generations(struct store *s, size_t fanout,
				  size_t fold_min)
{
	s->sx_gen_fanout = fanout;
	s->sx_fold_min = fold_min;
}

static void sx_key_doc(uint8_t key[8], uint64_t id)
{
	store_key_blob(key, id);
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
	/* the held text lives in the holding area, apart from the merged
	 * texts: it is several times their size and short-lived, and
	 * replacing it in place would leave sx_text's pages half empty */
	return store_db_put(s, txn, s->db_sx_pending, key, 8,
			    rec != NULL ? (const void *)rec->data : "",
			    rec != NULL ? rec->len : 0, 0);
}

int store_sx_doc_gone(struct store *s, MDB_txn *txn, uint64_t blob_id)
{
	uint8_t key[8];
	sx_key_doc(key, blob_id);
	/* its postings stay until the chunks are rewritten: a reader finds
	 * no message for it (search-index.h, invariant 3) */
	sx_held_drop(s, blob_id);
	if (store_db_del(s, txn, s->db_sx_text, key, 8, NULL, 0) < 0 ||
	    store_db_del(s, txn, s->db_sx_pending, key, 8, NULL, 0) < 0 ||
	    store_db_del(s, txn, s->db_sx_dirty, key, 8, NULL, 0) < 0 ||
	    store_db_del(s, txn, s->db_sx_blobmsg, key, 8, NULL, 0) < 0)
		return -1;
	return 0;
}

int store_sx_doc_stale(struct store *s, MDB_txn *txn, uint64_t blob_id)
{
	uint8_t key[8];
	MDB_val v;
	sx_key_doc(key, blob_id);
	sx_held_drop(s, blob_id);	/* its cache record changes */
	int r = store_db_get(s, txn, s->db_sx_pending, key, 8, &v);
	if (r < 0)
		return -1;
	/* not held: merged, so its postings name the old text's tokens,
	 * which the next merge will not take out (invariant 3) */
	if (r == 0 &&
	    store_db_put(s, txn, s->db_sx_dirty, key, 8, "", 0, 0) < 0)
		return -1;
	if (store_db_del(s, txn, s->db_sx_text, key, 8, NULL, 0) < 0)
		return -1;
	/* held without text: the next merge extracts it again */
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

double store_sx_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void after_append(struct store *s);

void store_sx_after_append(struct store *s)
{
	double t0 = store_sx_clock();
	after_append(s);
	s->sx_merge_secs += store_sx_clock() - t0;
}

static void after_append(struct store *s)
{
	if (s->sx_merge_threshold == 0)
		return;
	MDB_txn *txn;
	if (store_read_begin(s, &txn) < 0)
		return;
	size_t held = sx_held_count(s, txn);
	static const uint8_t fold_key[SX_FOLD_KEY_LEN] = { 0 };
	MDB_val v;
	bool folding = store_db_get(s, txn, s->db_sx_delta, fold_key,
				    SX_FOLD_KEY_LEN, &v) != 0;
	mdb_txn_abort(txn);
	const char *err;
	/* The append is committed already: a failed merge leaves the
	 * documents held, which queries read. Each append merges a bounded
	 * step, so a large backlog (mail stored while no extractor ran)
	 * drains over several appends instead of stalling the user's
	 * sessions for seconds in one. */
	if (held >= s->sx_merge_threshold &&
	    store_search_merge(s, SX_MERGE_STEP_MAX, 0, NULL, &err) < 0)
		log_warn("store %s: search index merge: %s", s->dir, err);
	/* likewise a fold: one step an append, each a stretch of sx_post;
	 * a failed step leaves the lists in their generations */
	if (folding && store_ret(s, store_sx_fold_step(s), &err) < 0)
		log_warn("store %s: search index fold: %s", s->dir, err);
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

int store_schema_upgrade_4_to_5(struct store *s, MDB_txn *txn)
{
	/* trigram postings and zlib'd texts mean nothing to schema 5: drop
	 * them and hold every blob again, as 2 -> 3 did */
	MDB_dbi dbs[] = { s->db_sx_post, s->db_sx_text, s->db_sx_pending,
			  s->db_sx_blobmsg, s->db_sx_delta };
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		int rc = mdb_drop(txn, dbs[i], 0);
		if (rc != 0)
			return store_mdb_fail(s, rc, "mdb_drop");
	}
	return store_schema_upgrade_2_to_3(s, txn);
}

/* ---- the vocabulary mirror ---- */

void store_sx_close(struct store *s)
{
	if (s->sx_vocab != NULL) {
		sx_vocab_free(s->sx_vocab);
		free(s->sx_vocab);
		s->sx_vocab = NULL;
	}
}

static void vocab_key(uint8_t key[4], uint32_t id)
{
	key[0] = (uint8_t)(id >> 24);
	key[1] = (uint8_t)(id >> 16);
	key[2] = (uint8_t)(id >> 8);
	key[3] = (uint8_t)id;
}

int sx_vocab_sync(struct store *s, MDB_txn *txn)
{
	MDB_stat st;
	int rc = mdb_stat(txn, s->db_sx_vocab, &st);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_stat sx_vocab");
	if (s->sx_vocab != NULL && st.ms_entries < s->sx_vocab->committed)
		store_sx_close(s);	/* cannot shrink: start again */
	if (s->sx_vocab == NULL) {
		s->sx_vocab = xmalloc(sizeof(*s->sx_vocab));
		sx_vocab_init(s->sx_vocab);
	}
	struct sx_vocab *v = s->sx_vocab;
	sx_vocab_truncate(v, v->committed);
	if (st.ms_entries == v->committed)
		return 0;
	sx_vocab_reserve(v, st.ms_entries - v->committed);
	MDB_cursor *c;
	if ((rc = mdb_cursor_open(txn, s->db_sx_vocab, &c)) != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	uint8_t key[4];
	vocab_key(key, v->committed + 1);
	MDB_val k = { 4, key }, val;
	int r = 0;
	for (rc = mdb_cursor_get(c, &k, &val, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &val, MDB_NEXT)) {
		if (k.mv_size != 4 || store_get_be32(k.mv_data) !=
				      v->count + 1 || val.mv_size == 0) {
			r = store_corrupt(s, "search vocabulary");
			break;
		}
		sx_vocab_add(v, val.mv_data, val.mv_size);
	}
	mdb_cursor_close(c);
	if (r == 0 && rc != MDB_NOTFOUND)
		r = store_mdb_fail(s, rc, "mdb_cursor_get sx_vocab");
	if (r < 0) {
		store_sx_close(s);
		return -1;
	}
	v->committed = v->count;
	return 0;
}

/* The id of a token, added to the vocabulary (memory and sx_vocab) if
 * new. 0 on error. */
static uint32_t vocab_id(struct store *s, MDB_txn *txn, const uint8_t *p,
			 size_t len)
{
	struct sx_vocab *v = s->sx_vocab;
	uint32_t id = sx_vocab_find(v, p, len);
	if (id != 0)
		return id;
	if (v->count >= SX_ID_MAX) {
		store_fail(s, STORE_ERR_LIMIT, "search vocabulary full");
		return 0;
	}
	id = sx_vocab_add(v, p, len);
	uint8_t key[4];
	vocab_key(key, id);
	MDB_val k = { 4, key }, val = { len, (void *)p };
	/* ids ascend: appending keeps the pages full */
	int rc = mdb_put(txn, s->db_sx_vocab, &k, &val, MDB_APPEND);
	if (rc != 0) {
		store_mdb_fail(s, rc, "mdb_put sx_vocab");
		return 0;
	}
	return id;
}

/* ---- merge ---- */

struct acc {
	struct acc_entry *e;
	size_t cap, used;
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

static size_t acc_slot(const struct acc *a, uint64_t key)
{
	size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 40) &
		   (a->cap - 1);
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

static void acc_add(struct acc *a, unsigned ns, uint32_t id, uint64_t doc)
{
	uint64_t key = (uint64_t)id << 8 | ns;	/* sx_post's order */
	if ((a->used + 1) * 2 > a->cap)
		acc_grow(a);
	struct acc_entry *e = &a->e[acc_slot(a, key)];
	if (e->key == 0) {
		e->key = key;
		a->used++;
	}
	if (e->n > 0 && e->ids[e->n - 1] == doc)
		return;		/* the token twice in one document */
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 4;
		e->ids = xrealloc(e->ids, e->cap * sizeof(*e->ids));
	}
	e->ids[e->n++] = doc;
}

/* Sorts entries by key (40 bits: id << 8 | ns), least significant
 * byte first: a merge's tens of thousands of lists sort in a few linear
 * passes, where qsort's calls cost 8% of a merge. */
static void sort_entries(struct acc_entry *e, size_t n)
{
	struct acc_entry *tmp = xmalloc(n * sizeof(*tmp));
	uint64_t all = 0;
	for (size_t i = 0; i < n; i++)
		all |= e[i].key;
	for (unsigned shift = 0; shift < 64 && (all >> shift) != 0;
	     shift += 8) {
		size_t count[257] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[((e[i].key >> shift) & 0xff) + 1]++;
		for (unsigned d = 0; d < 256; d++)
			count[d + 1] += count[d];
		for (size_t i = 0; i < n; i++)
			tmp[count[(e[i].key >> shift) & 0xff]++] = e[i];
		memcpy(e, tmp, n * sizeof(*e));
	}
	free(tmp);
}

struct merge_ctx {
	size_t batch;
	size_t merged;
	bool more;		/* held documents remain */
};

static int unpack_held(struct store *s, uint64_t id, const uint8_t *p,
		       size_t len, struct sx_doc *doc)
{
	/* neither can happen unless the disk lies: index nothing, keep it
	 * held, queries use the matcher */
	if (len > 0 && p[0] == SX_TDOC_VERSION) {
		log_warn("store %s: merged text of held blob %llu", s->dir,
			 (unsigned long long)id);
		return 0;
	}
	if (sx_doc_unpack(p, len, doc) < 0) {
		log_warn("store %s: bad search text of blob %llu", s->dir,
			 (unsigned long long)id);
		return 0;
	}
	return 1;
}

/* The text of a held document, extracting it if it has none, unpacked
 * into doc (from the holding area's value itself: no copy of a large
 * record beside the one sx_doc_unpack keeps). 1 with doc, 0 if there is
 * none and none can be made, or it does not unpack. */
static int merge_doc_text(struct store *s, MDB_txn *txn, uint64_t id,
			  struct buf *rec, struct sx_doc *doc)
{
	uint8_t key[8];
	MDB_val v;
	sx_key_doc(key, id);
	buf_clear(rec);
	int r = store_db_get(s, txn, s->db_sx_pending, key, 8, &v);
	if (r < 0)
		return -1;
	/* a text in the store: written by a version before held texts
	 * were kept in memory */
	if (r > 0 && v.mv_size > 0)
		return unpack_held(s, id, v.mv_data, v.mv_size, doc);
	const struct buf *held = sx_held_get(s, id);
	if (held != NULL)
		return unpack_held(s, id, (const uint8_t *)held->data,
				   held->len, doc);
	return sx_extract_held(s, txn, id, rec) ?
		       unpack_held(s, id, (const uint8_t *)rec->data, rec->len,
				   doc) : 0;
}

bool sx_extract_held(struct store *s, MDB_txn *txn, uint64_t id,
		     struct buf *rec)
{
	uint8_t key[8];
	MDB_val v;
	sx_key_doc(key, id);
	buf_clear(rec);
	if (s->sx_extractor == NULL)
		return false;
	struct buf data, cache;
	buf_init(&data);
	buf_init(&cache);
	const char *err;
	if (store_message_read(s, id, &data, &err) < 0) {
		/* a blob that cannot be read now is left held */
		buf_free(&data);
		s->err = STORE_ERR_NONE;
		return false;
	}
	int r = store_db_get(s, txn, s->db_cache, key, 8, &v);
	if (r < 0) {
		buf_free(&data);
		s->err = STORE_ERR_NONE;
		return false;
	}
	if (r > 0)
		buf_append(&cache, v.mv_data, v.mv_size);
	bool ok = store_sx_extract(s, data.data, data.len, &cache, r > 0, rec);
	buf_free(&data);
	buf_free(&cache);
	return ok;
}

/* Turns a held document's string record into units of tokens. */
struct tokenizer {
	struct store *s;
	MDB_txn *txn;
	struct acc *acc;
	uint64_t doc;
	struct buf rec, tmp, codes;
	size_t units;
};

/* One unit: its tokens' ids posted and written to the record, as they
 * come: a 60 MB text part is never an array of ids. */
static int tok_unit(struct tokenizer *t, unsigned ns, const uint8_t *name,
		    size_t name_len, const uint8_t *p, size_t len)
{
	struct sx_unit_writer w;
	buf_clear(&t->codes);
	sx_unit_begin(&w, &t->codes);
	/* the two tokens before, for the pair postings */
	uint32_t id1 = 0, id2 = 0;
	bool word1 = false, word2 = false;
	bool pairs = (SX_PAIR_NS_MASK & (1u << ns)) != 0;
	size_t at = 0;
	while (at < len) {
		bool word;
		size_t n = sx_token_len(p + at, len - at, &word);
		uint32_t id = vocab_id(t->s, t->txn, p + at, n);
		if (id == 0)
			return -1;
		sx_unit_put(&w, id);
		acc_add(t->acc, ns, id, t->doc);
		/* word, separator, word of common tokens (search-index-
		 * private.h) */
		if (pairs && word && !word1 && word2 &&
		    sx_pair_ok(t->s->sx_vocab, id2, id1, id)) {
			uint8_t pk[SX_PAIR_LEN];
			sx_pair_key(pk, id2, id1, id);
			uint32_t pid = vocab_id(t->s, t->txn, pk, SX_PAIR_LEN);
			if (pid == 0)
				return -1;
			acc_add(t->acc, ns, pid, t->doc);
		}
		id2 = id1;
		word2 = word1;
		id1 = id;
		word1 = word;
		at += n;
	}
	sx_unit_end(&w);
	sx_tdoc_unit_codes(&t->rec, ns, name, name_len, &t->codes);
	t->units++;
	return 0;
}

/* Units of a string of units each ended by SX_UNIT_END; empty ones are
 * left out (only an empty needle matches them, and it needs no text). */
static int tok_units(struct tokenizer *t, unsigned ns, struct sx_str s)
{
	size_t at = 0;
	while (at < s.len) {
		const uint8_t *end = memchr(s.p + at, SX_UNIT_END, s.len - at);
		size_t n = end != NULL ? (size_t)(end - (s.p + at)) :
					 s.len - at;
		if (n > 0 && tok_unit(t, ns, NULL, 0, s.p + at, n) < 0)
			return -1;
		at += n + 1;
	}
	return 0;
}

static int tok_doc(struct tokenizer *t, const struct sx_doc *d)
{
	buf_clear(&t->rec);
	sx_tdoc_begin(&t->rec);
	for (unsigned i = 0; i < SX_FIELD_COUNT; i++)
		if (tok_unit(t, i, NULL, 0, d->field[i].p,
			     d->field[i].len) < 0)
			return -1;
	/* "NAME: value" as TEXT sees it; the unit keeps the raw name for
	 * HEADER name, whose value is the unit past fold(name) ": " */
	for (size_t i = 0; i < d->nfields; i++) {
		buf_clear(&t->tmp);
		unicode_fold_utf8(d->fields[i].name.p, d->fields[i].name.len,
				  &t->tmp);
		buf_append(&t->tmp, ": ", 2);
		buf_append(&t->tmp, d->fields[i].value.p,
			   d->fields[i].value.len);
		if (tok_unit(t, SX_NS_HEADER, d->fields[i].name.p,
			     d->fields[i].name.len,
			     (const uint8_t *)t->tmp.data, t->tmp.len) < 0)
			return -1;
	}
	if (tok_units(t, SX_NS_HEADER, d->part_headers) < 0 ||
	    tok_units(t, SX_NS_BODY, d->body_text) < 0)
		return -1;
	return 0;
}

/* A large batch's lists straight into sx_post. */
static int post_list_main(struct store *s, MDB_txn *txn,
			  const struct acc_entry *list, size_t n)
{
	struct post_scratch ps = { 0 };
	buf_init(&ps.val);
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_sx_post, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	int r = sx_post_last(s, c, &ps);
	for (size_t i = 0; i < n && r == 0; i++)
		/* docs were added in ascending order, once each */
		r = sx_post_add(s, txn, c, (unsigned)(list[i].key & 0xff),
				(uint32_t)(list[i].key >> 8), list[i].ids,
				list[i].n, &ps);
	mdb_cursor_close(c);
	sx_post_scratch_free(&ps);
	return r;
}

static int merge_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct merge_ctx *ctx = vctx;
	ctx->merged = 0;
	ctx->more = false;
	if (sx_vocab_sync(s, txn) < 0)
		return -1;
	/* the unit stream's codes assume " " is id 1 */
	if (s->sx_vocab->count == 0 &&
	    vocab_id(s, txn, (const uint8_t *)" ", 1) != SX_ID_SPACE)
		return -1;
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

	/* texts of documents above every merged one go at the end of
	 * sx_text, appended: full pages instead of split ones */
	uint64_t last = 0;
	MDB_cursor *tc;
	if ((rc = mdb_cursor_open(txn, s->db_sx_text, &tc)) != 0) {
		free(docs);
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	}
	if ((rc = mdb_cursor_get(tc, &k, &v, MDB_LAST)) == 0 &&
	    k.mv_size == 8)
		last = store_get_be64(k.mv_data);
	mdb_cursor_close(tc);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		free(docs);
		return store_mdb_fail(s, rc, "mdb_cursor_get");
	}

	struct acc acc;
	struct sx_doc doc;
	struct buf rec;
	struct tokenizer t = { .s = s, .txn = txn, .acc = &acc };
	acc_init(&acc);
	sx_doc_init(&doc);
	buf_init(&rec);
	buf_init(&t.rec);
	buf_init(&t.tmp);
	buf_init(&t.codes);
	int r = 0;
	for (size_t i = 0; i < ndocs && r == 0; i++) {
		r = merge_doc_text(s, txn, docs[i], &rec, &doc);
		if (r <= 0)
			continue;	/* stays held; -1 ends the loop */
		r = 0;
		t.doc = docs[i];
		if (tok_doc(&t, &doc) < 0) {
			r = -1;
			break;
		}
		uint8_t key[8];
		sx_key_doc(key, docs[i]);
		unsigned flags = 0;
		if (docs[i] > last) {
			flags = MDB_APPEND;
			last = docs[i];
		}
		if (store_db_put(s, txn, s->db_sx_text, key, 8, t.rec.data,
				 t.rec.len, flags) < 0 ||
		    store_db_del(s, txn, s->db_sx_pending, key, 8, NULL,
				 0) < 0)
			r = -1;
		/* should the txn fail, the text is made again */
		sx_held_drop(s, docs[i]);
		ctx->merged++;
	}
	sx_doc_free(&doc);
	buf_free(&rec);
	buf_free(&t.rec);
	buf_free(&t.tmp);
	buf_free(&t.codes);
	free(docs);

	if (r == 0 && acc.used > 0) {
		/* in key order: neighbouring keys share pages */
		struct acc_entry *list = xmalloc(acc.used * sizeof(*list));
		size_t n = 0;
		for (size_t i = 0; i < acc.cap; i++)
			if (acc.e[i].key != 0)
				list[n++] = acc.e[i];
		sort_entries(list, n);
		if (ctx->merged < SX_GEN_DOCS_MAX)
			r = sx_gen_write(s, txn, list, n, ctx->merged);
		else
			r = post_list_main(s, txn, list, n);
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
		int r = store_write(s, merge_txn, &ctx);
		/* the mirror follows the outcome: entries of a merge that
		 * did not commit go at the next sync */
		if (s->sx_vocab != NULL) {
			if (r < 0)
				sx_vocab_truncate(s->sx_vocab,
						  s->sx_vocab->committed);
			else
				s->sx_vocab->committed = s->sx_vocab->count;
		}
		if (r < 0) {
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
	return max == 0 ? store_search_fold(s, error_r) : 0;
}

/* ---- figures ---- */

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
	st->docs = ms.ms_entries;	/* merged; held ones with text below */
	st->vocab_pages = db_pages(txn, s->db_sx_vocab, &ms);
	st->vocab_entries = ms.ms_entries;
	st->other_pages = db_pages(txn, s->db_sx_pending, &ms);
	st->held = ms.ms_entries;
	st->other_pages += db_pages(txn, s->db_sx_dirty, &ms);
	st->dirty = ms.ms_entries;
	st->other_pages += db_pages(txn, s->db_sx_blobmsg, &ms);
	uint64_t delta_pages = db_pages(txn, s->db_sx_delta, &ms);
	st->post_pages += delta_pages;
	st->delta_bytes = delta_pages * ms.ms_psize;
	static const uint8_t fold_key[SX_FOLD_KEY_LEN] = { 0 };
	MDB_val fv;
	st->folding = store_db_get(s, txn, s->db_sx_delta, fold_key,
				   SX_FOLD_KEY_LEN, &fv) > 0;
	st->post_chunks += ms.ms_entries - (st->folding ? 1 : 0);
	struct sx_gen *gens;
	if (sx_gens_list(s, txn, &gens, &st->gens) == 0) {
		for (size_t i = 0; i < st->gens; i++)
			if (gens[i].level > st->gen_level_max)
				st->gen_level_max = gens[i].level;
		free(gens);
	}
	st->post_bytes = st->post_pages * ms.ms_psize;
	st->text_bytes = st->text_pages * ms.ms_psize;
	st->vocab_bytes = st->vocab_pages * ms.ms_psize;
	if (s->sx_vocab != NULL)
		st->vocab_mem = sx_vocab_bytes(s->sx_vocab);
	st->extract_secs = s->sx_extract_secs;
	st->merge_secs = s->sx_merge_secs;
	/* held documents without text */
	MDB_cursor *c;
	if (mdb_cursor_open(txn, s->db_sx_pending, &c) == 0) {
		MDB_val k, v;
		int rc;
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			if (v.mv_size == 0 && k.mv_size == 8 &&
			    sx_held_get(s, store_get_be64(k.mv_data)) == NULL)
				st->held_no_text++;
		mdb_cursor_close(c);
	}
	st->docs += st->held - st->held_no_text;
	mdb_txn_abort(txn);
	return 0;
}

/* ---- test hooks ---- */

struct debug_post {
	unsigned ns;
	uint32_t tok;
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
	int r = sx_post_last(s, c, &ps);
	if (r == 0)
		r = sx_post_add(s, txn, c, d->ns, d->tok, d->ids, d->n, &ps);
	mdb_cursor_close(c);
	sx_post_scratch_free(&ps);
	return r;
}

int store_sx_debug_post_add(struct store *s, unsigned ns, uint32_t tok,
			    const uint64_t *ids, size_t n,
			    const char **error_r)
{
	struct debug_post d = { ns, tok, ids, n };
	return store_ret(s, store_write(s, debug_post_txn, &d), error_r);
}

int store_sx_debug_post_read(struct store *s, unsigned ns, uint32_t tok,
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
	uint64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	*chunks_r = 0;
	*max_value_r = 0;
	uint8_t key[SX_PKEY_LEN];
	sx_key_post(key, ns, tok, 0);
	MDB_val k = { SX_PKEY_LEN, key }, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     rc == 0 && sx_same_list(&k, key) && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		(*chunks_r)++;
		if (v.mv_size > *max_value_r)
			*max_value_r = v.mv_size;
		if (sx_chunk_decode(v.mv_data, v.mv_size,
				    store_get_be64((uint8_t *)k.mv_data +
						   SX_PPREFIX_LEN),
				    &ids, &n, &cap) < 0)
			r = store_corrupt(s, "search posting");
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	*ids_r = ids;
	*n_r = n;
	return store_ret(s, r, error_r);
}
