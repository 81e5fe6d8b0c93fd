/* Sequence numbers <-> UIDs. SELECT loads a mailbox's UIDs from the
 * "uids" index, a DUPFIXED list of 4-byte big-endian UIDs per mailbox,
 * a page at a time with MDB_GET_MULTIPLE: at a million messages that is
 * 4 MB read without decoding a single message record.
 *
 * Maps are also built from other maps (extend after an append, subtract
 * after an expunge) so that a holder that keeps each version of a
 * mailbox's map immutable, as the worker does to share one between
 * sessions, pays one pass per change rather than a reload. */
#include "store-private.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

void store_seqmap_free(struct store_seqmap *map)
{
	free(map->uids);
	memset(map, 0, sizeof(*map));
}

static void seqmap_reserve(struct store_seqmap *map, size_t n)
{
	if (n <= map->cap)
		return;
	size_t cap = map->cap ? map->cap : 64;
	while (cap < n)
		cap *= 2;
	map->uids = xrealloc(map->uids, cap * sizeof(uint32_t));
	map->cap = cap;
}

/* Maps are kept, often shared, and rarely grow: the first allocation is
 * the size asked for, not the next power of two. */
static void seqmap_reserve_exact(struct store_seqmap *map, size_t n)
{
	if (n <= map->cap)
		return;
	map->uids = xrealloc(map->uids, n * sizeof(uint32_t));
	map->cap = n;
}

/* Gives back what a map built from a larger one does not use. */
static void seqmap_shrink(struct store_seqmap *map)
{
	if (map->count == map->cap)
		return;
	if (map->count == 0) {
		free(map->uids);
		map->uids = NULL;
	} else {
		map->uids = xrealloc(map->uids, map->count * sizeof(uint32_t));
	}
	map->cap = map->count;
}

/* Appends the UIDs of one MDB_GET_MULTIPLE page that are above after:
 * the page starts where the cursor's page does, which after a
 * MDB_GET_BOTH_RANGE may be below the UID asked for. */
static void seqmap_take(struct store_seqmap *map, const MDB_val *v,
			uint32_t after)
{
	size_t n = v->mv_size / 4;
	const uint8_t *p = v->mv_data;
	seqmap_reserve(map, map->count + n);
	uint32_t *out = map->uids + map->count;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t be;
		memcpy(&be, p + 4 * i, 4);
		uint32_t uid = be32toh(be);
		if (uid > after)
			out[k++] = uid;
	}
	map->count += k;
}

/* Appends the mailbox's UIDs above after, in the read txn. */
static int seqmap_read(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		       uint32_t after, struct store_seqmap *map)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_uids, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	uint8_t key[4], from[4];
	store_key_mailbox(key, mailbox_id);
	uint32_t be = htobe32(after + 1);
	memcpy(from, &be, 4);
	MDB_val k = { 4, key }, v = { 4, from };
	if (after == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	else if (after == UINT32_MAX)
		rc = MDB_NOTFOUND;
	else
		rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE);
	if (rc == 0)
		for (rc = mdb_cursor_get(c, &k, &v, MDB_GET_MULTIPLE); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_MULTIPLE))
			seqmap_take(map, &v, after);
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_mdb_fail(s, rc, "uid index");
	return 0;
}

/* Reads the map into map (whose uids buffer is kept, count reset unless
 * base is given): base's UIDs, then the store's above base's last. */
static int seqmap_build(struct store *s, uint32_t mailbox_id,
			const struct store_seqmap *base,
			struct store_seqmap *map, const char **error_r)
{
	MDB_txn *txn;
	struct store_rec_mailbox mb;
	memset(map, 0, sizeof(*map));
	map->mailbox_id = mailbox_id;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	if (store_mbox_get_selectable(s, txn, mailbox_id, &mb) < 0) {
		mdb_txn_abort(txn);
		return store_ret(s, -1, error_r);
	}
	map->uidvalidity = mb.uidvalidity;
	map->uidnext = mb.uidnext;
	seqmap_reserve_exact(map, mb.messages);
	int r = 0;
	if (base != NULL && base->uidvalidity == mb.uidvalidity &&
	    base->count <= mb.messages) {
		if (base->count > 0)
			memcpy(map->uids, base->uids,
			       base->count * sizeof(uint32_t));
		map->count = base->count;
		r = seqmap_read(s, txn, mailbox_id, store_seqmap_last(base), map);
	}
	if (r == 0 && map->count != mb.messages) {
		/* no base, or messages went that base did not know of */
		map->count = 0;
		r = seqmap_read(s, txn, mailbox_id, 0, map);
	}
	if (r == 0 && map->count != mb.messages)
		r = store_corrupt(s, "uid index");
	mdb_txn_abort(txn);
	if (r < 0)
		store_seqmap_free(map);
	else
		seqmap_shrink(map);
	return store_ret(s, r, error_r);
}

int store_seqmap_load(struct store *s, uint32_t mailbox_id,
		      struct store_seqmap *map, const char **error_r)
{
	return seqmap_build(s, mailbox_id, NULL, map, error_r);
}

int store_seqmap_extend(struct store *s, const struct store_seqmap *base,
			struct store_seqmap *map_r, const char **error_r)
{
	return seqmap_build(s, base->mailbox_id, base, map_r, error_r);
}

void store_seqmap_subtract(const struct store_seqmap *base,
			   const uint32_t *uids, size_t n,
			   struct store_seqmap *map_r)
{
	memset(map_r, 0, sizeof(*map_r));
	map_r->mailbox_id = base->mailbox_id;
	map_r->uidvalidity = base->uidvalidity;
	map_r->uidnext = base->uidnext;
	seqmap_reserve_exact(map_r, base->count);
	size_t j = 0, k = 0;
	for (size_t i = 0; i < base->count; i++) {
		uint32_t uid = base->uids[i];
		while (j < n && uids[j] < uid)
			j++;
		if (j < n && uids[j] == uid)
			continue;
		map_r->uids[k++] = uid;
	}
	map_r->count = k;
	seqmap_shrink(map_r);
}

uint32_t store_seqmap_uid(const struct store_seqmap *map, uint32_t seq)
{
	if (seq == 0 || seq > map->count)
		return 0;
	return map->uids[seq - 1];
}

uint32_t store_seqmap_last(const struct store_seqmap *map)
{
	return map->count > 0 ? map->uids[map->count - 1] : 0;
}

size_t store_uids_gallop(const uint32_t *u, size_t n, size_t from,
			 uint32_t uid)
{
	size_t lo = from, hi;
	if (lo > n || (lo > 0 && u[lo - 1] >= uid))
		lo = 0;		/* asked out of order: start over */
	size_t step = 1;
	hi = lo;
	while (hi < n && u[hi] < uid) {
		lo = hi + 1;
		hi += step;
		step *= 2;
	}
	if (hi > n)
		hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (u[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t store_seqmap_lower_bound(const struct store_seqmap *map, uint32_t uid)
{
	size_t lo = 0, hi = map->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (map->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t store_seqmap_seq(const struct store_seqmap *map, uint32_t uid)
{
	size_t i = store_seqmap_lower_bound(map, uid);
	return i < map->count && map->uids[i] == uid ? (uint32_t)i + 1 : 0;
}

int store_seqmap_range(const struct store_seqmap *map, uint32_t first,
		       uint32_t last, uint32_t *seq_first_r,
		       uint32_t *seq_last_r)
{
	if (first > last) {
		uint32_t t = first;
		first = last;
		last = t;
	}
	size_t a = store_seqmap_lower_bound(map, first);
	size_t b = last == UINT32_MAX ? map->count : store_seqmap_lower_bound(map, last + 1);
	if (a >= b)
		return 0;
	*seq_first_r = (uint32_t)a + 1;
	*seq_last_r = (uint32_t)b;
	return 1;
}

void store_seqmap_add(struct store_seqmap *map, uint32_t uid)
{
	if (map->count > 0 && uid <= map->uids[map->count - 1])
		return;		/* already there, or out of order: ignore */
	seqmap_reserve(map, map->count + 1);
	map->uids[map->count++] = uid;
}

uint32_t store_seqmap_remove(struct store_seqmap *map, uint32_t uid)
{
	size_t i = store_seqmap_lower_bound(map, uid);
	if (i >= map->count || map->uids[i] != uid)
		return 0;
	memmove(map->uids + i, map->uids + i + 1,
		(map->count - i - 1) * sizeof(uint32_t));
	map->count--;
	return (uint32_t)i + 1;
}
