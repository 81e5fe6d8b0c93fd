/* The unseen index: for each mailbox, the UIDs of its messages without
 * \Seen (DUPSORT|DUPFIXED, key mailbox id BE, values UID BE so LMDB's
 * byte order is UID order). RFC 3501 6.3.1 asks SELECT for the first of
 * them ([UNSEEN n]); reading every message record for it costs 45-70 ns
 * a message (5-7 ms at 100k, 72 ms at 1M: bench-store), ten times the
 * rest of SELECT, while the index answers with one cursor seek.
 *
 * Invariant (store_check verifies it): an entry (mailbox, uid) exists
 * exactly when the message record (mailbox, uid) exists and lacks \Seen.
 * It is kept by store_msg_put (every record write: append, flag change,
 * copy, move, INBOX rename) and by every path that deletes records. */
#include "store-private.h"

int store_unseen_set(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		     uint32_t uid, bool unseen)
{
	uint8_t key[8];
	store_key_message(key, mailbox_id, uid);
	if (!unseen)
		return store_db_del(s, txn, s->db_unseen, key, 4, key + 4, 4) < 0 ?
		       -1 : 0;
	MDB_val k = { 4, key }, v = { 4, key + 4 };
	int rc = mdb_put(txn, s->db_unseen, &k, &v, MDB_NODUPDATA);
	if (rc != 0 && rc != MDB_KEYEXIST)
		return store_mdb_fail(s, rc, "mdb_put unseen index");
	return 0;
}

int store_unseen_drop_mailbox(struct store *s, MDB_txn *txn,
			      uint32_t mailbox_id)
{
	uint8_t key[4];
	store_key_mailbox(key, mailbox_id);
	return store_db_del(s, txn, s->db_unseen, key, 4, NULL, 0) < 0 ? -1 : 0;
}

int store_unseen_first_txn(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
			   uint32_t *uid_r)
{
	*uid_r = 0;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_unseen, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	uint8_t key[4];
	store_key_mailbox(key, mailbox_id);
	MDB_val k = { 4, key }, v;
	/* MDB_SET_KEY lands on the key's first (smallest) duplicate */
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	int r = 0;
	if (rc == 0) {
		if (v.mv_size != 4)
			r = store_corrupt(s, "unseen index");
		else
			*uid_r = store_get_be32(v.mv_data);
	} else if (rc != MDB_NOTFOUND) {
		r = store_mdb_fail(s, rc, "mdb_cursor_get");
	}
	mdb_cursor_close(c);
	return r;
}

int store_mailbox_first_unseen(struct store *s, uint32_t mailbox_id,
			       uint32_t *uid_r, const char **error_r)
{
	MDB_txn *txn;
	*uid_r = 0;
	s->err = STORE_ERR_NONE;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	int r = store_unseen_first_txn(s, txn, mailbox_id, uid_r);
	mdb_txn_abort(txn);
	return store_ret(s, r, error_r);
}

/* Schema 3 -> 4: the index is built from the message records, whose walk
 * is in (mailbox, UID) order already, so every put appends. It starts
 * empty: an older schema never wrote it, and one rebuilt after a test
 * downgrade must not keep stale entries. */
static bool unseen(const struct store_rec_message *m)
{
	return !(m->flags & STORE_FLAG_SEEN);
}

int store_schema_upgrade_3_to_4(struct store *s, MDB_txn *txn)
{
	int rc = mdb_drop(txn, s->db_unseen, 0);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_drop unseen index");
	return store_index_rebuild(s, txn, s->db_unseen, unseen,
				   "upgrade: unseen index");
}

static int downgrade_txn(struct store *s, MDB_txn *txn, void *ctx)
{
	(void)ctx;
	int rc = mdb_drop(txn, s->db_unseen, 0);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_drop");
	return store_schema_put(s, txn, 3);
}

int store_debug_downgrade_to_3(struct store *s)
{
	return store_write(s, downgrade_txn, NULL);
}
