/* APPEND (RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502), APPENDUID
 * (UIDPLUS, RFC 4315), APPENDLIMIT (RFC 7889) and literal8 (RFC 3516).
 *
 * A message literal over WORKER_STREAM_LITERAL is not held in memory: the
 * command parser hands it over as it arrives (LITERAL_START, then
 * LITERAL_DATA chunks), each chunk goes to an anonymous file in the
 * store's tmp/, and the store reads the message from that file. The
 * session reads the socket only once its input is consumed, so a client
 * sends no faster than those writes go. */
#include "worker.h"

#include "../../common/log.h"
#include "imap-append-args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

size_t worker_keyword_count(uint32_t mailbox_id);

/* The streamed messages of the command being parsed, in order. */
struct worker_append_stream {
	int fds[WORKER_APPEND_STREAMS_MAX];
	size_t count;
	bool literal8;		/* of the message being written */
	bool nul;		/* a NUL in a plain literal: BAD at the end */
	int write_errno;	/* a write failed: NO at the end */
};

void cmd_append_stream_free(struct worker_session *s)
{
	struct worker_append_stream *st = s->append_stream;
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->count; i++)
		close(st->fds[i]);
	free(st);
	s->append_stream = NULL;
}

static void cmd_append_toobig(struct worker_session *s, const char *tag)
{
	/* RFC 7889 section 4, RFC 9051 7.1: TOOBIG */
	net_conn_printf(&s->net, "%s NO [TOOBIG] Message over the APPENDLIMIT "
			"of %u octets\r\n", tag, (unsigned)WORKER_APPEND_LIMIT);
}

/* Checks what the client sent so far, so that an APPEND bound to fail
 * fails before the message is sent, and opens the message's file. */
bool cmd_append_literal_start(struct worker_session *s,
			      const struct imap_command *cmd,
			      const struct imap_arg *lit)
{
	const char *err;
	char *name = NULL;
	struct imap_append_args a;
	if (strcasecmp(cmd->name, "APPEND") != 0 || cmd->arg_count < 2 ||
	    lit != &cmd->args[cmd->arg_count - 1]) {
		/* Only a message is taken this large; anything else is
		 * refused before its bytes come (a synchronizing literal)
		 * or skipped (LITERAL+, RFC 7888 section 4). */
		worker_session_bad(s, cmd->tag, "[TOOBIG] Literal too big");
		goto refuse;
	}
	if (lit->len > WORKER_APPEND_LIMIT) {
		cmd_append_toobig(s, cmd->tag);
		goto refuse;
	}
	if (worker_mailbox_name_in(s, &cmd->args[0], &name, &err) < 0 ||
	    imap_append_args_parse(cmd->args + 1, cmd->arg_count - 1, &a,
				   &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		goto refuse;
	}
	imap_append_args_free(&a);
	struct store_mailbox mb;
	int r = store_mailbox_get(worker.store, name, &mb, &err);
	if (r < 0) {
		worker_session_store_error(s, cmd->tag, err);
		goto refuse;
	}
	if (r == 0 || (mb.attributes & STORE_ATTR_NOSELECT)) {
		net_conn_printf(&s->net, "%s NO [TRYCREATE] No such mailbox\r\n",
				cmd->tag);
		goto refuse;
	}
	if (s->append_stream == NULL)
		s->append_stream = xcalloc(1, sizeof(*s->append_stream));
	struct worker_append_stream *st = s->append_stream;
	if (st->count == WORKER_APPEND_STREAMS_MAX) {
		net_conn_printf(&s->net, "%s NO [LIMIT] Over %u large messages "
				"in one APPEND\r\n", cmd->tag,
				(unsigned)WORKER_APPEND_STREAMS_MAX);
		goto refuse;
	}
	int fd;
	if (store_tmpfile_open(worker.store, &fd, &err) < 0) {
		worker_session_store_error(s, cmd->tag, err);
		goto refuse;
	}
	st->fds[st->count++] = fd;
	st->literal8 = lit->literal8;
	free(name);
	return true;
refuse:
	free(name);
	cmd_append_stream_free(s);
	return false;
}

void cmd_append_literal_data(struct worker_session *s, const uint8_t *data,
			     size_t len)
{
	struct worker_append_stream *st = s->append_stream;
	if (st == NULL || st->count == 0)
		fatal("APPEND: literal data without a file");
	if (!st->literal8 && memchr(data, '\0', len) != NULL)
		st->nul = true;
	int fd = st->fds[st->count - 1];
	while (len > 0 && st->write_errno == 0) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno != EINTR)
			st->write_errno = errno;
		if (w > 0) {
			data += w;
			len -= (size_t)w;
		}
	}
}

/* The file of the next streamed message, rewound for the store. */
static int cmd_append_stream_take(struct worker_session *s, size_t *next,
				  int *fd_r)
{
	struct worker_append_stream *st = s->append_stream;
	/* one file per streamed literal, both in command order */
	if (st == NULL || *next >= st->count)
		fatal("APPEND: a streamed message without a file");
	*fd_r = st->fds[(*next)++];
	return lseek(*fd_r, 0, SEEK_SET) < 0 ? -1 : 0;
}

void cmd_append(struct worker_session *s, const struct imap_command *cmd)
{
	const char *err;
	char *name = NULL;
	struct imap_append_args a;
	if (cmd->arg_count < 2) {
		worker_session_bad(s, cmd->tag,
				   "APPEND expects a mailbox and a message");
		return;
	}
	if (worker_mailbox_name_in(s, &cmd->args[0], &name, &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		return;
	}
	if (imap_append_args_parse(cmd->args + 1, cmd->arg_count - 1, &a,
				   &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s", err);
		free(name);
		return;
	}
	const struct worker_append_stream *st = s->append_stream;
	if (st != NULL && st->nul) {
		/* RFC 9051 section 4.3, as imap_append_args_parse */
		worker_session_bad(s, cmd->tag,
				   "Message contains NUL; send it as literal8");
		goto out;
	}
	if (st != NULL && st->write_errno != 0) {
		net_conn_printf(&s->net, "%s NO [UNAVAILABLE] Cannot store the "
				"message: %s\r\n", cmd->tag,
				strerror(st->write_errno));
		goto out;
	}
	/* The parser refuses buffered literals over the limit, and
	 * cmd_append_literal_start streamed ones; this guards the limit if
	 * they ever part (RFC 7889 section 4: TOOBIG). */
	for (size_t i = 0; i < a.count; i++) {
		if (a.msgs[i].len > WORKER_APPEND_LIMIT) {
			cmd_append_toobig(s, cmd->tag);
			goto out;
		}
	}
	struct store_mailbox mb;
	int r = store_mailbox_get(worker.store, name, &mb, &err);
	if (r < 0) {
		worker_session_store_error(s, cmd->tag, err);
		goto out;
	}
	if (r == 0 || (mb.attributes & STORE_ATTR_NOSELECT)) {
		/* RFC 9051 6.3.12: CREATE would make it appendable. */
		net_conn_printf(&s->net, "%s NO [TRYCREATE] No such mailbox\r\n",
				cmd->tag);
		goto out;
	}
	bool keywords = false;
	size_t next_file = 0;
	struct store_append_msg *msgs = xcalloc(a.count, sizeof(*msgs));
	uint32_t *uids = xcalloc(a.count, sizeof(*uids));
	for (size_t i = 0; i < a.count; i++) {
		const struct imap_append_msg *m = &a.msgs[i];
		msgs[i].data = m->data;
		msgs[i].len = m->len;
		msgs[i].fd = -1;
		if (m->streamed &&
		    cmd_append_stream_take(s, &next_file, &msgs[i].fd) < 0) {
			net_conn_printf(&s->net, "%s NO [UNAVAILABLE] Cannot "
					"store the message: %s\r\n", cmd->tag,
					strerror(errno));
			goto done;
		}
		msgs[i].flags = imap_flags_to_store(m->flags.system);
		msgs[i].keywords = (const char *const *)m->flags.keywords;
		msgs[i].nkeywords = m->flags.keyword_count;
		msgs[i].internaldate = m->have_date ? (int64_t)m->date : 0;
		/* kept for FETCH INTERNALDATE (RFC 9051 2.3.3: the date-time
		 * as given); without one the store's "now" is shown in UTC */
		msgs[i].internaldate_tz = m->have_date ? m->tz_min : 0;
		keywords |= m->flags.keyword_count > 0;
	}
	size_t kw_before = keywords ? worker_keyword_count(mb.id) : 0;
	/* RFC 3502: all messages or none, in one transaction. */
	if (store_append_batch(worker.store, mb.id, msgs, a.count, 0, uids,
			       &err) < 0) {
		worker_session_store_error(s, cmd->tag, err);
	} else {
		worker_notify_appended(mb.id);
		if (keywords && worker_keyword_count(mb.id) != kw_before)
			worker_notify_keywords(mb.id);
		/* RFC 9051 6.3.12: a client that has the mailbox selected
		 * hears of the new message before the completion. */
		worker_sync_flush(s, true);
		struct buf set;
		buf_init(&set);
		imap_uid_list_format(uids, a.count, &set);
		net_conn_printf(&s->net, "%s OK [APPENDUID %u %s] APPEND completed\r\n",
				cmd->tag, mb.uidvalidity, buf_cstr(&set));
		buf_free(&set);
	}
done:
	free(uids);
	free(msgs);
out:
	cmd_append_stream_free(s);
	imap_append_args_free(&a);
	free(name);
}
