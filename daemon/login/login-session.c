/* One pre-authentication IMAP connection (RFC 9051 6.1, 6.2): CAPABILITY,
 * NOOP, LOGOUT, ID (RFC 2971), LOGIN, AUTHENTICATE PLAIN with SASL-IR
 * (RFC 4959). Credentials go to the master, which asks the auth process;
 * this process never learns whether a password was right other than by
 * the verdict, and wipes it as soon as it is sent. */
#include "login.h"

#include "../../common/base64.h"
#include "../../common/config.h"
#include "../../common/imap-capability.h"
#include "../../common/ipc-messages.h"
#include "../../common/log.h"
#include "../../common/sasl-plain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* Pre-auth clients are anonymous: keep what they can make us hold small. */
#define LOGIN_MAX_LITERAL 8192
#define LOGIN_CLOSE_TIMEOUT_MS 5000

static void login_conn_process(struct login_conn *c);
static void login_conn_update_io(struct login_conn *c);

void login_conn_free(struct login_conn *c)
{
	event_timer_cancel(login.loop, c->timer);
	if (c->proxy != NULL)
		login_proxy_free(c);
	if (c->net.fd >= 0)
		event_del_fd(login.loop, c->net.fd);
	tls_session_free(c->tls_session);
	net_conn_close(&c->net);
	if (c->parser != NULL) {
		imap_parser_wipe(c->parser);
		imap_parser_free(c->parser);
	}
	free(c->auth_tag);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		login.conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	login.conn_count--;
	free(c);
	if (login.shutting_down && login.conn_count == 0)
		exit(0);
}

/* The master drops its state for a session we give up before hand-off. */
static void login_conn_destroy(struct login_conn *c)
{
	if (c->state == LOGIN_CONN_AUTH_WAIT ||
	    c->state == LOGIN_CONN_HANDOFF) {
		struct buf f;
		buf_init(&f);
		ipc_frame_begin(&f, IPC_MSG_SESSION_GONE, c->id);
		ipc_frame_end(&f, false);
		login_send_master(&f, -1);
		buf_free(&f);
	}
	login_conn_free(c);
}

static void login_conn_timeout(void *ctx)
{
	struct login_conn *c = ctx;
	c->timer = NULL;
	if (c->state == LOGIN_CONN_CLOSING) {
		login_conn_destroy(c);
		return;
	}
	if (c->state == LOGIN_CONN_HANDSHAKE) {
		/* No TLS yet, so no way to say BYE. */
		log_msg(LOG_LEVEL_INFO, c->id, "TLS handshake timeout from %s",
			c->remote);
		login_conn_destroy(c);
		return;
	}
	log_msg(LOG_LEVEL_INFO, c->id, "idle timeout before login from %s",
		c->remote);
	net_conn_write_str(&c->net, "* BYE Idle timeout, closing\r\n");
	c->state = LOGIN_CONN_CLOSING;
	login_conn_update_io(c);
}

static void login_conn_arm_timer(struct login_conn *c, uint64_t ms)
{
	event_timer_cancel(login.loop, c->timer);
	c->timer = event_timer_add(login.loop, ms, login_conn_timeout, c);
}

static void login_conn_close_with(struct login_conn *c, const char *line)
{
	net_conn_write_str(&c->net, line);
	c->state = LOGIN_CONN_CLOSING;
	login_conn_arm_timer(c, LOGIN_CLOSE_TIMEOUT_MS);
	login_conn_update_io(c);
}

static void login_conn_handoff(struct login_conn *c)
{
	/* Plaintext: the client socket itself goes to the worker. TLS: the
	 * session stays here and the worker gets one end of a socketpair
	 * (ARCHITECTURE; kTLS is not available on the build machines). */
	int sv[2] = { -1, -1 };
	char tls_info[IPC_MAX_TLS_INFO] = "";
	if (c->tls_session != NULL) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
			       SOCK_CLOEXEC, 0, sv) < 0) {
			log_error("socketpair: %s", strerror(errno));
			struct buf g;
			buf_init(&g);
			ipc_frame_begin(&g, IPC_MSG_SESSION_GONE, c->id);
			ipc_frame_end(&g, false);
			login_send_master(&g, -1);
			buf_free(&g);
			c->state = LOGIN_CONN_COMMANDS;	/* GONE is sent */
			login_conn_close_with(c, "* BYE [UNAVAILABLE] Server error, try later\r\n");
			return;
		}
		tls_session_describe(c->tls_session, tls_info, sizeof(tls_info));
	}
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_SESSION_HANDOFF, c->id);
	ipc_put_str(&f, c->auth_tag);
	ipc_put_u8(&f, c->tls ? 1 : 0);
	ipc_put_u32(&f, 0);
	ipc_put_str(&f, c->remote);
	ipc_put_str(&f, c->local);
	ipc_put_bytes(&f, c->net.in.data, c->net.in.len);
	ipc_put_str(&f, tls_info);
	ipc_frame_end(&f, true);
	if (c->tls_session != NULL) {
		/* The worker's end belongs to the IPC queue now. */
		login_send_master(&f, sv[1]);
		buf_wipe(&f);
		log_msg(LOG_LEVEL_INFO, c->id, "handed off to the worker "
			"through the TLS proxy (%s)", tls_info);
		login_proxy_start(c, sv[0]);
		return;
	}
	event_del_fd(login.loop, c->net.fd);
	/* The fd now belongs to the IPC queue, which closes our copy. */
	login_send_master(&f, c->net.fd);
	buf_wipe(&f);
	log_msg(LOG_LEVEL_DEBUG, c->id, "handed off to the worker");
	c->net.fd = -1;
	login_conn_free(c);
}

/* Client I/O, through TLS once it is on. */
static void login_conn_read(struct login_conn *c, size_t max_in)
{
	if (c->tls_session == NULL) {
		net_conn_read(&c->net, max_in);
		return;
	}
	const char *error = NULL;
	tls_conn_read(c->tls_session, &c->net, max_in, &error);
	if (c->net.failed)
		log_msg(LOG_LEVEL_INFO, c->id, "TLS error from %s: %s",
			c->remote, error != NULL ? error : "unknown");
}

static bool login_conn_flush(struct login_conn *c)
{
	if (c->tls_session == NULL || c->state == LOGIN_CONN_STARTTLS)
		return net_conn_flush(&c->net);
	return tls_conn_flush(c->tls_session, &c->net, NULL);
}

static void login_conn_handshake(struct login_conn *c);

/* RFC 9051 6.2.1: the OK is out; TLS starts now. Whatever the client
 * sent after the STARTTLS line was sent before TLS and is thrown away,
 * so a man in the middle cannot inject commands that would run inside
 * the TLS session (CVE-2011-0411). Reading stopped at that line, so the
 * bytes are all in our buffer or still in the socket, where they reach
 * GnuTLS as a malformed handshake. */
static void login_conn_start_tls(struct login_conn *c)
{
	if (c->net.in.len > 0) {
		log_msg(LOG_LEVEL_INFO, c->id, "discarded %zu bytes pipelined "
			"after STARTTLS by %s", c->net.in.len, c->remote);
		explicit_bzero(c->net.in.data, c->net.in.len);
		buf_clear(&c->net.in);
	}
	imap_parser_wipe(c->parser);
	c->tls_session = tls_session_new(login.tls_creds, c->net.fd);
	c->state = LOGIN_CONN_HANDSHAKE;
	login_conn_arm_timer(c, login.settings.idle_timeout_s * 1000ull);
	login_conn_handshake(c);
}

/* Reading stops while the master decides and during hand-off, so what
 * the client pipelined stays in the socket or our buffer and reaches the
 * worker in order. Writing is asked for only while output is queued. */
static void login_conn_update_io(struct login_conn *c)
{
	if (c->state == LOGIN_CONN_PROXY || c->state == LOGIN_CONN_HANDSHAKE)
		return;		/* they manage their own events */
	bool flushed = login_conn_flush(c);
	if (c->net.failed) {
		login_conn_destroy(c);
		return;
	}
	if (flushed && c->state == LOGIN_CONN_CLOSING) {
		if (c->tls_session != NULL)
			tls_session_bye(c->tls_session);
		shutdown(c->net.fd, SHUT_WR);
		login_conn_destroy(c);
		return;
	}
	if (flushed && c->state == LOGIN_CONN_HANDOFF) {
		login_conn_handoff(c);
		return;
	}
	if (flushed && c->state == LOGIN_CONN_STARTTLS) {
		login_conn_start_tls(c);
		return;
	}
	bool reading = c->state == LOGIN_CONN_COMMANDS ||
		       c->state == LOGIN_CONN_SASL_LINE;
	uint32_t ev = (reading ? EPOLLIN : 0) | (flushed ? 0 : EPOLLOUT);
	event_mod_fd(login.loop, c->net.fd, ev);
}

/* plaintext_auth: LOGIN and AUTHENTICATE send a password, so without TLS
 * they are refused except where the operator allows it (RFC 9051 6.2.3,
 * 7.1: LOGINDISABLED, PRIVACYREQUIRED). */
static bool login_conn_auth_allowed(const struct login_conn *c)
{
	if (c->tls)
		return true;
	switch (login.settings.plaintext_auth) {
	case CONFIG_PLAINTEXT_AUTH_YES:
		return true;
	case CONFIG_PLAINTEXT_AUTH_LOOPBACK:
		return c->loopback;
	default:
		return false;
	}
}

/* STARTTLS only before TLS (RFC 9051 6.2.1); AUTH= only where a password
 * may be sent, LOGINDISABLED elsewhere. */
static const char *login_conn_capability(const struct login_conn *c)
{
	static char caps[160];
	snprintf(caps, sizeof(caps), "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID%s%s",
		 !c->tls && login.tls_creds != NULL ? " STARTTLS" : "",
		 login_conn_auth_allowed(c) ? " AUTH=PLAIN" : " LOGINDISABLED");
	return caps;
}

static void login_conn_privacy_required(struct login_conn *c, const char *tag)
{
	net_conn_printf(&c->net, "%s NO [PRIVACYREQUIRED] Plaintext "
			"authentication is disabled: use STARTTLS or the TLS "
			"port\r\n", tag);
}

static void login_cmd_starttls(struct login_conn *c,
			       const struct imap_command *cmd)
{
	if (cmd->arg_count != 0) {
		net_conn_printf(&c->net, "%s BAD STARTTLS takes no arguments\r\n",
				cmd->tag);
		c->bad_commands++;
	} else if (c->tls_session != NULL) {
		net_conn_printf(&c->net, "%s BAD TLS is already active\r\n",
				cmd->tag);
		c->bad_commands++;
	} else if (login.tls_creds == NULL) {
		net_conn_printf(&c->net, "%s BAD STARTTLS is not available\r\n",
				cmd->tag);
		c->bad_commands++;
	} else {
		net_conn_printf(&c->net, "%s OK Begin TLS negotiation now\r\n",
				cmd->tag);
		/* Stops the command loop: nothing after this line is read
		 * in plaintext. */
		c->state = LOGIN_CONN_STARTTLS;
	}
}

static void login_send_credentials(struct login_conn *c, const char *tag,
				   const char *mech, const char *authzid,
				   size_t authzid_len, const char *user,
				   size_t user_len, const char *pass,
				   size_t pass_len)
{
	struct buf f;
	buf_init(&f);
	/* tag may be c->auth_tag itself (the SASL continuation). */
	char *tag_copy = xstrdup(tag);
	free(c->auth_tag);
	c->auth_tag = tag_copy;
	ipc_frame_begin(&f, IPC_MSG_AUTH_REQUEST, c->id);
	ipc_put_str(&f, mech);
	ipc_put_bytes(&f, authzid, authzid_len);
	ipc_put_bytes(&f, user, user_len);
	ipc_put_bytes(&f, pass, pass_len);
	ipc_put_str(&f, c->remote_ip);
	ipc_put_str(&f, c->local);
	ipc_frame_end(&f, false);
	login_send_master(&f, -1);
	buf_wipe(&f);
	c->state = LOGIN_CONN_AUTH_WAIT;
}

static bool login_credentials_sane(const char *user, size_t user_len,
				   size_t pass_len)
{
	return user_len > 0 && user_len <= IPC_MAX_USER &&
	       memchr(user, '\0', user_len) == NULL && pass_len > 0 &&
	       pass_len <= IPC_MAX_PASSWORD;
}

static void login_cmd_login(struct login_conn *c, const struct imap_command *cmd)
{
	if (cmd->arg_count != 2 || !imap_arg_is_astring(&cmd->args[0]) ||
	    !imap_arg_is_astring(&cmd->args[1])) {
		net_conn_printf(&c->net, "%s BAD LOGIN expects user and password\r\n",
				cmd->tag);
		c->bad_commands++;
		return;
	}
	const struct imap_arg *u = &cmd->args[0], *p = &cmd->args[1];
	if (!login_conn_auth_allowed(c)) {
		login_conn_privacy_required(c, cmd->tag);
		return;
	}
	if (!login_credentials_sane(u->str, u->len, p->len)) {
		net_conn_printf(&c->net,
				"%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
				cmd->tag);
		return;
	}
	login_send_credentials(c, cmd->tag, "LOGIN", "", 0, u->str, u->len,
			       p->str, p->len);
}

/* Decodes and checks a SASL PLAIN response; answers the client itself on
 * every failure. */
static void login_sasl_plain(struct login_conn *c, const char *tag,
			     const char *b64, size_t b64_len)
{
	struct buf raw;
	buf_init(&raw);
	/* RFC 4959: "=" is an empty initial response. */
	bool empty = b64_len == 1 && b64[0] == '=';
	if (!empty && base64_decode(b64, b64_len, &raw) < 0) {
		net_conn_printf(&c->net, "%s BAD Invalid base64 in SASL response\r\n",
				tag);
		c->bad_commands++;
		buf_wipe(&raw);
		return;
	}
	struct sasl_plain pl;
	if (raw.len == 0 ||
	    sasl_plain_parse((const char *)raw.data, raw.len, &pl) < 0 ||
	    !login_credentials_sane(pl.authcid, pl.authcid_len, pl.passwd_len)) {
		net_conn_printf(&c->net,
				"%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
				tag);
		buf_wipe(&raw);
		return;
	}
	login_send_credentials(c, tag, "PLAIN", pl.authzid, pl.authzid_len,
			       pl.authcid, pl.authcid_len, pl.passwd,
			       pl.passwd_len);
	buf_wipe(&raw);
}

static void login_cmd_authenticate(struct login_conn *c,
				   const struct imap_command *cmd)
{
	if (cmd->arg_count < 1 || cmd->arg_count > 2 ||
	    cmd->args[0].type != IMAP_ARG_ATOM ||
	    (cmd->arg_count == 2 && cmd->args[1].type != IMAP_ARG_ATOM)) {
		net_conn_printf(&c->net,
				"%s BAD AUTHENTICATE expects a mechanism\r\n",
				cmd->tag);
		c->bad_commands++;
		return;
	}
	if (!login_conn_auth_allowed(c)) {
		login_conn_privacy_required(c, cmd->tag);
		return;
	}
	if (strcasecmp(cmd->args[0].str, "PLAIN") != 0) {
		net_conn_printf(&c->net,
				"%s NO Unsupported authentication mechanism\r\n",
				cmd->tag);
		return;
	}
	if (cmd->arg_count == 2) {
		login_sasl_plain(c, cmd->tag, cmd->args[1].str,
				 cmd->args[1].len);
		return;
	}
	free(c->auth_tag);
	c->auth_tag = xstrdup(cmd->tag);
	net_conn_write_str(&c->net, "+ \r\n");
	imap_parser_want_line(c->parser);
	c->state = LOGIN_CONN_SASL_LINE;
}

static void login_sasl_line(struct login_conn *c)
{
	size_t len;
	const char *line = imap_parser_line(c->parser, &len);
	c->state = LOGIN_CONN_COMMANDS;
	/* RFC 9051 6.2.2: "*" cancels, answered with BAD. */
	if (len == 1 && line[0] == '*') {
		net_conn_printf(&c->net, "%s BAD Authentication cancelled\r\n",
				c->auth_tag);
		return;
	}
	login_sasl_plain(c, c->auth_tag, line, len);
}

static void login_cmd_id(struct login_conn *c, const struct imap_command *cmd)
{
	/* Client chatter: checked for shape, not logged. */
	if (!imap_id_args_valid(cmd)) {
		net_conn_printf(&c->net, "%s BAD ID expects NIL or a list of pairs\r\n",
				cmd->tag);
		c->bad_commands++;
		return;
	}
	net_conn_printf(&c->net, IMAP_ID_RESPONSE "%s OK ID completed\r\n",
			cmd->tag);
}

static void login_conn_command(struct login_conn *c, const struct imap_command *cmd)
{
	const char *name = cmd->name;
	unsigned bad_before = c->bad_commands;
	if (strcasecmp(name, "CAPABILITY") == 0 && cmd->arg_count == 0) {
		net_conn_printf(&c->net, "* CAPABILITY %s\r\n%s OK CAPABILITY completed\r\n",
				login_conn_capability(c), cmd->tag);
	} else if (strcasecmp(name, "NOOP") == 0 && cmd->arg_count == 0) {
		net_conn_printf(&c->net, "%s OK NOOP completed\r\n", cmd->tag);
	} else if (strcasecmp(name, "LOGOUT") == 0 && cmd->arg_count == 0) {
		net_conn_printf(&c->net, "* BYE Logging out\r\n%s OK LOGOUT completed\r\n",
				cmd->tag);
		c->state = LOGIN_CONN_CLOSING;
		login_conn_arm_timer(c, LOGIN_CLOSE_TIMEOUT_MS);
	} else if (strcasecmp(name, "ID") == 0) {
		login_cmd_id(c, cmd);
	} else if (strcasecmp(name, "STARTTLS") == 0) {
		login_cmd_starttls(c, cmd);
	} else if (strcasecmp(name, "LOGIN") == 0) {
		login_cmd_login(c, cmd);
	} else if (strcasecmp(name, "AUTHENTICATE") == 0) {
		login_cmd_authenticate(c, cmd);
	} else if (imap_command_is_known(name)) {
		if (strcasecmp(name, "CAPABILITY") == 0 ||
		    strcasecmp(name, "NOOP") == 0 ||
		    strcasecmp(name, "LOGOUT") == 0)
			net_conn_printf(&c->net, "%s BAD %s takes no arguments\r\n",
					cmd->tag, name);
		else
			net_conn_printf(&c->net,
					"%s BAD Command not valid before login\r\n",
					cmd->tag);
		c->bad_commands++;
	} else {
		net_conn_printf(&c->net, "%s BAD Unknown command\r\n", cmd->tag);
		c->bad_commands++;
	}
	/* The limit is on bad commands in a row. */
	if (c->bad_commands == bad_before)
		c->bad_commands = 0;
}

static void login_conn_parse_error(struct login_conn *c, bool fatal_error)
{
	const char *tag = imap_parser_error_tag(c->parser);
	const char *code = imap_parser_error_code(c->parser);
	const char *err = imap_parser_error(c->parser);
	if (fatal_error) {
		net_conn_printf(&c->net, "* BYE %s\r\n", err);
		c->state = LOGIN_CONN_CLOSING;
		login_conn_arm_timer(c, LOGIN_CLOSE_TIMEOUT_MS);
		return;
	}
	if (c->state == LOGIN_CONN_SASL_LINE) {
		c->state = LOGIN_CONN_COMMANDS;
		tag = c->auth_tag;
	}
	if (code != NULL)
		net_conn_printf(&c->net, "%s BAD [%s] %s\r\n", tag ? tag : "*",
				code, err);
	else
		net_conn_printf(&c->net, "%s BAD %s\r\n", tag ? tag : "*", err);
	c->bad_commands++;
}

static void login_conn_process(struct login_conn *c)
{
	while ((c->state == LOGIN_CONN_COMMANDS ||
		c->state == LOGIN_CONN_SASL_LINE) && c->net.in.len > 0) {
		size_t used = 0;
		enum imap_parse_status st = imap_parser_feed(
			c->parser, c->net.in.data, c->net.in.len, &used);
		/* Bytes the parser took are its own now; wipe our copy, a
		 * password may be among them. */
		explicit_bzero(c->net.in.data, used);
		buf_consume(&c->net.in, used);
		switch (st) {
		case IMAP_PARSE_NEED_MORE:
			break;
		case IMAP_PARSE_CONTINUE:
			net_conn_write_str(&c->net, "+ OK\r\n");
			break;
		case IMAP_PARSE_COMMAND:
			login_conn_command(c, imap_parser_command(c->parser));
			break;
		case IMAP_PARSE_LINE:
			login_sasl_line(c);
			break;
		case IMAP_PARSE_ERROR:
			login_conn_parse_error(c, false);
			break;
		case IMAP_PARSE_FATAL:
			login_conn_parse_error(c, true);
			break;
		case IMAP_PARSE_LITERAL_START:
		case IMAP_PARSE_LITERAL_DATA:
			/* stream_literal is 0 here: literals are buffered */
			fatal("login: a literal was streamed");
		}
		if (c->bad_commands >= login.settings.max_bad_commands &&
		    c->state != LOGIN_CONN_CLOSING) {
			log_msg(LOG_LEVEL_INFO, c->id,
				"too many bad commands from %s", c->remote);
			/* Not login_conn_close_with: it may free c, and our
			 * callers still use it (they update the I/O). */
			net_conn_write_str(&c->net, "* BYE Too many invalid commands\r\n");
			c->state = LOGIN_CONN_CLOSING;
			login_conn_arm_timer(c, LOGIN_CLOSE_TIMEOUT_MS);
			return;
		}
		if (st == IMAP_PARSE_NEED_MORE)
			break;
	}
	imap_parser_wipe(c->parser);
}

/* Reads and runs commands. GnuTLS may hold decrypted bytes epoll cannot
 * see, so with TLS this reads again while it has some and we have room. */
static void login_conn_input(struct login_conn *c)
{
	size_t max_in = login.settings.max_line + 4096;
	for (;;) {
		login_conn_read(c, max_in);
		if (c->net.failed || (c->net.eof && c->net.in.len == 0)) {
			login_conn_destroy(c);
			return;
		}
		login_conn_arm_timer(c, login.settings.idle_timeout_s * 1000ull);
		login_conn_process(c);
		if (c->net.eof && c->state != LOGIN_CONN_AUTH_WAIT &&
		    c->state != LOGIN_CONN_HANDOFF) {
			login_conn_destroy(c);
			return;
		}
		if (c->tls_session == NULL ||
		    tls_session_pending(c->tls_session) == 0 ||
		    c->net.in.len >= max_in ||
		    (c->state != LOGIN_CONN_COMMANDS &&
		     c->state != LOGIN_CONN_SASL_LINE))
			break;
	}
	login_conn_update_io(c);
}

static void login_conn_io(void *ctx, uint32_t events)
{
	struct login_conn *c = ctx;
	if (c->state == LOGIN_CONN_PROXY) {
		login_proxy_client_io(c, events);
		return;
	}
	if (c->state == LOGIN_CONN_HANDSHAKE) {
		login_conn_handshake(c);
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
	    (c->state == LOGIN_CONN_COMMANDS ||
	     c->state == LOGIN_CONN_SASL_LINE)) {
		login_conn_input(c);
		return;
	}
	login_conn_update_io(c);
}

static void login_conn_greet(struct login_conn *c)
{
	net_conn_printf(&c->net, "* OK [CAPABILITY %s] Postern ready.\r\n",
			login_conn_capability(c));
}

static void login_conn_handshake(struct login_conn *c)
{
	const char *error = NULL;
	int r = tls_session_handshake(c->tls_session, &error);
	if (r == TLS_IO_AGAIN) {
		event_mod_fd(login.loop, c->net.fd,
			     tls_session_wants_write(c->tls_session) ?
			     EPOLLOUT : EPOLLIN);
		return;
	}
	if (r != 1) {
		/* A plaintext client on the TLS port, an old protocol
		 * version, an alert: one line, and only this connection
		 * ends. */
		log_msg(LOG_LEVEL_INFO, c->id, "TLS handshake with %s failed: %s",
			c->remote, error != NULL ? error : "connection closed");
		login_conn_destroy(c);
		return;
	}
	c->tls = true;
	char info[IPC_MAX_TLS_INFO];
	tls_session_describe(c->tls_session, info, sizeof(info));
	log_msg(LOG_LEVEL_DEBUG, c->id, "TLS established with %s: %s",
		c->remote, info);
	c->state = LOGIN_CONN_COMMANDS;
	login_conn_arm_timer(c, login.settings.idle_timeout_s * 1000ull);
	/* Implicit TLS greets now; after STARTTLS there is no new greeting
	 * (RFC 9051 6.2.1), the client asks CAPABILITY again. */
	if (c->implicit_tls)
		login_conn_greet(c);
	/* The client may have sent its first command with its Finished. */
	login_conn_input(c);
}

void login_conn_accepted(int fd, bool tls)
{
	struct login_conn *c = xcalloc(1, sizeof(*c));
	net_conn_init(&c->net, fd);
	c->id = login.next_id++;
	if (login.next_id == 0)
		login.next_id = 1;
	c->implicit_tls = tls;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		net_addr_format(&ss, c->remote_ip, sizeof(c->remote_ip),
				c->remote, sizeof(c->remote));
		c->loopback = net_addr_is_loopback(&ss);
	}
	sl = sizeof(ss);
	char local_ip[64];
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		net_addr_format(&ss, local_ip, sizeof(local_ip), c->local,
				sizeof(c->local));
	struct imap_parser_limits lim;
	imap_parser_limits_default(&lim);
	lim.max_line = login.settings.max_line;
	lim.max_literal = LOGIN_MAX_LITERAL;
	lim.max_command = login.settings.max_line + 2 * LOGIN_MAX_LITERAL;
	c->parser = imap_parser_new(&lim);
	c->next = login.conns;
	if (login.conns != NULL)
		login.conns->prev = c;
	login.conns = c;
	login.conn_count++;
	event_add_fd(login.loop, fd, EPOLLIN, login_conn_io, c);
	if (login.conn_count > login.settings.max_connections ||
	    login.shutting_down) {
		log_warn("connection limit (%u) reached, refusing %s",
			 login.settings.max_connections, c->remote);
		/* Over TLS, BYE would cost a handshake: just close. */
		if (tls)
			login_conn_destroy(c);
		else
			login_conn_close_with(c, "* BYE [UNAVAILABLE] Too many connections, try later\r\n");
		return;
	}
	log_msg(LOG_LEVEL_DEBUG, c->id, "connection from %s to %s%s",
		c->remote, c->local, tls ? " (TLS)" : "");
	login_conn_arm_timer(c, login.settings.idle_timeout_s * 1000ull);
	if (tls) {
		c->tls_session = tls_session_new(login.tls_creds, fd);
		c->state = LOGIN_CONN_HANDSHAKE;
		login_conn_handshake(c);
		return;
	}
	login_conn_greet(c);
	login_conn_update_io(c);
}

static struct login_conn *login_conn_find(uint32_t id)
{
	for (struct login_conn *c = login.conns; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

void login_conn_auth_reply(uint32_t id, uint8_t result)
{
	struct login_conn *c = login_conn_find(id);
	if (c == NULL || c->state != LOGIN_CONN_AUTH_WAIT)
		return;		/* closed meanwhile; we told the master */
	switch (result) {
	case IPC_AUTH_OK:
		event_timer_cancel(login.loop, c->timer);
		c->timer = NULL;
		c->state = LOGIN_CONN_HANDOFF;
		break;
	case IPC_AUTH_REFUSED:
		net_conn_printf(&c->net,
				"%s NO [EXPIRED] Account expired or locked.\r\n",
				c->auth_tag);
		c->state = LOGIN_CONN_COMMANDS;
		break;
	case IPC_AUTH_TEMPFAIL:
		net_conn_printf(&c->net,
				"%s NO [UNAVAILABLE] Authentication is temporarily unavailable.\r\n",
				c->auth_tag);
		c->state = LOGIN_CONN_COMMANDS;
		break;
	default:
		net_conn_printf(&c->net,
				"%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
				c->auth_tag);
		c->state = LOGIN_CONN_COMMANDS;
		break;
	}
	if (c->state == LOGIN_CONN_COMMANDS) {
		login_conn_arm_timer(c, login.settings.idle_timeout_s * 1000ull);
		/* Commands pipelined behind the failed one. */
		login_conn_process(c);
		if (c->state == LOGIN_CONN_CLOSING || c->net.eof) {
			if (c->net.eof && c->state != LOGIN_CONN_CLOSING) {
				login_conn_destroy(c);
				return;
			}
		}
		/* Records GnuTLS decrypted while we were not reading. */
		if (c->state == LOGIN_CONN_COMMANDS && c->tls_session != NULL &&
		    tls_session_pending(c->tls_session) > 0) {
			login_conn_input(c);
			return;
		}
	}
	login_conn_update_io(c);
}

void login_conn_shutdown_all(const char *reason)
{
	struct login_conn *c = login.conns;
	while (c != NULL) {
		struct login_conn *next = c->next;
		if (c->state == LOGIN_CONN_PROXY) {
			/* The worker says BYE; we relay it and close. */
		} else if (c->state == LOGIN_CONN_HANDSHAKE ||
			   c->state == LOGIN_CONN_STARTTLS) {
			login_conn_destroy(c);
		} else if (c->state != LOGIN_CONN_CLOSING) {
			char line[256];
			snprintf(line, sizeof(line), "* BYE %s\r\n", reason);
			login_conn_close_with(c, line);
		}
		c = next;
	}
}
