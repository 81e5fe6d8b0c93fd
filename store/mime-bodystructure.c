/* BODY and BODYSTRUCTURE (RFC 9051 section 7.5.2 and the body grammar of
 * section 9). Extension data: body-fld-md5 is always NIL (we do not
 * verify Content-MD5, and the field is deprecated, RFC 1864 is Historic),
 * then disposition, language and location, always all present in the
 * extended form so a client never has to guess how many follow. */
#include "mime-private.h"

#include "../common/imap-write.h"

static void mime_write_string(struct buf *out, struct mime_str s)
{
	imap_write_astring(out, s.s != NULL ? s.s : "", s.len);
}

static void mime_write_params(const struct mime_param *p, size_t n,
			      struct buf *out)
{
	if (n == 0) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_append_byte(out, '(');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_append_byte(out, ' ');
		mime_write_string(out, p[i].name);
		buf_append_byte(out, ' ');
		mime_write_string(out, p[i].value);
	}
	buf_append_byte(out, ')');
}

/* SP body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void mime_write_ext_common(const struct mime_part *p, struct buf *out)
{
	buf_append_byte(out, ' ');
	if (p->disp.s == NULL) {
		buf_append_str(out, "NIL");
	} else {
		buf_append_byte(out, '(');
		mime_write_string(out, p->disp);
		buf_append_byte(out, ' ');
		mime_write_params(p->disp_params, p->ndisp_params, out);
		buf_append_byte(out, ')');
	}
	buf_append_byte(out, ' ');
	if (p->nlang == 0) {
		buf_append_str(out, "NIL");
	} else if (p->nlang == 1) {
		mime_write_string(out, p->lang[0]);
	} else {
		buf_append_byte(out, '(');
		for (size_t i = 0; i < p->nlang; i++) {
			if (i > 0)
				buf_append_byte(out, ' ');
			mime_write_string(out, p->lang[i]);
		}
		buf_append_byte(out, ')');
	}
	buf_append_byte(out, ' ');
	imap_write_nstring(out, p->location.s, p->location.len);
}

/* Recursion is bounded by the tree's depth, which the parser and the
 * cache decoder both cap at MIME_DEPTH_HARD_MAX. */
static void mime_write_body(const struct mime_part *p, bool extended,
			    struct buf *out)
{
	buf_append_byte(out, '(');
	if ((p->flags & MIME_PART_MULTIPART) != 0) {
		for (size_t i = 0; i < p->nchildren; i++)
			mime_write_body(&p->children[i], extended, out);
		buf_append_byte(out, ' ');
		mime_write_string(out, p->subtype);
		if (extended) {
			buf_append_byte(out, ' ');
			mime_write_params(p->params, p->nparams, out);
			mime_write_ext_common(p, out);
		}
		buf_append_byte(out, ')');
		return;
	}
	mime_write_string(out, p->type);
	buf_append_byte(out, ' ');
	mime_write_string(out, p->subtype);
	buf_append_byte(out, ' ');
	mime_write_params(p->params, p->nparams, out);
	buf_append_byte(out, ' ');
	imap_write_nstring(out, p->id.s, p->id.len);
	buf_append_byte(out, ' ');
	imap_write_nstring(out, p->desc.s, p->desc.len);
	buf_append_byte(out, ' ');
	mime_write_string(out, p->enc_name);
	buf_printf(out, " %llu", (unsigned long long)p->body_len);
	if ((p->flags & MIME_PART_MESSAGE) != 0 && p->nchildren == 1 &&
	    p->children[0].env != NULL) {
		buf_append_byte(out, ' ');
		mime_envelope_write(p->children[0].env, out);
		buf_append_byte(out, ' ');
		mime_write_body(&p->children[0], extended, out);
		buf_printf(out, " %llu", (unsigned long long)p->body_lines);
	} else if (mime_str_eq_ci(p->type, "TEXT")) {
		buf_printf(out, " %llu", (unsigned long long)p->body_lines);
	}
	if (extended) {
		buf_append_str(out, " NIL");	/* body-fld-md5 */
		mime_write_ext_common(p, out);
	}
	buf_append_byte(out, ')');
}

void mime_bodystructure_write(const struct mime_part *part, bool extended,
			      struct buf *out)
{
	mime_write_body(part, extended, out);
}
