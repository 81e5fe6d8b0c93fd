/* IMAP date parsing and formatting; see imap-date.h. */
#include "imap-date.h"

#include <string.h>
#include <strings.h>

static const char imap_date_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static bool imap_date_is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int imap_date_days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30,
				      31, 31, 30, 31, 30, 31 };
	return m == 2 && imap_date_is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), so no timegm() and no TZ rules are needed. */
static int64_t imap_date_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void imap_date_civil_from_days(int64_t z, int *y_r, int *m_r,
				      int *d_r)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y_r = (int)(yoe + era * 400 + (m <= 2));
	*m_r = m;
	*d_r = d;
}

/* Floor division, for times before the epoch. */
static int64_t imap_date_floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int imap_date_month_index(const char *s, size_t len)
{
	if (len != 3)
		return -1;
	for (int i = 0; i < 12; i++) {
		if (strncasecmp(s, imap_date_months[i], 3) == 0)
			return i + 1;
	}
	return -1;
}

static bool imap_date_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly n digits at s[*pos]. */
static bool imap_date_digits(const char *s, size_t len, size_t *pos,
			     size_t n, int *v_r)
{
	int v = 0;
	if (len - *pos < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[*pos + i];
		if (!imap_date_digit(c))
			return false;
		v = v * 10 + (c - '0');
	}
	*pos += n;
	*v_r = v;
	return true;
}

static bool imap_date_char(const char *s, size_t len, size_t *pos, char c)
{
	if (*pos >= len || s[*pos] != c)
		return false;
	(*pos)++;
	return true;
}

/* "-" date-month "-" date-year, shared by date and date-time. */
static bool imap_date_month_year(const char *s, size_t len, size_t *pos,
				 int day, struct imap_date *date_r)
{
	int month, year;
	if (!imap_date_char(s, len, pos, '-') || len - *pos < 3)
		return false;
	month = imap_date_month_index(s + *pos, 3);
	if (month < 0)
		return false;
	*pos += 3;
	if (!imap_date_char(s, len, pos, '-') ||
	    !imap_date_digits(s, len, pos, 4, &year))
		return false;
	if (year < 1 || day < 1 || day > imap_date_days_in_month(year, month))
		return false;
	date_r->year = year;
	date_r->month = month;
	date_r->day = day;
	return true;
}

int imap_date_parse(const char *s, size_t len, struct imap_date *date_r,
		    const char **error_r)
{
	size_t pos = 0;
	int day;
	/* date-day = 1*2DIGIT */
	if (!imap_date_digits(s, len, &pos, 1, &day)) {
		*error_r = "Invalid date";
		return -1;
	}
	if (pos < len && imap_date_digit(s[pos]))
		day = day * 10 + (s[pos++] - '0');
	if (!imap_date_month_year(s, len, &pos, day, date_r) || pos != len) {
		*error_r = "Invalid date";
		return -1;
	}
	return 0;
}

time_t imap_date_to_time(const struct imap_date *date)
{
	return (time_t)(imap_date_days_from_civil(date->year, date->month,
						  date->day) * 86400);
}

void imap_date_from_time(time_t t, int tz_min, struct imap_date *date_r)
{
	int64_t local = (int64_t)t + (int64_t)tz_min * 60;
	imap_date_civil_from_days(imap_date_floor_div(local, 86400),
				  &date_r->year, &date_r->month, &date_r->day);
}

void imap_date_format(const struct imap_date *date, char out[IMAP_DATE_SIZE])
{
	int y = date->year < 0 ? 0 : date->year > 9999 ? 9999 : date->year;
	int m = date->month < 1 || date->month > 12 ? 1 : date->month;
	int d = date->day < 1 || date->day > 31 ? 1 : date->day;
	/* digits written by hand: snprintf's truncation warnings aside,
	 * the size is then obvious */
	size_t p = 0;
	if (d >= 10)
		out[p++] = (char)('0' + d / 10);
	out[p++] = (char)('0' + d % 10);
	out[p++] = '-';
	memcpy(out + p, imap_date_months[m - 1], 3);
	p += 3;
	out[p++] = '-';
	out[p++] = (char)('0' + y / 1000);
	out[p++] = (char)('0' + y / 100 % 10);
	out[p++] = (char)('0' + y / 10 % 10);
	out[p++] = (char)('0' + y % 10);
	out[p] = '\0';
}

static int64_t imap_date_utc(const struct imap_date *d, int h, int mi, int s,
			     int tz_min)
{
	return imap_date_days_from_civil(d->year, d->month, d->day) * 86400 +
	       h * 3600 + mi * 60 + s - (int64_t)tz_min * 60;
}

int imap_datetime_parse(const char *s, size_t len, time_t *time_r,
			int *tz_min_r, const char **error_r)
{
	struct imap_date date;
	size_t pos = 0;
	int day, h, mi, sec, zh, zm, sign;
	*error_r = "Invalid date-time";
	/* date-day-fixed = (SP DIGIT) / 2DIGIT */
	if (len > 0 && s[0] == ' ') {
		pos = 1;
		if (!imap_date_digits(s, len, &pos, 1, &day))
			return -1;
	} else if (!imap_date_digits(s, len, &pos, 2, &day)) {
		return -1;
	}
	if (!imap_date_month_year(s, len, &pos, day, &date))
		return -1;
	/* time = 2DIGIT ":" 2DIGIT ":" 2DIGIT */
	if (!imap_date_char(s, len, &pos, ' ') ||
	    !imap_date_digits(s, len, &pos, 2, &h) ||
	    !imap_date_char(s, len, &pos, ':') ||
	    !imap_date_digits(s, len, &pos, 2, &mi) ||
	    !imap_date_char(s, len, &pos, ':') ||
	    !imap_date_digits(s, len, &pos, 2, &sec))
		return -1;
	/* a leap second (60) is accepted and lands on the next minute */
	if (h > 23 || mi > 59 || sec > 60)
		return -1;
	/* zone = ("+" / "-") 4DIGIT */
	if (!imap_date_char(s, len, &pos, ' ') || pos >= len)
		return -1;
	if (s[pos] == '+')
		sign = 1;
	else if (s[pos] == '-')
		sign = -1;
	else
		return -1;
	pos++;
	if (!imap_date_digits(s, len, &pos, 2, &zh) ||
	    !imap_date_digits(s, len, &pos, 2, &zm) || pos != len)
		return -1;
	if (zh > 23 || zm > 59)
		return -1;
	*tz_min_r = sign * (zh * 60 + zm);
	*time_r = (time_t)imap_date_utc(&date, h, mi, sec, *tz_min_r);
	*error_r = NULL;
	return 0;
}

void imap_datetime_format(time_t t, int tz_min,
			  char out[IMAP_DATETIME_SIZE])
{
	struct imap_date d;
	if (tz_min < -1439 || tz_min > 1439)
		tz_min = 0;
	int64_t local = (int64_t)t + (int64_t)tz_min * 60;
	int64_t secs = local - imap_date_floor_div(local, 86400) * 86400;
	imap_date_from_time(t, tz_min, &d);
	if (d.year < 0 || d.year > 9999) {
		/* outside the 4DIGIT year: clamp to a valid value */
		d.year = d.year < 0 ? 0 : 9999;
	}
	int h = (int)(secs / 3600), mi = (int)(secs / 60 % 60),
	    s = (int)(secs % 60);
	int z = tz_min < 0 ? -tz_min : tz_min;
	char *o = out;
	*o++ = d.day >= 10 ? (char)('0' + d.day / 10) : ' ';
	*o++ = (char)('0' + d.day % 10);
	*o++ = '-';
	memcpy(o, imap_date_months[d.month - 1], 3);
	o += 3;
	*o++ = '-';
	*o++ = (char)('0' + d.year / 1000);
	*o++ = (char)('0' + d.year / 100 % 10);
	*o++ = (char)('0' + d.year / 10 % 10);
	*o++ = (char)('0' + d.year % 10);
	*o++ = ' ';
	*o++ = (char)('0' + h / 10);
	*o++ = (char)('0' + h % 10);
	*o++ = ':';
	*o++ = (char)('0' + mi / 10);
	*o++ = (char)('0' + mi % 10);
	*o++ = ':';
	*o++ = (char)('0' + s / 10);
	*o++ = (char)('0' + s % 10);
	*o++ = ' ';
	*o++ = tz_min < 0 ? '-' : '+';
	*o++ = (char)('0' + z / 600);
	*o++ = (char)('0' + z / 60 % 10);
	*o++ = (char)('0' + z % 60 / 10);
	*o++ = (char)('0' + z % 10);
	*o = '\0';
}

/* ---- RFC 5322 ---- */

struct imap_date_lex {
	const char *s;
	size_t len, pos;
};

/* Skips CFWS (RFC 5322 section 3.2.2): whitespace, line folds and
 * comments, which nest; an unterminated comment runs to the end. */
static void imap_date_lex_skip(struct imap_date_lex *l)
{
	unsigned depth = 0;
	while (l->pos < l->len) {
		char c = l->s[l->pos];
		if (depth > 0 && c == '\\' && l->pos + 1 < l->len) {
			l->pos += 2;
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' &&
			 c != '\n')
			return;
		l->pos++;
	}
}

/* 1..max_digits digits; returns the number of digits read (0: none). */
static size_t imap_date_lex_num(struct imap_date_lex *l, size_t max_digits,
				int *v_r)
{
	size_t n = 0;
	int v = 0;
	imap_date_lex_skip(l);
	while (l->pos < l->len && imap_date_digit(l->s[l->pos])) {
		if (++n > max_digits)
			return 0;
		v = v * 10 + (l->s[l->pos++] - '0');
	}
	*v_r = v;
	return n;
}

static size_t imap_date_lex_alpha(struct imap_date_lex *l, const char **w_r)
{
	imap_date_lex_skip(l);
	size_t start = l->pos;
	while (l->pos < l->len &&
	       ((l->s[l->pos] | 0x20) >= 'a' && (l->s[l->pos] | 0x20) <= 'z'))
		l->pos++;
	*w_r = l->s + start;
	return l->pos - start;
}

static bool imap_date_lex_char(struct imap_date_lex *l, char c)
{
	imap_date_lex_skip(l);
	if (l->pos < l->len && l->s[l->pos] == c) {
		l->pos++;
		return true;
	}
	return false;
}

/* RFC 5322 section 4.3 obs-zone; unknown letters count as -0000 ("no
 * information about the local time zone"), as the RFC says for military
 * zones, whose signs were historically wrong. */
static int imap_date_obs_zone(const char *w, size_t n)
{
	static const struct {
		const char *name;
		int min;
	} zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 },
		{ "CDT", -300 }, { "MST", -420 }, { "MDT", -360 },
		{ "PST", -480 }, { "PDT", -420 },
	};
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (strlen(zones[i].name) == n &&
		    strncasecmp(w, zones[i].name, n) == 0)
			return zones[i].min;
	}
	return 0;
}

int imap_date_parse_rfc5322(const char *s, size_t len, time_t *time_r,
			    int *tz_min_r)
{
	struct imap_date_lex l = { s, len, 0 };
	struct imap_date date;
	const char *w;
	size_t n;
	int day, year, h, mi, sec = 0, tz = 0;

	/* [ day-of-week "," ]: any word, since real mail has "Thur", "Mon."
	 * and localised names; the comma is optional. */
	n = imap_date_lex_alpha(&l, &w);
	if (n > 0) {
		(void)imap_date_lex_char(&l, ',');
		(void)imap_date_lex_char(&l, '.');
		(void)imap_date_lex_char(&l, ',');
	}
	if (imap_date_lex_num(&l, 2, &day) == 0)
		return -1;
	(void)imap_date_lex_char(&l, '-');
	n = imap_date_lex_alpha(&l, &w);
	if (n < 3)
		return -1;
	/* full month names ("January") are seen too: match on 3 letters */
	date.month = imap_date_month_index(w, 3);
	if (date.month < 0)
		return -1;
	(void)imap_date_lex_char(&l, '-');
	n = imap_date_lex_num(&l, 4, &year);
	if (n == 0)
		return -1;
	if (n == 2)
		year += year < 50 ? 2000 : 1900;	/* section 4.3 */
	else if (n == 3)
		year += 1900;
	if (year < 1 || day < 1 ||
	    day > imap_date_days_in_month(year, date.month))
		return -1;
	date.year = year;
	date.day = day;
	if (imap_date_lex_num(&l, 2, &h) == 0 || !imap_date_lex_char(&l, ':') ||
	    imap_date_lex_num(&l, 2, &mi) == 0)
		return -1;
	if (imap_date_lex_char(&l, ':') && imap_date_lex_num(&l, 2, &sec) == 0)
		return -1;
	if (h > 23 || mi > 59 || sec > 60)
		return -1;
	imap_date_lex_skip(&l);
	if (l.pos < l.len && (s[l.pos] == '+' || s[l.pos] == '-')) {
		int sign = s[l.pos] == '-' ? -1 : 1, z;
		l.pos++;
		/* the zone's digits follow the sign directly */
		size_t start = l.pos;
		while (l.pos < l.len && imap_date_digit(s[l.pos]) &&
		       l.pos - start < 4)
			l.pos++;
		if (l.pos - start != 4)
			return -1;
		z = (s[start] - '0') * 10 + (s[start + 1] - '0');
		int zm = (s[start + 2] - '0') * 10 + (s[start + 3] - '0');
		if (z > 23 || zm > 59)
			return -1;
		tz = sign * (z * 60 + zm);
	} else {
		n = imap_date_lex_alpha(&l, &w);
		tz = imap_date_obs_zone(w, n);
	}
	/* whatever follows (a zone name in a comment, junk) is ignored */
	*tz_min_r = tz;
	*time_r = (time_t)imap_date_utc(&date, h, mi, sec, tz);
	return 0;
}
