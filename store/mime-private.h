/* Internals shared by the mime-*.c files. Not for users of store/. */
#ifndef POSTERN_MIME_PRIVATE_H
#define POSTERN_MIME_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/base64.h"
#include "../common/buf.h"
#include "mime.h"

/* Arena: a parse allocates many small strings and nodes that all die
 * together; one free per message, no per-node bookkeeping. */
struct mime_arena;
struct mime_arena *mime_arena_new(void);
void mime_arena_free(struct mime_arena *a);
void *mime_arena_alloc(struct mime_arena *a, size_t size);	/* zeroed */
void *mime_arena_array(struct mime_arena *a, size_t n, size_t size);
struct mime_str mime_arena_str(struct mime_arena *a, const void *s,
			       size_t len);
/* Copy with ASCII upper-casing. */
struct mime_str mime_arena_upper(struct mime_arena *a, const void *s,
				 size_t len);

static inline bool mime_is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* The value of a hex digit of either case, or -1. */
static inline int mime_hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static inline uint8_t mime_ascii_upper(uint8_t c)
{
	return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
}

bool mime_str_eq_ci(struct mime_str s, const char *lit);
bool mime_mem_eq_ci(const void *a, size_t alen, const char *lit);

/* Appends the U+FFFD replacement character. */
void mime_append_replacement(struct buf *out);

/* Structured header values (RFC 2045 Content-Type, RFC 2183
 * Content-Disposition): "token/token; a=b; c*0*=..." with comments
 * skipped. value is the unfolded field value. */
struct mime_ctype {
	struct mime_str type, subtype;	/* upper-cased; NIL if invalid */
	struct mime_param *params;	/* RFC 2231 joined, names upper */
	size_t nparams;
};
void mime_parse_content_type(struct mime_arena *a, const uint8_t *value,
			     size_t len, bool with_subtype,
			     struct mime_ctype *ct_r);
/* Value of parameter name (upper-case) in params, or a NIL string. */
struct mime_str mime_param_get(const struct mime_param *params, size_t n,
			       const char *name);
/* First token of value (Content-Transfer-Encoding), upper-cased; NIL if
 * none. */
struct mime_str mime_parse_token(struct mime_arena *a, const uint8_t *value,
				 size_t len);
/* Comma-separated list of tokens (Content-Language). */
void mime_parse_token_list(struct mime_arena *a, const uint8_t *value,
			   size_t len, struct mime_str **list_r,
			   size_t *count_r);

/* RFC 5322 address-list (lenient; see mime-address.c). */
void mime_parse_addresses(struct mime_arena *a, const uint8_t *value,
			  size_t len, struct mime_addresses *list_r);

/* Fills env from the header block hdr. */
void mime_envelope_parse(struct mime_arena *a, const uint8_t *hdr,
			 size_t len, struct mime_envelope *env);

/* Section lookup on any tree (parsed or decoded). */
int mime_section_find_part(const struct mime_part *root, const char *section,
			   uint64_t *offset_r, uint64_t *len_r);

#endif
