/* Per-mailbox keyword tables: "keywords" maps (mailbox id, keyword id) to
 * the keyword; message records hold the small ids. Ids are dense and
 * never reused within a mailbox, so records need no rewrite. */
#include "store-private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int store_kw_load(struct store *s, MDB_txn *txn, uint32_t mailbox_id,
		  struct store_kwtable *t)
{
	memset(t, 0, sizeof(*t));
	t->mailbox_id = mailbox_id;
	uint8_t key[6];
	store_key_keyword(key, mailbox_id, 0);
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->db_keywords, &c);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	MDB_val k = { 6, key }, v;
	size_t cap = 0;
	int r = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 6 || memcmp(k.mv_data, key, 4) != 0)
			break;
		const uint8_t *kp = k.mv_data;
		uint16_t id = (uint16_t)(kp[4] << 8 | kp[5]);
		if (id != t->count ||
		    !store_keyword_valid(v.mv_data, v.mv_size)) {
			r = store_corrupt(s, "keyword");
			break;
		}
		if (t->count == cap) {
			cap = cap ? cap * 2 : 16;
			t->names = xrealloc(t->names, cap * sizeof(char *));
		}
		t->names[t->count++] = xstrndup(v.mv_data, v.mv_size);
	}
	if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
		r = store_mdb_fail(s, rc, "mdb_cursor_get");
	mdb_cursor_close(c);
	if (r < 0)
		store_kw_free(t);
	return r;
}

void store_kw_free(struct store_kwtable *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->names[i]);
	free(t->names);
	t->names = NULL;
	t->count = 0;
}

/* Keywords compare case-insensitively (RFC 9051 2.3.2 flags are atoms,
 * and clients differ in case); the first spelling is kept. */
int store_kw_id(struct store *s, MDB_txn *txn, struct store_kwtable *t,
		struct store_rec_mailbox *mb, const char *name, bool create)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcasecmp(t->names[i], name) == 0)
			return (int)i;
	if (!create)
		return -2;
	if (t->count >= STORE_MAILBOX_KEYWORDS_MAX)
		return store_fail(s, STORE_ERR_LIMIT,
				  "too many keywords in mailbox %s", mb->name);
	if (t->count != mb->nkeywords)
		return store_corrupt(s, "keyword table");
	uint8_t key[6];
	store_key_keyword(key, t->mailbox_id, (uint16_t)t->count);
	if (store_db_put(s, txn, s->db_keywords, key, 6, name, strlen(name),
			 0) < 0)
		return -1;
	t->names = xrealloc(t->names, (t->count + 1) * sizeof(char *));
	t->names[t->count] = xstrdup(name);
	mb->nkeywords = (uint16_t)++t->count;
	return (int)t->count - 1;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

int store_kw_resolve(struct store *s, MDB_txn *txn, struct store_kwtable *t,
		     struct store_rec_mailbox *mb, const char *const *names,
		     size_t n, bool create, uint16_t *ids, uint16_t *nids_r)
{
	uint16_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!store_keyword_valid(names[i], strlen(names[i])))
			return store_fail(s, STORE_ERR_INVALID,
					  "invalid keyword");
		int id = store_kw_id(s, txn, t, mb, names[i], create);
		if (id == -1)
			return -1;
		if (id == -2)
			continue;
		bool dup = false;
		for (uint16_t j = 0; j < k; j++)
			dup |= ids[j] == id;
		if (dup)
			continue;
		if (k >= STORE_MESSAGE_KEYWORDS_MAX)
			return store_fail(s, STORE_ERR_LIMIT,
					  "too many keywords on a message");
		ids[k++] = (uint16_t)id;
	}
	qsort(ids, k, sizeof(uint16_t), cmp_u16);
	*nids_r = k;
	return 0;
}

int store_keyword_list(struct store *s, uint32_t mailbox_id,
		       store_name_cb *cb, void *ctx, const char **error_r)
{
	MDB_txn *txn;
	struct store_kwtable t;
	if (store_read_begin(s, &txn) < 0)
		return store_ret(s, -1, error_r);
	int r = store_kw_load(s, txn, mailbox_id, &t);
	mdb_txn_abort(txn);
	if (r < 0)
		return store_ret(s, -1, error_r);
	for (size_t i = 0; i < t.count; i++)
		if (cb(ctx, t.names[i]) != 0)
			break;
	store_kw_free(&t);
	return 0;
}
