/* The MIME parser on the corpus in tests/data/mime/: exact ENVELOPE,
 * BODYSTRUCTURE and BODY strings (worked out from the RFC 9051 grammar,
 * section 9), section byte ranges, search fields, text parts, the depth
 * and part caps, and linear time on hostile input. */
#include "unit.h"

#include "../../store/charset.h"
#include "../../store/mime-cache.h"
#include "../../store/mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Reads tests/data/mime/<name> (relative to $POSTERN_SRCDIR or the
 * current directory, which is the source tree under "make unit"). */
static uint8_t *load(const char *name, size_t *len_r)
{
	const char *dir = getenv("POSTERN_SRCDIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/data/mime/%s",
		 dir != NULL ? dir : ".", name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "\ncannot open %s\n", path);
		CU_FAIL_FATAL("corpus file missing");
		return NULL;
	}
	struct buf b;
	buf_init(&b);
	uint8_t tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	*len_r = b.len;
	buf_append_byte(&b, 0);
	return b.data;
}

static void expect_str(const char *what, const struct buf *got,
		       const char *want)
{
	size_t wl = strlen(want);
	bool ok = got->len == wl && memcmp(got->data, want, wl) == 0;
	if (!ok)
		fprintf(stderr, "\n%s\nwant %s\n got %.*s\n", what, want,
			(int)got->len, (const char *)got->data);
	CU_ASSERT_TRUE(ok);
}

struct parsed {
	uint8_t *data;
	size_t len;
	struct mime_message *m;
};

static struct parsed parse_file(const char *name)
{
	struct parsed p;
	p.data = load(name, &p.len);
	p.m = mime_parse(p.data, p.len, NULL);
	return p;
}

static void parsed_free(struct parsed *p)
{
	mime_message_free(&p->m);
	free(p->data);
}

static void check_file(const char *name, const char *envelope,
		       const char *bodystructure, const char *body)
{
	struct parsed p = parse_file(name);
	struct buf b;
	buf_init(&b);
	if (envelope != NULL) {
		mime_envelope_write(p.m->root->env, &b);
		expect_str(name, &b, envelope);
		buf_clear(&b);
	}
	if (bodystructure != NULL) {
		mime_bodystructure_write(p.m->root, true, &b);
		expect_str(name, &b, bodystructure);
		buf_clear(&b);
	}
	if (body != NULL) {
		mime_bodystructure_write(p.m->root, false, &b);
		expect_str(name, &b, body);
	}
	buf_free(&b);
	parsed_free(&p);
}

/* section must exist and hold exactly want. */
static void check_section(const struct parsed *p, const char *section,
			  const char *want)
{
	uint64_t off = 0, len = 0;
	int r = mime_section_find(p->m, section, &off, &len);
	CU_ASSERT_EQUAL(r, 0);
	if (r != 0) {
		fprintf(stderr, "\nsection %s missing\n", section);
		return;
	}
	CU_ASSERT_TRUE(off + len <= p->len);
	bool ok = len == strlen(want) && memcmp(p->data + off, want, len) == 0;
	if (!ok)
		fprintf(stderr, "\nsection %s\nwant [%s]\n got [%.*s]\n",
			section, want, (int)len, (const char *)p->data + off);
	CU_ASSERT_TRUE(ok);
}

static void check_no_section(const struct parsed *p, const char *section)
{
	uint64_t off, len;
	CU_ASSERT_EQUAL(mime_section_find(p->m, section, &off, &len), -1);
}

#define ALICE "(\"Alice Example\" NIL \"alice\" \"example.org\")"

static void test_simple(void)
{
	check_file("simple.eml",
		"(\"Tue, 5 Mar 2024 12:34:56 -0800\" \"Lunch?\" (" ALICE ") ("
		ALICE ") (" ALICE ") ((\"Bob\" NIL \"bob\" \"example.net\")) "
		"NIL NIL NIL \"<simple-1@example.org>\")",
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
		"36 3 NIL NIL NIL NIL)",
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
		"36 3)");

	struct parsed p = parse_file("simple.eml");
	const char *text = "Shall we meet at noon?\r\n-- \r\nAlice\r\n";
	check_section(&p, "TEXT", text);
	check_section(&p, "1", text);
	check_section(&p, "text", text);
	CU_ASSERT_EQUAL(p.m->nparts, 1);
	uint64_t off, len;
	CU_ASSERT_EQUAL(mime_section_find(p.m, "", &off, &len), 0);
	CU_ASSERT_EQUAL(off, 0);
	CU_ASSERT_EQUAL(len, p.len);
	CU_ASSERT_EQUAL(mime_section_find(p.m, "HEADER", &off, &len), 0);
	CU_ASSERT_EQUAL(off, 0);
	CU_ASSERT_EQUAL(len, p.len - strlen(text));
	/* part 1 of a non-multipart message: its MIME header is the
	 * message header */
	CU_ASSERT_EQUAL(mime_section_find(p.m, "1.MIME", &off, &len), 0);
	CU_ASSERT_EQUAL(len, p.len - strlen(text));
	check_no_section(&p, "2");
	check_no_section(&p, "1.1");
	check_no_section(&p, "1.HEADER");
	check_no_section(&p, "MIME");
	check_no_section(&p, "0");
	check_no_section(&p, "01");
	check_no_section(&p, "1.");
	check_no_section(&p, "1..1");
	check_no_section(&p, "HEADERS");
	check_no_section(&p, "99999999999999999999");

	CU_ASSERT_TRUE(p.m->search.date_valid);
	CU_ASSERT_EQUAL(p.m->search.date, 1709670896);
	CU_ASSERT_EQUAL(p.m->search.subject.len, 6);
	CU_ASSERT_EQUAL(p.m->search.cc.len, 0);
	parsed_free(&p);
}

static void test_alternative(void)
{
	check_file("alternative.eml",
		"(\"1 Feb 2024 08:00 GMT\" \"=?ISO-8859-1?Q?Caf=E9?= news\" "
		"((NIL NIL \"news\" \"example.com\")) "
		"((NIL NIL \"news\" \"example.com\")) "
		"((NIL NIL \"news\" \"example.com\")) "
		"((NIL NIL \"reader\" \"example.net\")) NIL NIL NIL "
		"\"<alt-1@example.com>\")",
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"iso-8859-1\") NIL NIL "
		"\"QUOTED-PRINTABLE\" 52 3 NIL NIL NIL NIL)"
		"(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"BASE64\" "
		"16 1 NIL NIL NIL NIL) \"ALTERNATIVE\" "
		"(\"BOUNDARY\" \"==alt==\") NIL NIL NIL)",
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"iso-8859-1\") NIL NIL "
		"\"QUOTED-PRINTABLE\" 52 3)(\"TEXT\" \"HTML\" (\"CHARSET\" "
		"\"utf-8\") NIL NIL \"BASE64\" 16 1) \"ALTERNATIVE\")");

	struct parsed p = parse_file("alternative.eml");
	check_section(&p, "1", "Caf=E9 au lait=20\r\ncosts =3D 3 euros, "
		      "soft=\r\n break.");
	check_section(&p, "2", "PGI+Q2Fmw6k8L2I+");
	check_section(&p, "2.MIME", "Content-Type: text/html; charset=utf-8"
		      "\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	check_no_section(&p, "3");
	check_no_section(&p, "2.TEXT");

	/* text parts decoded to UTF-8 */
	struct mime_text_part *tp;
	size_t n = mime_text_parts(p.m, &tp);
	CU_ASSERT_EQUAL(n, 2);
	if (n == 2) {
		struct buf b;
		buf_init(&b);
		mime_text_decode(p.data + tp[0].body_off, tp[0].body_len,
				 tp[0].enc, tp[0].charset.s, tp[0].charset.len,
				 &b);
		expect_str("qp", &b, "Caf\xc3\xa9 au lait \r\ncosts = 3 euros, "
			   "soft break.");
		buf_clear(&b);
		CU_ASSERT_EQUAL(tp[1].enc, MIME_ENC_BASE64);
		CU_ASSERT_EQUAL(tp[1].subtype.len, 4);
		mime_text_decode(p.data + tp[1].body_off, tp[1].body_len,
				 tp[1].enc, tp[1].charset.s, tp[1].charset.len,
				 &b);
		expect_str("base64", &b, "<b>Caf\xc3\xa9</b>");
		buf_free(&b);
	}
	free(tp);
	CU_ASSERT_EQUAL(p.m->search.subject.len, strlen("Caf\xc3\xa9 news"));
	CU_ASSERT_TRUE(memcmp(p.m->search.subject.s, "Caf\xc3\xa9 news",
			      p.m->search.subject.len) == 0);
	parsed_free(&p);
}

#define CAROL "((\"Carol\" NIL \"carol\" \"example.com\"))"
#define DAVE "((\"Dave\" NIL \"dave\" \"example.com\"))"

static void test_forward(void)
{
	const char *inner_env =
		"(\"Wed, 6 Mar 2024 09:15:00 +0000\" \"Original report\" "
		CAROL " " CAROL " " CAROL " ((NIL NIL \"dave\" \"example.com\"))"
		" NIL NIL NIL \"<orig@example.com>\")";
	struct buf bs;
	buf_init(&bs);
	buf_printf(&bs,
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" "
		"11 1 NIL NIL NIL NIL)(\"MESSAGE\" \"RFC822\" NIL NIL "
		"\"forwarded message\" \"7BIT\" 425 %s "
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" "
		"13 1 NIL NIL NIL NIL)(\"APPLICATION\" \"PDF\" (\"NAME\" "
		"\"report.pdf\") NIL NIL \"BASE64\" 12 NIL (\"ATTACHMENT\" "
		"(\"FILENAME\" \"report.pdf\")) NIL NIL) \"MIXED\" (\"BOUNDARY\" "
		"\"inner\") NIL NIL NIL) 18 NIL NIL NIL NIL) \"MIXED\" "
		"(\"BOUNDARY\" \"outer\") NIL NIL NIL)", inner_env);
	check_file("forward.eml",
		"(\"Wed, 6 Mar 2024 10:00:00 +0000\" \"Fwd: Original report\" "
		DAVE " " DAVE " " DAVE " ((\"Erin\" NIL \"erin\" "
		"\"example.com\")) NIL NIL NIL \"<fwd@example.com>\")",
		buf_cstr(&bs), NULL);
	buf_free(&bs);

	struct parsed p = parse_file("forward.eml");
	CU_ASSERT_EQUAL(p.m->nparts, 6);
	check_section(&p, "1", "FYI, below.");
	check_section(&p, "2.1", "See attached.");
	check_section(&p, "2.1.MIME", "Content-Type: text/plain\r\n\r\n");
	check_section(&p, "2.2", "JVBERi0xLjQK");
	check_section(&p, "2.MIME", "Content-Type: message/rfc822\r\n"
		      "Content-Description: forwarded message\r\n\r\n");
	check_section(&p, "2.HEADER",
		      "From: Carol <carol@example.com>\r\n"
		      "To: dave@example.com\r\n"
		      "Subject: Original report\r\n"
		      "Date: Wed, 6 Mar 2024 09:15:00 +0000\r\n"
		      "Message-ID: <orig@example.com>\r\n"
		      "Content-Type: multipart/mixed; boundary=inner\r\n\r\n");
	check_section(&p, "2.header.fields", "From: Carol <carol@example.com>"
		      "\r\nTo: dave@example.com\r\nSubject: Original report\r\n"
		      "Date: Wed, 6 Mar 2024 09:15:00 +0000\r\n"
		      "Message-ID: <orig@example.com>\r\nContent-Type: "
		      "multipart/mixed; boundary=inner\r\n\r\n");
	uint64_t o1, l1, o2, l2;
	CU_ASSERT_EQUAL(mime_section_find(p.m, "2", &o1, &l1), 0);
	CU_ASSERT_EQUAL(l1, 425);
	CU_ASSERT_EQUAL(mime_section_find(p.m, "2.TEXT", &o2, &l2), 0);
	CU_ASSERT_TRUE(o2 > o1 && o2 + l2 == o1 + l1);
	CU_ASSERT_TRUE(memcmp(p.data + o2, "--inner\r\n", 9) == 0);
	check_no_section(&p, "2.3");
	check_no_section(&p, "2.1.1");
	check_no_section(&p, "1.HEADER");
	check_no_section(&p, "2.2.TEXT");
	parsed_free(&p);
}

static void test_groups(void)
{
	check_file("groups.eml",
		"(NIL \"\" ((\"Doe, John\" NIL \"john.doe\" \"example.com\")) "
		"((NIL \"@relay1.example,@relay2.example\" \"bounce\" "
		"\"example.com\")) ((NIL NIL \"john\" \"MISSING_DOMAIN\")) "
		"((NIL NIL \"Friends\" NIL)(NIL NIL \"alice\" \"example.org\")"
		"(\"Bob Q.\" NIL \"bob\" \"example.org\")(NIL NIL NIL NIL)"
		"(NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
		"((\"=?utf-8?q?J=C3=BCrgen?=\" NIL \"juergen\" \"example.de\")"
		"(NIL NIL \"\" \"\")(NIL NIL \"quoted local\" \"example.com\")) "
		"((NIL NIL \"list\" \"[192.0.2.1]\")) \"<parent@example.com>\" "
		"\"<groups@example.com>\")", NULL, NULL);
}

static void test_encoded_envelope(void)
{
	/* ENVELOPE keeps encoded words; the search fields decode them. */
	const char *from = "((\"=?UTF-8?B?SsO2cmc=?=\" NIL \"jorg\" "
		"\"example.de\")(\"=?koi8-r?b?98HT0Q==?=\" NIL \"vasya\" "
		"\"example.ru\"))";
	struct buf want;
	buf_init(&want);
	buf_printf(&want, "(\"Thu, 7 Mar 2024 07:00:00 +0900\" "
		"\"=?utf-8?q?caf=C3=A9_?= =?utf-8?q?cr=C3?= =?utf-8?q?=A8me?= "
		"and =?iso-2022-jp?b?GyRCRnxLXDhsGyhC?= =?bogus?Q?x?=\" "
		"%s %s %s ((\"=?x-unknown?q?abc?=\" NIL \"u\" \"example.com\")) "
		"((\"=?utf-8?q?Ren=C3=A9?=\" NIL \"rene\" \"example.fr\")) NIL "
		"NIL \"<ew@example.de>\")", from, from, from);
	check_file("encoded-words.eml", buf_cstr(&want), NULL, NULL);
	buf_free(&want);

	struct parsed p = parse_file("encoded-words.eml");
	const struct mime_search_fields *s = &p.m->search;
	const char *subj = "caf\xc3\xa9 cr\xc3\xa8me and "
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e =?bogus?Q?x?=";
	CU_ASSERT_TRUE(s->subject.len == strlen(subj) &&
		       memcmp(s->subject.s, subj, s->subject.len) == 0);
	const char *f = "J\xc3\xb6rg <jorg@example.de>, "
		"\xd0\x92\xd0\xb0\xd1\x81\xd1\x8f <vasya@example.ru>";
	CU_ASSERT_TRUE(s->from.len == strlen(f) &&
		       memcmp(s->from.s, f, s->from.len) == 0);
	const char *cc = "\"Ren\xc3\xa9\" <rene@example.fr>";
	CU_ASSERT_TRUE(s->cc.len == strlen(cc) &&
		       memcmp(s->cc.s, cc, s->cc.len) == 0);
	CU_ASSERT_TRUE(s->date_valid);
	CU_ASSERT_EQUAL(s->date, 1709762400);
	parsed_free(&p);
}

static void test_rfc2231(void)
{
	check_file("rfc2231.eml", NULL,
		"((\"APPLICATION\" \"OCTET-STREAM\" (\"NAME*\" "
		"\"UTF-8''%E2%82%AC%20rates%20for%202024.txt\") NIL NIL "
		"\"BASE64\" 4 NIL (\"ATTACHMENT\" (\"FILENAME*\" "
		"\"iso-8859-1'en'%A3%20report.txt\" \"SIZE\" \"1234\")) NIL NIL)"
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\" \"FORMAT\" "
		"\"flowed\" \"TITLE\" \"long title\") NIL NIL \"7BIT\" 1 1 NIL "
		"NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"xyz\") NIL NIL NIL)",
		NULL);
}

static void test_ext_fields(void)
{
	check_file("ext-fields.eml", NULL,
		"((\"IMAGE\" \"PNG\" (\"NAME\" \"dot.png\") \"<dot@example.com>\" "
		"\"A tiny dot\" \"BASE64\" 12 NIL (\"INLINE\" (\"FILENAME\" "
		"\"dot.png\")) (\"en-GB\" \"fr\") "
		"\"http://example.com/images/dot.png\") \"MIXED\" (\"BOUNDARY\" "
		"\"e\") NIL \"en\" NIL)",
		"((\"IMAGE\" \"PNG\" (\"NAME\" \"dot.png\") \"<dot@example.com>\" "
		"\"A tiny dot\" \"BASE64\" 12) \"MIXED\")");
}

#define PLAIN(n, l) "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL " \
	"\"7BIT\" " #n " " #l ")"

static void test_broken(void)
{
	/* never-closed inner boundary ends at the outer one; a multipart
	 * without boundary is text; an unknown "--" line is data */
	check_file("broken-boundary.eml", NULL, NULL,
		"((" PLAIN(5, 1) "(\"TEXT\" \"HTML\" (\"CHARSET\" \"US-ASCII\") "
		"NIL NIL \"7BIT\" 13 1) \"ALTERNATIVE\")" PLAIN(26, 1)
		PLAIN(21, 2) " \"MIXED\")");
	struct parsed p = parse_file("broken-boundary.eml");
	check_section(&p, "1.2", "<p>second</p>");
	check_section(&p, "3", "--wrongboundary\r\nlast");
	parsed_free(&p);

	check_file("no-header.eml", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
		   NULL, PLAIN(68, 2));
	check_file("header-only.eml", NULL, NULL, PLAIN(0, 0));
	p = parse_file("header-only.eml");
	check_section(&p, "HEADER", "From: a@example.com\r\n"
		      "Subject: nothing else\r\n");
	check_section(&p, "TEXT", "");
	parsed_free(&p);
	check_file("bare-lf.eml", NULL, NULL,
		   "(" PLAIN(7, 2) PLAIN(13, 1) " \"MIXED\")");
	p = parse_file("bare-lf.eml");
	check_section(&p, "1", "one\ntwo");
	check_section(&p, "2.MIME", "\n");
	parsed_free(&p);
	/* CR alone is not a line end: one long header line */
	check_file("cr-only.eml", NULL, NULL, PLAIN(0, 0));
	check_file("bad-base64.eml", NULL,
		   "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL "
		   "\"BASE64\" 42 3 NIL NIL NIL NIL)", NULL);
	check_file("digest.eml", NULL, NULL,
		   "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 44 (NIL "
		   "\"first\" ((NIL NIL \"one\" \"example.com\")) ((NIL NIL "
		   "\"one\" \"example.com\")) ((NIL NIL \"one\" \"example.com\"))"
		   " NIL NIL NIL NIL NIL) " PLAIN(3, 1) " 4)" PLAIN(13, 1)
		   " \"DIGEST\")");
	check_file("deep.eml", NULL, NULL,
		   "((((((" PLAIN(6, 1) " \"MIXED\") \"MIXED\") \"MIXED\") "
		   "\"MIXED\") \"MIXED\") \"MIXED\")");
	p = parse_file("deep.eml");
	check_section(&p, "1.1.1.1.1.1", "leaf 7");
	check_no_section(&p, "1.1.1.1.1.1.1");
	check_no_section(&p, "1.1.1.1.1.2");
	parsed_free(&p);
}

static void test_8bit_nul(void)
{
	/* 8-bit header text goes out as literals (valid for any client) */
	check_file("8bit-headers.eml",
		"(NIL {14}\r\nGr\xfc\xdf" "e aus K\xf6ln (({5}\r\nJ\xc3\xb6rg NIL "
		"\"j\" \"example.de\")) (({5}\r\nJ\xc3\xb6rg NIL \"j\" "
		"\"example.de\")) (({5}\r\nJ\xc3\xb6rg NIL \"j\" \"example.de\"))"
		" (({3}\r\n\xe5\x90\x8d NIL \"n\" \"example.jp\")) NIL NIL NIL "
		"NIL)",
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"8BIT\" 7 1 "
		"NIL NIL NIL NIL)", NULL);
	struct parsed p = parse_file("8bit-headers.eml");
	const char *s = "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln";
	CU_ASSERT_TRUE(p.m->search.subject.len == strlen(s) &&
		       memcmp(p.m->search.subject.s, s, strlen(s)) == 0);
	parsed_free(&p);
	/* NUL never reaches an IMAP string */
	check_file("nul-bytes.eml",
		"(NIL {9}\r\nhas\xef\xbf\xbdNUL ((NIL NIL {6}\r\nn\xef\xbf\xbdul "
		"\"example.com\")) ((NIL NIL {6}\r\nn\xef\xbf\xbdul "
		"\"example.com\")) ((NIL NIL {6}\r\nn\xef\xbf\xbdul "
		"\"example.com\")) NIL NIL NIL NIL NIL)",
		"(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\" 6 NIL NIL "
		"NIL NIL)", NULL);
}

static void test_charset_parts(void)
{
	struct parsed p = parse_file("charsets.eml");
	struct mime_text_part *tp;
	size_t n = mime_text_parts(p.m, &tp);
	const char *want[] = {
		"\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
		"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	};
	CU_ASSERT_EQUAL(n, 3);
	for (size_t i = 0; i < n && i < 3; i++) {
		struct buf b;
		buf_init(&b);
		mime_text_decode(p.data + tp[i].body_off, tp[i].body_len,
				 tp[i].enc, tp[i].charset.s, tp[i].charset.len,
				 &b);
		expect_str("charset part", &b, want[i]);
		buf_free(&b);
	}
	free(tp);
	parsed_free(&p);
}

/* n levels of multipart, each with one child, then a text leaf. */
static void make_nested(struct buf *b, unsigned n, bool rfc822)
{
	buf_append_str(b, "Subject: nest\r\n");
	for (unsigned i = 0; i < n; i++) {
		if (rfc822)
			buf_append_str(b, "Content-Type: message/rfc822\r\n\r\n");
		else
			buf_printf(b, "Content-Type: multipart/mixed; "
				   "boundary=\"b%u\"\r\n\r\n--b%u\r\n", i, i);
	}
	buf_append_str(b, "Content-Type: text/plain\r\n\r\nleaf\r\n");
	for (unsigned i = n; !rfc822 && i-- > 0;)
		buf_printf(b, "--b%u--\r\n", i);
}

static unsigned count_str(const struct buf *b, const char *s)
{
	unsigned n = 0;
	size_t sl = strlen(s);
	for (size_t i = 0; i + sl <= b->len; i++)
		n += memcmp(b->data + i, s, sl) == 0;
	return n;
}

static void test_depth_cap(void)
{
	struct buf msg, out;
	buf_init(&msg);
	buf_init(&out);
	make_nested(&msg, 150, false);
	struct mime_message *m = mime_parse(msg.data, msg.len, NULL);
	/* root (depth 0) .. depth 100; the multipart at depth 100 is
	 * opaque, and its content (50 more levels and the leaf) is data */
	CU_ASSERT_EQUAL(m->nparts, 101);
	mime_bodystructure_write(m->root, false, &out);
	CU_ASSERT_EQUAL(count_str(&out, "\"MIXED\""), 100);
	CU_ASSERT_EQUAL(count_str(&out, "\"APPLICATION\" \"OCTET-STREAM\""), 1);
	CU_ASSERT_EQUAL(count_str(&out, "\"TEXT\""), 0);
	mime_message_free(&m);

	struct mime_limits lim = { 3, 100 };
	m = mime_parse(msg.data, msg.len, &lim);
	CU_ASSERT_EQUAL(m->nparts, 4);
	buf_clear(&out);
	mime_bodystructure_write(m->root, false, &out);
	/* multiparts at depth 0, 1, 2; the one at depth 3 is opaque */
	const char *prefix = "((((\"APPLICATION\" \"OCTET-STREAM\" NIL NIL "
		"NIL \"7BIT\" ";
	CU_ASSERT_TRUE(strncmp(buf_cstr(&out), prefix, strlen(prefix)) == 0);
	mime_message_free(&m);

	/* message/rfc822 nested 5000 deep: capped the same way */
	buf_clear(&msg);
	make_nested(&msg, 5000, true);
	m = mime_parse(msg.data, msg.len, NULL);
	CU_ASSERT_EQUAL(m->nparts, 101);
	buf_clear(&out);
	mime_bodystructure_write(m->root, false, &out);
	CU_ASSERT_EQUAL(count_str(&out, "\"RFC822\""), 100);
	uint64_t off, len;
	CU_ASSERT_EQUAL(mime_section_find(m, "1.1.1.HEADER", &off, &len), 0);
	mime_message_free(&m);

	/* a hard clamp keeps a silly configured cap from blowing the
	 * stack */
	buf_clear(&msg);
	make_nested(&msg, MIME_DEPTH_HARD_MAX + 50, false);
	lim = (struct mime_limits){ 1u << 30, 1u << 30 };
	m = mime_parse(msg.data, msg.len, &lim);
	CU_ASSERT_EQUAL(m->nparts, MIME_DEPTH_HARD_MAX + 1);
	/* the deepest tree the parser makes survives the cache record */
	struct buf rec, again;
	buf_init(&rec);
	buf_init(&again);
	mime_cache_encode(m, &rec);
	buf_clear(&out);
	mime_bodystructure_write(m->root, true, &out);
	const char *err = NULL;
	CU_ASSERT_EQUAL(mime_cache_bodystructure(rec.data, rec.len, true,
						 &again, &err), 0);
	CU_ASSERT_TRUE(out.len == again.len &&
		       memcmp(out.data, again.data, out.len) == 0);
	buf_free(&rec);
	buf_free(&again);
	mime_message_free(&m);
	buf_free(&msg);
	buf_free(&out);
}

static void test_part_cap(void)
{
	struct buf msg;
	buf_init(&msg);
	buf_append_str(&msg, "Content-Type: multipart/mixed; boundary=x\r\n\r\n");
	for (unsigned i = 0; i < 20000; i++)
		buf_append_str(&msg, "--x\r\n\r\np\r\n");
	buf_append_str(&msg, "--x--\r\n");
	struct mime_message *m = mime_parse(msg.data, msg.len, NULL);
	CU_ASSERT_EQUAL(m->nparts, MIME_PARTS_DEFAULT);
	CU_ASSERT_EQUAL(m->root->nchildren, MIME_PARTS_DEFAULT - 1);
	/* the last child kept ends where it ended; the rest stays in the
	 * multipart's body */
	CU_ASSERT_EQUAL(m->root->children[m->root->nchildren - 1].body_len, 1);
	CU_ASSERT_EQUAL(m->root->body_len, msg.len - m->root->body_off);
	mime_message_free(&m);

	struct mime_limits lim = { 100, 10 };
	m = mime_parse(msg.data, msg.len, &lim);
	CU_ASSERT_EQUAL(m->nparts, 10);
	mime_message_free(&m);
	buf_free(&msg);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_linear(void)
{
	/* A 50 MB line in a body, in a header, and 1M near-miss boundary
	 * lines under 100 open boundaries. Generous bounds: a quadratic
	 * scan would take hours, not seconds, even under sanitizers. */
	size_t big = 50u << 20;
	struct buf msg;
	buf_init(&msg);
	buf_append_str(&msg, "Content-Type: multipart/mixed; boundary=b\r\n"
		       "\r\n--b\r\n\r\n");
	buf_reserve(&msg, big + 64);
	memset(msg.data + msg.len, 'a', big);
	msg.len += big;
	buf_append_str(&msg, "\r\n--b--\r\n");
	double t = now();
	struct mime_message *m = mime_parse(msg.data, msg.len, NULL);
	CU_ASSERT_EQUAL(m->nparts, 2);
	CU_ASSERT_EQUAL(m->root->children[0].body_len, big);
	mime_message_free(&m);

	buf_clear(&msg);
	buf_append_str(&msg, "Subject: ");
	buf_reserve(&msg, big + 64);
	for (size_t i = 0; i < big; i++)
		msg.data[msg.len + i] = "=?ab"[i & 3];
	msg.len += big;
	buf_append_str(&msg, "\r\n\r\nbody\r\n");
	m = mime_parse(msg.data, msg.len, NULL);
	CU_ASSERT_EQUAL(m->root->env->subject.len, big);
	mime_message_free(&m);

	/* 99 open boundaries sharing a 60-byte prefix, then 100k lines
	 * that match each of them up to the last bytes */
	buf_clear(&msg);
	char prefix[61];
	memset(prefix, 'q', 60);
	prefix[60] = '\0';
	for (unsigned i = 0; i < 99; i++)
		buf_printf(&msg, "Content-Type: multipart/mixed; "
			   "boundary=\"%s%02u\"\r\n\r\n--%s%02u\r\n", prefix,
			   i, prefix, i);
	buf_append_str(&msg, "\r\n");
	for (unsigned i = 0; i < 100000; i++)
		buf_printf(&msg, "--%szz\r\n", prefix);
	m = mime_parse(msg.data, msg.len, NULL);
	CU_ASSERT_EQUAL(m->nparts, 100);
	mime_message_free(&m);
	double spent = now() - t;
	CU_ASSERT_TRUE(spent < 60);
	buf_free(&msg);
}

static void test_boundary_rules(void)
{
	static const char msg[] =
		"Content-Type: multipart/mixed; boundary=ab\r\n\r\n"
		"--ab \t\r\n\r\none\r\n"
		"--abc\r\n"		/* longer: not a delimiter */
		"--ab--x\r\n"		/* text after "--": data */
		"--ab\r\n"
		"Content-Type: multipart/mixed; boundary=a\r\n\r\n"
		"--a\r\n\r\ninner\r\n"
		"--ab--  \r\n"		/* closes both, with padding */
		"epilogue\r\n";
	struct parsed p = { (uint8_t *)msg, sizeof(msg) - 1, NULL };
	p.m = mime_parse(p.data, p.len, NULL);
	check_section(&p, "1", "one\r\n--abc\r\n--ab--x");
	check_section(&p, "2.1", "inner");
	CU_ASSERT_EQUAL(p.m->nparts, 4);
	mime_message_free(&p.m);

	/* a delimiter right after a part's header line, no empty line */
	static const char msg2[] =
		"Content-Type: multipart/mixed; boundary=q\r\n\r\n"
		"--q\r\nContent-Type: text/html\r\n--q\r\nno header\r\n--q--";
	p = (struct parsed){ (uint8_t *)msg2, sizeof(msg2) - 1, NULL };
	p.m = mime_parse(p.data, p.len, NULL);
	check_section(&p, "1.MIME", "Content-Type: text/html");
	check_section(&p, "1", "");
	check_section(&p, "2", "no header");
	check_section(&p, "2.MIME", "");
	struct buf b;
	buf_init(&b);
	mime_bodystructure_write(p.m->root, false, &b);
	expect_str("cut header", &b, "((\"TEXT\" \"HTML\" (\"CHARSET\" "
		   "\"US-ASCII\") NIL NIL \"7BIT\" 0 0)" PLAIN(9, 1)
		   " \"MIXED\")");
	mime_message_free(&p.m);

	/* a multipart with no delimiter at all still has one part */
	static const char msg3[] =
		"Content-Type: multipart/mixed; boundary=zz\r\n\r\nno parts\r\n";
	p = (struct parsed){ (uint8_t *)msg3, sizeof(msg3) - 1, NULL };
	p.m = mime_parse(p.data, p.len, NULL);
	buf_clear(&b);
	mime_bodystructure_write(p.m->root, true, &b);
	expect_str("no parts", &b, "((\"TEXT\" \"PLAIN\" (\"CHARSET\" "
		   "\"US-ASCII\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL) "
		   "\"MIXED\" (\"BOUNDARY\" \"zz\") NIL NIL NIL)");
	check_section(&p, "1", "");
	mime_message_free(&p.m);

	/* the empty line ending an encapsulated header is also the line
	 * break before the delimiter: the message part still contains its
	 * message (found by the fuzzer) */
	static const char msg4[] =
		"Content-Type: multipart/mixed; boundary=o\r\n\r\n"
		"--o\r\nContent-Type: message/rfc822\r\n\r\n"
		"Subject: inner\r\n\r\n--o--\r\n";
	p = (struct parsed){ (uint8_t *)msg4, sizeof(msg4) - 1, NULL };
	p.m = mime_parse(p.data, p.len, NULL);
	check_section(&p, "1", "Subject: inner\r\n\r\n");
	check_section(&p, "1.HEADER", "Subject: inner\r\n\r\n");
	check_section(&p, "1.TEXT", "");
	mime_message_free(&p.m);
	buf_free(&b);
}

static void register_mime(void)
{
	CU_pSuite s = CU_add_suite("mime", NULL, NULL);
	CU_add_test(s, "simple", test_simple);
	CU_add_test(s, "alternative", test_alternative);
	CU_add_test(s, "forward", test_forward);
	CU_add_test(s, "groups", test_groups);
	CU_add_test(s, "encoded words in envelope", test_encoded_envelope);
	CU_add_test(s, "rfc2231 parameters", test_rfc2231);
	CU_add_test(s, "extension fields", test_ext_fields);
	CU_add_test(s, "broken structure", test_broken);
	CU_add_test(s, "8-bit and NUL headers", test_8bit_nul);
	CU_add_test(s, "charset text parts", test_charset_parts);
	CU_add_test(s, "depth cap", test_depth_cap);
	CU_add_test(s, "part cap", test_part_cap);
	CU_add_test(s, "linear time", test_linear);
	CU_add_test(s, "boundary rules", test_boundary_rules);
}

UNIT_SUITE(register_mime)
