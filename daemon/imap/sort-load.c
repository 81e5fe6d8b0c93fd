/* Keys of the messages SORT and THREAD order; see sort-load.h. */
#include "sort-load.h"

#include "../../common/buf.h"
#include "../../store/mime-cache.h"
#include "../../store/mime-header.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct load_ctx {
	struct sort_msg *msgs;
	uint64_t *blobs;
	size_t count, max;
	const struct store_seqmap *view;
};

static int load_record(void *vctx, const struct store_message *rec)
{
	struct load_ctx *c = vctx;
	/* between two UIDs asked for, only those UIDs can exist (UIDs
	 * only grow), but a walk never writes past what it was given */
	if (c->count == c->max)
		return 1;
	struct sort_msg *m = &c->msgs[c->count];
	memset(m, 0, sizeof(*m));
	m->uid = rec->uid;
	m->seq = store_seqmap_seq(c->view, rec->uid);
	m->arrival = rec->internaldate;
	m->sent = rec->internaldate;
	m->size = rec->size;
	c->blobs[c->count] = rec->blob_id;
	c->count++;
	return 0;
}

/* The top-level header of a message: read from the blob, up to the
 * length the cache gives (the header is small; the body is not read). */
static int read_header(struct store *store, uint64_t blob_id,
		       const struct buf *cache, struct buf *hdr,
		       const char **error_r)
{
	uint64_t off, len;
	if (mime_cache_section(cache->data, cache->len, "HEADER", &off, &len,
			       error_r) != 0)
		return -1;
	int fd;
	if (store_message_open(store, blob_id, &fd, error_r) < 0)
		return -1;
	buf_clear(hdr);
	buf_reserve(hdr, (size_t)len + 1);
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, hdr->data + got, (size_t)len - got,
				  (off_t)(off + got));
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	hdr->len = got;
	return 0;
}

/* The keys of one message whose record was read. 0, or -1 with
 * error_r on a store error. */
static int load_keys(struct store *store, struct sort_msg *m,
		     uint64_t blob_id, unsigned need, struct buf *cache,
		     struct buf *data, struct buf *hdr, const char **error_r)
{
	if ((need & (SORT_NEED_CACHE | SORT_NEED_THREAD)) == 0) {
		/* the record's keys only: nothing to read, nothing to fail */
		const char *err;
		(void)sort_msg_fill(m, need, NULL, 0, NULL, 0, &err);
		return 0;
	}
	buf_clear(cache);
	const char *err;
	uint64_t size;
	int got = store_cache_get(store, blob_id, cache, &err);
	if (got < 0 && store_last_error(store) != STORE_ERR_CORRUPT) {
		*error_r = err;
		return -1;
	}
	bool fresh = got > 0 &&
		     mime_cache_message_size(cache->data, cache->len, &size,
					     &err) == 0 &&
		     size == m->size;
	const uint8_t *h = NULL;
	size_t hlen = 0;
	if (fresh && (need & SORT_NEED_THREAD)) {
		if (read_header(store, blob_id, cache, hdr, &err) < 0)
			fresh = false;
		h = hdr->data;
		hlen = hdr->len;
	}
	if (fresh && sort_msg_fill(m, need, cache->data, cache->len, h, hlen,
				   &err) == 0)
		return 0;
	/* parse the message itself */
	sort_msg_free(m);
	buf_clear(data);
	buf_clear(cache);
	if (store_message_read(store, blob_id, data, error_r) < 0)
		return -1;
	mime_cache_build(data->data, data->len, NULL, cache);
	size_t hl = mime_header_length(data->data, data->len, NULL);
	return sort_msg_fill(m, need, cache->data, cache->len, data->data, hl,
			     error_r) < 0 ? -1 : 0;
}

struct sort_loader {
	uint32_t mailbox_id;
	const struct store_seqmap *view;
	unsigned need;
	uint32_t *uids;
	size_t n, next;		/* uids[next..n) are still to load */
	struct sort_msg *msgs;
	size_t count;
	struct buf cache, data, hdr;
};

struct sort_loader *sort_loader_new(uint32_t mailbox_id,
				    const struct store_seqmap *view,
				    const uint32_t *uids, size_t n,
				    unsigned need)
{
	struct sort_loader *l = xcalloc(1, sizeof(*l));
	l->mailbox_id = mailbox_id;
	l->view = view;
	l->need = need;
	l->n = n;
	l->uids = xmalloc((n ? n : 1) * sizeof(*l->uids));
	if (n > 0)
		memcpy(l->uids, uids, n * sizeof(*uids));
	l->msgs = xcalloc(n ? n : 1, sizeof(*l->msgs));
	buf_init(&l->cache);
	buf_init(&l->data);
	buf_init(&l->hdr);
	return l;
}

int sort_loader_step(struct store *store, struct sort_loader *l, size_t max,
		     const char **error_r)
{
	size_t end = l->n - l->next > max ? l->next + max : l->n;
	if (l->next == end)
		return 1;
	/* the slice's UIDs as ranges for one record walk, in its own read
	 * transaction: what another session expunged since the last slice
	 * has no record and is left out */
	struct store_uidrange *ranges = xmalloc((end - l->next) *
						sizeof(*ranges));
	size_t nr = 0;
	for (size_t i = l->next; i < end; i++) {
		if (nr > 0 && ranges[nr - 1].last + 1 == l->uids[i])
			ranges[nr - 1].last = l->uids[i];
		else
			ranges[nr++] = (struct store_uidrange){ l->uids[i],
								l->uids[i] };
	}
	struct store_uidset set = { ranges, nr };
	size_t first = l->count;
	uint64_t *blobs = xcalloc(end - l->next, sizeof(*blobs));
	struct load_ctx c = {
		.msgs = l->msgs + first,
		.blobs = blobs,
		.max = end - l->next,
		.view = l->view,
	};
	int r = store_message_iter(store, l->mailbox_id, &set, load_record,
				   &c, error_r);
	free(ranges);
	l->next = end;
	l->count += c.count;
	for (size_t i = 0; i < c.count && r == 0; i++)
		r = load_keys(store, &l->msgs[first + i], blobs[i], l->need,
			      &l->cache, &l->data, &l->hdr, error_r);
	free(blobs);
	if (r < 0)
		return -1;
	return l->next == l->n ? 1 : 0;
}

void sort_loader_take(struct sort_loader *l, struct sort_msg **msgs_r,
		      size_t *count_r)
{
	/* every string is set, even for keys not asked for */
	for (size_t i = 0; i < l->count; i++) {
		struct sort_msg *m = &l->msgs[i];
		char **s[] = { &m->subject, &m->from, &m->to, &m->cc,
			       &m->dfrom, &m->dto, &m->message_id };
		for (size_t k = 0; k < sizeof(s) / sizeof(s[0]); k++)
			if (*s[k] == NULL)
				*s[k] = xstrdup("");
	}
	*msgs_r = l->msgs;
	*count_r = l->count;
	l->msgs = NULL;
	l->count = 0;
}

void sort_loader_free(struct sort_loader *l)
{
	if (l == NULL)
		return;
	if (l->msgs != NULL)
		sort_load_free(l->msgs, l->count);
	free(l->uids);
	buf_free(&l->cache);
	buf_free(&l->data);
	buf_free(&l->hdr);
	free(l);
}

int sort_load(struct store *store, uint32_t mailbox_id,
	      const struct store_seqmap *view, const uint32_t *uids, size_t n,
	      unsigned need, struct sort_msg **msgs_r, size_t *count_r,
	      const char **error_r)
{
	*msgs_r = NULL;
	*count_r = 0;
	struct sort_loader *l = sort_loader_new(mailbox_id, view, uids, n,
						need);
	int r = sort_loader_step(store, l, n, error_r);
	if (r >= 0)
		sort_loader_take(l, msgs_r, count_r);
	sort_loader_free(l);
	return r < 0 ? -1 : 0;
}

void sort_load_free(struct sort_msg *msgs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		sort_msg_free(&msgs[i]);
	free(msgs);
}
