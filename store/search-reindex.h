/* Rebuilding a store's search index (posternctl reindex, issue 6 item 6).
 * Preparation puts the documents to rebuild back in the holding area in
 * one transaction; store_search_merge() (search-index.h) with an
 * extractor set then indexes them in batches, as it does new mail. A
 * crash in between leaves documents held, which every query reads, and
 * which the next merge (or reindex) picks up: the index is never wrong,
 * only slower until the merge has run. */
#ifndef POSTERN_SEARCH_REINDEX_H
#define POSTERN_SEARCH_REINDEX_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* mailbox_id 0: the whole index is dropped (postings, texts, holding
 * area, document map) and rebuilt from the message records, so stale
 * postings of long-gone messages go too. Otherwise the documents of
 * that mailbox lose their text and are held again; their old postings
 * stay until rewritten (a superset, see search-index.h invariant 3).
 * *held_r gets the number of documents now held. 0, or -1 with
 * error_r. */
int store_search_reindex_prepare(struct store *s, uint32_t mailbox_id,
				 size_t *held_r, const char **error_r);

#endif
