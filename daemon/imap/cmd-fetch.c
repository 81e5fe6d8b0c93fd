/* FETCH and UID FETCH (RFC 9051 6.4.5 and 7.5.2, RFC 3501 for the RFC822
 * items, BINARY RFC 3516, MODSEQ/CHANGEDSINCE RFC 7162 3.1.4).
 *
 * Output is produced one message at a time and the command suspends
 * whenever the session's output is over its high-water mark, so a FETCH
 * of any number of messages or of huge bodies holds at most one message's
 * small items, one body chunk and the message records of one batch in
 * memory. Large body ranges are not copied at all: they go out as a file
 * segment of the stored blob (worker_session_stream_file), and nothing
 * more is written until it has drained, since the segment is sent after
 * whatever the output buffer holds. BINARY of a large base64 or
 * quoted-printable part is decoded in pieces as the output drains
 * (struct fetch_decode), never whole.
 *
 * Structure (ENVELOPE, BODYSTRUCTURE, section offsets) comes from the
 * parsed-message cache built at append; a message without a cache, or
 * with one that fails to decode, gets it rebuilt from its bytes (and
 * stored again). */
#include "worker.h"
#include "preview.h"

#include "../../common/imap-date.h"
#include "../../common/imap-write.h"
#include "../../common/log.h"
#include "../../store/mime-cache.h"
#include "../../store/mime-decode.h"
#include "../../store/mime-header.h"
#include "fetch-section.h"
#include "imap-fetch-args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Bodies up to this size are copied into the output buffer; larger ones
 * are streamed from the blob, decoded in pieces (BINARY) or, when they
 * had to be filtered (HEADER.FIELDS), drained from memory in pieces. */
#define FETCH_INLINE_MAX (64 * 1024)
/* Message records read from the store per transaction. */
#define FETCH_BATCH 256
/* BINARY of a large encoded part: raw bytes read and decoded at a time,
 * and at most this many decoded per loop iteration by the size pass
 * (a few milliseconds), so the user's other sessions are served
 * between two slices. */
#define FETCH_DECODE_READ (64 * 1024)
#define FETCH_DECODE_SLICE (1024 * 1024)

void worker_write_flag_list(struct buf *out, const struct store_message *msg,
			    const struct worker_selected *sel);

/* A message record that outlives the store iteration. */
struct fetch_rec {
	struct store_message msg;
	char **keywords;
	bool seen_set;		/* this FETCH set \Seen: send FLAGS */
};

/* BINARY[...] or BINARY.SIZE[...] of an encoded part too large to
 * decode in memory (RFC 3516). The literal's length must be known
 * before its first byte, so a first pass decodes it all, keeping only
 * the count and whether the range to send holds a NUL (literal8, RFC
 * 3516 4.3); a second pass decodes again and sends, as the output
 * drains. Memory: one read, its decoded bytes and the decoder's state. */
struct fetch_decode {
	const struct imap_fetch_body *b;
	enum mime_decoder_kind kind;
	struct mime_decoder dec;
	uint64_t raw_start, raw_end, raw_pos;	/* the encoded part */
	bool sending;
	uint64_t dpos;		/* decoded bytes produced so far */
	bool has_nul;		/* within the range to send */
	uint64_t send_off, send_left;	/* the decoded range to send */
	struct buf raw, out;
};

struct fetch_seq_range {
	uint32_t first, last;	/* sequence numbers in the session's view */
};

struct fetch_cmd {
	char *tag;
	bool uid;
	struct imap_fetch_args args;
	/* what is left to fetch: sequence ranges of the view, ascending */
	struct fetch_seq_range *ranges;
	size_t nranges, range;
	uint32_t next_seq;
	/* the records of the current batch */
	struct fetch_rec *batch;
	size_t batch_count, batch_cap, batch_pos;
	/* the message being written */
	bool in_msg;
	struct fetch_rec *cur;
	uint32_t cur_seq;
	size_t body_idx;
	bool first_item;
	int fd;
	struct buf cache;
	bool cache_loaded, cache_rebuilt;
	struct mime_message *tree;
	/* an in-memory literal being drained */
	struct buf pending;
	size_t pending_pos;
	/* a large part being decoded (BINARY) */
	struct fetch_decode *decode;
	/* outcome */
	bool expunged;		/* a requested message is gone */
	bool unknown_cte;	/* BINARY of an unknown encoding */
	bool failed;
	char *error;
	enum store_error store_err;
};

static void fetch_rec_clear(struct fetch_rec *r)
{
	for (size_t i = 0; i < r->msg.nkeywords; i++)
		free(r->keywords[i]);
	free(r->keywords);
	memset(r, 0, sizeof(*r));
}

static void fetch_batch_clear(struct fetch_cmd *c)
{
	for (size_t i = 0; i < c->batch_count; i++)
		fetch_rec_clear(&c->batch[i]);
	c->batch_count = c->batch_pos = 0;
}

static void fetch_decode_free(struct fetch_cmd *c)
{
	struct fetch_decode *d = c->decode;
	if (d == NULL)
		return;
	mime_decoder_free(&d->dec);
	buf_free(&d->raw);
	buf_free(&d->out);
	free(d);
	c->decode = NULL;
}

static void fetch_msg_end(struct fetch_cmd *c)
{
	fetch_decode_free(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	mime_message_free(&c->tree);
	buf_clear(&c->cache);
	c->cache_loaded = c->cache_rebuilt = false;
	c->in_msg = false;
	c->cur = NULL;
}

static void fetch_cmd_free(void *state)
{
	struct fetch_cmd *c = state;
	fetch_msg_end(c);
	fetch_batch_clear(c);
	free(c->batch);
	free(c->ranges);
	buf_free(&c->cache);
	buf_free(&c->pending);
	imap_fetch_args_free(&c->args);
	free(c->error);
	free(c->tag);
	free(c);
}

static void fetch_fail(struct fetch_cmd *c, const char *error)
{
	if (c->failed)
		return;
	c->failed = true;
	c->store_err = store_last_error(worker.store);
	c->error = xstrdup(error);
}

/* ---- reading the store ---------------------------------------------- */

static int fetch_collect_cb(void *ctx, const struct store_message *msg)
{
	struct fetch_cmd *c = ctx;
	if (c->batch_count == c->batch_cap) {
		c->batch_cap = c->batch_cap ? c->batch_cap * 2 : 64;
		c->batch = xrealloc(c->batch, c->batch_cap * sizeof(*c->batch));
	}
	struct fetch_rec *r = &c->batch[c->batch_count++];
	r->msg = *msg;
	r->keywords = NULL;
	if (msg->nkeywords > 0) {
		r->keywords = xcalloc(msg->nkeywords, sizeof(char *));
		for (size_t i = 0; i < msg->nkeywords; i++)
			r->keywords[i] = xstrdup(msg->keywords[i]);
	}
	r->msg.keywords = (const char *const *)r->keywords;
	r->seen_set = false;
	return 0;
}

/* Sets \Seen on the messages of the batch that lack it (RFC 9051 6.4.5:
 * BODY[...] without PEEK), in one transaction, and tells the user's
 * other sessions. A failure is logged: the data is still sent. */
static void fetch_set_seen(struct worker_session *s, struct fetch_cmd *c)
{
	struct store_uidrange *ranges = xcalloc(c->batch_count, sizeof(*ranges));
	size_t n = 0;
	for (size_t i = 0; i < c->batch_count; i++) {
		if (c->batch[i].msg.flags & STORE_FLAG_SEEN)
			continue;
		ranges[n].first = ranges[n].last = c->batch[i].msg.uid;
		n++;
	}
	if (n == 0) {
		free(ranges);
		return;
	}
	struct store_uidset set = { ranges, n };
	struct store_flags_req req = { .mode = STORE_FLAGS_ADD,
				       .flags = STORE_FLAG_SEEN };
	struct store_flags_result res;
	memset(&res, 0, sizeof(res));
	const char *err;
	if (store_flags_set(worker.store, s->selected->mailbox_id, &set, &req,
			    &res, &err) < 0) {
		log_msg(LOG_LEVEL_ERROR, s->id, "FETCH: setting \\Seen: %s", err);
		free(ranges);
		return;
	}
	uint32_t *uids = xcalloc(res.nchanged ? res.nchanged : 1, sizeof(*uids));
	size_t j = 0;
	for (size_t i = 0; i < res.nchanged; i++) {
		uids[i] = res.changed[i].uid;
		while (j < c->batch_count &&
		       c->batch[j].msg.uid < res.changed[i].uid)
			j++;
		if (j < c->batch_count &&
		    c->batch[j].msg.uid == res.changed[i].uid) {
			unsigned recent = c->batch[j].msg.flags & STORE_FLAG_RECENT;
			c->batch[j].msg.flags = (res.changed[i].flags &
						 ~STORE_FLAG_RECENT) | recent;
			c->batch[j].msg.modseq = res.changed[i].modseq;
			c->batch[j].seen_set = true;
		}
	}
	if (res.nchanged > 0)
		worker_notify_flags(s->selected->mailbox_id, uids, res.nchanged, s);
	free(uids);
	store_flags_result_free(&res);
	free(ranges);
}

/* Reads the records of the next up to FETCH_BATCH messages. A message of
 * the view that the store no longer has was expunged by another session
 * and not yet announced here: it is skipped (RFC 9051 7.1 EXPUNGEISSUED).
 * Returns 0, or -1 on a store error. */
static int fetch_load_batch(struct worker_session *s, struct fetch_cmd *c)
{
	struct worker_selected *sel = s->selected;
	struct store_uidrange ranges[FETCH_BATCH];
	size_t nr = 0, want = 0;
	fetch_batch_clear(c);
	while (c->range < c->nranges && want < FETCH_BATCH) {
		struct fetch_seq_range *r = &c->ranges[c->range];
		if (c->next_seq < r->first)
			c->next_seq = r->first;
		uint32_t last = r->last;
		if (last - c->next_seq >= FETCH_BATCH - want)
			last = c->next_seq + (uint32_t)(FETCH_BATCH - want) - 1;
		/* one UID range per run of consecutive sequence numbers */
		ranges[nr].first = mailbox_view_uid(sel->view, c->next_seq);
		ranges[nr].last = mailbox_view_uid(sel->view, last);
		nr++;
		want += last - c->next_seq + 1;
		if (last == r->last) {
			c->range++;
			c->next_seq = 0;
		} else {
			c->next_seq = last + 1;
		}
	}
	struct store_uidset set = { ranges, nr };
	const char *err;
	/* Between two UIDs of the view the store can only hold messages of
	 * the view (UIDs only grow), so a batch is at most FETCH_BATCH
	 * records; anything else is dropped below all the same. */
	if (store_message_iter(worker.store, sel->mailbox_id, &set,
			       fetch_collect_cb, c, &err) < 0) {
		fetch_fail(c, err);
		return -1;
	}
	/* Keep only what the client knows; count what vanished. */
	size_t kept = 0, found = 0;
	for (size_t i = 0; i < c->batch_count; i++) {
		struct fetch_rec *r = &c->batch[i];
		if (mailbox_view_seq(sel->view, r->msg.uid) == 0) {
			fetch_rec_clear(r);
			continue;
		}
		found++;
		if (c->args.changedsince_set &&
		    r->msg.modseq <= c->args.changedsince) {
			fetch_rec_clear(r);
			continue;
		}
		if (kept != i)
			c->batch[kept] = *r;
		kept++;
	}
	c->batch_count = kept;
	if (found < want)
		c->expunged = true;
	if (c->args.sets_seen && !sel->readonly)
		fetch_set_seen(s, c);
	return 0;
}

static int fetch_pread(struct fetch_cmd *c, uint64_t off, uint64_t len,
		       struct buf *out);

/* The cache record of the current message, rebuilt from the message if
 * it is missing or does not decode. Returns 0 or -1 (c failed). */
static int fetch_cache_rebuild(struct worker_session *s, struct fetch_cmd *c)
{
	struct buf msg;
	const char *err;
	buf_init(&msg);
	/* From the open file (fetch_msg_begin opened it): the blob's name
	 * may be gone already if another session expunged the message. */
	if (fetch_pread(c, 0, c->cur->msg.size, &msg) < 0) {
		buf_free(&msg);
		return -1;
	}
	buf_clear(&c->cache);
	mime_cache_build(msg.data, msg.len, NULL, &c->cache);
	buf_free(&msg);
	c->cache_loaded = c->cache_rebuilt = true;
	if (store_cache_put(worker.store, c->cur->msg.blob_id, c->cache.data,
			    c->cache.len, &err) < 0 &&
	    store_last_error(worker.store) != STORE_ERR_NOTFOUND)
		log_msg(LOG_LEVEL_ERROR, s->id, "FETCH: storing a rebuilt cache: %s",
			err);
	return 0;
}

static int fetch_cache(struct worker_session *s, struct fetch_cmd *c)
{
	if (c->cache_loaded)
		return 0;
	const char *err;
	buf_clear(&c->cache);
	int r = store_cache_get(worker.store, c->cur->msg.blob_id, &c->cache,
				&err);
	if (r < 0 && store_last_error(worker.store) != STORE_ERR_CORRUPT) {
		fetch_fail(c, err);
		return -1;
	}
	uint64_t size;
	if (r <= 0 || mime_cache_message_size(c->cache.data, c->cache.len,
					       &size, &err) < 0 ||
	    size != c->cur->msg.size) {
		log_msg(LOG_LEVEL_INFO, s->id, "FETCH: UID %u: rebuilding its "
			"parsed-message cache", c->cur->msg.uid);
		return fetch_cache_rebuild(s, c);
	}
	c->cache_loaded = true;
	return 0;
}

/* The decoded structure tree of the current message. */
static int fetch_tree(struct worker_session *s, struct fetch_cmd *c)
{
	if (c->tree != NULL)
		return 0;
	if (fetch_cache(s, c) < 0)
		return -1;
	const char *err;
	if (mime_cache_decode(c->cache.data, c->cache.len, &c->tree, &err) == 0)
		return 0;
	c->tree = NULL;
	if (c->cache_rebuilt) {
		fetch_fail(c, err);
		return -1;
	}
	log_msg(LOG_LEVEL_INFO, s->id, "FETCH: UID %u: cache: %s; rebuilding",
		c->cur->msg.uid, err);
	if (fetch_cache_rebuild(s, c) < 0)
		return -1;
	if (mime_cache_decode(c->cache.data, c->cache.len, &c->tree, &err) < 0) {
		c->tree = NULL;
		fetch_fail(c, err);
		return -1;
	}
	return 0;
}

static int fetch_open(struct fetch_cmd *c)
{
	if (c->fd >= 0)
		return 0;
	const char *err;
	if (store_message_open(worker.store, c->cur->msg.blob_id, &c->fd,
			       &err) < 0) {
		c->fd = -1;
		fetch_fail(c, err);
		return -1;
	}
	return 0;
}

/* Appends len bytes of the message at off to out. */
static int fetch_pread(struct fetch_cmd *c, uint64_t off, uint64_t len,
		       struct buf *out)
{
	if (fetch_open(c) < 0)
		return -1;
	buf_reserve(out, (size_t)len);
	while (len > 0) {
		ssize_t r = pread(c->fd, out->data + out->len, (size_t)len,
				  (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fetch_fail(c, r < 0 ? strerror(errno) :
				   "message file is shorter than its record");
			return -1;
		}
		out->len += (size_t)r;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

/* ---- writing the response ------------------------------------------- */

static void fetch_sep(struct worker_session *s, struct fetch_cmd *c)
{
	if (!c->first_item)
		buf_append_byte(&s->net.out, ' ');
	c->first_item = false;
}

/* RFC 8970: up to 200 characters of the message's text, computed from
 * the mapped message and its cache record (PREVIEW (LAZY) is answered the
 * same way: computing it is cheap). */
static int fetch_write_preview(struct worker_session *s, struct fetch_cmd *c)
{
	struct buf *out = &s->net.out;
	struct buf text;
	const uint8_t *map = NULL;
	size_t size = (size_t)c->cur->msg.size;
	if (fetch_cache(s, c) < 0 || fetch_open(c) < 0)
		return -1;
	if (size > 0) {
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, c->fd, 0);
		if (map == MAP_FAILED) {
			fetch_fail(c, strerror(errno));
			return -1;
		}
	}
	buf_init(&text);
	int r = preview_build(map, size, c->cache.data, c->cache.len, &text);
	if (r < 0 && !c->cache_rebuilt && fetch_cache_rebuild(s, c) == 0) {
		buf_clear(&text);
		r = preview_build(map, size, c->cache.data, c->cache.len, &text);
	}
	if (map != NULL)
		munmap((void *)map, size);
	if (r < 0) {
		buf_free(&text);
		fetch_fail(c, "malformed parsed-message cache");
		return -1;
	}
	fetch_sep(s, c);
	buf_append_str(out, "PREVIEW ");
	if (r == 1)
		buf_append_str(out, "NIL");
	else
		imap_write_quoted_or_literal(out, (const char *)text.data,
					     text.len, (s->enabled &
					     (SESSION_IMAP4REV2 |
					      SESSION_UTF8_ACCEPT)) != 0);
	buf_free(&text);
	return 0;
}

/* The items that are not body sections. Returns 0 or -1 (c failed). */
static int fetch_write_simple(struct worker_session *s, struct fetch_cmd *c)
{
	struct buf *out = &s->net.out;
	const struct fetch_rec *r = c->cur;
	uint32_t items = c->args.items;
	if (items & IMAP_FETCH_UID) {
		fetch_sep(s, c);
		buf_printf(out, "UID %u", r->msg.uid);
	}
	/* RFC 9051 6.4.5: a \Seen set by this FETCH is reported. */
	if ((items & IMAP_FETCH_FLAGS) || r->seen_set) {
		fetch_sep(s, c);
		buf_append_str(out, "FLAGS ");
		worker_write_flag_list(out, &r->msg, s->selected);
	}
	if (items & IMAP_FETCH_INTERNALDATE) {
		char date[IMAP_DATETIME_SIZE];
		imap_datetime_format((time_t)r->msg.internaldate,
				     r->msg.internaldate_tz, date);
		fetch_sep(s, c);
		buf_printf(out, "INTERNALDATE \"%s\"", date);
	}
	if (items & IMAP_FETCH_RFC822_SIZE) {
		fetch_sep(s, c);
		buf_printf(out, "RFC822.SIZE %llu",
			   (unsigned long long)r->msg.size);
	}
	if (items & IMAP_FETCH_ENVELOPE) {
		const char *err;
		size_t mark = out->len;
		fetch_sep(s, c);
		buf_append_str(out, "ENVELOPE ");
		if (c->tree != NULL ||
		    (items & (IMAP_FETCH_BODY | IMAP_FETCH_BODYSTRUCTURE))) {
			if (fetch_tree(s, c) < 0)
				return -1;
			mime_envelope_write(c->tree->root->env, out);
		} else {
			if (fetch_cache(s, c) < 0)
				return -1;
			size_t at = out->len;
			if (mime_cache_envelope(c->cache.data, c->cache.len, out,
						&err) < 0) {
				out->len = at;
				if (c->cache_rebuilt) {
					out->len = mark;
					fetch_fail(c, err);
					return -1;
				}
				if (fetch_cache_rebuild(s, c) < 0 ||
				    mime_cache_envelope(c->cache.data,
							c->cache.len, out,
							&err) < 0) {
					out->len = mark;
					fetch_fail(c, err);
					return -1;
				}
			}
		}
	}
	if (items & IMAP_FETCH_BODY) {
		if (fetch_tree(s, c) < 0)
			return -1;
		fetch_sep(s, c);
		buf_append_str(out, "BODY ");
		mime_bodystructure_write(c->tree->root, false, out);
	}
	if (items & IMAP_FETCH_BODYSTRUCTURE) {
		if (fetch_tree(s, c) < 0)
			return -1;
		fetch_sep(s, c);
		buf_append_str(out, "BODYSTRUCTURE ");
		mime_bodystructure_write(c->tree->root, true, out);
	}
	if (items & IMAP_FETCH_MODSEQ) {
		fetch_sep(s, c);
		buf_printf(out, "MODSEQ (%llu)",
			   (unsigned long long)r->msg.modseq);
	}
	if ((items & IMAP_FETCH_PREVIEW) && fetch_write_preview(s, c) < 0)
		return -1;
	if (items & IMAP_FETCH_SAVEDATE) {
		fetch_sep(s, c);
		if (r->msg.savedate == 0) {
			buf_append_str(out, "SAVEDATE NIL");
		} else {
			char date[IMAP_DATETIME_SIZE];
			imap_datetime_format((time_t)r->msg.savedate, 0, date);
			buf_printf(out, "SAVEDATE \"%s\"", date);
		}
	}
	return 0;
}

/* Queues data as the item's value: inline when small, else drained from
 * c->pending as the output empties. */
static void fetch_write_data(struct worker_session *s, struct fetch_cmd *c,
			     struct buf *data, bool literal8)
{
	buf_printf(&s->net.out, "%s{%zu}\r\n", literal8 ? "~" : "", data->len);
	if (data->len <= FETCH_INLINE_MAX) {
		buf_append(&s->net.out, data->data, data->len);
		buf_clear(data);
		return;
	}
	/* take the bytes over without copying */
	struct buf t = c->pending;
	c->pending = *data;
	*data = t;
	buf_clear(data);
	c->pending_pos = 0;
}

/* Writes c->pending while the output has room; true when all is out. */
static bool fetch_drain_pending(struct worker_session *s, struct fetch_cmd *c)
{
	while (c->pending_pos < c->pending.len) {
		if (!worker_session_can_write(s))
			return false;
		size_t n = c->pending.len - c->pending_pos;
		if (n > FETCH_INLINE_MAX)
			n = FETCH_INLINE_MAX;
		buf_append(&s->net.out, c->pending.data + c->pending_pos, n);
		c->pending_pos += n;
	}
	buf_free(&c->pending);
	c->pending_pos = 0;
	return true;
}

/* Writes a byte range of the message as the item's value. Returns 1 if
 * it went out as a file segment (nothing may follow until it drained),
 * 0 if written, -1 on error. */
static int fetch_write_range(struct worker_session *s, struct fetch_cmd *c,
			     uint64_t off, uint64_t len, bool literal8)
{
	struct buf *out = &s->net.out;
	if (len <= FETCH_INLINE_MAX) {
		size_t mark = out->len;
		buf_printf(out, "%s{%llu}\r\n", literal8 ? "~" : "",
			   (unsigned long long)len);
		if (fetch_pread(c, off, len, out) < 0) {
			out->len = mark;
			return -1;
		}
		return 0;
	}
	if (fetch_open(c) < 0)
		return -1;
	int fd = dup(c->fd);
	if (fd < 0) {
		fetch_fail(c, strerror(errno));
		return -1;
	}
	buf_printf(out, "%s{%llu}\r\n", literal8 ? "~" : "",
		   (unsigned long long)len);
	worker_session_stream_file(s, fd, off, len);
	return 1;
}

static void fetch_decode_start(struct fetch_cmd *c,
			       const struct imap_fetch_body *b,
			       enum mime_encoding enc, uint64_t off,
			       uint64_t len)
{
	struct fetch_decode *d = xcalloc(1, sizeof(*d));
	d->b = b;
	d->kind = enc == MIME_ENC_BASE64 ? MIME_DECODER_BASE64 :
					   MIME_DECODER_QP;
	mime_decoder_init(&d->dec, d->kind);
	d->raw_start = d->raw_pos = off;
	d->raw_end = off + len;
	buf_init(&d->raw);
	buf_init(&d->out);
	c->decode = d;
}

/* Decodes the next read of the part into d->out (replacing what it
 * held); at the end of the part, what the decoder held back. Returns 1
 * if the part is exhausted, 0 if not, -1 on a read error (c failed). */
static int fetch_decode_read(struct fetch_cmd *c, struct fetch_decode *d)
{
	buf_clear(&d->out);
	if (d->raw_pos >= d->raw_end) {
		mime_decoder_finish(&d->dec, &d->out);
		return 1;
	}
	uint64_t n = d->raw_end - d->raw_pos;
	if (n > FETCH_DECODE_READ)
		n = FETCH_DECODE_READ;
	buf_clear(&d->raw);
	if (fetch_pread(c, d->raw_pos, n, &d->raw) < 0)
		return -1;
	d->raw_pos += n;
	mime_decoder_feed(&d->dec, d->raw.data, d->raw.len, &d->out);
	return 0;
}

/* The size pass ran: the item's name and literal header, or its
 * BINARY.SIZE; then the second pass starts from the part's start. */
static bool fetch_decode_sized(struct worker_session *s, struct fetch_cmd *c,
			       struct fetch_decode *d)
{
	struct buf *out = &s->net.out;
	fetch_sep(s, c);
	if (d->b->binary_size) {
		buf_printf(out, "%s %llu", d->b->response_name,
			   (unsigned long long)d->dpos);
		return true;
	}
	uint64_t poff, plen;
	fetch_partial(d->b, d->dpos, &poff, &plen);
	buf_printf(out, "%s %s{%llu}\r\n", d->b->response_name,
		   d->has_nul ? "~" : "", (unsigned long long)plen);
	if (plen == 0)
		return true;
	d->raw_pos = d->raw_start;
	d->send_off = poff;
	d->send_left = plen;
	d->dpos = 0;
	d->sending = true;
	mime_decoder_free(&d->dec);
	mime_decoder_init(&d->dec, d->kind);
	return false;
}

/* Does the next part of the decoding work. Returns 1 when the item is
 * complete, 0 to be called again (it yielded, or the output must
 * drain), -1 on an error before the item was started (c failed). */
static int fetch_decode_step(struct worker_session *s, struct fetch_cmd *c)
{
	struct fetch_decode *d = c->decode;
	const struct imap_fetch_body *b = d->b;
	if (!d->sending) {
		/* A partial BINARY needs the size only to clip its range:
		 * once the decoded bytes reach its end, the rest is not
		 * looked at. */
		uint64_t want_end = UINT64_MAX;
		if (b->partial && !b->binary_size &&
		    b->partial_octets <= UINT64_MAX - b->partial_origin)
			want_end = b->partial_origin + b->partial_octets;
		uint64_t budget = FETCH_DECODE_SLICE;
		for (;;) {
			int r = fetch_decode_read(c, d);
			if (r < 0)
				return -1;
			/* NUL within the range to send? */
			uint64_t lo = b->partial ? b->partial_origin : 0;
			uint64_t at = d->dpos, n = d->out.len;
			if (!d->has_nul && !b->binary_size && at + n > lo &&
			    at < want_end) {
				uint64_t from = lo > at ? lo - at : 0;
				uint64_t to = want_end - at < n ? want_end - at : n;
				d->has_nul = fetch_has_nul(d->out.data + from,
							   (size_t)(to - from));
			}
			d->dpos += n;
			if (r == 1 || d->dpos >= want_end)
				break;
			if (budget <= FETCH_DECODE_READ) {
				worker_session_yield(s);
				return 0;
			}
			budget -= FETCH_DECODE_READ;
		}
		if (fetch_decode_sized(s, c, d))
			return 1;
	}
	/* Skipping to a partial's origin costs decoding without output:
	 * that work goes in slices too. */
	uint64_t budget = FETCH_DECODE_SLICE;
	while (d->send_left > 0) {
		if (!worker_session_can_write(s))
			return 0;
		if (budget < FETCH_DECODE_READ) {
			worker_session_yield(s);
			return 0;
		}
		int r = fetch_decode_read(c, d);
		uint64_t at = d->dpos, n = d->out.len;
		d->dpos += n;
		if (r == 0 && at + n <= d->send_off) {
			budget -= FETCH_DECODE_READ;
			continue;
		}
		if (r >= 0 && at + n > d->send_off) {
			uint64_t from = d->send_off > at ? d->send_off - at : 0;
			uint64_t take = n - from < d->send_left ? n - from :
								  d->send_left;
			buf_append(&s->net.out, d->out.data + from, (size_t)take);
			d->send_off += take;
			d->send_left -= take;
		}
		if (r < 0 || (r == 1 && d->send_left > 0)) {
			/* The literal was announced: it cannot be cut short,
			 * so the connection cannot go on (the blob is
			 * immutable: this is a failing disk). */
			log_msg(LOG_LEVEL_ERROR, s->id, "FETCH: UID %u: BINARY: "
				"%s", c->cur->msg.uid, r < 0 ? c->error :
				"the part decoded shorter the second time");
			s->net.failed = true;
			return 0;
		}
	}
	return 1;
}

/* One BODY[...] / BINARY[...] / RFC822* item. Returns 1 if the output
 * must drain before anything else is written, 0 if done, -1 on error
 * (c failed; the response is then cut short by the caller). */
static int fetch_write_body(struct worker_session *s, struct fetch_cmd *c,
			    const struct imap_fetch_body *b)
{
	struct buf *out = &s->net.out;
	uint64_t off = 0, len = c->cur->msg.size;
	const struct mime_part *part = NULL;
	bool whole = b->part_count == 0 && b->section == IMAP_SECTION_FULL;

	if (!whole) {
		if (fetch_tree(s, c) < 0)
			return -1;
		struct buf sec;
		buf_init(&sec);
		fetch_section_text(b, &sec);
		int r = mime_section_find(c->tree, buf_cstr(&sec), &off, &len);
		buf_free(&sec);
		if (r == 0 && (b->binary || b->binary_size)) {
			part = fetch_find_part(c->tree->root, b->part, b->part_count);
			if (part == NULL)
				r = -1;
		}
		if (r < 0) {
			/* No such section: NIL (an empty size for BINARY.SIZE,
			 * whose value is a number). */
			fetch_sep(s, c);
			if (b->binary_size)
				buf_printf(out, "%s 0", b->response_name);
			else
				buf_printf(out, "%s NIL", b->response_name);
			return 0;
		}
		if (off + len > c->cur->msg.size) {
			fetch_fail(c, "parsed-message cache does not match the message");
			return -1;
		}
	}

	if (b->binary || b->binary_size) {
		enum fetch_binary_kind kind = part != NULL ?
			fetch_binary_kind(part, b->part_count) : FETCH_BINARY_RAW;
		if (kind == FETCH_BINARY_UNKNOWN) {
			/* RFC 3516 4.3: the command fails with UNKNOWN-CTE;
			 * the other items of the message still go out. */
			c->unknown_cte = true;
			return 0;
		}
		if (kind == FETCH_BINARY_DECODE && len > FETCH_INLINE_MAX) {
			fetch_decode_start(c, b, part->enc, off, len);
			return 1;
		}
		if (kind == FETCH_BINARY_DECODE) {
			struct buf raw, dec;
			buf_init(&raw);
			buf_init(&dec);
			if (fetch_pread(c, off, len, &raw) < 0) {
				buf_free(&raw);
				return -1;
			}
			fetch_binary_decode(raw.data, raw.len, part->enc, &dec);
			buf_free(&raw);
			fetch_sep(s, c);
			if (b->binary_size) {
				buf_printf(out, "%s %zu", b->response_name, dec.len);
				buf_free(&dec);
				return 0;
			}
			uint64_t poff, plen;
			fetch_partial(b, dec.len, &poff, &plen);
			if (poff > 0)
				buf_consume(&dec, (size_t)poff);
			dec.len = (size_t)plen;
			buf_printf(out, "%s ", b->response_name);
			fetch_write_data(s, c, &dec,
					 fetch_has_nul(dec.data, dec.len));
			buf_free(&dec);
			return c->pending.len > 0 ? 1 : 0;
		}
		if (b->binary_size) {
			fetch_sep(s, c);
			buf_printf(out, "%s %llu", b->response_name,
				   (unsigned long long)len);
			return 0;
		}
	}

	if (b->section == IMAP_SECTION_HEADER_FIELDS ||
	    b->section == IMAP_SECTION_HEADER_FIELDS_NOT) {
		struct buf hdr, sel;
		buf_init(&hdr);
		buf_init(&sel);
		if (fetch_pread(c, off, len, &hdr) < 0) {
			buf_free(&hdr);
			return -1;
		}
		mime_header_select(hdr.data, hdr.len,
				   (const char *const *)b->fields, b->field_count,
				   b->section == IMAP_SECTION_HEADER_FIELDS_NOT,
				   &sel);
		buf_free(&hdr);
		uint64_t poff, plen;
		fetch_partial(b, sel.len, &poff, &plen);
		if (poff > 0)
			buf_consume(&sel, (size_t)poff);
		sel.len = (size_t)plen;
		fetch_sep(s, c);
		buf_printf(out, "%s ", b->response_name);
		fetch_write_data(s, c, &sel, false);
		buf_free(&sel);
		return c->pending.len > 0 ? 1 : 0;
	}

	uint64_t poff, plen;
	fetch_partial(b, len, &poff, &plen);
	size_t mark = out->len;
	bool first = c->first_item;
	fetch_sep(s, c);
	buf_printf(out, "%s ", b->response_name);
	/* A streamed range cannot be checked for NUL beforehand: BINARY
	 * always uses literal8 then (RFC 3516 4.3 allows it). */
	bool literal8 = false;
	if (b->binary) {
		if (plen > FETCH_INLINE_MAX) {
			literal8 = true;
		} else {
			struct buf tmp;
			buf_init(&tmp);
			if (fetch_pread(c, off + poff, plen, &tmp) < 0) {
				buf_free(&tmp);
				out->len = mark;
				c->first_item = first;
				return -1;
			}
			fetch_write_data(s, c, &tmp,
					 fetch_has_nul(tmp.data, tmp.len));
			buf_free(&tmp);
			return 0;
		}
	}
	int r = fetch_write_range(s, c, off + poff, plen, literal8);
	if (r < 0) {
		out->len = mark;
		c->first_item = first;
	}
	return r;
}

static int fetch_record_exists_cb(void *ctx, const struct store_message *msg)
{
	(void)msg;
	*(bool *)ctx = true;
	return 1;
}

/* Opens the current message's blob for the items that read it or its
 * cache. The batch's records were read earlier, and the FETCH may have
 * been suspended since: a message another session expunged meanwhile
 * has lost its blob and cache. Opening before a byte of the response is
 * written tells that case apart (1: skip the message, as if its record
 * had been missing from the batch), and an open file keeps its bytes
 * whatever happens next. 0 when open, -1 on an error (c failed). */
static int fetch_open_or_gone(struct worker_session *s, struct fetch_cmd *c)
{
	const char *err;
	if (store_message_open(worker.store, c->cur->msg.blob_id, &c->fd,
			       &err) == 0)
		return 0;
	c->fd = -1;
	if (store_last_error(worker.store) != STORE_ERR_CORRUPT) {
		fetch_fail(c, err);
		return -1;
	}
	char *saved = xstrdup(err);
	bool exists = false;
	struct store_uidrange one = { c->cur->msg.uid, c->cur->msg.uid };
	struct store_uidset set = { &one, 1 };
	const char *err2;
	int r = store_message_iter(worker.store, s->selected->mailbox_id, &set,
				   fetch_record_exists_cb, &exists, &err2);
	if (r < 0 || exists) {
		/* a record without its blob: that is damage, not a race */
		fetch_fail(c, r < 0 ? err2 : saved);
		free(saved);
		return -1;
	}
	free(saved);
	return 1;
}

static bool fetch_reads_message(const struct fetch_cmd *c)
{
	return c->args.body_count > 0 ||
	       (c->args.items & (IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY |
				 IMAP_FETCH_BODYSTRUCTURE |
				 IMAP_FETCH_PREVIEW));
}

/* Starts the response of the next message of the batch: 0, 1 if the
 * message was expunged meanwhile (nothing written; skip it), -1 on an
 * error (c failed). */
static int fetch_msg_begin(struct worker_session *s, struct fetch_cmd *c)
{
	c->cur = &c->batch[c->batch_pos++];
	c->cur_seq = mailbox_view_seq(s->selected->view, c->cur->msg.uid);
	c->in_msg = true;
	c->body_idx = 0;
	c->first_item = true;
	if (fetch_reads_message(c)) {
		int r = fetch_open_or_gone(s, c);
		if (r != 0) {
			if (r > 0)
				c->expunged = true;
			return r < 0 ? -1 : 1;
		}
	}
	size_t mark = s->net.out.len;
	buf_printf(&s->net.out, "* %u FETCH (", c->cur_seq);
	if (fetch_write_simple(s, c) < 0) {
		s->net.out.len = mark;
		return -1;
	}
	return 0;
}

/* Writes the body items of the current message from body_idx on.
 * Returns 1 when the message is complete, 0 when the output must drain
 * first, -1 on error. */
static int fetch_msg_continue(struct worker_session *s, struct fetch_cmd *c)
{
	while (c->body_idx < c->args.body_count) {
		if (!worker_session_can_write(s))
			return 0;
		int r = fetch_write_body(s, c, &c->args.bodies[c->body_idx]);
		if (r < 0)
			return -1;
		c->body_idx++;
		if (r > 0)
			return 0;
	}
	buf_append_str(&s->net.out, ")\r\n");
	fetch_msg_end(c);
	return 1;
}

static void fetch_finish(struct worker_session *s, struct fetch_cmd *c)
{
	const char *cmd = c->uid ? "UID FETCH" : "FETCH";
	/* Changes by others are told before the tagged response; EXPUNGE
	 * only for UID FETCH (RFC 9051 7.5.1). */
	worker_sync_flush(s, c->uid);
	if (c->failed) {
		const char *code = NULL;
		switch (c->store_err) {
		case STORE_ERR_TEMP: code = "UNAVAILABLE"; break;
		case STORE_ERR_NONE: break;
		default: code = "SERVERBUG"; break;
		}
		log_msg(LOG_LEVEL_ERROR, s->id, "%s failed: %s", cmd, c->error);
		if (code != NULL)
			net_conn_printf(&s->net, "%s NO [%s] %s failed: %s\r\n",
					c->tag, code, cmd, c->error);
		else
			net_conn_printf(&s->net, "%s NO %s failed: %s\r\n",
					c->tag, cmd, c->error);
	} else if (c->unknown_cte) {
		net_conn_printf(&s->net, "%s NO [UNKNOWN-CTE] Unknown "
				"Content-Transfer-Encoding\r\n", c->tag);
	} else if (c->expunged && !c->uid) {
		net_conn_printf(&s->net, "%s NO [EXPUNGEISSUED] Some messages "
				"were expunged by another session\r\n", c->tag);
	} else {
		net_conn_printf(&s->net, "%s OK %s completed\r\n", c->tag, cmd);
	}
}

/* Runs the command as far as the output allows; true when finished. */
static bool fetch_run(struct worker_session *s, void *state)
{
	struct fetch_cmd *c = state;
	for (;;) {
		if (c->decode != NULL) {
			int r = fetch_decode_step(s, c);
			if (r == 0)
				return false;
			fetch_decode_free(c);
			if (r < 0) {
				buf_append_str(&s->net.out, ")\r\n");
				fetch_msg_end(c);
				break;
			}
			continue;
		}
		if (c->pending.len > 0 && !fetch_drain_pending(s, c))
			return false;
		if (!worker_session_can_write(s))
			return false;
		if (c->in_msg) {
			if (fetch_msg_continue(s, c) < 0) {
				/* The failed item was taken back; close the
				 * response with what it has (an item fails
				 * only before its literal starts). */
				buf_append_str(&s->net.out, ")\r\n");
				fetch_msg_end(c);
				break;
			}
			continue;
		}
		if (c->failed)
			break;
		if (c->batch_pos == c->batch_count) {
			if (c->range >= c->nranges)
				break;
			if (fetch_load_batch(s, c) < 0)
				break;
			continue;
		}
		int begun = fetch_msg_begin(s, c);
		if (begun != 0) {
			/* an error, or a message expunged meanwhile: skipped */
			fetch_msg_end(c);
			if (begun < 0)
				break;
		}
	}
	fetch_finish(s, c);
	return true;
}

/* The sequence ranges of the view that set (UIDs) names. */
static void fetch_ranges_from_uids(struct fetch_cmd *c,
				   const struct store_seqmap *view,
				   const struct imap_seqset *uids)
{
	size_t cap = uids->count ? uids->count : 1;
	c->ranges = xcalloc(cap, sizeof(*c->ranges));
	for (size_t i = 0; i < uids->count; i++) {
		uint32_t first, last;
		if (store_seqmap_range(view, uids->ranges[i].lo,
				       uids->ranges[i].hi, &first, &last) == 0)
			continue;
		if (c->nranges > 0 && c->ranges[c->nranges - 1].last + 1 >= first) {
			if (last > c->ranges[c->nranges - 1].last)
				c->ranges[c->nranges - 1].last = last;
			continue;
		}
		c->ranges[c->nranges].first = first;
		c->ranges[c->nranges].last = last;
		c->nranges++;
	}
}

void cmd_fetch(struct worker_session *s, const struct imap_command *cmd)
{
	const char *err;
	if (cmd->arg_count < 2) {
		worker_session_bad(s, cmd->tag, "FETCH expects a sequence set "
				   "and data items");
		return;
	}
	struct imap_seqset uids;
	if (worker_resolve_set(s, &cmd->args[0], s->cmd_uid, &uids, &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		return;
	}
	struct fetch_cmd *c = xcalloc(1, sizeof(*c));
	c->fd = -1;
	buf_init(&c->cache);
	buf_init(&c->pending);
	if (imap_fetch_args_parse(cmd->args + 1, cmd->arg_count - 1, &c->args,
				  &err) < 0) {
		memset(&c->args, 0, sizeof(c->args));
		imap_seqset_free(&uids);
		fetch_cmd_free(c);
		worker_session_bad(s, cmd->tag, "%s", err);
		return;
	}
	if (c->args.vanished) {
		/* RFC 7162 3.2.6: only after ENABLE QRESYNC. */
		imap_seqset_free(&uids);
		fetch_cmd_free(c);
		worker_session_bad(s, cmd->tag, "VANISHED needs QRESYNC enabled");
		return;
	}
	c->tag = xstrdup(cmd->tag);
	c->uid = s->cmd_uid;
	if (c->uid)
		c->args.items |= IMAP_FETCH_UID;	/* RFC 9051 6.4.9 */
	fetch_ranges_from_uids(c, mailbox_view_map(s->selected->view), &uids);
	imap_seqset_free(&uids);
	if (fetch_run(s, c))
		fetch_cmd_free(c);
	else
		worker_session_suspend(s, fetch_run, fetch_cmd_free, c);
}
