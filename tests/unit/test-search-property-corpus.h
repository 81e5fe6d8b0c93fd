/* Generated mail for the search index's property test and benchmark: a
 * Zipf vocabulary with non-ASCII words, encoded words (B and Q, folded),
 * multipart messages with base64 and quoted-printable text, HTML,
 * base64 attachments, attached messages and Latin-1 parts. Deterministic
 * for a seed. Header-only: static functions, included by
 * tests/unit/test-search-property.c and tests/bench/bench-search.c. */
#ifndef POSTERN_TEST_SEARCH_CORPUS_H
#define POSTERN_TEST_SEARCH_CORPUS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"

struct corpus_rng {
	uint64_t s;
};

static uint64_t corpus_next(struct corpus_rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static unsigned corpus_below(struct corpus_rng *r, unsigned n)
{
	return n == 0 ? 0 : (unsigned)(corpus_next(r) % n);
}

/* Words that fold in interesting ways (RFC 5051: ß vs ẞ, dotless i,
 * decomposed accents, ligatures kept, Cyrillic, Greek final sigma). */
static const char *const corpus_special[] = {
	"straße", "STRAẞE", "Müller", "MÜLLER", "İstanbul", "ıslak",
	"café", "cafe\xcc\x81", "ﬁle", "Привет", "МИР", "мир", "Σοφία",
	"ΣΟΦΙΑ", "ὀδυσσεύς", "日本語", "ǅemal", "naïve", "Ærø", "größe",
};
#define CORPUS_NSPECIAL (sizeof(corpus_special) / sizeof(corpus_special[0]))

static const char *const corpus_syll[] = {
	"ka", "lo", "mer", "ti", "sun", "da", "re", "vo", "pa", "ni", "qu",
	"est", "ion", "bar", "ze", "the", "an", "or", "ing", "ple", "wa",
	"li", "ro", "ch", "ex", "im", "po", "st", "ra", "el",
};

struct corpus {
	struct corpus_rng rng;
	char **words;
	size_t nwords;
	double *cdf;		/* Zipf, exponent 1 */
	char **users;		/* address local parts */
	size_t nusers;
};

static void corpus_init(struct corpus *c, uint64_t seed, size_t nwords)
{
	memset(c, 0, sizeof(*c));
	c->rng.s = seed ? seed : 1;
	c->nwords = nwords;
	c->words = xcalloc(nwords, sizeof(char *));
	for (size_t i = 0; i < nwords; i++) {
		/* a few special words among the common ones, more among
		 * the rare ones */
		if (i % 37 == 5) {
			c->words[i] = xstrdup(corpus_special[(i / 37) %
							     CORPUS_NSPECIAL]);
			continue;
		}
		char w[64] = "";
		unsigned n = 1 + corpus_below(&c->rng, 3) + (i > 200);
		for (unsigned k = 0; k < n; k++)
			strcat(w, corpus_syll[corpus_below(&c->rng,
				sizeof(corpus_syll) / sizeof(corpus_syll[0]))]);
		c->words[i] = xstrdup(w);
	}
	c->cdf = xmalloc(nwords * sizeof(double));
	double sum = 0;
	for (size_t i = 0; i < nwords; i++) {
		sum += 1.0 / (double)(i + 1);
		c->cdf[i] = sum;
	}
	for (size_t i = 0; i < nwords; i++)
		c->cdf[i] /= sum;
	c->nusers = 200;
	c->users = xcalloc(c->nusers, sizeof(char *));
	for (size_t i = 0; i < c->nusers; i++) {
		char u[64];
		snprintf(u, sizeof(u), "%s.%s%u", corpus_syll[i % 30],
			 corpus_syll[(i * 7 + 3) % 30], (unsigned)i);
		c->users[i] = xstrdup(u);
	}
}

static void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->nwords; i++)
		free(c->words[i]);
	for (size_t i = 0; i < c->nusers; i++)
		free(c->users[i]);
	free(c->words);
	free(c->users);
	free(c->cdf);
}

static const char *corpus_zipf(struct corpus *c)
{
	double u = (double)(corpus_next(&c->rng) >> 11) / 9007199254740992.0;
	size_t lo = 0, hi = c->nwords - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return c->words[lo];
}

static void corpus_words(struct corpus *c, struct buf *out, unsigned n,
			 unsigned per_line)
{
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			buf_append_str(out, per_line && i % per_line == 0 ?
				       "\r\n" : " ");
		const char *w = corpus_zipf(c);
		if (corpus_below(&c->rng, 10) == 0) {
			/* capitalised */
			char t[64];
			snprintf(t, sizeof(t), "%s", w);
			if (t[0] >= 'a' && t[0] <= 'z')
				t[0] = (char)(t[0] - 32);
			buf_append_str(out, t);
		} else {
			buf_append_str(out, w);
		}
		if (corpus_below(&c->rng, 12) == 0)
			buf_append_str(out, corpus_below(&c->rng, 2) ? "." : ",");
	}
}

static void corpus_b64(const uint8_t *p, size_t n, struct buf *out,
		       size_t line)
{
	static const char t[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = { t[v >> 18], t[(v >> 12) & 63],
			      i + 1 < n ? t[(v >> 6) & 63] : '=',
			      i + 2 < n ? t[v & 63] : '=' };
		buf_append(out, q, 4);
		col += 4;
		if (line && col >= line) {
			buf_append_str(out, "\r\n");
			col = 0;
		}
	}
	if (line && col > 0)
		buf_append_str(out, "\r\n");
}

static void corpus_qp(const struct buf *in, struct buf *out)
{
	size_t col = 0;
	for (size_t i = 0; i < in->len; i++) {
		uint8_t ch = in->data[i];
		if (ch == '\r' && i + 1 < in->len && in->data[i + 1] == '\n') {
			buf_append_str(out, "\r\n");
			i++;
			col = 0;
			continue;
		}
		if (col >= 70) {
			buf_append_str(out, "=\r\n");
			col = 0;
		}
		if (ch >= 128 || ch == '=') {
			buf_printf(out, "=%02X", ch);
			col += 3;
		} else {
			buf_append_byte(out, ch);
			col++;
		}
	}
}

/* UTF-8 to Latin-1 where possible ("?" otherwise). */
static void corpus_latin1(const struct buf *in, struct buf *out)
{
	for (size_t i = 0; i < in->len; i++) {
		uint8_t ch = in->data[i];
		if (ch < 0x80) {
			buf_append_byte(out, ch);
		} else if ((ch == 0xc2 || ch == 0xc3) && i + 1 < in->len) {
			buf_append_byte(out, (uint8_t)(((ch & 0x1f) << 6) |
						       (in->data[i + 1] & 0x3f)));
			i++;
		} else {
			while (i + 1 < in->len && (in->data[i + 1] & 0xc0) == 0x80)
				i++;
			buf_append_byte(out, '?');
		}
	}
}

/* A header value, sometimes as encoded words. */
static void corpus_hdr_text(struct corpus *c, const char *text,
			    struct buf *out)
{
	unsigned k = corpus_below(&c->rng, 5);
	if (k == 0) {
		buf_append_str(out, "=?UTF-8?B?");
		corpus_b64((const uint8_t *)text, strlen(text), out, 0);
		buf_append_str(out, "?=");
	} else if (k == 1) {
		buf_append_str(out, "=?utf-8?Q?");
		for (const uint8_t *p = (const uint8_t *)text; *p; p++) {
			if (*p == ' ')
				buf_append_byte(out, '_');
			else if (*p >= 128 || *p == '=' || *p == '?' ||
				 *p == '_')
				buf_printf(out, "=%02X", *p);
			else
				buf_append_byte(out, *p);
		}
		buf_append_str(out, "?=");
	} else {
		buf_append_str(out, text);
	}
}

static void corpus_addr(struct corpus *c, struct buf *out)
{
	unsigned u = corpus_below(&c->rng, (unsigned)c->nusers);
	struct buf name;
	buf_init(&name);
	buf_printf(&name, "%s %s", corpus_zipf(c), corpus_zipf(c));
	corpus_hdr_text(c, buf_cstr(&name), out);
	buf_printf(out, " <%s@%s.example>", c->users[u],
		   corpus_syll[u % 30]);
	buf_free(&name);
}

static void corpus_addrs(struct corpus *c, struct buf *out, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			buf_append_str(out, ",\r\n ");
		corpus_addr(c, out);
	}
}

/* Appends one message (CRLF) to out; body_words scales its text. */
static void corpus_message(struct corpus *c, unsigned seq,
			   unsigned body_words, bool attachments,
			   struct buf *out)
{
	struct buf subj, text, tmp;
	buf_init(&subj);
	buf_init(&text);
	buf_init(&tmp);
	corpus_words(c, &subj, 2 + corpus_below(&c->rng, 6), 0);
	buf_append_str(out, "From: ");
	corpus_addr(c, out);
	buf_append_str(out, "\r\nTo: ");
	corpus_addrs(c, out, 1 + corpus_below(&c->rng, 3));
	if (corpus_below(&c->rng, 3) == 0) {
		buf_append_str(out, "\r\nCc: ");
		corpus_addrs(c, out, 1 + corpus_below(&c->rng, 2));
	}
	if (corpus_below(&c->rng, 6) == 0) {
		buf_append_str(out, "\r\nBcc: ");
		corpus_addrs(c, out, 1);
	}
	buf_append_str(out, "\r\nSubject: ");
	corpus_hdr_text(c, buf_cstr(&subj), out);
	if (corpus_below(&c->rng, 4) == 0) {
		/* folded, the second half an encoded word */
		buf_append_str(out, "\r\n ");
		buf_clear(&tmp);
		corpus_words(c, &tmp, 2, 0);
		corpus_hdr_text(c, buf_cstr(&tmp), out);
	}
	buf_printf(out, "\r\nDate: %u %s 2024 %02u:%02u:00 +0%u00\r\n",
		   1 + seq % 28, seq % 2 ? "Mar" : "Apr", seq % 24, seq % 60,
		   seq % 9);
	buf_printf(out, "Message-ID: <%u.%llx@gen.example>\r\n", seq,
		   (unsigned long long)(corpus_next(&c->rng) & 0xffffffffff));
	if (corpus_below(&c->rng, 3) == 0) {
		buf_append_str(out, "X-Tag: ");
		buf_clear(&tmp);
		corpus_words(c, &tmp, 1 + corpus_below(&c->rng, 3), 0);
		corpus_hdr_text(c, buf_cstr(&tmp), out);
		buf_append_str(out, "\r\n");
	}
	buf_append_str(out, "MIME-Version: 1.0\r\n");
	unsigned nw = body_words / 2 + corpus_below(&c->rng, body_words + 1);
	corpus_words(c, &text, nw, 8 + corpus_below(&c->rng, 8));
	buf_append_str(&text, "\r\n");
	unsigned kind = corpus_below(&c->rng, attachments ? 7 : 3);
	switch (kind) {
	case 0:
		buf_append_str(out, "Content-Type: text/plain; charset=utf-8\r\n"
			       "Content-Transfer-Encoding: 8bit\r\n\r\n");
		buf_append(out, text.data, text.len);
		break;
	case 1:
		buf_append_str(out, "Content-Type: text/plain; charset=UTF-8\r\n"
			       "Content-Transfer-Encoding: quoted-printable\r\n"
			       "\r\n");
		corpus_qp(&text, out);
		break;
	case 2:
		buf_append_str(out, "Content-Type: text/plain; "
			       "charset=iso-8859-1\r\n\r\n");
		corpus_latin1(&text, out);
		break;
	case 3:
	case 4:
		buf_printf(out, "Content-Type: multipart/mixed; "
			   "boundary=\"b%u\"\r\n\r\npreamble\r\n--b%u\r\n"
			   "Content-Type: text/plain; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\n",
			   seq, seq);
		corpus_b64(text.data, text.len, out, 76);
		if (kind == 4) {
			buf_printf(out, "--b%u\r\nContent-Type: text/html; "
				   "charset=utf-8\r\n\r\n<p>", seq);
			corpus_words(c, out, 10 + corpus_below(&c->rng, 30), 0);
			buf_append_str(out, "</p>\r\n");
		}
		{
			size_t n = 1024 + corpus_below(&c->rng, 8192);
			uint8_t *bin = xmalloc(n);
			for (size_t i = 0; i < n; i++)
				bin[i] = (uint8_t)corpus_next(&c->rng);
			buf_printf(out, "--b%u\r\nContent-Type: image/png\r\n"
				   "Content-Disposition: attachment; "
				   "filename=\"pic%u.png\"\r\n"
				   "Content-Transfer-Encoding: base64\r\n\r\n",
				   seq, seq);
			corpus_b64(bin, n, out, 76);
			free(bin);
		}
		buf_printf(out, "--b%u--\r\n", seq);
		break;
	case 5:
		buf_printf(out, "Content-Type: multipart/alternative; "
			   "boundary=alt%u\r\n\r\n--alt%u\r\n"
			   "Content-Type: text/plain; charset=utf-8\r\n\r\n",
			   seq, seq);
		buf_append(out, text.data, text.len);
		buf_printf(out, "--alt%u\r\nContent-Type: text/html; "
			   "charset=utf-8\r\nContent-Transfer-Encoding: "
			   "quoted-printable\r\n\r\n", seq);
		buf_clear(&tmp);
		buf_append_str(&tmp, "<html><body>");
		buf_append(&tmp, text.data, text.len);
		buf_append_str(&tmp, "</body></html>\r\n");
		corpus_qp(&tmp, out);
		buf_printf(out, "--alt%u--\r\n", seq);
		break;
	default:
		buf_printf(out, "Content-Type: multipart/mixed; "
			   "boundary=m%u\r\n\r\n--m%u\r\n"
			   "Content-Type: text/plain; charset=utf-8\r\n\r\n",
			   seq, seq);
		buf_append(out, text.data, text.len);
		buf_printf(out, "--m%u\r\nContent-Type: message/rfc822\r\n"
			   "X-Part-Note: forwarded\r\n\r\nFrom: ", seq);
		corpus_addr(c, out);
		buf_append_str(out, "\r\nSubject: ");
		buf_clear(&tmp);
		corpus_words(c, &tmp, 3, 0);
		corpus_hdr_text(c, buf_cstr(&tmp), out);
		buf_append_str(out, "\r\n\r\n");
		corpus_words(c, out, 20 + corpus_below(&c->rng, 40), 10);
		buf_printf(out, "\r\n--m%u--\r\n", seq);
		break;
	}
	buf_free(&subj);
	buf_free(&text);
	buf_free(&tmp);
}

#endif
