/* Shared helper for the test-imap-args-*.c suites: turns the text of a
 * command's arguments into struct imap_arg, through the real command
 * parser, so the argument parsers are tested on what they will get. */
#include "unit.h"

#include "../../common/imap-parser.h"

#include <stdlib.h>
#include <string.h>

const struct imap_command *test_imap_args(const char *args);
const struct imap_command *test_imap_args_n(const char *args, size_t n);

/* Parses "t X <args>\r\n" (literals included, "{n}\r\n" continuations
 * answered implicitly). Returns NULL if the command parser refuses it.
 * The result stays valid until the next call. */
const struct imap_command *test_imap_args(const char *args)
{
	return test_imap_args_n(args, strlen(args));
}

/* The same for arguments that contain NUL (in literals). */
const struct imap_command *test_imap_args_n(const char *args, size_t n)
{
	static struct imap_parser *p;
	static char *line;
	struct imap_parser_limits lim;
	if (p != NULL)
		imap_parser_free(p);
	imap_parser_limits_default(&lim);
	p = imap_parser_new(&lim);
	free(line);
	line = malloc(n + 7);
	memcpy(line, "t X ", 4);
	memcpy(line + 4, args, n);
	memcpy(line + 4 + n, "\r\n", 3);
	size_t off = 0, len = n + 6, used;
	for (;;) {
		enum imap_parse_status st =
			imap_parser_feed(p, (const uint8_t *)line + off,
					 len - off, &used);
		off += used;
		if (st == IMAP_PARSE_COMMAND)
			return imap_parser_command(p);
		if (st != IMAP_PARSE_CONTINUE && st != IMAP_PARSE_NEED_MORE)
			return NULL;
		if (st == IMAP_PARSE_NEED_MORE && off == len)
			return NULL;
	}
}
