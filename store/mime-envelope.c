/* ENVELOPE (RFC 9051 section 7.5.2): built from a header block, written
 * as an IMAP list. Fields hold the raw header text, unfolded; encoded
 * words are not decoded (the RFC's envelope is the header as sent, and
 * clients decode it themselves). The first occurrence of a field wins. */
#include "mime-private.h"

#include "../common/imap-write.h"
#include "mime-header.h"

#include <string.h>

enum {
	ENV_DATE, ENV_SUBJECT, ENV_FROM, ENV_SENDER, ENV_REPLY_TO, ENV_TO,
	ENV_CC, ENV_BCC, ENV_IN_REPLY_TO, ENV_MESSAGE_ID, ENV_COUNT
};

static const char *const mime_env_names[ENV_COUNT] = {
	"Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"In-Reply-To", "Message-ID",
};

void mime_envelope_parse(struct mime_arena *a, const uint8_t *hdr,
			 size_t len, struct mime_envelope *env)
{
	struct mime_header_field found[ENV_COUNT];
	bool have[ENV_COUNT] = { false };
	struct mime_header_iter it;
	struct mime_header_field f;

	memset(env, 0, sizeof(*env));
	mime_header_iter_init(&it, hdr, len);
	while (mime_header_next(&it, &f)) {
		for (unsigned i = 0; i < ENV_COUNT; i++) {
			if (!have[i] && mime_mem_eq_ci(f.name, f.name_len,
						       mime_env_names[i])) {
				found[i] = f;
				have[i] = true;
				break;
			}
		}
	}

	struct mime_str *strs[ENV_COUNT] = {
		[ENV_DATE] = &env->date, [ENV_SUBJECT] = &env->subject,
		[ENV_IN_REPLY_TO] = &env->in_reply_to,
		[ENV_MESSAGE_ID] = &env->message_id,
	};
	struct mime_addresses *addrs[ENV_COUNT] = {
		[ENV_FROM] = &env->from, [ENV_SENDER] = &env->sender,
		[ENV_REPLY_TO] = &env->reply_to, [ENV_TO] = &env->to,
		[ENV_CC] = &env->cc, [ENV_BCC] = &env->bcc,
	};
	struct buf v;
	buf_init(&v);
	for (unsigned i = 0; i < ENV_COUNT; i++) {
		if (!have[i])
			continue;
		buf_clear(&v);
		mime_header_unfold(found[i].value, found[i].value_len, &v);
		if (strs[i] != NULL)
			*strs[i] = mime_arena_str(a, v.data, v.len);
		else
			mime_parse_addresses(a, v.data, v.len, addrs[i]);
	}
	buf_free(&v);
	/* "If the Sender or Reply-To lines are absent in the [RFC5322]
	 * header, or are present but empty, the server sets the
	 * corresponding member of the envelope to be the same value as the
	 * from member" (RFC 9051 7.5.2). */
	if (env->sender.count == 0)
		env->sender = env->from;
	if (env->reply_to.count == 0)
		env->reply_to = env->from;
}

static void mime_write_addresses(const struct mime_addresses *l,
				 struct buf *out)
{
	if (l->count == 0) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_append_byte(out, '(');
	for (size_t i = 0; i < l->count; i++) {
		const struct mime_address *ad = &l->addr[i];
		buf_append_byte(out, '(');
		imap_write_nstring(out, ad->name.s, ad->name.len);
		buf_append_byte(out, ' ');
		imap_write_nstring(out, ad->adl.s, ad->adl.len);
		buf_append_byte(out, ' ');
		imap_write_nstring(out, ad->mailbox.s, ad->mailbox.len);
		buf_append_byte(out, ' ');
		imap_write_nstring(out, ad->host.s, ad->host.len);
		buf_append_byte(out, ')');
	}
	buf_append_byte(out, ')');
}

void mime_envelope_write(const struct mime_envelope *env, struct buf *out)
{
	buf_append_byte(out, '(');
	imap_write_nstring(out, env->date.s, env->date.len);
	buf_append_byte(out, ' ');
	imap_write_nstring(out, env->subject.s, env->subject.len);
	const struct mime_addresses *lists[] = {
		&env->from, &env->sender, &env->reply_to, &env->to, &env->cc,
		&env->bcc,
	};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		buf_append_byte(out, ' ');
		mime_write_addresses(lists[i], out);
	}
	buf_append_byte(out, ' ');
	imap_write_nstring(out, env->in_reply_to.s, env->in_reply_to.len);
	buf_append_byte(out, ' ');
	imap_write_nstring(out, env->message_id.s, env->message_id.len);
	buf_append_byte(out, ')');
}
