/* Tests for LIST arguments and the mailbox pattern matcher
 * (daemon/imap/imap-list-args.c). */
#include "unit.h"

#include "../../common/buf.h"
#include "../../daemon/imap/imap-list-args.h"
#include "../../daemon/imap/imap-status-args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const struct imap_command *test_imap_args(const char *args);

/* "sel=<x> ret=<x> st=<x> [ext] ref=<r> pat=<p>|<p>" or ERR: */
static char *list(const char *in, bool lsub, bool utf8)
{
	struct imap_list_args l;
	const char *error = NULL;
	struct buf b;
	buf_init(&b);
	const struct imap_command *cmd = test_imap_args(in);
	if (cmd == NULL) {
		buf_append_str(&b, "PARSER");
	} else if (imap_list_args_parse(cmd->args, cmd->arg_count, lsub, utf8,
					&l, &error) < 0) {
		buf_printf(&b, "ERR:%s", error);
	} else {
		buf_printf(&b, "sel=%x ret=%x st=%x%s ref=%s pat=", l.select,
			   l.ret, l.status_items, l.extended ? " ext" : "",
			   l.reference);
		for (size_t i = 0; i < l.pattern_count; i++)
			buf_printf(&b, "%s%s", i ? "|" : "", l.patterns[i]);
		imap_list_args_free(&l);
	}
	char *r = strdup(buf_cstr(&b));
	buf_free(&b);
	return r;
}

#define LIST_(in, lsub, utf8, want) do { \
	char *got_ = list(in, lsub, utf8); \
	CU_ASSERT_STRING_EQUAL(got_, want); \
	if (strcmp(got_, want) != 0) \
		fprintf(stderr, "\nLIST %s\n got %s\nwant %s\n", in, got_, \
			want); \
	free(got_); \
} while (0)
#define LIST(in, want) LIST_(in, false, false, want)

static void test_list_forms(void)
{
	LIST("\"\" *", "sel=0 ret=0 st=0 ref= pat=*");
	LIST("\"\" \"\"", "sel=0 ret=0 st=0 ref= pat=");
	LIST("~/Mail/ %", "sel=0 ret=0 st=0 ref=~/Mail/ pat=%");
	LIST("\"\" INBOX/&AOQ-*", "sel=0 ret=0 st=0 ref= pat=INBOX/\xc3\xa4*");
	LIST("{4}\r\nWork {1}\r\n%", "sel=0 ret=0 st=0 ref=Work pat=%");
	LIST("() \"\" *", "sel=0 ret=0 st=0 ext ref= pat=*");
	LIST("(SUBSCRIBED) \"\" *", "sel=1 ret=1 st=0 ext ref= pat=*");
	LIST("(subscribed remote recursivematch special-use) \"\" *",
	     "sel=f ret=1 st=0 ext ref= pat=*");
	LIST("(SPECIAL-USE RECURSIVEMATCH) \"\" *",
	     "sel=c ret=0 st=0 ext ref= pat=*");
	LIST("\"\" (INBOX Work/*)", "sel=0 ret=0 st=0 ext ref= pat=INBOX|Work/*");
	LIST("\"\" * RETURN ()", "sel=0 ret=0 st=0 ext ref= pat=*");
	LIST("\"\" * RETURN (CHILDREN SUBSCRIBED SPECIAL-USE)",
	     "sel=0 ret=7 st=0 ext ref= pat=*");
	LIST("\"\" % RETURN (STATUS (MESSAGES UNSEEN) CHILDREN)",
	     "sel=0 ret=a st=11 ext ref= pat=%");
	/* UTF-8 clients send UTF-8; "&" is then just a character */
	LIST_("\"\" \"&AOQ-\xc3\xa4\"", false, true,
	      "sel=0 ret=0 st=0 ref= pat=&AOQ-\xc3\xa4");
	/* LSUB: only reference and pattern */
	LIST_("\"\" *", true, false, "sel=0 ret=0 st=0 ref= pat=*");
}

static void test_list_errors(void)
{
	LIST("", "ERR:Missing LIST arguments");
	LIST("\"\"", "ERR:Missing LIST arguments");
	LIST("() \"\"", "ERR:Missing LIST arguments");
	LIST("(FOO) \"\" *", "ERR:Unknown LIST selection option");
	LIST("((SUBSCRIBED)) \"\" *", "ERR:Unknown LIST selection option");
	LIST("(RECURSIVEMATCH) \"\" *",
	     "ERR:RECURSIVEMATCH needs another selection option");
	LIST("(RECURSIVEMATCH REMOTE) \"\" *",
	     "ERR:RECURSIVEMATCH needs another selection option");
	LIST("\"\" ()", "ERR:Empty LIST pattern list");
	LIST("\"\" ((a))", "ERR:Invalid mailbox name");
	LIST("(a) *", "ERR:Unknown LIST selection option");
	LIST("\"\" * RETURN", "ERR:Unexpected LIST arguments");
	LIST("\"\" * RETURN (FOO)", "ERR:Unknown LIST return option");
	LIST("\"\" * RETURN (STATUS)", "ERR:Missing STATUS items");
	LIST("\"\" * RETURN (STATUS (FOO))", "ERR:Unknown STATUS item");
	LIST("\"\" * RETURN (STATUS MESSAGES)",
	     "ERR:STATUS items must be a parenthesised list");
	LIST("\"\" * RETURN (STATUS (MESSAGES) STATUS (UNSEEN))",
	     "ERR:STATUS return option given twice");
	LIST("\"\" * RETURN (CHILDREN) x", "ERR:Unexpected LIST arguments");
	LIST("\"\" * FOO (CHILDREN)", "ERR:Unexpected LIST arguments");
	LIST("\"\" * x", "ERR:Unexpected LIST arguments");
	LIST("\"\" &AOQ", "ERR:Invalid modified UTF-7 in mailbox name");
	LIST("&Jjo \"\"", "ERR:Invalid modified UTF-7 in mailbox name");
	LIST("\"\" \"\xc3\xa4\"", "ERR:Invalid modified UTF-7 in mailbox name");
	LIST_("\"\" \"\xc3\"", false, true, "ERR:Invalid UTF-8 in mailbox name");
	LIST_("\"\" {2}\r\na\x01", false, true,
	      "ERR:Invalid UTF-8 in mailbox name");
	LIST_("(SUBSCRIBED) \"\" *", true, false, "ERR:Invalid mailbox name");
	LIST_("\"\" (a)", true, false, "ERR:Invalid mailbox name");
	LIST_("\"\" * RETURN ()", true, false, "ERR:Unexpected LIST arguments");

	struct buf in;
	buf_init(&in);
	buf_append_str(&in, "\"\" (");
	for (int i = 0; i <= IMAP_LIST_MAX_PATTERNS; i++)
		buf_printf(&in, "%sp%d", i ? " " : "", i);
	buf_append_str(&in, ")");
	LIST(buf_cstr(&in), "ERR:Too many LIST patterns");
	buf_clear(&in);
	buf_append_str(&in, "\"\" ");
	for (int i = 0; i <= IMAP_LIST_MAX_PATTERN_LEN; i++)
		buf_append_byte(&in, 'a');
	LIST(buf_cstr(&in), "ERR:Mailbox pattern too long");
	buf_free(&in);
}

static void test_list_join(void)
{
	char *s = imap_list_pattern_join("", "*", '/');
	CU_ASSERT_STRING_EQUAL(s, "*");
	free(s);
	s = imap_list_pattern_join("Work/", "%", '/');
	CU_ASSERT_STRING_EQUAL(s, "Work/%");
	free(s);
	s = imap_list_pattern_join("Work", "/abs", '/');
	CU_ASSERT_STRING_EQUAL(s, "/abs");
	free(s);
}

static void test_list_match(void)
{
	static const struct {
		const char *pattern, *name;
		bool match;
	} cases[] = {
		{ "*", "", true },
		{ "*", "a/b/c", true },
		{ "%", "a", true },
		{ "%", "a/b", false },
		{ "%", "", true },
		{ "", "", true },
		{ "", "a", false },
		{ "a", "a", true },
		{ "a", "A", false },
		{ "a", "ab", false },
		{ "ab", "a", false },
		{ "a/%", "a/b", true },
		{ "a/%", "a/b/c", false },
		{ "a/%", "a", false },
		{ "a/*", "a/b/c", true },
		{ "a*", "a", true },
		{ "a*", "a/b", true },
		{ "a%", "ab", true },
		{ "a%", "a/b", false },
		{ "%/%", "a/b", true },
		{ "%/%", "a/b/c", false },
		{ "*/%", "a/b/c", true },
		{ "%*", "a/b", true },
		{ "*%", "a/b", true },
		{ "%%", "a/b", false },
		{ "a*b", "a/x/b", true },
		{ "a%b", "a/b", false },
		{ "a%b", "axxb", true },
		{ "*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  false },
		{ "%a%a%a%a%b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
		  true },
		/* INBOX is case-insensitive, only as the first level */
		{ "inbox", "INBOX", true },
		{ "InBoX/%", "INBOX/sub", true },
		{ "inbox/sub", "INBOX/sub", true },
		{ "inbox/SUB", "INBOX/sub", false },
		{ "inbox", "INBOXES", false },
		{ "inboxes", "INBOXES", false },
		{ "i*", "INBOX", true },
		{ "I%", "INBOX", true },
		{ "in%", "Inbox", false },
		/* UTF-8 bytes are matched as bytes; "%" crosses them */
		{ "\xc3\xa4%", "\xc3\xa4\xc3\xb6", true },
		{ "%\xc3\xb6", "\xc3\xa4\xc3\xb6", true },
		{ "\xc3\xa4", "\xc3\x84", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool m = imap_list_match(cases[i].pattern, cases[i].name, '/');
		CU_ASSERT_EQUAL(m, cases[i].match);
		if (m != cases[i].match)
			fprintf(stderr, "\nmatch %s %s: %d\n", cases[i].pattern,
				cases[i].name, m);
	}
	/* another separator */
	CU_ASSERT_TRUE(imap_list_match("a.%", "a.b", '.'));
	CU_ASSERT_FALSE(imap_list_match("a.%", "a.b.c", '.'));
	CU_ASSERT_TRUE(imap_list_match("%", "a/b", '.'));
}

/* Long patterns take the heap path, and the pathological case stays
 * fast: 1000-byte pattern of "*a" against a 1000-byte name. */
static void test_list_match_long(void)
{
	struct buf p, n;
	buf_init(&p);
	buf_init(&n);
	for (int i = 0; i < 500; i++)
		buf_append_str(&p, "*a");
	buf_append_str(&p, "*b");
	for (int i = 0; i < 1000; i++)
		buf_append_byte(&n, 'a');
	clock_t start = clock();
	CU_ASSERT_FALSE(imap_list_match(buf_cstr(&p), buf_cstr(&n), '/'));
	buf_append_byte(&n, 'b');
	CU_ASSERT_TRUE(imap_list_match(buf_cstr(&p), buf_cstr(&n), '/'));
	CU_ASSERT(clock() - start < CLOCKS_PER_SEC);
	buf_clear(&p);
	for (int i = 0; i < 300; i++)
		buf_append_byte(&p, 'a');
	CU_ASSERT_FALSE(imap_list_match(buf_cstr(&p), buf_cstr(&n), '/'));
	buf_append_byte(&p, '*');
	CU_ASSERT_TRUE(imap_list_match(buf_cstr(&p), buf_cstr(&n), '/'));
	buf_free(&p);
	buf_free(&n);
}

static void register_list(void)
{
	CU_pSuite s = CU_add_suite("imap-list-args", NULL, NULL);
	CU_add_test(s, "forms", test_list_forms);
	CU_add_test(s, "errors", test_list_errors);
	CU_add_test(s, "reference join", test_list_join);
	CU_add_test(s, "pattern match", test_list_match);
	CU_add_test(s, "long patterns", test_list_match_long);
}
UNIT_SUITE(register_list)
