/* Routing a login: login -> master -> auth -> master -> login -> master ->
 * worker. The master accepts from each process only the messages allowed
 * in that session's state (OpenSSH monitor style): a login process cannot
 * hand off a session auth did not approve, and the worker a session goes
 * to is chosen from auth's answer, never from what the login process
 * claims. */
#include "master.h"

#include "../../common/ipc-messages.h"
#include "../../common/log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct master_session *master_session_find(uint32_t id)
{
	for (struct master_session *s = master.sessions; s != NULL; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static struct master_session *master_session_by_login(struct master_child *login,
						     uint32_t login_session)
{
	for (struct master_session *s = master.sessions; s != NULL; s = s->next)
		if (s->login == login && s->login_session == login_session)
			return s;
	return NULL;
}

static void master_session_free(struct master_session *s)
{
	for (struct master_session **pp = &master.sessions; *pp != NULL;
	     pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	free(s->user);
	free(s->groups);
	free(s);
}

static void master_reply_login(struct master_child *login, uint32_t login_session,
			       uint8_t result, const char *user)
{
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_AUTH_REPLY, login_session);
	ipc_put_u8(&f, result);
	ipc_put_str(&f, user != NULL ? user : "");
	ipc_frame_end(&f, false);
	master_child_send(login, &f, -1);
	buf_free(&f);
}

static void master_auth_request(struct master_child *login, struct ipc_msg *msg)
{
	struct ipc_reader r;
	char *mech = NULL, *remote = NULL, *local = NULL;
	const uint8_t *authzid, *user, *pass;
	size_t authzid_len, user_len, pass_len;
	ipc_reader_init(&r, msg->payload, msg->hdr.length);
	bool ok = ipc_get_str(&r, 32, &mech) &&
		  ipc_get_bytes(&r, &authzid, &authzid_len) &&
		  ipc_get_bytes(&r, &user, &user_len) &&
		  ipc_get_bytes(&r, &pass, &pass_len) &&
		  ipc_get_str(&r, IPC_MAX_ADDR, &remote) &&
		  ipc_get_str(&r, IPC_MAX_ADDR, &local) && ipc_reader_done(&r) &&
		  user_len > 0 && user_len <= IPC_MAX_USER &&
		  authzid_len <= IPC_MAX_USER && pass_len <= IPC_MAX_PASSWORD;
	if (!ok || master_session_by_login(login, msg->hdr.session) != NULL) {
		free(mech); free(remote); free(local);
		kill(login->pid, SIGKILL);
		log_error("login[%ld]: malformed or duplicate AUTH_REQUEST; "
			  "killed it", (long)login->pid);
		return;
	}
	free(mech);
	/* Logging in as someone else (a SASL authorization identity other
	 * than the authenticated one) is not offered. */
	if (authzid_len > 0 && (authzid_len != user_len ||
				memcmp(authzid, user, user_len) != 0)) {
		master_reply_login(login, msg->hdr.session, IPC_AUTH_FAILED, NULL);
		free(remote); free(local);
		return;
	}
	if (master.auth == NULL || master.auth->ipc.fd < 0) {
		master_reply_login(login, msg->hdr.session, IPC_AUTH_TEMPFAIL,
				   NULL);
		free(remote); free(local);
		return;
	}
	struct master_session *s = xcalloc(1, sizeof(*s));
	s->id = master.next_session_id++;
	if (master.next_session_id == 0)
		master.next_session_id = 1;
	s->state = MSESSION_AUTHENTICATING;
	s->login = login;
	s->login_session = msg->hdr.session;
	s->started = time(NULL);
	snprintf(s->remote, sizeof(s->remote), "%s", remote);
	snprintf(s->local, sizeof(s->local), "%s", local);
	s->next = master.sessions;
	master.sessions = s;

	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_AUTH_CHECK, s->id);
	ipc_put_bytes(&f, user, user_len);
	ipc_put_bytes(&f, pass, pass_len);
	ipc_put_str(&f, remote);
	ipc_frame_end(&f, false);
	master_child_send(master.auth, &f, -1);
	buf_wipe(&f);
	/* The receive buffer held the password too. */
	explicit_bzero((void *)pass, pass_len);
	free(remote);
	free(local);
}

static void master_auth_result(struct master_child *auth, struct ipc_msg *msg)
{
	struct ipc_reader r;
	uint8_t result;
	char *user = NULL, *home = NULL;
	uint32_t uid, gid, ngroups;
	gid_t *groups = NULL;
	ipc_reader_init(&r, msg->payload, msg->hdr.length);
	bool ok = ipc_get_u8(&r, &result) &&
		  ipc_get_str(&r, IPC_MAX_USER, &user) &&
		  ipc_get_u32(&r, &uid) && ipc_get_u32(&r, &gid) &&
		  ipc_get_u32(&r, &ngroups) && ngroups <= IPC_MAX_GROUPS;
	if (ok) {
		groups = xcalloc(ngroups + 1, sizeof(gid_t));
		for (uint32_t i = 0; i < ngroups && ok; i++) {
			uint32_t g;
			ok = ipc_get_u32(&r, &g);
			groups[i] = g;
		}
		ok = ok && ipc_get_str(&r, IPC_MAX_PATH, &home) &&
		     ipc_reader_done(&r);
	}
	free(home);
	if (!ok) {
		free(user);
		free(groups);
		kill(auth->pid, SIGKILL);
		log_error("auth[%ld]: malformed AUTH_RESULT; killed it",
			  (long)auth->pid);
		return;
	}
	struct master_session *s = master_session_find(msg->hdr.session);
	if (s == NULL || s->state != MSESSION_AUTHENTICATING) {
		/* The login went away meanwhile. */
		free(user);
		free(groups);
		return;
	}
	if (result == IPC_AUTH_OK) {
		const char *why = NULL;
		if (user[0] == '\0' || strchr(user, '/') != NULL ||
		    strcmp(user, ".") == 0 || strcmp(user, "..") == 0)
			why = "user name unusable as a store directory";
		else if (uid < master.cfg.first_valid_uid && !master.dev_mode)
			why = "uid below first_valid_uid";
		if (why != NULL) {
			log_warn("refusing login of %s (uid %u): %s", user, uid,
				 why);
			result = IPC_AUTH_REFUSED;
		}
	}
	if (result != IPC_AUTH_OK) {
		master_reply_login(s->login, s->login_session, result, NULL);
		master_session_free(s);
		free(user);
		free(groups);
		return;
	}
	s->state = MSESSION_APPROVED;
	s->user = user;
	s->uid = uid;
	s->gid = gid;
	s->groups = groups;
	s->ngroups = ngroups;
	master_reply_login(s->login, s->login_session, IPC_AUTH_OK, user);
}

static void master_session_handoff(struct master_child *login,
				   struct ipc_msg *msg)
{
	struct master_session *s = master_session_by_login(login, msg->hdr.session);
	if (s == NULL || s->state != MSESSION_APPROVED) {
		kill(login->pid, SIGKILL);
		log_error("login[%ld]: hand-off of a session auth did not "
			  "approve; killed it", (long)login->pid);
		return;
	}
	struct ipc_reader r;
	char *tag = NULL, *remote = NULL, *local = NULL, *tls_info = NULL;
	uint8_t tls;
	uint32_t caps;
	const uint8_t *pending;
	size_t pending_len;
	ipc_reader_init(&r, msg->payload, msg->hdr.length);
	bool ok = ipc_get_str(&r, IPC_MAX_TAG, &tag) && ipc_get_u8(&r, &tls) &&
		  ipc_get_u32(&r, &caps) &&
		  ipc_get_str(&r, IPC_MAX_ADDR, &remote) &&
		  ipc_get_str(&r, IPC_MAX_ADDR, &local) &&
		  ipc_get_bytes(&r, &pending, &pending_len) &&
		  ipc_get_str(&r, IPC_MAX_TLS_INFO, &tls_info) &&
		  ipc_reader_done(&r) && (tls != 0) == (tls_info[0] != '\0');
	if (!ok) {
		free(tag); free(remote); free(local); free(tls_info);
		kill(login->pid, SIGKILL);
		log_error("login[%ld]: malformed SESSION_HANDOFF; killed it",
			  (long)login->pid);
		return;
	}
	snprintf(s->remote, sizeof(s->remote), "%s", remote);
	snprintf(s->local, sizeof(s->local), "%s", local);
	s->tls = tls != 0;
	snprintf(s->tls_info, sizeof(s->tls_info), "%s", tls_info);
	free(tls_info);
	const char *error = NULL;
	struct master_worker *w = master_worker_get(s, &error);
	if (w == NULL) {
		/* The client fd closes with the message: the client sees the
		 * connection drop; the log says why. */
		log_error("cannot start a worker for %s: %s", s->user, error);
		master_session_free(s);
		free(tag); free(remote); free(local);
		return;
	}
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_WORKER_SESSION, s->id);
	ipc_put_str(&f, tag);
	ipc_put_u8(&f, tls);
	ipc_put_u32(&f, caps);
	ipc_put_str(&f, remote);
	ipc_put_str(&f, local);
	ipc_put_bytes(&f, pending, pending_len);
	ipc_frame_end(&f, true);
	master_child_send(w->child, &f, msg->fd);
	msg->fd = -1;
	buf_free(&f);
	s->state = MSESSION_ACTIVE;
	s->login = NULL;
	s->worker = w;
	w->sessions++;
	log_msg(LOG_LEVEL_INFO, s->id, "login: user=%s remote=%s worker=%ld "
		"tls=%s", s->user, s->remote, (long)w->child->pid,
		s->tls ? s->tls_info : "no");
	free(tag); free(remote); free(local);
}

static void master_login_msg(struct master_child *c, struct ipc_msg *msg)
{
	switch (msg->hdr.type) {
	case IPC_MSG_AUTH_REQUEST:
		master_auth_request(c, msg);
		return;
	case IPC_MSG_SESSION_HANDOFF:
		master_session_handoff(c, msg);
		return;
	case IPC_MSG_SESSION_GONE: {
		struct master_session *s =
			master_session_by_login(c, msg->hdr.session);
		if (s != NULL)
			master_session_free(s);
		return;
	}
	default:
		kill(c->pid, SIGKILL);
		log_error("login[%ld]: unexpected message type %u; killed it",
			  (long)c->pid, msg->hdr.type);
	}
}

void master_handle_child_msg(struct master_child *c, struct ipc_msg *msg)
{
	switch (c->role) {
	case ROLE_LOGIN:
		master_login_msg(c, msg);
		return;
	case ROLE_AUTH:
		if (msg->hdr.type == IPC_MSG_AUTH_RESULT) {
			master_auth_result(c, msg);
			return;
		}
		break;
	case ROLE_WORKER:
		master_worker_handle_msg(c, msg);
		return;
	}
	kill(c->pid, SIGKILL);
	log_error("%s[%ld]: unexpected message type %u; killed it",
		  master_role_name(c->role), (long)c->pid, msg->hdr.type);
}

void master_child_gone(struct master_child *c)
{
	struct master_session *s = master.sessions;
	while (s != NULL) {
		struct master_session *next = s->next;
		if (c->role == ROLE_LOGIN && s->login == c) {
			master_session_free(s);
		} else if (c->role == ROLE_AUTH &&
			   s->state == MSESSION_AUTHENTICATING) {
			/* Tell the login so its client gets an answer. */
			master_reply_login(s->login, s->login_session,
					   IPC_AUTH_TEMPFAIL, NULL);
			master_session_free(s);
		} else if (c->role == ROLE_WORKER && c->worker != NULL &&
			   s->worker == c->worker) {
			master_session_free(s);
		}
		s = next;
	}
	if (c->role == ROLE_AUTH && master.auth == c)
		master.auth = NULL;
	if (c->role == ROLE_LOGIN && master.logins[c->slot] == c)
		master.logins[c->slot] = NULL;
	if (c->role == ROLE_WORKER && c->worker != NULL)
		master_worker_child_gone(c->worker);
}

void master_session_closed(struct master_worker *w, uint32_t id)
{
	struct master_session *s = master_session_find(id);
	if (s == NULL || s->worker != w)
		return;
	master_session_free(s);
	if (w->sessions > 0)
		w->sessions--;
}
