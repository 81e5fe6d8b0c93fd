/* STATUS data items (RFC 9051 section 6.3.11, with STATUS=SIZE RFC 8438,
 * CONDSTORE HIGHESTMODSEQ RFC 7162 section 3.1.8, APPENDLIMIT RFC 7889
 * section 3.2, and RECENT for IMAP4rev1 RFC 3501 section 6.3.10). Also the
 * item list of LIST ... RETURN (STATUS (...)) (RFC 5819). */
#ifndef POSTERN_IMAP_STATUS_ARGS_H
#define POSTERN_IMAP_STATUS_ARGS_H

#include <stdint.h>

#include "../../common/imap-parser.h"

/* In the order the response lists them. */
enum imap_status_item {
	IMAP_STATUS_MESSAGES = 1u << 0,
	IMAP_STATUS_RECENT = 1u << 1,
	IMAP_STATUS_UIDNEXT = 1u << 2,
	IMAP_STATUS_UIDVALIDITY = 1u << 3,
	IMAP_STATUS_UNSEEN = 1u << 4,
	IMAP_STATUS_DELETED = 1u << 5,
	IMAP_STATUS_SIZE = 1u << 6,
	IMAP_STATUS_HIGHESTMODSEQ = 1u << 7,
	IMAP_STATUS_APPENDLIMIT = 1u << 8,
};
#define IMAP_STATUS_ITEM_COUNT 9

/* Parses the parenthesised list (one or more items, any case, repeats
 * allowed) into a bitmask of enum imap_status_item. Returns 0, or -1
 * with an error for "tag BAD". */
int imap_status_args_parse(const struct imap_arg *list, uint32_t *items_r,
			   const char **error_r);

/* "MESSAGES", ... for one item bit; NULL for anything else. */
const char *imap_status_item_name(uint32_t item);

#endif
