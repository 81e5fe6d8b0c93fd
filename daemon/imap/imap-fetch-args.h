/* FETCH data items (RFC 9051 section 6.4.5, BINARY RFC 3516, CONDSTORE
 * MODSEQ and CHANGEDSINCE RFC 7162 section 3.1, PREVIEW RFC 8970,
 * SAVEDATE RFC 8514, and the RFC822* items of RFC 3501 section 6.4.5).
 *
 * The command parser hands a body item with its section as one atom
 * ("BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100>", quoted strings inside
 * still quoted); this module re-parses it. Each body item carries the
 * exact name the FETCH response must use for it (RFC 9051 section 7.5.2:
 * no ".PEEK", the partial's origin only, keywords upper-case). */
#ifndef POSTERN_IMAP_FETCH_ARGS_H
#define POSTERN_IMAP_FETCH_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/imap-parser.h"

/* Per-command limits: a client asking for more is misbehaving. */
#define IMAP_FETCH_MAX_BODY_ITEMS 64
#define IMAP_FETCH_MAX_FIELDS 256
#define IMAP_FETCH_MAX_PART_DEPTH 32
#define IMAP_FETCH_MAX_FIELD_LEN 256

/* Simple (non-body) items, in the order a response lists them. */
enum imap_fetch_item {
	IMAP_FETCH_UID = 1u << 0,
	IMAP_FETCH_FLAGS = 1u << 1,
	IMAP_FETCH_INTERNALDATE = 1u << 2,
	IMAP_FETCH_RFC822_SIZE = 1u << 3,
	IMAP_FETCH_ENVELOPE = 1u << 4,
	IMAP_FETCH_BODY = 1u << 5,		/* non-extensible structure */
	IMAP_FETCH_BODYSTRUCTURE = 1u << 6,
	IMAP_FETCH_MODSEQ = 1u << 7,
	IMAP_FETCH_PREVIEW = 1u << 8,
	IMAP_FETCH_SAVEDATE = 1u << 9,
};

/* What a body section names (RFC 9051 section 6.4.5 section-spec). */
enum imap_fetch_section {
	IMAP_SECTION_FULL,		/* BODY[] or BODY[1.2]: all of it */
	IMAP_SECTION_HEADER,		/* HEADER */
	IMAP_SECTION_HEADER_FIELDS,	/* HEADER.FIELDS (...) */
	IMAP_SECTION_HEADER_FIELDS_NOT,	/* HEADER.FIELDS.NOT (...) */
	IMAP_SECTION_TEXT,		/* TEXT */
	IMAP_SECTION_MIME,		/* 1.2.MIME (needs a part number) */
};

struct imap_fetch_body {
	bool peek;		/* BODY.PEEK / BINARY.PEEK / RFC822.HEADER */
	bool binary;		/* BINARY[...]: content-transfer-decoded */
	bool binary_size;	/* BINARY.SIZE[...]: just the decoded size */
	uint32_t *part;		/* part path, e.g. 1.2.3; NULL if none */
	size_t part_count;
	enum imap_fetch_section section;
	/* HEADER.FIELDS[.NOT]: names upper-cased, in request order,
	 * duplicates kept out (RFC 5322 field names: printable ASCII
	 * except ":"). */
	char **fields;
	size_t field_count;
	bool partial;		/* <origin.octets> given */
	uint64_t partial_origin;
	uint64_t partial_octets;	/* >= 1 */
	/* Response item name: "BODY[HEADER.FIELDS (FROM TO)]<0>",
	 * "BINARY[1]", "BINARY.SIZE[1]", "RFC822", "RFC822.HEADER",
	 * "RFC822.TEXT". */
	char *response_name;
};

struct imap_fetch_args {
	uint32_t items;			/* enum imap_fetch_item bits */
	struct imap_fetch_body *bodies;
	size_t body_count;
	/* A non-PEEK BODY[...] / BINARY[...] / RFC822 / RFC822.TEXT was
	 * asked for: the handler sets \Seen (RFC 9051 section 6.4.5) unless
	 * the mailbox is read-only, and then sends FLAGS too. */
	bool sets_seen;
	bool preview_lazy;		/* PREVIEW (LAZY), RFC 8970 3.2 */
	/* Modifiers (RFC 7162 section 3.1.4.1 and 3.2.6). */
	bool changedsince_set;
	uint64_t changedsince;		/* >= 1; implies MODSEQ */
	bool vanished;			/* QRESYNC, needs CHANGEDSINCE */
};

/* Parses what follows the sequence set of FETCH / UID FETCH:
 *   SP ("ALL" / "FULL" / "FAST" / fetch-att /
 *       "(" fetch-att *(SP fetch-att) ")") [SP fetch-modifiers]
 * args[0..count). The macros are only valid alone. UID is not added for
 * UID FETCH: the handler ORs IMAP_FETCH_UID in. Returns 0, or -1 with an
 * error for "tag BAD" (nothing to free then). */
int imap_fetch_args_parse(const struct imap_arg *args, size_t count,
			  struct imap_fetch_args *fetch_r,
			  const char **error_r);
void imap_fetch_args_free(struct imap_fetch_args *fetch);

/* Parses one fetch-att atom with a section ("BODY[...]..." and the
 * BINARY forms) into *body_r; exposed for tests. */
int imap_fetch_body_parse(const char *s, size_t len,
			  struct imap_fetch_body *body_r,
			  const char **error_r);
void imap_fetch_body_free(struct imap_fetch_body *body);

#endif
