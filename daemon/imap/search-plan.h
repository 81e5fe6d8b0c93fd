/* Indexed SEARCH (issue 6): the same answers as the scanning evaluator
 * (search-eval.h), from fewer messages and mostly without reading any.
 *
 * The plan works on the parsed tree as it is:
 *  - each text key is compiled against the store's vocabulary
 *    (store/search-index.h) and asks for its matches: the postings of a
 *    needle of one token (inside one word or one separator run) are the
 *    answer; a needle of several tokens is decided by the store on the
 *    token streams of the documents its postings name. Either way the
 *    set is EXACT, apart from the few held documents listed for
 *    verification. The empty string (which matches everything, or "has
 *    the field" for HEADER) and every key on the record cannot narrow:
 *    "all";
 *  - AND intersects its children's sets, OR unites them, NOT cannot
 *    narrow (the complement of a superset is not a superset);
 *  - the scanning evaluator then runs over the candidates only, with
 *    record keys decided from the records as always and text keys
 *    decided by plan_text_match: from the exact set (a merge walk, the
 *    evaluator going in UID order), or for a held document on its stored
 *    strings (search_doc_match), or by the matcher for a document that
 *    has none. A text key under NOT is compiled when
 *    first asked and always verified.
 * Since the candidates are a superset of the matches and every candidate
 * is decided as the scan would decide it, the result is the scan's. */
#ifndef POSTERN_SEARCH_PLAN_H
#define POSTERN_SEARCH_PLAN_H

#include "search-eval.h"

struct search_plan_stats {
	bool narrowed;		/* the index narrowed the candidates */
	size_t candidates;	/* UIDs examined (if narrowed) */
	size_t postings_read;
	size_t index_docs;	/* documents the postings named */
	size_t held;		/* held documents (holding area) */
	size_t doc_loads;	/* stored texts read (by the index too) */
	size_t matcher_calls;	/* text keys left to the matcher */
};

/* Off: search_plan_eval() is search_eval(). On by default; the worker
 * turns it off with POSTERN_SEARCH_INDEX=0 in its environment. */
extern bool search_plan_enabled;

/* As search_eval(); stats may be NULL. */
int search_plan_eval(struct store *store, const struct search_scope *scope,
		     const struct imap_search_key *root,
		     struct search_result *result_r,
		     struct search_plan_stats *stats, const char **error_r);

/* Registers the index's text extractor with a store (once, after
 * store_open, where the cache builder is set). */
void search_plan_attach(struct store *store);

#endif
