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

/* The same in slices, so a large mailbox does not hold the worker's
 * event loop (a session's command yields between slices). Each slice
 * reads its records in its own transaction: a message expunged by
 * another session in between has no record and is left out, never
 * loaded with garbage keys. view must stay valid (and unchanged: the
 * session's own view only changes when its client is told). */
struct sort_loader;
struct sort_loader *sort_loader_new(uint32_t mailbox_id,
				    const struct store_seqmap *view,
				    const uint32_t *uids, size_t n,
				    unsigned need);
/* Loads the next up to max messages: 1 when all are loaded, 0 if more
 * are left, -1 with error_r. */
int sort_loader_step(struct store *store, struct sort_loader *l, size_t max,
		     const char **error_r);
/* Hands the loaded messages over (free with sort_load_free()). */
void sort_loader_take(struct sort_loader *l, struct sort_msg **msgs_r,
		      size_t *count_r);
void sort_loader_free(struct sort_loader *l);

#endif
