/* Pure helpers of FETCH (cmd-fetch.c): the section text the MIME layer
 * looks up, the part a BINARY section names, partial ranges, and the
 * content-transfer decoding of BINARY (RFC 3516). No I/O, no session. */
#ifndef POSTERN_FETCH_SECTION_H
#define POSTERN_FETCH_SECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/buf.h"
#include "../../store/mime.h"
#include "imap-fetch-args.h"

/* Appends the section as mime_section_find() takes it: "", "1.2",
 * "1.2.MIME", "HEADER", "2.HEADER.FIELDS" (the field list is applied
 * afterwards with mime_header_select()). */
void fetch_section_text(const struct imap_fetch_body *body, struct buf *out);

/* The part a part path names (RFC 9051 6.4.5 numbering, as
 * mime_section_find() counts: a non-multipart entity has only part 1,
 * its own body; numbering goes on inside a message/rfc822 part), or NULL
 * if there is no such part. n == 0 names the root entity. */
const struct mime_part *fetch_find_part(const struct mime_part *root,
					const uint32_t *path, size_t n);

/* Clips [0, len) to the partial <origin.octets> of body (RFC 9051
 * 6.4.5: an origin past the end gives an empty string). */
void fetch_partial(const struct imap_fetch_body *body, uint64_t len,
		   uint64_t *off_r, uint64_t *len_r);

enum fetch_binary_kind {
	FETCH_BINARY_RAW,	/* send the bytes as they are */
	FETCH_BINARY_DECODE,	/* base64 or quoted-printable: decode */
	FETCH_BINARY_UNKNOWN,	/* unknown encoding: NO [UNKNOWN-CTE] */
};

/* What BINARY[path] does with part (RFC 3516 4.1): a leaf is decoded
 * according to its Content-Transfer-Encoding; composite parts (multipart,
 * message) can only be 7bit/8bit/binary and go out as they are, and so
 * does BINARY[] (the whole message). */
enum fetch_binary_kind fetch_binary_kind(const struct mime_part *part,
					 size_t path_len);

/* Decodes a base64 or quoted-printable body, appending to out. */
void fetch_binary_decode(const uint8_t *data, size_t len,
			 enum mime_encoding enc, struct buf *out);

/* True if data holds a NUL byte: such content needs literal8 (~{n}). */
bool fetch_has_nul(const uint8_t *data, size_t len);

#endif
