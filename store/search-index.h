/* The search index of a store (issue 6, ARCHITECTURE "Search"): trigram
 * posting lists over the same folded text the SEARCH matcher uses
 * (daemon/imap/search-match.h), and that text itself, stored compressed,
 * so that candidates from the postings are verified without reading or
 * parsing the message. The index narrows; verification decides. Results
 * are therefore exactly those of the scanning evaluator as long as the
 * candidate set is a superset of the matches, which is what the
 * invariants below keep.
 *
 * Documents are blobs (a COPY shares its blob, so it is indexed once);
 * blob ids are store-wide, never reused, and grow with every append.
 * Named databases in the user's LMDB environment:
 *
 *   sx_post     key ns(1) trigram(3) first-doc(8 BE) -> chunk (below)
 *   sx_text     key doc(8 BE) -> document text record (below)
 *   sx_pending  key doc(8 BE) -> "" : the holding area: documents whose
 *               trigrams are not in sx_post yet
 *   sx_blobmsg  key doc(8 BE) -> dups mailbox(4 BE) uid(4 BE): where the
 *               document is (added with every message record; entries of
 *               moved or expunged messages may stay, since UIDs are never
 *               reused a reader checks the record exists)
 *
 * Invariants, each kept inside the transaction that changes the store:
 *  1. every live blob is either merged (all its trigrams are in sx_post)
 *     or in sx_pending; append puts it in sx_pending in its own txn, a
 *     merge moves a batch from sx_pending to sx_post in one txn. A crash
 *     at any moment leaves one state or the other.
 *  2. sx_text of a doc, when present, is what the extractor makes of the
 *     blob and its current cache record; replacing the cache record drops
 *     the text and puts the doc back in sx_pending.
 *  3. sx_post may name dead documents (expunged): a reader maps every
 *     candidate through sx_blobmsg and the message records, so a dead
 *     one yields nothing.
 *
 * Namespaces: SUBJECT, FROM, TO, CC, BCC (the decoded fields), HEADER
 * (every unit of the top-level header as TEXT sees it, "NAME: value", and
 * the MIME headers of the other parts) and BODY (the text parts).
 * Trigrams are byte trigrams of the folded UTF-8 inside one unit: a match
 * never spans units, so neither does a trigram.
 *
 * Chunk encoding (one LMDB value, at most SX_CHUNK_BYTES_MAX bytes of
 * payload, about 1 KB): the first id is in the key; the value is
 *   0x00 count(varint >= 1) then count-1 deltas (varints >= 1), or
 *   0x01 span(varint >= 1) then ceil(span/8) bytes of bitmap, bit i (LSB
 *        first) for id first+i; bit 0 and bit span-1 are set, no other
 *        bit past span-1.
 * whichever is smaller. Decoders are total: anything else is refused.
 *
 * Document text record: 0x01 (version) then two blocks, each
 *   method(byte: 0 stored, 1 zlib) raw_len(varint) stored_len(varint)
 *   bytes
 * the header block: five strings (varint length + bytes: folded subject,
 * from, to, cc, bcc), varint field count, per field the raw name and the
 * folded, decoded value (strings), then the part headers (one string,
 * folded units each ended by 0xFF); the body block: the folded text
 * parts, each ended by 0xFF. */
#ifndef POSTERN_SEARCH_INDEX_H
#define POSTERN_SEARCH_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

struct store;

enum sx_ns {
	SX_NS_SUBJECT,
	SX_NS_FROM,
	SX_NS_TO,
	SX_NS_CC,
	SX_NS_BCC,
	SX_NS_HEADER,
	SX_NS_BODY,
	SX_NS_COUNT
};
#define SX_FIELD_COUNT 5	/* SUBJECT .. BCC */
#define SX_UNIT_END 0xFF	/* ends a unit of folded text */

/* ---- posting chunks (pure) ------------------------------------------ */

#define SX_CHUNK_BYTES_MAX 1024
#define SX_CHUNK_IDS_MAX (8 * SX_CHUNK_BYTES_MAX)

/* Encodes ids[0..n) (ascending, distinct, n >= 1; ids[0] goes in the
 * key) into one chunk value. */
void sx_chunk_encode(const uint64_t *ids, size_t n, struct buf *out);
/* How many of ids[0..n) (n >= 1) fit in one chunk of at most max bytes
 * (>= 1: one id always fits). */
size_t sx_chunk_fit(const uint64_t *ids, size_t n, size_t max);
/* Appends the ids of a chunk with first id first to *ids (grown with
 * xrealloc; *cap its capacity). 0, or -1 if the value is malformed
 * (ids past *n are then undefined). */
int sx_chunk_decode(const uint8_t *p, size_t len, uint64_t first,
		    uint64_t **ids, size_t *n, size_t *cap);

size_t sx_varint_put(uint8_t *p, uint64_t v);
/* Bytes used, or 0 if malformed (overlong, past end, above 2^64-1). */
size_t sx_varint_get(const uint8_t *p, size_t len, uint64_t *v_r);
void sx_buf_varint(struct buf *b, uint64_t v);
void sx_buf_str(struct buf *b, const void *p, size_t len);

/* ---- documents (pure) ------------------------------------------------ */

struct sx_str {
	const uint8_t *p;
	size_t len;
};

struct sx_field {
	struct sx_str name;	/* raw, as in the header */
	struct sx_str value;	/* folded, decoded */
};

/* A decoded document; the views point into hdr and body, which are
 * inflated on demand (sx_doc_need): a FROM check never inflates the
 * body. */
#define SX_DOC_HDR 1
#define SX_DOC_BODY 2
struct sx_doc {
	struct buf rec;		/* the record, copied */
	size_t blk_at[2];	/* offsets of the two blocks in rec */
	unsigned have;		/* SX_DOC_* decoded */
	struct buf hdr, body;
	struct sx_str field[SX_FIELD_COUNT];
	struct sx_field *fields;
	size_t nfields, fields_cap;
	struct sx_str part_headers;
	struct sx_str body_text;
};

void sx_doc_init(struct sx_doc *d);
void sx_doc_free(struct sx_doc *d);
/* Packs an uncompressed header block (layout above) and body into a
 * record. */
void sx_doc_pack(const struct buf *hdr, const struct buf *body,
		 struct buf *out);
/* Unpacks and parses a record into d (reusing its buffers). 0, or -1 if
 * the record is malformed. */
int sx_doc_unpack(const uint8_t *rec, size_t len, struct sx_doc *d);
/* The same, decoding no block yet: only the record's framing is checked
 * here, each block when sx_doc_need() asks for it (-1 if malformed). */
int sx_doc_load(const uint8_t *rec, size_t len, struct sx_doc *d);
int sx_doc_need(struct sx_doc *d, unsigned what);

/* Calls fn for every distinct trigram (24-bit value, first byte most
 * significant) of the units of ns in d. seen is a scratch bitmap of
 * 2^24 bits, all clear on entry and on return. */
typedef void sx_trigram_fn(void *ctx, uint32_t tri);
void sx_doc_trigrams(const struct sx_doc *d, enum sx_ns ns, uint8_t *seen,
		     sx_trigram_fn *fn, void *ctx);
#define SX_SEEN_BYTES ((size_t)1 << 21)

/* ---- the index in a store ------------------------------------------- */

/* Builds the document record of a message from its stored bytes and its
 * cache record (cache NULL: none). 0, or -1 to index none (the doc then
 * stays in the holding area and is verified by the caller's matcher). */
typedef int store_sx_extractor(void *ctx, const uint8_t *data, size_t len,
			       const uint8_t *cache, size_t cache_len,
			       struct buf *rec_out);
void store_set_search_extractor(struct store *s, store_sx_extractor *fn,
				void *ctx);
/* Merge automatically after an append once this many documents are held
 * (0: never; default SX_MERGE_DEFAULT). */
#define SX_MERGE_DEFAULT 256
/* At most this many documents are merged after one append. */
#define SX_MERGE_STEP_MAX 2048
void store_set_search_merge_threshold(struct store *s, size_t n);

/* Moves up to max held documents (0 = all) into the postings, in
 * transactions of at most batch documents (0 = default). Documents
 * without text are extracted first if an extractor is set, and skipped
 * (left held) if not. *merged_r (may be NULL) gets the number merged. */
int store_search_merge(struct store *s, size_t max, size_t batch,
		       size_t *merged_r, const char **error_r);

/* Candidates of one text key: the UIDs of mailbox_id that may contain
 * needle (folded) in one of the namespaces of ns_mask (1 << SX_NS_*),
 * ascending and distinct, plus every held document of the mailbox.
 * *all_r is set instead when the index cannot narrow (a needle shorter
 * than three bytes); *uids_r is then NULL. UIDs of expunged messages
 * are not returned, but UIDs moved out and back can be: callers decide
 * on the message records anyway. */
struct store_sx_cand {
	uint32_t *uids;
	size_t count;
	bool all;
	/* figures for the log and the benchmark */
	size_t postings_read;	/* ids decoded */
	size_t docs;		/* candidate documents before the map */
	size_t held;		/* held documents added */
};
int store_search_candidates(struct store *s, uint32_t mailbox_id,
			    unsigned ns_mask, const uint8_t *needle,
			    size_t len, struct store_sx_cand *cand_r,
			    const char **error_r);
void store_sx_cand_free(struct store_sx_cand *c);

/* The document of a blob: 1 with d loaded (sx_doc_load: call
 * sx_doc_need before reading), 0 if it has no text (held without
 * extraction: use the matcher), -1 on error. */
int store_search_doc(struct store *s, uint64_t blob_id, struct sx_doc *d,
		     const char **error_r);

/* Test hook: called in every merge transaction after its postings are
 * written, before the commit (the property test dies there). */
extern void (*store_sx_debug_merge_hook)(void);

/* Test hooks: adds ids (ascending) to the list of (ns, tri) in one
 * transaction; reads a whole list back with its chunk count and the
 * largest chunk value. */
int store_sx_debug_post_add(struct store *s, unsigned ns, uint32_t tri,
			    const uint64_t *ids, size_t n,
			    const char **error_r);
int store_sx_debug_post_read(struct store *s, unsigned ns, uint32_t tri,
			     uint64_t **ids_r, size_t *n_r, size_t *chunks_r,
			     size_t *max_value_r, const char **error_r);

struct store_sx_stats {
	size_t held;		/* documents in the holding area */
	size_t held_no_text;
	size_t docs;		/* documents with text */
	uint64_t post_bytes;	/* keys + values of sx_post */
	uint64_t post_chunks;
	uint64_t text_bytes;	/* keys + values of sx_text */
	uint64_t post_pages;	/* LMDB pages of each */
	uint64_t text_pages;
	uint64_t other_pages;	/* sx_pending + sx_blobmsg */
};
int store_search_stats(struct store *s, struct store_sx_stats *st,
		       const char **error_r);

#endif
