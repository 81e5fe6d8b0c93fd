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
	size_t count;
	const struct store_seqmap *view;
};

static int load_record(void *vctx, const struct store_message *rec)
{
	struct load_ctx *c = vctx;
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

int sort_load(struct store *store, uint32_t mailbox_id,
	      const struct store_seqmap *view, const uint32_t *uids, size_t n,
	      unsigned need, struct sort_msg **msgs_r, size_t *count_r,
	      const char **error_r)
{
	*msgs_r = NULL;
	*count_r = 0;
	if (n == 0)
		return 0;
	/* the UIDs as ranges for one record walk */
	struct store_uidrange *ranges = xmalloc(n * sizeof(*ranges));
	size_t nr = 0;
	for (size_t i = 0; i < n; i++) {
		if (nr > 0 && ranges[nr - 1].last + 1 == uids[i])
			ranges[nr - 1].last = uids[i];
		else
			ranges[nr++] = (struct store_uidrange){ uids[i], uids[i] };
	}
	struct store_uidset set = { ranges, nr };
	struct load_ctx c = {
		.msgs = xcalloc(n, sizeof(*c.msgs)),
		.blobs = xcalloc(n, sizeof(*c.blobs)),
		.view = view,
	};
	int r = store_message_iter(store, mailbox_id, &set, load_record, &c,
				   error_r);
	free(ranges);
	if (r < 0) {
		free(c.msgs);
		free(c.blobs);
		return -1;
	}
	struct buf cache, data, hdr;
	buf_init(&cache);
	buf_init(&data);
	buf_init(&hdr);
	for (size_t i = 0; i < c.count && r == 0; i++) {
		struct sort_msg *m = &c.msgs[i];
		if ((need & (SORT_NEED_CACHE | SORT_NEED_THREAD)) == 0) {
			sort_msg_fill(m, need, NULL, 0, NULL, 0, error_r);
			continue;
		}
		buf_clear(&cache);
		const char *err;
		uint64_t size;
		int got = store_cache_get(store, c.blobs[i], &cache, &err);
		if (got < 0 && store_last_error(store) != STORE_ERR_CORRUPT) {
			*error_r = err;
			r = -1;
			break;
		}
		bool fresh = got > 0 &&
			     mime_cache_message_size(cache.data, cache.len,
						     &size, &err) == 0 &&
			     size == m->size;
		const uint8_t *h = NULL;
		size_t hlen = 0;
		if (fresh && (need & SORT_NEED_THREAD)) {
			if (read_header(store, c.blobs[i], &cache, &hdr,
					&err) < 0)
				fresh = false;
			h = hdr.data;
			hlen = hdr.len;
		}
		if (!fresh || sort_msg_fill(m, need, cache.data, cache.len,
					    h, hlen, &err) < 0) {
			/* parse the message itself */
			sort_msg_free(m);
			buf_clear(&data);
			buf_clear(&cache);
			if (store_message_read(store, c.blobs[i], &data,
					       error_r) < 0) {
				r = -1;
				break;
			}
			mime_cache_build(data.data, data.len, NULL, &cache);
			size_t hl = mime_header_length(data.data, data.len,
						       NULL);
			if (sort_msg_fill(m, need, cache.data, cache.len,
					  data.data, hl, error_r) < 0)
				r = -1;
		}
	}
	buf_free(&cache);
	buf_free(&data);
	buf_free(&hdr);
	free(c.blobs);
	if (r < 0) {
		sort_load_free(c.msgs, c.count);
		return -1;
	}
	/* every string is set, even for keys not asked for */
	for (size_t i = 0; i < c.count; i++) {
		struct sort_msg *m = &c.msgs[i];
		char **s[] = { &m->subject, &m->from, &m->to, &m->cc,
			       &m->dfrom, &m->dto, &m->message_id };
		for (size_t k = 0; k < sizeof(s) / sizeof(s[0]); k++)
			if (*s[k] == NULL)
				*s[k] = xstrdup("");
	}
	*msgs_r = c.msgs;
	*count_r = c.count;
	return 0;
}

void sort_load_free(struct sort_msg *msgs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		sort_msg_free(&msgs[i]);
	free(msgs);
}
