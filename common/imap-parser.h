/* Incremental IMAP command parser (RFC 9051 section 9 syntax, LITERAL+ of
 * RFC 7888). Pure: it is fed bytes, keeps its state between calls, never
 * reads or writes by itself. Shared by the login process and the worker.
 *
 * A command is "tag SP name [SP arg...] CRLF". Arguments are atoms, quoted
 * strings, literals ({n}, {n+}, and literal8 ~{n}), and parenthesised
 * lists to a bounded depth. An atom that contains '[' runs to the matching
 * ']' even across spaces and parentheses, so FETCH items such as
 * BODY[HEADER.FIELDS (From To)]<0.100> arrive as one atom. */
#ifndef POSTERN_IMAP_PARSER_H
#define POSTERN_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_arg_type {
	IMAP_ARG_ATOM,
	IMAP_ARG_QUOTED,
	IMAP_ARG_LITERAL,
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	/* ATOM, QUOTED (unescaped), LITERAL: bytes, NUL-terminated for
	 * convenience; a literal may contain NULs, so use len. */
	char *str;
	size_t len;
	bool literal8;			/* ~{n} */
	struct imap_arg *list;		/* LIST */
	size_t list_count;
};

struct imap_command {
	char *tag;
	char *name;			/* as sent; compare case-insensitively */
	struct imap_arg *args;
	size_t arg_count;
};

struct imap_parser_limits {
	size_t max_line;		/* bytes of one line, literals excluded */
	size_t max_literal;		/* bytes of one literal */
	size_t max_command;		/* bytes of a whole command incl. literals */
	unsigned max_depth;		/* list nesting */
	size_t max_args;		/* arguments in total */
};

enum imap_parse_status {
	/* Every byte given was consumed; no result yet. */
	IMAP_PARSE_NEED_MORE,
	/* A command is ready: imap_parser_command(). */
	IMAP_PARSE_COMMAND,
	/* A synchronizing literal was announced and is within the limits:
	 * the caller sends "+ ..." and keeps feeding. */
	IMAP_PARSE_CONTINUE,
	/* A bad command: the caller answers "<tag> BAD [code] error" (tag "*"
	 * if none was read). The parser skips the rest of that command by
	 * itself (up to the end of its line; an announced synchronizing
	 * literal is refused, so its bytes will not follow). */
	IMAP_PARSE_ERROR,
	/* After imap_parser_want_line(): one raw line is ready
	 * (imap_parser_line()), CRLF removed. */
	IMAP_PARSE_LINE,
	/* The stream cannot be resynchronised (a non-synchronizing literal
	 * over the limit: its bytes are already on their way). The caller
	 * sends "* BYE" with the error and closes. */
	IMAP_PARSE_FATAL,
};

struct imap_parser;

void imap_parser_limits_default(struct imap_parser_limits *limits);
struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits);
void imap_parser_free(struct imap_parser *p);

/* Consumes bytes until a result is ready or the input is used up;
 * *consumed_r tells how many bytes were used. Call again with the rest. */
enum imap_parse_status imap_parser_feed(struct imap_parser *p,
					const uint8_t *data, size_t len,
					size_t *consumed_r);

/* Valid after IMAP_PARSE_COMMAND until the next feed. */
const struct imap_command *imap_parser_command(const struct imap_parser *p);
/* Valid after IMAP_PARSE_ERROR / IMAP_PARSE_FATAL until the next feed. */
const char *imap_parser_error(const struct imap_parser *p);
/* Response code for the error without brackets ("TOOBIG", "LIMIT"), or
 * NULL. */
const char *imap_parser_error_code(const struct imap_parser *p);
/* The tag of the failing command, or NULL if none could be read. */
const char *imap_parser_error_tag(const struct imap_parser *p);

/* The next line is returned raw as IMAP_PARSE_LINE (the SASL
 * continuation of AUTHENTICATE). Lines over max_line give
 * IMAP_PARSE_ERROR. */
void imap_parser_want_line(struct imap_parser *p);
/* Valid after IMAP_PARSE_LINE until the next feed. */
const char *imap_parser_line(const struct imap_parser *p, size_t *len_r);
/* Wipes any buffered bytes (a password may have passed through). */
void imap_parser_wipe(struct imap_parser *p);

/* Helpers for command handlers. */
bool imap_arg_is_astring(const struct imap_arg *a);	/* atom/quoted/literal */
bool imap_arg_atom_equals(const struct imap_arg *a, const char *word);

#endif
