/* A merge sort that can stop between merges; see sort-slice.h. */
#include "sort-slice.h"

#include <stdlib.h>
#include <string.h>

/* The first pass sorts runs of this many messages (insertion sort:
 * cheap on short runs), then passes merge runs of doubling length. */
#define SORT_SLICE_RUN 32

void sort_slicer_init(struct sort_slicer *sl, const struct sort_criteria *crit,
		      struct sort_msg *msgs, size_t n)
{
	memset(sl, 0, sizeof(*sl));
	sl->crit = crit;
	sl->msgs = msgs;
	sl->n = n;
	sl->cur = msgs;
	sl->other = n > SORT_SLICE_RUN ? xmalloc(n * sizeof(*msgs)) : NULL;
}

void sort_slicer_free(struct sort_slicer *sl)
{
	/* other is the scratch array, whichever of the two it is now */
	free(sl->cur == sl->msgs ? sl->other : sl->cur);
	sl->other = sl->cur = NULL;
}

static void insertion_sort(const struct sort_criteria *crit,
			   struct sort_msg *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct sort_msg x = v[i];
		size_t j = i;
		while (j > 0 && sort_msg_compare(crit, &x, &v[j - 1]) < 0) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

/* Merges cur[lo..mid) and cur[mid..hi) into other[lo..hi). */
static void merge(const struct sort_criteria *crit, const struct sort_msg *in,
		  struct sort_msg *out, size_t lo, size_t mid, size_t hi)
{
	size_t i = lo, j = mid, k = lo;
	while (i < mid && j < hi)
		out[k++] = sort_msg_compare(crit, &in[j], &in[i]) < 0 ?
			   in[j++] : in[i++];
	while (i < mid)
		out[k++] = in[i++];
	while (j < hi)
		out[k++] = in[j++];
}

int sort_slicer_step(struct sort_slicer *sl, size_t work)
{
	size_t n = sl->n, done = 0;
	while (done < work || done == 0) {
		if (sl->width == 0) {
			/* the first pass: short runs, sorted where they are */
			size_t len = n - sl->pos < SORT_SLICE_RUN ?
				     n - sl->pos : SORT_SLICE_RUN;
			insertion_sort(sl->crit, sl->cur + sl->pos, len);
			sl->pos += len;
			done += len;
			if (sl->pos < n)
				continue;
			sl->width = SORT_SLICE_RUN;
			sl->pos = 0;
		} else if (sl->width < n) {
			size_t lo = sl->pos;
			size_t mid = lo + sl->width < n ? lo + sl->width : n;
			size_t hi = mid + sl->width < n ? mid + sl->width : n;
			merge(sl->crit, sl->cur, sl->other, lo, mid, hi);
			sl->pos = hi;
			done += hi - lo;
			if (sl->pos < n)
				continue;
			/* the pass is complete: the merged runs are read
			 * by the next one */
			struct sort_msg *t = sl->cur;
			sl->cur = sl->other;
			sl->other = t;
			sl->width *= 2;
			sl->pos = 0;
		}
		if (sl->width >= n) {
			if (sl->cur != sl->msgs) {
				memcpy(sl->msgs, sl->cur, n * sizeof(*sl->msgs));
				sl->other = sl->cur;
				sl->cur = sl->msgs;
			}
			return 1;
		}
	}
	return 0;
}
