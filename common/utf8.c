#include "utf8.h"

size_t utf8_decode(const uint8_t *s, size_t len, uint32_t *cp_r)
{
	if (len == 0)
		return 0;
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	uint32_t cp;
	size_t n;
	if (c < 0x80) {
		*cp_r = c;
		return 1;
	}
	/* The second byte's range rules out overlongs (E0, F0), surrogates
	 * (ED) and values above U+10FFFF (F4) up front (RFC 3629 section
	 * 4), so no check on the decoded value is needed. */
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	*cp_r = cp;
	return n;
}

size_t utf8_seq_len(const uint8_t *s, size_t len)
{
	uint32_t cp;
	return utf8_decode(s, len, &cp);
}

size_t utf8_encode(uint32_t cp, uint8_t out[UTF8_SEQ_MAX])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}
