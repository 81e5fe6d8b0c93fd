/* UTF-8 validation (RFC 3629), shared by the response writer, charset
 * conversion and anything else that must not pass on malformed text. */
#ifndef POSTERN_UTF8_H
#define POSTERN_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (1 for ASCII; no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 if there is none. */
size_t utf8_seq_len(const uint8_t *s, size_t len);

#endif
