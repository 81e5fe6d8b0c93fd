/* mbox splitter: see import-mbox.h. */
#include "import-mbox.h"

#include <string.h>

static const char from_[] = "From ";

void mbox_parser_init(struct mbox_parser *p, const struct mbox_callbacks *cb,
		      void *ctx, uint64_t max_message_size)
{
	memset(p, 0, sizeof(*p));
	p->cb = cb;
	p->ctx = ctx;
	p->max_message_size = max_message_size;
	p->state = MBOX_LINE_START;
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void emit(struct mbox_parser *p, const uint8_t *d, size_t len)
{
	if (len == 0)
		return;
	if (!p->in_message) {
		for (size_t i = 0; i < len && !p->junk_text; i++)
			p->junk_text = !is_space(d[i]);
		return;
	}
	if (p->cur.oversize)
		return;
	if (p->max_message_size != 0 &&
	    len > p->max_message_size - p->cur.size) {
		/* Keep the bytes that fit so the caller can say what the
		 * message was, but mark it: it must not be stored cut. */
		len = (size_t)(p->max_message_size - p->cur.size);
		p->cur.oversize = true;
		if (len == 0)
			return;
	}
	p->cur.size += len;
	if (p->cb->data != NULL)
		p->cb->data(p->ctx, d, len);
}

static void emit_gt(struct mbox_parser *p, uint64_t n)
{
	static const uint8_t gts[64] = {
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
		'>', '>', '>', '>',
	};
	while (n > 0) {
		size_t k = n > sizeof(gts) ? sizeof(gts) : (size_t)n;
		emit(p, gts, k);
		n -= k;
	}
}

/* The held-back empty line turned out to be message text. */
static void flush_blank(struct mbox_parser *p)
{
	if (p->blank_len == 2)
		emit(p, (const uint8_t *)"\r\n", 2);
	else if (p->blank_len == 1)
		emit(p, (const uint8_t *)"\n", 1);
	p->blank_len = 0;
}

static void blank_line(struct mbox_parser *p, uint8_t len)
{
	flush_blank(p);
	p->blank_len = len;
}

static void end_message(struct mbox_parser *p)
{
	if (p->in_message && p->cb->message != NULL)
		p->cb->message(p->ctx, &p->cur);
}

/* A From_ line at line_start: the empty line before it was the
 * separator's, not the message's. */
static void separator(struct mbox_parser *p, uint64_t line_start,
		      int64_t date, int tz_min)
{
	p->blank_len = 0;
	if (p->in_message)
		end_message(p);
	else if (p->junk_text && p->cb->junk != NULL)
		p->cb->junk(p->ctx, 0, line_start);
	p->in_message = true;
	memset(&p->cur, 0, sizeof(p->cur));
	p->cur.index = ++p->messages;
	p->cur.offset = line_start;
	p->cur.date = date;
	p->cur.tz_min = tz_min;
}

/* Offset where the line now in p->line started; valid in MBOX_HEAD. */
static uint64_t head_start(const struct mbox_parser *p)
{
	return p->offset - p->line_len;
}

void mbox_parser_feed(struct mbox_parser *p, const uint8_t *data, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = data[i];
		switch (p->state) {
		case MBOX_LINE_START:
			p->line_len = 0;
			if (c == '\n') {
				blank_line(p, 1);
				break;
			}
			if (c == '\r' || c == 'F') {
				p->line[p->line_len++] = c;
				p->state = MBOX_HEAD;
				break;
			}
			if (c == '>') {
				p->quote_gt = 1;
				p->state = MBOX_QUOTE;
				break;
			}
			flush_blank(p);
			p->state = MBOX_BODY;
			continue;	/* the byte is body text */
		case MBOX_HEAD:
			if (p->line[0] == '\r') {
				if (c == '\n') {
					blank_line(p, 2);
					p->state = MBOX_LINE_START;
					break;
				}
				flush_blank(p);
				emit(p, p->line, p->line_len);
				p->state = MBOX_BODY;
				continue;
			}
			if (p->line_len < 5) {
				if (c == (uint8_t)from_[p->line_len]) {
					p->line[p->line_len++] = c;
					break;
				}
			} else if (c == '\n') {
				int64_t date;
				int tz;
				uint64_t start = head_start(p);
				if (mbox_from_line_parse(p->line, p->line_len,
							 &date, &tz)) {
					separator(p, start, date, tz);
				} else {
					flush_blank(p);
					emit(p, p->line, p->line_len);
					emit(p, &c, 1);
				}
				p->state = MBOX_LINE_START;
				break;
			} else if (p->line_len < MBOX_FROM_LINE_MAX) {
				p->line[p->line_len++] = c;
				break;
			}
			/* not "From ", or too long to be a From_ line */
			flush_blank(p);
			emit(p, p->line, p->line_len);
			p->state = MBOX_BODY;
			continue;
		case MBOX_QUOTE:
			if (p->line_len == 0 && c == '>') {
				p->quote_gt++;
				break;
			}
			if (c == (uint8_t)from_[p->line_len]) {
				p->line[p->line_len++] = c;
				if (p->line_len == 5) {
					/* mboxrd: one '>' was added */
					flush_blank(p);
					emit_gt(p, p->quote_gt - 1);
					emit(p, p->line, p->line_len);
					p->state = MBOX_BODY;
				}
				break;
			}
			flush_blank(p);
			emit_gt(p, p->quote_gt);
			emit(p, p->line, p->line_len);
			p->state = MBOX_BODY;
			continue;
		case MBOX_BODY: {
			const uint8_t *nl = memchr(data + i, '\n', len - i);
			size_t n = nl != NULL ? (size_t)(nl - (data + i)) + 1 :
				   len - i;
			emit(p, data + i, n);
			p->offset += n;
			i += n;
			if (nl != NULL)
				p->state = MBOX_LINE_START;
			continue;
		}
		}
		p->offset++;
		i++;
	}
}

void mbox_parser_finish(struct mbox_parser *p)
{
	if (p->finished)
		return;
	p->finished = true;
	int64_t date;
	int tz;
	switch (p->state) {
	case MBOX_HEAD:
		if (p->line[0] == 'F' && p->line_len >= 5 &&
		    mbox_from_line_parse(p->line, p->line_len, &date, &tz)) {
			/* a From_ line at the very end: an empty message */
			separator(p, head_start(p), date, tz);
			break;
		}
		flush_blank(p);
		emit(p, p->line, p->line_len);
		break;
	case MBOX_QUOTE:
		flush_blank(p);
		emit_gt(p, p->quote_gt);
		emit(p, p->line, p->line_len);
		break;
	case MBOX_LINE_START:
	case MBOX_BODY:
		break;
	}
	/* The empty line a writer adds after the last message. */
	p->blank_len = 0;
	p->state = MBOX_LINE_START;
	if (p->in_message)
		end_message(p);
	else if (p->junk_text && p->cb->junk != NULL)
		p->cb->junk(p->ctx, 0, p->offset);
	p->in_message = false;
}

/* ---- the From_ line's date ---- */

#define MAX_TOKENS 16

struct token {
	const uint8_t *s;
	size_t len;
};

static int month_of(const struct token *t)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	if (t->len != 3)
		return 0;
	char m[3];
	for (int i = 0; i < 3; i++) {
		uint8_t c = t->s[i];
		m[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	for (int i = 0; i < 12; i++)
		if (memcmp(names + 3 * i, m, 3) == 0)
			return i + 1;
	return 0;
}

/* Digits only, 1..maxdigits of them; -1 otherwise. */
static long number_of(const struct token *t, size_t maxdigits)
{
	if (t->len == 0 || t->len > maxdigits)
		return -1;
	long v = 0;
	for (size_t i = 0; i < t->len; i++) {
		if (t->s[i] < '0' || t->s[i] > '9')
			return -1;
		v = v * 10 + (t->s[i] - '0');
	}
	return v;
}

/* hh:mm or hh:mm:ss into seconds of the day; -1 if not a time. */
static long time_of(const struct token *t)
{
	long part[3] = { 0, 0, 0 };
	size_t n = 0, digits = 0;
	for (size_t i = 0; i < t->len; i++) {
		uint8_t c = t->s[i];
		if (c >= '0' && c <= '9') {
			if (++digits > 2)
				return -1;
			part[n] = part[n] * 10 + (c - '0');
		} else if (c == ':' && digits > 0 && n < 2) {
			n++;
			digits = 0;
		} else {
			return -1;
		}
	}
	if (n < 1 || digits == 0 || part[0] > 23 || part[1] > 59 ||
	    part[2] > 60)
		return -1;
	return part[0] * 3600 + part[1] * 60 + part[2];
}

/* +hhmm / -hhmm into seconds east of UTC; 1 if it is one. */
static int zone_of(const struct token *t, long *off_r)
{
	if (t->len != 5 || (t->s[0] != '+' && t->s[0] != '-'))
		return 0;
	struct token d = { t->s + 1, 4 };
	long v = number_of(&d, 4);
	if (v < 0 || v / 100 > 23 || v % 100 > 59)
		return 0;
	*off_r = (v / 100 * 3600 + v % 100 * 60) * (t->s[0] == '-' ? -1 : 1);
	return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(long y, long m, long d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

static bool date_fields(long year, int month, long day, long secs,
			long zone, int64_t *date_r)
{
	if (year < 1900 || year > 9999 || day < 1 || day > 31 || secs < 0)
		return false;
	*date_r = days_from_civil(year, month, day) * 86400 + secs - zone;
	return true;
}

int mbox_from_line_parse(const uint8_t *line, size_t len, int64_t *date_r,
			 int *tz_min_r)
{
	*tz_min_r = 0;
	if (len < 5 || memcmp(line, from_, 5) != 0)
		return 0;
	while (len > 5 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	struct token tok[MAX_TOKENS];
	size_t ntok = 0;
	for (size_t i = 5; i < len;) {
		if (line[i] == ' ' || line[i] == '\t') {
			i++;
			continue;
		}
		if (ntok == MAX_TOKENS)
			return 0;
		size_t start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		tok[ntok].s = line + start;
		tok[ntok].len = i - start;
		ntok++;
	}
	/* The month comes after at least the sender (or a weekday). */
	for (size_t m = 1; m < ntok; m++) {
		int month = month_of(&tok[m]);
		if (month == 0)
			continue;
		long zone = 0, year = -1, day, secs, z;
		/* asctime: [Www] Mmm dd hh:mm[:ss] [zone] yyyy ... */
		if (m + 3 < ntok && (day = number_of(&tok[m + 1], 2)) > 0 &&
		    (secs = time_of(&tok[m + 2])) >= 0) {
			for (size_t k = m + 3; k < ntok && k <= m + 4; k++) {
				if (zone_of(&tok[k], &z)) {
					zone = z;
					continue;
				}
				year = number_of(&tok[k], 4);
				if (year >= 0 || tok[k].len > 5)
					break;
				/* a zone name ("PST"): taken as UTC */
			}
			if (year >= 0 &&
			    date_fields(year, month, day, secs, zone, date_r)) {
				*tz_min_r = (int)(zone / 60);
				return 1;
			}
		}
		/* RFC 5322 style: [Www,] dd Mmm yyyy hh:mm[:ss] [zone] */
		zone = 0;
		if (m + 2 < ntok && (day = number_of(&tok[m - 1], 2)) > 0 &&
		    (year = number_of(&tok[m + 1], 4)) >= 0 &&
		    (secs = time_of(&tok[m + 2])) >= 0) {
			if (m + 3 < ntok && zone_of(&tok[m + 3], &z))
				zone = z;
			if (date_fields(year, month, day, secs, zone, date_r)) {
				*tz_min_r = (int)(zone / 60);
				return 1;
			}
		}
	}
	return 0;
}
