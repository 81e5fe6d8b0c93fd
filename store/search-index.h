/* The search index of a store (issue 6, ARCHITECTURE "Search"): two
 * levels over the same folded text the SEARCH matcher uses
 * (daemon/imap/search-match.h). Its units (a header field, a part's
 * header field, a text part) are cut into words and separators
 * (store/search-token.h); a per-store VOCABULARY gives each distinct
 * token string an id; POSTINGS per namespace and token id list the
 * documents that have the token; the stored TEXT of a merged document is
 * its units as streams of token ids.
 *
 * Why two levels. The first version posted byte trigrams and verified
 * every candidate by inflating its zlib'd text (about 12 us a document):
 * a common word with 75,000 matches cost a second. Here a needle that
 * lies inside one token (a word, part of a word, "@", ", ") is answered
 * exactly, without reading any document: the vocabulary entries that
 * contain it (found through an in-memory trigram index over the
 * vocabulary, or one pass over all its strings for 1-2 bytes) and the
 * union of their postings are the documents that contain it. A needle
 * of k >= 2 tokens t1..tk occurs in a unit iff the unit has, at
 * consecutive places, a token ending with t1, the tokens t2..tk-1, and a
 * token starting with tk (search-token.h says why the boundaries line
 * up); its candidates are the intersection of the postings of those
 * sets (the most selective first, as far as reading them is cheap),
 * and the store decides each candidate on its token stream (shift-and
 * over the sets as bitmaps over the vocabulary: no inflating, no string
 * compare, about 2 us a document) in one cursor pass, so that every
 * answer it gives is exact but for held documents. The token streams
 * are also smaller than zlib'd text, the vocabulary being stored once.
 *
 * Phrases of common words would still have most documents as
 * candidates, so word, separator, word triples of common tokens also
 * have postings (pair postings, search-index-private.h): such a phrase's
 * candidates are the documents with one of the triples it can be, or
 * with one of its uncommon words.
 *
 * Measured at 100k generated messages (3.9 KB each, tests/bench, a
 * 2-core machine shared with other builds): rare word 0.1 ms, common
 * word (75k matches) 25 ms, phrase of two common words 46 ms, 1-2 byte
 * needles 30 ms, any query under 80 ms; postings 0.13x the mail,
 * vocabulary 0.02x, token streams 0.22x, all 0.38x; merge 6,500
 * documents/s.
 *
 * Documents are blobs (a COPY shares its blob, so it is indexed once);
 * blob ids are store-wide, never reused, and grow with every append.
 * Named databases in the user's LMDB environment:
 *
 *   sx_vocab    key id(4 BE) -> the token's bytes; ids from 1 in order of
 *               first use, id 1 always " " (SX_ID_SPACE); only grows
 *               (a reindex keeps it; unused entries cost a few bytes);
 *               entries starting with 0xFF are pair keys, not tokens
 *   sx_post     key id(4 BE) ns(1) first-doc(8 BE) -> chunk (below);
 *               the id first so that new lists are appended at the end
 *   sx_delta    generations: postings of recent merges (below)
 *   sx_text     key doc(8 BE) -> the token record (search-token.h) of a
 *               merged document
 *   sx_pending  key doc(8 BE) -> "" : the holding area: documents whose
 *               tokens are not in sx_post or sx_delta yet (a value is a
 *               held text from a version that stored them, read as such)
 *   sx_dirty    key doc(8 BE) -> "" : documents merged, then made stale
 *               (cache record replaced, mailbox reindexed) and merged
 *               again: their postings may still name old tokens, so
 *               answers for them are verified, never taken as exact
 *   sx_blobmsg  key doc(8 BE) -> dups mailbox(4 BE) uid(4 BE): where the
 *               document is (added with every message record; entries of
 *               moved or expunged messages may stay, since UIDs are never
 *               reused a reader checks the record exists)
 *
 * Generations. A merge of a few hundred documents touches tens of
 * thousands of lists; in sx_post those lie on nearly every page, so each
 * merge rewrote all of sx_post (at 30k messages 14-19 MB and 110-155 ms
 * for 256 documents, growing with the store). So a merge of fewer than
 * SX_GEN_DOCS_MAX documents writes its lists as a new generation of
 * sx_delta instead: key gen(4 BE) + a posting key, appended in key
 * order after the generation's header (key gen(4 BE) -> level(1)
 * documents(4 BE)); the same merge costs 21-40 ms and 1.4-1.7 MB. Eight
 * generations of one level are combined into one of the next (a
 * sequential rewrite; a list in one generation only is copied as it is);
 * when the generations hold at least max(SX_FOLD_MIN_DEFAULT, a quarter
 * of sx_post's) documents, a fold moves them into sx_post, in steps of
 * SX_FOLD_STEP_LISTS lists over ascending token ids (the state, key gen
 * 0 -> the next token id, says where), one step after each append, so
 * that every page of sx_post is rewritten once per fold rather than once
 * per merge. Readers take each list as the union of its chunks in
 * sx_post and in every generation; each step moves lists in one
 * transaction, so every state answers the same.
 *
 * Held texts. The text a held document is merged from (the extractor's
 * record, below) is made at append and kept in memory by the store
 * handle (search-held.c, at most SX_HELD_BYTES_MAX), not in the store:
 * writing it cost each durable APPEND a few kilobytes of commit and each
 * merge its deletion. A held document whose text is not in memory (after
 * a restart, an import past the bound) has it made again from its
 * message by the merge or by the first query that needs it.
 *
 * Invariants, each kept inside the transaction that changes the store:
 *  1. every live blob is either merged (all its tokens are in sx_vocab
 *     and its (ns, token) pairs in sx_post or a generation, its text a
 *     token record) or in sx_pending; append puts it in sx_pending in
 *     its own txn, a merge moves a batch from sx_pending to the
 *     postings, adding vocabulary entries and writing the texts, in one
 *     txn. A crash at any moment leaves one state or the other; a
 *     combination or a fold step moves lists in one txn.
 *  2. sx_text of a doc, when present, is what the extractor makes of the
 *     blob and its current cache record, as tokens; replacing the cache
 *     record drops the text (and the held text in memory) and puts the
 *     doc back in sx_pending, and in sx_dirty if it had been merged.
 *  3. the postings may name dead documents (expunged): a reader maps
 *     every candidate through sx_blobmsg and the message records, so a
 *     dead one yields nothing. For a live document that is neither held
 *     nor dirty, sx_post and the generations together name exactly its
 *     tokens: that is what makes one-token answers exact.
 *
 * Memory: the vocabulary is mirrored in the store handle (store/
 * search-vocab.h), loaded at the first search or merge and kept in step
 * with sx_vocab (new entries are read at each query; a merge adds its
 * own): its strings, an offset, a hash slot and the trigram index: 57
 * bytes an entry at 100k messages (345,000 entries with the pairs,
 * 19.6 MB, most of them tokens of one message such as Message-ID parts;
 * store_sx_stats.vocab_mem gives it). Loading it costs 0.3-0.6 s at a
 * worker's first search of such a store.
 *
 * Namespaces: SUBJECT, FROM, TO, CC, BCC (the decoded fields), HEADER
 * (every unit of the top-level header as TEXT sees it, "NAME: value", and
 * the MIME headers of the other parts) and BODY (the text parts). A
 * match never spans units, so neither does a token. HEADER name keys
 * narrow through the HEADER units and are always verified on the value.
 *
 * Chunk encoding (one LMDB value, at most SX_CHUNK_BYTES_MAX bytes of
 * payload, about 1 KB): the first id is in the key; the value is
 *   0x00 count(varint >= 1) then count-1 deltas (varints >= 1), or
 *   0x01 span(varint >= 1) then ceil(span/8) bytes of bitmap, bit i (LSB
 *        first) for id first+i; bit 0 and bit span-1 are set, no other
 *        bit past span-1.
 * whichever is smaller. Decoders are total: anything else is refused.
 *
 * Held text record (strings, in memory): 0x01 (version) then two blocks,
 * each
 *   method(byte: 0 stored, 1 zlib) raw_len(varint) stored_len(varint)
 *   bytes
 * the header block: five strings (varint length + bytes: folded subject,
 * from, to, cc, bcc), varint field count, per field the raw name and the
 * folded, decoded value (strings), then the part headers (one string,
 * folded units each ended by 0xFF); the body block: the folded text
 * parts, each ended by 0xFF. Made stored (method 0): the record lives
 * only until the next merge, and deflating it would cost every APPEND. */
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
/* A merge transaction of fewer documents than this writes a new
 * generation in sx_delta; a larger one (an import, a reindex, a
 * backlog) writes sx_post itself, its many documents sharing the
 * pages it rewrites. */
#define SX_GEN_DOCS_MAX 1024
/* fanout generations of one level are combined into one of the next
 * (0 or 1: never); a fold of every generation into sx_post starts when
 * they hold at least fold_min documents and at least 1/SX_FOLD_RATIO of
 * those in sx_post (fold_min 0: only store_search_merge with max 0
 * folds). */
#define SX_GEN_FANOUT_DEFAULT 8
#define SX_FOLD_MIN_DEFAULT 4096
#define SX_FOLD_RATIO 4
void store_set_search_generations(struct store *s, size_t fanout,
				  size_t fold_min);

/* Moves up to max held documents (0 = all) into the postings, in
 * transactions of at most batch documents (0 = default). Documents
 * without text are extracted first if an extractor is set, and skipped
 * (left held) if not. *merged_r (may be NULL) gets the number merged.
 * With max 0 it then folds every generation into sx_post. */
int store_search_merge(struct store *s, size_t max, size_t batch,
		       size_t *merged_r, const char **error_r);

/* Folds every generation into sx_post (steps of their own
 * transactions; a fold in progress is finished). */
int store_search_fold(struct store *s, const char **error_r);

/* A text key compiled against the vocabulary: the needle's tokens and
 * the vocabulary ids each may be. header: the field name of a HEADER key
 * (ns_mask then HEADER alone), else NULL. */
struct store_sx_query;
int store_search_query(struct store *s, unsigned ns_mask, const char *header,
		       const uint8_t *needle, size_t len,
		       struct store_sx_query **q_r, const char **error_r);
void store_search_query_free(struct store_sx_query **q);

/* The messages of mailbox_id that a query matches, ascending and
 * distinct: uids. A message in uids and not in verify matches, one not
 * in uids does not; verify lists those to decide with
 * store_search_verify: held documents, and any whose stored streams
 * could not decide. One-token needles take the postings as the answer
 * (exact for documents that are not dirty); the others are decided here
 * on the candidates' token streams. all: the index cannot narrow (the
 * empty needle); uids is then NULL. UIDs of expunged messages are not
 * returned, but UIDs moved out and back can be: callers decide on the
 * message records anyway. */
struct store_sx_cand {
	uint32_t *uids;
	size_t count;
	bool all;
	bool exact;		/* set whenever !all */
	uint32_t *verify;
	size_t nverify;
	/* figures for the log and the benchmark */
	size_t postings_read;	/* ids decoded */
	size_t docs;		/* documents from the postings */
	size_t decided;		/* of those, decided on their streams */
	size_t held;		/* held documents added */
};
int store_search_candidates(struct store *s, struct store_sx_query *q,
			    uint32_t mailbox_id, struct store_sx_cand *cand_r,
			    const char **error_r);
void store_sx_cand_free(struct store_sx_cand *c);

/* Decides q on the stored text of a blob: 1 or 0; 2 if it has none
 * (held without extraction) or its record does not decode: use the
 * matcher; 3 if it is a held document, loaded into d (sx_doc_load):
 * decide with search_doc_match; -1 on error. */
int store_search_verify(struct store *s, struct store_sx_query *q,
			uint64_t blob_id, struct sx_doc *d,
			const char **error_r);

/* Test hook: called in every merge transaction after its postings are
 * written, before the commit (the property test dies there). */
extern void (*store_sx_debug_merge_hook)(void);

/* Test hook: lists moved by a fold step (0: the default). */
extern size_t store_sx_debug_fold_step;

/* Test hooks: adds ids (ascending) to the list of (ns, token id) in one
 * transaction; reads a whole list back with its chunk count and the
 * largest chunk value. */
int store_sx_debug_post_add(struct store *s, unsigned ns, uint32_t tok,
			    const uint64_t *ids, size_t n,
			    const char **error_r);
int store_sx_debug_post_read(struct store *s, unsigned ns, uint32_t tok,
			     uint64_t **ids_r, size_t *n_r, size_t *chunks_r,
			     size_t *max_value_r, const char **error_r);

struct store_sx_stats {
	size_t held;		/* documents in the holding area */
	size_t held_no_text;
	size_t docs;		/* documents with text */
	uint64_t post_bytes;	/* pages of sx_post */
	uint64_t post_chunks;
	uint64_t text_bytes;	/* pages of sx_text */
	uint64_t vocab_bytes;	/* pages of sx_vocab */
	uint64_t vocab_entries;
	uint64_t vocab_mem;	/* the vocabulary in this handle, if loaded */
	size_t dirty;		/* documents in sx_dirty */
	size_t gens;		/* generations in sx_delta */
	unsigned gen_level_max;	/* the highest level among them */
	bool folding;		/* a fold is in progress */
	uint64_t delta_bytes;	/* pages of sx_delta (in post_bytes too) */
	/* this handle's time in the index's work at appends: extracting
	 * texts, and merging, combining and folding after them */
	double extract_secs, merge_secs;
	uint64_t post_pages;	/* LMDB pages of each */
	uint64_t text_pages;
	uint64_t vocab_pages;
	uint64_t other_pages;	/* sx_pending + sx_dirty + sx_blobmsg */
};
int store_search_stats(struct store *s, struct store_sx_stats *st,
		       const char **error_r);

#endif
