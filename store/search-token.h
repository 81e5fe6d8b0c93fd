/* The pure half of the search index's two levels (search-index.h): the
 * tokenizer that cuts folded text into words and separators, the token
 * stream of one unit, and the merged document record made of streams.
 * No I/O; fuzzed by tests/fuzz/fuzz-search-token.c.
 *
 * Tokens. Each code point has a class: WORD (ASCII letters and digits,
 * and by default any other code point: letters, digits and combining
 * marks of every script), SEP (ASCII punctuation and space, control
 * characters, the Latin-1 and general punctuation blocks, symbols,
 * U+FFFD) or SINGLE (scripts written without spaces: CJK ideographs,
 * kana, Thai, Lao, Khmer, Myanmar). A token is a maximal run of WORD
 * code points (a word), a maximal run of SEP ones (a separator), or one
 * SINGLE code point (a word of one character). A boundary therefore
 * depends only on the two code points beside it, which is what makes the
 * index exact: where a needle occurs in a unit, every boundary inside
 * the needle is a boundary of the unit, so the needle's own tokens
 * t1..tk are, in the unit, a suffix of one token, then k-2 whole tokens,
 * then a prefix of the next (k = 1: a substring of one token). The
 * classes need not be right about Unicode, only fixed: the needle and
 * the text are cut by the same function.
 *
 * Unit stream: varint(len) then len bytes of codes, one per token,
 * varint(id << 1 | sp): id >= 1 is the token's vocabulary id, sp = 1
 * says the token is followed by the separator " " (id SX_ID_SPACE),
 * which then has no code of its own. Prose is mostly "word space", so
 * most words take one code of one or two bytes.
 *
 * Merged document record: 0x02, then units to the end, each a byte
 * ns | 0x80 if named, the raw header name as a string (varint length +
 * bytes) if named, and the unit stream. Units come in this order: the
 * five fields SUBJECT..BCC (one unit each, empty if absent), the
 * top-level header fields as HEADER units "fold(name): fold(value)"
 * named with their raw names, the other parts' header fields (HEADER,
 * unnamed), the text parts (BODY). Decoders are total: anything else is
 * refused. */
#ifndef POSTERN_SEARCH_TOKEN_H
#define POSTERN_SEARCH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

/* One code of a token stream at p[*pos] (a varint of at most five
 * bytes: token ids are below 2^31, shifted left once for the space
 * bit); 0, or -1 if truncated, too long or overlong. Inline: the
 * stream matcher's inner loop runs it per token. */
static inline int sx_code_get(const uint8_t *p, size_t len, size_t *pos,
			      uint64_t *code_r)
{
	uint64_t code = p[(*pos)++];
	if (code >= 0x80) {
		code &= 0x7f;
		unsigned shift = 7;
		for (;;) {
			if (*pos >= len || shift > 28)
				return -1;
			uint8_t b = p[(*pos)++];
			code |= (uint64_t)(b & 0x7f) << shift;
			if (!(b & 0x80)) {
				if (b == 0)
					return -1;	/* overlong */
				break;
			}
			shift += 7;
		}
	}
	*code_r = code;
	return 0;
}

#define SX_ID_SPACE 1		/* the vocabulary's first entry: " " */
#define SX_ID_MAX 0x7fffffffu
#define SX_TDOC_VERSION 0x02

/* Bytes of the token at p[0..len) (len >= 1; >= 1 returned); *word_r
 * (may be NULL) tells a word from a separator. */
size_t sx_token_len(const uint8_t *p, size_t len, bool *word_r);

/* Appends one unit (varint length + codes) of ids[0..n). */
void sx_unit_encode(const uint32_t *ids, size_t n, struct buf *out);
/* The codes alone, one id at a time (a unit of a huge part is never a
 * whole array of ids): begin, put each id, end; codes go to out. */
struct sx_unit_writer {
	struct buf *out;
	uint32_t held;		/* an id waiting to see if " " follows */
};
void sx_unit_begin(struct sx_unit_writer *w, struct buf *out);
void sx_unit_put(struct sx_unit_writer *w, uint32_t id);
void sx_unit_end(struct sx_unit_writer *w);
/* Decodes the codes p[0..len) (without the length) into ids, space
 * tokens expanded. 0, or -1 if malformed (ids past *n undefined). */
int sx_unit_decode(const uint8_t *p, size_t len, uint32_t **ids, size_t *n,
		   size_t *cap);

/* A parsed merged record: views into the record's bytes. */
struct sx_tunit {
	uint8_t ns;
	bool named;
	const uint8_t *name;	/* raw header name if named */
	size_t name_len;
	const uint8_t *codes;
	size_t len;
};
struct sx_tdoc {
	struct sx_tunit *u;
	size_t n, cap;
};
void sx_tdoc_free(struct sx_tdoc *d);
/* The next unit of a record, from *pos (0 at the start): 1 with u, 0
 * at the end, -1 if malformed. For a reader that stops early. */
int sx_tdoc_next(const uint8_t *rec, size_t len, size_t *pos,
		 struct sx_tunit *u);
/* 0, or -1 if rec is not a well-formed merged record (namespaces above
 * SX_NS_COUNT, names on units that are not HEADER, lengths past the
 * end). The codes are checked by sx_unit_decode when read. */
int sx_tdoc_parse(const uint8_t *rec, size_t len, struct sx_tdoc *d);
/* Record building: the version byte, then units. */
void sx_tdoc_begin(struct buf *out);
void sx_tdoc_unit(struct buf *out, unsigned ns, const uint8_t *name,
		  size_t name_len, const uint32_t *ids, size_t n);
/* The same with the codes made by a writer. */
void sx_tdoc_unit_codes(struct buf *out, unsigned ns, const uint8_t *name,
			size_t name_len, const struct buf *codes);

#endif
