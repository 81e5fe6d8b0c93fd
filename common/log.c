#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_role = "postern";
static enum log_sink log_sink_kind = LOG_SINK_STDERR;
static enum log_level log_threshold = LOG_LEVEL_INFO;

void log_init(const char *role, enum log_sink sink)
{
	log_role = role;
	log_sink_kind = sink;
	if (sink == LOG_SINK_SYSLOG)
		openlog("postern", LOG_NDELAY | LOG_PID, LOG_MAIL);
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

enum log_level log_get_level(void)
{
	return log_threshold;
}

int log_level_parse(const char *name)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

static int syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR: return LOG_ERR;
	case LOG_LEVEL_WARN: return LOG_WARNING;
	case LOG_LEVEL_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

/* One write() per line so lines of different processes sharing a
 * terminal or pipe do not interleave. */
static void write_line(const char *line, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, line, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* a full pipe drops the line, never blocks */
		line += n;
		len -= (size_t)n;
	}
}

void log_relay(enum log_level level, const char *line)
{
	if (log_sink_kind == LOG_SINK_SYSLOG) {
		syslog(syslog_priority(level), "%s", line);
		return;
	}
	char out[2200];
	int n;
	if (log_sink_kind == LOG_SINK_MASTER) {
		n = snprintf(out, sizeof(out), "%d%s\n", (int)level, line);
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(out, sizeof(out),
			     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s\n",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec,
			     ts.tv_nsec / 1000000, line);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(out)) {
		n = sizeof(out) - 1;
		out[n - 1] = '\n';
	}
	write_line(out, (size_t)n);
}

void log_vmsg(enum log_level level, uint32_t session, const char *fmt,
	      va_list ap)
{
	if (level > log_threshold)
		return;
	int saved = errno;
	static const char *const tags[] = { "error", "warn", "info", "debug" };
	char msg[2048];
	char line[2100];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Keep one event on one line whatever a peer put in a string. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (session != 0)
		snprintf(line, sizeof(line), "%s[%ld]: %s: session %u: %s",
			 log_role, (long)getpid(), tags[level], session, msg);
	else
		snprintf(line, sizeof(line), "%s[%ld]: %s: %s", log_role,
			 (long)getpid(), tags[level], msg);
	log_relay(level, line);
	errno = saved;
}

void log_msg(enum log_level level, uint32_t session, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, session, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
