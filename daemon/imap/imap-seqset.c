/* IMAP sequence sets; see imap-seqset.h. */
#include "imap-seqset.h"

#include <stdlib.h>
#include <string.h>

void imap_seqset_init(struct imap_seqset *set)
{
	memset(set, 0, sizeof(*set));
	set->star_lo = UINT32_MAX;
}

void imap_seqset_free(struct imap_seqset *set)
{
	free(set->ranges);
	imap_seqset_init(set);
}

static void imap_seqset_reserve(struct imap_seqset *set, size_t n)
{
	if (set->count + n <= set->cap)
		return;
	size_t cap = set->cap ? set->cap * 2 : 8;
	while (cap < set->count + n)
		cap *= 2;
	set->ranges = xrealloc(set->ranges, cap * sizeof(*set->ranges));
	set->cap = cap;
}

/* Index of the first range whose hi + 1 >= n, i.e. that n could extend
 * or fall into. */
static size_t imap_seqset_lower(const struct imap_seqset *set, uint64_t n)
{
	size_t lo = 0, hi = set->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uint64_t)set->ranges[mid].hi + 1 < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void imap_seqset_add(struct imap_seqset *set, uint32_t lo, uint32_t hi)
{
	if (lo > hi) {
		uint32_t t = lo;
		lo = hi;
		hi = t;
	}
	if (lo == 0)
		lo = 1;		/* 0 is not a number; callers never pass it */
	if (hi == 0)
		return;
	/* fast path: ascending input */
	if (set->count > 0) {
		struct imap_seq_range *last = &set->ranges[set->count - 1];
		if ((uint64_t)last->hi + 1 >= lo && lo >= last->lo) {
			if (hi > last->hi)
				last->hi = hi;
			return;
		}
		if ((uint64_t)last->hi + 1 < lo) {
			imap_seqset_reserve(set, 1);
			set->ranges[set->count++] =
				(struct imap_seq_range){ lo, hi };
			return;
		}
	}
	size_t i = imap_seqset_lower(set, lo);
	size_t j = i;
	/* ranges i..j-1 touch or overlap lo..hi and merge into one */
	while (j < set->count && set->ranges[j].lo <= (uint64_t)hi + 1) {
		if (set->ranges[j].lo < lo)
			lo = set->ranges[j].lo;
		if (set->ranges[j].hi > hi)
			hi = set->ranges[j].hi;
		j++;
	}
	if (i == j) {
		imap_seqset_reserve(set, 1);
		memmove(&set->ranges[i + 1], &set->ranges[i],
			(set->count - i) * sizeof(*set->ranges));
		set->count++;
	} else if (j > i + 1) {
		memmove(&set->ranges[i + 1], &set->ranges[j],
			(set->count - j) * sizeof(*set->ranges));
		set->count -= j - i - 1;
	}
	set->ranges[i] = (struct imap_seq_range){ lo, hi };
}

static int imap_seqset_cmp(const void *a, const void *b)
{
	const struct imap_seq_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts and merges ranges appended unordered by the parser: O(n log n)
 * where adding one by one could be quadratic on hostile input. */
static void imap_seqset_normalize(struct imap_seqset *set)
{
	if (set->count < 2)
		return;
	qsort(set->ranges, set->count, sizeof(*set->ranges), imap_seqset_cmp);
	size_t out = 0;
	for (size_t i = 1; i < set->count; i++) {
		struct imap_seq_range *r = &set->ranges[i];
		struct imap_seq_range *o = &set->ranges[out];
		if ((uint64_t)o->hi + 1 >= r->lo) {
			if (r->hi > o->hi)
				o->hi = r->hi;
		} else {
			set->ranges[++out] = *r;
		}
	}
	set->count = out + 1;
}

/* seq-number = nz-number / "*"; nz-number = digit-nz *DIGIT, at most
 * 4294967295 (RFC 9051 section 9). Sets *star_r for "*". */
static int imap_seqset_number(const char *s, size_t len, size_t *pos,
			      uint32_t *n_r, bool *star_r,
			      const char **error_r)
{
	*star_r = false;
	if (*pos < len && s[*pos] == '*') {
		(*pos)++;
		*star_r = true;
		return 0;
	}
	if (*pos >= len || s[*pos] < '0' || s[*pos] > '9') {
		*error_r = "Invalid sequence set";
		return -1;
	}
	if (s[*pos] == '0') {
		*error_r = *pos + 1 < len && s[*pos + 1] >= '0' &&
					   s[*pos + 1] <= '9' ?
				   "Invalid sequence set: leading zero" :
				   "Invalid sequence set: 0 is not a message number";
		return -1;
	}
	uint64_t v = 0;
	while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9') {
		v = v * 10 + (uint64_t)(s[*pos] - '0');
		if (v > UINT32_MAX) {
			*error_r = "Invalid sequence set: number too big";
			return -1;
		}
		(*pos)++;
	}
	*n_r = (uint32_t)v;
	return 0;
}

static void imap_seqset_add_star(struct imap_seqset *set, uint32_t n,
				 bool n_is_star)
{
	set->star = true;
	if (n_is_star)
		return;		/* "*" or "*:*": just the maximum */
	if (n < set->star_lo)
		set->star_lo = n;
	if (n > set->star_hi)
		set->star_hi = n;
}

int imap_seqset_parse(const char *s, size_t len, bool allow_saved,
		      size_t max_items, struct imap_seqset *set_r,
		      const char **error_r)
{
	size_t pos = 0, items = 0;
	imap_seqset_init(set_r);
	if (len == 1 && s[0] == '$') {
		if (!allow_saved) {
			*error_r = "Saved search result ($) not allowed here";
			return -1;
		}
		set_r->saved = true;
		return 0;
	}
	if (len == 0) {
		*error_r = "Empty sequence set";
		return -1;
	}
	for (;;) {
		uint32_t a = 0, b = 0;
		bool a_star, b_star;
		if (++items > max_items) {
			*error_r = "Too many ranges in sequence set";
			goto fail;
		}
		if (imap_seqset_number(s, len, &pos, &a, &a_star, error_r) < 0)
			goto fail;
		b = a;
		b_star = a_star;
		if (pos < len && s[pos] == ':') {
			pos++;
			if (imap_seqset_number(s, len, &pos, &b, &b_star,
					       error_r) < 0)
				goto fail;
		}
		/* seq-range: "the range includes all between the two, in
		 * either order" (RFC 9051 section 9) */
		if (a_star || b_star)
			imap_seqset_add_star(set_r, a_star ? b : a,
					     a_star && b_star);
		else {
			imap_seqset_reserve(set_r, 1);
			set_r->ranges[set_r->count++] = (struct imap_seq_range){
				a < b ? a : b, a < b ? b : a };
		}
		if (pos == len)
			break;
		if (s[pos] != ',' || pos + 1 == len) {
			*error_r = "Invalid sequence set";
			goto fail;
		}
		pos++;
	}
	imap_seqset_normalize(set_r);
	return 0;
fail:
	imap_seqset_free(set_r);
	return -1;
}

void imap_seqset_resolve(struct imap_seqset *set, uint32_t max)
{
	if (!set->star)
		return;
	uint32_t lo = set->star_lo < max ? set->star_lo : max;
	uint32_t hi = set->star_hi > max ? set->star_hi : max;
	set->star = false;
	set->star_lo = UINT32_MAX;
	set->star_hi = 0;
	if (max == 0)
		return;
	imap_seqset_add(set, lo, hi);
}

void imap_seqset_clamp(struct imap_seqset *set, uint32_t max)
{
	while (set->count > 0 && set->ranges[set->count - 1].lo > max)
		set->count--;
	if (set->count > 0 && set->ranges[set->count - 1].hi > max)
		set->ranges[set->count - 1].hi = max;
}

uint32_t imap_seqset_last(const struct imap_seqset *set)
{
	return set->count > 0 ? set->ranges[set->count - 1].hi : 0;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n)
{
	size_t i = imap_seqset_lower(set, (uint64_t)n + 1);
	return i < set->count && set->ranges[i].lo <= n &&
	       n <= set->ranges[i].hi;
}

uint64_t imap_seqset_count(const struct imap_seqset *set)
{
	uint64_t total = 0;
	for (size_t i = 0; i < set->count; i++)
		total += (uint64_t)set->ranges[i].hi - set->ranges[i].lo + 1;
	return total;
}

bool imap_seqset_next(const struct imap_seqset *set,
		      struct imap_seqset_iter *it, uint32_t *n_r)
{
	while (it->range < set->count) {
		const struct imap_seq_range *r = &set->ranges[it->range];
		if (it->next < r->lo)
			it->next = r->lo;
		if (it->next <= r->hi) {
			*n_r = (uint32_t)it->next++;
			return true;
		}
		it->range++;
	}
	return false;
}

void imap_seqset_format(const struct imap_seqset *set, struct buf *out)
{
	bool first = true;
	if (set->saved) {
		buf_append_byte(out, '$');
		return;
	}
	for (size_t i = 0; i < set->count; i++) {
		const struct imap_seq_range *r = &set->ranges[i];
		if (!first)
			buf_append_byte(out, ',');
		first = false;
		if (r->lo == r->hi)
			buf_printf(out, "%u", r->lo);
		else
			buf_printf(out, "%u:%u", r->lo, r->hi);
	}
	if (!set->star)
		return;
	if (!first)
		buf_append_byte(out, ',');
	if (set->star_lo > set->star_hi) {
		buf_append_byte(out, '*');
		return;
	}
	buf_printf(out, "%u:*", set->star_lo);
	if (set->star_hi != set->star_lo)
		buf_printf(out, ",%u:*", set->star_hi);
}
