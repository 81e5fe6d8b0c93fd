/* RFC 4648 base64, strict: used for SASL (RFC 4422 / RFC 9051 6.2.2),
 * where a malformed encoding must be refused, not guessed at. */
#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The value of a digit of the base64 alphabet (RFC 4648 table 1, the
 * one MIME uses too), or -1. */
static inline int base64_digit_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* 0 and the bytes appended to out, or -1 on any invalid character,
 * missing or misplaced padding. */
int base64_decode(const char *in, size_t len, struct buf *out);
void base64_encode(const void *in, size_t len, struct buf *out);

#endif
