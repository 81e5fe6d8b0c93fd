/* The incremental base64 and quoted-printable decoders (FETCH BINARY of
 * large parts): every way of cutting the input into pieces must give
 * exactly the one-shot decoder's bytes, held-back state included (soft
 * line breaks and "=\r\n" cut anywhere, trailing blanks, "=X" at a cut). */
#include "unit.h"

#include "../../store/mime-decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void oneshot_fn(const uint8_t *in, size_t len, struct buf *out);

static void decode_pieces(enum mime_decoder_kind kind, const uint8_t *in,
			  size_t len, const size_t *cuts, size_t ncuts,
			  struct buf *out)
{
	struct mime_decoder d;
	mime_decoder_init(&d, kind);
	size_t at = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		mime_decoder_feed(&d, in + at, end - at, out);
		at = end;
	}
	mime_decoder_finish(&d, out);
	mime_decoder_free(&d);
}

static bool same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len &&
	       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Every split into two and three pieces, and one byte at a time. */
static void check_all_splits(enum mime_decoder_kind kind, oneshot_fn *ref,
			     const char *input, size_t len)
{
	const uint8_t *in = (const uint8_t *)input;
	struct buf want, got;
	buf_init(&want);
	buf_init(&got);
	ref(in, len, &want);
	bool all = true;
	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i; j <= len; j++) {
			size_t cuts[2] = { i, j };
			buf_clear(&got);
			decode_pieces(kind, in, len, cuts, 2, &got);
			if (!same(&got, &want)) {
				if (all)
					fprintf(stderr, "\nsplit %zu,%zu of [%.*s]:"
						" want [%.*s] got [%.*s]\n", i, j,
						(int)len, input, (int)want.len,
						(const char *)want.data,
						(int)got.len,
						(const char *)got.data);
				all = false;
			}
		}
	}
	size_t *cuts = xcalloc(len + 1, sizeof(*cuts));
	for (size_t i = 0; i < len; i++)
		cuts[i] = i;
	buf_clear(&got);
	decode_pieces(kind, in, len, cuts, len, &got);
	all = all && same(&got, &want);
	free(cuts);
	CU_ASSERT_TRUE(all);
	buf_free(&want);
	buf_free(&got);
}

#define SPLITS(kind, ref, lit) check_all_splits(kind, ref, lit, sizeof(lit) - 1)

static void test_stream_base64(void)
{
	enum mime_decoder_kind b = MIME_DECODER_BASE64;
	SPLITS(b, mime_decode_base64, "SGVsbG8=");
	SPLITS(b, mime_decode_base64, "SGVs\r\nbG8g\r\nd29ybGQ=\r\n");
	SPLITS(b, mime_decode_base64, "SGVs!!bG8g\r\nd29y*bGQ\r\n=garbage");
	SPLITS(b, mime_decode_base64, "\xff" "SGVsbA");
	SPLITS(b, mime_decode_base64, "S");
	SPLITS(b, mime_decode_base64, "");
	SPLITS(b, mime_decode_base64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka"
				      "\r\nGxwdHh8gISIj==AAAA");
}

static void test_stream_qp(void)
{
	enum mime_decoder_kind q = MIME_DECODER_QP;
	SPLITS(q, mime_decode_qp, "a=3Db");
	SPLITS(q, mime_decode_qp, "caf=C3=a9");
	SPLITS(q, mime_decode_qp, "soft=\r\nbreak");
	SPLITS(q, mime_decode_qp, "soft=  \r\nbreak\n");
	SPLITS(q, mime_decode_qp, "soft= \t \nbreak\r\n=\r\n=\n=");
	SPLITS(q, mime_decode_qp, "bare=\nlf");
	SPLITS(q, mime_decode_qp, "trailing   \r\nx");
	SPLITS(q, mime_decode_qp, "trailing \t \nx \t");
	SPLITS(q, mime_decode_qp, "=ZZ=4");
	SPLITS(q, mime_decode_qp, "100%=");
	SPLITS(q, mime_decode_qp, "a=\r");
	SPLITS(q, mime_decode_qp, "=\r\r\n=\rX= \rY==41=4\n=4 \n=A=\n");
	SPLITS(q, mime_decode_qp, "a\r \nb \r\nc\r\rd \r \r\n=\t=\n");
	SPLITS(q, mime_decode_qp, "= A=  =3d \t=\r\n \t \r");
	SPLITS(q, mime_decode_qp, "x=0");
	SPLITS(q, mime_decode_qp, "x= ");
	SPLITS(q, mime_decode_qp, "x=\t\r");
	SPLITS(q, mime_decode_qp, "");
}

/* Pseudo-random inputs over a small alphabet that makes every state
 * likely, against the one-shot decoder at random cuts. */
static void test_stream_random(void)
{
	static const char alpha[] = "=\r\n \tA3f=xZ/+=";
	uint32_t seed = 12345;
	char in[64];
	bool all = true;
	for (int round = 0; round < 3000; round++) {
		seed = seed * 1103515245u + 12345u;
		size_t len = (seed >> 16) % sizeof(in);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
		}
		for (int k = 0; k < 2; k++) {
			enum mime_decoder_kind kind = k ? MIME_DECODER_QP :
							  MIME_DECODER_BASE64;
			oneshot_fn *ref = k ? mime_decode_qp : mime_decode_base64;
			struct buf want, got;
			buf_init(&want);
			buf_init(&got);
			ref((const uint8_t *)in, len, &want);
			size_t cuts[4];
			for (size_t c = 0; c < 4; c++) {
				seed = seed * 1103515245u + 12345u;
				cuts[c] = len ? (seed >> 16) % (len + 1) : 0;
			}
			for (size_t a = 0; a < 4; a++)
				for (size_t b = a + 1; b < 4; b++)
					if (cuts[b] < cuts[a]) {
						size_t t = cuts[a];
						cuts[a] = cuts[b];
						cuts[b] = t;
					}
			decode_pieces(kind, (const uint8_t *)in, len, cuts, 4,
				      &got);
			if (!same(&want, &got)) {
				if (all)
					fprintf(stderr, "\nrandom %s [%.*s]\n",
						k ? "qp" : "b64", (int)len, in);
				all = false;
			}
			buf_free(&want);
			buf_free(&got);
		}
	}
	CU_ASSERT_TRUE(all);
}

/* A long run of blanks is held as bits, and still comes out whole. */
static void test_stream_long_blanks(void)
{
	size_t n = 100000;
	char *in = xmalloc(n + 2);
	for (size_t i = 0; i < n; i++)
		in[i] = i % 3 ? ' ' : '\t';
	in[n] = 'x';
	in[n + 1] = '\n';
	struct buf want, got;
	buf_init(&want);
	buf_init(&got);
	mime_decode_qp((const uint8_t *)in, n + 2, &want);
	size_t cuts[] = { 1, 777, 50000, n };
	decode_pieces(MIME_DECODER_QP, (const uint8_t *)in, n + 2, cuts, 4, &got);
	CU_ASSERT_TRUE(same(&want, &got));
	CU_ASSERT_EQUAL(got.len, n + 2);
	/* and dropped as trailing blanks */
	in[n] = '\r';
	buf_clear(&want);
	buf_clear(&got);
	mime_decode_qp((const uint8_t *)in, n + 2, &want);
	decode_pieces(MIME_DECODER_QP, (const uint8_t *)in, n + 2, cuts, 4, &got);
	CU_ASSERT_TRUE(same(&want, &got));
	CU_ASSERT_EQUAL(got.len, 2);
	buf_free(&want);
	buf_free(&got);
	free(in);
}

static void register_mime_decode_stream(void)
{
	CU_pSuite s = CU_add_suite("mime-decode-stream", NULL, NULL);
	CU_add_test(s, "base64 at every split", test_stream_base64);
	CU_add_test(s, "quoted-printable at every split", test_stream_qp);
	CU_add_test(s, "random inputs and cuts", test_stream_random);
	CU_add_test(s, "long runs of blanks", test_stream_long_blanks);
}

UNIT_SUITE(register_mime_decode_stream)
