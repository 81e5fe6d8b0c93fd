/* posternd: the master, or, when started by the master with --role, one
 * of its child roles (fork + exec gives each child a fresh address space
 * layout; ARCHITECTURE "Processes"). */
#include "master/master.h"

#include <stdio.h>
#include <string.h>

int login_main(void);
int auth_main(void);
int worker_main(void);

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--role") == 0) {
		if (strcmp(argv[2], "login") == 0)
			return login_main();
		if (strcmp(argv[2], "auth") == 0)
			return auth_main();
		if (strcmp(argv[2], "worker") == 0)
			return worker_main();
		fprintf(stderr, "posternd: unknown role %s\n", argv[2]);
		return 1;
	}
	return master_main(argc, argv);
}
