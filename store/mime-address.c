/* RFC 5322 section 3.4 address lists for ENVELOPE, lenient:
 *
 *   address-list = (mailbox / group) *("," ...)
 *   group        = display-name ":" [mailbox-list] ";"
 *   mailbox      = [display-name] "<" [route ":"] addr-spec ">" / addr-spec
 *
 * Display names are the phrase's words joined by one space, quoted
 * strings unquoted, encoded words left as written (ENVELOPE is raw). A
 * comment after a bare addr-spec ("j@x (John)") serves as the name. A
 * word list with neither "@" nor "<" is a mailbox with no domain. An
 * address without domain gets host "MISSING_DOMAIN" and one without local
 * part "MISSING_MAILBOX" (Dovecot's convention), except "<>" which gives
 * two empty strings; a NIL host would read as a group start. A group left
 * open at the end is closed. Garbage after an address, up to the next ","
 * or ";", is ignored. */
#include "mime-private.h"

#include <stdlib.h>
#include <string.h>

enum mime_atok {
	ATOK_END,
	ATOK_WORD,	/* atom (dots included) or quoted string */
	ATOK_DLITERAL,	/* [..], brackets kept */
	ATOK_COMMENT,
	ATOK_SPECIAL,	/* one of < > : ; @ , */
};

struct mime_alex {
	const uint8_t *s;
	size_t len, pos;
	struct buf tok;		/* the token's text */
	uint8_t special;
	bool space_before;	/* blanks or comments before the token */
	bool quoted;
};

static bool mime_is_atext(uint8_t c)
{
	if (c <= ' ' || c == 0x7f)
		return false;
	return strchr("()<>[]:;@\\,\"", c) == NULL;
}

static enum mime_atok mime_alex_next(struct mime_alex *l)
{
	buf_clear(&l->tok);
	l->space_before = false;
	l->quoted = false;
	/* Blanks, NULs and stray closing brackets or backslashes. */
	while (l->pos < l->len && (mime_is_wsp(l->s[l->pos]) ||
				   l->s[l->pos] == '\r' ||
				   l->s[l->pos] == '\n' ||
				   l->s[l->pos] == '\0' ||
				   l->s[l->pos] == '\\' ||
				   l->s[l->pos] == ']' ||
				   l->s[l->pos] == ')')) {
		l->pos++;
		l->space_before = true;
	}
	if (l->pos >= l->len)
		return ATOK_END;
	uint8_t c = l->s[l->pos];
	if (c == '"') {
		l->pos++;
		l->quoted = true;
		while (l->pos < l->len && l->s[l->pos] != '"') {
			uint8_t d = l->s[l->pos++];
			if (d == '\\' && l->pos < l->len)
				d = l->s[l->pos++];
			buf_append_byte(&l->tok, d);
		}
		if (l->pos < l->len)
			l->pos++;
		return ATOK_WORD;
	}
	if (c == '(') {
		unsigned depth = 0;
		l->pos++;
		while (l->pos < l->len) {
			uint8_t d = l->s[l->pos++];
			if (d == '\\' && l->pos < l->len) {
				d = l->s[l->pos++];
			} else if (d == '(') {
				depth++;
			} else if (d == ')') {
				if (depth == 0)
					break;
				depth--;
			}
			buf_append_byte(&l->tok, d);
		}
		return ATOK_COMMENT;
	}
	if (c == '[') {
		while (l->pos < l->len) {
			uint8_t d = l->s[l->pos++];
			buf_append_byte(&l->tok, d);
			if (d == ']')
				break;
		}
		return ATOK_DLITERAL;
	}
	if (mime_is_atext(c)) {
		size_t start = l->pos;
		while (l->pos < l->len && mime_is_atext(l->s[l->pos]))
			l->pos++;
		buf_append(&l->tok, l->s + start, l->pos - start);
		return ATOK_WORD;
	}
	l->pos++;
	l->special = c;
	return ATOK_SPECIAL;
}

struct mime_alist {
	struct mime_arena *a;
	struct mime_address *addr;
	size_t n, cap;
};

static struct mime_address *mime_alist_add(struct mime_alist *al)
{
	if (al->n == al->cap) {
		al->cap = al->cap ? al->cap * 2 : 4;
		al->addr = xrealloc(al->addr, al->cap * sizeof(*al->addr));
	}
	struct mime_address *ad = &al->addr[al->n++];
	memset(ad, 0, sizeof(*ad));
	return ad;
}

static struct mime_str mime_abuf_str(struct mime_arena *a, struct buf *b)
{
	return mime_arena_str(a, b->data, b->len);
}

static struct mime_str mime_lit(struct mime_arena *a, const char *s)
{
	return mime_arena_str(a, s, strlen(s));
}

static void mime_emit_mailbox(struct mime_alist *al, struct buf *name,
			      bool has_name, struct buf *route,
			      struct buf *local, struct buf *domain,
			      bool empty_ok)
{
	struct mime_address *ad = mime_alist_add(al);
	if (has_name)
		ad->name = mime_abuf_str(al->a, name);
	if (route->len > 0)
		ad->adl = mime_abuf_str(al->a, route);
	if (empty_ok && local->len == 0 && domain->len == 0) {
		ad->mailbox = mime_lit(al->a, "");
		ad->host = mime_lit(al->a, "");
		return;
	}
	ad->mailbox = local->len > 0 ? mime_abuf_str(al->a, local) :
				       mime_lit(al->a, "MISSING_MAILBOX");
	ad->host = domain->len > 0 ? mime_abuf_str(al->a, domain) :
				     mime_lit(al->a, "MISSING_DOMAIN");
}

/* Domain after "@": words and domain literals until a separator or a
 * blank that does not sit next to a dot. */
static enum mime_atok mime_parse_domain(struct mime_alex *l,
					struct buf *domain)
{
	enum mime_atok t;
	for (;;) {
		size_t save = l->pos;
		t = mime_alex_next(l);
		if (t != ATOK_WORD && t != ATOK_DLITERAL)
			return t;
		bool joins = domain->len == 0 || !l->space_before ||
			domain->data[domain->len - 1] == '.' ||
			l->tok.data[0] == '.';
		if (!joins || l->tok.len == 0) {
			l->pos = save;
			return mime_alex_next(l);
		}
		buf_append(domain, l->tok.data, l->tok.len);
	}
}

void mime_parse_addresses(struct mime_arena *a, const uint8_t *value,
			  size_t len, struct mime_addresses *list_r)
{
	struct mime_alex l;
	memset(&l, 0, sizeof(l));
	l.s = value;
	l.len = len;
	buf_init(&l.tok);
	struct mime_alist al = { a, NULL, 0, 0 };
	struct buf phrase, local, route, domain, comment;
	buf_init(&phrase);
	buf_init(&local);
	buf_init(&route);
	buf_init(&domain);
	buf_init(&comment);
	bool in_group = false;
	size_t nwords = 0;
	bool have_comment = false;
	enum mime_atok t = mime_alex_next(&l);

	while (t != ATOK_END) {
		if (t == ATOK_WORD || t == ATOK_DLITERAL) {
			if (phrase.len > 0 || nwords > 0)
				buf_append_byte(&phrase, ' ');
			buf_append(&phrase, l.tok.data, l.tok.len);
			buf_append(&local, l.tok.data, l.tok.len);
			nwords++;
			t = mime_alex_next(&l);
			continue;
		}
		if (t == ATOK_COMMENT) {
			if (!have_comment) {
				buf_clear(&comment);
				buf_append(&comment, l.tok.data, l.tok.len);
				have_comment = true;
			}
			t = mime_alex_next(&l);
			continue;
		}
		uint8_t c = l.special;
		bool emitted = false;
		buf_clear(&route);
		buf_clear(&domain);
		if (c == '<') {
			/* [route ":"] local "@" domain ">" */
			struct buf alocal;
			buf_init(&alocal);
			t = mime_alex_next(&l);
			if (t == ATOK_SPECIAL && l.special == '@') {
				while (t == ATOK_SPECIAL &&
				       (l.special == '@' || l.special == ',')) {
					uint8_t sp = l.special;
					t = mime_alex_next(&l);
					if (sp == '@') {
						if (route.len > 0)
							buf_append_byte(&route,
									',');
						buf_append_byte(&route, '@');
						if (t == ATOK_WORD ||
						    t == ATOK_DLITERAL) {
							buf_append(&route,
								   l.tok.data,
								   l.tok.len);
							t = mime_alex_next(&l);
						}
					}
				}
				if (t == ATOK_SPECIAL && l.special == ':')
					t = mime_alex_next(&l);
			}
			while (t == ATOK_WORD || t == ATOK_COMMENT) {
				if (t == ATOK_WORD)
					buf_append(&alocal, l.tok.data,
						   l.tok.len);
				t = mime_alex_next(&l);
			}
			if (t == ATOK_SPECIAL && l.special == '@')
				t = mime_parse_domain(&l, &domain);
			mime_emit_mailbox(&al, &phrase, nwords > 0, &route,
					  &alocal, &domain, true);
			buf_free(&alocal);
			emitted = true;
			/* Up to ">"; anything else before it is garbage. */
			while (t != ATOK_END &&
			       !(t == ATOK_SPECIAL && l.special == '>'))
				t = mime_alex_next(&l);
			if (t != ATOK_END)
				t = mime_alex_next(&l);
		} else if (c == '@') {
			t = mime_parse_domain(&l, &domain);
			/* "j@x (John Doe)": the comment is the name. */
			while (t == ATOK_COMMENT) {
				if (!have_comment) {
					buf_clear(&comment);
					buf_append(&comment, l.tok.data,
						   l.tok.len);
					have_comment = true;
				}
				t = mime_alex_next(&l);
			}
			mime_emit_mailbox(&al, &comment, have_comment &&
					  comment.len > 0, &route, &local,
					  &domain, false);
			emitted = true;
		} else if (c == ':' && !in_group) {
			struct mime_address *ad = mime_alist_add(&al);
			ad->mailbox = mime_abuf_str(a, &phrase);
			in_group = true;
			t = mime_alex_next(&l);
		} else if (c == ',' || c == ';') {
			if (nwords > 0)
				mime_emit_mailbox(&al, &phrase, false, &route,
						  &phrase, &domain, false);
			if (c == ';' && in_group) {
				mime_alist_add(&al);	/* group end */
				in_group = false;
			}
			t = mime_alex_next(&l);
		} else {
			t = mime_alex_next(&l);	/* stray ">" or ":" */
		}
		if (emitted) {
			/* Skip garbage up to the next separator. */
			while (t != ATOK_END &&
			       !(t == ATOK_SPECIAL &&
				 (l.special == ',' || l.special == ';')))
				t = mime_alex_next(&l);
			if (t == ATOK_SPECIAL && l.special == ',')
				t = mime_alex_next(&l);
		}
		buf_clear(&phrase);
		buf_clear(&local);
		nwords = 0;
		have_comment = false;
	}
	if (nwords > 0) {
		buf_clear(&route);
		buf_clear(&domain);
		mime_emit_mailbox(&al, &phrase, false, &route, &phrase,
				  &domain, false);
	}
	if (in_group)
		mime_alist_add(&al);
	list_r->count = al.n;
	list_r->addr = mime_arena_array(a, al.n, sizeof(*list_r->addr));
	if (al.n > 0)
		memcpy(list_r->addr, al.addr, al.n * sizeof(*al.addr));
	free(al.addr);
	buf_free(&l.tok);
	buf_free(&phrase);
	buf_free(&local);
	buf_free(&route);
	buf_free(&domain);
	buf_free(&comment);
}
