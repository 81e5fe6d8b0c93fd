/* daemon/imap/sort-key.c: base subject extraction (RFC 5256 section
 * 2.1), sort criteria, the keys of a message from its cache record and
 * their comparison. */
#include "unit.h"

#include "../../common/buf.h"
#include "../../daemon/imap/sort-key.h"
#include "../../store/mime-cache.h"

#include <stdlib.h>
#include <string.h>

static void check_base(const char *in, const char *want, bool want_refwd)
{
	struct buf b;
	bool refwd = !want_refwd;
	buf_init(&b);
	sort_base_subject(in, strlen(in), &b, &refwd);
	const char *got = buf_cstr(&b);
	if (strcmp(got, want) != 0 || refwd != want_refwd)
		fprintf(stderr, "base subject of '%s': '%s' (%d), want '%s' "
			"(%d)\n", in, got, refwd, want, want_refwd);
	CU_ASSERT_STRING_EQUAL(got, want);
	CU_ASSERT_EQUAL(refwd, want_refwd);
	buf_free(&b);
}

static void test_base_subject(void)
{
	/* plain, case and whitespace (step 1, 7) */
	check_base("Hello world", "HELLO WORLD", false);
	check_base("  hello \t  world\r\n  again  ", "HELLO WORLD AGAIN",
		   false);
	check_base("", "", false);
	/* subj-refwd leaders (step 3) */
	check_base("Re: hello", "HELLO", true);
	check_base("RE:hello", "HELLO", true);
	check_base("re : hello", "HELLO", true);
	check_base("Fwd: hello", "HELLO", true);
	check_base("FW: hello", "HELLO", true);
	check_base("fw:hello", "HELLO", true);
	check_base("Re: Re: RE: hello", "HELLO", true);
	check_base("Re[2]: hello", "HELLO", true);
	check_base("Re [list]: hello", "HELLO", true);
	check_base("Ref: hello", "REF: HELLO", false);
	check_base("Rehello", "REHELLO", false);
	check_base("Re: ", "", true);
	/* blobs (step 3 with a refwd after them, step 4 alone) */
	check_base("[list] Re: hello", "HELLO", true);
	check_base("[list] hello", "HELLO", false);
	check_base("[a][b] hello", "HELLO", false);
	check_base("Re: [list] Re: hello", "HELLO", true);
	check_base("[list] [other] Fwd: hello", "HELLO", true);
	/* a blob that would leave nothing stays */
	check_base("[list]", "[LIST]", false);
	check_base("Re: [list]", "[LIST]", true);
	check_base("[list]  ", "[LIST]", false);
	check_base("[unclosed hello", "[UNCLOSED HELLO", false);
	/* trailers (step 2) */
	check_base("hello (fwd)", "HELLO", true);
	check_base("hello (FWD) (fwd)  ", "HELLO", true);
	check_base("hello(fwd)", "HELLO", true);
	check_base("hello (fw)", "HELLO (FW)", false);
	/* [fwd: ...] wrappers (step 6), nested with everything else */
	check_base("[fwd: hello]", "HELLO", true);
	check_base("[Fwd: Re: hello (fwd)]", "HELLO", true);
	check_base("Re: [fwd: [list] hello]", "HELLO", true);
	check_base("[fwd: [fwd: hello]]", "HELLO", true);
	check_base("[fwd: hello", "[FWD: HELLO", false);
	/* only ASCII letters are mapped (i;ascii-casemap) */
	check_base("Re: gr\xc3\xbc\xc3\x9f" "e", "GR\xc3\xbc\xc3\x9f" "E",
		   true);
}

static void test_criteria(void)
{
	struct imap_arg keys[4] = {
		{ .type = IMAP_ARG_ATOM, .str = "reverse", .len = 7 },
		{ .type = IMAP_ARG_ATOM, .str = "DATE", .len = 4 },
		{ .type = IMAP_ARG_ATOM, .str = "displayfrom", .len = 11 },
		{ .type = IMAP_ARG_ATOM, .str = "SIZE", .len = 4 },
	};
	struct imap_arg list = { .type = IMAP_ARG_LIST, .list = keys,
				 .list_count = 4 };
	struct sort_criteria c;
	const char *err;
	CU_ASSERT_EQUAL_FATAL(sort_criteria_parse(&list, &c, &err), 0);
	CU_ASSERT_EQUAL(c.count, 3);
	CU_ASSERT_EQUAL(c.keys[0].type, SORT_DATE);
	CU_ASSERT_TRUE(c.keys[0].reverse);
	CU_ASSERT_EQUAL(c.keys[1].type, SORT_DISPLAYFROM);
	CU_ASSERT_FALSE(c.keys[1].reverse);
	CU_ASSERT_EQUAL(c.keys[2].type, SORT_SIZE);
	CU_ASSERT_EQUAL(c.need, SORT_NEED_CACHE | SORT_NEED_RECORD);
	/* unknown key, REVERSE at the end, empty list, not a list */
	keys[1].str = "SENDER";
	keys[1].len = 6;
	CU_ASSERT_EQUAL(sort_criteria_parse(&list, &c, &err), -1);
	list.list_count = 1;
	CU_ASSERT_EQUAL(sort_criteria_parse(&list, &c, &err), -1);
	list.list_count = 0;
	CU_ASSERT_EQUAL(sort_criteria_parse(&list, &c, &err), -1);
	CU_ASSERT_EQUAL(sort_criteria_parse(&keys[3], &c, &err), -1);
	/* REVERSE REVERSE */
	keys[1] = keys[0];
	list.list_count = 3;
	CU_ASSERT_EQUAL(sort_criteria_parse(&list, &c, &err), -1);
}

static void fill(struct sort_msg *m, uint32_t seq, const char *msg,
		 int64_t arrival)
{
	struct buf cache;
	const char *err;
	buf_init(&cache);
	memset(m, 0, sizeof(*m));
	m->seq = m->uid = seq;
	m->arrival = arrival;
	m->size = strlen(msg);
	mime_cache_build((const uint8_t *)msg, strlen(msg), NULL, &cache);
	CU_ASSERT_EQUAL(sort_msg_fill(m, SORT_NEED_CACHE | SORT_NEED_THREAD,
				      cache.data, cache.len,
				      (const uint8_t *)msg, strlen(msg),
				      &err), 0);
	buf_free(&cache);
}

static void test_msg_keys(void)
{
	struct sort_msg m;
	fill(&m, 1,
	     "From: =?UTF-8?Q?=C3=89mile_Zola?= <Emile@Example.ORG>\r\n"
	     "To: undisclosed:;, \"bob b\" <bob@x.com>\r\n"
	     "Cc: carol@x.com (Carol C)\r\n"
	     "Subject: =?UTF-8?Q?Re:_[list]_caf=C3=A9?=\r\n"
	     "Date: Tue, 02 Jan 2024 23:30:00 -0500\r\n"
	     "Message-ID: <id1@x>\r\n"
	     "In-Reply-To: <irt@x>\r\n"
	     "References: <a@x> (comment <no@x>)\r\n <b@\r\n x>\r\n"
	     "\r\nbody\r\n", 1000);
	CU_ASSERT_STRING_EQUAL(m.subject, "CAF\xc3\xa9");
	CU_ASSERT_TRUE(m.reply_fwd);
	CU_ASSERT_STRING_EQUAL(m.from, "EMILE");
	/* the group start is not an address: bob is the first To */
	CU_ASSERT_STRING_EQUAL(m.to, "BOB");
	CU_ASSERT_STRING_EQUAL(m.cc, "CAROL");
	/* display names folded (RFC 5051 titlecase + NFD) */
	CU_ASSERT_STRING_EQUAL(m.dfrom, "E\xcc\x81MILE ZOLA");
	CU_ASSERT_STRING_EQUAL(m.dto, "BOB B");
	CU_ASSERT_EQUAL(m.sent, 1704256200);
	CU_ASSERT_STRING_EQUAL(m.message_id, "<id1@x>");
	CU_ASSERT_EQUAL_FATAL(m.nrefs, 2);
	CU_ASSERT_STRING_EQUAL(m.refs[0], "<a@x>");
	CU_ASSERT_STRING_EQUAL(m.refs[1], "<b@x>");
	sort_msg_free(&m);

	/* no Date: the arrival; no References: In-Reply-To; no display
	 * name: the address */
	fill(&m, 2,
	     "From: zed@y.org\r\n"
	     "Subject: plain\r\n"
	     "In-Reply-To: junk <irt@x> <second@x>\r\n"
	     "\r\n", 1234);
	CU_ASSERT_EQUAL(m.sent, 1234);
	CU_ASSERT_STRING_EQUAL(m.dfrom, "ZED@Y.ORG");
	CU_ASSERT_STRING_EQUAL(m.to, "");
	CU_ASSERT_STRING_EQUAL(m.message_id, "");
	CU_ASSERT_EQUAL_FATAL(m.nrefs, 1);
	CU_ASSERT_STRING_EQUAL(m.refs[0], "<irt@x>");
	CU_ASSERT_FALSE(m.reply_fwd);
	sort_msg_free(&m);
}

static void test_compare(void)
{
	static const char *const msgs[] = {
		"From: b@x\r\nTo: z@x\r\nSubject: Re: beta\r\n"
		"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n1234567890\r\n",
		"From: A@x\r\nTo: y@x\r\nSubject: alpha\r\n"
		"Date: Mon, 1 Jan 2024 09:00:00 +0000\r\n\r\n1\r\n",
		"From: a@x\r\nTo: x@x\r\nSubject: [l] Beta\r\n"
		"Date: Mon, 1 Jan 2024 11:00:00 +0000\r\n\r\n12345\r\n",
	};
	struct sort_msg m[3];
	for (uint32_t i = 0; i < 3; i++)
		fill(&m[i], i + 1, msgs[i], 100 - (int64_t)i);
	struct sort_criteria c = { .count = 1 };
	struct {
		enum sort_key_type type;
		bool reverse;
		uint32_t want[3];
	} cases[] = {
		{ SORT_ARRIVAL, false, { 3, 2, 1 } },
		{ SORT_DATE, false, { 2, 1, 3 } },
		{ SORT_DATE, true, { 3, 1, 2 } },
		{ SORT_SIZE, false, { 2, 3, 1 } },
		/* ascii-casemap: "A" and "a" tie, sequence order breaks
		 * it, and REVERSE does not turn the tie-break around */
		{ SORT_FROM, false, { 2, 3, 1 } },
		{ SORT_FROM, true, { 1, 2, 3 } },
		{ SORT_TO, false, { 3, 2, 1 } },
		{ SORT_SUBJECT, false, { 2, 1, 3 } },
		{ SORT_CC, false, { 1, 2, 3 } },
		{ SORT_DISPLAYFROM, false, { 2, 3, 1 } },
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		c.keys[0].type = cases[k].type;
		c.keys[0].reverse = cases[k].reverse;
		struct sort_msg v[3];
		memcpy(v, m, sizeof(v));
		sort_msgs(&c, v, 3);
		for (int i = 0; i < 3; i++)
			CU_ASSERT_EQUAL(v[i].seq, cases[k].want[i]);
	}
	/* two keys: SUBJECT then REVERSE SIZE */
	c.count = 2;
	c.keys[0].type = SORT_SUBJECT;
	c.keys[0].reverse = false;
	c.keys[1].type = SORT_SIZE;
	c.keys[1].reverse = true;
	CU_ASSERT_TRUE(sort_msg_compare(&c, &m[0], &m[2]) < 0);
	CU_ASSERT_TRUE(sort_msg_compare(&c, &m[2], &m[0]) > 0);
	CU_ASSERT_EQUAL(sort_msg_compare(&c, &m[1], &m[1]), 0);
	for (int i = 0; i < 3; i++)
		sort_msg_free(&m[i]);
}

static void sort_suite(void)
{
	CU_pSuite s = CU_add_suite("sort", NULL, NULL);
	CU_add_test(s, "base subject (RFC 5256 2.1)", test_base_subject);
	CU_add_test(s, "sort criteria", test_criteria);
	CU_add_test(s, "keys of a message", test_msg_keys);
	CU_add_test(s, "comparison", test_compare);
}
UNIT_SUITE(sort_suite)
