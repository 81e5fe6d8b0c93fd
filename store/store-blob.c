/* Message blob files: <dir>/blobs/<xx>/<id as 16 hex digits>, xx the low
 * byte of the id (256 directories keep each one small at a million
 * messages). Written in <dir>/tmp, made durable, renamed into place with
 * RENAME_NOREPLACE (an id is never reused for a different file), the
 * directory synced, and only then referenced by an LMDB commit. */
#include "store-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"

#define BLOB_IO_CHUNK 65536

void store_blob_path(uint64_t id, char out[32])
{
	snprintf(out, 32, "%02x/%016" PRIx64, (unsigned)(id & 0xff), id);
}

static int mkdir_at(struct store *s, int dfd, const char *name)
{
	if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
		return store_fail(s, STORE_ERR_TEMP, "mkdir %s/%s: %m",
				  s->dir, name);
	return 0;
}

int store_blob_setup_dirs(struct store *s)
{
	struct stat st;
	if (mkdir_at(s, s->dir_fd, "blobs") < 0 ||
	    mkdir_at(s, s->dir_fd, "tmp") < 0)
		return -1;
	s->blobs_fd = openat(s->dir_fd, "blobs",
			     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	s->tmp_fd = openat(s->dir_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->blobs_fd < 0 || s->tmp_fd < 0)
		return store_fail(s, STORE_ERR_TEMP, "open %s/blobs: %m",
				  s->dir);
	/* "ff" is made last: its presence means all 256 exist */
	if (fstatat(s->blobs_fd, "ff", &st, 0) == 0)
		return 0;
	for (unsigned i = 0; i < 256; i++) {
		char name[3];
		snprintf(name, sizeof(name), "%02x", i);
		if (mkdir_at(s, s->blobs_fd, name) < 0)
			return -1;
	}
	if (fsync(s->blobs_fd) < 0 || fsync(s->dir_fd) < 0)
		return store_fail(s, STORE_ERR_TEMP, "fsync %s: %m", s->dir);
	return 0;
}

/* Bare LF becomes CRLF (the stored bytes are what FETCH returns and IMAP
 * lines end in CRLF); everything else, bare CR and NUL included, is kept.
 * out holds 2*n bytes. *prev_cr carries state across chunks. */
static size_t crlf_convert(const uint8_t *in, size_t n, uint8_t *out,
			   bool *prev_cr)
{
	size_t o = 0;
	bool cr = *prev_cr;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		if (c == '\n' && !cr)
			out[o++] = '\r';
		out[o++] = c;
		cr = c == '\r';
	}
	*prev_cr = cr;
	return o;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int blob_write_bytes(struct store *s, const struct store_append_msg *m,
			    struct store_blob_new *b, uint8_t *out)
{
	bool cr = false;
	uint8_t *in = NULL;
	size_t off = 0;
	if (m->fd >= 0)
		in = xmalloc(BLOB_IO_CHUNK);
	for (;;) {
		const uint8_t *chunk;
		size_t n;
		if (m->fd >= 0) {
			ssize_t r = read(m->fd, in, BLOB_IO_CHUNK);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				free(in);
				return store_fail(s, STORE_ERR_TEMP,
						  "read message: %m");
			}
			chunk = in;
			n = (size_t)r;
		} else {
			n = m->len - off;
			if (n > BLOB_IO_CHUNK)
				n = BLOB_IO_CHUNK;
			chunk = (const uint8_t *)m->data + off;
			off += n;
		}
		if (n == 0)
			break;
		size_t o = crlf_convert(chunk, n, out, &cr);
		b->size += o;
		if (b->size > STORE_MESSAGE_MAX_SIZE) {
			free(in);
			return store_fail(s, STORE_ERR_LIMIT,
					  "message too large");
		}
		if (write_all(b->fd, out, o) < 0) {
			free(in);
			return store_fail(s, STORE_ERR_TEMP,
					  "write %s/tmp/%s: %m", s->dir,
					  b->tmpname);
		}
	}
	free(in);
	return 0;
}

static void blob_build_cache(struct store *s, const struct store_append_msg *m,
			     struct store_blob_new *b)
{
	buf_init(&b->cache);
	b->have_cache = false;
	if (m->cache != NULL) {
		buf_append(&b->cache, m->cache, m->cache_len);
		b->have_cache = true;
		return;
	}
	if (s->cache_builder == NULL)
		return;
	void *p = NULL;
	if (b->size > 0) {
		p = mmap(NULL, b->size, PROT_READ, MAP_SHARED, b->fd, 0);
		if (p == MAP_FAILED) {
			log_warn("store %s: mmap for cache: %m", s->dir);
			return;
		}
	}
	b->have_cache = s->cache_builder(s->cache_ctx, p, b->size,
					 &b->cache) == 0;
	if (!b->have_cache)
		buf_free(&b->cache);
	if (p != NULL)
		munmap(p, b->size);
}

/* Search index: the text record of the message, made from the same
 * bytes and cache record that the matcher would read (search-index.h). */
static void blob_build_sxdoc(struct store *s, struct store_blob_new *b)
{
	buf_init(&b->sxdoc);
	b->have_sxdoc = false;
	if (s->sx_extractor == NULL || !store_sx_held_room(s))
		return;
	void *p = NULL;
	if (b->size > 0) {
		p = mmap(NULL, b->size, PROT_READ, MAP_SHARED, b->fd, 0);
		if (p == MAP_FAILED) {
			log_warn("store %s: mmap for search text: %m", s->dir);
			return;
		}
	}
	b->have_sxdoc = store_sx_extract(s, p, b->size, &b->cache,
					 b->have_cache, &b->sxdoc);
	if (!b->have_sxdoc)
		buf_free(&b->sxdoc);
	if (p != NULL)
		munmap(p, b->size);
}

int store_blob_write(struct store *s, const struct store_append_msg *m,
		     struct store_blob_new *b, bool sync)
{
	memset(b, 0, sizeof(*b));
	buf_init(&b->cache);
	b->id = s->next_blob++;
	snprintf(b->tmpname, sizeof(b->tmpname), "%ld.%" PRIu64 ".%u",
		 (long)getpid(), b->id, s->tmp_seq++);
	b->fd = openat(s->tmp_fd, b->tmpname,
		       O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (b->fd < 0) {
		int r = store_fail(s, STORE_ERR_TEMP, "create %s/tmp/%s: %m",
				   s->dir, b->tmpname);
		b->tmpname[0] = '\0';
		return r;
	}
	uint8_t *out = xmalloc(2 * BLOB_IO_CHUNK);
	int r = blob_write_bytes(s, m, b, out);
	free(out);
	if (r == 0)
		blob_build_cache(s, m, b);
	if (r == 0) {
		double t0 = store_sx_clock();
		blob_build_sxdoc(s, b);
		s->sx_extract_secs += store_sx_clock() - t0;
	}
	if (r == 0 && sync && fdatasync(b->fd) < 0)
		r = store_fail(s, STORE_ERR_TEMP, "fsync %s/tmp/%s: %m",
			       s->dir, b->tmpname);
	if (r == 0 && !sync)
		/* start writeback now; the syncfs later only waits */
		(void)sync_file_range(b->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	close(b->fd);
	b->fd = -1;
	return r;
}

int store_tmpfile_open(struct store *s, int *fd_r, const char **error_r)
{
	s->err = STORE_ERR_NONE;
	int fd = openat(s->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR ||
		       errno == EINVAL)) {
		/* no O_TMPFILE on this file system; store_gc removes the
		 * name if we die before the unlink */
		char name[48];
		snprintf(name, sizeof(name), "%ld.in.%u", (long)getpid(),
			 s->tmp_seq++);
		fd = openat(s->tmp_fd, name,
			    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			unlinkat(s->tmp_fd, name, 0);
	}
	if (fd < 0)
		return store_ret(s, store_fail(s, STORE_ERR_TEMP,
					       "create a file in %s/tmp: %m",
					       s->dir), error_r);
	*fd_r = fd;
	return 0;
}

int store_blob_install(struct store *s, struct store_blob_new *b, size_t n,
		       bool use_syncfs)
{
	uint8_t touched[256] = { 0 };
	for (size_t i = 0; i < n; i++) {
		char path[32];
		for (;;) {
			store_blob_path(b[i].id, path);
			if (renameat2(s->tmp_fd, b[i].tmpname, s->blobs_fd,
				      path, RENAME_NOREPLACE) == 0)
				break;
			if (errno != EEXIST)
				return store_fail(s, STORE_ERR_TEMP,
						  "rename to %s/blobs/%s: %m",
						  s->dir, path);
			/* a file from an uncommitted past: take another id */
			b[i].id = s->next_blob++;
		}
		b[i].installed = true;
		touched[b[i].id & 0xff] = 1;
	}
	if (use_syncfs) {
		/* one flush of the file system covers every file and
		 * directory entry of the batch */
		if (syncfs(s->blobs_fd) < 0)
			return store_fail(s, STORE_ERR_TEMP, "syncfs: %m");
		return 0;
	}
	for (unsigned d = 0; d < 256; d++) {
		if (!touched[d])
			continue;
		char name[3];
		snprintf(name, sizeof(name), "%02x", d);
		int fd = openat(s->blobs_fd, name,
				O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0) {
			int r = store_fail(s, STORE_ERR_TEMP,
					   "fsync %s/blobs/%s: %m", s->dir,
					   name);
			if (fd >= 0)
				close(fd);
			return r;
		}
		close(fd);
	}
	return 0;
}

void store_blob_free(struct store_blob_new *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_free(&b[i].cache);
		buf_free(&b[i].sxdoc);
	}
}

void store_blob_discard(struct store *s, struct store_blob_new *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i].installed)
			store_blob_unlink(s, b[i].id);
		else if (b[i].tmpname[0] != '\0')
			unlinkat(s->tmp_fd, b[i].tmpname, 0);
	}
	store_blob_free(b, n);
}

void store_blob_unlink(struct store *s, uint64_t id)
{
	char path[32];
	store_blob_path(id, path);
	if (unlinkat(s->blobs_fd, path, 0) < 0 && errno != ENOENT)
		log_warn("store %s: unlink blobs/%s: %m", s->dir, path);
}

static int parse_blob_name(const char *name, uint64_t *id_r)
{
	if (strlen(name) != 16)
		return -1;
	uint64_t v = 0;
	for (int i = 0; i < 16; i++) {
		char c = name[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*id_r = v;
	return 0;
}

static int gc_dir(struct store *s, int dfd, bool blobs, unsigned bucket,
		  MDB_txn *txn, size_t *removed)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return store_fail(s, STORE_ERR_TEMP, "opendir: %m");
	}
	rewinddir(d);
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		uint64_t id;
		if (blobs) {
			if (parse_blob_name(de->d_name, &id) < 0 ||
			    (id & 0xff) != bucket)
				continue;	/* not ours: leave it */
			uint8_t key[8];
			MDB_val v;
			store_key_blob(key, id);
			int f = store_db_get(s, txn, s->db_blobrefs, key, 8, &v);
			if (f < 0) {
				r = -1;
				break;
			}
			if (f > 0)
				continue;
		}
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			(*removed)++;
	}
	closedir(d);
	return r;
}

int store_blob_gc(struct store *s, bool full, size_t *removed_r)
{
	*removed_r = 0;
	/* temp files are never referenced: any left is from a dead writer */
	if (gc_dir(s, s->tmp_fd, false, 0, NULL, removed_r) < 0)
		return -1;
	if (!full)
		return 0;
	MDB_txn *txn;
	if (store_read_begin(s, &txn) < 0)
		return -1;
	int r = 0;
	for (unsigned i = 0; i < 256 && r == 0; i++) {
		char name[3];
		snprintf(name, sizeof(name), "%02x", i);
		int fd = openat(s->blobs_fd, name,
				O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			r = store_fail(s, STORE_ERR_TEMP,
				       "open %s/blobs/%s: %m", s->dir, name);
			break;
		}
		r = gc_dir(s, fd, true, i, txn, removed_r);
		close(fd);
	}
	mdb_txn_abort(txn);
	return r;
}

int store_gc(struct store *s, size_t *removed_r, const char **error_r)
{
	return store_ret(s, store_blob_gc(s, true, removed_r), error_r);
}

int store_message_open(struct store *s, uint64_t blob_id, int *fd_r,
		       const char **error_r)
{
	char path[32];
	store_blob_path(blob_id, path);
	s->err = STORE_ERR_NONE;
	*fd_r = openat(s->blobs_fd, path, O_RDONLY | O_CLOEXEC);
	if (*fd_r < 0)
		return store_ret(s, store_fail(s, errno == ENOENT ?
					       STORE_ERR_CORRUPT :
					       STORE_ERR_TEMP,
					       "open %s/blobs/%s: %m", s->dir,
					       path), error_r);
	return 0;
}

int store_message_read(struct store *s, uint64_t blob_id, struct buf *out,
		       const char **error_r)
{
	int fd;
	if (store_message_open(s, blob_id, &fd, error_r) < 0)
		return -1;
	for (;;) {
		buf_reserve(out, BLOB_IO_CHUNK);
		ssize_t n = read(fd, out->data + out->len, BLOB_IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return store_ret(s, store_fail(s, STORE_ERR_TEMP,
						       "read blob: %m"),
					 error_r);
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	close(fd);
	return 0;
}
