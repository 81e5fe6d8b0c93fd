/* THREAD and UID THREAD (RFC 5256 section 3):
 *
 *   thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
 *   search-criteria = charset 1*(SP search-key)
 *
 * answered with "* THREAD (...)(...)" (section 4; "* THREAD" alone when
 * nothing matched). The matches are SEARCH's (sort-search.h), the
 * algorithms thread-algo.h's. */
#include "worker.h"

#include "sort-key.h"
#include "sort-load.h"
#include "sort-search.h"
#include "thread-algo.h"

#include <stdlib.h>
#include <string.h>

void cmd_thread(struct worker_session *s, const struct imap_command *cmd);

struct thread_ctx {
	enum thread_algorithm alg;
	bool uid;
};

/* The keys are loaded: thread, answer. */
static void thread_done(struct worker_session *s, void *ctx,
			struct sort_msg *msgs, size_t n)
{
	struct thread_ctx *c = ctx;
	struct buf *out = &s->net.out;
	buf_append_str(out, "* THREAD");
	if (n > 0)
		buf_append_byte(out, ' ');
	thread_build(c->alg, msgs, n, c->uid, out);
	buf_append_str(out, "\r\n");
}

void cmd_thread(struct worker_session *s, const struct imap_command *cmd)
{
	const char *what = s->cmd_uid ? "UID THREAD" : "THREAD";
	enum thread_algorithm alg;
	if (cmd->arg_count < 1 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    thread_algorithm_parse(cmd->args[0].str, &alg) < 0) {
		worker_session_bad(s, cmd->tag, "%s: %s", what,
				   cmd->arg_count < 1 ? "Missing algorithm" :
				   "Unknown threading algorithm");
		return;
	}
	unsigned need = SORT_NEED_CACHE;
	if (alg == THREAD_REFERENCES)
		need |= SORT_NEED_THREAD;
	struct thread_ctx *c = xcalloc(1, sizeof(*c));
	c->alg = alg;
	c->uid = s->cmd_uid;
	sort_search_start(s, cmd, 1, what, need, NULL, thread_done, c, free);
}
