/* store/search-index*.c: varints and posting chunks (round trips at chunk
 * boundaries, refusals), posting lists in a store (tail appends, inserts
 * in the middle, duplicates), document records, and the query planner
 * of daemon/imap/search-plan.c (what narrows and what cannot). */
#include "unit.h"

#include "../../daemon/imap/search-eval.h"
#include "../../daemon/imap/search-match.h"
#include "../../daemon/imap/search-plan.h"
#include "../../store/mime-cache.h"
#include "../../store/search-index.h"
#include "../../store/store-private.h"
#include "../../store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_varint(void)
{
	static const uint64_t vals[] = { 0, 1, 127, 128, 16383, 16384,
					 (1ull << 35) - 1, UINT64_MAX };
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint8_t b[10];
		uint64_t v;
		size_t n = sx_varint_put(b, vals[i]);
		CU_ASSERT_EQUAL(sx_varint_get(b, n, &v), n);
		CU_ASSERT_EQUAL(v, vals[i]);
		CU_ASSERT_EQUAL(sx_varint_get(b, n - 1, &v), 0);	/* cut */
	}
	uint8_t overlong[] = { 0x80, 0x00 };
	uint64_t v;
	CU_ASSERT_EQUAL(sx_varint_get(overlong, 2, &v), 0);
	uint8_t big[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			  0xff, 0x02 };
	CU_ASSERT_EQUAL(sx_varint_get(big, 10, &v), 0);
}

/* Splits ids into chunks as a merge does, checks each chunk's size and
 * that decoding them all gives ids back. */
static void roundtrip(const uint64_t *ids, size_t n)
{
	uint64_t *out = NULL;
	size_t nout = 0, cap = 0, at = 0;
	struct buf b;
	buf_init(&b);
	while (at < n) {
		size_t k = sx_chunk_fit(ids + at, n - at, SX_CHUNK_BYTES_MAX);
		CU_ASSERT_FATAL(k >= 1 && k <= n - at);
		buf_clear(&b);
		sx_chunk_encode(ids + at, k, &b);
		CU_ASSERT(b.len <= SX_CHUNK_BYTES_MAX);
		/* greedy: one more id would not have fitted */
		if (at + k < n) {
			struct buf b2;
			buf_init(&b2);
			sx_chunk_encode(ids + at, k + 1, &b2);
			CU_ASSERT(b2.len > SX_CHUNK_BYTES_MAX ||
				  k == SX_CHUNK_IDS_MAX);
			buf_free(&b2);
		}
		CU_ASSERT_EQUAL_FATAL(sx_chunk_decode(b.data, b.len, ids[at],
						      &out, &nout, &cap), 0);
		at += k;
	}
	CU_ASSERT_EQUAL(nout, n);
	CU_ASSERT(nout == n && memcmp(out, ids, n * sizeof(*ids)) == 0);
	buf_free(&b);
	free(out);
}

static void test_chunk_roundtrip(void)
{
	size_t n = 40000;
	uint64_t *ids = xmalloc(n * sizeof(*ids));
	/* gaps from dense (bitmap) to sparse (2- and 3-byte deltas), and a
	 * mix that switches encoding from chunk to chunk */
	static const uint64_t gaps[] = { 1, 2, 9, 127, 128, 300, 20000 };
	for (size_t g = 0; g <= sizeof(gaps) / sizeof(gaps[0]); g++) {
		uint64_t id = 1 + rnd() % 1000;
		for (size_t i = 0; i < n; i++) {
			ids[i] = id;
			uint64_t gap = g < sizeof(gaps) / sizeof(gaps[0]) ?
				       gaps[g] : 1 + rnd() % (i % 5000 < 2500 ?
							      3 : 400);
			id += gap;
		}
		roundtrip(ids, n);
		roundtrip(ids, 1);
		roundtrip(ids, 2);
	}
	/* exactly at the boundary: 1-byte deltas, as many as fit */
	for (size_t i = 0; i < n; i++)
		ids[i] = 1 + i * 100;
	size_t k = sx_chunk_fit(ids, n, SX_CHUNK_BYTES_MAX);
	struct buf b;
	buf_init(&b);
	sx_chunk_encode(ids, k, &b);
	CU_ASSERT(b.len >= SX_CHUNK_BYTES_MAX - 2 &&
		  b.len <= SX_CHUNK_BYTES_MAX);
	roundtrip(ids, k);
	roundtrip(ids, k + 1);
	/* ids near the top of the range */
	for (size_t i = 0; i < 10; i++)
		ids[i] = UINT64_MAX - 10 + i;
	roundtrip(ids, 10);
	/* dense: the bitmap is chosen */
	for (size_t i = 0; i < 1000; i++)
		ids[i] = 5 + i;
	buf_clear(&b);
	sx_chunk_encode(ids, 1000, &b);
	CU_ASSERT_EQUAL(b.data[0], 0x01);
	CU_ASSERT(b.len < 140);
	buf_free(&b);
	free(ids);
}

static void test_chunk_refused(void)
{
	uint64_t *ids = NULL;
	size_t n = 0, cap = 0;
	static const struct {
		const char *v;
		size_t len;
	} bad[] = {
		{ "", 0 },
		{ "\x00", 1 },
		{ "\x00\x00", 2 },		/* count 0 */
		{ "\x00\x02\x00", 3 },		/* delta 0 */
		{ "\x00\x02\x01\x01", 4 },	/* trailing byte */
		{ "\x00\x03\x01", 3 },		/* short */
		{ "\x01\x03\x01", 3 },		/* last bit clear */
		{ "\x01\x02\x02", 3 },		/* first bit clear */
		{ "\x01\x02\x07", 3 },		/* bit past the span */
		{ "\x01\x02\x03\x00", 4 },	/* trailing byte */
		{ "\x02\x01", 2 },		/* unknown type */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 0;
		CU_ASSERT_EQUAL(sx_chunk_decode((const uint8_t *)bad[i].v,
						bad[i].len, 10, &ids, &n,
						&cap), -1);
	}
	n = 0;
	CU_ASSERT_EQUAL(sx_chunk_decode((const uint8_t *)"\x01\x02\x03", 3,
					10, &ids, &n, &cap), 0);
	CU_ASSERT(n == 2 && ids[0] == 10 && ids[1] == 11);
	free(ids);
}

static char tdir[64];

static struct store *open_tmp(void)
{
	struct store *s;
	const char *err;
	snprintf(tdir, sizeof(tdir), "/tmp/postern-sxidx-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(tdir) != NULL);
	CU_ASSERT_FATAL(store_open(tdir, STORE_OPEN_CREATE, &s, &err) == 0);
	return s;
}

static void close_tmp(struct store **s)
{
	store_close(s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tdir);
	if (system(cmd) != 0)
		CU_FAIL("rm");
}

static int cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Posting lists in LMDB: appends at the tail, inserts into the middle
 * (a document indexed again), duplicates, across many chunks. */
static void test_post_store(void)
{
	struct store *s = open_tmp();
	const char *err;
	size_t total = 0, cap = 60000;
	uint64_t *all = xmalloc(cap * sizeof(*all));
	uint64_t next = 1;
	for (int round = 0; round < 30; round++) {
		size_t n = 1 + rnd() % 1500;
		uint64_t *add = xmalloc(n * sizeof(*add));
		for (size_t i = 0; i < n; i++) {
			if (round % 3 == 2 && total > 0)
				add[i] = all[rnd() % total] + rnd() % 3;
			else
				add[i] = (next += 1 + rnd() % (round % 2 ?
							       2 : 600));
		}
		qsort(add, n, sizeof(*add), cmp64);
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (k == 0 || add[i] != add[k - 1])
				add[k++] = add[i];
		CU_ASSERT_FATAL(store_sx_debug_post_add(s, SX_NS_BODY, 0x414243,
							add, k, &err) == 0);
		for (size_t i = 0; i < k; i++)
			all[total++] = add[i];
		qsort(all, total, sizeof(*all), cmp64);
		size_t u = 0;
		for (size_t i = 0; i < total; i++)
			if (u == 0 || all[i] != all[u - 1])
				all[u++] = all[i];
		total = u;
		free(add);
	}
	uint64_t *got;
	size_t n, chunks, maxv;
	CU_ASSERT_FATAL(store_sx_debug_post_read(s, SX_NS_BODY, 0x414243,
						 &got, &n, &chunks, &maxv,
						 &err) == 0);
	CU_ASSERT_EQUAL(n, total);
	CU_ASSERT(n == total && memcmp(got, all, n * sizeof(*got)) == 0);
	CU_ASSERT(chunks > 5);
	CU_ASSERT(maxv <= SX_CHUNK_BYTES_MAX);
	free(got);
	/* another trigram and namespace are separate lists */
	CU_ASSERT_FATAL(store_sx_debug_post_read(s, SX_NS_FROM, 0x414243,
						 &got, &n, &chunks, &maxv,
						 &err) == 0);
	CU_ASSERT_EQUAL(n, 0);
	free(got);
	free(all);
	close_tmp(&s);
}

static void test_doc_record(void)
{
	struct buf hdr, body, rec;
	buf_init(&hdr);
	buf_init(&body);
	buf_init(&rec);
	const char *f[SX_FIELD_COUNT] = { "SUBJ", "", "TO", "", "BCC" };
	for (int i = 0; i < SX_FIELD_COUNT; i++)
		sx_buf_str(&hdr, f[i], strlen(f[i]));
	sx_buf_varint(&hdr, 2);
	sx_buf_str(&hdr, "X-A", 3);
	sx_buf_str(&hdr, "VALUE A", 7);
	sx_buf_str(&hdr, "Subject", 7);
	sx_buf_str(&hdr, "SUBJ", 4);
	sx_buf_str(&hdr, "PART\xff", 5);
	for (int i = 0; i < 200; i++)
		buf_append_str(&body, "LOREM IPSUM DOLOR ");
	buf_append_byte(&body, 0xff);
	sx_doc_pack(&hdr, &body, &rec);
	/* stored as is: a held record lives until the next merge */
	CU_ASSERT(rec.len > body.len && rec.len < body.len + hdr.len + 16);
	struct sx_doc d;
	sx_doc_init(&d);
	CU_ASSERT_FATAL(sx_doc_unpack(rec.data, rec.len, &d) == 0);
	CU_ASSERT(d.field[0].len == 4 && memcmp(d.field[0].p, "SUBJ", 4) == 0);
	CU_ASSERT_EQUAL(d.nfields, 2);
	CU_ASSERT(d.fields[1].name.len == 7);
	CU_ASSERT_EQUAL(d.body_text.len, body.len);
	/* every truncation is refused */
	for (size_t cut = 0; cut < rec.len; cut++)
		CU_ASSERT_EQUAL(sx_doc_unpack(rec.data, cut, &d), -1);
	/* a large body is deflated, streaming, and comes back whole */
	buf_clear(&body);
	for (int i = 0; i < 20000; i++)
		buf_printf(&body, "word%d ", i % 977);
	buf_append_byte(&body, 0xff);
	buf_clear(&rec);
	sx_doc_pack(&hdr, &body, &rec);
	CU_ASSERT(rec.len < body.len / 3);
	CU_ASSERT_FATAL(sx_doc_unpack(rec.data, rec.len, &d) == 0);
	CU_ASSERT(d.body_text.len == body.len &&
		  memcmp(d.body_text.p, body.data, body.len) == 0);
	for (size_t cut = 0; cut < rec.len; cut += 97)
		CU_ASSERT_EQUAL(sx_doc_unpack(rec.data, cut, &d), -1);
	sx_doc_free(&d);
	buf_free(&hdr);
	buf_free(&body);
	buf_free(&rec);
}

/* ---- planner ---- */

static int cache_builder(void *ctx, const uint8_t *data, size_t len,
			 struct buf *out)
{
	(void)ctx;
	return mime_cache_build(data, len, NULL, out);
}

static void plan_check(struct store *s, uint32_t mb,
		       const struct store_seqmap *view, const char *desc,
		       struct imap_search_key *root, bool narrowed,
		       size_t candidates, size_t matches)
{
	struct search_scope scope = { .mailbox_id = mb, .view = view,
				      .now = (int64_t)time(NULL) };
	struct search_result a, b;
	struct search_plan_stats st;
	const char *err;
	CU_ASSERT_FATAL(search_eval(s, &scope, root, &a, &err) == 0);
	CU_ASSERT_FATAL(search_plan_eval(s, &scope, root, &b, &st, &err) == 0);
	if (st.narrowed != narrowed || (narrowed && st.candidates != candidates)
	    || b.count != matches)
		fprintf(stderr, "\nplan %s: narrowed %d candidates %zu "
			"matches %zu\n", desc, st.narrowed, st.candidates,
			b.count);
	CU_ASSERT_EQUAL(st.narrowed, narrowed);
	if (narrowed)
		CU_ASSERT_EQUAL(st.candidates, candidates);
	CU_ASSERT_EQUAL(a.count, matches);
	CU_ASSERT_EQUAL(b.count, matches);
	search_result_free(&a);
	search_result_free(&b);
}

static struct imap_search_key key_text(enum imap_search_type t,
				       const char *str)
{
	struct imap_search_key k;
	memset(&k, 0, sizeof(k));
	k.type = t;
	k.str = xstrdup(str);
	k.str_len = strlen(str);
	return k;
}

static struct imap_search_key key_node(enum imap_search_type t, size_t n,
				       const struct imap_search_key *ch)
{
	struct imap_search_key k;
	memset(&k, 0, sizeof(k));
	k.type = t;
	k.child_count = n;
	k.children = xcalloc(n, sizeof(*ch));
	memcpy(k.children, ch, n * sizeof(*ch));
	return k;
}

static void test_planner(void)
{
	struct store *s = open_tmp();
	const char *err;
	store_set_cache_builder(s, cache_builder, NULL);
	store_set_search_extractor(s, search_index_extractor, NULL);
	static const char *const bodies[] = {
		"alpha bravo charlie", "alpha delta", "echo foxtrot",
		"golf hotel alpha", "india juliet",
	};
	struct store_mailbox mb;
	CU_ASSERT_FATAL(store_mailbox_get(s, "INBOX", &mb, &err) == 1);
	for (size_t i = 0; i < 5; i++) {
		char msg[256];
		snprintf(msg, sizeof(msg), "From: u%zu@example.org\r\n"
			 "Subject: note %zu\r\n\r\n%s\r\n", i, i, bodies[i]);
		struct store_append_msg m = { .data = msg, .len = strlen(msg),
					      .fd = -1,
					      .flags = i % 2 ? STORE_FLAG_SEEN :
							       0 };
		uint32_t uid;
		CU_ASSERT_FATAL(store_append(s, mb.id, &m, &uid, &err) == 0);
	}
	size_t merged;
	CU_ASSERT_FATAL(store_search_merge(s, 0, 0, &merged, &err) == 0);
	CU_ASSERT_EQUAL(merged, 5);
	struct store_seqmap view = { 0 };
	CU_ASSERT_FATAL(store_seqmap_load(s, mb.id, &view, &err) == 0);

	struct imap_search_args a;
	memset(&a, 0, sizeof(a));
	struct imap_search_key ch[2];
	ch[0] = key_text(IMAP_SEARCH_BODY, "alpha");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "BODY alpha", &a.root, true, 3, 3);
	imap_search_args_free(&a);

	/* AND with a record key: candidates from the text key */
	ch[0] = key_text(IMAP_SEARCH_BODY, "alpha");
	memset(&ch[1], 0, sizeof(ch[1]));
	ch[1].type = IMAP_SEARCH_SEEN;
	a.root = key_node(IMAP_SEARCH_AND, 2, ch);
	plan_check(s, mb.id, &view, "SEEN BODY alpha", &a.root, true, 3, 2);
	imap_search_args_free(&a);

	/* OR unites */
	ch[0] = key_text(IMAP_SEARCH_BODY, "echo");
	ch[1] = key_text(IMAP_SEARCH_BODY, "juliet");
	struct imap_search_key or = key_node(IMAP_SEARCH_OR, 2, ch);
	a.root = key_node(IMAP_SEARCH_AND, 1, &or);
	plan_check(s, mb.id, &view, "OR", &a.root, true, 2, 2);
	imap_search_args_free(&a);

	/* AND of two text keys intersects */
	ch[0] = key_text(IMAP_SEARCH_BODY, "alpha");
	ch[1] = key_text(IMAP_SEARCH_SUBJECT, "note 3");
	a.root = key_node(IMAP_SEARCH_AND, 2, ch);
	plan_check(s, mb.id, &view, "AND", &a.root, true, 1, 1);
	imap_search_args_free(&a);

	/* NOT cannot narrow */
	ch[0] = key_text(IMAP_SEARCH_BODY, "alpha");
	struct imap_search_key not = key_node(IMAP_SEARCH_NOT, 1, ch);
	a.root = key_node(IMAP_SEARCH_AND, 1, &not);
	plan_check(s, mb.id, &view, "NOT", &a.root, false, 0, 2);
	imap_search_args_free(&a);

	/* two bytes: the vocabulary entries that have them */
	ch[0] = key_text(IMAP_SEARCH_BODY, "ha");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "short", &a.root, true, 3, 3);
	imap_search_args_free(&a);

	/* a phrase: the documents with both words are decided by the store
	 * on their token streams; the evaluator sees the matches only */
	ch[0] = key_text(IMAP_SEARCH_BODY, "ha bra");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "phrase", &a.root, true, 1, 1);
	imap_search_args_free(&a);
	ch[0] = key_text(IMAP_SEARCH_BODY, "alpha delta");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "phrase 2", &a.root, true, 1, 1);
	imap_search_args_free(&a);
	ch[0] = key_text(IMAP_SEARCH_BODY, "hotel golf");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "phrase reversed", &a.root, true, 0, 0);
	imap_search_args_free(&a);

	/* a separator alone, and one not in any text */
	ch[0] = key_text(IMAP_SEARCH_FROM, "@");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "@", &a.root, true, 5, 5);
	imap_search_args_free(&a);
	ch[0] = key_text(IMAP_SEARCH_BODY, ";;");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, ";;", &a.root, true, 0, 0);
	imap_search_args_free(&a);

	/* HEADER name: narrowed through the HEADER units, decided on the
	 * value alone (past "subject: ") */
	ch[0] = key_text(IMAP_SEARCH_HEADER, "note");
	ch[0].header = xstrdup("Subject");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "HEADER Subject", &a.root, true, 5, 5);
	imap_search_args_free(&a);
	ch[0] = key_text(IMAP_SEARCH_HEADER, "subj");
	ch[0].header = xstrdup("Subject");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "HEADER name not value", &a.root, true,
		   0, 0);
	imap_search_args_free(&a);

	/* TEXT across a header field's name and value */
	ch[0] = key_text(IMAP_SEARCH_TEXT, "ject: note 2");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "TEXT ject:", &a.root, true, 1, 1);
	imap_search_args_free(&a);

	/* a namespace keeps its own text: FROM does not see the body */
	ch[0] = key_text(IMAP_SEARCH_FROM, "alpha");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "FROM alpha", &a.root, true, 0, 0);
	imap_search_args_free(&a);

	/* a held document is a candidate before any merge */
	const char *msg = "Subject: late\r\n\r\nalpha kilo\r\n";
	struct store_append_msg m = { .data = msg, .len = strlen(msg),
				      .fd = -1 };
	uint32_t uid;
	CU_ASSERT_FATAL(store_append(s, mb.id, &m, &uid, &err) == 0);
	store_seqmap_add(&view, uid);
	ch[0] = key_text(IMAP_SEARCH_BODY, "kilo");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "held", &a.root, true, 1, 1);
	imap_search_args_free(&a);

	store_seqmap_free(&view);
	close_tmp(&s);
}

/* Schema 3 (trigram postings, zlib'd texts) opens as 4: the old index
 * gone, every message held, found by queries, merged again. */
static void test_schema_upgrade(void)
{
	struct store *s = open_tmp();
	const char *err;
	store_set_cache_builder(s, cache_builder, NULL);
	store_set_search_extractor(s, search_index_extractor, NULL);
	struct store_mailbox mb;
	CU_ASSERT_FATAL(store_mailbox_get(s, "INBOX", &mb, &err) == 1);
	static const char *const bodies[] = { "alpha one", "beta two",
					      "alpha three" };
	for (size_t i = 0; i < 3; i++) {
		char msg[128];
		snprintf(msg, sizeof(msg), "Subject: s%zu\r\n\r\n%s\r\n", i,
			 bodies[i]);
		struct store_append_msg m = { .data = msg, .len = strlen(msg),
					      .fd = -1 };
		uint32_t uid;
		CU_ASSERT_FATAL(store_append(s, mb.id, &m, &uid, &err) == 0);
	}
	CU_ASSERT_FATAL(store_search_merge(s, 0, 0, NULL, &err) == 0);
	struct store_sx_stats st;
	CU_ASSERT_FATAL(store_search_stats(s, &st, &err) == 0);
	CU_ASSERT(st.post_chunks > 0 && st.held == 0 && st.docs == 3);
	/* schema 4: the trigram index of before, the unseen index */
	CU_ASSERT_EQUAL(store_debug_set_schema(s, 4), 0);
	store_close(&s);
	CU_ASSERT_FATAL(store_open(tdir, 0, &s, &err) == 0);
	store_set_cache_builder(s, cache_builder, NULL);
	store_set_search_merge_threshold(s, 0);
	CU_ASSERT_FATAL(store_search_stats(s, &st, &err) == 0);
	CU_ASSERT_EQUAL(st.post_chunks, 0);
	CU_ASSERT_EQUAL(st.held, 3);
	CU_ASSERT_EQUAL(st.held_no_text, 3);
	struct store_seqmap view = { 0 };
	CU_ASSERT_FATAL(store_seqmap_load(s, mb.id, &view, &err) == 0);
	struct imap_search_args a;
	memset(&a, 0, sizeof(a));
	struct imap_search_key ch[1];
	/* held without text: the matcher decides */
	ch[0] = key_text(IMAP_SEARCH_BODY, "alpha");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "upgraded, held", &a.root, true, 3, 2);
	imap_search_args_free(&a);
	store_set_search_extractor(s, search_index_extractor, NULL);
	size_t merged;
	CU_ASSERT_FATAL(store_search_merge(s, 0, 0, &merged, &err) == 0);
	CU_ASSERT_EQUAL(merged, 3);
	ch[0] = key_text(IMAP_SEARCH_BODY, "alpha");
	a.root = key_node(IMAP_SEARCH_AND, 1, ch);
	plan_check(s, mb.id, &view, "upgraded, merged", &a.root, true, 2, 2);
	imap_search_args_free(&a);
	store_seqmap_free(&view);
	close_tmp(&s);
}

static void register_search_index(void)
{
	CU_pSuite s = CU_add_suite("search_index", NULL, NULL);
	CU_add_test(s, "varint", test_varint);
	CU_add_test(s, "chunk round trips at boundaries", test_chunk_roundtrip);
	CU_add_test(s, "chunk refusals", test_chunk_refused);
	CU_add_test(s, "posting lists in the store", test_post_store);
	CU_add_test(s, "document record", test_doc_record);
	CU_add_test(s, "planner", test_planner);
	CU_add_test(s, "schema 4 upgrade", test_schema_upgrade);
}
UNIT_SUITE(register_search_index)
