/* The search part of SORT and THREAD; see sort-search.h. */
#include "sort-search.h"

#include "../../common/log.h"
#include "../../store/charset.h"
#include "imap-search-args.h"
#include "search-plan.h"
#include "sort-load.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#define SORT_BADCHARSET "[BADCHARSET (UTF-8 US-ASCII)]"

int sort_search_run(struct worker_session *s, const struct imap_command *cmd,
		    size_t first, const char *what, unsigned need,
		    struct sort_msg **msgs_r, size_t *count_r)
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
	int r = sort_load(worker.store, sel->mailbox_id,
			  mailbox_view_map(sel->view), res.uids,
			  res.count, need, msgs_r, count_r, &err);
	search_result_free(&res);
	if (r < 0) {
		log_msg(LOG_LEVEL_ERROR, s->id, "%s failed: %s", what, err);
		worker_session_store_error(s, cmd->tag, err);
		return -1;
	}
	/* a message another session expunged has no record; one not yet
	 * announced is not in the view: neither can be numbered */
	size_t k = 0;
	for (size_t i = 0; i < *count_r; i++) {
		if ((*msgs_r)[i].seq == 0) {
			sort_msg_free(&(*msgs_r)[i]);
			continue;
		}
		(*msgs_r)[k++] = (*msgs_r)[i];
	}
	*count_r = k;
	return 0;
}
