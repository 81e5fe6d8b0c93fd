/* On-disk records of the store: explicit, versioned, little-endian
 * encodings (never a struct memcpy), and the big-endian keys whose byte
 * order makes LMDB cursor walks go in (mailbox id, UID) order.
 *
 * Decoders are pure and total: any byte string either decodes to a record
 * whose invariants hold or is refused with -1. They are fuzzed by
 * tests/fuzz/fuzz-store-record.c. */
#ifndef POSTERN_STORE_RECORD_H
#define POSTERN_STORE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "store.h"

#define STORE_REC_VERSION 1
/* Message records are written as version 2, which adds the INTERNALDATE's
 * zone; version 1 records still decode, with zone +0000. A new field in a
 * record needs no schema change when old records keep decoding. */
#define STORE_REC_MESSAGE_VERSION 2
/* RFC 9051 zone: +-hhmm, at most 23:59 either way. */
#define STORE_TZ_MIN_MAX 1439

/* "meta" database, key "state" */
struct store_rec_meta {
	uint32_t next_mailbox_id;
	uint32_t next_uidvalidity;
	uint64_t next_blob;
	bool dirty;		/* set while a writer has the store open */
};

/* "mailboxes" database, key = mailbox id (u32 BE) */
struct store_rec_mailbox {
	uint32_t id;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint32_t first_recent;	/* UIDs >= this are \Recent */
	uint64_t highestmodseq;
	uint32_t messages;
	uint32_t unseen;
	uint32_t recent;
	uint64_t size;
	uint32_t attributes;	/* STORE_ATTR_NOSELECT only */
	uint32_t special_use;
	uint16_t nkeywords;	/* keyword ids 0..nkeywords-1 are in use */
	uint16_t name_len;
	char name[STORE_MAILBOX_NAME_MAX + 1];
};

/* "messages" database, key = mailbox id (u32 BE) + UID (u32 BE) */
struct store_rec_message {
	uint64_t blob_id;
	int64_t internaldate;
	int16_t internaldate_tz;	/* its zone, minutes east of UTC */
	int64_t savedate;
	uint64_t size;
	uint64_t modseq;
	uint8_t flags;		/* STORE_FLAGS_STORED bits */
	uint16_t nkeywords;
	uint16_t keywords[STORE_MESSAGE_KEYWORDS_MAX];	/* ascending ids */
};

/* "blobrefs" database, key = blob id (u64 BE) */
struct store_rec_blobref {
	uint32_t refcount;
};

void store_rec_meta_encode(const struct store_rec_meta *r, struct buf *out);
int store_rec_meta_decode(const void *data, size_t len,
			  struct store_rec_meta *r);
void store_rec_mailbox_encode(const struct store_rec_mailbox *r,
			      struct buf *out);
int store_rec_mailbox_decode(const void *data, size_t len,
			     struct store_rec_mailbox *r);
void store_rec_message_encode(const struct store_rec_message *r,
			      struct buf *out);
int store_rec_message_decode(const void *data, size_t len,
			     struct store_rec_message *r);
void store_rec_blobref_encode(const struct store_rec_blobref *r,
			      struct buf *out);
int store_rec_blobref_decode(const void *data, size_t len,
			     struct store_rec_blobref *r);
/* Plain little-endian u32 values: "schema" in meta, mailbox_names data. */
void store_rec_u32_encode(uint32_t v, struct buf *out);
int store_rec_u32_decode(const void *data, size_t len, uint32_t *v_r);

/* Keys. */
void store_key_mailbox(uint8_t key[4], uint32_t mailbox_id);
void store_key_message(uint8_t key[8], uint32_t mailbox_id, uint32_t uid);
void store_key_blob(uint8_t key[8], uint64_t blob_id);
void store_key_keyword(uint8_t key[6], uint32_t mailbox_id, uint16_t kw);
uint32_t store_get_be32(const void *p);
uint64_t store_get_be64(const void *p);

/* Validation shared by the API and the decoders. */
bool store_keyword_valid(const char *kw, size_t len);
bool store_mailbox_name_valid(const char *name, size_t len);

#endif
