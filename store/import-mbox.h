/* Splitting an mbox file into messages (RFC 4155, read as mboxrd).
 *
 * A message starts at a From_ line: "From " at the start of a line,
 * followed by a sender and an asctime-like date ("From alice@example.org
 * Thu Jan  1 00:00:00 2015"). The date must parse: a body line that
 * starts with "From " in an mboxo file (written without quoting) is then
 * almost never taken for a separator. Content-Length headers (mboxcl) are
 * ignored: they are wrong too often once a file has been edited.
 *
 * Unquoting is mboxrd's: a line ">From ", ">>From ", ... loses one '>'.
 * The empty line a writer puts before each From_ line (and at the end of
 * the file) is not part of the message. CRLF and LF line ends are both
 * read; bytes are passed on as they are (the store turns bare LF into
 * CRLF).
 *
 * The parser is pure and incremental: feed it bytes in any pieces, one at
 * a time if you like, and it calls back with message bytes and message
 * boundaries; its memory is the fixed struct below, whatever the input
 * (a 50 MB line is streamed, not buffered). */
#ifndef POSTERN_IMPORT_MBOX_H
#define POSTERN_IMPORT_MBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A From_ line longer than this is a body line. */
#define MBOX_FROM_LINE_MAX 1000

struct mbox_message_info {
	uint64_t index;		/* 1 for the first message */
	uint64_t offset;	/* of its From_ line in the input */
	uint64_t size;		/* bytes passed to data (after unquoting) */
	int64_t date;		/* From_ line date, seconds since the epoch */
	int tz_min;		/* its zone if the line wrote one, else 0 */
	bool oversize;		/* over max_message_size: data was cut short */
};

struct mbox_callbacks {
	/* Bytes of the current message, in order, in any number of calls.
	 * Not called past max_message_size. */
	void (*data)(void *ctx, const uint8_t *data, size_t len);
	/* The current message is complete. */
	void (*message)(void *ctx, const struct mbox_message_info *info);
	/* Bytes before the first From_ line that are not all white space:
	 * they belong to no message. Called at most once. */
	void (*junk)(void *ctx, uint64_t offset, uint64_t len);
};

enum mbox_state {
	MBOX_LINE_START,	/* nothing of the current line seen yet */
	MBOX_HEAD,		/* collecting a line that may be special */
	MBOX_QUOTE,		/* counting the '>' of a possible >From */
	MBOX_BODY,		/* in an ordinary line, until LF */
};

struct mbox_parser {
	const struct mbox_callbacks *cb;
	void *ctx;
	uint64_t max_message_size;
	uint64_t offset;	/* input bytes consumed */
	enum mbox_state state;
	bool in_message;
	bool finished;
	/* the head of the current line (MBOX_HEAD: "\r", "From ..."; in
	 * MBOX_QUOTE: the part after the '>' run) */
	uint8_t line[MBOX_FROM_LINE_MAX + 1];
	size_t line_len;
	uint64_t quote_gt;
	/* the last empty line, held back until we know whether a From_
	 * line follows it ("\n" or "\r\n"; 0 = none) */
	uint8_t blank_len;
	/* bytes before the first message */
	uint64_t junk_len;
	bool junk_text;
	struct mbox_message_info cur;
	uint64_t messages;
};

/* max_message_size 0 = no limit. */
void mbox_parser_init(struct mbox_parser *p, const struct mbox_callbacks *cb,
		      void *ctx, uint64_t max_message_size);
void mbox_parser_feed(struct mbox_parser *p, const uint8_t *data, size_t len);
/* End of input: completes the last message. */
void mbox_parser_finish(struct mbox_parser *p);

/* Parses a From_ line (with or without its line end). 1 and the date in
 * *date_r if it is one, 0 if not. A zone written as +hhmm/-hhmm is
 * applied and returned in *tz_min_r (minutes east of UTC); without one
 * (the usual asctime form, the delivering host's local time in a zone
 * the file does not record) the time is taken as UTC and *tz_min_r is 0. */
int mbox_from_line_parse(const uint8_t *line, size_t len, int64_t *date_r,
			 int *tz_min_r);

#endif
