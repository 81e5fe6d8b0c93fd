/* Incremental IMAP command parser; see imap-parser.h for the contract.
 *
 * The parser is a byte-at-a-time state machine (literal bodies are copied
 * in bulk). Every decision depends only on the bytes seen so far and the
 * state, never on where a chunk ends, so input split at any byte gives
 * identical results: the unit tests check this at every split point.
 *
 * While a command is parsed, all of its string bytes go into one arena
 * (each token NUL-terminated) and its arguments into a flat pre-order
 * array of nodes holding arena offsets; only when the line is complete is
 * the imap_arg tree built, with pointers, in one allocation. Offsets keep
 * the partial command valid while the arena grows.
 *
 * Leniency, chosen to accept what real clients send (RFC 9051 section 9
 * is stricter):
 * - a lone LF ends a line like CRLF; a CR must be followed by LF;
 * - a completely empty line (CRLF or LF) is ignored without a response;
 * - runs of spaces between arguments and trailing spaces are accepted;
 * - atoms take any byte but SP, CR, LF, "(", ")" (and NUL or '"', which
 *   are errors); inside "[...]" an atom also takes SP, parentheses and
 *   quoted strings (kept verbatim), since FETCH section specs contain
 *   header-fld-name astrings: BODY[HEADER.FIELDS ("From")] is legal.
 *
 * Streaming (limits.stream_literal): a literal over the threshold gets a
 * node like any other, marked streamed, but no arena bytes; its data goes
 * to the caller chunk by chunk as it is fed, so its chunking follows the
 * caller's input. Everything else stays independent of the chunking:
 * the concatenated chunks, and every other result, are the same for any
 * split of the input. */
#include "imap-parser.h"

#include "buf.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* An arena that grew beyond this for one big command is released when the
 * next command starts, so an idle session does not keep a 50 MB APPEND. */
#define IMAP_PARSER_KEEP_BYTES (64 * 1024)

enum imap_parser_state {
	IMAP_PS_START,		/* at the start of a line, before the tag */
	IMAP_PS_START_CR,	/* CR at the start of a line */
	IMAP_PS_TAG,
	IMAP_PS_NAME_START,
	IMAP_PS_NAME,
	IMAP_PS_ARG_START,	/* an argument, ")" or the line end may follow */
	IMAP_PS_AFTER_ARG,	/* after a quoted string, literal or list */
	IMAP_PS_CR,		/* CR at the end of a command line */
	IMAP_PS_ATOM,
	IMAP_PS_ATOM_BRACKET,	/* inside "[...]" of an atom */
	IMAP_PS_ATOM_BRACKET_QUOTED,
	IMAP_PS_ATOM_BRACKET_ESC,
	IMAP_PS_QUOTED,
	IMAP_PS_QUOTED_ESC,
	IMAP_PS_TILDE,		/* "~": literal8 or an atom */
	IMAP_PS_LIT_SIZE,	/* digits of "{n" */
	IMAP_PS_LIT_PLUS,	/* "{n+" */
	IMAP_PS_LIT_CR,		/* after "}" */
	IMAP_PS_LIT_LF,
	IMAP_PS_LITERAL,	/* literal bytes, buffered or streamed */
	IMAP_PS_RAW,		/* a raw line after imap_parser_want_line() */
	IMAP_PS_SKIP,		/* after an error: skipping to the line end */
	IMAP_PS_SKIP_LITERAL,	/* skipping a non-synchronizing literal */
	IMAP_PS_DEAD,		/* after IMAP_PARSE_FATAL */
};

/* While skipping a bad command, "{n+}" just before the line end is
 * tracked: the client sends those n bytes without waiting, and they belong
 * to the bad command, not to a new one (RFC 7888 section 3). */
enum imap_parser_skip {
	IMAP_SKIP_NONE,
	IMAP_SKIP_DIGITS,
	IMAP_SKIP_PLUS,
	IMAP_SKIP_CLOSE,
	IMAP_SKIP_CLOSE_CR,
};

struct imap_parser_node {
	enum imap_arg_type type;
	bool literal8;
	bool streamed;		/* len is the literal's size, no arena bytes */
	size_t off;		/* into the arena; unused for lists */
	size_t len;
	size_t child_count;	/* lists */
};

struct imap_parser_frame {
	size_t base;
	size_t count;
	size_t next;
};

struct imap_parser {
	struct imap_parser_limits limits;
	enum imap_parser_state state;
	bool want_line;

	/* The command being parsed. */
	struct buf arena;
	struct imap_parser_node *nodes;
	size_t node_count, node_cap;
	size_t *open;			/* node indices of open lists */
	size_t depth, open_cap, depth_seen;
	size_t top_count;
	size_t tok_off;			/* tag, name or raw line start */
	size_t tag_off, name_off;
	bool has_tag;
	size_t cur;			/* node being filled */
	size_t bracket_depth;
	uint64_t lit_size;
	unsigned lit_digits;
	bool lit_sync;
	bool lit_stream;		/* this literal is streamed */
	uint64_t lit_remaining;
	size_t line_len;		/* bytes of this line, LF excluded */
	size_t cmd_bytes;		/* bytes of this command, all lines */

	enum imap_parser_skip skip;
	uint64_t skip_size;
	unsigned skip_digits;
	uint64_t skip_remaining;
	/* skipping a refused command: its literals are skipped whatever
	 * their size (the client was told the command failed, and nothing
	 * is kept) */
	bool skip_refused;

	/* The result, valid until the next feed. */
	bool result_pending;
	/* LITERAL_START or LITERAL_DATA: the command goes on; only the
	 * view of it ends with the next feed */
	bool partial_pending;
	bool cmd_ready;
	const struct imap_arg *stream_arg;	/* after LITERAL_START */
	const struct imap_arg *last_arg;	/* in pre-order, of the build */
	bool may_refuse;
	const uint8_t *stream_data;		/* after LITERAL_DATA */
	size_t stream_len;
	struct imap_command cmd;
	struct imap_arg *out;
	size_t out_cap;
	struct imap_parser_frame *frames;
	size_t frames_cap;
	bool line_ready;
	size_t line_off, line_length;
	const char *error;
	const char *error_code;
	bool error_has_tag;
};

void imap_parser_limits_default(struct imap_parser_limits *limits)
{
	/* RFC 7162 section 4 asks servers to accept lines of at least 8192
	 * octets; long UID sets from resynchronising clients exceed that. */
	limits->max_line = 64 * 1024;
	limits->max_literal = 64 * 1024 * 1024;
	/* Room for one maximal literal plus a few lines around it. */
	limits->max_command = limits->max_literal + 1024 * 1024;
	limits->max_depth = 32;
	limits->max_args = 4096;
	limits->stream_literal = 0;
}

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));
	p->limits = *limits;
	buf_init(&p->arena);
	p->state = IMAP_PS_START;
	return p;
}

void imap_parser_free(struct imap_parser *p)
{
	if (p == NULL)
		return;
	buf_wipe(&p->arena);
	free(p->nodes);
	free(p->open);
	free(p->out);
	free(p->frames);
	free(p);
}

/* ---- arena ---- */

/* Grows like buf_reserve, but never leaves an old copy behind in freed
 * memory: the arena may hold a password (LOGIN, AUTHENTICATE). */
static void imap_parser_reserve(struct imap_parser *p, size_t extra)
{
	struct buf *a = &p->arena;
	if (a->cap > a->len && extra < a->cap - a->len)
		return;
	if (extra > SIZE_MAX / 4 - a->len)
		fatal("imap parser: arena size overflow");
	size_t need = a->len + extra + 1;
	size_t cap = a->cap ? a->cap : 256;
	while (cap < need)
		cap *= 2;
	size_t len = a->len;
	uint8_t *data = xmalloc(cap);
	if (len > 0)
		memcpy(data, a->data, len);
	buf_wipe(a);
	a->data = data;
	a->cap = cap;
	a->len = len;
}

static void imap_parser_append(struct imap_parser *p, const uint8_t *data,
			       size_t len)
{
	imap_parser_reserve(p, len);
	memcpy(p->arena.data + p->arena.len, data, len);
	p->arena.len += len;
}

static void imap_parser_append_byte(struct imap_parser *p, uint8_t c)
{
	imap_parser_reserve(p, 1);
	p->arena.data[p->arena.len++] = c;
}

/* Ends the token that started at off; returns its length. */
static size_t imap_parser_end_token(struct imap_parser *p, size_t off)
{
	size_t len = p->arena.len - off;
	imap_parser_append_byte(p, '\0');
	return len;
}

/* ---- result life cycle ---- */

static void imap_parser_clear_command(struct imap_parser *p)
{
	if (p->arena.cap > IMAP_PARSER_KEEP_BYTES)
		buf_wipe(&p->arena);
	p->arena.len = 0;
	p->node_count = 0;
	p->depth = 0;
	p->depth_seen = 0;
	p->top_count = 0;
	p->has_tag = false;
	p->cmd_bytes = 0;
}

/* Ends the view of a command in progress that LITERAL_START or
 * LITERAL_DATA gave, keeping the command. */
static void imap_parser_reset_partial(struct imap_parser *p)
{
	p->partial_pending = false;
	p->cmd_ready = false;
	memset(&p->cmd, 0, sizeof(p->cmd));
	p->stream_arg = NULL;
	p->may_refuse = false;
	p->stream_data = NULL;
	p->stream_len = 0;
}

static void imap_parser_reset_result(struct imap_parser *p)
{
	imap_parser_reset_partial(p);
	p->result_pending = false;
	p->cmd_ready = false;
	memset(&p->cmd, 0, sizeof(p->cmd));
	p->line_ready = false;
	p->error = NULL;
	p->error_code = NULL;
	p->error_has_tag = false;
	imap_parser_clear_command(p);
}

/* ---- character classes (RFC 9051 section 9) ---- */

/* ATOM-CHAR: any CHAR except atom-specials, i.e. "(" ")" "{" SP CTL
 * "%" "*" DQUOTE "\" "]". Used strictly for the command name. */
static bool imap_parser_is_atom_char(uint8_t c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\]", c) == NULL;
}

/* tag = 1*<any ASTRING-CHAR except "+">; ASTRING-CHAR adds "]". A strict
 * tag is echoed in our responses, so it must not break their syntax. */
static bool imap_parser_is_tag_char(uint8_t c)
{
	return c == ']' || (imap_parser_is_atom_char(c) && c != '+');
}

/* Adds a decimal digit, saturating: the size is compared with a limit
 * anyway, and "{99999999999999999999}" must not wrap to a small one. */
static void imap_parser_add_digit(uint64_t *v, uint8_t c)
{
	uint64_t d = (uint64_t)(c - '0');
	if (*v > (UINT64_MAX - d) / 10)
		*v = UINT64_MAX;
	else
		*v = *v * 10 + d;
}

static bool imap_parser_is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* ---- errors and skipping ---- */

static void imap_parser_skip_scan(struct imap_parser *p, uint8_t c)
{
	switch (c) {
	case '{':
		p->skip = IMAP_SKIP_DIGITS;
		p->skip_size = 0;
		p->skip_digits = 0;
		return;
	case '+':
		p->skip = p->skip == IMAP_SKIP_DIGITS && p->skip_digits > 0 ?
				  IMAP_SKIP_PLUS : IMAP_SKIP_NONE;
		return;
	case '}':
		p->skip = p->skip == IMAP_SKIP_PLUS ? IMAP_SKIP_CLOSE :
						      IMAP_SKIP_NONE;
		return;
	case '\r':
		p->skip = p->skip == IMAP_SKIP_CLOSE ? IMAP_SKIP_CLOSE_CR :
						       IMAP_SKIP_NONE;
		return;
	default:
		if (p->skip == IMAP_SKIP_DIGITS && imap_parser_is_digit(c)) {
			imap_parser_add_digit(&p->skip_size, c);
			p->skip_digits++;
		} else {
			p->skip = IMAP_SKIP_NONE;
		}
	}
}

/* The bad command ends with its line: if the failing byte was the LF,
 * the next byte starts a new command; otherwise skip to the LF. A
 * synchronizing literal announced on the skipped line is refused by our
 * BAD, so the client sends no bytes for it (RFC 9051 section 4.3). */
static enum imap_parse_status imap_parser_fail(struct imap_parser *p,
					       uint8_t c, const char *reason,
					       const char *code)
{
	p->error = reason;
	p->error_code = code;
	p->error_has_tag = p->has_tag;
	if (c == '\n') {
		p->state = IMAP_PS_START;
		return IMAP_PARSE_ERROR;
	}
	p->state = IMAP_PS_SKIP;
	p->skip = IMAP_SKIP_NONE;
	imap_parser_skip_scan(p, c);
	return IMAP_PARSE_ERROR;
}

static enum imap_parse_status imap_parser_die(struct imap_parser *p,
					      const char *reason,
					      const char *code)
{
	p->error = reason;
	p->error_code = code;
	p->error_has_tag = p->has_tag;
	p->state = IMAP_PS_DEAD;
	return IMAP_PARSE_FATAL;
}

static enum imap_parse_status imap_parser_skip_byte(struct imap_parser *p,
						    uint8_t c)
{
	if (c != '\n') {
		imap_parser_skip_scan(p, c);
		return IMAP_PARSE_NEED_MORE;
	}
	p->line_len = 0;
	bool literal = p->skip == IMAP_SKIP_CLOSE ||
		       p->skip == IMAP_SKIP_CLOSE_CR;
	p->skip = IMAP_SKIP_NONE;
	if (!literal) {
		p->skip_refused = false;
		p->state = IMAP_PS_START;
		return IMAP_PARSE_NEED_MORE;
	}
	/* ARCHITECTURE: a non-synchronizing literal over the limit cannot
	 * be skipped reliably; give up on the connection. A refused
	 * command's literals are known to be literals. */
	if (!p->skip_refused && p->skip_size > p->limits.max_literal)
		return imap_parser_die(p, "Literal too big", "TOOBIG");
	p->skip_remaining = p->skip_size;
	p->state = p->skip_remaining > 0 ? IMAP_PS_SKIP_LITERAL :
					   IMAP_PS_SKIP;
	return IMAP_PARSE_NEED_MORE;
}

/* ---- building the result ---- */

static void imap_parser_fill_arg(struct imap_parser *p, struct imap_arg *a,
				 const struct imap_parser_node *n)
{
	memset(a, 0, sizeof(*a));
	a->type = n->type;
	a->literal8 = n->literal8;
	a->streamed = n->streamed;
	if (n->type != IMAP_ARG_LIST) {
		a->str = n->streamed ? NULL : (char *)p->arena.data + n->off;
		a->len = n->len;
	}
}

/* Lays the pre-order node array out as the imap_arg tree: each list's
 * children get one contiguous block, reserved before its first child is
 * visited. Iterative, so deep nesting costs no C stack. */
static void imap_parser_build(struct imap_parser *p)
{
	size_t n = p->node_count;
	if (p->out_cap < n) {
		free(p->out);
		p->out = xcalloc(n, sizeof(*p->out));
		p->out_cap = n;
	}
	if (p->frames_cap < p->depth_seen + 1) {
		free(p->frames);
		p->frames_cap = p->depth_seen + 1;
		p->frames = xcalloc(p->frames_cap, sizeof(*p->frames));
	}
	size_t sp = 0, next_free = p->top_count, i = 0;
	p->frames[sp++] = (struct imap_parser_frame){ 0, p->top_count, 0 };
	while (sp > 0) {
		struct imap_parser_frame *f = &p->frames[sp - 1];
		if (f->next == f->count) {
			sp--;
			continue;
		}
		const struct imap_parser_node *node = &p->nodes[i++];
		struct imap_arg *a = &p->out[f->base + f->next++];
		imap_parser_fill_arg(p, a, node);
		if (i == n)
			p->last_arg = a;
		if (node->type != IMAP_ARG_LIST)
			continue;
		a->list_count = node->child_count;
		a->list = node->child_count > 0 ? p->out + next_free : NULL;
		p->frames[sp++] = (struct imap_parser_frame){
			next_free, node->child_count, 0 };
		next_free += node->child_count;
	}
	p->cmd.tag = (char *)p->arena.data + p->tag_off;
	p->cmd.name = (char *)p->arena.data + p->name_off;
	p->cmd.args = n > 0 ? p->out : NULL;
	p->cmd.arg_count = p->top_count;
	p->cmd_ready = true;
}

/* ---- arguments ---- */

static bool imap_parser_add_node(struct imap_parser *p,
				 enum imap_arg_type type)
{
	if (p->node_count >= p->limits.max_args)
		return false;
	if (p->node_count == p->node_cap) {
		p->node_cap = p->node_cap ? p->node_cap * 2 : 16;
		p->nodes = xrealloc(p->nodes, p->node_cap * sizeof(*p->nodes));
	}
	struct imap_parser_node *n = &p->nodes[p->node_count];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->off = p->arena.len;
	if (p->depth > 0)
		p->nodes[p->open[p->depth - 1]].child_count++;
	else
		p->top_count++;
	p->cur = p->node_count++;
	return true;
}

static void imap_parser_end_node(struct imap_parser *p)
{
	struct imap_parser_node *n = &p->nodes[p->cur];
	n->len = imap_parser_end_token(p, n->off);
}

static enum imap_parse_status imap_parser_end_line(struct imap_parser *p,
						   uint8_t c)
{
	if (p->depth > 0)
		return imap_parser_fail(p, c, "Unbalanced parenthesis", NULL);
	imap_parser_build(p);
	p->state = IMAP_PS_START;
	return IMAP_PARSE_COMMAND;
}

static enum imap_parse_status imap_parser_open_list(struct imap_parser *p,
						    uint8_t c)
{
	if (p->depth >= p->limits.max_depth)
		return imap_parser_fail(p, c, "Too deeply nested", "LIMIT");
	if (!imap_parser_add_node(p, IMAP_ARG_LIST))
		return imap_parser_fail(p, c, "Too many arguments", "LIMIT");
	if (p->depth == p->open_cap) {
		p->open_cap = p->open_cap ? p->open_cap * 2 : 8;
		p->open = xrealloc(p->open, p->open_cap * sizeof(*p->open));
	}
	p->open[p->depth++] = p->cur;
	if (p->depth > p->depth_seen)
		p->depth_seen = p->depth;
	p->state = IMAP_PS_ARG_START;
	return IMAP_PARSE_NEED_MORE;
}

static enum imap_parse_status imap_parser_close_list(struct imap_parser *p,
						     uint8_t c)
{
	if (p->depth == 0)
		return imap_parser_fail(p, c, "Unbalanced parenthesis", NULL);
	p->depth--;
	p->state = IMAP_PS_AFTER_ARG;
	return IMAP_PARSE_NEED_MORE;
}

static enum imap_parse_status imap_parser_begin_literal(struct imap_parser *p,
							uint8_t c, bool lit8)
{
	if (!imap_parser_add_node(p, IMAP_ARG_LITERAL))
		return imap_parser_fail(p, c, "Too many arguments", "LIMIT");
	p->nodes[p->cur].literal8 = lit8;
	p->lit_size = 0;
	p->lit_digits = 0;
	p->state = IMAP_PS_LIT_SIZE;
	return IMAP_PARSE_NEED_MORE;
}

static enum imap_parse_status imap_parser_atom_byte(struct imap_parser *p,
						    uint8_t c);

static enum imap_parse_status imap_parser_arg_start(struct imap_parser *p,
						    uint8_t c)
{
	switch (c) {
	case ' ':
		p->state = IMAP_PS_ARG_START;
		return IMAP_PARSE_NEED_MORE;
	case '\r':
		p->state = IMAP_PS_CR;
		return IMAP_PARSE_NEED_MORE;
	case '\n':
		return imap_parser_end_line(p, c);
	case '(':
		return imap_parser_open_list(p, c);
	case ')':
		return imap_parser_close_list(p, c);
	case '"':
		if (!imap_parser_add_node(p, IMAP_ARG_QUOTED))
			return imap_parser_fail(p, c, "Too many arguments",
						"LIMIT");
		p->state = IMAP_PS_QUOTED;
		return IMAP_PARSE_NEED_MORE;
	case '{':
		return imap_parser_begin_literal(p, c, false);
	case '~':
		p->state = IMAP_PS_TILDE;
		return IMAP_PARSE_NEED_MORE;
	default:
		if (!imap_parser_add_node(p, IMAP_ARG_ATOM))
			return imap_parser_fail(p, c, "Too many arguments",
						"LIMIT");
		p->state = IMAP_PS_ATOM;
		return imap_parser_atom_byte(p, c);
	}
}

static enum imap_parse_status imap_parser_after_arg(struct imap_parser *p,
						    uint8_t c)
{
	/* RFC 9051 section 9: arguments are separated by SP; a list may
	 * close right after its last element. */
	if (c == ' ' || c == ')' || c == '\r' || c == '\n')
		return imap_parser_arg_start(p, c);
	return imap_parser_fail(p, c, "Missing space after argument", NULL);
}

static enum imap_parse_status imap_parser_atom_byte(struct imap_parser *p,
						    uint8_t c)
{
	switch (c) {
	case ' ':
	case '\r':
	case '\n':
	case '(':
	case ')':
		imap_parser_end_node(p);
		return imap_parser_arg_start(p, c);
	case '"':
	case '\0':
		/* a NUL would silently cut the C string handlers see */
		return imap_parser_fail(p, c, "Invalid characters in atom",
					NULL);
	case '[':
		p->bracket_depth = 1;
		p->state = IMAP_PS_ATOM_BRACKET;
		break;
	}
	imap_parser_append_byte(p, c);
	return IMAP_PARSE_NEED_MORE;
}

/* Inside "[...]": everything up to the matching "]" belongs to the atom
 * (RFC 9051 section 6.4.5, section-spec). */
static enum imap_parse_status imap_parser_bracket_byte(struct imap_parser *p,
						       uint8_t c)
{
	switch (c) {
	case '\r':
	case '\n':
		return imap_parser_fail(p, c, "Missing ']' in atom", NULL);
	case '\0':
		return imap_parser_fail(p, c, "Invalid characters in atom",
					NULL);
	case '[':
		p->bracket_depth++;
		break;
	case ']':
		if (--p->bracket_depth == 0)
			p->state = IMAP_PS_ATOM;
		break;
	case '"':
		p->state = IMAP_PS_ATOM_BRACKET_QUOTED;
		break;
	}
	imap_parser_append_byte(p, c);
	return IMAP_PARSE_NEED_MORE;
}

/* A quoted string inside brackets is kept with its quotes and escapes for
 * the command handler; only its syntax is checked here. */
static enum imap_parse_status
imap_parser_bracket_quoted_byte(struct imap_parser *p, uint8_t c)
{
	if (c == '\r' || c == '\n')
		return imap_parser_fail(p, c, "Unterminated quoted string",
					NULL);
	if (c == '\0')
		return imap_parser_fail(p, c,
					"Invalid characters in quoted string",
					NULL);
	if (p->state == IMAP_PS_ATOM_BRACKET_ESC) {
		if (c != '"' && c != '\\')
			return imap_parser_fail(
				p, c, "Invalid escape in quoted string", NULL);
		p->state = IMAP_PS_ATOM_BRACKET_QUOTED;
	} else if (c == '\\') {
		p->state = IMAP_PS_ATOM_BRACKET_ESC;
	} else if (c == '"') {
		p->state = IMAP_PS_ATOM_BRACKET;
	}
	imap_parser_append_byte(p, c);
	return IMAP_PARSE_NEED_MORE;
}

/* RFC 9051 section 4.3: quoted = DQUOTE *QUOTED-CHAR DQUOTE, where only
 * DQUOTE and "\" are escaped and CR, LF and NUL cannot appear. 8-bit bytes
 * are kept (UTF-8 under IMAP4rev2 / UTF8=ACCEPT). */
static enum imap_parse_status imap_parser_quoted_byte(struct imap_parser *p,
						      uint8_t c)
{
	if (c == '\r' || c == '\n')
		return imap_parser_fail(p, c, "Unterminated quoted string",
					NULL);
	if (c == '\0')
		return imap_parser_fail(p, c,
					"Invalid characters in quoted string",
					NULL);
	if (p->state == IMAP_PS_QUOTED_ESC) {
		if (c != '"' && c != '\\')
			return imap_parser_fail(
				p, c, "Invalid escape in quoted string", NULL);
		p->state = IMAP_PS_QUOTED;
	} else if (c == '\\') {
		p->state = IMAP_PS_QUOTED_ESC;
		return IMAP_PARSE_NEED_MORE;
	} else if (c == '"') {
		imap_parser_end_node(p);
		p->state = IMAP_PS_AFTER_ARG;
		return IMAP_PARSE_NEED_MORE;
	}
	imap_parser_append_byte(p, c);
	return IMAP_PARSE_NEED_MORE;
}

static enum imap_parse_status imap_parser_tilde_byte(struct imap_parser *p,
						     uint8_t c)
{
	/* RFC 3516 literal8 = "~{" number64 ["+"] "}" CRLF *OCTET */
	if (c == '{')
		return imap_parser_begin_literal(p, c, true);
	if (!imap_parser_add_node(p, IMAP_ARG_ATOM))
		return imap_parser_fail(p, c, "Too many arguments", "LIMIT");
	imap_parser_append_byte(p, '~');
	p->state = IMAP_PS_ATOM;
	return imap_parser_atom_byte(p, c);
}

/* "}" seen: the size is known. Checked before the client may send the
 * bytes: a synchronizing literal is refused with BAD (RFC 9051 section
 * 4.3), a non-synchronizing one is already on its way (RFC 7888 section
 * 4), so the connection is given up. */
static enum imap_parse_status imap_parser_announce(struct imap_parser *p,
						   uint8_t c, bool sync)
{
	const char *reason = NULL;
	/* a streamed literal's size is the caller's to judge, at
	 * LITERAL_START */
	p->lit_stream = p->limits.stream_literal > 0 &&
			p->lit_size > p->limits.stream_literal;
	if (!p->lit_stream && p->lit_size > p->limits.max_literal)
		reason = "Literal too big";
	else if (!p->lit_stream &&
		 p->lit_size > p->limits.max_command - p->cmd_bytes)
		reason = "Command too big";
	if (reason != NULL)
		return sync ? imap_parser_fail(p, c, reason, "TOOBIG") :
			      imap_parser_die(p, reason, "TOOBIG");
	p->lit_sync = sync;
	p->lit_remaining = p->lit_size;
	p->state = IMAP_PS_LIT_CR;
	return IMAP_PARSE_NEED_MORE;
}

static enum imap_parse_status imap_parser_lit_size_byte(struct imap_parser *p,
							uint8_t c)
{
	if (p->state == IMAP_PS_LIT_SIZE && imap_parser_is_digit(c)) {
		imap_parser_add_digit(&p->lit_size, c);
		p->lit_digits++;
		return IMAP_PARSE_NEED_MORE;
	}
	if (p->state == IMAP_PS_LIT_SIZE && c == '+' && p->lit_digits > 0) {
		p->state = IMAP_PS_LIT_PLUS;
		return IMAP_PARSE_NEED_MORE;
	}
	if (c == '}' && p->lit_digits > 0)
		return imap_parser_announce(p, c,
					    p->state == IMAP_PS_LIT_SIZE);
	return imap_parser_fail(p, c, "Invalid literal size", NULL);
}

/* The announcement's line ended: the literal's bytes follow. */
static enum imap_parse_status imap_parser_lit_start(struct imap_parser *p)
{
	if (p->lit_stream) {
		/* not empty: it is over the threshold, which is at least 1 */
		struct imap_parser_node *n = &p->nodes[p->cur];
		n->streamed = true;
		n->len = (size_t)p->lit_size;
		imap_parser_build(p);
		p->stream_arg = p->last_arg;
		p->may_refuse = true;
		p->state = IMAP_PS_LITERAL;
		return IMAP_PARSE_LITERAL_START;
	}
	if (p->lit_remaining == 0) {
		imap_parser_end_node(p);
		p->state = IMAP_PS_AFTER_ARG;
	} else {
		p->state = IMAP_PS_LITERAL;
	}
	return p->lit_sync ? IMAP_PARSE_CONTINUE : IMAP_PARSE_NEED_MORE;
}

static enum imap_parse_status imap_parser_lit_eol_byte(struct imap_parser *p,
						       uint8_t c)
{
	if (c == '\n')
		return imap_parser_lit_start(p);
	if (c == '\r' && p->state == IMAP_PS_LIT_CR) {
		p->state = IMAP_PS_LIT_LF;
		return IMAP_PARSE_NEED_MORE;
	}
	return imap_parser_fail(p, c, "Missing CRLF after literal size", NULL);
}

/* ---- tag and command name ---- */

static enum imap_parse_status imap_parser_start_byte(struct imap_parser *p,
						     uint8_t c)
{
	if (p->state == IMAP_PS_START_CR && c != '\n')
		return imap_parser_fail(p, c, "Expected LF after CR", NULL);
	if (c == '\r') {
		p->state = IMAP_PS_START_CR;
		return IMAP_PARSE_NEED_MORE;
	}
	if (c == '\n') {
		/* An empty line is not a command (RFC 9051 section 2.2.1),
		 * but answering it would desynchronise clients that send a
		 * stray CRLF; it is ignored. */
		p->state = IMAP_PS_START;
		p->cmd_bytes = 0;
		return IMAP_PARSE_NEED_MORE;
	}
	p->state = IMAP_PS_TAG;
	if (c == ' ')
		return imap_parser_fail(p, c, "Missing tag", NULL);
	if (!imap_parser_is_tag_char(c))
		return imap_parser_fail(p, c, "Invalid characters in tag",
					NULL);
	p->tok_off = p->arena.len;
	imap_parser_append_byte(p, c);
	return IMAP_PARSE_NEED_MORE;
}

static enum imap_parse_status imap_parser_tag_byte(struct imap_parser *p,
						   uint8_t c)
{
	if (imap_parser_is_tag_char(c)) {
		imap_parser_append_byte(p, c);
		return IMAP_PARSE_NEED_MORE;
	}
	if (c != ' ' && c != '\r' && c != '\n')
		return imap_parser_fail(p, c, "Invalid characters in tag",
					NULL);
	p->tag_off = p->tok_off;
	imap_parser_end_token(p, p->tag_off);
	p->has_tag = true;
	if (c != ' ')
		return imap_parser_fail(p, c, "Missing command name", NULL);
	p->state = IMAP_PS_NAME_START;
	return IMAP_PARSE_NEED_MORE;
}

static enum imap_parse_status imap_parser_name_byte(struct imap_parser *p,
						    uint8_t c)
{
	if (imap_parser_is_atom_char(c)) {
		if (p->state == IMAP_PS_NAME_START) {
			p->tok_off = p->arena.len;
			p->state = IMAP_PS_NAME;
		}
		imap_parser_append_byte(p, c);
		return IMAP_PARSE_NEED_MORE;
	}
	if (p->state == IMAP_PS_NAME_START) {
		if (c == ' ')
			return IMAP_PARSE_NEED_MORE;
		if (c == '\r' || c == '\n')
			return imap_parser_fail(p, c, "Missing command name",
						NULL);
	} else if (c == ' ' || c == '\r' || c == '\n') {
		p->name_off = p->tok_off;
		imap_parser_end_token(p, p->name_off);
		return imap_parser_arg_start(p, c);
	}
	return imap_parser_fail(p, c, "Invalid characters in command name",
				NULL);
}

/* ---- raw lines ---- */

static enum imap_parse_status imap_parser_raw_byte(struct imap_parser *p,
						   uint8_t c)
{
	if (c != '\n') {
		imap_parser_append_byte(p, c);
		return IMAP_PARSE_NEED_MORE;
	}
	size_t len = p->arena.len - p->tok_off;
	if (len > 0 && p->arena.data[p->arena.len - 1] == '\r') {
		p->arena.len--;
		len--;
	}
	imap_parser_end_token(p, p->tok_off);
	p->line_off = p->tok_off;
	p->line_length = len;
	p->line_ready = true;
	p->state = IMAP_PS_START;
	return IMAP_PARSE_LINE;
}

/* ---- dispatch ---- */

/* Limits apply to every byte of a command line; the one CR of a CRLF that
 * ends a line of exactly max_line bytes is not part of the line. */
static bool imap_parser_line_ok(struct imap_parser *p, uint8_t c)
{
	if (c == '\n') {
		p->line_len = 0;
		return true;
	}
	p->line_len++;
	if (p->line_len <= p->limits.max_line)
		return true;
	return p->line_len - 1 == p->limits.max_line && c == '\r';
}

static enum imap_parse_status imap_parser_byte(struct imap_parser *p,
					       uint8_t c)
{
	if (p->state == IMAP_PS_SKIP)
		return imap_parser_skip_byte(p, c);
	if (!imap_parser_line_ok(p, c))
		return imap_parser_fail(p, c, "Line too long", "LIMIT");
	if (++p->cmd_bytes > p->limits.max_command)
		return imap_parser_fail(p, c, "Command too big", "LIMIT");

	switch (p->state) {
	case IMAP_PS_START:
		if (p->want_line) {
			p->want_line = false;
			p->tok_off = p->arena.len;
			p->state = IMAP_PS_RAW;
			return imap_parser_raw_byte(p, c);
		}
		return imap_parser_start_byte(p, c);
	case IMAP_PS_START_CR:
		return imap_parser_start_byte(p, c);
	case IMAP_PS_TAG:
		return imap_parser_tag_byte(p, c);
	case IMAP_PS_NAME_START:
	case IMAP_PS_NAME:
		return imap_parser_name_byte(p, c);
	case IMAP_PS_ARG_START:
		return imap_parser_arg_start(p, c);
	case IMAP_PS_AFTER_ARG:
		return imap_parser_after_arg(p, c);
	case IMAP_PS_CR:
		if (c == '\n')
			return imap_parser_end_line(p, c);
		return imap_parser_fail(p, c, "Expected LF after CR", NULL);
	case IMAP_PS_ATOM:
		return imap_parser_atom_byte(p, c);
	case IMAP_PS_ATOM_BRACKET:
		return imap_parser_bracket_byte(p, c);
	case IMAP_PS_ATOM_BRACKET_QUOTED:
	case IMAP_PS_ATOM_BRACKET_ESC:
		return imap_parser_bracket_quoted_byte(p, c);
	case IMAP_PS_QUOTED:
	case IMAP_PS_QUOTED_ESC:
		return imap_parser_quoted_byte(p, c);
	case IMAP_PS_TILDE:
		return imap_parser_tilde_byte(p, c);
	case IMAP_PS_LIT_SIZE:
	case IMAP_PS_LIT_PLUS:
		return imap_parser_lit_size_byte(p, c);
	case IMAP_PS_LIT_CR:
	case IMAP_PS_LIT_LF:
		return imap_parser_lit_eol_byte(p, c);
	case IMAP_PS_RAW:
		return imap_parser_raw_byte(p, c);
	case IMAP_PS_LITERAL:
	case IMAP_PS_SKIP:
	case IMAP_PS_SKIP_LITERAL:
	case IMAP_PS_DEAD:
		break;
	}
	fatal("imap parser: byte in state %d", (int)p->state);
}

static size_t imap_parser_literal_bytes(struct imap_parser *p,
					const uint8_t *data, size_t len)
{
	size_t n = len < p->lit_remaining ? len : (size_t)p->lit_remaining;
	if (p->lit_stream) {
		p->stream_data = data;
		p->stream_len = n;
		p->lit_remaining -= n;
		if (p->lit_remaining == 0) {
			p->lit_stream = false;
			p->state = IMAP_PS_AFTER_ARG;
		}
		return n;
	}
	imap_parser_append(p, data, n);
	p->lit_remaining -= n;
	/* fits: the announcement was checked against max_command */
	p->cmd_bytes += n;
	if (p->lit_remaining == 0) {
		imap_parser_end_node(p);
		p->state = IMAP_PS_AFTER_ARG;
	}
	return n;
}

static size_t imap_parser_skip_literal_bytes(struct imap_parser *p, size_t len)
{
	size_t n = len < p->skip_remaining ? len : (size_t)p->skip_remaining;
	p->skip_remaining -= n;
	if (p->skip_remaining == 0)
		p->state = IMAP_PS_SKIP;
	return n;
}

enum imap_parse_status imap_parser_feed(struct imap_parser *p,
					const uint8_t *data, size_t len,
					size_t *consumed_r)
{
	if (p->state == IMAP_PS_DEAD) {
		*consumed_r = 0;
		return IMAP_PARSE_FATAL;
	}
	if (p->result_pending)
		imap_parser_reset_result(p);
	else if (p->partial_pending)
		imap_parser_reset_partial(p);
	enum imap_parse_status st = IMAP_PARSE_NEED_MORE;
	size_t i = 0;
	while (i < len && st == IMAP_PARSE_NEED_MORE) {
		if (p->state == IMAP_PS_LITERAL && p->lit_stream) {
			i += imap_parser_literal_bytes(p, data + i, len - i);
			st = IMAP_PARSE_LITERAL_DATA;
		} else if (p->state == IMAP_PS_LITERAL)
			i += imap_parser_literal_bytes(p, data + i, len - i);
		else if (p->state == IMAP_PS_SKIP_LITERAL)
			i += imap_parser_skip_literal_bytes(p, len - i);
		else
			st = imap_parser_byte(p, data[i++]);
	}
	*consumed_r = i;
	if (st == IMAP_PARSE_COMMAND || st == IMAP_PARSE_ERROR ||
	    st == IMAP_PARSE_LINE)
		p->result_pending = true;
	else if (st == IMAP_PARSE_LITERAL_START || st == IMAP_PARSE_LITERAL_DATA)
		p->partial_pending = true;
	return st;
}

/* ---- accessors ---- */

const struct imap_command *imap_parser_command(const struct imap_parser *p)
{
	return p->cmd_ready ? &p->cmd : NULL;
}

const struct imap_arg *imap_parser_literal(const struct imap_parser *p,
					   bool *sync_r)
{
	if (p->stream_arg == NULL) {
		*sync_r = false;
		return NULL;
	}
	*sync_r = p->lit_sync;
	return p->stream_arg;
}

void imap_parser_literal_refuse(struct imap_parser *p)
{
	if (!p->may_refuse)
		fatal("imap_parser_literal_refuse: no literal announced");
	p->may_refuse = false;
	p->lit_stream = false;
	/* the command is dropped with the next feed; its tag stays valid
	 * for the caller's answer until then */
	p->result_pending = true;
	if (p->lit_sync) {
		p->state = IMAP_PS_START;
		return;
	}
	p->skip = IMAP_SKIP_NONE;
	p->skip_refused = true;
	p->skip_remaining = p->lit_remaining;
	p->state = IMAP_PS_SKIP_LITERAL;
}

const uint8_t *imap_parser_literal_data(const struct imap_parser *p,
					size_t *len_r)
{
	*len_r = p->stream_len;
	return p->stream_data;
}

const char *imap_parser_error(const struct imap_parser *p)
{
	return p->error;
}

const char *imap_parser_error_code(const struct imap_parser *p)
{
	return p->error != NULL ? p->error_code : NULL;
}

const char *imap_parser_error_tag(const struct imap_parser *p)
{
	if (p->error == NULL || !p->error_has_tag)
		return NULL;
	return (const char *)p->arena.data + p->tag_off;
}

void imap_parser_want_line(struct imap_parser *p)
{
	p->want_line = true;
}

const char *imap_parser_line(const struct imap_parser *p, size_t *len_r)
{
	if (!p->line_ready) {
		*len_r = 0;
		return NULL;
	}
	*len_r = p->line_length;
	return (const char *)p->arena.data + p->line_off;
}

/* A command still being parsed keeps its bytes (they are needed to finish
 * it; call again once it is complete). Everything else, including the
 * result of the last feed and any slack in the arena, is zeroed. */
void imap_parser_wipe(struct imap_parser *p)
{
	if (p->result_pending)
		imap_parser_reset_result(p);
	else if (p->partial_pending)
		imap_parser_reset_partial(p);
	if (p->arena.len == 0) {
		buf_wipe(&p->arena);
		return;
	}
	explicit_bzero(p->arena.data + p->arena.len,
		       p->arena.cap - p->arena.len);
}

bool imap_arg_is_astring(const struct imap_arg *a)
{
	/* RFC 9051 section 9: astring = 1*ASTRING-CHAR / string; literal8
	 * is not a string. */
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	       (a->type == IMAP_ARG_LITERAL && !a->literal8 && !a->streamed);
}

bool imap_arg_atom_equals(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_ARG_ATOM && strcasecmp(a->str, word) == 0;
}
