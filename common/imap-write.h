/* Encoding helpers for IMAP responses (RFC 9051 section 4.3 strings).
 *
 * Strings are never written as atoms: a quoted string or a literal is
 * always valid where an astring or nstring is expected, and an atom would
 * be ambiguous for values such as "NIL". A string is quoted when it is at
 * most IMAP_WRITE_QUOTED_MAX bytes and every byte is printable 7-bit ASCII
 * (DQUOTE and "\" escaped), or, when the caller allows it, part of a valid
 * UTF-8 sequence (IMAP4rev2 or UTF8=ACCEPT, RFC 9051 section 4.3 and RFC
 * 6855). Anything else (CR, LF, controls, other 8-bit bytes, long
 * strings) is written as a literal "{n}\r\n<bytes>".
 *
 * NUL cannot appear in an IMAP string (CHAR8 excludes it); callers must
 * not pass one (binary content goes out as literal8 under BINARY, RFC
 * 3516). If one is passed anyway it is written inside a literal. */
#ifndef POSTERN_IMAP_WRITE_H
#define POSTERN_IMAP_WRITE_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Longer strings go out as literals, which keeps response lines short
 * for clients with small line buffers (RFC 7162 section 4). */
#define IMAP_WRITE_QUOTED_MAX 1024

/* Appends s (len bytes; s may be NULL only if len is 0) as a quoted
 * string or a literal, following the rules above. */
void imap_write_quoted_or_literal(struct buf *out, const char *s, size_t len,
				  bool allow_utf8);
/* astring for a client that has not enabled UTF-8: 8-bit bytes always
 * go in a literal. */
void imap_write_astring(struct buf *out, const char *s, size_t len);
/* nstring: NIL when s is NULL, else as imap_write_astring. */
void imap_write_nstring(struct buf *out, const char *s, size_t len);
/* Always a literal "{n}\r\n<bytes>". */
void imap_write_literal(struct buf *out, const char *s, size_t len);

/* True if tag is a valid command tag (RFC 9051 section 9: one or more
 * ASTRING-CHARs except "+"), i.e. one the parser accepts and that can be
 * echoed in a tagged response. */
bool imap_tag_is_valid(const char *tag);

#endif
