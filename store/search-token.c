/* Tokens, unit streams and merged document records; see search-token.h. */
#include "search-token.h"

#include "../common/unicode-fold.h"
#include "search-index.h"

#include <stdlib.h>
#include <string.h>

enum cp_class { CLASS_SEP, CLASS_WORD, CLASS_SINGLE };

struct cp_range {
	uint32_t lo, hi;
	uint8_t cls;
};

/* Non-ASCII ranges that are not WORD, ascending. Punctuation inside
 * other scripts' blocks (Arabic comma, Devanagari danda) stays WORD:
 * a coarser cut only makes tokens longer, never a result wrong. */
static const struct cp_range ranges[] = {
	{ 0x0080, 0x00A9, CLASS_SEP },	/* C1 controls, NBSP, Latin-1 */
	{ 0x00AB, 0x00B1, CLASS_SEP },	/*   punctuation and symbols */
	{ 0x00B4, 0x00B4, CLASS_SEP },
	{ 0x00B6, 0x00B8, CLASS_SEP },
	{ 0x00BB, 0x00BB, CLASS_SEP },
	{ 0x00BF, 0x00BF, CLASS_SEP },
	{ 0x00D7, 0x00D7, CLASS_SEP },
	{ 0x00F7, 0x00F7, CLASS_SEP },
	{ 0x0E00, 0x0EFF, CLASS_SINGLE },	/* Thai, Lao */
	{ 0x1000, 0x109F, CLASS_SINGLE },	/* Myanmar */
	{ 0x1780, 0x17FF, CLASS_SINGLE },	/* Khmer */
	{ 0x2000, 0x206F, CLASS_SEP },	/* spaces, general punctuation */
	{ 0x20A0, 0x20CF, CLASS_SEP },	/* currency */
	{ 0x2190, 0x23FF, CLASS_SEP },	/* arrows, math, technical */
	{ 0x2500, 0x2BFF, CLASS_SEP },	/* box drawing .. symbols */
	{ 0x2E00, 0x2E7F, CLASS_SEP },	/* supplemental punctuation */
	{ 0x3000, 0x303F, CLASS_SEP },	/* CJK symbols and punctuation */
	{ 0x3040, 0x30FF, CLASS_SINGLE },	/* kana */
	{ 0x31F0, 0x31FF, CLASS_SINGLE },
	{ 0x3400, 0x4DBF, CLASS_SINGLE },	/* CJK ideographs */
	{ 0x4E00, 0x9FFF, CLASS_SINGLE },
	{ 0xF900, 0xFAFF, CLASS_SINGLE },
	{ 0xFE10, 0xFE1F, CLASS_SEP },	/* vertical forms */
	{ 0xFE30, 0xFE6F, CLASS_SEP },	/* CJK compatibility, small forms */
	{ 0xFF00, 0xFF0F, CLASS_SEP },	/* fullwidth punctuation */
	{ 0xFF1A, 0xFF20, CLASS_SEP },
	{ 0xFF3B, 0xFF40, CLASS_SEP },
	{ 0xFF5B, 0xFF65, CLASS_SEP },
	{ 0xFF66, 0xFF9F, CLASS_SINGLE },	/* halfwidth katakana */
	{ 0xFFF0, 0xFFFF, CLASS_SEP },	/* specials, U+FFFD */
	{ 0x1F000, 0x1FAFF, CLASS_SEP },	/* emoji and other symbols */
	{ 0x20000, 0x3FFFF, CLASS_SINGLE },	/* CJK extensions */
};

static enum cp_class cp_class(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
		       (cp >= 'A' && cp <= 'Z') ? CLASS_WORD : CLASS_SEP;
	size_t lo = 0, hi = sizeof(ranges) / sizeof(ranges[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cp < ranges[mid].lo)
			hi = mid;
		else if (cp > ranges[mid].hi)
			lo = mid + 1;
		else
			return (enum cp_class)ranges[mid].cls;
	}
	return CLASS_WORD;
}

static enum cp_class next_class(const uint8_t *p, size_t len, size_t *n_r)
{
	if (p[0] < 0x80) {
		*n_r = 1;
		return cp_class(p[0]);
	}
	uint32_t cp;
	*n_r = unicode_utf8_decode(p, len, &cp);
	return cp_class(cp);
}

size_t sx_token_len(const uint8_t *p, size_t len, bool *word_r)
{
	size_t n;
	enum cp_class c = next_class(p, len, &n);
	if (word_r != NULL)
		*word_r = c != CLASS_SEP;
	if (c == CLASS_SINGLE)
		return n;
	size_t at = n;
	while (at < len) {
		/* an ASCII run is the common case: no decoding */
		uint8_t b = p[at];
		if (b < 0x80) {
			bool w = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
				 (b >= 'A' && b <= 'Z');
			if (w != (c == CLASS_WORD))
				break;
			at++;
			continue;
		}
		if (next_class(p + at, len - at, &n) != c)
			break;
		at += n;
	}
	return at;
}

/* ---- unit streams ---- */

static void put_code(struct buf *out, uint64_t code)
{
	buf_reserve(out, 10);
	out->len += sx_varint_put((uint8_t *)out->data + out->len, code);
}

void sx_unit_begin(struct sx_unit_writer *w, struct buf *out)
{
	w->out = out;
	w->held = 0;
}

void sx_unit_put(struct sx_unit_writer *w, uint32_t id)
{
	if (w->held != 0) {
		if (id == SX_ID_SPACE) {
			/* the space rides on the token before it */
			put_code(w->out, (uint64_t)w->held << 1 | 1);
			w->held = 0;
			return;
		}
		put_code(w->out, (uint64_t)w->held << 1);
		w->held = 0;
	}
	if (id == SX_ID_SPACE)
		put_code(w->out, (uint64_t)id << 1);
	else
		w->held = id;
}

void sx_unit_end(struct sx_unit_writer *w)
{
	if (w->held != 0)
		put_code(w->out, (uint64_t)w->held << 1);
	w->held = 0;
}

void sx_unit_encode(const uint32_t *ids, size_t n, struct buf *out)
{
	struct buf codes;
	struct sx_unit_writer w;
	buf_init(&codes);
	sx_unit_begin(&w, &codes);
	for (size_t i = 0; i < n; i++)
		sx_unit_put(&w, ids[i]);
	sx_unit_end(&w);
	sx_buf_str(out, codes.len > 0 ? (const void *)codes.data : "",
		   codes.len);
	buf_free(&codes);
}

int sx_unit_decode(const uint8_t *p, size_t len, uint32_t **ids, size_t *n,
		   size_t *cap)
{
	/* every code takes a byte and yields at most two ids: one growth
	 * up front, then no checks in the loop (verification decodes
	 * hundreds of thousands of codes a query) */
	if (len == 0)
		return 0;
	if (*cap - *n < 2 * len) {
		*cap = *n + 2 * len + 64;
		*ids = xrealloc(*ids, *cap * sizeof(**ids));
	}
	uint32_t *out = *ids + *n;
	size_t pos = 0;
	while (pos < len) {
		uint64_t code;
		if (sx_code_get(p, len, &pos, &code) < 0)
			return -1;
		uint64_t id = code >> 1;
		if (id == 0 || id > SX_ID_MAX)
			return -1;
		*out++ = (uint32_t)id;
		if (code & 1)
			*out++ = SX_ID_SPACE;
	}
	*n = (size_t)(out - *ids);
	return 0;
}

/* ---- merged records ---- */

void sx_tdoc_free(struct sx_tdoc *d)
{
	free(d->u);
	memset(d, 0, sizeof(*d));
}

static int get_bytes(const uint8_t *p, size_t len, size_t *pos,
		     const uint8_t **s_r, size_t *n_r)
{
	uint64_t n;
	size_t k = sx_varint_get(p + *pos, len - *pos, &n);
	if (k == 0 || n > len - *pos - k)
		return -1;
	*s_r = p + *pos + k;
	*n_r = (size_t)n;
	*pos += k + (size_t)n;
	return 0;
}

int sx_tdoc_next(const uint8_t *rec, size_t len, size_t *pos,
		 struct sx_tunit *u)
{
	if (*pos == 0) {
		if (len < 1 || rec[0] != SX_TDOC_VERSION)
			return -1;
		*pos = 1;
	}
	if (*pos >= len)
		return 0;
	memset(u, 0, sizeof(*u));
	uint8_t b = rec[(*pos)++];
	u->ns = b & 0x7f;
	u->named = (b & 0x80) != 0;
	if (u->ns >= SX_NS_COUNT || (u->named && u->ns != SX_NS_HEADER))
		return -1;
	if (u->named && get_bytes(rec, len, pos, &u->name, &u->name_len) < 0)
		return -1;
	if (get_bytes(rec, len, pos, &u->codes, &u->len) < 0)
		return -1;
	return 1;
}

int sx_tdoc_parse(const uint8_t *rec, size_t len, struct sx_tdoc *d)
{
	d->n = 0;
	size_t pos = 0;
	struct sx_tunit u;
	int r;
	while ((r = sx_tdoc_next(rec, len, &pos, &u)) > 0) {
		if (d->n == d->cap) {
			d->cap = d->cap ? d->cap * 2 : 32;
			d->u = xrealloc(d->u, d->cap * sizeof(*d->u));
		}
		d->u[d->n++] = u;
	}
	return r;
}

void sx_tdoc_begin(struct buf *out)
{
	buf_append_byte(out, SX_TDOC_VERSION);
}

void sx_tdoc_unit(struct buf *out, unsigned ns, const uint8_t *name,
		  size_t name_len, const uint32_t *ids, size_t n)
{
	buf_append_byte(out, (uint8_t)(ns | (name != NULL ? 0x80 : 0)));
	if (name != NULL)
		sx_buf_str(out, name, name_len);
	sx_unit_encode(ids, n, out);
}

void sx_tdoc_unit_codes(struct buf *out, unsigned ns, const uint8_t *name,
			size_t name_len, const struct buf *codes)
{
	buf_append_byte(out, (uint8_t)(ns | (name != NULL ? 0x80 : 0)));
	if (name != NULL)
		sx_buf_str(out, name, name_len);
	sx_buf_str(out, codes->len > 0 ? (const void *)codes->data : "",
		   codes->len);
}
