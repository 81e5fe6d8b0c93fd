/* PREVIEW text; see preview.h. */
#include "preview.h"

#include "../../common/unicode-fold.h"
#include "../../store/mime-cache.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Named references worth decoding in a preview; the rest stay as
 * written, which is what a reader of the source would see. */
static const struct {
	const char *name;
	const char *utf8;
} html_entities[] = {
	{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" },
	{ "apos", "'" }, { "nbsp", " " },
};

static void append_cp(struct buf *out, uint32_t cp)
{
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
		cp = 0xfffd;
	if (cp < 0x80) {
		buf_append_byte(out, (uint8_t)cp);
	} else if (cp < 0x800) {
		buf_append_byte(out, (uint8_t)(0xc0 | cp >> 6));
		buf_append_byte(out, (uint8_t)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_append_byte(out, (uint8_t)(0xe0 | cp >> 12));
		buf_append_byte(out, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
		buf_append_byte(out, (uint8_t)(0x80 | (cp & 0x3f)));
	} else {
		buf_append_byte(out, (uint8_t)(0xf0 | cp >> 18));
		buf_append_byte(out, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
		buf_append_byte(out, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
		buf_append_byte(out, (uint8_t)(0x80 | (cp & 0x3f)));
	}
}

/* "&...;" at s[0..len): bytes used (0: not a reference) and the text. */
static size_t html_entity(const char *s, size_t len, struct buf *out)
{
	size_t end = 1;
	while (end < len && end < 12 && s[end] != ';')
		end++;
	if (end >= len || s[end] != ';' || end < 2)
		return 0;
	if (s[1] == '#') {
		uint32_t cp = 0;
		bool hex = end > 2 && (s[2] == 'x' || s[2] == 'X');
		size_t i = hex ? 3 : 2;
		if (i >= end)
			return 0;
		for (; i < end; i++) {
			char c = s[i];
			int d = c >= '0' && c <= '9' ? c - '0' :
				hex && c >= 'a' && c <= 'f' ? c - 'a' + 10 :
				hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (d < 0)
				return 0;
			cp = cp * (hex ? 16 : 10) + (uint32_t)d;
			if (cp > 0x10ffff)
				cp = 0x110000;
		}
		append_cp(out, cp);
		return end + 1;
	}
	for (size_t k = 0; k < sizeof(html_entities) / sizeof(html_entities[0]);
	     k++) {
		size_t n = strlen(html_entities[k].name);
		if (n == end - 1 && strncasecmp(s + 1, html_entities[k].name,
						n) == 0) {
			buf_append_str(out, html_entities[k].utf8);
			return end + 1;
		}
	}
	return 0;
}

/* Text of HTML: tags and comments become spaces (a <br> or </p> parts
 * words), the content of head, style and script goes. */
static void html_to_text(const char *s, size_t len, struct buf *out)
{
	static const char *const skip[] = { "head", "style", "script" };
	size_t i = 0;
	while (i < len) {
		if (s[i] == '&') {
			size_t n = html_entity(s + i, len - i, out);
			if (n > 0) {
				i += n;
				continue;
			}
		}
		if (s[i] != '<') {
			buf_append_byte(out, (uint8_t)s[i++]);
			continue;
		}
		if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			const char *e = memmem(s + i + 4, len - i - 4, "-->", 3);
			i = e != NULL ? (size_t)(e - s) + 3 : len;
			buf_append_byte(out, ' ');
			continue;
		}
		const char *gt = memchr(s + i, '>', len - i);
		size_t tag_end = gt != NULL ? (size_t)(gt - s) + 1 : len;
		for (size_t k = 0; k < sizeof(skip) / sizeof(skip[0]); k++) {
			size_t n = strlen(skip[k]);
			if (len - i > n + 1 &&
			    strncasecmp(s + i + 1, skip[k], n) == 0 &&
			    (s[i + 1 + n] == '>' || s[i + 1 + n] == ' ' ||
			     s[i + 1 + n] == '\t' || s[i + 1 + n] == '\n' ||
			     s[i + 1 + n] == '\r')) {
				/* to the matching end tag, or the end */
				char close[16];
				snprintf(close, sizeof(close), "</%s", skip[k]);
				size_t j = tag_end;
				while (j + n + 2 <= len &&
				       strncasecmp(s + j, close, n + 2) != 0)
					j++;
				const char *g2 = j < len ?
					memchr(s + j, '>', len - j) : NULL;
				tag_end = g2 != NULL ? (size_t)(g2 - s) + 1 : len;
				break;
			}
		}
		buf_append_byte(out, ' ');
		i = tag_end;
	}
}

/* Drops quoted lines and everything from a signature separator on. */
static void drop_quotes(const char *s, size_t len, struct buf *out)
{
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - s) + 1 : len;
		size_t l = end - i;
		/* the line without its line end */
		size_t body = l;
		while (body > 0 && (s[i + body - 1] == '\n' ||
				    s[i + body - 1] == '\r'))
			body--;
		if (body == 3 && memcmp(s + i, "-- ", 3) == 0)
			break;
		if (!(body > 0 && s[i] == '>'))
			buf_append(out, s + i, l);
		i = end;
	}
}

/* Collapses whitespace and control characters and cuts to the limits. */
static void squeeze(const uint8_t *s, size_t len, struct buf *out)
{
	size_t start = out->len, chars = 0;
	bool space = false;
	size_t i = 0;
	while (i < len && chars < PREVIEW_CHARS_MAX) {
		uint32_t cp;
		size_t n = unicode_utf8_decode(s + i, len - i, &cp);
		i += n;
		bool ws = cp < 0x20 || cp == 0x7f || cp == ' ' || cp == 0xa0 ||
			  (cp >= 0x80 && cp < 0xa0) || cp == 0x2028 ||
			  cp == 0x2029 || cp == 0xfeff;
		if (ws) {
			space = out->len > start;
			continue;
		}
		size_t need = (space ? 1 : 0) + (cp < 0x80 ? 1 : cp < 0x800 ?
						  2 : cp < 0x10000 ? 3 : 4);
		if (out->len - start + need > PREVIEW_OCTETS_MAX)
			break;
		if (space) {
			buf_append_byte(out, ' ');
			chars++;
			space = false;
			if (chars == PREVIEW_CHARS_MAX)
				break;
		}
		append_cp(out, cp);
		chars++;
	}
	/* a space just appended before the cut is trailing */
	if (out->len > start && out->data[out->len - 1] == ' ')
		out->len--;
}

int preview_build(const uint8_t *msg, size_t len, const uint8_t *cache,
		  size_t cache_len, struct buf *out)
{
	struct buf own;
	buf_init(&own);
	if (cache == NULL) {
		mime_cache_build(msg, len, NULL, &own);
		cache = own.data;
		cache_len = own.len;
	}
	struct mime_text_part *parts;
	size_t n;
	const char *err;
	if (mime_cache_text_parts(cache, cache_len, &parts, &n, &err) < 0) {
		buf_free(&own);
		return -1;
	}
	const struct mime_text_part *pick = NULL;
	for (size_t i = 0; i < n && pick == NULL; i++)
		if (parts[i].subtype.len == 5 &&
		    memcmp(parts[i].subtype.s, "PLAIN", 5) == 0)
			pick = &parts[i];
	for (size_t i = 0; i < n && pick == NULL; i++)
		if (parts[i].subtype.len == 4 &&
		    memcmp(parts[i].subtype.s, "HTML", 4) == 0)
			pick = &parts[i];
	int r = 1;
	/* An empty message is an empty text/plain body; its msg may be
	 * NULL, so nothing is decoded from it. */
	if (pick != NULL && len == 0) {
		r = 0;
	} else if (pick != NULL && pick->body_off <= len &&
		   pick->body_len <= len - pick->body_off) {
		bool html = pick->subtype.len == 4;
		size_t blen = (size_t)pick->body_len;
		/* markup takes room: HTML gets more of its bytes read */
		size_t scan = html ? PREVIEW_SCAN_MAX * 4 : PREVIEW_SCAN_MAX;
		if (blen > scan)
			blen = scan;
		struct buf text, plain, clean;
		buf_init(&text);
		buf_init(&plain);
		buf_init(&clean);
		mime_text_decode(msg + pick->body_off, blen, pick->enc,
				 pick->charset.s, pick->charset.len, &text);
		if (html) {
			html_to_text((const char *)text.data, text.len, &plain);
		} else {
			buf_append(&plain, text.data, text.len);
		}
		drop_quotes((const char *)plain.data, plain.len, &clean);
		squeeze(clean.data, clean.len, out);
		buf_free(&text);
		buf_free(&plain);
		buf_free(&clean);
		r = 0;
	}
	free(parts);
	buf_free(&own);
	return r;
}
