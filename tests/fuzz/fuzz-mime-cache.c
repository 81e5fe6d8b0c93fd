/* libFuzzer target for the decoders of the parsed-message cache record
 * (data read back from disk, never trusted). Arbitrary bytes go to every
 * reader; none may crash, leak or read out of bounds. A record that
 * decodes must re-encode to exactly the same bytes (the encoding is
 * canonical), and its BODYSTRUCTURE must come out the same through the
 * decoded tree and through the reader. */
#include "../../common/buf.h"
#include "../../store/mime-cache.h"
#include "../../store/mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a, b;
	const char *err = NULL;
	uint64_t o, l, msize;
	unsigned n;
	struct mime_search_fields sf;
	struct mime_text_part *tp;
	size_t ntp;
	buf_init(&a);
	buf_init(&b);

	int env_ok = mime_cache_envelope(data, size, &a, &err);
	FUZZ_CHECK(env_ok == 0 || err != NULL);
	buf_clear(&a);
	int bs_ok = mime_cache_bodystructure(data, size, true, &a, &err);
	mime_cache_bodystructure(data, size, false, &b, &err);
	buf_clear(&b);
	static const char *const secs[] = { "", "1", "1.2.MIME", "HEADER",
					    "2.TEXT", "1.1.1.HEADER" };
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		if (mime_cache_section(data, size, secs[i], &o, &l, &err) == 0)
			FUZZ_CHECK(mime_cache_message_size(data, size, &msize,
							   &err) == 0 &&
				   o <= msize && l <= msize - o);
	}
	mime_cache_part_count(data, size, &n, &err);
	mime_cache_search_fields(data, size, &sf, &err);
	if (mime_cache_text_parts(data, size, &tp, &ntp, &err) == 0)
		free(tp);

	struct mime_message *m;
	if (mime_cache_decode(data, size, &m, &err) == 0) {
		FUZZ_CHECK(env_ok == 0 && bs_ok == 0);
		mime_cache_encode(m, &b);
		FUZZ_CHECK(b.len == size && memcmp(b.data, data, size) == 0);
		buf_clear(&b);
		mime_bodystructure_write(m->root, true, &b);
		FUZZ_CHECK(a.len == b.len &&
			   (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
		mime_message_free(&m);
	} else {
		FUZZ_CHECK(err != NULL);
	}
	buf_free(&a);
	buf_free(&b);
	return 0;
}
