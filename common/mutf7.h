/* Mailbox name encodings: modified UTF-7 (RFC 3501 section 5.1.3, kept by
 * RFC 9051 section 5.1.3 for IMAP4rev1 clients) and UTF-8 (IMAP4rev2,
 * RFC 6855 UTF8=ACCEPT).
 *
 * Decoding is strict: there is exactly one modified UTF-7 spelling of each
 * name, so two spellings can never name the same mailbox, and a name that
 * would not survive a round trip is refused. */
#ifndef POSTERN_MUTF7_H
#define POSTERN_MUTF7_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Appends the UTF-8 form of the modified UTF-7 name in[0..len) to out.
 * Refused (-1, *error_r set, out unchanged): bytes outside 0x20..0x7e;
 * "&" not closed by "-"; a base64 character outside RFC 3501's alphabet
 * (",", not "/"); leftover bits that are not zero or not fewer than 6;
 * unpaired UTF-16 surrogates; U+0000; printable US-ASCII encoded in
 * base64 (non-minimal); two base64 runs in a row ("&AGE-&AGI-" must be
 * one run). "&-" is "&". */
int mutf7_to_utf8(const char *in, size_t len, struct buf *out,
		  const char **error_r);

/* Appends the modified UTF-7 form of the UTF-8 name in[0..len) to out.
 * Refused (-1, out unchanged) if in is not valid UTF-8 or contains
 * U+0000. */
int mutf7_from_utf8(const char *in, size_t len, struct buf *out,
		    const char **error_r);

/* True if the decoding above would succeed. */
bool mutf7_is_valid(const char *in, size_t len);

/* RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above
 * U+10FFFF. */
bool mutf7_utf8_is_valid(const char *in, size_t len);

/* A mailbox name as IMAP4rev2 / UTF8=ACCEPT clients may send it (RFC 9051
 * section 5.1, RFC 5198 Net-Unicode): valid UTF-8 without C0 or C1
 * controls or DEL. */
bool mutf7_utf8_name_is_valid(const char *in, size_t len);

#endif
