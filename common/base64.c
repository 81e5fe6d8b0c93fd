#include "base64.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_decode(const char *in, size_t len, struct buf *out)
{
	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		size_t pad = 0;
		for (int j = 0; j < 4; j++) {
			char c = in[i + (size_t)j];
			if (c == '=') {
				/* '=' only in the last quantum's last 1-2 places */
				if (i + 4 != len || j < 2)
					return -1;
				pad++;
				v[j] = 0;
				continue;
			}
			if (pad > 0)
				return -1;
			v[j] = base64_digit_value((uint8_t)c);
			if (v[j] < 0)
				return -1;
		}
		uint32_t n = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) |
			     ((uint32_t)v[2] << 6) | (uint32_t)v[3];
		buf_append_byte(out, (uint8_t)(n >> 16));
		if (pad < 2)
			buf_append_byte(out, (uint8_t)(n >> 8));
		if (pad < 1)
			buf_append_byte(out, (uint8_t)n);
	}
	return 0;
}

void base64_encode(const void *in, size_t len, struct buf *out)
{
	const uint8_t *p = in;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t n = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			n |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			n |= p[i + 2];
		buf_append_byte(out, (uint8_t)b64_alphabet[(n >> 18) & 63]);
		buf_append_byte(out, (uint8_t)b64_alphabet[(n >> 12) & 63]);
		buf_append_byte(out, i + 1 < len ?
			(uint8_t)b64_alphabet[(n >> 6) & 63] : '=');
		buf_append_byte(out, i + 2 < len ?
			(uint8_t)b64_alphabet[n & 63] : '=');
	}
}
