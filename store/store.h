/* The mail store of one user: an LMDB index (index.mdb) and immutable
 * message blobs (blobs/), see "Store" in ARCHITECTURE.md.
 *
 * One writer: a store is opened by one process at a time (an exclusive
 * lock on <dir>/lock), by the user's worker or by an offline posternctl
 * tool. Never use a struct store across fork(): LMDB forbids sharing an
 * environment with a child; open it after fork.
 *
 * Conventions: functions return 0 (or 1 = found / 0 = not found for
 * lookups) and -1 on error with a human-readable reason in *error_r,
 * valid until the next call on the same store; store_last_error() says
 * what kind of error it was, for the protocol response code. Writes are
 * durable when they return: every write is one LMDB transaction,
 * committed with fsync after the blob files it references are on disk. */
#ifndef POSTERN_STORE_H
#define POSTERN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct store;

enum store_error {
	STORE_ERR_NONE = 0,
	STORE_ERR_TEMP,		/* I/O or LMDB failure; may work later */
	STORE_ERR_NOTFOUND,	/* no such mailbox (IMAP [NONEXISTENT]) */
	STORE_ERR_EXISTS,	/* [ALREADYEXISTS] */
	STORE_ERR_INVALID,	/* bad name or arguments */
	STORE_ERR_NOSELECT,	/* mailbox is \Noselect */
	STORE_ERR_LIMIT,	/* a size or count limit ([LIMIT]) */
	STORE_ERR_INUSE,	/* store locked by another process */
	STORE_ERR_VERSION,	/* written by a newer Postern */
	STORE_ERR_CORRUPT,	/* a record failed to decode */
};

/* ---- open, close ----------------------------------------------------- */

#define STORE_OPEN_CREATE	0x01	/* create the store if it is missing */

struct store_options {
	unsigned flags;		/* STORE_OPEN_* */
	size_t map_size;	/* initial LMDB map size; 0 = default */
};

/* Opens (and with STORE_OPEN_CREATE creates: INBOX, Drafts, Sent, Trash,
 * Junk, Archive, all subscribed) the store in dir. Refuses a store written
 * by a newer schema; upgrades an older one in place in one transaction.
 * If the previous writer did not close the store, collects orphan blobs
 * (files no record references) before returning. */
int store_open(const char *dir, unsigned flags, struct store **store_r,
	       const char **error_r);
int store_open_opts(const char *dir, const struct store_options *opts,
		    struct store **store_r, const char **error_r);
void store_close(struct store **store);
/* The kind of error of the last store_open that failed in this process
 * (STORE_ERR_INUSE: another process has the store open). */
enum store_error store_open_last_error(void);
enum store_error store_last_error(const struct store *s);
/* Current LMDB map size; it doubles whenever LMDB reports it full. */
size_t store_map_size(const struct store *s);

/* ---- mailboxes ------------------------------------------------------- */

#define STORE_MAILBOX_NAME_MAX	1000	/* bytes of UTF-8 */
#define STORE_HIERARCHY_SEP	'/'

#define STORE_ATTR_NOSELECT	0x01	/* a name that only holds children */
#define STORE_ATTR_HASCHILDREN	0x02	/* computed when read */
#define STORE_ATTR_HASNOCHILDREN 0x04	/* computed when read */

/* RFC 6154 SPECIAL-USE, a bit mask */
#define STORE_SPECIAL_DRAFTS	0x01
#define STORE_SPECIAL_SENT	0x02
#define STORE_SPECIAL_TRASH	0x04
#define STORE_SPECIAL_JUNK	0x08
#define STORE_SPECIAL_ARCHIVE	0x10
#define STORE_SPECIAL_ALL	0x1f

struct store_mailbox {
	uint32_t id;		/* internal, never shown to clients */
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t messages;
	uint32_t unseen;
	uint32_t recent;
	uint32_t first_recent;	/* UIDs >= this are \Recent */
	uint64_t size;		/* sum of message sizes (octets) */
	unsigned attributes;	/* STORE_ATTR_* */
	unsigned special_use;	/* STORE_SPECIAL_* */
	char name[STORE_MAILBOX_NAME_MAX + 1];	/* "INBOX" for any case */
};

/* "\\Drafts" etc. for one bit, NULL otherwise. */
const char *store_special_use_name(unsigned bit);

/* Creates name, and any missing parent as a \Noselect name. Creating a
 * \Noselect name makes it selectable (with a new UIDVALIDITY). */
int store_mailbox_create(struct store *s, const char *name,
			 unsigned special_use, const char **error_r);
/* RFC 9051 6.3.4: a mailbox with children becomes \Noselect (messages
 * gone); one without disappears, with any \Noselect parent left empty.
 * INBOX cannot be deleted. Subscriptions are not touched. */
int store_mailbox_delete(struct store *s, const char *name,
			 const char **error_r);
/* Renames name and its children. Renaming INBOX moves its messages to a
 * new mailbox and leaves INBOX in place, empty (RFC 9051 6.3.6); INBOX's
 * children do not move. */
int store_mailbox_rename(struct store *s, const char *old_name,
			 const char *new_name, const char **error_r);
int store_mailbox_set_special_use(struct store *s, const char *name,
				  unsigned special_use, const char **error_r);
/* 1 = found, 0 = no such name, -1 = error */
int store_mailbox_get(struct store *s, const char *name,
		      struct store_mailbox *mb_r, const char **error_r);
int store_mailbox_get_by_id(struct store *s, uint32_t id,
			    struct store_mailbox *mb_r, const char **error_r);
/* Calls cb for every name in byte order; cb returns non-zero to stop. */
typedef int store_mailbox_cb(void *ctx, const struct store_mailbox *mb);
int store_mailbox_list(struct store *s, store_mailbox_cb *cb, void *ctx,
		       const char **error_r);
/* UID of the mailbox's first message without \Seen, 0 if there is none
 * (RFC 3501 6.3.1 [UNSEEN n]): one seek in an index, not a scan. */
int store_mailbox_first_unseen(struct store *s, uint32_t mailbox_id,
			       uint32_t *uid_r, const char **error_r);
/* A read-write SELECT takes the \Recent messages: *recent_r gets the old
 * first_recent (UIDs >= it are recent to this session) and the mailbox's
 * recent count drops to zero. */
int store_mailbox_take_recent(struct store *s, uint32_t mailbox_id,
			      uint32_t *first_recent_r, const char **error_r);

/* ---- subscriptions (independent of mailbox existence, RFC 9051 6.3.7) */

typedef int store_name_cb(void *ctx, const char *name);
int store_subscribe(struct store *s, const char *name, const char **error_r);
int store_unsubscribe(struct store *s, const char *name,
		      const char **error_r);
int store_subscription_list(struct store *s, store_name_cb *cb, void *ctx,
			    const char **error_r);

/* ---- messages ---------------------------------------------------------- */

#define STORE_FLAG_SEEN		0x01
#define STORE_FLAG_ANSWERED	0x02
#define STORE_FLAG_FLAGGED	0x04
#define STORE_FLAG_DELETED	0x08
#define STORE_FLAG_DRAFT	0x10
#define STORE_FLAGS_STORED	0x1f
#define STORE_FLAG_RECENT	0x20	/* computed from first_recent */

#define STORE_KEYWORD_MAX_LEN		250
#define STORE_MAILBOX_KEYWORDS_MAX	1000	/* distinct per mailbox */
#define STORE_MESSAGE_KEYWORDS_MAX	100	/* on one message */
#define STORE_MESSAGE_MAX_SIZE		((uint64_t)1 << 31)

struct store_append_msg {
	const void *data;	/* the message as received ... */
	size_t len;
	int fd;			/* ... or, if >= 0, read from fd to EOF */
	unsigned flags;		/* STORE_FLAGS_STORED bits */
	const char *const *keywords;
	size_t nkeywords;
	int64_t internaldate;	/* seconds since the epoch; 0 = now */
	int internaldate_tz;	/* its zone as given, minutes east of UTC
				 * (-1439..1439); ignored when 0 = now */
	const void *cache;	/* optional parsed-message cache bytes */
	size_t cache_len;
};

/* Builds the cache bytes of a message being appended from its stored
 * bytes (bare LF already turned into CRLF). Called before the commit,
 * for messages that bring no cache bytes. Returns 0, or -1 to store none. */
typedef int store_cache_builder(void *ctx, const uint8_t *data, size_t len,
				struct buf *out);
void store_set_cache_builder(struct store *s, store_cache_builder *fn,
			     void *ctx);

/* Stores the message (bare LF converted to CRLF), durable before the
 * commit that makes it visible, and returns its UID. */
int store_append(struct store *s, uint32_t mailbox_id,
		 const struct store_append_msg *msg, uint32_t *uid_r,
		 const char **error_r);

/* An anonymous read-write file in the store's tmp/ (O_TMPFILE, or a name
 * unlinked at once): room for a message on its way in, on the store's
 * file system, gone when closed. For store_append_msg.fd: rewind it. */
int store_tmpfile_open(struct store *s, int *fd_r, const char **error_r);

#define STORE_BATCH_SYNCFS	0x01	/* one syncfs() instead of fsyncs */
/* Appends n messages in one transaction; all or none. uids_r[n]. */
int store_append_batch(struct store *s, uint32_t mailbox_id,
		       const struct store_append_msg *msgs, size_t n,
		       unsigned flags, uint32_t *uids_r, const char **error_r);

/* UID sets: ranges in any order, may overlap; last may exceed UIDNEXT. */
struct store_uidrange {
	uint32_t first, last;
};
struct store_uidset {
	const struct store_uidrange *ranges;
	size_t count;
};

struct store_message {
	uint32_t uid;
	uint64_t blob_id;
	int64_t internaldate;
	int internaldate_tz;	/* minutes east of UTC, for display only */
	int64_t savedate;
	uint64_t size;
	uint64_t modseq;
	unsigned flags;		/* with STORE_FLAG_RECENT */
	size_t nkeywords;
	const char *const *keywords;	/* valid during the callback */
};

/* Calls cb for every message of set (NULL = all) in UID order inside one
 * read transaction; cb returns non-zero to stop, and must not write. */
typedef int store_message_cb(void *ctx, const struct store_message *msg);
int store_message_iter(struct store *s, uint32_t mailbox_id,
		       const struct store_uidset *set, store_message_cb *cb,
		       void *ctx, const char **error_r);
/* A read-only fd of the stored bytes (what FETCH returns). */
int store_message_open(struct store *s, uint64_t blob_id, int *fd_r,
		       const char **error_r);
int store_message_read(struct store *s, uint64_t blob_id, struct buf *out,
		       const char **error_r);

/* Parsed-message cache, opaque bytes per blob (shared by copies). */
int store_cache_put(struct store *s, uint64_t blob_id, const void *data,
		    size_t len, const char **error_r);
int store_cache_get(struct store *s, uint64_t blob_id, struct buf *out,
		    const char **error_r);

/* The mailbox's keyword table, in id order. */
int store_keyword_list(struct store *s, uint32_t mailbox_id,
		       store_name_cb *cb, void *ctx, const char **error_r);

enum store_flags_mode {
	STORE_FLAGS_ADD,
	STORE_FLAGS_REMOVE,
	STORE_FLAGS_REPLACE,
};

struct store_flags_req {
	enum store_flags_mode mode;
	unsigned flags;		/* STORE_FLAGS_STORED bits */
	const char *const *keywords;
	size_t nkeywords;
	uint64_t unchangedsince;	/* RFC 7162; 0 = no condition */
};

struct store_flags_change {
	uint32_t uid;
	unsigned flags;		/* new flags, with STORE_FLAG_RECENT */
	uint64_t modseq;
};

struct store_flags_result {
	struct store_flags_change *changed;	/* messages that changed */
	size_t nchanged;
	uint32_t *modified;	/* failed UNCHANGEDSINCE (MODIFIED code) */
	size_t nmodified;
};
void store_flags_result_free(struct store_flags_result *r);

/* Every changed message gets the mailbox's next MODSEQ. */
int store_flags_set(struct store *s, uint32_t mailbox_id,
		    const struct store_uidset *set,
		    const struct store_flags_req *req,
		    struct store_flags_result *result_r, const char **error_r);

/* Source -> destination UIDs, ascending (COPYUID, RFC 4315). */
struct store_uidmap {
	uint32_t *src;
	uint32_t *dst;
	size_t count;
};
void store_uidmap_free(struct store_uidmap *m);

int store_copy(struct store *s, uint32_t src_id,
	       const struct store_uidset *set, uint32_t dst_id,
	       struct store_uidmap *map_r, const char **error_r);
/* Copy and expunge from the source, in one transaction. */
int store_move(struct store *s, uint32_t src_id,
	       const struct store_uidset *set, uint32_t dst_id,
	       struct store_uidmap *map_r, const char **error_r);

#define STORE_EXPUNGE_ANY	0x01	/* ignore \Deleted */
/* Expunges the \Deleted messages of set (NULL = all). *uids_r (free())
 * gets the expunged UIDs, ascending. A blob whose last reference goes is
 * unlinked after the commit. */
int store_expunge(struct store *s, uint32_t mailbox_id,
		  const struct store_uidset *set, unsigned flags,
		  uint32_t **uids_r, size_t *nuids_r, const char **error_r);

/* ---- sequence numbers ---------------------------------------------------- */

/* The UIDs of a mailbox, ascending: seq n is uids[n-1]. Loaded from a
 * compact UID index (4 bytes a message), not from message records. */
struct store_seqmap {
	uint32_t mailbox_id;
	/* the mailbox's UIDVALIDITY and UIDNEXT when the map was read: a
	 * holder can tell whether the mailbox changed since */
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint32_t *uids;
	size_t count;
	size_t cap;
};

int store_seqmap_load(struct store *s, uint32_t mailbox_id,
		      struct store_seqmap *map, const char **error_r);
/* A new map of the mailbox as it is now, after appends to it since base
 * was read: base's UIDs and those above base's last UID, read from the
 * UID index past that point only. If the store holds a different count
 * (a change nobody said was an append), the whole map is read again. */
int store_seqmap_extend(struct store *s, const struct store_seqmap *base,
			struct store_seqmap *map_r, const char **error_r);
/* A new map: base without the n UIDs of uids (ascending; ones not in
 * base are ignored), in one pass over base. */
void store_seqmap_subtract(const struct store_seqmap *base,
			   const uint32_t *uids, size_t n,
			   struct store_seqmap *map_r);
void store_seqmap_free(struct store_seqmap *map);
/* 0 if seq is out of range */
uint32_t store_seqmap_uid(const struct store_seqmap *map, uint32_t seq);
/* 0 if uid is not in the map */
uint32_t store_seqmap_seq(const struct store_seqmap *map, uint32_t uid);
/* Index of the first UID >= uid in the ascending u[0..n), searched
 * forward from index from (the answer to the previous, lower uid):
 * O(1) a UID when they are asked in order, where a binary search of a
 * large array costs a cache miss a step. Out of order it starts over. */
size_t store_uids_gallop(const uint32_t *u, size_t n, size_t from,
			 uint32_t uid);
/* Index of the first UID >= uid in map (map->count if none). */
size_t store_seqmap_lower_bound(const struct store_seqmap *map, uint32_t uid);
/* The highest UID in the map, 0 if it is empty. */
uint32_t store_seqmap_last(const struct store_seqmap *map);
/* Sequence range of the UIDs in [first, last]; 0 if none. */
int store_seqmap_range(const struct store_seqmap *map, uint32_t first,
		       uint32_t last, uint32_t *seq_first_r,
		       uint32_t *seq_last_r);
/* After an append: uid must be above every UID in the map. */
void store_seqmap_add(struct store_seqmap *map, uint32_t uid);
/* After an expunge: returns the seq the UID had, 0 if absent. O(count):
 * for many UIDs, store_seqmap_subtract. */
uint32_t store_seqmap_remove(struct store_seqmap *map, uint32_t uid);

/* ---- consistency ----------------------------------------------------------- */

struct store_check_report {
	size_t mailboxes;
	size_t messages;
	size_t blobs;
	size_t problems;
	struct buf *details;	/* optional: one line per problem */
};

/* Recounts everything (counters, UID index, blob references, keyword ids,
 * names and parents, blob files and their sizes) and compares with what
 * is recorded. Returns 0 if consistent, 1 if problems were found, -1 on
 * error. Reads only. */
int store_check(struct store *s, struct store_check_report *report,
		const char **error_r);
/* Unlinks blob files and temp files that no record references. */
int store_gc(struct store *s, size_t *removed_r, const char **error_r);

#endif
