/* RFC 5322 header blocks: iteration over fields, lookup by name, unfolding
 * and the field selection behind BODY[HEADER.FIELDS (...)] and
 * HEADER.FIELDS.NOT (RFC 9051 section 6.4.5). Everything works on the raw
 * header bytes as stored: no copies unless asked for.
 *
 * Lines end at LF; a CR before it belongs to the line end, a CR anywhere
 * else is an ordinary byte. A field is a line that starts with a non-blank
 * byte followed by every line that starts with SP or HTAB (folding). The
 * name is the text before the first ":" with trailing blanks dropped
 * (RFC 822 allowed "Subject :"). A line with no ":" is not a field; it is
 * skipped by lookups and by selection. The header ends at the first empty
 * line or at the end of the given bytes. */
#ifndef POSTERN_MIME_HEADER_H
#define POSTERN_MIME_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

struct mime_header_field {
	const uint8_t *name;	/* not NUL-terminated */
	size_t name_len;
	const uint8_t *value;	/* raw, after the ":", folds included */
	size_t value_len;
	const uint8_t *raw;	/* the whole field with its line end(s) */
	size_t raw_len;
};

struct mime_header_iter {
	const uint8_t *hdr;
	size_t len;
	size_t pos;
	bool done;
};

void mime_header_iter_init(struct mime_header_iter *it, const uint8_t *hdr,
			   size_t len);
/* Next field (lines without ":" are skipped); false at the end. */
bool mime_header_next(struct mime_header_iter *it,
		      struct mime_header_field *field_r);
/* Next field named name (ASCII case-insensitive); call again for the
 * following occurrences. */
bool mime_header_next_named(struct mime_header_iter *it, const char *name,
			    struct mime_header_field *field_r);
/* First occurrence of name in hdr. */
bool mime_header_find(const uint8_t *hdr, size_t len, const char *name,
		      struct mime_header_field *field_r);

/* Unfolds a raw value (RFC 5322 3.2.2: a line break followed by WSP is
 * removed, the WSP kept) and drops leading and trailing blanks. Appends to
 * out; NUL bytes become U+FFFD (no IMAP string can carry NUL). */
void mime_header_unfold(const uint8_t *value, size_t len, struct buf *out);

/* Length of the header block at the start of msg: through the empty line
 * that ends it, or all of len if there is none. *has_blank_r (may be
 * NULL) tells whether an empty line was found. */
size_t mime_header_length(const uint8_t *msg, size_t len, bool *has_blank_r);

/* HEADER.FIELDS (not == false) or HEADER.FIELDS.NOT (not == true): appends
 * to out the raw fields of hdr (a header block as returned by the section
 * lookup) whose name matches (or for .NOT, does not match) one of
 * names[0..count), in their original order and bytes, then the empty line
 * "\r\n" if hdr had one (RFC 9051: "the blank line is included in all
 * header fetches, except in the case of a message which has no body and
 * no blank line"). */
void mime_header_select(const uint8_t *hdr, size_t len,
			const char *const *names, size_t count, bool not,
			struct buf *out);

#endif
