/* Maildir names (store/import-maildir.c): flags in file names, folder
 * names, delivery order, dovecot-keywords. */
#include "unit.h"

#include "../../common/buf.h"
#include "../../store/import-maildir.h"
#include "../../store/store.h"

#include <string.h>

static void test_flags(void)
{
	struct maildir_name n;
	maildir_name_parse("1700000000.M1P2.host:2,DFPRST", &n);
	CU_ASSERT(n.has_info);
	CU_ASSERT_EQUAL(n.base_len, strlen("1700000000.M1P2.host"));
	CU_ASSERT_EQUAL(n.flags, STORE_FLAG_DRAFT | STORE_FLAG_FLAGGED |
			STORE_FLAG_ANSWERED | STORE_FLAG_SEEN |
			STORE_FLAG_DELETED);
	CU_ASSERT(n.passed);
	CU_ASSERT_EQUAL(n.unknown, 0);

	maildir_name_parse("1.2.h:2,S", &n);
	CU_ASSERT_EQUAL(n.flags, STORE_FLAG_SEEN);
	CU_ASSERT(!n.passed);

	/* no info (new/), empty info */
	maildir_name_parse("1700000000.M1P2.host", &n);
	CU_ASSERT(!n.has_info);
	CU_ASSERT_EQUAL(n.flags, 0);
	CU_ASSERT_EQUAL(n.base_len, 20);
	maildir_name_parse("1.2.h:2,", &n);
	CU_ASSERT(n.has_info);
	CU_ASSERT_EQUAL(n.flags, 0);

	/* out of order, repeated, unknown and keyword letters */
	maildir_name_parse("x:2,TSSaXcz", &n);
	CU_ASSERT_EQUAL(n.flags, STORE_FLAG_SEEN | STORE_FLAG_DELETED);
	CU_ASSERT_EQUAL(n.keywords, (1u << 0) | (1u << 2) | (1u << 25));
	CU_ASSERT_EQUAL(n.unknown, 1);

	/* ":1," experimental info: no flags */
	maildir_name_parse("x:1,S", &n);
	CU_ASSERT(n.has_info);
	CU_ASSERT_EQUAL(n.flags, 0);

	/* the last ":2," counts; ':' inside the base name is not info */
	maildir_name_parse("a:b:2,R", &n);
	CU_ASSERT_EQUAL(n.base_len, 3);
	CU_ASSERT_EQUAL(n.flags, STORE_FLAG_ANSWERED);
	maildir_name_parse("a:2,S:2,F", &n);
	CU_ASSERT_EQUAL(n.flags, STORE_FLAG_FLAGGED);

	/* '!' separator (maildirs on file systems without ':') */
	maildir_name_parse("1.2.host!2,FS", &n);
	CU_ASSERT(n.has_info);
	CU_ASSERT_EQUAL(n.base_len, 8);
	CU_ASSERT_EQUAL(n.flags, STORE_FLAG_FLAGGED | STORE_FLAG_SEEN);
	/* ':' wins over '!' */
	maildir_name_parse("1.a!2,x.host:2,D", &n);
	CU_ASSERT_EQUAL(n.flags, STORE_FLAG_DRAFT);

	/* garbage */
	maildir_name_parse("", &n);
	CU_ASSERT(!n.has_info);
	maildir_name_parse(":2,", &n);
	CU_ASSERT(n.has_info);
	CU_ASSERT_EQUAL(n.base_len, 0);
	maildir_name_parse("\xff\xfe:2,\x01S", &n);
	CU_ASSERT_EQUAL(n.flags, STORE_FLAG_SEEN);
	CU_ASSERT_EQUAL(n.unknown, 1);
}

static void test_info_format(void)
{
	char out[40];
	maildir_info_format(STORE_FLAGS_STORED, true, 0, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "2,DFPRST");
	maildir_info_format(0, false, 0, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "2,");
	maildir_info_format(STORE_FLAG_SEEN, false, (1u << 1) | 1u, out,
			    sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "2,Sab");
	/* round trip of every combination */
	for (unsigned f = 0; f <= STORE_FLAGS_STORED; f++) {
		for (int p = 0; p < 2; p++) {
			char name[64] = "1.2.h:";
			maildir_info_format(f, p, 0x2000001, name + 6, 40);
			struct maildir_name n;
			maildir_name_parse(name, &n);
			CU_ASSERT_EQUAL(n.flags, f);
			CU_ASSERT_EQUAL(n.passed, p != 0);
			CU_ASSERT_EQUAL(n.keywords, 0x2000001u);
		}
	}
	/* a short buffer is cut, never overrun */
	char small[4];
	maildir_info_format(STORE_FLAGS_STORED, true, 0, small, sizeof(small));
	CU_ASSERT_STRING_EQUAL(small, "2,D");
}

static void test_order(void)
{
	CU_ASSERT(maildir_name_cmp("9.a", "10.a") < 0);
	CU_ASSERT(maildir_name_cmp("10.a", "9.a") > 0);
	CU_ASSERT(maildir_name_cmp("10.a", "10.b") < 0);
	CU_ASSERT(maildir_name_cmp("010.a", "10.a") != 0);
	CU_ASSERT(maildir_name_cmp("10.a", "10.a") == 0);
	CU_ASSERT(maildir_name_cmp("99999999999999999999999.a",
				   "100000000000000000000000.a") < 0);
	CU_ASSERT(maildir_name_cmp("abc", "1.a") > 0);
	CU_ASSERT(maildir_name_cmp("1.a", "abc") < 0);
	CU_ASSERT(maildir_name_cmp("", "") == 0);
}

static int folder(const char *dir, const char *want)
{
	struct buf b;
	const char *err = NULL;
	buf_init(&b);
	int r = maildir_folder_name(dir, &b, &err);
	if (r == 0 && want != NULL)
		r = strcmp(buf_cstr(&b), want) == 0 ? 0 : 1;
	else if (r < 0 && err == NULL)
		r = 2;
	buf_free(&b);
	return r;
}

static void test_folder_names(void)
{
	CU_ASSERT_EQUAL(folder(".Sent", "Sent"), 0);
	CU_ASSERT_EQUAL(folder(".Sub.Folder", "Sub/Folder"), 0);
	CU_ASSERT_EQUAL(folder(".a.b.c", "a/b/c"), 0);
	/* modified UTF-7 as Dovecot writes it, and raw UTF-8 */
	CU_ASSERT_EQUAL(folder(".Entw&APw-rfe", "Entw\xc3\xbcrfe"), 0);
	CU_ASSERT_EQUAL(folder(".Entw\xc3\xbcrfe", "Entw\xc3\xbcrfe"), 0);
	CU_ASSERT_EQUAL(folder(".A&-B", "A&B"), 0);
	CU_ASSERT_EQUAL(folder(".A&B", "A&B"), 0);	/* not mUTF-7 */
	/* not folders */
	CU_ASSERT_EQUAL(folder(".", NULL), -1);
	CU_ASSERT_EQUAL(folder("..", NULL), -1);
	CU_ASSERT_EQUAL(folder("Sent", NULL), -1);
	CU_ASSERT_EQUAL(folder("..Sent", NULL), -1);
	CU_ASSERT_EQUAL(folder(".Sent.", NULL), -1);
	CU_ASSERT_EQUAL(folder(".a..b", NULL), -1);
	CU_ASSERT_EQUAL(folder(".bad\xff", NULL), -1);
	CU_ASSERT_EQUAL(folder(".ctl\x01", NULL), -1);
	/* too long for the store */
	char longname[STORE_MAILBOX_NAME_MAX + 10];
	longname[0] = '.';
	memset(longname + 1, 'x', sizeof(longname) - 2);
	longname[sizeof(longname) - 1] = '\0';
	CU_ASSERT_EQUAL(folder(longname, NULL), -1);
	/* out keeps what it had */
	struct buf b;
	const char *err;
	buf_init(&b);
	buf_append_str(&b, "Archive/");
	CU_ASSERT_EQUAL(maildir_folder_name(".X.Y", &b, &err), 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "Archive/X/Y");
	buf_free(&b);
}

static void test_keywords_file(void)
{
	static const char file[] = "0 $Junk\n1 work\r\n"
				   "2\n"		/* no name */
				   "x garbage\n"
				   "26 too-high\n"
				   "1 duplicate\n"
				   "25 last";
	const uint8_t *names[MAILDIR_KEYWORDS_MAX];
	size_t lens[MAILDIR_KEYWORDS_MAX];
	size_t n = maildir_keywords_parse((const uint8_t *)file,
					  sizeof(file) - 1, names, lens);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT(lens[0] == 5 && memcmp(names[0], "$Junk", 5) == 0);
	CU_ASSERT(lens[1] == 4 && memcmp(names[1], "work", 4) == 0);
	CU_ASSERT(names[2] == NULL);
	CU_ASSERT(lens[25] == 4 && memcmp(names[25], "last", 4) == 0);
	CU_ASSERT_EQUAL(maildir_keywords_parse(NULL, 0, names, lens), 0);
}

static void register_import_maildir(void)
{
	CU_pSuite s = CU_add_suite("import-maildir", NULL, NULL);
	CU_add_test(s, "flags in file names", test_flags);
	CU_add_test(s, "info written", test_info_format);
	CU_add_test(s, "delivery order", test_order);
	CU_add_test(s, "Maildir++ folder names", test_folder_names);
	CU_add_test(s, "dovecot-keywords", test_keywords_file);
}
UNIT_SUITE(register_import_maildir)
