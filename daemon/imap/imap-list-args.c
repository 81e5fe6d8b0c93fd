/* LIST arguments and mailbox patterns; see imap-list-args.h. */
#include "imap-list-args.h"

#include "../../common/buf.h"
#include "../../common/mutf7.h"
#include "imap-status-args.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void imap_list_args_free(struct imap_list_args *list)
{
	free(list->reference);
	for (size_t i = 0; i < list->pattern_count; i++)
		free(list->patterns[i]);
	free(list->patterns);
	memset(list, 0, sizeof(*list));
}

/* A mailbox name or pattern as sent, to UTF-8. */
static char *imap_list_name(const struct imap_arg *a, bool utf8,
			    const char **error_r)
{
	struct buf b;
	if (!imap_arg_is_astring(a)) {
		*error_r = "Invalid mailbox name";
		return NULL;
	}
	if (a->len > IMAP_LIST_MAX_PATTERN_LEN) {
		*error_r = "Mailbox pattern too long";
		return NULL;
	}
	if (utf8) {
		if (!mutf7_utf8_name_is_valid(a->str, a->len)) {
			*error_r = "Invalid UTF-8 in mailbox name";
			return NULL;
		}
		return xstrndup(a->str, a->len);
	}
	buf_init(&b);
	if (mutf7_to_utf8(a->str, a->len, &b, error_r) < 0) {
		buf_free(&b);
		*error_r = "Invalid modified UTF-7 in mailbox name";
		return NULL;
	}
	char *s = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return s;
}

static int imap_list_add_pattern(struct imap_list_args *l,
				 const struct imap_arg *a, bool utf8,
				 const char **error_r)
{
	if (l->pattern_count == IMAP_LIST_MAX_PATTERNS) {
		*error_r = "Too many LIST patterns";
		return -1;
	}
	char *p = imap_list_name(a, utf8, error_r);
	if (p == NULL)
		return -1;
	l->patterns = xrealloc(l->patterns,
			       (l->pattern_count + 1) * sizeof(char *));
	l->patterns[l->pattern_count++] = p;
	return 0;
}

/* list-select-opts = "(" [list-select-option *(SP list-select-option)]
 * ")" (RFC 5258 section 6) */
static int imap_list_select_opts(struct imap_list_args *l,
				 const struct imap_arg *list,
				 const char **error_r)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} opts[] = {
		{ "SUBSCRIBED", IMAP_LIST_SELECT_SUBSCRIBED },
		{ "REMOTE", IMAP_LIST_SELECT_REMOTE },
		{ "RECURSIVEMATCH", IMAP_LIST_SELECT_RECURSIVEMATCH },
		{ "SPECIAL-USE", IMAP_LIST_SELECT_SPECIAL_USE },
	};
	for (size_t i = 0; i < list->list_count; i++) {
		size_t k;
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			if (imap_arg_atom_equals(&list->list[i], opts[k].name))
				break;
		}
		if (k == sizeof(opts) / sizeof(opts[0])) {
			*error_r = "Unknown LIST selection option";
			return -1;
		}
		l->select |= opts[k].bit;
	}
	/* RFC 5258 section 3.1: RECURSIVEMATCH only modifies another
	 * option, and alone (or only with REMOTE) it is an error. */
	if ((l->select & IMAP_LIST_SELECT_RECURSIVEMATCH) != 0 &&
	    (l->select & ~(uint32_t)(IMAP_LIST_SELECT_RECURSIVEMATCH |
				     IMAP_LIST_SELECT_REMOTE)) == 0) {
		*error_r = "RECURSIVEMATCH needs another selection option";
		return -1;
	}
	/* SUBSCRIBED implies the SUBSCRIBED return option */
	if ((l->select & IMAP_LIST_SELECT_SUBSCRIBED) != 0)
		l->ret |= IMAP_LIST_RETURN_SUBSCRIBED;
	return 0;
}

/* return-option list (RFC 5258 section 6, RFC 5819 section 4) */
static int imap_list_return_opts(struct imap_list_args *l,
				 const struct imap_arg *list,
				 const char **error_r)
{
	for (size_t i = 0; i < list->list_count; i++) {
		const struct imap_arg *a = &list->list[i];
		if (imap_arg_atom_equals(a, "SUBSCRIBED")) {
			l->ret |= IMAP_LIST_RETURN_SUBSCRIBED;
		} else if (imap_arg_atom_equals(a, "CHILDREN")) {
			l->ret |= IMAP_LIST_RETURN_CHILDREN;
		} else if (imap_arg_atom_equals(a, "SPECIAL-USE")) {
			l->ret |= IMAP_LIST_RETURN_SPECIAL_USE;
		} else if (imap_arg_atom_equals(a, "STATUS")) {
			if ((l->ret & IMAP_LIST_RETURN_STATUS) != 0) {
				*error_r = "STATUS return option given twice";
				return -1;
			}
			if (i + 1 >= list->list_count) {
				*error_r = "Missing STATUS items";
				return -1;
			}
			if (imap_status_args_parse(&list->list[++i],
						   &l->status_items,
						   error_r) < 0)
				return -1;
			l->ret |= IMAP_LIST_RETURN_STATUS;
		} else {
			*error_r = "Unknown LIST return option";
			return -1;
		}
	}
	return 0;
}

int imap_list_args_parse(const struct imap_arg *args, size_t count,
			 bool lsub, bool utf8, struct imap_list_args *list_r,
			 const char **error_r)
{
	size_t i = 0;
	memset(list_r, 0, sizeof(*list_r));
	if (!lsub && i < count && args[i].type == IMAP_ARG_LIST) {
		list_r->extended = true;
		if (imap_list_select_opts(list_r, &args[i], error_r) < 0)
			goto fail;
		i++;
	}
	if (count - i < 2) {
		*error_r = "Missing LIST arguments";
		goto fail;
	}
	list_r->reference = imap_list_name(&args[i++], utf8, error_r);
	if (list_r->reference == NULL)
		goto fail;
	const struct imap_arg *pat = &args[i++];
	if (!lsub && pat->type == IMAP_ARG_LIST) {
		/* patterns = "(" list-mailbox *(SP list-mailbox) ")" */
		list_r->extended = true;
		if (pat->list_count == 0) {
			*error_r = "Empty LIST pattern list";
			goto fail;
		}
		for (size_t k = 0; k < pat->list_count; k++) {
			if (imap_list_add_pattern(list_r, &pat->list[k], utf8,
						  error_r) < 0)
				goto fail;
		}
	} else if (imap_list_add_pattern(list_r, pat, utf8, error_r) < 0) {
		goto fail;
	}
	if (i < count) {
		if (lsub || !imap_arg_atom_equals(&args[i], "RETURN") ||
		    i + 2 != count || args[i + 1].type != IMAP_ARG_LIST) {
			*error_r = "Unexpected LIST arguments";
			goto fail;
		}
		list_r->extended = true;
		if (imap_list_return_opts(list_r, &args[i + 1], error_r) < 0)
			goto fail;
	}
	return 0;
fail:
	imap_list_args_free(list_r);
	return -1;
}

char *imap_list_pattern_join(const char *reference, const char *pattern,
			     char sep)
{
	if (reference[0] == '\0' || pattern[0] == sep)
		return xstrdup(pattern);
	size_t rl = strlen(reference), pl = strlen(pattern);
	char *s = xmalloc(rl + pl + 1);
	memcpy(s, reference, rl);
	memcpy(s + rl, pattern, pl + 1);
	return s;
}

/* ---- matching ---- */

static char imap_list_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

bool imap_list_match(const char *pattern, const char *name, char sep)
{
	/* Collapse wildcard runs: a run with a "*" is one "*", a run of
	 * "%" is one "%". Then each state is followed by at most one
	 * wildcard, and the set of live states (an NFA simulation, as in
	 * Thompson's construction) is updated in one pass per name byte. */
	size_t plen = strlen(pattern), m = 0;
	char small[256];
	char *p = plen < sizeof(small) ? small : xmalloc(plen + 1);
	for (size_t i = 0; i < plen; i++) {
		char c = pattern[i];
		if ((c == '*' || c == '%') && m > 0 &&
		    (p[m - 1] == '*' || p[m - 1] == '%')) {
			if (c == '*')
				p[m - 1] = '*';
			continue;
		}
		p[m++] = c;
	}
	p[m] = '\0';

	/* live[i]: pattern prefix p[0..i) matches the name read so far */
	unsigned char live_small[2][257];
	unsigned char *cur = m < 256 ? live_small[0] : xcalloc(m + 1, 1);
	unsigned char *next = m < 256 ? live_small[1] : xcalloc(m + 1, 1);
	memset(cur, 0, m + 1);
	cur[0] = 1;
	if (m > 0 && (p[0] == '*' || p[0] == '%'))
		cur[1] = 1;

	size_t inbox_len = 0;
	if (strncmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == sep))
		inbox_len = 5;

	bool any = true;
	for (size_t k = 0; name[k] != '\0' && any; k++) {
		char c = name[k];
		memset(next, 0, m + 1);
		any = false;
		for (size_t i = 0; i < m; i++) {
			if (!cur[i])
				continue;
			char pc = p[i];
			if (pc == '*' || (pc == '%' && c != sep)) {
				next[i] = 1;
			} else if (pc == c ||
				   (k < inbox_len && imap_list_upper(pc) == c)) {
				next[i + 1] = 1;
			} else {
				continue;
			}
			any = true;
		}
		/* a wildcard also matches nothing: entering state i with
		 * p[i] a wildcard enters i + 1 too */
		for (size_t i = 0; i < m; i++) {
			if (next[i] && (p[i] == '*' || p[i] == '%'))
				next[i + 1] = 1;
		}
		unsigned char *t = cur;
		cur = next;
		next = t;
	}
	bool match = any && cur[m];
	if (m >= 256) {
		free(cur);
		free(next);
	}
	if (p != small)
		free(p);
	return match;
}
