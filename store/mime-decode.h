/* Content decoders for mail: base64 and quoted-printable bodies
 * (RFC 2045 section 6), RFC 2047 encoded words in header text, and RFC
 * 2231 extended parameter values. All are lenient: mail in the wild is
 * broken, and a reader must show what can be shown rather than refuse. */
#ifndef POSTERN_MIME_DECODE_H
#define POSTERN_MIME_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

/* Base64 body: characters outside the alphabet (line breaks, garbage,
 * 8-bit bytes) are skipped; decoding stops at the first "=" pad; a final
 * incomplete group yields the whole bytes it holds. Appends to out. */
void mime_decode_base64(const uint8_t *in, size_t len, struct buf *out);

/* Quoted-printable body: "=XY" (hex, either case) is a byte, "=" at the
 * end of a line (after optional trailing whitespace) is a soft line
 * break, trailing whitespace before a line break is dropped (RFC 2045
 * 6.7 rule 3), and a malformed "=" sequence is kept as it is. Line breaks
 * (CRLF or bare LF) are copied unchanged. */
void mime_decode_qp(const uint8_t *in, size_t len, struct buf *out);

/* Decodes unstructured header text (already unfolded) to UTF-8: RFC 2047
 * encoded words in B or Q encoding, with the whitespace between two
 * adjacent encoded words dropped (6.2) and the bytes of adjacent words in
 * the same charset joined before conversion, so a character split across
 * two words (or two folded lines) comes out whole. An encoded word in an
 * unknown charset is left as written. Text outside encoded words goes
 * through charset_raw_to_utf8(). NUL bytes become U+FFFD. */
void mime_decode_header_text(const uint8_t *in, size_t len, struct buf *out);

/* RFC 2231 section 4: decodes an extended parameter value
 * "charset'language'%XX..." to UTF-8 (unknown charset: the raw
 * percent-decoded bytes via charset_raw_to_utf8). A value without the two
 * quotes is percent-decoded only. */
void mime_decode_rfc2231(const uint8_t *in, size_t len, struct buf *out);

#endif
