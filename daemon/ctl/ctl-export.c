/* posternctl export USER MAILBOX DIR: a mailbox as a maildir, as the user.
 *
 * Each message becomes one file in DIR/cur, its bytes exactly as stored
 * (CRLF line ends), its mtime the INTERNALDATE and its flags in the name
 * (":2,DFPRST" plus Dovecot keyword letters listed in dovecot-keywords).
 * Files are written in DIR/tmp and renamed into cur/ (never over an
 * existing name), so a reader of the maildir never sees half a message;
 * a batch of files is made durable with one syncfs() before its renames,
 * and cur/ is fsynced after them. */
#include "ctl.h"

#include "../../common/buf.h"
#include "../../common/config.h"
#include "../../store/import-maildir.h"
#include "../../store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPORT_BATCH	500
#define SKIP_REPORT_MAX	100

struct export_msg {
	uint32_t uid;
	uint64_t blob_id;
	int64_t internaldate;
	uint64_t size;
	unsigned flags;
	bool passed;
	uint32_t keywords;	/* letters, after the table is known */
	char **kw;		/* other keywords, owned */
	size_t nkw;
};

struct exporter {
	const char *mailbox;
	const char *dir;
	struct store *s;
	struct store_mailbox mb;
	struct export_msg *msgs;
	size_t n, cap;
	/* dovecot-keywords of DIR: existing ones first */
	char *kwnames[MAILDIR_KEYWORDS_MAX];
	bool kw_changed;
	uint64_t kw_dropped;	/* keywords beyond the 26 letters */
	int dirfd, tmpfd, curfd;
	char host[256];
	uint64_t exported, skipped, skip_reports;
	bool failed;
	struct ctl_progress prog;
};

static void skip(struct exporter *ex, uint32_t uid, const char *why)
{
	ex->skipped++;
	if (++ex->skip_reports > SKIP_REPORT_MAX)
		return;
	if (ex->prog.tty && ex->prog.drawn) {
		fputs("\r\033[K", stderr);
		ex->prog.drawn = false;
	}
	fprintf(stderr, "posternctl: %s UID %u: %s, skipped\n", ex->mailbox,
		uid, why);
}

static int collect(void *ctx, const struct store_message *m)
{
	struct exporter *ex = ctx;
	if (ex->n == ex->cap) {
		ex->cap = ex->cap ? ex->cap * 2 : 1024;
		ex->msgs = xrealloc(ex->msgs, ex->cap * sizeof(*ex->msgs));
	}
	struct export_msg *e = &ex->msgs[ex->n++];
	memset(e, 0, sizeof(*e));
	e->uid = m->uid;
	e->blob_id = m->blob_id;
	e->internaldate = m->internaldate;
	e->size = m->size;
	e->flags = m->flags & STORE_FLAGS_STORED;
	if (m->nkeywords > 0)
		e->kw = xcalloc(m->nkeywords, sizeof(char *));
	for (size_t i = 0; i < m->nkeywords; i++) {
		if (strcasecmp(m->keywords[i], MAILDIR_FORWARDED) == 0)
			e->passed = true;
		else
			e->kw[e->nkw++] = xstrdup(m->keywords[i]);
	}
	return 0;
}

/* ---- dovecot-keywords ---- */

static void kw_load(struct exporter *ex)
{
	int fd = openat(ex->dirfd, "dovecot-keywords", O_RDONLY | O_NOFOLLOW |
			O_CLOEXEC);
	if (fd < 0)
		return;
	struct buf b;
	buf_init(&b);
	uint8_t tmp[4096];
	ssize_t n;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0 && b.len < 65536)
		buf_append(&b, tmp, (size_t)n);
	close(fd);
	const uint8_t *names[MAILDIR_KEYWORDS_MAX];
	size_t lens[MAILDIR_KEYWORDS_MAX];
	maildir_keywords_parse(b.data, b.len, names, lens);
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		if (names[i] != NULL)
			ex->kwnames[i] = xstrndup((const char *)names[i],
						  lens[i]);
	buf_free(&b);
}

/* The letter of a keyword, adding it to the table; -1 if it is full. */
static int kw_letter(struct exporter *ex, const char *name)
{
	int free_slot = -1;
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if (ex->kwnames[i] == NULL) {
			if (free_slot < 0)
				free_slot = i;
		} else if (strcasecmp(ex->kwnames[i], name) == 0) {
			return i;
		}
	}
	if (free_slot >= 0) {
		ex->kwnames[free_slot] = xstrdup(name);
		ex->kw_changed = true;
	}
	return free_slot;
}

static int kw_save(struct exporter *ex)
{
	if (!ex->kw_changed)
		return 0;
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		if (ex->kwnames[i] != NULL)
			buf_printf(&b, "%d %s\n", i, ex->kwnames[i]);
	char tmpname[64];
	snprintf(tmpname, sizeof(tmpname), "dovecot-keywords.%d.tmp",
		 (int)getpid());
	int fd = openat(ex->dirfd, tmpname, O_WRONLY | O_CREAT | O_TRUNC |
			O_NOFOLLOW | O_CLOEXEC, 0600);
	int r = -1;
	if (fd >= 0 && write(fd, b.data, b.len) == (ssize_t)b.len &&
	    fsync(fd) == 0 &&
	    renameat(ex->dirfd, tmpname, ex->dirfd, "dovecot-keywords") == 0)
		r = 0;
	if (r < 0)
		fprintf(stderr, "posternctl: %s/dovecot-keywords: %s\n",
			ex->dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return r;
}

/* ---- files ---- */

static int copy_fd(int in, int out)
{
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
		    errno != EOPNOTSUPP)
			return -1;
		break;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			off += w;
		}
	}
}

/* Maildir names must not hold '/' or ':' (the info separator). */
static void sanitize_host(char *h)
{
	struct buf b;
	buf_init(&b);
	for (const char *p = h; *p != '\0'; p++) {
		if (*p == '/')
			buf_append_str(&b, "\\057");
		else if (*p == ':')
			buf_append_str(&b, "\\072");
		else
			buf_append_byte(&b, (uint8_t)*p);
	}
	snprintf(h, 256, "%s", buf_cstr(&b));
	buf_free(&b);
}

static void base_name(const struct exporter *ex, const struct export_msg *e,
		      char *out, size_t size)
{
	snprintf(out, size, "%lld.P%dV%uU%u.%s,S=%llu",
		 (long long)e->internaldate, (int)getpid(), ex->mb.uidvalidity,
		 e->uid, ex->host, (unsigned long long)e->size);
}

/* Writes the message into tmp/; 1 written, 0 skipped, -1 hard error. */
static int write_tmp(struct exporter *ex, const struct export_msg *e)
{
	char name[512];
	base_name(ex, e, name, sizeof(name));
	int src;
	const char *error;
	if (store_message_open(ex->s, e->blob_id, &src, &error) < 0) {
		if (store_last_error(ex->s) == STORE_ERR_CORRUPT) {
			skip(ex, e->uid, error);
			return 0;
		}
		fprintf(stderr, "posternctl: %s\n", error);
		return -1;
	}
	int dst = openat(ex->tmpfd, name, O_WRONLY | O_CREAT | O_EXCL |
			 O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dst < 0) {
		fprintf(stderr, "posternctl: %s/tmp/%s: %s\n", ex->dir, name,
			strerror(errno));
		close(src);
		return -1;
	}
	struct timespec ts[2] = {
		{ .tv_sec = (time_t)e->internaldate },
		{ .tv_sec = (time_t)e->internaldate },
	};
	int r = copy_fd(src, dst) == 0 && futimens(dst, ts) == 0 ? 1 : -1;
	if (r < 0)
		fprintf(stderr, "posternctl: %s/tmp/%s: %s\n", ex->dir, name,
			strerror(errno));
	close(src);
	if (close(dst) < 0 && r > 0) {
		fprintf(stderr, "posternctl: %s/tmp/%s: %s\n", ex->dir, name,
			strerror(errno));
		r = -1;
	}
	return r;
}

static int move_to_cur(struct exporter *ex, struct export_msg *e)
{
	char base[512], info[40], final[600];
	base_name(ex, e, base, sizeof(base));
	maildir_info_format(e->flags, e->passed, e->keywords, info,
			    sizeof(info));
	snprintf(final, sizeof(final), "%s:%s", base, info);
	/* Never replace a file already there: a maildir is append-only. */
	if (renameat2(ex->tmpfd, base, ex->curfd, final,
		      RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EINVAL || errno == ENOSYS) {
		if (linkat(ex->tmpfd, base, ex->curfd, final, 0) == 0 &&
		    unlinkat(ex->tmpfd, base, 0) == 0)
			return 0;
	}
	fprintf(stderr, "posternctl: %s/cur/%s: %s\n", ex->dir, final,
		strerror(errno));
	unlinkat(ex->tmpfd, base, 0);
	return -1;
}

static int export_batch(struct exporter *ex, size_t from, size_t to)
{
	bool *written = xcalloc(to - from, sizeof(bool));
	int r = 0;
	for (size_t i = from; i < to && r == 0; i++) {
		int w = write_tmp(ex, &ex->msgs[i]);
		if (w < 0)
			r = -1;
		written[i - from] = w > 0;
	}
	if (r == 0 && syncfs(ex->tmpfd) < 0) {
		fprintf(stderr, "posternctl: syncfs %s: %s\n", ex->dir,
			strerror(errno));
		r = -1;
	}
	for (size_t i = from; i < to; i++) {
		if (!written[i - from])
			continue;
		if (r < 0) {
			char base[512];
			base_name(ex, &ex->msgs[i], base, sizeof(base));
			unlinkat(ex->tmpfd, base, 0);
			continue;
		}
		if (move_to_cur(ex, &ex->msgs[i]) < 0)
			r = -1;
		else
			ex->exported++;
	}
	free(written);
	if (r == 0 && fsync(ex->curfd) < 0) {
		fprintf(stderr, "posternctl: fsync %s/cur: %s\n", ex->dir,
			strerror(errno));
		r = -1;
	}
	return r;
}

static int open_subdir(struct exporter *ex, const char *name)
{
	if (mkdirat(ex->dirfd, name, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "posternctl: mkdir %s/%s: %s\n", ex->dir, name,
			strerror(errno));
		return -1;
	}
	int fd = openat(ex->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "posternctl: %s/%s: %s\n", ex->dir, name,
			strerror(errno));
	return fd;
}

static int export_run(void *ctx, const struct ctl_user *user)
{
	struct exporter *ex = ctx;
	int status = CTL_EXIT_ERROR;
	const char *error;
	ex->dirfd = ex->tmpfd = ex->curfd = -1;
	if (ctl_store_open(user, false, "export", &ex->s) < 0)
		return CTL_EXIT_ERROR;
	int r = store_mailbox_get(ex->s, ex->mailbox, &ex->mb, &error);
	if (r <= 0 || (ex->mb.attributes & STORE_ATTR_NOSELECT) != 0) {
		fprintf(stderr, "posternctl: %s: %s\n", ex->mailbox,
			r < 0 ? error : "no such mailbox");
		goto out;
	}
	if (store_message_iter(ex->s, ex->mb.id, NULL, collect, ex,
			       &error) < 0) {
		fprintf(stderr, "posternctl: %s: %s\n", ex->mailbox, error);
		goto out;
	}
	/* Created and written as the user. */
	if (mkdir(ex->dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "posternctl: mkdir %s: %s%s\n", ex->dir,
			strerror(errno), errno == EACCES ?
			" (export writes as the user)" : "");
		goto out;
	}
	ex->dirfd = open(ex->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ex->dirfd < 0) {
		fprintf(stderr, "posternctl: %s: %s\n", ex->dir,
			strerror(errno));
		goto out;
	}
	int newfd = open_subdir(ex, "new");
	if (newfd >= 0)
		close(newfd);
	ex->tmpfd = open_subdir(ex, "tmp");
	ex->curfd = open_subdir(ex, "cur");
	if (newfd < 0 || ex->tmpfd < 0 || ex->curfd < 0)
		goto out;
	if (gethostname(ex->host, sizeof(ex->host) - 1) < 0)
		snprintf(ex->host, sizeof(ex->host), "localhost");
	sanitize_host(ex->host);
	kw_load(ex);
	for (size_t i = 0; i < ex->n; i++) {
		struct export_msg *e = &ex->msgs[i];
		for (size_t k = 0; k < e->nkw; k++) {
			int l = kw_letter(ex, e->kw[k]);
			if (l >= 0)
				e->keywords |= (uint32_t)1 << l;
			else
				ex->kw_dropped++;
		}
	}
	ctl_progress_init(&ex->prog, "export", ex->n, 0);
	r = 0;
	for (size_t i = 0; i < ex->n && r == 0; i += EXPORT_BATCH) {
		size_t to = i + EXPORT_BATCH < ex->n ? i + EXPORT_BATCH : ex->n;
		r = export_batch(ex, i, to);
		ctl_progress_update(&ex->prog, to, 0);
	}
	if (r == 0)
		r = kw_save(ex);
	ctl_progress_end(&ex->prog);
	double secs = ctl_progress_elapsed(&ex->prog);
	printf("exported %llu messages from %s to %s, %llu skipped "
	       "(%.0f messages/s)\n", (unsigned long long)ex->exported,
	       ex->mailbox, ex->dir, (unsigned long long)ex->skipped,
	       secs > 0 ? (double)ex->exported / secs : 0.0);
	if (ex->kw_dropped > 0)
		fprintf(stderr, "posternctl: %llu keyword settings not "
			"exported: a maildir has room for 26 keywords\n",
			(unsigned long long)ex->kw_dropped);
	if (r < 0)
		status = CTL_EXIT_ERROR;
	else if (ex->skipped > 0 || ex->kw_dropped > 0)
		status = CTL_EXIT_PARTIAL;
	else
		status = CTL_EXIT_OK;
out:
	if (ex->dirfd >= 0)
		close(ex->dirfd);
	if (ex->tmpfd >= 0)
		close(ex->tmpfd);
	if (ex->curfd >= 0)
		close(ex->curfd);
	for (size_t i = 0; i < ex->n; i++) {
		for (size_t k = 0; k < ex->msgs[i].nkw; k++)
			free(ex->msgs[i].kw[k]);
		free(ex->msgs[i].kw);
	}
	free(ex->msgs);
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		free(ex->kwnames[i]);
	store_close(&ex->s);
	return status;
}

int ctl_export_main(const struct postern_config *cfg, int argc,
		    char *const *argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: posternctl export USER MAILBOX DIR\n");
		return CTL_EXIT_USAGE;
	}
	struct exporter ex = { .mailbox = argv[1], .dir = argv[2] };
	struct ctl_user user;
	if (ctl_user_lookup(cfg, argv[0], &user) < 0)
		return CTL_EXIT_ERROR;
	int r = ctl_user_run(&user, export_run, &ex);
	ctl_user_free(&user);
	return r;
}
