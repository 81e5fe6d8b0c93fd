/* libFuzzer target for LIST arguments and the mailbox pattern matcher
 * (daemon/imap/imap-list-args.c).
 *
 * Input: byte 0 picks the mode. Matcher mode: the rest is
 * "pattern NUL name"; the result must equal a plain memoised recursive
 * matcher's (the specification, written the obvious way). Argument mode:
 * the rest is LIST/LSUB argument text through the real command parser;
 * accepted names must be valid UTF-8. */
#include "../../daemon/imap/imap-list-args.c"
#include "../../daemon/imap/imap-status-args.c"

#include "../../common/imap-parser.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define FUZZ_MAX 64

struct fuzz_ref {
	const char *p, *n;
	size_t plen, nlen, inbox_len;
	char sep;
	signed char memo[FUZZ_MAX + 1][FUZZ_MAX + 1];
};

static bool fuzz_ref_match(struct fuzz_ref *r, size_t i, size_t j)
{
	if (r->memo[i][j] >= 0)
		return r->memo[i][j];
	bool m;
	if (i == r->plen) {
		m = j == r->nlen;
	} else if (r->p[i] == '*') {
		m = fuzz_ref_match(r, i + 1, j) ||
		    (j < r->nlen && fuzz_ref_match(r, i, j + 1));
	} else if (r->p[i] == '%') {
		m = fuzz_ref_match(r, i + 1, j) ||
		    (j < r->nlen && r->n[j] != r->sep &&
		     fuzz_ref_match(r, i, j + 1));
	} else {
		char pc = r->p[i];
		if (j < r->inbox_len && pc >= 'a' && pc <= 'z')
			pc = (char)(pc - 'a' + 'A');
		m = j < r->nlen && (r->p[i] == r->n[j] || pc == r->n[j]) &&
		    fuzz_ref_match(r, i + 1, j + 1);
	}
	r->memo[i][j] = (signed char)m;
	return m;
}

static void fuzz_match(const char *data, size_t size, char sep)
{
	const char *nul = memchr(data, '\0', size);
	if (nul == NULL)
		return;
	size_t plen = (size_t)(nul - data);
	const char *name = nul + 1;
	size_t nlen = size - plen - 1;
	if (plen > FUZZ_MAX || nlen > FUZZ_MAX ||
	    memchr(name, '\0', nlen) != NULL)
		return;
	char pat[FUZZ_MAX + 1], nm[FUZZ_MAX + 1];
	memcpy(pat, data, plen);
	pat[plen] = '\0';
	memcpy(nm, name, nlen);
	nm[nlen] = '\0';
	static struct fuzz_ref r;
	memset(&r, -1, sizeof(r));
	r.p = pat;
	r.n = nm;
	r.plen = plen;
	r.nlen = nlen;
	r.sep = sep;
	r.inbox_len = strncmp(nm, "INBOX", 5) == 0 &&
				      (nm[5] == '\0' || nm[5] == sep) ?
			      5 :
			      0;
	FUZZ_CHECK(imap_list_match(pat, nm, sep) == fuzz_ref_match(&r, 0, 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct imap_parser *p;
	static struct buf line;
	if (size < 1)
		return 0;
	if ((data[0] & 3) != 3) {
		fuzz_match((const char *)data + 1, size - 1,
			   (data[0] & 3) == 0 ? '/' : '.');
		return 0;
	}
	if (p == NULL) {
		struct imap_parser_limits lim;
		imap_parser_limits_default(&lim);
		p = imap_parser_new(&lim);
		buf_init(&line);
	}
	buf_clear(&line);
	buf_append_str(&line, "t X ");
	buf_append(&line, data + 1, size - 1);
	buf_append_str(&line, "\r\n");
	size_t off = 0, used;
	const struct imap_command *cmd = NULL;
	while (off < line.len && cmd == NULL) {
		enum imap_parse_status st = imap_parser_feed(
			p, line.data + off, line.len - off, &used);
		off += used;
		if (st == IMAP_PARSE_COMMAND)
			cmd = imap_parser_command(p);
		else if (st != IMAP_PARSE_CONTINUE && st != IMAP_PARSE_NEED_MORE)
			return 0;
	}
	if (cmd == NULL)
		return 0;
	struct imap_list_args l;
	const char *error = NULL;
	bool lsub = data[0] & 4, utf8 = data[0] & 8;
	if (imap_list_args_parse(cmd->args, cmd->arg_count, lsub, utf8, &l,
				 &error) < 0) {
		FUZZ_CHECK(error != NULL);
		return 0;
	}
	FUZZ_CHECK(l.pattern_count >= 1 &&
		   l.pattern_count <= IMAP_LIST_MAX_PATTERNS);
	FUZZ_CHECK(mutf7_utf8_is_valid(l.reference, strlen(l.reference)));
	for (size_t i = 0; i < l.pattern_count; i++) {
		FUZZ_CHECK(mutf7_utf8_is_valid(l.patterns[i],
					       strlen(l.patterns[i])));
		char *full = imap_list_pattern_join(l.reference, l.patterns[i],
						    '/');
		(void)imap_list_match(full, "INBOX/a", '/');
		free(full);
	}
	FUZZ_CHECK(!lsub || (!l.extended && l.select == 0 && l.ret == 0));
	imap_list_args_free(&l);
	return 0;
}
