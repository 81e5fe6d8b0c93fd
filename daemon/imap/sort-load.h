/* The store side of SORT and THREAD: the keys (sort-key.h) of the
 * messages a search matched, from their records and parsed-message
 * cache records. A message whose cache record is missing, stale or
 * malformed is parsed again (as FETCH does), so a broken record costs
 * time, never a wrong order. */
#ifndef POSTERN_SORT_LOAD_H
#define POSTERN_SORT_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "../../store/store.h"
#include "sort-key.h"

/* Loads msgs for uids[0..n) (ascending) of mailbox_id; seq from view.
 * need: SORT_NEED_* bits. UIDs without a record (expunged by another
 * session) are left out: *count_r may be below n. 0, or -1 with
 * error_r. Free with sort_load_free(). */
int sort_load(struct store *store, uint32_t mailbox_id,
	      const struct store_seqmap *view, const uint32_t *uids, size_t n,
	      unsigned need, struct sort_msg **msgs_r, size_t *count_r,
	      const char **error_r);
void sort_load_free(struct sort_msg *msgs, size_t count);

#endif
