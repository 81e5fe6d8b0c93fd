/* store_uids_gallop against a plain lower bound, for queries in order,
 * out of order and past either end. */
#include "unit.h"

#include "../../store/store.h"

#include <stdlib.h>

static size_t lower_bound(const uint32_t *u, size_t n, uint32_t uid)
{
	size_t i = 0;
	while (i < n && u[i] < uid)
		i++;
	return i;
}

static void test_against_lower_bound(void)
{
	srand(7);
	size_t bad = 0;
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(rand() % 300);
		uint32_t *u = malloc((n + 1) * sizeof(*u));
		uint32_t v = 0;
		for (size_t i = 0; i < n; i++) {
			v += 1 + (uint32_t)(rand() % 5);
			u[i] = v;
		}
		size_t at = 0;
		uint32_t q = 0;
		for (int k = 0; k < 400; k++) {
			/* mostly ascending, sometimes back, sometimes past the
			 * end */
			if (rand() % 10 == 0)
				q = (uint32_t)(rand() % (v + 10));
			else
				q += (uint32_t)(rand() % 4);
			at = store_uids_gallop(u, n, at, q);
			if (at != lower_bound(u, n, q))
				bad++;
		}
		/* a stale hint beyond the array starts over */
		if (store_uids_gallop(u, n, n + 5, 1) != lower_bound(u, n, 1))
			bad++;
		free(u);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void uids_gallop_suite(void)
{
	CU_pSuite s = CU_add_suite("uids-gallop", NULL, NULL);
	CU_add_test(s, "against a lower bound", test_against_lower_bound);
}
UNIT_SUITE(uids_gallop_suite)
