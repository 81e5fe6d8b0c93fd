/* Mailboxes: names, hierarchy, UIDVALIDITY, attributes, SPECIAL-USE. */
#include "store-private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *store_special_use_name(unsigned bit)
{
	switch (bit) {
	case STORE_SPECIAL_DRAFTS: return "\\Drafts";
	case STORE_SPECIAL_SENT: return "\\Sent";
	case STORE_SPECIAL_TRASH: return "\\Trash";
	case STORE_SPECIAL_JUNK: return "\\Junk";
	case STORE_SPECIAL_ARCHIVE: return "\\Archive";
	default: return NULL;
	}
}

/* INBOX is case-insensitive, also as the first level of a longer name
 * (RFC 9051 5.1): "inbox/x" is "INBOX/x". */
bool store_name_normalize(const char *name, char out[STORE_MAILBOX_NAME_MAX + 1])
{
	size_t len = strlen(name);
	if (!store_mailbox_name_valid(name, len))
		return false;
	memcpy(out, name, len + 1);
	if (len >= 5 && strncasecmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == STORE_HIERARCHY_SEP))
		memcpy(out, "INBOX", 5);
	return true;
}

static bool is_inbox(const char *name)
{
	return strcmp(name, "INBOX") == 0;
}

void store_mailbox_from_rec(const struct store_rec_mailbox *r,
			    struct store_mailbox *mb)
{
	memset(mb, 0, sizeof(*mb));
	mb->id = r->id;
	mb->uidvalidity = r->uidvalidity;
	mb->uidnext = r->uidnext;
	mb->highestmodseq = r->highestmodseq;
	mb->messages = r->messages;
	mb->unseen = r->unseen;
	mb->recent = r->recent;
	mb->first_recent = r->first_recent;
	mb->size = r->size;
	mb->attributes = r->attributes;
	mb->special_use = r->special_use;
	memcpy(mb->name, r->name, r->name_len + 1);
}

int store_mbox_has_children(struct store *s, MDB_txn *txn, const char *name)
{
	size_t len = strlen(name);
	char prefix[STORE_MAILBOX_NAME_MAX + 2];
	memcpy(prefix, name, len);
	prefix[len] = STORE_HIERARCHY_SEP;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_names, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	MDB_val k = { len + 1, prefix }, v;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_get");
	return k.mv_size > len + 1 && memcmp(k.mv_data, prefix, len + 1) == 0;
}

static int store_name_put(struct store *s, MDB_txn *txn, const char *name,
			  uint32_t id)
{
	struct buf b;
	buf_init(&b);
	store_rec_u32_encode(id, &b);
	int r = store_db_put(s, txn, s->db_names, name, strlen(name), b.data,
			     b.len, 0);
	buf_free(&b);
	return r;
}

static int alloc_uidvalidity(struct store *s, struct store_rec_meta *m,
			     uint32_t *v_r)
{
	if (m->next_uidvalidity == 0)
		return store_fail(s, STORE_ERR_LIMIT, "UIDVALIDITY exhausted");
	*v_r = m->next_uidvalidity++;
	return 0;
}

/* A new record for name: selectable, or a \Noselect placeholder. */
static int store_mbox_new(struct store *s, MDB_txn *txn, const char *name,
			  bool noselect, unsigned special_use,
			  struct store_rec_mailbox *mb)
{
	struct store_rec_meta m;
	if (store_meta_get(s, txn, &m) < 0)
		return -1;
	memset(mb, 0, sizeof(*mb));
	if (m.next_mailbox_id == 0)
		return store_fail(s, STORE_ERR_LIMIT, "mailbox ids exhausted");
	mb->id = m.next_mailbox_id++;
	if (!noselect && alloc_uidvalidity(s, &m, &mb->uidvalidity) < 0)
		return -1;
	mb->uidnext = 1;
	mb->first_recent = 1;
	mb->highestmodseq = 1;
	mb->attributes = noselect ? STORE_ATTR_NOSELECT : 0;
	mb->special_use = special_use;
	mb->name_len = (uint16_t)strlen(name);
	memcpy(mb->name, name, mb->name_len + 1);
	if (store_meta_put(s, txn, &m) < 0 || store_mbox_put(s, txn, mb) < 0)
		return -1;
	return store_name_put(s, txn, name, mb->id);
}

/* Creates the missing parents of name as \Noselect placeholders. */
static int create_parents(struct store *s, MDB_txn *txn, const char *name)
{
	char parent[STORE_MAILBOX_NAME_MAX + 1];
	struct store_rec_mailbox mb;
	for (const char *p = strchr(name, STORE_HIERARCHY_SEP); p != NULL;
	     p = strchr(p + 1, STORE_HIERARCHY_SEP)) {
		size_t len = (size_t)(p - name);
		memcpy(parent, name, len);
		parent[len] = '\0';
		int r = store_mbox_lookup(s, txn, parent, &mb);
		if (r < 0)
			return -1;
		if (r == 0 && store_mbox_new(s, txn, parent, true, 0, &mb) < 0)
			return -1;
	}
	return 0;
}

int store_mailbox_create_txn(struct store *s, MDB_txn *txn, const char *name,
			     unsigned special_use)
{
	struct store_rec_mailbox mb;
	int r = store_mbox_lookup(s, txn, name, &mb);
	if (r < 0)
		return -1;
	if (r > 0) {
		if (!(mb.attributes & STORE_ATTR_NOSELECT))
			return store_fail(s, STORE_ERR_EXISTS,
					  "mailbox %s already exists", name);
		/* a placeholder becomes real, with a fresh UIDVALIDITY */
		struct store_rec_meta m;
		if (store_meta_get(s, txn, &m) < 0 ||
		    alloc_uidvalidity(s, &m, &mb.uidvalidity) < 0 ||
		    store_meta_put(s, txn, &m) < 0)
			return -1;
		mb.attributes = 0;
		mb.special_use = special_use;
		mb.highestmodseq++;
		return store_mbox_put(s, txn, &mb);
	}
	if (create_parents(s, txn, name) < 0)
		return -1;
	return store_mbox_new(s, txn, name, false, special_use, &mb);
}

struct name_ctx {
	char name[STORE_MAILBOX_NAME_MAX + 1];
	char name2[STORE_MAILBOX_NAME_MAX + 1];
	unsigned special_use;
};

static int create_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct name_ctx *ctx = vctx;
	return store_mailbox_create_txn(s, txn, ctx->name, ctx->special_use);
}

static int invalid_name(struct store *s, const char *name)
{
	(void)name;	/* may be anything: not echoed into logs */
	return store_fail(s, STORE_ERR_INVALID, "invalid mailbox name");
}

int store_mailbox_create(struct store *s, const char *name,
			 unsigned special_use, const char **error_r)
{
	struct name_ctx ctx = { .special_use = special_use };
	if (!store_name_normalize(name, ctx.name))
		return store_ret(s, invalid_name(s, name), error_r);
	if (special_use & ~(unsigned)STORE_SPECIAL_ALL)
		return store_ret(s, store_fail(s, STORE_ERR_INVALID,
				 "unknown special use"), error_r);
	return store_ret(s, store_write(s, create_txn, &ctx), error_r);
}

static int delete_name(struct store *s, MDB_txn *txn,
		       const struct store_rec_mailbox *mb)
{
	uint8_t key[4];
	store_key_mailbox(key, mb->id);
	if (store_db_del(s, txn, s->db_names, mb->name, mb->name_len, NULL,
			 0) < 0 ||
	    store_db_del(s, txn, s->db_mailboxes, key, 4, NULL, 0) < 0)
		return -1;
	return 0;
}

/* Removes \Noselect ancestors of name left without children. */
static int prune_parents(struct store *s, MDB_txn *txn, const char *name)
{
	char parent[STORE_MAILBOX_NAME_MAX + 1];
	strcpy(parent, name);
	for (;;) {
		char *sep = strrchr(parent, STORE_HIERARCHY_SEP);
		if (sep == NULL)
			return 0;
		*sep = '\0';
		struct store_rec_mailbox mb;
		int r = store_mbox_lookup(s, txn, parent, &mb);
		if (r <= 0)
			return r;
		if (!(mb.attributes & STORE_ATTR_NOSELECT))
			return 0;
		r = store_mbox_has_children(s, txn, parent);
		if (r != 0)
			return r < 0 ? -1 : 0;
		if (delete_name(s, txn, &mb) < 0)
			return -1;
	}
}

static int delete_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct name_ctx *ctx = vctx;
	struct store_rec_mailbox mb;
	int r = store_mbox_lookup(s, txn, ctx->name, &mb);
	if (r < 0)
		return -1;
	if (r == 0)
		return store_fail(s, STORE_ERR_NOTFOUND,
				  "mailbox %s does not exist", ctx->name);
	int children = store_mbox_has_children(s, txn, ctx->name);
	if (children < 0)
		return -1;
	if (children && (mb.attributes & STORE_ATTR_NOSELECT))
		return store_fail(s, STORE_ERR_INVALID,
				  "mailbox %s has children and is not "
				  "selectable", ctx->name);
	if (store_mbox_purge(s, txn, &mb) < 0)
		return -1;
	if (children) {
		/* RFC 9051 6.3.4: the name stays for its children */
		mb.attributes = STORE_ATTR_NOSELECT;
		mb.special_use = 0;
		mb.highestmodseq++;
		return store_mbox_put(s, txn, &mb);
	}
	if (delete_name(s, txn, &mb) < 0)
		return -1;
	return prune_parents(s, txn, ctx->name);
}

int store_mailbox_delete(struct store *s, const char *name,
			 const char **error_r)
{
	struct name_ctx ctx;
	if (!store_name_normalize(name, ctx.name))
		return store_ret(s, invalid_name(s, name), error_r);
	if (is_inbox(ctx.name))
		return store_ret(s, store_fail(s, STORE_ERR_INVALID,
				 "INBOX cannot be deleted"), error_r);
	return store_ret(s, store_write(s, delete_txn, &ctx), error_r);
}

/* Names to rename: name itself and every name under name/. */
static int collect_subtree(struct store *s, MDB_txn *txn, const char *name,
			   char ***names_r, size_t *n_r)
{
	size_t len = strlen(name), n = 0, cap = 8;
	char **names = xmalloc(cap * sizeof(char *));
	names[n++] = xstrdup(name);
	char prefix[STORE_MAILBOX_NAME_MAX + 2];
	memcpy(prefix, name, len);
	prefix[len] = STORE_HIERARCHY_SEP;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_names, &c);
	if (rc != 0) {
		*names_r = names;
		*n_r = n;
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	}
	MDB_val k = { len + 1, prefix }, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= len + 1 || memcmp(k.mv_data, prefix, len + 1))
			break;
		if (n == cap) {
			cap *= 2;
			names = xrealloc(names, cap * sizeof(char *));
		}
		names[n++] = xstrndup(k.mv_data, k.mv_size);
	}
	mdb_cursor_close(c);
	*names_r = names;
	*n_r = n;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_mdb_fail(s, rc, "mdb_cursor_get");
	return 0;
}

static int rename_subtree(struct store *s, MDB_txn *txn, const char *from,
			  const char *to)
{
	char **names;
	size_t n, flen = strlen(from), tlen = strlen(to);
	int r = collect_subtree(s, txn, from, &names, &n);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct store_rec_mailbox mb;
		size_t slen = strlen(names[i]) - flen;
		if (tlen + slen > STORE_MAILBOX_NAME_MAX) {
			r = store_fail(s, STORE_ERR_LIMIT,
				       "mailbox name too long");
			break;
		}
		if ((r = store_mbox_lookup(s, txn, names[i], &mb)) <= 0) {
			if (r == 0)
				r = store_corrupt(s, "mailbox name");
			break;
		}
		r = 0;
		if (store_db_del(s, txn, s->db_names, mb.name, mb.name_len,
				 NULL, 0) < 0) {
			r = -1;
			break;
		}
		memcpy(mb.name, to, tlen);
		memcpy(mb.name + tlen, names[i] + flen, slen + 1);
		mb.name_len = (uint16_t)(tlen + slen);
		if (store_mbox_put(s, txn, &mb) < 0 ||
		    store_name_put(s, txn, mb.name, mb.id) < 0)
			r = -1;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int rename_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct name_ctx *ctx = vctx;
	struct store_rec_mailbox from, to;
	int r = store_mbox_lookup(s, txn, ctx->name, &from);
	if (r < 0)
		return -1;
	if (r == 0)
		return store_fail(s, STORE_ERR_NOTFOUND,
				  "mailbox %s does not exist", ctx->name);
	r = store_mbox_lookup(s, txn, ctx->name2, &to);
	if (r < 0)
		return -1;
	if (r > 0)
		return store_fail(s, STORE_ERR_EXISTS,
				  "mailbox %s already exists", ctx->name2);
	if (is_inbox(ctx->name)) {
		/* RFC 9051 6.3.6: INBOX's messages move to a new mailbox,
		 * INBOX stays (empty) and its children stay where they are */
		if (store_mailbox_create_txn(s, txn, ctx->name2, 0) < 0 ||
		    store_mbox_lookup(s, txn, ctx->name2, &to) <= 0)
			return -1;
		return store_mbox_move_all(s, txn, &from, &to);
	}
	if (create_parents(s, txn, ctx->name2) < 0 ||
	    rename_subtree(s, txn, ctx->name, ctx->name2) < 0)
		return -1;
	return prune_parents(s, txn, ctx->name);
}

int store_mailbox_rename(struct store *s, const char *old_name,
			 const char *new_name, const char **error_r)
{
	struct name_ctx ctx;
	if (!store_name_normalize(old_name, ctx.name) ||
	    !store_name_normalize(new_name, ctx.name2))
		return store_ret(s, invalid_name(s, new_name), error_r);
	size_t len = strlen(ctx.name);
	if (strcmp(ctx.name, ctx.name2) == 0)
		return store_ret(s, store_fail(s, STORE_ERR_EXISTS,
				 "mailbox %s already exists", ctx.name2),
				 error_r);
	if (is_inbox(ctx.name2) ||
	    (!is_inbox(ctx.name) && strncmp(ctx.name2, ctx.name, len) == 0 &&
	     ctx.name2[len] == STORE_HIERARCHY_SEP))
		return store_ret(s, store_fail(s, STORE_ERR_INVALID,
				 "cannot rename %s to %s", ctx.name,
				 ctx.name2), error_r);
	return store_ret(s, store_write(s, rename_txn, &ctx), error_r);
}

static int special_use_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct name_ctx *ctx = vctx;
	struct store_rec_mailbox mb;
	int r = store_mbox_lookup(s, txn, ctx->name, &mb);
	if (r <= 0)
		return r < 0 ? -1 : store_fail(s, STORE_ERR_NOTFOUND,
				"mailbox %s does not exist", ctx->name);
	mb.special_use = ctx->special_use;
	return store_mbox_put(s, txn, &mb);
}

int store_mailbox_set_special_use(struct store *s, const char *name,
				  unsigned special_use, const char **error_r)
{
	struct name_ctx ctx = { .special_use = special_use };
	if (!store_name_normalize(name, ctx.name))
		return store_ret(s, invalid_name(s, name), error_r);
	if (special_use & ~(unsigned)STORE_SPECIAL_ALL)
		return store_ret(s, store_fail(s, STORE_ERR_INVALID,
				 "unknown special use"), error_r);
	return store_ret(s, store_write(s, special_use_txn, &ctx), error_r);
}

static int fill_children(struct store *s, MDB_txn *txn,
			 struct store_mailbox *mb)
{
	int r = store_mbox_has_children(s, txn, mb->name);
	if (r < 0)
		return -1;
	mb->attributes |= r ? STORE_ATTR_HASCHILDREN : STORE_ATTR_HASNOCHILDREN;
	return 0;
}

int store_mailbox_get(struct store *s, const char *name,
		      struct store_mailbox *mb_r, const char **error_r)
{
	char norm[STORE_MAILBOX_NAME_MAX + 1];
	if (!store_name_normalize(name, norm))
		return store_ret(s, invalid_name(s, name), error_r);
	MDB_txn *txn;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	struct store_rec_mailbox rec;
	int r = store_mbox_lookup(s, txn, norm, &rec);
	if (r > 0) {
		store_mailbox_from_rec(&rec, mb_r);
		if (fill_children(s, txn, mb_r) < 0)
			r = -1;
	}
	mdb_txn_abort(txn);
	return store_ret(s, r, error_r);
}

int store_mailbox_get_by_id(struct store *s, uint32_t id,
			    struct store_mailbox *mb_r, const char **error_r)
{
	MDB_txn *txn;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	struct store_rec_mailbox rec;
	int r = store_mbox_get(s, txn, id, &rec);
	if (r > 0) {
		store_mailbox_from_rec(&rec, mb_r);
		if (fill_children(s, txn, mb_r) < 0)
			r = -1;
	}
	mdb_txn_abort(txn);
	return store_ret(s, r, error_r);
}

int store_mailbox_list(struct store *s, store_mailbox_cb *cb, void *ctx,
		       const char **error_r)
{
	MDB_txn *txn;
	MDB_cursor *c;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	int rc = mdb_cursor_open(txn, s->db_names, &c);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return store_ret(s, store_mdb_fail(s, rc, "mdb_cursor_open"),
				 error_r);
	}
	MDB_val k, v;
	int r = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint32_t id;
		struct store_rec_mailbox rec;
		struct store_mailbox mb;
		if (store_rec_u32_decode(v.mv_data, v.mv_size, &id) < 0) {
			r = store_corrupt(s, "mailbox name");
			break;
		}
		int f = store_mbox_get(s, txn, id, &rec);
		if (f <= 0) {
			r = f < 0 ? -1 : store_corrupt(s, "mailbox name");
			break;
		}
		store_mailbox_from_rec(&rec, &mb);
		if (fill_children(s, txn, &mb) < 0) {
			r = -1;
			break;
		}
		if (cb(ctx, &mb) != 0)
			break;
	}
	if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
		r = store_mdb_fail(s, rc, "mdb_cursor_get");
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return store_ret(s, r, error_r);
}

struct recent_ctx {
	uint32_t id;
	uint32_t first_recent;
};

static int take_recent_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct recent_ctx *ctx = vctx;
	struct store_rec_mailbox mb;
	if (store_mbox_get_selectable(s, txn, ctx->id, &mb) < 0)
		return -1;
	ctx->first_recent = mb.first_recent;
	if (mb.first_recent == mb.uidnext && mb.recent == 0)
		return 0;
	mb.first_recent = mb.uidnext;
	mb.recent = 0;
	return store_mbox_put(s, txn, &mb);
}

int store_mailbox_take_recent(struct store *s, uint32_t mailbox_id,
			      uint32_t *first_recent_r, const char **error_r)
{
	struct recent_ctx ctx = { .id = mailbox_id };
	int r = store_write(s, take_recent_txn, &ctx);
	*first_recent_r = ctx.first_recent;
	return store_ret(s, r, error_r);
}

/* ---- subscriptions ---- */

static int subscribe_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct name_ctx *ctx = vctx;
	return store_db_put(s, txn, s->db_subs, ctx->name, strlen(ctx->name),
			    "", 0, 0);
}

static int unsubscribe_txn(struct store *s, MDB_txn *txn, void *vctx)
{
	struct name_ctx *ctx = vctx;
	int r = store_db_del(s, txn, s->db_subs, ctx->name, strlen(ctx->name),
			     NULL, 0);
	if (r == 0)
		return store_fail(s, STORE_ERR_NOTFOUND, "not subscribed to %s",
				  ctx->name);
	return r < 0 ? -1 : 0;
}

int store_subscribe(struct store *s, const char *name, const char **error_r)
{
	struct name_ctx ctx;
	if (!store_name_normalize(name, ctx.name))
		return store_ret(s, invalid_name(s, name), error_r);
	return store_ret(s, store_write(s, subscribe_txn, &ctx), error_r);
}

int store_unsubscribe(struct store *s, const char *name,
		      const char **error_r)
{
	struct name_ctx ctx;
	if (!store_name_normalize(name, ctx.name))
		return store_ret(s, invalid_name(s, name), error_r);
	return store_ret(s, store_write(s, unsubscribe_txn, &ctx), error_r);
}

int store_subscription_list(struct store *s, store_name_cb *cb, void *ctx,
			    const char **error_r)
{
	MDB_txn *txn;
	MDB_cursor *c;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	int rc = mdb_cursor_open(txn, s->db_subs, &c);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return store_ret(s, store_mdb_fail(s, rc, "mdb_cursor_open"),
				 error_r);
	}
	MDB_val k, v;
	char name[STORE_MAILBOX_NAME_MAX + 1];
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size > STORE_MAILBOX_NAME_MAX)
			continue;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if (cb(ctx, name) != 0)
			break;
	}
	int r = 0;
	if (rc != 0 && rc != MDB_NOTFOUND)
		r = store_mdb_fail(s, rc, "mdb_cursor_get");
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return store_ret(s, r, error_r);
}
