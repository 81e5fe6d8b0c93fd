/* Writing posting lists of sx_post: adding documents to a list, with
 * only the chunks they fall into read and rewritten; see search-index.h
 * for the chunk format. */
#include "search-index-private.h"

#include <stdlib.h>
#include <string.h>

/* Merges sorted a[0..na) and b[0..nb) into out without duplicates. */
static size_t merge_ids(const uint64_t *a, size_t na, const uint64_t *b,
			size_t nb, uint64_t *out)
{
	size_t i = 0, j = 0, k = 0;
	while (i < na || j < nb) {
		uint64_t v;
		if (j >= nb || (i < na && a[i] < b[j]))
			v = a[i++];
		else if (i >= na || b[j] < a[i])
			v = b[j++];
		else {
			v = a[i++];
			j++;
		}
		out[k++] = v;
	}
	return k;
}

static int put_chunks(struct store *s, MDB_txn *txn, unsigned ns,
		      uint32_t tok, const uint64_t *ids, size_t n,
		      struct post_scratch *ps)
{
	while (n > 0) {
		size_t k = sx_chunk_fit(ids, n, SX_CHUNK_BYTES_MAX);
		uint8_t key[SX_PKEY_LEN];
		sx_key_post(key, ns, tok, ids[0]);
		buf_clear(&ps->val);
		sx_chunk_encode(ids, k, &ps->val);
		unsigned flags = 0;
		if (!ps->have_last ||
		    memcmp(key, ps->last, SX_PKEY_LEN) > 0) {
			flags = MDB_APPEND;
			memcpy(ps->last, key, SX_PKEY_LEN);
			ps->have_last = true;
		}
		if (store_db_put(s, txn, s->db_sx_post, key, SX_PKEY_LEN,
				 ps->val.data, ps->val.len, flags) < 0)
			return -1;
		ids += k;
		n -= k;
	}
	return 0;
}

int sx_post_last(struct store *s, MDB_cursor *c, struct post_scratch *ps)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	ps->have_last = false;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_get");
	if (k.mv_size != SX_PKEY_LEN)
		return store_corrupt(s, "search posting key");
	memcpy(ps->last, k.mv_data, SX_PKEY_LEN);
	ps->have_last = true;
	return 0;
}

/* Adds ids (ascending) to the postings of (ns, tok). Only the chunks the
 * new ids fall into are read and rewritten: with ids above every id in
 * the list, that is the tail chunk alone. */
int sx_post_add(struct store *s, MDB_txn *txn, MDB_cursor *c,
		    unsigned ns, uint32_t tok, const uint64_t *ids, size_t n,
		    struct post_scratch *ps)
{
	size_t i = 0;
	while (i < n) {
		uint8_t key[SX_PKEY_LEN];
		sx_key_post(key, ns, tok, ids[i]);
		MDB_val k = { SX_PKEY_LEN, key }, v;
		bool have = false;	/* a chunk with first <= ids[i] */
		uint64_t first = 0, bound = UINT64_MAX;
		int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return store_mdb_fail(s, rc, "mdb_cursor_get");
		bool at_next = rc == 0 && sx_same_list(&k, key);
		if (at_next && store_get_be64((uint8_t *)k.mv_data +
					      SX_PPREFIX_LEN) == ids[i]) {
			have = true;
			first = ids[i];
		} else {
			if (at_next)
				bound = store_get_be64((uint8_t *)k.mv_data +
						       SX_PPREFIX_LEN);
			rc = mdb_cursor_get(c, &k, &v, rc == MDB_NOTFOUND ?
					    MDB_LAST : MDB_PREV);
			if (rc == 0 && sx_same_list(&k, key)) {
				have = true;
				first = store_get_be64((uint8_t *)k.mv_data +
						       SX_PPREFIX_LEN);
			} else if (rc != 0 && rc != MDB_NOTFOUND) {
				return store_mdb_fail(s, rc, "mdb_cursor_get");
			}
		}
		ps->nold = 0;
		if (have) {
			if (sx_chunk_decode(v.mv_data, v.mv_size, first,
					    &ps->old, &ps->nold,
					    &ps->oldcap) < 0)
				return store_corrupt(s, "search posting");
			if (bound == UINT64_MAX) {
				/* the chunk after this one, if any */
				MDB_val k2, v2;
				rc = mdb_cursor_get(c, &k2, &v2, MDB_NEXT);
				if (rc == 0 && sx_same_list(&k2, key))
					bound = store_get_be64(
						(uint8_t *)k2.mv_data +
						SX_PPREFIX_LEN);
				else if (rc != 0 && rc != MDB_NOTFOUND)
					return store_mdb_fail(s, rc,
							      "mdb_cursor_get");
			}
			uint8_t okey[SX_PKEY_LEN];
			sx_key_post(okey, ns, tok, first);
			if (store_db_del(s, txn, s->db_sx_post, okey,
					 SX_PKEY_LEN, NULL, 0) < 0)
				return -1;
		}
		size_t j = i;
		while (j < n && ids[j] < bound)
			j++;
		size_t need = ps->nold + (j - i);
		if (need > ps->allcap) {
			ps->allcap = need * 2;
			ps->all = xrealloc(ps->all, ps->allcap *
						    sizeof(*ps->all));
		}
		size_t nall = merge_ids(ps->old, ps->nold, ids + i, j - i,
					ps->all);
		if (put_chunks(s, txn, ns, tok, ps->all, nall, ps) < 0)
			return -1;
		i = j;
	}
	return 0;
}

void sx_post_scratch_free(struct post_scratch *ps)
{
	free(ps->old);
	free(ps->all);
	buf_free(&ps->val);
	memset(ps, 0, sizeof(*ps));
}
