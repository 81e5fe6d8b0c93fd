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
#include "../../common/tls-pipe.h"
#include "../../common/tls.h"

struct login_settings {
	uint32_t max_line;
	uint32_t idle_timeout_s;
	uint32_t max_bad_commands;
	uint32_t max_connections;
	uint8_t plaintext_auth;	/* enum config_plaintext_auth */
};

enum login_conn_state {
	LOGIN_CONN_COMMANDS,	/* reading commands */
	LOGIN_CONN_SASL_LINE,	/* waiting for the AUTHENTICATE response line */
	LOGIN_CONN_AUTH_WAIT,	/* credentials with the master; not reading */
	LOGIN_CONN_HANDOFF,	/* approved; flushing output, then hand off */
	LOGIN_CONN_CLOSING,	/* flushing a BYE, then close */
	LOGIN_CONN_STARTTLS,	/* flushing the OK of STARTTLS; not reading */
	LOGIN_CONN_HANDSHAKE,	/* TLS handshake (implicit or STARTTLS) */
	LOGIN_CONN_PROXY,	/* logged in over TLS: relaying to the worker */
};

/* A TLS session after login: plaintext to and from the user's worker
 * over a socketpair (login-proxy.c). */
struct login_proxy {
	int worker_fd;
	struct tls_pipe up;	/* client -> worker */
	struct tls_pipe down;	/* worker -> client */
	bool client_eof;
	bool worker_eof;
	bool recv_wants_write;	/* TLS recv blocked on writing */
	bool send_blocked;	/* TLS send blocked: record half sent */
	bool closing;		/* close_notify sent; waiting for the FIN */
	struct event_timer *kick;	/* run again soon (fairness) */
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
	bool tls;		/* TLS established (handshake done) */
	bool implicit_tls;	/* accepted on a TLS listener */
	bool loopback;		/* client on 127/8 or ::1 */
	struct tls_session *tls_session;	/* NULL: plaintext */
	struct login_proxy *proxy;	/* LOGIN_CONN_PROXY */
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
	struct tls_creds *tls_creds;	/* NULL: no TLS configured */
	bool started;
	bool shutting_down;
};

extern struct login_process login;

/* login-session.c */
void login_conn_accepted(int fd, bool tls);
void login_conn_auth_reply(uint32_t id, uint8_t result);
void login_conn_shutdown_all(const char *reason);

void login_conn_free(struct login_conn *c);

/* login-proxy.c */
void login_proxy_start(struct login_conn *c, int worker_fd);
void login_proxy_client_io(struct login_conn *c, uint32_t events);
void login_proxy_free(struct login_conn *c);

/* login-main.c */
void login_send_master(struct buf *frame, int fd);
int login_main(void);

#endif
