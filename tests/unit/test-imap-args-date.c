/* Tests for IMAP and RFC 5322 dates (common/imap-date.c). */
#include "unit.h"

#include "../../common/imap-date.h"

#include <stdio.h>
#include <string.h>

static void test_date_parse(void)
{
	struct imap_date d;
	const char *error = NULL;
	CU_ASSERT_EQUAL(imap_date_parse("1-Feb-2024", 10, &d, &error), 0);
	CU_ASSERT_EQUAL(d.year, 2024);
	CU_ASSERT_EQUAL(d.month, 2);
	CU_ASSERT_EQUAL(d.day, 1);
	CU_ASSERT_EQUAL(imap_date_parse("29-feb-2024", 11, &d, &error), 0);
	CU_ASSERT_EQUAL(d.day, 29);
	CU_ASSERT_EQUAL(imap_date_parse("05-DEC-1999", 11, &d, &error), 0);
	CU_ASSERT_EQUAL(d.month, 12);
	CU_ASSERT_EQUAL(d.day, 5);
	CU_ASSERT_EQUAL(imap_date_to_time(&d), 944352000);

	static const char *const bad[] = {
		"", "1-Feb-24", "1-Feb-20245", "29-Feb-2023", "31-Apr-2024",
		"0-Jan-2024", "32-Jan-2024", "1-Foo-2024", "1 Feb 2024",
		"123-Feb-2024", "1-Feb-2024 ", "-Feb-2024", "1-Fe-2024",
		"1-Feb-0000", "1-Feb-2O24",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		CU_ASSERT_EQUAL(imap_date_parse(bad[i], strlen(bad[i]), &d,
						&error), -1);
		CU_ASSERT_PTR_NOT_NULL(error);
	}
}

static void test_date_format(void)
{
	char out[IMAP_DATE_SIZE];
	struct imap_date d = { 2024, 2, 1 };
	imap_date_format(&d, out);
	CU_ASSERT_STRING_EQUAL(out, "1-Feb-2024");
	d = (struct imap_date){ 1999, 12, 31 };
	imap_date_format(&d, out);
	CU_ASSERT_STRING_EQUAL(out, "31-Dec-1999");
	/* the day of a time depends on the zone */
	imap_date_from_time(0, 0, &d);
	CU_ASSERT_EQUAL(d.year, 1970);
	CU_ASSERT_EQUAL(d.day, 1);
	imap_date_from_time(0, -60, &d);
	CU_ASSERT_EQUAL(d.year, 1969);
	CU_ASSERT_EQUAL(d.month, 12);
	CU_ASSERT_EQUAL(d.day, 31);
	imap_date_from_time(86399, 1, &d);
	CU_ASSERT_EQUAL(d.day, 2);
}

static void test_datetime(void)
{
	time_t t;
	int tz;
	const char *error = NULL;
	char out[IMAP_DATETIME_SIZE];
	const char *s = "17-Jul-1996 02:44:25 -0700";
	CU_ASSERT_EQUAL(imap_datetime_parse(s, strlen(s), &t, &tz, &error), 0);
	CU_ASSERT_EQUAL(t, 837596665);
	CU_ASSERT_EQUAL(tz, -420);
	imap_datetime_format(t, tz, out);
	CU_ASSERT_STRING_EQUAL(out, s);
	s = " 1-Jan-2000 00:00:00 +0000";
	CU_ASSERT_EQUAL(imap_datetime_parse(s, strlen(s), &t, &tz, &error), 0);
	CU_ASSERT_EQUAL(t, 946684800);
	imap_datetime_format(t, tz, out);
	CU_ASSERT_STRING_EQUAL(out, s);
	s = "01-Jan-2000 01:30:00 +0130";
	CU_ASSERT_EQUAL(imap_datetime_parse(s, strlen(s), &t, &tz, &error), 0);
	CU_ASSERT_EQUAL(t, 946684800);
	CU_ASSERT_EQUAL(tz, 90);
	imap_datetime_format(946684800, -330, out);
	CU_ASSERT_STRING_EQUAL(out, "31-Dec-1999 18:30:00 -0530");
	imap_datetime_format(-1, 0, out);
	CU_ASSERT_STRING_EQUAL(out, "31-Dec-1969 23:59:59 +0000");

	static const char *const bad[] = {
		"", "1-Jan-2000 00:00:00 +0000", "17-Jul-1996 02:44 -0700",
		"17-Jul-1996 02:44:25", "17-Jul-1996 02:44:25 0700",
		"17-Jul-1996 24:00:00 +0000", "17-Jul-1996 00:60:00 +0000",
		"17-Jul-1996 00:00:61 +0000", "17-Jul-1996 00:00:00 +2400",
		"17-Jul-1996 00:00:00 +0060", "17-Jul-1996 00:00:00 +00000",
		"17-Jul-1996  00:00:00 +0000", "30-Feb-1996 00:00:00 +0000",
		"17-Jul-1996 00:00:00 GMT", "\"17-Jul-1996 02:44:25 -0700\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		CU_ASSERT_EQUAL(imap_datetime_parse(bad[i], strlen(bad[i]), &t,
						    &tz, &error), -1);
		CU_ASSERT_PTR_NOT_NULL(error);
	}
}

static void test_rfc5322(void)
{
	static const struct {
		const char *in;
		long long t;
		int tz;
	} good[] = {
		{ "Wed, 17 Jul 1996 02:44:25 -0700", 837596665, -420 },
		{ "17 Jul 1996 02:44:25 -0700", 837596665, -420 },
		{ "Wed 17 Jul 1996 02:44:25 -0700", 837596665, -420 },
		{ "Wed,17 Jul 96 02:44:25 -0700", 837596665, -420 },
		{ "17 Jul 1996 02:44 -0700", 837596640, -420 },
		{ "17 Jul 1996 02:44:25 PDT", 837596665, -420 },
		{ "17 Jul 1996 09:44:25 GMT", 837596665, 0 },
		{ "17 Jul 1996 09:44:25 UT", 837596665, 0 },
		{ "17 Jul 1996 09:44:25", 837596665, 0 },
		{ "17 Jul 1996 09:44:25 Z", 837596665, 0 },
		{ "17 Jul 1996 09:44:25 A", 837596665, 0 },
		{ "  Wed , 17 (day) Jul\r\n 1996 09:44:25 +0000 (UTC)",
		  837596665, 0 },
		{ "17-jul-1996 09:44:25 +0000", 837596665, 0 },
		{ "17 July 1996 09:44:25 +0000", 837596665, 0 },
		{ "1 Jan 00 00:00:00 +0000", 946684800, 0 },
		{ "1 Jan 49 00:00:00 +0000", 2493072000LL, 0 },
		{ "1 Jan 50 00:00:00 +0000", -631152000, 0 },
		{ "1 Jan 100 00:00:00 +0000", 946684800, 0 },
		{ "Mon. 1 Jan 2000 00:00:00 EST", 946702800, -300 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		time_t t = 0;
		int tz = 1;
		int r = imap_date_parse_rfc5322(good[i].in, strlen(good[i].in),
						&t, &tz);
		CU_ASSERT_EQUAL(r, 0);
		CU_ASSERT_EQUAL((long long)t, good[i].t);
		CU_ASSERT_EQUAL(tz, good[i].tz);
		if (r != 0 || t != good[i].t)
			fprintf(stderr, "rfc5322 %s: %d %lld\n", good[i].in, r,
				(long long)t);
	}
	static const char *const bad[] = {
		"", "Wed", "17 Foo 1996 02:44:25 -0700",
		"32 Jul 1996 02:44:25 -0700", "17 Jul 02:44:25 -0700",
		"17 Jul 1996", "17 Jul 1996 25:00 +0000",
		"17 Jul 1996 02:44:25 +07", "17 Jul 1996 02:44:25 +2500",
		"17 Jul 1996 02:", "17 Jul 19960 02:44:25 +0000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		time_t t;
		int tz;
		CU_ASSERT_EQUAL(imap_date_parse_rfc5322(bad[i], strlen(bad[i]),
							&t, &tz), -1);
	}
}

static void register_date(void)
{
	CU_pSuite s = CU_add_suite("imap-date", NULL, NULL);
	CU_add_test(s, "date parse", test_date_parse);
	CU_add_test(s, "date format", test_date_format);
	CU_add_test(s, "date-time", test_datetime);
	CU_add_test(s, "rfc5322", test_rfc5322);
}
UNIT_SUITE(register_date)
