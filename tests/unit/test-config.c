/* postern.conf: defaults, every key, the line syntax, and the exact
 * "file:line: message" an administrator sees for each kind of mistake. */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/buf.h"
#include "../../common/config.h"
#include "../../common/log.h"

static int parse(struct postern_config *cfg, const char *text, size_t len,
		 char **error_r)
{
	config_init_defaults(cfg);
	*error_r = NULL;
	return config_parse(cfg, "t.conf", text, len, error_r);
}

/* Parses text, which must be accepted; the caller checks and frees cfg. */
static void parse_ok(struct postern_config *cfg, const char *text)
{
	char *error = NULL;
	int r = parse(cfg, text, strlen(text), &error);
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_PTR_NULL(error);
	if (error != NULL) {
		fprintf(stderr, "\nunexpected config error: %s\n", error);
		free(error);
	}
}

static void expect_error_len(const char *text, size_t len, const char *want)
{
	struct postern_config cfg;
	char *error = NULL;
	CU_ASSERT_EQUAL(parse(&cfg, text, len, &error), -1);
	CU_ASSERT_PTR_NOT_NULL(error);
	if (error != NULL) {
		if (strcmp(error, want) != 0)
			fprintf(stderr, "\nwant \"%s\"\n got \"%s\"\n", want,
				error);
		CU_ASSERT_STRING_EQUAL(error, want);
		free(error);
	}
	config_free(&cfg);
}

static void expect_error(const char *text, const char *want)
{
	expect_error_len(text, strlen(text), want);
}

static uint16_t listen_port(const struct config_listen *l)
{
	if (l->addr.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&l->addr)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&l->addr)->sin6_port);
}

static void test_defaults(void)
{
	struct postern_config cfg;
	config_init_defaults(&cfg);
	CU_ASSERT_EQUAL_FATAL(cfg.listen_count, 1);
	CU_ASSERT_EQUAL(cfg.listen[0].addr.ss_family, AF_INET);
	CU_ASSERT_EQUAL(cfg.listen[0].addr_len, sizeof(struct sockaddr_in));
	CU_ASSERT_EQUAL(listen_port(&cfg.listen[0]), 143);
	CU_ASSERT_EQUAL(((struct sockaddr_in *)&cfg.listen[0].addr)
				->sin_addr.s_addr, htonl(INADDR_ANY));
	CU_ASSERT_STRING_EQUAL(cfg.listen[0].text, "*:143");
	CU_ASSERT_STRING_EQUAL(cfg.mail_root, "/var/lib/postern/mail");
	CU_ASSERT_STRING_EQUAL(cfg.run_dir, "/run/postern");
	CU_ASSERT_STRING_EQUAL(cfg.pam_service, "postern");
	CU_ASSERT_STRING_EQUAL(cfg.login_user, "_postern");
	CU_ASSERT_EQUAL(cfg.login_processes, 0);
	CU_ASSERT_EQUAL(cfg.worker_linger, 30);
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LEVEL_INFO);
	CU_ASSERT_EQUAL(cfg.max_line_length, 65536);
	CU_ASSERT_EQUAL(cfg.login_timeout, 60);
	CU_ASSERT_EQUAL(cfg.max_bad_commands, 10);
	CU_ASSERT_EQUAL(cfg.max_connections_per_login, 1000);
	CU_ASSERT_EQUAL(cfg.auth_penalty_base_ms, 500);
	CU_ASSERT_EQUAL(cfg.auth_penalty_max_ms, 15000);
	CU_ASSERT_EQUAL(cfg.imap_idle_timeout, 1800);
	CU_ASSERT_EQUAL(cfg.first_valid_uid, 1000);
	config_free(&cfg);

	/* An empty file or one of comments only changes nothing. */
	parse_ok(&cfg, "");
	CU_ASSERT_EQUAL(cfg.listen_count, 1);
	CU_ASSERT_EQUAL(cfg.worker_linger, 30);
	config_free(&cfg);
	parse_ok(&cfg, "# nothing\n\n   \n\t# more\n");
	CU_ASSERT_EQUAL(cfg.listen_count, 1);
	CU_ASSERT_STRING_EQUAL(cfg.mail_root, "/var/lib/postern/mail");
	config_free(&cfg);
}

static void test_every_key(void)
{
	struct postern_config cfg;
	parse_ok(&cfg,
		 "listen = 127.0.0.1:1143\n"
		 "listen = [::1]:993\n"
		 "listen = *:143\n"
		 "listen = [::]:10143\n"
		 "mail_root = /srv/mail\n"
		 "run_dir = /var/run/pst\n"
		 "pam_service = imap\n"
		 "login_user = nobody\n"
		 "login_processes = 4\n"
		 "worker_linger = 120\n"
		 "log_level = debug\n"
		 "max_line_length = 8192\n"
		 "login_timeout = 30\n"
		 "max_bad_commands = 3\n"
		 "max_connections_per_login = 250\n"
		 "auth_penalty_base_ms = 100\n"
		 "auth_penalty_max_ms = 2000\n"
		 "imap_idle_timeout = 600\n"
		 "first_valid_uid = 500\n");
	CU_ASSERT_EQUAL_FATAL(cfg.listen_count, 4);

	const struct sockaddr_in *v4 =
		(const struct sockaddr_in *)&cfg.listen[0].addr;
	CU_ASSERT_EQUAL(v4->sin_family, AF_INET);
	CU_ASSERT_EQUAL(v4->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	CU_ASSERT_EQUAL(ntohs(v4->sin_port), 1143);
	CU_ASSERT_EQUAL(cfg.listen[0].addr_len, sizeof(struct sockaddr_in));
	CU_ASSERT_STRING_EQUAL(cfg.listen[0].text, "127.0.0.1:1143");

	const struct sockaddr_in6 *v6 =
		(const struct sockaddr_in6 *)&cfg.listen[1].addr;
	CU_ASSERT_EQUAL(v6->sin6_family, AF_INET6);
	CU_ASSERT(memcmp(&v6->sin6_addr, &in6addr_loopback,
			 sizeof(in6addr_loopback)) == 0);
	CU_ASSERT_EQUAL(ntohs(v6->sin6_port), 993);
	CU_ASSERT_EQUAL(cfg.listen[1].addr_len, sizeof(struct sockaddr_in6));
	CU_ASSERT_STRING_EQUAL(cfg.listen[1].text, "[::1]:993");

	v4 = (const struct sockaddr_in *)&cfg.listen[2].addr;
	CU_ASSERT_EQUAL(v4->sin_family, AF_INET);
	CU_ASSERT_EQUAL(v4->sin_addr.s_addr, htonl(INADDR_ANY));
	CU_ASSERT_EQUAL(ntohs(v4->sin_port), 143);

	v6 = (const struct sockaddr_in6 *)&cfg.listen[3].addr;
	CU_ASSERT_EQUAL(v6->sin6_family, AF_INET6);
	CU_ASSERT(memcmp(&v6->sin6_addr, &in6addr_any,
			 sizeof(in6addr_any)) == 0);
	CU_ASSERT_EQUAL(ntohs(v6->sin6_port), 10143);

	CU_ASSERT_STRING_EQUAL(cfg.mail_root, "/srv/mail");
	CU_ASSERT_STRING_EQUAL(cfg.run_dir, "/var/run/pst");
	CU_ASSERT_STRING_EQUAL(cfg.pam_service, "imap");
	CU_ASSERT_STRING_EQUAL(cfg.login_user, "nobody");
	CU_ASSERT_EQUAL(cfg.login_processes, 4);
	CU_ASSERT_EQUAL(cfg.worker_linger, 120);
	CU_ASSERT_EQUAL(cfg.log_level, LOG_LEVEL_DEBUG);
	CU_ASSERT_EQUAL(cfg.max_line_length, 8192);
	CU_ASSERT_EQUAL(cfg.login_timeout, 30);
	CU_ASSERT_EQUAL(cfg.max_bad_commands, 3);
	CU_ASSERT_EQUAL(cfg.max_connections_per_login, 250);
	CU_ASSERT_EQUAL(cfg.auth_penalty_base_ms, 100);
	CU_ASSERT_EQUAL(cfg.auth_penalty_max_ms, 2000);
	CU_ASSERT_EQUAL(cfg.imap_idle_timeout, 600);
	CU_ASSERT_EQUAL(cfg.first_valid_uid, 500);
	config_free(&cfg);

	static const struct { const char *name; int level; } levels[] = {
		{ "error", LOG_LEVEL_ERROR }, { "warn", LOG_LEVEL_WARN },
		{ "info", LOG_LEVEL_INFO }, { "debug", LOG_LEVEL_DEBUG },
	};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		char line[64];
		snprintf(line, sizeof(line), "log_level = %s\n",
			 levels[i].name);
		config_init_defaults(&cfg);
		cfg.log_level = -1;
		char *error = NULL;
		CU_ASSERT_EQUAL(config_parse(&cfg, "t.conf", line,
					     strlen(line), &error), 0);
		CU_ASSERT_EQUAL(cfg.log_level, levels[i].level);
		free(error);
		config_free(&cfg);
	}
}

/* Each numeric key takes its bounds and refuses one past them. */
static void test_number_bounds(void)
{
	static const struct {
		const char *key;
		size_t offset;
		unsigned min, max;
	} keys[] = {
#define K(f, lo, hi) { #f, offsetof(struct postern_config, f), lo, hi }
		K(login_processes, 0, 64),
		K(worker_linger, 0, 86400),
		K(max_line_length, 1024, 16 * 1024 * 1024),
		K(login_timeout, 1, 3600),
		K(max_bad_commands, 1, 1000),
		K(max_connections_per_login, 1, 100000),
		K(auth_penalty_base_ms, 0, 60000),
		K(auth_penalty_max_ms, 0, 600000),
		K(imap_idle_timeout, 60, 86400),
		K(first_valid_uid, 1, 4000000000u),
#undef K
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char text[128], want[128];
		unsigned values[2] = { keys[i].min, keys[i].max };
		for (int j = 0; j < 2; j++) {
			struct postern_config cfg;
			/* keep the penalty pair consistent */
			snprintf(text, sizeof(text),
				 "auth_penalty_base_ms = 0\n"
				 "auth_penalty_max_ms = 600000\n"
				 "%s = %u\n", keys[i].key, values[j]);
			parse_ok(&cfg, text);
			unsigned got = *(unsigned *)((char *)&cfg +
						     keys[i].offset);
			CU_ASSERT_EQUAL(got, values[j]);
			config_free(&cfg);
		}
		snprintf(text, sizeof(text), "%s = %u\n", keys[i].key,
			 keys[i].max + 1);
		snprintf(want, sizeof(want), "t.conf:1: %s: number out of range",
			 keys[i].key);
		expect_error(text, want);
		if (keys[i].min > 0) {
			snprintf(text, sizeof(text), "\n%s = %u\n",
				 keys[i].key, keys[i].min - 1);
			snprintf(want, sizeof(want),
				 "t.conf:2: %s: number out of range",
				 keys[i].key);
			expect_error(text, want);
		}
	}
}

static void test_syntax(void)
{
	struct postern_config cfg;
	/* CRLF line ends, tabs, comments after values, no final newline */
	parse_ok(&cfg,
		 "# Postern\r\n"
		 "\r\n"
		 "mail_root = /srv/mail\r\n"
		 "\tworker_linger\t=\t7\t# seconds\r\n"
		 "  # indented comment\r\n"
		 "pam_service=imap#no spaces\r\n"
		 "run_dir = /run/x");
	CU_ASSERT_STRING_EQUAL(cfg.mail_root, "/srv/mail");
	CU_ASSERT_EQUAL(cfg.worker_linger, 7);
	CU_ASSERT_STRING_EQUAL(cfg.pam_service, "imap");
	CU_ASSERT_STRING_EQUAL(cfg.run_dir, "/run/x");
	config_free(&cfg);

	/* A later line overrides an earlier one (and frees it). */
	parse_ok(&cfg, "mail_root = /a\nmail_root = /b\nlogin_user = x\n"
		       "login_user = y\n");
	CU_ASSERT_STRING_EQUAL(cfg.mail_root, "/b");
	CU_ASSERT_STRING_EQUAL(cfg.login_user, "y");
	config_free(&cfg);

	/* The first listen line replaces the default, later ones add. */
	parse_ok(&cfg, "listen = 127.0.0.1:1143\n");
	CU_ASSERT_EQUAL(cfg.listen_count, 1);
	CU_ASSERT_EQUAL(listen_port(&cfg.listen[0]), 1143);
	config_free(&cfg);

	char text[2048];
	size_t off = 0;
	for (int i = 0; i < CONFIG_MAX_LISTEN; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"listen = *:%d\n", 2000 + i);
	parse_ok(&cfg, text);
	CU_ASSERT_EQUAL(cfg.listen_count, CONFIG_MAX_LISTEN);
	CU_ASSERT_EQUAL(listen_port(&cfg.listen[CONFIG_MAX_LISTEN - 1]),
			2000 + CONFIG_MAX_LISTEN - 1);
	config_free(&cfg);
}

static void test_errors(void)
{
	expect_error("frobnicate = 1\n", "t.conf:1: frobnicate: unknown key");
	expect_error("# c\n\nMail_Root = /x\n",
		     "t.conf:3: Mail_Root: unknown key");
	expect_error("mail_root /srv/mail\n", "t.conf:1: expected key = value");
	expect_error("\r\n\r\nlisten\r\n", "t.conf:3: expected key = value");
	expect_error("= /srv/mail\n", "t.conf:1: missing key");
	expect_error("mail_root =\n", "t.conf:1: mail_root: missing value");
	expect_error("mail_root = # nothing\n",
		     "t.conf:1: mail_root: missing value");
	expect_error("mail_root =   \r\n", "t.conf:1: mail_root: missing value");

	static const char *const bad_numbers[] = {
		"abc", "12x", "-1", "+5", "0x10", "1.5", "1 2",
	};
	for (size_t i = 0; i < sizeof(bad_numbers) / sizeof(*bad_numbers);
	     i++) {
		char text[64];
		snprintf(text, sizeof(text), "worker_linger = %s\n",
			 bad_numbers[i]);
		expect_error(text, "t.conf:1: worker_linger: expected a number");
	}
	/* Past what an unsigned long holds. */
	struct postern_config cfg;
	char *error = NULL;
	const char *huge = "worker_linger = 99999999999999999999999\n";
	CU_ASSERT_EQUAL(parse(&cfg, huge, strlen(huge), &error), -1);
	CU_ASSERT(error != NULL &&
		  strncmp(error, "t.conf:1: worker_linger: ", 25) == 0);
	free(error);
	config_free(&cfg);

	expect_error("login_timeout = 0\n",
		     "t.conf:1: login_timeout: number out of range");
	expect_error("mail_root = srv/mail\n",
		     "t.conf:1: mail_root: expected an absolute path");
	expect_error("run_dir = ./run\n",
		     "t.conf:1: run_dir: expected an absolute path");
	expect_error("pam_service = a/b\n",
		     "t.conf:1: pam_service: expected a name without spaces or '/'");
	expect_error("login_user = a b\n",
		     "t.conf:1: login_user: expected a name without spaces or '/'");
	expect_error("log_level = verbose\n",
		     "t.conf:1: log_level: expected error, warn, info or debug");
	expect_error("log_level = INFO\n",
		     "t.conf:1: log_level: expected error, warn, info or debug");

	/* The line number counts every line, comments and blanks too. */
	expect_error("# one\n\nmail_root = /ok\nworker_linger = x\n",
		     "t.conf:4: worker_linger: expected a number");
}

static void test_listen_errors(void)
{
	static const struct { const char *value, *msg; } cases[] = {
		{ "127.0.0.1", "expected address:port" },
		{ "143", "expected address:port" },
		{ "*:", "port must be 1-65535" },
		{ "*:0", "port must be 1-65535" },
		{ "*:70000", "port must be 1-65535" },
		{ "*:65536", "port must be 1-65535" },
		{ "*:-1", "port must be 1-65535" },
		{ "*:143x", "port must be 1-65535" },
		{ "*:imap", "port must be 1-65535" },
		{ "127.0.0.1:99999999999999999999", "port must be 1-65535" },
		{ ":143", "bad address" },
		{ "::1:143", "IPv6 addresses must be written [address]:port" },
		{ "2001:db8::1:993",
		  "IPv6 addresses must be written [address]:port" },
		{ "localhost:143", "bad IPv4 address (names are not resolved)" },
		{ "mail.example.org:143",
		  "bad IPv4 address (names are not resolved)" },
		{ "256.1.1.1:143", "bad IPv4 address (names are not resolved)" },
		{ "[::1]", "expected [address]:port" },
		{ "[::1]143", "expected [address]:port" },
		{ "[::1:143", "expected [address]:port" },
		{ "[]:143", "bad IPv6 address" },
		{ "[127.0.0.1]:143", "bad IPv6 address" },
		{ "[::1]:0", "port must be 1-65535" },
		{ "[::1]:70000", "port must be 1-65535" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[128], want[160];
		snprintf(text, sizeof(text), "listen = %s\n", cases[i].value);
		snprintf(want, sizeof(want), "t.conf:1: listen: %s",
			 cases[i].msg);
		expect_error(text, want);

		struct config_listen l;
		const char *error = NULL;
		CU_ASSERT_EQUAL(config_parse_listen(cases[i].value, &l,
						    &error), -1);
		CU_ASSERT(error != NULL && strcmp(error, cases[i].msg) == 0);
	}

	char text[2048];
	size_t off = 0;
	for (int i = 0; i <= CONFIG_MAX_LISTEN; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"listen = *:%d\n", 2000 + i);
	char want[64];
	snprintf(want, sizeof(want), "t.conf:%d: listen: too many listen lines",
		 CONFIG_MAX_LISTEN + 1);
	expect_error(text, want);
}

static void test_nul_byte(void)
{
	static const char one[] = "mail_root = /a\0b\n";
	expect_error_len(one, sizeof(one) - 1,
			 "t.conf:1: file contains a NUL byte");
	/* The message names the line the NUL is on. */
	static const char three[] = "# ok\nmail_root = /a\n\0\n";
	expect_error_len(three, sizeof(three) - 1,
			 "t.conf:3: file contains a NUL byte");
	/* Even inside a comment, and before anything is applied. */
	static const char comment[] = "mail_root = /x\n# a\0b\n";
	struct postern_config cfg;
	char *error = NULL;
	CU_ASSERT_EQUAL(parse(&cfg, comment, sizeof(comment) - 1, &error), -1);
	CU_ASSERT_STRING_EQUAL(cfg.mail_root, "/var/lib/postern/mail");
	CU_ASSERT(error != NULL &&
		  strcmp(error, "t.conf:2: file contains a NUL byte") == 0);
	free(error);
	config_free(&cfg);
}

static void test_penalty_order(void)
{
	/* Named at the line that made the pair inconsistent. */
	expect_error("auth_penalty_base_ms = 2000\n"
		     "auth_penalty_max_ms = 1000\n",
		     "t.conf:2: auth_penalty_max_ms is below auth_penalty_base_ms");
	expect_error("auth_penalty_max_ms = 1000\n"
		     "auth_penalty_base_ms = 2000\n"
		     "# trailing comment\n\n",
		     "t.conf:2: auth_penalty_max_ms is below auth_penalty_base_ms");
	/* against the default max (15000) */
	expect_error("worker_linger = 1\nauth_penalty_base_ms = 20000\n"
		     "login_timeout = 5\n",
		     "t.conf:2: auth_penalty_max_ms is below auth_penalty_base_ms");

	struct postern_config cfg;
	parse_ok(&cfg, "auth_penalty_base_ms = 1000\n"
		       "auth_penalty_max_ms = 1000\n");
	CU_ASSERT_EQUAL(cfg.auth_penalty_base_ms, 1000);
	CU_ASSERT_EQUAL(cfg.auth_penalty_max_ms, 1000);
	config_free(&cfg);
	/* The order of the two lines does not matter. */
	parse_ok(&cfg, "auth_penalty_max_ms = 60000\n"
		       "auth_penalty_base_ms = 30000\n");
	CU_ASSERT_EQUAL(cfg.auth_penalty_base_ms, 30000);
	config_free(&cfg);
}

static void test_load(void)
{
	struct postern_config cfg;
	char *error = NULL;
	config_init_defaults(&cfg);
	CU_ASSERT_EQUAL(config_load(&cfg, "/nonexistent/postern.conf",
				    &error), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(error);
	CU_ASSERT_STRING_EQUAL(error,
		"/nonexistent/postern.conf: No such file or directory");
	free(error);
	error = NULL;
	CU_ASSERT_EQUAL(config_load(&cfg, "/", &error), -1);
	CU_ASSERT(error != NULL && strcmp(error, "/: Is a directory") == 0);
	free(error);
	config_free(&cfg);

	char path[] = "/tmp/postern-test-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	/* Bigger than one read, so the read loop is exercised. */
	for (int i = 0; i < 400; i++)
		CU_ASSERT(write(fd, "# padding padding padding\n", 26) == 26);
	const char *body = "worker_linger = 99\nlisten = [::1]:1993\n"
			   "bogus = 1\n";
	CU_ASSERT(write(fd, body, strlen(body)) == (ssize_t)strlen(body));
	close(fd);

	config_init_defaults(&cfg);
	error = NULL;
	CU_ASSERT_EQUAL(config_load(&cfg, path, &error), -1);
	char want[128];
	snprintf(want, sizeof(want), "%s:403: bogus: unknown key", path);
	CU_ASSERT(error != NULL && strcmp(error, want) == 0);
	free(error);
	config_free(&cfg);

	/* Drop the last line: now it loads. */
	CU_ASSERT_EQUAL(truncate(path, 400 * 26 + (off_t)strlen(body) - 10),
			0);
	config_init_defaults(&cfg);
	error = NULL;
	CU_ASSERT_EQUAL(config_load(&cfg, path, &error), 0);
	CU_ASSERT_PTR_NULL(error);
	CU_ASSERT_EQUAL(cfg.worker_linger, 99);
	CU_ASSERT_EQUAL(cfg.listen_count, 1);
	CU_ASSERT_EQUAL(listen_port(&cfg.listen[0]), 1993);
	config_free(&cfg);

	/* Over 1 MiB is refused before parsing. */
	CU_ASSERT_EQUAL(truncate(path, 1024 * 1024 + 1), 0);
	config_init_defaults(&cfg);
	error = NULL;
	CU_ASSERT_EQUAL(config_load(&cfg, path, &error), -1);
	snprintf(want, sizeof(want), "%s: file larger than 1 MiB", path);
	CU_ASSERT(error != NULL && strcmp(error, want) == 0);
	free(error);
	config_free(&cfg);
	unlink(path);
}

/* etc/postern.conf shows every key commented out with its default: the
 * file must load as it is, and with those lines uncommented it must give
 * exactly the built-in defaults (so the documentation cannot drift).
 * make runs the unit tests from the top of the tree. */
static void test_sample_config(void)
{
	struct postern_config def, cfg;
	char *error = NULL;
	config_init_defaults(&def);
	config_init_defaults(&cfg);
	CU_ASSERT_EQUAL(config_load(&cfg, "etc/postern.conf", &error), 0);
	CU_ASSERT_PTR_NULL(error);
	free(error);
	config_free(&cfg);

	FILE *f = fopen("etc/postern.conf", "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	struct buf text;
	buf_init(&text);
	char line[1024];
	int uncommented = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		/* "#key = value" is a default; "# prose" and "##" are not */
		bool setting = line[0] == '#' && line[1] >= 'a' &&
			       line[1] <= 'z';
		buf_append_str(&text, setting ? line + 1 : line);
		uncommented += setting;
	}
	fclose(f);
	/* every key of test_every_key but the TLS ones */
	CU_ASSERT(uncommented >= 16);

	config_init_defaults(&cfg);
	error = NULL;
	CU_ASSERT_EQUAL(config_parse(&cfg, "postern.conf",
				     (const char *)text.data, text.len,
				     &error), 0);
	if (error != NULL)
		fprintf(stderr, "\nsample config: %s\n", error);
	free(error);
	CU_ASSERT_EQUAL_FATAL(cfg.listen_count, def.listen_count);
	CU_ASSERT_EQUAL(cfg.listen[0].addr_len, def.listen[0].addr_len);
	CU_ASSERT(memcmp(&cfg.listen[0].addr, &def.listen[0].addr,
			 def.listen[0].addr_len) == 0);
	CU_ASSERT_STRING_EQUAL(cfg.mail_root, def.mail_root);
	CU_ASSERT_STRING_EQUAL(cfg.run_dir, def.run_dir);
	CU_ASSERT_STRING_EQUAL(cfg.pam_service, def.pam_service);
	CU_ASSERT_STRING_EQUAL(cfg.login_user, def.login_user);
	CU_ASSERT_EQUAL(cfg.login_processes, def.login_processes);
	CU_ASSERT_EQUAL(cfg.worker_linger, def.worker_linger);
	CU_ASSERT_EQUAL(cfg.log_level, def.log_level);
	CU_ASSERT_EQUAL(cfg.max_line_length, def.max_line_length);
	CU_ASSERT_EQUAL(cfg.login_timeout, def.login_timeout);
	CU_ASSERT_EQUAL(cfg.max_bad_commands, def.max_bad_commands);
	CU_ASSERT_EQUAL(cfg.max_connections_per_login,
			def.max_connections_per_login);
	CU_ASSERT_EQUAL(cfg.auth_penalty_base_ms, def.auth_penalty_base_ms);
	CU_ASSERT_EQUAL(cfg.auth_penalty_max_ms, def.auth_penalty_max_ms);
	CU_ASSERT_EQUAL(cfg.imap_idle_timeout, def.imap_idle_timeout);
	CU_ASSERT_EQUAL(cfg.first_valid_uid, def.first_valid_uid);
	config_free(&cfg);
	config_free(&def);
	buf_free(&text);
}

static void register_config(void)
{
	CU_pSuite s = CU_add_suite("config", NULL, NULL);
	CU_add_test(s, "defaults", test_defaults);
	CU_add_test(s, "every key", test_every_key);
	CU_add_test(s, "number bounds", test_number_bounds);
	CU_add_test(s, "syntax", test_syntax);
	CU_add_test(s, "errors", test_errors);
	CU_add_test(s, "listen errors", test_listen_errors);
	CU_add_test(s, "NUL byte", test_nul_byte);
	CU_add_test(s, "penalty order", test_penalty_order);
	CU_add_test(s, "load", test_load);
	CU_add_test(s, "sample config", test_sample_config);
}

UNIT_SUITE(register_config)
