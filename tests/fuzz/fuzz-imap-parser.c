/* libFuzzer target for the IMAP command parser (and the string writer).
 *
 * Input: byte 0 picks a set of limits (small ones, so every limit is hit)
 * and whether literals are streamed, bytes 1-2 seed the chunking, the
 * rest is the client's byte stream.
 *
 * The stream is parsed twice: fed whole, and fed in chunks of sizes drawn
 * from the seed (sometimes empty), with imap_parser_wipe() after every
 * feed as the login process does. Both runs must give the same transcript
 * of results (split invariance). Along the way it checks the feed
 * contract (consumed <= len, NEED_MORE consumes all, every result
 * consumes at least one byte, FATAL is final), the shape of every command
 * against the limits, and that each string argument written back with the
 * writer parses to the same bytes. With streaming, the driver refuses
 * some literals (by their size and position, never by the chunking), the
 * chunks of an accepted one must be the input itself and add up to its
 * size, and the transcript holds their concatenation. Any violation
 * aborts. */
#include "../../common/buf.h"
#include "../../common/imap-parser.h"
#include "../../common/imap-write.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const struct imap_parser_limits fuzz_presets[4] = {
	/* max_line, max_literal, max_command, max_depth, max_args */
	{ 32, 16, 128, 3, 8 },
	{ 256, 256, 2048, 8, 64 },
	{ 8, 4, 24, 1, 2 },
	{ 65536, 1 << 20, 2 << 20, 32, 4096 },
};

struct fuzz_rng {
	uint64_t s;
};

static uint32_t fuzz_rand(struct fuzz_rng *r)
{
	/* xorshift64*; the seed is never 0 */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 0x2545f4914f6cdd1dull) >> 32);
}

/* Writes s with the writer and parses it back: same bytes expected. */
static void fuzz_roundtrip(const char *s, size_t len)
{
	static struct imap_parser *rp;
	if (rp == NULL) {
		struct imap_parser_limits lim;
		imap_parser_limits_default(&lim);
		rp = imap_parser_new(&lim);
	}
	struct buf b;
	buf_init(&b);
	buf_append_str(&b, "t X ");
	imap_write_quoted_or_literal(&b, s, len, len % 2);
	buf_append_str(&b, "\r\n");
	size_t off = 0, used;
	enum imap_parse_status st;
	do {
		st = imap_parser_feed(rp, b.data + off, b.len - off, &used);
		off += used;
	} while (st == IMAP_PARSE_CONTINUE);
	FUZZ_CHECK(st == IMAP_PARSE_COMMAND && off == b.len);
	const struct imap_command *cmd = imap_parser_command(rp);
	FUZZ_CHECK(cmd->arg_count == 1 && cmd->args[0].len == len);
	FUZZ_CHECK(memcmp(cmd->args[0].str, s, len) == 0);
	buf_free(&b);
}

/* One run's view of streamed literals. */
struct fuzz_stream {
	bool refuse_odd;	/* the refusal rule, from byte 0 */
	bool active;		/* an accepted literal's bytes are due */
	uint64_t expect, got;
	struct buf data;	/* chunks not yet in the transcript */
};

static void fuzz_check_arg(const struct imap_parser_limits *lim,
			   const struct imap_arg *a, unsigned depth,
			   size_t *count, struct buf *t)
{
	(*count)++;
	FUZZ_CHECK(*count <= lim->max_args);
	buf_printf(t, "%d:", (int)a->type);
	if (a->type == IMAP_ARG_LIST) {
		FUZZ_CHECK(depth < lim->max_depth);
		FUZZ_CHECK(a->list_count == 0 || a->list != NULL);
		buf_printf(t, "%zu(", a->list_count);
		for (size_t i = 0; i < a->list_count; i++)
			fuzz_check_arg(lim, &a->list[i], depth + 1, count, t);
		buf_append_byte(t, ')');
		return;
	}
	if (a->streamed) {
		FUZZ_CHECK(a->type == IMAP_ARG_LITERAL && a->str == NULL);
		FUZZ_CHECK(lim->stream_literal > 0 &&
			   a->len > lim->stream_literal);
		FUZZ_CHECK(!imap_arg_is_astring(a));
		buf_printf(t, "%sS%zu", a->literal8 ? "~" : "", a->len);
		return;
	}
	FUZZ_CHECK(a->str != NULL && a->str[a->len] == '\0');
	if (a->type == IMAP_ARG_LITERAL) {
		FUZZ_CHECK(a->len <= lim->max_literal);
	} else {
		/* atoms and quoted strings: no NUL, no line end */
		FUZZ_CHECK(strlen(a->str) == a->len);
		FUZZ_CHECK(memchr(a->str, '\r', a->len) == NULL);
		FUZZ_CHECK(memchr(a->str, '\n', a->len) == NULL);
		FUZZ_CHECK(a->type == IMAP_ARG_QUOTED || a->len > 0);
	}
	if (a->literal8)
		buf_append_byte(t, '~');
	buf_printf(t, "%zu:", a->len);
	buf_append(t, a->str, a->len);
	if (a->type != IMAP_ARG_LITERAL || !a->literal8)
		fuzz_roundtrip(a->str, a->len);
}

/* The last argument in pre-order. */
static const struct imap_arg *fuzz_last_arg(const struct imap_command *cmd)
{
	const struct imap_arg *a = NULL, *list = cmd->args;
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

/* The chunks of a streamed literal go to the transcript joined, before
 * the next other result: their sizes depend on the split. */
static void fuzz_stream_flush(struct fuzz_stream *fs, struct buf *t)
{
	if (fs->data.len == 0)
		return;
	buf_append_str(t, "\nDATA ");
	buf_append(t, fs->data.data, fs->data.len);
	buf_clear(&fs->data);
}

static void fuzz_literal_start(struct imap_parser *p,
			       const struct imap_parser_limits *lim,
			       unsigned nresult, struct fuzz_stream *fs,
			       struct buf *t)
{
	bool sync;
	const struct imap_command *cmd = imap_parser_command(p);
	const struct imap_arg *lit = imap_parser_literal(p, &sync);
	FUZZ_CHECK(cmd != NULL && lit != NULL && !fs->active);
	FUZZ_CHECK(imap_tag_is_valid(cmd->tag) && cmd->name[0] != '\0');
	FUZZ_CHECK(lit == fuzz_last_arg(cmd) && lit->streamed);
	FUZZ_CHECK(imap_parser_error(p) == NULL);
	buf_printf(t, "%s %s %d %zu ", cmd->tag, cmd->name, (int)sync,
		   cmd->arg_count);
	size_t count = 0;
	for (size_t i = 0; i < cmd->arg_count; i++)
		fuzz_check_arg(lim, &cmd->args[i], 0, &count, t);
	if (((lit->len + nresult) % 3 == 0) != fs->refuse_odd) {
		imap_parser_literal_refuse(p);
		buf_append_str(t, " refused");
		return;
	}
	fs->active = true;
	fs->expect = lit->len;
	fs->got = 0;
}

/* Checks and records one result; decides like a server would whether the
 * next line is raw (after AUTHENTICATE, or when the script says so). */
static void fuzz_result(struct imap_parser *p,
			const struct imap_parser_limits *lim,
			enum imap_parse_status st, unsigned nresult,
			uint8_t raw_mask, struct fuzz_stream *fs, struct buf *t)
{
	const struct imap_command *cmd;
	const char *s;
	size_t len;
	bool sync;
	if (st == IMAP_PARSE_LITERAL_DATA)
		return;		/* fuzz_run keeps the bytes */
	fuzz_stream_flush(fs, t);
	/* an accepted literal's bytes all came before anything else */
	FUZZ_CHECK(!fs->active || fs->got == fs->expect);
	fs->active = false;
	buf_printf(t, "\n%d ", (int)st);
	switch (st) {
	case IMAP_PARSE_NEED_MORE:
	case IMAP_PARSE_LITERAL_DATA:
	case IMAP_PARSE_CONTINUE:
		return;
	case IMAP_PARSE_LITERAL_START:
		fuzz_literal_start(p, lim, nresult, fs, t);
		return;
	case IMAP_PARSE_COMMAND:
		cmd = imap_parser_command(p);
		FUZZ_CHECK(cmd != NULL && imap_parser_error(p) == NULL);
		FUZZ_CHECK(imap_parser_literal(p, &sync) == NULL);
		FUZZ_CHECK(imap_tag_is_valid(cmd->tag));
		FUZZ_CHECK(cmd->name[0] != '\0');
		buf_printf(t, "%s %s %zu ", cmd->tag, cmd->name, cmd->arg_count);
		size_t count = 0;
		for (size_t i = 0; i < cmd->arg_count; i++)
			fuzz_check_arg(lim, &cmd->args[i], 0, &count, t);
		if (strcasecmp(cmd->name, "AUTHENTICATE") == 0)
			imap_parser_want_line(p);
		break;
	case IMAP_PARSE_LINE:
		s = imap_parser_line(p, &len);
		FUZZ_CHECK(s != NULL && s[len] == '\0' && len <= lim->max_line);
		FUZZ_CHECK(imap_parser_command(p) == NULL);
		buf_append(t, s, len);
		break;
	case IMAP_PARSE_ERROR:
	case IMAP_PARSE_FATAL:
		FUZZ_CHECK(imap_parser_error(p) != NULL);
		FUZZ_CHECK(imap_parser_command(p) == NULL);
		s = imap_parser_error_tag(p);
		FUZZ_CHECK(s == NULL || imap_tag_is_valid(s));
		buf_printf(t, "%s %s %s", s ? s : "*", imap_parser_error(p),
			   imap_parser_error_code(p) ? imap_parser_error_code(p) : "");
		break;
	}
	if ((raw_mask >> (nresult % 8)) & 1)
		imap_parser_want_line(p);
}

/* Parses data; chunk sizes come from rng, or all at once if rng is NULL.
 * Returns the transcript in t. */
static void fuzz_run(const struct imap_parser_limits *lim,
		     const uint8_t *data, size_t size, struct fuzz_rng *rng,
		     uint8_t raw_mask, bool refuse_odd, struct buf *t)
{
	struct imap_parser *p = imap_parser_new(lim);
	size_t off = 0;
	unsigned nresult = 0;	/* results other than LITERAL_DATA */
	struct fuzz_stream fs = { .refuse_odd = refuse_odd };
	buf_init(&fs.data);
	while (off < size) {
		size_t chunk = size - off;
		if (rng != NULL) {
			uint32_t r = fuzz_rand(rng);
			if (r % 64 != 0)
				chunk = r % 97 % 17;	/* 0..16, mostly small */
			if (chunk > size - off)
				chunk = size - off;
		}
		size_t used = (size_t)-1;
		enum imap_parse_status st =
			imap_parser_feed(p, data + off, chunk, &used);
		FUZZ_CHECK(used <= chunk);
		if (st == IMAP_PARSE_NEED_MORE)
			FUZZ_CHECK(used == chunk);
		else
			FUZZ_CHECK(used > 0);	/* progress */
		if (st == IMAP_PARSE_LITERAL_DATA) {
			/* the input itself, every byte of this feed */
			size_t n;
			const uint8_t *d = imap_parser_literal_data(p, &n);
			FUZZ_CHECK(fs.active && d == data + off && n == used);
			FUZZ_CHECK(fs.got + n <= fs.expect);
			fs.got += n;
			buf_append(&fs.data, d, n);
		}
		off += used;
		if (st != IMAP_PARSE_NEED_MORE)
			fuzz_result(p, lim, st, nresult, raw_mask, &fs, t);
		if (st != IMAP_PARSE_NEED_MORE && st != IMAP_PARSE_LITERAL_DATA)
			nresult++;
		if (st == IMAP_PARSE_FATAL) {
			/* final: nothing more is taken */
			FUZZ_CHECK(imap_parser_feed(p, data, size, &used) ==
					   IMAP_PARSE_FATAL && used == 0);
			break;
		}
		if (rng != NULL)
			imap_parser_wipe(p);
	}
	fuzz_stream_flush(&fs, t);
	buf_free(&fs.data);
	imap_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim = fuzz_presets[0];
	struct fuzz_rng rng = { 0x9e3779b97f4a7c15ull };
	uint8_t raw_mask = 0;
	bool refuse_odd = false;
	if (size >= 3) {
		lim = fuzz_presets[data[0] & 3];
		raw_mask = data[0] >> 2 & 0x15;	/* sparse: raw lines are rare */
		/* bits 3, 5, 7: stream literals over 1 byte or over half
		 * the buffered limit; which ones the driver refuses */
		if (data[0] & 0x08)
			lim.stream_literal = data[0] & 0x80 ? 1 :
					     lim.max_literal / 2 + 1;
		refuse_odd = data[0] & 0x20;
		rng.s ^= (uint64_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
	}
	struct buf whole, chunked;
	buf_init(&whole);
	buf_init(&chunked);
	fuzz_run(&lim, data, size, NULL, raw_mask, refuse_odd, &whole);
	fuzz_run(&lim, data, size, &rng, raw_mask, refuse_odd, &chunked);
	FUZZ_CHECK(whole.len == chunked.len);
	FUZZ_CHECK(whole.len == 0 ||
		   memcmp(whole.data, chunked.data, whole.len) == 0);
	buf_free(&whole);
	buf_free(&chunked);
	return 0;
}
