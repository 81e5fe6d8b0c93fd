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
