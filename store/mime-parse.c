/* The MIME parser: one forward pass over the message; see mime.h for the
 * limits and how malformed mail is read.
 *
 * Each entity (the message, a body part, an encapsulated message) is a
 * header, then a body that ends at the first line that is a boundary
 * delimiter of any open multipart, innermost first (RFC 2046 5.1.1), or
 * at the end of the message. The line break before a delimiter belongs to
 * the delimiter. The scanner hands the delimiter line it found to the
 * caller that owns it, so no byte is scanned twice. */
#include "mime-private.h"

#include "mime-decode.h"
#include "mime-header.h"

#include <stdlib.h>
#include <string.h>

struct mime_bound {
	const uint8_t *s;
	size_t len;
};

/* The delimiter line that ended an entity. */
struct mime_stop {
	size_t line_start;	/* msg len at the end of the message */
	size_t next;		/* after the line */
	int level;		/* index into the boundary stack; -1: end */
	bool close;		/* "--boundary--" */
};

struct mime_parser {
	const uint8_t *msg;
	size_t len;
	struct mime_limits lim;
	struct mime_arena *a;
	struct mime_bound *bounds;
	unsigned nbounds;
	unsigned nparts;
	/* A delimiter found while reading a header: the entity ends there,
	 * and the next scan returns it without reading. */
	bool pending;
	struct mime_stop pending_stop;
	/* LF count of msg[0..line_pos), moved forward as the parse goes. */
	size_t line_pos;
	uint64_t line_count;
};

void mime_limits_default(struct mime_limits *lim)
{
	lim->max_depth = MIME_DEPTH_DEFAULT;
	lim->max_parts = MIME_PARTS_DEFAULT;
}

static uint64_t mime_lf_count(const uint8_t *s, size_t len)
{
	uint64_t n = 0;
	const uint8_t *p = s, *end = s + len;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* LFs before pos. Positions asked for only grow during a parse (apart
 * from a line break stepped back over), so this is linear overall. */
static uint64_t mime_lines_at(struct mime_parser *ps, size_t pos)
{
	if (pos >= ps->line_pos)
		ps->line_count += mime_lf_count(ps->msg + ps->line_pos,
						pos - ps->line_pos);
	else
		ps->line_count -= mime_lf_count(ps->msg + pos,
						ps->line_pos - pos);
	ps->line_pos = pos;
	return ps->line_count;
}

/* Index of the open boundary that the line [start, end) delimits (end
 * excludes the LF), innermost first, or -1. Trailing blanks after the
 * delimiter are transport padding (RFC 2046 5.1.1). */
static int mime_match_boundary(const struct mime_parser *ps, size_t start,
			       size_t end, bool *close_r)
{
	const uint8_t *line = ps->msg + start;
	size_t n = end - start;
	if (n < 3 || line[0] != '-' || line[1] != '-')
		return -1;
	for (unsigned i = ps->nbounds; i-- > 0;) {
		const struct mime_bound *b = &ps->bounds[i];
		if (n - 2 < b->len || memcmp(line + 2, b->s, b->len) != 0)
			continue;
		size_t k = 2 + b->len;
		bool close = false;
		if (n - k >= 2 && line[k] == '-' && line[k + 1] == '-') {
			close = true;
			k += 2;
		}
		while (k < n && (mime_is_wsp(line[k]) || line[k] == '\r'))
			k++;
		if (k == n) {
			*close_r = close;
			return (int)i;
		}
	}
	return -1;
}

/* Reads lines from pos until a delimiter of an open boundary. */
static void mime_scan(struct mime_parser *ps, size_t pos,
		      struct mime_stop *st)
{
	if (ps->pending) {
		*st = ps->pending_stop;
		ps->pending = false;
		return;
	}
	st->level = -1;
	st->close = false;
	st->line_start = st->next = ps->len;
	if (ps->nbounds == 0)
		return;
	while (pos < ps->len) {
		const uint8_t *nl = memchr(ps->msg + pos, '\n', ps->len - pos);
		size_t end = nl != NULL ? (size_t)(nl - ps->msg) : ps->len;
		size_t next = nl != NULL ? end + 1 : ps->len;
		bool close;
		int level = mime_match_boundary(ps, pos, end, &close);
		if (level >= 0) {
			st->line_start = pos;
			st->next = next;
			st->level = level;
			st->close = close;
			return;
		}
		pos = next;
	}
}

/* True if the line looks like the start of a header field: an RFC 5322
 * field-name (printable ASCII but ":") and a colon, blanks allowed
 * before it (RFC 822). */
static bool mime_is_field_line(const struct mime_parser *ps, size_t pos,
			       size_t end)
{
	size_t i = pos;
	while (i < end && ps->msg[i] > ' ' && ps->msg[i] < 0x7f &&
	       ps->msg[i] != ':')
		i++;
	if (i == pos)
		return false;
	while (i < end && mime_is_wsp(ps->msg[i]))
		i++;
	return i < end && ps->msg[i] == ':';
}

/* The header at pos: sets *hdr_end_r (the body starts there too). An
 * entity whose first line is not a header field has an empty header, so
 * a message with no header at all (or a body part missing its empty
 * line) is all body. */
static bool mime_scan_header(struct mime_parser *ps, size_t pos,
			     size_t *hdr_end_r)
{
	size_t start = pos;
	if (ps->pending) {
		*hdr_end_r = pos;
		return false;
	}
	while (pos < ps->len) {
		const uint8_t *nl = memchr(ps->msg + pos, '\n', ps->len - pos);
		size_t end = nl != NULL ? (size_t)(nl - ps->msg) : ps->len;
		size_t next = nl != NULL ? end + 1 : ps->len;
		bool empty = end == pos || (end == pos + 1 &&
					    ps->msg[pos] == '\r');
		if (pos == start && !empty && !mime_is_field_line(ps, pos, end)) {
			bool close;
			if (ps->nbounds == 0 ||
			    mime_match_boundary(ps, pos, end, &close) < 0) {
				/* Text with no header: all of it is body. */
				*hdr_end_r = pos;
				return false;
			}
		}
		if (empty) {
			if (nl != NULL) {
				*hdr_end_r = next;
				return true;
			}
		}
		bool close;
		int level = ps->nbounds == 0 ? -1 :
			mime_match_boundary(ps, pos, end, &close);
		if (level >= 0) {
			ps->pending = true;
			ps->pending_stop = (struct mime_stop){
				pos, next, level, close };
			/* The line break before the delimiter is the
			 * delimiter's, so the entity stays inside its
			 * parent's body. */
			size_t e = pos;
			if (e > start && ps->msg[e - 1] == '\n') {
				e--;
				if (e > start && ps->msg[e - 1] == '\r')
					e--;
			}
			*hdr_end_r = e;
			return false;
		}
		pos = next;
	}
	*hdr_end_r = ps->len;
	return false;
}

static void mime_set_default_type(struct mime_parser *ps,
				  struct mime_part *p, bool digest)
{
	if (digest) {
		p->type = mime_arena_str(ps->a, "MESSAGE", 7);
		p->subtype = mime_arena_str(ps->a, "RFC822", 6);
		p->params = NULL;
		p->nparams = 0;
	} else {
		p->type = mime_arena_str(ps->a, "TEXT", 4);
		p->subtype = mime_arena_str(ps->a, "PLAIN", 5);
		p->params = NULL;
		p->nparams = 0;
	}
}

/* RFC 2045 5.2: text without a charset is US-ASCII. */
static void mime_add_default_charset(struct mime_parser *ps,
				     struct mime_part *p)
{
	if (!mime_str_eq_ci(p->type, "TEXT") ||
	    mime_param_get(p->params, p->nparams, "CHARSET").s != NULL)
		return;
	struct mime_param *np = mime_arena_array(ps->a, p->nparams + 1,
						 sizeof(*np));
	np[0].name = mime_arena_str(ps->a, "CHARSET", 7);
	np[0].value = mime_arena_str(ps->a, "US-ASCII", 8);
	if (p->nparams > 0)
		memcpy(np + 1, p->params, p->nparams * sizeof(*np));
	p->params = np;
	p->nparams++;
}

static enum mime_encoding mime_encoding_from(struct mime_str s)
{
	if (s.s == NULL || mime_str_eq_ci(s, "7BIT"))
		return MIME_ENC_7BIT;
	if (mime_str_eq_ci(s, "8BIT"))
		return MIME_ENC_8BIT;
	if (mime_str_eq_ci(s, "BINARY"))
		return MIME_ENC_BINARY;
	if (mime_str_eq_ci(s, "BASE64"))
		return MIME_ENC_BASE64;
	if (mime_str_eq_ci(s, "QUOTED-PRINTABLE"))
		return MIME_ENC_QP;
	return MIME_ENC_OTHER;
}

enum {
	F_CTYPE, F_CTE, F_DISP, F_ID, F_DESC, F_LANG, F_LOC, F_COUNT
};

static const char *const mime_field_names[F_COUNT] = {
	"Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
	"Content-ID", "Content-Description", "Content-Language",
	"Content-Location",
};

/* Fills the Content-* fields of p from its header. */
static void mime_parse_fields(struct mime_parser *ps, struct mime_part *p,
			      bool digest)
{
	struct mime_header_field found[F_COUNT];
	bool have[F_COUNT] = { false };
	struct mime_header_iter it;
	struct mime_header_field f;
	mime_header_iter_init(&it, ps->msg + p->hdr_off, (size_t)p->hdr_len);
	while (mime_header_next(&it, &f)) {
		if (f.name_len < 8 || !mime_mem_eq_ci(f.name, 8, "Content-"))
			continue;
		for (unsigned i = 0; i < F_COUNT; i++) {
			if (!have[i] && mime_mem_eq_ci(f.name, f.name_len,
						       mime_field_names[i])) {
				found[i] = f;
				have[i] = true;
				break;
			}
		}
	}
	struct buf v;
	buf_init(&v);
#define UNFOLD(i) (buf_clear(&v), \
	mime_header_unfold(found[i].value, found[i].value_len, &v))

	mime_set_default_type(ps, p, digest);
	if (have[F_CTYPE]) {
		struct mime_ctype ct;
		UNFOLD(F_CTYPE);
		mime_parse_content_type(ps->a, v.data, v.len, true, &ct);
		if (ct.type.s != NULL) {
			p->type = ct.type;
			p->subtype = ct.subtype;
			p->params = ct.params;
			p->nparams = ct.nparams;
		}
	}
	p->enc_name = mime_arena_str(ps->a, "7BIT", 4);
	if (have[F_CTE]) {
		UNFOLD(F_CTE);
		struct mime_str t = mime_parse_token(ps->a, v.data, v.len);
		if (t.s != NULL)
			p->enc_name = t;
	}
	p->enc = mime_encoding_from(p->enc_name);
	if (have[F_DISP]) {
		struct mime_ctype ct;
		UNFOLD(F_DISP);
		mime_parse_content_type(ps->a, v.data, v.len, false, &ct);
		if (ct.type.s != NULL) {
			p->disp = ct.type;
			p->disp_params = ct.params;
			p->ndisp_params = ct.nparams;
		}
	}
	if (have[F_ID]) {
		UNFOLD(F_ID);
		p->id = mime_arena_str(ps->a, v.data, v.len);
	}
	if (have[F_DESC]) {
		UNFOLD(F_DESC);
		p->desc = mime_arena_str(ps->a, v.data, v.len);
	}
	if (have[F_LANG]) {
		UNFOLD(F_LANG);
		mime_parse_token_list(ps->a, v.data, v.len, &p->lang,
				      &p->nlang);
	}
	if (have[F_LOC]) {
		/* RFC 2557 4.4.1: folding whitespace in the URI is not
		 * part of it. */
		UNFOLD(F_LOC);
		size_t w = 0;
		for (size_t i = 0; i < v.len; i++) {
			if (!mime_is_wsp(v.data[i]))
				v.data[w++] = v.data[i];
		}
		p->location = mime_arena_str(ps->a, v.data, w);
	}
#undef UNFOLD
	buf_free(&v);
}

static void mime_make_opaque(struct mime_parser *ps, struct mime_part *p)
{
	p->flags = (p->flags & ~(unsigned)(MIME_PART_MULTIPART |
					   MIME_PART_MESSAGE)) |
		   MIME_PART_OPAQUE;
	p->type = mime_arena_str(ps->a, "APPLICATION", 11);
	p->subtype = mime_arena_str(ps->a, "OCTET-STREAM", 12);
	p->params = NULL;
	p->nparams = 0;
}

static void mime_parse_entity(struct mime_parser *ps, struct mime_part *p,
			      size_t pos, unsigned depth, bool digest,
			      bool message, struct mime_stop *st);

/* An empty text/plain child for a multipart with no body part. */
static void mime_empty_child(struct mime_parser *ps, struct mime_part *c,
			     size_t at)
{
	memset(c, 0, sizeof(*c));
	c->hdr_off = c->body_off = at;
	mime_set_default_type(ps, c, false);
	mime_add_default_charset(ps, c);
	c->enc_name = mime_arena_str(ps->a, "7BIT", 4);
}

static void mime_parse_multipart(struct mime_parser *ps, struct mime_part *p,
				 struct mime_str boundary, unsigned depth,
				 struct mime_stop *st)
{
	bool digest = mime_str_eq_ci(p->subtype, "DIGEST");
	unsigned level = ps->nbounds;
	ps->bounds[ps->nbounds++] = (struct mime_bound){
		(const uint8_t *)boundary.s, boundary.len };
	struct mime_part *kids = NULL;
	size_t n = 0, cap = 0;

	mime_scan(ps, (size_t)p->body_off, st);		/* preamble */
	while (st->level == (int)level) {
		if (st->close) {
			ps->nbounds = level;
			mime_scan(ps, st->next, st);	/* epilogue */
			break;
		}
		if (ps->nparts >= ps->lim.max_parts) {
			/* Part cap: the rest is data of this multipart. */
			mime_scan(ps, st->next, st);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			kids = xrealloc(kids, cap * sizeof(*kids));
		}
		ps->nparts++;
		mime_parse_entity(ps, &kids[n++], st->next, depth + 1, digest,
				  false, st);
	}
	ps->nbounds = level;
	if (n == 0) {
		/* Counted, but allowed past the part cap: it is one per
		 * multipart, and the multipart itself was counted. */
		ps->nparts++;
		p->children = mime_arena_alloc(ps->a, sizeof(*p->children));
		mime_empty_child(ps, p->children, (size_t)p->body_off);
		p->nchildren = 1;
	} else {
		p->children = mime_arena_array(ps->a, n, sizeof(*kids));
		memcpy(p->children, kids, n * sizeof(*kids));
		p->nchildren = n;
	}
	free(kids);
}

/* Recursion depth is at most the depth cap (clamped to
 * MIME_DEPTH_HARD_MAX) plus one. */
static void mime_parse_entity(struct mime_parser *ps, struct mime_part *p,
			      size_t pos, unsigned depth, bool digest,
			      bool message, struct mime_stop *st)
{
	memset(p, 0, sizeof(*p));
	p->hdr_off = pos;
	size_t hdr_end;
	if (mime_scan_header(ps, pos, &hdr_end))
		p->flags |= MIME_PART_HEADER_BLANK;
	p->hdr_len = hdr_end - pos;
	p->body_off = hdr_end;
	mime_parse_fields(ps, p, digest);
	if (message) {
		p->env = mime_arena_alloc(ps->a, sizeof(*p->env));
		mime_envelope_parse(ps->a, ps->msg + p->hdr_off,
				    (size_t)p->hdr_len, p->env);
		p->flags |= MIME_PART_HAS_ENVELOPE;
	}
	uint64_t lines_start = mime_lines_at(ps, hdr_end);

	struct mime_str boundary = { NULL, 0 };
	if (mime_str_eq_ci(p->type, "MULTIPART")) {
		boundary = mime_param_get(p->params, p->nparams, "BOUNDARY");
		if (boundary.s == NULL || boundary.len == 0) {
			/* Unusable multipart: plain text (RFC 2046 5.1.1
			 * makes the boundary mandatory). */
			mime_set_default_type(ps, p, false);
		} else {
			p->flags |= MIME_PART_MULTIPART;
		}
	} else if (mime_str_eq_ci(p->type, "MESSAGE") &&
		   (mime_str_eq_ci(p->subtype, "RFC822") ||
		    mime_str_eq_ci(p->subtype, "GLOBAL"))) {
		p->flags |= MIME_PART_MESSAGE;
	}
	mime_add_default_charset(ps, p);
	if ((p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE)) != 0 &&
	    (depth >= ps->lim.max_depth ||
	     ((p->flags & MIME_PART_MESSAGE) != 0 &&
	      ps->nparts >= ps->lim.max_parts)))
		mime_make_opaque(ps, p);

	if ((p->flags & MIME_PART_MULTIPART) != 0) {
		mime_parse_multipart(ps, p, boundary, depth, st);
	} else if ((p->flags & MIME_PART_MESSAGE) != 0) {
		p->children = mime_arena_alloc(ps->a, sizeof(*p->children));
		p->nchildren = 1;
		ps->nparts++;
		mime_parse_entity(ps, p->children, hdr_end, depth + 1, false,
				  true, st);
	} else {
		mime_scan(ps, hdr_end, st);
	}

	size_t body_end = ps->len;
	if (st->level >= 0) {
		body_end = st->line_start;
		if (body_end > hdr_end && ps->msg[body_end - 1] == '\n') {
			body_end--;
			if (body_end > hdr_end && ps->msg[body_end - 1] == '\r')
				body_end--;
		}
	}
	/* A child whose header's empty line is also the line break before
	 * the delimiter ends after that break: keep it inside its parent. */
	if (p->nchildren > 0) {
		const struct mime_part *last = &p->children[p->nchildren - 1];
		size_t cend = (size_t)(last->body_off + last->body_len);
		if (body_end < cend)
			body_end = cend;
	}
	p->body_len = body_end - hdr_end;
	p->body_lines = mime_lines_at(ps, body_end) - lines_start;
	if (p->body_len > 0 && ps->msg[body_end - 1] != '\n')
		p->body_lines++;
}

static void mime_search_field(struct mime_message *m, const uint8_t *hdr,
			      size_t len, const char *name,
			      struct mime_str *out)
{
	struct mime_header_field f;
	struct buf v, d;
	if (!mime_header_find(hdr, len, name, &f)) {
		*out = mime_arena_str(m->arena, "", 0);
		return;
	}
	buf_init(&v);
	buf_init(&d);
	mime_header_unfold(f.value, f.value_len, &v);
	mime_decode_header_text(v.data, v.len, &d);
	*out = mime_arena_str(m->arena, d.data, d.len);
	buf_free(&v);
	buf_free(&d);
}

struct mime_message *mime_parse(const uint8_t *msg, size_t len,
				const struct mime_limits *lim)
{
	struct mime_parser ps;
	memset(&ps, 0, sizeof(ps));
	/* An empty message may come as NULL (store-blob.c maps nothing for
	 * size 0); even a zero offset from NULL is undefined behaviour. */
	if (msg == NULL && len == 0)
		msg = (const uint8_t *)"";
	ps.msg = msg;
	ps.len = len;
	if (lim != NULL)
		ps.lim = *lim;
	else
		mime_limits_default(&ps.lim);
	if (ps.lim.max_depth > MIME_DEPTH_HARD_MAX)
		ps.lim.max_depth = MIME_DEPTH_HARD_MAX;
	if (ps.lim.max_parts == 0)
		ps.lim.max_parts = 1;

	struct mime_message *m = xcalloc(1, sizeof(*m));
	m->arena = mime_arena_new();
	m->size = len;
	ps.a = m->arena;
	ps.bounds = xcalloc(ps.lim.max_depth + 1, sizeof(*ps.bounds));
	m->root = mime_arena_alloc(m->arena, sizeof(*m->root));
	ps.nparts = 1;
	struct mime_stop st;
	mime_parse_entity(&ps, m->root, 0, 0, false, true, &st);
	m->nparts = ps.nparts;
	free(ps.bounds);

	const uint8_t *hdr = msg + m->root->hdr_off;
	size_t hlen = (size_t)m->root->hdr_len;
	mime_search_field(m, hdr, hlen, "Subject", &m->search.subject);
	mime_search_field(m, hdr, hlen, "From", &m->search.from);
	mime_search_field(m, hdr, hlen, "To", &m->search.to);
	mime_search_field(m, hdr, hlen, "Cc", &m->search.cc);
	mime_search_field(m, hdr, hlen, "Bcc", &m->search.bcc);
	const struct mime_str *date = &m->root->env->date;
	m->search.date_valid = date->s != NULL &&
		mime_date_parse((const uint8_t *)date->s, date->len,
				&m->search.date) == 0;
	if (!m->search.date_valid)
		m->search.date = 0;
	return m;
}

void mime_message_free(struct mime_message **msgp)
{
	struct mime_message *m = *msgp;
	if (m == NULL)
		return;
	*msgp = NULL;
	mime_arena_free(m->arena);
	free(m);
}
