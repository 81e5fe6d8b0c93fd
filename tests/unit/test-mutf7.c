/* Tests for modified UTF-7 and UTF-8 mailbox names (common/mutf7.c). */
#include "unit.h"

#include "../../common/buf.h"
#include "../../common/mutf7.h"

#include <stdlib.h>
#include <string.h>

/* Both directions: m (modified UTF-7) <-> u (UTF-8). */
static void roundtrip(const char *m, const char *u)
{
	struct buf b;
	const char *error = NULL;
	buf_init(&b);
	CU_ASSERT_EQUAL(mutf7_to_utf8(m, strlen(m), &b, &error), 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), u);
	buf_clear(&b);
	CU_ASSERT_EQUAL(mutf7_from_utf8(u, strlen(u), &b, &error), 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), m);
	CU_ASSERT_TRUE(mutf7_is_valid(m, strlen(m)));
	buf_free(&b);
}

static void test_mutf7_roundtrip(void)
{
	roundtrip("", "");
	roundtrip("INBOX", "INBOX");
	roundtrip("&-", "&");
	roundtrip("a&-b&-", "a&b&");
	/* RFC 3501 section 5.1.3 example */
	roundtrip("~peter/mail/&U,BTFw-/&ZeVnLIqe-",
		  "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	roundtrip("Entw&APw-rfe", "Entw\xc3\xbc" "rfe");
	roundtrip("&AOQA9gD8-", "\xc3\xa4\xc3\xb6\xc3\xbc");
	/* astral plane: a surrogate pair (U+1F600) */
	roundtrip("&2D3eAA-", "\xf0\x9f\x98\x80");
	roundtrip("x&2D3eAA-y&AOQ-", "x\xf0\x9f\x98\x80y\xc3\xa4");
	/* controls are encoded, not passed through */
	roundtrip("&AAk-", "\t");
	roundtrip("&AH8-", "\x7f");
}

/* A long run crosses the encoder's internal buffer. */
static void test_mutf7_long(void)
{
	struct buf u, m, back;
	const char *error;
	buf_init(&u);
	buf_init(&m);
	buf_init(&back);
	for (int i = 0; i < 300; i++)
		buf_append_str(&u, i % 3 ? "\xc3\xa4" : "\xf0\x9f\x98\x80");
	CU_ASSERT_EQUAL(mutf7_from_utf8((const char *)u.data, u.len, &m,
					&error), 0);
	CU_ASSERT_EQUAL(m.data[0], '&');
	CU_ASSERT_EQUAL(m.data[m.len - 1], '-');
	CU_ASSERT_PTR_NULL(memchr(m.data + 1, '-', m.len - 2));
	CU_ASSERT_EQUAL(mutf7_to_utf8((const char *)m.data, m.len, &back,
				      &error), 0);
	CU_ASSERT_EQUAL(back.len, u.len);
	CU_ASSERT_EQUAL(memcmp(back.data, u.data, u.len), 0);
	buf_free(&u);
	buf_free(&m);
	buf_free(&back);
}

static void bad_mutf7(const char *m, const char *want)
{
	struct buf b;
	const char *error = NULL;
	buf_init(&b);
	buf_append_str(&b, "keep");
	CU_ASSERT_EQUAL(mutf7_to_utf8(m, strlen(m), &b, &error), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(error);
	CU_ASSERT_STRING_EQUAL(error, want);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "keep");	/* out untouched */
	CU_ASSERT_FALSE(mutf7_is_valid(m, strlen(m)));
	buf_free(&b);
}

static void test_mutf7_errors(void)
{
	bad_mutf7("&", "Unterminated modified UTF-7");
	bad_mutf7("a&AOQ", "Unterminated modified UTF-7");
	bad_mutf7("&AOQ/-", "Invalid base64 in modified UTF-7");
	bad_mutf7("&AOQ=-", "Invalid base64 in modified UTF-7");
	bad_mutf7("&AOQ -", "Invalid base64 in modified UTF-7");
	bad_mutf7("\xc3\xa4", "Invalid character in modified UTF-7");
	bad_mutf7("a\tb", "Invalid character in modified UTF-7");
	bad_mutf7("a\x7f", "Invalid character in modified UTF-7");
	/* "a" (U+0061) encoded: must be written as itself */
	bad_mutf7("&AGE-", "Non-minimal modified UTF-7");
	bad_mutf7("&ACY-", "Non-minimal modified UTF-7");	/* "&" */
	/* two runs in a row must be one */
	bad_mutf7("&AOQ-&APY-", "Non-minimal modified UTF-7");
	/* leftover bits: nonzero, or 6 or more */
	bad_mutf7("&AOR-", "Invalid base64 padding in modified UTF-7");
	bad_mutf7("&AOQA-", "Invalid base64 padding in modified UTF-7");
	bad_mutf7("&A-", "Invalid base64 padding in modified UTF-7");
	/* surrogates */
	bad_mutf7("&2D0-", "Unpaired surrogate in modified UTF-7");
	bad_mutf7("&3gA-", "Unpaired surrogate in modified UTF-7");
	bad_mutf7("&2D3YPQ-", "Unpaired surrogate in modified UTF-7");
	bad_mutf7("&AAA-", "NUL in modified UTF-7");
}

static void test_mutf7_from_errors(void)
{
	static const char *const bad[] = {
		"\xc3", "\xc3\x28", "\xc0\xaf", "\xe0\x80\xaf",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "\x80",
	};
	struct buf b;
	const char *error = NULL;
	buf_init(&b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		buf_clear(&b);
		CU_ASSERT_EQUAL(mutf7_from_utf8(bad[i], strlen(bad[i]), &b,
						&error), -1);
		CU_ASSERT_STRING_EQUAL(error, "Invalid UTF-8");
		CU_ASSERT_EQUAL(b.len, 0);
		CU_ASSERT_FALSE(mutf7_utf8_is_valid(bad[i], strlen(bad[i])));
	}
	CU_ASSERT_EQUAL(mutf7_from_utf8("a\0b", 3, &b, &error), -1);
	CU_ASSERT_STRING_EQUAL(error, "NUL in name");
	buf_free(&b);
}

static void test_utf8_valid(void)
{
	CU_ASSERT_TRUE(mutf7_utf8_is_valid("", 0));
	CU_ASSERT_TRUE(mutf7_utf8_is_valid("abc", 3));
	CU_ASSERT_TRUE(mutf7_utf8_is_valid("\xc2\x80", 2));
	CU_ASSERT_TRUE(mutf7_utf8_is_valid("\xef\xbf\xbf", 3));
	CU_ASSERT_TRUE(mutf7_utf8_is_valid("\xf4\x8f\xbf\xbf", 4));
	CU_ASSERT_TRUE(mutf7_utf8_is_valid("\t", 1));
	CU_ASSERT_FALSE(mutf7_utf8_is_valid("\xf4\x8f\xbf", 3));
	CU_ASSERT_FALSE(mutf7_utf8_is_valid("\xc1\xbf", 2));
	/* names: no controls */
	CU_ASSERT_TRUE(mutf7_utf8_name_is_valid("Entw\xc3\xbc" "rfe", 9));
	CU_ASSERT_FALSE(mutf7_utf8_name_is_valid("a\tb", 3));
	CU_ASSERT_FALSE(mutf7_utf8_name_is_valid("a\x7f", 2));
	CU_ASSERT_FALSE(mutf7_utf8_name_is_valid("\xc2\x85", 2));	/* NEL */
	CU_ASSERT_FALSE(mutf7_utf8_name_is_valid("a\0", 2));
	CU_ASSERT_FALSE(mutf7_utf8_name_is_valid("\xc3", 1));
	CU_ASSERT_TRUE(mutf7_utf8_name_is_valid("\xc2\xa0", 2));
}

static void register_mutf7(void)
{
	CU_pSuite s = CU_add_suite("mutf7", NULL, NULL);
	CU_add_test(s, "round trip", test_mutf7_roundtrip);
	CU_add_test(s, "long run", test_mutf7_long);
	CU_add_test(s, "decode errors", test_mutf7_errors);
	CU_add_test(s, "encode errors", test_mutf7_from_errors);
	CU_add_test(s, "utf-8 validity", test_utf8_valid);
}
UNIT_SUITE(register_mutf7)
