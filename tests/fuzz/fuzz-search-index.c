/* libFuzzer target: the search index's decoders (store/search-index.h),
 * which read what is on disk: posting chunks (first byte of the input
 * picks the key's first id) and document text records. Whatever decodes
 * must be ascending ids that encode back into a chunk decoding alike. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../store/search-index.h"

static void count_tri(void *ctx, uint32_t tri)
{
	if (tri > 0xffffff)
		abort();
	(*(size_t *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint64_t first = data[0] == 0xff ? UINT64_MAX - 100 : data[0];
	uint64_t *ids = NULL;
	size_t n = 0, cap = 0;
	if (sx_chunk_decode(data + 1, size - 1, first, &ids, &n, &cap) == 0) {
		if (n == 0 || ids[0] != first)
			abort();
		for (size_t i = 1; i < n; i++)
			if (ids[i] <= ids[i - 1])
				abort();
		struct buf b;
		buf_init(&b);
		sx_chunk_encode(ids, n, &b);
		uint64_t *again = NULL;
		size_t n2 = 0, cap2 = 0;
		if (sx_chunk_decode(b.data, b.len, first, &again, &n2,
				    &cap2) < 0 || n2 != n ||
		    memcmp(again, ids, n * sizeof(*ids)) != 0)
			abort();
		free(again);
		buf_free(&b);
	}
	free(ids);
	struct sx_doc d;
	sx_doc_init(&d);
	if (sx_doc_unpack(data, size, &d) == 0) {
		uint8_t *seen = calloc(1, SX_SEEN_BYTES);
		size_t count = 0;
		for (unsigned ns = 0; ns < SX_NS_COUNT; ns++)
			sx_doc_trigrams(&d, (enum sx_ns)ns, seen, count_tri,
					&count);
		/* the scratch bitmap is left clear */
		for (size_t i = 0; i < SX_SEEN_BYTES; i += 4096)
			if (seen[i] != 0)
				abort();
		free(seen);
	}
	sx_doc_free(&d);
	return 0;
}
