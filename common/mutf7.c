/* Modified UTF-7 and UTF-8 mailbox names; see mutf7.h. */
#include "mutf7.h"

#include <stdint.h>

#include "base64.h"
#include "utf8.h"

/* RFC 3501 section 5.1.3: RFC 2152 base64 with "," instead of "/". */
static const char mutf7_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int mutf7_b64_value(unsigned char c)
{
	if (c == ',')
		return 63;
	return c == '/' ? -1 : base64_digit_value(c);
}

/* Decodes one UTF-8 sequence at in[*pos]; -1 if invalid. */
static int32_t mutf7_utf8_next(const unsigned char *in, size_t len,
			       size_t *pos)
{
	uint32_t cp;
	size_t n = utf8_decode(in + *pos, len - *pos, &cp);
	if (n == 0)
		return -1;
	*pos += n;
	return (int32_t)cp;
}

static void mutf7_put_utf8(struct buf *out, uint32_t cp)
{
	uint8_t seq[UTF8_SEQ_MAX];
	buf_append(out, seq, utf8_encode(cp, seq));
}

/* Decodes the base64 run in[start..end) (between "&" and "-"). */
static int mutf7_decode_run(const unsigned char *in, size_t start,
			    size_t end, struct buf *out, const char **error_r)
{
	uint32_t bits = 0, high = 0;
	unsigned nbits = 0;
	for (size_t i = start; i < end; i++) {
		int v = mutf7_b64_value(in[i]);
		if (v < 0) {
			*error_r = "Invalid base64 in modified UTF-7";
			return -1;
		}
		bits = (bits << 6 | (uint32_t)v) & 0x3fffff;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = bits >> nbits & 0xffff;
		if (high != 0) {
			if (u < 0xdc00 || u > 0xdfff) {
				*error_r = "Unpaired surrogate in modified UTF-7";
				return -1;
			}
			mutf7_put_utf8(out, 0x10000 + ((high - 0xd800) << 10) +
						    (u - 0xdc00));
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			*error_r = "Unpaired surrogate in modified UTF-7";
			return -1;
		} else if (u == 0) {
			*error_r = "NUL in modified UTF-7";
			return -1;
		} else if (u >= 0x20 && u <= 0x7e) {
			/* printable ASCII must represent itself */
			*error_r = "Non-minimal modified UTF-7";
			return -1;
		} else {
			mutf7_put_utf8(out, u);
		}
	}
	/* RFC 2152: the run ends on a 16-bit boundary plus fewer than 6 zero
	 * bits; anything else is a truncated or padded encoding. */
	if (high != 0) {
		*error_r = "Unpaired surrogate in modified UTF-7";
		return -1;
	}
	if (nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0) {
		*error_r = "Invalid base64 padding in modified UTF-7";
		return -1;
	}
	return 0;
}

int mutf7_to_utf8(const char *in_, size_t len, struct buf *out,
		  const char **error_r)
{
	const unsigned char *in = (const unsigned char *)in_;
	size_t start_len = out->len;
	bool after_run = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = in[i];
		if (c < 0x20 || c > 0x7e) {
			*error_r = "Invalid character in modified UTF-7";
			goto fail;
		}
		if (c != '&') {
			buf_append_byte(out, c);
			after_run = false;
			continue;
		}
		size_t end = i + 1;
		while (end < len && in[end] != '-')
			end++;
		if (end == len) {
			*error_r = "Unterminated modified UTF-7";
			goto fail;
		}
		if (end == i + 1) {
			buf_append_byte(out, '&');	/* "&-" */
			after_run = false;
		} else {
			if (after_run) {
				*error_r = "Non-minimal modified UTF-7";
				goto fail;
			}
			if (mutf7_decode_run(in, i + 1, end, out, error_r) < 0)
				goto fail;
			after_run = true;
		}
		i = end;
	}
	return 0;
fail:
	out->len = start_len;
	return -1;
}

static void mutf7_flush_run(struct buf *out, const uint16_t *u, size_t n)
{
	uint32_t bits = 0;
	unsigned nbits = 0;
	buf_append_byte(out, '&');
	for (size_t i = 0; i < n; i++) {
		bits = bits << 16 | u[i];
		nbits += 16;
		while (nbits >= 6) {
			nbits -= 6;
			buf_append_byte(out, (uint8_t)mutf7_b64[bits >> nbits &
								0x3f]);
		}
		bits &= (1u << nbits) - 1;
	}
	if (nbits > 0)
		buf_append_byte(out,
				(uint8_t)mutf7_b64[bits << (6 - nbits) & 0x3f]);
	buf_append_byte(out, '-');
}

int mutf7_from_utf8(const char *in_, size_t len, struct buf *out,
		    const char **error_r)
{
	const unsigned char *in = (const unsigned char *)in_;
	size_t start_len = out->len, pos = 0;
	uint16_t run[64];
	size_t nrun = 0;
	struct buf tmp;
	buf_init(&tmp);
	while (pos < len) {
		int32_t cp = mutf7_utf8_next(in, len, &pos);
		if (cp <= 0) {
			*error_r = cp < 0 ? "Invalid UTF-8" : "NUL in name";
			out->len = start_len;
			buf_free(&tmp);
			return -1;
		}
		if (cp >= 0x20 && cp <= 0x7e) {
			if (nrun > 0 || tmp.len > 0) {
				buf_append(&tmp, run, nrun * sizeof(run[0]));
				mutf7_flush_run(out, (const uint16_t *)tmp.data,
						tmp.len / sizeof(run[0]));
				buf_clear(&tmp);
				nrun = 0;
			}
			buf_append_byte(out, (uint8_t)cp);
			if (cp == '&')
				buf_append_byte(out, '-');
			continue;
		}
		if (nrun + 2 > sizeof(run) / sizeof(run[0])) {
			buf_append(&tmp, run, nrun * sizeof(run[0]));
			nrun = 0;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			run[nrun++] = (uint16_t)(0xd800 + (cp >> 10));
			run[nrun++] = (uint16_t)(0xdc00 + (cp & 0x3ff));
		} else {
			run[nrun++] = (uint16_t)cp;
		}
	}
	if (nrun > 0 || tmp.len > 0) {
		buf_append(&tmp, run, nrun * sizeof(run[0]));
		mutf7_flush_run(out, (const uint16_t *)tmp.data,
				tmp.len / sizeof(run[0]));
	}
	buf_free(&tmp);
	return 0;
}

bool mutf7_is_valid(const char *in, size_t len)
{
	struct buf b;
	const char *error;
	buf_init(&b);
	int ret = mutf7_to_utf8(in, len, &b, &error);
	buf_free(&b);
	return ret == 0;
}

bool mutf7_utf8_is_valid(const char *in, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		if (mutf7_utf8_next((const unsigned char *)in, len, &pos) < 0)
			return false;
	}
	return true;
}

bool mutf7_utf8_name_is_valid(const char *in, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		int32_t cp = mutf7_utf8_next((const unsigned char *)in, len,
					     &pos);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			return false;
	}
	return true;
}
