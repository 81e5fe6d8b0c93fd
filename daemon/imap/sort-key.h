/* Sort keys for SORT (RFC 5256 section 3, RFC 5957 SORT=DISPLAY), ESORT
 * (RFC 5267) and the THREAD algorithms (RFC 5256 sections 2.1 and 2.2).
 * Pure: criteria in, per-message keys from a parsed-message cache record
 * (store/mime-cache.h), comparisons out; no I/O.
 *
 * Collations:
 *  - SUBJECT (the base subject, section 2.1), FROM, TO and CC compare with
 *    i;ascii-casemap, as RFC 5256 section 3 requires: a-z fold to A-Z,
 *    every other byte (UTF-8 included) compares as itself. The keys are
 *    stored already mapped, so a comparison is a byte comparison.
 *  - DISPLAYFROM and DISPLAYTO (RFC 5957 section 3) compare with
 *    i;unicode-casemap (RFC 5051, common/unicode-fold.h), the collation
 *    the RFC recommends for display names, which are mostly not ASCII:
 *    "Émile" sorts with "emile", not after "Zoe".
 *  - ARRIVAL is INTERNALDATE; DATE the Date: header in UTC, or
 *    INTERNALDATE when it is missing or cannot be parsed (section 2.2);
 *    SIZE is RFC822.SIZE.
 * Messages equal on every key keep their sequence order (section 3:
 * "use the order in which the messages appear in the mailbox"), which
 * REVERSE does not turn around. */
#ifndef POSTERN_SORT_KEY_H
#define POSTERN_SORT_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/buf.h"
#include "../../common/imap-parser.h"

enum sort_key_type {
	SORT_ARRIVAL,
	SORT_CC,
	SORT_DATE,
	SORT_FROM,
	SORT_SIZE,
	SORT_SUBJECT,
	SORT_TO,
	SORT_DISPLAYFROM,
	SORT_DISPLAYTO,
};

/* Bounds the criteria a client can send (each key once is 9; a list
 * repeating keys gains nothing after that). */
#define SORT_CRITERIA_MAX 16

struct sort_criteria {
	struct {
		enum sort_key_type type;
		bool reverse;
	} keys[SORT_CRITERIA_MAX];
	size_t count;
	unsigned need;		/* SORT_NEED_* for the loader */
};

/* What the keys need from a message. */
#define SORT_NEED_RECORD	0x01	/* ARRIVAL, SIZE (the record) */
#define SORT_NEED_CACHE		0x02	/* anything from the header */
#define SORT_NEED_THREAD	0x04	/* Message-ID, References, In-Reply-To */

/* sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"
 * sort-criterion = ["REVERSE" SP] sort-key (RFC 5256 section 5; RFC 5957
 * adds DISPLAYFROM and DISPLAYTO). 0, or -1 with a reason for "BAD". */
int sort_criteria_parse(const struct imap_arg *list,
			struct sort_criteria *crit_r, const char **error_r);

/* One message as SORT and THREAD see it. Strings are malloc'ed,
 * NUL-terminated and never NULL after sort_msg_fill (""
 * when absent). */
struct sort_msg {
	uint32_t uid;
	uint32_t seq;		/* tie-break, and what non-UID forms print */
	int64_t arrival;	/* INTERNALDATE */
	int64_t sent;		/* section 2.2: Date:, else INTERNALDATE */
	uint64_t size;
	char *subject;		/* base subject, i;ascii-casemap'ed */
	bool reply_fwd;		/* the subject was a reply or forward */
	char *from, *to, *cc;	/* first addr-mailbox, ascii-casemap'ed */
	char *dfrom, *dto;	/* display names, unicode-casemap'ed */
	/* THREAD=REFERENCES (SORT_NEED_THREAD) */
	char *message_id;	/* "<...>" or "" when missing or invalid */
	char **refs;		/* References, else In-Reply-To's first id */
	size_t nrefs;
};

void sort_msg_free(struct sort_msg *m);

/* Fills the header keys of m from a cache record (arrival, size, uid and
 * seq are the caller's; set them first, sent falls back on arrival).
 * hdr/hdr_len: the message's top-level header, needed for References
 * with SORT_NEED_THREAD (NULL: none). 0, or -1 with error_r when the
 * record is malformed. */
int sort_msg_fill(struct sort_msg *m, unsigned need, const uint8_t *cache,
		  size_t cache_len, const uint8_t *hdr, size_t hdr_len,
		  const char **error_r);

/* <0, 0, >0 as a sorts before, with, after b under crit (sequence order
 * breaks ties: 0 only for the same message). */
int sort_msg_compare(const struct sort_criteria *crit,
		     const struct sort_msg *a, const struct sort_msg *b);

/* Sorts msgs[0..n) in place. */
void sort_msgs(const struct sort_criteria *crit, struct sort_msg *msgs,
	       size_t n);

/* RFC 5256 section 2.1: appends the base subject of subject (UTF-8,
 * encoded words already decoded), i;ascii-casemap'ed, to out; *refwd_r
 * (may be NULL) tells whether a reply or forward marker was removed
 * (subj-refwd, "(fwd)" trailer, "[fwd: ...]" wrapper), which THREAD
 * uses. */
void sort_base_subject(const char *subject, size_t len, struct buf *out,
		       bool *refwd_r);

/* msg-id list of a References or In-Reply-To value (raw): each
 * "<...>" in order, comments and whitespace around them skipped, the
 * ids unfolded. Appends malloc'ed strings to *ids_r (grown). Stops at
 * max. */
void sort_parse_msgids(const uint8_t *value, size_t len, char ***ids_r,
		       size_t *n_r, size_t max);

#endif
