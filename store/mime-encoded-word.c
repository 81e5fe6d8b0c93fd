/* RFC 2047 encoded words in unstructured header text; see mime-decode.h.
 *
 * An encoded word is "=?" charset ["*" lang] "?" ("B"|"Q") "?" text "?="
 * with no blanks inside (section 2). Adjacent encoded words are joined:
 * the blanks between them are not displayed (6.2), and their decoded
 * bytes are converted together when the charset is the same, because
 * encoders split multi-byte characters across words and lines. */
#include "mime-decode.h"

#include "charset.h"
#include "mime-private.h"

#include <string.h>
#include <strings.h>

struct mime_ew {
	const uint8_t *charset;
	size_t charset_len;
	uint8_t enc;		/* 'B' or 'Q' */
	const uint8_t *text;
	size_t text_len;
	size_t total;		/* bytes of the whole word */
};

/* Positions found by forward searches, reused while still ahead of the
 * scan: each search starts where the previous one ended, so recognizing
 * words costs linear time even when a 50 MB value is full of "=?" that
 * never close. */
struct mime_ew_hints {
	size_t next_close;	/* first "?=" at or after some position */
	size_t next_bad;	/* first byte not allowed in encoded-text */
	bool have_close, have_bad;
};

/* Recognizes an encoded word at in[at..len). */
static bool mime_ew_parse(const uint8_t *in, size_t len, size_t at,
			  struct mime_ew_hints *h, struct mime_ew *ew)
{
	if (len - at < 8 || in[at] != '=' || in[at + 1] != '?')
		return false;
	size_t i = at + 2;
	while (i < len && i - at < 2 + 64 && in[i] != '?' && in[i] > ' ' &&
	       in[i] < 0x7f)
		i++;
	if (i >= len || in[i] != '?' || i == at + 2)
		return false;
	ew->charset = in + at + 2;
	ew->charset_len = i - at - 2;
	/* RFC 2231 section 5: charset*language */
	const uint8_t *star = memchr(ew->charset, '*', ew->charset_len);
	if (star != NULL)
		ew->charset_len = (size_t)(star - ew->charset);
	if (ew->charset_len == 0 || i + 3 > len || in[i + 2] != '?')
		return false;
	ew->enc = mime_ascii_upper(in[i + 1]);
	if (ew->enc != 'B' && ew->enc != 'Q')
		return false;
	size_t t = i + 3;
	if (!h->have_close || h->next_close < t) {
		const uint8_t *c = memmem(in + t, len - t, "?=", 2);
		h->next_close = c != NULL ? (size_t)(c - in) : len;
		h->have_close = true;
	}
	if (!h->have_bad || h->next_bad < t) {
		size_t b = t;
		while (b < len && in[b] > ' ' && in[b] < 0x7f)
			b++;
		h->next_bad = b;
		h->have_bad = true;
	}
	if (h->next_close >= len || h->next_bad < h->next_close)
		return false;
	ew->text = in + t;
	ew->text_len = h->next_close - t;
	ew->total = h->next_close + 2 - at;
	return true;
}

static int mime_qhex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = mime_ascii_upper(c);
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void mime_ew_decode_text(const struct mime_ew *ew, struct buf *out)
{
	if (ew->enc == 'B') {
		mime_decode_base64(ew->text, ew->text_len, out);
		return;
	}
	for (size_t i = 0; i < ew->text_len; i++) {
		uint8_t c = ew->text[i];
		int hi, lo;
		if (c == '_') {
			buf_append_byte(out, ' ');
		} else if (c == '=' && i + 2 < ew->text_len &&
			   (hi = mime_qhex(ew->text[i + 1])) >= 0 &&
			   (lo = mime_qhex(ew->text[i + 2])) >= 0) {
			buf_append_byte(out, (uint8_t)(hi << 4 | lo));
			i += 2;
		} else {
			buf_append_byte(out, c);
		}
	}
}

/* Appends raw text (outside encoded words), NUL replaced. */
static void mime_ew_append_raw(const uint8_t *in, size_t len, struct buf *out)
{
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && in[i] != '\0')
			continue;
		charset_raw_to_utf8(in + start, i - start, out);
		if (i < len)
			mime_append_replacement(out);
		start = i + 1;
	}
}

/* Converts the pending run of decoded bytes. */
static void mime_ew_flush(const uint8_t *charset, size_t charset_len,
			  struct buf *pending, struct buf *out)
{
	if (pending->len == 0)
		return;
	size_t before = out->len;
	if (charset_to_utf8((const char *)charset, charset_len, pending->data,
			    pending->len, out) < 0) {
		out->len = before;
		charset_raw_to_utf8(pending->data, pending->len, out);
	}
	/* Decoded words may carry NUL or line breaks: a header value shown
	 * to a user or matched by SEARCH has neither. */
	for (size_t i = before; i < out->len; i++) {
		if (out->data[i] == '\0' || out->data[i] == '\r' ||
		    out->data[i] == '\n')
			out->data[i] = ' ';
	}
	buf_clear(pending);
}

void mime_decode_header_text(const uint8_t *in, size_t len, struct buf *out)
{
	struct buf pending;
	buf_init(&pending);
	const uint8_t *run_charset = NULL;
	size_t run_charset_len = 0;
	size_t i = 0, raw_start = 0;
	bool prev_ew = false;	/* the last thing emitted was an encoded word */
	struct mime_ew_hints hints = { 0, 0, false, false };
	while (i < len) {
		const uint8_t *q = memchr(in + i, '=', len - i);
		if (q == NULL)
			break;
		size_t at = (size_t)(q - in);
		struct mime_ew ew;
		if (!mime_ew_parse(in, len, at, &hints, &ew) ||
		    !charset_is_known((const char *)ew.charset,
				      ew.charset_len)) {
			i = at + 1;
			continue;
		}
		/* Text between the previous word and this one: dropped if
		 * it is only blanks and follows an encoded word. */
		bool blanks_only = true;
		for (size_t k = raw_start; k < at; k++) {
			if (!mime_is_wsp(in[k]) && in[k] != '\r' &&
			    in[k] != '\n') {
				blanks_only = false;
				break;
			}
		}
		bool same_run = prev_ew && blanks_only &&
			run_charset_len == ew.charset_len &&
			strncasecmp((const char *)run_charset,
				    (const char *)ew.charset,
				    ew.charset_len) == 0;
		if (!same_run) {
			mime_ew_flush(run_charset, run_charset_len, &pending,
				      out);
			if (!(prev_ew && blanks_only))
				mime_ew_append_raw(in + raw_start,
						   at - raw_start, out);
			run_charset = ew.charset;
			run_charset_len = ew.charset_len;
		}
		mime_ew_decode_text(&ew, &pending);
		prev_ew = true;
		i = at + ew.total;
		raw_start = i;
	}
	mime_ew_flush(run_charset, run_charset_len, &pending, out);
	mime_ew_append_raw(in + raw_start, len - raw_start, out);
	buf_free(&pending);
}
