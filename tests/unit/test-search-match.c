/* daemon/imap/search-match.c: the text keys of SEARCH on messages held in
 * memory, with and without a parsed-message cache record. */
#include "unit.h"

#include "../../common/buf.h"
#include "../../daemon/imap/search-match.h"
#include "../../store/mime-cache.h"

#include <string.h>

static const char msg_plain[] =
	"From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>\r\n"
	"To: Alice <alice@example.org>, bob@example.com\r\n"
	"Cc: carol@example.net\r\n"
	"Subject: =?UTF-8?B?R3LDvMOfZSBhdXMg?=\r\n"
	" =?UTF-8?B?TcO8bmNoZW4=?=\r\n"
	"Date: Tue, 02 Jan 2024 23:30:00 -0500\r\n"
	"X-Mailer: Test\r\n"
	"X-Mailer: Second\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Die Stra=DFe ist lang, =\r\n"
	"sehr lang.\r\n"
	"Zweite Zeile\r\n";

static const char msg_multi[] =
	"From: dave@example.com\r\n"
	"Subject: parts\r\n"
	"Date: 5 Feb 24 09:00 GMT\r\n"
	"Content-Type: multipart/mixed; boundary=XX\r\n"
	"\r\n"
	"preamble words\r\n"
	"--XX\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"0J/RgNC40LLQtdGCINC80LjRgCEgzqPOv8+GzrnOsQ==\r\n"	/* Привет мир! Σοφια */
	"--XX\r\n"
	"Content-Type: text/html; charset=windows-1251\r\n"
	"\r\n"
	"<b>\xcf\xf0\xe8\xe2\xe5\xf2</b> second\r\n"		/* Привет */
	"--XX\r\n"
	"Content-Type: image/png\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"X-Part-Note: attached picture\r\n"
	"\r\n"
	"SElEREVOV09SRA==\r\n"				/* HIDDENWORD */
	"--XX\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Subject: inner subject\r\n"
	"Date: garbage\r\n"
	"\r\n"
	"inner body\r\n"
	"--XX--\r\n"
	"epilogue words\r\n";

static const char msg_nodate[] =
	"Subject: no date\r\n"
	"\r\n"
	"x\r\n";

struct loader {
	const char *msg;
	struct buf cache;
	bool with_cache;
	unsigned cache_loads, data_loads;
};

static int load(void *ctx, struct search_message *m, enum search_load what,
		const char **error_r)
{
	struct loader *l = ctx;
	(void)error_r;
	if (what == SEARCH_LOAD_CACHE) {
		l->cache_loads++;
		if (l->with_cache) {
			m->cache = l->cache.data;
			m->cache_len = l->cache.len;
		}
	} else {
		l->data_loads++;
		m->data = (const uint8_t *)l->msg;
		m->len = strlen(l->msg);
	}
	return 0;
}

/* Matches key/str on msg three ways: in memory without a cache, lazily
 * with a cache record, lazily without; all must agree. */
static int match(const char *msg, enum imap_search_type type,
		 const char *header, const char *str)
{
	struct search_text_key k;
	const char *err = NULL;
	search_text_key_init(&k, type, header, str, strlen(str));
	struct search_message m;
	search_message_init(&m, (const uint8_t *)msg, strlen(msg), NULL, 0);
	int r1 = search_match_text(&m, &k, &err);
	search_message_free(&m);

	int r[2];
	for (int c = 0; c < 2; c++) {
		struct loader l = { .msg = msg, .with_cache = c == 1 };
		buf_init(&l.cache);
		mime_cache_build((const uint8_t *)msg, strlen(msg), NULL,
				 &l.cache);
		search_message_init_lazy(&m, load, &l);
		r[c] = search_match_text(&m, &k, &err);
		/* a second key on the same message reuses what was folded */
		CU_ASSERT_EQUAL(search_match_text(&m, &k, &err), r[c]);
		search_message_free(&m);
		CU_ASSERT(l.cache_loads <= 1 && l.data_loads <= 1);
		buf_free(&l.cache);
	}
	search_text_key_free(&k);
	CU_ASSERT_EQUAL(r1, r[0]);
	CU_ASSERT_EQUAL(r1, r[1]);
	return r1;
}

static void test_header_fields(void)
{
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_SUBJECT, NULL, "münchen"), 1);
	/* encoded words split across a folded line join */
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_SUBJECT, NULL,
			      "GRÜSSE"), 0);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_SUBJECT, NULL,
			      "grüße aus mün"), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_FROM, NULL, "jörg mül"), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_FROM, NULL, "JOERG@"), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_FROM, NULL, "alice"), 0);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_TO, NULL, "BOB@example"), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_CC, NULL, "carol"), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_BCC, NULL, "carol"), 0);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_BCC, NULL, ""), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_SUBJECT, NULL, ""), 1);
}

static void test_header_key(void)
{
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_HEADER, "x-mailer",
			      "second"), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_HEADER, "X-Mailer",
			      "test"), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_HEADER, "X-Mailer",
			      "third"), 0);
	/* "" = has the field */
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_HEADER, "X-Mailer", ""), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_HEADER, "X-Other", ""), 0);
	/* decoded like SUBJECT */
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_HEADER, "Subject",
			      "MÜNCHEN"), 1);
	/* no match across two fields */
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_HEADER, "X-Mailer",
			      "testsecond"), 0);
	/* only the top-level header */
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_HEADER, "X-Part-Note",
			      ""), 0);
}

static void test_body(void)
{
	/* quoted-printable, ISO-8859-1, soft line break */
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_BODY, NULL, "STRAßE"), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_BODY, NULL,
			      "lang, sehr lang"), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_BODY, NULL, "=DF"), 0);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_BODY, NULL, "münchen"), 0);
	/* base64 UTF-8 */
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_BODY, NULL, "ПРИВЕТ МИР"), 1);
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_BODY, NULL, "ΣΟΦΙΑ"), 1);
	/* windows-1251 html part, markup included */
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_BODY, NULL,
			      "<B>привет</b>"), 1);
	/* no match across parts */
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_BODY, NULL, "σοφια\r\n<b>"), 0);
	/* non-text parts, preamble, epilogue are not text */
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_BODY, NULL, "hiddenword"), 0);
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_BODY, NULL, "preamble"), 0);
	/* an attached message's text part is body text; its header not */
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_BODY, NULL, "INNER BODY"), 1);
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_BODY, NULL,
			      "inner subject"), 0);
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_BODY, NULL, "parts"), 0);
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_BODY, NULL, ""), 1);
}

static void test_text(void)
{
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_TEXT, NULL, "inner subject"), 1);
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_TEXT, NULL,
			      "attached picture"), 1);
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_TEXT, NULL, "subject: parts"), 1);
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_TEXT, NULL, "привет"), 1);
	CU_ASSERT_EQUAL(match(msg_multi, IMAP_SEARCH_TEXT, NULL, "hiddenword"), 0);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_TEXT, NULL, "grüße"), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_TEXT, NULL, "straße"), 1);
	CU_ASSERT_EQUAL(match(msg_plain, IMAP_SEARCH_TEXT, NULL, "nowhere"), 0);
}

static void test_lazy_loading(void)
{
	/* SUBJECT with a cache record reads no message bytes */
	struct loader l = { .msg = msg_plain, .with_cache = true };
	struct search_text_key k;
	struct search_message m;
	const char *err;
	buf_init(&l.cache);
	mime_cache_build((const uint8_t *)msg_plain, strlen(msg_plain), NULL,
			 &l.cache);
	search_text_key_init(&k, IMAP_SEARCH_SUBJECT, NULL, "aus", 3);
	search_message_init_lazy(&m, load, &l);
	CU_ASSERT_EQUAL(search_match_text(&m, &k, &err), 1);
	CU_ASSERT_EQUAL(l.cache_loads, 1);
	CU_ASSERT_EQUAL(l.data_loads, 0);
	struct imap_date d;
	CU_ASSERT_EQUAL(search_message_sent_date(&m, &d, &err), 1);
	CU_ASSERT_EQUAL(l.data_loads, 0);
	search_message_free(&m);
	search_text_key_free(&k);
	buf_free(&l.cache);
}

static void test_sent_date(void)
{
	struct search_message m;
	struct imap_date d;
	const char *err;
	/* the day as written: 2 January at -0500, 3 January in UTC */
	search_message_init(&m, (const uint8_t *)msg_plain, strlen(msg_plain),
			    NULL, 0);
	CU_ASSERT_EQUAL(search_message_sent_date(&m, &d, &err), 1);
	CU_ASSERT(d.year == 2024 && d.month == 1 && d.day == 2);
	search_message_free(&m);
	search_message_init(&m, (const uint8_t *)msg_multi, strlen(msg_multi),
			    NULL, 0);
	CU_ASSERT_EQUAL(search_message_sent_date(&m, &d, &err), 1);
	CU_ASSERT(d.year == 2024 && d.month == 2 && d.day == 5);
	search_message_free(&m);
	search_message_init(&m, (const uint8_t *)msg_nodate, strlen(msg_nodate),
			    NULL, 0);
	CU_ASSERT_EQUAL(search_message_sent_date(&m, &d, &err), 0);
	search_message_free(&m);
}

static void test_broken_cache(void)
{
	/* a record that does not decode: the message is parsed instead */
	struct loader l = { .msg = msg_plain, .with_cache = true };
	struct search_text_key k;
	struct search_message m;
	const char *err;
	buf_init(&l.cache);
	buf_append_str(&l.cache, "PMC\x01garbage");
	search_text_key_init(&k, IMAP_SEARCH_BODY, NULL, "zweite", 6);
	search_message_init_lazy(&m, load, &l);
	CU_ASSERT_EQUAL(search_match_text(&m, &k, &err), 1);
	search_message_free(&m);
	search_text_key_free(&k);
	/* a cache whose ranges exceed the bytes given: no crash, no match */
	struct buf cache;
	buf_init(&cache);
	mime_cache_build((const uint8_t *)msg_plain, strlen(msg_plain), NULL,
			 &cache);
	search_text_key_init(&k, IMAP_SEARCH_TEXT, NULL, "zweite", 6);
	search_message_init(&m, (const uint8_t *)msg_plain, 40, cache.data,
			    cache.len);
	CU_ASSERT_EQUAL(search_match_text(&m, &k, &err), 0);
	search_message_free(&m);
	search_text_key_free(&k);
	buf_free(&cache);
	buf_free(&l.cache);
}

static void search_match_suite(void)
{
	CU_pSuite s = CU_add_suite("search-match", NULL, NULL);
	CU_add_test(s, "header fields", test_header_fields);
	CU_add_test(s, "HEADER", test_header_key);
	CU_add_test(s, "BODY", test_body);
	CU_add_test(s, "TEXT", test_text);
	CU_add_test(s, "lazy loading", test_lazy_loading);
	CU_add_test(s, "sent date", test_sent_date);
	CU_add_test(s, "broken cache", test_broken_cache);
}
UNIT_SUITE(search_match_suite)
