/* PREVIEW (RFC 8970): a short plain-text preview of a message, from its
 * parsed-message cache record (store/mime-cache.h) and its bytes.
 *
 * RFC 8970 section 2: the preview is plain text (UTF-8, no markup, no
 * line breaks), at most 256 octets, and SHOULD NOT be more than 200
 * characters; it comes from the message's text, not its headers. Here:
 *  - the first text/plain part, else the first text/html part with its
 *    markup removed (tags, comments, <head>/<style>/<script> content)
 *    and the common character references decoded; no text part: "";
 *  - only the first PREVIEW_SCAN_MAX encoded bytes of that part are
 *    decoded (content transfer encoding, then charset to UTF-8), so a
 *    huge body costs no more than a small one;
 *  - quoted lines (starting with ">") are left out and the text stops at
 *    a signature separator ("-- " alone on a line), since neither says
 *    what the message is about;
 *  - every run of whitespace and control characters becomes one space,
 *    leading and trailing ones go;
 *  - cut to PREVIEW_CHARS_MAX code points, never inside a UTF-8
 *    sequence (200 code points of up to 4 octets can exceed 256 octets:
 *    the octet bound is kept too).
 *
 * Wiring, for the FETCH handler (cmd-fetch.c): for the PREVIEW item (and
 * PREVIEW (LAZY), which may always be answered since this is cheap),
 * call preview_build() with the message's bytes and its cache record;
 * on 0, write "PREVIEW " and out as an IMAP string (quoted when it
 * allows, else a literal: common/imap-write.h), or NIL when
 * preview_build() returns 1 (no text part); on -1 rebuild the cache
 * record as FETCH does for BODYSTRUCTURE and retry. Advertise PREVIEW
 * in worker-caps.c then. */
#ifndef POSTERN_PREVIEW_H
#define POSTERN_PREVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/buf.h"

#define PREVIEW_CHARS_MAX 200
#define PREVIEW_OCTETS_MAX 256
#define PREVIEW_SCAN_MAX 16384

/* Appends the preview of msg (len bytes) to out. cache may be NULL (the
 * message is parsed then). Returns 0 with the text (possibly empty), 1 if
 * the message has no text part (out unchanged), -1 with nothing appended
 * if the cache record is malformed. Pure: no I/O. */
int preview_build(const uint8_t *msg, size_t len, const uint8_t *cache,
		  size_t cache_len, struct buf *out);

#endif
