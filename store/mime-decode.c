/* Lenient base64, quoted-printable and RFC 2231 value decoding; see
 * mime-decode.h. */
#include "mime-decode.h"

#include "charset.h"
#include "mime-private.h"

#include <string.h>

void mime_decode_base64(const uint8_t *in, size_t len, struct buf *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	buf_reserve(out, len / 4 * 3 + 3);
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '=')
			break;
		int v = base64_digit_value(in[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_append_byte(out, (uint8_t)(acc >> bits));
			acc &= (1u << bits) - 1;
		}
	}
}

void mime_decode_qp(const uint8_t *in, size_t len, struct buf *out)
{
	buf_reserve(out, len);
	size_t i = 0;
	while (i < len) {
		/* One line at a time, so trailing blanks can be dropped. */
		const uint8_t *nl = memchr(in + i, '\n', len - i);
		size_t line_end = nl != NULL ? (size_t)(nl - in) : len;
		size_t eol = line_end;
		if (nl != NULL && eol > i && in[eol - 1] == '\r')
			eol--;
		size_t end = eol;
		while (end > i && mime_is_wsp(in[end - 1]))
			end--;
		bool soft = false;
		for (size_t j = i; j < end; j++) {
			if (in[j] != '=') {
				buf_append_byte(out, in[j]);
				continue;
			}
			if (j + 1 == end) {
				soft = true;	/* "=" ends the line */
				break;
			}
			int hi = j + 2 < end ? mime_hex_value(in[j + 1]) : -1;
			int lo = hi >= 0 ? mime_hex_value(in[j + 2]) : -1;
			if (lo < 0) {
				buf_append_byte(out, '=');
				continue;
			}
			buf_append_byte(out, (uint8_t)(hi << 4 | lo));
			j += 2;
		}
		if (nl == NULL) {
			/* No line end: trailing blanks at the very end are
			 * data we cannot prove were padding; keep them. */
			if (!soft)
				buf_append(out, in + end, len - end);
			break;
		}
		if (!soft)
			buf_append(out, in + eol, line_end + 1 - eol);
		i = line_end + 1;
	}
}

void mime_decode_rfc2231(const uint8_t *in, size_t len, struct buf *out)
{
	const uint8_t *q1 = memchr(in, '\'', len);
	const uint8_t *q2 = q1 != NULL ?
		memchr(q1 + 1, '\'', len - (size_t)(q1 + 1 - in)) : NULL;
	const uint8_t *charset = NULL, *p = in;
	size_t charset_len = 0;
	if (q2 != NULL) {
		charset = in;
		charset_len = (size_t)(q1 - in);
		p = q2 + 1;
	}
	struct buf raw;
	buf_init(&raw);
	const uint8_t *end = in + len;
	while (p < end) {
		int hi, lo;
		if (*p == '%' && end - p >= 3 &&
		    (hi = mime_hex_value(p[1])) >= 0 &&
		    (lo = mime_hex_value(p[2])) >= 0) {
			buf_append_byte(&raw, (uint8_t)(hi << 4 | lo));
			p += 3;
		} else {
			buf_append_byte(&raw, *p++);
		}
	}
	if (charset_len == 0 ||
	    charset_to_utf8((const char *)charset, charset_len, raw.data,
			    raw.len, out) < 0)
		charset_raw_to_utf8(raw.data, raw.len, out);
	buf_free(&raw);
}
