/* Tests for FETCH arguments (daemon/imap/imap-fetch-args.c). Each case
 * is the argument text after the sequence set and a summary of the
 * result: the simple items, then each body item as
 *   <response name>{p=peek b=binary s=size}[part path][fields][partial]
 * then "seen" if \Seen would be set, and the modifiers. */
#include "unit.h"

#include "../../common/buf.h"
#include "../../daemon/imap/imap-fetch-args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct imap_command *test_imap_args(const char *args);

static char *fetch(const char *in)
{
	static const char *const items[] = {
		"UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE",
		"BODY", "BODYSTRUCTURE", "MODSEQ", "PREVIEW", "SAVEDATE",
	};
	struct imap_fetch_args f;
	const char *error = NULL;
	struct buf b;
	buf_init(&b);
	const struct imap_command *cmd = test_imap_args(in);
	if (cmd == NULL) {
		buf_append_str(&b, "PARSER");
	} else if (imap_fetch_args_parse(cmd->args, cmd->arg_count, &f,
					 &error) < 0) {
		buf_printf(&b, "ERR:%s", error);
	} else {
		for (unsigned i = 0; i < 10; i++) {
			if (f.items & (1u << i))
				buf_printf(&b, "%s ", items[i]);
		}
		for (size_t i = 0; i < f.body_count; i++) {
			const struct imap_fetch_body *x = &f.bodies[i];
			buf_printf(&b, "%s{%s%s%s}", x->response_name,
				   x->peek ? "p" : "", x->binary ? "b" : "",
				   x->binary_size ? "s" : "");
			buf_printf(&b, "%d", (int)x->section);
			for (size_t k = 0; k < x->part_count; k++)
				buf_printf(&b, "%s%u", k ? "." : "[",
					   x->part[k]);
			if (x->part_count)
				buf_append_byte(&b, ']');
			for (size_t k = 0; k < x->field_count; k++)
				buf_printf(&b, "%s%s", k ? "," : "(",
					   x->fields[k]);
			if (x->field_count)
				buf_append_byte(&b, ')');
			if (x->partial)
				buf_printf(&b, "<%llu.%llu>",
					   (unsigned long long)x->partial_origin,
					   (unsigned long long)x->partial_octets);
			buf_append_byte(&b, ' ');
		}
		if (f.sets_seen)
			buf_append_str(&b, "seen ");
		if (f.preview_lazy)
			buf_append_str(&b, "lazy ");
		if (f.changedsince_set)
			buf_printf(&b, "changedsince=%llu ",
				   (unsigned long long)f.changedsince);
		if (f.vanished)
			buf_append_str(&b, "vanished ");
		if (b.len > 0)
			b.len--;
		imap_fetch_args_free(&f);
	}
	char *r = strdup(buf_cstr(&b));
	buf_free(&b);
	return r;
}

#define FETCH(in, want) do { \
	char *got_ = fetch(in); \
	CU_ASSERT_STRING_EQUAL(got_, want); \
	if (strcmp(got_, want) != 0) \
		fprintf(stderr, "\nFETCH %s\n got %s\nwant %s\n", in, got_, \
			want); \
	free(got_); \
} while (0)

static void test_fetch_simple(void)
{
	FETCH("FLAGS", "FLAGS");
	FETCH("ALL", "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE");
	FETCH("fast", "FLAGS INTERNALDATE RFC822.SIZE");
	FETCH("FULL", "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY");
	FETCH("(uid flags internaldate rfc822.size envelope body "
	      "bodystructure modseq preview savedate)",
	      "UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE "
	      "MODSEQ PREVIEW SAVEDATE");
	FETCH("(FLAGS FLAGS)", "FLAGS");
	FETCH("PREVIEW (LAZY)", "PREVIEW lazy");
	FETCH("(PREVIEW (LAZY) UID)", "UID PREVIEW lazy");
	FETCH("PREVIEW (CHANGEDSINCE 5)", "MODSEQ PREVIEW changedsince=5");
	FETCH("(PREVIEW (LAZY)) (CHANGEDSINCE 5)",
	      "MODSEQ PREVIEW lazy changedsince=5");
}

static void test_fetch_rfc822(void)
{
	FETCH("RFC822", "RFC822{}0 seen");
	FETCH("rfc822.header", "RFC822.HEADER{p}1");
	FETCH("RFC822.TEXT", "RFC822.TEXT{}4 seen");
	FETCH("(RFC822.SIZE RFC822.HEADER)", "RFC822.SIZE RFC822.HEADER{p}1");
}

static void test_fetch_body(void)
{
	FETCH("BODY[]", "BODY[]{}0 seen");
	FETCH("body.peek[]", "BODY[]{p}0");
	FETCH("BODY[]<0.100>", "BODY[]<0>{}0<0.100> seen");
	FETCH("BODY.PEEK[]<9223372036854775807.1>",
	      "BODY[]<9223372036854775807>{p}0<9223372036854775807.1>");
	FETCH("BODY[HEADER]", "BODY[HEADER]{}1 seen");
	FETCH("BODY.PEEK[header]", "BODY[HEADER]{p}1");
	FETCH("BODY[TEXT]", "BODY[TEXT]{}4 seen");
	FETCH("BODY.PEEK[1]", "BODY[1]{p}0[1]");
	FETCH("BODY.PEEK[1.2.3]", "BODY[1.2.3]{p}0[1.2.3]");
	FETCH("BODY.PEEK[4294967295]", "BODY[4294967295]{p}0[4294967295]");
	FETCH("BODY.PEEK[1.MIME]", "BODY[1.MIME]{p}5[1]");
	FETCH("BODY.PEEK[2.1.HEADER]", "BODY[2.1.HEADER]{p}1[2.1]");
	FETCH("BODY.PEEK[2.TEXT]", "BODY[2.TEXT]{p}4[2]");
	FETCH("BODY.PEEK[HEADER.FIELDS (From To)]",
	      "BODY[HEADER.FIELDS (FROM TO)]{p}2(FROM,TO)");
	FETCH("BODY.PEEK[HEADER.FIELDS (From \"To\" from)]<0.10>",
	      "BODY[HEADER.FIELDS (FROM TO)]<0>{p}2(FROM,TO)<0.10>");
	FETCH("BODY.PEEK[header.fields.not (X-A)]",
	      "BODY[HEADER.FIELDS.NOT (X-A)]{p}3(X-A)");
	FETCH("BODY.PEEK[1.HEADER.FIELDS (Subject)]",
	      "BODY[1.HEADER.FIELDS (SUBJECT)]{p}2[1](SUBJECT)");
	/* a field name that is not an atom is echoed quoted */
	FETCH("BODY.PEEK[HEADER.FIELDS (\"a%b\" \"x\\\"y\")]",
	      "BODY[HEADER.FIELDS (\"A%B\" \"X\\\"Y\")]{p}2(A%B,X\"Y)");
	FETCH("(FLAGS BODY.PEEK[HEADER] BODY[TEXT]<5.5> UID)",
	      "UID FLAGS BODY[HEADER]{p}1 BODY[TEXT]<5>{}4<5.5> seen");
}

static void test_fetch_binary(void)
{
	FETCH("BINARY[]", "BINARY[]{b}0 seen");
	FETCH("BINARY.PEEK[1.2]", "BINARY[1.2]{pb}0[1.2]");
	FETCH("BINARY.PEEK[1]<0.1024>", "BINARY[1]<0>{pb}0[1]<0.1024>");
	FETCH("BINARY.SIZE[1]", "BINARY.SIZE[1]{ps}0[1]");
	FETCH("BINARY.SIZE[]", "BINARY.SIZE[]{ps}0");
	FETCH("BINARY[TEXT]", "ERR:Invalid section");
	FETCH("BINARY[1.MIME]", "ERR:Invalid section");
	FETCH("BINARY.PEEK[HEADER]", "ERR:Invalid section");
	FETCH("BINARY.SIZE[1]<0.1>", "ERR:BINARY.SIZE takes no partial");
	FETCH("BINARY.SIZE", "ERR:Unknown FETCH attribute");
}

static void test_fetch_modifiers(void)
{
	FETCH("FLAGS (CHANGEDSINCE 12345)", "FLAGS MODSEQ changedsince=12345");
	FETCH("(FLAGS) (CHANGEDSINCE 1 VANISHED)",
	      "FLAGS MODSEQ changedsince=1 vanished");
	FETCH("ALL (CHANGEDSINCE 9223372036854775807)",
	      "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE MODSEQ "
	      "changedsince=9223372036854775807");
	FETCH("FLAGS (CHANGEDSINCE 0)", "ERR:Invalid CHANGEDSINCE");
	FETCH("FLAGS (CHANGEDSINCE 9223372036854775808)",
	      "ERR:Invalid CHANGEDSINCE");
	FETCH("FLAGS (CHANGEDSINCE)", "ERR:Invalid CHANGEDSINCE");
	FETCH("FLAGS (CHANGEDSINCE x)", "ERR:Invalid CHANGEDSINCE");
	FETCH("FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)",
	      "ERR:Invalid CHANGEDSINCE");
	FETCH("FLAGS (VANISHED)", "ERR:VANISHED requires CHANGEDSINCE");
	FETCH("FLAGS (FOO)", "ERR:Unknown FETCH modifier");
	FETCH("FLAGS ()", "ERR:Empty FETCH modifier list");
	FETCH("FLAGS (CHANGEDSINCE 1) (CHANGEDSINCE 1)",
	      "ERR:Unexpected argument after FETCH attributes");
	FETCH("FLAGS UID", "ERR:Unexpected argument after FETCH attributes");
}

static void test_fetch_errors(void)
{
	FETCH("", "ERR:Missing FETCH attributes");
	FETCH("()", "ERR:Empty FETCH attribute list");
	FETCH("FOO", "ERR:Unknown FETCH attribute");
	FETCH("(FLAGS ALL)", "ERR:Unknown FETCH attribute");
	FETCH("EMAILID", "ERR:Unknown FETCH attribute");
	FETCH("\"FLAGS\"", "ERR:Invalid FETCH attribute");
	FETCH("(FLAGS (UID))", "ERR:Invalid FETCH attribute");
	FETCH("BODY.PEEK", "ERR:Unknown FETCH attribute");
	FETCH("BODY[", "PARSER");
	FETCH("BODYX[]", "ERR:Unknown FETCH attribute");
	FETCH("BODY[0]", "ERR:Invalid section part number");
	FETCH("BODY[01]", "ERR:Invalid section part number");
	FETCH("BODY[1.0]", "ERR:Invalid section part number");
	FETCH("BODY[4294967296]", "ERR:Invalid section part number");
	FETCH("BODY[1.]", "ERR:Invalid section");
	FETCH("BODY[.1]", "ERR:Invalid section");
	FETCH("BODY[1TEXT]", "ERR:Invalid section");
	FETCH("BODY[MIME]", "ERR:MIME section needs a part number");
	FETCH("BODY[HEADERS]", "ERR:Invalid section");
	FETCH("BODY[TEXT.MIME]", "ERR:Invalid section");
	FETCH("BODY[HEADER.FIELDS]", "ERR:Missing header field list");
	FETCH("BODY[HEADER.FIELDS From]", "ERR:Missing header field list");
	FETCH("BODY[HEADER.FIELDS ()]", "ERR:Empty header field name");
	FETCH("BODY[HEADER.FIELDS (\"\")]", "ERR:Empty header field name");
	FETCH("BODY[HEADER.FIELDS (A:B)]", "ERR:Invalid header field name");
	FETCH("BODY[HEADER.FIELDS (\"A B\")]", "ERR:Invalid header field name");
	FETCH("BODY[HEADER.FIELDS (A  B)]", "ERR:Empty header field name");
	FETCH("BODY[HEADER.FIELDS (A)x]", "ERR:Invalid section");
	FETCH("BODY[HEADER.FIELDS (A B]", "ERR:Invalid header field list");
	FETCH("BODY[HEADER.FIELDS (\"A)]", "PARSER");
	FETCH("BODY[]<>", "ERR:Invalid partial");
	FETCH("BODY[]<0>", "ERR:Invalid partial");
	FETCH("BODY[]<0.0>", "ERR:Invalid partial");
	FETCH("BODY[]<1.2", "ERR:Invalid partial");
	FETCH("BODY[]<a.2>", "ERR:Invalid partial");
	FETCH("BODY[]<9223372036854775808.1>", "ERR:Invalid partial");
	FETCH("BODY[]x", "ERR:Garbage after section");
	FETCH("BODY[]<0.1>x", "ERR:Garbage after section");
	FETCH("PREVIEW (FOO)", "ERR:Unknown PREVIEW modifier");
	FETCH("(PREVIEW (FOO))", "ERR:Unknown PREVIEW modifier");
	FETCH("(PREVIEW ())", "ERR:Empty PREVIEW modifier list");
}

static void test_fetch_limits(void)
{
	struct buf in;
	char *got;
	buf_init(&in);
	buf_append_str(&in, "(");
	for (int i = 0; i < IMAP_FETCH_MAX_BODY_ITEMS; i++)
		buf_printf(&in, "BODY.PEEK[%d] ", i + 1);
	buf_append_str(&in, "FLAGS)");
	got = fetch(buf_cstr(&in));
	CU_ASSERT_EQUAL(strncmp(got, "FLAGS BODY[1]{p}", 16), 0);
	free(got);
	in.len--;
	buf_append_str(&in, " BODY[1])");
	got = fetch(buf_cstr(&in));
	CU_ASSERT_STRING_EQUAL(got, "ERR:Too many body items in FETCH");
	free(got);

	buf_clear(&in);
	buf_append_str(&in, "BODY[1");
	for (int i = 1; i < IMAP_FETCH_MAX_PART_DEPTH; i++)
		buf_append_str(&in, ".1");
	buf_append_str(&in, "]");
	got = fetch(buf_cstr(&in));
	CU_ASSERT_EQUAL(strncmp(got, "BODY[1.1.", 9), 0);
	free(got);
	in.len--;
	buf_append_str(&in, ".1]");
	got = fetch(buf_cstr(&in));
	CU_ASSERT_STRING_EQUAL(got, "ERR:Section part number too deep");
	free(got);

	buf_clear(&in);
	buf_append_str(&in, "BODY[HEADER.FIELDS (");
	for (int i = 0; i <= IMAP_FETCH_MAX_FIELDS; i++)
		buf_printf(&in, "%sX-%d", i ? " " : "", i);
	buf_append_str(&in, ")]");
	got = fetch(buf_cstr(&in));
	CU_ASSERT_STRING_EQUAL(got, "ERR:Too many header fields");
	free(got);
	buf_free(&in);

	/* direct: the exposed body parser */
	struct imap_fetch_body body;
	const char *error;
	CU_ASSERT_EQUAL(imap_fetch_body_parse("BODY[1]", 7, &body, &error), 0);
	CU_ASSERT_EQUAL(body.part_count, 1);
	CU_ASSERT_FALSE(body.peek);
	imap_fetch_body_free(&body);
	CU_ASSERT_EQUAL(imap_fetch_body_parse("BODY[1]", 6, &body, &error), -1);
}

static void register_fetch(void)
{
	CU_pSuite s = CU_add_suite("imap-fetch-args", NULL, NULL);
	CU_add_test(s, "simple items and macros", test_fetch_simple);
	CU_add_test(s, "RFC822 items", test_fetch_rfc822);
	CU_add_test(s, "BODY sections", test_fetch_body);
	CU_add_test(s, "BINARY", test_fetch_binary);
	CU_add_test(s, "modifiers", test_fetch_modifiers);
	CU_add_test(s, "errors", test_fetch_errors);
	CU_add_test(s, "limits", test_fetch_limits);
}
UNIT_SUITE(register_fetch)
