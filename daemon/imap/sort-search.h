/* The search part of SORT and THREAD (RFC 5256 section 3):
 *   charset SP search-key *(SP search-key)
 * parsed by imap-search-args and evaluated by search-plan, exactly as
 * SEARCH does, so "SORT (...) UTF-8 keys" matches what "SEARCH CHARSET
 * UTF-8 keys" matches; then the keys of the matches (sort-load.h). */
#ifndef POSTERN_SORT_SEARCH_H
#define POSTERN_SORT_SEARCH_H

#include "sort-key.h"
#include "worker.h"

/* Runs the search given by cmd->args[first..] (charset, then keys) in
 * the selected mailbox and loads the matches' keys (need: SORT_NEED_*),
 * in UID order. 0 with *msgs_r / *count_r (sort_load_free), or -1 after
 * answering the client (BAD, NO [BADCHARSET], NO). */
int sort_search_run(struct worker_session *s, const struct imap_command *cmd,
		    size_t first, const char *what, unsigned need,
		    struct sort_msg **msgs_r, size_t *count_r);

#endif
