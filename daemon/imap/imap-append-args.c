/* APPEND arguments; see imap-append-args.h. */
#include "imap-append-args.h"

#include "../../common/imap-date.h"
#include "../../store/store.h"

#include <stdlib.h>
#include <string.h>

void imap_append_args_free(struct imap_append_args *args)
{
	for (size_t i = 0; i < args->count; i++)
		imap_flags_free(&args->msgs[i].flags);
	free(args->msgs);
	memset(args, 0, sizeof(*args));
}

int imap_append_args_parse(const struct imap_arg *args, size_t count,
			   struct imap_append_args *args_r,
			   const char **error_r)
{
	memset(args_r, 0, sizeof(*args_r));
	if (count == 0) {
		*error_r = "APPEND expects a message";
		return -1;
	}
	size_t i = 0;
	while (i < count) {
		struct imap_append_msg m;
		memset(&m, 0, sizeof(m));
		if (args[i].type == IMAP_ARG_LIST) {
			if (imap_flags_parse(args[i].list, args[i].list_count,
					     &m.flags, error_r) < 0)
				goto fail;
			i++;
		}
		/* date-time is always quoted: it contains spaces */
		if (i < count && args[i].type == IMAP_ARG_QUOTED) {
			if (imap_datetime_parse(args[i].str, args[i].len, &m.date,
						&m.tz_min, error_r) < 0) {
				imap_flags_free(&m.flags);
				goto fail;
			}
			m.have_date = true;
			i++;
		}
		if (i >= count || args[i].type != IMAP_ARG_LITERAL) {
			imap_flags_free(&m.flags);
			*error_r = i >= count ? "APPEND expects a message literal" :
					       "APPEND message must be a literal";
			goto fail;
		}
		if (!args[i].literal8 && !args[i].streamed &&
		    memchr(args[i].str, '\0', args[i].len) != NULL) {
			imap_flags_free(&m.flags);
			*error_r = "Message contains NUL; send it as literal8";
			goto fail;
		}
		m.data = args[i].str;
		m.len = args[i].len;
		m.literal8 = args[i].literal8;
		m.streamed = args[i].streamed;
		i++;
		args_r->msgs = xrealloc(args_r->msgs,
					(args_r->count + 1) * sizeof(m));
		args_r->msgs[args_r->count++] = m;
	}
	return 0;
fail:
	imap_append_args_free(args_r);
	return -1;
}

unsigned imap_flags_to_store(uint32_t system)
{
	unsigned f = 0;
	if (system & IMAP_FLAG_ANSWERED)
		f |= STORE_FLAG_ANSWERED;
	if (system & IMAP_FLAG_FLAGGED)
		f |= STORE_FLAG_FLAGGED;
	if (system & IMAP_FLAG_DELETED)
		f |= STORE_FLAG_DELETED;
	if (system & IMAP_FLAG_SEEN)
		f |= STORE_FLAG_SEEN;
	if (system & IMAP_FLAG_DRAFT)
		f |= STORE_FLAG_DRAFT;
	return f;
}

void imap_uid_list_format(const uint32_t *uids, size_t n, struct buf *out)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j + 1 < n && uids[j] != UINT32_MAX &&
		       uids[j + 1] == uids[j] + 1)
			j++;
		if (i > 0)
			buf_append_byte(out, ',');
		if (j > i)
			buf_printf(out, "%u:%u", uids[i], uids[j]);
		else
			buf_printf(out, "%u", uids[i]);
		i = j + 1;
	}
}
