/* The parsed-message cache record: everything FETCH, SEARCH and previews
 * need from a message's structure, built once at append (mime_cache_build)
 * and stored next to the message, so no FETCH reparses a message.
 *
 * Encoding (version 1), byte by byte, never a struct image: all integers
 * are unsigned LEB128 varints (little-endian groups of 7 bits, at most 10
 * bytes, no overlong forms, no value above 2^64-1), strings as a varint
 * length followed by the bytes, nstrings as varint 0 for NIL or length+1:
 *
 *   "PMC" version(byte = 1)
 *   message size
 *   block ENVELOPE:  varint length, then the root envelope
 *   block SEARCH:    varint length, then subject, from, to, cc, bcc
 *                    (strings, UTF-8), date_valid (varint 0/1), date
 *                    (zig-zag varint)
 *   block PARTS:     varint length, then the part count and the parts in
 *                    pre-order, each: flags, nchildren, hdr_off, hdr_len,
 *                    body_off, body_len, body_lines, type, subtype,
 *                    nparams + (name, value)*, id, desc, location
 *                    (nstrings), enc, enc_name, disp (nstring),
 *                    ndisp_params + pairs, nlang + strings, and for a
 *                    message entity other than the root its envelope.
 *   nothing after the last block
 *   envelope = date, subject (nstrings), from, sender, reply_to, to, cc,
 *              bcc (address lists: count + 4 nstrings per address),
 *              in_reply_to, message_id (nstrings)
 *
 * Blocks are length-prefixed so a reader that needs only the envelope or
 * the search fields skips the rest. A record is data from disk, not
 * trusted: every reader checks every length and count against what is
 * left, every range against the message size, the tree shape (a
 * multipart has children, a message part exactly one with an envelope, a
 * leaf none, nesting at most MIME_DEPTH_HARD_MAX), known flag bits and
 * encodings, and rejects the record (-1, error_r set) on any mismatch or
 * an unknown version; the caller then rebuilds it from the message. */
#ifndef POSTERN_MIME_CACHE_H
#define POSTERN_MIME_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "mime.h"

#define MIME_CACHE_VERSION 1

/* Parses msg and appends its record to out. lim may be NULL (defaults).
 * Returns 0 (a message always has a structure). */
int mime_cache_build(const uint8_t *msg, size_t len,
		     const struct mime_limits *lim, struct buf *out);
/* The same from a tree already parsed. */
void mime_cache_encode(const struct mime_message *msg, struct buf *out);

/* Full decode to a tree as mime_parse() would give it. Its strings point
 * into cache, which must outlive it; nodes and arrays are in the result's
 * arena. Free with mime_message_free(). */
int mime_cache_decode(const uint8_t *cache, size_t len,
		      struct mime_message **msg_r, const char **error_r);

/* Readers. Each returns 0, or -1 with error_r set if the record is
 * malformed (out may then hold partial output; discard it). */
int mime_cache_envelope(const uint8_t *cache, size_t len, struct buf *out,
			const char **error_r);
int mime_cache_bodystructure(const uint8_t *cache, size_t len, bool extended,
			     struct buf *out, const char **error_r);
/* Section range (see mime_section_find). Returns 0, 1 if the section does
 * not exist in this message, -1 if the record is malformed. */
int mime_cache_section(const uint8_t *cache, size_t len, const char *section,
		       uint64_t *offset_r, uint64_t *len_r,
		       const char **error_r);
int mime_cache_message_size(const uint8_t *cache, size_t len,
			    uint64_t *size_r, const char **error_r);
int mime_cache_part_count(const uint8_t *cache, size_t len,
			  unsigned *count_r, const char **error_r);
/* Views into cache (valid as long as it is). */
int mime_cache_search_fields(const uint8_t *cache, size_t len,
			     struct mime_search_fields *fields_r,
			     const char **error_r);
/* Text parts (see mime_text_parts); charset and subtype point into cache.
 * *parts_r is malloc'ed (free it) or NULL when *count_r is 0. */
int mime_cache_text_parts(const uint8_t *cache, size_t len,
			  struct mime_text_part **parts_r, size_t *count_r,
			  const char **error_r);

#endif
