/* Search index benchmark (issue 6): on N generated messages (Zipf
 * vocabulary, multipart, base64 attachments; tests/unit/
 * test-search-property-corpus.h), the index build rate, its size against
 * the raw mail, the cost it adds to a durable APPEND, and warm query
 * latency for a rare word, a common word, a phrase of common words, a
 * partial address in FROM and bad cases, each beside the scanning
 * evaluator on the same query ("cands": the documents the postings
 * named, before the token streams decided multi-token needles). Figures
 * only; tests are in tests/unit.
 *
 *   bench-search [--n N] [--dir DIR] [--no-scan] [--append N]
 */
#include "../../daemon/imap/search-eval.h"
#include "../../daemon/imap/search-match.h"
#include "../../daemon/imap/search-plan.h"
#include "../../store/mime-cache.h"
#include "../../store/search-index.h"
#include "../../store/store.h"
#include "../unit/test-search-property-corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cache_builder(void *ctx, const uint8_t *data, size_t len,
			 struct buf *out)
{
	(void)ctx;
	return mime_cache_build(data, len, NULL, out);
}

static struct store *open_store(const char *dir, bool extractor)
{
	struct store *s;
	const char *err;
	if (store_open(dir, STORE_OPEN_CREATE, &s, &err) < 0) {
		fprintf(stderr, "store_open %s: %s\n", dir, err);
		exit(1);
	}
	store_set_cache_builder(s, cache_builder, NULL);
	if (extractor)
		store_set_search_extractor(s, search_index_extractor, NULL);
	store_set_search_merge_threshold(s, 0);
	return s;
}

static uint32_t inbox_id(struct store *s)
{
	struct store_mailbox mb;
	const char *err;
	if (store_mailbox_get(s, "INBOX", &mb, &err) != 1)
		exit(1);
	return mb.id;
}

/* Durable single appends (one commit and fsync each), as APPEND does,
 * into a store without and one with the index, in alternating rounds of
 * APPEND_ROUND: fsync times on this kind of machine drift by 2x within a
 * minute, and back-to-back runs measured that drift rather than the
 * index (rounds of 100 put two stores that are alike within 1-3%). The
 * indexed store merges as the worker does (every SX_MERGE_DEFAULT
 * documents, generations combined and folded), so its time includes
 * that. st[0] has no extractor, st[1] the index; first is the corpus
 * number of the first message. */
#define APPEND_ROUND 100
static void append_rates(struct store *st[2], size_t n, unsigned first,
			 struct corpus *c, double *off_r, double *on_r,
			 double *work_r)
{
	struct store_sx_stats s0, s1;
	const char *err0;
	store_search_stats(st[1], &s0, &err0);
	uint32_t mb[2];
	for (int k = 0; k < 2; k++) {
		store_set_search_merge_threshold(st[k],
						 k == 1 ? SX_MERGE_DEFAULT : 0);
		mb[k] = inbox_id(st[k]);
	}
	struct buf *msgs = xcalloc(n, sizeof(*msgs));
	for (size_t i = 0; i < n; i++) {
		buf_init(&msgs[i]);
		corpus_message(c, first + (unsigned)i, 150, true, &msgs[i]);
	}
	double t[2] = { 0, 0 };
	for (size_t from = 0; from < n; from += APPEND_ROUND) {
		size_t to = from + APPEND_ROUND < n ? from + APPEND_ROUND : n;
		for (int k = 0; k < 2; k++) {
			double t0 = now();
			for (size_t i = from; i < to; i++) {
				struct store_append_msg m = {
					.data = msgs[i].data,
					.len = msgs[i].len, .fd = -1 };
				uint32_t uid;
				const char *err;
				if (store_append(st[k], mb[k], &m, &uid,
						 &err) < 0) {
					fprintf(stderr, "append: %s\n", err);
					exit(1);
				}
			}
			t[k] += now() - t0;
		}
	}
	for (size_t i = 0; i < n; i++)
		buf_free(&msgs[i]);
	free(msgs);
	*off_r = (double)n / t[0];
	*on_r = (double)n / t[1];
	/* the index's own time, as a share of the plain store's: free of
	 * what differs between two stores' directories and fsyncs */
	store_search_stats(st[1], &s1, &err0);
	*work_r = (s1.extract_secs - s0.extract_secs + s1.merge_secs -
		   s0.merge_secs) / t[0];
}

/* n corpus messages from first, in batches of 1000 with one syncfs (an
 * import); the seconds it took. */
static double fill(struct store *s, size_t n, unsigned first,
		   struct corpus *c, uint64_t *raw_r)
{
	uint32_t mb = inbox_id(s);
	size_t batch = 1000;
	struct buf *msgs = xcalloc(batch, sizeof(*msgs));
	struct store_append_msg *am = xcalloc(batch, sizeof(*am));
	uint32_t *uids = xcalloc(batch, sizeof(*uids));
	double t = 0;
	for (size_t done = 0; done < n;) {
		size_t k = n - done < batch ? n - done : batch;
		for (size_t i = 0; i < k; i++) {
			buf_init(&msgs[i]);
			corpus_message(c, first + (unsigned)(done + i), 150,
				       true, &msgs[i]);
			am[i] = (struct store_append_msg){
				.data = msgs[i].data, .len = msgs[i].len,
				.fd = -1 };
			if (raw_r != NULL)
				*raw_r += msgs[i].len;
		}
		double t0 = now();
		const char *err;
		if (store_append_batch(s, mb, am, k, STORE_BATCH_SYNCFS, uids,
				       &err) < 0) {
			fprintf(stderr, "append: %s\n", err);
			exit(1);
		}
		t += now() - t0;
		for (size_t i = 0; i < k; i++)
			buf_free(&msgs[i]);
		done += k;
	}
	free(msgs);
	free(am);
	free(uids);
	return t;
}

struct query {
	const char *label;
	enum imap_search_type type;
	char str[128];
};

static double run_query(struct store *s, uint32_t mb,
			const struct store_seqmap *view, const struct query *q,
			bool indexed, size_t *count_r,
			struct search_plan_stats *st)
{
	struct imap_search_args a;
	memset(&a, 0, sizeof(a));
	a.root.type = IMAP_SEARCH_AND;
	a.root.child_count = 1;
	a.root.children = xcalloc(1, sizeof(*a.root.children));
	a.root.children[0].type = q->type;
	a.root.children[0].str = xstrdup(q->str);
	a.root.children[0].str_len = strlen(q->str);
	struct search_scope scope = { .mailbox_id = mb, .view = view,
				      .now = (int64_t)time(NULL) };
	struct search_result r;
	const char *err;
	double best = 1e9;
	for (int rep = 0; rep < (indexed ? 5 : 1); rep++) {
		double t0 = now();
		int rc = indexed ? search_plan_eval(s, &scope, &a.root, &r, st,
						    &err) :
				   search_eval(s, &scope, &a.root, &r, &err);
		double t = now() - t0;
		if (rc < 0) {
			fprintf(stderr, "search: %s\n", err);
			exit(1);
		}
		*count_r = r.count;
		search_result_free(&r);
		if (t < best)
			best = t;
	}
	imap_search_args_free(&a);
	return best;
}

static void query_table(struct store *s, uint32_t mb,
			const struct store_seqmap *view, const struct query *qs,
			size_t nq, bool scan)
{
	printf("%-26s %-22s %8s %10s %10s %8s\n", "query", "string", "matches",
	       "index ms", "scan ms", "cands");
	for (size_t i = 0; i < nq; i++) {
		size_t cnt, cnt2 = 0;
		struct search_plan_stats ps;
		double ti = run_query(s, mb, view, &qs[i], true, &cnt, &ps);
		double ts = scan ? run_query(s, mb, view, &qs[i], false,
					     &cnt2, NULL) : 0;
		printf("%-26s %-22.22s %8zu %10.2f %10.1f %8zu%s\n",
		       qs[i].label, qs[i].str, cnt, ti * 1e3, ts * 1e3,
		       ps.narrowed ? ps.index_docs : view->count,
		       scan && cnt2 != cnt ? "  MISMATCH" : "");
	}
}

int main(int argc, char **argv)
{
	size_t n = 10000, napp = 6000;
	bool scan = true;
	char base[256] = "";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
			n = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--append") == 0 && i + 1 < argc)
			napp = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			snprintf(base, sizeof(base), "%s", argv[++i]);
		else if (strcmp(argv[i], "--no-scan") == 0)
			scan = false;
		else {
			fprintf(stderr, "usage: bench-search [--n N] [--dir D] "
				"[--no-scan] [--append N]\n");
			return 2;
		}
	}
	if (base[0] == '\0') {
		snprintf(base, sizeof(base), "/tmp/postern-bench-search-XXXXXX");
		if (mkdtemp(base) == NULL)
			return 1;
	}
	struct corpus c;
	corpus_init(&c, 42, 20000);

	/* build: batches of 1000 with one syncfs (an import), text made
	 * at append; then one merge of everything */
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/store", base);
	struct store *s = open_store(dir, true);
	uint32_t mb = inbox_id(s);
	uint64_t raw = 0;
	double t_app_idx = fill(s, n, 0, &c, &raw);
	const char *err;
	double t0 = now();
	size_t merged;
	if (store_search_merge(s, 0, 0, &merged, &err) < 0) {
		fprintf(stderr, "merge: %s\n", err);
		return 1;
	}
	double t_merge = now() - t0;
	struct store_sx_stats st;
	store_search_stats(s, &st, &err);
	printf("corpus: %zu messages, %.1f MB raw (%.1f KB a message)\n", n,
	       (double)raw / 1e6, (double)raw / (double)n / 1e3);
	printf("append (batches of 1000, syncfs) with text extraction: "
	       "%.0f msg/s\n", (double)n / t_app_idx);
	printf("merge into postings: %zu docs in %.2f s = %.0f msg/s\n",
	       merged, t_merge, (double)merged / t_merge);
	printf("postings: %.1f MB (%.3fx raw), %llu chunks; vocabulary: "
	       "%.1f MB (%.3fx raw), %llu entries; stored text: %.1f MB "
	       "(%.3fx raw); other %.1f MB; all search data %.3fx raw\n",
	       (double)st.post_bytes / 1e6, (double)st.post_bytes / (double)raw,
	       (unsigned long long)st.post_chunks,
	       (double)st.vocab_bytes / 1e6,
	       (double)st.vocab_bytes / (double)raw,
	       (unsigned long long)st.vocab_entries,
	       (double)st.text_bytes / 1e6,
	       (double)st.text_bytes / (double)raw,
	       (double)st.other_pages * 4096 / 1e6,
	       (double)(st.post_bytes + st.vocab_bytes + st.text_bytes +
			st.other_pages * 4096) / (double)raw);

	struct store_seqmap view = { 0 };
	store_seqmap_load(s, mb, &view, &err);
	struct query qs[] = {
		{ "rare word", IMAP_SEARCH_BODY, "" },
		{ "common word", IMAP_SEARCH_BODY, "" },
		{ "phrase of common words", IMAP_SEARCH_BODY, "" },
		{ "partial address in FROM", IMAP_SEARCH_FROM, "" },
		{ "TEXT common word", IMAP_SEARCH_TEXT, "" },
		{ "2 bytes (verify all)", IMAP_SEARCH_BODY, "ka" },
		{ "common trigram", IMAP_SEARCH_BODY, "ing" },
		{ "absent word", IMAP_SEARCH_BODY, "zqxjvw" },
		{ "3-word phrase", IMAP_SEARCH_BODY, "" },
		{ "with punctuation", IMAP_SEARCH_BODY, "" },
		{ "separator only", IMAP_SEARCH_BODY, ", " },
	};
	/* rare: the longest of the least frequent words (syllable words
	 * are substrings of each other; a long one rarely is) */
	size_t rare = c.nwords - 1;
	for (size_t i = c.nwords - 200; i < c.nwords; i++)
		if (strlen(c.words[i]) > strlen(c.words[rare]))
			rare = i;
	snprintf(qs[0].str, sizeof(qs[0].str), "%s", c.words[rare]);
	snprintf(qs[1].str, sizeof(qs[1].str), "%s", c.words[12]);
	snprintf(qs[2].str, sizeof(qs[2].str), "%s %s", c.words[3],
		 c.words[7]);
	snprintf(qs[3].str, sizeof(qs[3].str), "%.6s", c.users[17]);
	snprintf(qs[4].str, sizeof(qs[4].str), "%s", c.words[12]);
	snprintf(qs[8].str, sizeof(qs[8].str), "%s %s %s", c.words[3],
		 c.words[7], c.words[1]);
	snprintf(qs[9].str, sizeof(qs[9].str), "%s, %s", c.words[2],
		 c.words[0]);
	size_t nq = sizeof(qs) / sizeof(qs[0]);
	query_table(s, mb, &view, qs, nq, scan);
	/* after the queries: the vocabulary is loaded */
	store_search_stats(s, &st, &err);
	printf("vocabulary in memory: %.1f MB, %.0f bytes an entry\n",
	       (double)st.vocab_mem / 1e6,
	       (double)st.vocab_mem / (double)(st.vocab_entries + 1));
	struct store_sx_stats st2;

	if (napp > 0) {
		/* into new stores, then into this one beside one of as many
		 * messages without the index */
		struct store *st[2];
		double off, on, work;
		for (int k = 0; k < 2; k++) {
			snprintf(dir, sizeof(dir), "%s/append-%d", base, k);
			st[k] = open_store(dir, k == 1);
		}
		append_rates(st, napp, (unsigned)n, &c, &off, &on, &work);
		printf("durable single APPENDs into a new store: %.0f msg/s "
		       "without the index, %.0f msg/s with it (%.1f%% "
		       "slower; the index's work %.1f%% of the time without "
		       "it)\n", off, on, (off - on) / off * 100, work * 100);
		for (int k = 0; k < 2; k++)
			store_close(&st[k]);
		snprintf(dir, sizeof(dir), "%s/plain", base);
		st[0] = open_store(dir, false);
		fill(st[0], n, 0, &c, NULL);
		st[1] = s;
		append_rates(st, napp, (unsigned)(n + napp), &c, &off, &on,
			     &work);
		printf("durable single APPENDs into a store of %zu: %.0f "
		       "msg/s without the index, %.0f msg/s with it (%.1f%% "
		       "slower; the index's work %.1f%% of the time without "
		       "it)\n", n, off, on, (off - on) / off * 100,
		       work * 100);
		store_close(&st[0]);
		/* the same queries with those appends' generations beside
		 * the postings, as a worker's store mostly is */
		store_search_stats(s, &st2, &err);
		printf("after them: %zu generations (%.1f MB), %s, %zu held\n",
		       st2.gens, (double)st2.delta_bytes / 1e6,
		       st2.folding ? "a fold in progress" : "no fold running",
		       st2.held);
		store_seqmap_free(&view);
		store_seqmap_load(s, mb, &view, &err);
		query_table(s, mb, &view, qs, nq, scan);
	}
	store_seqmap_free(&view);
	store_close(&s);
	printf("stores left in %s\n", base);
	corpus_free(&c);
	return 0;
}
