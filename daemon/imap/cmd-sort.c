/* SORT and UID SORT (RFC 5256 section 3), with the DISPLAYFROM and
 * DISPLAYTO keys of SORT=DISPLAY (RFC 5957) and ESORT's return options
 * (RFC 5267 section 3):
 *
 *   sort = ["UID" SP] "SORT" [SP "RETURN" SP "(" [opts] ")"]
 *          SP sort-criteria SP charset 1*(SP search-key)
 *
 * Without RETURN the answer is "* SORT n..." in sort order; with it,
 * "* ESEARCH (TAG "t") [UID] ..." where MIN and MAX are the first and last
 * message in sort order (not the smallest number) and ALL lists the
 * numbers in sort order, a run of consecutive ascending numbers written
 * as a range (RFC 5267 section 3.2). The matches are SEARCH's
 * (sort-search.h); the keys and collations are sort-key.h's. */
#include "worker.h"

#include "sort-key.h"
#include "sort-load.h"
#include "sort-search.h"
#include "sort-slice.h"

#include <stdlib.h>
#include <string.h>

enum sort_return {
	SORT_RETURN_MIN = 1u << 0,
	SORT_RETURN_MAX = 1u << 1,
	SORT_RETURN_ALL = 1u << 2,
	SORT_RETURN_COUNT = 1u << 3,
};

static int sort_return_parse(const struct imap_arg *list, unsigned *ret_r,
			     const char **error_r)
{
	static const struct {
		const char *name;
		unsigned bit;
	} opts[] = {
		{ "MIN", SORT_RETURN_MIN },
		{ "MAX", SORT_RETURN_MAX },
		{ "ALL", SORT_RETURN_ALL },
		{ "COUNT", SORT_RETURN_COUNT },
	};
	*ret_r = 0;
	for (size_t i = 0; i < list->list_count; i++) {
		size_t k;
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (imap_arg_atom_equals(&list->list[i], opts[k].name))
				break;
		if (k == sizeof(opts) / sizeof(opts[0])) {
			*error_r = "Unknown SORT return option";
			return -1;
		}
		*ret_r |= opts[k].bit;
	}
	/* RFC 4731 section 3.1, kept by RFC 5267: "RETURN ()" is ALL */
	if (list->list_count == 0)
		*ret_r = SORT_RETURN_ALL;
	return 0;
}

static uint32_t sort_number(bool uid, const struct sort_msg *m)
{
	return uid ? m->uid : m->seq;
}

static void sort_write_esort(const char *tag, bool uid, unsigned ret,
			     const struct sort_msg *msgs, size_t n,
			     struct buf *out)
{
	buf_printf(out, "* ESEARCH (TAG \"%s\")", tag);
	if (uid)
		buf_append_str(out, " UID");
	if (n > 0) {
		if (ret & SORT_RETURN_MIN)
			buf_printf(out, " MIN %u", sort_number(uid, &msgs[0]));
		if (ret & SORT_RETURN_MAX)
			buf_printf(out, " MAX %u",
				   sort_number(uid, &msgs[n - 1]));
		if (ret & SORT_RETURN_ALL) {
			buf_append_str(out, " ALL ");
			for (size_t i = 0; i < n;) {
				uint32_t lo = sort_number(uid, &msgs[i]);
				size_t j = i + 1;
				while (j < n && sort_number(uid, &msgs[j]) ==
						lo + (j - i))
					j++;
				buf_printf(out, "%s%u", i > 0 ? "," : "", lo);
				if (j - i > 1)
					buf_printf(out, ":%u",
						   sort_number(uid,
							       &msgs[j - 1]));
				i = j;
			}
		}
	}
	if (ret & SORT_RETURN_COUNT)
		buf_printf(out, " COUNT %zu", n);
	buf_append_str(out, "\r\n");
}

void cmd_sort(struct worker_session *s, const struct imap_command *cmd);

/* Messages a slice of the sort moves, about as long as a slice of key
 * loading. */
#define SORT_WORK_SLICE 50000

struct sort_ctx {
	struct sort_criteria crit;
	bool esort, uid;
	unsigned ret;
	char *tag;
	struct sort_slicer slicer;
	bool sorting;
};

static void sort_ctx_free(void *ctx)
{
	struct sort_ctx *c = ctx;
	if (c->sorting)
		sort_slicer_free(&c->slicer);
	free(c->tag);
	free(c);
}

/* The keys are loaded: sort them, a slice at a time. */
static bool sort_work(void *ctx, struct sort_msg *msgs, size_t n)
{
	struct sort_ctx *c = ctx;
	if (!c->sorting) {
		sort_slicer_init(&c->slicer, &c->crit, msgs, n);
		c->sorting = true;
	}
	return sort_slicer_step(&c->slicer, SORT_WORK_SLICE) == 1;
}

/* The keys are sorted: answer. */
static void sort_done(struct worker_session *s, void *ctx,
		      struct sort_msg *msgs, size_t n)
{
	struct sort_ctx *c = ctx;
	struct buf *out = &s->net.out;
	if (c->esort) {
		sort_write_esort(c->tag, c->uid, c->ret, msgs, n, out);
		return;
	}
	buf_append_str(out, "* SORT");
	for (size_t k = 0; k < n; k++)
		buf_printf(out, " %u", sort_number(c->uid, &msgs[k]));
	buf_append_str(out, "\r\n");
}

void cmd_sort(struct worker_session *s, const struct imap_command *cmd)
{
	const char *what = s->cmd_uid ? "UID SORT" : "SORT";
	const char *err;
	size_t i = 0;
	bool esort = false;
	unsigned ret = 0;
	if (cmd->arg_count >= 1 && imap_arg_atom_equals(&cmd->args[0],
							"RETURN")) {
		if (cmd->arg_count < 2 || cmd->args[1].type != IMAP_ARG_LIST ||
		    sort_return_parse(&cmd->args[1], &ret, &err) < 0) {
			worker_session_bad(s, cmd->tag, "%s: %s", what,
					   cmd->arg_count < 2 ||
					   cmd->args[1].type != IMAP_ARG_LIST ?
					   "RETURN needs a list" : err);
			return;
		}
		esort = true;
		i = 2;
	}
	struct sort_criteria crit;
	if (i >= cmd->arg_count) {
		worker_session_bad(s, cmd->tag, "%s: Missing sort criteria",
				   what);
		return;
	}
	if (sort_criteria_parse(&cmd->args[i], &crit, &err) < 0) {
		worker_session_bad(s, cmd->tag, "%s: %s", what, err);
		return;
	}
	struct sort_ctx *c = xcalloc(1, sizeof(*c));
	c->crit = crit;
	c->esort = esort;
	c->ret = ret;
	c->uid = s->cmd_uid;
	c->tag = xstrdup(cmd->tag);
	sort_search_start(s, cmd, i + 1, what, crit.need, sort_work,
			  sort_done, c, sort_ctx_free);
}
