/* posternctl's offline store tools (import, export): they work on a
 * user's store directly, without the daemon, in a child process that has
 * dropped to the user's uid, gid and groups, as the user's worker would.
 * The store lock keeps them and the worker apart. */
#ifndef POSTERN_CTL_H
#define POSTERN_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct postern_config;
struct store;

/* Exit status of posternctl. */
#define CTL_EXIT_OK		0
#define CTL_EXIT_ERROR		1
#define CTL_EXIT_USAGE		2
#define CTL_EXIT_PARTIAL	3	/* some input could not be imported */

struct ctl_user {
	char *name;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	char *store_dir;	/* <mail_root>/<name> */
};

/* getpwnam + getgrouplist; refuses uids below first_valid_uid as the
 * daemon does. Prints the reason and returns -1 on failure. */
int ctl_user_lookup(const struct postern_config *cfg, const char *name,
		    struct ctl_user *user_r);
void ctl_user_free(struct ctl_user *user);
/* Creates <mail_root>/<user> (0700, owned by the user) if missing, or
 * checks the existing one, as the master does before starting a worker. */
int ctl_user_prepare_store_dir(const struct postern_config *cfg,
			       const struct ctl_user *user);

/* Runs fn in a child process with the user's ids (setgroups, setresgid,
 * setresuid, verified, no new privileges) and returns its exit status. */
typedef int ctl_user_fn(void *ctx, const struct ctl_user *user);
int ctl_user_run(const struct ctl_user *user, ctl_user_fn *fn, void *ctx);

/* store_open for an offline tool; on failure prints why, and if the
 * user's worker holds the store, says so with what to do. */
int ctl_store_open(const struct ctl_user *user, bool create,
		   const char *verb, struct store **store_r);

/* Progress on stderr when it is a terminal (a bar redrawn at most ten
 * times a second), nothing otherwise: the caller prints a summary. */
struct ctl_progress {
	bool tty;
	const char *verb;
	uint64_t total;		/* messages; 0 = unknown */
	uint64_t total_bytes;	/* input bytes; 0 = unknown */
	uint64_t done;
	uint64_t bytes;
	struct timespec start;
	struct timespec last;
	bool drawn;
};

void ctl_progress_init(struct ctl_progress *p, const char *verb,
		       uint64_t total, uint64_t total_bytes);
void ctl_progress_update(struct ctl_progress *p, uint64_t done,
			 uint64_t bytes);
/* Clears the bar. */
void ctl_progress_end(struct ctl_progress *p);
double ctl_progress_elapsed(const struct ctl_progress *p);

/* The commands; args are the words after the command name. */
int ctl_import_main(const struct postern_config *cfg, int argc,
		    char *const *argv, const char *mailbox);
int ctl_export_main(const struct postern_config *cfg, int argc,
		    char *const *argv);
/* ctl-reindex.c (issue 6): the search index, offline */
int ctl_reindex_main(const struct postern_config *cfg, int argc,
		     char *const *argv);
int ctl_index_status_main(const struct postern_config *cfg, int argc,
			  char *const *argv);

#endif
