/* libFuzzer target for the MIME parser and everything built on it.
 *
 * Input: byte 0 picks a set of limits (small ones, so the depth and part
 * caps are hit), the rest is the message. The message is parsed, its
 * cache record built, and every reader of the record is compared with
 * the tree it came from: ENVELOPE, BODYSTRUCTURE, BODY, part count,
 * size, search fields, text parts and the section ranges of the first
 * parts. Every range must lie inside the message; text parts are decoded,
 * header selection run. Any disagreement aborts. */
#include "../../common/buf.h"
#include "../../store/mime-cache.h"
#include "../../store/mime-header.h"
#include "../../store/mime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const struct mime_limits fuzz_limits[4] = {
	{ MIME_DEPTH_DEFAULT, MIME_PARTS_DEFAULT },
	{ 2, 5 },
	{ 0, 1 },
	{ 8, 64 },
};

static bool buf_eq(const struct buf *a, const struct buf *b)
{
	return a->len == b->len &&
	       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool str_eq(struct mime_str a, struct mime_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
}

static void check_sections(const struct mime_message *m, const struct buf *rec,
			   size_t len)
{
	static const char *const suffix[] = { "", ".MIME", ".HEADER", ".TEXT",
					      ".HEADER.FIELDS" };
	char sec[64];
	const char *err;
	for (unsigned a = 0; a <= 3; a++) {
		for (unsigned b = 0; b <= 3; b++) {
			for (size_t s = 0; s < 5; s++) {
				if (a == 0 && b > 0)
					continue;
				if (a == 0)
					snprintf(sec, sizeof(sec), "%s",
						 s == 0 ? "" : suffix[s] + 1);
				else if (b == 0)
					snprintf(sec, sizeof(sec), "%u%s", a,
						 suffix[s]);
				else
					snprintf(sec, sizeof(sec), "%u.%u%s",
						 a, b, suffix[s]);
				uint64_t o1 = 0, l1 = 0, o2 = 0, l2 = 0;
				int r1 = mime_section_find(m, sec, &o1, &l1);
				int r2 = mime_cache_section(rec->data, rec->len,
							    sec, &o2, &l2,
							    &err);
				if (r1 == 0) {
					FUZZ_CHECK(r2 == 0 && o1 == o2 &&
						   l1 == l2);
					FUZZ_CHECK(o1 <= len && l1 <= len - o1);
				} else {
					FUZZ_CHECK(r2 == 1);
				}
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const struct mime_limits *lim = &fuzz_limits[data[0] & 3];
	const uint8_t *msg = data + 1;
	size_t len = size - 1;
	struct mime_message *m = mime_parse(msg, len, lim);
	struct buf rec, a, b;
	const char *err = NULL;
	buf_init(&rec);
	buf_init(&a);
	buf_init(&b);
	mime_cache_encode(m, &rec);

	FUZZ_CHECK(m->root->env != NULL);
	mime_envelope_write(m->root->env, &a);
	FUZZ_CHECK(mime_cache_envelope(rec.data, rec.len, &b, &err) == 0);
	FUZZ_CHECK(buf_eq(&a, &b));
	for (int ext = 0; ext < 2; ext++) {
		buf_clear(&a);
		buf_clear(&b);
		mime_bodystructure_write(m->root, ext, &a);
		FUZZ_CHECK(mime_cache_bodystructure(rec.data, rec.len, ext, &b,
						    &err) == 0);
		FUZZ_CHECK(buf_eq(&a, &b));
		/* no NUL ever reaches an IMAP string */
		FUZZ_CHECK(memchr(a.data, 0, a.len) == NULL);
	}
	unsigned nparts;
	uint64_t msize;
	FUZZ_CHECK(mime_cache_part_count(rec.data, rec.len, &nparts, &err) == 0);
	FUZZ_CHECK(nparts == m->nparts);
	/* the cap, plus at most one synthesized child per multipart */
	FUZZ_CHECK(nparts <= 2 * (lim->max_parts ? lim->max_parts : 1) + 1);
	FUZZ_CHECK(mime_cache_message_size(rec.data, rec.len, &msize, &err) == 0);
	FUZZ_CHECK(msize == len);

	struct mime_search_fields sf;
	FUZZ_CHECK(mime_cache_search_fields(rec.data, rec.len, &sf, &err) == 0);
	FUZZ_CHECK(str_eq(sf.subject, m->search.subject) &&
		   str_eq(sf.from, m->search.from) &&
		   str_eq(sf.to, m->search.to) && str_eq(sf.cc, m->search.cc) &&
		   str_eq(sf.bcc, m->search.bcc) &&
		   sf.date_valid == m->search.date_valid &&
		   sf.date == m->search.date);

	struct mime_text_part *t1, *t2;
	size_t n1 = mime_text_parts(m, &t1), n2;
	FUZZ_CHECK(mime_cache_text_parts(rec.data, rec.len, &t2, &n2,
					 &err) == 0);
	FUZZ_CHECK(n1 == n2);
	for (size_t i = 0; i < n1; i++) {
		FUZZ_CHECK(t1[i].body_off == t2[i].body_off &&
			   t1[i].body_len == t2[i].body_len &&
			   t1[i].enc == t2[i].enc &&
			   str_eq(t1[i].charset, t2[i].charset));
		FUZZ_CHECK(t1[i].body_off <= len &&
			   t1[i].body_len <= len - t1[i].body_off);
		buf_clear(&a);
		mime_text_decode(msg + t1[i].body_off, (size_t)t1[i].body_len,
				 t1[i].enc, t1[i].charset.s, t1[i].charset.len,
				 &a);
	}
	free(t1);
	free(t2);
	check_sections(m, &rec, len);

	static const char *const names[] = { "subject", "FROM", "x" };
	buf_clear(&a);
	mime_header_select(msg + m->root->hdr_off, (size_t)m->root->hdr_len,
			   names, 3, (len & 1) != 0, &a);
	FUZZ_CHECK(a.len <= m->root->hdr_len + 2);

	mime_message_free(&m);
	buf_free(&rec);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
