#include "unit.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/log.h"

static unit_register_fn *suites[128];
static size_t nsuites;

void unit_register(unit_register_fn *fn)
{
	if (nsuites < sizeof(suites) / sizeof(suites[0]))
		suites[nsuites++] = fn;
}

int main(void)
{
	log_init("unit", LOG_SINK_STDERR);
	log_set_level(LOG_LEVEL_ERROR);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (size_t i = 0; i < nsuites; i++)
		suites[i]();
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() +
			  CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
