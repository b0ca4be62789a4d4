/* SPDX-License-Identifier: Apache-2.0 */
/* yamljson.c - a YAML document (libyaml's document API) as a cJSON tree */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/base/errmsg.h"
#include "core/k8s/yamljson.h"

struct conv {
	yaml_document_t *doc;
	size_t nodes;
	const char *what;
	struct errmsg *em;
};

static cJSON *scalar(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	char *end;
	double d;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cJSON_CreateString(s);
	if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	    !strcmp(s, "NULL"))
		return cJSON_CreateNull();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return cJSON_CreateTrue();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return cJSON_CreateFalse();
	if ((*s >= '0' && *s <= '9') || ((*s == '-' || *s == '+') && s[1] >= '0' && s[1] <= '9')) {
		d = strtod(s, &end);
		if (!*end && strspn(s, "+-0123456789.eE") == strlen(s))
			return cJSON_CreateNumber(d);
	}
	return cJSON_CreateString(s);
}

static int convert(struct conv *c, const yaml_node_t *n, int depth, cJSON **ret);

static int mapping(struct conv *c, const yaml_node_t *n, int depth, cJSON *obj)
{
	const yaml_node_pair_t *p;
	const yaml_node_t *k;
	cJSON *v;
	int err;

	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(c->doc, p->key);
		if (!k || k->type != YAML_SCALAR_NODE)
			return errmsg_set(c->em, -EINVAL, "%s line %lu: a mapping key is not a scalar",
					  c->what, n->start_mark.line + 1);
		err = convert(c, yaml_document_get_node(c->doc, p->value), depth + 1, &v);
		if (err)
			return err;
		/* a repeated key: the last wins, as in Go's YAML decoders */
		cJSON_DeleteItemFromObjectCaseSensitive(obj, (const char *)k->data.scalar.value);
		if (!cJSON_AddItemToObject(obj, (const char *)k->data.scalar.value, v)) {
			cJSON_Delete(v);
			return errmsg_set(c->em, -ENOMEM, "out of memory reading %s", c->what);
		}
	}
	return 0;
}

static int convert(struct conv *c, const yaml_node_t *n, int depth, cJSON **ret)
{
	const yaml_node_item_t *it;
	cJSON *out = NULL, *v;
	int err = 0;

	if (!n)
		return errmsg_set(c->em, -EINVAL, "%s: a dangling YAML node", c->what);
	if (depth > YAMLJSON_MAX_DEPTH || ++c->nodes > YAMLJSON_MAX_NODES)
		return errmsg_set(c->em, -E2BIG, "%s is nested too deeply or too large "
				  "(aliases expand)", c->what);
	switch (n->type) {
	case YAML_SCALAR_NODE:
		out = scalar(n);
		break;
	case YAML_SEQUENCE_NODE:
		out = cJSON_CreateArray();
		for (it = n->data.sequence.items.start; out && it < n->data.sequence.items.top;
		     it++) {
			err = convert(c, yaml_document_get_node(c->doc, *it), depth + 1, &v);
			if (err)
				break;
			cJSON_AddItemToArray(out, v);
		}
		break;
	case YAML_MAPPING_NODE:
		out = cJSON_CreateObject();
		if (out)
			err = mapping(c, n, depth, out);
		break;
	default:
		return errmsg_set(c->em, -EINVAL, "%s: an empty YAML node", c->what);
	}
	if (!err && !out)
		err = errmsg_set(c->em, -ENOMEM, "out of memory reading %s", c->what);
	if (err) {
		cJSON_Delete(out);
		return err;
	}
	*ret = out;
	return 0;
}

int yamljson_parse(const char *text, size_t len, const char *what, cJSON **ret,
		   struct errmsg *em)
{
	struct conv c = { .what = what, .em = em };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int err;

	if (!yaml_parser_initialize(&parser))
		return errmsg_set(em, -ENOMEM, "out of memory reading %s", what);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err = errmsg_set(em, -EINVAL, "%s line %lu: %s", what,
				 (unsigned long)parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		return err;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		err = errmsg_set(em, -EINVAL, "%s is empty", what);
	else
		err = convert(&c, root, 0, ret);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return err;
}
