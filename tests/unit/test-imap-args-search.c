/* Tests for SEARCH arguments (daemon/imap/imap-search-args.c): each
 * case is the argument text and the printed tree (or ERR:<error>). */
#include "unit.h"

#include "../../common/buf.h"
#include "../../daemon/imap/imap-search-args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct imap_command *test_imap_args(const char *args);
const struct imap_command *test_imap_args_n(const char *args, size_t n);

static char *search_depth(const char *in, size_t len, unsigned depth)
{
	struct imap_search_args s;
	const char *error = NULL;
	struct buf b;
	buf_init(&b);
	const struct imap_command *cmd = test_imap_args_n(in, len);
	if (cmd == NULL) {
		buf_append_str(&b, "PARSER");
	} else if (imap_search_args_parse(cmd->args, cmd->arg_count, depth, 10,
					  &s, &error) < 0) {
		buf_printf(&b, "ERR:%s", error);
	} else {
		imap_search_args_print(&s, &b);
		if (s.uses_saved)
			buf_append_str(&b, " [saved]");
		if (s.uses_modseq)
			buf_append_str(&b, " [modseq]");
		imap_search_args_free(&s);
	}
	char *r = strdup(buf_cstr(&b));
	buf_free(&b);
	return r;
}

#define SEARCH_D(in, depth, want) do { \
	char *got_ = search_depth(in, strlen(in), depth); \
	CU_ASSERT_STRING_EQUAL(got_, want); \
	if (strcmp(got_, want) != 0) \
		fprintf(stderr, "\nSEARCH %s\n got %s\nwant %s\n", in, got_, \
			want); \
	free(got_); \
} while (0)
#define SEARCH(in, want) SEARCH_D(in, 8, want)

static void test_search_simple(void)
{
	static const char *const same[] = {
		"ALL", "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN",
		"RECENT", "SAVEDATESUPPORTED", "KEYWORD $Junk",
		"BEFORE 1-Feb-2024", "ON 29-Feb-2024", "SINCE 31-Dec-1999",
		"SENTBEFORE 1-Jan-2000", "SENTON 1-Jan-2000",
		"SENTSINCE 1-Jan-2000", "SAVEDBEFORE 1-Jan-2000",
		"SAVEDON 1-Jan-2000", "SAVEDSINCE 1-Jan-2000", "OLDER 60",
		"YOUNGER 4294967295", "LARGER 0", "SMALLER 9223372036854775807",
		"BCC \"a\"", "BODY \"b\"", "CC \"c\"", "FROM \"d\"",
		"SUBJECT \"e\"", "TEXT \"f\"", "TO \"g\"",
		"HEADER X-Foo \"bar\"", "HEADER List-Id \"\"",
		"UID 1:3,5", "1:*",
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		SEARCH_D(same[i], 8, same[i]);
}

static void test_search_normalized(void)
{
	SEARCH("unanswered", "NOT ANSWERED");
	SEARCH("UNDELETED", "NOT DELETED");
	SEARCH("UNDRAFT", "NOT DRAFT");
	SEARCH("UNFLAGGED", "NOT FLAGGED");
	SEARCH("UNSEEN", "NOT SEEN");
	SEARCH("UNKEYWORD foo", "NOT KEYWORD foo");
	SEARCH("OLD", "NOT RECENT");
	SEARCH("NEW", "RECENT NOT SEEN");
	SEARCH("NOT NEW", "NOT (RECENT NOT SEEN)");
	SEARCH("OR NEW SEEN", "OR (RECENT NOT SEEN) SEEN");
	SEARCH("from x", "FROM \"x\"");
	SEARCH("SUBJECT {3}\r\na\"b", "SUBJECT \"a\\\"b\"");
	SEARCH("BODY \"caf\xc3\xa9\"", "BODY \"caf\\xc3\\xa9\"");
	SEARCH("ON \"1-Feb-2024\"", "ON 1-Feb-2024");
	SEARCH("ON 01-feb-2024", "ON 1-Feb-2024");
	SEARCH("2,1 UID 5:*,3", "1:2 UID 3,5:*");
	SEARCH("$", "$ [saved]");
	SEARCH("UID $", "UID $ [saved]");
	SEARCH("MODSEQ 0", "MODSEQ 0 [modseq]");
	SEARCH("MODSEQ \"/flags/\\\\Seen\" all 5",
	       "MODSEQ \"/flags/\\\\Seen\" all 5 [modseq]");
	SEARCH("MODSEQ \"/flags/$Junk\" PRIV 5",
	       "MODSEQ \"/flags/$Junk\" priv 5 [modseq]");
	SEARCH("MODSEQ \"/flags/x\" shared 7",
	       "MODSEQ \"/flags/x\" shared 7 [modseq]");
}

static void test_search_structure(void)
{
	SEARCH("SEEN FLAGGED", "SEEN FLAGGED");
	SEARCH("(SEEN FLAGGED)", "SEEN FLAGGED");	/* merged into AND */
	SEARCH("(SEEN (FLAGGED (DRAFT)))", "SEEN FLAGGED DRAFT");
	SEARCH("OR SEEN FLAGGED", "OR SEEN FLAGGED");
	SEARCH("OR (SEEN DRAFT) FLAGGED", "OR (SEEN DRAFT) FLAGGED");
	SEARCH("OR OR SEEN DRAFT FLAGGED", "OR OR SEEN DRAFT FLAGGED");
	SEARCH("NOT OR SEEN DRAFT", "NOT OR SEEN DRAFT");
	SEARCH("NOT NOT SEEN", "NOT NOT SEEN");
	SEARCH("NOT (SEEN DRAFT) 1", "NOT (SEEN DRAFT) 1");
	SEARCH("OR FROM a (TO b LARGER 5) UNSEEN",
	       "OR FROM \"a\" (TO \"b\" LARGER 5) NOT SEEN");
}

static void test_search_options(void)
{
	SEARCH("RETURN (MIN MAX) ALL", "RETURN (MIN MAX) ALL");
	SEARCH("RETURN (count all save min max) ALL",
	       "RETURN (MIN MAX ALL COUNT SAVE) ALL");
	SEARCH("RETURN () ALL", "RETURN (ALL) ALL");
	SEARCH("RETURN (SAVE) $", "RETURN (SAVE) $ [saved]");
	SEARCH("CHARSET UTF-8 ALL", "CHARSET UTF-8 ALL");
	SEARCH("CHARSET \"ISO-8859-1\" TEXT x",
	       "CHARSET ISO-8859-1 TEXT \"x\"");
	SEARCH("RETURN (COUNT) CHARSET US-ASCII SEEN",
	       "RETURN (COUNT) CHARSET US-ASCII SEEN");
	/* RETURN after CHARSET is not the grammar's order */
	SEARCH("CHARSET UTF-8 RETURN (COUNT) SEEN", "ERR:Unknown search key");
	SEARCH("RETURN (FOO) ALL", "ERR:Unknown SEARCH return option");
	SEARCH("RETURN ((MIN)) ALL", "ERR:Unknown SEARCH return option");
	SEARCH("RETURN (MIN)", "ERR:Missing search keys");
	SEARCH("CHARSET", "ERR:Invalid CHARSET");
	SEARCH("CHARSET (UTF-8) ALL", "ERR:Invalid CHARSET");
	SEARCH("CHARSET \"\" ALL", "ERR:Invalid CHARSET");
	SEARCH("CHARSET UTF-8", "ERR:Missing search keys");
	/* "RETURN" not followed by a list is a search key (unknown) */
	SEARCH("RETURN ALL", "ERR:Unknown search key");
}

static void test_search_errors(void)
{
	SEARCH("", "ERR:Missing search keys");
	SEARCH("FOO", "ERR:Unknown search key");
	SEARCH("\"ALL\"", "ERR:Invalid search key");
	SEARCH("()", "ERR:Empty search key list");
	SEARCH("SEEN ()", "ERR:Empty search key list");
	SEARCH("NOT", "ERR:NOT needs a search key");
	SEARCH("OR SEEN", "ERR:OR needs two search keys");
	SEARCH("OR", "ERR:OR needs two search keys");
	SEARCH("FROM", "ERR:Missing search key argument");
	SEARCH("FROM (a)", "ERR:Invalid search string");
	SEARCH("FROM ~{1}\r\na", "ERR:Invalid search string");
	char *got = search_depth("FROM {3}\r\na\0b", 13, 8);
	CU_ASSERT_STRING_EQUAL(got, "ERR:NUL in search string");
	free(got);
	SEARCH("BEFORE", "ERR:Missing search key argument");
	SEARCH("BEFORE 1-Foo-2024", "ERR:Invalid search date");
	SEARCH("BEFORE 30-Feb-2024", "ERR:Invalid search date");
	SEARCH("BEFORE {10}\r\n1-Feb-2024", "ERR:Invalid search date");
	SEARCH("LARGER x", "ERR:Invalid search number");
	SEARCH("LARGER -1", "ERR:Invalid search number");
	SEARCH("LARGER 9223372036854775808", "ERR:Invalid search number");
	SEARCH("LARGER \"5\"", "ERR:Invalid search number");
	SEARCH("OLDER 0", "ERR:Invalid search number");
	SEARCH("YOUNGER 4294967296", "ERR:Invalid search number");
	SEARCH("KEYWORD \\Seen", "ERR:Invalid keyword");
	SEARCH("KEYWORD \"x\"", "ERR:Invalid keyword");
	SEARCH("KEYWORD a%", "ERR:Invalid keyword");
	SEARCH("HEADER", "ERR:HEADER needs a field name and a string");
	SEARCH("HEADER X-Foo", "ERR:HEADER needs a field name and a string");
	SEARCH("HEADER (X) y", "ERR:HEADER needs a field name and a string");
	SEARCH("HEADER \"\" y", "ERR:Invalid header field name");
	SEARCH("HEADER \"a b\" y", "ERR:Invalid header field name");
	SEARCH("HEADER a: y", "ERR:Invalid header field name");
	SEARCH("UID", "ERR:Missing search key argument");
	SEARCH("UID x", "ERR:Invalid sequence set");
	SEARCH("UID \"1\"", "ERR:Invalid sequence set");
	SEARCH("0", "ERR:Invalid sequence set: 0 is not a message number");
	SEARCH("1,", "ERR:Invalid sequence set");
	SEARCH("1,2,3,4,5,6,7,8,9,10,11", "ERR:Too many ranges in sequence set");
	SEARCH("MODSEQ", "ERR:Invalid MODSEQ value");
	SEARCH("MODSEQ x", "ERR:Invalid MODSEQ value");
	SEARCH("MODSEQ 9223372036854775808", "ERR:Invalid MODSEQ value");
	SEARCH("MODSEQ \"flags\" all 5", "ERR:Invalid MODSEQ entry name");
	SEARCH("MODSEQ \"/flags/\" all 5", "ERR:Invalid MODSEQ entry name");
	SEARCH("MODSEQ \"/flags/x\"", "ERR:Missing MODSEQ entry type");
	SEARCH("MODSEQ \"/flags/x\" some 5", "ERR:Invalid MODSEQ entry type");
	SEARCH("MODSEQ \"/flags/x\" all", "ERR:Invalid MODSEQ value");
}

static void test_search_depth(void)
{
	SEARCH_D("SEEN", 1, "SEEN");
	SEARCH_D("NOT SEEN", 1, "ERR:Search nested too deeply");
	SEARCH_D("NOT SEEN", 2, "NOT SEEN");
	SEARCH_D("(SEEN)", 1, "ERR:Search nested too deeply");
	SEARCH_D("OR SEEN (DRAFT)", 2, "ERR:Search nested too deeply");
	SEARCH_D("OR SEEN (DRAFT)", 3, "OR SEEN DRAFT");

	/* deep nesting a hostile client could send: refused, not a crash */
	struct buf in;
	buf_init(&in);
	for (int i = 0; i < 1000; i++)
		buf_append_str(&in, "NOT ");
	buf_append_str(&in, "SEEN");
	SEARCH_D(buf_cstr(&in), IMAP_SEARCH_DEFAULT_MAX_DEPTH,
		 "ERR:Search nested too deeply");
	buf_free(&in);
}

/* CHARSET conversion: result code, then the printed tree. */
static char *charset_n(const char *in, size_t len)
{
	struct imap_search_args s;
	const char *error = NULL;
	struct buf b;
	buf_init(&b);
	const struct imap_command *cmd = test_imap_args_n(in, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
	int pr = imap_search_args_parse(cmd->args, cmd->arg_count, 8, 100, &s,
					&error);
	if (pr < 0)
		fprintf(stderr, "\n%s: %s\n", in, error);
	CU_ASSERT_EQUAL_FATAL(pr, 0);
	enum imap_search_charset_result r = imap_search_args_to_utf8(&s, &error);
	buf_printf(&b, "%d ", (int)r);
	if (r == IMAP_SEARCH_CHARSET_OK)
		imap_search_args_print(&s, &b);
	else
		buf_append_str(&b, error);
	imap_search_args_free(&s);
	char *ret = strdup(buf_cstr(&b));
	buf_free(&b);
	return ret;
}

#define CHARSET(in, want) do { \
	char *got_ = charset_n(in, strlen(in)); \
	CU_ASSERT_STRING_EQUAL(got_, want); \
	if (strcmp(got_, want) != 0) \
		fprintf(stderr, "\nCHARSET %s\n got %s\nwant %s\n", in, got_, \
			want); \
	free(got_); \
} while (0)

static void test_search_charset(void)
{
	CHARSET("TEXT \"caf\xc3\xa9\"", "0 TEXT \"caf\\xc3\\xa9\"");
	CHARSET("CHARSET utf-8 TEXT \"caf\xc3\xa9\"",
		"0 CHARSET utf-8 TEXT \"caf\\xc3\\xa9\"");
	CHARSET("CHARSET UTF-8 TEXT {2}\r\n\xc3\x28",
		"-1 Invalid UTF-8 in search string");
	CHARSET("TEXT {1}\r\n\xe9", "-1 Invalid UTF-8 in search string");
	CHARSET("CHARSET US-ASCII TEXT abc", "0 CHARSET US-ASCII TEXT \"abc\"");
	CHARSET("CHARSET US-ASCII TEXT \"caf\xc3\xa9\"",
		"-1 8-bit characters in a US-ASCII search string");
	CHARSET("CHARSET X-NOSUCH-CHARSET TEXT a",
		"-2 Unsupported charset");
	/* ISO-8859-1 converted; the keyword and field name are untouched */
	CHARSET("CHARSET ISO-8859-1 OR TEXT {4}\r\ncaf\xe9 "
		"HEADER X-A {1}\r\n\xe9 KEYWORD k",
		"0 CHARSET UTF-8 OR TEXT \"caf\\xc3\\xa9\" "
		"HEADER X-A \"\\xc3\\xa9\" KEYWORD k");
	CHARSET("CHARSET windows-1252 TEXT {1}\r\n\x80",
		"0 CHARSET UTF-8 TEXT \"\\xe2\\x82\\xac\"");
}

static void register_search(void)
{
	CU_pSuite s = CU_add_suite("imap-search-args", NULL, NULL);
	CU_add_test(s, "every key", test_search_simple);
	CU_add_test(s, "normalisation", test_search_normalized);
	CU_add_test(s, "structure", test_search_structure);
	CU_add_test(s, "RETURN and CHARSET", test_search_options);
	CU_add_test(s, "errors", test_search_errors);
	CU_add_test(s, "depth", test_search_depth);
	CU_add_test(s, "charset conversion", test_search_charset);
}
UNIT_SUITE(register_search)
