/* The store library: every operation, with store_check (counters equal a
 * recount, UID index, blob references and files) after each. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/buf.h"
#include "../../store/store-private.h"
#include "../../store/store.h"

/* ---- helpers ---------------------------------------------------------- */

static char tdir[64];

static int rm_fn(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

static struct store *fresh_opts(size_t map_size)
{
	if (tdir[0] != '\0')
		rm_rf(tdir);
	strcpy(tdir, "/tmp/postern-store-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(tdir) != NULL);
	struct store_options o = { STORE_OPEN_CREATE, map_size };
	struct store *s = NULL;
	const char *err = NULL;
	int r = store_open_opts(tdir, &o, &s, &err);
	if (r < 0)
		fprintf(stderr, "\nstore_open: %s\n", err);
	CU_ASSERT_FATAL(r == 0);
	return s;
}

static struct store *fresh(void)
{
	return fresh_opts(0);
}

static struct store *reopen(struct store **s)
{
	store_close(s);
	const char *err = NULL;
	struct store *n = NULL;
	int r = store_open(tdir, 0, &n, &err);
	if (r < 0)
		fprintf(stderr, "\nreopen: %s\n", err);
	CU_ASSERT_FATAL(r == 0);
	return n;
}

static void done(struct store **s)
{
	store_close(s);
	rm_rf(tdir);
	tdir[0] = '\0';
}

static void check_ok(struct store *s)
{
	struct buf d;
	buf_init(&d);
	struct store_check_report rep = { .details = &d };
	const char *err;
	int r = store_check(s, &rep, &err);
	if (r != 0)
		fprintf(stderr, "\nstore_check %d: %s\n", r,
			r < 0 ? err : buf_cstr(&d));
	CU_ASSERT_EQUAL(r, 0);
	buf_free(&d);
}

static struct store_mailbox mbox(struct store *s, const char *name)
{
	struct store_mailbox mb;
	const char *err;
	memset(&mb, 0, sizeof(mb));
	int r = store_mailbox_get(s, name, &mb, &err);
	CU_ASSERT_EQUAL(r, 1);
	return mb;
}

static bool exists(struct store *s, const char *name)
{
	struct store_mailbox mb;
	const char *err;
	return store_mailbox_get(s, name, &mb, &err) == 1;
}

static uint32_t append(struct store *s, const char *mbname, const char *text,
		       unsigned flags, const char *kw)
{
	struct store_mailbox mb = mbox(s, mbname);
	const char *kws[1] = { kw };
	struct store_append_msg m = {
		.data = text, .len = strlen(text), .fd = -1, .flags = flags,
		.keywords = kws, .nkeywords = kw != NULL,
		.internaldate = 1700000000,
	};
	uint32_t uid = 0;
	const char *err;
	int r = store_append(s, mb.id, &m, &uid, &err);
	if (r < 0)
		fprintf(stderr, "\nappend: %s\n", err);
	CU_ASSERT_EQUAL(r, 0);
	return uid;
}

struct collect {
	struct store_message msgs[64];
	char kw[64][4][32];
	size_t n;
};

static int collect_cb(void *ctx, const struct store_message *m)
{
	struct collect *c = ctx;
	if (c->n < 64) {
		c->msgs[c->n] = *m;
		for (size_t i = 0; i < m->nkeywords && i < 4; i++)
			snprintf(c->kw[c->n][i], 32, "%s", m->keywords[i]);
		c->msgs[c->n].keywords = NULL;
		c->n++;
	}
	return 0;
}

static void collect(struct store *s, uint32_t id, struct collect *c)
{
	const char *err;
	memset(c, 0, sizeof(*c));
	CU_ASSERT_EQUAL(store_message_iter(s, id, NULL, collect_cb, c, &err), 0);
}

static char *read_msg(struct store *s, uint64_t blob)
{
	struct buf b;
	const char *err;
	buf_init(&b);
	CU_ASSERT_EQUAL(store_message_read(s, blob, &b, &err), 0);
	char *r = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return r;
}

static int name_cb(void *ctx, const char *name)
{
	struct buf *b = ctx;
	buf_append_str(b, name);
	buf_append_byte(b, ' ');
	return 0;
}

static int list_cb(void *ctx, const struct store_mailbox *mb)
{
	struct buf *b = ctx;
	buf_printf(b, "%s%s%s%s,", mb->name,
		   mb->attributes & STORE_ATTR_NOSELECT ? "!" : "",
		   mb->attributes & STORE_ATTR_HASCHILDREN ? "+" : "",
		   mb->special_use ? "*" : "");
	return 0;
}

static char *list(struct store *s)
{
	struct buf b;
	const char *err;
	buf_init(&b);
	CU_ASSERT_EQUAL(store_mailbox_list(s, list_cb, &b, &err), 0);
	char *r = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return r;
}

#define ASSERT_LIST(s, want) do { \
	char *got_ = list(s); \
	if (strcmp(got_, want) != 0) \
		fprintf(stderr, "\nlist: got %s want %s\n", got_, want); \
	CU_ASSERT_STRING_EQUAL(got_, want); \
	free(got_); \
} while (0)

/* ---- tests ------------------------------------------------------------ */

static void test_create_defaults(void)
{
	struct store *s = fresh();
	ASSERT_LIST(s, "Archive*,Drafts*,INBOX,Junk*,Sent*,Trash*,");
	CU_ASSERT_EQUAL(mbox(s, "Sent").special_use, STORE_SPECIAL_SENT);
	CU_ASSERT_EQUAL(mbox(s, "Junk").special_use, STORE_SPECIAL_JUNK);
	CU_ASSERT_STRING_EQUAL(store_special_use_name(STORE_SPECIAL_TRASH),
			       "\\Trash");
	struct store_mailbox in = mbox(s, "iNbOx");
	CU_ASSERT_STRING_EQUAL(in.name, "INBOX");
	CU_ASSERT_EQUAL(in.uidnext, 1);
	CU_ASSERT(in.uidvalidity != 0);
	CU_ASSERT(in.attributes & STORE_ATTR_HASNOCHILDREN);
	struct buf b;
	const char *err;
	buf_init(&b);
	CU_ASSERT_EQUAL(store_subscription_list(s, name_cb, &b, &err), 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b),
			       "Archive Drafts INBOX Junk Sent Trash ");
	buf_free(&b);
	/* a second open neither re-creates nor fails */
	s = reopen(&s);
	ASSERT_LIST(s, "Archive*,Drafts*,INBOX,Junk*,Sent*,Trash*,");
	check_ok(s);
	/* one writer at a time */
	struct store *s2 = NULL;
	CU_ASSERT_EQUAL(store_open(tdir, 0, &s2, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "in use"));
	/* no store, no create */
	CU_ASSERT_EQUAL(store_open("/tmp/postern-no-such-store", 0, &s2, &err),
			-1);
	done(&s);
}

static void test_mailbox_hierarchy(void)
{
	struct store *s = fresh();
	const char *err;
	CU_ASSERT_EQUAL(store_mailbox_create(s, "a/b/c", 0, &err), 0);
	ASSERT_LIST(s, "Archive*,Drafts*,INBOX,Junk*,Sent*,Trash*,a!+,a/b!+,"
		    "a/b/c,");
	CU_ASSERT_EQUAL(store_mailbox_create(s, "a/b/c", 0, &err), -1);
	CU_ASSERT_EQUAL(store_last_error(s), STORE_ERR_EXISTS);
	CU_ASSERT_EQUAL(store_mailbox_create(s, "INBOX", 0, &err), -1);
	/* \Noselect parent becomes real on CREATE */
	CU_ASSERT_EQUAL(store_mailbox_create(s, "a", 0, &err), 0);
	CU_ASSERT_EQUAL(mbox(s, "a").attributes & STORE_ATTR_NOSELECT, 0);
	/* deleting the leaf prunes the empty \Noselect a/b, not real a */
	CU_ASSERT_EQUAL(store_mailbox_delete(s, "a/b/c", &err), 0);
	ASSERT_LIST(s, "Archive*,Drafts*,INBOX,Junk*,Sent*,Trash*,a,");
	/* delete with children: becomes \Noselect, messages gone */
	CU_ASSERT_EQUAL(store_mailbox_create(s, "a/x", 0, &err), 0);
	append(s, "a", "Subject: x\r\n\r\nbody\r\n", 0, NULL);
	CU_ASSERT_EQUAL(store_mailbox_delete(s, "a", &err), 0);
	ASSERT_LIST(s, "Archive*,Drafts*,INBOX,Junk*,Sent*,Trash*,a!+,a/x,");
	CU_ASSERT_EQUAL(store_mailbox_delete(s, "a", &err), -1);
	CU_ASSERT_EQUAL(store_last_error(s), STORE_ERR_INVALID);
	check_ok(s);
	/* errors */
	CU_ASSERT_EQUAL(store_mailbox_delete(s, "nope", &err), -1);
	CU_ASSERT_EQUAL(store_last_error(s), STORE_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(store_mailbox_delete(s, "inbox", &err), -1);
	const char *bad[] = { "", "/a", "a/", "a//b", "a*", "b%", "x\x01",
			      "\xff", "\xc0\x80" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(store_mailbox_create(s, bad[i], 0, &err), -1);
		CU_ASSERT_EQUAL(store_last_error(s), STORE_ERR_INVALID);
	}
	CU_ASSERT_EQUAL(store_mailbox_create(s, "Ünïcødé/日本", 0, &err), 0);
	/* inbox/x is INBOX/x */
	CU_ASSERT_EQUAL(store_mailbox_create(s, "inbox/sub", 0, &err), 0);
	CU_ASSERT(exists(s, "INBOX/sub"));
	CU_ASSERT(mbox(s, "INBOX").attributes & STORE_ATTR_HASCHILDREN);
	check_ok(s);
	done(&s);
}

static void test_mailbox_rename(void)
{
	struct store *s = fresh();
	const char *err;
	CU_ASSERT_EQUAL(store_mailbox_create(s, "p/q", 0, &err), 0);
	CU_ASSERT_EQUAL(store_mailbox_create(s, "p/q/r", 0, &err), 0);
	CU_ASSERT_EQUAL(store_mailbox_create(s, "p-q", 0, &err), 0);
	uint32_t uid = append(s, "p/q/r", "Subject: r\r\n\r\nr\r\n", 0, "$Kw");
	struct store_mailbox before = mbox(s, "p/q/r");
	CU_ASSERT_EQUAL(store_mailbox_rename(s, "p/q", "n/m", &err), 0);
	ASSERT_LIST(s, "Archive*,Drafts*,INBOX,Junk*,Sent*,Trash*,n!+,n/m+,"
		    "n/m/r,p-q,");
	struct store_mailbox after = mbox(s, "n/m/r");
	CU_ASSERT_EQUAL(after.id, before.id);
	CU_ASSERT_EQUAL(after.uidvalidity, before.uidvalidity);
	CU_ASSERT_EQUAL(after.messages, 1);
	struct collect c;
	collect(s, after.id, &c);
	CU_ASSERT_EQUAL(c.n, 1);
	CU_ASSERT_EQUAL(c.msgs[0].uid, uid);
	CU_ASSERT_STRING_EQUAL(c.kw[0][0], "$Kw");
	/* into itself, onto an existing name, missing source */
	CU_ASSERT_EQUAL(store_mailbox_rename(s, "n/m", "n/m/z", &err), -1);
	CU_ASSERT_EQUAL(store_mailbox_rename(s, "n/m", "p-q", &err), -1);
	CU_ASSERT_EQUAL(store_last_error(s), STORE_ERR_EXISTS);
	CU_ASSERT_EQUAL(store_mailbox_rename(s, "zz", "yy", &err), -1);
	CU_ASSERT_EQUAL(store_last_error(s), STORE_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(store_mailbox_rename(s, "Sent", "Sent Items", &err), 0);
	CU_ASSERT_EQUAL(mbox(s, "Sent Items").special_use, STORE_SPECIAL_SENT);
	check_ok(s);
	done(&s);
}

static void test_inbox_rename(void)
{
	struct store *s = fresh();
	const char *err;
	append(s, "INBOX", "Subject: 1\r\n\r\n1\r\n", STORE_FLAG_SEEN, "a");
	append(s, "INBOX", "Subject: 2\r\n\r\n2\r\n", 0, "b");
	append(s, "INBOX", "Subject: 3\r\n\r\n3\r\n", 0, NULL);
	CU_ASSERT_EQUAL(store_mailbox_create(s, "INBOX/keep", 0, &err), 0);
	struct store_mailbox in0 = mbox(s, "INBOX");
	CU_ASSERT_EQUAL(store_mailbox_rename(s, "inbox", "Old/Mail", &err), 0);
	struct store_mailbox in = mbox(s, "INBOX");
	struct store_mailbox old = mbox(s, "Old/Mail");
	CU_ASSERT_EQUAL(in.id, in0.id);
	CU_ASSERT_EQUAL(in.uidvalidity, in0.uidvalidity);
	CU_ASSERT_EQUAL(in.messages, 0);
	CU_ASSERT_EQUAL(in.size, 0);
	CU_ASSERT_EQUAL(in.uidnext, 4);
	CU_ASSERT(in.highestmodseq > in0.highestmodseq);
	CU_ASSERT(exists(s, "INBOX/keep"));
	CU_ASSERT(!exists(s, "Old/Mail/keep"));
	CU_ASSERT_NOT_EQUAL(old.uidvalidity, in.uidvalidity);
	CU_ASSERT_EQUAL(old.messages, 3);
	CU_ASSERT_EQUAL(old.unseen, 2);
	CU_ASSERT_EQUAL(old.size, in0.size);
	struct collect c;
	collect(s, old.id, &c);
	CU_ASSERT_EQUAL(c.n, 3);
	CU_ASSERT_EQUAL(c.msgs[2].uid, 3);
	CU_ASSERT_STRING_EQUAL(c.kw[1][0], "b");
	char *t = read_msg(s, c.msgs[1].blob_id);
	CU_ASSERT_STRING_EQUAL(t, "Subject: 2\r\n\r\n2\r\n");
	free(t);
	/* INBOX never reuses a UID */
	CU_ASSERT_EQUAL(append(s, "INBOX", "x\r\n", 0, NULL), 4);
	check_ok(s);
	done(&s);
}

static void test_uidvalidity_unique(void)
{
	struct store *s = fresh();
	const char *err;
	uint32_t seen[20];
	for (int i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(store_mailbox_create(s, "t", 0, &err), 0);
		seen[i] = mbox(s, "t").uidvalidity;
		for (int j = 0; j < i; j++)
			CU_ASSERT_NOT_EQUAL(seen[i], seen[j]);
		if (i > 0)
			CU_ASSERT(seen[i] > seen[i - 1]);
		CU_ASSERT_EQUAL(store_mailbox_delete(s, "t", &err), 0);
		if (i == 10)
			s = reopen(&s);
	}
	/* a \Noselect name made real gets a new one too */
	CU_ASSERT_EQUAL(store_mailbox_create(s, "t/u", 0, &err), 0);
	CU_ASSERT_EQUAL(store_mailbox_create(s, "t", 0, &err), 0);
	CU_ASSERT(mbox(s, "t").uidvalidity > seen[19]);
	check_ok(s);
	done(&s);
}

static int builder(void *ctx, const uint8_t *data, size_t len, struct buf *out)
{
	(*(int *)ctx)++;
	buf_printf(out, "len=%zu first=%c", len, len ? data[0] : '-');
	return 0;
}

static void test_append_read(void)
{
	struct store *s = fresh();
	const char *err;
	struct store_mailbox in = mbox(s, "INBOX");
	/* bare LF -> CRLF, CRLF and bare CR kept */
	uint32_t uid = append(s, "INBOX", "A: b\nC: d\r\n\nx\ry\n", 0, "$Junk");
	CU_ASSERT_EQUAL(uid, 1);
	struct collect c;
	collect(s, in.id, &c);
	CU_ASSERT_EQUAL(c.n, 1);
	char *t = read_msg(s, c.msgs[0].blob_id);
	CU_ASSERT_STRING_EQUAL(t, "A: b\r\nC: d\r\n\r\nx\ry\r\n");
	CU_ASSERT_EQUAL(c.msgs[0].size, strlen(t));
	free(t);
	CU_ASSERT_EQUAL(c.msgs[0].internaldate, 1700000000);
	CU_ASSERT(c.msgs[0].flags & STORE_FLAG_RECENT);
	CU_ASSERT_EQUAL(c.msgs[0].nkeywords, 1);
	CU_ASSERT_STRING_EQUAL(c.kw[0][0], "$Junk");
	/* from a stream, with cache bytes given */
	int p[2];
	CU_ASSERT_FATAL(pipe(p) == 0);
	CU_ASSERT_EQUAL(write(p[1], "S: t\n\nstream\n", 13), 13);
	close(p[1]);
	struct store_append_msg m = { .fd = p[0], .cache = "CACHE",
				      .cache_len = 5,
				      .flags = STORE_FLAG_SEEN | 0x80 };
	CU_ASSERT_EQUAL(store_append(s, in.id, &m, &uid, &err), 0);
	close(p[0]);
	CU_ASSERT_EQUAL(uid, 2);
	collect(s, in.id, &c);
	t = read_msg(s, c.msgs[1].blob_id);
	CU_ASSERT_STRING_EQUAL(t, "S: t\r\n\r\nstream\r\n");
	free(t);
	CU_ASSERT_EQUAL(c.msgs[1].flags & STORE_FLAGS_STORED, STORE_FLAG_SEEN);
	struct buf b;
	buf_init(&b);
	CU_ASSERT_EQUAL(store_cache_get(s, c.msgs[1].blob_id, &b, &err), 1);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "CACHE");
	buf_clear(&b);
	CU_ASSERT_EQUAL(store_cache_get(s, c.msgs[0].blob_id, &b, &err), 0);
	/* the builder sees the stored (converted) bytes */
	int calls = 0;
	store_set_cache_builder(s, builder, &calls);
	uid = append(s, "INBOX", "Z\n", 0, NULL);
	collect(s, in.id, &c);
	CU_ASSERT_EQUAL(calls, 1);
	buf_clear(&b);
	CU_ASSERT_EQUAL(store_cache_get(s, c.msgs[2].blob_id, &b, &err), 1);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "len=3 first=Z");
	buf_clear(&b);
	CU_ASSERT_EQUAL(store_cache_put(s, c.msgs[0].blob_id, "new", 3, &err),
			0);
	CU_ASSERT_EQUAL(store_cache_get(s, c.msgs[0].blob_id, &b, &err), 1);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "new");
	buf_free(&b);
	in = mbox(s, "INBOX");
	CU_ASSERT_EQUAL(in.messages, 3);
	CU_ASSERT_EQUAL(in.unseen, 2);
	CU_ASSERT_EQUAL(in.recent, 3);
	CU_ASSERT_EQUAL(in.uidnext, 4);
	/* invalid keyword, \Noselect target, missing mailbox */
	const char *kw[] = { "bad kw" };
	struct store_append_msg bad = { .data = "x", .len = 1, .fd = -1,
					.keywords = kw, .nkeywords = 1 };
	CU_ASSERT_EQUAL(store_append(s, in.id, &bad, &uid, &err), -1);
	CU_ASSERT_EQUAL(store_last_error(s), STORE_ERR_INVALID);
	bad.nkeywords = 0;
	CU_ASSERT_EQUAL(store_append(s, 9999, &bad, &uid, &err), -1);
	CU_ASSERT_EQUAL(store_last_error(s), STORE_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(store_mailbox_create(s, "np/child", 0, &err), 0);
	CU_ASSERT_EQUAL(store_append(s, mbox(s, "np").id, &bad, &uid, &err),
			-1);
	CU_ASSERT_EQUAL(store_last_error(s), STORE_ERR_NOSELECT);
	/* \Recent goes to the first session that takes it */
	uint32_t first;
	CU_ASSERT_EQUAL(store_mailbox_take_recent(s, in.id, &first, &err), 0);
	CU_ASSERT_EQUAL(first, 1);
	CU_ASSERT_EQUAL(mbox(s, "INBOX").recent, 0);
	CU_ASSERT_EQUAL(store_mailbox_take_recent(s, in.id, &first, &err), 0);
	CU_ASSERT_EQUAL(first, 4);
	check_ok(s);
	/* failed appends left no files behind */
	DIR *d = opendir(tdir);
	CU_ASSERT_PTR_NOT_NULL(d);
	closedir(d);
	done(&s);
}

static void test_batch(void)
{
	for (int mode = 0; mode < 2; mode++) {
		struct store *s = fresh();
		const char *err;
		struct store_append_msg m[50];
		char texts[50][32];
		uint32_t uids[50];
		for (int i = 0; i < 50; i++) {
			snprintf(texts[i], sizeof(texts[i]), "Subject: %d\n\n", i);
			m[i] = (struct store_append_msg){
				.data = texts[i], .len = strlen(texts[i]),
				.fd = -1, .flags = i % 2 ? STORE_FLAG_SEEN : 0 };
		}
		uint32_t id = mbox(s, "Archive").id;
		CU_ASSERT_EQUAL(store_append_batch(s, id, m, 50,
				mode ? STORE_BATCH_SYNCFS : 0, uids, &err), 0);
		for (int i = 0; i < 50; i++)
			CU_ASSERT_EQUAL(uids[i], (uint32_t)i + 1);
		struct store_mailbox mb = mbox(s, "Archive");
		CU_ASSERT_EQUAL(mb.messages, 50);
		CU_ASSERT_EQUAL(mb.unseen, 25);
		struct collect c;
		collect(s, id, &c);
		char *t = read_msg(s, c.msgs[49].blob_id);
		CU_ASSERT_STRING_EQUAL(t, "Subject: 49\r\n\r\n");
		free(t);
		/* all or nothing: one bad keyword fails the batch */
		const char *kw[] = { "\\Seen" };
		m[10].keywords = kw;
		m[10].nkeywords = 1;
		CU_ASSERT_EQUAL(store_append_batch(s, id, m, 50, 0, uids, &err),
				-1);
		CU_ASSERT_EQUAL(mbox(s, "Archive").messages, 50);
		check_ok(s);
		done(&s);
	}
}

static void test_flags(void)
{
	struct store *s = fresh();
	const char *err;
	for (int i = 0; i < 5; i++)
		append(s, "INBOX", "m\r\n", 0, NULL);
	struct store_mailbox mb = mbox(s, "INBOX");
	uint64_t ms0 = mb.highestmodseq;
	struct store_uidrange r[] = { { 2, 4 } };
	struct store_uidset set = { r, 1 };
	const char *kws[] = { "$Label1", "work" };
	struct store_flags_req req = { STORE_FLAGS_ADD,
				       STORE_FLAG_SEEN | STORE_FLAG_FLAGGED,
				       kws, 2, 0 };
	struct store_flags_result res;
	CU_ASSERT_EQUAL(store_flags_set(s, mb.id, &set, &req, &res, &err), 0);
	CU_ASSERT_EQUAL(res.nchanged, 3);
	CU_ASSERT_EQUAL(res.changed[0].uid, 2);
	CU_ASSERT_EQUAL(res.changed[0].modseq, ms0 + 1);
	CU_ASSERT(res.changed[0].flags & STORE_FLAG_SEEN);
	store_flags_result_free(&res);
	mb = mbox(s, "INBOX");
	CU_ASSERT_EQUAL(mb.unseen, 2);
	CU_ASSERT_EQUAL(mb.highestmodseq, ms0 + 1);
	/* no change, no modseq */
	CU_ASSERT_EQUAL(store_flags_set(s, mb.id, &set, &req, &res, &err), 0);
	CU_ASSERT_EQUAL(res.nchanged, 0);
	store_flags_result_free(&res);
	CU_ASSERT_EQUAL(mbox(s, "INBOX").highestmodseq, ms0 + 1);
	/* remove one keyword (case-insensitive), unknown one is a no-op */
	const char *rm[] = { "WORK", "never-seen" };
	struct store_flags_req req2 = { STORE_FLAGS_REMOVE, STORE_FLAG_SEEN,
					rm, 2, 0 };
	struct store_uidrange r3[] = { { 3, 3 } };
	struct store_uidset set3 = { r3, 1 };
	CU_ASSERT_EQUAL(store_flags_set(s, mb.id, &set3, &req2, &res, &err), 0);
	CU_ASSERT_EQUAL(res.nchanged, 1);
	store_flags_result_free(&res);
	struct collect c;
	collect(s, mb.id, &c);
	CU_ASSERT_EQUAL(c.msgs[2].nkeywords, 1);
	CU_ASSERT_STRING_EQUAL(c.kw[2][0], "$Label1");
	CU_ASSERT_EQUAL(c.msgs[2].flags & STORE_FLAGS_STORED, STORE_FLAG_FLAGGED);
	CU_ASSERT_EQUAL(c.msgs[2].modseq, ms0 + 2);
	struct buf b;
	buf_init(&b);
	CU_ASSERT_EQUAL(store_keyword_list(s, mb.id, name_cb, &b, &err), 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "$Label1 work ");
	buf_free(&b);
	/* UNCHANGEDSINCE: uid 3 changed after ms0+1 */
	struct store_flags_req req3 = { STORE_FLAGS_REPLACE, STORE_FLAG_DRAFT,
					NULL, 0, ms0 + 1 };
	CU_ASSERT_EQUAL(store_flags_set(s, mb.id, &set, &req3, &res, &err), 0);
	CU_ASSERT_EQUAL(res.nmodified, 1);
	CU_ASSERT_EQUAL(res.modified[0], 3);
	CU_ASSERT_EQUAL(res.nchanged, 2);
	store_flags_result_free(&res);
	collect(s, mb.id, &c);
	CU_ASSERT_EQUAL(c.msgs[1].flags & STORE_FLAGS_STORED, STORE_FLAG_DRAFT);
	CU_ASSERT_EQUAL(c.msgs[1].nkeywords, 0);
	CU_ASSERT_EQUAL(mbox(s, "INBOX").unseen, 5);
	check_ok(s);
	done(&s);
}

static int count_files(const char *dir)
{
	char path[256];
	int n = 0;
	for (int i = 0; i < 256; i++) {
		snprintf(path, sizeof(path), "%s/blobs/%02x", dir, i);
		DIR *d = opendir(path);
		if (d == NULL)
			continue;
		struct dirent *de;
		while ((de = readdir(d)) != NULL)
			n += de->d_name[0] != '.';
		closedir(d);
	}
	return n;
}

static void test_copy_move_expunge(void)
{
	struct store *s = fresh();
	const char *err;
	for (int i = 0; i < 4; i++)
		append(s, "INBOX", "Subject: c\r\n\r\nc\r\n",
		       i == 1 ? STORE_FLAG_DELETED : 0, i == 2 ? "k" : NULL);
	uint32_t in = mbox(s, "INBOX").id, tr = mbox(s, "Trash").id;
	append(s, "Trash", "t\r\n", 0, "other");
	struct store_uidrange r[] = { { 2, 3 }, { 3, 100 } };
	struct store_uidset set = { r, 2 };
	struct store_uidmap map;
	CU_ASSERT_EQUAL(store_copy(s, in, &set, tr, &map, &err), 0);
	CU_ASSERT_EQUAL(map.count, 3);
	CU_ASSERT_EQUAL(map.src[0], 2);
	CU_ASSERT_EQUAL(map.dst[0], 2);
	CU_ASSERT_EQUAL(map.dst[2], 4);
	store_uidmap_free(&map);
	CU_ASSERT_EQUAL(count_files(tdir), 5);	/* shared blobs */
	struct collect a, b;
	collect(s, in, &a);
	collect(s, tr, &b);
	CU_ASSERT_EQUAL(a.msgs[1].blob_id, b.msgs[1].blob_id);
	CU_ASSERT(b.msgs[1].flags & STORE_FLAG_DELETED);
	CU_ASSERT_EQUAL(b.msgs[2].nkeywords, 1);
	CU_ASSERT_STRING_EQUAL(b.kw[2][0], "k");
	CU_ASSERT_EQUAL(mbox(s, "Trash").messages, 4);
	check_ok(s);
	/* expunge \Deleted only */
	uint32_t *uids;
	size_t n;
	CU_ASSERT_EQUAL(store_expunge(s, in, NULL, 0, &uids, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(uids[0], 2);
	free(uids);
	CU_ASSERT_EQUAL(count_files(tdir), 5);	/* Trash still has it */
	/* expunge by UID set regardless of \Deleted */
	struct store_uidrange r2[] = { { 2, 2 } };
	struct store_uidset set2 = { r2, 1 };
	CU_ASSERT_EQUAL(store_expunge(s, tr, &set2, STORE_EXPUNGE_ANY, &uids,
				      &n, &err), 0);
	CU_ASSERT_EQUAL(n, 1);
	free(uids);
	CU_ASSERT_EQUAL(count_files(tdir), 4);	/* last reference gone */
	check_ok(s);
	/* move: source loses, destination gains, blob count unchanged */
	struct store_uidrange r3[] = { { 1, 1 }, { 4, 4 } };
	struct store_uidset set3 = { r3, 2 };
	uint64_t srcms = mbox(s, "INBOX").highestmodseq;
	CU_ASSERT_EQUAL(store_move(s, in, &set3, tr, &map, &err), 0);
	CU_ASSERT_EQUAL(map.count, 2);
	CU_ASSERT_EQUAL(map.dst[0], 5);
	CU_ASSERT_EQUAL(map.dst[1], 6);
	store_uidmap_free(&map);
	CU_ASSERT_EQUAL(mbox(s, "INBOX").messages, 1);
	CU_ASSERT(mbox(s, "INBOX").highestmodseq > srcms);
	CU_ASSERT_EQUAL(mbox(s, "Trash").messages, 5);
	CU_ASSERT_EQUAL(count_files(tdir), 4);
	/* copy into the same mailbox terminates */
	struct store_uidrange all[] = { { 1, UINT32_MAX } };
	struct store_uidset setall = { all, 1 };
	CU_ASSERT_EQUAL(store_copy(s, tr, &setall, tr, &map, &err), 0);
	CU_ASSERT_EQUAL(map.count, 5);
	store_uidmap_free(&map);
	check_ok(s);
	/* deleting the mailbox drops its references */
	CU_ASSERT_EQUAL(store_mailbox_delete(s, "Trash", &err), 0);
	CU_ASSERT_EQUAL(count_files(tdir), 1);
	check_ok(s);
	done(&s);
}

static void test_seqmap(void)
{
	struct store *s = fresh();
	const char *err;
	struct store_append_msg m[100];
	uint32_t uids[100];
	for (int i = 0; i < 100; i++)
		m[i] = (struct store_append_msg){ .data = "x\r\n", .len = 3,
						  .fd = -1 };
	uint32_t id = mbox(s, "INBOX").id;
	CU_ASSERT_EQUAL(store_append_batch(s, id, m, 100, 0, uids, &err), 0);
	struct store_uidrange r[] = { { 10, 19 }, { 50, 50 } };
	struct store_uidset set = { r, 2 };
	CU_ASSERT_EQUAL(store_expunge(s, id, &set, STORE_EXPUNGE_ANY, NULL,
				      NULL, &err), 0);
	struct store_seqmap map;
	CU_ASSERT_EQUAL(store_seqmap_load(s, id, &map, &err), 0);
	CU_ASSERT_EQUAL(map.count, 89);
	CU_ASSERT_EQUAL(store_seqmap_uid(&map, 9), 9);
	CU_ASSERT_EQUAL(store_seqmap_uid(&map, 10), 20);
	CU_ASSERT_EQUAL(store_seqmap_uid(&map, 89), 100);
	CU_ASSERT_EQUAL(store_seqmap_uid(&map, 90), 0);
	CU_ASSERT_EQUAL(store_seqmap_uid(&map, 0), 0);
	CU_ASSERT_EQUAL(store_seqmap_seq(&map, 15), 0);
	CU_ASSERT_EQUAL(store_seqmap_seq(&map, 51), 40);
	uint32_t a, b;
	CU_ASSERT_EQUAL(store_seqmap_range(&map, 5, 20, &a, &b), 1);
	CU_ASSERT_EQUAL(a, 5);
	CU_ASSERT_EQUAL(b, 10);
	CU_ASSERT_EQUAL(store_seqmap_range(&map, 11, 12, &a, &b), 0);
	CU_ASSERT_EQUAL(store_seqmap_range(&map, 99, UINT32_MAX, &a, &b), 1);
	CU_ASSERT_EQUAL(b, 89);
	CU_ASSERT_EQUAL(store_seqmap_remove(&map, 20), 10);
	CU_ASSERT_EQUAL(store_seqmap_uid(&map, 10), 21);
	store_seqmap_add(&map, 101);
	CU_ASSERT_EQUAL(store_seqmap_seq(&map, 101), 89);
	store_seqmap_free(&map);
	/* iteration over a UID set */
	struct collect c;
	struct store_uidrange r2[] = { { 60, 62 }, { 5, 12 } };
	struct store_uidset set2 = { r2, 2 };
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(store_message_iter(s, id, &set2, collect_cb, &c, &err),
			0);
	CU_ASSERT_EQUAL(c.n, 8);
	CU_ASSERT_EQUAL(c.msgs[0].uid, 5);
	CU_ASSERT_EQUAL(c.msgs[4].uid, 9);
	CU_ASSERT_EQUAL(c.msgs[5].uid, 60);
	done(&s);
}

static void test_schema(void)
{
	struct store *s = fresh();
	const char *err;
	append(s, "INBOX", "a\r\n", 0, NULL);
	append(s, "INBOX", "b\r\n", 0, NULL);
	append(s, "Sent", "c\r\n", 0, NULL);
	/* older: schema 1 had no UID index; opening builds it */
	CU_ASSERT_EQUAL(store_debug_downgrade_to_1(s), 0);
	s = reopen(&s);
	struct store_seqmap map;
	CU_ASSERT_EQUAL(store_seqmap_load(s, mbox(s, "INBOX").id, &map, &err),
			0);
	CU_ASSERT_EQUAL(map.count, 2);
	store_seqmap_free(&map);
	check_ok(s);
	/* newer: refused, clearly, and left untouched */
	CU_ASSERT_EQUAL(store_debug_set_schema(s, STORE_SCHEMA_VERSION + 1), 0);
	store_close(&s);
	CU_ASSERT_EQUAL(store_open(tdir, 0, &s, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "newer"));
	CU_ASSERT_EQUAL(store_open(tdir, 0, &s, &err), -1);
	CU_ASSERT_PTR_NULL(s);
	rm_rf(tdir);
	tdir[0] = '\0';
}

static void test_map_growth(void)
{
	/* 32 pages: the first few appends fill it */
	struct store *s = fresh_opts(32 * 4096);
	const char *err;
	size_t start = store_map_size(s);
	uint32_t id = mbox(s, "INBOX").id;
	static char cache[3000];
	memset(cache, 'c', sizeof(cache));
	struct store_append_msg m[40];
	uint32_t uids[40];
	for (int i = 0; i < 40; i++)
		m[i] = (struct store_append_msg){ .data = "g\r\n", .len = 3,
			.fd = -1, .cache = cache, .cache_len = sizeof(cache) };
	for (int round = 0; round < 10; round++)
		CU_ASSERT_EQUAL_FATAL(store_append_batch(s, id, m, 40,
				      STORE_BATCH_SYNCFS, uids, &err), 0);
	CU_ASSERT(store_map_size(s) >= 4 * start);
	CU_ASSERT_EQUAL(mbox(s, "INBOX").messages, 400);
	check_ok(s);
	s = reopen(&s);
	CU_ASSERT_EQUAL(mbox(s, "INBOX").messages, 400);
	done(&s);
}

static void test_orphans(void)
{
	struct store *s = fresh();
	append(s, "INBOX", "keep\r\n", 0, NULL);
	/* never share an open store across fork */
	store_close(&s);
	/* a writer that dies leaves temp and blob files no commit names */
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct store *c;
		const char *err;
		if (store_open(tdir, 0, &c, &err) < 0)
			_exit(1);
		char path[256];
		snprintf(path, sizeof(path), "%s/blobs/ab/00000000000fffab",
			 tdir);
		int fd = open(path, O_CREAT | O_WRONLY, 0600);
		snprintf(path, sizeof(path), "%s/tmp/123.4.5", tdir);
		int fd2 = open(path, O_CREAT | O_WRONLY, 0600);
		_exit(fd >= 0 && fd2 >= 0 ? 0 : 1);	/* no store_close */
	}
	int st;
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_EQUAL(count_files(tdir), 2);
	const char *err;
	CU_ASSERT_EQUAL(store_open(tdir, 0, &s, &err), 0);
	CU_ASSERT_EQUAL(count_files(tdir), 1);
	char path[256];
	snprintf(path, sizeof(path), "%s/tmp/123.4.5", tdir);
	CU_ASSERT(access(path, F_OK) < 0);
	check_ok(s);
	/* store_gc finds nothing more; check reports a planted orphan */
	size_t removed;
	CU_ASSERT_EQUAL(store_gc(s, &removed, &err), 0);
	CU_ASSERT_EQUAL(removed, 0);
	snprintf(path, sizeof(path), "%s/blobs/01/0000000000000101", tdir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	struct store_check_report rep = { 0 };
	CU_ASSERT_EQUAL(store_check(s, &rep, &err), 1);
	CU_ASSERT_EQUAL(rep.problems, 1);
	CU_ASSERT_EQUAL(store_gc(s, &removed, &err), 0);
	CU_ASSERT_EQUAL(removed, 1);
	check_ok(s);
	done(&s);
}

static void test_subscriptions(void)
{
	struct store *s = fresh();
	const char *err;
	CU_ASSERT_EQUAL(store_subscribe(s, "not/existing", &err), 0);
	CU_ASSERT_EQUAL(store_unsubscribe(s, "Junk", &err), 0);
	CU_ASSERT_EQUAL(store_unsubscribe(s, "Junk", &err), -1);
	CU_ASSERT_EQUAL(store_subscribe(s, "inbox", &err), 0);
	struct buf b;
	buf_init(&b);
	CU_ASSERT_EQUAL(store_subscription_list(s, name_cb, &b, &err), 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b),
			       "Archive Drafts INBOX Sent Trash not/existing ");
	buf_free(&b);
	done(&s);
}

static void test_records(void)
{
	struct store_rec_message m = { .blob_id = 7, .internaldate = -5,
		.internaldate_tz = -420, .savedate = 9, .size = 100,
		.modseq = 3, .flags = 0x11, .nkeywords = 2,
		.keywords = { 1, 4 } }, m2;
	struct buf b;
	buf_init(&b);
	store_rec_message_encode(&m, &b);
	CU_ASSERT_EQUAL(b.len, 46 + 4);
	CU_ASSERT_EQUAL(b.data[0], STORE_REC_MESSAGE_VERSION);
	CU_ASSERT_EQUAL(b.data[4], 7);	/* little-endian blob id */
	CU_ASSERT_EQUAL(store_rec_message_decode(b.data, b.len, &m2), 0);
	CU_ASSERT_EQUAL(m2.internaldate, -5);
	CU_ASSERT_EQUAL(m2.internaldate_tz, -420);
	CU_ASSERT_EQUAL(m2.keywords[1], 4);
	CU_ASSERT_EQUAL(store_rec_message_decode(b.data, b.len - 1, &m2), -1);
	b.data[0] = 3;
	CU_ASSERT_EQUAL(store_rec_message_decode(b.data, b.len, &m2), -1);
	b.data[0] = 2;
	b.data[44] = 0xa0;	/* zone 1440 minutes: out of range */
	b.data[45] = 0x05;
	CU_ASSERT_EQUAL(store_rec_message_decode(b.data, b.len, &m2), -1);
	b.data[44] = 0x5c;	/* -420 again */
	b.data[45] = 0xfe;
	CU_ASSERT_EQUAL(store_rec_message_decode(b.data, b.len, &m2), 0);
	b.data[48] = 0;	/* keywords not ascending */
	b.data[46] = 4;
	CU_ASSERT_EQUAL(store_rec_message_decode(b.data, b.len, &m2), -1);
	/* a version 1 record (no zone) still decodes, with zone +0000 */
	static const uint8_t v1[44] = { 1, 0x11, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0,
		0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 9, 0, 0, 0, 0,
		0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 3 };
	CU_ASSERT_EQUAL(store_rec_message_decode(v1, sizeof(v1), &m2), 0);
	CU_ASSERT_EQUAL(m2.internaldate, -5);
	CU_ASSERT_EQUAL(m2.internaldate_tz, 0);
	CU_ASSERT_EQUAL(m2.blob_id, 7);
	CU_ASSERT_EQUAL(m2.modseq, 3);
	buf_free(&b);
	uint8_t k[8];
	store_key_message(k, 0x01020304, 0x0a0b0c0d);
	CU_ASSERT_EQUAL(k[0], 1);
	CU_ASSERT_EQUAL(k[7], 0x0d);
}

static void register_store(void)
{
	CU_pSuite s = CU_add_suite("store", NULL, NULL);
	CU_add_test(s, "records", test_records);
	CU_add_test(s, "create defaults, lock", test_create_defaults);
	CU_add_test(s, "mailbox hierarchy", test_mailbox_hierarchy);
	CU_add_test(s, "mailbox rename", test_mailbox_rename);
	CU_add_test(s, "INBOX rename", test_inbox_rename);
	CU_add_test(s, "UIDVALIDITY unique", test_uidvalidity_unique);
	CU_add_test(s, "append and read", test_append_read);
	CU_add_test(s, "batch append", test_batch);
	CU_add_test(s, "flags and keywords", test_flags);
	CU_add_test(s, "copy, move, expunge", test_copy_move_expunge);
	CU_add_test(s, "seqmap and iteration", test_seqmap);
	CU_add_test(s, "schema upgrade and refusal", test_schema);
	CU_add_test(s, "map growth", test_map_growth);
	CU_add_test(s, "orphan collection", test_orphans);
	CU_add_test(s, "subscriptions", test_subscriptions);
}

UNIT_SUITE(register_store)
