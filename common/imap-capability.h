/* Capability lists and the command vocabulary shared by the login process
 * and the worker. */
#ifndef POSTERN_IMAP_CAPABILITY_H
#define POSTERN_IMAP_CAPABILITY_H

#include <stdbool.h>

/* Before login (RFC 9051 6.1.1). AUTH=PLAIN: the only mechanism that
 * works with PAM, which needs the password itself. */
#define IMAP_CAPABILITY_PREAUTH \
	"IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID AUTH=PLAIN"
/* After login: sent by the worker in the tagged OK of LOGIN. */
#define IMAP_CAPABILITY_AUTH "IMAP4rev1 IMAP4rev2 LITERAL+ ID"

/* A command of RFC 9051/3501 or an extension we know of, valid in some
 * state: lets each state answer "not valid here" instead of "unknown". */
bool imap_command_is_known(const char *name);

struct imap_command;
/* RFC 2971: ID takes NIL or a list of at most 30 field/value pairs. */
bool imap_id_args_valid(const struct imap_command *cmd);
/* The server's ID response line, without tag. */
#define IMAP_ID_RESPONSE "* ID (\"name\" \"Postern\")\r\n"

#endif
