/* libFuzzer target for SEARCH arguments (daemon/imap/imap-search-args.c).
 *
 * Input: byte 0 picks the depth limit, the rest is the argument text,
 * which goes through the real command parser first. An accepted search
 * must respect the depth limit, print, and when the printed form parses
 * again print the same (the printer and parser agree); the charset
 * conversion must not crash and must leave valid UTF-8 behind. */
#include "../../daemon/imap/imap-search-args.c"
#include "../../daemon/imap/imap-seqset.c"
#include "../../daemon/imap/imap-store-args.c"

#include "../../common/imap-parser.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const struct imap_command *fuzz_command(struct imap_parser *p,
					       struct buf *line,
					       const uint8_t *data, size_t size)
{
	buf_clear(line);
	buf_append_str(line, "t X ");
	buf_append(line, data, size);
	buf_append_str(line, "\r\n");
	size_t off = 0, used;
	while (off < line->len) {
		enum imap_parse_status st = imap_parser_feed(
			p, line->data + off, line->len - off, &used);
		off += used;
		if (st == IMAP_PARSE_COMMAND)
			return imap_parser_command(p);
		if (st != IMAP_PARSE_CONTINUE && st != IMAP_PARSE_NEED_MORE)
			return NULL;
	}
	return NULL;
}

/* Depth as the parser counts it: each OR/NOT/AND below the root. */
static unsigned fuzz_depth(const struct imap_search_key *k)
{
	unsigned max = 0;
	for (size_t i = 0; i < k->child_count; i++) {
		unsigned d = fuzz_depth(&k->children[i]);
		if (d > max)
			max = d;
	}
	return max + (k->child_count > 0 ? 1 : 0);
}

static void fuzz_check_utf8(const struct imap_search_key *k)
{
	for (size_t i = 0; i < k->child_count; i++)
		fuzz_check_utf8(&k->children[i]);
	if (k->str != NULL) {
		FUZZ_CHECK(strlen(k->str) == k->str_len);
		FUZZ_CHECK(k->type == IMAP_SEARCH_KEYWORD ||
			   mutf7_utf8_is_valid(k->str, k->str_len));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct imap_parser *p;
	static struct buf line;
	const char *error = NULL;
	if (size < 1)
		return 0;
	if (p == NULL) {
		struct imap_parser_limits lim;
		imap_parser_limits_default(&lim);
		p = imap_parser_new(&lim);
		buf_init(&line);
	}
	unsigned depth = 1 + data[0] % 16;
	const struct imap_command *cmd = fuzz_command(p, &line, data + 1,
						      size - 1);
	if (cmd == NULL)
		return 0;
	struct imap_search_args s, again;
	if (imap_search_args_parse(cmd->args, cmd->arg_count, depth, 64, &s,
				   &error) < 0) {
		FUZZ_CHECK(error != NULL);
		return 0;
	}
	FUZZ_CHECK(s.root.type == IMAP_SEARCH_AND && s.root.child_count > 0);
	/* NEW adds one level below a NOT/OR (its AND) */
	FUZZ_CHECK(fuzz_depth(&s.root) <= 2 * depth + 1);

	struct buf printed, printed2;
	buf_init(&printed);
	buf_init(&printed2);
	imap_search_args_print(&s, &printed);
	cmd = fuzz_command(p, &line, printed.data, printed.len);
	if (cmd != NULL &&
	    imap_search_args_parse(cmd->args, cmd->arg_count, 4 * depth + 4,
				   64, &again, &error) == 0) {
		imap_search_args_print(&again, &printed2);
		FUZZ_CHECK(printed.len == printed2.len &&
			   memcmp(printed.data, printed2.data,
				  printed.len) == 0);
		imap_search_args_free(&again);
	}
	if (imap_search_args_to_utf8(&s, &error) == IMAP_SEARCH_CHARSET_OK)
		fuzz_check_utf8(&s.root);
	else
		FUZZ_CHECK(error != NULL);
	imap_search_args_free(&s);
	buf_free(&printed);
	buf_free(&printed2);
	return 0;
}
