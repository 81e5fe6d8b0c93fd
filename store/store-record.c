/* Encoders and decoders of the store's on-disk records (store-record.h).
 * Every record starts with a version byte; integers are little-endian;
 * a decoder checks the exact length and every invariant, so a record
 * that decodes can be trusted by the rest of the store. */
#include "store-record.h"

#include <string.h>

#include "../common/utf8.h"

struct rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static void put_u8(struct buf *b, uint8_t v)
{
	buf_append_byte(b, v);
}

static void put_le(struct buf *b, uint64_t v, unsigned n)
{
	uint8_t t[8];
	for (unsigned i = 0; i < n; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	buf_append(b, t, n);
}

static uint64_t get_le(struct rd *r, unsigned n)
{
	if (r->bad || r->left < n) {
		r->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	r->left -= n;
	return v;
}

static bool rd_done(const struct rd *r)
{
	return !r->bad && r->left == 0;
}

/* The version byte: this build reads only what it writes. A newer record
 * version can only come with a newer schema, which store_open refuses. */
static bool rd_version(struct rd *r)
{
	return get_le(r, 1) == STORE_REC_VERSION && !r->bad;
}

void store_rec_u32_encode(uint32_t v, struct buf *out)
{
	put_le(out, v, 4);
}

int store_rec_u32_decode(const void *data, size_t len, uint32_t *v_r)
{
	struct rd r = { data, len, false };
	*v_r = (uint32_t)get_le(&r, 4);
	return rd_done(&r) ? 0 : -1;
}

void store_rec_meta_encode(const struct store_rec_meta *m, struct buf *out)
{
	put_u8(out, STORE_REC_VERSION);
	put_le(out, m->next_mailbox_id, 4);
	put_le(out, m->next_uidvalidity, 4);
	put_le(out, m->next_blob, 8);
	put_u8(out, m->dirty ? 1 : 0);
}

int store_rec_meta_decode(const void *data, size_t len,
			  struct store_rec_meta *m)
{
	struct rd r = { data, len, false };
	if (!rd_version(&r))
		return -1;
	m->next_mailbox_id = (uint32_t)get_le(&r, 4);
	m->next_uidvalidity = (uint32_t)get_le(&r, 4);
	m->next_blob = get_le(&r, 8);
	uint8_t dirty = (uint8_t)get_le(&r, 1);
	if (!rd_done(&r) || dirty > 1 || m->next_mailbox_id == 0 ||
	    m->next_blob == 0)
		return -1;
	m->dirty = dirty == 1;
	return 0;
}

void store_rec_mailbox_encode(const struct store_rec_mailbox *m,
			      struct buf *out)
{
	put_u8(out, STORE_REC_VERSION);
	put_le(out, m->id, 4);
	put_le(out, m->uidvalidity, 4);
	put_le(out, m->uidnext, 4);
	put_le(out, m->first_recent, 4);
	put_le(out, m->highestmodseq, 8);
	put_le(out, m->messages, 4);
	put_le(out, m->unseen, 4);
	put_le(out, m->recent, 4);
	put_le(out, m->size, 8);
	put_le(out, m->attributes, 4);
	put_le(out, m->special_use, 4);
	put_le(out, m->nkeywords, 2);
	put_le(out, m->name_len, 2);
	buf_append(out, m->name, m->name_len);
}

int store_rec_mailbox_decode(const void *data, size_t len,
			     struct store_rec_mailbox *m)
{
	struct rd r = { data, len, false };
	if (!rd_version(&r))
		return -1;
	m->id = (uint32_t)get_le(&r, 4);
	m->uidvalidity = (uint32_t)get_le(&r, 4);
	m->uidnext = (uint32_t)get_le(&r, 4);
	m->first_recent = (uint32_t)get_le(&r, 4);
	m->highestmodseq = get_le(&r, 8);
	m->messages = (uint32_t)get_le(&r, 4);
	m->unseen = (uint32_t)get_le(&r, 4);
	m->recent = (uint32_t)get_le(&r, 4);
	m->size = get_le(&r, 8);
	m->attributes = (uint32_t)get_le(&r, 4);
	m->special_use = (uint32_t)get_le(&r, 4);
	m->nkeywords = (uint16_t)get_le(&r, 2);
	m->name_len = (uint16_t)get_le(&r, 2);
	if (r.bad || r.left != m->name_len ||
	    m->name_len > STORE_MAILBOX_NAME_MAX)
		return -1;
	memcpy(m->name, r.p, m->name_len);
	m->name[m->name_len] = '\0';
	if (m->id == 0 || m->uidnext == 0 || m->first_recent == 0 ||
	    m->first_recent > m->uidnext || m->unseen > m->messages ||
	    m->recent > m->messages || m->messages >= m->uidnext ||
	    (m->attributes & ~(uint32_t)STORE_ATTR_NOSELECT) != 0 ||
	    (m->special_use & ~(uint32_t)STORE_SPECIAL_ALL) != 0 ||
	    m->nkeywords > STORE_MAILBOX_KEYWORDS_MAX ||
	    !store_mailbox_name_valid(m->name, m->name_len))
		return -1;
	return 0;
}

/* Version 2: version 1 plus the INTERNALDATE zone (i16) before the
 * keywords. */
void store_rec_message_encode(const struct store_rec_message *m,
			      struct buf *out)
{
	put_u8(out, STORE_REC_MESSAGE_VERSION);
	put_u8(out, m->flags);
	put_le(out, m->nkeywords, 2);
	put_le(out, m->blob_id, 8);
	put_le(out, (uint64_t)m->internaldate, 8);
	put_le(out, (uint64_t)m->savedate, 8);
	put_le(out, m->size, 8);
	put_le(out, m->modseq, 8);
	put_le(out, (uint16_t)m->internaldate_tz, 2);
	for (uint16_t i = 0; i < m->nkeywords; i++)
		put_le(out, m->keywords[i], 2);
}

int store_rec_message_decode(const void *data, size_t len,
			     struct store_rec_message *m)
{
	struct rd r = { data, len, false };
	/* version 1 (before the zone) is still read: stores keep them */
	uint8_t version = (uint8_t)get_le(&r, 1);
	if (r.bad || version < 1 || version > STORE_REC_MESSAGE_VERSION)
		return -1;
	m->flags = (uint8_t)get_le(&r, 1);
	m->nkeywords = (uint16_t)get_le(&r, 2);
	m->blob_id = get_le(&r, 8);
	m->internaldate = (int64_t)get_le(&r, 8);
	m->savedate = (int64_t)get_le(&r, 8);
	m->size = get_le(&r, 8);
	m->modseq = get_le(&r, 8);
	m->internaldate_tz = version >= 2 ? (int16_t)get_le(&r, 2) : 0;
	if (r.bad || (m->flags & ~STORE_FLAGS_STORED) != 0 ||
	    m->internaldate_tz < -STORE_TZ_MIN_MAX ||
	    m->internaldate_tz > STORE_TZ_MIN_MAX ||
	    m->nkeywords > STORE_MESSAGE_KEYWORDS_MAX ||
	    r.left != (size_t)m->nkeywords * 2 || m->blob_id == 0 ||
	    m->modseq == 0 || m->size > STORE_MESSAGE_MAX_SIZE)
		return -1;
	for (uint16_t i = 0; i < m->nkeywords; i++) {
		m->keywords[i] = (uint16_t)get_le(&r, 2);
		if (m->keywords[i] >= STORE_MAILBOX_KEYWORDS_MAX ||
		    (i > 0 && m->keywords[i] <= m->keywords[i - 1]))
			return -1;
	}
	return rd_done(&r) ? 0 : -1;
}

void store_rec_blobref_encode(const struct store_rec_blobref *b,
			      struct buf *out)
{
	put_u8(out, STORE_REC_VERSION);
	put_le(out, b->refcount, 4);
}

int store_rec_blobref_decode(const void *data, size_t len,
			     struct store_rec_blobref *b)
{
	struct rd r = { data, len, false };
	if (!rd_version(&r))
		return -1;
	b->refcount = (uint32_t)get_le(&r, 4);
	return rd_done(&r) && b->refcount > 0 ? 0 : -1;
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void store_key_mailbox(uint8_t key[4], uint32_t mailbox_id)
{
	put_be(key, mailbox_id, 4);
}

void store_key_message(uint8_t key[8], uint32_t mailbox_id, uint32_t uid)
{
	put_be(key, mailbox_id, 4);
	put_be(key + 4, uid, 4);
}

void store_key_blob(uint8_t key[8], uint64_t blob_id)
{
	put_be(key, blob_id, 8);
}

void store_key_keyword(uint8_t key[6], uint32_t mailbox_id, uint16_t kw)
{
	put_be(key, mailbox_id, 4);
	put_be(key + 4, kw, 2);
}

uint32_t store_get_be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

uint64_t store_get_be64(const void *p)
{
	return (uint64_t)store_get_be32(p) << 32 |
	       store_get_be32((const uint8_t *)p + 4);
}

/* RFC 9051 flag-keyword = atom: no CTL, SP, atom-specials or '\'. */
bool store_keyword_valid(const char *kw, size_t len)
{
	if (len == 0 || len > STORE_KEYWORD_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)kw[i];
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

/* Well-formed UTF-8 (no overlongs, no surrogates), no control characters,
 * no list wildcards, no empty hierarchy level. */
bool store_mailbox_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > STORE_MAILBOX_NAME_MAX)
		return false;
	if (name[0] == STORE_HIERARCHY_SEP ||
	    name[len - 1] == STORE_HIERARCHY_SEP)
		return false;
	const unsigned char *p = (const unsigned char *)name;
	for (size_t i = 0; i < len;) {
		unsigned c = p[i];
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f || c == '*' || c == '%')
				return false;
			if (c == STORE_HIERARCHY_SEP && i + 1 < len &&
			    p[i + 1] == STORE_HIERARCHY_SEP)
				return false;
			i++;
			continue;
		}
		size_t n = utf8_seq_len(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}
