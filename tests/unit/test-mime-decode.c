/* MIME decoders: base64 and quoted-printable bodies, RFC 2047 encoded
 * words, RFC 2231 values, charset conversion, dates, and the header
 * helpers (iteration, lookup, unfolding, HEADER.FIELDS selection). */
#include "unit.h"

#include "../../store/charset.h"
#include "../../store/mime-decode.h"
#include "../../store/mime-header.h"
#include "../../store/mime.h"

#include <stdio.h>
#include <string.h>

static void expect_buf(struct buf *b, const char *want, size_t want_len)
{
	bool ok = b->len == want_len &&
		  (want_len == 0 || memcmp(b->data, want, want_len) == 0);
	if (!ok)
		fprintf(stderr, "\nwant [%.*s]\n got [%.*s]\n", (int)want_len,
			want, (int)b->len, (const char *)b->data);
	CU_ASSERT_TRUE(ok);
}

typedef void decode_fn(const uint8_t *in, size_t len, struct buf *out);

static void check_decode(decode_fn *fn, const char *in, const char *want)
{
	struct buf b;
	buf_init(&b);
	fn((const uint8_t *)in, strlen(in), &b);
	expect_buf(&b, want, strlen(want));
	buf_free(&b);
}

static void test_base64(void)
{
	check_decode(mime_decode_base64, "SGVsbG8=", "Hello");
	check_decode(mime_decode_base64, "SGVs\r\nbG8g\r\nd29ybGQ=\r\n",
		     "Hello world");
	/* garbage skipped, data after the pad ignored */
	check_decode(mime_decode_base64, "SGVs!!bG8g\r\nd29y*bGQ\r\n=garbage",
		     "Hello world");
	/* 8-bit garbage and a final partial group */
	check_decode(mime_decode_base64, "\xff" "SGVsbA", "Hell");
	check_decode(mime_decode_base64, "S", "");
	check_decode(mime_decode_base64, "", "");
}

static void test_qp(void)
{
	check_decode(mime_decode_qp, "a=3Db", "a=b");
	check_decode(mime_decode_qp, "caf=C3=a9", "caf\xc3\xa9");
	check_decode(mime_decode_qp, "soft=\r\nbreak", "softbreak");
	check_decode(mime_decode_qp, "soft=  \r\nbreak\n", "softbreak\n");
	check_decode(mime_decode_qp, "bare=\nlf", "barelf");
	check_decode(mime_decode_qp, "trailing   \r\nx", "trailing\r\nx");
	/* malformed sequences stay as they are */
	check_decode(mime_decode_qp, "=ZZ=4", "=ZZ=4");
	check_decode(mime_decode_qp, "100%=", "100%");
	check_decode(mime_decode_qp, "a=\r", "a=\r");
}

static void test_encoded_words(void)
{
	decode_fn *d = mime_decode_header_text;
	check_decode(d, "=?utf-8?q?caf=C3=A9?=", "caf\xc3\xa9");
	check_decode(d, "=?UTF-8?B?SsO2cmc=?=", "J\xc3\xb6rg");
	/* adjacent words: the blanks between them go (RFC 2047 6.2) */
	check_decode(d, "=?utf-8?q?a?=   =?utf-8?q?b?=", "ab");
	check_decode(d, "=?utf-8?q?a?= \t =?iso-8859-1?q?b?=", "ab");
	/* a character split across two words, as after a folded line */
	check_decode(d, "=?utf-8?q?cr=C3?=  =?utf-8?q?=A8me?=",
		     "cr\xc3\xa8me");
	check_decode(d, "=?utf-8?b?w6k=?= =?utf-8?b?w6k=?=",
		     "\xc3\xa9\xc3\xa9");
	/* ...but not the text between a word and plain text */
	check_decode(d, "=?utf-8?q?a?= b", "a b");
	check_decode(d, "x =?utf-8?q?a?= y", "x a y");
	check_decode(d, "=?utf-8?q?a_b?=", "a b");
	check_decode(d, "=?iso-8859-1?q?caf=E9?=", "caf\xc3\xa9");
	check_decode(d, "=?koi8-r?b?98HT0Q==?=",
		     "\xd0\x92\xd0\xb0\xd1\x81\xd1\x8f");
	check_decode(d, "=?iso-2022-jp?b?GyRCRnxLXDhsGyhC?=",
		     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	check_decode(d, "=?utf-8*en?q?hi?=", "hi");	/* RFC 2231 5 */
	/* unknown charset: left as written, with its spacing */
	check_decode(d, "=?x-unknown?q?abc?= =?utf-8?q?d?=",
		     "=?x-unknown?q?abc?= d");
	/* not encoded words */
	check_decode(d, "=?utf-8?q?a b?=", "=?utf-8?q?a b?=");
	check_decode(d, "=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	check_decode(d, "=?utf-8?q?abc", "=?utf-8?q?abc");
	check_decode(d, "a=?=b", "a=?=b");
	/* malformed Q escape kept */
	check_decode(d, "=?utf-8?q?=Z1?=", "=Z1");
	/* raw 8-bit: UTF-8 kept, anything else read as Latin-1 */
	check_decode(d, "Gr\xc3\xbc\xc3\x9f" "e", "Gr\xc3\xbc\xc3\x9f" "e");
	check_decode(d, "Gr\xfc\xdf" "e", "Gr\xc3\xbc\xc3\x9f" "e");
	/* invalid UTF-8 inside a word becomes U+FFFD */
	check_decode(d, "=?utf-8?q?a=FFb?=", "a\xef\xbf\xbd" "b");

	struct buf b;
	buf_init(&b);
	mime_decode_header_text((const uint8_t *)"a\0b", 3, &b);
	expect_buf(&b, "a\xef\xbf\xbd" "b", 5);
	buf_free(&b);
}

static void test_encoded_words_linear(void)
{
	/* 4 MB of "=?a?q?" that never close: must not rescan per "=". */
	size_t n = 4 << 20;
	struct buf in, out;
	buf_init(&in);
	buf_init(&out);
	while (in.len < n)
		buf_append_str(&in, "=?utf-8?q?x");
	mime_decode_header_text(in.data, in.len, &out);
	CU_ASSERT_EQUAL(out.len, in.len);
	buf_free(&in);
	buf_free(&out);
}

static void test_rfc2231_value(void)
{
	decode_fn *d = mime_decode_rfc2231;
	check_decode(d, "UTF-8''%E2%82%AC%20rates", "\xe2\x82\xac rates");
	check_decode(d, "iso-8859-1'en'%A3%20report.txt",
		     "\xc2\xa3 report.txt");
	check_decode(d, "x-nonesuch''%41%4", "A%4");
	check_decode(d, "no%20quotes", "no quotes");
}

static void test_charsets(void)
{
	struct buf b;
	buf_init(&b);
	CU_ASSERT_EQUAL(charset_preload(), 0);
	CU_ASSERT_TRUE(charset_is_known("ISO-8859-15", 11));
	CU_ASSERT_TRUE(charset_is_known("ks_c_5601-1987", 14));
	CU_ASSERT_FALSE(charset_is_known("x-no-such-charset", 17));
	CU_ASSERT_FALSE(charset_is_known("bad name", 8));
	CU_ASSERT_FALSE(charset_is_known("", 0));

	CU_ASSERT_EQUAL(charset_to_utf8("shift_jis", 9,
					(const uint8_t *)"\x83\x65\x83\x58\x83\x67",
					6, &b), 0);
	expect_buf(&b, "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", 9);
	buf_clear(&b);
	CU_ASSERT_EQUAL(charset_to_utf8("windows-1251", 12,
					(const uint8_t *)"\xcf\xf0\xe8", 3,
					&b), 0);
	expect_buf(&b, "\xd0\x9f\xd1\x80\xd0\xb8", 6);
	buf_clear(&b);
	/* UTF-16 with a BOM */
	CU_ASSERT_EQUAL(charset_to_utf8("utf-16", 6,
					(const uint8_t *)"\xff\xfe" "A\0", 4,
					&b), 0);
	expect_buf(&b, "A", 1);
	buf_clear(&b);
	/* invalid and truncated sequences become U+FFFD, nothing lost */
	CU_ASSERT_EQUAL(charset_to_utf8("shift_jis", 9,
					(const uint8_t *)"a\x83", 2, &b), 0);
	expect_buf(&b, "a\xef\xbf\xbd", 4);
	buf_clear(&b);
	CU_ASSERT_EQUAL(charset_to_utf8("utf-8", 5,
					(const uint8_t *)"a\xc0\xafz", 4, &b),
			0);
	expect_buf(&b, "a\xef\xbf\xbd\xef\xbf\xbdz", 8);
	buf_clear(&b);
	/* a stateful charset is reset between calls */
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(charset_to_utf8("iso-2022-jp", 11,
			(const uint8_t *)"\x1b$BF|\x1b(B", 8, &b), 0);
		expect_buf(&b, "\xe6\x97\xa5", 3);
		buf_clear(&b);
	}
	CU_ASSERT_EQUAL(charset_to_utf8("x-no-such-charset", 17,
					(const uint8_t *)"a", 1, &b), -1);
	CU_ASSERT_EQUAL(b.len, 0);
	/* hundreds of bogus names do not push out working converters */
	for (int i = 0; i < 500; i++) {
		char name[32];
		int n = snprintf(name, sizeof(name), "x-bogus-%d", i);
		CU_ASSERT_FALSE(charset_is_known(name, (size_t)n));
	}
	CU_ASSERT_TRUE(charset_is_known("macintosh", 9));
	CU_ASSERT_EQUAL(charset_to_utf8("MACINTOSH", 9,
					(const uint8_t *)"\x8e", 1, &b), 0);
	expect_buf(&b, "\xc3\xa9", 2);
	buf_clear(&b);
	charset_raw_to_utf8((const uint8_t *)"\xe9t\xe9", 3, &b);
	expect_buf(&b, "\xc3\xa9t\xc3\xa9", 5);
	buf_free(&b);
}

static void check_date(const char *s, int want_ret, int64_t want)
{
	int64_t t = -12345;
	int r = mime_date_parse((const uint8_t *)s, strlen(s), &t);
	if (r != want_ret || (r == 0 && t != want))
		fprintf(stderr, "\ndate \"%s\": %d %lld\n", s, r,
			(long long)t);
	CU_ASSERT_EQUAL(r, want_ret);
	if (want_ret == 0)
		CU_ASSERT_EQUAL(t, want);
}

static void test_dates(void)
{
	check_date("Tue, 5 Mar 2024 12:34:56 -0800", 0, 1709670896);
	check_date("5 Mar 2024 20:34:56 +0000", 0, 1709670896);
	check_date("Tue,  5 Mar 2024 20:34:56 GMT (comment)", 0, 1709670896);
	check_date("5 Mar 2024 15:34:56 EST", 0, 1709670896);
	check_date("5 mar 2024 20:34 UT", 0, 1709670840);
	check_date("Thu, 1 Jan 1970 00:00:00 +0000", 0, 0);
	check_date("Wed, 31 Dec 1969 23:59:59 +0000", 0, -1);
	check_date("Mon, 1 Jan 01 00:00:00 +0000", 0, 978307200);
	check_date("1 Jan 99 00:00:00 +0000", 0, 915148800);
	check_date("1-Jan-2001 00:00:00 +0100", 0, 978307200 - 3600);
	check_date("29 Feb 2024 00:00:00 Z", 0, 1709164800);
	check_date("", -1, 0);
	check_date("yesterday", -1, 0);
	check_date("32 Jan 2024 00:00:00 +0000", -1, 0);
	check_date("1 Foo 2024 00:00:00 +0000", -1, 0);
	check_date("1 Jan 2024 24:00:00 +0000", -1, 0);
	check_date("1 Jan 2024 00:00:00 +0099", -1, 0);
}

static const char hdr[] =
	"From: a@example.com\r\n"
	"Subject: folded\r\n"
	" line\r\n"
	"X-Empty:\r\n"
	"no colon line\r\n"
	"subject : second\r\n"
	"To:\tb@example.com \r\n"
	"\r\n"
	"Subject: in the body\r\n";

static void test_header_iter(void)
{
	size_t hlen = mime_header_length((const uint8_t *)hdr,
					 sizeof(hdr) - 1, NULL);
	CU_ASSERT_EQUAL(hlen, (size_t)(strstr(hdr, "\r\n\r\n") + 4 - hdr));
	struct mime_header_iter it;
	struct mime_header_field f;
	const char *names[] = { "From", "Subject", "X-Empty", "subject", "To" };
	size_t n = 0;
	mime_header_iter_init(&it, (const uint8_t *)hdr, hlen);
	while (mime_header_next(&it, &f)) {
		CU_ASSERT_TRUE(n < 5);
		if (n < 5)
			CU_ASSERT_TRUE(f.name_len == strlen(names[n]) &&
				       memcmp(f.name, names[n], f.name_len) == 0);
		n++;
	}
	CU_ASSERT_EQUAL(n, 5);

	/* all occurrences, case-insensitive; the body is not the header */
	struct buf b;
	buf_init(&b);
	mime_header_iter_init(&it, (const uint8_t *)hdr, sizeof(hdr) - 1);
	n = 0;
	while (mime_header_next_named(&it, "SUBJECT", &f)) {
		mime_header_unfold(f.value, f.value_len, &b);
		buf_append_byte(&b, '|');
		n++;
	}
	CU_ASSERT_EQUAL(n, 2);
	expect_buf(&b, "folded line|second|", 19);
	buf_clear(&b);
	CU_ASSERT_TRUE(mime_header_find((const uint8_t *)hdr, hlen, "to", &f));
	mime_header_unfold(f.value, f.value_len, &b);
	expect_buf(&b, "b@example.com", 13);
	buf_clear(&b);
	CU_ASSERT_TRUE(mime_header_find((const uint8_t *)hdr, hlen,
					"x-empty", &f));
	mime_header_unfold(f.value, f.value_len, &b);
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT_FALSE(mime_header_find((const uint8_t *)hdr, hlen, "Cc",
					 &f));
	CU_ASSERT_FALSE(mime_header_find((const uint8_t *)hdr, hlen, "From:",
					 &f));
	buf_free(&b);
}

static void check_select(const char *h, const char *const *names, size_t n,
			 bool not, const char *want)
{
	struct buf b;
	buf_init(&b);
	mime_header_select((const uint8_t *)h, strlen(h), names, n, not, &b);
	expect_buf(&b, want, strlen(want));
	buf_free(&b);
}

static void test_header_select(void)
{
	size_t hlen = mime_header_length((const uint8_t *)hdr,
					 sizeof(hdr) - 1, NULL);
	char h[sizeof(hdr)];
	memcpy(h, hdr, hlen);
	h[hlen] = '\0';
	const char *subj[] = { "subject" };
	check_select(h, subj, 1, false,
		     "Subject: folded\r\n line\r\nsubject : second\r\n\r\n");
	const char *two[] = { "TO", "from", "Nonexistent" };
	check_select(h, two, 3, false,
		     "From: a@example.com\r\nTo:\tb@example.com \r\n\r\n");
	check_select(h, two, 3, true,
		     "Subject: folded\r\n line\r\nX-Empty:\r\n"
		     "subject : second\r\n\r\n");
	check_select(h, subj, 0, false, "\r\n");
	/* no blank line: none added (RFC 9051 6.4.5) */
	check_select("A: 1\r\nB: 2", subj, 0, true, "A: 1\r\nB: 2");
	check_select("A: 1\nB: 2\n\n", subj, 0, true, "A: 1\nB: 2\n\r\n");
	check_select("", subj, 1, true, "");
}

static void register_mime_decode(void)
{
	CU_pSuite s = CU_add_suite("mime-decode", NULL, NULL);
	CU_add_test(s, "base64", test_base64);
	CU_add_test(s, "quoted-printable", test_qp);
	CU_add_test(s, "encoded words", test_encoded_words);
	CU_add_test(s, "encoded words linear", test_encoded_words_linear);
	CU_add_test(s, "rfc2231 values", test_rfc2231_value);
	CU_add_test(s, "charsets", test_charsets);
	CU_add_test(s, "dates", test_dates);
	CU_add_test(s, "header iteration", test_header_iter);
	CU_add_test(s, "header selection", test_header_select);
}

UNIT_SUITE(register_mime_decode)
