/* The PAM conversation: the only code in Postern that sees passwords. */
#ifndef POSTERN_AUTH_PAM_H
#define POSTERN_AUTH_PAM_H

#include <stddef.h>
#include <sys/types.h>

#include "../common/ipc-messages.h"

struct auth_user {
	char *name;		/* canonical, from PAM_USER and getpwnam */
	uid_t uid;
	gid_t gid;
	gid_t groups[IPC_MAX_GROUPS];
	size_t ngroups;
	char *home;
};

/* pam_authenticate then pam_acct_mgmt on service. Returns an
 * enum ipc_auth_result; fills user on IPC_AUTH_OK (free with
 * auth_user_free). *reason_r names the failure for the log. */
int auth_pam_check(const char *service, const char *user,
		   const char *password, const char *remote,
		   struct auth_user *user_r, const char **reason_r);
void auth_user_free(struct auth_user *u);

#endif
