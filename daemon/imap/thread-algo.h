/* The THREAD algorithms of RFC 5256: ORDEREDSUBJECT (section 3, "poor
 * man's threading") and REFERENCES (section 3, after Jamie Zawinski's
 * algorithm), over messages whose keys come from sort-key.h. Pure: no
 * I/O, no global state, no recursion (a hostile mailbox can make
 * threads as deep as it has messages), memory linear in the messages
 * and their references.
 *
 * Dates are sort_msg.sent (section 2.2: Date:, else INTERNALDATE);
 * equal dates keep sequence order. Base subjects compare as stored
 * (i;ascii-casemap'ed by sort_base_subject). Message ids compare with
 * i;octet. */
#ifndef POSTERN_THREAD_ALGO_H
#define POSTERN_THREAD_ALGO_H

#include <stdbool.h>
#include <stddef.h>

#include "../../common/buf.h"
#include "sort-key.h"

enum thread_algorithm {
	THREAD_ORDEREDSUBJECT,
	THREAD_REFERENCES,
};

/* "ORDEREDSUBJECT" / "REFERENCES", case-insensitively: 0 with *alg_r,
 * or -1 for an unknown algorithm. */
int thread_algorithm_parse(const char *name, enum thread_algorithm *alg_r);

/* Threads msgs[0..n) (in sequence order, each with seq and uid set and
 * the keys of SORT_NEED_CACHE, plus SORT_NEED_THREAD for REFERENCES)
 * and appends the thread-list of the THREAD response (RFC 5256 section
 * 4: "(1 2)(3 (4)(5))", nothing for no messages) to out, with UIDs if
 * uid, else sequence numbers. */
void thread_build(enum thread_algorithm alg, const struct sort_msg *msgs,
		  size_t n, bool uid, struct buf *out);

#endif
