/* The user side of posternctl's offline tools: who the user is, their
 * store directory, a child running with their ids, and progress output. */
#include "ctl.h"

#include "../../common/buf.h"
#include "../../common/config.h"
#include "../../common/privdrop.h"
#include "../../store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CTL_MAX_GROUPS 1024

int ctl_user_lookup(const struct postern_config *cfg, const char *name,
		    struct ctl_user *user_r)
{
	memset(user_r, 0, sizeof(*user_r));
	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL) {
		fprintf(stderr, "posternctl: invalid user name '%s'\n", name);
		return -1;
	}
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (pw == NULL) {
		fprintf(stderr, "posternctl: no such user: %s%s%s\n", name,
			errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
		return -1;
	}
	/* The same rule as for logins: root's and system accounts' mail
	 * is not served, so it is not imported either. */
	if (pw->pw_uid == 0 || pw->pw_uid < cfg->first_valid_uid) {
		fprintf(stderr, "posternctl: user %s has uid %u, below "
			"first_valid_uid %u: refused\n", name,
			(unsigned)pw->pw_uid, cfg->first_valid_uid);
		return -1;
	}
	user_r->name = xstrdup(pw->pw_name);
	user_r->uid = pw->pw_uid;
	user_r->gid = pw->pw_gid;
	int n = CTL_MAX_GROUPS;
	gid_t *groups = xcalloc(CTL_MAX_GROUPS, sizeof(gid_t));
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		n = CTL_MAX_GROUPS;	/* more than that: keep the first */
	user_r->groups = groups;
	user_r->ngroups = (size_t)n;
	struct buf p;
	buf_init(&p);
	buf_printf(&p, "%s/%s", cfg->mail_root, user_r->name);
	user_r->store_dir = xstrdup(buf_cstr(&p));
	buf_free(&p);
	return 0;
}

void ctl_user_free(struct ctl_user *user)
{
	free(user->name);
	free(user->groups);
	free(user->store_dir);
	memset(user, 0, sizeof(*user));
}

static int mkdir_parents(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int r = mkdir(p, mode) < 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return r;
}

int ctl_user_prepare_store_dir(const struct postern_config *cfg,
			       const struct ctl_user *user)
{
	bool root = geteuid() == 0;
	if (mkdir_parents(cfg->mail_root, 0711) < 0) {
		fprintf(stderr, "posternctl: mail_root %s: %s\n",
			cfg->mail_root, strerror(errno));
		return -1;
	}
	const char *path = user->store_dir;
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT) {
			fprintf(stderr, "posternctl: %s: %s\n", path,
				strerror(errno));
			return -1;
		}
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			fprintf(stderr, "posternctl: cannot create %s: %s\n",
				path, strerror(errno));
			return -1;
		}
		if (root && chown(path, user->uid, user->gid) < 0) {
			fprintf(stderr, "posternctl: chown %s: %s\n", path,
				strerror(errno));
			return -1;
		}
		if (lstat(path, &st) < 0) {
			fprintf(stderr, "posternctl: %s: %s\n", path,
				strerror(errno));
			return -1;
		}
	}
	/* A symlink there could point the tool, running as the user, at
	 * another user's files only if the user could plant it; refuse it
	 * anyway, as the master does. */
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "posternctl: %s is not a directory\n", path);
		return -1;
	}
	if (st.st_uid != user->uid) {
		fprintf(stderr, "posternctl: %s is owned by uid %u, not by "
			"%s (%u)\n", path, (unsigned)st.st_uid, user->name,
			(unsigned)user->uid);
		return -1;
	}
	if ((st.st_mode & 077) != 0 && chmod(path, 0700) < 0) {
		fprintf(stderr, "posternctl: chmod %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

int ctl_user_run(const struct ctl_user *user, ctl_user_fn *fn, void *ctx)
{
	if (geteuid() != 0 && getuid() != user->uid) {
		fprintf(stderr, "posternctl: only root (or %s) can work on "
			"%s's store\n", user->name, user->name);
		return CTL_EXIT_ERROR;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "posternctl: fork: %s\n", strerror(errno));
		return CTL_EXIT_ERROR;
	}
	if (pid == 0) {
		/* Everything from here reads and writes as the user: a path
		 * the admin names is opened with the user's rights, so a
		 * symlink the user planted cannot make root read a file the
		 * user may not. privdrop is fatal on any failure. */
		privdrop_chroot_and_drop(NULL, user->uid, user->gid,
					 user->groups, user->ngroups);
		umask(077);
		int status = fn(ctx, user);
		/* exit, not _exit: stdio was flushed before the fork, so
		 * nothing is written twice, and sanitizer builds get their
		 * leak check of the child. */
		exit(status);
	}
	/* The child reacts to Ctrl-C; the parent only reports. */
	signal(SIGINT, SIG_IGN);
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "posternctl: waitpid: %s\n",
				strerror(errno));
			return CTL_EXIT_ERROR;
		}
	}
	signal(SIGINT, SIG_DFL);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "posternctl: the process working as %s died of "
		"signal %d (%s)\n", user->name, WTERMSIG(status),
		strsignal(WTERMSIG(status)));
	return CTL_EXIT_ERROR;
}

/* Whether another process holds the store's lock right now. */
static bool store_locked(const char *dir)
{
	struct buf p;
	buf_init(&p);
	buf_printf(&p, "%s/lock", dir);
	int fd = open(buf_cstr(&p), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	buf_free(&p);
	if (fd < 0)
		return false;
	bool locked = flock(fd, LOCK_EX | LOCK_NB) < 0 &&
		      errno == EWOULDBLOCK;
	close(fd);	/* releases a lock we got */
	return locked;
}

int ctl_store_open(const struct ctl_user *user, bool create,
		   const char *verb, struct store **store_r)
{
	const char *error;
	if (store_open(user->store_dir, create ? STORE_OPEN_CREATE : 0,
		       store_r, &error) == 0)
		return 0;
	/* store_open closes the store it failed to open, so the error kind
	 * (STORE_ERR_INUSE) is gone; the lock tells the same thing. */
	if (store_locked(user->store_dir)) {
		fprintf(stderr, "posternctl: %s's mail store is in use: %s is "
			"logged in (the worker holds the store).\n"
			"posternctl: run 'posternctl kick %s' and %s again once "
			"the worker has exited (worker_linger seconds after "
			"the last session).\n", user->name, user->name,
			user->name, verb);
		return -1;
	}
	fprintf(stderr, "posternctl: cannot open %s's mail store: %s\n",
		user->name, error);
	return -1;
}

/* ---- progress ---- */

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) +
	       (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

void ctl_progress_init(struct ctl_progress *p, const char *verb,
		       uint64_t total, uint64_t total_bytes)
{
	memset(p, 0, sizeof(*p));
	p->tty = isatty(STDERR_FILENO) == 1;
	p->verb = verb;
	p->total = total;
	p->total_bytes = total_bytes;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

double ctl_progress_elapsed(const struct ctl_progress *p)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return ts_diff(&now, &p->start);
}

static void draw(struct ctl_progress *p, double elapsed)
{
	double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
	char bar[31];
	double frac = -1;
	if (p->total > 0)
		frac = (double)p->done / (double)p->total;
	else if (p->total_bytes > 0)
		frac = (double)p->bytes / (double)p->total_bytes;
	if (frac > 1)
		frac = 1;
	if (frac >= 0) {
		size_t fill = (size_t)(frac * 30);
		for (size_t i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = '\0';
	}
	if (p->total > 0)
		fprintf(stderr, "\r%s [%s] %llu/%llu messages, %.0f msg/s\033[K",
			p->verb, bar, (unsigned long long)p->done,
			(unsigned long long)p->total, rate);
	else if (frac >= 0)
		fprintf(stderr, "\r%s [%s] %3.0f%% %llu messages, %.0f msg/s"
			"\033[K", p->verb, bar, frac * 100,
			(unsigned long long)p->done, rate);
	else
		fprintf(stderr, "\r%s %llu messages, %.0f msg/s\033[K",
			p->verb, (unsigned long long)p->done, rate);
	fflush(stderr);
	p->drawn = true;
}

void ctl_progress_update(struct ctl_progress *p, uint64_t done,
			 uint64_t bytes)
{
	p->done = done;
	p->bytes = bytes;
	if (!p->tty)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->drawn && ts_diff(&now, &p->last) < 0.1)
		return;
	p->last = now;
	draw(p, ts_diff(&now, &p->start));
}

void ctl_progress_end(struct ctl_progress *p)
{
	if (!p->tty || !p->drawn)
		return;
	draw(p, ctl_progress_elapsed(p));
	fputc('\n', stderr);
	fflush(stderr);
}
