#include "config.h"
#include "buf.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_MAX_FILE (1024 * 1024)

void config_init_defaults(struct postern_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mail_root = xstrdup("/var/lib/postern/mail");
	cfg->run_dir = xstrdup("/run/postern");
	cfg->pam_service = xstrdup("postern");
	cfg->login_user = xstrdup("_postern");
	cfg->login_processes = 0;	/* 0: one per core */
	cfg->worker_linger = 30;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->max_line_length = 64 * 1024;
	cfg->login_timeout = 60;
	cfg->max_bad_commands = 10;
	cfg->max_connections_per_login = 1000;
	cfg->auth_penalty_base_ms = 500;
	cfg->auth_penalty_max_ms = 15000;
	cfg->imap_idle_timeout = 30 * 60;
	cfg->first_valid_uid = 1000;
	cfg->tls_priority = xstrdup(CONFIG_DEFAULT_TLS_PRIORITY);
	cfg->plaintext_auth = CONFIG_PLAINTEXT_AUTH_LOOPBACK;
	const char *err;
	(void)config_parse_listen("*:143", &cfg->listen[0], &err);
	cfg->listen_count = 1;
}

void config_free(struct postern_config *cfg)
{
	free(cfg->mail_root);
	free(cfg->run_dir);
	free(cfg->pam_service);
	free(cfg->login_user);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->tls_priority);
	memset(cfg, 0, sizeof(*cfg));
}

int config_parse_listen(const char *value, struct config_listen *out,
			const char **error_r)
{
	char host[64];
	const char *port_str;
	memset(out, 0, sizeof(*out));
	if (value[0] == '[') {
		const char *end = strchr(value, ']');
		if (end == NULL || end[1] != ':') {
			*error_r = "expected [address]:port";
			return -1;
		}
		size_t hl = (size_t)(end - value - 1);
		if (hl == 0 || hl >= sizeof(host)) {
			*error_r = "bad IPv6 address";
			return -1;
		}
		memcpy(host, value + 1, hl);
		host[hl] = '\0';
		port_str = end + 2;
	} else {
		const char *colon = strrchr(value, ':');
		if (colon == NULL) {
			*error_r = "expected address:port";
			return -1;
		}
		size_t hl = (size_t)(colon - value);
		if (hl == 0 || hl >= sizeof(host)) {
			*error_r = "bad address";
			return -1;
		}
		memcpy(host, value, hl);
		host[hl] = '\0';
		if (strchr(host, ':') != NULL) {
			*error_r = "IPv6 addresses must be written [address]:port";
			return -1;
		}
		port_str = colon + 1;
	}
	char *endp;
	errno = 0;
	long port = strtol(port_str, &endp, 10);
	if (*port_str == '\0' || *endp != '\0' || errno != 0 || port < 1 ||
	    port > 65535) {
		*error_r = "port must be 1-65535";
		return -1;
	}
	if (value[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->addr;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
			*error_r = "bad IPv6 address";
			return -1;
		}
		out->addr_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&out->addr;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (strcmp(host, "*") == 0) {
			a->sin_addr.s_addr = htonl(INADDR_ANY);
		} else if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
			*error_r = "bad IPv4 address (names are not resolved)";
			return -1;
		}
		out->addr_len = sizeof(*a);
	}
	snprintf(out->text, sizeof(out->text), "%s", value);
	return 0;
}

static int parse_uint(const char *value, unsigned min, unsigned max,
		      unsigned *out, const char **error_r)
{
	char *endp;
	errno = 0;
	if (value[0] < '0' || value[0] > '9') {
		*error_r = "expected a number";
		return -1;
	}
	unsigned long v = strtoul(value, &endp, 10);
	if (*endp != '\0' || errno != 0) {
		*error_r = "expected a number";
		return -1;
	}
	if (v < min || v > max) {
		*error_r = "number out of range";
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int set_path(char **field, const char *value, const char **error_r)
{
	if (value[0] != '/') {
		*error_r = "expected an absolute path";
		return -1;
	}
	free(*field);
	*field = xstrdup(value);
	return 0;
}

static int set_name(char **field, const char *value, const char **error_r)
{
	if (value[0] == '\0' || strpbrk(value, "/ \t") != NULL) {
		*error_r = "expected a name without spaces or '/'";
		return -1;
	}
	free(*field);
	*field = xstrdup(value);
	return 0;
}

struct uint_key {
	const char *name;
	size_t offset;
	unsigned min, max;
};

#define UKEY(n, field, lo, hi) \
	{ n, offsetof(struct postern_config, field), lo, hi }

static const struct uint_key uint_keys[] = {
	UKEY("login_processes", login_processes, 0, 64),
	UKEY("worker_linger", worker_linger, 0, 86400),
	UKEY("max_line_length", max_line_length, 1024, 16 * 1024 * 1024),
	UKEY("login_timeout", login_timeout, 1, 3600),
	UKEY("max_bad_commands", max_bad_commands, 1, 1000),
	UKEY("max_connections_per_login", max_connections_per_login, 1, 100000),
	UKEY("auth_penalty_base_ms", auth_penalty_base_ms, 0, 60000),
	UKEY("auth_penalty_max_ms", auth_penalty_max_ms, 0, 600000),
	UKEY("imap_idle_timeout", imap_idle_timeout, 60, 86400),
	UKEY("first_valid_uid", first_valid_uid, 1, 4000000000u),
};

static int config_set(struct postern_config *cfg, bool *listen_seen,
		      const char *key, const char *value, const char **error_r)
{
	if (strcmp(key, "listen") == 0) {
		/* The first listen line replaces the defaults; later ones add. */
		if (!*listen_seen) {
			cfg->listen_count = 0;
			*listen_seen = true;
		}
		if (value[0] == '\0') {
			/* "listen =": no plaintext listener (a server that
			 * speaks only implicit TLS). */
			cfg->listen_count = 0;
			return 0;
		}
		if (cfg->listen_count == CONFIG_MAX_LISTEN) {
			*error_r = "too many listen lines";
			return -1;
		}
		return config_parse_listen(value,
					   &cfg->listen[cfg->listen_count++],
					   error_r);
	}
	if (strcmp(key, "listen_tls") == 0) {
		if (cfg->listen_tls_count == CONFIG_MAX_LISTEN) {
			*error_r = "too many listen_tls lines";
			return -1;
		}
		return config_parse_listen(
			value, &cfg->listen_tls[cfg->listen_tls_count++],
			error_r);
	}
	if (strcmp(key, "tls_cert") == 0)
		return set_path(&cfg->tls_cert, value, error_r);
	if (strcmp(key, "tls_key") == 0)
		return set_path(&cfg->tls_key, value, error_r);
	if (strcmp(key, "tls_priority") == 0) {
		free(cfg->tls_priority);
		cfg->tls_priority = xstrdup(value);
		return 0;
	}
	if (strcmp(key, "plaintext_auth") == 0) {
		if (strcmp(value, "no") == 0)
			cfg->plaintext_auth = CONFIG_PLAINTEXT_AUTH_NO;
		else if (strcmp(value, "loopback") == 0)
			cfg->plaintext_auth = CONFIG_PLAINTEXT_AUTH_LOOPBACK;
		else if (strcmp(value, "yes") == 0)
			cfg->plaintext_auth = CONFIG_PLAINTEXT_AUTH_YES;
		else {
			*error_r = "expected no, loopback or yes";
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "mail_root") == 0)
		return set_path(&cfg->mail_root, value, error_r);
	if (strcmp(key, "run_dir") == 0)
		return set_path(&cfg->run_dir, value, error_r);
	if (strcmp(key, "pam_service") == 0)
		return set_name(&cfg->pam_service, value, error_r);
	if (strcmp(key, "login_user") == 0)
		return set_name(&cfg->login_user, value, error_r);
	if (strcmp(key, "log_level") == 0) {
		int level = log_level_parse(value);
		if (level < 0) {
			*error_r = "expected error, warn, info or debug";
			return -1;
		}
		cfg->log_level = level;
		return 0;
	}
	for (size_t i = 0; i < sizeof(uint_keys) / sizeof(uint_keys[0]); i++) {
		if (strcmp(key, uint_keys[i].name) == 0)
			return parse_uint(value, uint_keys[i].min,
					  uint_keys[i].max,
					  (unsigned *)((char *)cfg +
						       uint_keys[i].offset),
					  error_r);
	}
	*error_r = "unknown key";
	return -1;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
			 s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static char *config_error(const char *name, unsigned line, const char *msg,
			  const char *key)
{
	struct buf b;
	buf_init(&b);
	if (key != NULL)
		buf_printf(&b, "%s:%u: %s: %s", name, line, key, msg);
	else
		buf_printf(&b, "%s:%u: %s", name, line, msg);
	/* buf_printf does not terminate; the caller gets a C string. */
	return (char *)buf_cstr(&b);
}

int config_parse(struct postern_config *cfg, const char *name,
		 const char *text, size_t len, char **error_r)
{
	bool listen_seen = false;
	unsigned lineno = 0, penalty_lineno = 0;
	size_t pos = 0;
	const char *nul = memchr(text, '\0', len);
	if (nul != NULL) {
		unsigned nul_line = 1;
		for (const char *p = text; p < nul; p++)
			nul_line += *p == '\n';
		*error_r = config_error(name, nul_line,
					"file contains a NUL byte", NULL);
		return -1;
	}
	while (pos < len) {
		lineno++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		char *line = xstrndup(text + pos, ll);
		pos += ll + (nl != NULL ? 1 : 0);

		char *hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		char *s = trim(line);
		if (*s == '\0') {
			free(line);
			continue;
		}
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			*error_r = config_error(name, lineno,
						"expected key = value", NULL);
			free(line);
			return -1;
		}
		*eq = '\0';
		char *key = trim(s);
		char *value = trim(eq + 1);
		const char *err = NULL;
		if (*key == '\0') {
			*error_r = config_error(name, lineno, "missing key", NULL);
			free(line);
			return -1;
		}
		if (*value == '\0' && strcmp(key, "listen") != 0) {
			*error_r = config_error(name, lineno, "missing value",
						key);
			free(line);
			return -1;
		}
		if (config_set(cfg, &listen_seen, key, value, &err) < 0) {
			*error_r = config_error(name, lineno, err, key);
			free(line);
			return -1;
		}
		if (strncmp(key, "auth_penalty_", 13) == 0)
			penalty_lineno = lineno;
		free(line);
	}
	/* Name the line that made the pair inconsistent, not the last one. */
	if (cfg->auth_penalty_max_ms < cfg->auth_penalty_base_ms) {
		*error_r = config_error(name, penalty_lineno,
			"auth_penalty_max_ms is below auth_penalty_base_ms",
			NULL);
		return -1;
	}
	return 0;
}

int config_load(struct postern_config *cfg, const char *path, char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct buf b;
	buf_init(&b);
	if (fd < 0) {
		buf_printf(&b, "%s: %s", path, strerror(errno));
		*error_r = (char *)buf_cstr(&b);
		return -1;
	}
	for (;;) {
		buf_reserve(&b, 4096);
		ssize_t n = read(fd, b.data + b.len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			buf_free(&b);
			buf_printf(&b, "%s: %s", path, strerror(e));
			*error_r = (char *)buf_cstr(&b);
			return -1;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		if (b.len > CONFIG_MAX_FILE) {
			close(fd);
			buf_free(&b);
			buf_printf(&b, "%s: file larger than 1 MiB", path);
			*error_r = (char *)buf_cstr(&b);
			return -1;
		}
	}
	close(fd);
	int ret = config_parse(cfg, path, (const char *)b.data, b.len, error_r);
	buf_free(&b);
	return ret;
}
