/* libFuzzer target: config_parse on arbitrary text. Beyond "no crash, no
 * leak" it checks what a caller relies on: an error is one
 * "fuzz.conf:<line>: ..." string, and an accepted config is one the daemon
 * can use (absolute paths, sane names, at most CONFIG_MAX_LISTEN
 * listeners, penalty max not below base). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/config.h"

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void check_name(const char *s)
{
	check(s != NULL && s[0] != '\0' && strpbrk(s, "/ \t\n#") == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct postern_config cfg;
	char *error = NULL;
	config_init_defaults(&cfg);
	int r = config_parse(&cfg, "fuzz.conf", (const char *)data, size,
			     &error);
	if (r < 0) {
		check(r == -1);
		check(error != NULL);
		check(strncmp(error, "fuzz.conf:", 10) == 0);
		char *end;
		unsigned long line = strtoul(error + 10, &end, 10);
		check(end != error + 10 && end[0] == ':' && end[1] == ' ');
		/* the line exists in the input */
		size_t lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += data[i] == '\n';
		check(line >= 1 && line <= lines);
		free(error);
	} else {
		check(r == 0);
		check(error == NULL);
		/* "listen =" may leave none (a TLS-only server) */
		check(cfg.listen_count <= CONFIG_MAX_LISTEN);
		for (size_t i = 0; i < cfg.listen_count; i++) {
			const struct config_listen *l = &cfg.listen[i];
			check(l->addr.ss_family == AF_INET ||
			      l->addr.ss_family == AF_INET6);
			check(l->addr_len > 0);
			check(memchr(l->text, '\0', sizeof(l->text)) != NULL);
		}
		check(cfg.mail_root != NULL && cfg.mail_root[0] == '/');
		check(cfg.run_dir != NULL && cfg.run_dir[0] == '/');
		check_name(cfg.pam_service);
		check_name(cfg.login_user);
		check(cfg.log_level >= 0 && cfg.log_level <= 3);
		check(cfg.auth_penalty_max_ms >= cfg.auth_penalty_base_ms);
	}
	config_free(&cfg);
	return 0;
}
