/* Opening, creating, upgrading and closing a store. */
#include "store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"

/* Open errors have no store to hold their text. */
static char store_open_errbuf[512];
static enum store_error store_open_error_kind;

static const struct {
	const char *name;
	unsigned special_use;
} store_initial_mailboxes[] = {
	{ "INBOX", 0 },
	{ "Drafts", STORE_SPECIAL_DRAFTS },
	{ "Sent", STORE_SPECIAL_SENT },
	{ "Trash", STORE_SPECIAL_TRASH },
	{ "Junk", STORE_SPECIAL_JUNK },
	{ "Archive", STORE_SPECIAL_ARCHIVE },
};

static int store_open_dbis(struct store *s, MDB_txn *txn)
{
	static const struct {
		const char *name;
		size_t off;
		unsigned flags;
	} dbs[] = {
		{ "meta", offsetof(struct store, db_meta), 0 },
		{ "mailboxes", offsetof(struct store, db_mailboxes), 0 },
		{ "mailbox_names", offsetof(struct store, db_names), 0 },
		{ "messages", offsetof(struct store, db_messages), 0 },
		{ "uids", offsetof(struct store, db_uids),
		  MDB_DUPSORT | MDB_DUPFIXED },
		{ "blobrefs", offsetof(struct store, db_blobrefs), 0 },
		{ "cache", offsetof(struct store, db_cache), 0 },
		{ "subscriptions", offsetof(struct store, db_subs), 0 },
		{ "keywords", offsetof(struct store, db_keywords), 0 },
		{ "unseen", offsetof(struct store, db_unseen),
		  MDB_DUPSORT | MDB_DUPFIXED },
		/* search index (search-index.h) */
		{ "sx_post", offsetof(struct store, db_sx_post), 0 },
		{ "sx_text", offsetof(struct store, db_sx_text), 0 },
		{ "sx_pending", offsetof(struct store, db_sx_pending), 0 },
		{ "sx_blobmsg", offsetof(struct store, db_sx_blobmsg),
		  MDB_DUPSORT | MDB_DUPFIXED },
		{ "sx_vocab", offsetof(struct store, db_sx_vocab), 0 },
		{ "sx_dirty", offsetof(struct store, db_sx_dirty), 0 },
		{ "sx_delta", offsetof(struct store, db_sx_delta), 0 },
	};
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		MDB_dbi *dbi = (MDB_dbi *)((char *)s + dbs[i].off);
		int rc = mdb_dbi_open(txn, dbs[i].name,
				      MDB_CREATE | dbs[i].flags, dbi);
		if (rc != 0)
			return store_mdb_fail(s, rc, dbs[i].name);
	}
	return 0;
}

int store_schema_put(struct store *s, MDB_txn *txn, uint32_t version)
{
	struct buf b;
	buf_init(&b);
	store_rec_u32_encode(version, &b);
	int r = store_db_put(s, txn, s->db_meta, "schema", 6, b.data, b.len, 0);
	buf_free(&b);
	return r;
}

static int store_create_txn(struct store *s, MDB_txn *txn)
{
	int r = store_schema_put(s, txn, STORE_SCHEMA_VERSION);
	if (r < 0)
		return -1;
	/* UIDVALIDITY comes from a store-wide counter seeded from the clock,
	 * so a mailbox deleted and re-created never gets an old value, and
	 * a store re-created from scratch is very unlikely to either. */
	uint32_t seed = (uint32_t)time(NULL);
	struct store_rec_meta m = {
		.next_mailbox_id = 1,
		.next_uidvalidity = seed != 0 ? seed : 1,
		.next_blob = 1,
		.dirty = false,
	};
	if (store_meta_put(s, txn, &m) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(store_initial_mailboxes) /
			       sizeof(store_initial_mailboxes[0]); i++) {
		const char *name = store_initial_mailboxes[i].name;
		if (store_mailbox_create_txn(s, txn, name,
				store_initial_mailboxes[i].special_use) < 0 ||
		    store_db_put(s, txn, s->db_subs, name, strlen(name), "",
				 0, 0) < 0)
			return -1;
	}
	return 0;
}

int store_index_rebuild(struct store *s, MDB_txn *txn, MDB_dbi dst,
			bool (*keep)(const struct store_rec_message *m),
			const char *what)
{
	MDB_cursor *c, *u;
	int rc = mdb_cursor_open(txn, s->db_messages, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	rc = mdb_cursor_open(txn, dst, &u);
	if (rc != 0) {
		mdb_cursor_close(c);
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	}
	MDB_val k, v;
	int r = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			r = store_corrupt(s, "message key");
			break;
		}
		struct store_rec_message m;
		if (keep != NULL) {
			if (store_rec_message_decode(v.mv_data, v.mv_size,
						     &m) < 0) {
				r = store_corrupt(s, "message");
				break;
			}
			if (!keep(&m))
				continue;
		}
		MDB_val uk = { 4, k.mv_data };
		MDB_val uv = { 4, (uint8_t *)k.mv_data + 4 };
		/* the messages walk is in (mailbox, UID) order already */
		rc = mdb_cursor_put(u, &uk, &uv, MDB_APPENDDUP);
		if (rc != 0) {
			r = store_mdb_fail(s, rc, what);
			break;
		}
	}
	if (r == 0 && rc != MDB_NOTFOUND)
		r = store_mdb_fail(s, rc, "upgrade: messages walk");
	mdb_cursor_close(u);
	mdb_cursor_close(c);
	return r;
}

int store_schema_upgrade_1_to_2(struct store *s, MDB_txn *txn)
{
	return store_index_rebuild(s, txn, s->db_uids, NULL,
				   "upgrade: uid index");
}

struct open_ctx {
	bool create;
	bool need_gc;
};

static int store_setup_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct open_ctx *ctx = vctx;
	if (store_open_dbis(s, txn) < 0)
		return -1;
	MDB_val v;
	uint32_t version;
	int r = store_db_get(s, txn, s->db_meta, "schema", 6, &v);
	if (r < 0)
		return -1;
	if (r == 0) {
		if (!ctx->create)
			return store_fail(s, STORE_ERR_NOTFOUND,
					  "%s: no store here", s->dir);
		if (store_create_txn(s, txn) < 0)
			return -1;
		version = STORE_SCHEMA_VERSION;
	} else if (store_rec_u32_decode(v.mv_data, v.mv_size, &version) < 0) {
		return store_corrupt(s, "schema version");
	}
	if (version > STORE_SCHEMA_VERSION)
		return store_fail(s, STORE_ERR_VERSION,
				  "%s: store schema version %u is newer than "
				  "this Postern supports (%u); refusing to "
				  "open it (upgrade Postern)",
				  s->dir, version, STORE_SCHEMA_VERSION);
	if (version == 0)
		return store_corrupt(s, "schema version");
	/* Upgrades run inside this one transaction: a crash leaves the old
	 * store untouched. */
	if (version < 2 && store_schema_upgrade_1_to_2(s, txn) < 0)
		return -1;
	if (version < 3 && store_schema_upgrade_2_to_3(s, txn) < 0)
		return -1;
	if (version < 4 && store_schema_upgrade_3_to_4(s, txn) < 0)
		return -1;
	/* below 3 the 2 -> 3 upgrade already held every blob afresh */
	if (version >= 3 && version < 5 &&
	    store_schema_upgrade_4_to_5(s, txn) < 0)
		return -1;
	/* 5 -> 6: sx_delta was created empty above, which is its state in
	 * an index that has never merged into generations */
	if (version < STORE_SCHEMA_VERSION) {
		log_info("store %s: upgraded schema %u -> %u", s->dir, version,
			 STORE_SCHEMA_VERSION);
		r = store_schema_put(s, txn, STORE_SCHEMA_VERSION);
		if (r < 0)
			return -1;
	}
	struct store_rec_meta m;
	if (store_meta_get(s, txn, &m) < 0)
		return -1;
	/* A writer that did not close left the flag set: it may have left
	 * blob files behind that no commit references. */
	ctx->need_gc = m.dirty;
	m.dirty = true;
	s->next_blob = m.next_blob;
	return store_meta_put(s, txn, &m);
}

static int store_fail_open(struct store *s, const char **error_r)
{
	snprintf(store_open_errbuf, sizeof(store_open_errbuf), "%s",
		 s->errbuf);
	store_open_error_kind = store_last_error(s);
	if (error_r != NULL)
		*error_r = store_open_errbuf;
	store_close(&s);
	return -1;
}

enum store_error store_open_last_error(void)
{
	return store_open_error_kind;
}

int store_open(const char *dir, unsigned flags, struct store **store_r,
	       const char **error_r)
{
	struct store_options opts = { .flags = flags };
	return store_open_opts(dir, &opts, store_r, error_r);
}

int store_open_opts(const char *dir, const struct store_options *opts,
		    struct store **store_r, const char **error_r)
{
	struct store *s = xcalloc(1, sizeof(*s));
	bool create = (opts->flags & STORE_OPEN_CREATE) != 0;
	s->dir = xstrdup(dir);
	s->dir_fd = s->lock_fd = s->blobs_fd = s->tmp_fd = -1;
	s->sx_merge_threshold = SX_MERGE_DEFAULT;
	s->sx_gen_fanout = SX_GEN_FANOUT_DEFAULT;
	s->sx_fold_min = SX_FOLD_MIN_DEFAULT;
	*store_r = NULL;

	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		store_fail(s, STORE_ERR_TEMP, "mkdir %s: %m", dir);
		return store_fail_open(s, error_r);
	}
	s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0) {
		store_fail(s, errno == ENOENT ? STORE_ERR_NOTFOUND :
			   STORE_ERR_TEMP, "open %s: %m", dir);
		return store_fail_open(s, error_r);
	}
	if (!create && faccessat(s->dir_fd, "index.mdb", F_OK, 0) < 0) {
		store_fail(s, STORE_ERR_NOTFOUND, "%s: no store here", dir);
		return store_fail_open(s, error_r);
	}
	/* One writer at a time: orphan collection below would otherwise
	 * delete another writer's uncommitted blobs. */
	s->lock_fd = openat(s->dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC,
			    0600);
	if (s->lock_fd < 0) {
		store_fail(s, STORE_ERR_TEMP, "open %s/lock: %m", dir);
		return store_fail_open(s, error_r);
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		store_fail(s, errno == EWOULDBLOCK ? STORE_ERR_INUSE :
			   STORE_ERR_TEMP, "%s: %s", dir,
			   errno == EWOULDBLOCK ?
			   "store is in use by another process" :
			   strerror(errno));
		return store_fail_open(s, error_r);
	}
	if (store_blob_setup_dirs(s) < 0)
		return store_fail_open(s, error_r);

	int rc = mdb_env_create(&s->env);
	if (rc != 0) {
		s->env = NULL;
		store_mdb_fail(s, rc, "mdb_env_create");
		return store_fail_open(s, error_r);
	}
	long page = sysconf(_SC_PAGESIZE);
	size_t map = opts->map_size ? opts->map_size : STORE_DEFAULT_MAP_SIZE;
	map = (map + (size_t)page - 1) / (size_t)page * (size_t)page;
	char *path = xmalloc(strlen(dir) + 16);
	sprintf(path, "%s/index.mdb", dir);
	if ((rc = mdb_env_set_maxdbs(s->env, 32)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, map)) != 0 ||
	    (rc = mdb_env_open(s->env, path, MDB_NOSUBDIR | MDB_NOTLS,
			       0600)) != 0) {
		free(path);
		store_mdb_fail(s, rc, "mdb_env_open");
		return store_fail_open(s, error_r);
	}
	free(path);
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;

	struct open_ctx ctx = { .create = create };
	if (store_write(s, store_setup_txn, &ctx) < 0)
		return store_fail_open(s, error_r);
	size_t removed = 0;
	if (store_blob_gc(s, ctx.need_gc, &removed) < 0)
		return store_fail_open(s, error_r);
	if (removed > 0)
		log_info("store %s: removed %zu orphan blob files", dir,
			 removed);
	s->err = STORE_ERR_NONE;
	s->opened = true;
	*store_r = s;
	return 0;
}

static int store_clean_txn(struct store *s, MDB_txn *txn, void *ctx)
{
	(void)ctx;
	struct store_rec_meta m;
	if (store_meta_get(s, txn, &m) < 0)
		return -1;
	if (m.next_blob < s->next_blob)
		m.next_blob = s->next_blob;
	m.dirty = false;
	return store_meta_put(s, txn, &m);
}

void store_close(struct store **sp)
{
	struct store *s = *sp;
	if (s == NULL)
		return;
	*sp = NULL;
	if (s->env != NULL) {
		/* only a fully opened store marks itself clean */
		if (s->opened &&
		    store_write(s, store_clean_txn, NULL) < 0)
			log_warn("store %s: %s", s->dir, s->errbuf);
		mdb_env_close(s->env);
	}
	if (s->blobs_fd >= 0)
		close(s->blobs_fd);
	if (s->tmp_fd >= 0)
		close(s->tmp_fd);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);	/* releases the flock */
	free(s->unlink_ids);
	store_sx_close(s);
	store_sx_held_free(s);
	free(s->dir);
	free(s);
}

static int store_downgrade_txn(struct store *s, MDB_txn *txn, void *ctx)
{
	(void)ctx;
	int rc = mdb_drop(txn, s->db_uids, 1);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_drop");
	return store_schema_put(s, txn, 1);
}

int store_debug_downgrade_to_1(struct store *s)
{
	return store_write(s, store_downgrade_txn, NULL);
}

static int store_set_schema_txn(struct store *s, MDB_txn *txn, void *ctx)
{
	return store_schema_put(s, txn, *(uint32_t *)ctx);
}

int store_debug_set_schema(struct store *s, uint32_t version)
{
	return store_write(s, store_set_schema_txn, &version);
}
