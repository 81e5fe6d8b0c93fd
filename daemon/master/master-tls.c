/* TLS material in the master: it reads tls_cert and tls_key as root,
 * checks them with GnuTLS (a mismatched pair, garbage PEM or a bad
 * priority string refuses to start, or keeps the running set on reload),
 * and sends the PEM bytes to each login process, which builds its GnuTLS
 * credentials before its sandbox. The login process never opens a file. */
#include "master.h"

#include "../../common/log.h"
#include "../../common/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int master_tls_read_file(const char *key, const char *path,
				struct buf *out, char **error_r)
{
	struct buf e;
	buf_init(&e);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		buf_printf(&e, "%s %s: %s", key, path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		buf_printf(&e, "%s %s: not a regular file", key, path);
		goto fail;
	}
	if (st.st_size > (off_t)TLS_MAX_PEM) {
		buf_printf(&e, "%s %s: larger than %u bytes", key, path,
			   TLS_MAX_PEM);
		goto fail;
	}
	for (;;) {
		buf_reserve(out, 4096);
		ssize_t n = read(fd, out->data + out->len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_printf(&e, "%s %s: %s", key, path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len > TLS_MAX_PEM) {
			buf_printf(&e, "%s %s: larger than %u bytes", key,
				   path, TLS_MAX_PEM);
			goto fail;
		}
	}
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	buf_wipe(out);
	*error_r = xstrdup(buf_cstr(&e));
	buf_free(&e);
	return -1;
}

void master_tls_free(struct master_tls *t)
{
	buf_wipe(&t->cert);
	buf_wipe(&t->key);
	free(t->priority);
	memset(t, 0, sizeof(*t));
}

int master_tls_load(const struct postern_config *cfg, struct master_tls *out,
		    char **error_r)
{
	memset(out, 0, sizeof(*out));
	buf_init(&out->cert);
	buf_init(&out->key);
	if (cfg->listen_count == 0 && cfg->listen_tls_count == 0) {
		*error_r = xstrdup("no listen or listen_tls address configured");
		return -1;
	}
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		*error_r = xstrdup(cfg->tls_cert == NULL ?
				   "tls_key is set but tls_cert is not" :
				   "tls_cert is set but tls_key is not");
		return -1;
	}
	if (cfg->tls_cert == NULL) {
		if (cfg->listen_tls_count > 0) {
			*error_r = xstrdup("listen_tls needs tls_cert and "
					   "tls_key");
			return -1;
		}
		return 0;	/* no TLS: no STARTTLS either */
	}
	tls_global_init();
	if (master_tls_read_file("tls_cert", cfg->tls_cert, &out->cert,
				 error_r) < 0 ||
	    master_tls_read_file("tls_key", cfg->tls_key, &out->key,
				 error_r) < 0 ||
	    tls_check(out->cert.data, out->cert.len, cfg->tls_cert,
		      out->key.data, out->key.len, cfg->tls_key,
		      cfg->tls_priority, error_r) < 0) {
		master_tls_free(out);
		return -1;
	}
	out->priority = xstrdup(cfg->tls_priority);
	out->enabled = true;
	return 0;
}

void master_tls_send(struct master_child *c)
{
	if (!master.tls.enabled)
		return;
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_LOGIN_TLS, 0);
	ipc_put_bytes(&f, master.tls.cert.data, master.tls.cert.len);
	ipc_put_bytes(&f, master.tls.key.data, master.tls.key.len);
	ipc_put_str(&f, master.tls.priority);
	ipc_frame_end(&f, false);
	master_child_send(c, &f, -1);
	buf_wipe(&f);
}
