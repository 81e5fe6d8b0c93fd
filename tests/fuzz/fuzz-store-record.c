/* libFuzzer target for the decoders of every on-disk store record
 * (store/store-record.c): meta state, mailbox, message, blob reference,
 * the u32 values (schema version, mailbox_names), plus the mailbox-name
 * and keyword validators the decoders rely on.
 *
 * Input: byte 0 picks the decoder, the rest is the record. A record that
 * decodes must satisfy the invariants the store relies on and re-encode
 * to exactly the same bytes (the encoding is canonical), so no two byte
 * strings mean the same record. An older message record version (1, no
 * zone) re-encodes as the current one, which must decode to the same
 * record. Any violation aborts. */
#include "../../common/buf.h"
#include "../../store/store-record.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void same(const struct buf *b, const uint8_t *data, size_t len)
{
	FUZZ_CHECK(b->len == len);
	FUZZ_CHECK(len == 0 || memcmp(b->data, data, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *data = in + 1;
	size_t len = size - 1;
	struct buf b;
	buf_init(&b);
	switch (in[0] % 6) {
	case 0: {
		struct store_rec_meta m;
		if (store_rec_meta_decode(data, len, &m) == 0) {
			FUZZ_CHECK(m.next_mailbox_id != 0 && m.next_blob != 0);
			store_rec_meta_encode(&m, &b);
			same(&b, data, len);
		}
		break;
	}
	case 1: {
		struct store_rec_mailbox m;
		if (store_rec_mailbox_decode(data, len, &m) == 0) {
			FUZZ_CHECK(m.unseen <= m.messages);
			FUZZ_CHECK(m.recent <= m.messages);
			FUZZ_CHECK(m.messages < m.uidnext);
			FUZZ_CHECK(m.first_recent <= m.uidnext);
			FUZZ_CHECK(strlen(m.name) == m.name_len);
			FUZZ_CHECK(store_mailbox_name_valid(m.name, m.name_len));
			store_rec_mailbox_encode(&m, &b);
			same(&b, data, len);
		}
		break;
	}
	case 2: {
		struct store_rec_message m;
		if (store_rec_message_decode(data, len, &m) == 0) {
			FUZZ_CHECK(m.nkeywords <= STORE_MESSAGE_KEYWORDS_MAX);
			for (uint16_t i = 1; i < m.nkeywords; i++)
				FUZZ_CHECK(m.keywords[i] > m.keywords[i - 1]);
			FUZZ_CHECK((m.flags & ~STORE_FLAGS_STORED) == 0);
			FUZZ_CHECK(m.internaldate_tz >= -STORE_TZ_MIN_MAX &&
				   m.internaldate_tz <= STORE_TZ_MIN_MAX);
			store_rec_message_encode(&m, &b);
			if (data[0] == STORE_REC_MESSAGE_VERSION) {
				same(&b, data, len);
			} else {
				struct store_rec_message m2;
				FUZZ_CHECK(data[0] < STORE_REC_MESSAGE_VERSION);
				FUZZ_CHECK(store_rec_message_decode(
					b.data, b.len, &m2) == 0);
				FUZZ_CHECK(m2.internaldate_tz == 0 &&
					   m2.internaldate == m.internaldate &&
					   m2.blob_id == m.blob_id &&
					   m2.nkeywords == m.nkeywords &&
					   memcmp(m2.keywords, m.keywords,
						  m.nkeywords * 2) == 0);
			}
		}
		break;
	}
	case 3: {
		struct store_rec_blobref r;
		if (store_rec_blobref_decode(data, len, &r) == 0) {
			FUZZ_CHECK(r.refcount > 0);
			store_rec_blobref_encode(&r, &b);
			same(&b, data, len);
		}
		break;
	}
	case 4: {
		uint32_t v;
		if (store_rec_u32_decode(data, len, &v) == 0) {
			store_rec_u32_encode(v, &b);
			same(&b, data, len);
		}
		break;
	}
	case 5:
		/* validators never read past len; accepted names hold no
		 * NUL, no wildcard, no empty level */
		if (store_mailbox_name_valid((const char *)data, len)) {
			FUZZ_CHECK(memchr(data, '\0', len) == NULL);
			FUZZ_CHECK(memchr(data, '*', len) == NULL);
			FUZZ_CHECK(memchr(data, '%', len) == NULL);
		}
		if (store_keyword_valid((const char *)data, len))
			FUZZ_CHECK(memchr(data, ' ', len) == NULL);
		break;
	}
	buf_free(&b);
	return 0;
}
