/* Sort keys; see sort-key.h. */
#include "sort-key.h"

#include "../../common/unicode-fold.h"
#include "../../store/mime-cache.h"
#include "../../store/mime-decode.h"
#include "../../store/mime-header.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bounds on what one message contributes to THREAD: a References header
 * of a mailing-list veteran has a few dozen ids; thousands would only
 * make the loop checks quadratic. */
#define SORT_REFS_MAX 256
#define SORT_MSGID_MAX 998

/* ---- criteria ---- */

int sort_criteria_parse(const struct imap_arg *list,
			struct sort_criteria *crit_r, const char **error_r)
{
	static const struct {
		const char *name;
		enum sort_key_type type;
		unsigned need;
	} keys[] = {
		{ "ARRIVAL", SORT_ARRIVAL, SORT_NEED_RECORD },
		{ "CC", SORT_CC, SORT_NEED_CACHE },
		{ "DATE", SORT_DATE, SORT_NEED_CACHE },
		{ "FROM", SORT_FROM, SORT_NEED_CACHE },
		{ "SIZE", SORT_SIZE, SORT_NEED_RECORD },
		{ "SUBJECT", SORT_SUBJECT, SORT_NEED_CACHE },
		{ "TO", SORT_TO, SORT_NEED_CACHE },
		{ "DISPLAYFROM", SORT_DISPLAYFROM, SORT_NEED_CACHE },
		{ "DISPLAYTO", SORT_DISPLAYTO, SORT_NEED_CACHE },
	};
	memset(crit_r, 0, sizeof(*crit_r));
	if (list->type != IMAP_ARG_LIST || list->list_count == 0) {
		*error_r = "Sort criteria must be a non-empty list";
		return -1;
	}
	bool reverse = false;
	for (size_t i = 0; i < list->list_count; i++) {
		const struct imap_arg *a = &list->list[i];
		if (imap_arg_atom_equals(a, "REVERSE")) {
			if (reverse) {
				*error_r = "REVERSE REVERSE in sort criteria";
				return -1;
			}
			reverse = true;
			continue;
		}
		size_t k;
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (imap_arg_atom_equals(a, keys[k].name))
				break;
		if (k == sizeof(keys) / sizeof(keys[0])) {
			*error_r = "Unknown sort key";
			return -1;
		}
		if (crit_r->count == SORT_CRITERIA_MAX) {
			*error_r = "Too many sort criteria";
			return -1;
		}
		crit_r->keys[crit_r->count].type = keys[k].type;
		crit_r->keys[crit_r->count].reverse = reverse;
		crit_r->count++;
		crit_r->need |= keys[k].need;
		reverse = false;
	}
	if (reverse) {
		*error_r = "REVERSE without a sort key";
		return -1;
	}
	return 0;
}

/* ---- base subject (RFC 5256 section 2.1) ---- */

static bool ci_prefix(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len >= n && strncasecmp(s, lit, n) == 0;
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP at s[0..len): its length, or 0. */
static size_t subj_blob(const char *s, size_t len)
{
	if (len == 0 || s[0] != '[')
		return 0;
	size_t i = 1;
	while (i < len && s[i] != '[' && s[i] != ']')
		i++;
	if (i == len || s[i] != ']')
		return 0;
	i++;
	while (i < len && s[i] == ' ')
		i++;
	return i;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" */
static size_t subj_refwd(const char *s, size_t len)
{
	size_t i;
	if (ci_prefix(s, len, "fwd"))
		i = 3;
	else if (ci_prefix(s, len, "fw") || ci_prefix(s, len, "re"))
		i = 2;
	else
		return 0;
	while (i < len && s[i] == ' ')
		i++;
	i += subj_blob(s + i, len - i);
	if (i < len && s[i] == ':')
		return i + 1;
	return 0;
}

/* subj-leader = (*subj-blob subj-refwd) / WSP; *refwd_r when it is the
 * former. */
static size_t subj_leader(const char *s, size_t len, bool *refwd_r)
{
	if (len > 0 && s[0] == ' ')
		return 1;
	size_t i = 0, b;
	while ((b = subj_blob(s + i, len - i)) > 0)
		i += b;
	size_t r = subj_refwd(s + i, len - i);
	if (r == 0)
		return 0;
	*refwd_r = true;
	return i + r;
}

void sort_base_subject(const char *subject, size_t len, struct buf *out,
		       bool *refwd_r)
{
	bool refwd = false;
	/* (1) encoded words are decoded by the caller; tabs and line
	 * breaks (continuations) become spaces, runs of spaces one */
	char *s = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = subject[i];
		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == ' ' && n > 0 && s[n - 1] == ' ')
			continue;
		s[n++] = c;
	}
	size_t b = 0, e = n;
	for (;;) {
		/* (2) subj-trailer = "(fwd)" / WSP, repeatedly */
		for (;;) {
			if (e > b && s[e - 1] == ' ') {
				e--;
			} else if (e - b >= 5 &&
				   strncasecmp(s + e - 5, "(fwd)", 5) == 0) {
				e -= 5;
				refwd = true;
			} else {
				break;
			}
		}
		bool changed;
		do {
			changed = false;
			/* (3) every subj-leader */
			size_t l;
			while ((l = subj_leader(s + b, e - b, &refwd)) > 0) {
				b += l;
				changed = true;
			}
			/* (4) a subj-blob, if a non-empty subj-base is left
			 * (the trailers are gone already, see (2)) */
			size_t bl = subj_blob(s + b, e - b);
			if (bl > 0) {
				bool rest = false;
				for (size_t i = b + bl; i < e && !rest; i++)
					rest = s[i] != ' ';
				if (rest) {
					b += bl;
					changed = true;
				}
			}
			/* (5) until neither applies */
		} while (changed);
		/* (6) subj-fwd-hdr subject subj-fwd-trl */
		if (e - b >= 6 && strncasecmp(s + b, "[fwd:", 5) == 0 &&
		    s[e - 1] == ']') {
			b += 5;
			e -= 1;
			refwd = true;
			continue;	/* from (2) */
		}
		break;
	}
	/* (7) i;ascii-casemap */
	for (size_t i = b; i < e; i++) {
		char c = s[i];
		buf_append_byte(out, (uint8_t)(c >= 'a' && c <= 'z' ?
					       c - 'a' + 'A' : c));
	}
	free(s);
	if (refwd_r != NULL)
		*refwd_r = refwd;
}

/* ---- message ids ---- */

void sort_parse_msgids(const uint8_t *value, size_t len, char ***ids_r,
		       size_t *n_r, size_t max)
{
	size_t i = 0;
	while (i < len && *n_r < max) {
		uint8_t c = value[i];
		if (c == '(') {
			/* a comment, possibly nested; quoted pairs inside */
			int depth = 0;
			for (; i < len; i++) {
				if (value[i] == '\\' && i + 1 < len)
					i++;
				else if (value[i] == '(')
					depth++;
				else if (value[i] == ')' && --depth == 0)
					break;
			}
			i++;
			continue;
		}
		if (c != '<') {
			i++;
			continue;
		}
		/* msg-id = "<" id-left "@" id-right ">"; folding whitespace
		 * inside is dropped. Ids without "@" are used too: they
		 * are what the mail says, and i;octet equality is all
		 * threading needs. */
		size_t j = i + 1;
		struct buf id;
		buf_init(&id);
		buf_append_byte(&id, '<');
		bool ok = false;
		for (; j < len; j++) {
			uint8_t d = value[j];
			if (d == '>') {
				ok = id.len > 1;
				break;
			}
			if (d == '<')
				break;
			if (d == ' ' || d == '\t' || d == '\r' || d == '\n')
				continue;
			if (d == '\0' || id.len >= SORT_MSGID_MAX)
				break;
			buf_append_byte(&id, d);
		}
		if (ok) {
			buf_append_byte(&id, '>');
			*ids_r = xrealloc(*ids_r, (*n_r + 1) * sizeof(**ids_r));
			(*ids_r)[(*n_r)++] = xstrndup((const char *)id.data,
						      id.len);
			i = j + 1;
		} else {
			i = j;
		}
		buf_free(&id);
	}
}

/* ---- keys of a message ---- */

void sort_msg_free(struct sort_msg *m)
{
	free(m->subject);
	free(m->from);
	free(m->to);
	free(m->cc);
	free(m->dfrom);
	free(m->dto);
	free(m->message_id);
	for (size_t i = 0; i < m->nrefs; i++)
		free(m->refs[i]);
	free(m->refs);
	m->subject = m->from = m->to = m->cc = m->dfrom = m->dto = NULL;
	m->message_id = NULL;
	m->refs = NULL;
	m->nrefs = 0;
}

static char *buf_take(struct buf *b)
{
	char *s = xstrndup((const char *)(b->data != NULL ? b->data :
				(const uint8_t *)""), b->len);
	buf_free(b);
	return s;
}

/* The first address of a list that is a mailbox, not a group start or
 * end (RFC 5256 section 3: "the first From address"). */
static const struct mime_address *first_mailbox(const struct mime_addresses *l)
{
	for (size_t i = 0; i < l->count; i++) {
		const struct mime_address *a = &l->addr[i];
		if (a->mailbox.s != NULL && a->host.s != NULL)
			return a;
	}
	return NULL;
}

/* addr-mailbox, i;ascii-casemap'ed. */
static char *addr_mailbox_key(const struct mime_addresses *l)
{
	const struct mime_address *a = first_mailbox(l);
	struct buf b;
	buf_init(&b);
	if (a != NULL) {
		for (size_t i = 0; i < a->mailbox.len; i++) {
			char c = a->mailbox.s[i];
			buf_append_byte(&b, (uint8_t)(c >= 'a' && c <= 'z' ?
						      c - 'a' + 'A' : c));
		}
	}
	return buf_take(&b);
}

/* RFC 5957 section 3: the display name, RFC 2047 decoded, or when it is
 * missing or empty the addr-spec ("mailbox@host"); folded. */
static char *display_key(const struct mime_addresses *l)
{
	const struct mime_address *a = first_mailbox(l);
	struct buf raw, b;
	buf_init(&raw);
	buf_init(&b);
	if (a != NULL && a->name.s != NULL && a->name.len > 0)
		mime_decode_header_text((const uint8_t *)a->name.s,
					a->name.len, &raw);
	bool blank = true;
	for (size_t i = 0; i < raw.len && blank; i++)
		blank = raw.data[i] == ' ' || raw.data[i] == '\t';
	if (blank && a != NULL) {
		buf_clear(&raw);
		buf_append(&raw, a->mailbox.s, a->mailbox.len);
		if (strncmp(a->host.s, "MISSING_DOMAIN", a->host.len) != 0 ||
		    a->host.len != 14) {
			buf_append_byte(&raw, '@');
			buf_append(&raw, a->host.s, a->host.len);
		}
	}
	unicode_fold_utf8(raw.data, raw.len, &b);
	buf_free(&raw);
	return buf_take(&b);
}

static void msgid_from_header(struct sort_msg *m, struct mime_str v)
{
	char **ids = NULL;
	size_t n = 0;
	if (v.s != NULL)
		sort_parse_msgids((const uint8_t *)v.s, v.len, &ids, &n, 1);
	m->message_id = n > 0 ? ids[0] : xstrdup("");
	free(ids);
}

int sort_msg_fill(struct sort_msg *m, unsigned need, const uint8_t *cache,
		  size_t cache_len, const uint8_t *hdr, size_t hdr_len,
		  const char **error_r)
{
	m->sent = m->arrival;
	if ((need & (SORT_NEED_CACHE | SORT_NEED_THREAD)) == 0)
		return 0;
	struct mime_search_fields f;
	struct mime_message *mm = NULL;
	if (mime_cache_search_fields(cache, cache_len, &f, error_r) < 0 ||
	    mime_cache_decode(cache, cache_len, &mm, error_r) < 0)
		return -1;
	if (f.date_valid)
		m->sent = f.date;
	struct buf b;
	buf_init(&b);
	sort_base_subject(f.subject.s != NULL ? f.subject.s : "",
			  f.subject.len, &b, &m->reply_fwd);
	m->subject = buf_take(&b);
	const struct mime_envelope *env = mm->root->env;
	m->from = addr_mailbox_key(&env->from);
	m->to = addr_mailbox_key(&env->to);
	m->cc = addr_mailbox_key(&env->cc);
	m->dfrom = display_key(&env->from);
	m->dto = display_key(&env->to);
	if (need & SORT_NEED_THREAD) {
		msgid_from_header(m, env->message_id);
		/* RFC 5256 section 3 (1): the References header, or when it
		 * has no valid id the first valid id of In-Reply-To */
		struct mime_header_iter it;
		struct mime_header_field fld;
		if (hdr != NULL) {
			mime_header_iter_init(&it, hdr, hdr_len);
			if (mime_header_next_named(&it, "References", &fld))
				sort_parse_msgids(fld.value, fld.value_len,
						  &m->refs, &m->nrefs,
						  SORT_REFS_MAX);
		}
		if (m->nrefs == 0 && env->in_reply_to.s != NULL)
			sort_parse_msgids((const uint8_t *)env->in_reply_to.s,
					  env->in_reply_to.len, &m->refs,
					  &m->nrefs, 1);
	}
	mime_message_free(&mm);
	return 0;
}

/* ---- comparison ---- */

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "");
}

int sort_msg_compare(const struct sort_criteria *crit,
		     const struct sort_msg *a, const struct sort_msg *b)
{
	for (size_t i = 0; i < crit->count; i++) {
		int r = 0;
		switch (crit->keys[i].type) {
		case SORT_ARRIVAL: r = cmp_i64(a->arrival, b->arrival); break;
		case SORT_DATE: r = cmp_i64(a->sent, b->sent); break;
		case SORT_SIZE:
			r = a->size < b->size ? -1 : a->size > b->size;
			break;
		case SORT_SUBJECT: r = cmp_str(a->subject, b->subject); break;
		case SORT_FROM: r = cmp_str(a->from, b->from); break;
		case SORT_TO: r = cmp_str(a->to, b->to); break;
		case SORT_CC: r = cmp_str(a->cc, b->cc); break;
		case SORT_DISPLAYFROM: r = cmp_str(a->dfrom, b->dfrom); break;
		case SORT_DISPLAYTO: r = cmp_str(a->dto, b->dto); break;
		}
		if (r != 0)
			return crit->keys[i].reverse ? -r : r;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* qsort has no context argument in C11; a merge sort keeps it and is
 * stable, though with the sequence tie-break stability is not needed. */
static void merge_sort(const struct sort_criteria *crit, struct sort_msg *v,
		       struct sort_msg *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	merge_sort(crit, v, tmp, h);
	merge_sort(crit, v + h, tmp, n - h);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = sort_msg_compare(crit, &v[j], &v[i]) < 0 ?
			   v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

void sort_msgs(const struct sort_criteria *crit, struct sort_msg *msgs,
	       size_t n)
{
	if (n < 2)
		return;
	struct sort_msg *tmp = xmalloc(n * sizeof(*tmp));
	merge_sort(crit, msgs, tmp, n);
	free(tmp);
}
