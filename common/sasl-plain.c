#include "sasl-plain.h"

#include <string.h>

int sasl_plain_parse(const char *msg, size_t len, struct sasl_plain *out)
{
	const char *nul1 = memchr(msg, '\0', len);
	if (nul1 == NULL)
		return -1;
	size_t rest = len - (size_t)(nul1 + 1 - msg);
	const char *nul2 = memchr(nul1 + 1, '\0', rest);
	if (nul2 == NULL)
		return -1;
	out->authzid = msg;
	out->authzid_len = (size_t)(nul1 - msg);
	out->authcid = nul1 + 1;
	out->authcid_len = (size_t)(nul2 - (nul1 + 1));
	out->passwd = nul2 + 1;
	out->passwd_len = len - (size_t)(nul2 + 1 - msg);
	if (memchr(out->passwd, '\0', out->passwd_len) != NULL)
		return -1;
	if (out->authcid_len == 0 || out->passwd_len == 0)
		return -1;
	return 0;
}
