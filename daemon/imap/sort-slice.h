/* sort_msgs() in slices: a bottom-up merge sort that stops after about
 * a given amount of work and goes on where it stopped, so SORT of a
 * large mailbox can yield to the worker's other sessions between
 * slices. sort_msg_compare() is a total order, so the result is the
 * same as sort_msgs()'s. */
#ifndef POSTERN_SORT_SLICE_H
#define POSTERN_SORT_SLICE_H

#include <stddef.h>

#include "sort-key.h"

struct sort_slicer {
	const struct sort_criteria *crit;
	struct sort_msg *msgs;	/* the caller's array, sorted at the end */
	struct sort_msg *cur, *other;	/* the current pass reads cur */
	size_t n;
	size_t width;		/* run length of the current pass; 0: the
				 * first, which sorts short runs */
	size_t pos;		/* where the current pass goes on */
};

/* crit must outlive the slicer; msgs is sorted in place. */
void sort_slicer_init(struct sort_slicer *sl, const struct sort_criteria *crit,
		      struct sort_msg *msgs, size_t n);
/* Does about work element moves (at least one run or one merge): 1 when
 * msgs is sorted, 0 if more is left. */
int sort_slicer_step(struct sort_slicer *sl, size_t work);
void sort_slicer_free(struct sort_slicer *sl);

#endif
