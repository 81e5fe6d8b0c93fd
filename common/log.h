/* Logging. Every line carries the process role, its pid and, where there is
 * one, the session id. Passwords are never passed here.
 *
 * Sinks: the master writes to stderr in the foreground and to syslog
 * (LOG_MAIL) when daemonised. Children write to their stderr, which the
 * master connects to a pipe it reads; each child line starts with a level
 * digit that the master turns into a syslog priority. This keeps chrooted,
 * sandboxed children away from /dev/log (see ARCHITECTURE pitfalls). */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

enum log_sink {
	LOG_SINK_STDERR,	/* tools, foreground master: "time role[pid]: msg" */
	LOG_SINK_SYSLOG,	/* daemonised master */
	LOG_SINK_MASTER,	/* children: "<digit>role[pid]: msg" on stderr */
};

void log_init(const char *role, enum log_sink sink);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "error", "warn", "info", "debug" -> level; -1 if unknown */
int log_level_parse(const char *name);

void log_msg(enum log_level level, uint32_t session, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, uint32_t session, const char *fmt,
	      va_list ap);
/* Writes a line produced by a child (level already decoded) to this
 * process's sink unchanged. */
void log_relay(enum log_level level, const char *line);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, 0, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)

/* Broken invariant or start-up failure: log and exit(1). */
_Noreturn void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
