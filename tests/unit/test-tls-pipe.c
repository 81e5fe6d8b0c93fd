/* The TLS proxy's bounded pipes and backpressure rule (common/tls-pipe.c). */
#include "unit.h"

#include "../../common/tls-pipe.h"

#include <string.h>

static void fill(struct tls_pipe *p, const char *s)
{
	size_t room;
	uint8_t *space = tls_pipe_space(p, &room);
	CU_ASSERT_FATAL(space != NULL && room >= strlen(s));
	memcpy(space, s, strlen(s));
	tls_pipe_added(p, strlen(s));
}

static void test_pipe_bounded_and_lazy(void)
{
	struct tls_pipe p;
	tls_pipe_init(&p, 8);
	CU_ASSERT_PTR_NULL(p.data);		/* nothing held while idle */
	CU_ASSERT_EQUAL(tls_pipe_room(&p), 8);
	fill(&p, "abcde");
	CU_ASSERT_EQUAL(tls_pipe_room(&p), 3);
	size_t room;
	uint8_t *sp = tls_pipe_space(&p, &room);
	CU_ASSERT(sp != NULL && room == 3);
	fill(&p, "fgh");
	CU_ASSERT_EQUAL(tls_pipe_room(&p), 0);
	CU_ASSERT_PTR_NULL(tls_pipe_space(&p, &room));	/* full: no more */
	CU_ASSERT_EQUAL(room, 0);
	size_t len;
	const uint8_t *d = tls_pipe_peek(&p, &len);
	CU_ASSERT(len == 8 && memcmp(d, "abcdefgh", 8) == 0);
	tls_pipe_consumed(&p, 8);
	CU_ASSERT_PTR_NULL(p.data);		/* drained: storage freed */
	CU_ASSERT_PTR_NULL(tls_pipe_peek(&p, &len));
	tls_pipe_free(&p);
}

static void test_pipe_compacts_in_order(void)
{
	struct tls_pipe p;
	tls_pipe_init(&p, 8);
	fill(&p, "12345678");
	tls_pipe_consumed(&p, 6);		/* "78" left at the end */
	size_t room;
	uint8_t *sp = tls_pipe_space(&p, &room);
	CU_ASSERT(sp != NULL && room == 6);	/* moved to the front */
	fill(&p, "9abcde");
	size_t len;
	const uint8_t *d = tls_pipe_peek(&p, &len);
	CU_ASSERT(len == 8 && memcmp(d, "789abcde", 8) == 0);
	/* Byte by byte through a small pipe keeps order. */
	char out[64];
	size_t n = 0;
	while ((d = tls_pipe_peek(&p, &len)) != NULL) {
		out[n++] = (char)d[0];
		tls_pipe_consumed(&p, 1);
	}
	CU_ASSERT(n == 8 && memcmp(out, "789abcde", 8) == 0);
	tls_pipe_free(&p);
}

static void test_pipe_shrink_and_clear(void)
{
	struct tls_pipe p;
	tls_pipe_init(&p, 16);
	size_t room;
	CU_ASSERT(tls_pipe_space(&p, &room) != NULL);
	tls_pipe_shrink(&p);			/* a read that found nothing */
	CU_ASSERT_PTR_NULL(p.data);
	fill(&p, "xy");
	tls_pipe_shrink(&p);
	CU_ASSERT_PTR_NOT_NULL(p.data);		/* bytes held: kept */
	tls_pipe_clear(&p);
	CU_ASSERT(p.data == NULL && p.len == 0 && tls_pipe_room(&p) == 16);
}

static void test_interest_backpressure(void)
{
	struct tls_pipe up, down;
	tls_pipe_init(&up, 4);
	tls_pipe_init(&down, 4);
	struct tls_proxy_state s = { .up = &up, .down = &down };
	struct tls_proxy_interest in = tls_proxy_interest(&s);
	/* Idle: read both sides, write neither. */
	CU_ASSERT(in.client_read && in.worker_read && !in.client_write &&
		  !in.worker_write && !in.finished);
	fill(&up, "abcd");			/* client -> worker full */
	in = tls_proxy_interest(&s);
	CU_ASSERT(!in.client_read);		/* backpressure on the client */
	CU_ASSERT(in.worker_write && in.worker_read);
	fill(&down, "ab");
	in = tls_proxy_interest(&s);
	CU_ASSERT(in.client_write && in.worker_read);
	fill(&down, "cd");			/* worker -> client full */
	in = tls_proxy_interest(&s);
	CU_ASSERT(!in.worker_read && in.client_write);
	tls_pipe_consumed(&up, 4);
	in = tls_proxy_interest(&s);
	CU_ASSERT(in.client_read && !in.worker_write);
	/* GnuTLS half-sent a record: keep asking to write. */
	tls_pipe_consumed(&down, 4);
	s.tls_wants_write = true;
	in = tls_proxy_interest(&s);
	CU_ASSERT(in.client_write);
	tls_pipe_free(&up);
	tls_pipe_free(&down);
}

static void test_interest_endings(void)
{
	struct tls_pipe up, down;
	tls_pipe_init(&up, 4);
	tls_pipe_init(&down, 4);
	struct tls_proxy_state s = { .up = &up, .down = &down };
	/* Worker gone with its last words unsent: deliver them first, read
	 * nothing more from the client. */
	fill(&down, "BYE");
	s.worker_eof = true;
	struct tls_proxy_interest in = tls_proxy_interest(&s);
	CU_ASSERT(!in.finished && in.client_write && !in.client_read &&
		  !in.worker_read && !in.worker_write);
	tls_pipe_consumed(&down, 3);
	CU_ASSERT(tls_proxy_interest(&s).finished);
	/* Client gone: finished at once, whatever is buffered. */
	s.worker_eof = false;
	fill(&up, "ab");
	s.client_eof = true;
	CU_ASSERT(tls_proxy_interest(&s).finished);
	tls_pipe_free(&up);
	tls_pipe_free(&down);
}

static void register_tls_pipe(void)
{
	CU_pSuite s = CU_add_suite("tls-pipe", NULL, NULL);
	CU_add_test(s, "bounded and lazy", test_pipe_bounded_and_lazy);
	CU_add_test(s, "compacts in order", test_pipe_compacts_in_order);
	CU_add_test(s, "shrink and clear", test_pipe_shrink_and_clear);
	CU_add_test(s, "interest: backpressure", test_interest_backpressure);
	CU_add_test(s, "interest: endings", test_interest_endings);
}

UNIT_SUITE(register_tls_pipe)
