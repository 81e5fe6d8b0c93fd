/* posternctl import USER PATH [--mailbox NAME]: an mbox file or a maildir
 * (with its Maildir++ folders) into the user's store, as the user.
 *
 * Messages go in batches: one store_append_batch per BATCH_MESSAGES
 * messages (or BATCH_BYTES of them), made durable with one syncfs()
 * instead of an fsync per blob, which is what makes a large import fast.
 * A batch is all or nothing; if one fails, its messages are retried one
 * by one so that a single bad message costs only itself. */
#include "ctl.h"

#include "../../common/buf.h"
#include "../../common/config.h"
#include "../../store/import-maildir.h"
#include "../../store/import-mbox.h"
#include "../../store/mime-cache.h"
#include "../../store/search-index.h"
#include "../../store/store.h"
#include "../imap/search-match.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH_MESSAGES	500
#define BATCH_BYTES	(64u << 20)
#define SKIP_REPORT_MAX	100	/* detail lines; the counts are always right */
#define MSG_KEYWORDS	(MAILDIR_KEYWORDS_MAX + 1)

struct import_batch {
	struct store_append_msg msgs[BATCH_MESSAGES];
	struct buf data[BATCH_MESSAGES];
	const char *kw[BATCH_MESSAGES][MSG_KEYWORDS];
	char *what[BATCH_MESSAGES];	/* "message 3 (offset 123)", a file */
	uint32_t uids[BATCH_MESSAGES];
	size_t n;
	size_t bytes;
};

struct importer {
	const char *path;
	const char *target;		/* --mailbox, default INBOX */
	struct store *s;
	uint32_t mailbox_id;
	const char *mailbox;
	struct import_batch *b;
	/* this mailbox / all */
	uint64_t imported, skipped;
	uint64_t total_imported, total_skipped, mailboxes;
	uint64_t skip_reports;
	bool failed;			/* a hard error: stop */
	struct ctl_progress prog;
	uint64_t done;			/* messages read, for progress */
	uint64_t bytes_in;
	/* mbox parsing */
	uint64_t mbox_junk;
};

static void skip(struct importer *im, const char *what, const char *why)
{
	im->skipped++;
	if (++im->skip_reports > SKIP_REPORT_MAX)
		return;
	if (im->prog.tty && im->prog.drawn)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "posternctl: %s: %s: %s, skipped\n", im->path, what,
		why);
	if (im->skip_reports == SKIP_REPORT_MAX)
		fprintf(stderr, "posternctl: (further skipped messages are "
			"counted, not listed)\n");
}

/* ---- batches ---- */

static void batch_reset(struct import_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		/* keep ordinary buffers for the next batch, not huge ones */
		if (b->data[i].cap > (1u << 20))
			buf_free(&b->data[i]);
		else
			buf_clear(&b->data[i]);
		free(b->what[i]);
		b->what[i] = NULL;
	}
	b->n = 0;
	b->bytes = 0;
}

static bool hard_error(enum store_error e)
{
	return e != STORE_ERR_LIMIT && e != STORE_ERR_INVALID &&
	       e != STORE_ERR_CORRUPT;
}

static int batch_flush(struct importer *im)
{
	struct import_batch *b = im->b;
	if (b->n == 0 || im->failed) {
		batch_reset(b);
		return im->failed ? -1 : 0;
	}
	for (size_t i = 0; i < b->n; i++) {
		b->msgs[i].data = b->data[i].data;
		b->msgs[i].len = b->data[i].len;
	}
	const char *error;
	if (store_append_batch(im->s, im->mailbox_id, b->msgs, b->n,
			       STORE_BATCH_SYNCFS, b->uids, &error) == 0) {
		im->imported += b->n;
		batch_reset(b);
		return 0;
	}
	if (hard_error(store_last_error(im->s))) {
		fprintf(stderr, "posternctl: %s: storing into %s failed: %s\n",
			im->path, im->mailbox, error);
		im->failed = true;
		batch_reset(b);
		return -1;
	}
	/* One message spoiled the batch: find it, keep the others. */
	for (size_t i = 0; i < b->n; i++) {
		if (store_append_batch(im->s, im->mailbox_id, &b->msgs[i], 1,
				       STORE_BATCH_SYNCFS, &b->uids[i],
				       &error) == 0) {
			im->imported++;
			continue;
		}
		if (hard_error(store_last_error(im->s))) {
			fprintf(stderr, "posternctl: %s: storing into %s "
				"failed: %s\n", im->path, im->mailbox, error);
			im->failed = true;
			break;
		}
		skip(im, b->what[i], error);
	}
	batch_reset(b);
	return im->failed ? -1 : 0;
}

/* The buffer the next message is read into. */
static struct buf *batch_next(struct importer *im)
{
	return &im->b->data[im->b->n];
}

/* Commits the message read into batch_next(). */
static int batch_add(struct importer *im, unsigned flags,
		     const char *const *keywords, size_t nkeywords,
		     int64_t internaldate, int internaldate_tz, char *what)
{
	struct import_batch *b = im->b;
	size_t i = b->n;
	struct store_append_msg *m = &b->msgs[i];
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->flags = flags & STORE_FLAGS_STORED;
	for (size_t k = 0; k < nkeywords && k < MSG_KEYWORDS; k++)
		b->kw[i][k] = keywords[k];
	m->keywords = b->kw[i];
	m->nkeywords = nkeywords < MSG_KEYWORDS ? nkeywords : MSG_KEYWORDS;
	/* 0 would mean "now" to the store; the epoch itself is a bogus
	 * date anyway, one second later is as good. */
	m->internaldate = internaldate != 0 ? internaldate : 1;
	m->internaldate_tz = internaldate_tz;
	b->what[i] = what;
	b->bytes += b->data[i].len;
	b->n++;
	if (b->n == BATCH_MESSAGES || b->bytes >= BATCH_BYTES)
		return batch_flush(im);
	return 0;
}

/* ---- mailboxes ---- */

static int select_mailbox(struct importer *im, const char *name)
{
	struct store_mailbox mb;
	const char *error;
	int r = store_mailbox_get(im->s, name, &mb, &error);
	if (r == 1 && (mb.attributes & STORE_ATTR_NOSELECT) == 0)
		goto found;
	if (r < 0) {
		fprintf(stderr, "posternctl: mailbox %s: %s\n", name, error);
		return -1;
	}
	/* Missing, or a \Noselect name: creating makes it selectable. */
	if (store_mailbox_create(im->s, name, 0, &error) < 0 ||
	    store_mailbox_get(im->s, name, &mb, &error) != 1) {
		fprintf(stderr, "posternctl: cannot create mailbox %s: %s\n",
			name, error);
		return -1;
	}
found:
	im->mailbox_id = mb.id;
	im->mailbox = name;
	im->imported = im->skipped = 0;
	return 0;
}

static void mailbox_done(struct importer *im)
{
	batch_flush(im);
	if (im->prog.tty && im->prog.drawn) {
		/* the bar is redrawn below the line at the next update */
		fputs("\r\033[K", stderr);
		im->prog.drawn = false;
	}
	printf("imported %llu messages into %s, %llu skipped\n",
	       (unsigned long long)im->imported, im->mailbox,
	       (unsigned long long)im->skipped);
	fflush(stdout);
	im->total_imported += im->imported;
	im->total_skipped += im->skipped;
	im->mailboxes++;
}

/* ---- mbox ---- */

static void mbox_data(void *ctx, const uint8_t *data, size_t len)
{
	struct importer *im = ctx;
	buf_append(batch_next(im), data, len);
}

static void mbox_message(void *ctx, const struct mbox_message_info *info)
{
	struct importer *im = ctx;
	struct buf *cur = batch_next(im);
	char what[80];
	snprintf(what, sizeof(what), "message %llu (From_ line at byte %llu)",
		 (unsigned long long)info->index,
		 (unsigned long long)info->offset);
	im->done++;
	if (im->failed) {
		buf_clear(cur);
		return;
	}
	if (info->oversize || info->size == 0) {
		buf_clear(cur);
		skip(im, what, info->size == 0 ? "empty message" :
		     "larger than the store's message size limit");
		return;
	}
	/* the From_ line's zone if it wrote one (mbox_from_line_parse) */
	batch_add(im, 0, NULL, 0, info->date, info->tz_min, xstrdup(what));
	ctl_progress_update(&im->prog, im->done, im->bytes_in);
}

static void mbox_junk(void *ctx, uint64_t offset, uint64_t len)
{
	struct importer *im = ctx;
	char what[80];
	snprintf(what, sizeof(what), "bytes %llu-%llu",
		 (unsigned long long)offset,
		 (unsigned long long)(offset + len));
	skip(im, what, "text before the first From_ line is not a message");
}

static int import_mbox(struct importer *im, int fd, const struct stat *st)
{
	static const struct mbox_callbacks cb = {
		.data = mbox_data, .message = mbox_message, .junk = mbox_junk,
	};
	if (select_mailbox(im, im->target) < 0)
		return -1;
	ctl_progress_init(&im->prog, "import", 0,
			  S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0);
	struct mbox_parser *p = xmalloc(sizeof(*p));
	mbox_parser_init(p, &cb, im, STORE_MESSAGE_MAX_SIZE);
	size_t cap = 1u << 20;
	uint8_t *chunk = xmalloc(cap);
	int r = 0;
	for (;;) {
		ssize_t n = read(fd, chunk, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* Keep what was read: the messages parsed so far are
			 * committed below, then the import stops. */
			fprintf(stderr, "posternctl: read %s: %s\n", im->path,
				strerror(errno));
			r = -1;
			break;
		}
		if (n == 0)
			break;
		im->bytes_in += (uint64_t)n;
		mbox_parser_feed(p, chunk, (size_t)n);
		if (im->failed) {
			r = -1;
			break;
		}
	}
	if (r == 0)
		mbox_parser_finish(p);
	free(chunk);
	free(p);
	mailbox_done(im);
	ctl_progress_end(&im->prog);
	if (r < 0)
		im->failed = true;
	return im->failed ? -1 : 0;
}

/* ---- maildir ---- */

struct md_file {
	char *name;
	bool in_new;
};

struct md_folder {
	char *dir;		/* "" for the root, ".Sub.Folder" */
	char *mailbox;
	struct md_file *files;
	size_t nfiles;
};

static int md_file_cmp(const void *a, const void *b)
{
	const struct md_file *x = a, *y = b;
	return maildir_name_cmp(x->name, y->name);
}

static bool is_dir_at(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

/* Lists cur/ and new/ of folder (tmp/ holds deliveries in progress). */
static int md_list(struct importer *im, int rootfd, struct md_folder *f)
{
	size_t cap = 0;
	for (int sub = 0; sub < 2; sub++) {
		struct buf p;
		buf_init(&p);
		buf_printf(&p, "%s%s%s", f->dir, f->dir[0] ? "/" : "",
			   sub == 0 ? "cur" : "new");
		int fd = openat(rootfd, buf_cstr(&p), O_RDONLY | O_DIRECTORY |
				O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (errno != ENOENT)
				fprintf(stderr, "posternctl: %s/%s: %s\n",
					im->path, buf_cstr(&p),
					strerror(errno));
			buf_free(&p);
			if (errno != ENOENT)
				return -1;
			continue;
		}
		buf_free(&p);
		DIR *d = fdopendir(fd);
		if (d == NULL) {
			close(fd);
			return -1;
		}
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (f->nfiles == cap) {
				cap = cap ? cap * 2 : 64;
				f->files = xrealloc(f->files,
						    cap * sizeof(*f->files));
			}
			f->files[f->nfiles].name = xstrdup(de->d_name);
			f->files[f->nfiles].in_new = sub == 1;
			f->nfiles++;
		}
		closedir(d);
	}
	if (f->nfiles > 1)
		qsort(f->files, f->nfiles, sizeof(*f->files), md_file_cmp);
	return 0;
}

static int md_folder_cmp(const void *a, const void *b)
{
	const struct md_folder *x = a, *y = b;
	return strcmp(x->mailbox, y->mailbox);
}

static bool is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

/* The root and every Maildir++ folder in it. */
static int md_folders(struct importer *im, int rootfd,
		      struct md_folder **folders_r, size_t *n_r)
{
	size_t n = 1, cap = 8;
	struct md_folder *fs = xcalloc(cap, sizeof(*fs));
	fs[0].dir = xstrdup("");
	fs[0].mailbox = xstrdup(im->target);
	int fd = dup(rootfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		fprintf(stderr, "posternctl: %s: %s\n", im->path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		free(fs[0].dir);
		free(fs[0].mailbox);
		free(fs);
		return -1;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    !is_dir_at(rootfd, de->d_name))
			continue;
		struct buf cur;
		buf_init(&cur);
		buf_printf(&cur, "%s/cur", de->d_name);
		bool maildir = is_dir_at(rootfd, buf_cstr(&cur));
		buf_free(&cur);
		if (!maildir)
			continue;
		struct buf name;
		const char *err;
		buf_init(&name);
		if (!is_inbox(im->target))
			buf_printf(&name, "%s%c", im->target,
				   STORE_HIERARCHY_SEP);
		if (maildir_folder_name(de->d_name, &name, &err) < 0) {
			struct md_folder bad = { .dir = de->d_name };
			md_list(im, rootfd, &bad);
			fprintf(stderr, "posternctl: %s/%s: %s, folder "
				"skipped (%zu messages)\n", im->path,
				de->d_name, err, bad.nfiles);
			im->total_skipped += bad.nfiles > 0 ? bad.nfiles : 1;
			for (size_t k = 0; k < bad.nfiles; k++)
				free(bad.files[k].name);
			free(bad.files);
			buf_free(&name);
			continue;
		}
		if (n == cap) {
			cap *= 2;
			fs = xrealloc(fs, cap * sizeof(*fs));
		}
		memset(&fs[n], 0, sizeof(fs[n]));
		fs[n].dir = xstrdup(de->d_name);
		fs[n].mailbox = xstrdup(buf_cstr(&name));
		buf_free(&name);
		n++;
	}
	closedir(d);
	/* parents before children */
	if (n > 2)
		qsort(fs + 1, n - 1, sizeof(*fs), md_folder_cmp);
	*folders_r = fs;
	*n_r = n;
	return 0;
}

struct md_keywords {
	struct buf file;
	char *names[MAILDIR_KEYWORDS_MAX];
};

static void md_keywords_load(int rootfd, const char *dir,
			     struct md_keywords *kw)
{
	memset(kw, 0, sizeof(*kw));
	buf_init(&kw->file);
	struct buf p;
	buf_init(&p);
	buf_printf(&p, "%s%sdovecot-keywords", dir, dir[0] ? "/" : "");
	int fd = openat(rootfd, buf_cstr(&p), O_RDONLY | O_NOFOLLOW |
			O_CLOEXEC);
	buf_free(&p);
	if (fd < 0)
		return;
	uint8_t tmp[4096];
	ssize_t n;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0 && kw->file.len < 65536)
		buf_append(&kw->file, tmp, (size_t)n);
	close(fd);
	const uint8_t *names[MAILDIR_KEYWORDS_MAX];
	size_t lens[MAILDIR_KEYWORDS_MAX];
	maildir_keywords_parse(kw->file.data, kw->file.len, names, lens);
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		if (names[i] != NULL)
			kw->names[i] = xstrndup((const char *)names[i],
						lens[i]);
}

static void md_keywords_free(struct md_keywords *kw)
{
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		free(kw->names[i]);
	buf_free(&kw->file);
}

static int read_all(int fd, struct buf *out, size_t size)
{
	buf_reserve(out, size + 1);
	for (;;) {
		buf_reserve(out, 65536);
		ssize_t n = read(fd, out->data + out->len, out->cap - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		out->len += (size_t)n;
		if (out->len > STORE_MESSAGE_MAX_SIZE) {
			errno = EFBIG;
			return -1;
		}
	}
}

static void md_import_file(struct importer *im, int rootfd,
			   const struct md_folder *f, const struct md_file *mf,
			   const struct md_keywords *kw)
{
	struct buf rel;
	buf_init(&rel);
	buf_printf(&rel, "%s%s%s/%s", f->dir, f->dir[0] ? "/" : "",
		   mf->in_new ? "new" : "cur", mf->name);
	const char *relname = buf_cstr(&rel);
	im->done++;
	/* O_NONBLOCK: a FIFO planted in the maildir must not hang us. */
	int fd = openat(rootfd, relname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
			O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		skip(im, relname, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		skip(im, relname, "not a regular file");
		goto out;
	}
	if (st.st_size == 0) {
		skip(im, relname, "empty file");
		goto out;
	}
	if ((uint64_t)st.st_size > STORE_MESSAGE_MAX_SIZE) {
		skip(im, relname, "larger than the store's message size "
		     "limit");
		goto out;
	}
	struct buf *data = batch_next(im);
	if (read_all(fd, data, (size_t)st.st_size) < 0) {
		buf_clear(data);
		skip(im, relname, strerror(errno));
		goto out;
	}
	im->bytes_in += data->len;
	struct maildir_name mn;
	maildir_name_parse(mf->name, &mn);
	const char *keywords[MSG_KEYWORDS];
	size_t nkw = 0;
	if (mn.passed)
		keywords[nkw++] = MAILDIR_FORWARDED;
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		if ((mn.keywords & ((uint32_t)1 << i)) && kw->names[i] != NULL)
			keywords[nkw++] = kw->names[i];
	/* a maildir file's mtime is an instant with no zone: +0000 */
	batch_add(im, mn.flags, keywords, nkw, (int64_t)st.st_mtime, 0,
		  xstrdup(relname));
	ctl_progress_update(&im->prog, im->done, im->bytes_in);
out:
	if (fd >= 0)
		close(fd);
	buf_free(&rel);
}

static int import_maildir(struct importer *im, int rootfd)
{
	struct md_folder *fs;
	size_t nfs;
	if (md_folders(im, rootfd, &fs, &nfs) < 0)
		return -1;
	uint64_t total = 0;
	for (size_t i = 0; i < nfs && !im->failed; i++) {
		if (md_list(im, rootfd, &fs[i]) < 0)
			im->failed = true;
		total += fs[i].nfiles;
	}
	ctl_progress_init(&im->prog, "import", total, 0);
	for (size_t i = 0; i < nfs && !im->failed; i++) {
		struct md_folder *f = &fs[i];
		/* The root always gets its mailbox (INBOX exists anyway);
		 * an empty folder is still a mailbox the user had. */
		if (select_mailbox(im, f->mailbox) < 0) {
			im->total_skipped += f->nfiles;
			fprintf(stderr, "posternctl: %s/%s: folder skipped "
				"(%zu messages)\n", im->path, f->dir,
				f->nfiles);
			im->done += f->nfiles;
			continue;
		}
		struct md_keywords kw;
		md_keywords_load(rootfd, f->dir, &kw);
		for (size_t k = 0; k < f->nfiles && !im->failed; k++)
			md_import_file(im, rootfd, f, &f->files[k], &kw);
		batch_flush(im);	/* before the keyword names go */
		md_keywords_free(&kw);
		mailbox_done(im);
	}
	for (size_t i = 0; i < nfs; i++) {
		for (size_t k = 0; k < fs[i].nfiles; k++)
			free(fs[i].files[k].name);
		free(fs[i].files);
		free(fs[i].dir);
		free(fs[i].mailbox);
	}
	free(fs);
	ctl_progress_end(&im->prog);
	return im->failed ? -1 : 0;
}

/* ---- the command ---- */

/* The parsed-message cache is built at append so that no FETCH has to
 * parse a message (issue 3, item 4). */
static int import_cache_build(void *ctx, const uint8_t *data, size_t len,
			      struct buf *out)
{
	(void)ctx;
	return mime_cache_build(data, len, NULL, out);
}

static int import_run(void *ctx, const struct ctl_user *user)
{
	struct importer *im = ctx;
	/* Opened as the user: see ctl_user_run. */
	int fd = open(im->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "posternctl: %s: %s%s\n", im->path,
			strerror(errno), errno == EACCES ?
			" (import reads it as the user)" : "");
		return CTL_EXIT_ERROR;
	}
	bool maildir = false;
	if (S_ISDIR(st.st_mode)) {
		maildir = is_dir_at(fd, "cur") || is_dir_at(fd, "new");
		if (!maildir) {
			fprintf(stderr, "posternctl: %s: a directory but not a "
				"maildir (no cur/ or new/)\n", im->path);
			close(fd);
			return CTL_EXIT_ERROR;
		}
	}
	if (ctl_store_open(user, true, "import", &im->s) < 0) {
		close(fd);
		return CTL_EXIT_ERROR;
	}
	store_set_cache_builder(im->s, import_cache_build, NULL);
	/* The search text is extracted as each message is stored, and the
	 * postings are merged once at the end (below), so the user's worker
	 * does not meet a backlog of unindexed mail at the next APPEND. */
	store_set_search_extractor(im->s, search_index_extractor, NULL);
	store_set_search_merge_threshold(im->s, 0);
	im->b = xcalloc(1, sizeof(*im->b));
	for (size_t i = 0; i < BATCH_MESSAGES; i++)
		buf_init(&im->b->data[i]);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = maildir ? import_maildir(im, fd) : import_mbox(im, fd, &st);
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (size_t i = 0; i < BATCH_MESSAGES; i++)
		buf_free(&im->b->data[i]);
	free(im->b);
	size_t merged = 0;
	const char *merr;
	if (store_search_merge(im->s, 0, 0, &merged, &merr) < 0)
		fprintf(stderr, "posternctl: search index merge: %s (the "
			"messages are searchable; the worker merges later)\n",
			merr);
	store_close(&im->s);
	if (im->mailboxes > 1 || (im->total_skipped > im->skipped &&
				   im->mailboxes > 0))
		printf("total: imported %llu messages into %llu mailboxes, "
		       "%llu skipped\n",
		       (unsigned long long)im->total_imported,
		       (unsigned long long)im->mailboxes,
		       (unsigned long long)im->total_skipped);
	printf("%llu messages in %.2f s (%.0f messages/s)\n",
	       (unsigned long long)im->total_imported, secs,
	       secs > 0 ? (double)im->total_imported / secs : 0.0);
	if (r < 0 || im->failed) {
		fprintf(stderr, "posternctl: import stopped after %llu "
			"messages\n", (unsigned long long)im->total_imported);
		return CTL_EXIT_ERROR;
	}
	return im->total_skipped > 0 ? CTL_EXIT_PARTIAL : CTL_EXIT_OK;
}

int ctl_import_main(const struct postern_config *cfg, int argc,
		    char *const *argv, const char *mailbox)
{
	if (argc != 2) {
		fprintf(stderr, "usage: posternctl import USER PATH "
			"[--mailbox NAME]\n");
		return CTL_EXIT_USAGE;
	}
	struct importer im = {
		.path = argv[1],
		.target = mailbox != NULL ? mailbox : "INBOX",
	};
	if (im.target[0] == '\0' ||
	    strlen(im.target) > STORE_MAILBOX_NAME_MAX) {
		fprintf(stderr, "posternctl: invalid mailbox name\n");
		return CTL_EXIT_USAGE;
	}
	struct ctl_user user;
	if (ctl_user_lookup(cfg, argv[0], &user) < 0)
		return CTL_EXIT_ERROR;
	int r = CTL_EXIT_ERROR;
	if (ctl_user_prepare_store_dir(cfg, &user) == 0)
		r = ctl_user_run(&user, import_run, &im);
	ctl_user_free(&user);
	return r;
}
