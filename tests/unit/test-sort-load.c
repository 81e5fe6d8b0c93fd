/* SORT's and THREAD's key loading in slices (sort-load.h): the same
 * keys as loading at once, and a message expunged between two slices is
 * left out, not loaded with garbage keys. */
#include "unit.h"

#include "../../daemon/imap/sort-load.h"
#include "../../store/mime-cache.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 50

static int rm_fn(const char *p, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int build_cache(void *ctx, const uint8_t *data, size_t len,
		       struct buf *out)
{
	(void)ctx;
	return mime_cache_build(data, len, NULL, out);
}

static struct store *setup(char *dir, uint32_t *mailbox_r)
{
	strcpy(dir, "/tmp/postern-sortload-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	struct store_options o = { STORE_OPEN_CREATE, 0 };
	struct store *s = NULL;
	const char *err;
	CU_ASSERT_FATAL(store_open_opts(dir, &o, &s, &err) == 0);
	store_set_cache_builder(s, build_cache, NULL);
	struct store_mailbox mb;
	CU_ASSERT_FATAL(store_mailbox_get(s, "INBOX", &mb, &err) == 1);
	*mailbox_r = mb.id;
	for (int i = 0; i < N; i++) {
		char text[256];
		snprintf(text, sizeof(text),
			 "From: u%02d@example.com\r\nSubject: s%02d\r\n"
			 "Message-ID: <%d@x>\r\nReferences: <%d@x>\r\n\r\n"
			 "body %d\r\n", (i * 7) % N, N - i, i, i - 1, i);
		struct store_append_msg m = {
			.data = text, .len = strlen(text), .fd = -1,
			.flags = i % 10 == 3 ? STORE_FLAG_DELETED : 0,
			.internaldate = 1700000000 + i,
		};
		uint32_t uid;
		CU_ASSERT_FATAL(store_append(s, mb.id, &m, &uid, &err) == 0);
	}
	return s;
}

static void test_sort_load_slices(void)
{
	char dir[64];
	uint32_t id;
	struct store *s = setup(dir, &id);
	const char *err;
	struct store_seqmap view;
	memset(&view, 0, sizeof(view));
	CU_ASSERT_FATAL(store_seqmap_load(s, id, &view, &err) == 0);
	CU_ASSERT_EQUAL_FATAL(view.count, N);
	unsigned need = SORT_NEED_CACHE | SORT_NEED_THREAD;

	/* at once */
	struct sort_msg *all;
	size_t nall;
	CU_ASSERT_FATAL(sort_load(s, id, &view, view.uids, view.count, need,
				  &all, &nall, &err) == 0);
	CU_ASSERT_EQUAL(nall, N);

	/* in slices of 7, with the \Deleted ones expunged after the first
	 * slice (as another session may do while SORT is suspended) */
	struct sort_loader *l = sort_loader_new(id, &view, view.uids,
						view.count, need);
	int r = sort_loader_step(s, l, 7, &err);
	CU_ASSERT_EQUAL(r, 0);
	uint32_t *gone;
	size_t ngone;
	CU_ASSERT_FATAL(store_expunge(s, id, NULL, 0, &gone, &ngone,
				      &err) == 0);
	CU_ASSERT_EQUAL(ngone, N / 10);
	int steps = 1;
	while ((r = sort_loader_step(s, l, 7, &err)) == 0)
		steps++;
	CU_ASSERT_EQUAL(r, 1);
	CU_ASSERT_EQUAL(steps, (N + 6) / 7 - 1);
	struct sort_msg *got;
	size_t ngot;
	sort_loader_take(l, &got, &ngot);
	sort_loader_free(l);
	/* UID 4 went in the first slice, before the expunge; the others
	 * (14, 24, ...) are left out */
	CU_ASSERT_EQUAL(ngot, N - (N / 10 - 1));
	size_t k = 0;
	for (size_t i = 0; i < nall; i++) {
		uint32_t uid = all[i].uid;
		if (uid % 10 == 4 && uid > 7)
			continue;
		CU_ASSERT_FATAL(k < ngot);
		struct sort_msg *a = &all[i], *b = &got[k++];
		CU_ASSERT_EQUAL(a->uid, b->uid);
		CU_ASSERT_EQUAL(a->seq, b->seq);
		CU_ASSERT_EQUAL(a->arrival, b->arrival);
		CU_ASSERT_EQUAL(a->size, b->size);
		CU_ASSERT_STRING_EQUAL(a->subject, b->subject);
		CU_ASSERT_STRING_EQUAL(a->from, b->from);
		CU_ASSERT_STRING_EQUAL(a->message_id, b->message_id);
		CU_ASSERT_EQUAL(a->nrefs, b->nrefs);
	}
	CU_ASSERT_EQUAL(k, ngot);
	free(gone);
	sort_load_free(all, nall);
	sort_load_free(got, ngot);
	store_seqmap_free(&view);
	store_close(&s);
	nftw(dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

static void register_sort_load(void)
{
	CU_pSuite s = CU_add_suite("sort-load", NULL, NULL);
	CU_add_test(s, "slices and an expunge between them",
		    test_sort_load_slices);
}

UNIT_SUITE(register_sort_load)
