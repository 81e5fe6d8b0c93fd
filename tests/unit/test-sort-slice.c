/* SORT's sort in slices (sort-slice.h): for any slice size, the same
 * order as sort_msgs(), on arrays around the run length and larger. */
#include "unit.h"

#include "../../daemon/imap/sort-slice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fill(struct sort_msg *m, size_t n, uint32_t *seed)
{
	memset(m, 0, n * sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		m[i].uid = m[i].seq = (uint32_t)i + 1;
		m[i].size = (*seed >> 16) % 50;	/* many ties */
		m[i].sent = (*seed >> 8) % 7;
		/* subject and from point at static strings: not freed */
		m[i].subject = (char *)((*seed >> 4) % 3 ? "b" : "a");
		m[i].from = (char *)"";
	}
}

static void test_sort_slices(void)
{
	static const size_t sizes[] = { 0, 1, 2, 31, 32, 33, 64, 65, 100,
					1000, 4099 };
	static const size_t works[] = { 1, 7, 64, 1000, (size_t)-1 };
	struct sort_criteria crit;
	memset(&crit, 0, sizeof(crit));
	crit.count = 3;
	crit.keys[0].type = SORT_SUBJECT;
	crit.keys[1].type = SORT_SIZE;
	crit.keys[1].reverse = true;
	crit.keys[2].type = SORT_DATE;
	uint32_t seed = 99;
	bool all = true;
	for (size_t a = 0; a < sizeof(sizes) / sizeof(sizes[0]); a++) {
		size_t n = sizes[a];
		struct sort_msg *want = xcalloc(n + 1, sizeof(*want));
		struct sort_msg *got = xcalloc(n + 1, sizeof(*got));
		fill(want, n, &seed);
		for (size_t w = 0; w < sizeof(works) / sizeof(works[0]); w++) {
			memcpy(got, want, n * sizeof(*got));
			struct sort_msg *ref = xcalloc(n + 1, sizeof(*ref));
			memcpy(ref, want, n * sizeof(*ref));
			sort_msgs(&crit, ref, n);
			struct sort_slicer sl;
			sort_slicer_init(&sl, &crit, got, n);
			size_t steps = 0;
			while (sort_slicer_step(&sl, works[w]) == 0)
				steps++;
			sort_slicer_free(&sl);
			for (size_t i = 0; i < n; i++)
				if (got[i].uid != ref[i].uid) {
					if (all)
						fprintf(stderr, "\nn %zu work %zu: "
							"differs at %zu\n", n,
							works[w], i);
					all = false;
					break;
				}
			/* small slices really stop and go on */
			if (works[w] == 1 && n >= 1000)
				CU_ASSERT_TRUE(steps > 10);
			free(ref);
		}
		free(want);
		free(got);
	}
	CU_ASSERT_TRUE(all);
}

static void register_sort_slice(void)
{
	CU_pSuite s = CU_add_suite("sort-slice", NULL, NULL);
	CU_add_test(s, "same order as sort_msgs at any slice size",
		    test_sort_slices);
}

UNIT_SUITE(register_sort_slice)
