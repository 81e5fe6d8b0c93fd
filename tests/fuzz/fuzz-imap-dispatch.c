/* libFuzzer target for the worker's command dispatcher with a real store
 * under it (daemon/imap/worker-session.c, every cmd-*.c, worker-sync.c).
 *
 * Input: the byte stream an authenticated client sends. Once, the target
 * builds a store in a fresh directory under $TMPDIR (default /tmp; removed
 * at exit, or by the next run after a crash) with a few messages
 * (multipart, base64, quoted-printable, a nested message/rfc822, one over
 * the output high-water mark, flags and keywords) and sets up the global
 * worker as worker-main.c does: event loop, MIME cache builder, search
 * index, and a master channel whose other end the target reads. Each input
 * then runs as one session on a socketpair, as if the login process had
 * handed it over with tag "a0": the input goes in pieces of varying size,
 * the output is read and dropped, and the event loop turns until every
 * byte was taken and every response written; then the client hangs up and
 * the session must end. Meanwhile a second session of the user, the
 * observer, has INBOX open (EXAMINE) in IDLE, so whatever the input does
 * to INBOX is told to it as it happens; at the end it leaves IDLE and
 * sends NOOP. A third, the laggard, has INBOX open too but sends nothing
 * while the input runs, so it is told nothing and holds an old view of
 * the mailbox (worker.h: views are shared between sessions, an old one
 * kept for whoever has not been told); at the end it FETCHes by its old
 * numbers, then NOOP, then FETCHes again. A hash of the input cuts the pieces and picks indexed or
 * scanning SEARCH, so a run reproduces.
 *
 * Each input starts from the same store (a copy of a pristine one), so
 * what one input CREATEs, APPENDs or EXPUNGEs cannot change how the next
 * runs and every finding reproduces on its own.
 *
 * Invariants: no crash, leak, undefined behaviour or fatal(); no session
 * stalls (no byte moves for a long run of loop turns while it still has
 * input, work or output); each ends after its hang-up and tells the
 * master exactly once, with its own session id; the observer's sequence
 * numbers stay consistent (EXISTS never shrinks, EXPUNGE and FETCH name a
 * message it has, a FETCH with a UID gives the UID it was told for that
 * number), and so do the laggard's; after their NOOP the count each was
 * told, its view and the store's UIDs of the mailbox agree; once every
 * session ended no mailbox view is left; the store is consistent
 * (store_check) after every input. Any violation aborts.
 *
 * POSTERN_FUZZ_TRACE=1 copies what both sessions write to stderr. */
#include "../../daemon/imap/worker.h"
#include "../../daemon/imap/search-plan.h"

#include "../../common/base64.h"
#include "../../common/ipc-messages.h"
#include "../../common/log.h"
#include "../../store/mime-cache.h"
/* next_blob, to undo an input's blob files without walking the tree */
#include "../../store/store-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz-imap-dispatch: " __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

/* Undefined behaviour is a finding like any other: stop at the first one
 * (the fuzz build recovers from it by default, and the report would be
 * lost in the log of a run that passes). */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/* Loop turns with no byte moving either way before the session counts as
 * stalled. Each turn is a non-blocking epoll pass, so a session that
 * waits for nothing it can get shows up within milliseconds. */
#define FUZZ_STALL_TURNS 2000

static char fuzz_root[256];		/* the mkdtemp directory */
static char fuzz_pristine[300];		/* the store as built */
static char fuzz_live[300];		/* the copy each input runs on */
static uint64_t fuzz_pristine_next_blob;
static struct ipc_channel fuzz_master_peer;	/* the "master" side */
static uint32_t fuzz_next_id;		/* session ids, never reused */
static bool fuzz_trace;		/* POSTERN_FUZZ_TRACE=1 */

/* The client end of one session. */
struct fuzz_client {
	const char *name;	/* for messages */
	uint32_t id;
	int fd;
	const uint8_t *data;	/* what it sends; off bytes of it sent */
	size_t size, off;
	bool open;		/* the session has not closed its side */
	unsigned closed;	/* SESSION_CLOSED frames seen for it */
	/* The observer follows its sequence numbers in what it is told:
	 * told[n - 1] is the UID of its message n, 0 until a FETCH says. */
	bool follow;
	uint32_t exists;
	uint32_t *told;
	size_t told_cap;
	char line[256];
	size_t line_len;
};

static struct fuzz_client fuzz_fuzzed, fuzz_observer, fuzz_laggard;

/* ---- the messages in the store ---------------------------------------- */

static const char fuzz_msg_plain[] =
	"Return-Path: <alice@example.org>\r\n"
	"Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
	"From: Alice Example <alice@example.org>\r\n"
	"Subject: =?UTF-8?Q?Caf=C3=A9_meeting?= tomorrow\r\n"
	"To: Bob <bob@example.com>, carol@example.net\r\n"
	"Cc: \"Dave, D.\" <dave@example.com>\r\n"
	"Message-Id: <B27397-0100000@example.org>\r\n"
	"In-Reply-To: <A1@example.com>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
	"\r\n"
	"Hello Bob, shall we meet at the cafe tomorrow?\r\n"
	"Alice\r\n";

static const char fuzz_msg_mixed[] =
	"Date: Tue, 8 Feb 1994 09:00:00 +0100\r\n"
	"From: Bob <bob@example.com>\r\n"
	"Sender: Secretary <sec@example.com>\r\n"
	"Reply-To: list@example.com\r\n"
	"To: Alice Example <alice@example.org>\r\n"
	"Bcc: archive@example.com\r\n"
	"Subject: Report with attachment\r\n"
	"Message-Id: <m2@example.com>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"outer-b\"\r\n"
	"\r\n"
	"This is a multi-part message in MIME format.\r\n"
	"--outer-b\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Gr=FC=DFe, the report is attached. A soft line=\r\n"
	" break.\r\n"
	"--outer-b\r\n"
	"Content-Type: application/pdf; name=\"report.pdf\"\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
	"Content-ID: <part2@example.com>\r\n"
	"Content-Description: The report\r\n"
	"\r\n"
	"JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCkJU\r\n"
	"IC9GMSAxMiBUZiA3MiA3MjAgVGQgKEhlbGxvKSBUaiBFVAplbmRzdHJlYW0KZW5kb2JqCg==\r\n"
	"--outer-b\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Language: en, de\r\n"
	"\r\n"
	"PGh0bWw+PGJvZHk+PHA+R3LDvMOfZSE8L3A+PC9ib2R5PjwvaHRtbD4K\r\n"
	"--outer-b--\r\n"
	"Epilogue.\r\n";

static const char fuzz_msg_nested[] =
	"Date: Wed, 9 Feb 1994 10:00:00 -0000\r\n"
	"From: Carol <carol@example.net>\r\n"
	"To: undisclosed-recipients:;\r\n"
	"Subject: Fwd: Report with attachment\r\n"
	"Message-Id: <m3@example.net>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=b1\r\n"
	"\r\n"
	"--b1\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"See the forwarded message below.\r\n"
	"--b1\r\n"
	"Content-Type: message/rfc822\r\n"
	"Content-Disposition: inline\r\n"
	"\r\n"
	"Date: Tue, 8 Feb 1994 09:00:00 +0100\r\n"
	"From: Bob <bob@example.com>\r\n"
	"To: Carol <carol@example.net>\r\n"
	"Subject: =?ISO-8859-1?B?R3L832U=?=\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/alternative; boundary=\"b2\"\r\n"
	"\r\n"
	"--b2\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: 8bit\r\n"
	"\r\n"
	"Gr\xc3\xbc\xc3\x9f""e aus Berlin\r\n"
	"--b2\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"\r\n"
	"<p>Gr&uuml;&szlig;e aus Berlin</p>\r\n"
	"--b2--\r\n"
	"\r\n"
	"--b1\r\n"
	"Content-Type: image/png\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE\r\n"
	"hQGAhKmMIQAAAABJRU5ErkJggg==\r\n"
	"--b1--\r\n";

/* Bare LF line ends: the store turns them into CRLF. */
static const char fuzz_msg_lf[] =
	"From: Erin <erin@example.org>\n"
	"To: alice@example.org\n"
	"Subject: short\n"
	"Date: 1 Jan 2024 00:00:00 +0000\n"
	"X-Priority: 1\n"
	"\n"
	"one line\n";

/* A message over the output high-water mark (256 KiB), alone in "Big":
 * FETCH BODY[] of it goes out as a file segment, BINARY[2] is decoded
 * and drained in pieces, and either suspends the command until the
 * client has read. */
static void fuzz_big_message(struct buf *out)
{
	buf_append_str(out,
		"From: Big Sender <big@example.org>\r\n"
		"To: alice@example.org\r\n"
		"Subject: a large message\r\n"
		"Date: Fri, 2 Feb 2024 10:00:00 +0000\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=big\r\n"
		"\r\n"
		"--big\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n"
		"\r\n");
	for (unsigned i = 0; i < 1500; i++)
		buf_printf(out, "line %04u of the text part, with words to "
			   "search for: needle%u haystack\r\n", i, i % 97);
	buf_append_str(out,
		"--big\r\n"
		"Content-Type: application/octet-stream; name=blob.bin\r\n"
		"Content-Transfer-Encoding: base64\r\n"
		"\r\n");
	uint8_t *raw = xmalloc(220 * 1024);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < 220 * 1024; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		raw[i] = (uint8_t)x;
	}
	struct buf b64;
	buf_init(&b64);
	base64_encode(raw, 220 * 1024, &b64);
	for (size_t off = 0; off < b64.len; off += 76) {
		size_t n = b64.len - off < 76 ? b64.len - off : 76;
		buf_append(out, b64.data + off, n);
		buf_append_str(out, "\r\n");
	}
	buf_free(&b64);
	free(raw);
	buf_append_str(out, "--big--\r\n");
}

static const char *const fuzz_kw_fwd[] = { "$Forwarded", "Work" };
static const char *const fuzz_kw_junk[] = { "$Junk" };

/* ---- the store ----------------------------------------------------------- */

static int fuzz_cache_builder(void *ctx, const uint8_t *data, size_t len,
			      struct buf *out)
{
	(void)ctx;
	return mime_cache_build(data, len, NULL, out);
}

static void fuzz_store_attach(void)
{
	store_set_cache_builder(worker.store, fuzz_cache_builder, NULL);
	search_plan_attach(worker.store);
}

static uint32_t fuzz_mailbox_id(const char *name)
{
	struct store_mailbox mb;
	const char *err = NULL;
	FUZZ_CHECK(store_mailbox_get(worker.store, name, &mb, &err) == 1,
		   "mailbox %s: %s", name, err ? err : "missing");
	return mb.id;
}

static void fuzz_append(const char *mailbox, const char *data, unsigned flags,
			const char *const *keywords, size_t nkeywords,
			int64_t internaldate)
{
	struct store_append_msg m = {
		.data = data, .len = strlen(data), .fd = -1, .flags = flags,
		.keywords = keywords, .nkeywords = nkeywords,
		.internaldate = internaldate,
	};
	uint32_t uid;
	const char *err;
	FUZZ_CHECK(store_append(worker.store, fuzz_mailbox_id(mailbox), &m,
				&uid, &err) == 0, "append: %s", err);
}

static void fuzz_store_build(const char *dir)
{
	const char *err;
	FUZZ_CHECK(store_open(dir, STORE_OPEN_CREATE, &worker.store, &err) == 0,
		   "store_open %s: %s", dir, err);
	fuzz_store_attach();
	FUZZ_CHECK(store_mailbox_create(worker.store, "Work/Projects", 0,
					&err) == 0, "create: %s", err);
	FUZZ_CHECK(store_mailbox_create(worker.store, "Caf\xc3\xa9", 0,
					&err) == 0, "create: %s", err);
	FUZZ_CHECK(store_subscribe(worker.store, "Work/Projects", &err) == 0,
		   "subscribe: %s", err);
	fuzz_append("INBOX", fuzz_msg_plain, STORE_FLAG_SEEN, NULL, 0,
		    760686745);
	fuzz_append("INBOX", fuzz_msg_mixed, STORE_FLAG_FLAGGED, fuzz_kw_fwd, 2,
		    760694400);
	fuzz_append("INBOX", fuzz_msg_nested, 0, NULL, 0, 760780800);
	fuzz_append("INBOX", fuzz_msg_lf, STORE_FLAG_DELETED | STORE_FLAG_SEEN,
		    fuzz_kw_junk, 1, 1704067200);
	fuzz_append("INBOX", fuzz_msg_plain, STORE_FLAG_ANSWERED, NULL, 0,
		    1700000000);
	fuzz_append("Work/Projects", fuzz_msg_mixed, STORE_FLAG_DRAFT, NULL, 0,
		    760694400);
	fuzz_append("Work/Projects", fuzz_msg_nested, STORE_FLAG_SEEN, NULL, 0,
		    760780800);
	FUZZ_CHECK(store_mailbox_create(worker.store, "Big", 0, &err) == 0,
		   "create: %s", err);
	struct buf big;
	buf_init(&big);
	fuzz_big_message(&big);
	fuzz_append("Big", buf_cstr(&big), 0, NULL, 0, 1706868000);
	buf_free(&big);
	fuzz_append("Big", fuzz_msg_plain, 0, NULL, 0, 1706868001);
	fuzz_pristine_next_blob = worker.store->next_blob;
	store_close(&worker.store);
}

static int fuzz_rm_one(const char *path, const struct stat *st, int type,
		       struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void fuzz_rm_tree(const char *path)
{
	(void)nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copies from to to; with exclusive, leaves an existing to alone. */
static void fuzz_copy_file(const char *from, const char *to, bool exclusive)
{
	int out = open(to, O_WRONLY | O_CREAT | O_CLOEXEC |
		       (exclusive ? O_EXCL : O_TRUNC), 0600);
	if (out < 0 && exclusive && errno == EEXIST)
		return;
	FUZZ_CHECK(out >= 0, "create %s: %s", to, strerror(errno));
	int in = open(from, O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(in >= 0, "open %s: %s", from, strerror(errno));
	char b[65536];
	ssize_t n;
	while ((n = read(in, b, sizeof(b))) > 0)
		FUZZ_CHECK(write(out, b, (size_t)n) == n, "write %s", to);
	FUZZ_CHECK(n == 0, "read %s: %s", from, strerror(errno));
	close(in);
	close(out);
}

/* A copy of a directory tree of plain files. */
static void fuzz_copy_tree(const char *from, const char *to)
{
	FUZZ_CHECK(mkdir(to, 0700) == 0, "mkdir %s: %s", to, strerror(errno));
	DIR *d = opendir(from);
	FUZZ_CHECK(d != NULL, "opendir %s: %s", from, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char a[512], b[512];
		snprintf(a, sizeof(a), "%s/%s", from, e->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, e->d_name);
		struct stat st;
		FUZZ_CHECK(lstat(a, &st) == 0, "stat %s", a);
		if (S_ISDIR(st.st_mode))
			fuzz_copy_tree(a, b);
		else if (S_ISREG(st.st_mode))
			fuzz_copy_file(a, b, true);
	}
	closedir(d);
}

static void fuzz_blob_file(const char *store_dir, uint64_t id, char *out,
			   size_t size)
{
	char rel[32];
	store_blob_path(id, rel);
	snprintf(out, size, "%s/blobs/%s", store_dir, rel);
}

/* The live store back to the pristine one. Blob files never change once
 * written and their ids only grow, so rather than copying the tree (256
 * fan-out directories) this puts back the index, drops the blobs the
 * input made (ids from the pristine store's next one up to the live
 * one's) and restores any pristine blob the input expunged. */
static void fuzz_store_reset(void)
{
	uint64_t live_next = fuzz_pristine_next_blob;
	if (worker.store != NULL) {
		live_next = worker.store->next_blob;
		store_close(&worker.store);
	}
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/index.mdb", fuzz_pristine);
	snprintf(b, sizeof(b), "%s/index.mdb", fuzz_live);
	fuzz_copy_file(a, b, false);
	for (uint64_t id = fuzz_pristine_next_blob; id < live_next; id++) {
		fuzz_blob_file(fuzz_live, id, b, sizeof(b));
		FUZZ_CHECK(unlink(b) == 0 || errno == ENOENT, "unlink %s: %s",
			   b, strerror(errno));
	}
	for (uint64_t id = 1; id < fuzz_pristine_next_blob; id++) {
		fuzz_blob_file(fuzz_pristine, id, a, sizeof(a));
		fuzz_blob_file(fuzz_live, id, b, sizeof(b));
		if (access(a, F_OK) == 0)
			fuzz_copy_file(a, b, true);
	}
	/* Spool files of an APPEND cut short. */
	snprintf(b, sizeof(b), "%s/tmp", fuzz_live);
	DIR *d = opendir(b);
	FUZZ_CHECK(d != NULL, "opendir %s: %s", b, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			FUZZ_CHECK(unlinkat(dirfd(d), e->d_name, 0) == 0,
				   "unlink tmp/%s: %s", e->d_name,
				   strerror(errno));
	closedir(d);
	const char *err;
	FUZZ_CHECK(store_open(fuzz_live, 0, &worker.store, &err) == 0,
		   "store_open %s: %s", fuzz_live, err);
	fuzz_store_attach();
}

static void fuzz_store_check(void)
{
	struct store_check_report rep;
	memset(&rep, 0, sizeof(rep));
	struct buf details;
	buf_init(&details);
	rep.details = &details;
	const char *err;
	int r = store_check(worker.store, &rep, &err);
	FUZZ_CHECK(r == 0, "store_check: %s %.*s", r < 0 ? err : "problems:",
		   (int)details.len, (const char *)details.data);
	buf_free(&details);
}

/* ---- the worker -------------------------------------------------------- */

static void fuzz_master_io(void *ctx, uint32_t events)
{
	(void)ctx;
	if (events & EPOLLOUT) {
		int r = ipc_channel_flush(&worker.master);
		FUZZ_CHECK(r >= 0, "master channel failed");
		if (r > 0)
			event_mod_fd(worker.loop, worker.master.fd, EPOLLIN);
	}
}

/* What the worker told the "master": SESSION_CLOSED of this input's
 * sessions and nothing else. */
static void fuzz_master_drain(void)
{
	for (;;) {
		struct ipc_msg msg;
		const char *err;
		int r = ipc_channel_recv(&fuzz_master_peer, &msg, &err);
		FUZZ_CHECK(r >= 0, "master peer: %s", err);
		if (r == 0)
			return;
		FUZZ_CHECK(msg.fd < 0, "an fd to the master");
		FUZZ_CHECK(msg.hdr.type == IPC_MSG_WORKER_SESSION_CLOSED,
			   "unexpected message %u to the master", msg.hdr.type);
		if (msg.hdr.session == fuzz_fuzzed.id)
			fuzz_fuzzed.closed++;
		else if (msg.hdr.session == fuzz_observer.id)
			fuzz_observer.closed++;
		else if (msg.hdr.session == fuzz_laggard.id)
			fuzz_laggard.closed++;
		else
			FUZZ_CHECK(0, "SESSION_CLOSED for unknown session %u",
				   msg.hdr.session);
	}
}

static void fuzz_cleanup(void)
{
	if (worker.store != NULL)
		store_close(&worker.store);
	if (fuzz_root[0] != '\0')
		fuzz_rm_tree(fuzz_root);
}

/* A crash ends the process without atexit handlers, leaving its store
 * behind; the next run removes those of processes that are gone. */
static void fuzz_rm_stale(const char *tmp)
{
	DIR *d = opendir(tmp);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		long pid;
		char dash;
		if (sscanf(e->d_name, "postern-fuzz-%ld%c", &pid, &dash) != 2 ||
		    dash != '-' || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
		fuzz_rm_tree(path);
	}
	closedir(d);
}

static void fuzz_init(void)
{
	/* As child_init does for every child. */
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_LEVEL_ERROR);
	const char *trace = getenv("POSTERN_FUZZ_TRACE");
	fuzz_trace = trace != NULL && strcmp(trace, "1") == 0;
	/* TMPDIR=/dev/shm spares the disk the store's fsyncs. */
	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 200)
		tmp = "/tmp";
	fuzz_rm_stale(tmp);
	snprintf(fuzz_root, sizeof(fuzz_root), "%s/postern-fuzz-%ld-XXXXXX",
		 tmp, (long)getpid());
	FUZZ_CHECK(mkdtemp(fuzz_root) != NULL, "mkdtemp: %s", strerror(errno));
	atexit(fuzz_cleanup);
	snprintf(fuzz_pristine, sizeof(fuzz_pristine), "%s/pristine",
		 fuzz_root);
	snprintf(fuzz_live, sizeof(fuzz_live), "%s/live", fuzz_root);
	FUZZ_CHECK(mkdir(fuzz_pristine, 0700) == 0, "mkdir: %s",
		   strerror(errno));
	fuzz_store_build(fuzz_pristine);
	fuzz_copy_tree(fuzz_pristine, fuzz_live);

	worker.user = "fuzz";
	worker.settings.linger_s = 86400;
	worker.settings.max_line = 65536;
	worker.settings.idle_timeout_s = 86400;
	worker.settings.max_bad_commands = 1000000;
	worker.loop = event_loop_new();
	int sv[2];
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
			      SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %s",
		   strerror(errno));
	ipc_channel_init(&worker.master, sv[0]);
	ipc_channel_init(&fuzz_master_peer, sv[1]);
	event_add_fd(worker.loop, sv[0], EPOLLIN, fuzz_master_io, NULL);
}

static void fuzz_stop(void *ctx)
{
	event_loop_stop(ctx);
}

/* One non-blocking pass of the worker's loop: the events that are ready
 * now, then the timers that are due (the last of them stops the loop). */
static void fuzz_turn(void)
{
	event_timer_add(worker.loop, 0, fuzz_stop, worker.loop);
	event_loop_run(worker.loop);
}

static struct worker_session *fuzz_session(const struct fuzz_client *c)
{
	for (struct worker_session *s = worker.sessions; s != NULL;
	     s = s->next)
		if (s->id == c->id)
			return s;
	return NULL;
}

/* One line a follower was told: "* n EXISTS" never shrinks the
 * mailbox, "* n EXPUNGE" and "* n FETCH" name a message it has (RFC 9051
 * 7.5.1, 7.4.1), and a FETCH with a UID gives the one it was told for n
 * before, if any. */
static void fuzz_observe_line(struct fuzz_client *c)
{
	c->line[c->line_len] = '\0';
	unsigned long n;
	unsigned uid;
	char what[16];
	if (sscanf(c->line, "* %lu %15[A-Z]", &n, what) != 2)
		return;
	if (strcmp(what, "EXISTS") == 0) {
		FUZZ_CHECK(n >= c->exists, "%s: EXISTS %lu after %u",
			   c->name, n, c->exists);
		if (n > c->told_cap) {
			c->told = xrealloc(c->told, n * sizeof(*c->told));
			c->told_cap = n;
		}
		if (n > c->exists)
			memset(c->told + c->exists, 0,
			       (n - c->exists) * sizeof(*c->told));
		c->exists = (uint32_t)n;
	} else if (strcmp(what, "EXPUNGE") == 0) {
		FUZZ_CHECK(n >= 1 && n <= c->exists,
			   "%s: EXPUNGE %lu of %u", c->name, n, c->exists);
		memmove(c->told + n - 1, c->told + n,
			(c->exists - n) * sizeof(*c->told));
		c->exists--;
	} else if (strcmp(what, "FETCH") == 0) {
		FUZZ_CHECK(n >= 1 && n <= c->exists,
			   "%s: FETCH %lu of %u", c->name, n, c->exists);
		if (sscanf(c->line, "* %lu FETCH (UID %u", &n, &uid) != 2)
			return;
		FUZZ_CHECK(c->told[n - 1] == 0 || c->told[n - 1] == uid,
			   "%s: FETCH %lu is UID %u, was told %u", c->name, n,
			   uid, c->told[n - 1]);
		c->told[n - 1] = uid;
	}
}

static void fuzz_observe(struct fuzz_client *c, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\n') {
			fuzz_observe_line(c);
			c->line_len = 0;
		} else if (c->line_len < sizeof(c->line) - 1) {
			c->line[c->line_len++] = b[i];
		}
	}
}

/* Reads what the session wrote; *moved counts it. */
static void fuzz_client_drain(struct fuzz_client *c, size_t *moved)
{
	char b[65536];
	while (c->fd >= 0) {
		ssize_t n = recv(c->fd, b, sizeof(b), MSG_DONTWAIT);
		if (n > 0) {
			*moved += (size_t)n;
			if (fuzz_trace)
				fwrite(b, 1, (size_t)n, stderr);
			if (c->follow)
				fuzz_observe(c, b, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno == ECONNRESET) {
			c->open = false;	/* LOGOUT, BYE */
			return;
		}
		FUZZ_CHECK(errno == EAGAIN || errno == EWOULDBLOCK,
			   "client recv: %s", strerror(errno));
		return;
	}
}

/* Piece sizes: mostly large, sometimes a few bytes, from a hash of the
 * input so the same input is always cut the same way. */
static uint64_t fuzz_rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static size_t fuzz_piece(uint64_t *rng)
{
	uint64_t r = fuzz_rng_next(rng);
	switch (r & 3) {
	case 0: return 1 + (r >> 8) % 16;
	case 1: return 1 + (r >> 8) % 512;
	default: return 65536;
	}
}

/* Sends the next piece, if any; *moved counts it. */
static void fuzz_client_send(struct fuzz_client *c, uint64_t *rng,
			     size_t *moved)
{
	if (c->fd < 0 || !c->open || c->off == c->size)
		return;
	size_t n = fuzz_piece(rng);
	if (n > c->size - c->off)
		n = c->size - c->off;
	ssize_t w = send(c->fd, c->data + c->off, n,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w > 0) {
		c->off += (size_t)w;
		*moved += (size_t)w;
	} else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		c->open = false;	/* EPIPE: the session is gone */
	}
}

static int fuzz_unread(int fd)
{
	int n = 0;
	FUZZ_CHECK(ioctl(fd, FIONREAD, &n) == 0, "FIONREAD: %s",
		   strerror(errno));
	return n;
}

/* The session took every byte sent and wrote out every response: nothing
 * more can happen until its client sends again. */
static bool fuzz_client_idle(const struct fuzz_client *c)
{
	const struct worker_session *s = fuzz_session(c);
	if (s == NULL)
		return true;
	if ((c->off < c->size && c->open) ||
	    (c->fd >= 0 && fuzz_unread(c->fd) > 0))
		return false;
	return s->resume == NULL && s->net.out.len == 0 && s->out_left == 0 &&
	       (s->net.in.len == 0 || s->closing) &&
	       fuzz_unread(s->net.fd) == 0;
}

static void fuzz_stalled(const struct fuzz_client *c, const char *when)
{
	const struct worker_session *s = fuzz_session(c);
	FUZZ_CHECK(s == NULL, "%s session stalled %s: in %zu out %zu file "
		   "%llu resume %d closing %d idle %d eof %d failed %d "
		   "unread %d", c->name, when, s->net.in.len, s->net.out.len,
		   (unsigned long long)s->out_left, s->resume != NULL,
		   s->closing, s->idle_tag != NULL, s->net.eof, s->net.failed,
		   fuzz_unread(s->net.fd));
	FUZZ_CHECK(0, "%s client stalled %s", c->name, when);
}

/* Turns the loop until both sessions are idle; a session for which no
 * byte moves either way for FUZZ_STALL_TURNS turns while it is not is
 * stuck. */
static void fuzz_run(uint64_t *rng)
{
	struct fuzz_client *cs[] = { &fuzz_fuzzed, &fuzz_observer,
				     &fuzz_laggard };
	const size_t ncs = sizeof(cs) / sizeof(cs[0]);
	unsigned still = 0;
	for (;;) {
		size_t moved = 0;
		for (size_t i = 0; i < ncs; i++)
			fuzz_client_send(cs[i], rng, &moved);
		fuzz_turn();
		for (size_t i = 0; i < ncs; i++)
			fuzz_client_drain(cs[i], &moved);
		fuzz_master_drain();
		size_t busy = ncs;
		for (size_t i = 0; i < ncs; i++)
			if (!fuzz_client_idle(cs[i]))
				busy = i;
		if (busy == ncs)
			return;
		if (moved > 0)
			still = 0;
		else if (++still > FUZZ_STALL_TURNS)
			fuzz_stalled(cs[busy], "while running");
	}
}

static void fuzz_client_start(struct fuzz_client *c, const char *name,
			      const char *tag, bool follow)
{
	free(c->told);
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->follow = follow;
	c->open = true;
	c->id = ++fuzz_next_id;
	int sv[2];
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
			      SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %s",
		   strerror(errno));
	c->fd = sv[1];
	worker_session_new(c->id, sv[0], tag, false, 0, "192.0.2.1:1143",
			   NULL, 0);
}

/* The client hangs up; the session must notice, end, and tell the
 * master once. */
static void fuzz_client_hangup(struct fuzz_client *c)
{
	close(c->fd);
	c->fd = -1;
	for (unsigned turns = 0; fuzz_session(c) != NULL; turns++) {
		if (turns > FUZZ_STALL_TURNS)
			fuzz_stalled(c, "after the hang-up");
		fuzz_turn();
	}
	/* SESSION_CLOSED may wait in the channel's queue for a turn. */
	fuzz_master_drain();
	for (unsigned turns = 0; c->closed == 0 && turns < 16; turns++) {
		fuzz_turn();
		fuzz_master_drain();
	}
	FUZZ_CHECK(c->closed == 1, "%s: SESSION_CLOSED told %u times",
		   c->name, c->closed);
}

/* After a NOOP a follower knows the mailbox as it is: its view of the
 * UIDs is the store's, and the count it was told is the view's; it was
 * told the UIDs it knows of by its view's numbers. */
static void fuzz_observer_check(struct fuzz_client *c)
{
	const struct worker_session *s = fuzz_session(c);
	FUZZ_CHECK(s != NULL, "%s: session ended", c->name);
	if (s->selected == NULL)
		return;
	const struct store_seqmap *view = mailbox_view_map(s->selected->view);
	FUZZ_CHECK(c->exists == view->count,
		   "%s: told %u messages, its view has %zu", c->name,
		   c->exists, view->count);
	for (size_t i = 0; i < view->count; i++)
		FUZZ_CHECK(c->told[i] == 0 || c->told[i] == view->uids[i],
			   "%s: message %zu is UID %u, was told %u", c->name,
			   i + 1, view->uids[i], c->told[i]);
	struct store_mailbox mb;
	const char *err;
	int r = store_mailbox_get_by_id(worker.store, s->selected->mailbox_id,
					&mb, &err);
	FUZZ_CHECK(r >= 0, "%s: %s", c->name, err);
	if (r == 0 || (mb.attributes & STORE_ATTR_NOSELECT))
		return;		/* deleted: it keeps its view (worker.h) */
	struct store_seqmap map;
	memset(&map, 0, sizeof(map));
	FUZZ_CHECK(store_seqmap_load(worker.store, mb.id, &map, &err) == 0,
		   "%s: %s", c->name, err);
	FUZZ_CHECK(map.count == view->count &&
		   (map.count == 0 ||
		    memcmp(map.uids, view->uids,
			   map.count * sizeof(*map.uids)) == 0),
		   "%s: view of %zu UIDs, store has %zu", c->name,
		   view->count, map.count);
	store_seqmap_free(&map);
}

static const char fuzz_observer_start[] = "o1 EXAMINE INBOX\r\no2 IDLE\r\n";
static const char fuzz_observer_end[] = "DONE\r\no3 NOOP\r\n";
/* The laggard learns its numbering, then is silent while the input runs;
 * its first FETCH after that is by the old numbers (no EXPUNGE may come
 * with it), the one after NOOP by the new. */
static const char fuzz_laggard_start[] =
	"l1 EXAMINE INBOX\r\nl2 FETCH 1:* (UID)\r\n";
static const char fuzz_laggard_end[] =
	"l3 FETCH 1:* (UID)\r\nl4 NOOP\r\nl5 FETCH 1:* (UID)\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		fuzz_init();
		ready = true;
	}
	fuzz_store_reset();
	FUZZ_CHECK(worker.session_count == 0, "a session left over");

	uint64_t rng = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < size; i++)
		rng = (rng ^ data[i]) * 0x100000001b3ull;
	if (rng == 0)
		rng = 1;
	/* SEARCH by the index for some inputs, by scanning for the others
	 * (the worker's POSTERN_SEARCH_INDEX=0): both must hold up. */
	search_plan_enabled = (rng >> 63) != 0;

	/* A second session of the user has INBOX open in IDLE meanwhile:
	 * what the fuzzed one changes there reaches it at once. */
	fuzz_client_start(&fuzz_observer, "observer", "o0", true);
	fuzz_observer.data = (const uint8_t *)fuzz_observer_start;
	fuzz_observer.size = sizeof(fuzz_observer_start) - 1;
	fuzz_client_start(&fuzz_laggard, "laggard", "l0", true);
	fuzz_laggard.data = (const uint8_t *)fuzz_laggard_start;
	fuzz_laggard.size = sizeof(fuzz_laggard_start) - 1;
	fuzz_client_start(&fuzz_fuzzed, "fuzzed", "a0", false);
	fuzz_run(&rng);
	fuzz_fuzzed.data = data;
	fuzz_fuzzed.size = size;
	fuzz_run(&rng);
	fuzz_client_hangup(&fuzz_fuzzed);

	fuzz_observer.data = (const uint8_t *)fuzz_observer_end;
	fuzz_observer.off = 0;
	fuzz_observer.size = sizeof(fuzz_observer_end) - 1;
	fuzz_laggard.data = (const uint8_t *)fuzz_laggard_end;
	fuzz_laggard.off = 0;
	fuzz_laggard.size = sizeof(fuzz_laggard_end) - 1;
	fuzz_run(&rng);
	fuzz_observer_check(&fuzz_observer);
	fuzz_observer_check(&fuzz_laggard);
	fuzz_client_hangup(&fuzz_observer);
	fuzz_client_hangup(&fuzz_laggard);
	FUZZ_CHECK(worker.views.list == NULL &&
		   mailbox_view_live_count() == 0,
		   "mailbox views left after every session ended: %zu",
		   mailbox_view_live_count());

	fuzz_store_check();
	return 0;
}
