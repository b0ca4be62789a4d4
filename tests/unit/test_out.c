/* SPDX-License-Identifier: Apache-2.0 */
/* test_out.c - the out_* layer: one call per field, text (plain and tables) and JSON */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "core/base/out.h"

struct buf {
	FILE *f;
	char *s;
	size_t n;
};

static struct out *open_out(struct buf *b, bool json)
{
	struct out *o;

	b->f = open_memstream(&b->s, &b->n);
	if (!ASSERT_TRUE(b->f, "open_memstream"))
		exit(1);
	o = out_new(b->f, json, false);
	if (!ASSERT_TRUE(o, "out_new"))
		exit(1);
	return o;
}

/* out_finish(), then the text it wrote. */
static const char *finish(struct buf *b, struct out *o)
{
	ASSERT_OK(out_finish(o), "out_finish");
	fclose(b->f);
	return b->s;
}

/* The fields of one record, the same calls for both modes. */
static void record(struct out *o)
{
	out_table_begin(o, "State");
	out_begin_object(o, "info");
	out_str(o, "name", "Name:\t%s", "x");
	out_u64(o, "id", "Long Label:\t%llu", 5);
	out_begin_list(o, "used_by");
	out_str(o, NULL, "Used By:\t%s", "7");
	out_str(o, NULL, "\t%s", "8");
	out_end(o);
	out_str(o, "mode", "Empty:\t%s", "");
	out_i64(o, "json_only", NULL, -3);
	out_text(o, "NONE");
	out_end(o);
	out_table_end(o);
	out_bool(o, "ok", "ok %s\n", true);
}

/* record() as one document in text or JSON mode; the caller frees it. */
static char *render(bool json)
{
	struct buf b = { 0 };
	struct out *o = open_out(&b, json);

	out_begin_object(o, NULL);
	record(o);
	out_end(o);
	finish(&b, o);
	return b.s;
}

static void table_text(void)
{
	char *s = render(false);

	ASSERT_STREQ(s,
		     " State\n"
		     " Name:        x\n"
		     " Long Label:  5\n"
		     " Used By:     7\n"
		     "              8\n"
		     " Empty:\n"
		     " NONE\n"
		     "ok true\n", "aligned rows, then plain text");
	free(s);
}

static void table_json_is_object(void)
{
	char *s = render(true);

	ASSERT_STREQ(s,
		     "{\"info\":{\"name\":\"x\",\"id\":5,\"used_by\":[\"7\",\"8\"],"
		     "\"mode\":\"\",\"json_only\":-3},\"ok\":true}\n",
		     "tables leave no trace in JSON");
	free(s);
}

/* A value may hold tabs: the first one ends the label. */
static void table_value_tab_and_open_at_finish(void)
{
	struct buf b = { 0 };
	struct out *o = open_out(&b, false);

	out_table_begin(o, "T");
	out_str(o, "k", "K:\t%s", "a\tb");
	ASSERT_STREQ(finish(&b, o), " T\n K:  a\tb\n", "open table printed by out_finish");
	free(b.s);
}

static void nested_json(void)
{
	struct buf b = { 0 };
	struct out *o = open_out(&b, true);

	out_begin_object(o, NULL);
	out_begin_object(o, "a");
	out_begin_list(o, "b");
	out_u64(o, NULL, NULL, 1);
	out_begin_object(o, NULL);
	out_bool(o, "c", NULL, false);
	out_end(o);
	out_end(o);
	out_end(o);
	out_null(o, "n");
	out_text(o, "not in JSON\n");
	out_end(o);
	ASSERT_STREQ(finish(&b, o), "{\"a\":{\"b\":[1,{\"c\":false}]},\"n\":null}\n",
		     "objects in lists in objects");
	free(b.s);
}

TEST_MAIN("out", TEST(table_text), TEST(table_json_is_object),
	  TEST(table_value_tab_and_open_at_finish), TEST(nested_json))
