/* Crash safety (issue 3 item 5): a child appends, copies, moves, flags and
 * expunges in a loop, telling the parent through a pipe what it is about
 * to do and, after each call returned success, that it did it. The parent
 * SIGKILLs the child at random moments, 200 times, and after each kill
 * opens the store and requires it to equal exactly the model of the
 * acknowledged operations, or that model plus the one operation in
 * flight: same UIDs, UIDNEXT, flags and byte-identical messages. It also
 * runs store_check (counters equal a recount, no orphan blob, no missing
 * one). The child opens the store itself after fork, as LMDB requires. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/buf.h"
#include "../../store/store.h"

#define CRASH_ROUNDS 200
#define CRASH_MAX_MSGS 600

enum op_kind { OP_APPEND = 1, OP_COPY, OP_MOVE, OP_FLAGS, OP_EXPUNGE };

struct op {
	uint8_t kind;
	uint8_t done;		/* 0 = intent, 1 = returned success */
	uint8_t src, dst;	/* 0 = INBOX, 1 = Box */
	uint8_t flags, mode;
	uint16_t pad;
	uint32_t seed, len;
	uint32_t first, last;
};

struct mmsg {
	uint32_t uid, seed, len;
	uint8_t flags;
};

struct mbox_model {
	struct mmsg *m;
	size_t n, cap;
	uint32_t uidnext;
};

struct model {
	struct mbox_model mb[2];
};

static const char *const crash_names[2] = { "INBOX", "Box" };

/* ---- message contents, regenerated from (seed, len) ---- */

static uint32_t xs(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void gen_message(uint32_t seed, uint32_t len, struct buf *raw)
{
	uint32_t st = seed | 1;
	buf_printf(raw, "Subject: crash %u\n\n", seed);
	while (raw->len < len) {
		uint32_t r = xs(&st) % 64;
		/* bare LF, CRLF and text: the store converts the first */
		buf_append_byte(raw, r == 0 ? '\n' : r == 1 ? '\r' :
				r == 2 ? '\n' : (uint8_t)('a' + r % 26));
	}
}

static void crlf(const struct buf *in, struct buf *out)
{
	bool cr = false;
	for (size_t i = 0; i < in->len; i++) {
		if (in->data[i] == '\n' && !cr)
			buf_append_byte(out, '\r');
		buf_append_byte(out, in->data[i]);
		cr = in->data[i] == '\r';
	}
}

/* ---- the model ---- */

static void mm_push(struct mbox_model *mb, struct mmsg m)
{
	if (mb->n == mb->cap) {
		mb->cap = mb->cap ? mb->cap * 2 : 64;
		mb->m = xrealloc(mb->m, mb->cap * sizeof(*mb->m));
	}
	mb->m[mb->n++] = m;
}

static void model_copy(struct model *dst, const struct model *src)
{
	for (int i = 0; i < 2; i++) {
		dst->mb[i].n = 0;
		dst->mb[i].uidnext = src->mb[i].uidnext;
		for (size_t j = 0; j < src->mb[i].n; j++)
			mm_push(&dst->mb[i], src->mb[i].m[j]);
	}
}

static void model_free(struct model *m)
{
	for (int i = 0; i < 2; i++)
		free(m->mb[i].m);
	memset(m, 0, sizeof(*m));
}

static bool in_range(const struct op *op, uint32_t uid)
{
	return uid >= op->first && uid <= op->last;
}

static void model_apply(struct model *md, const struct op *op)
{
	struct mbox_model *src = &md->mb[op->src], *dst = &md->mb[op->dst];
	size_t k = 0;
	switch (op->kind) {
	case OP_APPEND:
		mm_push(src, (struct mmsg){ src->uidnext++, op->seed, op->len,
					    op->flags });
		break;
	case OP_COPY:
	case OP_MOVE:
		for (size_t i = 0; i < src->n; i++) {
			struct mmsg m = src->m[i];
			if (in_range(op, m.uid)) {
				m.uid = dst->uidnext++;
				mm_push(dst, m);
				if (op->kind == OP_MOVE)
					continue;
			}
			src->m[k++] = src->m[i];
		}
		src->n = k;
		break;
	case OP_FLAGS:
		for (size_t i = 0; i < src->n; i++) {
			if (!in_range(op, src->m[i].uid))
				continue;
			uint8_t *f = &src->m[i].flags;
			*f = op->mode == STORE_FLAGS_ADD ? *f | op->flags :
			     op->mode == STORE_FLAGS_REMOVE ?
			     (uint8_t)(*f & ~op->flags) : op->flags;
		}
		break;
	case OP_EXPUNGE:
		for (size_t i = 0; i < src->n; i++)
			if (!(src->m[i].flags & STORE_FLAG_DELETED))
				src->m[k++] = src->m[i];
		src->n = k;
		break;
	}
}

/* ---- the child ---- */

static void send_op(int fd, struct op *op, uint8_t done)
{
	op->done = done;
	if (write(fd, op, sizeof(*op)) != (ssize_t)sizeof(*op))
		_exit(3);
}

static _Noreturn void child_loop(const char *dir, int fd, uint32_t seed)
{
	struct store *s;
	const char *err;
	if (store_open(dir, 0, &s, &err) < 0) {
		fprintf(stderr, "child open: %s\n", err);
		_exit(2);
	}
	uint32_t st = seed | 1;
	struct buf raw;
	buf_init(&raw);
	for (;;) {
		struct store_mailbox mb[2];
		for (int i = 0; i < 2; i++)
			if (store_mailbox_get(s, crash_names[i], &mb[i], &err) != 1)
				_exit(4);
		struct op op = { 0 };
		uint32_t r = xs(&st) % 100;
		op.src = (uint8_t)(xs(&st) % 2);
		op.dst = (uint8_t)(1 - op.src);
		uint32_t un = mb[op.src].uidnext;
		op.first = 1 + xs(&st) % un;
		op.last = op.first + xs(&st) % 12;
		bool full = mb[0].messages + mb[1].messages > CRASH_MAX_MSGS / 2;
		if (full && r < 50) {
			op.kind = OP_FLAGS;
			op.mode = STORE_FLAGS_ADD;
			op.flags = STORE_FLAG_DELETED;
			op.first = 1;
			op.last = un;
		} else if (full || r < 12) {
			op.kind = OP_EXPUNGE;
		} else if (r < 50) {
			op.kind = OP_APPEND;
			op.seed = xs(&st);
			op.len = 40 + xs(&st) % 6000;
			op.flags = (uint8_t)(xs(&st) & (STORE_FLAG_SEEN |
					     STORE_FLAG_FLAGGED |
					     STORE_FLAG_DELETED));
		} else if (r < 65) {
			op.kind = OP_COPY;
		} else if (r < 72) {
			op.kind = OP_MOVE;
		} else {
			op.kind = OP_FLAGS;
			op.mode = (uint8_t)(xs(&st) % 3);
			op.flags = (uint8_t)(xs(&st) & STORE_FLAGS_STORED);
		}
		struct store_uidrange range = { op.first, op.last };
		struct store_uidset set = { &range, 1 };
		send_op(fd, &op, 0);
		int ret = -1;
		switch (op.kind) {
		case OP_APPEND: {
			buf_clear(&raw);
			gen_message(op.seed, op.len, &raw);
			struct store_append_msg m = {
				.data = raw.data, .len = raw.len, .fd = -1,
				.flags = op.flags };
			uint32_t uid;
			ret = store_append(s, mb[op.src].id, &m, &uid, &err);
			break;
		}
		case OP_COPY:
		case OP_MOVE: {
			struct store_uidmap map;
			ret = (op.kind == OP_COPY ? store_copy : store_move)(
				s, mb[op.src].id, &set, mb[op.dst].id, &map,
				&err);
			store_uidmap_free(&map);
			break;
		}
		case OP_FLAGS: {
			struct store_flags_req req = { op.mode, op.flags, NULL,
						       0, 0 };
			struct store_flags_result res;
			ret = store_flags_set(s, mb[op.src].id, &set, &req,
					      &res, &err);
			store_flags_result_free(&res);
			break;
		}
		case OP_EXPUNGE:
			ret = store_expunge(s, mb[op.src].id, NULL, 0, NULL,
					    NULL, &err);
			break;
		}
		if (ret < 0) {
			fprintf(stderr, "child op %d: %s\n", op.kind, err);
			_exit(5);
		}
		send_op(fd, &op, 1);
	}
}

/* ---- verification ---- */

struct got {
	struct store_message m[CRASH_MAX_MSGS * 2];
	size_t n;
};

static int got_cb(void *ctx, const struct store_message *m)
{
	struct got *g = ctx;
	if (g->n < sizeof(g->m) / sizeof(g->m[0]))
		g->m[g->n++] = *m;
	return 0;
}

/* 1 if the store's metadata equals the model */
static int matches(struct store_mailbox mb[2], struct got g[2],
		   const struct model *md)
{
	for (int i = 0; i < 2; i++) {
		const struct mbox_model *mm = &md->mb[i];
		if (mb[i].uidnext != mm->uidnext || g[i].n != mm->n)
			return 0;
		for (size_t j = 0; j < mm->n; j++)
			if (g[i].m[j].uid != mm->m[j].uid ||
			    (g[i].m[j].flags & STORE_FLAGS_STORED) !=
			    mm->m[j].flags ||
			    g[i].m[j].size < mm->m[j].len)
				return 0;
	}
	return 1;
}

static void describe(const char *what, const struct model *md)
{
	fprintf(stderr, "%s:", what);
	for (int i = 0; i < 2; i++)
		fprintf(stderr, " [%s uidnext %u n %zu]", crash_names[i],
			md->mb[i].uidnext, md->mb[i].n);
	fprintf(stderr, "\n");
}

static int verify(const char *dir, struct model *acked,
		  const struct op *inflight)
{
	struct store *s;
	const char *err;
	if (store_open(dir, 0, &s, &err) < 0) {
		fprintf(stderr, "\ncrash: open after kill: %s\n", err);
		return -1;
	}
	struct store_mailbox mb[2];
	static struct got g[2];
	int r = 0;
	for (int i = 0; i < 2 && r == 0; i++) {
		g[i].n = 0;
		if (store_mailbox_get(s, crash_names[i], &mb[i], &err) != 1 ||
		    store_message_iter(s, mb[i].id, NULL, got_cb, &g[i],
				       &err) < 0)
			r = -1;
	}
	struct model with = { 0 };
	model_copy(&with, acked);
	if (inflight != NULL)
		model_apply(&with, inflight);
	const struct model *chosen = NULL;
	if (r == 0 && matches(mb, g, acked))
		chosen = acked;
	else if (r == 0 && inflight != NULL && matches(mb, g, &with))
		chosen = &with;
	if (r == 0 && chosen == NULL) {
		fprintf(stderr, "\ncrash: store matches neither model "
			"(in flight: %d)\n", inflight ? inflight->kind : 0);
		describe("acked", acked);
		describe("with in-flight", &with);
		for (int i = 0; i < 2; i++)
			fprintf(stderr, " store %s uidnext %u n %zu\n",
				crash_names[i], mb[i].uidnext, g[i].n);
		r = -1;
	}
	/* byte-identical contents */
	struct buf raw, want, have;
	buf_init(&raw);
	buf_init(&want);
	buf_init(&have);
	for (int i = 0; i < 2 && r == 0; i++) {
		for (size_t j = 0; j < chosen->mb[i].n && r == 0; j++) {
			buf_clear(&raw);
			buf_clear(&want);
			buf_clear(&have);
			gen_message(chosen->mb[i].m[j].seed,
				    chosen->mb[i].m[j].len, &raw);
			crlf(&raw, &want);
			if (store_message_read(s, g[i].m[j].blob_id, &have,
					       &err) < 0 ||
			    have.len != want.len ||
			    memcmp(have.data, want.data, want.len) != 0 ||
			    g[i].m[j].size != want.len) {
				fprintf(stderr, "\ncrash: %s uid %u differs\n",
					crash_names[i], g[i].m[j].uid);
				r = -1;
			}
		}
	}
	buf_free(&raw);
	buf_free(&want);
	buf_free(&have);
	if (r == 0) {
		struct buf d;
		buf_init(&d);
		struct store_check_report rep = { .details = &d };
		if (store_check(s, &rep, &err) != 0) {
			fprintf(stderr, "\ncrash: store_check: %s\n",
				buf_cstr(&d));
			r = -1;
		}
		buf_free(&d);
	}
	if (r == 0 && chosen == &with)
		model_copy(acked, &with);
	model_free(&with);
	store_close(&s);
	return r;
}

static int rm_fn(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void test_crash_kill(void)
{
	char dir[] = "/tmp/postern-crash-XXXXXX";
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	struct store *s;
	const char *err;
	CU_ASSERT_FATAL(store_open(dir, STORE_OPEN_CREATE, &s, &err) == 0);
	CU_ASSERT_FATAL(store_mailbox_create(s, "Box", 0, &err) == 0);
	store_close(&s);

	struct model acked = { 0 };
	acked.mb[0].uidnext = acked.mb[1].uidnext = 1;
	uint32_t rng = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	fprintf(stderr, "\n[crash test seed %u] ", rng);
	size_t total_ops = 0, applied_inflight = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int round;
	for (round = 0; round < CRASH_ROUNDS; round++) {
		int p[2];
		CU_ASSERT_FATAL(pipe2(p, O_CLOEXEC) == 0);
		uint32_t cseed = xs(&rng);
		pid_t pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			child_loop(dir, p[1], cseed);
		}
		close(p[1]);
		struct op op, intent;
		bool pending = false;
		/* Odd rounds: kill at a random moment from the start, which
		 * may be during store_open. Even rounds: first let the child
		 * acknowledge a few operations, so the kills land in real work
		 * however slow fsync is on this machine, then kill at a random
		 * moment in what follows. */
		if (round % 2 == 0) {
			size_t seen = 0;
			struct pollfd pfd = { .fd = p[0], .events = POLLIN };
			while (seen < 2 && poll(&pfd, 1, 3000) > 0 &&
			       read(p[0], &op, sizeof(op)) == (ssize_t)sizeof(op)) {
				if (!op.done) {
					intent = op;
					pending = true;
					continue;
				}
				model_apply(&acked, &op);
				pending = false;
				total_ops++;
				seen++;
			}
		}
		usleep(xs(&rng) % 30000);
		kill(pid, SIGKILL);
		int status;
		CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
		if (!WIFSIGNALED(status)) {
			fprintf(stderr, "\ncrash: child exited %d\n",
				WEXITSTATUS(status));
			CU_FAIL("child died by itself");
			close(p[0]);
			break;
		}
		while (read(p[0], &op, sizeof(op)) == (ssize_t)sizeof(op)) {
			if (!op.done) {
				intent = op;
				pending = true;
				continue;
			}
			model_apply(&acked, &op);
			pending = false;
			total_ops++;
		}
		close(p[0]);
		size_t before = acked.mb[0].uidnext + acked.mb[1].uidnext;
		if (verify(dir, &acked, pending ? &intent : NULL) < 0) {
			CU_FAIL("store after SIGKILL differs from the model");
			break;
		}
		if (acked.mb[0].uidnext + acked.mb[1].uidnext != before)
			applied_inflight++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "%d kills, %zu acknowledged ops, %.1f s ", round,
		total_ops, (double)(t1.tv_sec - t0.tv_sec) +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	CU_ASSERT_EQUAL(round, CRASH_ROUNDS);
	CU_ASSERT(total_ops > CRASH_ROUNDS);	/* the kills hit real work */
	fprintf(stderr, "(%zu kills after a commit, before its ack) ",
		applied_inflight);
	model_free(&acked);
	nftw(dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

static void register_store_crash(void)
{
	CU_pSuite s = CU_add_suite("store crash safety", NULL, NULL);
	CU_add_test(s, "SIGKILL 200 times", test_crash_kill);
}

UNIT_SUITE(register_store_crash)
