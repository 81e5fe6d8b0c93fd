/* Shared mailbox views (daemon/imap/mailbox-view.c): versions published
 * by a head, reference counts, sessions that lag several versions behind,
 * private views with appends only, large expunges; and the store's
 * builders of new maps (store_seqmap_extend, store_seqmap_subtract). */
#include "unit.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/buf.h"
#include "../../daemon/imap/mailbox-view.h"
#include "../../store/store.h"

#define MBOX 7

static struct store_seqmap map_of(const uint32_t *uids, size_t n)
{
	struct store_seqmap m = { .mailbox_id = MBOX, .uidvalidity = 1 };
	m.uids = xmalloc((n ? n : 1) * sizeof(uint32_t));
	if (n > 0)
		memcpy(m.uids, uids, n * sizeof(uint32_t));
	m.count = m.cap = n;
	m.uidnext = n ? uids[n - 1] + 1 : 1;
	return m;
}

static struct mailbox_view *view_of(const uint32_t *uids, size_t n)
{
	struct store_seqmap m = map_of(uids, n);
	return mailbox_view_new(&m);
}

/* The view a head would publish after expunging uids (ascending). */
static struct mailbox_view *view_minus(const struct mailbox_view *v,
				       const uint32_t *uids, size_t n)
{
	struct store_seqmap m;
	store_seqmap_subtract(mailbox_view_map(v), uids, n, &m);
	return mailbox_view_new(&m);
}

/* ... and after appending uids (above v's last). */
static struct mailbox_view *view_plus(const struct mailbox_view *v,
				      const uint32_t *uids, size_t n)
{
	const struct store_seqmap *b = mailbox_view_map(v);
	struct store_seqmap m = *b;
	m.count = m.cap = b->count + n;
	m.uids = xmalloc((m.count ? m.count : 1) * sizeof(uint32_t));
	if (b->count > 0)
		memcpy(m.uids, b->uids, b->count * sizeof(uint32_t));
	if (n > 0)
		memcpy(m.uids + b->count, uids, n * sizeof(uint32_t));
	m.uidnext = n ? uids[n - 1] + 1 : b->uidnext;
	return mailbox_view_new(&m);
}

struct seqs {
	uint32_t seq[512];
	size_t n;
};

static void collect_seq(void *ctx, uint32_t seq)
{
	struct seqs *s = ctx;
	if (s->n < 512)
		s->seq[s->n] = seq;
	s->n++;
}

static void test_lookups(void)
{
	size_t live = mailbox_view_live_count();
	uint32_t u[] = { 3, 5, 9, 10 };
	struct mailbox_view *v = view_of(u, 4);
	CU_ASSERT_EQUAL(mailbox_view_live_count(), live + 1);
	CU_ASSERT_EQUAL(mailbox_view_count(v), 4);
	CU_ASSERT_EQUAL(mailbox_view_uid(v, 1), 3);
	CU_ASSERT_EQUAL(mailbox_view_uid(v, 4), 10);
	CU_ASSERT_EQUAL(mailbox_view_uid(v, 5), 0);
	CU_ASSERT_EQUAL(mailbox_view_uid(v, 0), 0);
	CU_ASSERT_EQUAL(mailbox_view_seq(v, 9), 3);
	CU_ASSERT_EQUAL(mailbox_view_seq(v, 4), 0);
	CU_ASSERT_EQUAL(mailbox_view_last_uid(v), 10);
	CU_ASSERT_EQUAL(mailbox_view_map(v)->count, 4);
	struct mailbox_view *e = view_of(NULL, 0);
	CU_ASSERT_EQUAL(mailbox_view_last_uid(e), 0);
	CU_ASSERT_EQUAL(mailbox_view_uid(e, 1), 0);
	mailbox_view_unref(&v);
	CU_ASSERT_PTR_NULL(v);
	mailbox_view_unref(&e);
	mailbox_view_unref(&e);		/* NULL: nothing */
	CU_ASSERT_EQUAL(mailbox_view_live_count(), live);
}

static void test_only_appended(void)
{
	uint32_t a[] = { 1, 2, 3 };
	struct mailbox_view *old = view_of(a, 3);
	uint32_t b1[] = { 1, 2, 3, 4 };		/* appended */
	uint32_t b2[] = { 1, 3, 4 };		/* 2 gone, 4 new */
	uint32_t b3[] = { 1, 2, 4, 5 };		/* 3 (the last) gone */
	uint32_t b4[] = { 1, 2 };		/* 3 gone */
	uint32_t b5[] = { 1, 2, 3 };		/* the same */
	struct mailbox_view *e = view_of(NULL, 0);
	struct {
		const uint32_t *u;
		size_t n;
		bool only;
	} cases[] = { { b1, 4, true }, { b2, 3, false }, { b3, 4, false },
		      { b4, 2, false }, { b5, 3, true }, { NULL, 0, false } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mailbox_view *now = view_of(cases[i].u, cases[i].n);
		CU_ASSERT_EQUAL(mailbox_view_only_appended(old, now),
				cases[i].only);
		mailbox_view_unref(&now);
	}
	/* from empty, anything is appends */
	CU_ASSERT_TRUE(mailbox_view_only_appended(e, old));
	mailbox_view_unref(&e);
	mailbox_view_unref(&old);
}

/* EXPUNGE numbers: highest first, each the number in the old view,
 * which stays right as the client removes them in that order. */
static void test_expunged_order(void)
{
	uint32_t a[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint32_t b[] = { 1, 3, 4, 7, 9, 10 };	/* 2 5 6 8 gone */
	struct mailbox_view *old = view_of(a, 8), *now = view_of(b, 6);
	struct seqs s = { .n = 0 };
	CU_ASSERT_EQUAL(mailbox_view_expunged(old, now, collect_seq, &s), 4);
	CU_ASSERT_EQUAL(s.n, 4);
	CU_ASSERT_EQUAL(s.seq[0], 8);
	CU_ASSERT_EQUAL(s.seq[1], 6);
	CU_ASSERT_EQUAL(s.seq[2], 5);
	CU_ASSERT_EQUAL(s.seq[3], 2);
	/* replaying them on the old numbering leaves now's survivors */
	uint32_t cur[8];
	size_t n = 8;
	memcpy(cur, a, sizeof(a));
	for (size_t i = 0; i < s.n; i++) {
		memmove(cur + s.seq[i] - 1, cur + s.seq[i],
			(n - s.seq[i]) * sizeof(uint32_t));
		n--;
	}
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(cur[0], 1);
	CU_ASSERT_EQUAL(cur[1], 3);
	CU_ASSERT_EQUAL(cur[2], 4);
	CU_ASSERT_EQUAL(cur[3], 7);
	/* all gone; and nothing gone */
	struct mailbox_view *e = view_of(NULL, 0);
	CU_ASSERT_EQUAL(mailbox_view_expunged(old, e, NULL, NULL), 8);
	CU_ASSERT_EQUAL(mailbox_view_expunged(old, old, NULL, NULL), 0);
	CU_ASSERT_EQUAL(mailbox_view_expunged(e, old, NULL, NULL), 0);
	mailbox_view_unref(&e);
	mailbox_view_unref(&old);
	mailbox_view_unref(&now);
}

/* The galloping search against the obvious merge, on random views:
 * expunge rates from none to all, with and without appends. */
static void test_expunged_random(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t old[400], now[500], want[400];
	struct seqs got;
	for (int round = 0; round < 2000; round++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		size_t n = x % 400, m = 0, nwant = 0;
		unsigned rate = (unsigned)((x >> 16) % 5);	/* 0, 1/4 .. all */
		uint32_t uid = 0;
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			uid += 1 + (uint32_t)(x % 3);
			old[i] = uid;
			bool gone = rate == 4 || (x >> 8) % 4 < rate;
			if (round % 7 == 0)
				gone = (x >> 8) % 100 == 0;	/* rare */
			if (!gone)
				now[m++] = uid;
		}
		for (size_t i = n; i-- > 0;) {
			bool kept = false;
			for (size_t j = 0; j < m; j++)
				kept |= now[j] == old[i];
			if (!kept)
				want[nwant++] = (uint32_t)i + 1;
		}
		size_t add = (x >> 24) % 4 == 0 ? (x >> 32) % 100 : 0;
		for (size_t k = 0; k < add; k++)
			now[m++] = uid + 1 + (uint32_t)k;
		struct mailbox_view *a = view_of(old, n), *b = view_of(now, m);
		got.n = 0;
		size_t told = mailbox_view_expunged(a, b, collect_seq, &got);
		CU_ASSERT_EQUAL(told, nwant);
		bool same = got.n == nwant;
		for (size_t i = 0; same && i < nwant; i++)
			same = got.seq[i] == want[i];
		CU_ASSERT(same);
		CU_ASSERT_EQUAL(mailbox_view_only_appended(a, b), nwant == 0);
		mailbox_view_unref(&a);
		mailbox_view_unref(&b);
	}
}

/* Two sessions of one head: versions, references, a session that lags
 * three versions and catches up in one step, and every view freed once
 * nobody holds it. */
static void test_versions_and_lagging_session(void)
{
	size_t live = mailbox_view_live_count();
	struct mailbox_heads hs = { NULL };
	struct mailbox_head *h = mailbox_heads_open(&hs, MBOX);
	CU_ASSERT_PTR_EQUAL(mailbox_heads_open(&hs, MBOX), h);	/* 2nd user */
	CU_ASSERT_EQUAL(h->users, 2);
	CU_ASSERT_PTR_NULL(mailbox_heads_find(&hs, MBOX + 1));
	uint32_t u[] = { 1, 2, 3, 4, 5, 6 };
	mailbox_head_publish(h, view_of(u, 6));
	struct mailbox_view *v1 = h->newest;
	CU_ASSERT_EQUAL(v1->version, 1);
	struct mailbox_view *a = mailbox_view_ref(h->newest);	/* session A */
	struct mailbox_view *b = mailbox_view_ref(h->newest);	/* session B */
	CU_ASSERT_EQUAL(v1->refs, 3);

	/* version 2: 2 and 5 expunged; B is told, A is busy */
	uint32_t x1[] = { 2, 5 };
	mailbox_head_publish(h, view_minus(h->newest, x1, 2));
	CU_ASSERT_EQUAL(h->newest->version, 2);
	CU_ASSERT_EQUAL(v1->refs, 2);
	CU_ASSERT_FALSE(mailbox_view_only_appended(b, h->newest));
	mailbox_view_unref(&b);
	b = mailbox_view_ref(h->newest);
	CU_ASSERT_EQUAL(v1->refs, 1);		/* A alone keeps it */
	/* version 3: 7 8 appended; version 4: 1 and 7 expunged */
	uint32_t add[] = { 7, 8 };
	mailbox_head_publish(h, view_plus(h->newest, add, 2));
	CU_ASSERT_TRUE(mailbox_view_only_appended(b, h->newest));
	uint32_t x2[] = { 1, 7 };
	mailbox_head_publish(h, view_minus(h->newest, x2, 2));
	CU_ASSERT_EQUAL(h->newest->version, 4);
	/* versions 1 (A's), 2 (B's) and 4 (the head's) live; 3 is gone */
	CU_ASSERT_EQUAL(mailbox_view_live_count(), live + 3);
	CU_ASSERT_EQUAL(mailbox_view_count(h->newest), 4);	/* 3 4 6 8 */
	/* A, three versions behind, is told in one step: 5, 2, 1 of its
	 * numbering, then EXISTS 4 */
	struct seqs s = { .n = 0 };
	CU_ASSERT_EQUAL(mailbox_view_expunged(a, h->newest, collect_seq, &s), 3);
	CU_ASSERT_EQUAL(s.seq[0], 5);
	CU_ASSERT_EQUAL(s.seq[1], 2);
	CU_ASSERT_EQUAL(s.seq[2], 1);
	/* while A is not told, its numbers are the old ones */
	CU_ASSERT_EQUAL(mailbox_view_uid(a, 5), 5);
	CU_ASSERT_EQUAL(mailbox_view_seq(a, 6), 6);
	CU_ASSERT_EQUAL(mailbox_view_seq(h->newest, 6), 3);
	mailbox_view_unref(&a);
	a = mailbox_view_ref(h->newest);
	CU_ASSERT_EQUAL(mailbox_view_live_count(), live + 2);	/* v1 freed */
	mailbox_view_unref(&b);
	CU_ASSERT_EQUAL(mailbox_view_live_count(), live + 1);	/* v2 freed */
	CU_ASSERT_EQUAL(h->newest->refs, 2);
	/* sessions leave: the head and its newest view go with the last */
	mailbox_view_unref(&a);
	mailbox_heads_close(&hs, h);
	CU_ASSERT_PTR_EQUAL(mailbox_heads_find(&hs, MBOX), h);
	CU_ASSERT_EQUAL(mailbox_view_live_count(), live + 1);
	mailbox_heads_close(&hs, h);
	CU_ASSERT_PTR_NULL(mailbox_heads_find(&hs, MBOX));
	CU_ASSERT_PTR_NULL(hs.list);
	CU_ASSERT_EQUAL(mailbox_view_live_count(), live);
}

/* A session told EXISTS while an expunge must wait gets a view of its
 * own: its old numbers, then the new messages. */
static void test_private_view_with_appends(void)
{
	size_t live = mailbox_view_live_count();
	uint32_t a[] = { 1, 2, 3, 4, 5 };
	uint32_t n1[] = { 1, 3, 4, 5, 6, 7 };	/* 2 gone, 6 7 new */
	struct mailbox_view *old = view_of(a, 5), *now = view_of(n1, 6);
	struct mailbox_view *p = mailbox_view_with_appends(old, now);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->version, 0);
	CU_ASSERT_EQUAL(p->refs, 1);
	CU_ASSERT_EQUAL(mailbox_view_count(p), 7);
	CU_ASSERT_EQUAL(mailbox_view_uid(p, 2), 2);	/* still told */
	CU_ASSERT_EQUAL(mailbox_view_uid(p, 7), 7);
	CU_ASSERT_EQUAL(mailbox_view_map(p)->uidnext, 8);
	/* nothing new: no view */
	CU_ASSERT_PTR_NULL(mailbox_view_with_appends(p, now));
	/* later 4 and 6 go too and 8 comes: p is not a prefix of it; the
	 * expunges are 6, 4, 2 of p's numbering */
	uint32_t n2[] = { 1, 3, 5, 7, 8 };
	struct mailbox_view *later = view_of(n2, 5);
	CU_ASSERT_FALSE(mailbox_view_only_appended(p, later));
	struct seqs s = { .n = 0 };
	CU_ASSERT_EQUAL(mailbox_view_expunged(p, later, collect_seq, &s), 3);
	CU_ASSERT_EQUAL(s.seq[0], 6);
	CU_ASSERT_EQUAL(s.seq[1], 4);
	CU_ASSERT_EQUAL(s.seq[2], 2);
	mailbox_view_unref(&p);
	mailbox_view_unref(&later);
	mailbox_view_unref(&old);
	mailbox_view_unref(&now);
	CU_ASSERT_EQUAL(mailbox_view_live_count(), live);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An EXPUNGE of most of a 200k-message mailbox: one pass to build the
 * new view, one merge to number the EXPUNGE responses. One array move
 * per UID (the old way) is some 10^10 word moves here, minutes, against
 * milliseconds: the bound is loose enough for a loaded machine. */
static void test_expunge_many(void)
{
	const size_t n = 200000;
	uint32_t *all = xmalloc(n * sizeof(uint32_t));
	uint32_t *gone = xmalloc(n * sizeof(uint32_t));
	size_t ngone = 0;
	for (size_t i = 0; i < n; i++) {
		all[i] = (uint32_t)(2 * i + 1);		/* holes between */
		if (i % 100 != 0)
			gone[ngone++] = all[i];
	}
	struct mailbox_view *old = view_of(all, n);
	double t0 = now_s();
	struct mailbox_view *now = view_minus(old, gone, ngone);
	size_t told = mailbox_view_expunged(old, now, NULL, NULL);
	double t = now_s() - t0;
	CU_ASSERT_EQUAL(mailbox_view_count(now), n / 100);
	CU_ASSERT_EQUAL(told, ngone);
	CU_ASSERT_EQUAL(mailbox_view_uid(now, 2), all[100]);
	CU_ASSERT_EQUAL(mailbox_view_seq(now, all[n - 100]), n / 100);
	/* the new map is no bigger than what it holds */
	CU_ASSERT_EQUAL(mailbox_view_map(now)->cap, n / 100);
	CU_ASSERT(t < 2.0);
	/* absent UIDs and UIDs above the last are ignored */
	uint32_t odd[] = { 2, 4, 1000000000 };
	struct mailbox_view *same = view_minus(now, odd, 3);
	CU_ASSERT_EQUAL(mailbox_view_count(same), n / 100);
	mailbox_view_unref(&same);
	mailbox_view_unref(&old);
	mailbox_view_unref(&now);
	free(all);
	free(gone);
}

/* ---- the store's builders ---------------------------------------------- */

static int rm_fn(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void append_n(struct store *s, uint32_t id, size_t n)
{
	const char *err;
	struct store_append_msg m[16];
	uint32_t uids[16];
	CU_ASSERT_FATAL(n <= 16);
	for (size_t i = 0; i < n; i++)
		m[i] = (struct store_append_msg){ .data = "x\r\n", .len = 3,
						  .fd = -1 };
	CU_ASSERT_EQUAL(store_append_batch(s, id, m, n, 0, uids, &err), 0);
}

static void expunge_uid(struct store *s, uint32_t id, uint32_t uid)
{
	const char *err;
	struct store_uidrange r = { uid, uid };
	struct store_uidset set = { &r, 1 };
	CU_ASSERT_EQUAL(store_expunge(s, id, &set, STORE_EXPUNGE_ANY, NULL,
				      NULL, &err), 0);
}

static bool same_map(const struct store_seqmap *a, const struct store_seqmap *b)
{
	return a->count == b->count && a->uidnext == b->uidnext &&
	       a->uidvalidity == b->uidvalidity &&
	       (a->count == 0 ||
		memcmp(a->uids, b->uids, a->count * sizeof(uint32_t)) == 0);
}

static void test_store_extend(void)
{
	char dir[] = "/tmp/postern-view-XXXXXX";
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	struct store_options o = { STORE_OPEN_CREATE, 0 };
	struct store *s = NULL;
	const char *err;
	CU_ASSERT_FATAL(store_open_opts(dir, &o, &s, &err) == 0);
	struct store_mailbox mb;
	CU_ASSERT_FATAL(store_mailbox_get(s, "INBOX", &mb, &err) == 1);
	struct store_seqmap m0, m1, m2, full;
	CU_ASSERT_EQUAL(store_seqmap_load(s, mb.id, &m0, &err), 0);
	CU_ASSERT_EQUAL(m0.count, 0);
	CU_ASSERT_EQUAL(m0.uidnext, 1);
	/* appends to an empty map; then more past a page of the index */
	append_n(s, mb.id, 10);
	CU_ASSERT_EQUAL(store_seqmap_extend(s, &m0, &m1, &err), 0);
	CU_ASSERT_EQUAL(m1.count, 10);
	CU_ASSERT_EQUAL(m1.uidnext, 11);
	CU_ASSERT_EQUAL(m1.uidvalidity, m0.uidvalidity);
	expunge_uid(s, mb.id, 3);
	struct store_seqmap m1x;
	uint32_t three = 3;
	store_seqmap_subtract(&m1, &three, 1, &m1x);
	for (int i = 0; i < 100; i++)
		append_n(s, mb.id, 16);
	CU_ASSERT_EQUAL(store_seqmap_extend(s, &m1x, &m2, &err), 0);
	CU_ASSERT_EQUAL(store_seqmap_load(s, mb.id, &full, &err), 0);
	CU_ASSERT_EQUAL(m2.count, 9 + 1600);
	CU_ASSERT_TRUE(same_map(&m2, &full));
	CU_ASSERT_EQUAL(store_seqmap_seq(&m2, 11), 10);
	store_seqmap_free(&full);
	/* a base that missed an expunge: the count tells, the map is read
	 * whole again */
	struct store_seqmap m3;
	expunge_uid(s, mb.id, 5);
	append_n(s, mb.id, 1);
	CU_ASSERT_EQUAL(store_seqmap_extend(s, &m2, &m3, &err), 0);
	CU_ASSERT_EQUAL(store_seqmap_load(s, mb.id, &full, &err), 0);
	CU_ASSERT_TRUE(same_map(&m3, &full));
	CU_ASSERT_EQUAL(store_seqmap_seq(&m3, 5), 0);
	store_seqmap_free(&full);
	store_seqmap_free(&m0);
	store_seqmap_free(&m1);
	store_seqmap_free(&m1x);
	store_seqmap_free(&m2);
	store_seqmap_free(&m3);
	store_close(&s);
	nftw(dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

static void register_mailbox_view(void)
{
	CU_pSuite s = CU_add_suite("mailbox view", NULL, NULL);
	CU_add_test(s, "lookups", test_lookups);
	CU_add_test(s, "only appended", test_only_appended);
	CU_add_test(s, "expunge numbering", test_expunged_order);
	CU_add_test(s, "expunge numbering, random views",
		    test_expunged_random);
	CU_add_test(s, "versions, references, a lagging session",
		    test_versions_and_lagging_session);
	CU_add_test(s, "private view with appends",
		    test_private_view_with_appends);
	CU_add_test(s, "expunge of many UIDs", test_expunge_many);
	CU_add_test(s, "store: extend and subtract", test_store_extend);
}

UNIT_SUITE(register_mailbox_view)
