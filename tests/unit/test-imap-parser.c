/* Tests for the IMAP command parser and the response string writer.
 *
 * Most tests describe an input and the transcript of results it must
 * give, one line per result:
 *   CMD <tag> <name> <args>   (atom bare, "quoted", {n}literal, ~{n}lit8,
 *                              (list); bytes outside 0x20..0x7e as \xHH)
 *   +                         IMAP_PARSE_CONTINUE
 *   BAD <tag|*> [code] reason IMAP_PARSE_ERROR
 *   LINE <bytes>              IMAP_PARSE_LINE
 *   BYE [code] reason         IMAP_PARSE_FATAL (the run stops)
 *   START[+] <tag> <name> <args so far>   IMAP_PARSE_LITERAL_START of a
 *                             synchronizing [non-synchronizing] literal;
 *                             a streamed literal shows as {n}<stream>
 *   DATA <bytes>              the IMAP_PARSE_LITERAL_DATA chunks up to the
 *                             next other result, joined: chunk sizes follow
 *                             the split, their concatenation must not
 * check() then feeds the same input split at every byte boundary, at
 * every pair of boundaries (short inputs), one byte at a time and in
 * pseudo-random chunks, with and without imap_parser_wipe() between
 * feeds, and requires the identical transcript each time. The driver acts
 * like a server: after "AUTHENTICATE <mech>" it calls
 * imap_parser_want_line(), and it refuses a streamed literal of a command
 * named REFUSE (" REFUSED" ends its START line). */
#include "unit.h"

#include "../../common/buf.h"
#include "../../common/imap-parser.h"
#include "../../common/imap-write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- transcript driver ---- */

static void fmt_bytes(struct buf *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f)
			buf_append_byte(o, c);
		else
			buf_printf(o, "\\x%02x", c);
	}
}

static void fmt_arg(struct buf *o, const struct imap_arg *a)
{
	if (a->streamed) {
		buf_printf(o, "%s{%zu}<stream>%s", a->literal8 ? "~" : "",
			   a->len, a->type != IMAP_ARG_LITERAL || a->str != NULL ?
			   "!NOTSTREAMED" : "");
		return;
	}
	if (a->type != IMAP_ARG_LIST && a->str[a->len] != '\0')
		buf_append_str(o, "!UNTERMINATED");
	switch (a->type) {
	case IMAP_ARG_ATOM:
		fmt_bytes(o, a->str, a->len);
		break;
	case IMAP_ARG_QUOTED:
		buf_append_byte(o, '"');
		fmt_bytes(o, a->str, a->len);
		buf_append_byte(o, '"');
		break;
	case IMAP_ARG_LITERAL:
		buf_printf(o, "%s{%zu}", a->literal8 ? "~" : "", a->len);
		fmt_bytes(o, a->str, a->len);
		break;
	case IMAP_ARG_LIST:
		buf_append_byte(o, '(');
		for (size_t i = 0; i < a->list_count; i++) {
			if (i > 0)
				buf_append_byte(o, ' ');
			fmt_arg(o, &a->list[i]);
		}
		buf_append_byte(o, ')');
		break;
	}
}

static void fmt_error(struct buf *o, const struct imap_parser *p)
{
	const char *code = imap_parser_error_code(p);
	if (code != NULL)
		buf_printf(o, "[%s] ", code);
	const char *err = imap_parser_error(p);
	buf_printf(o, "%s\n", err != NULL ? err : "!NOERROR");
}

static void fmt_command(struct buf *t, const struct imap_command *cmd)
{
	buf_printf(t, "%s %s", cmd->tag, cmd->name);
	for (size_t i = 0; i < cmd->arg_count; i++) {
		buf_append_byte(t, ' ');
		fmt_arg(t, &cmd->args[i]);
	}
}

/* The last argument in pre-order: a streamed literal just announced. */
static const struct imap_arg *last_arg(const struct imap_command *cmd)
{
	const struct imap_arg *a = NULL;
	const struct imap_arg *list = cmd->args;
	size_t n = cmd->arg_count;
	while (n > 0) {
		a = &list[n - 1];
		if (a->type != IMAP_ARG_LIST)
			break;
		list = a->list;
		n = a->list_count;
	}
	return a;
}

/* LITERAL_DATA chunks so far, joined. */
static void flush_data(struct buf *t, struct buf *data)
{
	if (data->len == 0)
		return;
	buf_append_str(t, "DATA ");
	fmt_bytes(t, (const char *)data->data, data->len);
	buf_append_byte(t, '\n');
	buf_clear(data);
}

/* Appends the result to the transcript and acts on it like a server.
 * in/used: what this feed was given and took. */
static void record(struct buf *t, struct buf *data, struct imap_parser *p,
		   enum imap_parse_status st, const uint8_t *in, size_t used)
{
	const struct imap_command *cmd;
	const struct imap_arg *lit;
	const uint8_t *chunk;
	const char *s;
	size_t len;
	bool sync;
	if (st != IMAP_PARSE_NEED_MORE && st != IMAP_PARSE_LITERAL_DATA)
		flush_data(t, data);
	switch (st) {
	case IMAP_PARSE_NEED_MORE:
		break;
	case IMAP_PARSE_LITERAL_DATA:
		/* every byte this feed took, in place */
		chunk = imap_parser_literal_data(p, &len);
		if (chunk != in || len != used || len == 0)
			buf_append_str(t, "!DATA\n");
		buf_append(data, in, used);
		break;
	case IMAP_PARSE_LITERAL_START:
		cmd = imap_parser_command(p);
		lit = imap_parser_literal(p, &sync);
		if (cmd == NULL || lit == NULL || lit != last_arg(cmd) ||
		    !lit->streamed) {
			buf_append_str(t, "!NOSTART\n");
			break;
		}
		buf_append_str(t, sync ? "START " : "START+ ");
		fmt_command(t, cmd);
		if (strcasecmp(cmd->name, "REFUSE") == 0) {
			imap_parser_literal_refuse(p);
			buf_append_str(t, " REFUSED");
		}
		buf_append_byte(t, '\n');
		break;
	case IMAP_PARSE_CONTINUE:
		buf_append_str(t, "+\n");
		break;
	case IMAP_PARSE_COMMAND:
		cmd = imap_parser_command(p);
		if (cmd == NULL) {
			buf_append_str(t, "!NOCMD\n");
			break;
		}
		if (imap_parser_literal(p, &sync) != NULL)
			buf_append_str(t, "!LITERAL\n");
		buf_append_str(t, "CMD ");
		fmt_command(t, cmd);
		buf_append_byte(t, '\n');
		if (strcasecmp(cmd->name, "AUTHENTICATE") == 0 &&
		    cmd->arg_count == 1)
			imap_parser_want_line(p);
		break;
	case IMAP_PARSE_ERROR:
		s = imap_parser_error_tag(p);
		buf_printf(t, "BAD %s ", s != NULL ? s : "*");
		fmt_error(t, p);
		break;
	case IMAP_PARSE_LINE:
		s = imap_parser_line(p, &len);
		buf_append_str(t, "LINE ");
		if (s == NULL)
			buf_append_str(t, "!NOLINE");
		else
			fmt_bytes(t, s, len);
		buf_append_byte(t, '\n');
		break;
	case IMAP_PARSE_FATAL:
		buf_append_str(t, "BYE ");
		fmt_error(t, p);
		break;
	}
}

/* Feeds in[0..len) in segments ending at cuts[] (increasing) and returns
 * the transcript (malloced). Invariant violations show up in it. */
static char *run(const struct imap_parser_limits *lim, const char *in,
		 size_t len, const size_t *cuts, size_t ncuts, bool wipe)
{
	struct imap_parser *p = imap_parser_new(lim);
	struct buf t, data;
	buf_init(&t);
	buf_init(&data);
	const uint8_t *u = (const uint8_t *)in;
	size_t start = 0;
	bool dead = false;
	for (size_t k = 0; k <= ncuts && !dead; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		while (start < end && !dead) {
			size_t used = (size_t)-1;
			enum imap_parse_status st =
				imap_parser_feed(p, u + start, end - start, &used);
			if (used > end - start ||
			    (st == IMAP_PARSE_NEED_MORE && used != end - start) ||
			    (st != IMAP_PARSE_NEED_MORE && used == 0)) {
				buf_append_str(&t, "!CONSUMED\n");
				dead = true;
				break;
			}
			record(&t, &data, p, st, u + start, used);
			start += used;
			dead = st == IMAP_PARSE_FATAL;
			if (wipe)
				imap_parser_wipe(p);
		}
	}
	flush_data(&t, &data);
	buf_free(&data);
	if (dead) {
		/* after FATAL the parser takes nothing more */
		size_t used = 1;
		if (imap_parser_feed(p, (const uint8_t *)"x", 1, &used) !=
			    IMAP_PARSE_FATAL || used != 0)
			buf_append_str(&t, "!ALIVE\n");
	}
	imap_parser_free(p);
	char *s = xstrdup(buf_cstr(&t));
	buf_free(&t);
	return s;
}

static uint32_t test_rand(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 16;
}

struct split_check {
	const char *file;
	int line;
	const char *whole;
	size_t mismatches;
};

static void split_compare(struct split_check *sc, char *got, const char *how)
{
	if (strcmp(got, sc->whole) != 0) {
		if (sc->mismatches == 0)
			fprintf(stderr, "\n%s:%d: split %s gave:\n%s--- instead of:\n%s---\n",
				sc->file, sc->line, how, got, sc->whole);
		sc->mismatches++;
	}
	free(got);
}

static void check_at(const struct imap_parser_limits *lim, const char *in,
		     size_t len, const char *expected, const char *file,
		     int line)
{
	char *whole = run(lim, in, len, NULL, 0, false);
	bool ok = strcmp(whole, expected) == 0;
	if (!ok)
		fprintf(stderr, "\n%s:%d: got:\n%s--- expected:\n%s---\n",
			file, line, whole, expected);
	CU_assertImplementation(ok, (unsigned)line, "transcript as expected",
				file, "", CU_FALSE);

	struct split_check sc = { file, line, whole, 0 };
	size_t *cuts = xcalloc(len + 1, sizeof(*cuts));
	char how[64];
	for (size_t k = 1; k < len; k++) {
		cuts[0] = k;
		snprintf(how, sizeof(how), "at %zu", k);
		split_compare(&sc, run(lim, in, len, cuts, 1, k % 2), how);
	}
	for (size_t k = 1; k < len; k++)
		cuts[k - 1] = k;
	if (len > 1) {
		split_compare(&sc, run(lim, in, len, cuts, len - 1, false),
			      "bytewise");
		split_compare(&sc, run(lim, in, len, cuts, len - 1, true),
			      "bytewise+wipe");
	}
	for (size_t i = 1; len <= 64 && i < len; i++) {
		for (size_t j = i + 1; j < len; j++) {
			cuts[0] = i;
			cuts[1] = j;
			snprintf(how, sizeof(how), "at %zu,%zu", i, j);
			split_compare(&sc, run(lim, in, len, cuts, 2, false),
				      how);
		}
	}
	uint32_t seed = 0x5eed;
	for (int r = 0; r < 16; r++) {
		size_t n = 0;
		for (size_t pos = 1 + test_rand(&seed) % 8; pos < len;
		     pos += 1 + test_rand(&seed) % 8)
			cuts[n++] = pos;
		split_compare(&sc, run(lim, in, len, cuts, n, r % 2), "random");
	}
	CU_assertImplementation(sc.mismatches == 0, (unsigned)line,
				"same transcript at every split", file, "",
				CU_FALSE);
	free(cuts);
	free(whole);
}

static struct imap_parser_limits deflim;

#define CHECK(in, exp) check_at(&deflim, in, sizeof(in) - 1, exp, __FILE__, __LINE__)
#define CHECK_LIM(lim, in, exp) \
	check_at(lim, in, sizeof(in) - 1, exp, __FILE__, __LINE__)

/* Parses one complete command fed at once; the parser stays alive for
 * inspection. */
static struct imap_parser *parse_one(const struct imap_parser_limits *lim,
				     const char *in, size_t len,
				     enum imap_parse_status *st_r)
{
	struct imap_parser *p = imap_parser_new(lim);
	size_t off = 0, used;
	do {
		*st_r = imap_parser_feed(p, (const uint8_t *)in + off,
					 len - off, &used);
		off += used;
	} while (*st_r == IMAP_PARSE_CONTINUE && off < len);
	return p;
}

/* ---- syntax forms ---- */

static void test_tags(void)
{
	CHECK("a1 NOOP\r\n", "CMD a1 NOOP\n");
	CHECK("A]x.1-_! NOOP\r\n", "CMD A]x.1-_! NOOP\n");
	CHECK(" NOOP\r\nb NOOP\r\n", "BAD * Missing tag\nCMD b NOOP\n");
	CHECK("a+1 NOOP\r\nb NOOP\r\n",
	      "BAD * Invalid characters in tag\nCMD b NOOP\n");
	CHECK("* NOOP\r\n", "BAD * Invalid characters in tag\n");
	CHECK("a{ NOOP\r\n", "BAD * Invalid characters in tag\n");
	CHECK("a\"b NOOP\r\n", "BAD * Invalid characters in tag\n");
	CHECK("a\xc3\xa9 NOOP\r\n", "BAD * Invalid characters in tag\n");
	CHECK("a1\r\nb NOOP\r\n", "BAD a1 Missing command name\nCMD b NOOP\n");
	CHECK("a1\nb NOOP\n", "BAD a1 Missing command name\nCMD b NOOP\n");
	CHECK("a1 \r\n", "BAD a1 Missing command name\n");
	CHECK("a1 NO(OP\r\n", "BAD a1 Invalid characters in command name\n");
	CHECK("a1 NO]OP\r\n", "BAD a1 Invalid characters in command name\n");
	CHECK("a1 \"NOOP\"\r\n", "BAD a1 Invalid characters in command name\n");
	/* lenient: extra spaces between tokens and at the end */
	CHECK("a1  NOOP  x  \r\n", "CMD a1 NOOP x\n");
}

static void test_tag_chars_match_writer(void)
{
	size_t mismatches = 0, valid = 0;
	for (int c = 1; c < 256; c++) {
		char tag[4] = { 'a', (char)c, 'b', '\0' };
		char in[16];
		int n = snprintf(in, sizeof(in), "%s NOOP\r\n", tag);
		enum imap_parse_status st;
		struct imap_parser *p = parse_one(&deflim, in, (size_t)n, &st);
		bool accepted = st == IMAP_PARSE_COMMAND &&
				strcmp(imap_parser_command(p)->tag, tag) == 0;
		imap_parser_free(p);
		if (accepted != imap_tag_is_valid(tag)) {
			fprintf(stderr, "tag byte 0x%02x: parser %d writer %d\n",
				c, accepted, !accepted);
			mismatches++;
		}
		valid += accepted;
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	/* 94 printable characters minus ( ) { % * " \ + */
	CU_ASSERT_EQUAL(valid, 86);
}

static void test_empty_lines(void)
{
	/* a completely empty line is ignored without a response */
	CHECK("\r\n\n\r\na NOOP\r\n", "CMD a NOOP\n");
	CHECK("\rx NOOP\r\nb NOOP\r\n", "BAD * Expected LF after CR\nCMD b NOOP\n");
	CHECK("a NOOP\rb\r\nc NOOP\r\n",
	      "BAD a Expected LF after CR\nCMD c NOOP\n");
}

static void test_atoms(void)
{
	CHECK("a STORE 1:3,5 +FLAGS.SILENT (\\Seen $Junk)\r\n",
	      "CMD a STORE 1:3,5 +FLAGS.SILENT (\\Seen $Junk)\n");
	CHECK("a LIST \"\" %/*\r\n", "CMD a LIST \"\" %/*\n");
	CHECK("a SELECT caf\xc3\xa9]\r\n", "CMD a SELECT caf\\xc3\\xa9]\n");
	CHECK("a X ~foo ~ a~{1}\r\n", "CMD a X ~foo ~ a~{1}\n");
	CHECK("a X ab\"c\r\nb NOOP\r\n",
	      "BAD a Invalid characters in atom\nCMD b NOOP\n");
	CHECK("a X a\0b\r\nb NOOP\r\n",
	      "BAD a Invalid characters in atom\nCMD b NOOP\n");
	CHECK("a X \0\r\n", "BAD a Invalid characters in atom\n");
	/* an atom stops at a parenthesis; a list needs a space after it */
	CHECK("a X b(c) d\r\n", "CMD a X b (c) d\n");
	CHECK("a X b(c)d\r\n", "BAD a Missing space after argument\n");
}

static void test_bracket_atoms(void)
{
	static const char in[] =
		"a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> FLAGS)\r\n";
	enum imap_parse_status st;
	struct imap_parser *p = parse_one(&deflim, in, sizeof(in) - 1, &st);
	CU_ASSERT_EQUAL_FATAL(st, IMAP_PARSE_COMMAND);
	const struct imap_command *cmd = imap_parser_command(p);
	CU_ASSERT_EQUAL_FATAL(cmd->arg_count, 2);
	CU_ASSERT_EQUAL(cmd->args[0].type, IMAP_ARG_ATOM);
	CU_ASSERT_STRING_EQUAL(cmd->args[0].str, "1");
	CU_ASSERT_EQUAL_FATAL(cmd->args[1].type, IMAP_ARG_LIST);
	CU_ASSERT_EQUAL_FATAL(cmd->args[1].list_count, 2);
	const struct imap_arg *body = &cmd->args[1].list[0];
	CU_ASSERT_EQUAL(body->type, IMAP_ARG_ATOM);
	CU_ASSERT_STRING_EQUAL(body->str,
			       "BODY.PEEK[HEADER.FIELDS (From To)]<0.100>");
	CU_ASSERT_EQUAL(body->len, strlen(body->str));
	CU_ASSERT_STRING_EQUAL(cmd->args[1].list[1].str, "FLAGS");
	imap_parser_free(p);

	CHECK("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> FLAGS)\r\n",
	      "CMD a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> FLAGS)\n");
	CHECK("a X a[b[c d]e]f g\r\n", "CMD a X a[b[c d]e]f g\n");
	/* header-fld-name is an astring: quoted names are kept verbatim */
	CHECK("a FETCH 1 BODY[HEADER.FIELDS (\"From\" \"X\\\"]Y\")]\r\n",
	      "CMD a FETCH 1 BODY[HEADER.FIELDS (\"From\" \"X\\\"]Y\")]\n");
	CHECK("a FETCH 1 BODY[HEADER\r\nb NOOP\r\n",
	      "BAD a Missing ']' in atom\nCMD b NOOP\n");
	CHECK("a FETCH 1 BODY[\"x\\n\"]\r\nb NOOP\r\n",
	      "BAD a Invalid escape in quoted string\nCMD b NOOP\n");
	CHECK("a FETCH 1 BODY[\"x]\r\nb NOOP\r\n",
	      "BAD a Unterminated quoted string\nCMD b NOOP\n");
	CHECK("a FETCH 1 BODY[\0]\r\n", "BAD a Invalid characters in atom\n");
}

static void test_quoted(void)
{
	CHECK("a LOGIN \"b\\\"o\\\\b\" \"\"\r\n", "CMD a LOGIN \"b\"o\\b\" \"\"\n");
	CHECK("a X \"caf\xc3\xa9 (x)\"\r\n", "CMD a X \"caf\\xc3\\xa9 (x)\"\n");
	CHECK("a X (\"a\")\r\n", "CMD a X (\"a\")\n");
	CHECK("a X \"a\\nb\"\r\nb NOOP\r\n",
	      "BAD a Invalid escape in quoted string\nCMD b NOOP\n");
	CHECK("a X \"ab\rc\"\r\nb NOOP\r\n",
	      "BAD a Unterminated quoted string\nCMD b NOOP\n");
	CHECK("a X \"ab\nb NOOP\r\n",
	      "BAD a Unterminated quoted string\nCMD b NOOP\n");
	CHECK("a X \"a\\\r\nb NOOP\r\n",
	      "BAD a Unterminated quoted string\nCMD b NOOP\n");
	CHECK("a X \"a\0\"\r\n", "BAD a Invalid characters in quoted string\n");
	CHECK("a X \"a\"b\r\n", "BAD a Missing space after argument\n");

	/* the unescaped value and its length */
	static const char in[] = "a LOGIN \"b\\\"o\\\\b\" \"\"\r\n";
	enum imap_parse_status st;
	struct imap_parser *p = parse_one(&deflim, in, sizeof(in) - 1, &st);
	CU_ASSERT_EQUAL_FATAL(st, IMAP_PARSE_COMMAND);
	const struct imap_command *cmd = imap_parser_command(p);
	CU_ASSERT_EQUAL_FATAL(cmd->arg_count, 2);
	CU_ASSERT_EQUAL(cmd->args[0].type, IMAP_ARG_QUOTED);
	CU_ASSERT_EQUAL(cmd->args[0].len, 5);
	CU_ASSERT_STRING_EQUAL(cmd->args[0].str, "b\"o\\b");
	CU_ASSERT_EQUAL(cmd->args[1].len, 0);
	CU_ASSERT_STRING_EQUAL(cmd->args[1].str, "");
	imap_parser_free(p);
}

static void test_literals(void)
{
	CHECK("a LOGIN {3}\r\nbob {2}\r\npw\r\n", "+\n+\nCMD a LOGIN {3}bob {2}pw\n");
	CHECK("a LOGIN {3+}\r\nbob {2+}\r\npw\r\n", "CMD a LOGIN {3}bob {2}pw\n");
	CHECK("a LOGIN {3}\nbob x\n", "+\nCMD a LOGIN {3}bob x\n");
	CHECK("a APPEND INBOX {6}\r\na\r\n\0b)\r\n",
	      "+\nCMD a APPEND INBOX {6}a\\x0d\\x0a\\x00b)\n");
	CHECK("a APPEND INBOX (\\Seen) ~{3}\r\nx\0y\r\n",
	      "+\nCMD a APPEND INBOX (\\Seen) ~{3}x\\x00y\n");
	CHECK("a APPEND INBOX ~{3+}\r\nx\0y\r\n",
	      "CMD a APPEND INBOX ~{3}x\\x00y\n");
	CHECK("a X {0}\r\n {0+}\r\n\r\n", "+\nCMD a X {0} {0}\n");
	CHECK("a X ({1+}\r\na b)\r\n", "CMD a X ({1}a b)\n");
	CHECK("a X {1+}\r\nab\r\n", "BAD a Missing space after argument\n");
	CHECK("a X {}\r\nb NOOP\r\n", "BAD a Invalid literal size\nCMD b NOOP\n");
	CHECK("a X {+}\r\n", "BAD a Invalid literal size\n");
	CHECK("a X {1x}\r\n", "BAD a Invalid literal size\n");
	CHECK("a X {1+2}\r\n", "BAD a Invalid literal size\n");
	CHECK("a X ~{}\r\n", "BAD a Invalid literal size\n");
	CHECK("a X {1} x\r\nb NOOP\r\n",
	      "BAD a Missing CRLF after literal size\nCMD b NOOP\n");
	CHECK("a X {1}\rx\r\n", "BAD a Missing CRLF after literal size\n");
	/* a size that would overflow saturates and is refused */
	CHECK("a X {99999999999999999999999999}\r\nb NOOP\r\n",
	      "BAD a [TOOBIG] Literal too big\nCMD b NOOP\n");
}

static void test_literal_limits(void)
{
	struct imap_parser_limits lim = deflim;
	lim.max_literal = 10;
	CHECK_LIM(&lim, "a APPEND INBOX {10}\r\n0123456789\r\n",
		  "+\nCMD a APPEND INBOX {10}0123456789\n");
	/* synchronizing: refused, the client sends no bytes for it */
	CHECK_LIM(&lim, "a APPEND INBOX {11}\r\nb NOOP\r\n",
		  "BAD a [TOOBIG] Literal too big\nCMD b NOOP\n");
	CHECK_LIM(&lim, "a APPEND INBOX ~{11}\r\nb NOOP\r\n",
		  "BAD a [TOOBIG] Literal too big\nCMD b NOOP\n");
	/* non-synchronizing: its bytes are coming, give up */
	CHECK_LIM(&lim, "a APPEND INBOX {11+}\r\n01234567890\r\nb NOOP\r\n",
		  "BYE [TOOBIG] Literal too big\n");

	lim.max_literal = 100;
	lim.max_command = 40;
	/* 19 bytes are in when "}" comes: 19 + CRLF + 17 + CRLF = 40 */
	CHECK_LIM(&lim, "a APPEND INBOX {17}\r\n01234567890123456\r\n",
		  "+\nCMD a APPEND INBOX {17}01234567890123456\n");
	/* fits when announced (18 <= 40 - 19), not with the line ends */
	CHECK_LIM(&lim, "a APPEND INBOX {18}\r\n012345678901234567\r\nb NOOP\r\n",
		  "+\nBAD a [LIMIT] Command too big\nCMD b NOOP\n");
	CHECK_LIM(&lim, "a APPEND INBOX {22}\r\nb NOOP\r\n",
		  "BAD a [TOOBIG] Command too big\nCMD b NOOP\n");
	CHECK_LIM(&lim, "a APPEND INBOX {22+}\r\n",
		  "BYE [TOOBIG] Command too big\n");
	/* lines after a literal count too */
	CHECK_LIM(&lim, "a X {5+}\r\n12345 0123456789012345678901234567\r\nb NOOP\r\n",
		  "BAD a [LIMIT] Command too big\nCMD b NOOP\n");

	/* after FATAL: the failing command's tag, then nothing more */
	lim.max_literal = 10;
	static const char in[] = "a APPEND INBOX {11+}\r\n01234567890\r\n";
	struct imap_parser *p = imap_parser_new(&lim);
	size_t used;
	CU_ASSERT_EQUAL(imap_parser_feed(p, (const uint8_t *)in, sizeof(in) - 1,
					 &used), IMAP_PARSE_FATAL);
	CU_ASSERT_EQUAL(used, strlen("a APPEND INBOX {11+}"));
	CU_ASSERT_STRING_EQUAL(imap_parser_error_tag(p), "a");
	CU_ASSERT_STRING_EQUAL(imap_parser_error_code(p), "TOOBIG");
	CU_ASSERT_EQUAL(imap_parser_feed(p, (const uint8_t *)in + used,
					 sizeof(in) - 1 - used, &used),
			IMAP_PARSE_FATAL);
	CU_ASSERT_EQUAL(used, 0);
	CU_ASSERT_STRING_EQUAL(imap_parser_error(p), "Literal too big");
	imap_parser_free(p);
}

/* A bad command's non-synchronizing literals belong to it: their bytes
 * must not be read as commands (RFC 7888). */
static void test_skip_nonsync_literal(void)
{
	CHECK("a X \"\\q\" {5+}\r\nhe\r\no\r\nb NOOP\r\n",
	      "BAD a Invalid escape in quoted string\nCMD b NOOP\n");
	CHECK("a X \"\\q\" ~{5+}\nc X\ny\nb NOOP\n",
	      "BAD a Invalid escape in quoted string\nCMD b NOOP\n");
	CHECK("a X \"\\q\" {2+}\r\nxy {1+}\r\nz\r\nb NOOP\r\n",
	      "BAD a Invalid escape in quoted string\nCMD b NOOP\n");
	CHECK("a X \"\\q\" {0+}\r\n\r\nb NOOP\r\n",
	      "BAD a Invalid escape in quoted string\nCMD b NOOP\n");
	/* synchronizing: the client waits for "+", gets BAD, sends nothing */
	CHECK("a X \"\\q\" {5}\r\nb NOOP\r\n",
	      "BAD a Invalid escape in quoted string\nCMD b NOOP\n");
	/* not at the line end: not a literal */
	CHECK("a X \"\\q\" {5+} \r\nb NOOP\r\n",
	      "BAD a Invalid escape in quoted string\nCMD b NOOP\n");
	struct imap_parser_limits lim = deflim;
	lim.max_literal = 10;
	CHECK_LIM(&lim, "a X \"\\q\" {11+}\r\n01234567890\r\n",
		  "BAD a Invalid escape in quoted string\nBYE [TOOBIG] Literal too big\n");
	lim.max_args = 2;
	CHECK_LIM(&lim, "a X 1 2 {3+}\r\nc X\r\nb NOOP\r\n",
		  "BAD a [LIMIT] Too many arguments\nCMD b NOOP\n");
	CHECK_LIM(&lim, "a X 1 2 {3}\r\nb NOOP\r\n",
		  "BAD a [LIMIT] Too many arguments\nCMD b NOOP\n");
}

static void test_lists(void)
{
	CHECK("a X (1 (2 3) () ((4)))\r\n", "CMD a X (1 (2 3) () ((4)))\n");
	CHECK("a X ( a  b )\r\n", "CMD a X (a b)\n");
	CHECK("a X (a b\r\nb NOOP\r\n", "BAD a Unbalanced parenthesis\nCMD b NOOP\n");
	CHECK("a X a)\r\nb NOOP\r\n", "BAD a Unbalanced parenthesis\nCMD b NOOP\n");
	CHECK("a X )\r\n", "BAD a Unbalanced parenthesis\n");
	CHECK("a X (a)(b)\r\n", "BAD a Missing space after argument\n");

	static const char in[] = "a X (1 (2 3) () ((4))) 5\r\n";
	enum imap_parse_status st;
	struct imap_parser *p = parse_one(&deflim, in, sizeof(in) - 1, &st);
	CU_ASSERT_EQUAL_FATAL(st, IMAP_PARSE_COMMAND);
	const struct imap_command *cmd = imap_parser_command(p);
	CU_ASSERT_EQUAL_FATAL(cmd->arg_count, 2);
	const struct imap_arg *l = &cmd->args[0];
	CU_ASSERT_EQUAL_FATAL(l->list_count, 4);
	CU_ASSERT_STRING_EQUAL(l->list[0].str, "1");
	CU_ASSERT_EQUAL_FATAL(l->list[1].list_count, 2);
	CU_ASSERT_STRING_EQUAL(l->list[1].list[1].str, "3");
	CU_ASSERT_EQUAL(l->list[2].type, IMAP_ARG_LIST);
	CU_ASSERT_EQUAL(l->list[2].list_count, 0);
	CU_ASSERT_EQUAL_FATAL(l->list[3].list_count, 1);
	CU_ASSERT_EQUAL_FATAL(l->list[3].list[0].list_count, 1);
	CU_ASSERT_STRING_EQUAL(l->list[3].list[0].list[0].str, "4");
	CU_ASSERT_STRING_EQUAL(cmd->args[1].str, "5");
	imap_parser_free(p);
}

static void test_list_limits(void)
{
	struct imap_parser_limits lim = deflim;
	lim.max_depth = 2;
	CHECK_LIM(&lim, "a X (()) (())\r\n", "CMD a X (()) (())\n");
	CHECK_LIM(&lim, "a X ((()))\r\nb NOOP\r\n",
		  "BAD a [LIMIT] Too deeply nested\nCMD b NOOP\n");
	lim.max_depth = 0;
	CHECK_LIM(&lim, "a X ()\r\n", "BAD a [LIMIT] Too deeply nested\n");

	lim = deflim;
	lim.max_args = 3;
	/* lists count as arguments */
	CHECK_LIM(&lim, "a X 1 (2)\r\n", "CMD a X 1 (2)\n");
	CHECK_LIM(&lim, "a X 1 (2 3)\r\nb NOOP\r\n",
		  "BAD a [LIMIT] Too many arguments\nCMD b NOOP\n");
	CHECK_LIM(&lim, "a X 1 2 \"3\" \"4\"\r\n",
		  "BAD a [LIMIT] Too many arguments\n");
	CHECK_LIM(&lim, "a X 1 2 3 ~x\r\n", "BAD a [LIMIT] Too many arguments\n");
	CHECK_LIM(&lim, "a X 1 2 3 (\r\n", "BAD a [LIMIT] Too many arguments\n");
}

static void test_line_limits(void)
{
	struct imap_parser_limits lim = deflim;
	lim.max_line = 20;
	/* exactly 20 bytes before CRLF or LF */
	CHECK_LIM(&lim, "a X 0123456789012345\r\n", "CMD a X 0123456789012345\n");
	CHECK_LIM(&lim, "a X 0123456789012345\n", "CMD a X 0123456789012345\n");
	CHECK_LIM(&lim, "a X 01234567890123456\r\nb NOOP\r\n",
		  "BAD a [LIMIT] Line too long\nCMD b NOOP\n");
	CHECK_LIM(&lim, "a X 0123456789012345\rx\r\nb NOOP\r\n",
		  "BAD a [LIMIT] Line too long\nCMD b NOOP\n");
	/* a literal's bytes are not part of a line */
	CHECK_LIM(&lim, "a X {5+}\r\n12345 012345678901234\r\n",
		  "CMD a X {5}12345 012345678901234\n");
	CHECK_LIM(&lim, "a X {25+}\r\n0123456789012345678901234\r\n",
		  "CMD a X {25}0123456789012345678901234\n");
	/* each line of a command is bounded */
	CHECK_LIM(&lim, "a X {1+}\r\n1 0123456789012345678\r\n",
		  "CMD a X {1}1 0123456789012345678\n");
	CHECK_LIM(&lim, "a X {1+}\r\n1 01234567890123456789\r\nb NOOP\r\n",
		  "BAD a [LIMIT] Line too long\nCMD b NOOP\n");

	/* the error comes as soon as the limit is passed, not at the LF */
	size_t len = 5000;
	char *in = xmalloc(len);
	memset(in, 'x', len);
	memcpy(in, "a X ", 4);
	memcpy(in + len - 10, "\r\nb NOOP\r\n", 10);
	struct imap_parser *p = imap_parser_new(&lim);
	size_t used, off;
	CU_ASSERT_EQUAL(imap_parser_feed(p, (uint8_t *)in, len, &used),
			IMAP_PARSE_ERROR);
	CU_ASSERT_EQUAL(used, 21);
	CU_ASSERT_STRING_EQUAL(imap_parser_error(p), "Line too long");
	CU_ASSERT_STRING_EQUAL(imap_parser_error_tag(p), "a");
	off = used;
	CU_ASSERT_EQUAL(imap_parser_feed(p, (uint8_t *)in + off, len - off,
					 &used), IMAP_PARSE_COMMAND);
	CU_ASSERT_EQUAL(off + used, len);
	CU_ASSERT_STRING_EQUAL(imap_parser_command(p)->tag, "b");
	imap_parser_free(p);
	free(in);
}

static void test_raw_line(void)
{
	CHECK("a AUTHENTICATE PLAIN\r\nAGJvYgBwdw==\r\nb NOOP\r\n",
	      "CMD a AUTHENTICATE PLAIN\nLINE AGJvYgBwdw==\nCMD b NOOP\n");
	CHECK("a AUTHENTICATE PLAIN\n*\nb NOOP\n",
	      "CMD a AUTHENTICATE PLAIN\nLINE *\nCMD b NOOP\n");
	CHECK("a AUTHENTICATE PLAIN\r\n\r\n", "CMD a AUTHENTICATE PLAIN\nLINE \n");
	/* no syntax in a raw line; only its final CR is dropped */
	CHECK("a AUTHENTICATE X\r\n x \"(\\q {5+}\r\nb NOOP\r\n",
	      "CMD a AUTHENTICATE X\nLINE  x \"(\\q {5+}\nCMD b NOOP\n");
	CHECK("a AUTHENTICATE X\r\nx\ry\0\r\r\n",
	      "CMD a AUTHENTICATE X\nLINE x\\x0dy\\x00\\x0d\n");

	struct imap_parser_limits lim = deflim;
	lim.max_line = 20;
	CHECK_LIM(&lim, "a AUTHENTICATE X\r\n01234567890123456789\r\nb NOOP\r\n",
		  "CMD a AUTHENTICATE X\nLINE 01234567890123456789\nCMD b NOOP\n");
	CHECK_LIM(&lim, "a AUTHENTICATE X\r\n012345678901234567890\r\nb NOOP\r\n",
		  "CMD a AUTHENTICATE X\nBAD * [LIMIT] Line too long\nCMD b NOOP\n");

	/* want_line applies to one line only */
	struct imap_parser *p = imap_parser_new(&deflim);
	size_t used;
	static const char in[] = "abc\r\nd NOOP\r\n";
	imap_parser_want_line(p);
	CU_ASSERT_EQUAL(imap_parser_feed(p, (const uint8_t *)in, sizeof(in) - 1,
					 &used), IMAP_PARSE_LINE);
	size_t len = 99;
	const char *line = imap_parser_line(p, &len);
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT_NSTRING_EQUAL(line, "abc", 3);
	CU_ASSERT_PTR_NULL(imap_parser_command(p));
	CU_ASSERT_EQUAL(imap_parser_feed(p, (const uint8_t *)in + used,
					 sizeof(in) - 1 - used, &used),
			IMAP_PARSE_COMMAND);
	CU_ASSERT_PTR_NULL(imap_parser_line(p, &len));
	CU_ASSERT_EQUAL(len, 0);
	imap_parser_free(p);
}

static void test_pipelined(void)
{
	CHECK("a NOOP\r\nb SELECT INBOX\r\nc LOGIN {1+}\r\nx y\r\nd LOGOUT\r\n",
	      "CMD a NOOP\nCMD b SELECT INBOX\nCMD c LOGIN {1}x y\nCMD d LOGOUT\n");

	/* one buffer: each feed stops after one command */
	static const char in[] = "a NOOP\r\nb CHECK\r\n";
	struct imap_parser *p = imap_parser_new(&deflim);
	size_t used;
	CU_ASSERT_EQUAL(imap_parser_feed(p, (const uint8_t *)in, sizeof(in) - 1,
					 &used), IMAP_PARSE_COMMAND);
	CU_ASSERT_EQUAL(used, 8);
	CU_ASSERT_STRING_EQUAL(imap_parser_command(p)->name, "NOOP");
	CU_ASSERT_PTR_NULL(imap_parser_error(p));
	CU_ASSERT_EQUAL(imap_parser_feed(p, (const uint8_t *)in + 8,
					 sizeof(in) - 9, &used),
			IMAP_PARSE_COMMAND);
	CU_ASSERT_EQUAL(used, sizeof(in) - 9);
	CU_ASSERT_STRING_EQUAL(imap_parser_command(p)->tag, "b");
	CU_ASSERT_STRING_EQUAL(imap_parser_command(p)->name, "CHECK");
	CU_ASSERT_EQUAL(imap_parser_command(p)->arg_count, 0);
	/* an empty feed ends the result's lifetime */
	CU_ASSERT_EQUAL(imap_parser_feed(p, (const uint8_t *)"", 0, &used),
			IMAP_PARSE_NEED_MORE);
	CU_ASSERT_EQUAL(used, 0);
	CU_ASSERT_PTR_NULL(imap_parser_command(p));
	imap_parser_free(p);
}

static void test_lf_only(void)
{
	CHECK("a NOOP\nb LOGIN {3}\nbob (x)\nc X \"q\"\n",
	      "CMD a NOOP\n+\nCMD b LOGIN {3}bob (x)\nCMD c X \"q\"\n");
}

/* A script of everything, split everywhere: identical results. */
static void test_split_everywhere(void)
{
	CHECK("t1 LOGIN {5}\r\nal\r\ne {8+}\r\np\"a ss\0w\r\n",
	      "+\nCMD t1 LOGIN {5}al\\x0d\\x0ae {8}p\"a ss\\x00w\n");
	CHECK("a APPEND Drafts (\\Seen \\Draft) \"1-Jan-2024 00:00:00 +0000\" "
	      "~{4}\r\nab\r\n CATENATE (URL \"/x\" TEXT {2+}\r\nhi)\n"
	      "b UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.9>)\r\n"
	      "c BAD(\r\nd AUTHENTICATE PLAIN\r\nAGEAYg==\r\n\r\n"
	      "e X \"\\q\" {3+}\r\nf Y\r\ng LOGOUT\r\n",
	      "+\n"
	      "CMD a APPEND Drafts (\\Seen \\Draft) \"1-Jan-2024 00:00:00 +0000\" "
	      "~{4}ab\\x0d\\x0a CATENATE (URL \"/x\" TEXT {2}hi)\n"
	      "CMD b UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.9>)\n"
	      "BAD c Invalid characters in command name\n"
	      "CMD d AUTHENTICATE PLAIN\nLINE AGEAYg==\n"
	      "BAD e Invalid escape in quoted string\nCMD g LOGOUT\n");
}

/* ---- streamed literals ---- */

/* Literals over 4 bytes are streamed; the transcript joins the chunks,
 * so every split must give the same bytes. */
static void test_stream_literals(void)
{
	struct imap_parser_limits lim = deflim;
	lim.stream_literal = 4;
	/* up to the threshold: buffered as before */
	CHECK_LIM(&lim, "a APPEND INBOX {4}\r\nabcd\r\n",
		  "+\nCMD a APPEND INBOX {4}abcd\n");
	CHECK_LIM(&lim, "a APPEND INBOX {6}\r\nab\r\ncd\r\n",
		  "START a APPEND INBOX {6}<stream>\nDATA ab\\x0d\\x0acd\n"
		  "CMD a APPEND INBOX {6}<stream>\n");
	CHECK_LIM(&lim, "a APPEND INBOX {5+}\r\nhello\r\nb NOOP\r\n",
		  "START+ a APPEND INBOX {5}<stream>\nDATA hello\n"
		  "CMD a APPEND INBOX {5}<stream>\nCMD b NOOP\n");
	CHECK_LIM(&lim, "a APPEND INBOX ~{5}\na\0b\r\n\n",
		  "START a APPEND INBOX ~{5}<stream>\nDATA a\\x00b\\x0d\\x0a\n"
		  "CMD a APPEND INBOX ~{5}<stream>\n");
	/* MULTIAPPEND: streamed and buffered literals in one command */
	CHECK_LIM(&lim, "a APPEND INBOX (\\Seen) {5}\r\nhello (\\Draft) {2}\r\n"
		  "hi \"1-Jan-2024 00:00:00 +0000\" {6+}\r\nworld!\r\n",
		  "START a APPEND INBOX (\\Seen) {5}<stream>\nDATA hello\n+\n"
		  "START+ a APPEND INBOX (\\Seen) {5}<stream> (\\Draft) {2}hi "
		  "\"1-Jan-2024 00:00:00 +0000\" {6}<stream>\nDATA world!\n"
		  "CMD a APPEND INBOX (\\Seen) {5}<stream> (\\Draft) {2}hi "
		  "\"1-Jan-2024 00:00:00 +0000\" {6}<stream>\n");
	/* inside a list: the partial command has the list open so far */
	CHECK_LIM(&lim, "a X (a ({5+}\r\nhello) b)\r\n",
		  "START+ a X (a ({5}<stream>))\nDATA hello\n"
		  "CMD a X (a ({5}<stream>) b)\n");
	/* what follows the literal is parsed as usual */
	CHECK_LIM(&lim, "a APPEND INBOX {5+}\r\nhellox\r\nb NOOP\r\n",
		  "START+ a APPEND INBOX {5}<stream>\nDATA hello\n"
		  "BAD a Missing space after argument\nCMD b NOOP\n");
	CHECK_LIM(&lim, "a X {5} \r\nb NOOP\r\n",
		  "BAD a Missing CRLF after literal size\nCMD b NOOP\n");
	/* the input ends inside the literal: the chunks so far */
	CHECK_LIM(&lim, "a APPEND INBOX {50+}\r\n0123456789",
		  "START+ a APPEND INBOX {50}<stream>\nDATA 0123456789\n");
	/* a size that saturates is the caller's to judge */
	CHECK_LIM(&lim, "r REFUSE {99999999999999999999}\r\nb NOOP\r\n",
		  "START r REFUSE {18446744073709551615}<stream> REFUSED\n"
		  "CMD b NOOP\n");
}

/* A streamed literal is bound by neither max_literal nor max_command;
 * buffered ones still are. */
static void test_stream_limits(void)
{
	struct imap_parser_limits lim = deflim;
	lim.stream_literal = 4;
	lim.max_literal = 3;
	lim.max_command = 40;
	CHECK_LIM(&lim, "a APPEND INBOX {50+}\r\n"
		  "01234567890123456789012345678901234567890123456789\r\n",
		  "START+ a APPEND INBOX {50}<stream>\nDATA "
		  "01234567890123456789012345678901234567890123456789\n"
		  "CMD a APPEND INBOX {50}<stream>\n");
	CHECK_LIM(&lim, "a APPEND INBOX {4}\r\nb NOOP\r\n",
		  "BAD a [TOOBIG] Literal too big\nCMD b NOOP\n");
	CHECK_LIM(&lim, "a APPEND INBOX {4+}\r\nabcd\r\n",
		  "BYE [TOOBIG] Literal too big\n");
	/* streamed bytes do not count toward the command, its lines do */
	CHECK_LIM(&lim, "a X {50+}\r\n"
		  "01234567890123456789012345678901234567890123456789"
		  " 012345678901234567890123456789\r\nb NOOP\r\n",
		  "START+ a X {50}<stream>\nDATA "
		  "01234567890123456789012345678901234567890123456789\n"
		  "BAD a [LIMIT] Command too big\nCMD b NOOP\n");
}

/* Refused: a synchronizing literal ends its command (the client sends
 * nothing without "+"); a non-synchronizing one is skipped with the rest
 * of its command, whatever the size of its literals. */
static void test_stream_refuse(void)
{
	struct imap_parser_limits lim = deflim;
	lim.stream_literal = 4;
	CHECK_LIM(&lim, "r REFUSE INBOX {6}\r\nb NOOP\r\n",
		  "START r REFUSE INBOX {6}<stream> REFUSED\nCMD b NOOP\n");
	CHECK_LIM(&lim, "r REFUSE INBOX {6+}\r\nab\r\ncd x {3+}\r\n{1}\r\n"
		  "b NOOP\r\n",
		  "START+ r REFUSE INBOX {6}<stream> REFUSED\nCMD b NOOP\n");
	CHECK_LIM(&lim, "r REFUSE INBOX {6+}\r\nab\r\ncd {5}\r\nb NOOP\r\n",
		  "START+ r REFUSE INBOX {6}<stream> REFUSED\nCMD b NOOP\n");
	lim.max_literal = 10;
	CHECK_LIM(&lim, "r REFUSE {6+}\r\nabcdef {20+}\r\n"
		  "01234567890123456789\r\nb NOOP\r\n",
		  "START+ r REFUSE {6}<stream> REFUSED\nCMD b NOOP\n");
	/* only the refused command's: a bad one still gives up */
	CHECK_LIM(&lim, "r REFUSE {6+}\r\nabcdef\r\na X \"\\q\" {11+}\r\n"
		  "01234567890\r\n",
		  "START+ r REFUSE {6}<stream> REFUSED\n"
		  "BAD a Invalid escape in quoted string\n"
		  "BYE [TOOBIG] Literal too big\n");
	/* the second literal of a command is refused after the first
	 * streamed */
	CHECK_LIM(&lim, "r REFUSE INBOX {1}\r\nx {5+}\r\nhello {2+}\r\nhi\r\n"
		  "b NOOP\r\n",
		  "+\nSTART+ r REFUSE INBOX {1}x {5}<stream> REFUSED\n"
		  "CMD b NOOP\n");
}

/* The contract around the statuses, fed in one go. */
static void test_stream_api(void)
{
	struct imap_parser_limits lim = deflim;
	lim.stream_literal = 4;
	static const char in[] = "a APPEND INBOX (\\Seen) {10}\r\n0123456789\r\n";
	const uint8_t *u = (const uint8_t *)in;
	size_t len = sizeof(in) - 1, used, n;
	bool sync = false;
	struct imap_parser *p = imap_parser_new(&lim);
	CU_ASSERT_EQUAL(imap_parser_feed(p, u, len, &used),
			IMAP_PARSE_LITERAL_START);
	CU_ASSERT_EQUAL(used, strlen("a APPEND INBOX (\\Seen) {10}\r\n"));
	const struct imap_command *cmd = imap_parser_command(p);
	const struct imap_arg *lit = imap_parser_literal(p, &sync);
	CU_ASSERT_TRUE(sync);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
	CU_ASSERT_STRING_EQUAL(cmd->tag, "a");
	CU_ASSERT_STRING_EQUAL(cmd->name, "APPEND");
	CU_ASSERT_EQUAL_FATAL(cmd->arg_count, 3);
	CU_ASSERT_PTR_EQUAL(lit, &cmd->args[2]);
	CU_ASSERT_EQUAL(lit->type, IMAP_ARG_LITERAL);
	CU_ASSERT_TRUE(lit->streamed);
	CU_ASSERT_PTR_NULL(lit->str);
	CU_ASSERT_EQUAL(lit->len, 10);
	CU_ASSERT_FALSE(imap_arg_is_astring(lit));
	CU_ASSERT_PTR_NULL(imap_parser_literal_data(p, &n));
	size_t off = used;
	/* a chunk is the input itself */
	CU_ASSERT_EQUAL(imap_parser_feed(p, u + off, 3, &used),
			IMAP_PARSE_LITERAL_DATA);
	CU_ASSERT_EQUAL(used, 3);
	CU_ASSERT_PTR_EQUAL(imap_parser_literal_data(p, &n), u + off);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_PTR_NULL(imap_parser_literal(p, &sync));
	CU_ASSERT_PTR_NULL(imap_parser_command(p));
	off += used;
	/* the rest of the literal, and no more */
	CU_ASSERT_EQUAL(imap_parser_feed(p, u + off, len - off, &used),
			IMAP_PARSE_LITERAL_DATA);
	CU_ASSERT_EQUAL(used, 7);
	CU_ASSERT_PTR_EQUAL(imap_parser_literal_data(p, &n), u + off);
	CU_ASSERT_EQUAL(n, 7);
	off += used;
	CU_ASSERT_EQUAL(imap_parser_feed(p, u + off, len - off, &used),
			IMAP_PARSE_COMMAND);
	CU_ASSERT_EQUAL(off + used, len);
	CU_ASSERT_PTR_NULL(imap_parser_literal(p, &sync));
	CU_ASSERT_PTR_NULL(imap_parser_literal_data(p, &n));
	cmd = imap_parser_command(p);
	CU_ASSERT_EQUAL_FATAL(cmd->arg_count, 3);
	CU_ASSERT_EQUAL(cmd->args[1].list_count, 1);
	CU_ASSERT_TRUE(cmd->args[2].streamed);
	CU_ASSERT_PTR_NULL(cmd->args[2].str);
	CU_ASSERT_EQUAL(cmd->args[2].len, 10);
	CU_ASSERT_FALSE(cmd->args[1].streamed);

	/* refused: the tag is there for the answer until the next feed */
	static const char in2[] = "r APPEND INBOX {10+}\r\n0123456789\r\nb NOOP\r\n";
	u = (const uint8_t *)in2;
	len = sizeof(in2) - 1;
	CU_ASSERT_EQUAL(imap_parser_feed(p, u, len, &used),
			IMAP_PARSE_LITERAL_START);
	CU_ASSERT_PTR_NOT_NULL_FATAL(imap_parser_literal(p, &sync));
	CU_ASSERT_FALSE(sync);
	imap_parser_literal_refuse(p);
	CU_ASSERT_STRING_EQUAL(imap_parser_command(p)->tag, "r");
	off = used;
	CU_ASSERT_EQUAL(imap_parser_feed(p, u + off, len - off, &used),
			IMAP_PARSE_COMMAND);
	CU_ASSERT_EQUAL(off + used, len);
	CU_ASSERT_STRING_EQUAL(imap_parser_command(p)->tag, "b");
	imap_parser_free(p);
}

/* A script of everything with streaming on, split everywhere. */
static void test_stream_split_everywhere(void)
{
	struct imap_parser_limits lim = deflim;
	lim.stream_literal = 3;
	CHECK_LIM(&lim,
		  "t1 LOGIN {3}\r\nbob {8+}\r\np\"a ss\0w\r\n"
		  "a APPEND Drafts (\\Seen) ~{4}\r\nab\r\n {2+}\r\nhi (\\X) {7}\n"
		  "x\ny\r\nz!\r\n"
		  "r REFUSE {5+}\r\n\r\n\r\n\r {4+}\r\n1234\r\n"
		  "d AUTHENTICATE PLAIN\r\nAGEAYg==\r\n"
		  "r REFUSE {9}\r\ne X \"\\q\" {3+}\r\nf Y\r\ng LOGOUT\r\n",
		  "+\nSTART+ t1 LOGIN {3}bob {8}<stream>\n"
		  "DATA p\"a ss\\x00w\nCMD t1 LOGIN {3}bob {8}<stream>\n"
		  "START a APPEND Drafts (\\Seen) ~{4}<stream>\n"
		  "DATA ab\\x0d\\x0a\n"
		  "START a APPEND Drafts (\\Seen) ~{4}<stream> {2}hi (\\X) "
		  "{7}<stream>\nDATA x\\x0ay\\x0d\\x0az!\n"
		  "CMD a APPEND Drafts (\\Seen) ~{4}<stream> {2}hi (\\X) "
		  "{7}<stream>\n"
		  "START+ r REFUSE {5}<stream> REFUSED\n"
		  "CMD d AUTHENTICATE PLAIN\nLINE AGEAYg==\n"
		  "START r REFUSE {9}<stream> REFUSED\n"
		  "BAD e Invalid escape in quoted string\nCMD g LOGOUT\n");
}

static void test_wipe(void)
{
	struct imap_parser *p = imap_parser_new(&deflim);
	size_t used;
	static const char in[] = "a LOGIN bob secret\r\n";
	CU_ASSERT_EQUAL(imap_parser_feed(p, (const uint8_t *)in, sizeof(in) - 1,
					 &used), IMAP_PARSE_COMMAND);
	CU_ASSERT_PTR_NOT_NULL(imap_parser_command(p));
	imap_parser_wipe(p);
	/* the result is gone with its bytes */
	CU_ASSERT_PTR_NULL(imap_parser_command(p));

	/* a command in progress survives a wipe (the login process wipes
	 * after every read) */
	static const char a[] = "b LOGIN bo", b[] = "b pw\r\n";
	CU_ASSERT_EQUAL(imap_parser_feed(p, (const uint8_t *)a, sizeof(a) - 1,
					 &used), IMAP_PARSE_NEED_MORE);
	imap_parser_wipe(p);
	CU_ASSERT_EQUAL(imap_parser_feed(p, (const uint8_t *)b, sizeof(b) - 1,
					 &used), IMAP_PARSE_COMMAND);
	const struct imap_command *cmd = imap_parser_command(p);
	CU_ASSERT_EQUAL_FATAL(cmd->arg_count, 2);
	CU_ASSERT_STRING_EQUAL(cmd->args[0].str, "bob");
	CU_ASSERT_STRING_EQUAL(cmd->args[1].str, "pw");
	imap_parser_free(p);
	imap_parser_free(NULL);
}

static void test_errors_and_helpers(void)
{
	struct imap_parser *p = imap_parser_new(&deflim);
	size_t used;
	static const char in[] = "a X (\r\nb LOGIN {3+}\r\nbob \"pw\" ~{1+}\r\nx\r\n";
	CU_ASSERT_EQUAL(imap_parser_feed(p, (const uint8_t *)in, sizeof(in) - 1,
					 &used), IMAP_PARSE_ERROR);
	CU_ASSERT_PTR_NULL(imap_parser_command(p));
	CU_ASSERT_STRING_EQUAL(imap_parser_error(p), "Unbalanced parenthesis");
	CU_ASSERT_PTR_NULL(imap_parser_error_code(p));
	CU_ASSERT_STRING_EQUAL(imap_parser_error_tag(p), "a");
	size_t off = used;
	CU_ASSERT_EQUAL(imap_parser_feed(p, (const uint8_t *)in + off,
					 sizeof(in) - 1 - off, &used),
			IMAP_PARSE_COMMAND);
	CU_ASSERT_PTR_NULL(imap_parser_error(p));
	CU_ASSERT_PTR_NULL(imap_parser_error_tag(p));
	const struct imap_command *cmd = imap_parser_command(p);
	CU_ASSERT_EQUAL_FATAL(cmd->arg_count, 3);
	CU_ASSERT_TRUE(imap_arg_is_astring(&cmd->args[0]));
	CU_ASSERT_TRUE(imap_arg_is_astring(&cmd->args[1]));
	CU_ASSERT_FALSE(imap_arg_is_astring(&cmd->args[2]));
	CU_ASSERT_TRUE(cmd->args[2].literal8);
	CU_ASSERT_FALSE(imap_arg_atom_equals(&cmd->args[0], "bob"));
	imap_parser_free(p);

	static const char in2[] = "a STORE 1 +FLAGS (\\Seen) \"x\"\r\n";
	enum imap_parse_status st;
	p = parse_one(&deflim, in2, sizeof(in2) - 1, &st);
	CU_ASSERT_EQUAL_FATAL(st, IMAP_PARSE_COMMAND);
	cmd = imap_parser_command(p);
	CU_ASSERT_TRUE(imap_arg_atom_equals(&cmd->args[1], "+flags"));
	CU_ASSERT_FALSE(imap_arg_atom_equals(&cmd->args[1], "+flag"));
	CU_ASSERT_FALSE(imap_arg_atom_equals(&cmd->args[2], "(\\Seen)"));
	CU_ASSERT_FALSE(imap_arg_is_astring(&cmd->args[2]));
	CU_ASSERT_FALSE(imap_arg_atom_equals(&cmd->args[3], "x"));
	imap_parser_free(p);

	struct imap_parser_limits lim;
	imap_parser_limits_default(&lim);
	CU_ASSERT(lim.max_line >= 8192);	/* RFC 7162 section 4 */
	CU_ASSERT(lim.max_literal > 0);
	CU_ASSERT(lim.max_command >= lim.max_literal + lim.max_line);
	CU_ASSERT(lim.max_depth > 0);
	CU_ASSERT(lim.max_args > 0);
}

/* ---- writer ---- */

static char *write_with(void (*fn)(struct buf *, const char *, size_t),
			const char *s, size_t len)
{
	struct buf b;
	buf_init(&b);
	fn(&b, s, len);
	char *r = xstrndup(buf_cstr(&b), b.len);
	buf_free(&b);
	return r;
}

static char *write_utf8(const char *s, size_t len)
{
	struct buf b;
	buf_init(&b);
	imap_write_quoted_or_literal(&b, s, len, true);
	char *r = xstrndup(buf_cstr(&b), b.len);
	buf_free(&b);
	return r;
}

#define WRITES(fn, in, exp) do { \
	char *w_ = write_with(fn, in, sizeof(in) - 1); \
	CU_ASSERT_STRING_EQUAL(w_, exp); \
	free(w_); \
} while (0)
#define WRITES_UTF8(in, exp) do { \
	char *w_ = write_utf8(in, sizeof(in) - 1); \
	CU_ASSERT_STRING_EQUAL(w_, exp); \
	free(w_); \
} while (0)

static void test_write_strings(void)
{
	WRITES(imap_write_astring, "INBOX", "\"INBOX\"");
	WRITES(imap_write_astring, "NIL", "\"NIL\"");
	WRITES(imap_write_astring, "", "\"\"");
	WRITES(imap_write_astring, "a\"b\\c d", "\"a\\\"b\\\\c d\"");
	WRITES(imap_write_astring, "a\r\nb", "{4}\r\na\r\nb");
	WRITES(imap_write_astring, "a\tb", "{3}\r\na\tb");
	WRITES(imap_write_astring, "caf\xc3\xa9", "{5}\r\ncaf\xc3\xa9");
	WRITES(imap_write_nstring, "x", "\"x\"");
	WRITES(imap_write_nstring, "", "\"\"");
	WRITES(imap_write_literal, "", "{0}\r\n");
	WRITES(imap_write_literal, "ab", "{2}\r\nab");
	char *w = write_with(imap_write_nstring, NULL, 0);
	CU_ASSERT_STRING_EQUAL(w, "NIL");
	free(w);
	w = write_with(imap_write_astring, NULL, 0);
	CU_ASSERT_STRING_EQUAL(w, "\"\"");
	free(w);

	/* UTF-8 is quoted only when allowed and valid */
	WRITES_UTF8("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	WRITES_UTF8("\xe2\x82\xac \xf0\x9f\x98\x80", "\"\xe2\x82\xac \xf0\x9f\x98\x80\"");
	WRITES_UTF8("\xc0\x80", "{2}\r\n\xc0\x80");		/* overlong */
	WRITES_UTF8("\xe0\x80\xaf", "{3}\r\n\xe0\x80\xaf");	/* overlong */
	WRITES_UTF8("\xed\xa0\x80", "{3}\r\n\xed\xa0\x80");	/* surrogate */
	WRITES_UTF8("\xf4\x90\x80\x80", "{4}\r\n\xf4\x90\x80\x80"); /* > U+10FFFF */
	WRITES_UTF8("\xe2\x82", "{2}\r\n\xe2\x82");		/* truncated */
	WRITES_UTF8("\xe2\x82x", "{3}\r\n\xe2\x82x");
	WRITES_UTF8("\x80", "{1}\r\n\x80");
	WRITES_UTF8("a\"\\", "\"a\\\"\\\\\"");

	/* long strings become literals */
	char long_s[IMAP_WRITE_QUOTED_MAX + 1];
	memset(long_s, 'a', sizeof(long_s));
	w = write_with(imap_write_astring, long_s, IMAP_WRITE_QUOTED_MAX);
	CU_ASSERT_EQUAL(w[0], '"');
	CU_ASSERT_EQUAL(strlen(w), IMAP_WRITE_QUOTED_MAX + 2);
	free(w);
	w = write_with(imap_write_astring, long_s, sizeof(long_s));
	CU_ASSERT_NSTRING_EQUAL(w, "{1025}\r\naaa", 11);
	free(w);
}

static void test_write_tags(void)
{
	CU_ASSERT_TRUE(imap_tag_is_valid("a1"));
	CU_ASSERT_TRUE(imap_tag_is_valid("A]."));
	CU_ASSERT_FALSE(imap_tag_is_valid(""));
	CU_ASSERT_FALSE(imap_tag_is_valid(NULL));
	CU_ASSERT_FALSE(imap_tag_is_valid("a+"));
	CU_ASSERT_FALSE(imap_tag_is_valid("*"));
	CU_ASSERT_FALSE(imap_tag_is_valid("a b"));
	CU_ASSERT_FALSE(imap_tag_is_valid("a\xc3\xa9"));
}

/* What the writer produces, the parser reads back as the same bytes. */
static bool roundtrip(const char *s, size_t len, bool utf8)
{
	struct buf b;
	buf_init(&b);
	buf_append_str(&b, "t X ");
	imap_write_quoted_or_literal(&b, s, len, utf8);
	buf_append_str(&b, "\r\n");
	enum imap_parse_status st;
	struct imap_parser *p = parse_one(&deflim, (const char *)b.data, b.len,
					  &st);
	const struct imap_command *cmd = imap_parser_command(p);
	bool ok = st == IMAP_PARSE_COMMAND && cmd->arg_count == 1 &&
		  (cmd->args[0].type == IMAP_ARG_QUOTED ||
		   cmd->args[0].type == IMAP_ARG_LITERAL) &&
		  cmd->args[0].len == len &&
		  memcmp(cmd->args[0].str, s, len) == 0;
	imap_parser_free(p);
	buf_free(&b);
	return ok;
}

static void test_write_roundtrip(void)
{
	size_t bad = 0;
	for (int c = 0; c < 256; c++) {
		char s[3] = { 'x', (char)c, '"' };
		bad += !roundtrip(s, 3, false) + !roundtrip(s, 3, true);
	}
	static const char *const samples[] = {
		"", "NIL", "a b", "\\\"", "caf\xc3\xa9", "\xf0\x9f\x98\x80",
		"\xc3", "x\r\ny", "{3}", "(a)", "~{1}",
	};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		bad += !roundtrip(samples[i], strlen(samples[i]), false);
		bad += !roundtrip(samples[i], strlen(samples[i]), true);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void imap_parser_suite(void)
{
	imap_parser_limits_default(&deflim);
	CU_pSuite s = CU_add_suite("imap-parser", NULL, NULL);
	CU_add_test(s, "tags", test_tags);
	CU_add_test(s, "tag chars match writer", test_tag_chars_match_writer);
	CU_add_test(s, "empty lines", test_empty_lines);
	CU_add_test(s, "atoms", test_atoms);
	CU_add_test(s, "bracket atoms", test_bracket_atoms);
	CU_add_test(s, "quoted", test_quoted);
	CU_add_test(s, "literals", test_literals);
	CU_add_test(s, "literal limits", test_literal_limits);
	CU_add_test(s, "skip nonsync literal", test_skip_nonsync_literal);
	CU_add_test(s, "lists", test_lists);
	CU_add_test(s, "list limits", test_list_limits);
	CU_add_test(s, "line limits", test_line_limits);
	CU_add_test(s, "raw line", test_raw_line);
	CU_add_test(s, "pipelined", test_pipelined);
	CU_add_test(s, "LF only", test_lf_only);
	CU_add_test(s, "split everywhere", test_split_everywhere);
	CU_add_test(s, "stream literals", test_stream_literals);
	CU_add_test(s, "stream limits", test_stream_limits);
	CU_add_test(s, "stream refuse", test_stream_refuse);
	CU_add_test(s, "stream api", test_stream_api);
	CU_add_test(s, "stream split everywhere",
		    test_stream_split_everywhere);
	CU_add_test(s, "wipe", test_wipe);
	CU_add_test(s, "errors and helpers", test_errors_and_helpers);

	CU_pSuite w = CU_add_suite("imap-write", NULL, NULL);
	CU_add_test(w, "strings", test_write_strings);
	CU_add_test(w, "tags", test_write_tags);
	CU_add_test(w, "roundtrip", test_write_roundtrip);
}

UNIT_SUITE(imap_parser_suite)
