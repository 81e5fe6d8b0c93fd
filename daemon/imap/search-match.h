/* The text side of SEARCH: whether one message matches a text key
 * (SUBJECT, FROM, TO, CC, BCC, HEADER, BODY, TEXT) and its sent date
 * (SENTBEFORE/SENTON/SENTSINCE). This is the reference the search index
 * must agree with (issue 6, ARCHITECTURE "Search"), so the meaning of
 * each key is defined here once:
 *
 *  - Every key is a case-insensitive substring match under
 *    i;unicode-casemap (common/unicode-fold.h, RFC 5051) of the search
 *    string (UTF-8) in UTF-8 text. An empty string matches every message
 *    (it is a substring of anything), except HEADER, where it means "has
 *    the field" (RFC 9051 section 6.4.4).
 *  - SUBJECT, FROM, TO, CC, BCC: the first such field of the top-level
 *    header, unfolded, RFC 2047 decoded, converted to UTF-8 (the cache's
 *    search fields, store/mime.h). Display names and addresses alike.
 *  - HEADER name string: any field of the top-level header with that name
 *    (ASCII case-insensitive), each value decoded the same way.
 *  - BODY: each text/ leaf part (including those inside attached
 *    messages), content-transfer-decoded (base64, quoted-printable) and
 *    converted from its charset to UTF-8 (unknown charset: UTF-8 if valid,
 *    else Latin-1). Non-text parts (images, application/...) are not
 *    searched. HTML is searched as written, markup included.
 *  - TEXT: the top-level header ("Name: value" per field, values decoded),
 *    the MIME headers of every other part (so the header of an attached
 *    message too), and BODY's text.
 *  A match never spans two units: two header fields, two parts, a header
 *    and a body. Line breaks inside a body are CRLF as stored, so a string
 *    with a space does not match across a line break.
 *  - Sent date: the calendar day of the Date: header as written in its own
 *    zone ("disregarding time and timezone", RFC 9051 section 6.4.4); a
 *    message whose Date: is missing or unparsable has no sent date and
 *    matches none of SENTBEFORE, SENTON, SENTSINCE.
 *
 * Messages come in two forms: bytes and an optional parsed-message cache
 * record (store/mime-cache.h), loaded lazily through a callback so that a
 * key answered from the cache never reads the message, and a message
 * with neither cache nor the keys that need it is never read at all. */
#ifndef POSTERN_SEARCH_MATCH_H
#define POSTERN_SEARCH_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/buf.h"
#include "../../common/imap-date.h"
#include "imap-search-args.h"

/* A text key with its search string folded once per query. */
struct search_text_key {
	enum imap_search_type type;	/* SUBJECT .. TEXT, HEADER */
	char *header;			/* HEADER field name */
	uint8_t *needle;		/* folded search string */
	size_t needle_len;
	const void *origin;		/* the parsed key it came from, for
					 * the index's plan (search-plan.c) */
};

/* Prepares k from a parsed key of a text type; str must be UTF-8. */
void search_text_key_init(struct search_text_key *k,
			  enum imap_search_type type, const char *header,
			  const char *str, size_t len);
void search_text_key_free(struct search_text_key *k);
/* True for the types search_text_key_init accepts. */
bool search_type_is_text(enum imap_search_type type);

enum search_load {
	SEARCH_LOAD_CACHE = 1,	/* set cache/cache_len (NULL: none stored) */
	SEARCH_LOAD_DATA = 2,	/* set data/len: the whole message */
};

struct search_message;
/* Loads what (one enum search_load value) into m. 0, or -1 with error_r
 * (the search fails). */
typedef int search_load_fn(void *ctx, struct search_message *m,
			   enum search_load what, const char **error_r);

struct search_message_state;

struct search_message {
	/* set by the loader or the caller; never freed here */
	const uint8_t *data;
	size_t len;
	const uint8_t *cache;
	size_t cache_len;
	bool data_loaded, cache_loaded;
	search_load_fn *load;		/* NULL: data (and cache) preset */
	void *load_ctx;
	struct search_message_state *st;	/* lazily derived state */
};

/* A message given as bytes (and optionally a cache record) in memory. */
void search_message_init(struct search_message *m, const uint8_t *data,
			 size_t len, const uint8_t *cache, size_t cache_len);
/* A message whose bytes and cache come from load(ctx, ...). */
void search_message_init_lazy(struct search_message *m, search_load_fn *load,
			      void *ctx);
/* Frees the derived state; the message can then be reinitialised. */
void search_message_free(struct search_message *m);

/* 1 if m matches k, 0 if not, -1 with error_r if the message could not
 * be loaded. */
int search_match_text(struct search_message *m,
		      const struct search_text_key *k, const char **error_r);

/* The sent date (see above): 1 with *date_r, 0 if the message has none,
 * -1 with error_r. */
int search_message_sent_date(struct search_message *m,
			     struct imap_date *date_r, const char **error_r);

/* ---- the search index's copy of the text (store/search-index.h) ----
 * The index stores, per message, the folded units the functions above
 * match in, made by the same code; search_doc_match() then decides a
 * key on that copy exactly as search_match_text() decides it on the
 * message. Keep the two in step: the property test
 * (tests/unit/test-search-property.c) compares them. */
struct sx_doc;

/* Appends the document text record of m (store/search-index.h). 0, or
 * -1 with error_r if the message could not be loaded. */
int search_message_extract(struct search_message *m, struct buf *rec_out,
			   const char **error_r);
/* 1 if the document matches k, 0 if not, -1 if a block of its record
 * does not decode (the matcher must decide). */
int search_doc_match(struct sx_doc *d, const struct search_text_key *k);
/* A store_sx_extractor (store_set_search_extractor): the record of a
 * message from its bytes and cache record. */
int search_index_extractor(void *ctx, const uint8_t *data, size_t len,
			   const uint8_t *cache, size_t cache_len,
			   struct buf *rec_out);

#endif
