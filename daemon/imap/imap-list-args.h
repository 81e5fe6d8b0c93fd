/* LIST and LSUB arguments (RFC 9051 section 6.3.9, LIST-EXTENDED RFC
 * 5258, SPECIAL-USE RFC 6154, LIST-STATUS RFC 5819) and the mailbox
 * pattern matcher ("*" and "%", RFC 9051 section 6.3.9). */
#ifndef POSTERN_IMAP_LIST_ARGS_H
#define POSTERN_IMAP_LIST_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/imap-parser.h"

#define IMAP_LIST_MAX_PATTERNS 64
/* Longer patterns than any mailbox name are pointless; the bound also
 * bounds the matcher's work (O(pattern x name)). */
#define IMAP_LIST_MAX_PATTERN_LEN 1024

/* Selection options (RFC 5258 section 3.1, RFC 6154 section 3). */
enum imap_list_select {
	IMAP_LIST_SELECT_SUBSCRIBED = 1u << 0,
	IMAP_LIST_SELECT_REMOTE = 1u << 1,
	IMAP_LIST_SELECT_RECURSIVEMATCH = 1u << 2,
	IMAP_LIST_SELECT_SPECIAL_USE = 1u << 3,
};

/* Return options (RFC 5258 section 3.2, RFC 6154, RFC 5819). */
enum imap_list_return {
	IMAP_LIST_RETURN_SUBSCRIBED = 1u << 0,
	IMAP_LIST_RETURN_CHILDREN = 1u << 1,
	IMAP_LIST_RETURN_SPECIAL_USE = 1u << 2,
	IMAP_LIST_RETURN_STATUS = 1u << 3,
};

struct imap_list_args {
	uint32_t select;	/* enum imap_list_select bits */
	uint32_t ret;		/* enum imap_list_return bits */
	uint32_t status_items;	/* enum imap_status_item bits, RETURN STATUS */
	/* Some LIST-EXTENDED syntax was used (selection options, a
	 * pattern list, or RETURN): RFC 5258 section 3 responses then
	 * apply (e.g. \NonExistent, CHILDINFO). */
	bool extended;
	/* Reference and patterns in UTF-8 (decoded from modified UTF-7
	 * unless the client uses UTF-8), NUL-terminated. */
	char *reference;
	char **patterns;
	size_t pattern_count;
};

/* Parses the arguments of LIST (lsub false) or LSUB (lsub true; no
 * extended syntax):
 *   [list-select-opts SP] mailbox SP (list-mailbox / patterns)
 *   [SP "RETURN" SP "(" [return-option *(SP return-option)] ")"]
 * utf8 says the client has IMAP4rev2 or UTF8=ACCEPT enabled (names are
 * UTF-8, RFC 9051 section 5.1) rather than IMAP4rev1 (modified UTF-7).
 * Unknown options are BAD (RFC 5258 section 3), as is RECURSIVEMATCH
 * without another selection option to modify. Returns 0, or -1 with an
 * error for "tag BAD" (nothing to free then). */
int imap_list_args_parse(const struct imap_arg *args, size_t count,
			 bool lsub, bool utf8, struct imap_list_args *list_r,
			 const char **error_r);
void imap_list_args_free(struct imap_list_args *list);

/* The pattern a reference and a mailbox pattern make together (RFC 9051
 * section 6.3.9 leaves it to the server): the pattern alone when the
 * reference is empty or the pattern starts with the separator (an
 * absolute name), else the reference followed by the pattern. */
char *imap_list_pattern_join(const char *reference, const char *pattern,
			     char sep);

/* True if the UTF-8 mailbox name matches pattern: "*" matches anything,
 * "%" anything but sep; everything else matches itself, except that a
 * name's leading "INBOX" (followed by sep or the end) matches
 * case-insensitively, since INBOX is (RFC 9051 section 5.1). Time is
 * O(len(pattern) x len(name)), never exponential. */
bool imap_list_match(const char *pattern, const char *name, char sep);

#endif
