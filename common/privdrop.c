#include "privdrop.h"

#include "buf.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

void privdrop_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fatal("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		fatal("PR_SET_NO_NEW_PRIVS did not stick");
}

static void enter_chroot(const char *dir)
{
	if (chroot(dir) < 0)
		fatal("chroot(%s): %s", dir, strerror(errno));
	/* Without it the cwd stays outside the new root, and every relative
	 * path would escape it. */
	if (chdir("/") < 0)
		fatal("chdir(/) in chroot %s: %s", dir, strerror(errno));
}

/* Root's group would give access to whatever root's group can read or
 * write; no role needs it, so asking for it is a bug. */
static void check_targets(uid_t uid, gid_t gid, const gid_t *groups,
			  size_t ngroups)
{
	if (uid == 0)
		fatal("privdrop: refusing to drop to uid 0");
	if (gid == 0)
		fatal("privdrop: refusing to drop to gid 0");
	if (ngroups > 0 && groups == NULL)
		fatal("privdrop: %zu groups but no list", ngroups);
	for (size_t i = 0; i < ngroups; i++)
		if (groups[i] == 0)
			fatal("privdrop: refusing supplementary group 0");
}

static void set_ids(bool privileged, uid_t uid, gid_t gid,
		    const gid_t *groups, size_t ngroups)
{
	/* Groups first, uid last: once the uid is gone, so is the right to
	 * change groups. */
	if (privileged && setgroups(ngroups, groups) < 0)
		fatal("setgroups(%zu groups): %s", ngroups, strerror(errno));
	if (setresgid(gid, gid, gid) < 0)
		fatal("setresgid(%u): %s", (unsigned)gid, strerror(errno));
	if (setresuid(uid, uid, uid) < 0)
		fatal("setresuid(%u): %s", (unsigned)uid, strerror(errno));
}

/* Real, effective and saved ids must all be the new ones: a saved id of
 * 0 would let the process become root again with one setuid call. */
static void verify_ids(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		fatal("getresuid/getresgid: %s", strerror(errno));
	if (ru != uid || eu != uid || su != uid)
		fatal("privdrop: uids are %u/%u/%u, expected %u", (unsigned)ru,
		      (unsigned)eu, (unsigned)su, (unsigned)uid);
	if (rg != gid || eg != gid || sg != gid)
		fatal("privdrop: gids are %u/%u/%u, expected %u", (unsigned)rg,
		      (unsigned)eg, (unsigned)sg, (unsigned)gid);
}

static bool gid_in(gid_t g, const gid_t *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == g)
			return true;
	return false;
}

/* The supplementary groups must be exactly the requested set: one left
 * over from root (or the master) would open files the user cannot. */
static void verify_groups(const gid_t *groups, size_t ngroups)
{
	int n = getgroups(0, NULL);
	if (n < 0)
		fatal("getgroups: %s", strerror(errno));
	gid_t *have = xcalloc((size_t)n + 1, sizeof(*have));
	if (getgroups(n, have) != n)
		fatal("getgroups: the list changed under us");
	for (int i = 0; i < n; i++)
		if (!gid_in(have[i], groups, ngroups))
			fatal("privdrop: supplementary group %u remains",
			      (unsigned)have[i]);
	for (size_t i = 0; i < ngroups; i++)
		if (!gid_in(groups[i], have, (size_t)n))
			fatal("privdrop: supplementary group %u missing",
			      (unsigned)groups[i]);
	free(have);
}

/* Leaving uid 0 clears the capability sets unless something asked the
 * kernel to keep them (SECBIT_KEEP_CAPS); check rather than trust. */
static void verify_no_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		fatal("capget: %s", strerror(errno));
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective != 0 || data[i].permitted != 0)
			fatal("privdrop: capabilities remain after the uid "
			      "change");
}

/* The checks OpenSSH's permanently_drop_uid makes: if any way back to
 * root works, the drop did not happen. */
static void verify_no_regain(void)
{
	if (setgid(0) != -1 || setegid(0) != -1)
		fatal("privdrop: could regain gid 0");
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatal("privdrop: could regain uid 0");
	if (setgroups(0, NULL) != -1)
		fatal("privdrop: could still change supplementary groups");
}

void privdrop_chroot_and_drop(const char *chroot_dir, uid_t uid, gid_t gid,
			      const gid_t *groups, size_t ngroups)
{
	bool privileged = geteuid() == 0;
	if (privileged)
		check_targets(uid, gid, groups, ngroups);
	else if (uid != getuid() || gid != getgid())
		fatal("privdrop: not root, cannot become uid %u gid %u",
		      (unsigned)uid, (unsigned)gid);

	if (chroot_dir != NULL)
		enter_chroot(chroot_dir);
	set_ids(privileged, uid, gid, groups, ngroups);
	verify_ids(uid, gid);
	if (privileged) {
		verify_groups(groups, ngroups);
		verify_no_capabilities();
		verify_no_regain();
	}
	privdrop_no_new_privs();
}

/* ---- the empty chroot directory ---- */

static int dir_error(char **error_r, const char *path, const char *what,
		     int err)
{
	struct buf b;
	buf_init(&b);
	if (err != 0)
		buf_printf(&b, "%s: %s: %s", path, what, strerror(err));
	else
		buf_printf(&b, "%s: %s", path, what);
	*error_r = (char *)b.data;
	return -1;
}

/* A directory anyone but root can write could gain files (a fake
 * /etc/localtime, a device node via a helper) between checks and use. */
static int check_dir_fd(int fd, const char *path, char **error_r)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return dir_error(error_r, path, "fstat", errno);
	if (!S_ISDIR(st.st_mode))
		return dir_error(error_r, path, "not a directory", 0);
	if (st.st_uid != 0)
		return dir_error(error_r, path, "not owned by root", 0);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return dir_error(error_r, path,
				 "writable by group or others", 0);
	return 0;
}

/* Consumes fd. */
static int check_dir_empty(int fd, const char *path, char **error_r)
{
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		int err = errno;
		close(fd);
		return dir_error(error_r, path, "opendir", err);
	}
	int ret = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			ret = dir_error(error_r, path, "not empty", 0);
			break;
		}
	}
	if (ret == 0 && errno != 0)
		ret = dir_error(error_r, path, "readdir", errno);
	closedir(d);
	return ret;
}

int privdrop_prepare_empty_dir(const char *path, char **error_r)
{
	if (mkdir(path, 0555) == 0) {
		/* The umask may have taken bits; 0555 is what we mean. */
		if (chmod(path, 0555) < 0)
			return dir_error(error_r, path, "chmod", errno);
	} else if (errno != EEXIST) {
		return dir_error(error_r, path, "mkdir", errno);
	}
	/* O_NOFOLLOW: a symlink could be repointed after the check. */
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return dir_error(error_r, path,
					 "not a directory (or a symlink)", 0);
		return dir_error(error_r, path, "open", errno);
	}
	if (check_dir_fd(fd, path, error_r) < 0) {
		close(fd);
		return -1;
	}
	return check_dir_empty(fd, path, error_r);
}
