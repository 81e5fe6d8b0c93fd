/* STORE arguments (RFC 9051 section 6.4.6, UNCHANGEDSINCE of RFC 7162
 * section 3.1.3) and message flags (RFC 9051 section 2.3.2), whose
 * parser APPEND uses too. */
#ifndef POSTERN_IMAP_STORE_ARGS_H
#define POSTERN_IMAP_STORE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/imap-parser.h"

/* System flags that can be stored. \Recent is not one (RFC 3501 section
 * 2.3.2: the server sets it; IMAP4rev2 dropped it). */
enum imap_flag {
	IMAP_FLAG_ANSWERED = 1u << 0,
	IMAP_FLAG_FLAGGED = 1u << 1,
	IMAP_FLAG_DELETED = 1u << 2,
	IMAP_FLAG_SEEN = 1u << 3,
	IMAP_FLAG_DRAFT = 1u << 4,
};

/* Limits on one command's flags; a mailbox's keyword count is the
 * store's business. */
#define IMAP_FLAGS_MAX_KEYWORDS 64
#define IMAP_KEYWORD_MAX_LEN 128

struct imap_flags {
	uint32_t system;	/* enum imap_flag bits */
	char **keywords;	/* as sent, deduplicated case-insensitively */
	size_t keyword_count;
};

/* Parses flags (RFC 9051 flag: "\Answered" / "\Flagged" / "\Deleted" /
 * "\Seen" / "\Draft" / flag-keyword, system flags in any case) from
 * args[0..count), each an atom. Refused: \Recent, other "\" flags, and
 * keywords with characters outside ATOM-CHAR. Returns 0 or -1 (error
 * for "tag BAD"; *flags_r then needs no freeing). */
int imap_flags_parse(const struct imap_arg *args, size_t count,
		     struct imap_flags *flags_r, const char **error_r);
void imap_flags_free(struct imap_flags *flags);
/* System flag bit for "\Seen" etc. (any case), 0 if none. */
uint32_t imap_flag_from_name(const char *name);
/* "\Seen" etc. for one bit, NULL otherwise. */
const char *imap_flag_name(uint32_t flag);
/* RFC 9051 flag-keyword = atom: 1*ATOM-CHAR. */
bool imap_keyword_is_valid(const char *s, size_t len);

enum imap_store_mode {
	IMAP_STORE_REPLACE,	/* FLAGS */
	IMAP_STORE_ADD,		/* +FLAGS */
	IMAP_STORE_REMOVE,	/* -FLAGS */
};

struct imap_store_args {
	enum imap_store_mode mode;
	bool silent;			/* .SILENT */
	struct imap_flags flags;
	bool unchangedsince_set;	/* (UNCHANGEDSINCE n), RFC 7162 */
	uint64_t unchangedsince;	/* 0 allowed (mod-sequence-valzer) */
};

/* Parses what follows the sequence set of STORE / UID STORE:
 *   [SP "(" store-modifier *(SP store-modifier) ")"] SP store-att-flags
 *   store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP
 *                     (flag-list / (flag *(SP flag)))
 * Returns 0, or -1 with an error for "tag BAD". Free with
 * imap_store_args_free() after success. */
int imap_store_args_parse(const struct imap_arg *args, size_t count,
			  struct imap_store_args *store_r,
			  const char **error_r);
void imap_store_args_free(struct imap_store_args *store);

/* mod-sequence-valzer (RFC 7162 section 7): 0..2^63-1, digits only. With
 * allow_zero false it is mod-sequence-value (1..2^63-1). Shared by
 * FETCH CHANGEDSINCE and SEARCH MODSEQ. */
bool imap_modseq_parse(const struct imap_arg *a, bool allow_zero,
		       uint64_t *value_r);

#endif
