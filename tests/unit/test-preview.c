/* daemon/imap/preview.c: PREVIEW text (RFC 8970 section 2). */
#include "unit.h"

#include "../../common/buf.h"
#include "../../daemon/imap/preview.h"
#include "../../store/mime-cache.h"

#include <stdlib.h>
#include <string.h>

/* The preview of msg, with its cache record and without. */
static int preview(const char *msg, struct buf *out)
{
	struct buf cache, other;
	buf_init(&cache);
	buf_init(&other);
	mime_cache_build((const uint8_t *)msg, strlen(msg), NULL, &cache);
	int r = preview_build((const uint8_t *)msg, strlen(msg), cache.data,
			      cache.len, out);
	int r2 = preview_build((const uint8_t *)msg, strlen(msg), NULL, 0,
			       &other);
	CU_ASSERT_EQUAL(r, r2);
	CU_ASSERT_EQUAL(out->len, other.len);
	CU_ASSERT_EQUAL(memcmp(buf_cstr(out), buf_cstr(&other), out->len), 0);
	buf_free(&cache);
	buf_free(&other);
	return r;
}

static void check(const char *msg, int want_r, const char *want)
{
	struct buf out;
	buf_init(&out);
	int r = preview(msg, &out);
	if (r != want_r || strcmp(buf_cstr(&out), want) != 0)
		fprintf(stderr, "\npreview: %d '%s', want %d '%s'\n", r,
			buf_cstr(&out), want_r, want);
	CU_ASSERT_EQUAL(r, want_r);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&out), want);
	buf_free(&out);
}

static void test_plain(void)
{
	check("Subject: hi\r\n\r\nHello   there,\r\n\tsecond\tline.\r\n",
	      0, "Hello there, second line.");
	/* quoted lines and the signature are left out */
	check("Subject: re\r\n\r\nOn Monday you wrote:\r\n> old text\r\n"
	      ">> older\r\nMy answer.\r\n-- \r\nSig Nature\r\n",
	      0, "On Monday you wrote: My answer.");
	/* empty body, header-only message */
	check("Subject: x\r\n\r\n", 0, "");
	check("Subject: x\r\n", 0, "");
	/* no text part at all */
	check("Content-Type: image/png\r\nContent-Transfer-Encoding: base64"
	      "\r\n\r\niVBORw0KGgo=\r\n", 1, "");
}

static void test_mime(void)
{
	/* base64 + charset; the text part wins over the HTML */
	check("Content-Type: multipart/alternative; boundary=b\r\n\r\n"
	      "--b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n"
	      "--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
	      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	      "Gr=FC=DFe aus M=FCnchen\r\n--b--\r\n",
	      0, "Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen");
	/* HTML only: markup, comments, style and entities */
	check("Content-Type: text/html; charset=utf-8\r\n\r\n"
	      "<html><head><title>T</title><style>p{color:red}</style>"
	      "</head><body><!-- hidden --><p>Fish &amp; chips</p>"
	      "<script>var x = 1;</script><br>&#233;t&eacute; &#x263A;"
	      "</body></html>\r\n",
	      0, "Fish & chips \xc3\xa9t&eacute; \xe2\x98\xba");
}

static void test_limits(void)
{
	/* 300 ASCII characters: 200 kept */
	struct buf m, want, out;
	buf_init(&m);
	buf_init(&want);
	buf_init(&out);
	buf_append_str(&m, "Subject: long\r\n\r\n");
	for (int i = 0; i < 300; i++)
		buf_append_byte(&m, (uint8_t)('a' + i % 26));
	buf_append_str(&m, "\r\n");
	CU_ASSERT_EQUAL(preview(buf_cstr(&m), &out), 0);
	CU_ASSERT_EQUAL(out.len, PREVIEW_CHARS_MAX);
	/* 100 four-octet characters: the 256-octet bound cuts first, on a
	 * character boundary */
	buf_clear(&m);
	buf_clear(&out);
	buf_append_str(&m, "Content-Type: text/plain; charset=utf-8\r\n\r\n");
	for (int i = 0; i < 100; i++)
		buf_append_str(&m, "\xf0\x9f\x98\x80");
	CU_ASSERT_EQUAL(preview(buf_cstr(&m), &out), 0);
	CU_ASSERT_EQUAL(out.len, 256);
	/* a huge body is read only at its start */
	buf_clear(&m);
	buf_clear(&out);
	buf_append_str(&m, "Subject: big\r\n\r\nstart ");
	for (int i = 0; i < 100000; i++)
		buf_append_str(&m, "          ");
	buf_append_str(&m, "end\r\n");
	CU_ASSERT_EQUAL(preview(buf_cstr(&m), &out), 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&out), "start");
	/* a malformed cache record is refused, nothing appended */
	buf_clear(&out);
	CU_ASSERT_EQUAL(preview_build((const uint8_t *)"x", 1,
				      (const uint8_t *)"PMC\x01junk", 8,
				      &out), -1);
	CU_ASSERT_EQUAL(out.len, 0);
	/* an empty message (no bytes, no pointer): an empty preview */
	CU_ASSERT_EQUAL(preview_build(NULL, 0, NULL, 0, &out), 0);
	CU_ASSERT_EQUAL(out.len, 0);
	buf_free(&m);
	buf_free(&want);
	buf_free(&out);
}

static void preview_suite(void)
{
	CU_pSuite s = CU_add_suite("preview", NULL, NULL);
	CU_add_test(s, "plain text", test_plain);
	CU_add_test(s, "MIME parts and HTML", test_mime);
	CU_add_test(s, "limits", test_limits);
}
UNIT_SUITE(preview_suite)
