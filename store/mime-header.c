/* Header field iteration, unfolding and selection; see mime-header.h. */
#include "mime-header.h"

#include "mime-private.h"

#include <string.h>

/* End of the line starting at pos (after its LF, or len). */
static size_t mime_line_end(const uint8_t *s, size_t len, size_t pos)
{
	const uint8_t *nl = memchr(s + pos, '\n', len - pos);
	return nl != NULL ? (size_t)(nl - s) + 1 : len;
}

static bool mime_line_is_empty(const uint8_t *s, size_t pos, size_t end)
{
	size_t n = end - pos;
	return (n == 1 && s[pos] == '\n') ||
	       (n == 2 && s[pos] == '\r' && s[pos + 1] == '\n');
}

size_t mime_header_length(const uint8_t *msg, size_t len, bool *has_blank_r)
{
	size_t pos = 0;
	while (pos < len) {
		size_t end = mime_line_end(msg, len, pos);
		if (mime_line_is_empty(msg, pos, end)) {
			if (has_blank_r != NULL)
				*has_blank_r = true;
			return end;
		}
		pos = end;
	}
	if (has_blank_r != NULL)
		*has_blank_r = false;
	return len;
}

void mime_header_iter_init(struct mime_header_iter *it, const uint8_t *hdr,
			   size_t len)
{
	it->hdr = hdr;
	it->len = len;
	it->pos = 0;
	it->done = false;
}

bool mime_header_next(struct mime_header_iter *it,
		      struct mime_header_field *field_r)
{
	const uint8_t *s = it->hdr;
	while (!it->done && it->pos < it->len) {
		size_t start = it->pos;
		size_t end = mime_line_end(s, it->len, start);
		if (mime_line_is_empty(s, start, end)) {
			it->done = true;
			break;
		}
		/* Continuation lines belong to this field. */
		while (end < it->len && mime_is_wsp(s[end]))
			end = mime_line_end(s, it->len, end);
		it->pos = end;
		if (mime_is_wsp(s[start]))
			continue;	/* folded line with no field before it */
		const uint8_t *colon = memchr(s + start, ':', end - start);
		if (colon == NULL)
			continue;
		size_t name_end = (size_t)(colon - s);
		while (name_end > start && mime_is_wsp(s[name_end - 1]))
			name_end--;
		if (name_end == start)
			continue;
		field_r->name = s + start;
		field_r->name_len = name_end - start;
		field_r->value = colon + 1;
		field_r->value_len = end - (size_t)(colon + 1 - s);
		field_r->raw = s + start;
		field_r->raw_len = end - start;
		return true;
	}
	it->done = true;
	return false;
}

bool mime_header_next_named(struct mime_header_iter *it, const char *name,
			    struct mime_header_field *field_r)
{
	while (mime_header_next(it, field_r)) {
		if (mime_mem_eq_ci(field_r->name, field_r->name_len, name))
			return true;
	}
	return false;
}

bool mime_header_find(const uint8_t *hdr, size_t len, const char *name,
		      struct mime_header_field *field_r)
{
	struct mime_header_iter it;
	mime_header_iter_init(&it, hdr, len);
	return mime_header_next_named(&it, name, field_r);
}

void mime_header_unfold(const uint8_t *value, size_t len, struct buf *out)
{
	size_t start = 0, end = len;
	while (start < end && (mime_is_wsp(value[start]) ||
			       value[start] == '\r' || value[start] == '\n'))
		start++;
	while (end > start && (mime_is_wsp(value[end - 1]) ||
			       value[end - 1] == '\r' || value[end - 1] == '\n'))
		end--;
	buf_reserve(out, end - start);
	for (size_t i = start; i < end; i++) {
		uint8_t c = value[i];
		if (c == '\r' && i + 1 < end && value[i + 1] == '\n')
			continue;
		if (c == '\n')
			continue;
		if (c == '\0') {
			mime_append_replacement(out);
			continue;
		}
		buf_append_byte(out, c);
	}
}

void mime_header_select(const uint8_t *hdr, size_t len,
			const char *const *names, size_t count, bool not,
			struct buf *out)
{
	struct mime_header_iter it;
	struct mime_header_field f;
	mime_header_iter_init(&it, hdr, len);
	while (mime_header_next(&it, &f)) {
		bool match = false;
		for (size_t i = 0; i < count && !match; i++)
			match = mime_mem_eq_ci(f.name, f.name_len, names[i]);
		if (match == not)
			continue;
		buf_append(out, f.raw, f.raw_len);
	}
	bool blank = false;
	mime_header_length(hdr, len, &blank);
	if (blank)
		buf_append(out, "\r\n", 2);
}
