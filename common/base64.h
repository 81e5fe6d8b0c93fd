/* RFC 4648 base64, strict: used for SASL (RFC 4422 / RFC 9051 6.2.2),
 * where a malformed encoding must be refused, not guessed at. */
#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* 0 and the bytes appended to out, or -1 on any invalid character,
 * missing or misplaced padding. */
int base64_decode(const char *in, size_t len, struct buf *out);
void base64_encode(const void *in, size_t len, struct buf *out);

#endif
