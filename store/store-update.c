/* Changing messages: flags, copy, move, expunge, and the whole-mailbox
 * operations behind DELETE and the INBOX rename. Every change takes a new
 * MODSEQ of its mailbox (RFC 7162); expunges raise HIGHESTMODSEQ too. */
#include "store-private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void store_flags_result_free(struct store_flags_result *r)
{
	free(r->changed);
	free(r->modified);
	memset(r, 0, sizeof(*r));
}

void store_uidmap_free(struct store_uidmap *m)
{
	free(m->src);
	free(m->dst);
	memset(m, 0, sizeof(*m));
}

static void kw_apply(struct store_rec_message *m, enum store_flags_mode mode,
		     const uint16_t *ids, uint16_t n, bool *overflow)
{
	uint16_t out[STORE_MESSAGE_KEYWORDS_MAX];
	uint16_t k = 0, i = 0, j = 0;
	*overflow = false;
	if (mode == STORE_FLAGS_REPLACE) {
		memcpy(m->keywords, ids, n * sizeof(uint16_t));
		m->nkeywords = n;
		return;
	}
	/* merge of two ascending lists */
	while (i < m->nkeywords || j < n) {
		bool take_a = j >= n ||
			      (i < m->nkeywords && m->keywords[i] < ids[j]);
		bool both = i < m->nkeywords && j < n &&
			    m->keywords[i] == ids[j];
		uint16_t v;
		if (both) {
			v = ids[j];
			i++;
			j++;
			if (mode == STORE_FLAGS_REMOVE)
				continue;
		} else if (take_a) {
			v = m->keywords[i++];
		} else {
			v = ids[j++];
			if (mode == STORE_FLAGS_REMOVE)
				continue;
		}
		if (k == STORE_MESSAGE_KEYWORDS_MAX) {
			*overflow = true;
			return;
		}
		out[k++] = v;
	}
	memcpy(m->keywords, out, k * sizeof(uint16_t));
	m->nkeywords = k;
}

struct flags_ctx {
	uint32_t mailbox_id;
	const struct store_uidset *set;
	const struct store_flags_req *req;
	struct store_flags_result res;
	size_t cap_changed, cap_modified;
};

static int flags_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct flags_ctx *ctx = vctx;
	const struct store_flags_req *req = ctx->req;
	store_flags_result_free(&ctx->res);
	ctx->cap_changed = ctx->cap_modified = 0;

	struct store_rec_mailbox mb;
	struct store_kwtable kw;
	struct store_uidlist l = { 0 };
	uint16_t ids[STORE_MESSAGE_KEYWORDS_MAX];
	uint16_t nids;
	if (store_mbox_get_selectable(s, txn, ctx->mailbox_id, &mb) < 0 ||
	    store_kw_load(s, txn, mb.id, &kw) < 0)
		return -1;
	/* removing a keyword the mailbox never had is a no-op, not a new
	 * entry in its table */
	int r = store_kw_resolve(s, txn, &kw, &mb, req->keywords,
				 req->nkeywords,
				 req->mode != STORE_FLAGS_REMOVE, ids, &nids);
	store_kw_free(&kw);
	if (r < 0 || store_msg_collect(s, txn, mb.id, ctx->set, mb.uidnext,
				       &l) < 0) {
		free(l.uids);
		return -1;
	}
	uint64_t modseq = mb.highestmodseq + 1;
	uint8_t fl = (uint8_t)(req->flags & STORE_FLAGS_STORED);
	for (size_t i = 0; i < l.n && r == 0; i++) {
		struct store_rec_message m, old;
		uint32_t uid = l.uids[i];
		if (store_msg_get(s, txn, mb.id, uid, &m) <= 0) {
			r = store_corrupt(s, "message");
			break;
		}
		if (req->unchangedsince != 0 && m.modseq > req->unchangedsince) {
			if (ctx->res.nmodified == ctx->cap_modified) {
				ctx->cap_modified = ctx->cap_modified ?
						    ctx->cap_modified * 2 : 16;
				ctx->res.modified = xrealloc(ctx->res.modified,
					ctx->cap_modified * sizeof(uint32_t));
			}
			ctx->res.modified[ctx->res.nmodified++] = uid;
			continue;
		}
		old = m;
		switch (req->mode) {
		case STORE_FLAGS_ADD: m.flags |= fl; break;
		case STORE_FLAGS_REMOVE: m.flags &= (uint8_t)~fl; break;
		case STORE_FLAGS_REPLACE: m.flags = fl; break;
		}
		bool overflow;
		kw_apply(&m, req->mode, ids, nids, &overflow);
		if (overflow) {
			r = store_fail(s, STORE_ERR_LIMIT,
				       "too many keywords on a message");
			break;
		}
		if (m.flags == old.flags && m.nkeywords == old.nkeywords &&
		    memcmp(m.keywords, old.keywords,
			   m.nkeywords * sizeof(uint16_t)) == 0)
			continue;
		m.modseq = modseq;
		store_mb_count_sub(&mb, uid, &old);
		store_mb_count_add(&mb, uid, &m);
		if (store_msg_put(s, txn, mb.id, uid, &old, &m) < 0) {
			r = -1;
			break;
		}
		if (ctx->res.nchanged == ctx->cap_changed) {
			ctx->cap_changed = ctx->cap_changed ?
					   ctx->cap_changed * 2 : 16;
			ctx->res.changed = xrealloc(ctx->res.changed,
				ctx->cap_changed * sizeof(*ctx->res.changed));
		}
		ctx->res.changed[ctx->res.nchanged++] =
			(struct store_flags_change){
				uid, m.flags | (uid >= mb.first_recent ?
						STORE_FLAG_RECENT : 0),
				modseq };
	}
	free(l.uids);
	if (r < 0)
		return -1;
	if (ctx->res.nchanged > 0)
		mb.highestmodseq = modseq;
	return store_mbox_put(s, txn, &mb);
}

int store_flags_set(struct store *s, uint32_t mailbox_id,
		    const struct store_uidset *set,
		    const struct store_flags_req *req,
		    struct store_flags_result *result_r, const char **error_r)
{
	struct flags_ctx ctx = { .mailbox_id = mailbox_id, .set = set,
				 .req = req };
	int r = store_write(s, flags_txn, &ctx);
	if (r < 0)
		store_flags_result_free(&ctx.res);
	*result_r = ctx.res;
	return store_ret(s, r, error_r);
}

/* ---- copy and move ---- */

struct copy_ctx {
	uint32_t src_id, dst_id;
	const struct store_uidset *set;
	bool move;
	struct store_uidmap map;
};

static int copy_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct copy_ctx *ctx = vctx;
	store_uidmap_free(&ctx->map);
	struct store_rec_mailbox src, dstrec, *dst = &dstrec;
	struct store_kwtable skw, dkw;
	struct store_uidlist l = { 0 };
	if (store_mbox_get_selectable(s, txn, ctx->src_id, &src) < 0 ||
	    store_mbox_get_selectable(s, txn, ctx->dst_id, &dstrec) < 0)
		return -1;
	if (ctx->src_id == ctx->dst_id)
		dst = &src;	/* one record, updated once */
	if (store_msg_collect(s, txn, src.id, ctx->set, src.uidnext, &l) < 0)
		return -1;
	if (l.n == 0) {
		free(l.uids);
		return 0;
	}
	if ((uint64_t)dst->uidnext + l.n > UINT32_MAX) {
		free(l.uids);
		return store_fail(s, STORE_ERR_LIMIT, "mailbox %s: UIDs "
				  "exhausted", dst->name);
	}
	if (store_kw_load(s, txn, src.id, &skw) < 0) {
		free(l.uids);
		return -1;
	}
	if (store_kw_load(s, txn, dst->id, &dkw) < 0) {
		store_kw_free(&skw);
		free(l.uids);
		return -1;
	}
	ctx->map.src = xmalloc(l.n * sizeof(uint32_t));
	ctx->map.dst = xmalloc(l.n * sizeof(uint32_t));
	int64_t now = (int64_t)time(NULL);
	uint64_t dst_modseq = dst->highestmodseq + 1;
	int r = 0;
	for (size_t i = 0; i < l.n && r == 0; i++) {
		struct store_rec_message m;
		uint32_t uid = l.uids[i];
		if (store_msg_get(s, txn, src.id, uid, &m) <= 0) {
			r = store_corrupt(s, "message");
			break;
		}
		struct store_rec_message n = m;
		/* keywords by name: the ids belong to each mailbox */
		const char *names[STORE_MESSAGE_KEYWORDS_MAX];
		for (uint16_t k = 0; k < m.nkeywords; k++) {
			if (m.keywords[k] >= skw.count) {
				r = store_corrupt(s, "message keyword");
				break;
			}
			names[k] = skw.names[m.keywords[k]];
		}
		if (r < 0 ||
		    store_kw_resolve(s, txn, &dkw, dst, names, m.nkeywords,
				     true, n.keywords, &n.nkeywords) < 0) {
			r = -1;
			break;
		}
		n.modseq = dst_modseq;
		n.savedate = now;
		uint32_t nuid = dst->uidnext++;
		if (store_msg_put(s, txn, dst->id, nuid, NULL, &n) < 0) {
			r = -1;
			break;
		}
		store_mb_count_add(dst, nuid, &n);
		/* a move hands its reference over; a copy adds one */
		if (ctx->move) {
			uint8_t key[8];
			store_key_message(key, src.id, uid);
			if (store_db_del(s, txn, s->db_messages, key, 8, NULL,
					 0) < 0 ||
			    store_db_del(s, txn, s->db_uids, key, 4, key + 4,
					 4) < 0 ||
			    (!(m.flags & STORE_FLAG_SEEN) &&
			     store_unseen_set(s, txn, src.id, uid, false) < 0)) {
				r = -1;
				break;
			}
			store_mb_count_sub(&src, uid, &m);
		} else if (store_blobref_change(s, txn, m.blob_id, 1) < 0) {
			r = -1;
			break;
		}
		ctx->map.src[ctx->map.count] = uid;
		ctx->map.dst[ctx->map.count++] = nuid;
	}
	store_kw_free(&skw);
	store_kw_free(&dkw);
	free(l.uids);
	if (r < 0)
		return -1;
	dst->highestmodseq = dst_modseq;
	if (ctx->move && dst != &src)
		src.highestmodseq++;
	if (store_mbox_put(s, txn, &src) < 0)
		return -1;
	return dst != &src ? store_mbox_put(s, txn, dst) : 0;
}

static int copy_or_move(struct store *s, uint32_t src_id,
			const struct store_uidset *set, uint32_t dst_id,
			bool move, struct store_uidmap *map_r,
			const char **error_r)
{
	struct copy_ctx ctx = { .src_id = src_id, .dst_id = dst_id,
				.set = set, .move = move };
	int r = store_write(s, copy_txn, &ctx);
	if (r < 0)
		store_uidmap_free(&ctx.map);
	*map_r = ctx.map;
	return store_ret(s, r, error_r);
}

int store_copy(struct store *s, uint32_t src_id,
	       const struct store_uidset *set, uint32_t dst_id,
	       struct store_uidmap *map_r, const char **error_r)
{
	return copy_or_move(s, src_id, set, dst_id, false, map_r, error_r);
}

int store_move(struct store *s, uint32_t src_id,
	       const struct store_uidset *set, uint32_t dst_id,
	       struct store_uidmap *map_r, const char **error_r)
{
	return copy_or_move(s, src_id, set, dst_id, true, map_r, error_r);
}

/* ---- expunge ---- */

struct expunge_ctx {
	uint32_t mailbox_id;
	const struct store_uidset *set;
	unsigned flags;
	struct store_uidlist l;
};

static int expunge_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct expunge_ctx *ctx = vctx;
	struct store_rec_mailbox mb;
	free(ctx->l.uids);
	memset(&ctx->l, 0, sizeof(ctx->l));
	ctx->l.only_deleted = !(ctx->flags & STORE_EXPUNGE_ANY);
	if (store_mbox_get_selectable(s, txn, ctx->mailbox_id, &mb) < 0 ||
	    store_msg_collect(s, txn, mb.id, ctx->set, mb.uidnext,
			      &ctx->l) < 0)
		return -1;
	if (ctx->l.n == 0)
		return 0;
	for (size_t i = 0; i < ctx->l.n; i++) {
		struct store_rec_message m;
		if (store_msg_get(s, txn, mb.id, ctx->l.uids[i], &m) <= 0)
			return store_corrupt(s, "message");
		if (store_msg_remove(s, txn, &mb, ctx->l.uids[i], &m) < 0)
			return -1;
	}
	mb.highestmodseq++;
	return store_mbox_put(s, txn, &mb);
}

int store_expunge(struct store *s, uint32_t mailbox_id,
		  const struct store_uidset *set, unsigned flags,
		  uint32_t **uids_r, size_t *nuids_r, const char **error_r)
{
	struct expunge_ctx ctx = { .mailbox_id = mailbox_id, .set = set,
				   .flags = flags };
	int r = store_write(s, expunge_txn, &ctx);
	if (r < 0) {
		free(ctx.l.uids);
		ctx.l.uids = NULL;
		ctx.l.n = 0;
	}
	if (uids_r != NULL)
		*uids_r = ctx.l.uids;
	else
		free(ctx.l.uids);
	if (nuids_r != NULL)
		*nuids_r = ctx.l.n;
	return store_ret(s, r, error_r);
}

/* ---- whole mailboxes ---- */

static int drop_keywords(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
			 uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		uint8_t key[6];
		store_key_keyword(key, mailbox_id, i);
		if (store_db_del(s, txn, s->db_keywords, key, 6, NULL, 0) < 0)
			return -1;
	}
	return 0;
}

int store_mbox_purge(struct store *s, MDB_txn *txn,
		     struct store_rec_mailbox *mb)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_messages, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	uint8_t key[8];
	store_key_message(key, mb->id, 0);
	MDB_val k = { 8, key }, v;
	int r = 0;
	/* each round seeks the mailbox's first message again, so nothing
	 * depends on where a delete leaves the cursor */
	for (;;) {
		struct store_rec_message m;
		k.mv_size = 8;
		k.mv_data = key;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc != 0)
			break;
		if (k.mv_size != 8 || store_get_be32(k.mv_data) != mb->id)
			break;
		if (store_rec_message_decode(v.mv_data, v.mv_size, &m) < 0) {
			r = store_corrupt(s, "message");
			break;
		}
		rc = mdb_cursor_del(c, 0);
		if (rc != 0) {
			r = store_mdb_fail(s, rc, "mdb_cursor_del");
			break;
		}
		if (store_blobref_change(s, txn, m.blob_id, -1) < 0) {
			r = -1;
			break;
		}
	}
	if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
		r = store_mdb_fail(s, rc, "mdb_cursor_get");
	mdb_cursor_close(c);
	if (r < 0)
		return -1;
	if (store_db_del(s, txn, s->db_uids, key, 4, NULL, 0) < 0 ||
	    store_unseen_drop_mailbox(s, txn, mb->id) < 0 ||
	    drop_keywords(s, txn, mb->id, mb->nkeywords) < 0)
		return -1;
	mb->messages = mb->unseen = mb->recent = 0;
	mb->size = 0;
	mb->nkeywords = 0;
	mb->highestmodseq++;
	return 0;
}

int store_mbox_move_all(struct store *s, MDB_txn *txn,
			struct store_rec_mailbox *src,
			struct store_rec_mailbox *dst)
{
	struct store_uidlist l = { 0 };
	if (store_msg_collect(s, txn, src->id, NULL, src->uidnext, &l) < 0)
		return -1;
	/* the keyword table moves as is, so ids stay valid */
	struct store_kwtable kw;
	if (store_kw_load(s, txn, src->id, &kw) < 0) {
		free(l.uids);
		return -1;
	}
	/* UIDs are kept (the new mailbox has its own UIDVALIDITY); INBOX
	 * keeps its UIDNEXT so none of them is ever reused there */
	dst->uidnext = src->uidnext;
	dst->first_recent = src->first_recent;
	int r = 0;
	for (size_t i = 0; i < kw.count && r == 0; i++) {
		uint8_t key[6];
		store_key_keyword(key, dst->id, (uint16_t)i);
		r = store_db_put(s, txn, s->db_keywords, key, 6, kw.names[i],
				 strlen(kw.names[i]), 0);
	}
	dst->nkeywords = (uint16_t)kw.count;
	store_kw_free(&kw);
	if (r == 0)
		r = drop_keywords(s, txn, src->id, src->nkeywords);
	for (size_t i = 0; i < l.n && r == 0; i++) {
		struct store_rec_message m;
		uint32_t uid = l.uids[i];
		uint8_t key[8];
		if (store_msg_get(s, txn, src->id, uid, &m) <= 0) {
			r = store_corrupt(s, "message");
			break;
		}
		store_key_message(key, src->id, uid);
		if (store_db_del(s, txn, s->db_messages, key, 8, NULL, 0) < 0 ||
		    store_msg_put(s, txn, dst->id, uid, NULL, &m) < 0) {
			r = -1;
			break;
		}
		store_mb_count_add(dst, uid, &m);
		if (m.modseq > dst->highestmodseq)
			dst->highestmodseq = m.modseq;
	}
	free(l.uids);
	if (r < 0)
		return -1;
	uint8_t mkey[4];
	store_key_mailbox(mkey, src->id);
	if (store_db_del(s, txn, s->db_uids, mkey, 4, NULL, 0) < 0 ||
	    store_unseen_drop_mailbox(s, txn, src->id) < 0)
		return -1;
	src->messages = src->unseen = src->recent = 0;
	src->size = 0;
	src->nkeywords = 0;
	src->highestmodseq++;
	if (store_mbox_put(s, txn, src) < 0)
		return -1;
	return store_mbox_put(s, txn, dst);
}
