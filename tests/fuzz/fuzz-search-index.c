/* libFuzzer target: the search index's decoders (store/search-index.h),
 * which read what is on disk: posting chunks (first byte of the input
 * picks the key's first id) and held document text records. Whatever
 * decodes must be ascending ids that encode back into a chunk decoding
 * alike. The token records are fuzz-search-token.c's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../store/search-index.h"

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
		/* the views stay inside the decoded blocks */
		for (size_t i = 0; i < d.nfields; i++)
			if (d.fields[i].name.p < (const uint8_t *)d.hdr.data ||
			    d.fields[i].name.p + d.fields[i].name.len >
			    (const uint8_t *)d.hdr.data + d.hdr.len)
				abort();
		if (d.body_text.len != d.body.len)
			abort();
	}
	sx_doc_free(&d);
	return 0;
}
