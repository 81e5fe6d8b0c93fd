/* RFC 5322 section 3.3 date-time, with the obsolete syntax of 4.3 (two-
 * and three-digit years, named zones, military zones as +0000, optional
 * weekday and seconds, comments and extra blanks anywhere). Computed with
 * civil-calendar arithmetic, not mktime(): no time-zone files, which a
 * chrooted worker cannot read. */
#include "mime-private.h"

#include <string.h>

struct mime_dlex {
	const uint8_t *s;
	size_t len, pos;
};

static void mime_dlex_skip(struct mime_dlex *l)
{
	unsigned depth = 0;
	while (l->pos < l->len) {
		uint8_t c = l->s[l->pos];
		if (c == '(') {
			depth++;
		} else if (c == ')' && depth > 0) {
			depth--;
		} else if (depth == 0 && !mime_is_wsp(c) && c != '\r' &&
			   c != '\n') {
			break;
		}
		l->pos++;
	}
}

/* Up to max digits; returns the count read. */
static unsigned mime_dlex_num(struct mime_dlex *l, unsigned max, int *v)
{
	unsigned n = 0;
	*v = 0;
	while (l->pos < l->len && n < max && l->s[l->pos] >= '0' &&
	       l->s[l->pos] <= '9') {
		*v = *v * 10 + (l->s[l->pos] - '0');
		l->pos++;
		n++;
	}
	return n;
}

static size_t mime_dlex_alpha(struct mime_dlex *l, const uint8_t **w)
{
	size_t start = l->pos;
	while (l->pos < l->len &&
	       ((l->s[l->pos] | 0x20) >= 'a' && (l->s[l->pos] | 0x20) <= 'z'))
		l->pos++;
	*w = l->s + start;
	return l->pos - start;
}

static bool mime_dlex_char(struct mime_dlex *l, uint8_t c)
{
	if (l->pos < l->len && l->s[l->pos] == c) {
		l->pos++;
		return true;
	}
	return false;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t mime_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static const char mime_months[] = "janfebmaraprmayjunjulaugsepoctnovdec";

static const struct {
	const char *name;
	int minutes;
} mime_zones[] = {
	{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
	{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
	{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
};

int mime_date_parse(const uint8_t *s, size_t len, int64_t *time_r)
{
	struct mime_dlex l = { s, len, 0 };
	const uint8_t *w;
	size_t wl;
	int day, year, hour, min, sec = 0;

	mime_dlex_skip(&l);
	wl = mime_dlex_alpha(&l, &w);
	if (wl > 0) {		/* day-of-week */
		mime_dlex_skip(&l);
		mime_dlex_char(&l, ',');
		mime_dlex_skip(&l);
	}
	if (mime_dlex_num(&l, 2, &day) == 0 || day < 1 || day > 31)
		return -1;
	mime_dlex_skip(&l);
	mime_dlex_char(&l, '-');	/* "1-Jan-2024", seen in the wild */
	wl = mime_dlex_alpha(&l, &w);
	if (wl < 3)
		return -1;
	unsigned month = 0;
	for (unsigned i = 0; i < 12; i++) {
		if (mime_mem_eq_ci(w, 3, (const char[]){
				mime_months[i * 3], mime_months[i * 3 + 1],
				mime_months[i * 3 + 2], '\0' })) {
			month = i + 1;
			break;
		}
	}
	if (month == 0)
		return -1;
	mime_dlex_skip(&l);
	mime_dlex_char(&l, '-');
	unsigned ydigits = mime_dlex_num(&l, 4, &year);
	if (ydigits < 2)
		return -1;
	if (ydigits == 2)
		year += year < 50 ? 2000 : 1900;	/* RFC 5322 4.3 */
	else if (ydigits == 3)
		year += 1900;
	mime_dlex_skip(&l);
	if (mime_dlex_num(&l, 2, &hour) == 0)
		return -1;
	mime_dlex_skip(&l);
	if (!mime_dlex_char(&l, ':'))
		return -1;
	mime_dlex_skip(&l);
	if (mime_dlex_num(&l, 2, &min) == 0)
		return -1;
	mime_dlex_skip(&l);
	if (mime_dlex_char(&l, ':')) {
		mime_dlex_skip(&l);
		if (mime_dlex_num(&l, 2, &sec) == 0)
			return -1;
	}
	if (hour > 23 || min > 59 || sec > 60)
		return -1;
	mime_dlex_skip(&l);
	int zone = 0;
	if (l.pos < l.len && (s[l.pos] == '+' || s[l.pos] == '-')) {
		int sign = s[l.pos] == '-' ? -1 : 1, hhmm;
		l.pos++;
		if (mime_dlex_num(&l, 4, &hhmm) != 4)
			return -1;
		if (hhmm % 100 > 59)
			return -1;
		zone = sign * (hhmm / 100 * 60 + hhmm % 100);
	} else {
		wl = mime_dlex_alpha(&l, &w);
		for (size_t i = 0; i < sizeof(mime_zones) /
				       sizeof(mime_zones[0]); i++) {
			if (mime_mem_eq_ci(w, wl, mime_zones[i].name)) {
				zone = mime_zones[i].minutes;
				break;
			}
		}
		/* Unknown or military zones: RFC 5322 4.3 says treat as
		 * -0000, i.e. UTC. */
	}
	int64_t days = mime_days_from_civil(year, month, (unsigned)day);
	*time_r = days * 86400 + hour * 3600 + min * 60 + sec -
		  (int64_t)zone * 60;
	return 0;
}
