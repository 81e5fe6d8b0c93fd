/* store_check: recounts everything from the records and compares with
 * what the store keeps (mailbox counters, the UID index, blob reference
 * counts, keyword tables, names, blob files, the UID and unseen
 * indexes). Used by the tests after
 * every operation and crash, and by posternctl. */
#include "store-private.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct blobuse {
	uint64_t id;
	uint64_t size;
};

struct check {
	struct store *s;
	MDB_txn *txn;
	struct store_check_report *rep;
	struct store_rec_meta meta;
	struct blobuse *uses;
	size_t nuses, capuses;
	uint32_t *uidvalidities;
	size_t nuv;
	size_t unseen_total;	/* sum of the mailboxes' unseen counts */
};

static void problem(struct check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct check *c, const char *fmt, ...)
{
	c->rep->problems++;
	if (c->rep->details == NULL || c->rep->problems > 100)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	buf_append_str(c->rep->details, line);
	buf_append_byte(c->rep->details, '\n');
}

/* A per-mailbox UID index (dbi: "uids" or "unseen") holds exactly uids. */
static int check_uid_index(struct check *c, const struct store_rec_mailbox *mb,
			   MDB_dbi dbi, const char *what, const uint32_t *uids,
			   size_t n)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(c->txn, dbi, &cur);
	if (rc != 0)
		return store_mdb_fail(c->s, rc, "mdb_cursor_open");
	uint8_t key[4];
	store_key_mailbox(key, mb->id);
	MDB_val k = { 4, key }, v;
	size_t i = 0;
	bool bad = false;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size != 4 || i >= n ||
		    store_get_be32(v.mv_data) != uids[i])
			bad = true;
		i++;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return store_mdb_fail(c->s, rc, what);
	if (bad || i != n)
		problem(c, "mailbox %s: %s differs from messages "
			"(%zu entries, %zu messages)", mb->name, what, i, n);
	return 0;
}

static int check_mailbox(struct check *c, const struct store_rec_mailbox *mb)
{
	struct store *s = c->s;
	struct store_rec_mailbox re = { 0 };
	re.first_recent = mb->first_recent;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(c->txn, s->db_messages, &cur);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	uint8_t key[8];
	store_key_message(key, mb->id, 0);
	MDB_val k = { 8, key }, v;
	uint32_t *uids = NULL, *unseen = NULL;
	size_t n = 0, cap = 0, nunseen = 0, capunseen = 0;
	int r = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || store_get_be32(k.mv_data) != mb->id)
			break;
		uint32_t uid = store_get_be32((uint8_t *)k.mv_data + 4);
		struct store_rec_message m;
		if (store_rec_message_decode(v.mv_data, v.mv_size, &m) < 0) {
			problem(c, "mailbox %s uid %u: bad record", mb->name,
				uid);
			continue;
		}
		if (uid == 0 || uid >= mb->uidnext)
			problem(c, "mailbox %s: uid %u >= uidnext %u",
				mb->name, uid, mb->uidnext);
		if (m.modseq > mb->highestmodseq)
			problem(c, "mailbox %s uid %u: modseq %" PRIu64
				" > highestmodseq %" PRIu64, mb->name, uid,
				m.modseq, mb->highestmodseq);
		for (uint16_t i = 0; i < m.nkeywords; i++)
			if (m.keywords[i] >= mb->nkeywords)
				problem(c, "mailbox %s uid %u: keyword id %u "
					"not in table", mb->name, uid,
					m.keywords[i]);
		if (m.blob_id >= c->meta.next_blob)
			problem(c, "mailbox %s uid %u: blob id beyond counter",
				mb->name, uid);
		store_mb_count_add(&re, uid, &m);
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			uids = xrealloc(uids, cap * sizeof(uint32_t));
		}
		uids[n++] = uid;
		if (!(m.flags & STORE_FLAG_SEEN)) {
			if (nunseen == capunseen) {
				capunseen = capunseen ? capunseen * 2 : 256;
				unseen = xrealloc(unseen,
						  capunseen * sizeof(uint32_t));
			}
			unseen[nunseen++] = uid;
		}
		if (c->nuses == c->capuses) {
			c->capuses = c->capuses ? c->capuses * 2 : 256;
			c->uses = xrealloc(c->uses,
					   c->capuses * sizeof(*c->uses));
		}
		c->uses[c->nuses++] = (struct blobuse){ m.blob_id, m.size };
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		r = store_mdb_fail(s, rc, "messages walk");
	c->rep->messages += n;
	if (r == 0 && (re.messages != mb->messages || re.unseen != mb->unseen ||
		       re.recent != mb->recent || re.size != mb->size))
		problem(c, "mailbox %s: counters messages=%u unseen=%u "
			"recent=%u size=%" PRIu64 ", recount %u %u %u %"
			PRIu64, mb->name, mb->messages, mb->unseen, mb->recent,
			mb->size, re.messages, re.unseen, re.recent, re.size);
	if (r == 0 && (mb->attributes & STORE_ATTR_NOSELECT) && n > 0)
		problem(c, "mailbox %s: \\Noselect with messages", mb->name);
	if (r == 0)
		r = check_uid_index(c, mb, s->db_uids, "UID index", uids, n);
	if (r == 0)
		r = check_uid_index(c, mb, s->db_unseen, "unseen index", unseen,
				    nunseen);
	c->unseen_total += mb->unseen;
	free(uids);
	free(unseen);
	struct store_kwtable kw;
	if (r == 0 && store_kw_load(s, c->txn, mb->id, &kw) == 0) {
		if (kw.count != mb->nkeywords)
			problem(c, "mailbox %s: %zu keywords, record says %u",
				mb->name, kw.count, mb->nkeywords);
		store_kw_free(&kw);
	} else if (r == 0) {
		problem(c, "mailbox %s: bad keyword table", mb->name);
	}
	if (!(mb->attributes & STORE_ATTR_NOSELECT)) {
		if (mb->uidvalidity == 0 ||
		    mb->uidvalidity >= c->meta.next_uidvalidity)
			problem(c, "mailbox %s: uidvalidity %u not below "
				"counter %u", mb->name, mb->uidvalidity,
				c->meta.next_uidvalidity);
		c->uidvalidities = xrealloc(c->uidvalidities,
					    (c->nuv + 1) * sizeof(uint32_t));
		c->uidvalidities[c->nuv++] = mb->uidvalidity;
	}
	if (mb->id >= c->meta.next_mailbox_id)
		problem(c, "mailbox %s: id beyond counter", mb->name);
	/* names: this mailbox's name maps back to it, parents exist */
	MDB_val nv;
	uint32_t nid;
	int f = store_db_get(s, c->txn, s->db_names, mb->name, mb->name_len,
			     &nv);
	if (f < 0)
		return -1;
	if (f == 0 || store_rec_u32_decode(nv.mv_data, nv.mv_size, &nid) < 0 ||
	    nid != mb->id)
		problem(c, "mailbox %s: name does not map to id %u", mb->name,
			mb->id);
	char parent[STORE_MAILBOX_NAME_MAX + 1];
	memcpy(parent, mb->name, mb->name_len + 1);
	char *sep = strrchr(parent, STORE_HIERARCHY_SEP);
	if (sep != NULL) {
		*sep = '\0';
		f = store_db_get(s, c->txn, s->db_names, parent, strlen(parent),
				 &nv);
		if (f < 0)
			return -1;
		if (f == 0)
			problem(c, "mailbox %s: parent missing", mb->name);
	}
	return r;
}

static int cmp_use(const void *a, const void *b)
{
	const struct blobuse *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int check_blobs(struct check *c)
{
	struct store *s = c->s;
	if (c->nuses > 1)
		qsort(c->uses, c->nuses, sizeof(*c->uses), cmp_use);
	MDB_cursor *cur;
	int rc = mdb_cursor_open(c->txn, s->db_blobrefs, &cur);
	if (rc != 0)
		return store_mdb_fail(s, rc, "mdb_cursor_open");
	MDB_val k, v;
	size_t i = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct store_rec_blobref ref;
		if (k.mv_size != 8 ||
		    store_rec_blobref_decode(v.mv_data, v.mv_size, &ref) < 0) {
			problem(c, "bad blob reference record");
			continue;
		}
		uint64_t id = store_get_be64(k.mv_data);
		while (i < c->nuses && c->uses[i].id < id) {
			problem(c, "blob %016" PRIx64 ": used, no reference",
				c->uses[i].id);
			i++;
		}
		size_t start = i;
		while (i < c->nuses && c->uses[i].id == id)
			i++;
		if (i - start != ref.refcount)
			problem(c, "blob %016" PRIx64 ": refcount %u, used %zu",
				id, ref.refcount, i - start);
		c->rep->blobs++;
		char path[32];
		struct stat st;
		store_blob_path(id, path);
		if (fstatat(s->blobs_fd, path, &st, 0) < 0)
			problem(c, "blob %016" PRIx64 ": file missing", id);
		else if (i > start && (uint64_t)st.st_size != c->uses[start].size)
			problem(c, "blob %016" PRIx64 ": file size %jd, "
				"record %" PRIu64, id, (intmax_t)st.st_size,
				c->uses[start].size);
	}
	mdb_cursor_close(cur);
	for (; i < c->nuses; i++)
		problem(c, "blob %016" PRIx64 ": used, no reference",
			c->uses[i].id);
	if (rc != MDB_NOTFOUND)
		return store_mdb_fail(s, rc, "blobrefs walk");
	/* orphan files: every file in blobs/ must have a reference */
	for (unsigned d = 0; d < 256; d++) {
		char name[3];
		snprintf(name, sizeof(name), "%02x", d);
		int fd = openat(s->blobs_fd, name, O_RDONLY | O_DIRECTORY |
				O_CLOEXEC);
		DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
		if (dir == NULL) {
			if (fd >= 0)
				close(fd);
			problem(c, "blobs/%s: cannot open", name);
			continue;
		}
		struct dirent *de;
		while ((de = readdir(dir)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			uint64_t id = strtoull(de->d_name, NULL, 16);
			uint8_t key[8];
			store_key_blob(key, id);
			int f = store_db_get(s, c->txn, s->db_blobrefs, key, 8,
					     &v);
			if (f == 0)
				problem(c, "blobs/%s/%s: orphan file", name,
					de->d_name);
		}
		closedir(dir);
	}
	return 0;
}

int store_check(struct store *s, struct store_check_report *rep,
		const char **error_r)
{
	struct buf *details = rep->details;
	memset(rep, 0, sizeof(*rep));
	rep->details = details;
	struct check c = { .s = s, .rep = rep };
	if (store_read_begin(s, &c.txn) < 0)
		return store_ret(s, -1, error_r);
	int r = store_meta_get(s, c.txn, &c.meta);
	MDB_cursor *cur = NULL;
	int rc = 0;
	if (r == 0 && (rc = mdb_cursor_open(c.txn, s->db_mailboxes, &cur)) != 0)
		r = store_mdb_fail(s, rc, "mdb_cursor_open");
	MDB_val k, v;
	if (r == 0) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		     rc == 0 && r == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			struct store_rec_mailbox mb;
			if (k.mv_size != 4 ||
			    store_rec_mailbox_decode(v.mv_data, v.mv_size,
						     &mb) < 0 ||
			    mb.id != store_get_be32(k.mv_data)) {
				problem(&c, "bad mailbox record");
				continue;
			}
			rep->mailboxes++;
			r = check_mailbox(&c, &mb);
		}
		mdb_cursor_close(cur);
	}
	if (r == 0) {
		MDB_stat st;
		if (mdb_stat(c.txn, s->db_names, &st) == 0 &&
		    st.ms_entries != rep->mailboxes)
			problem(&c, "%zu names for %zu mailboxes",
				(size_t)st.ms_entries, rep->mailboxes);
		/* entries of a mailbox that no longer exists */
		if (mdb_stat(c.txn, s->db_unseen, &st) == 0 &&
		    st.ms_entries != c.unseen_total)
			problem(&c, "unseen index has %zu entries, mailboxes "
				"count %zu unseen", (size_t)st.ms_entries,
				c.unseen_total);
		if (c.nuv > 1)
			qsort(c.uidvalidities, c.nuv, sizeof(uint32_t),
			      cmp_u32);
		for (size_t i = 1; i < c.nuv; i++)
			if (c.uidvalidities[i] == c.uidvalidities[i - 1])
				problem(&c, "UIDVALIDITY %u used twice",
					c.uidvalidities[i]);
		r = check_blobs(&c);
	}
	mdb_txn_abort(c.txn);
	free(c.uses);
	free(c.uidvalidities);
	if (r < 0)
		return store_ret(s, -1, error_r);
	return rep->problems > 0 ? 1 : 0;
}
