/* Section byte ranges (RFC 9051 section 6.4.5, FETCH BODY[<section>]).
 *
 * Part numbers index the parts of an entity: the children of a multipart,
 * or, for an entity that is not multipart, only "1", the entity's own
 * body. After a message/rfc822 part, numbering continues inside the
 * encapsulated message. HEADER and TEXT apply to the top level and to
 * message/rfc822 parts; MIME to any numbered part (for part 1 of a
 * non-multipart message, that is the message header, as Dovecot does). */
#include "mime-private.h"

#include <string.h>
#include <strings.h>

int mime_section_find_part(const struct mime_part *root, const char *section,
			   uint64_t *offset_r, uint64_t *len_r)
{
	const struct mime_part *cur = root, *p = NULL;
	const char *s = section;
	bool numbered = false;

	while (*s >= '0' && *s <= '9') {
		uint64_t n = 0;
		if (*s == '0')
			return -1;	/* no zero, no leading zeros */
		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (uint64_t)(*s - '0');
			if (n > 100000000)
				return -1;
			s++;
		}
		if (cur == NULL)
			return -1;
		if ((cur->flags & MIME_PART_MULTIPART) != 0) {
			if (n > cur->nchildren)
				return -1;
			p = &cur->children[n - 1];
		} else {
			if (n != 1)
				return -1;
			p = cur;
		}
		if ((p->flags & MIME_PART_MESSAGE) != 0 && p->nchildren == 1)
			cur = &p->children[0];
		else if ((p->flags & MIME_PART_MULTIPART) != 0 && p != cur)
			cur = p;
		else
			cur = NULL;
		numbered = true;
		if (*s == '\0')
			break;
		if (*s != '.')
			return -1;
		s++;
		if (*s == '\0')
			return -1;	/* trailing dot */
	}

	if (*s == '\0') {
		if (!numbered) {
			*offset_r = root->hdr_off;
			*len_r = root->body_off + root->body_len - root->hdr_off;
		} else {
			*offset_r = p->body_off;
			*len_r = p->body_len;
		}
		return 0;
	}
	if (strcasecmp(s, "MIME") == 0) {
		if (!numbered)
			return -1;
		*offset_r = p->hdr_off;
		*len_r = p->hdr_len;
		return 0;
	}
	const struct mime_part *e = root;
	if (numbered) {
		if ((p->flags & MIME_PART_MESSAGE) == 0 || p->nchildren != 1)
			return -1;
		e = &p->children[0];
	}
	if (strcasecmp(s, "HEADER") == 0 ||
	    strcasecmp(s, "HEADER.FIELDS") == 0 ||
	    strcasecmp(s, "HEADER.FIELDS.NOT") == 0) {
		*offset_r = e->hdr_off;
		*len_r = e->hdr_len;
		return 0;
	}
	if (strcasecmp(s, "TEXT") == 0) {
		*offset_r = e->body_off;
		*len_r = e->body_len;
		return 0;
	}
	return -1;
}

int mime_section_find(const struct mime_message *msg, const char *section,
		      uint64_t *offset_r, uint64_t *len_r)
{
	if (*section == '\0') {
		*offset_r = 0;
		*len_r = msg->size;
		return 0;
	}
	return mime_section_find_part(msg->root, section, offset_r, len_r);
}
