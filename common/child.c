#include "child.h"
#include "log.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

void child_init(const char *role)
{
	log_init(role, LOG_SINK_MASTER);
	signal(SIGPIPE, SIG_IGN);
}

void child_die_with_master(void)
{
	/* The kernel clears this on a credential change, so it is set after
	 * the drop. A master gone before this call is caught by getppid. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		fatal("prctl(PR_SET_PDEATHSIG) failed");
	if (getppid() == 1)
		exit(0);
}
