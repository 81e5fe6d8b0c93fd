#include "auth-pam.h"

#include "../common/buf.h"
#include "../common/log.h"

#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>

struct auth_conv_data {
	const char *password;
};

/* Answers password prompts (echo off) with the password; informational
 * messages are dropped; anything else fails the conversation. */
static int auth_conv(int num_msg, const struct pam_message **msg,
		     struct pam_response **resp, void *appdata)
{
	struct auth_conv_data *data = appdata;
	if (num_msg <= 0 || num_msg > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	struct pam_response *r = calloc((size_t)num_msg, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < num_msg; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			/* PAM frees (and for pam_unix, wipes) its copy. */
			r[i].resp = strdup(data->password);
			if (r[i].resp == NULL)
				goto fail;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			break;
		default:
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (int i = 0; i < num_msg; i++) {
		if (r[i].resp != NULL) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
	return PAM_CONV_ERR;
}

/* PAM modules (pam_unix, pam_faildelay) would sleep inside
 * pam_authenticate and stall every other login; the auth process applies
 * its own per-address delay without blocking instead. */
static void auth_no_delay(int retval, unsigned usec_delay, void *appdata)
{
	(void)retval;
	(void)usec_delay;
	(void)appdata;
}

static int auth_lookup_user(const char *name, struct auth_user *u)
{
	struct passwd *pw = getpwnam(name);
	if (pw == NULL)
		return -1;
	u->name = xstrdup(pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->home = xstrdup(pw->pw_dir != NULL ? pw->pw_dir : "/");
	int n = IPC_MAX_GROUPS;
	if (getgrouplist(pw->pw_name, pw->pw_gid, u->groups, &n) < 0) {
		/* More groups than we pass on: keep the first ones. */
		n = IPC_MAX_GROUPS;
	}
	u->ngroups = (size_t)n;
	return 0;
}

int auth_pam_check(const char *service, const char *user,
		   const char *password, const char *remote,
		   struct auth_user *user_r, const char **reason_r)
{
	struct auth_conv_data data = { .password = password };
	struct pam_conv conv = { .conv = auth_conv, .appdata_ptr = &data };
	pam_handle_t *pamh = NULL;
	memset(user_r, 0, sizeof(*user_r));
	int ret = pam_start(service, user, &conv, &pamh);
	if (ret != PAM_SUCCESS) {
		*reason_r = "pam_start failed";
		return IPC_AUTH_TEMPFAIL;
	}
	(void)pam_set_item(pamh, PAM_RHOST, remote);
	(void)pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)auth_no_delay);
	int result = IPC_AUTH_FAILED;
	ret = pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	switch (ret) {
	case PAM_SUCCESS:
		break;
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
	case PAM_CRED_INSUFFICIENT:
	case PAM_MAXTRIES:
		*reason_r = pam_strerror(pamh, ret);
		goto out;
	default:
		*reason_r = pam_strerror(pamh, ret);
		result = IPC_AUTH_TEMPFAIL;
		goto out;
	}
	ret = pam_acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (ret != PAM_SUCCESS) {
		/* Expired account or password, locked, not allowed here:
		 * the password was right, but no mail for now. */
		*reason_r = pam_strerror(pamh, ret);
		result = ret == PAM_USER_UNKNOWN ? IPC_AUTH_FAILED :
						   IPC_AUTH_REFUSED;
		goto out;
	}
	const void *item = NULL;
	const char *canonical = user;
	if (pam_get_item(pamh, PAM_USER, &item) == PAM_SUCCESS && item != NULL)
		canonical = item;
	if (auth_lookup_user(canonical, user_r) < 0) {
		*reason_r = "user has no passwd entry";
		result = IPC_AUTH_FAILED;
		goto out;
	}
	result = IPC_AUTH_OK;
	*reason_r = "ok";
out:
	pam_end(pamh, ret);
	return result;
}

void auth_user_free(struct auth_user *u)
{
	free(u->name);
	free(u->home);
	memset(u, 0, sizeof(*u));
}
