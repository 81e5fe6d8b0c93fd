/* Tests for sequence sets (daemon/imap/imap-seqset.c). */
#include "unit.h"

#include "../../common/buf.h"
#include "../../daemon/imap/imap-seqset.h"

#include <stdlib.h>
#include <string.h>

/* Parses s (max 5 items) and returns its formatted form, or "ERR:<error>";
 * with max != 0 the set is resolved against max first. */
static char *seq(const char *s, uint32_t max)
{
	struct imap_seqset set;
	const char *error = NULL;
	struct buf b;
	buf_init(&b);
	if (imap_seqset_parse(s, strlen(s), true, 5, &set, &error) < 0) {
		buf_printf(&b, "ERR:%s", error);
	} else {
		if (max != 0)
			imap_seqset_resolve(&set, max);
		imap_seqset_format(&set, &b);
		imap_seqset_free(&set);
	}
	char *r = strdup(buf_cstr(&b));
	buf_free(&b);
	return r;
}

#define SEQ(in, max, want) do { \
	char *got_ = seq(in, max); \
	CU_ASSERT_STRING_EQUAL(got_, want); \
	free(got_); \
} while (0)

static void test_seqset_forms(void)
{
	SEQ("1", 0, "1");
	SEQ("4294967295", 0, "4294967295");
	SEQ("3:1", 0, "1:3");
	SEQ("1:3,5", 0, "1:3,5");
	SEQ("5,1:3", 0, "1:3,5");
	SEQ("1:3,4", 0, "1:4");		/* adjacent ranges merge */
	SEQ("2:6,1:3", 0, "1:6");
	SEQ("1,1,1", 0, "1");
	SEQ("*", 0, "*");
	SEQ("*:*", 0, "*");
	SEQ("5:*", 0, "5:*");
	SEQ("*:5", 0, "5:*");
	SEQ("1,3:*,7:*", 0, "1,3:*,7:*");
	SEQ("$", 0, "$");
	/* resolved */
	SEQ("*", 10, "10");
	SEQ("5:*", 10, "5:10");
	SEQ("15:*", 10, "10:15");	/* "*:15" with * = 10 */
	SEQ("1,3:*,12:*", 10, "1,3:12");
	SEQ("1:2,*", 10, "1:2,10");
	SEQ("9,*", 10, "9:10");
	SEQ("1:2,*", 2, "1:2");
	SEQ("*", 4294967295u, "4294967295");
	SEQ("$", 10, "$");
}

static void test_seqset_errors(void)
{
	SEQ("", 0, "ERR:Empty sequence set");
	SEQ("0", 0, "ERR:Invalid sequence set: 0 is not a message number");
	SEQ("1:0", 0, "ERR:Invalid sequence set: 0 is not a message number");
	SEQ("01", 0, "ERR:Invalid sequence set: leading zero");
	SEQ("4294967296", 0, "ERR:Invalid sequence set: number too big");
	SEQ("99999999999999999999", 0,
	    "ERR:Invalid sequence set: number too big");
	SEQ("1,", 0, "ERR:Invalid sequence set");
	SEQ(",1", 0, "ERR:Invalid sequence set");
	SEQ("1,,2", 0, "ERR:Invalid sequence set");
	SEQ("1:", 0, "ERR:Invalid sequence set");
	SEQ(":1", 0, "ERR:Invalid sequence set");
	SEQ("1:2:3", 0, "ERR:Invalid sequence set");
	SEQ("a", 0, "ERR:Invalid sequence set");
	SEQ("1 ", 0, "ERR:Invalid sequence set");
	SEQ("-1", 0, "ERR:Invalid sequence set");
	SEQ("1,$", 0, "ERR:Invalid sequence set");
	SEQ("$$", 0, "ERR:Invalid sequence set");
	SEQ("1,2,3,4,5", 0, "1:5");
	SEQ("1,2,3,4,5,6", 0, "ERR:Too many ranges in sequence set");

	struct imap_seqset set;
	const char *error = NULL;
	CU_ASSERT_EQUAL(imap_seqset_parse("$", 1, false, 5, &set, &error), -1);
	CU_ASSERT_STRING_EQUAL(error, "Saved search result ($) not allowed here");
}

static void test_seqset_query(void)
{
	struct imap_seqset set;
	const char *error;
	const char *s = "2:4,7,10:*";
	CU_ASSERT_EQUAL_FATAL(imap_seqset_parse(s, strlen(s), false, 100,
						&set, &error), 0);
	CU_ASSERT_TRUE(set.star);
	imap_seqset_resolve(&set, 12);
	CU_ASSERT_FALSE(set.star);
	CU_ASSERT_EQUAL(imap_seqset_count(&set), 3 + 1 + 3);
	CU_ASSERT_EQUAL(imap_seqset_last(&set), 12);
	CU_ASSERT_FALSE(imap_seqset_contains(&set, 1));
	CU_ASSERT_TRUE(imap_seqset_contains(&set, 2));
	CU_ASSERT_TRUE(imap_seqset_contains(&set, 4));
	CU_ASSERT_FALSE(imap_seqset_contains(&set, 5));
	CU_ASSERT_TRUE(imap_seqset_contains(&set, 7));
	CU_ASSERT_FALSE(imap_seqset_contains(&set, 9));
	CU_ASSERT_TRUE(imap_seqset_contains(&set, 12));
	CU_ASSERT_FALSE(imap_seqset_contains(&set, 13));
	CU_ASSERT_FALSE(imap_seqset_contains(&set, 0));

	uint32_t want[] = { 2, 3, 4, 7, 10, 11, 12 }, n;
	size_t k = 0;
	struct imap_seqset_iter it = IMAP_SEQSET_ITER_INIT;
	while (imap_seqset_next(&set, &it, &n)) {
		CU_ASSERT_FATAL(k < 7);
		CU_ASSERT_EQUAL(n, want[k]);
		k++;
	}
	CU_ASSERT_EQUAL(k, 7);

	imap_seqset_clamp(&set, 10);
	CU_ASSERT_EQUAL(imap_seqset_last(&set), 10);
	CU_ASSERT_EQUAL(imap_seqset_count(&set), 5);
	imap_seqset_clamp(&set, 5);
	CU_ASSERT_EQUAL(imap_seqset_last(&set), 4);
	imap_seqset_clamp(&set, 0);
	CU_ASSERT_EQUAL(set.count, 0);
	CU_ASSERT_EQUAL(imap_seqset_last(&set), 0);
	imap_seqset_free(&set);

	/* "*" on an empty mailbox names nothing */
	CU_ASSERT_EQUAL_FATAL(imap_seqset_parse("1:*", 3, false, 100, &set,
						&error), 0);
	imap_seqset_resolve(&set, 0);
	CU_ASSERT_EQUAL(set.count, 0);
	CU_ASSERT_FALSE(set.star);
	imap_seqset_free(&set);

	/* the top of the range */
	CU_ASSERT_EQUAL_FATAL(imap_seqset_parse("4294967294:4294967295", 21,
						false, 100, &set, &error), 0);
	CU_ASSERT_EQUAL(imap_seqset_count(&set), 2);
	CU_ASSERT_TRUE(imap_seqset_contains(&set, 4294967295u));
	k = 0;
	it = (struct imap_seqset_iter)IMAP_SEQSET_ITER_INIT;
	while (imap_seqset_next(&set, &it, &n))
		k++;
	CU_ASSERT_EQUAL(k, 2);
	imap_seqset_free(&set);
}

static void test_seqset_add(void)
{
	struct imap_seqset set;
	struct buf b;
	buf_init(&b);
	imap_seqset_init(&set);
	imap_seqset_format(&set, &b);
	CU_ASSERT_EQUAL(b.len, 0);
	/* ascending, as from sorted search results */
	imap_seqset_add(&set, 1, 1);
	imap_seqset_add(&set, 2, 2);
	imap_seqset_add(&set, 3, 3);
	imap_seqset_add(&set, 7, 7);
	imap_seqset_add(&set, 9, 8);
	imap_seqset_format(&set, &b);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "1:3,7:9");
	/* out of order: insert, merge across several ranges */
	imap_seqset_add(&set, 5, 5);
	imap_seqset_add(&set, 20, 30);
	imap_seqset_add(&set, 12, 12);
	buf_clear(&b);
	imap_seqset_format(&set, &b);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "1:3,5,7:9,12,20:30");
	imap_seqset_add(&set, 4, 19);
	buf_clear(&b);
	imap_seqset_format(&set, &b);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "1:30");
	CU_ASSERT_EQUAL(set.count, 1);
	imap_seqset_add(&set, 4294967295u, 4294967295u);
	imap_seqset_add(&set, 31, 31);
	buf_clear(&b);
	imap_seqset_format(&set, &b);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "1:31,4294967295");
	imap_seqset_free(&set);
	buf_free(&b);
}

/* Many items in hostile order stay O(n log n) and correct. */
static void test_seqset_many(void)
{
	struct buf in, out;
	struct imap_seqset set;
	const char *error;
	buf_init(&in);
	buf_init(&out);
	for (unsigned i = 5000; i >= 1; i--)
		buf_printf(&in, "%s%u", i == 5000 ? "" : ",", i * 2);
	CU_ASSERT_EQUAL_FATAL(imap_seqset_parse((const char *)in.data, in.len,
						false, 5000, &set, &error), 0);
	CU_ASSERT_EQUAL(set.count, 5000);
	CU_ASSERT_EQUAL(imap_seqset_count(&set), 5000);
	CU_ASSERT_TRUE(imap_seqset_contains(&set, 2));
	CU_ASSERT_FALSE(imap_seqset_contains(&set, 3));
	CU_ASSERT_TRUE(imap_seqset_contains(&set, 10000));
	imap_seqset_free(&set);
	CU_ASSERT_EQUAL(imap_seqset_parse((const char *)in.data, in.len,
					  false, 4999, &set, &error), -1);
	buf_free(&in);
	buf_free(&out);
}

static void register_seqset(void)
{
	CU_pSuite s = CU_add_suite("imap-seqset", NULL, NULL);
	CU_add_test(s, "forms", test_seqset_forms);
	CU_add_test(s, "errors", test_seqset_errors);
	CU_add_test(s, "query", test_seqset_query);
	CU_add_test(s, "add", test_seqset_add);
	CU_add_test(s, "many", test_seqset_many);
}
UNIT_SUITE(register_seqset)
