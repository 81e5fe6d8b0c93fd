/* Sequence numbers <-> UIDs. SELECT loads a mailbox's UIDs from the
 * "uids" index, a DUPFIXED list of 4-byte big-endian UIDs per mailbox,
 * a page at a time with MDB_GET_MULTIPLE: at a million messages that is
 * 4 MB read without decoding a single message record. */
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

static void seqmap_take(struct store_seqmap *map, const MDB_val *v)
{
	size_t n = v->mv_size / 4;
	const uint8_t *p = v->mv_data;
	seqmap_reserve(map, map->count + n);
	uint32_t *out = map->uids + map->count;
	for (size_t i = 0; i < n; i++) {
		uint32_t be;
		memcpy(&be, p + 4 * i, 4);
		out[i] = be32toh(be);
	}
	map->count += n;
}

int store_seqmap_load(struct store *s, uint32_t mailbox_id,
		      struct store_seqmap *map, const char **error_r)
{
	memset(map, 0, sizeof(*map));
	map->mailbox_id = mailbox_id;
	MDB_txn *txn;
	MDB_cursor *c;
	struct store_rec_mailbox mb;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	if (store_mbox_get_selectable(s, txn, mailbox_id, &mb) < 0) {
		mdb_txn_abort(txn);
		return store_ret(s, -1, error_r);
	}
	int rc = mdb_cursor_open(txn, s->db_uids, &c);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return store_ret(s, store_mdb_fail(s, rc, "mdb_cursor_open"),
				 error_r);
	}
	uint8_t key[4];
	store_key_mailbox(key, mailbox_id);
	MDB_val k = { 4, key }, v;
	int r = 0;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	if (rc == 0) {
		size_t count;
		if (mdb_cursor_count(c, &count) == 0)
			seqmap_reserve(map, count);
		for (rc = mdb_cursor_get(c, &k, &v, MDB_GET_MULTIPLE); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_MULTIPLE))
			seqmap_take(map, &v);
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		r = store_mdb_fail(s, rc, "uid index");
	else if (map->count != mb.messages)
		r = store_corrupt(s, "uid index");
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	if (r < 0)
		store_seqmap_free(map);
	return store_ret(s, r, error_r);
}

uint32_t store_seqmap_uid(const struct store_seqmap *map, uint32_t seq)
{
	if (seq == 0 || seq > map->count)
		return 0;
	return map->uids[seq - 1];
}

/* index of the first UID >= uid */
static size_t lower_bound(const struct store_seqmap *map, uint32_t uid)
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
	size_t i = lower_bound(map, uid);
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
	size_t a = lower_bound(map, first);
	size_t b = last == UINT32_MAX ? map->count : lower_bound(map, last + 1);
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
	size_t i = lower_bound(map, uid);
	if (i >= map->count || map->uids[i] != uid)
		return 0;
	memmove(map->uids + i, map->uids + i + 1,
		(map->count - i - 1) * sizeof(uint32_t));
	map->count--;
	return (uint32_t)i + 1;
}
