/* The MIME parser: message bytes in, a tree of parts out. Pure (no I/O, no
 * global state apart from the charset converter cache), single pass,
 * linear in the input, and bounded:
 *
 *  - Nesting (multipart inside multipart, message/rfc822 inside anything)
 *    is capped by mime_limits.max_depth (default 100, clamped to
 *    MIME_DEPTH_HARD_MAX because the parser recurses). A multipart or
 *    message/rfc822 part at the cap is not descended into: it becomes an
 *    opaque single part, described as "APPLICATION" "OCTET-STREAM" with no
 *    parameters (its other fields, sizes and ranges are kept), and its
 *    content, including any boundary lines of its own, is plain data.
 *  - The tree holds at most mime_limits.max_parts nodes (default 10000).
 *    Once full, further children of a multipart are skipped (their bytes
 *    stay inside the parent's body) and a message/rfc822 part that needs a
 *    node becomes opaque as above.
 *  - Boundary search is one forward scan of each line: a line starting
 *    with "--" is compared against the open boundaries, innermost first,
 *    so the cost per byte is at most the depth cap.
 *
 * Malformed mail always yields a tree: no header (an entity whose first
 * line is not "name:" has an empty header and is all body; later lines
 * without ":" inside a header are ignored), header only (empty body), a multipart without boundary
 * parameter (a text/plain part), a boundary never closed (the multipart
 * ends at the enclosing boundary or the end), a multipart with no
 * delimiter (one synthesized empty text/plain child, since BODYSTRUCTURE
 * needs 1*body), bare LF or missing line ends, NUL bytes (replaced by
 * U+FFFD in every string taken from a header: no IMAP string can carry
 * NUL). Lines end at LF; a CR alone is an ordinary byte, so mail with CR
 * line ends reads as one long line.
 *
 * Offsets are into the bytes given to mime_parse(); stored blobs have CRLF
 * line ends, so they are the offsets FETCH needs. */
#ifndef POSTERN_MIME_H
#define POSTERN_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

#define MIME_DEPTH_DEFAULT 100
#define MIME_DEPTH_HARD_MAX 1000
#define MIME_PARTS_DEFAULT 10000

struct mime_limits {
	unsigned max_depth;
	unsigned max_parts;
};

/* A string view; s == NULL means NIL. Not NUL-terminated. */
struct mime_str {
	const char *s;
	size_t len;
};

struct mime_param {
	struct mime_str name;	/* upper-cased; "NAME*" for RFC 2231 values */
	struct mime_str value;	/* continuations joined; extended values stay
				   "charset'lang'%XX" (decode with
				   mime_decode_rfc2231) */
};

/* An ENVELOPE address (RFC 9051 7.5.2). Group syntax: a group start has
 * mailbox = group name and host NIL; a group end has all four NIL. An
 * address without a domain gets host "MISSING_DOMAIN" (as Dovecot does) so
 * it is never mistaken for a group start. */
struct mime_address {
	struct mime_str name, adl, mailbox, host;
};

struct mime_addresses {
	struct mime_address *addr;
	size_t count;		/* 0: NIL */
};

/* Raw header values (unfolded, outer blanks dropped, encoded words NOT
 * decoded: ENVELOPE carries the header text as sent). */
struct mime_envelope {
	struct mime_str date, subject;
	struct mime_addresses from, sender, reply_to, to, cc, bcc;
	struct mime_str in_reply_to, message_id;
};

enum mime_encoding {
	MIME_ENC_7BIT = 0,
	MIME_ENC_8BIT,
	MIME_ENC_BINARY,
	MIME_ENC_BASE64,
	MIME_ENC_QP,
	MIME_ENC_OTHER,		/* unknown token: treat the body as opaque */
};
#define MIME_ENC_LAST MIME_ENC_OTHER

enum mime_part_flags {
	MIME_PART_MULTIPART = 1 << 0,	/* children are the body parts */
	MIME_PART_MESSAGE = 1 << 1,	/* message/rfc822|global: one child,
					   the encapsulated message */
	MIME_PART_OPAQUE = 1 << 2,	/* over a cap: see above */
	MIME_PART_HAS_ENVELOPE = 1 << 3,	/* a message entity (root or
						   encapsulated): env set */
	MIME_PART_HEADER_BLANK = 1 << 4,	/* header ended with an empty
						   line */
};
#define MIME_PART_FLAGS_ALL 0x1f

struct mime_part {
	uint64_t hdr_off, hdr_len;	/* the header, empty line included */
	uint64_t body_off, body_len;
	uint64_t body_lines;		/* LFs, +1 if the last line has none */
	unsigned flags;
	struct mime_str type, subtype;	/* upper-cased, never NIL */
	struct mime_param *params;
	size_t nparams;
	struct mime_str id, desc, location;	/* raw, NIL if absent */
	struct mime_str enc_name;	/* upper-cased, "7BIT" by default */
	enum mime_encoding enc;
	struct mime_str disp;		/* upper-cased; NIL: no disposition */
	struct mime_param *disp_params;
	size_t ndisp_params;
	struct mime_str *lang;
	size_t nlang;
	struct mime_envelope *env;	/* MIME_PART_HAS_ENVELOPE */
	struct mime_part *children;
	size_t nchildren;
};

/* The decoded header fields search and previews use (UTF-8, encoded words
 * decoded, charsets converted, unfolded). */
struct mime_search_fields {
	struct mime_str subject, from, to, cc, bcc;	/* "" if absent */
	bool date_valid;
	int64_t date;		/* Date: as seconds since the epoch, UTC */
};

struct mime_arena;

struct mime_message {
	struct mime_arena *arena;	/* owns every string and node */
	struct mime_part *root;		/* always set; root->env always set */
	uint64_t size;			/* of the parsed bytes */
	unsigned nparts;
	struct mime_search_fields search;
};

void mime_limits_default(struct mime_limits *lim);

/* Parses msg (NULL if len is 0). lim may be NULL for the defaults. Never
 * fails. */
struct mime_message *mime_parse(const uint8_t *msg, size_t len,
				const struct mime_limits *lim);
void mime_message_free(struct mime_message **msgp);

/* ENVELOPE (RFC 9051 7.5.2), e.g. ("date" "subj" ((NIL NIL "a" "b")) ...).
 * Strings are quoted when 7-bit printable and short, else literals
 * (common/imap-write.h), so the output is valid for any client. */
void mime_envelope_write(const struct mime_envelope *env, struct buf *out);

/* BODYSTRUCTURE (extended = true: with extension data, body-fld-md5 always
 * NIL) or BODY (extended = false) of the tree under part, which must be a
 * message entity (the root, or the child of a message/rfc822 part).
 *
 * Type, subtype, encoding, disposition type and parameter names are
 * upper-cased, as in the RFC's examples (they are case-insensitive;
 * Dovecot keeps the header's case instead); parameter values and the other
 * strings keep theirs. A text part without a charset gets ("CHARSET"
 * "US-ASCII") first (RFC 2045 5.2). RFC 2231 continuations are joined; an
 * extended value keeps its "charset'lang'%XX" form under the name with
 * "*", as Dovecot does. body-fld-lines is given for text and
 * message/rfc822|global parts: the number of LFs in the body, plus one if
 * the last line has none. */
void mime_bodystructure_write(const struct mime_part *part, bool extended,
			      struct buf *out);

/* Section byte range. section is the text between "[" and "]" of
 * BODY[...] without a field list: "" (the whole message), "HEADER",
 * "TEXT", "1", "1.2", "1.2.MIME", "1.2.HEADER", "1.2.TEXT", and
 * "HEADER.FIELDS" / "HEADER.FIELDS.NOT" (with an optional part prefix),
 * which give the header range to pass to mime_header_select(). Case
 * insensitive. Returns 0, or -1 if the section does not exist (a part
 * number past the end, HEADER on a part that is not message/rfc822,
 * MIME on the top level, syntax error). Part numbering follows RFC 9051
 * 6.4.5: a non-multipart message has only part 1, its body. */
int mime_section_find(const struct mime_message *msg, const char *section,
		      uint64_t *offset_r, uint64_t *len_r);

/* One text/ part (leaf, not opaque), for search and preview. */
struct mime_text_part {
	uint64_t body_off, body_len;
	enum mime_encoding enc;
	struct mime_str subtype;	/* upper-cased: "PLAIN", "HTML" */
	struct mime_str charset;	/* as written; "US-ASCII" default */
};

/* Appends the text parts in document order; returns how many. The
 * array is xrealloc'ed; free it with free(). */
size_t mime_text_parts(const struct mime_message *msg,
		       struct mime_text_part **parts_r);

/* Decodes a body (base64, QP, or as is) and converts it from charset to
 * UTF-8 (unknown charset: charset_raw_to_utf8). Appends to out. */
void mime_text_decode(const uint8_t *body, size_t len, enum mime_encoding enc,
		      const char *charset, size_t charset_len,
		      struct buf *out);

/* RFC 5322 section 3.3 date (with the obsolete forms: two-digit years,
 * named zones, missing seconds or weekday, comments) to seconds since the
 * epoch, UTC. Returns 0, or -1 if unparsable. */
int mime_date_parse(const uint8_t *s, size_t len, int64_t *time_r);

#endif
