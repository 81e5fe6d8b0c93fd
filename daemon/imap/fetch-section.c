/* Section names, part lookup, partials and BINARY decoding for FETCH. */
#include "fetch-section.h"

#include "../../store/mime-decode.h"

#include <string.h>

void fetch_section_text(const struct imap_fetch_body *body, struct buf *out)
{
	for (size_t i = 0; i < body->part_count; i++)
		buf_printf(out, "%s%u", i ? "." : "", body->part[i]);
	const char *suffix = NULL;
	switch (body->section) {
	case IMAP_SECTION_FULL: break;
	case IMAP_SECTION_HEADER: suffix = "HEADER"; break;
	case IMAP_SECTION_HEADER_FIELDS: suffix = "HEADER.FIELDS"; break;
	case IMAP_SECTION_HEADER_FIELDS_NOT: suffix = "HEADER.FIELDS.NOT"; break;
	case IMAP_SECTION_TEXT: suffix = "TEXT"; break;
	case IMAP_SECTION_MIME: suffix = "MIME"; break;
	}
	if (suffix != NULL)
		buf_printf(out, "%s%s", body->part_count ? "." : "", suffix);
	/* keep the buffer a C string even when nothing was appended */
	(void)buf_cstr(out);
}

const struct mime_part *fetch_find_part(const struct mime_part *root,
					const uint32_t *path, size_t n)
{
	const struct mime_part *cur = root, *p = root;
	for (size_t i = 0; i < n; i++) {
		uint32_t k = path[i];
		if (cur == NULL || k == 0)
			return NULL;
		if (cur->flags & MIME_PART_MULTIPART) {
			if (k > cur->nchildren)
				return NULL;
			p = &cur->children[k - 1];
		} else {
			if (k != 1)
				return NULL;
			p = cur;
		}
		/* the next number indexes inside p, as mime_section_find() */
		if ((p->flags & MIME_PART_MESSAGE) && p->nchildren == 1)
			cur = &p->children[0];
		else if ((p->flags & MIME_PART_MULTIPART) && p != cur)
			cur = p;
		else
			cur = NULL;
	}
	return p;
}

void fetch_partial(const struct imap_fetch_body *body, uint64_t len,
		   uint64_t *off_r, uint64_t *len_r)
{
	if (!body->partial) {
		*off_r = 0;
		*len_r = len;
		return;
	}
	if (body->partial_origin >= len) {
		*off_r = len;
		*len_r = 0;
		return;
	}
	*off_r = body->partial_origin;
	uint64_t left = len - body->partial_origin;
	*len_r = body->partial_octets < left ? body->partial_octets : left;
}

enum fetch_binary_kind fetch_binary_kind(const struct mime_part *part,
					 size_t path_len)
{
	if (path_len == 0 ||
	    (part->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE)))
		return FETCH_BINARY_RAW;
	switch (part->enc) {
	case MIME_ENC_7BIT:
	case MIME_ENC_8BIT:
	case MIME_ENC_BINARY:
		return FETCH_BINARY_RAW;
	case MIME_ENC_BASE64:
	case MIME_ENC_QP:
		return FETCH_BINARY_DECODE;
	case MIME_ENC_OTHER:
		break;
	}
	return FETCH_BINARY_UNKNOWN;
}

void fetch_binary_decode(const uint8_t *data, size_t len,
			 enum mime_encoding enc, struct buf *out)
{
	if (enc == MIME_ENC_BASE64)
		mime_decode_base64(data, len, out);
	else if (enc == MIME_ENC_QP)
		mime_decode_qp(data, len, out);
	else
		buf_append(out, data, len);
}

bool fetch_has_nul(const uint8_t *data, size_t len)
{
	return len > 0 && memchr(data, '\0', len) != NULL;
}
