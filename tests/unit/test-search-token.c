/* store/search-token.c and store/search-vocab.c: where the tokenizer
 * cuts (ASCII, punctuation runs, CJK one character a word, combining
 * marks, folded ß and dotless i), unit streams and merged records (round
 * trips, the single-space shortcut, malformed input refused, byte by
 * byte truncations), and the vocabulary (ids, lookups by substring,
 * prefix and suffix, truncation after a merge that did not commit). */
#include "unit.h"

#include "../../common/unicode-fold.h"
#include "../../store/search-index.h"
#include "../../store/search-token.h"
#include "../../store/search-vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tokens of s joined by "|", words marked with no prefix and
 * separators with "_". */
static void cut(const char *s, char *out, size_t cap)
{
	size_t len = strlen(s), at = 0, o = 0;
	out[0] = '\0';
	while (at < len) {
		bool word;
		size_t n = sx_token_len((const uint8_t *)s + at, len - at,
					&word);
		o += (size_t)snprintf(out + o, cap - o, "%s%s%.*s",
				      at > 0 ? "|" : "", word ? "" : "_",
				      (int)n, s + at);
		at += n;
	}
}

static void check_cut(const char *s, const char *want)
{
	char got[512];
	cut(s, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\ncut(%s) = %s, want %s\n", s, got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
}

static void test_tokenizer(void)
{
	check_cut("hello world", "hello|_ |world");
	check_cut("a, b.", "a|_, |b|_.");
	check_cut("  x  ", "_  |x|_  ");
	check_cut("user.name@host.example>",
		  "user|_.|name|_@|host|_.|example|_>");
	check_cut("abc123def", "abc123def");
	check_cut("\r\n-- \r\n", "_\r\n-- \r\n");
	/* CJK and kana: a word each; Latin beside them is its own word */
	check_cut("日本語", "日|本|語");
	check_cut("x日本y", "x|日|本|y");
	check_cut("カナ、です", "カ|ナ|_、|で|す");
	/* a combining mark stays in its word */
	check_cut("cafe\xcc\x81 ok", "cafe\xcc\x81|_ |ok");
	/* Cyrillic, Greek: letters */
	check_cut("привет мир", "привет|_ |мир");
	/* NBSP, general punctuation and emoji separate */
	check_cut("a\xc2\xa0" "b\xe2\x80\x94" "c\xf0\x9f\x98\x80" "d",
		  "a|_\xc2\xa0|b|_\xe2\x80\x94|c|_\xf0\x9f\x98\x80|d");
	/* invalid bytes: one separator byte each, never a crash */
	check_cut("a\xff" "b", "a|_\xff|b");
}

/* After folding (what the index cuts): ß stays a letter of its word,
 * dotless ı and İ fold into letters. */
static void test_tokenizer_folded(void)
{
	struct buf b;
	buf_init(&b);
	const char *in = "STRAẞE İstanbul ıslak";
	unicode_fold_utf8((const uint8_t *)in, strlen(in), &b);
	buf_append_byte(&b, 0);
	char got[256];
	cut((const char *)b.data, got, sizeof(got));
	/* three words, two separators, whatever the folding made */
	size_t bars = 0, seps = 0;
	for (const char *p = got; *p; p++) {
		bars += *p == '|';
		seps += *p == '_';
	}
	CU_ASSERT_EQUAL(bars, 4);
	CU_ASSERT_EQUAL(seps, 2);
	buf_free(&b);
}

static void unit_roundtrip(const uint32_t *ids, size_t n, size_t want_len)
{
	struct buf b;
	buf_init(&b);
	sx_unit_encode(ids, n, &b);
	uint64_t len;
	size_t k = sx_varint_get((const uint8_t *)b.data, b.len, &len);
	CU_ASSERT_FATAL(k > 0 && k + len == b.len);
	if (want_len != 0)
		CU_ASSERT_EQUAL(len, want_len);
	uint32_t *got = NULL;
	size_t gn = 0, cap = 0;
	CU_ASSERT_FATAL(sx_unit_decode((const uint8_t *)b.data + k,
				       (size_t)len, &got, &gn, &cap) == 0);
	CU_ASSERT_EQUAL(gn, n);
	CU_ASSERT(gn == n && (n == 0 || memcmp(got, ids, n * 4) == 0));
	free(got);
	buf_free(&b);
}

static void test_unit_codec(void)
{
	/* "w1 w2, w3": the spaces ride on the words' codes */
	uint32_t a[] = { 10, SX_ID_SPACE, 11, 20, 12 };
	unit_roundtrip(a, 5, 4);
	/* a unit starting with a space, two spaces apart, large ids */
	uint32_t b[] = { SX_ID_SPACE, 5000, SX_ID_SPACE, 70000,
			 SX_ID_SPACE, SX_ID_MAX };
	unit_roundtrip(b, 6, 0);
	unit_roundtrip(NULL, 0, 0);
	uint32_t one[] = { 2 };
	unit_roundtrip(one, 1, 1);

	/* refused: id 0, overlong, cut, above 2^31 */
	static const struct {
		const char *p;
		size_t n;
	} bad[] = {
		{ "\x00", 1 }, { "\x01", 1 }, { "\x84\x00", 2 },
		{ "\x84", 1 }, { "\x04\x84", 2 },
		{ "\xff\xff\xff\xff\x7f", 5 }, { "\x80\x80\x80\x80\x80\x01", 6 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t *ids = NULL;
		size_t n = 0, cap = 0;
		CU_ASSERT_EQUAL(sx_unit_decode((const uint8_t *)bad[i].p,
					       bad[i].n, &ids, &n, &cap), -1);
		free(ids);
	}
}

static void test_tdoc(void)
{
	struct buf rec;
	buf_init(&rec);
	uint32_t f[] = { 7, SX_ID_SPACE, 8 };
	uint32_t body[] = { 9, 3, 9 };
	sx_tdoc_begin(&rec);
	sx_tdoc_unit(&rec, SX_NS_SUBJECT, NULL, 0, f, 3);
	sx_tdoc_unit(&rec, SX_NS_HEADER, (const uint8_t *)"Subject", 7, f, 3);
	sx_tdoc_unit(&rec, SX_NS_BODY, NULL, 0, body, 3);
	sx_tdoc_unit(&rec, SX_NS_FROM, NULL, 0, NULL, 0);
	struct sx_tdoc d = { 0 };
	CU_ASSERT_FATAL(sx_tdoc_parse((const uint8_t *)rec.data, rec.len,
				      &d) == 0);
	CU_ASSERT_EQUAL_FATAL(d.n, 4);
	CU_ASSERT_EQUAL(d.u[0].ns, SX_NS_SUBJECT);
	CU_ASSERT(!d.u[0].named);
	CU_ASSERT(d.u[1].named && d.u[1].name_len == 7 &&
		  memcmp(d.u[1].name, "Subject", 7) == 0);
	CU_ASSERT_EQUAL(d.u[2].ns, SX_NS_BODY);
	CU_ASSERT_EQUAL(d.u[3].len, 0);
	uint32_t *ids = NULL;
	size_t n = 0, cap = 0;
	CU_ASSERT(sx_unit_decode(d.u[2].codes, d.u[2].len, &ids, &n,
				 &cap) == 0 && n == 3 && ids[1] == 3);
	free(ids);
	/* truncations: refused, or (cut between units) fewer units */
	for (size_t cut = 0; cut < rec.len; cut++) {
		int r = sx_tdoc_parse((const uint8_t *)rec.data, cut, &d);
		CU_ASSERT(r == -1 || d.n < 4);
	}
	/* a name on a unit that is not HEADER, a namespace past the last,
	 * another version: refused */
	static const struct {
		const char *p;
		size_t n;
	} bad[] = {
		{ "\x02\x86\x01x\x00", 5 }, { "\x02\x07\x00", 3 },
		{ "\x01\x06\x00", 3 }, { "", 0 }, { "\x02\x06\x05\x04", 4 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(sx_tdoc_parse((const uint8_t *)bad[i].p,
					      bad[i].n, &d), -1);
	sx_tdoc_free(&d);
	buf_free(&rec);
}

static size_t match(const struct sx_vocab *v, const char *s,
		    enum sx_vmatch how, uint32_t *first_r)
{
	uint32_t *ids = NULL;
	size_t n = 0, cap = 0;
	sx_vocab_match(v, (const uint8_t *)s, strlen(s), how, &ids, &n, &cap);
	for (size_t i = 1; i < n; i++)
		CU_ASSERT(ids[i] > ids[i - 1]);
	if (first_r != NULL)
		*first_r = n > 0 ? ids[0] : 0;
	free(ids);
	return n;
}

static void test_vocab(void)
{
	struct sx_vocab v;
	sx_vocab_init(&v);
	static const char *const words[] = {
		" ", "alpha", "alphabet", "betamax", "gamma", ", ", "ab",
		"lab", "a",
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		CU_ASSERT_EQUAL(sx_vocab_add(&v, (const uint8_t *)words[i],
					     strlen(words[i])), i + 1);
	CU_ASSERT_EQUAL(sx_vocab_find(&v, (const uint8_t *)" ", 1),
			SX_ID_SPACE);
	CU_ASSERT_EQUAL(sx_vocab_find(&v, (const uint8_t *)"gamma", 5), 5);
	CU_ASSERT_EQUAL(sx_vocab_find(&v, (const uint8_t *)"gam", 3), 0);
	uint32_t first;
	CU_ASSERT_EQUAL(match(&v, "pha", SX_VM_SUBSTR, &first), 2);
	CU_ASSERT_EQUAL(first, 2);
	CU_ASSERT_EQUAL(match(&v, "ab", SX_VM_SUBSTR, NULL), 3);
	CU_ASSERT_EQUAL(match(&v, "a", SX_VM_SUBSTR, NULL), 7);
	/* a hit across two strings ("ab" + "lab" holds "bl") is none */
	CU_ASSERT_EQUAL(match(&v, "bl", SX_VM_SUBSTR, NULL), 0);
	CU_ASSERT_EQUAL(match(&v, "alpha", SX_VM_PREFIX, NULL), 2);
	CU_ASSERT_EQUAL(match(&v, "bet", SX_VM_SUFFIX, NULL), 1);
	CU_ASSERT_EQUAL(match(&v, "ab", SX_VM_SUFFIX, NULL), 2);
	CU_ASSERT_EQUAL(match(&v, "ma", SX_VM_SUFFIX, NULL), 1);
	CU_ASSERT_EQUAL(match(&v, "zzz", SX_VM_SUBSTR, NULL), 0);
	/* the index's own entries (0xFF first: pairs) match no needle, even
	 * where their bytes would */
	CU_ASSERT_EQUAL(sx_vocab_add(&v, (const uint8_t *)"\xff" "alp", 4), 10);
	CU_ASSERT_EQUAL(match(&v, "alp", SX_VM_SUBSTR, NULL), 2);
	CU_ASSERT_EQUAL(match(&v, "lp", SX_VM_SUBSTR, NULL), 2);
	CU_ASSERT_EQUAL(match(&v, "alp", SX_VM_SUFFIX, NULL), 0);
	CU_ASSERT_EQUAL(sx_vocab_find(&v, (const uint8_t *)"\xff" "alp", 4),
			10);
	/* many entries: the hash and the trigram index grow */
	char w[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(w, sizeof(w), "w%dq", i);
		sx_vocab_add(&v, (const uint8_t *)w, strlen(w));
	}
	CU_ASSERT_EQUAL(sx_vocab_find(&v, (const uint8_t *)"w12345q", 7),
			10 + 12345 + 1);
	CU_ASSERT_EQUAL(match(&v, "1234", SX_VM_SUBSTR, NULL), 12);
	CU_ASSERT(sx_vocab_bytes(&v) > 20000 * 8);
	/* ranks count tokens only: 9 before the 0xFF entry (id 10), so
	 * the 128th token is id 129 and the 256th id 257 */
	CU_ASSERT_EQUAL(v.rank_id[0], 129);
	CU_ASSERT_EQUAL(v.rank_id[1], 257);
	/* a merge that did not commit: its entries go */
	sx_vocab_truncate(&v, 5);
	CU_ASSERT_EQUAL(v.count, 5);
	CU_ASSERT(v.tokens == 5 && v.rank_id[0] == 0 && v.rank_id[1] == 0);
	CU_ASSERT_EQUAL(sx_vocab_find(&v, (const uint8_t *)"w1q", 3), 0);
	CU_ASSERT_EQUAL(match(&v, "1234", SX_VM_SUBSTR, NULL), 0);
	CU_ASSERT_EQUAL(match(&v, "alpha", SX_VM_SUBSTR, NULL), 2);
	CU_ASSERT_EQUAL(sx_vocab_add(&v, (const uint8_t *)"new", 3), 6);
	CU_ASSERT_EQUAL(sx_vocab_find(&v, (const uint8_t *)"new", 3), 6);
	CU_ASSERT_EQUAL(sx_vocab_find(&v, (const uint8_t *)"\xff" "alp", 4),
			0);
	sx_vocab_free(&v);
}

static void register_search_token(void)
{
	CU_pSuite s = CU_add_suite("search_token", NULL, NULL);
	CU_add_test(s, "tokenizer boundaries", test_tokenizer);
	CU_add_test(s, "tokenizer on folded text", test_tokenizer_folded);
	CU_add_test(s, "unit stream codec", test_unit_codec);
	CU_add_test(s, "merged record codec", test_tdoc);
	CU_add_test(s, "vocabulary", test_vocab);
}
UNIT_SUITE(register_search_token)
