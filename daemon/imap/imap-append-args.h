/* APPEND arguments (RFC 9051 section 6.3.12) with MULTIAPPEND (RFC 3502)
 * and literal8 (RFC 3516), and the helpers APPEND, STORE and COPY share:
 * IMAP flag bits to store flag bits, UID lists as sequence sets. Pure:
 * no store, no I/O. */
#ifndef POSTERN_IMAP_APPEND_ARGS_H
#define POSTERN_IMAP_APPEND_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../../common/buf.h"
#include "../../common/imap-parser.h"
#include "imap-store-args.h"

/* One message of an APPEND: append-opts SP append-data. */
struct imap_append_msg {
	struct imap_flags flags;
	bool have_date;
	time_t date;		/* UTC */
	int tz_min;		/* the zone the client gave */
	const char *data;	/* the literal's bytes, in the command, */
	size_t len;
	bool literal8;
	bool streamed;		/* or NULL: streamed to the caller */
};

struct imap_append_args {
	struct imap_append_msg *msgs;
	size_t count;
};

/* Parses what follows the mailbox name:
 *   1*(append-opts SP append-data)
 *   append-opts = [SP flag-list] [SP date-time]
 *   append-data = literal / literal8
 * RFC 3502 allows several messages; a plain literal must not contain NUL
 * (RFC 9051 section 4.3; literal8 may: the caller checks the bytes of a
 * streamed one). Returns 0, or -1 with an error for "tag BAD" (*args_r
 * then needs no freeing). */
int imap_append_args_parse(const struct imap_arg *args, size_t count,
			   struct imap_append_args *args_r,
			   const char **error_r);
void imap_append_args_free(struct imap_append_args *args);

/* enum imap_flag bits to STORE_FLAG_* bits (the two orders differ). */
unsigned imap_flags_to_store(uint32_t system);

/* Appends UIDs as a sequence set in the order given, joining runs of
 * consecutive ascending UIDs into ranges ("3:5,9"). COPYUID and
 * APPENDUID pair their two sets by position (RFC 4315 section 3), so the
 * order is kept, never sorted. */
void imap_uid_list_format(const uint32_t *uids, size_t n, struct buf *out);

#endif
