/* Case folding (i;unicode-casemap, RFC 5051); see unicode-fold.h. */
#include "unicode-fold.h"

#include <string.h>

#include "unicode-fold-table.h"
#include "utf8.h"

_Static_assert(UNICODE_FOLD_TABLE_MAX_UTF8 <= UNICODE_FOLD_MAX_UTF8,
	       "fold table entry longer than UNICODE_FOLD_MAX_UTF8");

#define HANGUL_S_BASE 0xAC00
#define HANGUL_S_COUNT 11172
#define HANGUL_L_BASE 0x1100
#define HANGUL_V_BASE 0x1161
#define HANGUL_T_BASE 0x11A7
#define HANGUL_T_COUNT 28
#define HANGUL_N_COUNT 588

const char *unicode_fold_version(void)
{
	return UNICODE_FOLD_UNIDATA;
}

size_t unicode_fold_cp(uint32_t cp, uint8_t out[UNICODE_FOLD_MAX_UTF8])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)(cp >= 'a' && cp <= 'z' ? cp - 32 : cp);
		return 1;
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp - HANGUL_S_BASE < HANGUL_S_COUNT) {
		/* Unicode 14.0 section 3.12: canonical decomposition of a
		 * precomposed syllable into its conjoining jamo */
		uint32_t si = cp - HANGUL_S_BASE;
		size_t n = utf8_encode(HANGUL_L_BASE + si / HANGUL_N_COUNT, out);
		n += utf8_encode(HANGUL_V_BASE + (si % HANGUL_N_COUNT) /
						  HANGUL_T_COUNT, out + n);
		if (si % HANGUL_T_COUNT != 0)
			n += utf8_encode(HANGUL_T_BASE + si % HANGUL_T_COUNT,
				      out + n);
		return n;
	}
	uint32_t page = cp >> 8;
	size_t lo = unicode_fold_pages[page], hi = unicode_fold_pages[page + 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct unicode_fold_entry *e = &unicode_fold_entries[mid];
		if (e->cp == cp) {
			memcpy(out, unicode_fold_pool + e->off, e->len);
			return e->len;
		}
		if (e->cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return utf8_encode(cp, out);
}

size_t unicode_utf8_decode(const uint8_t *in, size_t len, uint32_t *cp_r)
{
	size_t n = utf8_decode(in, len, cp_r);
	if (n > 0)
		return n;
	*cp_r = 0xFFFD;
	return 1;
}

void unicode_fold_utf8(const uint8_t *in, size_t len, struct buf *out)
{
	size_t i = 0;
	/* worst case growth is bounded per code point; reserve for the
	 * common case (about the input size) and grow as needed */
	buf_reserve(out, len + 16);
	while (i < len) {
		/* ASCII runs: the bulk of mail text */
		size_t start = i;
		while (i < len && in[i] < 0x80)
			i++;
		if (i > start) {
			buf_reserve(out, i - start);
			uint8_t *d = out->data + out->len;
			for (size_t k = start; k < i; k++) {
				uint8_t c = in[k];
				d[k - start] = (uint8_t)(c >= 'a' && c <= 'z' ?
							 c - 32 : c);
			}
			out->len += i - start;
		}
		if (i >= len)
			break;
		uint32_t cp;
		i += unicode_utf8_decode(in + i, len - i, &cp);
		buf_reserve(out, UNICODE_FOLD_MAX_UTF8);
		out->len += unicode_fold_cp(cp, out->data + out->len);
	}
}
