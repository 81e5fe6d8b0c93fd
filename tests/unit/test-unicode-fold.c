/* common/unicode-fold.c: i;unicode-casemap (RFC 5051) folding. */
#include "unit.h"

#include "../../common/buf.h"
#include "../../common/unicode-fold.h"

#include <stdbool.h>
#include <string.h>

static char *fold(const char *s)
{
	static char out[4][256];
	static int slot;
	struct buf b;
	buf_init(&b);
	unicode_fold_utf8((const uint8_t *)s, strlen(s), &b);
	char *o = out[slot++ % 4];
	CU_ASSERT_FATAL(b.len < sizeof(out[0]));
	memcpy(o, b.data, b.len);
	o[b.len] = '\0';
	buf_free(&b);
	return o;
}

static bool same(const char *a, const char *b)
{
	return strcmp(fold(a), fold(b)) == 0;
}

static void test_ascii(void)
{
	CU_ASSERT_STRING_EQUAL(fold("Hello, World 123 [a-z]@{}"),
			       "HELLO, WORLD 123 [A-Z]@{}");
	CU_ASSERT_STRING_EQUAL(fold(""), "");
	/* only letters change: the bytes around them are kept */
	CU_ASSERT_STRING_EQUAL(fold("`{~\x7f\x01"), "`{~\x7f\x01");
}

static void test_scripts(void)
{
	/* Latin-1, Latin Extended, Greek, Cyrillic, Armenian, Georgian,
	 * Cherokee, Deseret (outside the BMP), fullwidth */
	CU_ASSERT(same("münchen", "MÜNCHEN"));
	CU_ASSERT(same("ŁÓDŹ", "łódź"));
	CU_ASSERT(same("ΣΟΦΙΑ", "σοφια"));
	CU_ASSERT(same("ΟΔΟΣ", "οδος"));	/* final sigma */
	CU_ASSERT(same("Привет", "пРИВЕТ"));
	CU_ASSERT(same("Ԁ", "ԁ"));
	CU_ASSERT(same("ԱԲԳ", "աբգ"));
	CU_ASSERT(same("Ⴀ", "ⴀ"));
	CU_ASSERT(same("\xf0\x90\x90\x80", "\xf0\x90\x90\xa8"));	/* 𐐀 𐐨 */
	CU_ASSERT(same("Ａ", "ａ"));
	CU_ASSERT(!same("Ａ", "A"));	/* no compatibility mapping */
	CU_ASSERT(same("ǅ", "ǆ"));
	CU_ASSERT(same("Ǆ", "ǆ"));
	/* K (Kelvin sign) and Å (Angstrom sign) are their letters */
	CU_ASSERT(same("\xe2\x84\xaa", "k"));
	CU_ASSERT(same("\xe2\x84\xab", "å"));
}

static void test_rfc5051_specials(void)
{
	/* precomposed and decomposed forms fold alike (NFD) */
	CU_ASSERT(same("é", "e\xcc\x81"));
	CU_ASSERT(same("É", "e\xcc\x81"));
	CU_ASSERT_STRING_EQUAL(fold("é"), "E\xcc\x81");
	/* Turkish: dotless ı titlecases to I; İ is I + combining dot */
	CU_ASSERT(same("ı", "i"));
	CU_ASSERT(same("ı", "I"));
	CU_ASSERT_STRING_EQUAL(fold("İ"), "I\xcc\x87");
	CU_ASSERT(!same("İ", "i"));
	/* ß: no full folding to "ss"; capital ẞ joins it (simple folding) */
	CU_ASSERT(!same("ß", "ss"));
	CU_ASSERT(same("ẞ", "ß"));
	/* Greek with ypogegrammeni: ᾳ, ᾼ and α + U+0345 alike */
	CU_ASSERT(same("ᾳ", "ᾼ"));
	CU_ASSERT(same("ᾳ", "α\xcd\x85"));
	/* Hangul syllable = its conjoining jamo */
	CU_ASSERT(same("한", "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"));
	CU_ASSERT(same("가", "\xe1\x84\x80\xe1\x85\xa1"));
	/* CJK unchanged */
	CU_ASSERT_STRING_EQUAL(fold("中文"), "中文");
}

static void test_invalid(void)
{
	/* every invalid byte is U+FFFD, folded as itself */
	CU_ASSERT_STRING_EQUAL(fold("a\xff" "b"), "A\xef\xbf\xbd" "B");
	CU_ASSERT_STRING_EQUAL(fold("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");
	CU_ASSERT_STRING_EQUAL(fold("\xed\xa0\x80"),	/* surrogate */
			       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	CU_ASSERT_STRING_EQUAL(fold("x\xe2\x82"), "X\xef\xbf\xbd\xef\xbf\xbd");
	CU_ASSERT_STRING_EQUAL(fold("\xf4\x90\x80\x80"),	/* > U+10FFFF */
			       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			       "\xef\xbf\xbd");
}

/* Folding is idempotent over every code point: folded text is a fixed
 * point, which substring search over folded text relies on. */
static void test_idempotent_all(void)
{
	uint8_t a[UNICODE_FOLD_MAX_UTF8];
	struct buf b;
	buf_init(&b);
	unsigned bad = 0;
	for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
		size_t n = unicode_fold_cp(cp, a);
		if (n < 1 || n > UNICODE_FOLD_MAX_UTF8) {
			bad++;
			continue;
		}
		buf_clear(&b);
		unicode_fold_utf8(a, n, &b);
		if (b.len != n || memcmp(b.data, a, n) != 0)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	buf_free(&b);
	CU_ASSERT_STRING_EQUAL(unicode_fold_version(), "14.0.0");
}

static void test_decode(void)
{
	uint32_t cp;
	CU_ASSERT_EQUAL(unicode_utf8_decode((const uint8_t *)"\xe2\x82\xac", 3,
					    &cp), 3);
	CU_ASSERT_EQUAL(cp, 0x20AC);
	CU_ASSERT_EQUAL(unicode_utf8_decode((const uint8_t *)"\xe2\x82\xac", 2,
					    &cp), 1);
	CU_ASSERT_EQUAL(cp, 0xFFFD);
	CU_ASSERT_EQUAL(unicode_utf8_decode((const uint8_t *)"\xf0\x9f\x98\x80",
					    4, &cp), 4);
	CU_ASSERT_EQUAL(cp, 0x1F600);
}

static void unicode_fold_suite(void)
{
	CU_pSuite s = CU_add_suite("unicode-fold", NULL, NULL);
	CU_add_test(s, "ascii", test_ascii);
	CU_add_test(s, "scripts", test_scripts);
	CU_add_test(s, "rfc5051 specials", test_rfc5051_specials);
	CU_add_test(s, "invalid utf-8", test_invalid);
	CU_add_test(s, "idempotent on every code point", test_idempotent_all);
	CU_add_test(s, "utf-8 decode", test_decode);
}
UNIT_SUITE(unicode_fold_suite)
