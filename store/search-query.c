/* Queries on the search index: a text key compiled against the
 * vocabulary, its answer (the postings for one token; for more, the
 * candidates from the postings and pair postings, each decided on its
 * token streams), and the decision on one document; see
 * search-index.h. */
#include "search-index-private.h"

#include <stdlib.h>
#include <string.h>

#include "../common/unicode-fold.h"

/* Work bounds of a multi-token candidate set: a token set whose postings
 * span more chunks than this costs more to read than it saves, and is
 * left to the decision on the streams; at most this many sets are
 * intersected. */
#define SX_INTERSECT_CHUNKS_MAX 8192
#define SX_INTERSECT_SETS_MAX 8
/* Sets of more vocabulary entries than this are not probed for their
 * size: taken as large. */
#define SX_PROBE_IDS_MAX 4096
/* A 4096-bit filter of the first token's set, small enough to stay in
 * the L1 cache while the bitmaps over the whole vocabulary do not: most
 * tokens of a text cannot start a match, and this says so in one load. */
#define FIRST_FILTER_BITS 4096
static inline unsigned filter_slot(uint32_t id)
{
	return (id * 2654435761u) >> 20;	/* 12 bits */
}

struct qtok {
	const uint8_t *p;
	size_t len;
	bool word;		/* a word, not a separator */
	uint32_t *ids;		/* ascending */
	size_t n, cap;
	uint8_t *bits;		/* ids as a bitmap (first, last, single) */
	size_t chunks, docs;	/* postings estimate (multi-token) */
};

struct store_sx_query {
	unsigned ns_mask;
	char *header;
	size_t header_fold_len;	/* fold(name) ": " before a HEADER value */
	uint8_t *needle;
	size_t len;
	struct qtok *tok;
	size_t ntok;
	uint32_t vcount;	/* vocabulary entries when compiled */
	uint8_t first_filter[FIRST_FILTER_BITS / 8];	/* codes_match() */

	/* one read transaction for all the verifications of a search
	 * (a begin costs as much as deciding a document) */
	MDB_txn *txn;
	/* scratch of verification */
	uint32_t *ids;
	size_t nids, cap;
	struct buf text;
};

void store_search_query_free(struct store_sx_query **qp)
{
	struct store_sx_query *q = *qp;
	if (q == NULL)
		return;
	for (size_t i = 0; i < q->ntok; i++) {
		free(q->tok[i].ids);
		free(q->tok[i].bits);
	}
	free(q->tok);
	if (q->txn != NULL)
		mdb_txn_abort(q->txn);
	free(q->header);
	free(q->needle);
	free(q->ids);
	buf_free(&q->text);
	free(q);
	*qp = NULL;
}

static void tok_bits(struct qtok *t, uint32_t vcount)
{
	t->bits = xcalloc((size_t)vcount / 8 + 1, 1);
	for (size_t i = 0; i < t->n; i++)
		t->bits[t->ids[i] >> 3] |= (uint8_t)(1u << (t->ids[i] & 7));
}

static inline bool has_bit(const uint8_t *bits, uint32_t id)
{
	return (bits[id >> 3] >> (id & 7)) & 1;
}

int store_search_query(struct store *s, unsigned ns_mask, const char *header,
		       const uint8_t *needle, size_t len,
		       struct store_sx_query **q_r, const char **error_r)
{
	*q_r = NULL;
	MDB_txn *txn;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	int r = sx_vocab_sync(s, txn);
	mdb_txn_abort(txn);
	if (r < 0)
		return store_ret(s, -1, error_r);
	const struct sx_vocab *v = s->sx_vocab;
	struct store_sx_query *q = xcalloc(1, sizeof(*q));
	buf_init(&q->text);
	q->ns_mask = ns_mask;
	q->vcount = v->count;
	q->needle = xmalloc(len + 1);
	if (len > 0)
		memcpy(q->needle, needle, len);
	q->len = len;
	if (header != NULL) {
		q->header = xstrdup(header);
		struct buf f;
		buf_init(&f);
		unicode_fold_utf8((const uint8_t *)header, strlen(header), &f);
		q->header_fold_len = f.len + 2;
		buf_free(&f);
	}
	size_t cap = 0;
	for (size_t at = 0; at < len;) {
		bool word;
		size_t n = sx_token_len(q->needle + at, len - at, &word);
		if (q->ntok == cap) {
			cap = cap ? cap * 2 : 4;
			q->tok = xrealloc(q->tok, cap * sizeof(*q->tok));
		}
		q->tok[q->ntok++] = (struct qtok){ .p = q->needle + at,
						   .len = n, .word = word };
		at += n;
	}
	for (size_t i = 0; i < q->ntok; i++) {
		struct qtok *t = &q->tok[i];
		if (q->ntok == 1) {
			sx_vocab_match(v, t->p, t->len, SX_VM_SUBSTR, &t->ids,
				       &t->n, &t->cap);
		} else if (i == 0 || i == q->ntok - 1) {
			sx_vocab_match(v, t->p, t->len, i == 0 ? SX_VM_SUFFIX :
				       SX_VM_PREFIX, &t->ids, &t->n, &t->cap);
		} else {
			uint32_t id = sx_vocab_find(v, t->p, t->len);
			if (id != 0) {
				t->ids = xmalloc(sizeof(*t->ids));
				t->ids[0] = id;
				t->n = t->cap = 1;
			}
			continue;
		}
		tok_bits(t, q->vcount);
		if (i == 0)
			for (size_t j = 0; j < t->n; j++) {
				unsigned slot = filter_slot(t->ids[j]);
				q->first_filter[slot >> 3] |=
					(uint8_t)(1u << (slot & 7));
			}
	}
	*q_r = q;
	return 0;
}

/* ---- candidates ---- */

/* A set of documents as a bitmap that grows with the ids. */
struct docbits {
	uint64_t *w;
	size_t nw;
};

static void docbits_set(struct docbits *b, uint64_t id)
{
	size_t i = (size_t)(id >> 6);
	if (i >= b->nw) {
		size_t nw = b->nw ? b->nw : 1024;
		while (nw <= i)
			nw *= 2;
		b->w = xrealloc(b->w, nw * sizeof(*b->w));
		memset(b->w + b->nw, 0, (nw - b->nw) * sizeof(*b->w));
		b->nw = nw;
	}
	b->w[i] |= (uint64_t)1 << (id & 63);
}

static bool docbits_has(const struct docbits *b, uint64_t id)
{
	size_t i = (size_t)(id >> 6);
	return i < b->nw && ((b->w[i] >> (id & 63)) & 1);
}

static void docbits_list(const struct docbits *b, struct idlist *out)
{
	out->n = 0;
	for (size_t i = 0; i < b->nw; i++) {
		uint64_t w = b->w[i];
		while (w != 0) {
			if (out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 1024;
				out->v = xrealloc(out->v, out->cap *
							  sizeof(*out->v));
			}
			out->v[out->n++] = (uint64_t)i * 64 +
					   (uint64_t)__builtin_ctzll(w);
			w &= w - 1;
		}
	}
}

static void docbits_free(struct docbits *b)
{
	free(b->w);
	b->w = NULL;
	b->nw = 0;
}

/* Where lists are: sx_post and each generation of sx_delta
 * (search-delta.c); a list is the union of its chunks in all of them.
 * One cursor each: lookups in ascending token order then mostly stay on
 * the page the last one ended on (LMDB searches it first). */
struct post_src {
	MDB_cursor *main;
	MDB_cursor **gen;
	struct sx_gen *gens;
	size_t ngen;
};

static void post_src_close(struct post_src *src)
{
	if (src->main != NULL)
		mdb_cursor_close(src->main);
	for (size_t i = 0; i < src->ngen; i++)
		if (src->gen[i] != NULL)
			mdb_cursor_close(src->gen[i]);
	free(src->gen);
	free(src->gens);
	memset(src, 0, sizeof(*src));
}

static int post_src_open(struct store *s, MDB_txn *txn, struct post_src *src)
{
	memset(src, 0, sizeof(*src));
	if (sx_gens_list(s, txn, &src->gens, &src->ngen) < 0)
		return -1;
	src->gen = xcalloc(src->ngen + 1, sizeof(*src->gen));
	int rc = mdb_cursor_open(txn, s->db_sx_post, &src->main);
	for (size_t i = 0; i < src->ngen && rc == 0; i++)
		rc = mdb_cursor_open(txn, s->db_sx_delta, &src->gen[i]);
	if (rc != 0) {
		post_src_close(src);
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	}
	return 0;
}

/* The chunks of one list, sx_post's first. */
struct chunk_iter {
	struct post_src *src;
	size_t at;		/* 0: sx_post, i + 1: generation i */
	bool started;
	unsigned ns;
	uint32_t id;
	uint8_t key[SX_DKEY_LEN];
	MDB_val k, v;
	uint64_t first;		/* of the current chunk */
};

static void chunk_iter_init(struct chunk_iter *it, struct post_src *src,
			    unsigned ns, uint32_t id)
{
	it->src = src;
	it->at = 0;
	it->started = false;
	it->ns = ns;
	it->id = id;
}

/* 1 with it->v and it->first, 0 at the end, -1 on error. */
static int chunk_next(struct store *s, struct chunk_iter *it)
{
	while (it->at <= it->src->ngen) {
		MDB_cursor *c = it->at == 0 ? it->src->main :
					      it->src->gen[it->at - 1];
		size_t off = it->at == 0 ? 0 : 4;
		int rc;
		if (!it->started) {
			if (off == 0)
				sx_key_post(it->key, it->ns, it->id, 0);
			else
				sx_key_delta(it->key, it->src->gens[it->at - 1].gen,
					     it->ns, it->id, 0);
			it->k = (MDB_val){ off + SX_PKEY_LEN, it->key };
			rc = mdb_cursor_get(c, &it->k, &it->v, MDB_SET_RANGE);
			it->started = true;
		} else {
			rc = mdb_cursor_get(c, &it->k, &it->v, MDB_NEXT);
		}
		if (rc == 0 && it->k.mv_size == off + SX_PKEY_LEN &&
		    memcmp(it->k.mv_data, it->key, off + SX_PPREFIX_LEN) == 0) {
			it->first = store_get_be64((uint8_t *)it->k.mv_data +
						   off + SX_PPREFIX_LEN);
			return 1;
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			return store_mdb_fail(s, rc, "mdb_cursor_get");
		it->at++;
		it->started = false;
	}
	return 0;
}

/* Sets in b every document of the postings of (ns, each id). */
static int post_union(struct store *s, struct post_src *c, unsigned ns,
		      const uint32_t *ids, size_t nids, struct docbits *b,
		      struct idlist *tmp, size_t *read_r)
{
	for (size_t i = 0; i < nids; i++) {
		struct chunk_iter it;
		int r;
		chunk_iter_init(&it, c, ns, ids[i]);
		while ((r = chunk_next(s, &it)) == 1) {
			tmp->n = 0;
			if (sx_chunk_decode(it.v.mv_data, it.v.mv_size,
					    it.first, &tmp->v, &tmp->n,
					    &tmp->cap) < 0)
				return store_corrupt(s, "search posting");
			for (size_t j = 0; j < tmp->n; j++)
				docbits_set(b, tmp->v[j]);
			*read_r += tmp->n;
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Documents in one chunk, from its header (delta) or its bitmap's
 * population: no decoding. */
static size_t chunk_docs(const uint8_t *p, size_t len)
{
	uint64_t n;
	size_t k;
	if (len < 2 || (k = sx_varint_get(p + 1, len - 1, &n)) == 0)
		return 1;
	if (p[0] == 0x00)
		return (size_t)n;
	size_t docs = 0, i = 1 + k;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		docs += (size_t)__builtin_popcountll(w);
	}
	for (; i < len; i++)
		docs += (size_t)__builtin_popcount(p[i]);
	return docs;
}

/* What reading the postings of a set costs (chunks) and how many
 * documents it names (an upper bound for its union), for ordering the
 * intersection most selective first. */
static int set_cost(struct store *s, struct post_src *c, unsigned ns,
		    struct qtok *t)
{
	t->chunks = 0;
	t->docs = 0;
	if (t->n > SX_PROBE_IDS_MAX) {
		t->chunks = t->docs = SIZE_MAX / 2;
		return 0;
	}
	for (size_t i = 0; i < t->n && t->chunks <= SX_INTERSECT_CHUNKS_MAX;
	     i++) {
		struct chunk_iter it;
		int r = 0;
		chunk_iter_init(&it, c, ns, t->ids[i]);
		while (t->chunks <= SX_INTERSECT_CHUNKS_MAX &&
		       (r = chunk_next(s, &it)) == 1) {
			t->chunks++;
			t->docs += chunk_docs(it.v.mv_data, it.v.mv_size);
		}
		if (r < 0)
			return -1;
	}
	if (t->chunks > SX_INTERSECT_CHUNKS_MAX)
		t->docs = SIZE_MAX / 2;
	return 0;
}

/* The documents of one namespace whose postings have a token of every
 * set, as far as the work bounds allow (a superset), into all. */
/* The documents of one namespace that may have the needle's word,
 * separator, word triple at j: the pair postings of the triples of
 * common words it can be (search-index-private.h), and the postings of
 * the words it can be that are not common. 1 with b set, 0 if the
 * triple is not worth it (too many combinations). */
#define SX_PAIR_COMBOS_MAX 256
static int pair_docs(struct store *s, struct post_src *c, struct store_sx_query *q,
		     unsigned ns, size_t j, struct docbits *b,
		     struct idlist *tmp, size_t *read_r)
{
	const struct qtok *x = &q->tok[j], *sep = &q->tok[j + 1],
			  *y = &q->tok[j + 2];
	uint32_t sid = sep->ids[0];
	const struct sx_vocab *v = s->sx_vocab;
	if (!(SX_PAIR_NS_MASK & (1u << ns)) || v == NULL)
		return 0;
	/* ids ascend: the common ones come first */
	size_t xc = 0, yc = 0;
	while (xc < x->n && sx_pair_common(v, x->ids[xc], 1))
		xc++;
	while (yc < y->n && sx_pair_common(v, y->ids[yc], 1))
		yc++;
	if (!sx_pair_common(v, sid, 0) || xc * yc > SX_PAIR_COMBOS_MAX)
		return 0;
	int r = 0;
	uint32_t *pairs = xmalloc((xc * yc + 1) * sizeof(*pairs));
	size_t np = 0;
	for (size_t a = 0; a < xc; a++)
		for (size_t bb = 0; bb < yc; bb++) {
			uint8_t pk[SX_PAIR_LEN];
			sx_pair_key(pk, x->ids[a], sid, y->ids[bb]);
			/* none: no document has the pair */
			uint32_t id = sx_vocab_find(s->sx_vocab, pk,
						    SX_PAIR_LEN);
			if (id != 0)
				pairs[np++] = id;
		}
	/* ids ascend; the common ones come first */
	r = post_union(s, c, ns, pairs, np, b, tmp, read_r);
	if (r == 0)
		r = post_union(s, c, ns, x->ids + xc, x->n - xc, b, tmp,
			       read_r);
	if (r == 0)
		r = post_union(s, c, ns, y->ids + yc, y->n - yc, b, tmp,
			       read_r);
	free(pairs);
	return r < 0 ? -1 : 1;
}

static int ns_multi(struct store *s, struct post_src *c, struct store_sx_query *q,
		    unsigned ns, struct docbits *all, struct idlist *tmp,
		    size_t *read_r)
{
	size_t order[SX_INTERSECT_SETS_MAX], nord = 0;
	for (size_t i = 0; i < q->ntok; i++)
		if (q->tok[i].n == 0)
			return 0;	/* a token no document has */
	for (size_t i = 0; i < q->ntok; i++)
		if (set_cost(s, c, ns, &q->tok[i]) < 0)
			return -1;
	/* the cheapest sets, in order */
	bool used[64] = { false };
	while (nord < SX_INTERSECT_SETS_MAX && nord < q->ntok) {
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < q->ntok && i < 64; i++)
			if (!used[i] && (best == SIZE_MAX ||
					 q->tok[i].docs < q->tok[best].docs))
				best = i;
		if (best == SIZE_MAX)
			break;
		if (nord > 0 && q->tok[best].chunks > SX_INTERSECT_CHUNKS_MAX)
			break;
		used[best] = true;
		order[nord++] = best;
	}
	if (nord == 0)
		return 0;
	struct docbits base = { 0 }, other = { 0 };
	struct idlist list = { 0 };
	/* a word, separator, word triple: its pair postings are the base,
	 * far smaller than any of its words' */
	int r = 0, pair = 0;
	for (size_t j = 0; j + 2 < q->ntok && pair == 0; j++)
		if (q->tok[j].word && !q->tok[j + 1].word &&
		    q->tok[j + 2].word)
			pair = pair_docs(s, c, q, ns, j, &base, tmp, read_r);
	if (pair < 0)
		r = -1;
	else if (pair == 0)
		r = post_union(s, c, ns, q->tok[order[0]].ids,
			       q->tok[order[0]].n, &base, tmp, read_r);
	if (r == 0)
		docbits_list(&base, &list);
	for (size_t o = pair ? 0 : 1; o < nord && r == 0 && list.n > 0;
	     o++) {
		const struct qtok *t = &q->tok[order[o]];
		if (other.nw > 0)
			memset(other.w, 0, other.nw * sizeof(*other.w));
		r = post_union(s, c, ns, t->ids, t->n, &other, tmp, read_r);
		size_t keep = 0;
		for (size_t i = 0; i < list.n; i++)
			if (docbits_has(&other, list.v[i]))
				list.v[keep++] = list.v[i];
		list.n = keep;
	}
	for (size_t i = 0; i < list.n && r == 0; i++)
		docbits_set(all, list.v[i]);
	docbits_free(&base);
	docbits_free(&other);
	free(list.v);
	return r;
}

/* Every key of db (8-byte document ids) into b. */
static int db_docs(struct store *s, MDB_txn *txn, MDB_dbi db,
		   struct docbits *b)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, db, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	MDB_val k, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8)
			continue;
		docbits_set(b, store_get_be64(k.mv_data));
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return store_mdb_fail(s, rc, "mdb_cursor_get");
	return 0;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

/* A cursor over keys of 8-byte big-endian document ids, moved forward
 * to ascending targets: a few steps forward are cheaper than a seek from
 * the root, which compares keys all the way down (75,000 documents of a
 * common word). next is MDB_NEXT, or MDB_NEXT_NODUP in a DUPSORT DB. */
struct doc_cursor {
	MDB_cursor *c;
	MDB_cursor_op next;
	bool placed, at_end;
	uint64_t cur;
	MDB_val k, v;
};

/* 1 with the cursor on d (dc->v its value), 0 if d has no key (at_end
 * is set once the cursor is past the last key), -1 on an error. */
static int doc_cursor_seek(struct store *s, struct doc_cursor *dc,
			   uint64_t d, const char *what)
{
	int rc;
	for (int step = 0; dc->placed && dc->cur < d && step < 8; step++) {
		rc = mdb_cursor_get(dc->c, &dc->k, &dc->v, dc->next);
		if (rc != 0)
			break;
		dc->cur = dc->k.mv_size == 8 ? store_get_be64(dc->k.mv_data) : 0;
	}
	if (!dc->placed || dc->cur < d) {
		uint8_t key[8];
		store_key_blob(key, d);
		dc->k = (MDB_val){ 8, key };
		rc = mdb_cursor_get(dc->c, &dc->k, &dc->v, MDB_SET_RANGE);
		dc->placed = true;
		if (rc == MDB_NOTFOUND) {
			dc->at_end = true;
			return 0;
		}
		if (rc != 0)
			return store_mdb_fail(s, rc, what);
		dc->cur = dc->k.mv_size == 8 ? store_get_be64(dc->k.mv_data) : 0;
	}
	return dc->cur == d ? 1 : 0;
}

/* Documents -> the UIDs they have in mailbox_id, ascending, distinct. */
static int map_docs(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		    const struct idlist *docs, uint32_t **uids_r,
		    size_t *n_r)
{
	MDB_cursor *bc;
	int rc = mdb_cursor_open(txn, s->db_sx_blobmsg, &bc);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	uint32_t *uids = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	struct doc_cursor dc = { .c = bc, .next = MDB_NEXT_NODUP };
	MDB_val k, v;
	for (size_t i = 0; i < docs->n && r == 0 && !dc.at_end; i++) {
		int found = doc_cursor_seek(s, &dc, docs->v[i],
					    "mdb_cursor_get sx_blobmsg");
		if (found < 0) {
			r = -1;
			break;
		}
		if (found == 0)
			continue;	/* no message: dead */
		/* its (mailbox, uid) pairs, in order: this mailbox's */
		rc = mdb_cursor_get(bc, &k, &v, MDB_FIRST_DUP);
		for (; rc == 0; rc = mdb_cursor_get(bc, &k, &v, MDB_NEXT_DUP)) {
			if (v.mv_size != 8)
				continue;
			uint32_t mb = store_get_be32(v.mv_data);
			if (mb < mailbox_id)
				continue;
			if (mb > mailbox_id)
				break;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				uids = xrealloc(uids, cap * sizeof(*uids));
			}
			uids[n++] = store_get_be32((uint8_t *)v.mv_data + 4);
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			r = store_mdb_fail(s, rc, "mdb_cursor_get");
	}
	mdb_cursor_close(bc);
	if (r == 0 && n > 1) {
		/* ascending documents give ascending UIDs when nothing was
		 * copied or moved: sort only if needed */
		bool sorted = true;
		for (size_t i = 1; i < n && sorted; i++)
			sorted = uids[i] > uids[i - 1];
		if (!sorted) {
			qsort(uids, n, sizeof(*uids), cmp_u32);
			size_t k = 1;
			for (size_t i = 1; i < n; i++)
				if (uids[i] != uids[k - 1])
					uids[k++] = uids[i];
			n = k;
		}
	}
	*uids_r = uids;
	*n_r = n;
	return r;
}

static int tdoc_match(struct store *s, struct store_sx_query *q,
		      const uint8_t *rec, size_t len);

/* Decides the candidates in list on their token streams, in document
 * order through one cursor: keeps the matches and those it cannot
 * decide (also set in unk). Held documents are left out (the caller adds
 * them all); with only_dirty, documents that are not dirty are kept
 * undecided: their postings are exact. */
static int decide_docs(struct store *s, MDB_txn *txn,
		       struct store_sx_query *q, struct idlist *list,
		       const struct docbits *held, const struct docbits *dirty,
		       bool only_dirty, struct docbits *unk, size_t *decided_r)
{
	MDB_cursor *tc;
	int rc = mdb_cursor_open(txn, s->db_sx_text, &tc);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	size_t keep = 0;
	int r = 0;
	struct doc_cursor dc = { .c = tc, .next = MDB_NEXT };
	for (size_t i = 0; i < list->n && r == 0; i++) {
		uint64_t d = list->v[i];
		if (docbits_has(held, d))
			continue;
		if (only_dirty && !docbits_has(dirty, d)) {
			list->v[keep++] = d;
			continue;
		}
		if (dc.at_end)
			continue;	/* dead: postings outlive documents */
		int found = doc_cursor_seek(s, &dc, d, "mdb_cursor_get sx_text");
		if (found < 0) {
			r = -1;
			break;
		}
		if (found == 0)
			continue;	/* dead */
		MDB_val v = dc.v;
		(*decided_r)++;
		int m = tdoc_match(s, q, v.mv_data, v.mv_size);
		if (m == 0)
			continue;
		if (m == 2)
			docbits_set(unk, d);
		list->v[keep++] = d;
	}
	mdb_cursor_close(tc);
	list->n = keep;
	return r;
}

static int candidates_txn(struct store *s, MDB_txn *txn,
			  struct store_sx_query *q, uint32_t mailbox_id,
			  struct store_sx_cand *cand)
{
	struct post_src src, *c = &src;
	if (post_src_open(s, txn, &src) < 0)
		return -1;
	struct docbits docs = { 0 }, held = { 0 }, dirty = { 0 }, unk = { 0 };
	struct idlist tmp = { 0 }, list = { 0 };
	int r = 0;
	for (unsigned ns = 0; ns < SX_NS_COUNT && r == 0; ns++) {
		if (!(q->ns_mask & (1u << ns)))
			continue;
		if (q->ntok == 1)
			r = post_union(s, c, ns, q->tok[0].ids, q->tok[0].n,
				       &docs, &tmp, &cand->postings_read);
		else
			r = ns_multi(s, c, q, ns, &docs, &tmp,
				     &cand->postings_read);
	}
	post_src_close(&src);
	/* held documents have no postings yet: all of them are left to
	 * the caller; dirty ones may have stale postings: decided here */
	if (r == 0)
		r = db_docs(s, txn, s->db_sx_pending, &held);
	if (r == 0)
		r = db_docs(s, txn, s->db_sx_dirty, &dirty);
	if (r == 0) {
		docbits_list(&docs, &list);
		cand->docs = list.n;
		/* one token inside one token of the text: the postings are
		 * the answer; else each candidate's streams decide, here in
		 * one pass rather than message by message in the evaluator */
		r = decide_docs(s, txn, q, &list, &held, &dirty,
				q->ntok == 1 && q->header == NULL, &unk,
				&cand->decided);
	}
	if (r == 0) {
		if (docs.nw > 0)
			memset(docs.w, 0, docs.nw * sizeof(*docs.w));
		for (size_t i = 0; i < list.n; i++)
			docbits_set(&docs, list.v[i]);
		docbits_list(&held, &list);
		cand->held = list.n;
		for (size_t i = 0; i < list.n; i++) {
			docbits_set(&docs, list.v[i]);
			docbits_set(&unk, list.v[i]);
		}
		docbits_list(&unk, &list);
		r = map_docs(s, txn, mailbox_id, &list, &cand->verify,
			     &cand->nverify);
	}
	if (r == 0) {
		docbits_list(&docs, &list);
		r = map_docs(s, txn, mailbox_id, &list, &cand->uids,
			     &cand->count);
	}
	docbits_free(&docs);
	docbits_free(&held);
	docbits_free(&dirty);
	docbits_free(&unk);
	free(tmp.v);
	free(list.v);
	return r;
}

int store_search_candidates(struct store *s, struct store_sx_query *q,
			    uint32_t mailbox_id, struct store_sx_cand *cand_r,
			    const char **error_r)
{
	memset(cand_r, 0, sizeof(*cand_r));
	if (q->ntok == 0) {
		cand_r->all = true;
		return 0;
	}
	cand_r->exact = true;
	MDB_txn *txn;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	int r = candidates_txn(s, txn, q, mailbox_id, cand_r);
	mdb_txn_abort(txn);
	if (r < 0)
		store_sx_cand_free(cand_r);
	return store_ret(s, r, error_r);
}

void store_sx_cand_free(struct store_sx_cand *c)
{
	free(c->uids);
	free(c->verify);
	c->uids = c->verify = NULL;
	c->count = c->nverify = 0;
}

/* ---- verification ---- */

/* mime_header_next_named()'s comparison: ASCII letters only */
static bool name_eq_ci(const uint8_t *name, size_t len, const char *lit)
{
	if (strlen(lit) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t a = name[i], b = (uint8_t)lit[i];
		if (a >= 'a' && a <= 'z')
			a = (uint8_t)(a - 32);
		if (b >= 'a' && b <= 'z')
			b = (uint8_t)(b - 32);
		if (a != b)
			return false;
	}
	return true;
}

/* 1 or 0 for one unit's ids; 2 if an id is newer than the query. */
static int unit_match(struct store *s, struct store_sx_query *q,
		      const uint32_t *ids, size_t n)
{
	uint32_t vmax = q->vcount;
	if (q->header != NULL) {
		/* the value is the unit past fold(name) ": " */
		if (s->sx_vocab == NULL || s->sx_vocab->count < vmax)
			return 2;
		buf_clear(&q->text);
		for (size_t i = 0; i < n; i++) {
			if (ids[i] > vmax)
				return 2;
			size_t len;
			const uint8_t *p = sx_vocab_str(s->sx_vocab, ids[i],
							&len);
			buf_append(&q->text, p, len);
		}
		if (q->text.len < q->header_fold_len)
			return q->len == 0 ? 1 : 0;
		if (q->len == 0)
			return 1;
		return memmem((const uint8_t *)q->text.data +
			      q->header_fold_len,
			      q->text.len - q->header_fold_len, q->needle,
			      q->len) != NULL;
	}
	if (q->ntok == 0)
		return 1;
	/* one pass: the first set's bitmap is the filter, the rest is
	 * looked at only where it passes */
	const uint8_t *first = q->tok[0].bits;
	size_t k = q->ntok;
	const uint8_t *last = q->tok[k - 1].bits;
	int res = 0;
	for (size_t j = 0; j < n; j++) {
		uint32_t id = ids[j];
		if (id > vmax)
			return 2;
		if (!has_bit(first, id))
			continue;
		if (k == 1)
			return 1;
		if (j + k > n)
			continue;
		size_t i = 1;
		while (i < k - 1 && ids[j + i] == q->tok[i].ids[0])
			i++;
		if (i == k - 1 && ids[j + i] <= vmax &&
		    has_bit(last, ids[j + i]))
			res = 1;
		if (res)
			return 1;
	}
	return 0;
}

/* The pattern bits of token id (bit j: it may be the needle's token
 * j), for the shift-and scan below. */
static inline uint64_t pat_bits(const struct store_sx_query *q, uint32_t id)
{
	size_t k = q->ntok;
	uint64_t m = has_bit(q->tok[0].bits, id);
	if (k > 1) {
		for (size_t j = 1; j + 1 < k; j++)
			if (id == q->tok[j].ids[0])
				m |= (uint64_t)1 << j;
		m |= (uint64_t)has_bit(q->tok[k - 1].bits, id) << (k - 1);
	}
	return m;
}

/* Decides a unit straight from its codes, decoding and matching in one
 * pass (shift-and: bit j of d says the tokens so far end with the
 * needle's first j + 1): 1 or 0, 2 if an id is newer than the query,
 * -1 if the codes are malformed. Verification spends its time here. */
static int codes_match(const struct store_sx_query *q, const uint8_t *p,
		       size_t len, uint64_t space_bits)
{
	uint64_t d = 0, done = (uint64_t)1 << (q->ntok - 1);
	uint64_t sp0 = space_bits & 1;	/* " " can start a match */
	uint32_t vmax = q->vcount;
	const uint8_t *filter = q->first_filter;
	size_t pos = 0;
	while (pos < len) {
		uint64_t code;
		if (sx_code_get(p, len, &pos, &code) < 0)
			return -1;
		uint64_t id = code >> 1;
		if (id == 0 || id > vmax)
			return id == 0 || id > SX_ID_MAX ? -1 : 2;
		unsigned slot = filter_slot((uint32_t)id);
		if (d == 0 && !((filter[slot >> 3] >> (slot & 7)) & 1)) {
			/* no match in progress and none starts here */
			d = (code & 1) ? sp0 : 0;
			if (d & done)
				return 1;
			continue;
		}
		d = ((d << 1) | 1) & pat_bits(q, (uint32_t)id);
		if (d & done)
			return 1;
		if (code & 1) {
			d = ((d << 1) | 1) & space_bits;
			if (d & done)
				return 1;
		}
	}
	return 0;
}

/* Decides q on a merged record, reading its units only as far as a
 * match (a record malformed past a match still matches: only a disk
 * that lies makes one). */
static int tdoc_match(struct store *s, struct store_sx_query *q,
		      const uint8_t *rec, size_t len)
{
	/* a token the vocabulary lacks: no merged document has it */
	for (size_t i = 1; i + 1 < q->ntok; i++)
		if (q->tok[i].n == 0)
			return 0;
	bool fast = q->header == NULL && q->ntok >= 1 && q->ntok <= 64;
	uint64_t space_bits = fast ? pat_bits(q, SX_ID_SPACE) : 0;
	int res = 0, nr;
	size_t pos = 0;
	struct sx_tunit unit;
	const struct sx_tunit *t = &unit;
	while ((nr = sx_tdoc_next(rec, len, &pos, &unit)) > 0) {
		if (!(q->ns_mask & (1u << t->ns)))
			continue;
		if (q->header != NULL &&
		    (!t->named || !name_eq_ci(t->name, t->name_len, q->header)))
			continue;
		int r;
		if (fast) {
			r = codes_match(q, t->codes, t->len, space_bits);
			if (r < 0)
				return 2;
		} else {
			q->nids = 0;
			if (sx_unit_decode(t->codes, t->len, &q->ids,
					   &q->nids, &q->cap) < 0)
				return 2;
			r = unit_match(s, q, q->ids, q->nids);
		}
		if (r == 1)
			return 1;
		if (r == 2)
			res = 2;	/* unless another unit matches */
	}
	return nr < 0 ? 2 : res;
}

/* A held document's text from memory, or made now and kept (after a
 * restart, or past the memory's bound): 3 with d loaded, 2 if there is
 * none. */
static int held_text(struct store *s, struct store_sx_query *q,
		     uint64_t blob_id, struct sx_doc *d)
{
	const struct buf *rec = sx_held_get(s, blob_id);
	if (rec == NULL) {
		if (!sx_extract_held(s, q->txn, blob_id, &q->text))
			return 2;
		sx_held_put(s, blob_id, &q->text);
		rec = &q->text;
	}
	return sx_doc_load((const uint8_t *)rec->data, rec->len, d) < 0 ? 2 :
									  3;
}

int store_search_verify(struct store *s, struct store_sx_query *q,
			uint64_t blob_id, struct sx_doc *d,
			const char **error_r)
{
	if (q->txn == NULL && store_read_begin(s, &q->txn) < 0) {
		q->txn = NULL;
		return store_ret(s, -1, error_r);
	}
	uint8_t key[8];
	MDB_val v;
	store_key_blob(key, blob_id);
	int r = store_db_get(s, q->txn, s->db_sx_text, key, 8, &v);
	if (r > 0) {
		r = tdoc_match(s, q, v.mv_data, v.mv_size);
	} else if (r == 0) {
		/* held: its strings, if it has them, are decided by the
		 * caller's matcher (search_doc_match) */
		r = store_db_get(s, q->txn, s->db_sx_pending, key, 8, &v);
		if (r > 0 && v.mv_size > 0)
			r = sx_doc_load(v.mv_data, v.mv_size, d) < 0 ? 2 : 3;
		else if (r > 0)
			r = held_text(s, q, blob_id, d);
		else if (r == 0)
			r = 2;
	}
	return store_ret(s, r, error_r);
}
