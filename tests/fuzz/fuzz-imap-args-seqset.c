/* libFuzzer target for sequence sets (daemon/imap/imap-seqset.c).
 *
 * Input: bytes 0-3 are the maximum to resolve "*" against, the rest the
 * sequence-set text. A parsed set must be normalised (sorted, disjoint,
 * non-adjacent, no 0), format to text that parses to the same set, and
 * after resolving agree between iteration, count, membership and last. */
#include "../../daemon/imap/imap-seqset.c"

#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void fuzz_check_normal(const struct imap_seqset *set)
{
	for (size_t i = 0; i < set->count; i++) {
		FUZZ_CHECK(set->ranges[i].lo >= 1);
		FUZZ_CHECK(set->ranges[i].lo <= set->ranges[i].hi);
		if (i > 0)
			FUZZ_CHECK((uint64_t)set->ranges[i - 1].hi + 1 <
				   set->ranges[i].lo);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_seqset set, again;
	const char *error = NULL;
	uint32_t max = 0;
	if (size < 4)
		return 0;
	memcpy(&max, data, 4);
	if (data[0] & 1)
		max %= 1000;	/* small maxima are the interesting ones */
	const char *s = (const char *)data + 4;
	size_t len = size - 4;
	if (imap_seqset_parse(s, len, true, 64, &set, &error) < 0) {
		FUZZ_CHECK(error != NULL);
		FUZZ_CHECK(set.count == 0 && set.ranges == NULL);
		return 0;
	}
	fuzz_check_normal(&set);
	FUZZ_CHECK(!set.saved || (set.count == 0 && !set.star));

	struct buf b;
	buf_init(&b);
	imap_seqset_format(&set, &b);
	FUZZ_CHECK(imap_seqset_parse((const char *)b.data, b.len, true, 1000,
				     &again, &error) == 0);
	FUZZ_CHECK(again.count == set.count && again.star == set.star &&
		   again.saved == set.saved);
	FUZZ_CHECK(set.count == 0 ||
		   memcmp(again.ranges, set.ranges,
			  set.count * sizeof(*set.ranges)) == 0);
	FUZZ_CHECK(!set.star || (again.star_lo == set.star_lo &&
				 again.star_hi == set.star_hi));
	imap_seqset_free(&again);

	bool had_star = set.star;
	imap_seqset_resolve(&set, max);
	fuzz_check_normal(&set);
	FUZZ_CHECK(!set.star);
	if (had_star && max > 0)
		FUZZ_CHECK(imap_seqset_contains(&set, max));

	uint64_t count = imap_seqset_count(&set);
	if (count <= 100000) {
		struct imap_seqset_iter it = IMAP_SEQSET_ITER_INIT;
		uint32_t n, prev = 0, last = 0;
		uint64_t seen = 0;
		while (imap_seqset_next(&set, &it, &n)) {
			FUZZ_CHECK(n > prev || seen == 0);
			FUZZ_CHECK(imap_seqset_contains(&set, n));
			if (seen > 0 && n != prev + 1)
				FUZZ_CHECK(!imap_seqset_contains(&set, prev + 1));
			prev = last = n;
			seen++;
		}
		FUZZ_CHECK(seen == count);
		FUZZ_CHECK(last == imap_seqset_last(&set));
	}
	FUZZ_CHECK(!imap_seqset_contains(&set, 0));

	/* rebuilding by adding ranges in reverse gives the same set */
	imap_seqset_init(&again);
	for (size_t i = set.count; i-- > 0;)
		imap_seqset_add(&again, set.ranges[i].hi, set.ranges[i].lo);
	FUZZ_CHECK(again.count == set.count);
	FUZZ_CHECK(set.count == 0 ||
		   memcmp(again.ranges, set.ranges,
			  set.count * sizeof(*set.ranges)) == 0);
	imap_seqset_free(&again);

	imap_seqset_clamp(&set, max / 2);
	fuzz_check_normal(&set);
	FUZZ_CHECK(imap_seqset_last(&set) <= max / 2);
	imap_seqset_free(&set);
	buf_free(&b);
	return 0;
}
