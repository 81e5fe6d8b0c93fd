/* The capabilities a logged-in client sees. Each name is here because its
 * command or behaviour is implemented and tested. */
#include "worker.h"

#include <stddef.h>

const char *worker_capabilities(void)
{
	return "IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE NAMESPACE UNSELECT "
	       "CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE STATUS=SIZE "
	       "UTF8=ACCEPT";
}
