/* SPDX-License-Identifier: Apache-2.0 */
/* test_toml.c - the TOML subset's tree: inline tables and arrays of them
 * (test_config.c covers the rest of the syntax through the bpfd.toml schema) */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "core/base/errmsg.h"
#include "core/config/toml.h"

static struct toml_doc *parse_ok(const char *text)
{
	struct errmsg em = { { 0 } };
	struct toml_doc *doc = NULL;
	int err;

	err = toml_parse("f.toml", text, strlen(text), &em, &doc);
	if (!ASSERT_OK(err, "toml_parse"))
		fprintf(stderr, "  %s\n", em.msg);
	return doc;
}

static void inline_table(void)
{
	const char *text = "[[programs]]\nname = \"p\"\n"
			   "xdp_attach = { iface = \"eth0\", priority = 50, proceed_on = [\"pass\", \"drop\"] }\n"
			   "global_data = {}\n"
			   "meta = { a.b = 1, a.c = 'x', \"q k\" = { z = true } }\n";
	const struct toml_node *p, *x, *v, *a;
	struct toml_doc *doc = parse_ok(text);

	if (!doc)
		return;
	p = toml_find(toml_root(doc), "programs");
	if (!ASSERT_TRUE(p && p->kind == TOML_TABLES, "programs"))
		goto out;
	p = p->child;
	x = toml_find(p, "xdp_attach");
	if (!ASSERT_TRUE(x && x->kind == TOML_TABLE && x->inline_table, "xdp_attach"))
		goto out;
	ASSERT_EQ(toml_line(doc, x->kpos), 3, "line of the key");
	v = toml_find(x, "iface");
	ASSERT_TRUE(v && v->kind == TOML_STR && !strcmp(v->str, "eth0"), "iface");
	v = toml_find(x, "priority");
	ASSERT_TRUE(v && v->kind == TOML_INT && v->num == 50, "priority");
	v = toml_find(x, "proceed_on");
	ASSERT_TRUE(v && v->kind == TOML_ARRAY && v->child && v->child->next &&
		    !strcmp(v->child->next->str, "drop"), "proceed_on");
	v = toml_find(p, "global_data");
	ASSERT_TRUE(v && v->kind == TOML_TABLE && !v->child, "empty inline table");
	v = toml_find(p, "meta");
	a = v ? toml_find(v, "a") : NULL;
	ASSERT_TRUE(a && a->kind == TOML_TABLE && toml_find(a, "b") && toml_find(a, "c"),
		    "dotted keys inside an inline table");
	a = v ? toml_find(v, "q k") : NULL;
	ASSERT_TRUE(a && a->kind == TOML_TABLE && toml_find(a, "z") &&
		    toml_find(a, "z")->num == 1, "nested inline table");
out:
	toml_free(doc);
}

static void array_of_inline_tables(void)
{
	const char *text = "a = [ { x = 1 }, { x = 2, y = [3] },\n  {} ]\n";
	struct toml_doc *doc = parse_ok(text);
	const struct toml_node *a, *e;
	int n = 0;

	if (!doc)
		return;
	a = toml_find(toml_root(doc), "a");
	if (!ASSERT_TRUE(a && a->kind == TOML_ARRAY, "array"))
		goto out;
	for (e = a->child; e; e = e->next) {
		ASSERT_TRUE(e->kind == TOML_TABLE && !e->key, "element is a table");
		n++;
	}
	ASSERT_EQ(n, 3, "elements");
	ASSERT_EQ(toml_find(a->child->next, "x")->num, 2, "second x");
out:
	toml_free(doc);
}

static void inline_errors_name_file_line(void)
{
	struct errmsg em = { { 0 } };
	struct toml_doc *doc = NULL;
	const char *text = "[[programs]]\nxdp_attach = { iface = eth0 }\n";

	ASSERT_EQ(toml_parse("progs.toml", text, strlen(text), &em, &doc), -EINVAL, "bad value");
	ASSERT_STREQ(em.msg,
		     "progs.toml:2:24: invalid value 'eth0'; a string needs quotes: \"eth0\"",
		     "message");
	ASSERT_TRUE(!doc, "no document");
}

TEST_MAIN("toml",
	  TEST(inline_table),
	  TEST(array_of_inline_tables),
	  TEST(inline_errors_name_file_line))
