/* The search part of SORT and THREAD (RFC 5256 section 3):
 *   charset SP search-key *(SP search-key)
 * parsed by imap-search-args and evaluated by search-plan, exactly as
 * SEARCH does, so "SORT (...) UTF-8 keys" matches what "SEARCH CHARSET
 * UTF-8 keys" matches; then the keys of the matches (sort-load.h). */
#ifndef POSTERN_SORT_SEARCH_H
#define POSTERN_SORT_SEARCH_H

#include "sort-key.h"
#include "worker.h"

/* Messages whose keys are loaded per slice: a few milliseconds of
 * work, after which the other sessions of the user get their turn. */
#define SORT_LOAD_SLICE 1000

/* What SORT or THREAD does with the loaded keys (in UID order, all
 * numbered in the session's view): writes its untagged response. */
typedef void sort_job_done_fn(struct worker_session *s, void *ctx,
			      struct sort_msg *msgs, size_t n);
typedef void sort_job_free_fn(void *ctx);
/* Long work on the loaded keys (SORT's sort), done in slices: called
 * again on the next loop iteration until it returns true. */
typedef bool sort_job_work_fn(void *ctx, struct sort_msg *msgs, size_t n);

/* Runs the search given by cmd->args[first..] (charset, then keys) in
 * the selected mailbox, then loads the matches' keys (need: SORT_NEED_*)
 * SORT_LOAD_SLICE at a time, the command suspended between slices
 * (worker_session_suspend_yield); then work() (may be NULL) until it is
 * finished, done() and the tagged OK. Errors are answered here (BAD, NO
 * [BADCHARSET], NO). ctx is freed with ctx_free in every case. */
void sort_search_start(struct worker_session *s,
		       const struct imap_command *cmd, size_t first,
		       const char *what, unsigned need,
		       sort_job_work_fn *work, sort_job_done_fn *done,
		       void *ctx, sort_job_free_fn *ctx_free);

#endif
