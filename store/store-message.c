/* Message records, UID sets, append and batch append. */
#include "store-private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void store_set_cache_builder(struct store *s, store_cache_builder *fn,
			     void *ctx)
{
	s->cache_builder = fn;
	s->cache_ctx = ctx;
}

static int cmp_range(const void *a, const void *b)
{
	const struct store_uidrange *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

void store_ranges_make(const struct store_uidset *set, uint32_t uidnext,
		       struct store_ranges *out)
{
	out->n = 0;
	out->r = NULL;
	if (uidnext <= 1)
		return;
	uint32_t max = uidnext - 1;
	if (set == NULL) {
		out->r = xmalloc(sizeof(*out->r));
		out->r[0].first = 1;
		out->r[0].last = max;
		out->n = 1;
		return;
	}
	out->r = xmalloc((set->count ? set->count : 1) * sizeof(*out->r));
	for (size_t i = 0; i < set->count; i++) {
		uint32_t a = set->ranges[i].first, b = set->ranges[i].last;
		if (a > b) {
			uint32_t t = a;
			a = b;
			b = t;
		}
		if (a == 0)
			a = 1;
		/* UIDs at or above UIDNEXT do not exist yet; clamping also
		 * stops a copy into the same mailbox from seeing its own
		 * new messages */
		if (b > max)
			b = max;
		if (a > b)
			continue;
		out->r[out->n].first = a;
		out->r[out->n].last = b;
		out->n++;
	}
	qsort(out->r, out->n, sizeof(*out->r), cmp_range);
	size_t k = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (k > 0 && (uint64_t)out->r[i].first <=
			     (uint64_t)out->r[k - 1].last + 1) {
			if (out->r[i].last > out->r[k - 1].last)
				out->r[k - 1].last = out->r[i].last;
			continue;
		}
		out->r[k++] = out->r[i];
	}
	out->n = k;
}

int store_msg_walk(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		   const struct store_ranges *ranges, store_walk_fn *fn,
		   void *ctx)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_messages, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	int r = 0;
	struct store_rec_message m;
	for (size_t i = 0; i < ranges->n && r == 0; i++) {
		uint8_t key[8];
		store_key_message(key, mailbox_id, ranges->r[i].first);
		MDB_val k = { 8, key }, v;
		for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (k.mv_size != 8 ||
			    store_get_be32(k.mv_data) != mailbox_id)
				break;
			uint32_t uid = store_get_be32((uint8_t *)k.mv_data + 4);
			if (uid > ranges->r[i].last)
				break;
			if (store_rec_message_decode(v.mv_data, v.mv_size,
						     &m) < 0) {
				r = store_corrupt(s, "message");
				break;
			}
			r = fn(s, c, uid, &m, ctx);
			if (r != 0)
				break;
		}
		if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
			r = store_mdb_fail(s, rc, "mdb_cursor_get");
	}
	mdb_cursor_close(c);
	return r < 0 ? -1 : 0;
}

void store_mb_count_add(struct store_rec_mailbox *mb, uint32_t uid,
			const struct store_rec_message *m)
{
	mb->messages++;
	mb->size += m->size;
	if (!(m->flags & STORE_FLAG_SEEN))
		mb->unseen++;
	if (uid >= mb->first_recent)
		mb->recent++;
}

void store_mb_count_sub(struct store_rec_mailbox *mb, uint32_t uid,
			const struct store_rec_message *m)
{
	mb->messages--;
	mb->size -= m->size;
	if (!(m->flags & STORE_FLAG_SEEN))
		mb->unseen--;
	if (uid >= mb->first_recent)
		mb->recent--;
}

int store_msg_put(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		  uint32_t uid, const struct store_rec_message *old,
		  const struct store_rec_message *m)
{
	uint8_t key[8];
	struct buf b;
	store_key_message(key, mailbox_id, uid);
	buf_init(&b);
	store_rec_message_encode(m, &b);
	int r = store_db_put(s, txn, s->db_messages, key, 8, b.data, b.len, 0);
	buf_free(&b);
	if (r < 0)
		return -1;
	/* the UID index: 4 bytes a message, what SELECT reads; a rewrite
	 * keeps its entry, and its unseen entry unless \Seen changed (a
	 * lookup per message would double the cost of a big STORE) */
	if (old == NULL) {
		MDB_val k = { 4, key }, v = { 4, key + 4 };
		int rc = mdb_put(txn, s->db_uids, &k, &v, MDB_NODUPDATA);
		if (rc != 0 && rc != MDB_KEYEXIST)
			return store_mdb_fail(s, rc, "mdb_put uid index");
	}
	bool unseen = !(m->flags & STORE_FLAG_SEEN);
	if ((old == NULL ? unseen : unseen != !(old->flags & STORE_FLAG_SEEN)) &&
	    store_unseen_set(s, txn, mailbox_id, uid, unseen) < 0)
		return -1;
	/* search index: where this blob is (search-index.h) */
	return store_sx_msg_put(s, txn, mailbox_id, uid, m->blob_id);
}

int store_msg_get(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		  uint32_t uid, struct store_rec_message *m)
{
	uint8_t key[8];
	MDB_val v;
	store_key_message(key, mailbox_id, uid);
	int r = store_db_get(s, txn, s->db_messages, key, 8, &v);
	if (r <= 0)
		return r;
	if (store_rec_message_decode(v.mv_data, v.mv_size, m) < 0)
		return store_corrupt(s, "message");
	return 1;
}

static int collect_fn(struct store *s, MDB_cursor *c, uint32_t uid,
		      struct store_rec_message *m, void *vctx)
{
	(void)s;
	(void)c;
	struct store_uidlist *l = vctx;
	if (l->only_deleted && !(m->flags & STORE_FLAG_DELETED))
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->uids = xrealloc(l->uids, l->cap * sizeof(uint32_t));
	}
	l->uids[l->n++] = uid;
	return 0;
}

int store_msg_collect(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		      const struct store_uidset *set, uint32_t uidnext,
		      struct store_uidlist *l)
{
	struct store_ranges ranges;
	store_ranges_make(set, uidnext, &ranges);
	int r = store_msg_walk(s, txn, mailbox_id, &ranges, collect_fn, l);
	free(ranges.r);
	return r;
}

int store_msg_remove(struct store *s, MDB_txn *txn,
		     struct store_rec_mailbox *mb, uint32_t uid,
		     const struct store_rec_message *m)
{
	uint8_t key[8];
	store_key_message(key, mb->id, uid);
	if (store_db_del(s, txn, s->db_messages, key, 8, NULL, 0) < 0 ||
	    store_db_del(s, txn, s->db_uids, key, 4, key + 4, 4) < 0 ||
	    (!(m->flags & STORE_FLAG_SEEN) &&
	     store_unseen_set(s, txn, mb->id, uid, false) < 0) ||
	    store_blobref_change(s, txn, m->blob_id, -1) < 0)
		return -1;
	store_mb_count_sub(mb, uid, m);
	return 0;
}

/* ---- append ---- */

struct append_ctx {
	uint32_t mailbox_id;
	const struct store_append_msg *msgs;
	struct store_blob_new *blobs;
	size_t n;
	uint32_t *uids;
	int64_t now;
};

static int append_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct append_ctx *ctx = vctx;
	struct store_rec_mailbox mb;
	struct store_kwtable kw;
	struct store_rec_meta meta;
	if (store_mbox_get_selectable(s, txn, ctx->mailbox_id, &mb) < 0)
		return -1;
	if ((uint64_t)mb.uidnext + ctx->n > UINT32_MAX)
		return store_fail(s, STORE_ERR_LIMIT, "mailbox %s: UIDs "
				  "exhausted", mb.name);
	if (store_kw_load(s, txn, mb.id, &kw) < 0)
		return -1;
	int r = 0;
	mb.highestmodseq++;
	for (size_t i = 0; i < ctx->n && r == 0; i++) {
		const struct store_append_msg *a = &ctx->msgs[i];
		struct store_blob_new *b = &ctx->blobs[i];
		struct store_rec_message m = {
			.blob_id = b->id,
			.internaldate = a->internaldate ? a->internaldate :
					ctx->now,
			.internaldate_tz = (int16_t)(a->internaldate ?
						     a->internaldate_tz : 0),
			.savedate = ctx->now,
			.size = b->size,
			.modseq = mb.highestmodseq,
			.flags = (uint8_t)(a->flags & STORE_FLAGS_STORED),
		};
		uint32_t uid = mb.uidnext++;
		if (store_kw_resolve(s, txn, &kw, &mb, a->keywords,
				     a->nkeywords, true, m.keywords,
				     &m.nkeywords) < 0 ||
		    store_msg_put(s, txn, mb.id, uid, NULL, &m) < 0 ||
		    store_blobref_change(s, txn, b->id, 1) < 0) {
			r = -1;
			break;
		}
		if (b->have_cache) {
			uint8_t key[8];
			store_key_blob(key, b->id);
			r = store_db_put(s, txn, s->db_cache, key, 8,
					 b->cache.data, b->cache.len, 0);
		}
		/* search index: held until the next merge, its text kept in
		 * memory once this commits (search-index.h) */
		if (r == 0) {
			r = store_sx_doc_add(s, txn, b->id, NULL);
			b->sx_added = true;
		}
		store_mb_count_add(&mb, uid, &m);
		ctx->uids[i] = uid;
	}
	store_kw_free(&kw);
	if (r < 0 || store_mbox_put(s, txn, &mb) < 0 ||
	    store_meta_get(s, txn, &meta) < 0)
		return -1;
	if (meta.next_blob < s->next_blob) {
		meta.next_blob = s->next_blob;
		return store_meta_put(s, txn, &meta);
	}
	return 0;
}

int store_append_batch(struct store *s, uint32_t mailbox_id,
		       const struct store_append_msg *msgs, size_t n,
		       unsigned flags, uint32_t *uids_r, const char **error_r)
{
	s->err = STORE_ERR_NONE;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (msgs[i].internaldate_tz < -STORE_TZ_MIN_MAX ||
		    msgs[i].internaldate_tz > STORE_TZ_MIN_MAX)
			return store_ret(s, store_fail(s, STORE_ERR_INVALID,
					 "zone offset out of range"), error_r);
	bool use_syncfs = (flags & STORE_BATCH_SYNCFS) != 0;
	struct store_blob_new *blobs = xcalloc(n, sizeof(*blobs));
	int r = 0;
	size_t written = 0;
	for (; written < n; written++) {
		if (store_blob_write(s, &msgs[written], &blobs[written],
				     !use_syncfs) < 0) {
			r = -1;
			written++;	/* its temp name may exist */
			break;
		}
	}
	if (r == 0)
		r = store_blob_install(s, blobs, n, use_syncfs);
	if (r == 0) {
		struct append_ctx ctx = {
			.mailbox_id = mailbox_id, .msgs = msgs,
			.blobs = blobs, .n = n, .uids = uids_r,
			.now = (int64_t)time(NULL),
		};
		r = store_write(s, append_txn, &ctx);
	}
	if (r < 0) {
		store_blob_discard(s, blobs, written);
	} else {
		for (size_t i = 0; i < n; i++)
			if (blobs[i].sx_added && blobs[i].have_sxdoc)
				store_sx_held_text(s, blobs[i].id,
						   &blobs[i].sxdoc);
		store_blob_free(blobs, n);
	}
	free(blobs);
	if (r == 0)
		store_sx_after_append(s);	/* search index: batch merge */
	return store_ret(s, r, error_r);
}

int store_append(struct store *s, uint32_t mailbox_id,
		 const struct store_append_msg *msg, uint32_t *uid_r,
		 const char **error_r)
{
	return store_append_batch(s, mailbox_id, msg, 1, 0, uid_r, error_r);
}

/* ---- reading ---- */

struct iter_ctx {
	struct store_rec_mailbox mb;
	struct store_kwtable kw;
	store_message_cb *cb;
	void *cbctx;
};

static int iter_fn(struct store *s, MDB_cursor *c, uint32_t uid,
		   struct store_rec_message *m, void *vctx)
{
	(void)c;
	struct iter_ctx *ctx = vctx;
	const char *kw[STORE_MESSAGE_KEYWORDS_MAX];
	for (uint16_t i = 0; i < m->nkeywords; i++) {
		if (m->keywords[i] >= ctx->kw.count)
			return store_corrupt(s, "message keyword");
		kw[i] = ctx->kw.names[m->keywords[i]];
	}
	struct store_message msg = {
		.uid = uid,
		.blob_id = m->blob_id,
		.internaldate = m->internaldate,
		.internaldate_tz = m->internaldate_tz,
		.savedate = m->savedate,
		.size = m->size,
		.modseq = m->modseq,
		.flags = m->flags |
			 (uid >= ctx->mb.first_recent ? STORE_FLAG_RECENT : 0),
		.nkeywords = m->nkeywords,
		.keywords = kw,
	};
	return ctx->cb(ctx->cbctx, &msg) != 0 ? 1 : 0;
}

int store_message_iter(struct store *s, uint32_t mailbox_id,
		       const struct store_uidset *set, store_message_cb *cb,
		       void *cbctx, const char **error_r)
{
	MDB_txn *txn;
	struct iter_ctx ctx = { .cb = cb, .cbctx = cbctx };
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	int r = store_mbox_get_selectable(s, txn, mailbox_id, &ctx.mb);
	if (r == 0)
		r = store_kw_load(s, txn, mailbox_id, &ctx.kw);
	if (r == 0) {
		struct store_ranges ranges;
		store_ranges_make(set, ctx.mb.uidnext, &ranges);
		r = store_msg_walk(s, txn, mailbox_id, &ranges, iter_fn, &ctx);
		free(ranges.r);
		store_kw_free(&ctx.kw);
	}
	mdb_txn_abort(txn);
	return store_ret(s, r, error_r);
}

/* ---- cache ---- */

struct cache_ctx {
	uint64_t blob_id;
	const void *data;
	size_t len;
};

static int cache_put_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct cache_ctx *ctx = vctx;
	uint8_t key[8];
	MDB_val v;
	store_key_blob(key, ctx->blob_id);
	int r = store_db_get(s, txn, s->db_blobrefs, key, 8, &v);
	if (r <= 0)
		return r < 0 ? -1 : store_fail(s, STORE_ERR_NOTFOUND,
					       "no such message");
	if (store_db_put(s, txn, s->db_cache, key, 8, ctx->data, ctx->len,
			 0) < 0)
		return -1;
	/* search index: the text came from the old record (invariant 2) */
	return store_sx_doc_stale(s, txn, ctx->blob_id);
}

int store_cache_put(struct store *s, uint64_t blob_id, const void *data,
		    size_t len, const char **error_r)
{
	struct cache_ctx ctx = { blob_id, data, len };
	return store_ret(s, store_write(s, cache_put_txn, &ctx), error_r);
}

int store_cache_get(struct store *s, uint64_t blob_id, struct buf *out,
		    const char **error_r)
{
	MDB_txn *txn;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	uint8_t key[8];
	MDB_val v;
	store_key_blob(key, blob_id);
	int r = store_db_get(s, txn, s->db_cache, key, 8, &v);
	if (r > 0)
		buf_append(out, v.mv_data, v.mv_size);
	mdb_txn_abort(txn);
	return store_ret(s, r, error_r);
}
