/* STATUS data items; see imap-status-args.h. */
#include "imap-status-args.h"

#include <stddef.h>
#include <strings.h>

static const char *const imap_status_names[IMAP_STATUS_ITEM_COUNT] = {
	"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN",
	"DELETED", "SIZE", "HIGHESTMODSEQ", "APPENDLIMIT",
};

const char *imap_status_item_name(uint32_t item)
{
	for (unsigned i = 0; i < IMAP_STATUS_ITEM_COUNT; i++) {
		if (item == 1u << i)
			return imap_status_names[i];
	}
	return NULL;
}

int imap_status_args_parse(const struct imap_arg *list, uint32_t *items_r,
			   const char **error_r)
{
	uint32_t items = 0;
	/* status-att-list: "(" status-att *(SP status-att) ")" */
	if (list->type != IMAP_ARG_LIST) {
		*error_r = "STATUS items must be a parenthesised list";
		return -1;
	}
	if (list->list_count == 0) {
		*error_r = "Empty STATUS item list";
		return -1;
	}
	for (size_t i = 0; i < list->list_count; i++) {
		const struct imap_arg *a = &list->list[i];
		unsigned k;
		if (a->type != IMAP_ARG_ATOM) {
			*error_r = "Invalid STATUS item";
			return -1;
		}
		for (k = 0; k < IMAP_STATUS_ITEM_COUNT; k++) {
			if (strcasecmp(a->str, imap_status_names[k]) == 0)
				break;
		}
		if (k == IMAP_STATUS_ITEM_COUNT) {
			*error_r = "Unknown STATUS item";
			return -1;
		}
		items |= 1u << k;
	}
	*items_r = items;
	return 0;
}
