/* daemon/imap/thread-algo.c: THREAD=REFERENCES and ORDEREDSUBJECT (RFC
 * 5256 section 3) on a crafted set: missing parents, a loop in
 * References, duplicate and self-referencing Message-IDs, a References
 * header contradicted by the referenced message itself, subject
 * merging; and a thread as deep as the mailbox is long. */
#include "unit.h"

#include "../../common/buf.h"
#include "../../daemon/imap/thread-algo.h"

#include <stdlib.h>
#include <string.h>

struct spec {
	const char *id;
	const char *refs[3];
	const char *subject;
	int64_t date;
};

/* seq i+1 = spec[i]; UIDs are seq * 10 */
static const struct spec set[] = {
	{ "<1>", { NULL }, "A", 100 },
	{ "<2>", { "<1>" }, "Re: A", 200 },
	{ "<3>", { "<1>", "<2>" }, "Re: A", 300 },
	/* 4, 5: siblings under a parent that is not in the mailbox */
	{ "<4>", { "<m>" }, "B", 150 },
	{ "<5>", { "<m>" }, "Re: B", 160 },
	/* 6, 7: no references, merged by subject: the reply under */
	{ "<6>", { NULL }, "C", 50 },
	{ "<7>", { NULL }, "Re: C", 400 },
	/* 8, 9: same subject, neither a reply: a dummy holds both */
	{ "<8>", { NULL }, "D", 500 },
	{ "<9>", { NULL }, "[list] D", 450 },
	/* 10, 11: each references the other (a loop) */
	{ "<10>", { "<11>" }, "E", 700 },
	{ "<11>", { "<10>" }, "F", 690 },
	/* 12, 13: one id twice: the first keeps it; 14 replies to it */
	{ "<dup>", { NULL }, "G", 800 },
	{ "<dup>", { NULL }, "H", 810 },
	{ "<14>", { "<dup>" }, "Re: G", 820 },
	/* 15 references itself */
	{ "<15>", { "<15>" }, "I", 900 },
	/* 16 says a -> b -> 16; b itself says its parent is c: b's own
	 * word wins, a (a dummy left without children) goes */
	{ "<16>", { "<a>", "<b>" }, "J", 1000 },
	{ "<b>", { "<c>" }, "Re: J", 1010 },
	/* no Message-ID at all */
	{ "", { NULL }, "K", 1100 },
};
#define NSET (sizeof(set) / sizeof(set[0]))

static struct sort_msg *make_set(void)
{
	struct sort_msg *m = xcalloc(NSET, sizeof(*m));
	for (size_t i = 0; i < NSET; i++) {
		m[i].seq = (uint32_t)i + 1;
		m[i].uid = m[i].seq * 10;
		m[i].sent = set[i].date;
		m[i].message_id = xstrdup(set[i].id);
		struct buf b;
		buf_init(&b);
		sort_base_subject(set[i].subject, strlen(set[i].subject), &b,
				  &m[i].reply_fwd);
		m[i].subject = xstrdup(buf_cstr(&b));
		buf_free(&b);
		for (size_t r = 0; r < 3 && set[i].refs[r] != NULL; r++) {
			m[i].refs = xrealloc(m[i].refs, (r + 1) *
							sizeof(*m[i].refs));
			m[i].refs[r] = xstrdup(set[i].refs[r]);
			m[i].nrefs = r + 1;
		}
	}
	return m;
}

static void free_set(struct sort_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sort_msg_free(&m[i]);
	free(m);
}

static void check(enum thread_algorithm alg, const struct sort_msg *m,
		  size_t n, bool uid, const char *want)
{
	struct buf out;
	buf_init(&out);
	thread_build(alg, m, n, uid, &out);
	if (strcmp(buf_cstr(&out), want) != 0)
		fprintf(stderr, "\nthread: got  %s\n        want %s\n",
			buf_cstr(&out), want);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&out), want);
	buf_free(&out);
}

static void test_references(void)
{
	struct sort_msg *m = make_set();
	check(THREAD_REFERENCES, m, NSET, false,
	      "(6 7)(1 2 3)((4)(5))((9)(8))(11 10)(12 14)(13)(15)(17 16)"
	      "(18)");
	check(THREAD_REFERENCES, m, 3, true, "(10 20 30)");
	check(THREAD_REFERENCES, m, 0, false, "");
	free_set(m, NSET);
}

static void test_references_shapes(void)
{
	/* "(3 6 (4 23)(44 7 96))" of RFC 5256 section 4, rebuilt: 3 <- 6
	 * <- {4 <- 23, 44 <- 7 <- 96} */
	static const struct spec rfc[] = {
		{ "<3>", { NULL }, "x", 1 },
		{ "<6>", { "<3>" }, "x", 2 },
		{ "<4>", { "<3>", "<6>" }, "x", 3 },
		{ "<23>", { "<4>" }, "x", 4 },
		{ "<44>", { "<6>" }, "x", 5 },
		{ "<7>", { "<44>" }, "x", 6 },
		{ "<96>", { "<6>", "<44>", "<7>" }, "x", 7 },
	};
	static const uint32_t seqs[] = { 3, 6, 4, 23, 44, 7, 96 };
	struct sort_msg m[7];
	memset(m, 0, sizeof(m));
	for (size_t i = 0; i < 7; i++) {
		m[i].seq = m[i].uid = seqs[i];
		m[i].sent = rfc[i].date;
		m[i].message_id = xstrdup(rfc[i].id);
		m[i].subject = xstrdup("X");
		for (size_t r = 0; r < 3 && rfc[i].refs[r] != NULL; r++) {
			m[i].refs = xrealloc(m[i].refs, (r + 1) *
							sizeof(*m[i].refs));
			m[i].refs[r] = xstrdup(rfc[i].refs[r]);
			m[i].nrefs = r + 1;
		}
	}
	check(THREAD_REFERENCES, m, 7, false, "(3 6 (4 23)(44 7 96))");
	for (size_t i = 0; i < 7; i++)
		sort_msg_free(&m[i]);
}

static void test_orderedsubject(void)
{
	struct sort_msg *m = make_set();
	check(THREAD_ORDEREDSUBJECT, m, NSET, false,
	      "(6 7)(1 (2)(3))(4 5)(9 8)(11)(10)(12 14)(13)(15)(16 17)(18)");
	check(THREAD_ORDEREDSUBJECT, m, 0, false, "");
	free_set(m, NSET);
}

/* A thread as deep as the mailbox: nothing may recurse per level, and
 * nothing may walk the whole chain per message. */
static void test_deep(void)
{
	const size_t n = 50000;
	struct sort_msg *m = xcalloc(n, sizeof(*m));
	char id[32];
	struct buf want;
	buf_init(&want);
	buf_append_byte(&want, '(');
	for (size_t i = 0; i < n; i++) {
		m[i].seq = m[i].uid = (uint32_t)i + 1;
		m[i].sent = (int64_t)i;
		snprintf(id, sizeof(id), "<%zu@x>", i);
		m[i].message_id = xstrdup(id);
		m[i].subject = xstrdup("DEEP");
		if (i > 0) {
			snprintf(id, sizeof(id), "<%zu@x>", i - 1);
			m[i].refs = xmalloc(sizeof(*m[i].refs));
			m[i].refs[0] = xstrdup(id);
			m[i].nrefs = 1;
		}
		buf_printf(&want, "%s%zu", i > 0 ? " " : "", i + 1);
	}
	buf_append_byte(&want, ')');
	check(THREAD_REFERENCES, m, n, false, buf_cstr(&want));
	/* every message a child of the first: one level, n-1 siblings */
	for (size_t i = 2; i < n; i++) {
		free(m[i].refs[0]);
		m[i].refs[0] = xstrdup("<0@x>");
	}
	struct buf out;
	buf_init(&out);
	thread_build(THREAD_REFERENCES, m, n, false, &out);
	CU_ASSERT_EQUAL(strncmp(buf_cstr(&out), "(1 (2)(3)(4)", 12), 0);
	buf_free(&out);
	buf_free(&want);
	free_set(m, n);
}

static void thread_suite(void)
{
	CU_pSuite s = CU_add_suite("thread", NULL, NULL);
	CU_add_test(s, "REFERENCES on a crafted set", test_references);
	CU_add_test(s, "REFERENCES: RFC 5256 example", test_references_shapes);
	CU_add_test(s, "ORDEREDSUBJECT", test_orderedsubject);
	CU_add_test(s, "deep threads", test_deep);
}
UNIT_SUITE(thread_suite)
