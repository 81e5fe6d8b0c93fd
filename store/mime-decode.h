/* Content decoders for mail: base64 and quoted-printable bodies
 * (RFC 2045 section 6), RFC 2047 encoded words in header text, and RFC
 * 2231 extended parameter values. All are lenient: mail in the wild is
 * broken, and a reader must show what can be shown rather than refuse. */
#ifndef POSTERN_MIME_DECODE_H
#define POSTERN_MIME_DECODE_H

#include <stdbool.h>
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

/* The same two decoders fed in pieces (FETCH BINARY of a large part
 * decodes as the output drains): for any split of the input, the
 * concatenated output equals the one-shot decoder's on the whole. What
 * is held between pieces is a few bytes, plus, for quoted-printable, a
 * run of blanks whose fate (dropped before a line break, kept otherwise)
 * is not known yet: one bit per blank, so only input made of a long run
 * of blanks costs memory (an eighth of that run). */
enum mime_decoder_kind {
	MIME_DECODER_BASE64,
	MIME_DECODER_QP,
};

struct mime_decoder {
	enum mime_decoder_kind kind;
	/* base64: bits not yet forming a byte; done after the "=" pad */
	uint32_t acc;
	unsigned bits;
	bool done;
	/* quoted-printable: an "=" not yet resolved, the first hex digit
	 * after it (qp_hex1 >= 0), the blanks after it (or after the last
	 * byte written), and a CR that may start a line break */
	bool qp_eq;
	int qp_hex1;
	struct buf qp_blanks;	/* bit i set: blank i is a tab */
	size_t qp_nblanks;
	bool qp_cr;
};

/* Starts a decoder; one that was used must be freed before. */
void mime_decoder_init(struct mime_decoder *d, enum mime_decoder_kind kind);
/* Decodes in[0..len), appending what is certain to out. */
void mime_decoder_feed(struct mime_decoder *d, const uint8_t *in, size_t len,
		       struct buf *out);
/* The end of the input: appends what was held back. */
void mime_decoder_finish(struct mime_decoder *d, struct buf *out);
void mime_decoder_free(struct mime_decoder *d);

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
