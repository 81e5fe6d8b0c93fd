/* Base64 and quoted-printable decoding fed in pieces; see mime-decode.h.
 *
 * The meaning is mime_decode_base64()'s and mime_decode_qp()'s exactly
 * (a unit test and a fuzz target compare them at every split point).
 * Quoted-printable is the delicate one, because the one-shot decoder
 * looks at a whole line: whether blanks are trailing (dropped) and
 * whether an "=" ends its line (a soft break) is known only when the
 * line break or a later non-blank byte arrives. Reasoning per line L,
 * with end = L without its trailing blanks:
 *   - "=" + two hex digits is a byte (two hex digits are not blanks, so
 *     they are always before end);
 *   - otherwise an "=" that is the last non-blank byte of its line is a
 *     soft break (it, the blanks after it and the line break vanish);
 *   - otherwise "=" is kept as it is;
 *   - CR counts as the line break only right before LF; else it is an
 *     ordinary byte;
 *   - at the end of the input without a line break, blanks are kept
 *     unless they follow a soft-break "=". */
#include "mime-decode.h"

#include "mime-private.h"

#include <string.h>

void mime_decoder_init(struct mime_decoder *d, enum mime_decoder_kind kind)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->qp_hex1 = -1;
	buf_init(&d->qp_blanks);
}

void mime_decoder_free(struct mime_decoder *d)
{
	buf_free(&d->qp_blanks);
	d->qp_nblanks = 0;
}

static void b64_feed(struct mime_decoder *d, const uint8_t *in, size_t len,
		     struct buf *out)
{
	if (d->done)
		return;
	buf_reserve(out, len / 4 * 3 + 3);
	uint8_t *o = out->data + out->len;
	uint32_t acc = d->acc;
	unsigned bits = d->bits;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '=') {
			d->done = true;
			break;
		}
		int v = base64_digit_value(in[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	out->len = (size_t)(o - out->data);
	d->acc = acc;
	d->bits = bits;
}

static void qp_add_blank(struct mime_decoder *d, uint8_t c)
{
	size_t i = d->qp_nblanks++;
	if (i / 8 >= d->qp_blanks.len)
		buf_append_byte(&d->qp_blanks, 0);
	if (c == '\t')
		d->qp_blanks.data[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* The held blanks turned out to be data. */
static void qp_emit_blanks(struct mime_decoder *d, struct buf *out)
{
	buf_reserve(out, d->qp_nblanks);
	for (size_t i = 0; i < d->qp_nblanks; i++)
		out->data[out->len++] =
			(d->qp_blanks.data[i / 8] >> (i % 8)) & 1 ? '\t' : ' ';
	buf_clear(&d->qp_blanks);
	d->qp_nblanks = 0;
}

static void qp_drop_blanks(struct mime_decoder *d)
{
	buf_clear(&d->qp_blanks);
	d->qp_nblanks = 0;
}

/* A byte that is neither blank nor line break nor "=" (nor a hex digit
 * completing "=X") follows what is held: the held "=" is literal and the
 * held blanks and CR are data. */
static void qp_resolve_as_data(struct mime_decoder *d, struct buf *out)
{
	if (d->qp_eq)
		buf_append_byte(out, '=');
	if (d->qp_hex1 >= 0)
		buf_append_byte(out, (uint8_t)d->qp_hex1);
	d->qp_eq = false;
	d->qp_hex1 = -1;
	if (d->qp_nblanks > 0)
		qp_emit_blanks(d, out);
	if (d->qp_cr)
		buf_append_byte(out, '\r');
	d->qp_cr = false;
}

static void qp_byte(struct mime_decoder *d, uint8_t c, struct buf *out)
{
	if (d->qp_hex1 >= 0) {
		/* "=X": a byte if c is the second digit, else literal */
		int lo = mime_hex_value(c);
		if (lo >= 0) {
			int hi = mime_hex_value((uint8_t)d->qp_hex1);
			buf_append_byte(out, (uint8_t)(hi << 4 | lo));
			d->qp_eq = false;
			d->qp_hex1 = -1;
			return;
		}
		qp_resolve_as_data(d, out);
	}
	if (c == '\n') {
		/* the end of a line: its trailing blanks go; an "=" that
		 * ended it takes the line break along (soft break) */
		qp_drop_blanks(d);
		if (!d->qp_eq)
			buf_append(out, d->qp_cr ? "\r\n" : "\n",
				   d->qp_cr ? 2 : 1);
		d->qp_eq = false;
		d->qp_cr = false;
		return;
	}
	if (d->qp_cr)	/* a CR not before LF: an ordinary byte */
		qp_resolve_as_data(d, out);
	if (c == '\r') {
		d->qp_cr = true;
		return;
	}
	if (mime_is_wsp(c)) {
		qp_add_blank(d, c);
		return;
	}
	if (c == '=') {
		qp_resolve_as_data(d, out);
		d->qp_eq = true;
		return;
	}
	if (d->qp_eq && d->qp_nblanks == 0 && mime_hex_value(c) >= 0) {
		d->qp_hex1 = c;
		return;
	}
	qp_resolve_as_data(d, out);
	buf_append_byte(out, c);
}

static void qp_feed(struct mime_decoder *d, const uint8_t *in, size_t len,
		    struct buf *out)
{
	buf_reserve(out, len);
	size_t i = 0;
	while (i < len) {
		/* the common case: a run of ordinary bytes with nothing
		 * held is copied as it is */
		if (!d->qp_eq && !d->qp_cr && d->qp_nblanks == 0) {
			size_t j = i;
			while (j < len && in[j] != '=' && in[j] != '\r' &&
			       in[j] != '\n' && !mime_is_wsp(in[j]))
				j++;
			buf_append(out, in + i, j - i);
			i = j;
			if (i == len)
				break;
		}
		qp_byte(d, in[i++], out);
	}
}

void mime_decoder_feed(struct mime_decoder *d, const uint8_t *in, size_t len,
		       struct buf *out)
{
	if (d->kind == MIME_DECODER_BASE64)
		b64_feed(d, in, len, out);
	else
		qp_feed(d, in, len, out);
}

void mime_decoder_finish(struct mime_decoder *d, struct buf *out)
{
	if (d->kind == MIME_DECODER_BASE64) {
		/* a final incomplete group: its whole bytes went out already */
		d->acc = 0;
		d->bits = 0;
		d->done = true;
		return;
	}
	if (d->qp_hex1 >= 0 || d->qp_cr) {
		/* "=X" or a CR at the very end: data, as the one-shot
		 * decoder keeps them */
		qp_resolve_as_data(d, out);
		return;
	}
	if (d->qp_eq) {
		/* "=" and blanks at the end of the input: a soft break */
		d->qp_eq = false;
		qp_drop_blanks(d);
		return;
	}
	/* blanks at the very end are kept (see mime_decode_qp) */
	if (d->qp_nblanks > 0)
		qp_emit_blanks(d, out);
}
