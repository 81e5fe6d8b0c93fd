/* libFuzzer target: the mbox splitter (store/import-mbox.c). Beyond "no
 * crash, no leak" it checks what the importer relies on:
 *  - all input is consumed, and the output never has more bytes than the
 *    input (unquoting and separators only remove bytes);
 *  - splitting the input whole, one byte at a time and in pieces of
 *    varying sizes gives the same messages (the parser is incremental);
 *  - messages come in input order, each under the size limit;
 *  - writing the messages back as mboxrd and splitting that again gives
 *    them back (every message ending in a line end). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../../store/import-mbox.h"

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

struct out {
	struct buf all;		/* messages, each followed by its length */
	struct buf cur;
	size_t n;
	uint64_t last_offset;
	uint64_t max;
	int junk;
};

static void on_data(void *ctx, const uint8_t *d, size_t len)
{
	struct out *o = ctx;
	check(len > 0);
	buf_append(&o->cur, d, len);
}

static void on_message(void *ctx, const struct mbox_message_info *info)
{
	struct out *o = ctx;
	check(info->size == o->cur.len);
	check(info->index == o->n + 1);
	check(o->n == 0 || info->offset > o->last_offset);
	if (o->max != 0)
		check(info->size <= o->max);
	o->last_offset = info->offset;
	buf_append(&o->all, o->cur.data, o->cur.len);
	uint64_t l = o->cur.len;
	buf_append(&o->all, &l, sizeof(l));
	buf_clear(&o->cur);
	o->n++;
}

static void on_junk(void *ctx, uint64_t offset, uint64_t len)
{
	struct out *o = ctx;
	check(offset == 0 && len > 0 && o->n == 0);
	o->junk++;
}

static const struct mbox_callbacks cbs = {
	.data = on_data, .message = on_message, .junk = on_junk,
};

static void run(struct out *o, const uint8_t *data, size_t size,
		const uint8_t *steps, size_t nsteps, uint64_t max)
{
	memset(o, 0, sizeof(*o));
	buf_init(&o->all);
	buf_init(&o->cur);
	o->max = max;
	struct mbox_parser p;
	mbox_parser_init(&p, &cbs, o, max);
	size_t i = 0, k = 0;
	while (i < size) {
		size_t step = nsteps == 0 ? size : (size_t)steps[k++ % nsteps] + 1;
		if (step > size - i)
			step = size - i;
		mbox_parser_feed(&p, data + i, step);
		i += step;
	}
	mbox_parser_finish(&p);
	check(p.offset == size);
	check(o->junk <= 1);
	check(o->cur.len == 0);
}

static void out_free(struct out *o)
{
	buf_free(&o->all);
	buf_free(&o->cur);
}

static void same(const struct out *a, const struct out *b)
{
	check(a->n == b->n && a->junk == b->junk);
	check(a->all.len == b->all.len &&
	      (a->all.len == 0 || memcmp(a->all.data, b->all.data,
					 a->all.len) == 0));
}

/* mboxrd writer: a From_ line, the message with every >*From line given
 * one more '>', a line end if missing, an empty line. */
static void write_mboxrd(const struct out *o, struct buf *mbox,
			 struct buf *expect)
{
	/* Walk from the end to collect (offset, length) pairs. */
	size_t n = o->n;
	size_t *offs = calloc(n + 1, sizeof(size_t));
	size_t *lens = calloc(n + 1, sizeof(size_t));
	size_t end = o->all.len;
	for (size_t i = n; i > 0; i--) {
		uint64_t l;
		memcpy(&l, o->all.data + end - sizeof(l), sizeof(l));
		lens[i - 1] = (size_t)l;
		offs[i - 1] = end - sizeof(l) - (size_t)l;
		end = offs[i - 1];
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *m = o->all.data + offs[i];
		size_t l = lens[i];
		buf_append_str(mbox, "From fuzz Thu Jan  1 00:00:00 2015\n");
		size_t q = 0;
		bool line_start = true;
		for (size_t j = 0; j < l; j++) {
			if (line_start) {
				q = j;
				while (q < l && m[q] == '>')
					q++;
				if (l - q >= 5 && memcmp(m + q, "From ", 5) == 0)
					buf_append_byte(mbox, '>');
			}
			buf_append_byte(mbox, m[j]);
			line_start = m[j] == '\n';
		}
		buf_append(expect, m, l);
		if (l > 0 && m[l - 1] != '\n') {
			buf_append_byte(mbox, '\n');
			buf_append_byte(expect, '\n');
		}
		buf_append_byte(mbox, '\n');
		uint64_t el = l + (l > 0 && m[l - 1] != '\n');
		buf_append(expect, &el, sizeof(el));
	}
	free(offs);
	free(lens);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	/* The first byte picks the pieces for the chunked run. */
	uint8_t steps[4] = { 0, 2, 6, 30 };
	if (size > 0)
		steps[0] = data[0] % 16;
	struct out whole, bytes, chunks, small;
	run(&whole, data, size, NULL, 0, 0);
	uint8_t one = 0;
	run(&bytes, data, size, &one, 1, 0);
	run(&chunks, data, size, steps, 4, 0);
	same(&whole, &bytes);
	same(&whole, &chunks);
	/* message bytes never exceed the input */
	check(whole.all.len - whole.n * sizeof(uint64_t) <= size);
	/* a size limit cuts messages but never changes the split */
	run(&small, data, size, steps, 4, 16);
	check(small.n == whole.n && small.junk == whole.junk);

	struct buf mbox, expect;
	buf_init(&mbox);
	buf_init(&expect);
	write_mboxrd(&whole, &mbox, &expect);
	struct out again;
	run(&again, mbox.data, mbox.len, NULL, 0, 0);
	check(again.n == whole.n && again.junk == 0);
	check(again.all.len == expect.len &&
	      (expect.len == 0 ||
	       memcmp(again.all.data, expect.data, expect.len) == 0));

	out_free(&whole);
	out_free(&bytes);
	out_free(&chunks);
	out_free(&small);
	out_free(&again);
	buf_free(&mbox);
	buf_free(&expect);
	return 0;
}
