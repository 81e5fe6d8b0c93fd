/* The search index's vocabulary in memory (search-index.h, "Vocabulary"):
 * every word and separator string of the store with its id, a hash for
 * string -> id and a trigram index for "which entries contain this".
 * A mirror of the sx_vocab database, which only grows: entries 1..
 * committed are known to be there; entries above are this process's
 * own, added in a merge transaction not yet committed, and are dropped
 * if it is not. Pure memory; search-index.c keeps it in step. */
#ifndef POSTERN_SEARCH_VOCAB_H
#define POSTERN_SEARCH_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sx_vtri {
	uint32_t key;		/* trigram + 1; 0 = empty slot */
	uint32_t n, cap;
	uint32_t *ids;		/* ascending */
};

struct sx_vocab {
	uint32_t count;		/* ids 1..count */
	uint32_t committed;
	uint32_t *off;		/* off[id] .. off[id + 1]: the string */
	size_t off_cap;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	uint32_t *hash;		/* ids; 0 empty */
	size_t hash_cap;
	struct sx_vtri *tri;
	size_t tri_cap, tri_used;
	/* tokens (entries not starting with 0xFF) among ids 1..count, and
	 * the id of the SX_VOCAB_RANKS[i]-th (0: not that many yet): fixed
	 * once reached, since ids only grow (search-index-private.h, pairs) */
	uint32_t tokens;
	uint32_t rank_id[2];
};
#define SX_VOCAB_RANK_SEPS 128u
#define SX_VOCAB_RANK_WORDS 256u

void sx_vocab_init(struct sx_vocab *v);
void sx_vocab_free(struct sx_vocab *v);
/* The id of s, or 0. */
uint32_t sx_vocab_find(const struct sx_vocab *v, const uint8_t *s,
		       size_t len);
/* Adds s (not present; len >= 1) as id count + 1 and returns it. */
uint32_t sx_vocab_add(struct sx_vocab *v, const uint8_t *s, size_t len);
/* Makes room for entries more (a load of known size). */
void sx_vocab_reserve(struct sx_vocab *v, size_t entries);
/* Drops ids above count (a merge that did not commit). */
void sx_vocab_truncate(struct sx_vocab *v, uint32_t count);
static inline const uint8_t *sx_vocab_str(const struct sx_vocab *v,
					  uint32_t id, size_t *len_r)
{
	*len_r = v->off[id + 1] - v->off[id];
	return v->arena + v->off[id];
}
/* Bytes of memory held. */
size_t sx_vocab_bytes(const struct sx_vocab *v);

enum sx_vmatch {
	SX_VM_SUBSTR,		/* contains the string */
	SX_VM_SUFFIX,		/* ends with it */
	SX_VM_PREFIX,		/* starts with it */
};
/* Appends to *ids (ascending) every id whose string matches s (len >=
 * 1) as asked. Entries starting with 0xFF (the index's own) never
 * match. */
void sx_vocab_match(const struct sx_vocab *v, const uint8_t *s, size_t len,
		    enum sx_vmatch how, uint32_t **ids, size_t *n,
		    size_t *cap);

#endif
