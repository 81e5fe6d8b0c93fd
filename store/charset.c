/* Charset conversion to UTF-8; see charset.h for the chroot story. */
#include "charset.h"

#include "../common/utf8.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#define CHARSET_NAME_MAX 40

struct charset_entry {
	char name[CHARSET_NAME_MAX + 1];	/* normalized: lower case */
	iconv_t cd;
};

/* Converters that opened, kept for the life of the process. */
static struct charset_entry charset_cache[CHARSET_CACHE_MAX];
static size_t charset_cache_count;
/* Set once the process is sandboxed: iconv_open may then need to map a
 * gconv module executable, which the seccomp policy refuses (SIGSYS). */
static bool charset_lazy_disabled;

/* Names that failed, in a small ring: mail naming many bogus charsets
 * only recycles this ring, it never crowds out working converters. */
#define CHARSET_BAD_MAX 32
static char charset_bad[CHARSET_BAD_MAX][CHARSET_NAME_MAX + 1];
static size_t charset_bad_next;

/* Names mail uses that glibc does not know, or knows under another name.
 * ks_c_5601-1987 is what Outlook calls its Korean code page (CP949). */
static const struct {
	const char *alias, *name;
} charset_aliases[] = {
	{ "ks_c_5601-1987", "cp949" },
	{ "ks_c_5601", "cp949" },
	{ "x-sjis", "shift_jis" },
	{ "sjis", "shift_jis" },
	{ "x-gbk", "gbk" },
	{ "x-euc-jp", "euc-jp" },
	{ "latin1", "iso-8859-1" },
	{ "unicode-1-1-utf-7", "utf-7" },
	{ "x-unknown", "" },
	{ "unknown-8bit", "" },
};

static const char *const charset_preload_list[] = {
	"iso-8859-1", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5",
	"iso-8859-6", "iso-8859-7", "iso-8859-8", "iso-8859-9",
	"iso-8859-10", "iso-8859-11", "iso-8859-13", "iso-8859-14",
	"iso-8859-15", "iso-8859-16",
	"windows-1250", "windows-1251", "windows-1252", "windows-1253",
	"windows-1254", "windows-1255", "windows-1256", "windows-1257",
	"windows-1258",
	"koi8-r", "koi8-u", "gb2312", "gbk", "gb18030", "big5", "shift_jis",
	"euc-jp", "iso-2022-jp", "euc-kr", "cp949", "utf-16", "utf-16le",
	"utf-16be", "utf-7",
};

/* Lower-cases name into dst and applies the alias table. Returns false
 * if the name is empty, too long or has bytes no charset name has. */
static bool charset_normalize(const char *name, size_t len,
			      char dst[CHARSET_NAME_MAX + 1])
{
	if (len == 0 || len > CHARSET_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)name[i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':'))
			return false;
		dst[i] = (char)c;
	}
	dst[len] = '\0';
	for (size_t i = 0; i < sizeof(charset_aliases) /
				sizeof(charset_aliases[0]); i++) {
		if (strcmp(dst, charset_aliases[i].alias) == 0) {
			strcpy(dst, charset_aliases[i].name);
			return dst[0] != '\0';
		}
	}
	return true;
}

static bool charset_is_utf8_name(const char *n)
{
	return strcmp(n, "utf-8") == 0 || strcmp(n, "utf8") == 0;
}

static bool charset_is_ascii_name(const char *n)
{
	return strcmp(n, "us-ascii") == 0 || strcmp(n, "ascii") == 0 ||
	       strcmp(n, "ansi_x3.4-1968") == 0;
}

/* Converter for a normalized name, opened on first use and cached;
 * *owned_r is set when the cache was full and the caller must close it. */
static iconv_t charset_get(const char *n, bool *owned_r)
{
	*owned_r = false;
	for (size_t i = 0; i < charset_cache_count; i++) {
		if (strcmp(charset_cache[i].name, n) == 0)
			return charset_cache[i].cd;
	}
	for (size_t i = 0; i < CHARSET_BAD_MAX; i++) {
		if (strcmp(charset_bad[i], n) == 0)
			return (iconv_t)-1;
	}
	iconv_t cd = charset_lazy_disabled ? (iconv_t)-1 :
					     iconv_open("UTF-8", n);
	if (cd == (iconv_t)-1) {
		strcpy(charset_bad[charset_bad_next], n);
		charset_bad_next = (charset_bad_next + 1) % CHARSET_BAD_MAX;
		return cd;
	}
	if (charset_cache_count >= CHARSET_CACHE_MAX) {
		*owned_r = true;
		return cd;
	}
	struct charset_entry *e = &charset_cache[charset_cache_count++];
	strcpy(e->name, n);
	e->cd = cd;
	return cd;
}

void charset_disable_lazy_open(void)
{
	charset_lazy_disabled = true;
}

unsigned charset_preload(void)
{
	unsigned failed = 0;
	for (size_t i = 0; i < sizeof(charset_preload_list) /
				sizeof(charset_preload_list[0]); i++) {
		bool owned;
		iconv_t cd = charset_get(charset_preload_list[i], &owned);
		if (cd == (iconv_t)-1)
			failed++;
		else if (owned)
			iconv_close(cd);
	}
	return failed;
}

void charset_cache_clear(void)
{
	for (size_t i = 0; i < charset_cache_count; i++)
		iconv_close(charset_cache[i].cd);
	charset_cache_count = 0;
	memset(charset_bad, 0, sizeof(charset_bad));
	charset_bad_next = 0;
}


bool charset_is_utf8(const uint8_t *in, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(in + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static void charset_utf8_sanitize(const uint8_t *in, size_t len,
				  struct buf *out)
{
	buf_reserve(out, len);
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(in + i, len - i);
		if (n == 0) {
			buf_append(out, "\xef\xbf\xbd", 3);
			i++;
		} else {
			buf_append(out, in + i, n);
			i += n;
		}
	}
}

void charset_raw_to_utf8(const uint8_t *in, size_t len, struct buf *out)
{
	if (charset_is_utf8(in, len)) {
		buf_append(out, in, len);
		return;
	}
	buf_reserve(out, len * 2);
	for (size_t i = 0; i < len; i++) {
		if (in[i] < 0x80) {
			buf_append_byte(out, in[i]);
		} else {
			buf_append_byte(out, (uint8_t)(0xc0 | (in[i] >> 6)));
			buf_append_byte(out, (uint8_t)(0x80 | (in[i] & 0x3f)));
		}
	}
}

bool charset_is_known(const char *charset, size_t len)
{
	char n[CHARSET_NAME_MAX + 1];
	if (!charset_normalize(charset, len, n))
		return false;
	if (charset_is_utf8_name(n) || charset_is_ascii_name(n))
		return true;
	bool owned;
	iconv_t cd = charset_get(n, &owned);
	if (owned)
		iconv_close(cd);
	return cd != (iconv_t)-1;
}

int charset_to_utf8(const char *charset, size_t charset_len,
		    const uint8_t *in, size_t len, struct buf *out)
{
	char n[CHARSET_NAME_MAX + 1];
	if (!charset_normalize(charset, charset_len, n))
		return -1;
	if (charset_is_utf8_name(n) || charset_is_ascii_name(n)) {
		charset_utf8_sanitize(in, len, out);
		return 0;
	}
	bool owned;
	iconv_t cd = charset_get(n, &owned);
	if (cd == (iconv_t)-1)
		return -1;
	/* Reset the shift state a previous call may have left (stateful
	 * encodings such as ISO-2022-JP). */
	iconv(cd, NULL, NULL, NULL, NULL);
	char *ip = (char *)in;
	size_t ileft = len;
	while (ileft > 0) {
		buf_reserve(out, ileft * 2 + 16);
		char *op = (char *)out->data + out->len;
		size_t oleft = out->cap - out->len, ocap = oleft;
		size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
		out->len += ocap - oleft;
		if (r != (size_t)-1)
			continue;
		if (errno == E2BIG)
			continue;
		/* EILSEQ: one bad byte; EINVAL: truncated at the end. */
		buf_append(out, "\xef\xbf\xbd", 3);
		if (errno == EINVAL) {
			break;
		}
		ip++;
		ileft--;
	}
	/* Flush a stateful encoder's final shift sequence. */
	buf_reserve(out, 16);
	char *op = (char *)out->data + out->len;
	size_t oleft = out->cap - out->len, ocap = oleft;
	iconv(cd, NULL, NULL, &op, &oleft);
	out->len += ocap - oleft;
	if (owned)
		iconv_close(cd);
	return 0;
}
