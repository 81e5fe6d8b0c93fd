/* Internals shared by the store's files. */
#ifndef POSTERN_STORE_PRIVATE_H
#define POSTERN_STORE_PRIVATE_H

#include <lmdb.h>
#include <stdarg.h>

#include "../common/buf.h"
#include "search-index.h"
#include "store-record.h"
#include "store.h"

/* Schema history:
 *   1  records as in store-record.h, no UID index
 *   2  adds "uids" (mailbox id -> UID, DUPSORT|DUPFIXED) so that SELECT
 *      loads a mailbox's UIDs without touching message records
 *   3  adds the search index (search-index.h): sx_post, sx_text,
 *      sx_pending, sx_blobmsg; the upgrade fills sx_blobmsg and holds
 *      every blob for indexing
 *   4  adds "unseen" (mailbox id -> UID of each message without \Seen,
 *      DUPSORT|DUPFIXED, store-unseen.c) so that SELECT finds the first
 *      unseen message without reading message records
 *   5  the search index becomes two levels (words and separators, a
 *      vocabulary, token streams): adds sx_vocab and sx_dirty; the
 *      upgrade drops the trigram postings and texts and holds every
 *      blob again
 *   6  adds sx_delta: recent merges' postings as generations, folded
 *      into sx_post in batches (search-index.h); an old binary would not
 *      read them, hence the version; the upgrade has nothing to do */
#define STORE_SCHEMA_VERSION 6

#define STORE_DEFAULT_MAP_SIZE ((size_t)64 << 20)

struct store {
	char *dir;
	int dir_fd;
	int lock_fd;
	int blobs_fd;		/* <dir>/blobs */
	int tmp_fd;		/* <dir>/tmp */
	MDB_env *env;
	MDB_dbi db_meta, db_mailboxes, db_names, db_messages, db_uids,
		db_blobrefs, db_cache, db_subs, db_keywords, db_unseen;
	/* search index (search-index.h) */
	MDB_dbi db_sx_post, db_sx_text, db_sx_pending, db_sx_blobmsg,
		db_sx_vocab, db_sx_dirty, db_sx_delta;
	store_sx_extractor *sx_extractor;
	void *sx_ctx;
	size_t sx_merge_threshold;
	size_t sx_gen_fanout, sx_fold_min;	/* search-index.h */
	struct sx_vocab *sx_vocab;	/* sx_vocab mirrored, lazily */
	struct sx_held *sx_held;	/* held texts (search-held.c) */
	double sx_extract_secs, sx_merge_secs;	/* store_sx_stats */
	size_t map_size;
	uint64_t next_blob;	/* in memory; may run ahead of meta */
	uint32_t tmp_seq;

	enum store_error err;
	int mdb_rc;		/* LMDB error of the failed txn step */
	char errbuf[512];

	store_cache_builder *cache_builder;
	void *cache_ctx;

	/* blob files to unlink once the running txn has committed */
	uint64_t *unlink_ids;
	size_t nunlink, unlink_cap;
	bool opened;
};

/* Sets the error and returns -1. */
int store_fail(struct store *s, enum store_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An LMDB failure of `what`: remembered for the retry logic. */
int store_mdb_fail(struct store *s, int rc, const char *what);
int store_corrupt(struct store *s, const char *what);
/* Returns r; on r < 0 points *error_r at the error text. */
int store_ret(struct store *s, int r, const char **error_r);

/* Runs fn in a write transaction and commits. On MDB_MAP_FULL the txn is
 * aborted, the map doubled and fn run again from the start, so fn must
 * reset its outputs on entry. Blobs queued with store_unlink_after are
 * unlinked after the commit. */
typedef int store_txn_fn(struct store *s, MDB_txn *txn, void *ctx);
int store_write(struct store *s, store_txn_fn *fn, void *ctx);
int store_read_begin(struct store *s, MDB_txn **txn_r);
void store_unlink_after(struct store *s, uint64_t blob_id);

/* Small typed accessors used inside transactions; -1 with the error set.
 * get: 1 found, 0 missing. */
int store_db_get(struct store *s, MDB_txn *txn, MDB_dbi dbi,
		 const void *key, size_t klen, MDB_val *val_r);
int store_db_put(struct store *s, MDB_txn *txn, MDB_dbi dbi,
		 const void *key, size_t klen, const void *val, size_t vlen,
		 unsigned flags);
/* 1 deleted, 0 was missing */
int store_db_del(struct store *s, MDB_txn *txn, MDB_dbi dbi,
		 const void *key, size_t klen, const void *val, size_t vlen);

int store_meta_get(struct store *s, MDB_txn *txn, struct store_rec_meta *m);
int store_meta_put(struct store *s, MDB_txn *txn,
		   const struct store_rec_meta *m);
int store_mbox_get(struct store *s, MDB_txn *txn, uint32_t id,
		   struct store_rec_mailbox *mb);
int store_mbox_put(struct store *s, MDB_txn *txn,
		   const struct store_rec_mailbox *mb);
/* 1 found, 0 not; name must be normalised */
int store_mbox_lookup(struct store *s, MDB_txn *txn, const char *name,
		      struct store_rec_mailbox *mb);
/* A selectable mailbox for a message operation, or NOTFOUND/NOSELECT. */
int store_mbox_get_selectable(struct store *s, MDB_txn *txn, uint32_t id,
			      struct store_rec_mailbox *mb);
int store_blobref_change(struct store *s, MDB_txn *txn, uint64_t blob_id,
			 int delta);
void store_mailbox_from_rec(const struct store_rec_mailbox *r,
			    struct store_mailbox *mb);
/* Normalises INBOX (any case, also as a parent) into out; false if the
 * name is invalid. */
bool store_name_normalize(const char *name, char out[STORE_MAILBOX_NAME_MAX + 1]);
int store_mailbox_create_txn(struct store *s, MDB_txn *txn, const char *name,
			     unsigned special_use);

/* Keyword table of one mailbox, loaded inside a txn. */
struct store_kwtable {
	uint32_t mailbox_id;
	char **names;
	size_t count;
};
int store_kw_load(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		  struct store_kwtable *t);
void store_kw_free(struct store_kwtable *t);
/* Id of name, creating it (and bumping mb->nkeywords) if create. Returns
 * the id, -2 if absent and !create, -1 on error. */
int store_kw_id(struct store *s, MDB_txn *txn, struct store_kwtable *t,
		struct store_rec_mailbox *mb, const char *name, bool create);
/* Sorted unique ids of names; -1 on error. */
int store_kw_resolve(struct store *s, MDB_txn *txn, struct store_kwtable *t,
		     struct store_rec_mailbox *mb, const char *const *names,
		     size_t n, bool create, uint16_t *ids, uint16_t *nids_r);

/* Message records inside a txn. old is the record being rewritten (a
 * flag change), NULL for a new one: the UID and unseen indexes change
 * only when the record is new or its \Seen changed. */
int store_msg_put(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		  uint32_t uid, const struct store_rec_message *old,
		  const struct store_rec_message *m);
/* 1 found, 0 missing */
int store_msg_get(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		  uint32_t uid, struct store_rec_message *m);
/* UIDs of the messages of set (NULL = all), ascending; with only_deleted
 * just those with \Deleted. Writers collect first and change after, so
 * no cursor walks over records being rewritten. */
struct store_uidlist {
	uint32_t *uids;
	size_t n, cap;
	bool only_deleted;
};
int store_msg_collect(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		      const struct store_uidset *set, uint32_t uidnext,
		      struct store_uidlist *l);
/* Removes message, its UID index entry, its blob reference; counters of
 * mb updated. */
int store_msg_remove(struct store *s, MDB_txn *txn,
		     struct store_rec_mailbox *mb, uint32_t uid,
		     const struct store_rec_message *m);
/* Removes every message and keyword of mb (counters reset). */
int store_mbox_purge(struct store *s, MDB_txn *txn,
		     struct store_rec_mailbox *mb);
/* Moves every message and keyword of src to the empty dst, keeping UIDs
 * (dst has a new UIDVALIDITY): the INBOX rename. */
int store_mbox_move_all(struct store *s, MDB_txn *txn,
			struct store_rec_mailbox *src,
			struct store_rec_mailbox *dst);
/* 1 if some name starts with name + '/', 0 if none, -1 on error */
int store_mbox_has_children(struct store *s, MDB_txn *txn, const char *name);
void store_mb_count_add(struct store_rec_mailbox *mb, uint32_t uid,
			const struct store_rec_message *m);
void store_mb_count_sub(struct store_rec_mailbox *mb, uint32_t uid,
			const struct store_rec_message *m);

/* The unseen index (store-unseen.c): store_msg_put keeps it for every
 * record it writes; whoever deletes an unseen record removes its entry. */
int store_unseen_set(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		     uint32_t uid, bool unseen);
int store_unseen_drop_mailbox(struct store *s, MDB_txn *txn,
			      uint32_t mailbox_id);
/* Smallest unseen UID of the mailbox, 0 if none. */
int store_unseen_first_txn(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
			   uint32_t *uid_r);
/* Schema 3 -> 4: builds the unseen index from the message records. */
int store_schema_upgrade_3_to_4(struct store *s, MDB_txn *txn);
/* Test hook: empties the unseen index and marks the store schema 3. */
int store_debug_downgrade_to_3(struct store *s);

/* Normalised UID set: sorted, merged, clamped to [1, uidnext-1]. */
struct store_ranges {
	struct store_uidrange *r;
	size_t n;
};
void store_ranges_make(const struct store_uidset *set, uint32_t uidnext,
		       struct store_ranges *out);
/* Walks the message records of ranges; cb gets key uid and decoded
 * record, with the cursor positioned on it. */
typedef int store_walk_fn(struct store *s, MDB_cursor *c, uint32_t uid,
			  struct store_rec_message *m, void *ctx);
int store_msg_walk(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		   const struct store_ranges *ranges, store_walk_fn *fn,
		   void *ctx);

/* Blob files (store-blob.c). */
struct store_blob_new {
	uint64_t id;
	uint64_t size;
	int fd;
	char tmpname[48];
	struct buf cache;
	bool have_cache;
	struct buf sxdoc;	/* search index text record */
	bool have_sxdoc;
	bool sx_added;		/* held by the append (its text to keep) */
	bool installed;		/* renamed into blobs/ */
};
void store_blob_path(uint64_t id, char out[32]);
int store_blob_write(struct store *s, const struct store_append_msg *msg,
		     struct store_blob_new *b, bool sync);
/* Renames written temp files into blobs/ and makes them durable. */
int store_blob_install(struct store *s, struct store_blob_new *b, size_t n,
		       bool use_syncfs);
/* Removes the files of a failed append and frees the cache buffers. */
void store_blob_discard(struct store *s, struct store_blob_new *b, size_t n);
void store_blob_free(struct store_blob_new *b, size_t n);
void store_blob_unlink(struct store *s, uint64_t id);
int store_blob_setup_dirs(struct store *s);
int store_blob_gc(struct store *s, bool full, size_t *removed_r);

/* Search index hooks (search-index.c), called inside the store's write
 * transactions so the index changes with the messages:
 * a message record was written (append, copy, move, flag change) */
int store_sx_msg_put(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		     uint32_t uid, uint64_t blob_id);
/* a new blob: held for the next merge, with its text if extracted */
int store_sx_doc_add(struct store *s, MDB_txn *txn, uint64_t blob_id,
		     const struct buf *rec);
/* the blob's last reference went */
int store_sx_doc_gone(struct store *s, MDB_txn *txn, uint64_t blob_id);
/* the blob's cache record changed: its text must be made again */
int store_sx_doc_stale(struct store *s, MDB_txn *txn, uint64_t blob_id);
/* Extracts the text of a blob being appended (store-blob.c); false if
 * there is no extractor or it declined. */
bool store_sx_extract(struct store *s, const uint8_t *data, size_t len,
		      const struct buf *cache, bool have_cache,
		      struct buf *rec_out);
/* After an append commit: merges if enough documents are held. */
void store_sx_after_append(struct store *s);
/* A held document's text, made at append, kept in memory for queries
 * and the merge (search-held.c). */
void store_sx_held_text(struct store *s, uint64_t blob_id,
			const struct buf *rec);
/* Whether an append should make the text: false when the memory for
 * held texts is full (the merge extracts those again). */
bool store_sx_held_room(const struct store *s);
void store_sx_held_free(struct store *s);
/* Monotonic seconds, for the index's own time (store_sx_stats). */
double store_sx_clock(void);
/* One step of a fold in progress, if any (search-delta.c). 0 or -1. */
int store_sx_fold_step(struct store *s);
/* Schema 2 -> 3 (it leaves what 5 needs: every blob held). */
int store_schema_upgrade_2_to_3(struct store *s, MDB_txn *txn);
/* Schema 4 -> 5 (and 3 -> 5): trigram postings and texts out, every
 * blob held. */
int store_schema_upgrade_4_to_5(struct store *s, MDB_txn *txn);
/* Frees the vocabulary mirror (store_close). */
void store_sx_close(struct store *s);

/* store-env.c upgrade and test hook */
int store_schema_upgrade_1_to_2(struct store *s, MDB_txn *txn);
/* Test hook: rewrites the store as schema 1 (drops the UID index). */
int store_debug_downgrade_to_1(struct store *s);
int store_debug_set_schema(struct store *s, uint32_t version);
/* Fills dst (mailbox id -> UIDs, DUPSORT) with the messages keep
 * accepts (NULL: all), walking the message records in key order. */
int store_index_rebuild(struct store *s, MDB_txn *txn, MDB_dbi dst,
			bool (*keep)(const struct store_rec_message *m),
			const char *what);
/* Records the store's schema version in meta (inside txn). */
int store_schema_put(struct store *s, MDB_txn *txn, uint32_t version);

#endif
