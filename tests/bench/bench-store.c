/* Store benchmark (issue 3): prints figures, checks nothing.
 *
 *   bench-store [--dir DIR] [--max N] [--quick]
 *
 * 1. durable append rate of 10 KB messages: one transaction (and fsyncs)
 *    per message, then batches of 1000 with fsync per blob, then batches
 *    with one syncfs per batch (STORE_BATCH_SYNCFS);
 * 2. time and memory to open the store, read the mailbox record and load
 *    the sequence map at 10k, 100k and 1M messages (N via --max), and the
 *    first unseen message (RFC 3501 [UNSEEN]) found by a scan of every
 *    message record beside a seek in the unseen index. The big
 *    mailboxes are filled by copying a mailbox into itself (COPY shares
 *    the blob), so no million files are needed: SELECT never reads a
 *    blob or a message record anyway.
 *
 * 3. ENVELOPE read rate: messages appended with the parsed-message cache
 *    built at append (as the worker does), then ENVELOPE produced for each
 *    from its cache record, beside the rate when each message is re-read
 *    and re-parsed instead.
 *
 * Build: see tests/bench/README. */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/buf.h"
#include "../../common/log.h"
#include "../../store/mime-cache.h"
#include "../../store/store.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* heap in use in KB (malloc's own count: RSS would hide reused pages;
 * the LMDB map is file-backed and shared, not heap) */
static long heap_kb(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (long)((mi.uordblks + mi.hblkhd) / 1024);
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "bench-store: %s: %s\n", what, err);
	exit(1);
}

static uint32_t mailbox_id(struct store *s, const char *name)
{
	struct store_mailbox mb;
	const char *err;
	if (store_mailbox_get(s, name, &mb, &err) != 1)
		die("mailbox", name);
	return mb.id;
}

static void make_message(struct buf *b, unsigned i)
{
	buf_clear(b);
	buf_printf(b, "From: bench@example.org\r\nTo: user@example.org\r\n"
		   "Subject: message %u\r\nMessage-ID: <%u@bench>\r\n\r\n",
		   i, i);
	while (b->len < 10240)
		buf_append_str(b, "The quick brown fox jumps over the lazy "
			       "dog, again and again and again.\r\n");
	b->len = 10240;
}

static void bench_append(struct store *s, unsigned single, unsigned batched)
{
	const char *err;
	uint32_t id = mailbox_id(s, "INBOX");
	struct buf b;
	buf_init(&b);
	double t = now();
	for (unsigned i = 0; i < single; i++) {
		make_message(&b, i);
		struct store_append_msg m = { .data = b.data, .len = b.len,
					      .fd = -1 };
		uint32_t uid;
		if (store_append(s, id, &m, &uid, &err) < 0)
			die("append", err);
	}
	double dt = now() - t;
	printf("append, one commit per message: %u x 10 KB in %.2f s = "
	       "%.0f messages/s\n", single, dt, single / dt);

	const unsigned batch = 1000;
	struct buf *bodies = calloc(batch, sizeof(*bodies));
	struct store_append_msg *msgs = calloc(batch, sizeof(*msgs));
	uint32_t *uids = calloc(batch, sizeof(*uids));
	for (unsigned i = 0; i < batch; i++) {
		buf_init(&bodies[i]);
		make_message(&bodies[i], i);
		msgs[i] = (struct store_append_msg){ .data = bodies[i].data,
			.len = bodies[i].len, .fd = -1 };
	}
	for (int mode = 0; mode < 2; mode++) {
		t = now();
		unsigned done = 0;
		while (done < batched) {
			if (store_append_batch(s, id, msgs, batch,
					mode ? STORE_BATCH_SYNCFS : 0, uids,
					&err) < 0)
				die("append batch", err);
			done += batch;
		}
		dt = now() - t;
		printf("append, batches of %u, %s: %u x 10 KB in %.2f s = "
		       "%.0f messages/s\n", batch,
		       mode ? "one syncfs per batch" : "fsync per blob",
		       done, dt, done / dt);
	}
	for (unsigned i = 0; i < batch; i++)
		buf_free(&bodies[i]);
	free(bodies);
	free(msgs);
	free(uids);
	buf_free(&b);
}

/* Grows mailbox "Big" to n messages by copying it into itself. */
static void grow(struct store *s, uint32_t n)
{
	const char *err;
	struct store_mailbox mb;
	uint32_t id = mailbox_id(s, "Big");
	if (store_mailbox_get(s, "Big", &mb, &err) != 1)
		die("get", err);
	if (mb.messages == 0) {
		struct store_append_msg m = { .data = "Subject: big\r\n\r\nx\r\n",
					      .len = 19, .fd = -1 };
		uint32_t uid;
		if (store_append(s, id, &m, &uid, &err) < 0)
			die("append", err);
		mb.messages = 1;
	}
	while (mb.messages < n) {
		uint32_t want = n - mb.messages;
		if (want > mb.messages)
			want = mb.messages;
		/* UIDs are dense here: 1..messages */
		struct store_uidrange r = { 1, want };
		struct store_uidset set = { &r, 1 };
		struct store_uidmap map;
		if (store_copy(s, id, &set, id, &map, &err) < 0)
			die("copy", err);
		mb.messages += (uint32_t)map.count;
		store_uidmap_free(&map);
	}
}

struct first_unseen_ctx {
	uint32_t uid;
	uint32_t seen;
};

static int first_unseen_scan(void *ctx, const struct store_message *m)
{
	struct first_unseen_ctx *fu = ctx;
	if (!(m->flags & STORE_FLAG_SEEN) && fu->uid == 0)
		fu->uid = m->uid;
	fu->seen++;
	return 0;
}

static void bench_select(const char *dir, uint32_t n)
{
	struct store *s;
	const char *err;
	if (store_open(dir, 0, &s, &err) < 0)
		die("open", err);
	grow(s, n);
	/* a read archive with one new message: every message \Seen but the
	 * last, so a scan for the first unseen one reads every record */
	struct store_uidrange seen = { 1, n - 1 };
	struct store_uidset seenset = { &seen, 1 };
	struct store_flags_req req = { .mode = STORE_FLAGS_ADD,
				       .flags = STORE_FLAG_SEEN };
	struct store_flags_result res;
	if (store_flags_set(s, mailbox_id(s, "Big"), &seenset, &req, &res,
			    &err) < 0)
		die("flags", err);
	store_flags_result_free(&res);
	store_close(&s);

	long rss0 = heap_kb();
	double t = now();
	if (store_open(dir, 0, &s, &err) < 0)
		die("open", err);
	double t_open = now();
	struct store_mailbox mb;
	if (store_mailbox_get(s, "Big", &mb, &err) != 1)
		die("get", err);
	struct store_seqmap map;
	if (store_seqmap_load(s, mb.id, &map, &err) < 0)
		die("seqmap", err);
	double t_map = now();
	long rss1 = heap_kb();
	/* a few lookups, so the map is used */
	uint32_t probe = store_seqmap_seq(&map, store_seqmap_uid(&map,
					  (uint32_t)map.count / 2));
	printf("select %7u messages: open %.1f ms, mailbox + seqmap %.1f ms, "
	       "total %.1f ms; seqmap %zu KB, heap +%ld KB (probe %u)\n",
	       mb.messages, (t_open - t) * 1e3, (t_map - t_open) * 1e3,
	       (t_map - t) * 1e3, map.cap * 4 / 1024, rss1 - rss0, probe);
	/* RFC 3501 [UNSEEN n] found by reading every message record (the
	 * worst case: no unseen message, or only the last one) */
	struct first_unseen_ctx fu = { 0 };
	double t_scan = 1e9;
	for (int round = 0; round < 3; round++) {	/* warm: best of 3 */
		fu.uid = 0;
		t = now();
		if (store_message_iter(s, mb.id, NULL, first_unseen_scan,
				       &fu, &err) < 0)
			die("iter", err);
		if (now() - t < t_scan)
			t_scan = now() - t;
	}
	/* what SELECT does instead: one seek in the unseen index */
	uint32_t first = 0;
	t = now();
	if (store_mailbox_first_unseen(s, mb.id, &first, &err) < 0)
		die("first unseen", err);
	double t_seek = now() - t;
	printf("select %7u messages: [UNSEEN] by a flags scan of every "
	       "record %.1f ms, by the unseen index %.3f ms (first unseen "
	       "uid %u, %u)\n", mb.messages, t_scan * 1e3, t_seek * 1e3,
	       fu.uid, first);
	store_seqmap_free(&map);
	store_close(&s);
}

static int bench_cache_builder(void *ctx, const uint8_t *data, size_t len,
			       struct buf *out)
{
	(void)ctx;
	return mime_cache_build(data, len, NULL, out);
}

struct envelope_ctx {
	struct store *s;
	struct buf cache, out, msg;
	unsigned count;
	bool reparse;
};

static int envelope_one(void *ctx, const struct store_message *m)
{
	struct envelope_ctx *e = ctx;
	const char *err;
	buf_clear(&e->cache);
	buf_clear(&e->out);
	if (e->reparse) {
		buf_clear(&e->msg);
		if (store_message_read(e->s, m->blob_id, &e->msg, &err) < 0)
			die("read", err);
		mime_cache_build(e->msg.data, e->msg.len, NULL, &e->cache);
	} else if (store_cache_get(e->s, m->blob_id, &e->cache, &err) < 0) {
		die("cache", err);
	}
	if (mime_cache_envelope(e->cache.data, e->cache.len, &e->out, &err) < 0)
		die("envelope", err);
	e->count++;
	return 0;
}

static void bench_envelope(struct store *s, unsigned n)
{
	const char *err;
	struct buf b;
	buf_init(&b);
	store_set_cache_builder(s, bench_cache_builder, NULL);
	if (store_mailbox_create(s, "Env", 0, &err) < 0)
		die("create Env", err);
	uint32_t id = mailbox_id(s, "Env");
	struct store_append_msg *msgs = calloc(1000, sizeof(*msgs));
	struct buf *bodies = calloc(1000, sizeof(*bodies));
	uint32_t *uids = calloc(1000, sizeof(*uids));
	for (unsigned done = 0; done < n; done += 1000) {
		for (unsigned i = 0; i < 1000; i++) {
			buf_init(&bodies[i]);
			make_message(&bodies[i], done + i);
			msgs[i].data = bodies[i].data;
			msgs[i].len = bodies[i].len;
			msgs[i].fd = -1;
		}
		if (store_append_batch(s, id, msgs, 1000, STORE_BATCH_SYNCFS,
				       uids, &err) < 0)
			die("append", err);
		for (unsigned i = 0; i < 1000; i++)
			buf_free(&bodies[i]);
	}
	for (int reparse = 0; reparse < 2; reparse++) {
		struct envelope_ctx e = { .s = s, .reparse = reparse != 0 };
		double t0 = now();
		if (store_message_iter(s, id, NULL, envelope_one, &e, &err) < 0)
			die("iter", err);
		double dt = now() - t0;
		printf("ENVELOPE of %u messages %s: %.3f s = %.0f messages/s\n",
		       e.count, reparse ? "re-parsing each message" :
		       "from the parsed-message cache", dt, e.count / dt);
		buf_free(&e.cache);
		buf_free(&e.out);
		buf_free(&e.msg);
	}
	free(msgs);
	free(bodies);
	free(uids);
	buf_free(&b);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/postern-bench-XXXXXX";
	const char *dir = NULL;
	uint32_t max = 1000000;
	bool quick = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
			max = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--quick") == 0)
			quick = true;
		else {
			fprintf(stderr, "usage: bench-store [--dir DIR] "
				"[--max N] [--quick]\n");
			return 2;
		}
	}
	log_init("bench", LOG_SINK_STDERR);
	log_set_level(LOG_LEVEL_WARN);
	if (dir == NULL) {
		if (mkdtemp(tmpl) == NULL)
			die("mkdtemp", "failed");
		dir = tmpl;
	}
	struct store *s;
	const char *err;
	if (store_open(dir, STORE_OPEN_CREATE, &s, &err) < 0)
		die("create", err);
	printf("store in %s\n", dir);
	bench_append(s, quick ? 50 : 300, quick ? 2000 : 10000);
	bench_envelope(s, quick ? 5000 : 20000);
	if (store_mailbox_create(s, "Big", 0, &err) < 0)
		die("create Big", err);
	store_close(&s);
	for (uint32_t n = 10000; n <= max; n *= 10)
		bench_select(dir, n);
	printf("(the store is left in %s; remove it with rm -r)\n", dir);
	return 0;
}
