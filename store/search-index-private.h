/* Internals shared by search-index.c (hooks, merge) and search-query.c
 * (queries); see search-index.h. */
#ifndef POSTERN_SEARCH_INDEX_PRIVATE_H
#define POSTERN_SEARCH_INDEX_PRIVATE_H

#include <string.h>

#include "search-index.h"
#include "search-token.h"
#include "search-vocab.h"
#include "store-private.h"

#define SX_PKEY_LEN 13		/* id(4) ns(1) first(8) */
#define SX_PPREFIX_LEN 5

/* The token id leads: ids grow, so the lists a merge starts (most of
 * them a new token's single document) all go at the end of sx_post,
 * appended into full pages, where a namespace first would open seven
 * insertion points that LMDB splits half empty (measured: 0.48 fill). */
static inline void sx_key_post(uint8_t key[SX_PKEY_LEN], unsigned ns,
			       uint32_t id, uint64_t first)
{
	key[0] = (uint8_t)(id >> 24);
	key[1] = (uint8_t)(id >> 16);
	key[2] = (uint8_t)(id >> 8);
	key[3] = (uint8_t)id;
	key[4] = (uint8_t)ns;
	store_key_blob(key + SX_PPREFIX_LEN, first);
}

/* k is a key of sx_post in the list whose key (or prefix) is key. */
static inline bool sx_same_list(const MDB_val *k, const uint8_t *key)
{
	return k->mv_size == SX_PKEY_LEN &&
	       memcmp(k->mv_data, key, SX_PPREFIX_LEN) == 0;
}

/* Generations (sx_delta, search-index.h): a generation's chunks have
 * the key gen(4 BE) then a posting key, after its header, the key
 * gen(4 BE) alone -> level(1) documents(4 BE); the state of a fold in
 * progress is the key gen 0 -> the first token id (4 BE) not yet
 * folded. */
#define SX_DKEY_LEN (4 + SX_PKEY_LEN)
#define SX_GEN_HDR_LEN 4
#define SX_FOLD_KEY_LEN 4
struct sx_gen {
	uint32_t gen;
	unsigned level;
	uint32_t docs;
};
static inline void sx_key_delta(uint8_t key[SX_DKEY_LEN], uint32_t gen,
				unsigned ns, uint32_t id, uint64_t first)
{
	key[0] = (uint8_t)(gen >> 24);
	key[1] = (uint8_t)(gen >> 16);
	key[2] = (uint8_t)(gen >> 8);
	key[3] = (uint8_t)gen;
	sx_key_post(key + 4, ns, id, first);
}

/* The generations in sx_delta, ascending, into *gens_r (xmalloc'd; NULL
 * when none). 0 or -1. */
int sx_gens_list(struct store *s, MDB_txn *txn, struct sx_gen **gens_r,
		 size_t *n_r);

/* Pair postings: phrases of common words ("of the", "plesun sting") have
 * tens of thousands of candidates by their words alone, each to decide
 * on its stream. So a merge also posts, per unit, each word, separator,
 * word triple whose words are among the vocabulary's first 256 tokens
 * and whose separator among its first 128 (SUBJECT and BODY only). Ids
 * never change, so whether a triple is posted is fixed forever: a token
 * qualifies if its id is at most that of the 256th (128th) token, or
 * there are not that many yet. The first tokens are those of the first
 * messages, which in Zipf text are the common ones (a rare word's own
 * postings are short anyway). A triple is a vocabulary entry of its
 * own, 0xFF then the three ids (3 bytes each; 0xFF never occurs in
 * UTF-8, so no token or needle is or contains one; such entries are not
 * tokens and do not count in the ranks), given an id at first use like
 * a token, so that new pair lists too are appended at the end of
 * sx_post. Measured at 100k messages: 1024 words, 2048 separators and
 * every namespace posted 636,000 more lists (postings 0.10x -> 0.26x
 * the mail); these limits keep the pairs that phrases of common words
 * need. */
#define SX_PAIR_NS_MASK (1u << SX_NS_SUBJECT | 1u << SX_NS_BODY)
#define SX_PAIR_MARK 0xFF
#define SX_PAIR_LEN 10
static inline bool sx_pair_common(const struct sx_vocab *v, uint32_t id,
				  int rank)
{
	return id < (1u << 24) &&
	       (v->rank_id[rank] == 0 || id <= v->rank_id[rank]);
}
static inline bool sx_pair_ok(const struct sx_vocab *v, uint32_t a,
			      uint32_t sep, uint32_t b)
{
	return sx_pair_common(v, a, 1) && sx_pair_common(v, b, 1) &&
	       sx_pair_common(v, sep, 0);
}
static inline void sx_pair_key(uint8_t out[SX_PAIR_LEN], uint32_t a,
			       uint32_t sep, uint32_t b)
{
	uint32_t v[3] = { a, sep, b };
	out[0] = SX_PAIR_MARK;
	for (int i = 0; i < 3; i++) {
		out[1 + 3 * i] = (uint8_t)(v[i] >> 16);
		out[2 + 3 * i] = (uint8_t)(v[i] >> 8);
		out[3 + 3 * i] = (uint8_t)v[i];
	}
}

/* Brings the store's vocabulary mirror in step with sx_vocab as txn sees
 * it: drops this process's uncommitted entries, reads entries others
 * added. 0 or -1. */
int sx_vocab_sync(struct store *s, MDB_txn *txn);

/* (namespace, token) -> a merge batch's documents, ascending. */
struct acc_entry {
	uint64_t key;		/* id << 8 | ns; 0 = empty (id >= 1) */
	uint32_t n, cap;
	uint64_t *ids;
};

/* Writes a merge's lists (sorted by key) of docs documents as a new
 * generation of sx_delta, combines full levels, and starts a fold when
 * the generations are due (search-delta.c). */
int sx_gen_write(struct store *s, MDB_txn *txn, const struct acc_entry *list,
		 size_t n, size_t docs);

/* Scratch of the writes to one posting DB in a transaction. */
struct post_scratch {
	uint64_t *old, *all;
	size_t nold, oldcap, allcap;
	struct buf val;
	/* the greatest key of sx_post (have_last): keys above it are
	 * appended, which fills pages instead of splitting them */
	uint8_t last[SX_PKEY_LEN];
	bool have_last;
};
/* Reads the greatest key of sx_post through c into ps (search-post.c). */
int sx_post_last(struct store *s, MDB_cursor *c, struct post_scratch *ps);
/* Adds ids (ascending, distinct) to the list of (ns, tok) in sx_post
 * through c (a cursor on it): only the chunks the new ids fall into are
 * read and rewritten. */
int sx_post_add(struct store *s, MDB_txn *txn, MDB_cursor *c, unsigned ns,
		uint32_t tok, const uint64_t *ids, size_t n,
		struct post_scratch *ps);
void sx_post_scratch_free(struct post_scratch *ps);

/* Texts of held documents in memory (search-held.c), at most
 * SX_HELD_BYTES_MAX bytes of them: a few thousand documents. */
#define SX_HELD_BYTES_MAX ((size_t)8 << 20)
bool sx_held_room(const struct store *s);
void sx_held_put(struct store *s, uint64_t id, const struct buf *rec);
const struct buf *sx_held_get(const struct store *s, uint64_t id);
void sx_held_drop(struct store *s, uint64_t id);
size_t sx_held_texts(const struct store *s);
/* Makes the text of held document id from its message into rec: false
 * if there is no extractor or the message cannot be read. */
bool sx_extract_held(struct store *s, MDB_txn *txn, uint64_t id,
		     struct buf *rec);
void sx_held_free(struct store *s);

/* Ascending uint64 lists. */
struct idlist {
	uint64_t *v;
	size_t n, cap;
};

#endif
