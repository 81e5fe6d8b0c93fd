/* Charset conversion to UTF-8 (iconv), for RFC 2047 encoded words and
 * text bodies (search, preview).
 *
 * glibc's iconv_open() loads gconv modules from /usr/lib at open time,
 * which is out of reach once the worker has chrooted into the user's store
 * (ARCHITECTURE "Pitfalls"). charset_preload() therefore opens one
 * converter for each charset in a fixed list of common ones and caches it
 * for the life of the process; call it before chroot. A converter that is
 * already open keeps working after chroot (the module stays mapped).
 * Charsets not in the list are opened lazily on first use, which works
 * before chroot and fails cleanly after it (the charset is then treated as
 * unknown and the caller leaves the text as is).
 *
 * The cache is process-global and not thread-safe: a worker is one
 * event-loop thread. It keeps at most CHARSET_CACHE_MAX open converters
 * (past that, a converter is opened and closed per call) and remembers the
 * last few names that failed in a separate small ring, so mail naming
 * thousands of bogus charsets neither grows memory nor pushes out the
 * converters that work. Names are checked first (at most 40 bytes of
 * letters, digits and "-_.:"), so no odd string reaches iconv_open. */
#ifndef POSTERN_CHARSET_H
#define POSTERN_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

#define CHARSET_CACHE_MAX 128

/* Opens converters for utf-8 (no iconv needed), us-ascii, iso-8859-1..16,
 * windows-1250..1258, koi8-r, koi8-u, gb2312, gbk, gb18030, big5,
 * shift_jis, euc-jp, iso-2022-jp, euc-kr, cp949, utf-16 (and -le/-be),
 * utf-7. Returns the number that could not be opened (0 on a complete
 * system). Idempotent. */
unsigned charset_preload(void);
/* After this, charsets not already open are unknown: call it before the
 * seccomp sandbox, under which loading a gconv module would be fatal. */
void charset_disable_lazy_open(void);

/* True if text in this charset can be converted (opens lazily). */
bool charset_is_known(const char *charset, size_t len);

/* Appends in (bytes in the named charset) converted to UTF-8 to out.
 * Invalid or incomplete input sequences become U+FFFD; valid input is
 * never dropped. Returns 0, or -1 (out untouched) if the charset is
 * unknown or cannot be opened. UTF-8 and US-ASCII are handled without
 * iconv (invalid bytes become U+FFFD). */
int charset_to_utf8(const char *charset, size_t charset_len,
		    const uint8_t *in, size_t len, struct buf *out);

/* Appends in as UTF-8: valid UTF-8 is copied, and if any sequence is
 * invalid the whole of in is read as ISO-8859-1 instead (raw 8-bit header
 * text is overwhelmingly UTF-8 or Latin-1). */
void charset_raw_to_utf8(const uint8_t *in, size_t len, struct buf *out);

/* True if in is entirely valid UTF-8 (RFC 3629). */
bool charset_is_utf8(const uint8_t *in, size_t len);

/* Closes every cached converter (tests, clean shutdown). */
void charset_cache_clear(void);

#endif
