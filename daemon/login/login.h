/* The login process: accepts connections on the shared listeners and
 * speaks pre-authentication IMAP until the master says a user may in. */
#ifndef POSTERN_LOGIN_H
#define POSTERN_LOGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "../../common/event.h"
#include "../../common/imap-parser.h"
#include "../../common/ipc.h"
#include "../../common/net-conn.h"

struct login_settings {
	uint32_t max_line;
	uint32_t idle_timeout_s;
	uint32_t max_bad_commands;
	uint32_t max_connections;
};

enum login_conn_state {
	LOGIN_CONN_COMMANDS,	/* reading commands */
	LOGIN_CONN_SASL_LINE,	/* waiting for the AUTHENTICATE response line */
	LOGIN_CONN_AUTH_WAIT,	/* credentials with the master; not reading */
	LOGIN_CONN_HANDOFF,	/* approved; flushing output, then hand off */
	LOGIN_CONN_CLOSING,	/* flushing a BYE, then close */
};

struct login_conn {
	struct login_conn *prev, *next;
	uint32_t id;
	struct net_conn net;
	struct imap_parser *parser;
	enum login_conn_state state;
	char *auth_tag;		/* of the LOGIN / AUTHENTICATE command */
	unsigned bad_commands;
	struct event_timer *timer;
	bool tls;
	bool writing;		/* EPOLLOUT registered */
	char remote_ip[64];
	char remote[80];
	char local[80];
};

struct login_process {
	struct event_loop *loop;
	struct ipc_channel master;
	struct login_settings settings;
	struct login_conn *conns;
	unsigned conn_count;
	uint32_t next_id;
	bool started;
	bool shutting_down;
};

extern struct login_process login;

/* login-session.c */
void login_conn_accepted(int fd, bool tls);
void login_conn_auth_reply(uint32_t id, uint8_t result);
void login_conn_shutdown_all(const char *reason);

/* login-main.c */
void login_send_master(struct buf *frame, int fd);
int login_main(void);

#endif
