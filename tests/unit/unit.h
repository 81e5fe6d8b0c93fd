/* CUnit runner glue: each test file registers its suite with UNIT_SUITE so
 * adding a test file needs no edit elsewhere. */
#ifndef POSTERN_UNIT_H
#define POSTERN_UNIT_H

#include <CUnit/CUnit.h>

typedef void unit_register_fn(void);
void unit_register(unit_register_fn *fn);

#define UNIT_SUITE(fn) \
	static void __attribute__((constructor)) unit_reg_##fn(void) \
	{ unit_register(fn); }

#endif
