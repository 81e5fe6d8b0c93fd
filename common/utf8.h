/* UTF-8 (RFC 3629): the one decoder and encoder every part of Postern
 * uses, so that what the response writer, charset conversion, case
 * folding, modified UTF-7 and mailbox-name checks call well-formed is
 * the same thing everywhere. */
#ifndef POSTERN_UTF8_H
#define POSTERN_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_SEQ_MAX 4

/* Decodes the sequence at s: its length (1 for ASCII) with the code
 * point in *cp_r, or 0 if there is no well-formed sequence there
 * (overlongs, surrogates, anything above U+10FFFF and truncated
 * sequences are refused). */
size_t utf8_decode(const uint8_t *s, size_t len, uint32_t *cp_r);

/* Length of the valid UTF-8 sequence at s, or 0 if there is none. */
size_t utf8_seq_len(const uint8_t *s, size_t len);

/* Encodes cp (a scalar value: <= U+10FFFF, not a surrogate) into out;
 * returns its length, 1 to 4. */
size_t utf8_encode(uint32_t cp, uint8_t out[UTF8_SEQ_MAX]);

#endif
