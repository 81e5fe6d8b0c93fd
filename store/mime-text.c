/* Text parts of a message, for search and previews. */
#include "mime-private.h"

#include "charset.h"
#include "mime-decode.h"

#include <stdlib.h>

static void mime_collect_text(const struct mime_part *p,
			      struct mime_text_part **arr, size_t *n,
			      size_t *cap)
{
	/* Iterative walk: the tree may be MIME_DEPTH_HARD_MAX deep, and a
	 * decoded record is not trusted to be shallow. */
	const struct mime_part *stack[MIME_DEPTH_HARD_MAX + 2];
	size_t idx[MIME_DEPTH_HARD_MAX + 2];
	size_t sp = 0;
	stack[0] = p;
	idx[0] = 0;
	for (;;) {
		const struct mime_part *top = stack[sp];
		if (idx[sp] == 0 && top->nchildren == 0 &&
		    (top->flags & MIME_PART_OPAQUE) == 0 &&
		    mime_str_eq_ci(top->type, "TEXT")) {
			if (*n == *cap) {
				*cap = *cap ? *cap * 2 : 4;
				*arr = xrealloc(*arr, *cap * sizeof(**arr));
			}
			struct mime_text_part *t = &(*arr)[(*n)++];
			t->body_off = top->body_off;
			t->body_len = top->body_len;
			t->enc = top->enc;
			t->subtype = top->subtype;
			t->charset = mime_param_get(top->params, top->nparams,
						    "CHARSET");
			if (t->charset.s == NULL)
				t->charset = (struct mime_str){ "US-ASCII", 8 };
		}
		if (idx[sp] < top->nchildren && sp + 1 < MIME_DEPTH_HARD_MAX + 2) {
			stack[sp + 1] = &top->children[idx[sp]];
			idx[sp]++;
			sp++;
			idx[sp] = 0;
			continue;
		}
		if (sp == 0)
			break;
		sp--;
	}
}

size_t mime_text_parts(const struct mime_message *msg,
		       struct mime_text_part **parts_r)
{
	size_t n = 0, cap = 0;
	*parts_r = NULL;
	mime_collect_text(msg->root, parts_r, &n, &cap);
	return n;
}

void mime_text_decode(const uint8_t *body, size_t len, enum mime_encoding enc,
		      const char *charset, size_t charset_len,
		      struct buf *out)
{
	struct buf raw;
	const uint8_t *data = body;
	size_t dlen = len;
	buf_init(&raw);
	if (enc == MIME_ENC_BASE64) {
		mime_decode_base64(body, len, &raw);
		data = raw.data;
		dlen = raw.len;
	} else if (enc == MIME_ENC_QP) {
		mime_decode_qp(body, len, &raw);
		data = raw.data;
		dlen = raw.len;
	}
	if (charset == NULL ||
	    charset_to_utf8(charset, charset_len, data, dlen, out) < 0)
		charset_raw_to_utf8(data, dlen, out);
	buf_free(&raw);
}
