/* SPDX-License-Identifier: Apache-2.0 */
/* out.c - text/JSON output helper on cJSON */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

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

void out_free(struct out *o)
{
	if (!o)
		return;
	cJSON_Delete(o->root);
	free(o);
}

int out_finish(struct out *o)
{
	char *s;
	int err = 0;

	if (o->json && o->root) {
		s = o->pretty ? cJSON_Print(o->root) : cJSON_PrintUnformatted(o->root);
		if (s) {
			fprintf(o->f, "%s\n", s);
			cJSON_free(s);
		}
		if (!s || o->oom)
			err = -ENOMEM;
	}
	fflush(o->f);
	out_free(o);
	return err;
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
		fprintf(o->f, fmt, v ? v : "");
}

void out_u64(struct out *o, const char *key, const char *fmt, uint64_t v)
{
	if (o->json)
		add(o, key, cJSON_CreateNumber((double)v));
	else if (fmt)
		fprintf(o->f, fmt, (unsigned long long)v);
}

void out_i64(struct out *o, const char *key, const char *fmt, int64_t v)
{
	if (o->json)
		add(o, key, cJSON_CreateNumber((double)v));
	else if (fmt)
		fprintf(o->f, fmt, (long long)v);
}

void out_bool(struct out *o, const char *key, const char *fmt, bool v)
{
	if (o->json)
		add(o, key, cJSON_CreateBool(v));
	else if (fmt)
		fprintf(o->f, fmt, v ? "true" : "false");
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
	vfprintf(o->f, fmt, ap);
	va_end(ap);
}
