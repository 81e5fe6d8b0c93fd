/* libFuzzer target for modified UTF-7 and UTF-8 names (common/mutf7.c).
 *
 * Strict decoding means one spelling per name: whatever decodes must
 * encode back to exactly the input. Whatever is valid UTF-8 without NUL
 * must encode, and decode back to itself. */
#include "../../common/buf.h"
#include "../../common/mutf7.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *error = NULL;
	struct buf u, m;
	buf_init(&u);
	buf_init(&m);

	int r = mutf7_to_utf8(s, size, &u, &error);
	FUZZ_CHECK((r == 0) == mutf7_is_valid(s, size));
	if (r == 0) {
		FUZZ_CHECK(mutf7_utf8_is_valid((const char *)u.data, u.len));
		FUZZ_CHECK(u.len == 0 ||
			   memchr(u.data, '\0', u.len) == NULL);
		FUZZ_CHECK(mutf7_from_utf8((const char *)u.data, u.len, &m,
					   &error) == 0);
		FUZZ_CHECK(m.len == size &&
			   (size == 0 || memcmp(m.data, s, size) == 0));
	} else {
		FUZZ_CHECK(error != NULL && u.len == 0);
	}

	buf_clear(&u);
	buf_clear(&m);
	bool valid = mutf7_utf8_is_valid(s, size);
	if (mutf7_utf8_name_is_valid(s, size))
		FUZZ_CHECK(valid);
	r = mutf7_from_utf8(s, size, &m, &error);
	FUZZ_CHECK((r == 0) == (valid && (size == 0 ||
						memchr(s, '\0', size) == NULL)));
	if (r == 0) {
		for (size_t i = 0; i < m.len; i++)
			FUZZ_CHECK(m.data[i] >= 0x20 && m.data[i] <= 0x7e);
		FUZZ_CHECK(mutf7_to_utf8((const char *)m.data, m.len, &u,
					 &error) == 0);
		FUZZ_CHECK(u.len == size &&
			   (size == 0 || memcmp(u.data, s, size) == 0));
	}
	buf_free(&u);
	buf_free(&m);
	return 0;
}
