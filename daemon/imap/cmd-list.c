/* LIST and LSUB (RFC 9051 6.3.9, RFC 3501 6.3.9), with LIST-EXTENDED
 * (RFC 5258), CHILDREN, SPECIAL-USE (RFC 6154) and LIST-STATUS
 * (RFC 5819). */
#include "worker.h"

#include "imap-list-args.h"

#include <stdlib.h>
#include <string.h>

struct list_entry {
	char *name;
	unsigned attributes;
	unsigned special_use;
	bool exists;
	bool subscribed;
	bool child_subscribed;	/* RECURSIVEMATCH: a descendant is */
};

struct list_table {
	struct list_entry *e;
	size_t count, cap;
};

static struct list_entry *list_add(struct list_table *t, const char *name)
{
	if (t->count == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		t->e = xrealloc(t->e, t->cap * sizeof(*t->e));
	}
	struct list_entry *e = &t->e[t->count++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	return e;
}

static struct list_entry *list_find(struct list_table *t, const char *name)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->e[i].name, name) == 0)
			return &t->e[i];
	return NULL;
}

static int list_collect_mailbox(void *ctx, const struct store_mailbox *mb)
{
	struct list_entry *e = list_add(ctx, mb->name);
	e->attributes = mb->attributes;
	e->special_use = mb->special_use;
	e->exists = true;
	return 0;
}

static int list_collect_subscription(void *ctx, const char *name)
{
	struct list_table *t = ctx;
	struct list_entry *e = list_find(t, name);
	if (e == NULL)
		e = list_add(t, name);
	e->subscribed = true;
	/* Mark the parents, for RECURSIVEMATCH's CHILDINFO. */
	char *p = xstrdup(name);
	for (char *slash = strrchr(p, STORE_HIERARCHY_SEP); slash != NULL;
	     slash = strrchr(p, STORE_HIERARCHY_SEP)) {
		*slash = '\0';
		struct list_entry *parent = list_find(t, p);
		if (parent != NULL)
			parent->child_subscribed = true;
	}
	free(p);
	return 0;
}

static void list_table_free(struct list_table *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->e[i].name);
	free(t->e);
}

static bool list_matches(const struct imap_list_args *a, const char *name)
{
	for (size_t i = 0; i < a->pattern_count; i++) {
		char *pat = imap_list_pattern_join(a->reference, a->patterns[i],
						   STORE_HIERARCHY_SEP);
		bool m = imap_list_match(pat, name, STORE_HIERARCHY_SEP);
		free(pat);
		if (m)
			return true;
	}
	return false;
}

static void list_write_attr(struct buf *out, bool *first, const char *attr)
{
	if (!*first)
		buf_append_byte(out, ' ');
	buf_append_str(out, attr);
	*first = false;
}

static void list_write_entry(struct worker_session *s, const struct list_entry *e,
			     const struct imap_list_args *a, bool lsub,
			     bool childinfo)
{
	struct buf *out = &s->net.out;
	bool first = true;
	buf_append_str(out, lsub ? "* LSUB (" : "* LIST (");
	if (!e->exists) {
		if (!lsub)
			list_write_attr(out, &first, "\\NonExistent");
		else
			list_write_attr(out, &first, "\\Noselect");
	} else {
		if (e->attributes & STORE_ATTR_NOSELECT)
			list_write_attr(out, &first, "\\Noselect");
		if (!lsub) {
			if (e->attributes & STORE_ATTR_HASCHILDREN)
				list_write_attr(out, &first, "\\HasChildren");
			else if (e->attributes & STORE_ATTR_HASNOCHILDREN)
				list_write_attr(out, &first, "\\HasNoChildren");
			for (unsigned bit = 1; bit <= STORE_SPECIAL_ALL; bit <<= 1)
				if (e->special_use & bit)
					list_write_attr(out, &first,
							store_special_use_name(bit));
		}
	}
	if (!lsub && e->subscribed &&
	    (a->ret & IMAP_LIST_RETURN_SUBSCRIBED ||
	     a->select & IMAP_LIST_SELECT_SUBSCRIBED))
		list_write_attr(out, &first, "\\Subscribed");
	buf_append_str(out, ") \"/\" ");
	worker_mailbox_name_out(s, e->name, out);
	if (childinfo)
		buf_append_str(out, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	buf_append_str(out, "\r\n");
}

static bool list_selected(const struct imap_list_args *a,
			  const struct list_entry *e, bool *childinfo_r)
{
	*childinfo_r = false;
	if (a->select & IMAP_LIST_SELECT_SUBSCRIBED) {
		if (e->subscribed)
			return true;
		/* RFC 5258 3.5: with RECURSIVEMATCH, a parent of a
		 * subscribed name is listed with CHILDINFO. */
		if ((a->select & IMAP_LIST_SELECT_RECURSIVEMATCH) &&
		    e->child_subscribed) {
			*childinfo_r = true;
			return true;
		}
		return false;
	}
	if (!e->exists)
		return false;
	if ((a->select & IMAP_LIST_SELECT_SPECIAL_USE) && e->special_use == 0)
		return false;
	return true;
}

static void cmd_list_common(struct worker_session *s,
			    const struct imap_command *cmd, bool lsub)
{
	struct imap_list_args a;
	const char *err;
	bool utf8 = (s->enabled & (SESSION_IMAP4REV2 | SESSION_UTF8_ACCEPT)) != 0;
	if (imap_list_args_parse(cmd->args, cmd->arg_count, lsub, utf8, &a,
				 &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		return;
	}
	/* RFC 9051 6.3.9: an empty pattern asks for the separator. */
	if (!lsub && a.pattern_count == 1 && a.patterns[0][0] == '\0' &&
	    !a.extended) {
		net_conn_printf(&s->net, "* LIST (\\Noselect) \"/\" \"\"\r\n"
				"%s OK LIST completed\r\n", cmd->tag);
		imap_list_args_free(&a);
		return;
	}
	struct list_table t = { 0 };
	if (store_mailbox_list(worker.store, list_collect_mailbox, &t, &err) < 0 ||
	    store_subscription_list(worker.store, list_collect_subscription, &t,
				    &err) < 0) {
		worker_session_store_error(s, cmd->tag, err);
		list_table_free(&t);
		imap_list_args_free(&a);
		return;
	}
	for (size_t i = 0; i < t.count; i++) {
		const struct list_entry *e = &t.e[i];
		bool childinfo = false;
		if (lsub) {
			if (!e->subscribed || !list_matches(&a, e->name))
				continue;
		} else if (!list_matches(&a, e->name) ||
			   !list_selected(&a, e, &childinfo)) {
			continue;
		}
		list_write_entry(s, e, &a, lsub, childinfo);
		if (!lsub && (a.ret & IMAP_LIST_RETURN_STATUS) && e->exists &&
		    !(e->attributes & STORE_ATTR_NOSELECT)) {
			size_t mark = s->net.out.len;
			if (worker_write_status(s, e->name, a.status_items, &err) < 0)
				s->net.out.len = mark;
		}
	}
	net_conn_printf(&s->net, "%s OK %s completed\r\n", cmd->tag,
			lsub ? "LSUB" : "LIST");
	list_table_free(&t);
	imap_list_args_free(&a);
}

void cmd_list(struct worker_session *s, const struct imap_command *cmd)
{
	cmd_list_common(s, cmd, false);
}

void cmd_lsub(struct worker_session *s, const struct imap_command *cmd)
{
	cmd_list_common(s, cmd, true);
}
