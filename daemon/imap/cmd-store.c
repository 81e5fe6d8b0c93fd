/* STORE and UID STORE (RFC 9051 6.4.6), with UNCHANGEDSINCE (RFC 7162
 * 3.1.3) as far as the MODIFIED response code. */
#include "worker.h"

#include "imap-append-args.h"
#include "imap-store-args.h"

#include <stdlib.h>
#include <string.h>

static int keyword_counter(void *ctx, const char *name)
{
	(void)name;
	(*(size_t *)ctx)++;
	return 0;
}

/* How many keywords the mailbox's table holds. A command that may add a
 * keyword compares before and after: a new one means every session with
 * the mailbox selected gets a new FLAGS response (RFC 9051 7.3.5). */
size_t worker_keyword_count(uint32_t mailbox_id);
size_t worker_keyword_count(uint32_t mailbox_id)
{
	size_t n = 0;
	const char *err;
	(void)store_keyword_list(worker.store, mailbox_id, keyword_counter, &n,
				 &err);
	return n;
}

/* The set's UIDs as store ranges; UIDs above what the client was told of
 * are dropped, so a command never touches a message its client has not
 * heard of (RFC 9051 6.4.9 ignores UIDs that do not exist for it). */
struct store_uidrange *worker_set_to_ranges(const struct worker_session *s,
					    struct imap_seqset *set,
					    struct store_uidset *uidset_r);
struct store_uidrange *worker_set_to_ranges(const struct worker_session *s,
					    struct imap_seqset *set,
					    struct store_uidset *uidset_r)
{
	imap_seqset_clamp(set, mailbox_view_last_uid(s->selected->view));
	struct store_uidrange *r = xcalloc(set->count + 1, sizeof(*r));
	for (size_t i = 0; i < set->count; i++) {
		r[i].first = set->ranges[i].lo;
		r[i].last = set->ranges[i].hi;
	}
	uidset_r->ranges = r;
	uidset_r->count = set->count;
	return r;
}

/* Untagged FETCH responses read from the store per transaction. */
#define STORE_REPORT_BATCH 512

/* A STORE without .SILENT reports the flags of every message of its set
 * (RFC 9051 6.4.6): for a large set that is megabytes, written a batch
 * at a time while the client reads, the command suspended in between
 * (the flag change itself is one transaction, done before). */
struct store_report {
	char *tag;
	bool uid;
	struct store_uidrange *ranges;	/* what is left to report */
	size_t nranges, range;
	struct store_flags_result res;	/* for the MODIFIED code */
};

struct store_batch_ctx {
	struct worker_session *s;
	size_t count;
	uint32_t last_uid;
};

static int store_write_one(void *ctx, const struct store_message *msg)
{
	struct store_batch_ctx *c = ctx;
	/* A message expunged by another session since the change has no
	 * record and is skipped; one this client does not know yet is not
	 * numbered (worker_write_flags). */
	worker_write_flags(&c->s->net.out, msg, c->s->selected);
	c->last_uid = msg->uid;
	return ++c->count == STORE_REPORT_BATCH;
}

static void store_write_modified(struct worker_session *s, bool uid,
				 const struct store_flags_result *res,
				 struct buf *out)
{
	/* RFC 7162 3.1.3: UIDs for UID STORE, sequence numbers otherwise */
	struct imap_seqset set;
	imap_seqset_init(&set);
	for (size_t i = 0; i < res->nmodified; i++) {
		uint32_t n = uid ? res->modified[i] :
			     mailbox_view_seq(s->selected->view,
					      res->modified[i]);
		if (n != 0)
			imap_seqset_add(&set, n, n);
	}
	imap_seqset_format(&set, out);
	imap_seqset_free(&set);
}

static void store_report_free(void *state)
{
	struct store_report *c = state;
	store_flags_result_free(&c->res);
	free(c->ranges);
	free(c->tag);
	free(c);
}

static void store_report_finish(struct worker_session *s,
				struct store_report *c)
{
	/* what other sessions changed meanwhile, before the tagged reply */
	worker_sync_flush(s, c->uid);
	if (c->res.nmodified > 0) {
		struct buf mod;
		buf_init(&mod);
		store_write_modified(s, c->uid, &c->res, &mod);
		net_conn_printf(&s->net, "%s OK [MODIFIED %s] Conditional STORE "
				"failed for some messages\r\n", c->tag,
				buf_cstr(&mod));
		buf_free(&mod);
	} else {
		net_conn_printf(&s->net, "%s OK STORE completed\r\n", c->tag);
	}
}

/* Reports the next batches while the output has room; true when done. */
static bool store_report_run(struct worker_session *s, void *state)
{
	struct store_report *c = state;
	struct worker_selected *sel = s->selected;
	while (c->range < c->nranges) {
		if (!worker_session_can_write(s))
			return false;
		struct store_uidset set = { c->ranges + c->range,
					    c->nranges - c->range };
		struct store_batch_ctx b = { s, 0, 0 };
		const char *err;
		if (store_message_iter(worker.store, sel->mailbox_id, &set,
				       store_write_one, &b, &err) < 0) {
			/* the flags were changed; only the report failed */
			worker_session_store_error(s, c->tag, err);
			return true;
		}
		if (b.count < STORE_REPORT_BATCH || b.last_uid == UINT32_MAX)
			break;
		/* go on after the last UID reported */
		uint32_t next = b.last_uid + 1;
		while (c->range < c->nranges && c->ranges[c->range].last < next)
			c->range++;
		if (c->range < c->nranges && c->ranges[c->range].first < next)
			c->ranges[c->range].first = next;
	}
	store_report_finish(s, c);
	return true;
}

void cmd_store(struct worker_session *s, const struct imap_command *cmd)
{
	struct worker_selected *sel = s->selected;
	const char *err;
	struct imap_seqset set;
	struct imap_store_args st;
	if (cmd->arg_count < 2) {
		worker_session_bad(s, cmd->tag,
				   "STORE expects a set, an item and flags");
		return;
	}
	if (worker_resolve_set(s, &cmd->args[0], s->cmd_uid, &set, &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		return;
	}
	if (imap_store_args_parse(cmd->args + 1, cmd->arg_count - 1, &st,
				  &err) < 0) {
		imap_seqset_free(&set);
		worker_session_bad(s, cmd->tag, "%s", err);
		return;
	}
	if (sel->readonly) {
		net_conn_printf(&s->net, "%s NO [READ-ONLY] Mailbox is read-only\r\n",
				cmd->tag);
		goto out;
	}
	struct store_uidset uidset;
	struct store_uidrange *ranges = worker_set_to_ranges(s, &set, &uidset);
	struct store_flags_req req = {
		.mode = st.mode == IMAP_STORE_ADD ? STORE_FLAGS_ADD :
			st.mode == IMAP_STORE_REMOVE ? STORE_FLAGS_REMOVE :
			STORE_FLAGS_REPLACE,
		.flags = imap_flags_to_store(st.flags.system),
		.keywords = (const char *const *)st.flags.keywords,
		.nkeywords = st.flags.keyword_count,
		.unchangedsince = st.unchangedsince,
	};
	/* UNCHANGEDSINCE 0 fails for every message (RFC 7162 3.1.3); the
	 * store reads 0 as "no condition", so it is not asked at all. */
	bool all_modified = st.unchangedsince_set && st.unchangedsince == 0;
	bool may_add_kw = st.flags.keyword_count > 0 &&
			  st.mode != IMAP_STORE_REMOVE;
	size_t kw_before = may_add_kw ? worker_keyword_count(sel->mailbox_id) : 0;
	struct store_flags_result res;
	if (uidset.count == 0 || all_modified) {
		memset(&res, 0, sizeof(res));
	} else if (store_flags_set(worker.store, sel->mailbox_id, &uidset, &req,
				   &res, &err) < 0) {
		worker_session_store_error(s, cmd->tag, err);
		free(ranges);
		goto out;
	}
	if (all_modified) {
		struct imap_seqset_iter it = IMAP_SEQSET_ITER_INIT;
		uint32_t u;
		size_t cap = 0;
		while (imap_seqset_next(&set, &it, &u)) {
			if (mailbox_view_seq(sel->view, u) == 0)
				continue;
			if (res.nmodified == cap) {
				cap = cap ? cap * 2 : 16;
				res.modified = xrealloc(res.modified,
							cap * sizeof(uint32_t));
			}
			res.modified[res.nmodified++] = u;
		}
	}
	if (res.nchanged > 0) {
		uint32_t *uids = xcalloc(res.nchanged, sizeof(*uids));
		for (size_t i = 0; i < res.nchanged; i++)
			uids[i] = res.changed[i].uid;
		worker_notify_flags(sel->mailbox_id, uids, res.nchanged, s);
		free(uids);
	}
	if (may_add_kw && worker_keyword_count(sel->mailbox_id) != kw_before)
		worker_notify_keywords(sel->mailbox_id);
	/* Updates first (a new FLAGS list before FETCHes that use it);
	 * EXPUNGE only for UID STORE (RFC 9051 7.5.1). */
	worker_sync_flush(s, s->cmd_uid);
	struct store_report *c = xcalloc(1, sizeof(*c));
	c->tag = xstrdup(cmd->tag);
	c->uid = s->cmd_uid;
	c->res = res;
	if (!st.silent) {
		c->ranges = ranges;
		c->nranges = uidset.count;
	} else {
		free(ranges);
	}
	/* the changes were told to the other sessions already */
	free(c->res.changed);
	c->res.changed = NULL;
	c->res.nchanged = 0;
	if (store_report_run(s, c))
		store_report_free(c);
	else
		worker_session_suspend(s, store_report_run, store_report_free,
				       c);
out:
	imap_store_args_free(&st);
	imap_seqset_free(&set);
}
