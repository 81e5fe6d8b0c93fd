/* The parsed-message cache record: everything read back from the record
 * equals what the parse tree gives directly, for every corpus message and
 * every truncation of it (the robustness test: each prefix of a message is
 * a malformed message), and malformed records (truncated, bit-flipped,
 * wrong version, trailing bytes, hand-made bad shapes) are rejected
 * without a crash. */
#include "unit.h"

#include "../../store/mime-cache.h"
#include "../../store/mime.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *load_path(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct buf b;
	buf_init(&b);
	uint8_t tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	*len_r = b.len;
	buf_append_byte(&b, 0);
	return b.data;
}

/* Calls fn for every file in tests/data/mime/. */
static unsigned for_each_corpus(void (*fn)(const char *name,
					   const uint8_t *data, size_t len))
{
	const char *dir = getenv("POSTERN_SRCDIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/data/mime",
		 dir != NULL ? dir : ".");
	DIR *d = opendir(path);
	unsigned n = 0;
	if (d == NULL) {
		CU_FAIL("tests/data/mime missing");
		return 0;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t nl = strlen(e->d_name);
		if (nl < 5 || strcmp(e->d_name + nl - 4, ".eml") != 0)
			continue;
		char file[1024];
		size_t len;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		uint8_t *data = load_path(file, &len);
		CU_ASSERT_PTR_NOT_NULL(data);
		if (data != NULL) {
			fn(e->d_name, data, len);
			free(data);
			n++;
		}
	}
	closedir(d);
	return n;
}

static bool buf_eq(const struct buf *a, const struct buf *b)
{
	return a->len == b->len &&
	       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool str_eq(struct mime_str a, struct mime_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
}

static const char *const suffixes[] = { "", ".MIME", ".HEADER", ".TEXT" };

/* Compares every reader of the record with the tree; false on the first
 * difference (reported once by the caller). */
static bool cache_matches(const uint8_t *data, size_t len,
			  const char **what_r)
{
	struct mime_message *m = mime_parse(data, len, NULL);
	struct buf rec, a, b;
	buf_init(&rec);
	buf_init(&a);
	buf_init(&b);
	const char *err = NULL;
	bool ok = false;
	mime_cache_encode(m, &rec);

	*what_r = "envelope";
	mime_envelope_write(m->root->env, &a);
	if (mime_cache_envelope(rec.data, rec.len, &b, &err) != 0 ||
	    !buf_eq(&a, &b))
		goto out;
	for (int ext = 0; ext < 2; ext++) {
		*what_r = "bodystructure";
		buf_clear(&a);
		buf_clear(&b);
		mime_bodystructure_write(m->root, ext, &a);
		if (mime_cache_bodystructure(rec.data, rec.len, ext, &b,
					     &err) != 0 || !buf_eq(&a, &b))
			goto out;
	}
	*what_r = "counts";
	unsigned nparts;
	uint64_t size;
	if (mime_cache_part_count(rec.data, rec.len, &nparts, &err) != 0 ||
	    nparts != m->nparts ||
	    mime_cache_message_size(rec.data, rec.len, &size, &err) != 0 ||
	    size != len)
		goto out;
	*what_r = "search fields";
	struct mime_search_fields sf;
	if (mime_cache_search_fields(rec.data, rec.len, &sf, &err) != 0 ||
	    !str_eq(sf.subject, m->search.subject) ||
	    !str_eq(sf.from, m->search.from) || !str_eq(sf.to, m->search.to) ||
	    !str_eq(sf.cc, m->search.cc) || !str_eq(sf.bcc, m->search.bcc) ||
	    sf.date_valid != m->search.date_valid ||
	    sf.date != m->search.date)
		goto out;
	*what_r = "text parts";
	struct mime_text_part *t1, *t2;
	size_t n1 = mime_text_parts(m, &t1), n2;
	int r = mime_cache_text_parts(rec.data, rec.len, &t2, &n2, &err);
	bool same = r == 0 && n1 == n2;
	for (size_t i = 0; same && i < n1; i++)
		same = t1[i].body_off == t2[i].body_off &&
		       t1[i].body_len == t2[i].body_len &&
		       t1[i].enc == t2[i].enc &&
		       str_eq(t1[i].charset, t2[i].charset) &&
		       str_eq(t1[i].subtype, t2[i].subtype) &&
		       t1[i].body_off + t1[i].body_len <= len;
	free(t1);
	free(t2);
	if (!same)
		goto out;
	*what_r = "sections";
	char sec[64];
	for (unsigned i = 0; i <= 3 * 3 + 3; i++) {
		/* "", "HEADER", "TEXT", then 1..3 and 1.1..3.3 */
		for (size_t s = 0; s < 4; s++) {
			if (i == 0)
				snprintf(sec, sizeof(sec), "%s",
					 s == 0 ? "" : suffixes[s] + 1);
			else if (i <= 3)
				snprintf(sec, sizeof(sec), "%u%s", i,
					 suffixes[s]);
			else
				snprintf(sec, sizeof(sec), "%u.%u%s",
					 (i - 4) / 3 + 1, (i - 4) % 3 + 1,
					 suffixes[s]);
			uint64_t o1 = 0, l1 = 0, o2 = 0, l2 = 0;
			int r1 = mime_section_find(m, sec, &o1, &l1);
			int r2 = mime_cache_section(rec.data, rec.len, sec,
						    &o2, &l2, &err);
			if (r1 == 0 ? r2 != 0 || o1 != o2 || l1 != l2 ||
				      o1 > len || l1 > len - o1
				    : r2 != 1)
				goto out;
		}
	}
	ok = true;
out:
	mime_message_free(&m);
	buf_free(&rec);
	buf_free(&a);
	buf_free(&b);
	return ok;
}

static void roundtrip_file(const char *name, const uint8_t *data, size_t len)
{
	const char *what;
	bool ok = cache_matches(data, len, &what);
	if (!ok)
		fprintf(stderr, "\n%s: cache %s differs\n", name, what);
	CU_ASSERT_TRUE(ok);
}

static void test_roundtrip(void)
{
	CU_ASSERT_TRUE(for_each_corpus(roundtrip_file) >= 15);
}

/* Every prefix of every corpus message: a parse that never crashes and
 * a record that agrees with it. */
static void truncations_file(const char *name, const uint8_t *data,
			     size_t len)
{
	for (size_t cut = 0; cut <= len; cut++) {
		/* a copy of exactly cut bytes, so ASan sees any overread */
		uint8_t *copy = xmalloc(cut);
		memcpy(copy, data, cut);
		const char *what;
		bool ok = cache_matches(copy, cut, &what);
		free(copy);
		if (!ok) {
			fprintf(stderr, "\n%s cut at %zu: cache %s differs\n",
				name, cut, what);
			CU_FAIL("truncated message");
			return;
		}
	}
}

static void test_truncations(void)
{
	for_each_corpus(truncations_file);
}

/* Feeds a record to every reader; returns how many accepted it. */
static unsigned read_all(const uint8_t *rec, size_t len)
{
	struct buf out;
	buf_init(&out);
	const char *err;
	unsigned ok = 0;
	uint64_t o, l, size;
	unsigned n;
	struct mime_search_fields sf;
	struct mime_text_part *tp;
	size_t ntp;
	struct mime_message *m;
	ok += mime_cache_envelope(rec, len, &out, &err) == 0;
	ok += mime_cache_bodystructure(rec, len, true, &out, &err) == 0;
	ok += mime_cache_bodystructure(rec, len, false, &out, &err) == 0;
	ok += mime_cache_section(rec, len, "1.1", &o, &l, &err) >= 0;
	ok += mime_cache_message_size(rec, len, &size, &err) == 0;
	ok += mime_cache_part_count(rec, len, &n, &err) == 0;
	ok += mime_cache_search_fields(rec, len, &sf, &err) == 0;
	if (mime_cache_text_parts(rec, len, &tp, &ntp, &err) == 0) {
		ok++;
		free(tp);
	}
	if (mime_cache_decode(rec, len, &m, &err) == 0) {
		ok++;
		mime_message_free(&m);
	}
	buf_free(&out);
	return ok;
}

static void corrupt_file(const char *name, const uint8_t *data, size_t len)
{
	struct buf rec;
	buf_init(&rec);
	mime_cache_build(data, len, NULL, &rec);
	CU_ASSERT_EQUAL(read_all(rec.data, rec.len), 9);
	/* every proper prefix is rejected by every reader that looks at
	 * the frame (all of them) */
	for (size_t cut = 0; cut < rec.len; cut++) {
		uint8_t *copy = xmalloc(cut);
		memcpy(copy, rec.data, cut);
		unsigned ok = read_all(copy, cut);
		free(copy);
		if (ok != 0) {
			fprintf(stderr, "\n%s: record cut at %zu accepted\n",
				name, cut);
			CU_FAIL("truncated record accepted");
			break;
		}
	}
	/* one trailing byte */
	buf_append_byte(&rec, 0);
	CU_ASSERT_EQUAL(read_all(rec.data, rec.len), 0);
	rec.len--;
	/* every byte changed: no crash (ASan), whatever the verdict */
	for (size_t i = 0; i < rec.len; i++) {
		static const uint8_t deltas[] = { 0xff, 0x01, 0x80, 0x7f };
		for (size_t k = 0; k < sizeof(deltas); k++) {
			uint8_t *copy = xmalloc(rec.len);
			memcpy(copy, rec.data, rec.len);
			copy[i] ^= deltas[k];
			read_all(copy, rec.len);
			free(copy);
		}
	}
	/* another version */
	rec.data[3]++;
	CU_ASSERT_EQUAL(read_all(rec.data, rec.len), 0);
	buf_free(&rec);
}

static void test_corrupt(void)
{
	for_each_corpus(corrupt_file);
}

static void put_varint(struct buf *b, uint64_t v)
{
	do {
		uint8_t c = v & 0x7f;
		v >>= 7;
		buf_append_byte(b, v ? (uint8_t)(c | 0x80) : c);
	} while (v);
}

static void put_str(struct buf *b, const char *s)
{
	put_varint(b, strlen(s));
	buf_append_str(b, s);
}

/* A record with an empty envelope and search block and the given parts
 * block. */
static void make_record(struct buf *rec, uint64_t size, const struct buf *parts)
{
	struct buf env, search;
	buf_init(&env);
	buf_init(&search);
	for (int i = 0; i < 2; i++)
		put_varint(&env, 0);
	for (int i = 0; i < 6; i++)
		put_varint(&env, 0);
	for (int i = 0; i < 2; i++)
		put_varint(&env, 0);
	for (int i = 0; i < 5; i++)
		put_varint(&search, 0);
	put_varint(&search, 0);
	put_varint(&search, 0);
	buf_append(rec, "PMC\x01", 4);
	put_varint(rec, size);
	put_varint(rec, env.len);
	buf_append(rec, env.data, env.len);
	put_varint(rec, search.len);
	buf_append(rec, search.data, search.len);
	put_varint(rec, parts->len);
	buf_append(rec, parts->data, parts->len);
	buf_free(&env);
	buf_free(&search);
}

/* One part: flags, nchildren, ranges, type/subtype and empty fields. */
static void put_part(struct buf *b, unsigned flags, unsigned nchildren,
		     uint64_t hoff, uint64_t hlen, uint64_t boff,
		     uint64_t blen, uint64_t lines, const char *type,
		     const char *subtype)
{
	put_varint(b, flags);
	put_varint(b, nchildren);
	put_varint(b, hoff);
	put_varint(b, hlen);
	put_varint(b, boff);
	put_varint(b, blen);
	put_varint(b, lines);
	put_str(b, type);
	put_str(b, subtype);
	put_varint(b, 0);	/* params */
	put_varint(b, 0);	/* id */
	put_varint(b, 0);	/* desc */
	put_varint(b, 0);	/* location */
	put_varint(b, 0);	/* enc */
	put_str(b, "7BIT");
	put_varint(b, 0);	/* disp */
	put_varint(b, 0);	/* disp params */
	put_varint(b, 0);	/* languages */
}

static int bs_of(const struct buf *rec, struct buf *out)
{
	const char *err;
	buf_clear(out);
	return mime_cache_bodystructure(rec->data, rec->len, true, out, &err);
}

static void test_bad_shapes(void)
{
	struct buf parts, rec, out;
	buf_init(&parts);
	buf_init(&rec);
	buf_init(&out);
	const unsigned ENV = MIME_PART_HAS_ENVELOPE;

#define TRY(expect) do { buf_clear(&rec); make_record(&rec, 100, &parts); \
	CU_ASSERT_EQUAL(bs_of(&rec, &out), expect); buf_clear(&parts); \
	} while (0)

	/* the hand-made encoder agrees with the real one */
	put_varint(&parts, 1);
	put_part(&parts, ENV, 0, 0, 10, 10, 90, 3, "TEXT", "PLAIN");
	TRY(0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&out), "(\"TEXT\" \"PLAIN\" NIL NIL "
			       "NIL \"7BIT\" 90 3 NIL NIL NIL NIL)");
	/* body past the message */
	put_varint(&parts, 1);
	put_part(&parts, ENV, 0, 0, 10, 10, 91, 3, "TEXT", "PLAIN");
	TRY(-1);
	/* offset overflow */
	put_varint(&parts, 1);
	put_part(&parts, ENV, 0, 0, 10, 10, UINT64_MAX, 3, "TEXT", "PLAIN");
	TRY(-1);
	/* header and body not adjacent */
	put_varint(&parts, 1);
	put_part(&parts, ENV, 0, 0, 10, 11, 10, 3, "TEXT", "PLAIN");
	TRY(-1);
	/* more lines than bytes */
	put_varint(&parts, 1);
	put_part(&parts, ENV, 0, 0, 10, 10, 5, 6, "TEXT", "PLAIN");
	TRY(-1);
	/* root without envelope flag */
	put_varint(&parts, 1);
	put_part(&parts, 0, 0, 0, 10, 10, 5, 1, "TEXT", "PLAIN");
	TRY(-1);
	/* unknown flag */
	put_varint(&parts, 1);
	put_part(&parts, ENV | 0x100, 0, 0, 10, 10, 5, 1, "TEXT", "PLAIN");
	TRY(-1);
	/* leaf with children */
	put_varint(&parts, 2);
	put_part(&parts, ENV, 1, 0, 10, 10, 5, 1, "TEXT", "PLAIN");
	put_part(&parts, 0, 0, 10, 0, 10, 5, 1, "TEXT", "PLAIN");
	TRY(-1);
	/* multipart with no children, or typed as something else */
	put_varint(&parts, 1);
	put_part(&parts, ENV | MIME_PART_MULTIPART, 0, 0, 10, 10, 5, 1,
		 "MULTIPART", "MIXED");
	TRY(-1);
	put_varint(&parts, 2);
	put_part(&parts, ENV | MIME_PART_MULTIPART, 1, 0, 10, 10, 90, 1,
		 "TEXT", "PLAIN");
	put_part(&parts, 0, 0, 10, 0, 10, 5, 1, "TEXT", "PLAIN");
	TRY(-1);
	/* valid multipart, then child outside the parent and overlapping
	 * siblings */
	put_varint(&parts, 3);
	put_part(&parts, ENV | MIME_PART_MULTIPART, 2, 0, 10, 10, 90, 1,
		 "MULTIPART", "MIXED");
	put_part(&parts, 0, 0, 12, 0, 12, 5, 1, "TEXT", "PLAIN");
	put_part(&parts, 0, 0, 20, 0, 20, 5, 1, "TEXT", "PLAIN");
	TRY(0);
	put_varint(&parts, 3);
	put_part(&parts, ENV | MIME_PART_MULTIPART, 2, 0, 10, 10, 50, 1,
		 "MULTIPART", "MIXED");
	put_part(&parts, 0, 0, 12, 0, 12, 5, 1, "TEXT", "PLAIN");
	put_part(&parts, 0, 0, 58, 0, 58, 5, 1, "TEXT", "PLAIN");
	TRY(-1);
	put_varint(&parts, 3);
	put_part(&parts, ENV | MIME_PART_MULTIPART, 2, 0, 10, 10, 90, 1,
		 "MULTIPART", "MIXED");
	put_part(&parts, 0, 0, 12, 0, 12, 5, 1, "TEXT", "PLAIN");
	put_part(&parts, 0, 0, 16, 0, 16, 5, 1, "TEXT", "PLAIN");
	TRY(-1);
	/* declared count differs from the tree */
	put_varint(&parts, 2);
	put_part(&parts, ENV, 0, 0, 10, 10, 5, 1, "TEXT", "PLAIN");
	TRY(-1);
	/* a leaf typed message/rfc822 (would need an envelope) */
	put_varint(&parts, 1);
	put_part(&parts, ENV, 0, 0, 10, 10, 5, 1, "message", "rfc822");
	TRY(-1);
	/* message part whose child lacks the envelope flag */
	put_varint(&parts, 2);
	put_part(&parts, ENV | MIME_PART_MESSAGE, 1, 0, 10, 10, 90, 1,
		 "MESSAGE", "RFC822");
	put_part(&parts, 0, 0, 10, 0, 10, 5, 1, "TEXT", "PLAIN");
	TRY(-1);
	/* empty type string */
	put_varint(&parts, 1);
	put_part(&parts, ENV, 0, 0, 10, 10, 5, 1, "", "PLAIN");
	TRY(-1);
	/* NUL inside a string */
	put_varint(&parts, 1);
	put_part(&parts, ENV, 0, 0, 10, 10, 5, 1, "TE", "PLAIN");
	parts.data[parts.len - 20] = 0;	/* inside "TE" / "PLAIN" */
	TRY(-1);
	/* overlong varint (0x80 0x00 for 0) */
	buf_append(&parts, "\x81\x00", 2);
	put_part(&parts, ENV, 0, 0, 10, 10, 5, 1, "TEXT", "PLAIN");
	TRY(-1);
	/* a count the record cannot hold */
	put_varint(&parts, 1000000);
	put_part(&parts, ENV, 0, 0, 10, 10, 5, 1, "TEXT", "PLAIN");
	TRY(-1);
	/* nesting past the hard maximum */
	put_varint(&parts, MIME_DEPTH_HARD_MAX + 3);
	for (unsigned i = 0; i < MIME_DEPTH_HARD_MAX + 2; i++)
		put_part(&parts, (i == 0 ? ENV : 0) | MIME_PART_MULTIPART, 1,
			 10, 0, 10, 80, 1, "MULTIPART", "MIXED");
	put_part(&parts, 0, 0, 10, 0, 10, 5, 1, "TEXT", "PLAIN");
	TRY(-1);
#undef TRY
	buf_free(&parts);
	buf_free(&rec);
	buf_free(&out);
}

static void register_mime_cache(void)
{
	CU_pSuite s = CU_add_suite("mime-cache", NULL, NULL);
	CU_add_test(s, "round trip", test_roundtrip);
	CU_add_test(s, "every truncation of the corpus", test_truncations);
	CU_add_test(s, "corrupt records", test_corrupt);
	CU_add_test(s, "bad shapes", test_bad_shapes);
}

UNIT_SUITE(register_mime_cache)
