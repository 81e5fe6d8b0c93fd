/* The mbox splitter (store/import-mbox.c). Every case is parsed three
 * ways, whole, one byte at a time and in odd-sized pieces, and all three
 * must give the same messages. */
#include "unit.h"

#include "../../common/buf.h"
#include "../../store/import-mbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MSGS 16

struct split {
	struct buf cur;
	struct buf msgs[MAX_MSGS];
	struct mbox_message_info info[MAX_MSGS];
	size_t n;
	size_t junk_calls;
	uint64_t junk_len;
};

static void on_data(void *ctx, const uint8_t *d, size_t len)
{
	struct split *sp = ctx;
	buf_append(&sp->cur, d, len);
}

static void on_message(void *ctx, const struct mbox_message_info *info)
{
	struct split *sp = ctx;
	CU_ASSERT_FATAL(sp->n < MAX_MSGS);
	CU_ASSERT_EQUAL(info->size, sp->cur.len);
	buf_init(&sp->msgs[sp->n]);
	buf_append(&sp->msgs[sp->n], sp->cur.data, sp->cur.len);
	sp->info[sp->n] = *info;
	sp->n++;
	buf_clear(&sp->cur);
}

static void on_junk(void *ctx, uint64_t offset, uint64_t len)
{
	struct split *sp = ctx;
	CU_ASSERT_EQUAL(offset, 0);
	sp->junk_calls++;
	sp->junk_len = len;
}

static const struct mbox_callbacks cbs = {
	.data = on_data, .message = on_message, .junk = on_junk,
};

static void split_free(struct split *sp)
{
	buf_free(&sp->cur);
	for (size_t i = 0; i < sp->n; i++)
		buf_free(&sp->msgs[i]);
}

/* step 0 = whole */
static void split_run(struct split *sp, const char *in, size_t len,
		      size_t step, uint64_t max)
{
	memset(sp, 0, sizeof(*sp));
	buf_init(&sp->cur);
	struct mbox_parser p;
	mbox_parser_init(&p, &cbs, sp, max);
	if (step == 0) {
		mbox_parser_feed(&p, (const uint8_t *)in, len);
	} else {
		for (size_t i = 0; i < len; i += step) {
			size_t n = len - i < step ? len - i : step;
			mbox_parser_feed(&p, (const uint8_t *)in + i, n);
		}
	}
	mbox_parser_finish(&p);
	mbox_parser_finish(&p);	/* twice is harmless */
	CU_ASSERT_EQUAL(p.offset, len);
}

/* Splits in three ways, checks they agree and returns the whole one. */
static void split3(struct split *out, const char *in, size_t len,
		   uint64_t max)
{
	static const size_t steps[] = { 1, 7 };
	split_run(out, in, len, 0, max);
	for (size_t k = 0; k < 2; k++) {
		struct split o;
		split_run(&o, in, len, steps[k], max);
		CU_ASSERT_EQUAL(o.n, out->n);
		CU_ASSERT_EQUAL(o.junk_calls, out->junk_calls);
		CU_ASSERT_EQUAL(o.junk_len, out->junk_len);
		for (size_t i = 0; i < o.n && i < out->n; i++) {
			CU_ASSERT_EQUAL(o.msgs[i].len, out->msgs[i].len);
			CU_ASSERT(o.msgs[i].len == out->msgs[i].len &&
				  (o.msgs[i].len == 0 ||
				   memcmp(o.msgs[i].data, out->msgs[i].data,
					  o.msgs[i].len) == 0));
			CU_ASSERT_EQUAL(o.info[i].offset, out->info[i].offset);
			CU_ASSERT_EQUAL(o.info[i].date, out->info[i].date);
			CU_ASSERT_EQUAL(o.info[i].oversize,
					out->info[i].oversize);
		}
		split_free(&o);
	}
}

static void assert_msg(const struct split *sp, size_t i, const char *want)
{
	CU_ASSERT_FATAL(i < sp->n);
	size_t wl = strlen(want);
	CU_ASSERT_EQUAL(sp->msgs[i].len, wl);
	bool same = sp->msgs[i].len == wl &&
		    (wl == 0 || memcmp(sp->msgs[i].data, want, wl) == 0);
	if (!same)
		fprintf(stderr, "\nmessage %zu: got [%.*s] want [%s]\n", i,
			(int)sp->msgs[i].len, (const char *)sp->msgs[i].data,
			want);
	CU_ASSERT(same);
}

#define SPLIT(sp, s) split3((sp), (s), sizeof(s) - 1, 0)

static void test_basic_and_dates(void)
{
	struct split sp;
	SPLIT(&sp, "From alice@example.org Thu Jan  1 00:00:00 2015\n"
		   "Subject: one\n\nhello\n\n"
		   "From bob Fri Feb 13 23:31:30 2009\n"
		   "Subject: two\n\nbye\n");
	CU_ASSERT_EQUAL(sp.n, 2);
	assert_msg(&sp, 0, "Subject: one\n\nhello\n");
	assert_msg(&sp, 1, "Subject: two\n\nbye\n");
	CU_ASSERT_EQUAL(sp.info[0].date, 1420070400);
	CU_ASSERT_EQUAL(sp.info[1].date, 1234567890);
	CU_ASSERT_EQUAL(sp.info[0].offset, 0);
	CU_ASSERT_EQUAL(sp.info[1].offset, 69);
	CU_ASSERT_EQUAL(sp.info[0].index, 1);
	CU_ASSERT_EQUAL(sp.info[1].index, 2);
	CU_ASSERT_EQUAL(sp.junk_calls, 0);
	split_free(&sp);
}

static void test_from_quoting(void)
{
	struct split sp;
	/* mboxrd: every >*From loses one '>'; other '>' lines stay. A
	 * "From " line inside a body without a date is text (mboxo). */
	SPLIT(&sp, "From a Thu Jan  1 00:00:00 2015\n"
		   "Subject: q\n\n"
		   ">From the start\n"
		   ">>From twice\n"
		   ">>>>From four\n"
		   "> quoted reply\n"
		   ">>not from\n"
		   ">Fro\n"
		   ">\n"
		   "From here on it is text\n"
		   "\n"
		   "From me to you: hello\n"
		   "Fromage\n"
		   "end\n");
	CU_ASSERT_EQUAL(sp.n, 1);
	assert_msg(&sp, 0, "Subject: q\n\n"
		   "From the start\n"
		   ">From twice\n"
		   ">>>From four\n"
		   "> quoted reply\n"
		   ">>not from\n"
		   ">Fro\n"
		   ">\n"
		   "From here on it is text\n"
		   "\n"
		   "From me to you: hello\n"
		   "Fromage\n"
		   "end\n");
	split_free(&sp);
}

static void test_blank_lines(void)
{
	struct split sp;
	/* Only the last empty line before a From_ line is the writer's. */
	SPLIT(&sp, "From a Thu Jan  1 00:00:00 2015\n"
		   "S: 1\n\nbody\n\n\n\n"
		   "From a Thu Jan  1 00:00:01 2015\n"
		   "S: 2\n\n"
		   "\n"
		   "From a Thu Jan  1 00:00:02 2015\n"
		   "From a Thu Jan  1 00:00:03 2015\n"
		   "S: 4\n");
	CU_ASSERT_EQUAL(sp.n, 4);
	assert_msg(&sp, 0, "S: 1\n\nbody\n\n\n");
	assert_msg(&sp, 1, "S: 2\n\n");
	assert_msg(&sp, 2, "");		/* empty: the importer skips it */
	assert_msg(&sp, 3, "S: 4\n");
	split_free(&sp);
}

static void test_no_trailing_newline(void)
{
	struct split sp;
	SPLIT(&sp, "From a Thu Jan  1 00:00:00 2015\nS: x\n\nlast line");
	CU_ASSERT_EQUAL(sp.n, 1);
	assert_msg(&sp, 0, "S: x\n\nlast line");
	split_free(&sp);
	SPLIT(&sp, "From a Thu Jan  1 00:00:00 2015\nS: x\n\n>From");
	assert_msg(&sp, 0, "S: x\n\n>From");
	split_free(&sp);
	SPLIT(&sp, "From a Thu Jan  1 00:00:00 2015\nS: x\n\n>>");
	assert_msg(&sp, 0, "S: x\n\n>>");
	split_free(&sp);
	SPLIT(&sp, "From a Thu Jan  1 00:00:00 2015\nS: x\n\nFrom a Thu");
	assert_msg(&sp, 0, "S: x\n\nFrom a Thu");
	split_free(&sp);
	SPLIT(&sp, "From a Thu Jan  1 00:00:00 2015\nS: x\r");
	assert_msg(&sp, 0, "S: x\r");
	split_free(&sp);
	/* a From_ line as the very last bytes: an empty last message */
	SPLIT(&sp, "From a Thu Jan  1 00:00:00 2015\nS: x\n\n"
		   "From b Thu Jan  1 00:00:00 2015");
	CU_ASSERT_EQUAL(sp.n, 2);
	assert_msg(&sp, 0, "S: x\n");
	assert_msg(&sp, 1, "");
	split_free(&sp);
}

static void test_empty_and_garbage(void)
{
	struct split sp;
	split3(&sp, "", 0, 0);
	CU_ASSERT_EQUAL(sp.n, 0);
	CU_ASSERT_EQUAL(sp.junk_calls, 0);
	split_free(&sp);
	/* white space only: nothing, not even junk */
	SPLIT(&sp, "\n\r\n  \t\n");
	CU_ASSERT_EQUAL(sp.n, 0);
	CU_ASSERT_EQUAL(sp.junk_calls, 0);
	split_free(&sp);
	/* not an mbox at all */
	SPLIT(&sp, "Subject: an .eml file\n\nFrom nobody, no date\n");
	CU_ASSERT_EQUAL(sp.n, 0);
	CU_ASSERT_EQUAL(sp.junk_calls, 1);
	CU_ASSERT_EQUAL(sp.junk_len, 44);
	split_free(&sp);
	/* garbage, then messages: the garbage is reported with its size */
	SPLIT(&sp, "\x01\x02garbage\x00\xff\n\n"
		   "From a Thu Jan  1 00:00:00 2015\nS: 1\n");
	CU_ASSERT_EQUAL(sp.n, 1);
	CU_ASSERT_EQUAL(sp.junk_calls, 1);
	CU_ASSERT_EQUAL(sp.junk_len, 13);
	CU_ASSERT_EQUAL(sp.info[0].offset, 13);
	assert_msg(&sp, 0, "S: 1\n");
	split_free(&sp);
	/* NUL bytes and 8-bit inside a message are its bytes */
	static const char nul[] = "From a Thu Jan  1 00:00:00 2015\n"
				  "S: \x00\xff\n\nb\x00\n";
	split3(&sp, nul, sizeof(nul) - 1, 0);
	CU_ASSERT_EQUAL(sp.n, 1);
	CU_ASSERT_EQUAL(sp.msgs[0].len, 10);
	CU_ASSERT(memcmp(sp.msgs[0].data, "S: \x00\xff\n\nb\x00\n", 10) == 0);
	split_free(&sp);
}

static void test_crlf(void)
{
	struct split sp;
	SPLIT(&sp, "From a@b Thu Jan  1 00:00:00 2015\r\n"
		   "Subject: one\r\n\r\nhi\r\n>From x\r\n\r\n"
		   "From a@b Thu Jan  1 00:00:00 2015\r\n"
		   "Subject: two\r\n\r\n\r\nbye\r\n\r\n");
	CU_ASSERT_EQUAL(sp.n, 2);
	assert_msg(&sp, 0, "Subject: one\r\n\r\nhi\r\nFrom x\r\n");
	assert_msg(&sp, 1, "Subject: two\r\n\r\n\r\nbye\r\n");
	split_free(&sp);
	/* a lone CR line is text */
	SPLIT(&sp, "From a Thu Jan  1 00:00:00 2015\nS: x\n\r\rz\n");
	assert_msg(&sp, 0, "S: x\n\r\rz\n");
	split_free(&sp);
}

static void test_content_length_ignored(void)
{
	struct split sp;
	SPLIT(&sp, "From a Thu Jan  1 00:00:00 2015\n"
		   "Content-Length: 99999\n\nshort\n\n"
		   "From a Thu Jan  1 00:00:00 2015\n"
		   "Content-Length: 1\n\nlonger body\n");
	CU_ASSERT_EQUAL(sp.n, 2);
	assert_msg(&sp, 0, "Content-Length: 99999\n\nshort\n");
	assert_msg(&sp, 1, "Content-Length: 1\n\nlonger body\n");
	split_free(&sp);
}

static void test_huge_lines(void)
{
	/* A 3 MB line, a From_-looking line longer than the limit, and a
	 * 100000-'>' quote run: streamed, not buffered, and kept. */
	size_t big = 3u << 20;
	struct buf in, want;
	buf_init(&in);
	buf_init(&want);
	buf_append_str(&in, "From a Thu Jan  1 00:00:00 2015\n");
	buf_append_str(&want, "S: x\n\n");
	for (size_t i = 0; i < big; i++)
		buf_append_byte(&want, (uint8_t)('a' + i % 26));
	buf_append_str(&want, "\nFrom ");
	for (size_t i = 0; i < MBOX_FROM_LINE_MAX; i++)
		buf_append_byte(&want, 'x');
	buf_append_str(&want, " Thu Jan  1 00:00:00 2015\n");
	buf_append(&in, want.data, want.len);
	buf_append_byte(&in, '>');
	for (size_t i = 0; i < 100000; i++) {
		buf_append_byte(&in, '>');
		buf_append_byte(&want, '>');
	}
	buf_append_str(&in, "From deep\n\nFrom b Thu Jan  1 00:00:00 2015\n"
			    "S: y\n");
	buf_append_str(&want, "From deep\n");
	struct split sp;
	split3(&sp, (const char *)in.data, in.len, 0);
	CU_ASSERT_EQUAL(sp.n, 2);
	if (sp.n == 2) {
		CU_ASSERT_EQUAL(sp.msgs[0].len, want.len);
		CU_ASSERT(sp.msgs[0].len == want.len &&
			  memcmp(sp.msgs[0].data, want.data, want.len) == 0);
		assert_msg(&sp, 1, "S: y\n");
	}
	split_free(&sp);
	buf_free(&in);
	buf_free(&want);
}

static void test_max_size(void)
{
	struct split sp;
	static const char in[] = "From a Thu Jan  1 00:00:00 2015\n"
				 "S: 1234567890\n\n"
				 "From a Thu Jan  1 00:00:00 2015\nS: 1\n";
	split3(&sp, in, sizeof(in) - 1, 8);
	CU_ASSERT_EQUAL(sp.n, 2);
	CU_ASSERT(sp.info[0].oversize);
	CU_ASSERT_EQUAL(sp.msgs[0].len, 8);
	CU_ASSERT(!sp.info[1].oversize);
	assert_msg(&sp, 1, "S: 1\n");
	split_free(&sp);
}

static int from_tz;	/* the zone of the last from_date() */

static int64_t from_date(const char *line)
{
	int64_t d = -1;
	from_tz = 12345;
	if (!mbox_from_line_parse((const uint8_t *)line, strlen(line), &d,
				  &from_tz))
		return -1;
	return d;
}

static void test_from_line_dates(void)
{
	CU_ASSERT_EQUAL(from_date("From a Thu Jan  1 00:00:00 2015"),
			1420070400);
	CU_ASSERT_EQUAL(from_date("From a Thu Jan  1 00:00:00 2015\r\n"),
			1420070400);
	CU_ASSERT_EQUAL(from_date("From MAILER-DAEMON Fri Feb 13 23:31:30 "
				  "2009"), 1234567890);
	/* without seconds, with a zone name or a numeric zone */
	CU_ASSERT_EQUAL(from_date("From a Thu Jan  1 00:00 2015"), 1420070400);
	CU_ASSERT_EQUAL(from_date("From a Thu Jan  1 00:00:00 PST 2015"),
			1420070400);
	CU_ASSERT_EQUAL(from_tz, 0);
	CU_ASSERT_EQUAL(from_date("From a Thu Jan  1 01:00:00 +0100 2015"),
			1420070400);
	CU_ASSERT_EQUAL(from_tz, 60);	/* the zone is kept for INTERNALDATE */
	/* empty sender, UUCP tail, RFC 5322 style */
	CU_ASSERT_EQUAL(from_date("From  Thu Jan  1 00:00:00 2015"),
			1420070400);
	CU_ASSERT_EQUAL(from_date("From a Thu Jan  1 00:00:00 2015 remote "
				  "from uucp"), 1420070400);
	CU_ASSERT_EQUAL(from_date("From a Thu, 1 Jan 2015 02:00:00 +0200"),
			1420070400);
	CU_ASSERT_EQUAL(from_tz, 120);
	CU_ASSERT_EQUAL(from_date("From a Wed Dec 31 16:30:00 -0730 2014"),
			1420070400);
	CU_ASSERT_EQUAL(from_tz, -450);
	CU_ASSERT_EQUAL(from_date("From a@b Mon Feb 29 12:00:00 2016"),
			1456747200);
	/* not From_ lines */
	CU_ASSERT_EQUAL(from_date("From here on it is text"), -1);
	CU_ASSERT_EQUAL(from_date("From a Thu Jan 1 25:00:00 2015"), -1);
	CU_ASSERT_EQUAL(from_date("From a Thu Jan 32 00:00:00 2015"), -1);
	CU_ASSERT_EQUAL(from_date("From a Thu Jan  1 00:00:00"), -1);
	CU_ASSERT_EQUAL(from_date("From a Thu Foo  1 00:00:00 2015"), -1);
	CU_ASSERT_EQUAL(from_date("From Jan"), -1);
	CU_ASSERT_EQUAL(from_date("From "), -1);
	CU_ASSERT_EQUAL(from_date("Fro"), -1);
	CU_ASSERT_EQUAL(from_date(">From a Thu Jan  1 00:00:00 2015"), -1);
}

static void register_import_mbox(void)
{
	CU_pSuite s = CU_add_suite("import-mbox", NULL, NULL);
	CU_add_test(s, "basic split and dates", test_basic_and_dates);
	CU_add_test(s, ">From unquoting", test_from_quoting);
	CU_add_test(s, "blank lines before From_", test_blank_lines);
	CU_add_test(s, "no trailing newline", test_no_trailing_newline);
	CU_add_test(s, "empty file and garbage", test_empty_and_garbage);
	CU_add_test(s, "CRLF mbox", test_crlf);
	CU_add_test(s, "Content-Length ignored", test_content_length_ignored);
	CU_add_test(s, "huge lines", test_huge_lines);
	CU_add_test(s, "max message size", test_max_size);
	CU_add_test(s, "From_ line dates", test_from_line_dates);
}
UNIT_SUITE(register_import_mbox)
