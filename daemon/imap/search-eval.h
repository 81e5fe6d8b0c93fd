/* The scanning SEARCH evaluator: a parsed search (imap-search-args.h)
 * over one mailbox as one session sees it, to the sorted UIDs that match.
 * It is the reference the search index (issue 6) is compared against, so
 * it stays simple and exact rather than fast:
 *
 *  - Every message record of the mailbox in the session's view is read
 *    once (store_message_iter, UID order; only the UIDs of the smallest
 *    sequence or UID set at the top level when there is one). Keys on the
 *    record (flags, keywords, \Recent, sizes, dates, UIDs, sequence
 *    numbers, MODSEQ) are decided first, three-valued, with AND/OR/NOT
 *    short-circuiting; only a message still undecided is looked at
 *    further, cheapest keys first: the cache's decoded header fields,
 *    then the top-level header, then the text parts (search-match.h).
 *  - One message at a time: a message's bytes are mapped while it is
 *    being decided and unmapped after, its folded text freed.
 *  - Dates: BEFORE/ON/SINCE and SAVEDBEFORE/SAVEDON/SAVEDSINCE compare the
 *    calendar day of INTERNALDATE / SAVEDATE in UTC, the server's time
 *    zone for search (RFC 9051 section 6.4.4 leaves it to the server; the
 *    store keeps no zone with the internal date). SENT* use the Date:
 *    header's own day (search-match.h). WITHIN (RFC 5032): OLDER n is
 *    now - INTERNALDATE > n seconds, YOUNGER n is <= n, so the two are
 *    complements.
 *  - Sequence numbers above the number of messages are ignored rather
 *    than refused (a client's "SEARCH 1:*" on an empty mailbox is fine);
 *    UIDs that do not exist are ignored (RFC 9051 section 6.4.9).
 *  - A message the session still sees but that another session expunged
 *    (not yet told, RFC 9051 section 7.5.1) has no record and matches
 *    nothing; a message appended but not yet announced is not searched. */
#ifndef POSTERN_SEARCH_EVAL_H
#define POSTERN_SEARCH_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../store/store.h"
#include "imap-search-args.h"
#include "imap-seqset.h"
#include "search-match.h"

struct search_scope {
	uint32_t mailbox_id;
	/* the client's view: sequence numbers, and the UIDs searched */
	const struct store_seqmap *view;
	/* UIDs \Recent to the session (NULL: none) */
	const struct imap_seqset *recent;
	/* "$" (RFC 5182): saved UIDs (NULL: the empty set) */
	const struct imap_seqset *saved;
	/* WITHIN (RFC 5032): seconds since the epoch */
	int64_t now;
};

struct search_stats {
	uint64_t records;	/* message records examined */
	uint64_t undecided;	/* of those, not decided by the record */
	uint64_t cache_loads;	/* parsed-message caches read */
	uint64_t data_loads;	/* message blobs mapped */
	uint64_t data_bytes;	/* their sizes */
};

struct search_result {
	uint32_t *uids;		/* ascending; malloc'ed */
	size_t count;
	/* the highest MODSEQ among the matches (RFC 7162 section 3.1.5), 0
	 * if none */
	uint64_t highest_modseq;
	struct search_stats stats;
};

/* Evaluates root (the parser's AND node; its text strings UTF-8, see
 * imap_search_args_to_utf8) over the scope. 0 with *result_r, or -1
 * with error_r (the store's error kind in store_last_error). */
int search_eval(struct store *store, const struct search_scope *scope,
		const struct imap_search_key *root,
		struct search_result *result_r, const char **error_r);
void search_result_free(struct search_result *result);

/* For the indexed evaluation (search-plan.h), which narrows the messages
 * examined and decides text keys on the index's stored text, while the
 * rest (the boolean logic, every key on the record, SENT*) stays this
 * file's: */
struct search_eval_hooks {
	/* examine only these UIDs (ascending) when restrict_uids */
	bool restrict_uids;
	const uint32_t *uids;
	size_t nuids;
	/* decides text key k for rec: 1 or 0, -1 with error_r, or 2 to
	 * leave it to the matcher (search-match.h) */
	int (*text_match)(void *ctx, const struct store_message *rec,
			  const struct search_text_key *k,
			  const char **error_r);
	void *ctx;
};
int search_eval_hooked(struct store *store, const struct search_scope *scope,
		       const struct imap_search_key *root,
		       const struct search_eval_hooks *hooks,
		       struct search_result *result_r, const char **error_r);

#endif
