#include "imap-capability.h"
#include "imap-parser.h"

#include <stddef.h>
#include <strings.h>

static const char *const imap_known_commands[] = {
	"CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "AUTHENTICATE", "LOGIN",
	"ID", "ENABLE", "SELECT", "EXAMINE", "CREATE", "DELETE", "RENAME",
	"SUBSCRIBE", "UNSUBSCRIBE", "LIST", "LSUB", "NAMESPACE", "STATUS",
	"APPEND", "IDLE", "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH",
	"FETCH", "STORE", "COPY", "MOVE", "UID", "SORT", "THREAD", "ESEARCH",
	"GETQUOTA", "GETQUOTAROOT", "SETQUOTA", "GETACL", "SETACL",
	"MYRIGHTS", "LISTRIGHTS", "DELETEACL", "GETMETADATA", "SETMETADATA",
	"COMPRESS", "NOTIFY", "UNAUTHENTICATE",
};

bool imap_command_is_known(const char *name)
{
	for (size_t i = 0;
	     i < sizeof(imap_known_commands) / sizeof(imap_known_commands[0]);
	     i++)
		if (strcasecmp(name, imap_known_commands[i]) == 0)
			return true;
	return false;
}

bool imap_id_args_valid(const struct imap_command *cmd)
{
	if (cmd->arg_count != 1)
		return false;
	const struct imap_arg *a = &cmd->args[0];
	if (a->type == IMAP_ARG_ATOM)
		return strcasecmp(a->str, "NIL") == 0;
	if (a->type != IMAP_ARG_LIST || a->list_count % 2 != 0 ||
	    a->list_count > 60)
		return false;
	for (size_t i = 0; i < a->list_count; i++)
		if (a->list[i].type == IMAP_ARG_LIST)
			return false;
	return true;
}
