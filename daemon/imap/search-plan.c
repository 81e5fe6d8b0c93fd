/* Indexed SEARCH: candidates from the index, decisions by the scanning
 * evaluator on the stored text; see search-plan.h. */
#include "search-plan.h"

#include "../../store/search-index.h"
#include "search-match.h"

#include <stdlib.h>
#include <string.h>

bool search_plan_enabled = true;

/* A candidate set: all UIDs, or the listed ones (ascending, distinct). */
struct cset {
	bool all;
	uint32_t *u;
	size_t n;
};

/* A text key of the tree with its compiled query and, when the index
 * answered it exactly, the answer. */
struct pkey {
	const void *origin;	/* the imap_search_key */
	struct store_sx_query *q;
	bool exact;
	uint32_t *uids, *verify;	/* as store_sx_cand */
	size_t nuids, nverify;
	size_t uids_at, verify_at;	/* has_uid's places */
};

struct plan {
	struct store *store;
	const struct search_scope *scope;
	struct search_plan_stats st;
	const char *error;
	struct pkey *keys;
	size_t nkeys, keys_cap;
	struct sx_doc doc;	/* a held document's text */
};

static void cset_free(struct cset *c)
{
	free(c->u);
	c->u = NULL;
	c->n = 0;
}

static void cset_intersect(struct cset *a, const struct cset *b)
{
	size_t i = 0, j = 0, k = 0;
	while (i < a->n && j < b->n) {
		if (a->u[i] < b->u[j])
			i++;
		else if (a->u[i] > b->u[j])
			j++;
		else {
			a->u[k++] = a->u[i++];
			j++;
		}
	}
	a->n = k;
}

static void cset_union(struct cset *a, const struct cset *b)
{
	uint32_t *out = xmalloc((a->n + b->n + 1) * sizeof(*out));
	size_t i = 0, j = 0, k = 0;
	while (i < a->n || j < b->n) {
		if (j >= b->n || (i < a->n && a->u[i] < b->u[j]))
			out[k++] = a->u[i++];
		else if (i >= a->n || b->u[j] < a->u[i])
			out[k++] = b->u[j++];
		else {
			out[k++] = a->u[i++];
			j++;
		}
	}
	free(a->u);
	a->u = out;
	a->n = k;
}

static unsigned text_ns_mask(enum imap_search_type type)
{
	switch (type) {
	case IMAP_SEARCH_SUBJECT:
		return 1u << SX_NS_SUBJECT;
	case IMAP_SEARCH_FROM:
		return 1u << SX_NS_FROM;
	case IMAP_SEARCH_TO:
		return 1u << SX_NS_TO;
	case IMAP_SEARCH_CC:
		return 1u << SX_NS_CC;
	case IMAP_SEARCH_BCC:
		return 1u << SX_NS_BCC;
	case IMAP_SEARCH_HEADER:
		/* the value is inside the unit "NAME: value" */
		return 1u << SX_NS_HEADER;
	case IMAP_SEARCH_BODY:
		return 1u << SX_NS_BODY;
	case IMAP_SEARCH_TEXT:
		return 1u << SX_NS_HEADER | 1u << SX_NS_BODY;
	default:
		return 0;
	}
}

/* The plan's entry of a text key, its query compiled on first use. */
static struct pkey *plan_key(struct plan *p, const void *origin)
{
	for (size_t i = 0; i < p->nkeys; i++)
		if (p->keys[i].origin == origin)
			return &p->keys[i];
	const struct imap_search_key *k = origin;
	/* the needle folded as the matcher folds it */
	struct search_text_key tk;
	search_text_key_init(&tk, k->type, k->header,
			     k->str != NULL ? k->str : "",
			     k->str != NULL ? k->str_len : 0);
	struct store_sx_query *q;
	int r = store_search_query(p->store, text_ns_mask(k->type),
				   k->type == IMAP_SEARCH_HEADER ?
				   (k->header != NULL ? k->header : "") : NULL,
				   tk.needle, tk.needle_len, &q, &p->error);
	search_text_key_free(&tk);
	if (r < 0)
		return NULL;
	if (p->nkeys == p->keys_cap) {
		p->keys_cap = p->keys_cap ? p->keys_cap * 2 : 8;
		p->keys = xrealloc(p->keys, p->keys_cap * sizeof(*p->keys));
	}
	struct pkey *pk = &p->keys[p->nkeys++];
	memset(pk, 0, sizeof(*pk));
	pk->origin = origin;
	pk->q = q;
	return pk;
}

/* Whether uid is in u[0..n) (ascending), from where the last look
 * ended: the evaluator asks in UID order, so a gallop forward from *at
 * costs O(1) a message where a binary search of 75,000 UIDs costs
 * seventeen cache misses. */
static bool has_uid(const uint32_t *u, size_t n, size_t *at, uint32_t uid)
{
	*at = store_uids_gallop(u, n, *at, uid);
	return *at < n && u[*at] == uid;
}

static int plan_node(struct plan *p, const struct imap_search_key *k,
		     struct cset *out)
{
	memset(out, 0, sizeof(*out));
	out->all = true;
	switch (k->type) {
	case IMAP_SEARCH_AND:
		for (size_t i = 0; i < k->child_count; i++) {
			struct cset c;
			if (plan_node(p, &k->children[i], &c) < 0) {
				cset_free(out);
				return -1;
			}
			if (c.all)
				continue;
			if (out->all) {
				*out = c;
			} else {
				cset_intersect(out, &c);
				cset_free(&c);
			}
			if (out->n == 0)
				break;	/* nothing can match */
		}
		return 0;
	case IMAP_SEARCH_OR:
		out->all = false;
		for (size_t i = 0; i < k->child_count; i++) {
			struct cset c;
			if (plan_node(p, &k->children[i], &c) < 0) {
				cset_free(out);
				return -1;
			}
			if (c.all) {
				cset_free(out);
				out->all = true;
				return 0;
			}
			cset_union(out, &c);
			cset_free(&c);
		}
		return 0;
	case IMAP_SEARCH_SUBJECT:
	case IMAP_SEARCH_FROM:
	case IMAP_SEARCH_TO:
	case IMAP_SEARCH_CC:
	case IMAP_SEARCH_BCC:
	case IMAP_SEARCH_HEADER:
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_TEXT: {
		struct pkey *pk = plan_key(p, k);
		if (pk == NULL)
			return -1;
		struct store_sx_cand cand;
		if (store_search_candidates(p->store, pk->q,
					    p->scope->mailbox_id, &cand,
					    &p->error) < 0)
			return -1;
		if (cand.all)
			return 0;
		p->st.postings_read += cand.postings_read;
		p->st.index_docs += cand.docs;
		p->st.doc_loads += cand.decided;
		p->st.held = cand.held;
		if (cand.exact) {
			/* the answer itself: the evaluator asks per message
			 * (plan_text_match), the candidates narrow */
			pk->exact = true;
			pk->uids = xmalloc((cand.count + 1) * sizeof(*pk->uids));
			if (cand.count > 0)
				memcpy(pk->uids, cand.uids,
				       cand.count * sizeof(*pk->uids));
			pk->nuids = cand.count;
			pk->verify = cand.verify;
			pk->nverify = cand.nverify;
			cand.verify = NULL;
		}
		out->all = false;
		out->u = cand.uids;
		out->n = cand.count;
		cand.uids = NULL;
		store_sx_cand_free(&cand);
		return 0;
	}
	default:
		/* NOT, and every key on the record or the sent date: the
		 * evaluator filters on the records of the candidates */
		return 0;
	}
}

static int plan_text_match(void *vctx, const struct store_message *rec,
			   const struct search_text_key *k,
			   const char **error_r)
{
	struct plan *p = vctx;
	if (k->needle_len == 0 && k->type != IMAP_SEARCH_HEADER)
		return 1;	/* a substring of anything */
	if (k->origin == NULL)
		return 2;
	/* a key the plan did not narrow with (under NOT) is compiled
	 * here, once */
	struct pkey *pk = plan_key(p, k->origin);
	if (pk == NULL) {
		*error_r = p->error;
		return -1;
	}
	if (pk->exact &&
	    !has_uid(pk->verify, pk->nverify, &pk->verify_at, rec->uid))
		return has_uid(pk->uids, pk->nuids, &pk->uids_at, rec->uid);
	p->st.doc_loads++;
	int r = store_search_verify(p->store, pk->q, rec->blob_id, &p->doc,
				    error_r);
	if (r == 3) {
		/* a held document: its strings */
		r = search_doc_match(&p->doc, k);
		if (r < 0)
			r = 2;
	}
	if (r == 2)
		p->st.matcher_calls++;
	return r;
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->nkeys; i++) {
		store_search_query_free(&p->keys[i].q);
		free(p->keys[i].uids);
		free(p->keys[i].verify);
	}
	free(p->keys);
	sx_doc_free(&p->doc);
}

int search_plan_eval(struct store *store, const struct search_scope *scope,
		     const struct imap_search_key *root,
		     struct search_result *result_r,
		     struct search_plan_stats *stats, const char **error_r)
{
	if (stats != NULL)
		memset(stats, 0, sizeof(*stats));
	if (!search_plan_enabled)
		return search_eval(store, scope, root, result_r, error_r);
	struct plan p;
	memset(&p, 0, sizeof(p));
	p.store = store;
	p.scope = scope;
	sx_doc_init(&p.doc);
	struct cset c;
	if (plan_node(&p, root, &c) < 0) {
		plan_free(&p);
		memset(result_r, 0, sizeof(*result_r));
		*error_r = p.error;
		return -1;
	}
	struct search_eval_hooks hooks = {
		.restrict_uids = !c.all,
		.uids = c.u,
		.nuids = c.n,
		.text_match = plan_text_match,
		.ctx = &p,
	};
	p.st.narrowed = !c.all;
	p.st.candidates = c.all ? 0 : c.n;
	int r = search_eval_hooked(store, scope, root, &hooks, result_r,
				   error_r);
	cset_free(&c);
	plan_free(&p);
	if (stats != NULL)
		*stats = p.st;
	return r;
}

void search_plan_attach(struct store *store)
{
	const char *v = getenv("POSTERN_SEARCH_INDEX");
	if (v != NULL && strcmp(v, "0") == 0)
		search_plan_enabled = false;
	store_set_search_extractor(store, search_index_extractor, NULL);
}
