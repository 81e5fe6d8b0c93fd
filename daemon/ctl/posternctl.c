/* posternctl: the administrator's client of the master's control socket. */
#include "../../common/config.h"
#include "../../common/ipc.h"
#include "../../common/ipc-messages.h"
#include "../../common/log.h"
#include "ctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: posternctl [-c FILE] COMMAND [--json]\n"
		"commands:\n"
		"  status        every process: role, pid, uid, uptime\n"
		"  who           logged-in users: sessions, worker pid, addresses\n"
		"  kick USER     end every session of USER (BYE)\n"
		"  reload        re-read the configuration (like SIGHUP)\n"
		"  stop          shut the server down\n"
		"  import USER PATH [--mailbox NAME]\n"
		"                an mbox file or a maildir (and its Maildir++\n"
		"                folders) into USER's store (default INBOX)\n"
		"  export USER MAILBOX DIR\n"
		"                MAILBOX of USER as a maildir in DIR\n"
		"  reindex USER [MAILBOX]\n"
		"                rebuild the search index of USER's store (or\n"
		"                of one mailbox)\n"
		"  index-status USER\n"
		"                search index of USER: size, stored text, mail\n"
		"                size, documents held (pending merge)\n"
		"options:\n"
		"  -c FILE       configuration file (default %s)\n"
		"  --json        machine-readable output (status, who)\n"
		"exit status: 0 success, 1 failure, 2 usage error, 3 (import,\n"
		"export, reindex) done but some messages were skipped\n",
		POSTERN_DEFAULT_CONFIG);
}

static int ctl_connect(const char *run_dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock",
			 run_dir);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		fprintf(stderr, "posternctl: run_dir path too long\n");
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "posternctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (e == ENOENT || e == ECONNREFUSED)
			fprintf(stderr, "posternctl: posternd is not running "
				"(no server at %s)\n", sa.sun_path);
		else if (e == EACCES || e == EPERM)
			fprintf(stderr, "posternctl: permission denied on %s: "
				"run posternctl as root\n", sa.sun_path);
		else
			fprintf(stderr, "posternctl: %s: %s\n", sa.sun_path,
				strerror(e));
		close(fd);
		return -1;
	}
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "mailbox", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = POSTERN_DEFAULT_CONFIG;
	const char *mailbox = NULL;
	bool json = false;
	int opt;
	log_init("posternctl", LOG_SINK_STDERR);
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'j': json = true; break;
		case 'm': mailbox = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind];
	bool offline = strcmp(cmd, "import") == 0 ||
		       strcmp(cmd, "export") == 0 ||
		       strcmp(cmd, "reindex") == 0 ||
		       strcmp(cmd, "index-status") == 0;
	if ((mailbox != NULL && strcmp(cmd, "import") != 0) ||
	    (offline && json)) {
		usage(stderr);
		return 2;
	}
	if (offline) {
		/* Offline store tools: they work on the store, not through
		 * the daemon (see ctl.h). */
		struct postern_config cfg;
		config_init_defaults(&cfg);
		char *error = NULL;
		if (config_load(&cfg, config_path, &error) < 0) {
			fprintf(stderr, "posternctl: %s\n", error);
			free(error);
			config_free(&cfg);
			return 1;
		}
		int n = argc - optind - 1;
		char *const *args = argv + optind + 1;
		int r;
		if (strcmp(cmd, "import") == 0)
			r = ctl_import_main(&cfg, n, args, mailbox);
		else if (strcmp(cmd, "export") == 0)
			r = ctl_export_main(&cfg, n, args);
		else if (strcmp(cmd, "reindex") == 0)
			r = ctl_reindex_main(&cfg, n, args);
		else
			r = ctl_index_status_main(&cfg, n, args);
		config_free(&cfg);
		return r;
	}
	const char *arg = optind + 1 < argc ? argv[optind + 1] : "";
	bool needs_arg = strcmp(cmd, "kick") == 0;
	if ((needs_arg && arg[0] == '\0') ||
	    (!needs_arg && optind + 1 < argc) || (needs_arg && optind + 2 < argc)) {
		usage(stderr);
		return 2;
	}
	static const char *const known[] = { "status", "who", "kick", "reload",
					     "stop" };
	bool ok = false;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		ok = ok || strcmp(cmd, known[i]) == 0;
	if (!ok) {
		fprintf(stderr, "posternctl: unknown command %s\n", cmd);
		usage(stderr);
		return 2;
	}
	struct postern_config cfg;
	config_init_defaults(&cfg);
	char *error = NULL;
	if (config_load(&cfg, config_path, &error) < 0) {
		fprintf(stderr, "posternctl: %s\n", error);
		return 1;
	}
	int fd = ctl_connect(cfg.run_dir);
	if (fd < 0)
		return 1;
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_CTL_REQUEST, 0);
	ipc_put_u32(&f, IPC_PROTOCOL_VERSION);
	ipc_put_str(&f, cmd);
	ipc_put_str(&f, arg);
	ipc_put_u8(&f, json ? 1 : 0);
	ipc_frame_end(&f, false);
	if (ipc_send_blocking(fd, &f, -1) < 0) {
		fprintf(stderr, "posternctl: sending the request failed: %s\n",
			strerror(errno));
		return 1;
	}
	uint8_t *rx = xmalloc(IPC_MAX_FRAME + 1);
	struct ipc_msg msg;
	const char *rerr;
	if (ipc_recv_blocking(fd, rx, IPC_MAX_FRAME + 1, &msg, &rerr) <= 0 ||
	    msg.hdr.type != IPC_MSG_CTL_REPLY) {
		fprintf(stderr, "posternctl: no valid reply from posternd "
			"(%s)\n", rerr ? rerr : "wrong message");
		return 1;
	}
	struct ipc_reader r;
	uint8_t success;
	const uint8_t *text;
	size_t text_len;
	ipc_reader_init(&r, msg.payload, msg.hdr.length);
	if (!ipc_get_u8(&r, &success) || !ipc_get_bytes(&r, &text, &text_len) ||
	    !ipc_reader_done(&r)) {
		fprintf(stderr, "posternctl: malformed reply from posternd\n");
		return 1;
	}
	fwrite(text, 1, text_len, success ? stdout : stderr);
	close(fd);
	free(rx);
	buf_free(&f);
	config_free(&cfg);
	return success ? 0 : 1;
}
