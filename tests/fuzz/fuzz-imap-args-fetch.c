/* libFuzzer target for FETCH and STORE arguments
 * (daemon/imap/imap-fetch-args.c, daemon/imap/imap-store-args.c).
 *
 * Input: byte 0 picks FETCH or STORE, the rest is the argument text,
 * which goes through the real command parser first, as in the worker.
 * Every accepted body item's response name must itself parse (as a BODY,
 * BINARY or BINARY.SIZE item, partial origin aside) to the same part
 * path, section and fields, and errors must come with a reason. */
#include "../../daemon/imap/imap-fetch-args.c"
#include "../../daemon/imap/imap-store-args.c"

#include "../../common/imap-parser.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* "t X <data>\r\n" through the command parser; NULL if refused. */
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

static void fuzz_check_body(const struct imap_fetch_body *b)
{
	struct imap_fetch_body again;
	const char *error = NULL;
	const char *name = b->response_name;
	FUZZ_CHECK(name != NULL);
	if (strncmp(name, "RFC822", 6) == 0)
		return;
	size_t len = strlen(name);
	if (b->partial) {
		/* the response carries "<origin>" only */
		const char *lt = strrchr(name, '<');
		FUZZ_CHECK(lt != NULL && name[len - 1] == '>');
		len = (size_t)(lt - name);
	}
	FUZZ_CHECK(imap_fetch_body_parse(name, len, &again, &error) == 0);
	FUZZ_CHECK(again.section == b->section);
	FUZZ_CHECK(again.binary == b->binary &&
		   again.binary_size == b->binary_size);
	FUZZ_CHECK(again.part_count == b->part_count);
	FUZZ_CHECK(b->part_count == 0 ||
		   memcmp(again.part, b->part,
			  b->part_count * sizeof(uint32_t)) == 0);
	FUZZ_CHECK(again.field_count == b->field_count);
	for (size_t i = 0; i < b->field_count; i++)
		FUZZ_CHECK(strcmp(again.fields[i], b->fields[i]) == 0);
	FUZZ_CHECK(strcmp(again.response_name, name) == 0 || b->partial);
	FUZZ_CHECK(!b->partial || b->partial_octets > 0);
	FUZZ_CHECK(b->section != IMAP_SECTION_MIME || b->part_count > 0);
	imap_fetch_body_free(&again);
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
	const struct imap_command *cmd = fuzz_command(p, &line, data + 1,
						      size - 1);
	if (cmd == NULL)
		return 0;
	if (data[0] & 1) {
		struct imap_store_args st;
		if (imap_store_args_parse(cmd->args, cmd->arg_count, &st,
					  &error) < 0) {
			FUZZ_CHECK(error != NULL);
			return 0;
		}
		FUZZ_CHECK(st.flags.keyword_count <= IMAP_FLAGS_MAX_KEYWORDS);
		for (size_t i = 0; i < st.flags.keyword_count; i++) {
			const char *k = st.flags.keywords[i];
			FUZZ_CHECK(imap_keyword_is_valid(k, strlen(k)));
		}
		FUZZ_CHECK((st.flags.system & ~31u) == 0);
		imap_store_args_free(&st);
		return 0;
	}
	struct imap_fetch_args f;
	if (imap_fetch_args_parse(cmd->args, cmd->arg_count, &f, &error) < 0) {
		FUZZ_CHECK(error != NULL);
		return 0;
	}
	bool seen = false;
	FUZZ_CHECK(f.body_count <= IMAP_FETCH_MAX_BODY_ITEMS);
	for (size_t i = 0; i < f.body_count; i++) {
		fuzz_check_body(&f.bodies[i]);
		seen |= !f.bodies[i].peek;
	}
	FUZZ_CHECK(seen == f.sets_seen);
	FUZZ_CHECK(!f.changedsince_set || (f.items & IMAP_FETCH_MODSEQ));
	imap_fetch_args_free(&f);
	return 0;
}
