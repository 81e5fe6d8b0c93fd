/* libFuzzer target for the SEARCH text matcher (daemon/imap/search-match.c)
 * and case folding (common/unicode-fold.c).
 *
 * Input: byte 0 picks the key (SUBJECT .. TEXT, HEADER), byte 1 the
 * needle length n, then n bytes of search string, then the message. No
 * crash, leak or out-of-bounds read; the answer is the same from the
 * bytes alone and through a cache record built from them; the sent date
 * is the same both ways. Folding: folding folded text changes nothing,
 * and a valid UTF-8 substring of valid UTF-8 text is still found after
 * both are folded (folding is per code point); folding raw bytes equals
 * folding them after charset_to_utf8("utf-8"), which the matcher's fast
 * path relies on. */
#include "../../daemon/imap/search-match.c"

#include "../../common/unicode-fold.h"
#include "../../store/charset.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const enum imap_search_type fuzz_types[] = {
	IMAP_SEARCH_SUBJECT, IMAP_SEARCH_FROM, IMAP_SEARCH_TO, IMAP_SEARCH_CC,
	IMAP_SEARCH_BCC, IMAP_SEARCH_HEADER, IMAP_SEARCH_BODY, IMAP_SEARCH_TEXT,
};

static void fuzz_fold(const uint8_t *s, size_t len, size_t a, size_t b)
{
	struct buf f1, f2, nf;
	buf_init(&f1);
	buf_init(&f2);
	buf_init(&nf);
	unicode_fold_utf8(s, len, &f1);
	unicode_fold_utf8(f1.data, f1.len, &f2);
	FUZZ_CHECK(f1.len == f2.len &&
		   (f1.len == 0 || memcmp(f1.data, f2.data, f1.len) == 0));
	FUZZ_CHECK(charset_is_utf8(f1.data, f1.len));
	/* the matcher folds UTF-8 and US-ASCII text parts without
	 * charset_to_utf8(): folding must give the same either way */
	struct buf san;
	buf_init(&san);
	buf_clear(&f2);
	FUZZ_CHECK(charset_to_utf8("utf-8", 5, s, len, &san) == 0);
	unicode_fold_utf8(san.data, san.len, &f2);
	FUZZ_CHECK(f1.len == f2.len &&
		   (f1.len == 0 || memcmp(f1.data, f2.data, f1.len) == 0));
	buf_free(&san);
	if (len > 0 && charset_is_utf8(s, len)) {
		size_t lo = a % len, n = b % (len - lo + 1);
		if (charset_is_utf8(s + lo, n) && n > 0) {
			unicode_fold_utf8(s + lo, n, &nf);
			FUZZ_CHECK(memmem(f1.data, f1.len, nf.data, nf.len) !=
				   NULL);
		}
	}
	buf_free(&f1);
	buf_free(&f2);
	buf_free(&nf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	enum imap_search_type type =
		fuzz_types[data[0] % (sizeof(fuzz_types) / sizeof(fuzz_types[0]))];
	size_t n = data[1];
	if (n > size - 2)
		n = size - 2;
	const uint8_t *needle = data + 2;
	const uint8_t *msg = data + 2 + n;
	size_t len = size - 2 - n;

	fuzz_fold(data + 2, size - 2, data[0], data[1]);

	/* search strings are UTF-8 without NUL (the parser's promise) */
	if (memchr(needle, 0, n) != NULL || !charset_is_utf8(needle, n))
		return 0;
	char *str = strndup((const char *)needle, n);
	struct search_text_key k;
	const char *err = NULL;
	search_text_key_init(&k, type,
			     type == IMAP_SEARCH_HEADER ? "X-Fuzz" : NULL,
			     str, n);

	struct search_message m;
	struct imap_date d1, d2;
	search_message_init(&m, msg, len, NULL, 0);
	int r1 = search_match_text(&m, &k, &err);
	int s1 = search_message_sent_date(&m, &d1, &err);
	search_message_free(&m);

	struct buf cache;
	buf_init(&cache);
	mime_cache_build(msg, len, NULL, &cache);
	search_message_init(&m, msg, len, cache.data, cache.len);
	int r2 = search_match_text(&m, &k, &err);
	int s2 = search_message_sent_date(&m, &d2, &err);
	search_message_free(&m);

	FUZZ_CHECK(r1 == 0 || r1 == 1);
	FUZZ_CHECK(r1 == r2);
	FUZZ_CHECK(s1 == s2);
	if (s1 == 1)
		FUZZ_CHECK(d1.year == d2.year && d1.month == d2.month &&
			   d1.day == d2.day);
	buf_free(&cache);
	search_text_key_free(&k);
	free(str);
	return 0;
}
