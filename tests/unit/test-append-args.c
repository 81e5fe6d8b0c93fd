/* Tests for APPEND arguments and the helpers APPEND, STORE and COPY share
 * (daemon/imap/imap-append-args.c). */
#include "unit.h"

#include "../../common/buf.h"
#include "../../daemon/imap/imap-append-args.h"
#include "../../store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct imap_command *test_imap_args(const char *args);
const struct imap_command *test_imap_args_n(const char *args, size_t n);

/* One "sys=<bits> kw=<a,b>[ date=<t>/<tz>] <len>[ binary]" per message, joined
 * with "|", or "ERR:<error>", or "PARSER" if the command parser refused
 * the input. */
static char *append_n(const char *in, size_t n)
{
	struct imap_append_args a;
	const char *error = NULL;
	struct buf b;
	buf_init(&b);
	const struct imap_command *cmd = test_imap_args_n(in, n);
	if (cmd == NULL) {
		buf_append_str(&b, "PARSER");
	} else if (imap_append_args_parse(cmd->args, cmd->arg_count, &a,
					  &error) < 0) {
		buf_printf(&b, "ERR:%s", error);
	} else {
		for (size_t i = 0; i < a.count; i++) {
			const struct imap_append_msg *m = &a.msgs[i];
			if (i > 0)
				buf_append_byte(&b, '|');
			buf_printf(&b, "sys=%u kw=", m->flags.system);
			for (size_t k = 0; k < m->flags.keyword_count; k++)
				buf_printf(&b, "%s%s", k ? "," : "",
					   m->flags.keywords[k]);
			if (m->have_date)
				buf_printf(&b, " date=%lld/%d",
					   (long long)m->date, m->tz_min);
			buf_printf(&b, " %zu%s", m->len, m->literal8 ? " binary" : "");
		}
		imap_append_args_free(&a);
	}
	char *r = strdup(buf_cstr(&b));
	buf_free(&b);
	return r;
}

#define APPEND_N(in, n, want) do { \
	char *got_ = append_n(in, n); \
	CU_ASSERT_STRING_EQUAL(got_, want); \
	if (strcmp(got_, want) != 0) \
		fprintf(stderr, "\nAPPEND %s\n got %s\nwant %s\n", in, got_, \
			want); \
	free(got_); \
} while (0)
#define APPEND(in, want) APPEND_N(in, strlen(in), want)

static void test_append_forms(void)
{
	APPEND("{3}\r\nabc", "sys=0 kw= 3");
	APPEND("(\\Seen $Junk) {3}\r\nabc", "sys=8 kw=$Junk 3");
	APPEND("() {0}\r\n", "sys=0 kw= 0");
	/* 2024-03-05 09:11:12 UTC */
	APPEND("(\\Draft) \"05-Mar-2024 10:11:12 +0100\" {1}\r\nx",
	       "sys=16 kw= date=1709629872/60 1");
	APPEND("\" 5-Mar-2024 09:11:12 +0000\" {1}\r\nx",
	       "sys=0 kw= date=1709629872/0 1");
	APPEND("{2+}\r\nab", "sys=0 kw= 2");
	/* RFC 3502 MULTIAPPEND: options per message */
	/* append-opts: the flag list comes before the date-time */
	APPEND("(\\Seen) {1}\r\na {2}\r\nbc \"01-Jan-2020 00:00:00 +0000\" "
	       "(k) {1}\r\nd",
	       "ERR:APPEND message must be a literal");
	APPEND("(\\Seen) {1}\r\na {2}\r\nbc (k) \"01-Jan-2020 00:00:00 +0000\" "
	       "{1}\r\nd",
	       "sys=8 kw= 1|sys=0 kw= 2|sys=0 kw=k date=1577836800/0 1");
}

static void test_append_errors(void)
{
	APPEND("", "ERR:APPEND expects a message");
	APPEND("\"abc\"", "ERR:Invalid date-time");
	APPEND("abc", "ERR:APPEND message must be a literal");
	APPEND("(\\Seen)", "ERR:APPEND expects a message literal");
	APPEND("{1}\r\na (\\Seen)", "ERR:APPEND expects a message literal");
	APPEND("(\\Recent) {1}\r\na", "ERR:\\Recent cannot be stored");
	APPEND("(\\Bogus) {1}\r\na", "ERR:Unknown system flag");
	APPEND("(a%b) {1}\r\na", "ERR:Invalid keyword");
	APPEND("\"31-Feb-2024 10:00:00 +0000\" {1}\r\na", "ERR:Invalid date-time");
	APPEND("\"5-Mar-2024 10:00:00 +0000\" {1}\r\na", "ERR:Invalid date-time");
	APPEND("(\\Seen) (\\Draft) {1}\r\na",
	       "ERR:APPEND message must be a literal");
	APPEND("{1}\r\na {1}\r\nb \"x\"", "ERR:Invalid date-time");
	APPEND("{1}\r\na {1}\r\nb x", "ERR:APPEND message must be a literal");
	APPEND_N("{3}\r\na\0b", 8, "ERR:Message contains NUL; send it as literal8");
	/* literal8 may carry NUL */
	APPEND_N("~{3}\r\na\0b", 9, "sys=0 kw= 3 binary");
}

static void test_flags_to_store(void)
{
	CU_ASSERT_EQUAL(imap_flags_to_store(0), 0);
	CU_ASSERT_EQUAL(imap_flags_to_store(IMAP_FLAG_SEEN), STORE_FLAG_SEEN);
	CU_ASSERT_EQUAL(imap_flags_to_store(IMAP_FLAG_ANSWERED),
			STORE_FLAG_ANSWERED);
	CU_ASSERT_EQUAL(imap_flags_to_store(IMAP_FLAG_FLAGGED),
			STORE_FLAG_FLAGGED);
	CU_ASSERT_EQUAL(imap_flags_to_store(IMAP_FLAG_DELETED),
			STORE_FLAG_DELETED);
	CU_ASSERT_EQUAL(imap_flags_to_store(IMAP_FLAG_DRAFT), STORE_FLAG_DRAFT);
	CU_ASSERT_EQUAL(imap_flags_to_store(0x1f), STORE_FLAGS_STORED);
}

static char *uids_format(const uint32_t *uids, size_t n)
{
	struct buf b;
	buf_init(&b);
	imap_uid_list_format(uids, n, &b);
	char *r = strdup(buf_cstr(&b));
	buf_free(&b);
	return r;
}

#define UIDS(want, ...) do { \
	const uint32_t u_[] = { __VA_ARGS__ }; \
	char *got_ = uids_format(u_, sizeof(u_) / sizeof(u_[0])); \
	CU_ASSERT_STRING_EQUAL(got_, want); \
	free(got_); \
} while (0)

static void test_uid_list_format(void)
{
	char *got = uids_format(NULL, 0);
	CU_ASSERT_STRING_EQUAL(got, "");
	free(got);
	UIDS("7", 7);
	UIDS("1:3", 1, 2, 3);
	UIDS("1:3,5,7:8", 1, 2, 3, 5, 7, 8);
	/* order kept: COPYUID pairs its sets by position */
	UIDS("9,4:5,1", 9, 4, 5, 1);
	UIDS("5,4", 5, 4);
	UIDS("4294967294:4294967295", 4294967294u, 4294967295u);
	UIDS("4294967295,1", 4294967295u, 1);
}

static void append_args_suite(void)
{
	CU_pSuite s = CU_add_suite("imap-append-args", NULL, NULL);
	CU_add_test(s, "APPEND forms and MULTIAPPEND", test_append_forms);
	CU_add_test(s, "APPEND errors", test_append_errors);
	CU_add_test(s, "flag bits to the store's", test_flags_to_store);
	CU_add_test(s, "UID lists as sequence sets", test_uid_list_format);
}
UNIT_SUITE(append_args_suite)
