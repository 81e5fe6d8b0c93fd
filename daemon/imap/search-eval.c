/* The scanning SEARCH evaluator; see search-eval.h. */
#include "search-eval.h"

#include "../../common/buf.h"
#include "search-match.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY_SECONDS 86400

enum tri {
	TRI_FALSE = 0,
	TRI_TRUE = 1,
	TRI_UNKNOWN = 2,
};

/* What deciding a node costs, for ordering AND/OR children. */
enum node_cost {
	COST_RECORD = 0,	/* the message record */
	COST_CACHE = 1,		/* the cache's search fields */
	COST_TREE = 2,		/* the decoded cache (SENT*) */
	COST_HEADER = 3,	/* the top-level header bytes */
	COST_BODY = 4,		/* the text parts */
	COST_TEXT = 5,		/* headers of every part and the text parts */
};

/* The parsed tree compiled for one mailbox view: sets resolved to UIDs,
 * dates to times, strings folded, children ordered by cost. */
struct search_node {
	enum imap_search_type type;
	const struct imap_search_key *key;
	struct search_node *children;
	size_t nchildren;
	enum node_cost cost;
	struct imap_seqset uids;	/* SEQSET, UIDSET */
	int64_t day_start;		/* date keys: midnight UTC */
	struct search_text_key text;	/* text keys */
};

struct eval_ctx {
	struct store *store;
	const struct search_scope *scope;
	const struct search_eval_hooks *hooks;	/* NULL: plain scan */
	struct search_node root;
	struct search_result *res;
	size_t cap;
	const char *error;
	bool failed;
	char errbuf[256];	/* the error, copied: the store's strings
				 * last only until its next call */
	/* the message being decided */
	const struct store_message *rec;
	struct search_message msg;
	struct buf cache;
	void *map;
	size_t map_len;
	int sent_state;		/* -2 not computed, 0 none, 1 sent_date set */
	struct imap_date sent_date;
	size_t view_at;		/* in_view()'s place */
};

/* Whether uid is in the session's view. Records come in UID order, so a
 * gallop forward from the last place answers in O(1) a message, where a
 * binary search of a large view costs a cache miss a step. */
static bool in_view(struct eval_ctx *c, uint32_t uid)
{
	const uint32_t *u = c->scope->view->uids;
	size_t n = c->scope->view->count;
	c->view_at = store_uids_gallop(u, n, c->view_at, uid);
	return c->view_at < n && u[c->view_at] == uid;
}

static int date_cmp(const struct imap_date *a, const struct imap_date *b)
{
	if (a->year != b->year)
		return a->year < b->year ? -1 : 1;
	if (a->month != b->month)
		return a->month < b->month ? -1 : 1;
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	return 0;
}

static void node_free(struct search_node *n)
{
	for (size_t i = 0; i < n->nchildren; i++)
		node_free(&n->children[i]);
	free(n->children);
	imap_seqset_free(&n->uids);
	search_text_key_free(&n->text);
}

/* The UIDs of a sequence set or UID set key, as the session sees them. */
static void compile_set(const struct search_scope *sc,
			const struct imap_search_key *key,
			struct search_node *n)
{
	const struct store_seqmap *v = sc->view;
	imap_seqset_init(&n->uids);
	if (key->set.saved) {
		for (size_t i = 0; sc->saved != NULL && i < sc->saved->count; i++)
			imap_seqset_add(&n->uids, sc->saved->ranges[i].lo,
					sc->saved->ranges[i].hi);
		return;
	}
	struct imap_seqset set;
	imap_seqset_init(&set);
	for (size_t i = 0; i < key->set.count; i++)
		imap_seqset_add(&set, key->set.ranges[i].lo,
				key->set.ranges[i].hi);
	set.star = key->set.star;
	set.star_lo = key->set.star_lo;
	set.star_hi = key->set.star_hi;
	if (key->type == IMAP_SEARCH_UIDSET) {
		uint32_t max = v->count ? v->uids[v->count - 1] : 0;
		imap_seqset_resolve(&set, max);
		n->uids = set;
		return;
	}
	imap_seqset_resolve(&set, (uint32_t)v->count);
	imap_seqset_clamp(&set, (uint32_t)v->count);
	for (size_t i = 0; i < set.count; i++)
		for (uint64_t s = set.ranges[i].lo; s <= set.ranges[i].hi; s++)
			imap_seqset_add(&n->uids, v->uids[s - 1],
					v->uids[s - 1]);
	imap_seqset_free(&set);
}

static void compile(const struct search_scope *sc,
		    const struct imap_search_key *key, struct search_node *n)
{
	memset(n, 0, sizeof(*n));
	n->type = key->type;
	n->key = key;
	n->cost = COST_RECORD;
	imap_seqset_init(&n->uids);
	if (key->child_count > 0) {
		n->nchildren = key->child_count;
		n->children = xcalloc(key->child_count, sizeof(*n->children));
		for (size_t i = 0; i < key->child_count; i++) {
			compile(sc, &key->children[i], &n->children[i]);
			if (n->children[i].cost > n->cost)
				n->cost = n->children[i].cost;
		}
		/* cheapest first (insertion sort: stable, tiny arrays) */
		for (size_t i = 1; i < n->nchildren; i++) {
			struct search_node t = n->children[i];
			size_t j = i;
			while (j > 0 && n->children[j - 1].cost > t.cost) {
				n->children[j] = n->children[j - 1];
				j--;
			}
			n->children[j] = t;
		}
		return;
	}
	switch (key->type) {
	case IMAP_SEARCH_SEQSET:
	case IMAP_SEARCH_UIDSET:
		compile_set(sc, key, n);
		break;
	case IMAP_SEARCH_BEFORE:
	case IMAP_SEARCH_ON:
	case IMAP_SEARCH_SINCE:
	case IMAP_SEARCH_SAVEDBEFORE:
	case IMAP_SEARCH_SAVEDON:
	case IMAP_SEARCH_SAVEDSINCE:
		n->day_start = (int64_t)imap_date_to_time(&key->date);
		break;
	case IMAP_SEARCH_SENTBEFORE:
	case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE:
		n->cost = COST_TREE;
		break;
	case IMAP_SEARCH_SUBJECT:
	case IMAP_SEARCH_FROM:
	case IMAP_SEARCH_TO:
	case IMAP_SEARCH_CC:
	case IMAP_SEARCH_BCC:
	case IMAP_SEARCH_HEADER:
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_TEXT:
		search_text_key_init(&n->text, key->type, key->header,
				     key->str != NULL ? key->str : "",
				     key->str != NULL ? key->str_len : 0);
		n->text.origin = key;
		n->cost = key->type == IMAP_SEARCH_HEADER ? COST_HEADER :
			  key->type == IMAP_SEARCH_BODY ? COST_BODY :
			  key->type == IMAP_SEARCH_TEXT ? COST_TEXT :
							  COST_CACHE;
		break;
	default:
		break;
	}
}

static bool has_keyword(const struct store_message *rec, const char *kw)
{
	for (size_t i = 0; i < rec->nkeywords; i++)
		if (strcasecmp(rec->keywords[i], kw) == 0)
			return true;
	return false;
}

static int in_day_cmp(int64_t t, int64_t day_start)
{
	/* the UTC calendar day of t against the day starting at day_start */
	if (t < day_start)
		return -1;
	if (t >= day_start + DAY_SECONDS)
		return 1;
	return 0;
}

/* Loads the cache record or maps the blob of the message being decided. */
static int eval_load(void *vctx, struct search_message *m,
		     enum search_load what, const char **error_r)
{
	struct eval_ctx *c = vctx;
	if (what == SEARCH_LOAD_CACHE) {
		buf_clear(&c->cache);
		int r = store_cache_get(c->store, c->rec->blob_id, &c->cache,
					error_r);
		if (r < 0)
			return -1;
		c->res->stats.cache_loads++;
		if (r > 0) {
			m->cache = c->cache.data;
			m->cache_len = c->cache.len;
		}
		return 0;
	}
	int fd;
	if (store_message_open(c->store, c->rec->blob_id, &fd, error_r) < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		*error_r = "Cannot read a message";
		return -1;
	}
	c->res->stats.data_loads++;
	c->res->stats.data_bytes += (uint64_t)st.st_size;
	if (st.st_size == 0) {
		close(fd);
		m->data = (const uint8_t *)"";
		m->len = 0;
		return 0;
	}
	/* Mapped, not read: the kernel pages it in as the text parts are
	 * decoded and can drop it again, so a huge message costs no heap. */
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		*error_r = "Cannot map a message";
		return -1;
	}
	c->map = p;
	c->map_len = (size_t)st.st_size;
	m->data = p;
	m->len = c->map_len;
	return 0;
}

static int sent_cmp(struct eval_ctx *c, const struct search_node *n,
		    int *cmp_r)
{
	if (c->sent_state == -2) {
		int r = search_message_sent_date(&c->msg, &c->sent_date,
						 &c->error);
		if (r < 0)
			return -1;
		c->sent_state = r;
	}
	if (c->sent_state == 0)
		return 0;
	*cmp_r = date_cmp(&c->sent_date, &n->key->date);
	return 1;
}

/* TRI_* or -1 (c->error). full: text keys may be evaluated. */
static int node_eval(struct eval_ctx *c, const struct search_node *n,
		     bool full)
{
	const struct store_message *rec = c->rec;
	int r, res, cmp;
	switch (n->type) {
	case IMAP_SEARCH_AND:
		res = TRI_TRUE;
		for (size_t i = 0; i < n->nchildren; i++) {
			r = node_eval(c, &n->children[i], full);
			if (r < 0 || r == TRI_FALSE)
				return r;
			if (r == TRI_UNKNOWN)
				res = TRI_UNKNOWN;
		}
		return res;
	case IMAP_SEARCH_OR:
		res = TRI_FALSE;
		for (size_t i = 0; i < n->nchildren; i++) {
			r = node_eval(c, &n->children[i], full);
			if (r < 0 || r == TRI_TRUE)
				return r;
			if (r == TRI_UNKNOWN)
				res = TRI_UNKNOWN;
		}
		return res;
	case IMAP_SEARCH_NOT:
		r = node_eval(c, &n->children[0], full);
		if (r < 0 || r == TRI_UNKNOWN)
			return r;
		return r == TRI_TRUE ? TRI_FALSE : TRI_TRUE;
	case IMAP_SEARCH_ALL:
	case IMAP_SEARCH_SAVEDATESUPPORTED:
		return TRI_TRUE;
	case IMAP_SEARCH_SEQSET:
	case IMAP_SEARCH_UIDSET:
		return imap_seqset_contains(&n->uids, rec->uid);
	case IMAP_SEARCH_ANSWERED:
		return (rec->flags & STORE_FLAG_ANSWERED) != 0;
	case IMAP_SEARCH_DELETED:
		return (rec->flags & STORE_FLAG_DELETED) != 0;
	case IMAP_SEARCH_DRAFT:
		return (rec->flags & STORE_FLAG_DRAFT) != 0;
	case IMAP_SEARCH_FLAGGED:
		return (rec->flags & STORE_FLAG_FLAGGED) != 0;
	case IMAP_SEARCH_SEEN:
		return (rec->flags & STORE_FLAG_SEEN) != 0;
	case IMAP_SEARCH_RECENT:
		/* \Recent is per session (RFC 3501 2.3.2), not the record's */
		return c->scope->recent != NULL &&
		       imap_seqset_contains(c->scope->recent, rec->uid);
	case IMAP_SEARCH_KEYWORD:
		return has_keyword(rec, n->key->str);
	case IMAP_SEARCH_BEFORE:
		return in_day_cmp(rec->internaldate, n->day_start) < 0;
	case IMAP_SEARCH_ON:
		return in_day_cmp(rec->internaldate, n->day_start) == 0;
	case IMAP_SEARCH_SINCE:
		return in_day_cmp(rec->internaldate, n->day_start) >= 0;
	case IMAP_SEARCH_SAVEDBEFORE:
		return in_day_cmp(rec->savedate, n->day_start) < 0;
	case IMAP_SEARCH_SAVEDON:
		return in_day_cmp(rec->savedate, n->day_start) == 0;
	case IMAP_SEARCH_SAVEDSINCE:
		return in_day_cmp(rec->savedate, n->day_start) >= 0;
	case IMAP_SEARCH_OLDER:
		return c->scope->now - rec->internaldate > (int64_t)n->key->number;
	case IMAP_SEARCH_YOUNGER:
		return c->scope->now - rec->internaldate <= (int64_t)n->key->number;
	case IMAP_SEARCH_LARGER:
		return rec->size > n->key->number;
	case IMAP_SEARCH_SMALLER:
		return rec->size < n->key->number;
	case IMAP_SEARCH_MODSEQ:
		/* one mod-sequence per message: every entry name and type
		 * names the same (RFC 7162 section 3.1.5 allows this) */
		return rec->modseq >= n->key->number;
	case IMAP_SEARCH_SENTBEFORE:
	case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE:
		if (!full)
			return TRI_UNKNOWN;
		r = sent_cmp(c, n, &cmp);
		if (r <= 0)
			return r;	/* no sent date: no match */
		if (n->type == IMAP_SEARCH_SENTBEFORE)
			return cmp < 0;
		if (n->type == IMAP_SEARCH_SENTON)
			return cmp == 0;
		return cmp >= 0;
	case IMAP_SEARCH_SUBJECT:
	case IMAP_SEARCH_FROM:
	case IMAP_SEARCH_TO:
	case IMAP_SEARCH_CC:
	case IMAP_SEARCH_BCC:
	case IMAP_SEARCH_HEADER:
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_TEXT:
		if (!full)
			return TRI_UNKNOWN;
		if (c->hooks != NULL && c->hooks->text_match != NULL) {
			r = c->hooks->text_match(c->hooks->ctx, rec, &n->text,
						 &c->error);
			if (r != 2)
				return r;
		}
		return search_match_text(&c->msg, &n->text, &c->error);
	}
	c->error = "Unsupported search key";
	return -1;
}

static void result_add(struct eval_ctx *c, const struct store_message *rec)
{
	struct search_result *res = c->res;
	if (res->count == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		res->uids = xrealloc(res->uids, c->cap * sizeof(*res->uids));
	}
	res->uids[res->count++] = rec->uid;
	if (rec->modseq > res->highest_modseq)
		res->highest_modseq = rec->modseq;
}

static void message_done(struct eval_ctx *c)
{
	search_message_free(&c->msg);
	if (c->map != NULL) {
		munmap(c->map, c->map_len);
		c->map = NULL;
	}
	if (c->cache.cap > 256 * 1024)
		buf_free(&c->cache);	/* bound what one odd message keeps */
}

static int eval_message(void *vctx, const struct store_message *rec)
{
	struct eval_ctx *c = vctx;
	if (!in_view(c, rec->uid))
		return 0;	/* not (yet) in the session's view */
	c->res->stats.records++;
	c->rec = rec;
	int r = node_eval(c, &c->root, false);
	if (r == TRI_UNKNOWN) {
		c->res->stats.undecided++;
		search_message_init_lazy(&c->msg, eval_load, c);
		c->sent_state = -2;
		r = node_eval(c, &c->root, true);
		message_done(c);
	}
	if (r < 0) {
		snprintf(c->errbuf, sizeof(c->errbuf), "%s",
			 c->error != NULL ? c->error : "Search failed");
		c->failed = true;
		return 1;
	}
	if (r == TRI_TRUE)
		result_add(c, rec);
	return 0;
}

/* The UIDs worth reading records for: the session's view, narrowed to
 * the smallest set that the top-level AND requires. */
static void scan_ranges(const struct eval_ctx *c, struct store_uidrange **r_r,
			size_t *n_r)
{
	const struct store_seqmap *v = c->scope->view;
	const struct imap_seqset *best = NULL;
	uint64_t best_count = 0;
	for (size_t i = 0; i < c->root.nchildren; i++) {
		const struct search_node *ch = &c->root.children[i];
		if (ch->type != IMAP_SEARCH_SEQSET &&
		    ch->type != IMAP_SEARCH_UIDSET)
			continue;
		uint64_t cnt = imap_seqset_count(&ch->uids);
		if (best == NULL || cnt < best_count) {
			best = &ch->uids;
			best_count = cnt;
		}
	}
	if (best != NULL) {
		*r_r = xcalloc(best->count ? best->count : 1, sizeof(**r_r));
		for (size_t i = 0; i < best->count; i++)
			(*r_r)[i] = (struct store_uidrange){
				best->ranges[i].lo, best->ranges[i].hi };
		*n_r = best->count;
		return;
	}
	*r_r = xcalloc(1, sizeof(**r_r));
	if (v->count == 0) {
		*n_r = 0;
		return;
	}
	(*r_r)[0] = (struct store_uidrange){ v->uids[0], v->uids[v->count - 1] };
	*n_r = 1;
}

int search_eval(struct store *store, const struct search_scope *scope,
		const struct imap_search_key *root,
		struct search_result *result_r, const char **error_r)
{
	return search_eval_hooked(store, scope, root, NULL, result_r, error_r);
}

int search_eval_hooked(struct store *store, const struct search_scope *scope,
		       const struct imap_search_key *root,
		       const struct search_eval_hooks *hooks,
		       struct search_result *result_r, const char **error_r)
{
	struct eval_ctx c;
	memset(&c, 0, sizeof(c));
	memset(result_r, 0, sizeof(*result_r));
	c.store = store;
	c.scope = scope;
	c.hooks = hooks;
	c.res = result_r;
	buf_init(&c.cache);
	compile(scope, root, &c.root);

	struct store_uidrange *ranges;
	size_t nranges;
	if (hooks != NULL && hooks->restrict_uids) {
		/* the candidates: every match is among them */
		ranges = xcalloc(hooks->nuids ? hooks->nuids : 1,
				 sizeof(*ranges));
		nranges = 0;
		for (size_t i = 0; i < hooks->nuids; i++) {
			uint32_t u = hooks->uids[i];
			if (nranges > 0 && ranges[nranges - 1].last + 1 == u)
				ranges[nranges - 1].last = u;
			else
				ranges[nranges++] =
					(struct store_uidrange){ u, u };
		}
	} else {
		scan_ranges(&c, &ranges, &nranges);
	}
	int r = 0;
	if (nranges > 0) {
		struct store_uidset set = { ranges, nranges };
		r = store_message_iter(store, scope->mailbox_id, &set,
				       eval_message, &c, error_r);
	}
	free(ranges);
	node_free(&c.root);
	buf_free(&c.cache);
	if (r >= 0 && c.failed) {
		static char error[256];
		snprintf(error, sizeof(error), "%s", c.errbuf);
		*error_r = error;
		r = -1;
	}
	if (r < 0) {
		search_result_free(result_r);
		return -1;
	}
	return 0;
}

void search_result_free(struct search_result *result)
{
	free(result->uids);
	result->uids = NULL;
	result->count = 0;
}
