/* libFuzzer target for the incremental base64 and quoted-printable
 * decoders (FETCH BINARY of large parts): the input, cut into pieces at
 * points the first bytes choose, must decode to exactly what the
 * one-shot decoder gives for the whole. Byte 0 picks the decoder, bytes
 * 1-4 the cuts; the rest is the encoded body. */
#include "../../common/buf.h"
#include "../../store/mime-decode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define FUZZ_CUTS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 + FUZZ_CUTS)
		return 0;
	bool qp = data[0] & 1;
	const uint8_t *in = data + 1 + FUZZ_CUTS;
	size_t len = size - 1 - FUZZ_CUTS;
	size_t cuts[FUZZ_CUTS + 1];
	/* ascending cut points from the chosen bytes */
	size_t at = 0;
	for (size_t i = 0; i < FUZZ_CUTS; i++) {
		size_t left = len - at;
		at += left ? data[1 + i] % (left + 1) : 0;
		cuts[i] = at;
	}
	cuts[FUZZ_CUTS] = len;

	struct buf want, got;
	buf_init(&want);
	buf_init(&got);
	if (qp)
		mime_decode_qp(in, len, &want);
	else
		mime_decode_base64(in, len, &want);
	struct mime_decoder d;
	mime_decoder_init(&d, qp ? MIME_DECODER_QP : MIME_DECODER_BASE64);
	size_t from = 0;
	for (size_t i = 0; i <= FUZZ_CUTS; i++) {
		mime_decoder_feed(&d, in + from, cuts[i] - from, &got);
		from = cuts[i];
	}
	mime_decoder_finish(&d, &got);
	mime_decoder_free(&d);
	FUZZ_CHECK(got.len == want.len &&
		   (got.len == 0 || memcmp(got.data, want.data, got.len) == 0));

	/* and one byte at a time */
	buf_clear(&got);
	mime_decoder_init(&d, qp ? MIME_DECODER_QP : MIME_DECODER_BASE64);
	for (size_t i = 0; i < len; i++)
		mime_decoder_feed(&d, in + i, 1, &got);
	mime_decoder_finish(&d, &got);
	mime_decoder_free(&d);
	FUZZ_CHECK(got.len == want.len &&
		   (got.len == 0 || memcmp(got.data, want.data, got.len) == 0));
	buf_free(&want);
	buf_free(&got);
	return 0;
}
