/* Dropping privileges in the one fixed order (STYLE rule 2):
 * everything that needs files is loaded first, then
 * chroot + chdir("/") -> setgroups -> setresgid -> setresuid -> check that
 * none of the old ids is left and root cannot be regained ->
 * PR_SET_NO_NEW_PRIVS; the caller then installs its seccomp policy
 * (sandbox_apply). Any failure is fatal: a child that half-dropped must
 * not serve anyone. */
#ifndef POSTERN_PRIVDROP_H
#define POSTERN_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/* chroot_dir NULL skips the chroot. Run as root: uid must not be 0; the
 * supplementary groups become exactly groups[0..ngroups) (NULL/0 clears
 * them). Run unprivileged (development mode): uid and gid must be the
 * process's own, and the supplementary groups are left as they are, since
 * only root may call setgroups at all. */
void privdrop_chroot_and_drop(const char *chroot_dir, uid_t uid, gid_t gid,
			      const gid_t *groups, size_t ngroups);

/* PR_SET_NO_NEW_PRIVS: no exec can gain privileges (setuid bits, file
 * capabilities) from here on. Fatal on failure. */
void privdrop_no_new_privs(void);

/* Makes sure path is a root-owned directory that only root may write
 * (created 0555 if missing; only the last component is created) and that
 * is empty: the login and lmtp chroot. 0 on success, -1 with the reason in
 * error_r (caller frees). A symlink is refused, not followed. */
int privdrop_prepare_empty_dir(const char *path, char **error_r);

#endif
