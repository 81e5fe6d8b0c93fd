#include "tls.h"
#include "buf.h"
#include "log.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tls_creds {
	unsigned refs;
	gnutls_certificate_credentials_t cert;
	gnutls_priority_t priority;
};

struct tls_session {
	gnutls_session_t gs;
	struct tls_creds *creds;
	size_t send_inflight;	/* size of a send that returned AGAIN */
};

void tls_global_init(void)
{
	int ret = gnutls_global_init();
	if (ret < 0)
		fatal("gnutls_global_init: %s", gnutls_strerror(ret));
}

static char *tls_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *tls_error(const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	return xstrdup(tmp);
}

static int tls_check_priority(const char *priority, char **error_r)
{
	gnutls_priority_t p;
	const char *err_pos = NULL;
	int ret = gnutls_priority_init(&p, priority, &err_pos);
	if (ret < 0) {
		*error_r = tls_error("tls_priority: invalid near \"%s\": %s",
				     err_pos != NULL ? err_pos : priority,
				     gnutls_strerror(ret));
		return -1;
	}
	gnutls_priority_deinit(p);
	return 0;
}

int tls_check(const void *cert, size_t cert_len, const char *cert_name,
	      const void *key, size_t key_len, const char *key_name,
	      const char *priority, char **error_r)
{
	gnutls_datum_t cd = { (unsigned char *)cert, (unsigned)cert_len };
	gnutls_datum_t kd = { (unsigned char *)key, (unsigned)key_len };
	/* Each file on its own first, so the message names the bad one. */
	gnutls_x509_crt_t *crts = NULL;
	unsigned ncrts = 0;
	int ret = gnutls_x509_crt_list_import2(&crts, &ncrts, &cd,
					       GNUTLS_X509_FMT_PEM, 0);
	if (ret < 0 || ncrts == 0) {
		*error_r = tls_error("tls_cert %s: no PEM certificate: %s",
				     cert_name, ret < 0 ? gnutls_strerror(ret) :
				     "empty");
		return -1;
	}
	for (unsigned i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	gnutls_x509_privkey_t pk;
	if (gnutls_x509_privkey_init(&pk) < 0)
		fatal("gnutls_x509_privkey_init: out of memory");
	ret = gnutls_x509_privkey_import2(pk, &kd, GNUTLS_X509_FMT_PEM, NULL,
					  GNUTLS_PKCS_PLAIN);
	gnutls_x509_privkey_deinit(pk);
	if (ret < 0) {
		*error_r = tls_error("tls_key %s: no unencrypted PEM private "
				     "key: %s", key_name, gnutls_strerror(ret));
		return -1;
	}
	gnutls_certificate_credentials_t c;
	if (gnutls_certificate_allocate_credentials(&c) < 0)
		fatal("gnutls_certificate_allocate_credentials: out of memory");
	ret = gnutls_certificate_set_x509_key_mem2(c, &cd, &kd,
						   GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(c);
	if (ret == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		*error_r = tls_error("tls_key %s does not match the certificate "
				     "in tls_cert %s", key_name, cert_name);
		return -1;
	}
	if (ret < 0) {
		*error_r = tls_error("tls_cert %s with tls_key %s: %s",
				     cert_name, key_name, gnutls_strerror(ret));
		return -1;
	}
	return tls_check_priority(priority, error_r);
}

struct tls_creds *tls_creds_new(const void *cert, size_t cert_len,
				const void *key, size_t key_len,
				const char *priority, char **error_r)
{
	struct tls_creds *c = xcalloc(1, sizeof(*c));
	gnutls_datum_t cd = { (unsigned char *)cert, (unsigned)cert_len };
	gnutls_datum_t kd = { (unsigned char *)key, (unsigned)key_len };
	const char *err_pos = NULL;
	if (gnutls_certificate_allocate_credentials(&c->cert) < 0)
		fatal("gnutls_certificate_allocate_credentials: out of memory");
	int ret = gnutls_certificate_set_x509_key_mem2(c->cert, &cd, &kd,
						       GNUTLS_X509_FMT_PEM,
						       NULL, 0);
	if (ret < 0) {
		*error_r = tls_error("certificate and key: %s",
				     gnutls_strerror(ret));
		gnutls_certificate_free_credentials(c->cert);
		free(c);
		return NULL;
	}
	ret = gnutls_priority_init(&c->priority, priority, &err_pos);
	if (ret < 0) {
		*error_r = tls_error("tls_priority: %s", gnutls_strerror(ret));
		gnutls_certificate_free_credentials(c->cert);
		free(c);
		return NULL;
	}
	c->refs = 1;
	return c;
}

struct tls_creds *tls_creds_ref(struct tls_creds *c)
{
	c->refs++;
	return c;
}

void tls_creds_unref(struct tls_creds *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	gnutls_priority_deinit(c->priority);
	gnutls_certificate_free_credentials(c->cert);
	free(c);
}

struct tls_session *tls_session_new(struct tls_creds *creds, int fd)
{
	struct tls_session *s = xcalloc(1, sizeof(*s));
	/* NO_SIGNAL: MSG_NOSIGNAL on send, a client that resets does not
	 * raise SIGPIPE. */
	int ret = gnutls_init(&s->gs, GNUTLS_SERVER | GNUTLS_NONBLOCK |
			      GNUTLS_NO_SIGNAL);
	if (ret < 0)
		fatal("gnutls_init: %s", gnutls_strerror(ret));
	if (gnutls_priority_set(s->gs, creds->priority) < 0 ||
	    gnutls_credentials_set(s->gs, GNUTLS_CRD_CERTIFICATE,
				   creds->cert) < 0)
		fatal("gnutls session set-up failed");
	gnutls_certificate_server_set_request(s->gs, GNUTLS_CERT_IGNORE);
	/* The login process times the handshake itself (login_timeout). */
	gnutls_handshake_set_timeout(s->gs, 0);
	gnutls_transport_set_int(s->gs, fd);
	s->creds = tls_creds_ref(creds);
	return s;
}

void tls_session_free(struct tls_session *s)
{
	if (s == NULL)
		return;
	gnutls_deinit(s->gs);
	tls_creds_unref(s->creds);
	free(s);
}

static int tls_io_result(int ret, const char **error_r)
{
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return TLS_IO_AGAIN;
	if (error_r != NULL)
		*error_r = gnutls_strerror(ret);
	/* A peer that closes without close_notify (most IMAP clients after
	 * LOGOUT) is an end, not an attack. */
	if (ret == GNUTLS_E_PREMATURE_TERMINATION)
		return TLS_IO_EOF;
	return TLS_IO_ERROR;
}

int tls_session_handshake(struct tls_session *s, const char **error_r)
{
	int ret;
	do {
		ret = gnutls_handshake(s->gs);
	} while (ret < 0 && !gnutls_error_is_fatal(ret) &&
		 ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED);
	if (ret == 0)
		return 1;
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return TLS_IO_AGAIN;
	*error_r = gnutls_strerror(ret);
	if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED ||
	    ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
		*error_r = gnutls_alert_get_name(gnutls_alert_get(s->gs));
	else
		/* Tell the client why (protocol_version, handshake_failure,
		 * ...); best effort on a non-blocking socket. */
		(void)gnutls_alert_send_appropriate(s->gs, ret);
	return TLS_IO_ERROR;
}

bool tls_session_wants_write(const struct tls_session *s)
{
	return gnutls_record_get_direction(s->gs) == 1;
}

size_t tls_session_pending(const struct tls_session *s)
{
	return gnutls_record_check_pending(s->gs);
}

ssize_t tls_session_recv(struct tls_session *s, void *data, size_t size,
			 const char **error_r)
{
	for (;;) {
		ssize_t n = gnutls_record_recv(s->gs, data, size);
		if (n > 0)
			return n;
		if (n == 0)
			return TLS_IO_EOF;
		/* A TLS 1.3 KeyUpdate or post-handshake message that GnuTLS
		 * handled itself; a TLS 1.2 renegotiation request is
		 * refused by ignoring it. */
		if (n == GNUTLS_E_REHANDSHAKE ||
		    n == GNUTLS_E_GOT_APPLICATION_DATA ||
		    (n == GNUTLS_E_WARNING_ALERT_RECEIVED &&
		     gnutls_alert_get(s->gs) != GNUTLS_A_CLOSE_NOTIFY))
			continue;
		if (n == GNUTLS_E_WARNING_ALERT_RECEIVED)
			return TLS_IO_EOF;
		return tls_io_result((int)n, error_r);
	}
}

ssize_t tls_session_send(struct tls_session *s, const void *data,
			 size_t size, const char **error_r)
{
	if (s->send_inflight > 0)
		size = s->send_inflight;
	else if (size > 16384)
		size = 16384;
	ssize_t n = gnutls_record_send(s->gs, data, size);
	if (n > 0) {
		s->send_inflight = 0;
		return n;
	}
	int r = tls_io_result((int)n, error_r);
	if (r == TLS_IO_AGAIN)
		s->send_inflight = size;
	else if (r == TLS_IO_EOF)
		r = TLS_IO_ERROR;	/* cannot send: the peer is gone */
	return r;
}

void tls_session_bye(struct tls_session *s)
{
	(void)gnutls_bye(s->gs, GNUTLS_SHUT_WR);
}

void tls_session_describe(const struct tls_session *s, char *out,
			  size_t size)
{
	const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(s->gs));
	const char *c = gnutls_cipher_get_name(gnutls_cipher_get(s->gs));
	snprintf(out, size, "%s/%s", v != NULL ? v : "?", c != NULL ? c : "?");
}

size_t tls_conn_read(struct tls_session *s, struct net_conn *c,
		     size_t max_in, const char **error_r)
{
	size_t total = 0;
	while (c->in.len < max_in && !c->eof && !c->failed) {
		size_t room = max_in - c->in.len;
		if (room > 16384)
			room = 16384;
		buf_reserve(&c->in, room);
		ssize_t n = tls_session_recv(s, c->in.data + c->in.len, room,
					     error_r);
		if (n == TLS_IO_AGAIN)
			break;
		if (n == TLS_IO_EOF) {
			c->eof = true;
			break;
		}
		if (n < 0) {
			c->failed = true;
			break;
		}
		c->in.len += (size_t)n;
		total += (size_t)n;
	}
	return total;
}

bool tls_conn_flush(struct tls_session *s, struct net_conn *c,
		    const char **error_r)
{
	while (c->out.len > 0 && !c->failed) {
		ssize_t n = tls_session_send(s, c->out.data, c->out.len,
					     error_r);
		if (n == TLS_IO_AGAIN)
			break;
		if (n < 0) {
			c->failed = true;
			break;
		}
		buf_consume(&c->out, (size_t)n);
	}
	return c->out.len == 0;
}
