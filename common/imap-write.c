/* IMAP response string encoding; see imap-write.h. */
#include "imap-write.h"
#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence (RFC 3629 section 4) that starts at
 * s, or 0. Overlong forms, surrogates and code points above U+10FFFF are
 * invalid, so a client never sees them in a quoted string. */

/* RFC 9051 section 9: QUOTED-CHAR is any TEXT-CHAR (CHAR minus CR, LF)
 * or an escaped quoted-special; controls other than those are legal there
 * but confuse clients and logs, so they go in literals too. */
static bool imap_write_can_quote(const uint8_t *s, size_t len,
				 bool allow_utf8)
{
	if (len > IMAP_WRITE_QUOTED_MAX)
		return false;
	for (size_t i = 0; i < len;) {
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			i++;
			continue;
		}
		/* 8-bit text only: a control character is never quotable */
		size_t n = allow_utf8 && s[i] >= 0x80 ?
			   utf8_seq_len(s + i, len - i) : 0;
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static void imap_write_quoted(struct buf *out, const uint8_t *s, size_t len)
{
	buf_reserve(out, len + 2);
	buf_append_byte(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_append_byte(out, '\\');
		buf_append_byte(out, s[i]);
	}
	buf_append_byte(out, '"');
}

void imap_write_literal(struct buf *out, const char *s, size_t len)
{
	/* A server literal never carries "+" (RFC 7888 is client-side). */
	buf_printf(out, "{%zu}\r\n", len);
	buf_append(out, s, len);
}

void imap_write_quoted_or_literal(struct buf *out, const char *s, size_t len,
				  bool allow_utf8)
{
	const uint8_t *u = (const uint8_t *)s;
	if (imap_write_can_quote(u, len, allow_utf8))
		imap_write_quoted(out, u, len);
	else
		imap_write_literal(out, s, len);
}

void imap_write_astring(struct buf *out, const char *s, size_t len)
{
	imap_write_quoted_or_literal(out, s, len, false);
}

void imap_write_nstring(struct buf *out, const char *s, size_t len)
{
	if (s == NULL)
		buf_append_str(out, "NIL");
	else
		imap_write_astring(out, s, len);
}

/* Same character class as the parser's tag check (the unit tests compare
 * the two for every byte value). */
bool imap_tag_is_valid(const char *tag)
{
	if (tag == NULL || tag[0] == '\0')
		return false;
	for (const uint8_t *c = (const uint8_t *)tag; *c != '\0'; c++) {
		if (*c <= 0x20 || *c >= 0x7f || strchr("(){%*\"\\+", *c))
			return false;
	}
	return true;
}
