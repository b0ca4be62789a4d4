/* SPDX-License-Identifier: Apache-2.0 */
/* api.c - the JSON of the Kubernetes API: Status, lists, watch events, metadata */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "core/base/errmsg.h"
#include "core/k8s/api.h"

static const char *const event_names[] = {
	[K8S_ADDED] = "ADDED",
	[K8S_MODIFIED] = "MODIFIED",
	[K8S_DELETED] = "DELETED",
	[K8S_BOOKMARK] = "BOOKMARK",
	[K8S_ERROR] = "ERROR",
};

const char *k8s_event_type_str(enum k8s_event_type t)
{
	if ((unsigned int)t < sizeof(event_names) / sizeof(event_names[0]))
		return event_names[t];
	return "?";
}

/* Copy s for a message or a log line: control characters (from the network)
 * become '?', and it is cut to size. */
static void clean(char *dst, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s && s[i] && i + 1 < size; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (size)
		dst[i] = '\0';
}

static void copy_str(char *dst, size_t size, const cJSON *item)
{
	clean(dst, size, cJSON_GetStringValue(item));
}

int k8s_status_from_json(const cJSON *obj, struct k8s_status *ret)
{
	const cJSON *code;

	memset(ret, 0, sizeof(*ret));
	if (!cJSON_IsObject(obj))
		return -EINVAL;
	if (strcmp(k8s_json_str(obj, "kind") ?: "", "Status"))
		return -EINVAL;
	code = cJSON_GetObjectItemCaseSensitive(obj, "code");
	if (cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble < 1000)
		ret->code = (int)code->valuedouble;
	copy_str(ret->reason, sizeof(ret->reason),
		 cJSON_GetObjectItemCaseSensitive(obj, "reason"));
	copy_str(ret->message, sizeof(ret->message),
		 cJSON_GetObjectItemCaseSensitive(obj, "message"));
	return 0;
}

void k8s_status_from_body(int http_status, const char *body, size_t len,
			  struct k8s_status *ret)
{
	cJSON *root = NULL;
	size_t i, n = 0;

	if (body && len)
		root = cJSON_ParseWithLength(body, len);
	if (root && !k8s_status_from_json(root, ret)) {
		if (!ret->code)
			ret->code = http_status;
		cJSON_Delete(root);
		return;
	}
	cJSON_Delete(root);
	memset(ret, 0, sizeof(*ret));
	ret->code = http_status;
	for (i = 0; body && i < len && body[i] != '\n' && n + 1 < sizeof(ret->message); i++)
		ret->message[n++] = (body[i] >= 0x20 && body[i] < 0x7f) ? body[i] : '?';
	ret->message[n] = '\0';
}

bool k8s_status_is_expired(const struct k8s_status *st)
{
	return st->code == 410 || !strcmp(st->reason, "Expired") || !strcmp(st->reason, "Gone");
}

const cJSON *k8s_json_get(const cJSON *obj, const char *path)
{
	char key[128];
	const char *dot;
	size_t n;

	while (obj && *path) {
		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key) || !cJSON_IsObject(obj))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		obj = cJSON_GetObjectItemCaseSensitive(obj, key);
		path += n + (dot ? 1 : 0);
	}
	return obj;
}

const char *k8s_json_str(const cJSON *obj, const char *path)
{
	return cJSON_GetStringValue(k8s_json_get(obj, path));
}

const char *k8s_meta_str(const cJSON *obj, const char *field)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");

	if (!cJSON_IsObject(meta))
		return NULL;
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, field));
}

long long k8s_meta_generation(const cJSON *obj)
{
	const cJSON *g = k8s_json_get(obj, "metadata.generation");

	return cJSON_IsNumber(g) ? (long long)g->valuedouble : -1;
}

const char *k8s_meta_label(const cJSON *obj, const char *key)
{
	const cJSON *labels = k8s_json_get(obj, "metadata.labels");

	if (!cJSON_IsObject(labels))
		return NULL;
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, key));
}

bool k8s_meta_deleting(const cJSON *obj)
{
	return k8s_meta_str(obj, "deletionTimestamp") != NULL;
}

bool k8s_meta_has_finalizer(const cJSON *obj, const char *f)
{
	const cJSON *fin = k8s_json_get(obj, "metadata.finalizers"), *it;

	cJSON_ArrayForEach(it, fin) {
		if (cJSON_IsString(it) && !strcmp(it->valuestring, f))
			return true;
	}
	return false;
}

/* An object the agent can keep: a name (namespaced objects: a namespace too,
 * checked by the caller) and a resourceVersion. */
static int check_object(const cJSON *obj, const char *what, struct errmsg *em)
{
	const char *name, *rv;
	char buf[K8S_MAX_NAME];

	if (!cJSON_IsObject(obj))
		return errmsg_set(em, -EPROTO, "%s is not a JSON object", what);
	name = k8s_meta_str(obj, "name");
	rv = k8s_meta_str(obj, "resourceVersion");
	if (!name || !*name || strlen(name) >= K8S_MAX_NAME)
		return errmsg_set(em, -EPROTO, "%s has no valid metadata.name", what);
	if (!rv || !*rv || strlen(rv) >= K8S_MAX_RV) {
		clean(buf, sizeof(buf), name);
		return errmsg_set(em, -EPROTO, "%s '%s' has no valid metadata.resourceVersion",
				  what, buf);
	}
	return 0;
}

static cJSON *parse_json(const char *text, size_t len, const char *what, struct errmsg *em)
{
	cJSON *root;

	root = cJSON_ParseWithLength(text, len);
	if (!root)
		errmsg_set(em, -EPROTO, "the API server sent %s that is not JSON", what);
	return root;
}

static int parse_event_type(const char *s, enum k8s_event_type *ret)
{
	size_t i;

	for (i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++) {
		if (!strcmp(s, event_names[i])) {
			*ret = (enum k8s_event_type)i;
			return 0;
		}
	}
	return -EPROTO;
}

int k8s_event_parse(const char *line, size_t len, enum k8s_event_type *ret_type,
		    cJSON **ret_obj, struct errmsg *em)
{
	enum k8s_event_type type;
	cJSON *root, *obj;
	const char *ts, *rv;
	int err = -EPROTO;
	char buf[33];

	root = parse_json(line, len, "a watch event", em);
	if (!root)
		return -EPROTO;
	ts = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "type"));
	obj = cJSON_GetObjectItemCaseSensitive(root, "object");
	if (!ts) {
		errmsg_set(em, err, "a watch event has no \"type\"");
		goto out;
	}
	if (parse_event_type(ts, &type)) {
		clean(buf, sizeof(buf), ts);
		errmsg_set(em, err, "a watch event has the unknown type '%s'", buf);
		goto out;
	}
	if (!cJSON_IsObject(obj)) {
		errmsg_set(em, err, "a watch event (%s) has no object", ts);
		goto out;
	}
	if (type == K8S_BOOKMARK) {
		rv = k8s_meta_str(obj, "resourceVersion");
		if (!rv || !*rv || strlen(rv) >= K8S_MAX_RV) {
			errmsg_set(em, err, "a BOOKMARK event has no valid resourceVersion");
			goto out;
		}
	} else if (type != K8S_ERROR) {
		err = check_object(obj, "the object of a watch event", em);
		if (err)
			goto out;
	}
	cJSON_DetachItemViaPointer(root, obj);
	*ret_type = type;
	*ret_obj = obj;
	err = 0;
out:
	cJSON_Delete(root);
	return err;
}

int k8s_list_parse(const char *body, size_t len, cJSON **ret_list,
		   char rv[K8S_MAX_RV], char *cont, size_t cont_size, struct errmsg *em)
{
	const char *lrv, *lcont;
	cJSON *root, *items, *it;
	int err = -EPROTO;

	root = parse_json(body, len, "a list", em);
	if (!root)
		return -EPROTO;
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	lrv = k8s_meta_str(root, "resourceVersion");
	lcont = k8s_meta_str(root, "continue");
	if (!cJSON_IsArray(items) && !cJSON_IsNull(items)) {
		errmsg_set(em, err, "a list response has no \"items\" array");
		goto out;
	}
	if (!lrv || !*lrv || strlen(lrv) >= K8S_MAX_RV) {
		errmsg_set(em, err, "a list response has no valid metadata.resourceVersion");
		goto out;
	}
	if (lcont && strlen(lcont) >= cont_size) {
		errmsg_set(em, err, "a list response has a continue token over %zu bytes",
			   cont_size - 1);
		goto out;
	}
	cJSON_ArrayForEach(it, items) {
		err = check_object(it, "an item of a list", em);
		if (err)
			goto out;
	}
	snprintf(rv, K8S_MAX_RV, "%s", lrv);
	snprintf(cont, cont_size, "%s", lcont ? lcont : "");
	*ret_list = root;
	root = NULL;
	err = 0;
out:
	cJSON_Delete(root);
	return err;
}

cJSON *k8s_list_items(cJSON *list)
{
	cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");

	return cJSON_IsArray(items) ? items : NULL;
}

int k8s_object_parse(const char *body, size_t len, cJSON **ret, struct errmsg *em)
{
	cJSON *root;
	int err;

	root = parse_json(body, len, "an object", em);
	if (!root)
		return -EPROTO;
	err = check_object(root, "the object the API server sent", em);
	if (err) {
		cJSON_Delete(root);
		return err;
	}
	*ret = root;
	return 0;
}

static bool in_values(const cJSON *values, const char *v)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, values) {
		if (cJSON_IsString(it) && !strcmp(it->valuestring, v))
			return true;
	}
	return false;
}

/* One matchExpressions entry: 1 selected, 0 not, -EINVAL malformed. */
static int match_expr(const cJSON *e, const cJSON *labels, struct errmsg *em)
{
	const char *key = k8s_json_str(e, "key"), *op = k8s_json_str(e, "operator");
	const cJSON *values = cJSON_GetObjectItemCaseSensitive(e, "values");
	char k[64], o[33];
	const char *v;
	bool setop;

	if (!key || !op)
		return errmsg_set(em, -EINVAL, "a matchExpressions entry needs a key and an operator");
	clean(k, sizeof(k), key);
	clean(o, sizeof(o), op);
	v = cJSON_IsObject(labels) ?
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, key)) : NULL;
	setop = !strcmp(op, "In") || !strcmp(op, "NotIn");
	if (setop && (!cJSON_IsArray(values) || !cJSON_GetArraySize(values)))
		return errmsg_set(em, -EINVAL, "matchExpressions key '%s': operator %s needs values",
				  k, o);
	if (!setop && cJSON_GetArraySize(values))
		return errmsg_set(em, -EINVAL,
				  "matchExpressions key '%s': operator %s takes no values", k, o);
	if (!strcmp(op, "In"))
		return v && in_values(values, v);
	if (!strcmp(op, "NotIn"))
		return !v || !in_values(values, v);
	if (!strcmp(op, "Exists"))
		return v != NULL;
	if (!strcmp(op, "DoesNotExist"))
		return v == NULL;
	return errmsg_set(em, -EINVAL, "matchExpressions key '%s': unknown operator '%s'", k, o);
}

int k8s_selector_match(const cJSON *selector, const cJSON *labels, struct errmsg *em)
{
	const cJSON *ml, *me, *it;
	const char *v;
	char k[64];
	int r;

	if (!selector || cJSON_IsNull(selector))
		return 1;
	if (!cJSON_IsObject(selector))
		return errmsg_set(em, -EINVAL, "a label selector must be an object");
	ml = cJSON_GetObjectItemCaseSensitive(selector, "matchLabels");
	me = cJSON_GetObjectItemCaseSensitive(selector, "matchExpressions");
	if (ml && !cJSON_IsObject(ml) && !cJSON_IsNull(ml))
		return errmsg_set(em, -EINVAL, "matchLabels must be an object");
	if (me && !cJSON_IsArray(me) && !cJSON_IsNull(me))
		return errmsg_set(em, -EINVAL, "matchExpressions must be a list");
	cJSON_ArrayForEach(it, ml) {
		if (!cJSON_IsString(it)) {
			clean(k, sizeof(k), it->string);
			return errmsg_set(em, -EINVAL, "matchLabels '%s' is not a string", k);
		}
		v = cJSON_IsObject(labels) ? cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(labels, it->string)) : NULL;
		if (!v || strcmp(v, it->valuestring))
			return 0;
	}
	cJSON_ArrayForEach(it, me) {
		r = match_expr(it, labels, em);
		if (r <= 0)
			return r;
	}
	return 1;
}
