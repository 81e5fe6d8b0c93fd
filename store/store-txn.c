/* Errors, transactions with automatic map growth, and typed accessors. */
#include "store-private.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"

int store_fail(struct store *s, enum store_error e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errbuf, sizeof(s->errbuf), fmt, ap);
	va_end(ap);
	s->err = e;
	return -1;
}

int store_mdb_fail(struct store *s, int rc, const char *what)
{
	s->mdb_rc = rc;
	if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL)
		return store_fail(s, STORE_ERR_LIMIT, "%s: %s", what,
				  mdb_strerror(rc));
	return store_fail(s, STORE_ERR_TEMP, "%s: %s", what, mdb_strerror(rc));
}

int store_corrupt(struct store *s, const char *what)
{
	return store_fail(s, STORE_ERR_CORRUPT, "corrupt %s record", what);
}

int store_ret(struct store *s, int r, const char **error_r)
{
	if (r < 0 && error_r != NULL)
		*error_r = s->errbuf;
	return r;
}

enum store_error store_last_error(const struct store *s)
{
	return s->err;
}

size_t store_map_size(const struct store *s)
{
	return s->map_size;
}

void store_unlink_after(struct store *s, uint64_t blob_id)
{
	if (s->nunlink == s->unlink_cap) {
		s->unlink_cap = s->unlink_cap ? s->unlink_cap * 2 : 16;
		s->unlink_ids = xrealloc(s->unlink_ids,
					 s->unlink_cap * sizeof(uint64_t));
	}
	s->unlink_ids[s->nunlink++] = blob_id;
}

static int store_grow(struct store *s)
{
	size_t want = s->map_size * 2;
	if (want < s->map_size)
		return store_fail(s, STORE_ERR_LIMIT, "LMDB map size overflow");
	int rc = mdb_env_set_mapsize(s->env, want);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_env_set_mapsize");
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;
	log_debug("store %s: LMDB map grown to %zu bytes", s->dir, s->map_size);
	return 0;
}

static int store_txn_begin(struct store *s, unsigned flags, MDB_txn **txn_r)
{
	for (int tries = 0;; tries++) {
		int rc = mdb_txn_begin(s->env, NULL, flags, txn_r);
		if (rc == 0)
			return 0;
		/* another process grew the map (an offline tool earlier) */
		if (rc == MDB_MAP_RESIZED && tries < 3 &&
		    mdb_env_set_mapsize(s->env, 0) == 0) {
			MDB_envinfo info;
			mdb_env_info(s->env, &info);
			s->map_size = info.me_mapsize;
			continue;
		}
		return store_mdb_fail(s, rc, "mdb_txn_begin");
	}
}

int store_read_begin(struct store *s, MDB_txn **txn_r)
{
	s->err = STORE_ERR_NONE;
	return store_txn_begin(s, MDB_RDONLY, txn_r);
}

int store_write(struct store *s, store_txn_fn *fn, void *ctx)
{
	s->err = STORE_ERR_NONE;
	for (;;) {
		MDB_txn *txn;
		s->nunlink = 0;
		s->mdb_rc = 0;
		if (store_txn_begin(s, 0, &txn) < 0)
			return -1;
		int r = fn(s, txn, ctx);
		if (r >= 0) {
			int rc = mdb_txn_commit(txn);
			if (rc == 0) {
				for (size_t i = 0; i < s->nunlink; i++)
					store_blob_unlink(s, s->unlink_ids[i]);
				s->nunlink = 0;
				return r;
			}
			store_mdb_fail(s, rc, "mdb_txn_commit");
		} else {
			mdb_txn_abort(txn);
		}
		s->nunlink = 0;
		/* The map is full: no size a user could hit is fixed, so
		 * double it and run the whole transaction again. */
		if (s->mdb_rc != MDB_MAP_FULL || store_grow(s) < 0)
			return -1;
	}
}

int store_db_get(struct store *s, MDB_txn *txn, MDB_dbi dbi,
		 const void *key, size_t klen, MDB_val *val_r)
{
	MDB_val k = { klen, (void *)key };
	int rc = mdb_get(txn, dbi, &k, val_r);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_get");
	return 1;
}

int store_db_put(struct store *s, MDB_txn *txn, MDB_dbi dbi,
		 const void *key, size_t klen, const void *val, size_t vlen,
		 unsigned flags)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc = mdb_put(txn, dbi, &k, &v, flags);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_put");
	return 0;
}

int store_db_del(struct store *s, MDB_txn *txn, MDB_dbi dbi,
		 const void *key, size_t klen, const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc = mdb_del(txn, dbi, &k, val != NULL ? &v : NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_del");
	return 1;
}

int store_meta_get(struct store *s, MDB_txn *txn, struct store_rec_meta *m)
{
	MDB_val v;
	int r = store_db_get(s, txn, s->db_meta, "state", 5, &v);
	if (r < 0)
		return -1;
	if (r == 0 || store_rec_meta_decode(v.mv_data, v.mv_size, m) < 0)
		return store_corrupt(s, "meta state");
	return 0;
}

int store_meta_put(struct store *s, MDB_txn *txn,
		   const struct store_rec_meta *m)
{
	struct buf b;
	buf_init(&b);
	store_rec_meta_encode(m, &b);
	int r = store_db_put(s, txn, s->db_meta, "state", 5, b.data, b.len, 0);
	buf_free(&b);
	return r;
}

int store_mbox_get(struct store *s, MDB_txn *txn, uint32_t id,
		   struct store_rec_mailbox *mb)
{
	uint8_t key[4];
	MDB_val v;
	store_key_mailbox(key, id);
	int r = store_db_get(s, txn, s->db_mailboxes, key, 4, &v);
	if (r <= 0)
		return r;
	if (store_rec_mailbox_decode(v.mv_data, v.mv_size, mb) < 0 ||
	    mb->id != id)
		return store_corrupt(s, "mailbox");
	return 1;
}

int store_mbox_put(struct store *s, MDB_txn *txn,
		   const struct store_rec_mailbox *mb)
{
	uint8_t key[4];
	struct buf b;
	store_key_mailbox(key, mb->id);
	buf_init(&b);
	store_rec_mailbox_encode(mb, &b);
	int r = store_db_put(s, txn, s->db_mailboxes, key, 4, b.data, b.len, 0);
	buf_free(&b);
	return r;
}

int store_mbox_lookup(struct store *s, MDB_txn *txn, const char *name,
		      struct store_rec_mailbox *mb)
{
	MDB_val v;
	uint32_t id;
	int r = store_db_get(s, txn, s->db_names, name, strlen(name), &v);
	if (r <= 0)
		return r;
	if (store_rec_u32_decode(v.mv_data, v.mv_size, &id) < 0)
		return store_corrupt(s, "mailbox name");
	r = store_mbox_get(s, txn, id, mb);
	if (r == 0 || (r > 0 && strcmp(mb->name, name) != 0))
		return store_corrupt(s, "mailbox name");
	return r;
}

int store_mbox_get_selectable(struct store *s, MDB_txn *txn, uint32_t id,
			      struct store_rec_mailbox *mb)
{
	int r = store_mbox_get(s, txn, id, mb);
	if (r < 0)
		return -1;
	if (r == 0)
		return store_fail(s, STORE_ERR_NOTFOUND,
				  "mailbox does not exist");
	if (mb->attributes & STORE_ATTR_NOSELECT)
		return store_fail(s, STORE_ERR_NOSELECT,
				  "mailbox %s is not selectable", mb->name);
	return 0;
}

int store_blobref_change(struct store *s, MDB_txn *txn, uint64_t blob_id,
			 int delta)
{
	uint8_t key[8];
	MDB_val v;
	struct store_rec_blobref ref = { 0 };
	store_key_blob(key, blob_id);
	int r = store_db_get(s, txn, s->db_blobrefs, key, 8, &v);
	if (r < 0)
		return -1;
	if (r > 0 && store_rec_blobref_decode(v.mv_data, v.mv_size, &ref) < 0)
		return store_corrupt(s, "blob reference");
	if (delta < 0 && ref.refcount < (uint32_t)-delta)
		return store_corrupt(s, "blob reference");
	if (delta > 0 && ref.refcount > UINT32_MAX - (uint32_t)delta)
		return store_fail(s, STORE_ERR_LIMIT, "too many copies");
	ref.refcount = (uint32_t)((int64_t)ref.refcount + delta);
	if (ref.refcount == 0) {
		/* last reference: the cache goes in this txn, the file after
		 * the commit (a crash in between leaves an orphan, which the
		 * next open collects) */
		if (store_db_del(s, txn, s->db_blobrefs, key, 8, NULL, 0) < 0 ||
		    store_db_del(s, txn, s->db_cache, key, 8, NULL, 0) < 0 ||
		    store_sx_doc_gone(s, txn, blob_id) < 0)	/* search index */
			return -1;
		store_unlink_after(s, blob_id);
		return 0;
	}
	struct buf b;
	buf_init(&b);
	store_rec_blobref_encode(&ref, &b);
	r = store_db_put(s, txn, s->db_blobrefs, key, 8, b.data, b.len, 0);
	buf_free(&b);
	return r;
}
