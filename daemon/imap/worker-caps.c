/* The capabilities a logged-in client sees. Each name is here because its
 * command or behaviour is implemented and tested. */
#include "worker.h"

#include <stddef.h>

#define WORKER_CAPS_STR2(x) #x
#define WORKER_CAPS_STR(x) WORKER_CAPS_STR2(x)

const char *worker_capabilities(void)
{
	return "IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE NAMESPACE UNSELECT "
	       "CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE STATUS=SIZE "
	       "UTF8=ACCEPT IDLE UIDPLUS MOVE MULTIAPPEND BINARY PREVIEW "
	       "ESEARCH SEARCHRES WITHIN "
	       "SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES "
	       "APPENDLIMIT=" WORKER_CAPS_STR(WORKER_APPEND_LIMIT);
}
