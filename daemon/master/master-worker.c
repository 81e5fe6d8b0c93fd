/* One worker per user: started at the user's first login, given every
 * later session of that user, and allowed to exit when idle only after the
 * master confirms no session is on its way to it. */
#include "master.h"

#include "../../common/ipc-messages.h"
#include "../../common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates <mail_root>/<user> owned by the user, mode 0700, or checks the
 * existing one: a directory (not a symlink an attacker could point
 * elsewhere) owned by that uid. */
static int master_store_dir(const char *user, uid_t uid, gid_t gid,
			    char **path_r, const char **error_r)
{
	struct buf p;
	buf_init(&p);
	buf_printf(&p, "%s/%s", master.cfg.mail_root, user);
	char *path = (char *)buf_cstr(&p);
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT) {
			*error_r = "cannot stat the user's store directory";
			buf_free(&p);
			return -1;
		}
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*error_r = "cannot create the user's store directory";
			buf_free(&p);
			return -1;
		}
		if (!master.dev_mode && chown(path, uid, gid) < 0) {
			*error_r = "cannot chown the user's store directory";
			buf_free(&p);
			return -1;
		}
		if (lstat(path, &st) < 0) {
			*error_r = "store directory vanished";
			buf_free(&p);
			return -1;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		*error_r = "the user's store path is not a directory";
		buf_free(&p);
		return -1;
	}
	if (!master.dev_mode && st.st_uid != uid) {
		*error_r = "the user's store directory is owned by another uid";
		buf_free(&p);
		return -1;
	}
	if ((st.st_mode & 077) != 0 && chmod(path, 0700) < 0) {
		*error_r = "cannot make the user's store directory private";
		buf_free(&p);
		return -1;
	}
	*path_r = path;
	return 0;
}

static void master_worker_send_init(struct master_worker *w, const char *dir)
{
	struct buf f;
	buf_init(&f);
	ipc_frame_begin(&f, IPC_MSG_WORKER_INIT, 0);
	ipc_put_str(&f, w->user);
	ipc_put_u32(&f, w->uid);
	ipc_put_u32(&f, w->gid);
	ipc_put_u32(&f, (uint32_t)w->ngroups);
	for (size_t i = 0; i < w->ngroups; i++)
		ipc_put_u32(&f, w->groups[i]);
	ipc_put_str(&f, dir);
	ipc_put_u32(&f, master.cfg.worker_linger);
	ipc_put_u32(&f, master.cfg.max_line_length);
	ipc_put_u32(&f, master.cfg.imap_idle_timeout);
	ipc_put_u32(&f, master.cfg.max_bad_commands);
	ipc_put_u8(&f, master.dev_mode ? 1 : 0);
	ipc_put_u8(&f, (uint8_t)master.cfg.log_level);
	ipc_frame_end(&f, false);
	master_child_send(w->child, &f, -1);
	buf_free(&f);
}

static void master_worker_unlink(struct master_worker *w)
{
	for (struct master_worker **pp = &master.workers; *pp != NULL;
	     pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
}

struct master_worker *master_worker_get(struct master_session *s,
					const char **error_r)
{
	for (struct master_worker *w = master.workers; w != NULL; w = w->next) {
		if (strcmp(w->user, s->user) == 0 && !w->exiting &&
		    w->child != NULL && w->child->ipc.fd >= 0) {
			if (w->uid != s->uid) {
				*error_r = "uid changed while a worker runs";
				return NULL;
			}
			return w;
		}
	}
	char *dir = NULL;
	if (master_store_dir(s->user, s->uid, s->gid, &dir, error_r) < 0)
		return NULL;
	struct master_worker *w = xcalloc(1, sizeof(*w));
	w->user = xstrdup(s->user);
	w->uid = s->uid;
	w->gid = s->gid;
	w->ngroups = s->ngroups;
	w->groups = xcalloc(s->ngroups + 1, sizeof(gid_t));
	memcpy(w->groups, s->groups, s->ngroups * sizeof(gid_t));
	w->child = master_child_spawn(ROLE_WORKER, 0);
	if (w->child == NULL) {
		*error_r = "cannot spawn a process";
		free(dir);
		free(w->groups);
		free(w->user);
		free(w);
		return NULL;
	}
	w->child->worker = w;
	w->next = master.workers;
	master.workers = w;
	master_worker_send_init(w, dir);
	free(dir);
	return w;
}

void master_worker_child_gone(struct master_worker *w)
{
	master_worker_unlink(w);
	free(w->groups);
	free(w->user);
	free(w);
}

void master_worker_handle_msg(struct master_child *c, struct ipc_msg *msg)
{
	struct master_worker *w = c->worker;
	struct ipc_reader r;
	ipc_reader_init(&r, msg->payload, msg->hdr.length);
	switch (msg->hdr.type) {
	case IPC_MSG_WORKER_SESSION_CLOSED:
		if (ipc_reader_done(&r)) {
			master_session_closed(w, msg->hdr.session);
			return;
		}
		break;
	case IPC_MSG_WORKER_EXIT_REQUEST:
		if (!ipc_reader_done(&r))
			break;
		/* The channel is ordered: if a session was sent before this
		 * request arrived, the worker will see it and stay. */
		if (w->sessions == 0 && !w->exiting) {
			struct buf f;
			buf_init(&f);
			ipc_frame_begin(&f, IPC_MSG_WORKER_EXIT_OK, 0);
			ipc_frame_end(&f, false);
			master_child_send(c, &f, -1);
			buf_free(&f);
			w->exiting = true;
		}
		return;
	default:
		break;
	}
	kill(c->pid, SIGKILL);
	log_error("worker[%ld]: unexpected or malformed message type %u; "
		  "killed it", (long)c->pid, msg->hdr.type);
}

unsigned master_worker_kick(const char *user, const char *reason)
{
	unsigned kicked = 0;
	for (struct master_worker *w = master.workers; w != NULL; w = w->next) {
		if (strcmp(w->user, user) != 0 || w->child == NULL)
			continue;
		struct buf f;
		buf_init(&f);
		ipc_frame_begin(&f, IPC_MSG_WORKER_KICK, 0);
		ipc_put_str(&f, reason);
		ipc_frame_end(&f, false);
		master_child_send(w->child, &f, -1);
		buf_free(&f);
		kicked += w->sessions;
	}
	return kicked;
}
