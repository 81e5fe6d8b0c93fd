/* SASL PLAIN message (RFC 4616): [authzid] NUL authcid NUL passwd. */
#ifndef POSTERN_SASL_PLAIN_H
#define POSTERN_SASL_PLAIN_H

#include <stddef.h>

struct sasl_plain {
	const char *authzid;	size_t authzid_len;
	const char *authcid;	size_t authcid_len;
	const char *passwd;	size_t passwd_len;
};

/* Pure; points into msg. -1 if there are not exactly two NULs, or the
 * authcid or password is empty. */
int sasl_plain_parse(const char *msg, size_t len, struct sasl_plain *out);

#endif
