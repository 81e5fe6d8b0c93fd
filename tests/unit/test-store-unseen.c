/* The unseen index (store/store-unseen.c): after random appends, flag
 * changes, expunges, copies, moves, INBOX renames and deletes, the first
 * unseen UID it gives equals a scan of the message records, store_check
 * finds the index consistent, and the schema 3 -> 4 upgrade rebuilds the
 * same index. */
#include "unit.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../../common/buf.h"
#include "../../store/store-private.h"
#include "../../store/store.h"

static char udir[64];

static int rm_fn(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* 0 consistent, 1 problems (printed unless they are expected) */
static int check_store_q(struct store *s, bool quiet)
{
	struct buf d;
	buf_init(&d);
	struct store_check_report rep = { .details = &d };
	const char *err;
	int r = store_check(s, &rep, &err);
	if (r != 0 && !(quiet && r == 1))
		fprintf(stderr, "\nstore_check %d: %s\n", r,
			r < 0 ? err : buf_cstr(&d));
	buf_free(&d);
	return r;
}

static int check_store(struct store *s)
{
	return check_store_q(s, false);
}

static uint32_t id_of(struct store *s, const char *name)
{
	struct store_mailbox mb;
	const char *err;
	CU_ASSERT_EQUAL_FATAL(store_mailbox_get(s, name, &mb, &err), 1);
	return mb.id;
}

struct scan {
	uint32_t first;
	uint32_t unseen;
};

static int scan_cb(void *ctx, const struct store_message *m)
{
	struct scan *sc = ctx;
	if (!(m->flags & STORE_FLAG_SEEN)) {
		if (sc->first == 0)
			sc->first = m->uid;
		sc->unseen++;
	}
	return 0;
}

/* The index against a scan of the records; false on a mismatch. */
static bool index_matches_scan(struct store *s, const char *name)
{
	struct store_mailbox mb;
	const char *err;
	if (store_mailbox_get(s, name, &mb, &err) != 1 ||
	    (mb.attributes & STORE_ATTR_NOSELECT))
		return true;	/* gone or \Noselect: nothing to compare */
	struct scan sc = { 0, 0 };
	uint32_t first = 12345;
	CU_ASSERT_EQUAL_FATAL(store_message_iter(s, mb.id, NULL, scan_cb, &sc,
						 &err), 0);
	CU_ASSERT_EQUAL_FATAL(store_mailbox_first_unseen(s, mb.id, &first,
							 &err), 0);
	if (first != sc.first || mb.unseen != sc.unseen) {
		fprintf(stderr, "\n%s: index first unseen %u, scan %u; "
			"counter %u, scan %u\n", name, first, sc.first,
			mb.unseen, sc.unseen);
		return false;
	}
	return true;
}

static uint32_t xs(uint32_t *st)
{
	uint32_t x = *st;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *st = x;
}

static void append_random(struct store *s, const char *name, uint32_t *st,
			  unsigned n)
{
	struct store_append_msg m[8];
	uint32_t uids[8];
	const char *err;
	if (n > 8)
		n = 8;
	for (unsigned i = 0; i < n; i++)
		m[i] = (struct store_append_msg){ .data = "Subject: u\r\n\r\nu\r\n",
			.len = 17, .fd = -1,
			.flags = xs(st) % 3 == 0 ? STORE_FLAG_SEEN : 0 };
	CU_ASSERT_EQUAL(store_append_batch(s, id_of(s, name), m, n,
					   STORE_BATCH_SYNCFS, uids, &err), 0);
}

static const char *const names[] = { "INBOX", "Trash", "A", "A/B" };
#define NNAMES (sizeof(names) / sizeof(names[0]))

static void random_op(struct store *s, uint32_t *st, unsigned *renames)
{
	const char *err;
	const char *a = names[xs(st) % NNAMES], *b = names[xs(st) % NNAMES];
	struct store_mailbox mb;
	/* (re)creating a deleted or \Noselect name makes it selectable */
	if (store_mailbox_get(s, a, &mb, &err) != 1 ||
	    (mb.attributes & STORE_ATTR_NOSELECT)) {
		CU_ASSERT_EQUAL(store_mailbox_create(s, a, 0, &err), 0);
		return;
	}
	if (store_mailbox_get(s, b, &mb, &err) != 1 ||
	    (mb.attributes & STORE_ATTR_NOSELECT))
		b = "INBOX";
	uint32_t first = xs(st) % 30 + 1;
	struct store_uidrange r = { first, first + xs(st) % 8 };
	struct store_uidset set = { &r, 1 };
	struct store_uidmap map;
	uint32_t *uids;
	size_t n;
	unsigned op = xs(st) % 20;
	if (op < 5) {
		append_random(s, a, st, xs(st) % 8 + 1);
	} else if (op < 11) {
		static const enum store_flags_mode modes[] = {
			STORE_FLAGS_ADD, STORE_FLAGS_REMOVE,
			STORE_FLAGS_REPLACE };
		struct store_flags_req req = {
			.mode = modes[xs(st) % 3],
			.flags = xs(st) % 2 ? STORE_FLAG_SEEN :
					      STORE_FLAG_FLAGGED,
		};
		struct store_flags_result res;
		CU_ASSERT_EQUAL(store_flags_set(s, id_of(s, a), &set, &req,
						&res, &err), 0);
		store_flags_result_free(&res);
	} else if (op < 14) {
		CU_ASSERT_EQUAL(store_expunge(s, id_of(s, a), &set,
					      STORE_EXPUNGE_ANY, &uids, &n,
					      &err), 0);
		free(uids);
	} else if (op < 16) {
		CU_ASSERT_EQUAL(store_move(s, id_of(s, a), &set, id_of(s, b),
					   &map, &err), 0);
		store_uidmap_free(&map);
	} else if (op < 18) {
		CU_ASSERT_EQUAL(store_copy(s, id_of(s, a), &set, id_of(s, b),
					   &map, &err), 0);
		store_uidmap_free(&map);
	} else if (op == 18) {
		/* INBOX's messages move to a new mailbox id */
		char to[32];
		snprintf(to, sizeof(to), "Old%u", (*renames)++);
		CU_ASSERT_EQUAL(store_mailbox_rename(s, "INBOX", to, &err), 0);
		CU_ASSERT_EQUAL(store_mailbox_delete(s, to, &err), 0);
	} else if (strcmp(a, "INBOX") != 0) {
		/* A with child A/B becomes \Noselect and loses its messages */
		CU_ASSERT_EQUAL(store_mailbox_delete(s, a, &err), 0);
	}
}

static void test_unseen_random(void)
{
	strcpy(udir, "/tmp/postern-unseen-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(udir) != NULL);
	struct store *s = NULL;
	const char *err;
	CU_ASSERT_FATAL(store_open(udir, STORE_OPEN_CREATE, &s, &err) == 0);
	CU_ASSERT_EQUAL_FATAL(store_mailbox_create(s, "A/B", 0, &err), 0);
	uint32_t seed = (uint32_t)time(NULL), st = seed | 1;
	unsigned renames = 0;
	bool ok = true;
	for (int i = 0; i < 400 && ok; i++) {
		random_op(s, &st, &renames);
		for (size_t k = 0; k < NNAMES && ok; k++)
			ok = index_matches_scan(s, names[k]);
		if (i % 50 == 49 && check_store(s) != 0)
			ok = false;
	}
	if (!ok)
		fprintf(stderr, "\n[unseen index seed %u]\n", seed);
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(check_store(s), 0);

	/* schema 3 -> 4: the upgrade builds the same index again */
	uint32_t before[NNAMES];
	for (size_t k = 0; k < NNAMES; k++) {
		struct store_mailbox mb;
		before[k] = 0;
		if (store_mailbox_get(s, names[k], &mb, &err) == 1)
			CU_ASSERT_EQUAL(store_mailbox_first_unseen(s, mb.id,
				&before[k], &err), 0);
	}
	CU_ASSERT_EQUAL(store_debug_downgrade_to_3(s), 0);
	CU_ASSERT_EQUAL(check_store_q(s, true), 1);	/* the checker sees it empty */
	store_close(&s);
	CU_ASSERT_FATAL(store_open(udir, 0, &s, &err) == 0);
	CU_ASSERT_EQUAL(check_store(s), 0);
	for (size_t k = 0; k < NNAMES; k++) {
		struct store_mailbox mb;
		uint32_t after = 0;
		if (store_mailbox_get(s, names[k], &mb, &err) == 1)
			CU_ASSERT_EQUAL(store_mailbox_first_unseen(s, mb.id,
				&after, &err), 0);
		CU_ASSERT_EQUAL(after, before[k]);
		CU_ASSERT(index_matches_scan(s, names[k]));
	}
	store_close(&s);
	nftw(udir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

/* A stray entry, as a missed hook would leave: store_check must say so. */
static int stray_txn(struct store *s, MDB_txn *txn, void *ctx)
{
	return store_unseen_set(s, txn, *(uint32_t *)ctx, 999, true);
}

static int orphan_txn(struct store *s, MDB_txn *txn, void *ctx)
{
	(void)ctx;
	return store_unseen_set(s, txn, 4000, 1, true);	/* no such mailbox */
}

static void test_unseen_check(void)
{
	strcpy(udir, "/tmp/postern-unseen-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(udir) != NULL);
	struct store *s = NULL;
	const char *err;
	CU_ASSERT_FATAL(store_open(udir, STORE_OPEN_CREATE, &s, &err) == 0);
	uint32_t id = id_of(s, "INBOX"), uid = 0, first;
	struct store_append_msg m = { .data = "x\r\n", .len = 3, .fd = -1,
				      .flags = STORE_FLAG_SEEN };
	CU_ASSERT_EQUAL(store_append(s, id, &m, &uid, &err), 0);
	CU_ASSERT_EQUAL(store_mailbox_first_unseen(s, id, &first, &err), 0);
	CU_ASSERT_EQUAL(first, 0);
	m.flags = 0;
	CU_ASSERT_EQUAL(store_append(s, id, &m, &uid, &err), 0);
	CU_ASSERT_EQUAL(store_mailbox_first_unseen(s, id, &first, &err), 0);
	CU_ASSERT_EQUAL(first, 2);
	CU_ASSERT_EQUAL(check_store(s), 0);
	CU_ASSERT_EQUAL(store_write(s, stray_txn, &id), 0);
	CU_ASSERT_EQUAL(check_store_q(s, true), 1);
	CU_ASSERT_EQUAL(store_debug_downgrade_to_3(s), 0);
	store_close(&s);
	CU_ASSERT_FATAL(store_open(udir, 0, &s, &err) == 0);
	CU_ASSERT_EQUAL(check_store(s), 0);
	CU_ASSERT_EQUAL(store_write(s, orphan_txn, NULL), 0);
	CU_ASSERT_EQUAL(check_store_q(s, true), 1);
	store_close(&s);
	nftw(udir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

static void register_store_unseen(void)
{
	CU_pSuite s = CU_add_suite("store unseen index", NULL, NULL);
	CU_add_test(s, "random changes vs scan, upgrade", test_unseen_random);
	CU_add_test(s, "store_check finds stray entries", test_unseen_check);
}

UNIT_SUITE(register_store_unseen)
