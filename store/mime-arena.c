/* Bump allocator for one parsed message; see mime-private.h. */
#include "mime-private.h"

#include "../common/log.h"

#include <stdlib.h>
#include <string.h>

#define MIME_ARENA_CHUNK 8192

struct mime_arena_chunk {
	struct mime_arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct mime_arena {
	struct mime_arena_chunk *head;
};

struct mime_arena *mime_arena_new(void)
{
	return xcalloc(1, sizeof(struct mime_arena));
}

void mime_arena_free(struct mime_arena *a)
{
	if (a == NULL)
		return;
	struct mime_arena_chunk *c = a->head;
	while (c != NULL) {
		struct mime_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	free(a);
}

void *mime_arena_alloc(struct mime_arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	if (size > SIZE_MAX - align)
		fatal("mime arena: allocation of %zu bytes", size);
	size = (size + align - 1) & ~(align - 1);
	struct mime_arena_chunk *c = a->head;
	if (c == NULL || c->size - c->used < size) {
		size_t csize = size > MIME_ARENA_CHUNK ? size : MIME_ARENA_CHUNK;
		c = xmalloc(sizeof(*c) + csize);
		c->size = csize;
		c->used = 0;
		/* A big allocation gets its own chunk behind the current one,
		 * so the current chunk's free space is not wasted. */
		if (a->head != NULL && size > MIME_ARENA_CHUNK / 2) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	void *p = (uint8_t *)c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

void *mime_arena_array(struct mime_arena *a, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		fatal("mime arena: array of %zu x %zu", n, size);
	return mime_arena_alloc(a, n * size);
}

struct mime_str mime_arena_str(struct mime_arena *a, const void *s,
			       size_t len)
{
	char *p = mime_arena_alloc(a, len + 1);
	if (len > 0)
		memcpy(p, s, len);
	return (struct mime_str){ p, len };
}

struct mime_str mime_arena_upper(struct mime_arena *a, const void *s,
				 size_t len)
{
	struct mime_str r = mime_arena_str(a, s, len);
	char *p = (char *)r.s;
	for (size_t i = 0; i < len; i++)
		p[i] = (char)mime_ascii_upper((uint8_t)p[i]);
	return r;
}

bool mime_mem_eq_ci(const void *a, size_t alen, const char *lit)
{
	const uint8_t *s = a;
	size_t n = strlen(lit);
	if (alen != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (mime_ascii_upper(s[i]) != mime_ascii_upper((uint8_t)lit[i]))
			return false;
	}
	return true;
}

bool mime_str_eq_ci(struct mime_str s, const char *lit)
{
	return s.s != NULL && mime_mem_eq_ci(s.s, s.len, lit);
}

void mime_append_replacement(struct buf *out)
{
	buf_append(out, "\xef\xbf\xbd", 3);
}
