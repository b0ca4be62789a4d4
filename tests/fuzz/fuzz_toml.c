/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_toml.c - libFuzzer target for the schema-free TOML parser (toml_parse)
 *
 * Besides ASan/UBSan/leak findings it aborts when the parser breaks its
 * contract: the same input gives the same result twice; failure is -EINVAL
 * (or -ENOMEM) with a one-line "line L, column C: ..." message; success gives
 * a tree that holds together: members of a table have keys, unique within it,
 * elements of arrays do not, arrays hold scalars and inline tables (never
 * arrays), arrays of tables only tables, inline tables only what a value can be; strings are within the size limit; every position lies in the
 * text; at most TOML_MAX_NODES nodes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/errmsg.h"
#include "core/config/toml.h"
#include "fuzz.h"

struct walk {
	const struct toml_doc *doc;
	const char *text;
	size_t len;
	size_t nodes;
};

static void check_pos(const struct walk *w, const char *pos)
{
	CHECK(pos >= w->text && pos <= w->text + w->len);
	CHECK(toml_line(w->doc, pos) >= 1);
}

static void walk(struct walk *w, const struct toml_node *n, int depth)
{
	const struct toml_node *c, *d;

	CHECK(depth < 64);
	w->nodes++;
	check_pos(w, n->kpos);
	check_pos(w, n->vpos);
	switch (n->kind) {
	case TOML_STR:
		CHECK(n->str && strlen(n->str) <= TOML_MAX_STR);
		CHECK(!n->child);
		return;
	case TOML_INT:
	case TOML_BOOL:
		CHECK(!n->child);
		CHECK(n->kind == TOML_INT || n->num == 0 || n->num == 1);
		return;
	case TOML_ARRAY:
		for (c = n->child; c; c = c->next) {
			CHECK(!c->key);
			CHECK(c->kind == TOML_STR || c->kind == TOML_INT ||
			      c->kind == TOML_BOOL ||
			      (c->kind == TOML_TABLE && c->inline_table));
			walk(w, c, depth + 1);
		}
		return;
	case TOML_TABLES:
		CHECK(n->child);
		for (c = n->child; c; c = c->next) {
			CHECK(!c->key && c->kind == TOML_TABLE);
			walk(w, c, depth + 1);
		}
		return;
	case TOML_TABLE:
		CHECK(!n->key || n->kind != TOML_TABLE || !n->inline_table || n->defined);
		for (c = n->child; c; c = c->next) {
			CHECK(c->kind != TOML_TABLES || !n->inline_table);
			CHECK(c->key && strlen(c->key) <= TOML_MAX_STR);
			CHECK(toml_find(n, c->key) == c);
			for (d = c->next; d; d = d->next)
				CHECK(strcmp(c->key, d->key));
			walk(w, c, depth + 1);
		}
		return;
	}
	CHECK(!"unknown node kind");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_doc *a = NULL, *b = NULL;
	struct errmsg *ea, *eb;
	struct walk w = { 0 };
	int ra, rb;

	ea = calloc(1, sizeof(*ea));
	eb = calloc(1, sizeof(*eb));
	CHECK(ea && eb);
	ra = toml_parse(NULL, (const char *)data, size, ea, &a);
	rb = toml_parse(NULL, (const char *)data, size, eb, &b);
	CHECK(ra == rb);
	CHECK(!strcmp(ea->msg, eb->msg));
	if (ra == 0) {
		CHECK(a && b);
		CHECK(ea->msg[0] == '\0');
		w.doc = a;
		w.text = (const char *)data;
		w.len = size;
		CHECK(toml_root(a)->kind == TOML_TABLE && !toml_root(a)->key);
		walk(&w, toml_root(a), 0);
		CHECK(w.nodes <= TOML_MAX_NODES);
		CHECK(toml_err(a, toml_root(a)->kpos, ea, "x") == -EINVAL);
		CHECK(!strcmp(ea->msg, "line 1, column 1: x"));
	} else {
		CHECK(ra == -EINVAL || ra == -ENOMEM);
		CHECK(!strncmp(ea->msg, "line ", 5) || ra == -ENOMEM);
		CHECK(!strchr(ea->msg, '\n'));
	}
	toml_free(a);
	toml_free(b);
	free(ea);
	free(eb);
	return 0;
}
