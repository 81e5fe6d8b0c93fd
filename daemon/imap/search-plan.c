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

struct plan {
	struct store *store;
	const struct search_scope *scope;
	struct search_plan_stats st;
	const char *error;
	/* the stored text of the message being decided */
	bool have_doc;
	uint64_t doc_blob;
	int doc_state;		/* 1 text, 0 none (matcher) */
	struct sx_doc doc;
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
		/* the needle folded as the matcher folds it */
		struct search_text_key tk;
		search_text_key_init(&tk, k->type, k->header,
				     k->str != NULL ? k->str : "",
				     k->str != NULL ? k->str_len : 0);
		struct store_sx_cand cand;
		int r = store_search_candidates(p->store, p->scope->mailbox_id,
						text_ns_mask(k->type),
						tk.needle, tk.needle_len,
						&cand, &p->error);
		search_text_key_free(&tk);
		if (r < 0)
			return -1;
		if (cand.all)
			return 0;
		p->st.postings_read += cand.postings_read;
		p->st.held = cand.held;
		out->all = false;
		out->u = cand.uids;
		out->n = cand.count;
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
	if (!p->have_doc || p->doc_blob != rec->blob_id) {
		int r = store_search_doc(p->store, rec->blob_id, &p->doc,
					 error_r);
		if (r < 0)
			return -1;
		p->have_doc = true;
		p->doc_blob = rec->blob_id;
		p->doc_state = r;
		p->st.doc_loads++;
	}
	if (p->doc_state == 0) {
		p->st.matcher_calls++;
		return 2;
	}
	int r = search_doc_match(&p->doc, k);
	if (r < 0) {
		/* a stored text that does not decode: the matcher decides */
		p->st.matcher_calls++;
		return 2;
	}
	return r;
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
		sx_doc_free(&p.doc);
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
	sx_doc_free(&p.doc);
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
