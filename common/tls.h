/* TLS with GnuTLS: checking a certificate configuration (the master),
 * credentials shared by many sessions, and non-blocking server sessions
 * (the login process).
 *
 * Credentials are reference-counted: a reload gives new connections new
 * credentials while the sessions that use the old ones keep them alive
 * until they end. Everything that needs files or global set-up
 * (tls_global_init, tls_creds_new) runs before the login process's
 * sandbox (ARCHITECTURE, "Pitfalls"). */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "net-conn.h"

/* Upper bound of a certificate chain or key file. */
#define TLS_MAX_PEM (100u * 1024u)

/* gnutls_global_init; fatal on failure. */
void tls_global_init(void);

/* Checks that cert (a PEM chain) and key (a PEM private key) parse and
 * belong together, and that priority is a valid GnuTLS priority string.
 * -1 with a message naming cert_name or key_name (the file paths) in
 * error_r (caller frees). */
int tls_check(const void *cert, size_t cert_len, const char *cert_name,
	      const void *key, size_t key_len, const char *key_name,
	      const char *priority, char **error_r);

struct tls_creds;

/* NULL with error_r (caller frees) on failure. Returns one reference. */
struct tls_creds *tls_creds_new(const void *cert, size_t cert_len,
				const void *key, size_t key_len,
				const char *priority, char **error_r);
struct tls_creds *tls_creds_ref(struct tls_creds *c);
void tls_creds_unref(struct tls_creds *c);	/* NULL-safe */

/* Results of the session I/O calls below. */
#define TLS_IO_EOF 0		/* close_notify, or the TCP peer closed */
#define TLS_IO_ERROR (-1)	/* alert, bad record, socket error */
#define TLS_IO_AGAIN (-2)	/* would block; see tls_session_wants_write */

struct tls_session;

/* A server session on the non-blocking socket fd (not taken over: the
 * caller closes fd after tls_session_free). Holds a reference to creds. */
struct tls_session *tls_session_new(struct tls_creds *creds, int fd);
void tls_session_free(struct tls_session *s);	/* NULL-safe */

/* 1: done, TLS_IO_AGAIN, or TLS_IO_ERROR / TLS_IO_EOF with a reason in
 * error_r (static). */
int tls_session_handshake(struct tls_session *s, const char **error_r);
/* After TLS_IO_AGAIN: whether GnuTLS waits to write (else to read). */
bool tls_session_wants_write(const struct tls_session *s);
/* Decrypted bytes GnuTLS holds that a read would return at once: epoll
 * cannot see them. */
size_t tls_session_pending(const struct tls_session *s);

/* > 0 bytes, or TLS_IO_*. */
ssize_t tls_session_recv(struct tls_session *s, void *data, size_t size,
			 const char **error_r);
/* > 0 bytes taken (at most one record), or TLS_IO_*. After
 * TLS_IO_AGAIN the caller must call again with the same bytes at the
 * same address (GnuTLS keeps the half-sent record). */
ssize_t tls_session_send(struct tls_session *s, const void *data,
			 size_t size, const char **error_r);
/* Best effort close_notify; never blocks. */
void tls_session_bye(struct tls_session *s);
/* "TLS1.3/AES-256-GCM" */
void tls_session_describe(const struct tls_session *s, char *out,
			  size_t size);

/* net_conn_read / net_conn_flush through a session: read decrypted bytes
 * into c->in (up to max_in buffered) and send c->out. Set c->eof and
 * c->failed the same way; error_r (static, may be NULL) says why. */
size_t tls_conn_read(struct tls_session *s, struct net_conn *c,
		     size_t max_in, const char **error_r);
bool tls_conn_flush(struct tls_session *s, struct net_conn *c,
		    const char **error_r);

#endif
