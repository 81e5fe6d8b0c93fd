/* Maildir names (https://cr.yp.to/proto/maildir.html, Maildir++ and
 * Dovecot's extensions), parsed and written without touching a file:
 *
 *   cur/<base>:2,<flags>   flags in ASCII order: D draft, F flagged,
 *                          P passed (resent/forwarded), R replied,
 *                          S seen, T trashed; a..z Dovecot keywords
 *                          (index into dovecot-keywords)
 *   .Sub.Folder/           a Maildir++ folder: the mailbox Sub/Folder,
 *                          each part modified UTF-7 as Dovecot writes it
 *   dovecot-keywords       "N name" lines: keyword N is letter 'a' + N
 *
 * P has no IMAP system flag; it maps to the keyword $Forwarded (RFC 5788
 * registry), as Dovecot and mbsync do. */
#ifndef POSTERN_IMPORT_MAILDIR_H
#define POSTERN_IMPORT_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

#define MAILDIR_KEYWORDS_MAX	26	/* letters a..z */
#define MAILDIR_FORWARDED	"$Forwarded"

struct maildir_name {
	unsigned flags;		/* STORE_FLAG_* (store.h) */
	bool passed;		/* P: the keyword $Forwarded */
	uint32_t keywords;	/* bit n: letter 'a' + n */
	bool has_info;		/* ":2,..." (or ":1,...") present */
	size_t base_len;	/* bytes of the name before the info */
	unsigned unknown;	/* flag characters not understood */
};

/* Parses the file name of a message in cur/ or new/. The info starts at
 * the last ":2," (or "!2,", the separator of maildirs kept on file
 * systems where ':' is not allowed). Never fails: a name without info has
 * no flags. */
void maildir_name_parse(const char *name, struct maildir_name *r);

/* Writes "2,<flags>" in ASCII order into out (at least 40 bytes). */
void maildir_info_format(unsigned flags, bool passed, uint32_t keywords,
			 char *out, size_t out_size);

/* Delivery order: the leading number of seconds, then the rest of the
 * name in byte order. A strcmp-like result. */
int maildir_name_cmp(const char *a, const char *b);

/* ".Sub.Folder" -> "Sub/Folder" appended to out (UTF-8). 0, or -1 with
 * the reason if dirname is not a Maildir++ folder name (no leading dot,
 * "." or "..", an empty part, bytes that are neither modified UTF-7 nor
 * a valid UTF-8 name). */
int maildir_folder_name(const char *dirname, struct buf *out,
			const char **error_r);

/* dovecot-keywords: names[n] (pointing into data, lens[n] bytes) for the
 * lines "n name", n < MAILDIR_KEYWORDS_MAX. Other lines are ignored.
 * Returns the number of keywords found. */
size_t maildir_keywords_parse(const uint8_t *data, size_t len,
			      const uint8_t *names[MAILDIR_KEYWORDS_MAX],
			      size_t lens[MAILDIR_KEYWORDS_MAX]);

#endif
