/* Rebuilding the search index; see search-reindex.h. */
#include "search-reindex.h"

#include "store-private.h"

#include <string.h>

struct reindex_ctx {
	uint32_t mailbox_id;
	size_t held;
};

/* The documents of one mailbox back to the holding area. */
static int reindex_mailbox(struct store *s, MDB_txn *txn, uint32_t mailbox_id)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_messages, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	uint8_t key[8];
	store_key_message(key, mailbox_id, 0);
	MDB_val k = { 8, key }, v;
	int r = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || store_get_be32(k.mv_data) != mailbox_id)
			break;
		struct store_rec_message m;
		if (store_rec_message_decode(v.mv_data, v.mv_size, &m) < 0) {
			r = store_corrupt(s, "message");
			break;
		}
		r = store_sx_doc_stale(s, txn, m.blob_id);
	}
	if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
		r = store_mdb_fail(s, rc, "reindex: messages walk");
	mdb_cursor_close(c);
	return r;
}

static int reindex_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct reindex_ctx *ctx = vctx;
	int r;
	if (ctx->mailbox_id == 0) {
		/* empty the databases (mdb_drop with del 0 keeps the
		 * handles), then hold every message's document again, as
		 * the schema upgrade that introduced the index does. The
		 * vocabulary stays: ids only grow, and the documents will
		 * mostly bring the same tokens back. */
		MDB_dbi dbs[] = { s->db_sx_post, s->db_sx_text,
				  s->db_sx_pending, s->db_sx_dirty,
				  s->db_sx_blobmsg, s->db_sx_delta };
		for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
			int rc = mdb_drop(txn, dbs[i], 0);
			if (rc != 0)
				return store_mdb_fail(s, rc, "mdb_drop");
		}
		r = store_schema_upgrade_2_to_3(s, txn);
	} else {
		r = reindex_mailbox(s, txn, ctx->mailbox_id);
	}
	if (r < 0)
		return -1;
	MDB_stat st;
	int rc = mdb_stat(txn, s->db_sx_pending, &st);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_stat");
	ctx->held = st.ms_entries;
	return 0;
}

int store_search_reindex_prepare(struct store *s, uint32_t mailbox_id,
				 size_t *held_r, const char **error_r)
{
	struct reindex_ctx ctx = { .mailbox_id = mailbox_id };
	s->err = STORE_ERR_NONE;
	if (store_write(s, reindex_txn, &ctx) < 0)
		return store_ret(s, -1, error_r);
	*held_r = ctx.held;
	return 0;
}
