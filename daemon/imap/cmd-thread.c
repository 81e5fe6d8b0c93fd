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

#include <string.h>

void cmd_thread(struct worker_session *s, const struct imap_command *cmd);

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
	struct sort_msg *msgs;
	size_t n;
	if (sort_search_run(s, cmd, 1, what, need, &msgs, &n) < 0)
		return;
	struct buf out;
	buf_init(&out);
	buf_append_str(&out, "* THREAD");
	if (n > 0)
		buf_append_byte(&out, ' ');
	thread_build(alg, msgs, n, s->cmd_uid, &out);
	buf_append_str(&out, "\r\n");
	buf_printf(&out, "%s OK %s completed\r\n", cmd->tag, what);
	net_conn_write(&s->net, out.data, out.len);
	buf_free(&out);
	sort_load_free(msgs, n);
}
