/* Tests for STORE arguments and flags (daemon/imap/imap-store-args.c)
 * and STATUS items (daemon/imap/imap-status-args.c). */
#include "unit.h"

#include "../../common/buf.h"
#include "../../daemon/imap/imap-status-args.h"
#include "../../daemon/imap/imap-store-args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct imap_command *test_imap_args(const char *args);

/* "<mode><silent> sys=<bits> kw=<a,b> unchangedsince=<n>" or ERR: */
static char *store(const char *in)
{
	struct imap_store_args st;
	const char *error = NULL;
	struct buf b;
	buf_init(&b);
	const struct imap_command *cmd = test_imap_args(in);
	if (cmd == NULL) {
		buf_append_str(&b, "PARSER");
	} else if (imap_store_args_parse(cmd->args, cmd->arg_count, &st,
					 &error) < 0) {
		buf_printf(&b, "ERR:%s", error);
	} else {
		buf_printf(&b, "%c%s sys=%u kw=",
			   "=+-"[st.mode], st.silent ? " silent" : "",
			   st.flags.system);
		for (size_t i = 0; i < st.flags.keyword_count; i++)
			buf_printf(&b, "%s%s", i ? "," : "",
				   st.flags.keywords[i]);
		if (st.unchangedsince_set)
			buf_printf(&b, " unchangedsince=%llu",
				   (unsigned long long)st.unchangedsince);
		imap_store_args_free(&st);
	}
	char *r = strdup(buf_cstr(&b));
	buf_free(&b);
	return r;
}

#define STORE(in, want) do { \
	char *got_ = store(in); \
	CU_ASSERT_STRING_EQUAL(got_, want); \
	if (strcmp(got_, want) != 0) \
		fprintf(stderr, "\nSTORE %s\n got %s\nwant %s\n", in, got_, \
			want); \
	free(got_); \
} while (0)

static void test_store_forms(void)
{
	STORE("FLAGS (\\Seen)", "= sys=8 kw=");
	STORE("+FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
	      "+ sys=31 kw=");
	STORE("-flags.silent \\seen", "- silent sys=8 kw=");
	STORE("FLAGS.SILENT ()", "= silent sys=0 kw=");
	STORE("+FLAGS \\Deleted $Forwarded Junk",
	      "+ sys=4 kw=$Forwarded,Junk");
	STORE("+FLAGS (foo FOO Foo bar)", "+ sys=0 kw=foo,bar");
	STORE("(UNCHANGEDSINCE 12) +FLAGS (\\Seen)",
	      "+ sys=8 kw= unchangedsince=12");
	STORE("(unchangedsince 0) FLAGS ()", "= sys=0 kw= unchangedsince=0");
}

static void test_store_errors(void)
{
	STORE("", "ERR:Missing STORE data item");
	STORE("FLAGS", "ERR:Missing flags");
	STORE("BODY (\\Seen)", "ERR:Invalid STORE data item");
	STORE("*FLAGS (\\Seen)", "ERR:Invalid STORE data item");
	STORE("+FLAGS.LOUD (\\Seen)", "ERR:Invalid STORE data item");
	STORE("\"FLAGS\" (\\Seen)", "ERR:Missing STORE data item");
	STORE("FLAGS (\\Recent)", "ERR:\\Recent cannot be stored");
	STORE("FLAGS (\\Foo)", "ERR:Unknown system flag");
	STORE("FLAGS (\\*)", "ERR:Unknown system flag");
	STORE("FLAGS (\"Seen\")", "ERR:Invalid flag");
	STORE("FLAGS ((\\Seen))", "ERR:Invalid flag");
	STORE("FLAGS (a]b)", "ERR:Invalid keyword");
	STORE("FLAGS (a%b)", "ERR:Invalid keyword");
	STORE("FLAGS (a*)", "ERR:Invalid keyword");
	STORE("FLAGS (caf\xc3\xa9)", "ERR:Invalid keyword");
	STORE("FLAGS (a{b)", "ERR:Invalid keyword");
	STORE("FLAGS (\\Seen) x", "ERR:Unexpected argument after flag list");
	STORE("() FLAGS (\\Seen)", "ERR:Empty STORE modifier list");
	STORE("(FOO 1) FLAGS (\\Seen)", "ERR:Unknown STORE modifier");
	STORE("(UNCHANGEDSINCE) FLAGS (\\Seen)",
	      "ERR:Invalid UNCHANGEDSINCE value");
	STORE("(UNCHANGEDSINCE -1) FLAGS (\\Seen)",
	      "ERR:Invalid UNCHANGEDSINCE value");
	STORE("(UNCHANGEDSINCE 9223372036854775808) FLAGS (\\Seen)",
	      "ERR:Invalid UNCHANGEDSINCE value");
	STORE("(UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS (\\Seen)",
	      "ERR:UNCHANGEDSINCE given twice");
}

static void test_store_limits(void)
{
	struct buf in;
	char *got;
	buf_init(&in);
	buf_append_str(&in, "+FLAGS (");
	for (int i = 0; i < IMAP_FLAGS_MAX_KEYWORDS; i++)
		buf_printf(&in, "k%d ", i);
	in.len--;
	buf_append_str(&in, ")");
	got = store(buf_cstr(&in));
	CU_ASSERT_EQUAL(strncmp(got, "+ sys=0 kw=k0,k1,", 17), 0);
	free(got);
	in.len--;
	buf_append_str(&in, " extra)");
	got = store(buf_cstr(&in));
	CU_ASSERT_STRING_EQUAL(got, "ERR:Too many keywords");
	free(got);

	buf_clear(&in);
	buf_append_str(&in, "FLAGS ");
	for (int i = 0; i < IMAP_KEYWORD_MAX_LEN; i++)
		buf_append_byte(&in, 'k');
	got = store(buf_cstr(&in));
	CU_ASSERT_EQUAL(strncmp(got, "= sys=0 kw=kkk", 14), 0);
	free(got);
	buf_append_byte(&in, 'k');
	got = store(buf_cstr(&in));
	CU_ASSERT_STRING_EQUAL(got, "ERR:Keyword too long");
	free(got);
	buf_free(&in);
}

static void test_flag_names(void)
{
	CU_ASSERT_EQUAL(imap_flag_from_name("\\SEEN"), IMAP_FLAG_SEEN);
	CU_ASSERT_EQUAL(imap_flag_from_name("\\draft"), IMAP_FLAG_DRAFT);
	CU_ASSERT_EQUAL(imap_flag_from_name("\\Recent"), 0);
	CU_ASSERT_EQUAL(imap_flag_from_name("Seen"), 0);
	CU_ASSERT_STRING_EQUAL(imap_flag_name(IMAP_FLAG_ANSWERED), "\\Answered");
	CU_ASSERT_STRING_EQUAL(imap_flag_name(IMAP_FLAG_DELETED), "\\Deleted");
	CU_ASSERT_PTR_NULL(imap_flag_name(IMAP_FLAG_SEEN | IMAP_FLAG_DRAFT));
	CU_ASSERT_TRUE(imap_keyword_is_valid("$MDNSent", 8));
	CU_ASSERT_FALSE(imap_keyword_is_valid("", 0));
	CU_ASSERT_FALSE(imap_keyword_is_valid("a b", 3));
	CU_ASSERT_FALSE(imap_keyword_is_valid("a\\b", 3));
}

static char *status(const char *in)
{
	uint32_t items = 0;
	const char *error = NULL;
	char *r;
	const struct imap_command *cmd = test_imap_args(in);
	if (cmd == NULL || cmd->arg_count != 1)
		return strdup("PARSER");
	if (imap_status_args_parse(&cmd->args[0], &items, &error) < 0) {
		if (asprintf(&r, "ERR:%s", error) < 0)
			abort();
	} else if (asprintf(&r, "%x", items) < 0) {
		abort();
	}
	return r;
}

#define STATUS(in, want) do { \
	char *got_ = status(in); \
	CU_ASSERT_STRING_EQUAL(got_, want); \
	free(got_); \
} while (0)

static void test_status(void)
{
	STATUS("(MESSAGES)", "1");
	STATUS("(messages recent uidnext uidvalidity unseen deleted size "
	       "highestmodseq appendlimit)", "1ff");
	STATUS("(UIDNEXT UIDNEXT)", "4");
	STATUS("(SIZE)", "40");
	STATUS("()", "ERR:Empty STATUS item list");
	STATUS("MESSAGES", "ERR:STATUS items must be a parenthesised list");
	STATUS("(FOO)", "ERR:Unknown STATUS item");
	STATUS("(\"MESSAGES\")", "ERR:Invalid STATUS item");
	STATUS("((MESSAGES))", "ERR:Invalid STATUS item");
	STATUS("(MESSAGES FOO)", "ERR:Unknown STATUS item");
	CU_ASSERT_STRING_EQUAL(imap_status_item_name(IMAP_STATUS_UIDNEXT),
			       "UIDNEXT");
	CU_ASSERT_STRING_EQUAL(imap_status_item_name(IMAP_STATUS_APPENDLIMIT),
			       "APPENDLIMIT");
	CU_ASSERT_PTR_NULL(imap_status_item_name(3));
	CU_ASSERT_PTR_NULL(imap_status_item_name(1u << 9));
}

static void register_store(void)
{
	CU_pSuite s = CU_add_suite("imap-store-args", NULL, NULL);
	CU_add_test(s, "forms", test_store_forms);
	CU_add_test(s, "errors", test_store_errors);
	CU_add_test(s, "limits", test_store_limits);
	CU_add_test(s, "flag names", test_flag_names);
	CU_add_test(s, "STATUS items", test_status);
}
UNIT_SUITE(register_store)
