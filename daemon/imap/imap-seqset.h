/* IMAP sequence sets (RFC 9051 section 9: sequence-set, seq-range,
 * seq-number) and the SEARCHRES reference "$" (RFC 5182 section 2.1).
 *
 * A set is kept as sorted, disjoint, non-adjacent ranges of 32-bit
 * numbers. "*" ("the largest number in use") cannot be known while
 * parsing, so every item that mentions it is folded into one star range,
 * which imap_seqset_resolve() turns into numbers later: the ranges "n:*"
 * all contain the maximum, so their union is always one contiguous range
 * from min(smallest n, max) to max(largest n, max). */
#ifndef POSTERN_IMAP_SEQSET_H
#define POSTERN_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/buf.h"

/* A default for max_items: far above what real clients send (a few
 * hundred ranges for a sparse UID set), far below what would cost. */
#define IMAP_SEQSET_DEFAULT_MAX_ITEMS 10000

struct imap_seq_range {
	uint32_t lo, hi;	/* 1 <= lo <= hi */
};

struct imap_seqset {
	struct imap_seq_range *ranges;
	size_t count, cap;
	/* Unresolved "*": the set also holds min(star_lo, max) ..
	 * max(star_hi, max). A bare "*" leaves star_lo = UINT32_MAX and
	 * star_hi = 0, so it contributes just max. */
	bool star;
	uint32_t star_lo, star_hi;
	/* "$": the whole set is the saved search result (RFC 5182); no
	 * ranges, no star. */
	bool saved;
};

/* An empty set (no allocation until something is added). */
void imap_seqset_init(struct imap_seqset *set);
void imap_seqset_free(struct imap_seqset *set);

/* Parses a sequence-set (or "$" if allow_saved) into *set_r, which it
 * initialises. No leading zeros, no 0, nothing above 4294967295, at most
 * max_items comma-separated items. Returns 0, or -1 with an error for
 * "tag BAD" (*set_r is then empty and need not be freed). */
int imap_seqset_parse(const char *s, size_t len, bool allow_saved,
		      size_t max_items, struct imap_seqset *set_r,
		      const char **error_r);

/* Adds lo..hi (either order, both >= 1), merging. Cheap when ranges come
 * in ascending order, as when building ESEARCH ALL or a SEARCHRES result
 * from sorted UIDs. */
void imap_seqset_add(struct imap_seqset *set, uint32_t lo, uint32_t hi);

/* Replaces the star range by numbers, given the largest sequence number
 * or UID in use (0 for an empty mailbox, where "*" names nothing, RFC
 * 9051 section 6.4.9's "559:*" rule aside: with no messages there is no
 * last one). Does nothing to a "$" set. */
void imap_seqset_resolve(struct imap_seqset *set, uint32_t max);

/* Drops numbers above max: UID sets name UIDs that may not exist (RFC
 * 9051 section 6.4.9), so handlers clamp them instead of failing. */
void imap_seqset_clamp(struct imap_seqset *set, uint32_t max);

/* The largest number in a resolved set, 0 if empty. A message sequence
 * set whose last number exceeds the message count is a BAD command (RFC
 * 9051 section 9, seq-number). */
uint32_t imap_seqset_last(const struct imap_seqset *set);

/* Membership and size of a resolved set (the star range is ignored). */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n);
uint64_t imap_seqset_count(const struct imap_seqset *set);

/* Ascending iteration over a resolved set:
 *   struct imap_seqset_iter it = IMAP_SEQSET_ITER_INIT;
 *   while (imap_seqset_next(set, &it, &n)) ... */
struct imap_seqset_iter {
	size_t range;
	uint64_t next;
};
#define IMAP_SEQSET_ITER_INIT { 0, 0 }
bool imap_seqset_next(const struct imap_seqset *set,
		      struct imap_seqset_iter *it, uint32_t *n_r);

/* Appends the set as a sequence-set ("1:3,5", "4:*", "$"); an empty set
 * appends nothing (the caller decides: ESEARCH omits ALL). */
void imap_seqset_format(const struct imap_seqset *set, struct buf *out);

#endif
