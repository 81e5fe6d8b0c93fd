/* common/utf8: the decoder against its definition (a sequence is
 * well-formed exactly when it is the encoding of a scalar value), over
 * every sequence of one to three bytes and every four-byte lead. */
#include "unit.h"

#include "../../common/utf8.h"

#include <string.h>

static void test_round_trip_every_scalar(void)
{
	size_t bad = 0;
	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		uint8_t seq[UTF8_SEQ_MAX];
		size_t n = utf8_encode(cp, seq);
		uint32_t back = 0;
		size_t expect = cp < 0x80 ? 1 : cp < 0x800 ? 2 :
				cp < 0x10000 ? 3 : 4;
		if (n != expect || utf8_decode(seq, n, &back) != n ||
		    back != cp || utf8_seq_len(seq, n) != n ||
		    utf8_decode(seq, n - 1, &back) != 0)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* Every byte string of length 1..3 (and 4-byte strings with every lead
 * and second byte): decoding accepts exactly the encodings. */
static void test_exhaustive_short(void)
{
	size_t bad = 0;
	for (uint32_t v = 0; v < (1u << 24); v++) {
		uint8_t s[4] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8),
				 (uint8_t)v, 0x80 };
		uint32_t cp;
		size_t n = utf8_decode(s, 4, &cp);
		if (n == 0) {
			/* Then no prefix of s is an encoding either. */
			for (size_t k = 1; k <= 3; k++) {
				uint32_t c2;
				if (utf8_decode(s, k, &c2) != 0)
					bad++;
			}
			continue;
		}
		uint8_t enc[UTF8_SEQ_MAX];
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    utf8_encode(cp, enc) != n || memcmp(enc, s, n) != 0)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
		"\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80",
		"\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
		"\xff", "\x80", "\xe2\x82", "\xe2\x28\xac",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t cp;
		CU_ASSERT_EQUAL(utf8_decode((const uint8_t *)bad[i],
					    strlen(bad[i]), &cp), 0);
	}
	uint32_t cp;
	CU_ASSERT_EQUAL(utf8_decode((const uint8_t *)"", 0, &cp), 0);
	CU_ASSERT_EQUAL(utf8_decode((const uint8_t *)"\xf4\x8f\xbf\xbf", 4,
				    &cp), 4);
	CU_ASSERT_EQUAL(cp, 0x10ffff);
}

static void utf8_suite(void)
{
	CU_pSuite s = CU_add_suite("utf8", NULL, NULL);
	CU_add_test(s, "round trip of every scalar value",
		    test_round_trip_every_scalar);
	CU_add_test(s, "every sequence up to three bytes",
		    test_exhaustive_short);
	CU_add_test(s, "refused sequences", test_refused);
}
UNIT_SUITE(utf8_suite)
