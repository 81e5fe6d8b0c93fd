/* STORE arguments and flags; see imap-store-args.h. */
#include "imap-store-args.h"

#include "../../common/buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const imap_flag_names[] = {
	"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft",
};
#define IMAP_FLAG_NAME_COUNT \
	(sizeof(imap_flag_names) / sizeof(imap_flag_names[0]))

uint32_t imap_flag_from_name(const char *name)
{
	for (unsigned i = 0; i < IMAP_FLAG_NAME_COUNT; i++) {
		if (strcasecmp(name, imap_flag_names[i]) == 0)
			return 1u << i;
	}
	return 0;
}

const char *imap_flag_name(uint32_t flag)
{
	for (unsigned i = 0; i < IMAP_FLAG_NAME_COUNT; i++) {
		if (flag == 1u << i)
			return imap_flag_names[i];
	}
	return NULL;
}

/* ATOM-CHAR: any CHAR except atom-specials = "(" / ")" / "{" / SP / CTL /
 * list-wildcards / quoted-specials / resp-specials (RFC 9051 section 9).
 * The command parser's atoms are looser, so this is checked here. */
bool imap_keyword_is_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

void imap_flags_free(struct imap_flags *flags)
{
	for (size_t i = 0; i < flags->keyword_count; i++)
		free(flags->keywords[i]);
	free(flags->keywords);
	memset(flags, 0, sizeof(*flags));
}

int imap_flags_parse(const struct imap_arg *args, size_t count,
		     struct imap_flags *flags_r, const char **error_r)
{
	memset(flags_r, 0, sizeof(*flags_r));
	for (size_t i = 0; i < count; i++) {
		const struct imap_arg *a = &args[i];
		if (a->type != IMAP_ARG_ATOM) {
			*error_r = "Invalid flag";
			goto fail;
		}
		if (a->str[0] == '\\') {
			uint32_t f = imap_flag_from_name(a->str);
			if (f == 0) {
				*error_r = strcasecmp(a->str, "\\Recent") == 0 ?
						   "\\Recent cannot be stored" :
						   "Unknown system flag";
				goto fail;
			}
			flags_r->system |= f;
			continue;
		}
		if (!imap_keyword_is_valid(a->str, a->len)) {
			*error_r = "Invalid keyword";
			goto fail;
		}
		if (a->len > IMAP_KEYWORD_MAX_LEN) {
			*error_r = "Keyword too long";
			goto fail;
		}
		/* keywords are case-insensitive (RFC 9051 section 2.3.2) */
		bool dup = false;
		for (size_t k = 0; k < flags_r->keyword_count && !dup; k++)
			dup = strcasecmp(flags_r->keywords[k], a->str) == 0;
		if (dup)
			continue;
		if (flags_r->keyword_count == IMAP_FLAGS_MAX_KEYWORDS) {
			*error_r = "Too many keywords";
			goto fail;
		}
		flags_r->keywords = xrealloc(
			flags_r->keywords,
			(flags_r->keyword_count + 1) * sizeof(char *));
		flags_r->keywords[flags_r->keyword_count++] = xstrdup(a->str);
	}
	return 0;
fail:
	imap_flags_free(flags_r);
	return -1;
}

bool imap_modseq_parse(const struct imap_arg *a, bool allow_zero,
		       uint64_t *value_r)
{
	uint64_t v = 0;
	if (a->type != IMAP_ARG_ATOM || a->len == 0)
		return false;
	for (size_t i = 0; i < a->len; i++) {
		char c = a->str[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (uint64_t)(c - '0');
		if (v > INT64_MAX)
			return false;
	}
	if (v == 0 && !allow_zero)
		return false;
	*value_r = v;
	return true;
}

static int imap_store_modifiers(const struct imap_arg *list,
				struct imap_store_args *store_r,
				const char **error_r)
{
	if (list->list_count == 0) {
		*error_r = "Empty STORE modifier list";
		return -1;
	}
	for (size_t i = 0; i < list->list_count; i += 2) {
		const struct imap_arg *name = &list->list[i];
		if (!imap_arg_atom_equals(name, "UNCHANGEDSINCE")) {
			*error_r = "Unknown STORE modifier";
			return -1;
		}
		if (store_r->unchangedsince_set) {
			*error_r = "UNCHANGEDSINCE given twice";
			return -1;
		}
		if (i + 1 >= list->list_count ||
		    !imap_modseq_parse(&list->list[i + 1], true,
				       &store_r->unchangedsince)) {
			*error_r = "Invalid UNCHANGEDSINCE value";
			return -1;
		}
		store_r->unchangedsince_set = true;
	}
	return 0;
}

int imap_store_args_parse(const struct imap_arg *args, size_t count,
			  struct imap_store_args *store_r,
			  const char **error_r)
{
	size_t i = 0;
	memset(store_r, 0, sizeof(*store_r));
	if (i < count && args[i].type == IMAP_ARG_LIST) {
		if (imap_store_modifiers(&args[i], store_r, error_r) < 0)
			return -1;
		i++;
	}
	if (i >= count || args[i].type != IMAP_ARG_ATOM) {
		*error_r = "Missing STORE data item";
		return -1;
	}
	const char *item = args[i].str;
	if (item[0] == '+') {
		store_r->mode = IMAP_STORE_ADD;
		item++;
	} else if (item[0] == '-') {
		store_r->mode = IMAP_STORE_REMOVE;
		item++;
	}
	if (strcasecmp(item, "FLAGS.SILENT") == 0) {
		store_r->silent = true;
	} else if (strcasecmp(item, "FLAGS") != 0) {
		*error_r = "Invalid STORE data item";
		return -1;
	}
	i++;
	if (i >= count) {
		*error_r = "Missing flags";
		return -1;
	}
	const struct imap_arg *flags = &args[i];
	size_t nflags = count - i;
	if (args[i].type == IMAP_ARG_LIST) {
		/* flag-list = "(" [flag *(SP flag)] ")", alone */
		if (i + 1 != count) {
			*error_r = "Unexpected argument after flag list";
			return -1;
		}
		flags = args[i].list;
		nflags = args[i].list_count;
	}
	return imap_flags_parse(flags, nflags, &store_r->flags, error_r);
}

void imap_store_args_free(struct imap_store_args *store)
{
	imap_flags_free(&store->flags);
}
