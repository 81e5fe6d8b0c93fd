/* SEARCH arguments (RFC 9051 section 6.4.4 and section 9 search-key,
 * with RFC 3501's NEW/OLD/RECENT, ESEARCH return options RFC 4731,
 * SEARCHRES "$" and SAVE RFC 5182, WITHIN OLDER/YOUNGER RFC 5032,
 * SAVEDATE keys RFC 8514, CONDSTORE MODSEQ RFC 7162 section 3.1.5) into a
 * tree that the scanning and indexed evaluators share.
 *
 * The tree is normalised so evaluators have fewer cases: UNANSWERED,
 * UNDELETED, UNDRAFT, UNFLAGGED, UNSEEN and UNKEYWORD become NOT of the
 * positive key, OLD becomes NOT RECENT, NEW becomes (RECENT NOT SEEN),
 * and a parenthesised list inside an AND is merged into it. */
#ifndef POSTERN_IMAP_SEARCH_ARGS_H
#define POSTERN_IMAP_SEARCH_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/buf.h"
#include "../../common/imap-date.h"
#include "../../common/imap-parser.h"
#include "imap-seqset.h"

/* Nesting of parentheses, OR and NOT together; the evaluators recurse
 * as deep, so this bounds their stack too. */
#define IMAP_SEARCH_DEFAULT_MAX_DEPTH 32

enum imap_search_type {
	IMAP_SEARCH_AND,	/* children; all must match */
	IMAP_SEARCH_OR,		/* 2 children */
	IMAP_SEARCH_NOT,	/* 1 child */
	IMAP_SEARCH_ALL,
	IMAP_SEARCH_SEQSET,	/* set: message numbers, or set.saved ("$") */
	IMAP_SEARCH_UIDSET,	/* set: UIDs, or set.saved */
	/* flags */
	IMAP_SEARCH_ANSWERED,
	IMAP_SEARCH_DELETED,
	IMAP_SEARCH_DRAFT,
	IMAP_SEARCH_FLAGGED,
	IMAP_SEARCH_SEEN,
	IMAP_SEARCH_RECENT,
	IMAP_SEARCH_KEYWORD,	/* str */
	/* dates (date): INTERNALDATE, Date: header, SAVEDATE */
	IMAP_SEARCH_BEFORE,
	IMAP_SEARCH_ON,
	IMAP_SEARCH_SINCE,
	IMAP_SEARCH_SENTBEFORE,
	IMAP_SEARCH_SENTON,
	IMAP_SEARCH_SENTSINCE,
	IMAP_SEARCH_SAVEDBEFORE,
	IMAP_SEARCH_SAVEDON,
	IMAP_SEARCH_SAVEDSINCE,
	IMAP_SEARCH_SAVEDATESUPPORTED,
	/* number: seconds before now (RFC 5032) */
	IMAP_SEARCH_OLDER,
	IMAP_SEARCH_YOUNGER,
	/* number: RFC822.SIZE */
	IMAP_SEARCH_LARGER,
	IMAP_SEARCH_SMALLER,
	/* str: case-insensitive substring (RFC 9051 section 6.4.4) */
	IMAP_SEARCH_BCC,
	IMAP_SEARCH_BODY,
	IMAP_SEARCH_CC,
	IMAP_SEARCH_FROM,
	IMAP_SEARCH_SUBJECT,
	IMAP_SEARCH_TEXT,
	IMAP_SEARCH_TO,
	IMAP_SEARCH_HEADER,	/* header (field name), str ("" = present) */
	/* number: mod-sequence-valzer; modseq_entry/_type optional */
	IMAP_SEARCH_MODSEQ,
};

enum imap_search_modseq_type {
	IMAP_SEARCH_MODSEQ_NONE,	/* no entry given */
	IMAP_SEARCH_MODSEQ_PRIV,
	IMAP_SEARCH_MODSEQ_SHARED,
	IMAP_SEARCH_MODSEQ_ALL,
};

struct imap_search_key {
	enum imap_search_type type;
	struct imap_search_key *children;
	size_t child_count;
	struct imap_seqset set;
	char *str;		/* NUL-terminated; no NUL inside */
	size_t str_len;
	char *header;		/* HEADER field name, ASCII */
	struct imap_date date;
	uint64_t number;
	char *modseq_entry;	/* "/flags/\\Seen" */
	enum imap_search_modseq_type modseq_type;
};

/* RETURN options (RFC 4731 section 3.1, RFC 5182 section 2.4). */
enum imap_search_return {
	IMAP_SEARCH_RETURN_MIN = 1u << 0,
	IMAP_SEARCH_RETURN_MAX = 1u << 1,
	IMAP_SEARCH_RETURN_ALL = 1u << 2,
	IMAP_SEARCH_RETURN_COUNT = 1u << 3,
	IMAP_SEARCH_RETURN_SAVE = 1u << 4,
};

struct imap_search_args {
	/* RETURN (...) was given: answer with ESEARCH (RFC 4731 section
	 * 3.1), except that "RETURN (SAVE)" alone answers nothing but the
	 * tagged OK (RFC 5182 section 2.4). An empty list means ALL. */
	bool return_set;
	uint32_t ret;		/* enum imap_search_return bits */
	char *charset;		/* CHARSET as given, or NULL */
	/* "$" appears (RFC 5182 section 2.1: the saved result, the empty
	 * set after SELECT or a failed SAVE). */
	bool uses_saved;
	bool uses_modseq;	/* MODSEQ key: the response carries
				 * (MODSEQ n), RFC 7162 section 3.1.5 */
	struct imap_search_key root;	/* IMAP_SEARCH_AND */
};

/* Parses what follows SEARCH / UID SEARCH:
 *   [search-return-opts SP] ["CHARSET" SP charset SP] search-key
 *   *(SP search-key)
 * max_depth bounds nesting (IMAP_SEARCH_DEFAULT_MAX_DEPTH), max_seq_items
 * the items of each sequence set. Strings keep the bytes the client sent
 * until imap_search_args_to_utf8(). Returns 0, or -1 with an error for
 * "tag BAD" (nothing to free then). */
int imap_search_args_parse(const struct imap_arg *args, size_t count,
			   unsigned max_depth, size_t max_seq_items,
			   struct imap_search_args *search_r,
			   const char **error_r);
void imap_search_args_free(struct imap_search_args *search);

enum imap_search_charset_result {
	IMAP_SEARCH_CHARSET_OK = 0,
	/* Bytes invalid in the charset (invalid UTF-8, 8-bit bytes under
	 * US-ASCII): "tag BAD <error>". */
	IMAP_SEARCH_CHARSET_INVALID = -1,
	/* Charset not supported: "tag NO [BADCHARSET (UTF-8 US-ASCII)]"
	 * (RFC 9051 section 6.4.4). */
	IMAP_SEARCH_CHARSET_UNKNOWN = -2,
};

/* Converts every search string (the text keys and HEADER values; not
 * KEYWORD or field names, which are ASCII atoms) to UTF-8. No CHARSET,
 * UTF-8 and US-ASCII need valid UTF-8 (US-ASCII strictly 7-bit; a
 * client with UTF-8 enabled may only use these, RFC 9051 section
 * 6.4.4); other charsets go through charset_to_utf8() (store/charset.h,
 * iconv: their converters must be preloaded before chroot). */
enum imap_search_charset_result
imap_search_args_to_utf8(struct imap_search_args *search,
			 const char **error_r);

/* Appends a canonical text form of the tree, IMAP-like ("NOT SEEN",
 * "OR FROM \"a\" (TO \"b\" LARGER 5)"), for tests and debug logs. */
void imap_search_key_print(const struct imap_search_key *key,
			   struct buf *out);
/* The whole command: "RETURN (...) CHARSET x " then the keys. */
void imap_search_args_print(const struct imap_search_args *search,
			    struct buf *out);

#endif
