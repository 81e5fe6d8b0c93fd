/* The search index's promise (issue 6): an indexed SEARCH answers exactly
 * what the scanning evaluator answers. A generated corpus (Zipf
 * vocabulary, multipart, base64, non-ASCII, encoded words) and random
 * queries (words, fragments, mixed case, non-ASCII, phrases, header
 * fields, nested AND/OR/NOT with record keys) are compared after
 * appends (merged and held, with and without stored text), copies,
 * moves, flag changes, expunges, and after a process is killed in the
 * middle of a merge (reopen, compare, merge, compare).
 *
 * The seed is printed; SEARCH_PROPERTY_SEED=n reproduces a run. */
#include "unit.h"

#include "../../daemon/imap/search-eval.h"
#include "../../daemon/imap/search-match.h"
#include "../../daemon/imap/search-plan.h"
#include "../../store/mime-cache.h"
#include "../../store/search-index.h"
#include "../../store/search-reindex.h"
#include "../../store/store.h"
#include "test-search-property-corpus.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct prop {
	struct corpus c;
	struct corpus_rng q;	/* queries */
	struct store *s;
	char dir[64];
	uint64_t seed;
	uint32_t inbox, archive;
	struct buf *msgs;	/* what was appended, for substrings */
	size_t nmsgs;
	unsigned seq;
	size_t queries, narrowed, nonempty, failures;
	size_t rounds_gens, rounds_combined, rounds_folding;
};

static int prop_cache_builder(void *ctx, const uint8_t *data, size_t len,
			      struct buf *out)
{
	(void)ctx;
	return mime_cache_build(data, len, NULL, out);
}

static void prop_open(struct prop *p, bool extractor)
{
	const char *err;
	struct store_options o = { .flags = STORE_OPEN_CREATE,
				   .map_size = 8 << 20 };
	if (store_open_opts(p->dir, &o, &p->s, &err) < 0) {
		fprintf(stderr, "\nstore_open: %s\n", err);
		CU_FAIL_FATAL("store_open");
	}
	store_set_cache_builder(p->s, prop_cache_builder, NULL);
	if (extractor)
		store_set_search_extractor(p->s, search_index_extractor, NULL);
	store_set_search_merge_threshold(p->s, 32);
	/* merges of 32 go to generations: combined two by two, folded
	 * at 96 documents in steps of 40 lists, so that queries meet
	 * generations of several levels and folds in progress */
	store_set_search_generations(p->s, 2, 96);
	store_sx_debug_fold_step = 40;
	struct store_mailbox mb;
	CU_ASSERT_FATAL(store_mailbox_get(p->s, "INBOX", &mb, &err) == 1);
	p->inbox = mb.id;
	CU_ASSERT_FATAL(store_mailbox_get(p->s, "Archive", &mb, &err) == 1);
	p->archive = mb.id;
}

static void prop_append(struct prop *p, uint32_t mailbox, size_t n,
			bool batch)
{
	struct store_append_msg *m = xcalloc(n, sizeof(*m));
	struct buf *b = xcalloc(n, sizeof(*b));
	for (size_t i = 0; i < n; i++) {
		buf_init(&b[i]);
		corpus_message(&p->c, p->seq++, 120, true, &b[i]);
		m[i].data = b[i].data;
		m[i].len = b[i].len;
		m[i].fd = -1;
		m[i].flags = corpus_below(&p->c.rng, 3) == 0 ?
			     STORE_FLAG_SEEN : 0;
	}
	uint32_t *uids = xcalloc(n, sizeof(*uids));
	const char *err = NULL;
	int r = 0;
	if (batch) {
		r = store_append_batch(p->s, mailbox, m, n, 0, uids, &err);
	} else {
		for (size_t i = 0; i < n && r == 0; i++)
			r = store_append(p->s, mailbox, &m[i], &uids[i], &err);
	}
	if (r < 0)
		fprintf(stderr, "\nappend: %s\n", err);
	CU_ASSERT_FATAL(r == 0);
	p->msgs = xrealloc(p->msgs, (p->nmsgs + n) * sizeof(*p->msgs));
	memcpy(p->msgs + p->nmsgs, b, n * sizeof(*b));
	p->nmsgs += n;
	free(b);
	free(m);
	free(uids);
}

/* ---- queries ---- */

static size_t utf8_char_len(uint8_t c)
{
	return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* A substring of s of 1..maxc characters, at character boundaries. */
static void substring(struct corpus_rng *r, const char *s, size_t len,
		      unsigned maxc, bool stop_at_eol, struct buf *out)
{
	if (len == 0)
		return;
	size_t start = corpus_below(r, (unsigned)len);
	while (start > 0 && ((uint8_t)s[start] & 0xc0) == 0x80)
		start--;
	unsigned want = 1 + corpus_below(r, maxc);
	size_t i = start;
	for (unsigned k = 0; k < want && i < len; k++) {
		if (stop_at_eol && (s[i] == '\r' || s[i] == '\n'))
			break;
		size_t cl = utf8_char_len((uint8_t)s[i]);
		if (i + cl > len)
			break;
		buf_append(out, s + i, cl);
		i += cl;
	}
}

static void gen_string(struct prop *p, struct buf *out)
{
	struct corpus_rng *r = &p->q;
	struct corpus *c = &p->c;
	const char *w;
	switch (corpus_below(r, 18)) {
	case 0:
	case 1:
		buf_append_str(out, corpus_zipf(c));
		break;
	case 2:
		buf_append_str(out, c->words[corpus_below(r,
						(unsigned)c->nwords)]);
		break;
	case 3:
		w = corpus_zipf(c);
		substring(r, w, strlen(w), 6, false, out);
		break;
	case 4:
	case 5:
		if (p->nmsgs > 0) {
			const struct buf *m = &p->msgs[corpus_below(r,
						(unsigned)p->nmsgs)];
			substring(r, (const char *)m->data, m->len, 20, true,
				  out);
		}
		break;
	case 6:
		buf_printf(out, "%s %s", corpus_zipf(c), corpus_zipf(c));
		break;
	case 7:
		buf_append_str(out, corpus_special[corpus_below(r,
						CORPUS_NSPECIAL)]);
		break;
	case 8:
		w = c->users[corpus_below(r, (unsigned)c->nusers)];
		substring(r, w, strlen(w), 12, false, out);
		if (corpus_below(r, 2))
			buf_append_str(out, "@");
		break;
	case 9:
		buf_append_str(out, corpus_below(r, 4) ? "zqxjv" : "");
		break;
	case 10:
		buf_append_str(out, corpus_zipf(c));
		buf_append_str(out, corpus_below(r, 2) ? "." : ",");
		break;
	case 11:
		/* one or two bytes (characters): a vocabulary scan */
		w = corpus_zipf(c);
		substring(r, w, strlen(w), 2, false, out);
		break;
	case 12: {
		/* separators alone */
		static const char *const seps[] = {
			", ", "@", ". ", " ", ":", "<", ".example>", "-",
			"=", ": ", "\r\n", ", \r\n", "/",
		};
		buf_append_str(out, seps[corpus_below(r, sizeof(seps) /
							 sizeof(seps[0]))]);
		break;
	}
	case 13: {
		/* a phrase cut anywhere: starting and ending mid-word,
		 * across separators */
		struct buf ph;
		buf_init(&ph);
		buf_printf(&ph, "%s%s%s%s%s", corpus_zipf(c),
			   corpus_below(r, 4) ? " " : ", ", corpus_zipf(c),
			   corpus_below(r, 3) ? " " : ". ", corpus_zipf(c));
		substring(r, (const char *)ph.data, ph.len, 16, false, out);
		buf_free(&ph);
		break;
	}
	case 14: {
		/* CJK: each character a word */
		static const char *const cjk[] = {
			"日", "本", "語", "日本", "本語", "日本語", "語 ",
			" 日本",
		};
		buf_append_str(out, cjk[corpus_below(r, sizeof(cjk) /
						       sizeof(cjk[0]))]);
		break;
	}
	case 15: {
		/* across a header unit's name and value */
		static const char *const names[] = {
			"ject: ", "subject: ", "from: ", "to: ", "x-tag: ",
			"type: text/", "encoding: ", "id: <",
		};
		buf_append_str(out, names[corpus_below(r, sizeof(names) /
							  sizeof(names[0]))]);
		w = corpus_zipf(c);
		substring(r, w, strlen(w), 3, false, out);
		break;
	}
	case 16:
		/* the end of one word and the start of the next */
		w = corpus_zipf(c);
		buf_append_str(out, w + strlen(w) / 2);
		buf_append_str(out, corpus_below(r, 2) ? " " : ", ");
		w = corpus_zipf(c);
		buf_append(out, w, (strlen(w) + 1) / 2);
		break;
	default:
		/* a special word's piece: folding (ß, dotless i, accents) */
		w = corpus_special[corpus_below(r, CORPUS_NSPECIAL)];
		substring(r, w, strlen(w), 3, false, out);
		break;
	}
	/* mixed case, ASCII letters */
	if (corpus_below(r, 3) == 0)
		for (size_t i = 0; i < out->len; i++) {
			uint8_t ch = out->data[i];
			if (((ch >= 'a' && ch <= 'z') ||
			     (ch >= 'A' && ch <= 'Z')) && corpus_below(r, 2))
				out->data[i] = (uint8_t)(ch ^ 0x20);
		}
}

static const enum imap_search_type text_types[] = {
	IMAP_SEARCH_SUBJECT, IMAP_SEARCH_FROM, IMAP_SEARCH_TO,
	IMAP_SEARCH_CC, IMAP_SEARCH_BCC, IMAP_SEARCH_HEADER,
	IMAP_SEARCH_BODY, IMAP_SEARCH_BODY, IMAP_SEARCH_TEXT,
	IMAP_SEARCH_TEXT,
};
static const char *const header_names[] = {
	"X-Tag", "Subject", "from", "Message-ID", "Content-Type", "X-None",
	"x-part-note",
};

static void key_init(struct imap_search_key *k, enum imap_search_type t)
{
	memset(k, 0, sizeof(*k));
	imap_seqset_init(&k->set);
	k->type = t;
}

static void gen_key(struct prop *p, struct imap_search_key *k, int depth)
{
	struct corpus_rng *r = &p->q;
	unsigned what = corpus_below(r, depth < 3 ? 12 : 9);
	if (what >= 9) {
		enum imap_search_type t = what == 9 ? IMAP_SEARCH_AND :
					  what == 10 ? IMAP_SEARCH_OR :
						       IMAP_SEARCH_NOT;
		key_init(k, t);
		k->child_count = t == IMAP_SEARCH_NOT ? 1 :
				 t == IMAP_SEARCH_OR ? 2 :
						       2 + corpus_below(r, 2);
		k->children = xcalloc(k->child_count, sizeof(*k->children));
		for (size_t i = 0; i < k->child_count; i++)
			gen_key(p, &k->children[i], depth + 1);
		return;
	}
	if (what == 0) {
		static const enum imap_search_type flags[] = {
			IMAP_SEARCH_SEEN, IMAP_SEARCH_FLAGGED,
			IMAP_SEARCH_DELETED, IMAP_SEARCH_ANSWERED,
		};
		key_init(k, flags[corpus_below(r, 4)]);
		return;
	}
	if (what == 1) {
		key_init(k, corpus_below(r, 2) ? IMAP_SEARCH_LARGER :
						 IMAP_SEARCH_SMALLER);
		k->number = 1000 + corpus_below(r, 12000);
		return;
	}
	key_init(k, text_types[corpus_below(r, sizeof(text_types) /
					    sizeof(text_types[0]))]);
	if (k->type == IMAP_SEARCH_HEADER)
		k->header = xstrdup(header_names[corpus_below(r,
			sizeof(header_names) / sizeof(header_names[0]))]);
	struct buf b;
	buf_init(&b);
	gen_string(p, &b);
	k->str = xstrndup(b.len ? (const char *)b.data : "", b.len);
	k->str_len = b.len;
	buf_free(&b);
}

/* Compares the two evaluators on one mailbox for one query. */
static void compare_one(struct prop *p, uint32_t mailbox,
			struct imap_search_args *a)
{
	struct store_seqmap view = { 0 };
	const char *err;
	CU_ASSERT_FATAL(store_seqmap_load(p->s, mailbox, &view, &err) == 0);
	struct search_scope scope = {
		.mailbox_id = mailbox, .view = &view,
		.now = (int64_t)time(NULL),
	};
	struct search_result scan, idx;
	struct search_plan_stats st;
	int r1 = search_eval(p->s, &scope, &a->root, &scan, &err);
	CU_ASSERT_FATAL(r1 == 0);
	int r2 = search_plan_eval(p->s, &scope, &a->root, &idx, &st, &err);
	CU_ASSERT_FATAL(r2 == 0);
	p->queries++;
	if (st.narrowed)
		p->narrowed++;
	if (scan.count > 0)
		p->nonempty++;
	bool same = scan.count == idx.count &&
		    scan.highest_modseq == idx.highest_modseq &&
		    (scan.count == 0 ||
		     memcmp(scan.uids, idx.uids,
			    scan.count * sizeof(*scan.uids)) == 0);
	if (!same && p->failures++ < 5) {
		struct buf q;
		buf_init(&q);
		imap_search_key_print(&a->root, &q);
		fprintf(stderr, "\n[search property seed %llu] mailbox %u: "
			"SEARCH %s: scan %zu matches, index %zu\n",
			(unsigned long long)p->seed, mailbox, buf_cstr(&q),
			scan.count, idx.count);
		buf_free(&q);
	}
	CU_ASSERT(same);
	search_result_free(&scan);
	search_result_free(&idx);
	store_seqmap_free(&view);
}

static void compare_round(struct prop *p, size_t n)
{
	struct store_sx_stats st;
	const char *err;
	CU_ASSERT(store_search_stats(p->s, &st, &err) == 0);
	p->rounds_gens += st.gens > 0;
	p->rounds_combined += st.gen_level_max > 0;
	p->rounds_folding += st.folding;
	for (size_t i = 0; i < n; i++) {
		struct imap_search_args a;
		memset(&a, 0, sizeof(a));
		key_init(&a.root, IMAP_SEARCH_AND);
		a.root.child_count = 1 + corpus_below(&p->q, 2);
		a.root.children = xcalloc(a.root.child_count,
					  sizeof(*a.root.children));
		for (size_t k = 0; k < a.root.child_count; k++)
			gen_key(p, &a.root.children[k], 1);
		compare_one(p, i % 4 == 3 ? p->archive : p->inbox, &a);
		imap_search_args_free(&a);
	}
}

/* ---- changes ---- */

static void random_flags(struct prop *p, uint32_t mailbox, size_t n)
{
	struct store_seqmap view = { 0 };
	const char *err;
	CU_ASSERT_FATAL(store_seqmap_load(p->s, mailbox, &view, &err) == 0);
	for (size_t i = 0; i < n && view.count > 0; i++) {
		uint32_t uid = view.uids[corpus_below(&p->q,
						      (unsigned)view.count)];
		struct store_uidrange rg = { uid, uid };
		struct store_uidset set = { &rg, 1 };
		static const unsigned fl[] = {
			STORE_FLAG_SEEN, STORE_FLAG_FLAGGED,
			STORE_FLAG_ANSWERED, STORE_FLAG_DELETED,
		};
		struct store_flags_req req = {
			.mode = corpus_below(&p->q, 3) ? STORE_FLAGS_ADD :
							 STORE_FLAGS_REMOVE,
			.flags = fl[corpus_below(&p->q, 4)],
		};
		struct store_flags_result res;
		CU_ASSERT(store_flags_set(p->s, mailbox, &set, &req, &res,
					  &err) == 0);
		store_flags_result_free(&res);
	}
	store_seqmap_free(&view);
}

static void copy_some(struct prop *p, bool move, size_t n)
{
	struct store_seqmap view = { 0 };
	const char *err;
	CU_ASSERT_FATAL(store_seqmap_load(p->s, p->inbox, &view, &err) == 0);
	for (size_t i = 0; i < n && view.count > 0; i++) {
		uint32_t uid = view.uids[corpus_below(&p->q,
						      (unsigned)view.count)];
		struct store_uidrange rg = { uid, uid };
		struct store_uidset set = { &rg, 1 };
		struct store_uidmap map;
		int r = move ? store_move(p->s, p->inbox, &set, p->archive,
					  &map, &err) :
			       store_copy(p->s, p->inbox, &set, p->archive,
					  &map, &err);
		CU_ASSERT(r == 0);
		store_uidmap_free(&map);
	}
	store_seqmap_free(&view);
}

static void expunge_deleted(struct prop *p, uint32_t mailbox)
{
	uint32_t *uids = NULL;
	size_t n = 0;
	const char *err;
	CU_ASSERT(store_expunge(p->s, mailbox, NULL, 0, &uids, &n, &err) == 0);
	free(uids);
}

/* ---- a merge killed ---- */

static void die_now(void)
{
	raise(SIGKILL);
}

/* In a child: appends n messages, held, then merges; mode 0 dies inside
 * the first merge transaction, mode 1 is killed by the parent at a
 * random moment of a merge of many small transactions. */
static void crash_child(struct prop *p, int mode, int fd, size_t n)
{
	struct store *s;
	const char *err;
	if (store_open(p->dir, 0, &s, &err) < 0)
		_exit(2);
	store_set_cache_builder(s, prop_cache_builder, NULL);
	store_set_search_extractor(s, search_index_extractor, NULL);
	store_set_search_merge_threshold(s, 0);
	struct store_mailbox mb;
	if (store_mailbox_get(s, "INBOX", &mb, &err) != 1)
		_exit(2);
	for (size_t i = 0; i < n; i++) {
		struct buf b;
		buf_init(&b);
		corpus_message(&p->c, p->seq++, 120, true, &b);
		struct store_append_msg m = { .data = b.data, .len = b.len,
					      .fd = -1 };
		uint32_t uid;
		if (store_append(s, mb.id, &m, &uid, &err) < 0)
			_exit(2);
		buf_free(&b);
	}
	if (mode == 0)
		store_sx_debug_merge_hook = die_now;
	if (write(fd, "m", 1) != 1)
		_exit(2);
	store_search_merge(s, 0, mode == 0 ? 0 : 4, NULL, &err);
	/* not killed in time: still a valid state */
	_exit(0);
}

static void crash_merge(struct prop *p, int mode, size_t *held_r)
{
	store_close(&p->s);
	int fds[2];
	CU_ASSERT_FATAL(pipe(fds) == 0);
	fflush(NULL);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		crash_child(p, mode, fds[1], 40);
	}
	close(fds[1]);
	char ch;
	ssize_t got = read(fds[0], &ch, 1);
	close(fds[0]);
	if (got == 1 && mode == 1) {
		struct timespec ts = { 0, (long)corpus_below(&p->q, 60) *
					  1000000L };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	int status;
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	CU_ASSERT(got == 1);
	if (mode == 0)
		CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* the child's messages advanced the generator there, not here */
	p->seq += 40;
	prop_open(p, true);
	struct store_sx_stats st;
	const char *err;
	CU_ASSERT(store_search_stats(p->s, &st, &err) == 0);
	*held_r = st.held;
}

static void test_search_property(void)
{
	struct prop p;
	memset(&p, 0, sizeof(p));
	const char *env = getenv("SEARCH_PROPERTY_SEED");
	p.seed = env != NULL ? strtoull(env, NULL, 10) :
			       (uint64_t)time(NULL) ^ (uint64_t)getpid() << 16;
	corpus_init(&p.c, p.seed, 1500);
	p.q.s = p.seed * 2654435761u + 1;
	snprintf(p.dir, sizeof(p.dir), "/tmp/postern-sxprop-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(p.dir) != NULL);
	prop_open(&p, true);

	/* merged (threshold 32) and held, single and batch appends */
	prop_append(&p, p.inbox, 120, true);
	prop_append(&p, p.inbox, 50, false);
	prop_append(&p, p.archive, 30, true);
	copy_some(&p, false, 25);
	copy_some(&p, true, 15);
	compare_round(&p, 160);

	/* flags, then expunges */
	random_flags(&p, p.inbox, 80);
	random_flags(&p, p.archive, 20);
	compare_round(&p, 60);
	expunge_deleted(&p, p.inbox);
	expunge_deleted(&p, p.archive);
	compare_round(&p, 80);

	/* held with text, then held without (the matcher decides) */
	store_set_search_merge_threshold(p.s, 0);
	prop_append(&p, p.inbox, 20, false);
	store_set_search_extractor(p.s, NULL, NULL);
	prop_append(&p, p.inbox, 10, true);
	compare_round(&p, 60);
	store_set_search_extractor(p.s, search_index_extractor, NULL);
	const char *err;
	size_t merged = 0;
	CU_ASSERT(store_search_merge(p.s, 0, 0, &merged, &err) == 0);
	CU_ASSERT(merged >= 30);
	compare_round(&p, 40);

	/* killed inside a merge transaction, then at random moments */
	size_t held;
	crash_merge(&p, 0, &held);
	CU_ASSERT(held == 40);	/* the merge committed nothing */
	compare_round(&p, 40);
	for (int i = 0; i < 3; i++) {
		crash_merge(&p, 1, &held);
		compare_round(&p, 30);
	}
	CU_ASSERT(store_search_merge(p.s, 0, 0, NULL, &err) == 0);
	struct store_sx_stats st;
	CU_ASSERT(store_search_stats(p.s, &st, &err) == 0);
	CU_ASSERT_EQUAL(st.held, 0);
	CU_ASSERT_EQUAL(st.gens, 0);	/* merging all folds all */
	CU_ASSERT(!st.folding);
	compare_round(&p, 60);

	/* a mailbox reindexed: its documents held, then merged again on
	 * top of their old postings (dirty: never exact) */
	size_t nheld;
	CU_ASSERT(store_search_reindex_prepare(p.s, p.inbox, &nheld,
					       &err) == 0);
	CU_ASSERT(nheld > 0);
	compare_round(&p, 30);
	CU_ASSERT(store_search_merge(p.s, 0, 0, NULL, &err) == 0);
	CU_ASSERT(store_search_stats(p.s, &st, &err) == 0);
	CU_ASSERT(st.dirty > 0);
	compare_round(&p, 40);
	/* the whole store reindexed: nothing dirty, the vocabulary kept */
	uint64_t vocab = st.vocab_entries;
	CU_ASSERT(store_search_reindex_prepare(p.s, 0, &nheld, &err) == 0);
	CU_ASSERT(store_search_merge(p.s, 0, 0, NULL, &err) == 0);
	CU_ASSERT(store_search_stats(p.s, &st, &err) == 0);
	CU_ASSERT_EQUAL(st.dirty, 0);
	CU_ASSERT_EQUAL(st.held, 0);
	CU_ASSERT_EQUAL(st.vocab_entries, vocab);
	compare_round(&p, 40);
	struct store_check_report rep = { 0 };
	CU_ASSERT_EQUAL(store_check(p.s, &rep, &err), 0);

	/* the queries must mean something: many narrowed, many matched */
	CU_ASSERT(p.narrowed * 3 > p.queries);
	CU_ASSERT(p.nonempty * 3 > p.queries);
	/* and met postings in generations, and in a fold's middle */
	CU_ASSERT(p.rounds_gens > 0);
	CU_ASSERT(p.rounds_combined > 0);
	CU_ASSERT(p.rounds_folding > 0);
	fprintf(stderr, "\n[search property seed %llu] %zu queries (%zu "
		"narrowed by the index, %zu with matches), %zu differ; held "
		"after the last kill: %zu; rounds with generations %zu, "
		"combined ones %zu, amid a fold %zu\n",
		(unsigned long long)p.seed, p.queries, p.narrowed, p.nonempty,
		p.failures, held, p.rounds_gens, p.rounds_combined,
		p.rounds_folding);
	store_close(&p.s);
	for (size_t i = 0; i < p.nmsgs; i++)
		buf_free(&p.msgs[i]);
	free(p.msgs);
	corpus_free(&p.c);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", p.dir);
	if (system(cmd) != 0)
		CU_FAIL("rm");
}

static void register_search_property(void)
{
	CU_pSuite s = CU_add_suite("search_property", NULL, NULL);
	CU_add_test(s, "indexed == scan", test_search_property);
}
UNIT_SUITE(register_search_property)
