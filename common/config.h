/* postern.conf: "key = value" lines, '#' comments, blank lines. An unknown
 * key, a bad value or a missing required value refuses to start with
 * "file:line: message". The parser is pure (text in, struct out); reading
 * the file is config_load's only I/O. */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define POSTERN_DEFAULT_CONFIG SYSCONFDIR "/postern/postern.conf"
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define CONFIG_MAX_LISTEN 16

/* Where LOGIN and AUTHENTICATE are allowed without TLS. */
enum config_plaintext_auth {
	CONFIG_PLAINTEXT_AUTH_NO = 0,
	CONFIG_PLAINTEXT_AUTH_LOOPBACK = 1,	/* only from 127/8, ::1 */
	CONFIG_PLAINTEXT_AUTH_YES = 2,
};

/* Forward-secret key exchange and AEAD ciphers, TLS 1.2 and 1.3 only. */
#define CONFIG_DEFAULT_TLS_PRIORITY \
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:" \
	"+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:+AES-256-CCM:" \
	"+AES-128-CCM:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-MAC-ALL:+AEAD:" \
	"%SERVER_PRECEDENCE"

struct config_listen {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char text[80];		/* as written, for logs */
};

struct postern_config {
	struct config_listen listen[CONFIG_MAX_LISTEN];
	size_t listen_count;
	char *mail_root;
	char *run_dir;
	char *pam_service;
	char *login_user;
	unsigned login_processes;
	unsigned worker_linger;		/* seconds */
	int log_level;			/* enum log_level */
	unsigned max_line_length;	/* bytes */
	unsigned login_timeout;		/* seconds, pre-auth idle */
	unsigned max_bad_commands;
	unsigned max_connections_per_login;
	unsigned auth_penalty_base_ms;
	unsigned auth_penalty_max_ms;
	unsigned imap_idle_timeout;	/* seconds, authenticated idle */
	unsigned first_valid_uid;	/* lower uids (root, system) refused */
	/* TLS (issue 5). An empty "listen =" clears the plaintext
	 * listeners, for a server that speaks only implicit TLS. */
	struct config_listen listen_tls[CONFIG_MAX_LISTEN];
	size_t listen_tls_count;
	char *tls_cert;			/* PEM, a chain allowed; NULL: none */
	char *tls_key;
	char *tls_priority;		/* GnuTLS priority string */
	int plaintext_auth;		/* enum config_plaintext_auth */
};

void config_init_defaults(struct postern_config *cfg);
void config_free(struct postern_config *cfg);
/* Parses text of len bytes. name is used in messages. 0 on success, -1
 * with "name:line: message" in error_r (caller frees). */
int config_parse(struct postern_config *cfg, const char *name,
		 const char *text, size_t len, char **error_r);
/* Reads and parses a file. */
int config_load(struct postern_config *cfg, const char *path, char **error_r);
/* Parses "host:port", "[v6]:port" or "*:port". */
int config_parse_listen(const char *value, struct config_listen *out,
			const char **error_r);

#endif
