/* FETCH's pure helpers: section text, part lookup, partials, BINARY. */
#include "unit.h"

#include "../../daemon/imap/fetch-section.h"

#include <stdlib.h>
#include <string.h>

static const char *section(const char *item)
{
	static char out[256];
	struct imap_fetch_body b;
	const char *err;
	struct buf s;
	if (imap_fetch_body_parse(item, strlen(item), &b, &err) < 0)
		return err;
	buf_init(&s);
	fetch_section_text(&b, &s);
	snprintf(out, sizeof(out), "%s", buf_cstr(&s));
	buf_free(&s);
	imap_fetch_body_free(&b);
	return out;
}

static void test_section_text(void)
{
	CU_ASSERT_STRING_EQUAL(section("BODY[]"), "");
	CU_ASSERT_STRING_EQUAL(section("BODY.PEEK[1.2]"), "1.2");
	CU_ASSERT_STRING_EQUAL(section("BODY[HEADER]"), "HEADER");
	CU_ASSERT_STRING_EQUAL(section("BODY[text]"), "TEXT");
	CU_ASSERT_STRING_EQUAL(section("BODY[3.MIME]"), "3.MIME");
	CU_ASSERT_STRING_EQUAL(section("BODY[2.HEADER.FIELDS (A B)]"),
			       "2.HEADER.FIELDS");
	CU_ASSERT_STRING_EQUAL(section("BODY[HEADER.FIELDS.NOT (A)]<1.2>"),
			       "HEADER.FIELDS.NOT");
	CU_ASSERT_STRING_EQUAL(section("BINARY[4.1]"), "4.1");
}

static const char MSG[] =
	"Content-Type: multipart/mixed; boundary=x\r\n\r\n"
	"--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
	"--x\r\nContent-Type: application/octet-stream\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n"
	"--x\r\nContent-Type: message/rfc822\r\n\r\n"
	"Subject: in\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
	"a=3Db\r\n"
	"--x\r\nContent-Type: text/plain\r\n"
	"Content-Transfer-Encoding: x-unknown\r\n\r\nzz\r\n"
	"--x--\r\n";

static void test_find_part_and_binary(void)
{
	struct mime_message *m = mime_parse((const uint8_t *)MSG,
					    sizeof(MSG) - 1, NULL);
	const struct mime_part *root = m->root, *p;
	uint32_t path[3];

	CU_ASSERT_PTR_EQUAL(fetch_find_part(root, path, 0), root);
	CU_ASSERT_EQUAL(fetch_binary_kind(root, 0), FETCH_BINARY_RAW);
	path[0] = 1;
	p = fetch_find_part(root, path, 1);
	CU_ASSERT_PTR_EQUAL(p, &root->children[0]);
	CU_ASSERT_EQUAL(fetch_binary_kind(p, 1), FETCH_BINARY_RAW);
	path[0] = 2;
	p = fetch_find_part(root, path, 1);
	CU_ASSERT_EQUAL(fetch_binary_kind(p, 1), FETCH_BINARY_DECODE);
	struct buf out;
	buf_init(&out);
	fetch_binary_decode((const uint8_t *)MSG + p->body_off,
			    (size_t)p->body_len, p->enc, &out);
	CU_ASSERT_EQUAL(out.len, 3);
	CU_ASSERT(memcmp(out.data, "\0\1\2", 3) == 0);
	CU_ASSERT_TRUE(fetch_has_nul(out.data, out.len));
	CU_ASSERT_FALSE(fetch_has_nul((const uint8_t *)"ab", 2));
	buf_free(&out);
	/* 3 is message/rfc822: raw; 3.1 is the encapsulated body */
	path[0] = 3;
	p = fetch_find_part(root, path, 1);
	CU_ASSERT_EQUAL(fetch_binary_kind(p, 1), FETCH_BINARY_RAW);
	path[1] = 1;
	p = fetch_find_part(root, path, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(fetch_binary_kind(p, 2), FETCH_BINARY_DECODE);
	path[1] = 2;
	CU_ASSERT_PTR_NULL(fetch_find_part(root, path, 2));
	path[0] = 4;
	p = fetch_find_part(root, path, 1);
	CU_ASSERT_EQUAL(fetch_binary_kind(p, 1), FETCH_BINARY_UNKNOWN);
	path[0] = 5;
	CU_ASSERT_PTR_NULL(fetch_find_part(root, path, 1));
	path[0] = 0;
	CU_ASSERT_PTR_NULL(fetch_find_part(root, path, 1));
	/* 1.1 does not exist: part 1 is a leaf */
	path[0] = 1;
	path[1] = 1;
	CU_ASSERT_PTR_NULL(fetch_find_part(root, path, 2));
	mime_message_free(&m);
}

static void test_partial(void)
{
	struct imap_fetch_body b;
	memset(&b, 0, sizeof(b));
	uint64_t off, len;
	fetch_partial(&b, 100, &off, &len);
	CU_ASSERT(off == 0 && len == 100);
	b.partial = true;
	b.partial_origin = 10;
	b.partial_octets = 20;
	fetch_partial(&b, 100, &off, &len);
	CU_ASSERT(off == 10 && len == 20);
	fetch_partial(&b, 25, &off, &len);
	CU_ASSERT(off == 10 && len == 15);
	fetch_partial(&b, 10, &off, &len);
	CU_ASSERT(len == 0);
	fetch_partial(&b, 0, &off, &len);
	CU_ASSERT(len == 0);
	b.partial_origin = UINT64_MAX;
	b.partial_octets = UINT64_MAX;
	fetch_partial(&b, 5, &off, &len);
	CU_ASSERT(len == 0);
	b.partial_origin = 1;
	fetch_partial(&b, 5, &off, &len);
	CU_ASSERT(off == 1 && len == 4);
}

static void register_fetch_section(void)
{
	CU_pSuite s = CU_add_suite("fetch-section", NULL, NULL);
	CU_add_test(s, "section text", test_section_text);
	CU_add_test(s, "part lookup and BINARY", test_find_part_and_binary);
	CU_add_test(s, "partial", test_partial);
}
UNIT_SUITE(register_fetch_section)
