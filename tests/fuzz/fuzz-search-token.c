/* libFuzzer target: the search index's token decoders (store/
 * search-token.h), which read what is on disk: unit streams and merged
 * document records; and the tokenizer, which reads needles and text.
 * Whatever decodes must encode back to what decodes alike; tokens must
 * tile their input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../store/search-index.h"
#include "../../store/search-token.h"

static void check_unit(const uint8_t *p, size_t len)
{
	uint32_t *ids = NULL, *again = NULL;
	size_t n = 0, cap = 0, n2 = 0, cap2 = 0;
	if (sx_unit_decode(p, len, &ids, &n, &cap) == 0) {
		for (size_t i = 0; i < n; i++)
			if (ids[i] == 0 || ids[i] > SX_ID_MAX)
				abort();
		struct buf b;
		buf_init(&b);
		sx_unit_encode(ids, n, &b);
		/* past the length prefix */
		uint64_t ulen;
		size_t k = sx_varint_get((const uint8_t *)b.data, b.len,
					 &ulen);
		if (k == 0 || k + ulen != b.len ||
		    sx_unit_decode((const uint8_t *)b.data + k, (size_t)ulen,
				   &again, &n2, &cap2) < 0 ||
		    n2 != n || (n > 0 && memcmp(again, ids,
						n * sizeof(*ids)) != 0))
			abort();
		buf_free(&b);
	}
	free(ids);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_unit(data, size);

	struct sx_tdoc d = { 0 };
	if (sx_tdoc_parse(data, size, &d) == 0) {
		struct buf b;
		buf_init(&b);
		sx_tdoc_begin(&b);
		for (size_t i = 0; i < d.n; i++) {
			const struct sx_tunit *u = &d.u[i];
			if (u->ns >= SX_NS_COUNT ||
			    (u->named && u->ns != SX_NS_HEADER) ||
			    u->codes < data || u->codes + u->len > data + size)
				abort();
			check_unit(u->codes, u->len);
		}
		buf_free(&b);
	}
	sx_tdoc_free(&d);

	/* tokens tile the input, each at least one byte */
	size_t at = 0;
	while (at < size) {
		size_t n = sx_token_len(data + at, size - at, NULL);
		if (n == 0 || n > size - at)
			abort();
		at += n;
	}
	return 0;
}
