/* THREAD algorithms; see thread-algo.h. Step numbers in comments are
 * those of RFC 5256 section 3, REFERENCES. */
#include "thread-algo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NONE UINT32_MAX

/* A container: a message, or a dummy for an id only referenced. Node 0
 * is the root. Children are a singly linked list in insertion order. */
struct tnode {
	uint32_t msg;		/* index into msgs, NONE for a dummy */
	uint32_t parent, first, last, next;
};

struct tctx {
	const struct sort_msg *msgs;
	struct tnode *n;
	size_t count, cap;
	/* id -> node, open addressing */
	const char **hkey;
	uint32_t *hval;
	size_t hcap;
};

int thread_algorithm_parse(const char *name, enum thread_algorithm *alg_r)
{
	if (strcasecmp(name, "ORDEREDSUBJECT") == 0)
		*alg_r = THREAD_ORDEREDSUBJECT;
	else if (strcasecmp(name, "REFERENCES") == 0)
		*alg_r = THREAD_REFERENCES;
	else
		return -1;
	return 0;
}

static uint32_t node_new(struct tctx *t, uint32_t msg)
{
	if (t->count == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->n = xrealloc(t->n, t->cap * sizeof(*t->n));
	}
	struct tnode *x = &t->n[t->count];
	x->msg = msg;
	x->parent = x->first = x->last = x->next = NONE;
	return (uint32_t)t->count++;
}

static bool is_dummy(const struct tctx *t, uint32_t i)
{
	return t->n[i].msg == NONE;
}

static void link_child(struct tctx *t, uint32_t parent, uint32_t child)
{
	struct tnode *p = &t->n[parent], *c = &t->n[child];
	c->parent = parent;
	c->next = NONE;
	if (p->last == NONE)
		p->first = child;
	else
		t->n[p->last].next = child;
	p->last = child;
}

static void unlink_child(struct tctx *t, uint32_t child)
{
	uint32_t parent = t->n[child].parent;
	if (parent == NONE)
		return;
	struct tnode *p = &t->n[parent];
	uint32_t prev = NONE;
	for (uint32_t i = p->first; i != child; i = t->n[i].next)
		prev = i;
	if (prev == NONE)
		p->first = t->n[child].next;
	else
		t->n[prev].next = t->n[child].next;
	if (p->last == child)
		p->last = prev;
	t->n[child].parent = t->n[child].next = NONE;
}

/* Whether a is b or one of b's ancestors. */
static bool is_ancestor(const struct tctx *t, uint32_t a, uint32_t b)
{
	for (uint32_t i = b; i != NONE; i = t->n[i].parent)
		if (i == a)
			return true;
	return false;
}

static size_t hash_str(const char *s)
{
	size_t h = 5381;
	for (; *s != '\0'; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

/* The slot of key: where it is, or the empty slot it would go in. */
static size_t hash_slot(const struct tctx *t, const char *key)
{
	size_t i = hash_str(key) & (t->hcap - 1);
	while (t->hkey[i] != NULL && strcmp(t->hkey[i], key) != 0)
		i = (i + 1) & (t->hcap - 1);
	return i;
}

/* The container of a referenced id, a new dummy if none. */
static uint32_t node_for_ref(struct tctx *t, const char *id)
{
	size_t s = hash_slot(t, id);
	if (t->hkey[s] != NULL)
		return t->hval[s];
	uint32_t x = node_new(t, NONE);
	t->hkey[s] = id;
	t->hval[s] = x;
	return x;
}

/* ---- sent-date order ---- */

/* The message a node sorts by: itself, or for a dummy its first child
 * (children sorted first, step 4 and step 6). */
static const struct sort_msg *node_key(const struct tctx *t, uint32_t i)
{
	while (is_dummy(t, i) && t->n[i].first != NONE)
		i = t->n[i].first;
	return is_dummy(t, i) ? NULL : &t->msgs[t->n[i].msg];
}

static int date_cmp(const struct sort_msg *a, const struct sort_msg *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL) - (b == NULL);
	if (a->sent != b->sent)
		return a->sent < b->sent ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorts the children of p by sent date: a stable insertion of each
 * into a scratch array, then relinked. */
static void sort_children(struct tctx *t, uint32_t p, uint32_t **tmp,
			  size_t *tmpcap)
{
	size_t k = 0;
	for (uint32_t c = t->n[p].first; c != NONE; c = t->n[c].next) {
		if (k == *tmpcap) {
			*tmpcap = *tmpcap ? *tmpcap * 2 : 64;
			*tmp = xrealloc(*tmp, *tmpcap * sizeof(**tmp));
		}
		(*tmp)[k++] = c;
	}
	if (k < 2)
		return;
	uint32_t *v = *tmp;
	/* keys computed once: a merge sort on (key, node) pairs */
	struct kv {
		const struct sort_msg *key;
		uint32_t node;
	} *a = xmalloc(k * sizeof(*a)), *b = xmalloc(k * sizeof(*b));
	for (size_t i = 0; i < k; i++) {
		a[i].key = node_key(t, v[i]);
		a[i].node = v[i];
	}
	for (size_t w = 1; w < k; w *= 2) {
		for (size_t lo = 0; lo < k; lo += 2 * w) {
			size_t mid = lo + w < k ? lo + w : k;
			size_t hi = lo + 2 * w < k ? lo + 2 * w : k;
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi)
				b[o++] = date_cmp(a[j].key, a[i].key) < 0 ?
					 a[j++] : a[i++];
			while (i < mid)
				b[o++] = a[i++];
			while (j < hi)
				b[o++] = a[j++];
		}
		struct kv *sw = a;
		a = b;
		b = sw;
	}
	t->n[p].first = t->n[p].last = NONE;
	for (size_t i = 0; i < k; i++)
		link_child(t, p, a[i].node);
	free(a);
	free(b);
}

/* ---- output ---- */

/* Writes "(" members ")" for each child of the root without recursion:
 * a chain of single children is "1 2 3", several children are
 * "(4 5)(6)" after their parent, and a dummy prints no number. */
static void write_threads(const struct tctx *t, bool uid, struct buf *out)
{
	uint32_t *stack = NULL;	/* the next sibling still to write */
	size_t depth = 0, cap = 0;
	for (uint32_t top = t->n[0].first; top != NONE; top = t->n[top].next) {
		buf_append_byte(out, '(');
		uint32_t cur = top;
		bool space = false;
		for (;;) {
			/* members of cur */
			for (;;) {
				if (!is_dummy(t, cur)) {
					const struct sort_msg *m =
						&t->msgs[t->n[cur].msg];
					buf_printf(out, "%s%u", space ? " " : "",
						   uid ? m->uid : m->seq);
					space = true;
				}
				uint32_t c = t->n[cur].first;
				if (c == NONE)
					break;
				if (t->n[c].next == NONE) {
					cur = c;
					continue;
				}
				if (depth == cap) {
					cap = cap ? cap * 2 : 16;
					stack = xrealloc(stack,
							 cap * sizeof(*stack));
				}
				stack[depth++] = t->n[c].next;
				buf_append_str(out, space ? " (" : "(");
				space = false;
				cur = c;
			}
			/* close finished groups, open the next sibling */
			bool more = false;
			while (depth > 0) {
				uint32_t sib = stack[depth - 1];
				buf_append_byte(out, ')');
				space = false;
				if (sib != NONE) {
					stack[depth - 1] = t->n[sib].next;
					buf_append_byte(out, '(');
					cur = sib;
					more = true;
					break;
				}
				depth--;
			}
			if (!more)
				break;
		}
		buf_append_byte(out, ')');
	}
	free(stack);
}

/* ---- ORDEREDSUBJECT ---- */

static int subj_cmp(const struct sort_msg *a, const struct sort_msg *b)
{
	int r = strcmp(a->subject, b->subject);
	return r != 0 ? r : date_cmp(a, b);
}

static void thread_orderedsubject(struct tctx *t, size_t n)
{
	/* sorted by base subject, then sent date */
	uint32_t *ord = xmalloc((n + 1) * sizeof(*ord));
	uint32_t *tmp = xmalloc((n + 1) * sizeof(*tmp));
	for (size_t i = 0; i < n; i++)
		ord[i] = (uint32_t)i;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi)
				tmp[o++] = subj_cmp(&t->msgs[ord[j]],
						    &t->msgs[ord[i]]) < 0 ?
					   ord[j++] : ord[i++];
			while (i < mid)
				tmp[o++] = ord[i++];
			while (j < hi)
				tmp[o++] = ord[j++];
		}
		uint32_t *sw = ord;
		ord = tmp;
		tmp = sw;
	}
	/* one thread per base subject: the first message is the parent,
	 * the others its children, in date order */
	uint32_t head = NONE;
	for (size_t i = 0; i < n; i++) {
		uint32_t x = node_new(t, ord[i]);
		if (head != NONE && strcmp(t->msgs[t->n[head].msg].subject,
					   t->msgs[ord[i]].subject) == 0) {
			link_child(t, head, x);
		} else {
			link_child(t, 0, x);
			head = x;
		}
	}
	free(ord);
	free(tmp);
	/* threads by the sent date of their first message */
	uint32_t *scratch = NULL;
	size_t scap = 0;
	sort_children(t, 0, &scratch, &scap);
	free(scratch);
}

/* ---- REFERENCES ---- */

static void refs_link(struct tctx *t, size_t nmsgs)
{
	for (size_t i = 0; i < nmsgs; i++) {
		const struct sort_msg *m = &t->msgs[i];
		/* (1A) the container of the message's id: a dummy made by
		 * an earlier reference is taken over; a missing id or a
		 * duplicate of an earlier message's id gets a container of
		 * its own, as a unique id would */
		uint32_t x = NONE;
		if (m->message_id[0] != '\0') {
			size_t s = hash_slot(t, m->message_id);
			if (t->hkey[s] == NULL) {
				x = node_new(t, (uint32_t)i);
				t->hkey[s] = m->message_id;
				t->hval[s] = x;
			} else if (is_dummy(t, t->hval[s])) {
				x = t->hval[s];
				t->n[x].msg = (uint32_t)i;
			}
		}
		if (x == NONE)
			x = node_new(t, (uint32_t)i);
		/* (1B) link the references in order, each the parent of
		 * the next: an existing parent link is kept, and no link
		 * that would make a loop is made */
		uint32_t prev = NONE;
		for (size_t r = 0; r < m->nrefs; r++) {
			uint32_t c = node_for_ref(t, m->refs[r]);
			/* a container without children is nobody's
			 * ancestor: no walk up (a long thread would make
			 * the walks quadratic) */
			if (prev != NONE && c != prev &&
			    t->n[c].parent == NONE &&
			    (t->n[c].first == NONE ||
			     !is_ancestor(t, c, prev)))
				link_child(t, prev, c);
			prev = c;
		}
		/* (1C) the last reference is the parent: a parent guessed
		 * from another message's references gives way to it, and
		 * without references the message has none */
		unlink_child(t, x);
		if (prev != NONE && prev != x &&
		    (t->n[x].first == NONE || !is_ancestor(t, x, prev)))
			link_child(t, prev, x);
	}
}

/* (3) Prune dummies, level by level, without recursion. */
static void refs_prune(struct tctx *t)
{
	uint32_t *work = xmalloc(sizeof(*work));
	size_t nwork = 1, cap = 1;
	work[0] = 0;
	while (nwork > 0) {
		uint32_t p = work[--nwork];
		uint32_t prev = NONE;
		uint32_t c = t->n[p].first;
		while (c != NONE) {
			struct tnode *cn = &t->n[c];
			uint32_t next = cn->next;
			if (!is_dummy(t, c)) {
				if (nwork == cap) {
					cap *= 2;
					work = xrealloc(work, cap * sizeof(*work));
				}
				work[nwork++] = c;
				prev = c;
				c = next;
				continue;
			}
			bool one = cn->first != NONE &&
				   t->n[cn->first].next == NONE;
			if (cn->first != NONE && p == 0 && !one) {
				/* several children stay under the dummy
				 * rather than becoming threads of their own */
				if (nwork == cap) {
					cap *= 2;
					work = xrealloc(work, cap * sizeof(*work));
				}
				work[nwork++] = c;
				prev = c;
				c = next;
				continue;
			}
			/* delete the dummy; its children (if any) take its
			 * place and are looked at in turn */
			uint32_t first = cn->first, last = cn->last;
			for (uint32_t g = first; g != NONE; g = t->n[g].next)
				t->n[g].parent = p;
			if (first != NONE) {
				t->n[last].next = next;
				next = first;
			} else {
				last = prev;
			}
			if (prev == NONE)
				t->n[p].first = first != NONE ? first : cn->next;
			else
				t->n[prev].next = first != NONE ? first :
						  cn->next;
			if (t->n[p].last == c)
				t->n[p].last = first != NONE ? last : prev;
			cn->parent = cn->first = cn->last = cn->next = NONE;
			c = next;
		}
	}
	free(work);
}

static void refs_subjects(struct tctx *t)
{
	/* (5A) subject -> top-level node */
	size_t ntop = 0;
	for (uint32_t c = t->n[0].first; c != NONE; c = t->n[c].next)
		ntop++;
	if (ntop < 2)
		return;
	uint32_t *tops = xmalloc(ntop * sizeof(*tops));
	ntop = 0;
	for (uint32_t c = t->n[0].first; c != NONE; c = t->n[c].next)
		tops[ntop++] = c;
	size_t cap = 16;
	while (cap < ntop * 2)
		cap *= 2;
	const char **skey = xcalloc(cap, sizeof(*skey));
	uint32_t *sval = xmalloc(cap * sizeof(*sval));
	/* (5B) one node per subject: a dummy wins over a message, a
	 * message that is not a reply or forward over one that is */
	for (size_t i = 0; i < ntop; i++) {
		const struct sort_msg *m = node_key(t, tops[i]);
		if (m == NULL || m->subject[0] == '\0')
			continue;
		size_t s = hash_str(m->subject) & (cap - 1);
		while (skey[s] != NULL && strcmp(skey[s], m->subject) != 0)
			s = (s + 1) & (cap - 1);
		if (skey[s] == NULL) {
			skey[s] = m->subject;
			sval[s] = tops[i];
			continue;
		}
		uint32_t old = sval[s];
		if (is_dummy(t, old))
			continue;
		if (is_dummy(t, tops[i]) ||
		    (t->msgs[t->n[old].msg].reply_fwd && !m->reply_fwd))
			sval[s] = tops[i];
	}
	/* (5C) merge the threads of each subject into the table's. The
	 * top level is taken apart into tops[] and put back at the end:
	 * unlinking each merged thread from the root's singly linked list
	 * (and finding where a new dummy goes) would walk that list once
	 * per merge, quadratic in the number of threads. at[] is the
	 * top-level node at each position; NONE for one merged away. */
	uint32_t *at = xmalloc(ntop * sizeof(*at));
	uint32_t *pos = xmalloc(t->count * sizeof(*pos));
	for (size_t i = 0; i < ntop; i++) {
		at[i] = tops[i];
		pos[tops[i]] = (uint32_t)i;
		t->n[tops[i]].parent = t->n[tops[i]].next = NONE;
	}
	t->n[0].first = t->n[0].last = NONE;
	for (size_t i = 0; i < ntop; i++) {
		uint32_t cur = tops[i];
		const struct sort_msg *m = node_key(t, cur);
		if (m == NULL || m->subject[0] == '\0')
			continue;
		size_t s = hash_str(m->subject) & (cap - 1);
		while (strcmp(skey[s], m->subject) != 0)
			s = (s + 1) & (cap - 1);
		uint32_t tab = sval[s];
		if (tab == cur)
			continue;
		/* cur leaves the top level (or, the table's node having
		 * moved under a new dummy, where it is now) */
		if (t->n[cur].parent == NONE)
			at[i] = NONE;
		else
			unlink_child(t, cur);
		if (is_dummy(t, cur) && is_dummy(t, tab)) {
			/* both dummies: the children join the table's */
			uint32_t g;
			while ((g = t->n[cur].first) != NONE) {
				unlink_child(t, g);
				link_child(t, tab, g);
			}
		} else if (is_dummy(t, tab) ||
			   (m->reply_fwd &&
			    !t->msgs[t->n[tab].msg].reply_fwd)) {
			/* a sibling of the table's children */
			link_child(t, tab, cur);
		} else {
			/* a new dummy holds both, where the table's was
			 * (tab is a message, so a top-level node of its
			 * own: pos[] knows it) */
			uint32_t d = node_new(t, NONE);
			at[pos[tab]] = d;
			link_child(t, d, tab);
			link_child(t, d, cur);
			sval[s] = d;
		}
	}
	for (size_t i = 0; i < ntop; i++)
		if (at[i] != NONE)
			link_child(t, 0, at[i]);
	free(at);
	free(pos);
	free(tops);
	free(skey);
	free(sval);
}

/* (4), (6): sorts every set of siblings, deepest first, so that a
 * dummy sorts by its first child after that child's siblings are in
 * order. */
static void refs_sort_all(struct tctx *t)
{
	uint32_t *order = xmalloc(t->count * sizeof(*order));
	size_t n = 0, head = 0;
	order[n++] = 0;
	while (head < n) {
		uint32_t p = order[head++];
		for (uint32_t c = t->n[p].first; c != NONE; c = t->n[c].next)
			order[n++] = c;
	}
	uint32_t *tmp = NULL;
	size_t tmpcap = 0;
	for (size_t i = n; i-- > 0;)
		sort_children(t, order[i], &tmp, &tmpcap);
	free(tmp);
	free(order);
}

static void thread_references(struct tctx *t, size_t n)
{
	size_t ids = n + 1;
	for (size_t i = 0; i < n; i++)
		ids += t->msgs[i].nrefs;
	t->hcap = 16;
	while (t->hcap < ids * 2)
		t->hcap *= 2;
	t->hkey = xcalloc(t->hcap, sizeof(*t->hkey));
	t->hval = xmalloc(t->hcap * sizeof(*t->hval));
	refs_link(t, n);
	/* (2) the root set: containers without a parent (a dummy with no
	 * children there was only ever referenced by a link refused as
	 * a loop) */
	size_t count = t->count;
	for (uint32_t i = 1; i < count; i++)
		if (t->n[i].parent == NONE &&
		    (!is_dummy(t, i) || t->n[i].first != NONE))
			link_child(t, 0, i);
	/* the id table is not needed after (2) */
	free(t->hkey);
	free(t->hval);
	t->hkey = NULL;
	t->hval = NULL;
	refs_prune(t);
	/* (4) top level by date; the merge below reads the first child
	 * of a dummy, so the whole tree is sorted now and again after */
	refs_sort_all(t);
	refs_subjects(t);
	/* (6) */
	refs_sort_all(t);
}

void thread_build(enum thread_algorithm alg, const struct sort_msg *msgs,
		  size_t n, bool uid, struct buf *out)
{
	struct tctx t = { .msgs = msgs };
	node_new(&t, NONE);	/* the root */
	if (alg == THREAD_ORDEREDSUBJECT)
		thread_orderedsubject(&t, n);
	else
		thread_references(&t, n);
	write_threads(&t, uid, out);
	free(t.n);
}
