/* The search part of SORT and THREAD, and the loading of the matches'
 * keys in slices; see sort-search.h. */
#include "sort-search.h"

#include "../../common/log.h"
#include "../../store/charset.h"
#include "imap-search-args.h"
#include "search-plan.h"
#include "sort-load.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SORT_BADCHARSET "[BADCHARSET (UTF-8 US-ASCII)]"

/* A SORT or THREAD loading its keys. The session's view does not
 * change while its command runs (its client is told of changes only at
 * the end), so the sequence numbers read per slice stay right. */
struct sort_job {
	char *tag;
	const char *what;
	bool uid;
	struct sort_loader *loader;
	/* the loaded keys, once all are */
	struct sort_msg *msgs;
	size_t n;
	bool loaded;
	sort_job_work_fn *work;
	sort_job_done_fn *done;
	void *ctx;
	sort_job_free_fn *ctx_free;
};

/* The search; 0 with j->loader set up, or -1 after answering. */
static int sort_search_match(struct worker_session *s,
			     const struct imap_command *cmd, size_t first,
			     const char *what, unsigned need,
			     struct sort_job *j)
{
	const struct imap_arg *args = cmd->args + first;
	size_t count = cmd->arg_count > first ? cmd->arg_count - first : 0;
	const char *err;
	/* charset = atom / quoted; required here, unlike SEARCH's
	 * optional "CHARSET x" */
	if (count < 2 || (args[0].type != IMAP_ARG_ATOM &&
			  args[0].type != IMAP_ARG_QUOTED) ||
	    args[0].len == 0 || memchr(args[0].str, '\0', args[0].len)) {
		worker_session_bad(s, cmd->tag, "%s: %s", what,
				   count < 2 ? "Missing charset or search keys" :
					       "Invalid charset");
		return -1;
	}
	/* what follows the charset is search-key *(SP search-key): words
	 * the SEARCH parser would take for its own prefixes are not keys */
	if (imap_arg_atom_equals(&args[1], "CHARSET") ||
	    imap_arg_atom_equals(&args[1], "RETURN")) {
		worker_session_bad(s, cmd->tag, "%s: Unknown search key", what);
		return -1;
	}
	struct imap_search_args sargs;
	if (imap_search_args_parse(args + 1, count - 1,
				   IMAP_SEARCH_DEFAULT_MAX_DEPTH,
				   IMAP_SEQSET_DEFAULT_MAX_ITEMS, &sargs,
				   &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s: %s", what, err);
		return -1;
	}
	sargs.charset = xstrndup(args[0].str, args[0].len);
	switch (imap_search_args_to_utf8(&sargs, &err)) {
	case IMAP_SEARCH_CHARSET_OK:
		break;
	case IMAP_SEARCH_CHARSET_INVALID:
		worker_session_bad(s, cmd->tag, "%s: %s", what, err);
		imap_search_args_free(&sargs);
		return -1;
	case IMAP_SEARCH_CHARSET_UNKNOWN:
		net_conn_printf(&s->net, "%s NO " SORT_BADCHARSET " %s\r\n",
				cmd->tag, err);
		imap_search_args_free(&sargs);
		return -1;
	}

	struct worker_selected *sel = s->selected;
	struct search_scope scope = {
		.mailbox_id = sel->mailbox_id,
		.view = mailbox_view_map(sel->view),
		.recent = &sel->recent,
		.saved = s->saved_valid ? &s->saved_uids : NULL,
		.now = (int64_t)time(NULL),
	};
	struct search_result res;
	if (search_plan_eval(worker.store, &scope, &sargs.root, &res, NULL,
			     &err) < 0) {
		log_msg(LOG_LEVEL_ERROR, s->id, "%s failed: %s", what, err);
		net_conn_printf(&s->net, "%s NO [SERVERBUG] %s failed: %s\r\n",
				cmd->tag, what, err);
		imap_search_args_free(&sargs);
		return -1;
	}
	imap_search_args_free(&sargs);
	j->loader = sort_loader_new(sel->mailbox_id,
				    mailbox_view_map(sel->view), res.uids,
				    res.count, need);
	search_result_free(&res);
	return 0;
}

static void sort_job_free(void *state)
{
	struct sort_job *j = state;
	sort_loader_free(j->loader);
	if (j->msgs != NULL)
		sort_load_free(j->msgs, j->n);
	if (j->ctx_free != NULL)
		j->ctx_free(j->ctx);
	free(j->tag);
	free(j);
}

/* All keys are loaded: those that can be numbered are kept. */
static void sort_job_loaded(struct sort_job *j)
{
	struct sort_msg *msgs;
	size_t n;
	sort_loader_take(j->loader, &msgs, &n);
	sort_loader_free(j->loader);
	j->loader = NULL;
	/* a message another session expunged has no record; one not yet
	 * announced is not in the view: neither can be numbered */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].seq == 0) {
			sort_msg_free(&msgs[i]);
			continue;
		}
		msgs[k++] = msgs[i];
	}
	j->msgs = msgs;
	j->n = k;
	j->loaded = true;
}

/* The next slice; true when the command is answered. */
static bool sort_job_run(struct worker_session *s, void *state)
{
	struct sort_job *j = state;
	if (!j->loaded) {
		const char *err;
		int r = sort_loader_step(worker.store, j->loader,
					 SORT_LOAD_SLICE, &err);
		if (r < 0) {
			log_msg(LOG_LEVEL_ERROR, s->id, "%s failed: %s",
				j->what, err);
			worker_session_store_error(s, j->tag, err);
			return true;
		}
		if (r == 0) {
			worker_session_yield(s);
			return false;
		}
		sort_job_loaded(j);
	}
	if (j->work != NULL && !j->work(j->ctx, j->msgs, j->n)) {
		worker_session_yield(s);
		return false;
	}
	j->done(s, j->ctx, j->msgs, j->n);
	/* what others changed meanwhile, before the tagged reply; EXPUNGE
	 * only for the UID form (RFC 9051 7.5.1) */
	worker_sync_flush(s, j->uid);
	net_conn_printf(&s->net, "%s OK %s completed\r\n", j->tag, j->what);
	return true;
}

void sort_search_start(struct worker_session *s,
		       const struct imap_command *cmd, size_t first,
		       const char *what, unsigned need,
		       sort_job_work_fn *work, sort_job_done_fn *done,
		       void *ctx, sort_job_free_fn *ctx_free)
{
	struct sort_job *j = xcalloc(1, sizeof(*j));
	j->work = work;
	j->done = done;
	j->ctx = ctx;
	j->ctx_free = ctx_free;
	j->what = what;
	j->uid = s->cmd_uid;
	j->tag = xstrdup(cmd->tag);
	if (sort_search_match(s, cmd, first, what, need, j) < 0 ||
	    sort_job_run(s, j))
		sort_job_free(j);
	else
		worker_session_suspend_yield(s, sort_job_run, sort_job_free,
					     j);
}
