/* SEARCH and UID SEARCH (RFC 9051 section 6.4.4, RFC 3501 section 6.4.4),
 * with ESEARCH return options (RFC 4731), SEARCHRES (RFC 5182), WITHIN
 * (RFC 5032) and CHARSET conversion. Evaluation is search-eval.h.
 *
 * Response forms: "* SEARCH n..." for an IMAP4rev1 client without
 * RETURN; "* ESEARCH (TAG "t") [UID] ..." when RETURN is given, and for
 * every SEARCH after ENABLE IMAP4rev2 (RFC 9051 section 7.3.4: IMAP4rev2
 * has no SEARCH response; a SEARCH without RETURN means RETURN (ALL)).
 *
 * Evaluation goes through the search index (search-plan.h), which gives
 * the scan's answers; POSTERN_SEARCH_INDEX=0 scans instead. */
#include "worker.h"

#include "../../common/log.h"
#include "../../store/charset.h"
#include "imap-search-args.h"
#include "search-eval.h"
#include "search-plan.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SEARCH_BADCHARSET "[BADCHARSET (UTF-8 US-ASCII)]"

static bool charset_is_native(const char *cs)
{
	return strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "US-ASCII") == 0;
}

/* RFC 5182 section 2.4: SAVE alone or with ALL or COUNT saves every match;
 * with MIN and/or MAX only (no ALL, no COUNT) it saves just those. */
static void search_save(struct worker_session *s, uint32_t ret,
			const struct search_result *res)
{
	imap_seqset_free(&s->saved_uids);
	imap_seqset_init(&s->saved_uids);
	s->saved_valid = true;
	if (res->count == 0)
		return;
	bool all = (ret & (IMAP_SEARCH_RETURN_ALL | IMAP_SEARCH_RETURN_COUNT)) ||
		   !(ret & (IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX));
	if (all) {
		for (size_t i = 0; i < res->count; i++)
			imap_seqset_add(&s->saved_uids, res->uids[i],
					res->uids[i]);
		return;
	}
	if (ret & IMAP_SEARCH_RETURN_MIN)
		imap_seqset_add(&s->saved_uids, res->uids[0], res->uids[0]);
	if (ret & IMAP_SEARCH_RETURN_MAX)
		imap_seqset_add(&s->saved_uids, res->uids[res->count - 1],
				res->uids[res->count - 1]);
}

/* A failed SEARCH ... SAVE leaves "$" empty (RFC 5182 section 2.4). */
static void search_save_failed(struct worker_session *s,
			       const struct imap_search_args *args)
{
	if (args->return_set && (args->ret & IMAP_SEARCH_RETURN_SAVE)) {
		imap_seqset_free(&s->saved_uids);
		imap_seqset_init(&s->saved_uids);
		s->saved_valid = true;
	}
}

/* The number the client sees for result i: UID or sequence number. */
static uint32_t search_number(const struct worker_session *s, bool uid,
			      const struct search_result *res, size_t i)
{
	return uid ? res->uids[i] :
		     mailbox_view_seq(s->selected->view, res->uids[i]);
}

static void search_write_esearch(struct worker_session *s, const char *tag,
				 bool uid, uint32_t ret, bool modseq,
				 const struct search_result *res,
				 struct buf *out)
{
	/* The tag is safe to quote: tag chars exclude '"' and '\'. */
	buf_printf(out, "* ESEARCH (TAG \"%s\")", tag);
	if (uid)
		buf_append_str(out, " UID");
	if (res->count > 0) {
		/* RFC 4731 section 3.1: MIN, MAX and ALL only when there
		 * are matches; COUNT always */
		if (ret & IMAP_SEARCH_RETURN_MIN)
			buf_printf(out, " MIN %u", search_number(s, uid, res, 0));
		if (ret & IMAP_SEARCH_RETURN_MAX)
			buf_printf(out, " MAX %u",
				   search_number(s, uid, res, res->count - 1));
		if (ret & IMAP_SEARCH_RETURN_ALL) {
			struct imap_seqset set;
			imap_seqset_init(&set);
			for (size_t i = 0; i < res->count; i++) {
				uint32_t n = search_number(s, uid, res, i);
				imap_seqset_add(&set, n, n);
			}
			buf_append_str(out, " ALL ");
			imap_seqset_format(&set, out);
			imap_seqset_free(&set);
		}
	}
	if (ret & IMAP_SEARCH_RETURN_COUNT)
		buf_printf(out, " COUNT %zu", res->count);
	if (modseq && res->count > 0)
		buf_printf(out, " MODSEQ %llu",
			   (unsigned long long)res->highest_modseq);
	buf_append_str(out, "\r\n");
}

static void search_write_search(struct worker_session *s, bool uid,
				bool modseq, const struct search_result *res,
				struct buf *out)
{
	buf_append_str(out, "* SEARCH");
	for (size_t i = 0; i < res->count; i++)
		buf_printf(out, " %u", search_number(s, uid, res, i));
	/* RFC 7162 section 3.1.5 */
	if (modseq && res->count > 0)
		buf_printf(out, " (MODSEQ %llu)",
			   (unsigned long long)res->highest_modseq);
	buf_append_str(out, "\r\n");
}

void cmd_search(struct worker_session *s, const struct imap_command *cmd)
{
	struct imap_search_args args;
	const char *err;
	const char *what = s->cmd_uid ? "UID SEARCH" : "SEARCH";
	if (imap_search_args_parse(cmd->args, cmd->arg_count,
				   IMAP_SEARCH_DEFAULT_MAX_DEPTH,
				   IMAP_SEQSET_DEFAULT_MAX_ITEMS, &args,
				   &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s: %s", what, err);
		return;
	}
	/* RFC 9051 6.4.4: an unsupported charset is NO [BADCHARSET] even
	 * when no string needs converting. */
	if (args.charset != NULL && !charset_is_native(args.charset) &&
	    !charset_is_known(args.charset, strlen(args.charset))) {
		search_save_failed(s, &args);
		net_conn_printf(&s->net, "%s NO " SEARCH_BADCHARSET
				" Unsupported charset\r\n", cmd->tag);
		imap_search_args_free(&args);
		return;
	}
	switch (imap_search_args_to_utf8(&args, &err)) {
	case IMAP_SEARCH_CHARSET_OK:
		break;
	case IMAP_SEARCH_CHARSET_INVALID:
		search_save_failed(s, &args);
		worker_session_bad(s, cmd->tag, "%s: %s", what, err);
		imap_search_args_free(&args);
		return;
	case IMAP_SEARCH_CHARSET_UNKNOWN:
		search_save_failed(s, &args);
		net_conn_printf(&s->net, "%s NO " SEARCH_BADCHARSET " %s\r\n",
				cmd->tag, err);
		imap_search_args_free(&args);
		return;
	}

	struct worker_selected *sel = s->selected;
	struct search_scope scope = {
		.mailbox_id = sel->mailbox_id,
		.view = mailbox_view_map(sel->view),
		.recent = &sel->recent,
		/* RFC 5182 2.1: "$" before any SAVE is the empty set */
		.saved = s->saved_valid ? &s->saved_uids : NULL,
		.now = (int64_t)time(NULL),
	};
	struct search_result res;
	struct search_plan_stats plan;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (search_plan_eval(worker.store, &scope, &args.root, &res, &plan,
			     &err) < 0) {
		search_save_failed(s, &args);
		log_msg(LOG_LEVEL_ERROR, s->id, "%s failed: %s", what, err);
		net_conn_printf(&s->net, "%s NO [SERVERBUG] %s failed: %s\r\n",
				cmd->tag, what, err);
		imap_search_args_free(&args);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_msg(LOG_LEVEL_DEBUG, s->id,
		"search: %zu matches; %llu records, %llu undecided, "
		"%llu caches, %llu messages read (%llu bytes), %ld us; "
		"index %s: %zu candidates, %zu held, %zu postings, "
		"%zu texts, %zu by matcher",
		res.count, (unsigned long long)res.stats.records,
		(unsigned long long)res.stats.undecided,
		(unsigned long long)res.stats.cache_loads,
		(unsigned long long)res.stats.data_loads,
		(unsigned long long)res.stats.data_bytes,
		(long)((t1.tv_sec - t0.tv_sec) * 1000000 +
		       (t1.tv_nsec - t0.tv_nsec) / 1000),
		plan.narrowed ? "narrowed" : "all", plan.candidates,
		plan.held, plan.postings_read, plan.doc_loads,
		plan.matcher_calls);

	uint32_t ret = args.ret;
	bool esearch = args.return_set;
	if (!esearch && (s->enabled & SESSION_IMAP4REV2)) {
		esearch = true;
		ret = IMAP_SEARCH_RETURN_ALL;
	}
	struct buf out;
	buf_init(&out);
	if (esearch) {
		/* RFC 5182 2.4: SAVE alone answers with the tagged OK only */
		if ((ret & ~(uint32_t)IMAP_SEARCH_RETURN_SAVE) != 0)
			search_write_esearch(s, cmd->tag, s->cmd_uid, ret,
					     args.uses_modseq, &res, &out);
	} else {
		search_write_search(s, s->cmd_uid, args.uses_modseq, &res,
				    &out);
	}
	if (ret & IMAP_SEARCH_RETURN_SAVE)
		search_save(s, ret, &res);
	buf_printf(&out, "%s OK %s completed\r\n", cmd->tag, what);
	net_conn_write(&s->net, out.data, out.len);
	buf_free(&out);
	search_result_free(&res);
	imap_search_args_free(&args);
}
