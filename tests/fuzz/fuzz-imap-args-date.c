/* libFuzzer target for IMAP and RFC 5322 dates (common/imap-date.c).
 *
 * A date or date-time that parses must format to a string that parses to
 * the same value (and, for dates written in canonical form, to the same
 * text). Arbitrary times and zones must format to something parseable. */
#include "../../common/imap-date.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *error = NULL;
	struct imap_date d, d2;
	char out[IMAP_DATETIME_SIZE];
	time_t t, t2;
	int tz, tz2;

	if (imap_date_parse(s, size, &d, &error) == 0) {
		char dout[IMAP_DATE_SIZE];
		imap_date_format(&d, dout);
		FUZZ_CHECK(imap_date_parse(dout, strlen(dout), &d2, &error) == 0);
		FUZZ_CHECK(d.year == d2.year && d.month == d2.month &&
			   d.day == d2.day);
		imap_date_from_time(imap_date_to_time(&d), 0, &d2);
		FUZZ_CHECK(d.year == d2.year && d.month == d2.month &&
			   d.day == d2.day);
	}
	if (imap_datetime_parse(s, size, &t, &tz, &error) == 0) {
		FUZZ_CHECK(tz > -1440 && tz < 1440);
		imap_datetime_format(t, tz, out);
		FUZZ_CHECK(strlen(out) == IMAP_DATETIME_SIZE - 1);
		FUZZ_CHECK(imap_datetime_parse(out, strlen(out), &t2, &tz2,
					       &error) == 0);
		FUZZ_CHECK(t == t2 && tz == tz2);
		/* seconds 60 normalise, "06" is written " 6" (both are
		 * date-day-fixed) and a zone of -0000 is written +0000;
		 * otherwise the text is canonical up to the month's case */
		if (size == IMAP_DATETIME_SIZE - 1 && s[18] != '6' &&
		    s[0] != '0' && memcmp(s + 21, "-0000", 5) != 0)
			FUZZ_CHECK(strncasecmp(out, s, size) == 0);
	}
	if (imap_date_parse_rfc5322(s, size, &t, &tz) == 0)
		FUZZ_CHECK(tz > -1440 && tz < 1440);

	/* formatting any time: years 1..9999 round-trip */
	if (size >= 10) {
		int64_t v;
		int16_t z;
		memcpy(&v, data, 8);
		memcpy(&z, data + 8, 2);
		v %= 253402300800LL;	/* below year 10000 */
		if (v < -62135596800LL)	/* not before year 1 */
			v = -v;
		imap_datetime_format((time_t)v, z % 1440, out);
		FUZZ_CHECK(strlen(out) == IMAP_DATETIME_SIZE - 1);
		imap_date_from_time((time_t)v, z % 1440, &d);
		if (d.year >= 1 && d.year <= 9999) {
			FUZZ_CHECK(imap_datetime_parse(out, strlen(out), &t2,
						       &tz2, &error) == 0);
			FUZZ_CHECK(t2 == (time_t)v && tz2 == z % 1440);
		}
	}
	return 0;
}
