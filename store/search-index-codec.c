/* Pure parts of the search index: varints, posting chunks and held
 * document text records; see search-index.h. Fuzzed by
 * tests/fuzz/fuzz-search-index.c. */
#include "search-index.h"


#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Bound on a block's uncompressed size (a message is at most 2 GiB). */
#define SX_BLOCK_MAX ((uint64_t)1 << 31)

size_t sx_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static size_t sx_varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t sx_varint_get(const uint8_t *p, size_t len, uint64_t *v_r)
{
	uint64_t v = 0;
	for (size_t i = 0; i < len && i < 10; i++) {
		uint8_t b = p[i];
		if (i == 9 && b > 1)
			return 0;	/* above 2^64-1 */
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (b == 0 && i > 0)
				return 0;	/* overlong */
			*v_r = v;
			return i + 1;
		}
	}
	return 0;
}

void sx_buf_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	buf_append(b, tmp, sx_varint_put(tmp, v));
}

void sx_buf_str(struct buf *b, const void *p, size_t len)
{
	sx_buf_varint(b, len);
	if (len > 0)
		buf_append(b, p, len);
}

/* ---- chunks ---- */

static size_t bitmap_size(uint64_t span)
{
	return 1 + sx_varint_len(span) + (size_t)((span + 7) / 8);
}

size_t sx_chunk_fit(const uint64_t *ids, size_t n, size_t max)
{
	size_t var = 0;		/* sum of delta lengths */
	size_t k = 1;
	for (; k < n && k < SX_CHUNK_IDS_MAX; k++) {
		size_t nvar = var + sx_varint_len(ids[k] - ids[k - 1]);
		size_t vsize = 1 + sx_varint_len(k + 1) + nvar;
		size_t bsize = bitmap_size(ids[k] - ids[0] + 1);
		if (vsize > max && bsize > max)
			break;
		var = nvar;
	}
	return k;
}

void sx_chunk_encode(const uint64_t *ids, size_t n, struct buf *out)
{
	size_t var = 1 + sx_varint_len(n);
	for (size_t i = 1; i < n; i++)
		var += sx_varint_len(ids[i] - ids[i - 1]);
	uint64_t span = ids[n - 1] - ids[0] + 1;
	/* a span that does not fit in size_t cannot be smaller anyway */
	if (span <= SX_CHUNK_IDS_MAX && bitmap_size(span) < var) {
		buf_append_byte(out, 0x01);
		sx_buf_varint(out, span);
		size_t nb = (size_t)((span + 7) / 8);
		buf_reserve(out, nb);
		uint8_t *bm = (uint8_t *)out->data + out->len;
		memset(bm, 0, nb);
		for (size_t i = 0; i < n; i++) {
			uint64_t d = ids[i] - ids[0];
			bm[d / 8] |= (uint8_t)(1u << (d % 8));
		}
		out->len += nb;
		return;
	}
	buf_append_byte(out, 0x00);
	sx_buf_varint(out, n);
	for (size_t i = 1; i < n; i++)
		sx_buf_varint(out, ids[i] - ids[i - 1]);
}

static void ids_push(uint64_t **ids, size_t *n, size_t *cap, uint64_t v)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*ids = xrealloc(*ids, *cap * sizeof(**ids));
	}
	(*ids)[(*n)++] = v;
}

int sx_chunk_decode(const uint8_t *p, size_t len, uint64_t first,
		    uint64_t **ids, size_t *n, size_t *cap)
{
	if (len < 2)
		return -1;
	uint64_t v;
	size_t pos = 1, k = sx_varint_get(p + 1, len - 1, &v);
	if (k == 0 || v == 0 || v > SX_CHUNK_IDS_MAX)
		return -1;
	pos += k;
	if (p[0] == 0x00) {
		uint64_t count = v, id = first;
		ids_push(ids, n, cap, id);
		for (uint64_t i = 1; i < count; i++) {
			uint64_t d;
			k = sx_varint_get(p + pos, len - pos, &d);
			if (k == 0 || d == 0 || d > UINT64_MAX - id)
				return -1;
			pos += k;
			id += d;
			ids_push(ids, n, cap, id);
		}
		return pos == len ? 0 : -1;
	}
	if (p[0] != 0x01)
		return -1;
	uint64_t span = v;
	size_t nb = (size_t)((span + 7) / 8);
	if (len - pos != nb || span - 1 > UINT64_MAX - first)
		return -1;
	const uint8_t *bm = p + pos;
	if (!(bm[0] & 1) || !(bm[(span - 1) / 8] & (1u << ((span - 1) % 8))))
		return -1;
	if (span % 8 != 0 && (bm[nb - 1] >> (span % 8)) != 0)
		return -1;
	for (size_t i = 0; i < nb; i++) {
		uint8_t b = bm[i];
		while (b != 0) {
			unsigned bit = (unsigned)__builtin_ctz(b);
			ids_push(ids, n, cap, first + i * 8 + bit);
			b &= (uint8_t)(b - 1);
		}
	}
	return 0;
}

/* ---- documents ---- */

void sx_doc_init(struct sx_doc *d)
{
	memset(d, 0, sizeof(*d));
	buf_init(&d->rec);
	buf_init(&d->hdr);
	buf_init(&d->body);
}

void sx_doc_free(struct sx_doc *d)
{
	buf_free(&d->rec);
	buf_free(&d->hdr);
	buf_free(&d->body);
	free(d->fields);
	memset(d, 0, sizeof(*d));
}

/* Blocks are stored, not deflated: the record lives until the next
 * merge turns it into tokens (search-index.h), and deflating would cost
 * every APPEND. But a large block is deflated (fast level, streaming,
 * no second copy): its record goes into LMDB's dirty pages, held in
 * memory until the commit, and a 60 MB part would otherwise cost its
 * size again. */
#define SX_DEFLATE_MIN ((size_t)64 << 10)
#define SX_DEFLATE_LEVEL 1

static bool deflate_block(const uint8_t *in, size_t len, struct buf *out)
{
	size_t at = out->len;
	buf_append_byte(out, 1);
	sx_buf_varint(out, len);
	/* stored_len goes here once known: room for the longest varint */
	size_t slot = out->len;
	buf_reserve(out, 10);
	out->len += 10;
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit(&z, SX_DEFLATE_LEVEL) != Z_OK) {
		out->len = at;
		return false;
	}
	z.next_in = (Bytef *)in;
	int zr = Z_OK;
	size_t done = 0;
	while (zr == Z_OK) {
		size_t left = len - done;
		z.avail_in = left > (1u << 30) ? (1u << 30) : (uInt)left;
		buf_reserve(out, 65536);
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = 65536;
		size_t before_in = z.avail_in;
		bool last = left == z.avail_in;
		zr = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
		done += before_in - z.avail_in;
		out->len += 65536 - z.avail_out;
		/* deflate that grows the text is no use */
		if (out->len - slot - 10 >= len) {
			zr = Z_BUF_ERROR;
			break;
		}
	}
	deflateEnd(&z);
	if (zr != Z_STREAM_END) {
		out->len = at;
		return false;
	}
	size_t stored = out->len - slot - 10;
	uint8_t v[10];
	size_t k = sx_varint_put(v, stored);
	memcpy((uint8_t *)out->data + slot, v, k);
	memmove((uint8_t *)out->data + slot + k,
		(uint8_t *)out->data + slot + 10, stored);
	out->len = slot + k + stored;
	return true;
}

static void pack_block(const struct buf *in, struct buf *out)
{
	size_t len = in != NULL ? in->len : 0;
	if (len >= SX_DEFLATE_MIN &&
	    deflate_block((const uint8_t *)in->data, len, out))
		return;
	buf_append_byte(out, 0);
	sx_buf_varint(out, len);
	sx_buf_str(out, len > 0 ? (const void *)in->data : "", len);
}

void sx_doc_pack(const struct buf *hdr, const struct buf *body,
		 struct buf *out)
{
	buf_append_byte(out, 0x01);
	pack_block(hdr, out);
	pack_block(body, out);
}

static int unpack_block(const uint8_t *p, size_t len, size_t *pos,
			struct buf *out)
{
	uint64_t raw, stored;
	size_t k;
	buf_clear(out);
	if (*pos >= len)
		return -1;
	uint8_t method = p[(*pos)++];
	if ((k = sx_varint_get(p + *pos, len - *pos, &raw)) == 0)
		return -1;
	*pos += k;
	if ((k = sx_varint_get(p + *pos, len - *pos, &stored)) == 0)
		return -1;
	*pos += k;
	if (stored > len - *pos || raw > SX_BLOCK_MAX)
		return -1;
	const uint8_t *data = p + *pos;
	*pos += (size_t)stored;
	if (method == 0) {
		if (raw != stored)
			return -1;
		buf_append(out, data, (size_t)stored);
		return 0;
	}
	/* deflate expands at most about 1032 times: a larger raw_len is a
	 * lie, refused before it costs an allocation */
	if (method != 1 || raw == 0 || raw > stored * 1040 + 64)
		return -1;
	buf_reserve(out, (size_t)raw);
	uLongf dlen = (uLongf)raw;
	if (uncompress((Bytef *)out->data, &dlen, data, (uLong)stored) != Z_OK ||
	    dlen != raw)
		return -1;
	out->len = (size_t)raw;
	return 0;
}

static int get_str(const uint8_t *p, size_t len, size_t *pos,
		   struct sx_str *s)
{
	uint64_t n;
	size_t k = sx_varint_get(p + *pos, len - *pos, &n);
	if (k == 0 || n > len - *pos - k)
		return -1;
	s->p = p + *pos + k;
	s->len = (size_t)n;
	*pos += k + (size_t)n;
	return 0;
}

/* Steps over one block's framing. */
static int skip_block(const uint8_t *p, size_t len, size_t *pos)
{
	uint64_t raw, stored;
	size_t k;
	if (*pos >= len)
		return -1;
	(*pos)++;
	if ((k = sx_varint_get(p + *pos, len - *pos, &raw)) == 0)
		return -1;
	*pos += k;
	if ((k = sx_varint_get(p + *pos, len - *pos, &stored)) == 0 ||
	    stored > len - *pos - k)
		return -1;
	*pos += k + (size_t)stored;
	return 0;
}

int sx_doc_load(const uint8_t *rec, size_t len, struct sx_doc *d)
{
	size_t pos = 1;
	d->nfields = 0;
	d->have = 0;
	buf_clear(&d->rec);
	memset(d->field, 0, sizeof(d->field));
	memset(&d->part_headers, 0, sizeof(d->part_headers));
	memset(&d->body_text, 0, sizeof(d->body_text));
	if (len < 1 || rec[0] != 0x01)
		return -1;
	d->blk_at[0] = pos;
	if (skip_block(rec, len, &pos) < 0)
		return -1;
	d->blk_at[1] = pos;
	if (skip_block(rec, len, &pos) < 0 || pos != len)
		return -1;
	buf_append(&d->rec, rec, len);
	return 0;
}

int sx_doc_unpack(const uint8_t *rec, size_t len, struct sx_doc *d)
{
	if (sx_doc_load(rec, len, d) < 0)
		return -1;
	return sx_doc_need(d, SX_DOC_HDR | SX_DOC_BODY);
}

static int parse_hdr(struct sx_doc *d);

int sx_doc_need(struct sx_doc *d, unsigned what)
{
	const uint8_t *rec = d->rec.data;
	size_t len = d->rec.len;
	if ((what & SX_DOC_HDR) && !(d->have & SX_DOC_HDR)) {
		size_t pos = d->blk_at[0];
		if (unpack_block(rec, len, &pos, &d->hdr) < 0 ||
		    parse_hdr(d) < 0)
			return -1;
		d->have |= SX_DOC_HDR;
	}
	if ((what & SX_DOC_BODY) && !(d->have & SX_DOC_BODY)) {
		size_t pos = d->blk_at[1];
		if (unpack_block(rec, len, &pos, &d->body) < 0)
			return -1;
		d->body_text.p = d->body.len > 0 ?
				 (const uint8_t *)d->body.data :
				 (const uint8_t *)"";
		d->body_text.len = d->body.len;
		d->have |= SX_DOC_BODY;
	}
	return 0;
}

static int parse_hdr(struct sx_doc *d)
{
	size_t pos;
	const uint8_t *p = (const uint8_t *)d->hdr.data;
	size_t hl = d->hdr.len;
	pos = 0;
	if (p == NULL)
		p = (const uint8_t *)"";
	for (size_t i = 0; i < SX_FIELD_COUNT; i++)
		if (get_str(p, hl, &pos, &d->field[i]) < 0)
			return -1;
	uint64_t nf;
	size_t k = sx_varint_get(p + pos, hl - pos, &nf);
	/* each field takes at least two bytes */
	if (k == 0 || nf > (hl - pos) / 2)
		return -1;
	pos += k;
	if (nf > d->fields_cap) {
		d->fields_cap = (size_t)nf;
		d->fields = xrealloc(d->fields, d->fields_cap *
					      sizeof(*d->fields));
	}
	for (size_t i = 0; i < nf; i++) {
		if (get_str(p, hl, &pos, &d->fields[i].name) < 0 ||
		    get_str(p, hl, &pos, &d->fields[i].value) < 0)
			return -1;
	}
	d->nfields = (size_t)nf;
	if (get_str(p, hl, &pos, &d->part_headers) < 0 || pos != hl)
		return -1;
	return 0;
}

