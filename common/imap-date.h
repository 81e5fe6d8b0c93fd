/* IMAP dates and date-times (RFC 9051 section 9: date, date-time) and
 * RFC 5322 Date: header values (section 3.3, with the obsolete forms of
 * section 4.3), for SEARCH, APPEND and FETCH INTERNALDATE.
 *
 * Pure arithmetic on the proleptic Gregorian calendar: no time zone
 * database, no locale, no global state, so these work after chroot. A
 * time_t here is always seconds since the epoch in UTC; a zone offset is
 * minutes east of UTC. */
#ifndef POSTERN_IMAP_DATE_H
#define POSTERN_IMAP_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "d-MMM-yyyy" plus NUL (day without padding, RFC 9051 date-day). */
#define IMAP_DATE_SIZE 12
/* "dd-MMM-yyyy hh:mm:ss +zzzz" plus NUL (no DQUOTEs). */
#define IMAP_DATETIME_SIZE 27

/* A calendar day, as SEARCH BEFORE/ON/SINCE and their SENT and SAVED
 * forms compare (RFC 9051 section 6.4.4: dates ignore time and zone). */
struct imap_date {
	int year;		/* 1..9999 */
	int month;		/* 1..12 */
	int day;		/* 1..31, valid for the month */
};

/* RFC 9051 date-text: date-day "-" date-month "-" date-year, date-day
 * 1*2DIGIT, date-month "Jan".."Dec" (any case), date-year 4DIGIT. The
 * DQUOTEs of the quoted form are removed by the command parser already.
 * Returns 0, or -1 with *error_r set. */
int imap_date_parse(const char *s, size_t len, struct imap_date *date_r,
		    const char **error_r);
/* Midnight UTC of the day. */
time_t imap_date_to_time(const struct imap_date *date);
/* The calendar day of t seen at zone offset tz_min. */
void imap_date_from_time(time_t t, int tz_min, struct imap_date *date_r);
/* Writes "d-MMM-yyyy" into out. */
void imap_date_format(const struct imap_date *date, char out[IMAP_DATE_SIZE]);

/* RFC 9051 date-time without its DQUOTEs: date-day-fixed "-" date-month
 * "-" date-year SP time SP zone, where date-day-fixed is (SP DIGIT) or
 * 2DIGIT, time "hh:mm:ss" and zone ("+" / "-") 4DIGIT. Strict: anything
 * else is an error (APPEND answers BAD). *time_r is UTC, *tz_min_r the
 * zone as given (minutes, -1439..1439). */
int imap_datetime_parse(const char *s, size_t len, time_t *time_r,
			int *tz_min_r, const char **error_r);
/* Writes "dd-MMM-yyyy hh:mm:ss +zzzz" (date-day-fixed with a leading
 * space for days 1-9, as RFC 9051 requires) for t seen at zone tz_min. */
void imap_datetime_format(time_t t, int tz_min,
			  char out[IMAP_DATETIME_SIZE]);

/* RFC 5322 date-time, leniently (section 4.3 obs-date-time and what mail
 * really carries): optional day name with or without comma, comments,
 * folding whitespace, 1-2 digit day, month name (any case), 2-, 3- or
 * 4-digit year (2-digit: 00-49 is 20xx, 50-99 is 19xx; 3-digit: +1900),
 * seconds optional, numeric zone, obsolete alphabetic zones (UT, GMT,
 * EST/EDT, CST/CDT, MST/MDT, PST/PDT, military letters as -0000) or no
 * zone at all (taken as UTC). Returns 0, or -1 if no date can be read;
 * SENTBEFORE/SENTON/SENTSINCE then treat the message as having no date. */
int imap_date_parse_rfc5322(const char *s, size_t len, time_t *time_r,
			    int *tz_min_r);

#endif
