/* posternctl reindex USER [MAILBOX] and posternctl index-status USER: the
 * search index of a user's store (issue 6 item 6), offline, as the user,
 * under the same rules as import (ctl.h): the store lock keeps them and
 * the worker apart, and a store in use is refused with what to do.
 *
 * reindex holds the documents again (store/search-reindex.h) and merges
 * them in batches with the worker's extractor, so the rebuilt index is
 * exactly what the worker would have built; index-status prints what
 * store_search_stats() counts. index-status is the documented form of
 * "posternctl status USER" for the index: status itself asks the running
 * daemon about processes and must not open (and lock) a user's store. */
#include "ctl.h"

#include "../../common/buf.h"
#include "../../common/config.h"
#include "../../store/mime-cache.h"
#include "../../store/search-index.h"
#include "../../store/search-reindex.h"
#include "../../store/store.h"
#include "../imap/search-match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Documents per merge transaction: the progress bar moves at least this
 * often, one transaction stays a few megabytes, and a batch this large
 * writes the postings themselves, not a generation (search-index.h). */
#define REINDEX_BATCH SX_GEN_DOCS_MAX

struct reindex_job {
	const char *mailbox;	/* NULL: the whole store */
};

struct mailbox_totals {
	uint64_t messages;
	uint64_t bytes;
};

static int add_mailbox(void *ctx, const struct store_mailbox *mb)
{
	struct mailbox_totals *t = ctx;
	t->messages += mb->messages;
	t->bytes += mb->size;
	return 0;
}

static int cache_build(void *ctx, const uint8_t *data, size_t len,
		       struct buf *out)
{
	(void)ctx;
	return mime_cache_build(data, len, NULL, out);
}

static int reindex_run(void *vctx, const struct ctl_user *user)
{
	struct reindex_job *job = vctx;
	struct store *s;
	const char *error;
	if (ctl_store_open(user, false, "reindex", &s) < 0)
		return CTL_EXIT_ERROR;
	store_set_cache_builder(s, cache_build, NULL);
	store_set_search_extractor(s, search_index_extractor, NULL);
	uint32_t mailbox_id = 0;
	struct mailbox_totals tot = { 0 };
	int r;
	if (job->mailbox != NULL) {
		struct store_mailbox mb;
		r = store_mailbox_get(s, job->mailbox, &mb, &error);
		if (r <= 0 || (mb.attributes & STORE_ATTR_NOSELECT)) {
			fprintf(stderr, "posternctl: %s: %s\n", job->mailbox,
				r < 0 ? error : "no such mailbox");
			store_close(&s);
			return CTL_EXIT_ERROR;
		}
		mailbox_id = mb.id;
		add_mailbox(&tot, &mb);
	} else if (store_mailbox_list(s, add_mailbox, &tot, &error) < 0) {
		fprintf(stderr, "posternctl: %s\n", error);
		store_close(&s);
		return CTL_EXIT_ERROR;
	}
	size_t held;
	if (store_search_reindex_prepare(s, mailbox_id, &held, &error) < 0) {
		fprintf(stderr, "posternctl: reindex: %s\n", error);
		store_close(&s);
		return CTL_EXIT_ERROR;
	}
	struct ctl_progress prog;
	ctl_progress_init(&prog, "reindex", held, 0);
	uint64_t done = 0;
	r = 0;
	for (;;) {
		size_t merged = 0;
		if (store_search_merge(s, REINDEX_BATCH, REINDEX_BATCH,
				       &merged, &error) < 0) {
			r = -1;
			break;
		}
		done += merged;
		ctl_progress_update(&prog, done, 0);
		if (merged == 0)
			break;
	}
	/* generations the worker left (a mailbox reindex keeps them) */
	if (r == 0 && store_search_fold(s, &error) < 0)
		r = -1;
	ctl_progress_end(&prog);
	double secs = ctl_progress_elapsed(&prog);
	struct store_sx_stats st;
	if (r == 0 && store_search_stats(s, &st, &error) < 0)
		r = -1;
	store_close(&s);
	if (r < 0) {
		fprintf(stderr, "posternctl: reindex stopped after %llu "
			"documents: %s\n", (unsigned long long)done, error);
		return CTL_EXIT_ERROR;
	}
	printf("reindexed %llu messages of %s (%llu documents) in %.2f s "
	       "(%.0f documents/s); index %llu bytes, vocabulary %llu "
	       "bytes, stored text %llu bytes, %zu held\n",
	       (unsigned long long)tot.messages,
	       job->mailbox != NULL ? job->mailbox : "all mailboxes",
	       (unsigned long long)done, secs,
	       secs > 0 ? (double)done / secs : 0.0,
	       (unsigned long long)st.post_bytes,
	       (unsigned long long)st.vocab_bytes,
	       (unsigned long long)st.text_bytes, st.held);
	/* a document left held has no text (its blob could not be read):
	 * queries still find it, through the matcher */
	return st.held > 0 ? CTL_EXIT_PARTIAL : CTL_EXIT_OK;
}

static int status_run(void *vctx, const struct ctl_user *user)
{
	(void)vctx;
	struct store *s;
	const char *error;
	if (ctl_store_open(user, false, "index-status", &s) < 0)
		return CTL_EXIT_ERROR;
	struct mailbox_totals tot = { 0 };
	struct store_sx_stats st;
	if (store_mailbox_list(s, add_mailbox, &tot, &error) < 0 ||
	    store_search_stats(s, &st, &error) < 0) {
		fprintf(stderr, "posternctl: %s\n", error);
		store_close(&s);
		return CTL_EXIT_ERROR;
	}
	store_close(&s);
	double mail = tot.bytes > 0 ? (double)tot.bytes : 1;
	printf("user:              %s\n", user->name);
	printf("messages:          %llu\n", (unsigned long long)tot.messages);
	printf("mail bytes:        %llu\n", (unsigned long long)tot.bytes);
	printf("documents:         %zu (indexed, with stored text)\n", st.docs);
	printf("held:              %zu (pending merge; %zu without text)\n",
	       st.held, st.held_no_text);
	printf("index bytes:       %llu (postings, %llu chunks; %.3fx the "
	       "mail)\n", (unsigned long long)st.post_bytes,
	       (unsigned long long)st.post_chunks, (double)st.post_bytes / mail);
	printf("generations:       %zu (recent merges' postings, %llu "
	       "bytes, of them; %s)\n", st.gens,
	       (unsigned long long)st.delta_bytes,
	       st.folding ? "folding into the postings" : "no fold running");
	printf("vocabulary bytes:  %llu (%llu words and separators; %.3fx "
	       "the mail)\n", (unsigned long long)st.vocab_bytes,
	       (unsigned long long)st.vocab_entries,
	       (double)st.vocab_bytes / mail);
	printf("stored text bytes: %llu (%.3fx the mail)\n",
	       (unsigned long long)st.text_bytes,
	       (double)st.text_bytes / mail);
	printf("lmdb pages:        %llu postings, %llu text, %llu other\n",
	       (unsigned long long)st.post_pages,
	       (unsigned long long)st.text_pages,
	       (unsigned long long)st.other_pages);
	return CTL_EXIT_OK;
}

static int run_as_user(const struct postern_config *cfg, const char *name,
		       ctl_user_fn *fn, void *ctx)
{
	struct ctl_user user;
	if (ctl_user_lookup(cfg, name, &user) < 0)
		return CTL_EXIT_ERROR;
	int r = ctl_user_run(&user, fn, ctx);
	ctl_user_free(&user);
	return r;
}

int ctl_reindex_main(const struct postern_config *cfg, int argc,
		     char *const *argv)
{
	if (argc < 1 || argc > 2) {
		fprintf(stderr, "usage: posternctl reindex USER [MAILBOX]\n");
		return CTL_EXIT_USAGE;
	}
	struct reindex_job job = { .mailbox = argc == 2 ? argv[1] : NULL };
	if (job.mailbox != NULL && (job.mailbox[0] == '\0' ||
				    strlen(job.mailbox) > STORE_MAILBOX_NAME_MAX)) {
		fprintf(stderr, "posternctl: invalid mailbox name\n");
		return CTL_EXIT_USAGE;
	}
	return run_as_user(cfg, argv[0], reindex_run, &job);
}

int ctl_index_status_main(const struct postern_config *cfg, int argc,
			  char *const *argv)
{
	if (argc != 1) {
		fprintf(stderr, "usage: posternctl index-status USER\n");
		return CTL_EXIT_USAGE;
	}
	return run_as_user(cfg, argv[0], status_run, NULL);
}
