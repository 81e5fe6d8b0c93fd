/* Every IPC message type, who may send it to whom, and its payload.
 * Bump IPC_PROTOCOL_VERSION when a payload changes: all processes come from
 * one binary, so the version mostly guards posternctl against a daemon of
 * another build.
 *
 * Strings are ipc_put_str, byte strings ipc_put_bytes, numbers fixed-width
 * little-endian. "(fd)" marks a message that carries a file descriptor. */
#ifndef POSTERN_IPC_MESSAGES_H
#define POSTERN_IPC_MESSAGES_H

#define IPC_PROTOCOL_VERSION 2

enum ipc_msg_type {
	IPC_MSG_NONE = 0,

	/* any child -> master. Sent from the SIGSYS handler before the
	 * process dies, so the master can name the syscall.
	 * u32 syscall number, u32 audit arch */
	IPC_MSG_SANDBOX_VIOLATION = 1,

	/* master -> login: settings; first message, again on reload.
	 * u32 max_line, u32 idle_timeout_s, u32 max_bad_commands,
	 * u32 max_connections, str chroot_dir, u32 uid, u32 gid,
	 * u8 dev_mode (no chroot or uid change), u8 log_level,
	 * u8 plaintext_auth (enum config_plaintext_auth). chroot and
	 * ids are used once, at LOGIN_START. */
	IPC_MSG_LOGIN_CONFIG = 10,
	/* master -> login (fd): a listening socket. u8 tls, str label */
	IPC_MSG_LOGIN_LISTENER = 11,
	/* master -> login: all settings sent; sandbox and start accepting. */
	IPC_MSG_LOGIN_START = 12,
	/* login -> master: check credentials. session = login's own id.
	 * str mechanism, bytes authzid, bytes user, bytes password,
	 * str remote address, str local address */
	IPC_MSG_AUTH_REQUEST = 13,
	/* master -> login: verdict. session = login's id.
	 * u8 result (enum ipc_auth_result), str user (canonical, on OK) */
	IPC_MSG_AUTH_REPLY = 14,
	/* login -> master (fd): hand an authenticated session on.
	 * Allowed only after AUTH_REPLY OK for that session.
	 * str tag, u8 tls, u32 enabled caps, str remote, str local,
	 * bytes client input already read after the LOGIN/AUTHENTICATE line,
	 * str tls ("TLS1.3/AES-256-GCM"; empty for plaintext). The fd is the
	 * client socket, or for TLS the worker's end of a socketpair the
	 * login process proxies plaintext over. */
	IPC_MSG_SESSION_HANDOFF = 15,
	/* login -> master: the session ended before hand-off (frees state). */
	IPC_MSG_SESSION_GONE = 16,
	/* master -> login: TLS credentials, after LOGIN_CONFIG and before
	 * LOGIN_START; again on reload (new connections use the new ones).
	 * bytes certificate chain PEM, bytes private key PEM, str priority.
	 * Not sent when TLS is not configured. The login process wipes the
	 * PEM bytes once GnuTLS has loaded them. */
	IPC_MSG_LOGIN_TLS = 17,

	/* master -> auth: settings. str pam_service, u32 penalty_base_ms,
	 * u32 penalty_max_ms, u8 log_level */
	IPC_MSG_AUTH_CONFIG = 20,
	/* master -> auth: session = master's request id.
	 * bytes user, bytes password, str remote address */
	IPC_MSG_AUTH_CHECK = 21,
	/* auth -> master: session = request id.
	 * u8 result, str canonical user, u32 uid, u32 gid,
	 * u32 ngroups, ngroups x u32 gid, str home */
	IPC_MSG_AUTH_RESULT = 22,

	/* master -> worker: who it is and where its store is. Sent once,
	 * before anything else; the worker drops privileges after it.
	 * str user, u32 uid, u32 gid, u32 ngroups, ngroups x u32,
	 * str store_dir (absolute), u32 linger_s, u32 max_line,
	 * u32 idle_timeout_s, u32 max_bad_commands, u8 dev_mode,
	 * u8 log_level */
	IPC_MSG_WORKER_INIT = 30,
	/* master -> worker (fd): a new session. session = master's id.
	 * str tag, u8 tls, u32 enabled caps, str remote, str local,
	 * bytes pending input */
	IPC_MSG_WORKER_SESSION = 31,
	/* worker -> master: a session ended. session = master's id. */
	IPC_MSG_WORKER_SESSION_CLOSED = 32,
	/* worker -> master: idle past linger; may I exit? */
	IPC_MSG_WORKER_EXIT_REQUEST = 33,
	/* master -> worker: yes, no session is on its way to you. */
	IPC_MSG_WORKER_EXIT_OK = 34,
	/* master -> worker: end every session with BYE (posternctl kick).
	 * str reason */
	IPC_MSG_WORKER_KICK = 35,
	/* master -> any child: finish and exit (shutdown). */
	IPC_MSG_SHUTDOWN = 36,

	/* posternctl -> master: u32 protocol version, str command,
	 * str argument, u8 json */
	IPC_MSG_CTL_REQUEST = 50,
	/* master -> posternctl: u8 ok, str text */
	IPC_MSG_CTL_REPLY = 51,

	IPC_MSG_TYPE_MAX
};

enum ipc_auth_result {
	IPC_AUTH_OK = 0,
	IPC_AUTH_FAILED = 1,	/* wrong credentials, unknown user */
	IPC_AUTH_REFUSED = 2,	/* account expired or locked */
	IPC_AUTH_TEMPFAIL = 3,	/* PAM or system error; try later */
};

/* Capabilities a client enabled before hand-off (bit set). */
#define IPC_CAP_IMAP4REV2 0x0001u
#define IPC_CAP_UTF8_ACCEPT 0x0002u

/* Bounds the decoders apply to strings. */
#define IPC_MAX_USER 256
#define IPC_MAX_PASSWORD 1024
#define IPC_MAX_ADDR 128
#define IPC_MAX_TAG 1024
#define IPC_MAX_PATH 4096
#define IPC_MAX_GROUPS 256
#define IPC_MAX_TLS_INFO 64
#define IPC_MAX_TLS_PRIORITY 1024

#endif
