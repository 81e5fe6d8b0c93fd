/* Incremental IMAP command parser (RFC 9051 section 9 syntax, LITERAL+ of
 * RFC 7888). Pure: it is fed bytes, keeps its state between calls, never
 * reads or writes by itself. Shared by the login process and the worker.
 *
 * A command is "tag SP name [SP arg...] CRLF". Arguments are atoms, quoted
 * strings, literals ({n}, {n+}, and literal8 ~{n}), and parenthesised
 * lists to a bounded depth. An atom that contains '[' runs to the matching
 * ']' even across spaces and parentheses, so FETCH items such as
 * BODY[HEADER.FIELDS (From To)]<0.100> arrive as one atom.
 *
 * Literals are buffered whole, unless limits.stream_literal is set: a
 * literal larger than that is streamed through the caller instead
 * (IMAP_PARSE_LITERAL_START, then IMAP_PARSE_LITERAL_DATA chunks), so an
 * APPEND of 60 MB costs the caller a file, not 60 MB of memory. */
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
	/* LITERAL only: streamed through the caller (LITERAL_DATA), so str
	 * is NULL and len is the literal's size. */
	bool streamed;
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
	size_t max_literal;		/* bytes of one buffered literal */
	size_t max_command;		/* bytes of a whole command incl. its
					 * buffered literals */
	unsigned max_depth;		/* list nesting */
	size_t max_args;		/* arguments in total */
	/* A literal of more bytes than this is streamed, not buffered; 0
	 * (the default) buffers every literal. A streamed literal is bound
	 * by neither max_literal nor max_command: nothing of it is kept,
	 * and the caller judges its size at IMAP_PARSE_LITERAL_START. */
	size_t stream_literal;
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
	/* A literal over limits.stream_literal was announced (its line is
	 * consumed). imap_parser_command() is the command so far, ending
	 * with that literal (imap_parser_literal()). The caller either
	 * accepts it (for a synchronizing literal it sends "+ ..."), and
	 * then gets its bytes as LITERAL_DATA, or refuses it with
	 * imap_parser_literal_refuse() and answers the command itself. */
	IMAP_PARSE_LITERAL_START,
	/* Bytes of the streamed literal: imap_parser_literal_data(), a
	 * pointer into the input just fed (no copy). Every byte consumed by
	 * this feed is one of them. After the last chunk the command goes
	 * on, and arrives as IMAP_PARSE_COMMAND with that argument marked
	 * streamed, or as IMAP_PARSE_ERROR if what follows is bad. */
	IMAP_PARSE_LITERAL_DATA,
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

/* Valid after IMAP_PARSE_COMMAND, and after IMAP_PARSE_LITERAL_START
 * (the command so far), until the next feed or wipe. */
const struct imap_command *imap_parser_command(const struct imap_parser *p);

/* After IMAP_PARSE_LITERAL_START until the next feed: the literal being
 * streamed (an argument of imap_parser_command(), streamed, len its size;
 * the last one in pre-order) and whether the client waits for "+"
 * (*sync_r). NULL otherwise. */
const struct imap_arg *imap_parser_literal(const struct imap_parser *p,
					   bool *sync_r);
/* Right after IMAP_PARSE_LITERAL_START, before the next feed: the
 * literal is not wanted, and neither is the rest of its command. The
 * caller answers the command (its tag stays valid until the next feed).
 * A synchronizing literal then ends the command: the client sends its
 * bytes only after "+" (RFC 9051 section 4.3). A non-synchronizing one
 * is on its way (RFC 7888): the parser skips its bytes, of any size,
 * and the rest of the command, like those of a bad command. */
void imap_parser_literal_refuse(struct imap_parser *p);
/* After IMAP_PARSE_LITERAL_DATA until the caller's input changes: the
 * chunk, never empty. */
const uint8_t *imap_parser_literal_data(const struct imap_parser *p,
					size_t *len_r);
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
/* atom/quoted/literal; a streamed literal is not: its bytes are gone */
bool imap_arg_is_astring(const struct imap_arg *a);
bool imap_arg_atom_equals(const struct imap_arg *a, const char *word);

#endif
