/* Maildir names: see import-maildir.h. */
#include "import-maildir.h"

#include "../common/mutf7.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

static const char *find_info(const char *name)
{
	const char *best = NULL;
	for (const char *p = name; *p != '\0'; p++)
		if ((p[0] == ':' || p[0] == '!') &&
		    (p[1] == '1' || p[1] == '2') && p[2] == ',')
			best = p;
	/* ':' wins over '!' when both appear: '!' may be in a host name */
	for (const char *p = name; *p != '\0'; p++)
		if (p[0] == ':' && (p[1] == '1' || p[1] == '2') && p[2] == ',')
			best = p;
	return best;
}

void maildir_name_parse(const char *name, struct maildir_name *r)
{
	memset(r, 0, sizeof(*r));
	const char *info = find_info(name);
	if (info == NULL) {
		r->base_len = strlen(name);
		return;
	}
	r->has_info = true;
	r->base_len = (size_t)(info - name);
	if (info[1] != '2')
		return;		/* ":1," experimental semantics: no flags */
	for (const char *p = info + 3; *p != '\0'; p++) {
		switch (*p) {
		case 'D': r->flags |= STORE_FLAG_DRAFT; break;
		case 'F': r->flags |= STORE_FLAG_FLAGGED; break;
		case 'P': r->passed = true; break;
		case 'R': r->flags |= STORE_FLAG_ANSWERED; break;
		case 'S': r->flags |= STORE_FLAG_SEEN; break;
		case 'T': r->flags |= STORE_FLAG_DELETED; break;
		default:
			if (*p >= 'a' && *p <= 'z')
				r->keywords |= (uint32_t)1 << (*p - 'a');
			else
				r->unknown++;
		}
	}
}

void maildir_info_format(unsigned flags, bool passed, uint32_t keywords,
			 char *out, size_t out_size)
{
	char tmp[40];
	size_t n = 0;
	tmp[n++] = '2';
	tmp[n++] = ',';
	if (flags & STORE_FLAG_DRAFT)
		tmp[n++] = 'D';
	if (flags & STORE_FLAG_FLAGGED)
		tmp[n++] = 'F';
	if (passed)
		tmp[n++] = 'P';
	if (flags & STORE_FLAG_ANSWERED)
		tmp[n++] = 'R';
	if (flags & STORE_FLAG_SEEN)
		tmp[n++] = 'S';
	if (flags & STORE_FLAG_DELETED)
		tmp[n++] = 'T';
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		if (keywords & ((uint32_t)1 << i))
			tmp[n++] = (char)('a' + i);
	tmp[n] = '\0';
	snprintf(out, out_size, "%s", tmp);
}

static const char *leading_number(const char *s, size_t *ndigits_r)
{
	while (*s == '0' && s[1] >= '0' && s[1] <= '9')
		s++;
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	*ndigits_r = n;
	return s;
}

int maildir_name_cmp(const char *a, const char *b)
{
	/* Compare the numbers by length, then digits: no overflow for any
	 * length of digits. */
	size_t na, nb;
	const char *da = leading_number(a, &na);
	const char *db = leading_number(b, &nb);
	if ((na == 0) != (nb == 0))
		return na == 0 ? 1 : -1;	/* numbered names first */
	if (na != nb)
		return na < nb ? -1 : 1;
	int c = memcmp(da, db, na);
	if (c != 0)
		return c < 0 ? -1 : 1;
	c = strcmp(da + na, db + nb);
	if (c != 0)
		return c < 0 ? -1 : 1;
	c = strcmp(a, b);
	return c < 0 ? -1 : c > 0;
}

int maildir_folder_name(const char *dirname, struct buf *out,
			const char **error_r)
{
	if (dirname[0] != '.' || dirname[1] == '\0' ||
	    strcmp(dirname, "..") == 0) {
		*error_r = "not a Maildir++ folder name";
		return -1;
	}
	struct buf name;
	buf_init(&name);
	const char *part = dirname + 1;
	for (;;) {
		const char *dot = strchr(part, '.');
		size_t len = dot != NULL ? (size_t)(dot - part) : strlen(part);
		if (len == 0) {
			*error_r = "empty part in a folder name";
			buf_free(&name);
			return -1;
		}
		if (name.len > 0)
			buf_append_byte(&name, STORE_HIERARCHY_SEP);
		const char *err;
		/* Dovecot writes modified UTF-7; other tools may have left
		 * UTF-8 (or a '&' that starts nothing). */
		if (mutf7_to_utf8(part, len, &name, &err) < 0) {
			if (!mutf7_utf8_name_is_valid(part, len)) {
				*error_r = "folder name is neither modified "
					   "UTF-7 nor UTF-8";
				buf_free(&name);
				return -1;
			}
			buf_append(&name, part, len);
		}
		if (dot == NULL)
			break;
		part = dot + 1;
	}
	if (name.len > STORE_MAILBOX_NAME_MAX) {
		*error_r = "folder name too long";
		buf_free(&name);
		return -1;
	}
	buf_append(out, name.data, name.len);
	buf_free(&name);
	return 0;
}

size_t maildir_keywords_parse(const uint8_t *data, size_t len,
			      const uint8_t *names[MAILDIR_KEYWORDS_MAX],
			      size_t lens[MAILDIR_KEYWORDS_MAX])
{
	for (size_t i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		names[i] = NULL;
		lens[i] = 0;
	}
	size_t found = 0;
	size_t pos = 0;
	while (pos < len) {
		const uint8_t *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - data) : len;
		size_t i = pos;
		unsigned idx = 0;
		size_t digits = 0;
		while (i < end && data[i] >= '0' && data[i] <= '9' &&
		       digits < 3) {
			idx = idx * 10 + (unsigned)(data[i] - '0');
			i++;
			digits++;
		}
		size_t kend = end;
		if (kend > i && data[kend - 1] == '\r')
			kend--;
		if (digits > 0 && i < kend && data[i] == ' ' &&
		    idx < MAILDIR_KEYWORDS_MAX && kend > i + 1 &&
		    kend - (i + 1) <= STORE_KEYWORD_MAX_LEN &&
		    names[idx] == NULL) {
			names[idx] = data + i + 1;
			lens[idx] = kend - (i + 1);
			found++;
		}
		pos = end + 1;
	}
	return found;
}
