/* SPDX-License-Identifier: Apache-2.0 */
/* out.c - text/JSON output helper on cJSON */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cJSON.h"
#include "core/base/out.h"

#define OUT_DEPTH	16

struct out {
	FILE *f;
	bool json;
	bool pretty;
	cJSON *root;
	cJSON *stack[OUT_DEPTH];
	int depth;		/* stack[depth - 1] is the current container */
	bool oom;
	const char *title;	/* text: the table being collected, NULL: none */
	char **rows;		/* its rows, "LABEL\tVALUE" */
	size_t nrows;
};

struct out *out_new(FILE *f, bool json, bool pretty)
{
	struct out *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->f = f;
	o->json = json;
	o->pretty = pretty;
	return o;
}

bool out_is_json(const struct out *o)
{
	return o->json;
}

static void rows_free(struct out *o)
{
	size_t i;

	for (i = 0; i < o->nrows; i++)
		free(o->rows[i]);
	free(o->rows);
	o->rows = NULL;
	o->nrows = 0;
	o->title = NULL;
}

void out_free(struct out *o)
{
	if (!o)
		return;
	rows_free(o);
	cJSON_Delete(o->root);
	free(o);
}

int out_finish(struct out *o)
{
	char *s;
	int err = 0;

	out_table_end(o);
	if (o->json && o->root) {
		s = o->pretty ? cJSON_Print(o->root) : cJSON_PrintUnformatted(o->root);
		if (s) {
			fprintf(o->f, "%s\n", s);
			cJSON_free(s);
		}
		if (!s)
			err = -ENOMEM;
	}
	if (o->oom)
		err = -ENOMEM;
	fflush(o->f);
	out_free(o);
	return err;
}

/* Text output: printed, or one row of the open table. */
static void vtext(struct out *o, const char *fmt, va_list ap)
{
	char *row = NULL, **rows;

	if (!o->title) {
		vfprintf(o->f, fmt, ap);
		return;
	}
	if (vasprintf(&row, fmt, ap) < 0)
		row = NULL;
	rows = row ? reallocarray(o->rows, o->nrows + 1, sizeof(*rows)) : NULL;
	if (!rows) {
		free(row);
		o->oom = true;
		return;
	}
	o->rows = rows;
	o->rows[o->nrows++] = row;
}

static void text(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtext(o, fmt, ap);
	va_end(ap);
}

void out_table_begin(struct out *o, const char *title)
{
	if (o->json)
		return;
	out_table_end(o);
	o->title = title;
}

static size_t label_len(const char *row)
{
	return strcspn(row, "\t");
}

void out_table_end(struct out *o)
{
	size_t i, w = 0;
	const char *val;
	int n;

	if (!o->title)
		return;
	for (i = 0; i < o->nrows; i++)
		if (label_len(o->rows[i]) > w)
			w = label_len(o->rows[i]);
	if (isatty(fileno(o->f)))
		fprintf(o->f, " \033[1;4;32m%s\033[0m\n", o->title);
	else
		fprintf(o->f, " %s\n", o->title);
	for (i = 0; i < o->nrows; i++) {
		n = label_len(o->rows[i]);
		val = o->rows[i][n] ? o->rows[i] + n + 1 : "";
		if (val[0])
			fprintf(o->f, " %-*.*s  %s\n", (int)w, n, o->rows[i], val);
		else
			fprintf(o->f, " %.*s\n", n, o->rows[i]);
	}
	rows_free(o);
}

/* Attach item under key to the current container (or make it the root). */
static void add(struct out *o, const char *key, cJSON *item)
{
	cJSON *cur = o->depth ? o->stack[o->depth - 1] : NULL;

	if (!item) {
		o->oom = true;
		return;
	}
	if (!cur) {
		if (o->root)
			cJSON_Delete(o->root);
		o->root = item;
		return;
	}
	if (cJSON_IsArray(cur))
		cJSON_AddItemToArray(cur, item);
	else
		cJSON_AddItemToObject(cur, key ? key : "", item);
}

static void begin(struct out *o, const char *key, cJSON *item)
{
	if (!o->json)
		return;
	add(o, key, item);
	if (item && o->depth < OUT_DEPTH)
		o->stack[o->depth++] = item;
}

void out_begin_object(struct out *o, const char *key)
{
	begin(o, key, o->json ? cJSON_CreateObject() : NULL);
}

void out_begin_list(struct out *o, const char *key)
{
	begin(o, key, o->json ? cJSON_CreateArray() : NULL);
}

void out_end(struct out *o)
{
	if (o->json && o->depth)
		o->depth--;
}

void out_str(struct out *o, const char *key, const char *fmt, const char *v)
{
	if (o->json)
		add(o, key, cJSON_CreateString(v ? v : ""));
	else if (fmt)
		text(o, fmt, v ? v : "");
}

void out_u64(struct out *o, const char *key, const char *fmt, uint64_t v)
{
	if (o->json)
		add(o, key, cJSON_CreateNumber((double)v));
	else if (fmt)
		text(o, fmt, (unsigned long long)v);
}

void out_i64(struct out *o, const char *key, const char *fmt, int64_t v)
{
	if (o->json)
		add(o, key, cJSON_CreateNumber((double)v));
	else if (fmt)
		text(o, fmt, (long long)v);
}

void out_bool(struct out *o, const char *key, const char *fmt, bool v)
{
	if (o->json)
		add(o, key, cJSON_CreateBool(v));
	else if (fmt)
		text(o, fmt, v ? "true" : "false");
}

void out_null(struct out *o, const char *key)
{
	if (o->json)
		add(o, key, cJSON_CreateNull());
}

void out_text(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->json)
		return;
	va_start(ap, fmt);
	vtext(o, fmt, ap);
	va_end(ap);
}
