/* Internals shared by search-index.c (hooks, merge) and search-query.c
 * (queries); see search-index.h. */
#ifndef POSTERN_SEARCH_INDEX_PRIVATE_H
#define POSTERN_SEARCH_INDEX_PRIVATE_H

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

/* Ascending uint64 lists. */
struct idlist {
	uint64_t *v;
	size_t n, cap;
};

#endif
