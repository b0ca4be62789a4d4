/* SPDX-License-Identifier: Apache-2.0 */
/* bpfprog.c - attach points of a *Program on a node, and its BpfProgram objects */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "core/base/errmsg.h"
#include "core/k8s/api.h"
#include "core/k8s/bpfprog.h"

static const struct bpfprog_kind kinds[] = {
	{ "XdpProgram", "xdpprograms", "xdp", "interface" },
	{ "TcProgram", "tcprograms", "tc", "interface" },
	{ "TcxProgram", "tcxprograms", "tcx", "interface" },
	{ "TracepointProgram", "tracepointprograms", "tracepoint", "tracepoint" },
	{ "KprobeProgram", "kprobeprograms", "kprobe", "function" },
	{ "UprobeProgram", "uprobeprograms", "uprobe", "target" },
	{ "FentryProgram", "fentryprograms", "fentry", "function" },
	{ "FexitProgram", "fexitprograms", "fexit", "function" },
};

const struct bpfprog_kind *bpfprog_kinds(size_t *n)
{
	*n = sizeof(kinds) / sizeof(kinds[0]);
	return kinds;
}

const struct bpfprog_kind *bpfprog_kind_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!strcmp(kinds[i].kind, name))
			return &kinds[i];
	}
	return NULL;
}

/* "xdpprogramcontroller": the original's controller names */
static void controller(const struct bpfprog_kind *k, char *buf, size_t size)
{
	size_t i;

	for (i = 0; k->kind[i] && i + 1 < size; i++)
		buf[i] = (char)(k->kind[i] >= 'A' && k->kind[i] <= 'Z' ? k->kind[i] + 32 : k->kind[i]);
	buf[i] = '\0';
	snprintf(buf + i, size - i, "controller");
}

void bpfprog_finalizer(const struct bpfprog_kind *k, char *buf, size_t size)
{
	char c[64];

	controller(k, c, sizeof(c));
	snprintf(buf, size, "bpfd.dev.%s/finalizer", c);
}

static int add_strings(const cJSON *arr, const char *what, const char **points, int n,
		       struct errmsg *em)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || !*it->valuestring)
			return errmsg_set(em, -EINVAL, "%s holds something that is not a name", what);
		if (n >= BPFPROG_MAX_POINTS)
			return errmsg_set(em, -E2BIG, "more than %d %s", BPFPROG_MAX_POINTS, what);
		points[n++] = it->valuestring;
	}
	return n;
}

int bpfprog_points(const struct bpfprog_kind *k, const cJSON *program, const char *primary_iface,
		   const char *points[BPFPROG_MAX_POINTS], struct errmsg *em)
{
	const cJSON *spec = k8s_json_get(program, "spec"), *sel;
	const char *fn;
	int n = 0;

	if (!strcmp(k->point_key, "interface")) {
		sel = k8s_json_get(spec, "interfaceselector");
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sel, "primarynodeinterface"))) {
			if (!primary_iface)
				return errmsg_set(em, -EINVAL, "the node has no interface holding its "
						  "InternalIP (primarynodeinterface)");
			points[0] = primary_iface;
			return 1;
		}
		n = add_strings(k8s_json_get(sel, "interfaces"), "spec.interfaceselector.interfaces",
				points, 0, em);
	} else if (!strcmp(k->type, "tracepoint")) {
		n = add_strings(k8s_json_get(spec, "names"), "spec.names", points, 0, em);
	} else if (!strcmp(k->type, "kprobe")) {
		n = add_strings(k8s_json_get(spec, "func_names"), "spec.func_names", points, 0, em);
	} else if (!strcmp(k->type, "uprobe")) {
		n = add_strings(k8s_json_get(spec, "target"), "spec.target", points, 0, em);
	} else {
		fn = k8s_json_str(spec, "func_name");
		if (fn && *fn)
			points[n++] = fn;
	}
	if (n == 0)
		return errmsg_set(em, -EINVAL, "%s '%s' names no attach point", k->kind,
				  k8s_meta_str(program, "name") ?: "?");
	return n;
}

int bpfprog_name(const char *program, const char *node, const char *point, char *buf,
		 size_t size)
{
	size_t i, n;
	char c;

	if (size > K8S_MAX_NAME)
		size = K8S_MAX_NAME;
	snprintf(buf, size, "%s-%s-%s", program, node, point);
	n = strlen(buf);
	for (i = 0; i < n; i++) {
		c = buf[i];
		if (c >= 'A' && c <= 'Z')
			buf[i] = (char)(c + 32);
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			buf[i] = '-';
	}
	/* starts and ends with an alphanumeric character */
	while (n && (buf[n - 1] == '-' || buf[n - 1] == '.'))
		buf[--n] = '\0';
	i = strspn(buf, "-.");
	memmove(buf, buf + i, n - i + 1);
	return buf[0] ? 0 : -EINVAL;
}

static bool add_str(cJSON *obj, const char *key, const char *value)
{
	return cJSON_AddStringToObject(obj, key, value) != NULL;
}

cJSON *bpfprog_new(const struct bpfprog_kind *k, const cJSON *program, const char *node,
		   const char *point, struct errmsg *em)
{
	const char *pname = k8s_meta_str(program, "name"), *uid = k8s_meta_str(program, "uid");
	char name[K8S_MAX_NAME], ann[128], fin[128], ctl[64];
	cJSON *o, *meta, *labels, *anns, *fins, *owners, *ref, *spec;
	bool ok;

	if (!pname || !uid) {
		errmsg_set(em, -EINVAL, "a %s without a name or uid", k->kind);
		return NULL;
	}
	if (bpfprog_name(pname, node, point, name, sizeof(name))) {
		errmsg_set(em, -EINVAL, "no valid BpfProgram name from %s '%s' on node '%s'",
			   k->kind, pname, node);
		return NULL;
	}
	controller(k, ctl, sizeof(ctl));
	snprintf(ann, sizeof(ann), "bpfd.dev.%s/%s", ctl, k->point_key);
	bpfprog_finalizer(k, fin, sizeof(fin));
	o = cJSON_CreateObject();
	ok = o && add_str(o, "apiVersion", BPFPROG_GROUP_VERSION) && add_str(o, "kind", "BpfProgram");
	meta = ok ? cJSON_AddObjectToObject(o, "metadata") : NULL;
	ok = meta && add_str(meta, "name", name);
	labels = ok ? cJSON_AddObjectToObject(meta, "labels") : NULL;
	ok = labels && add_str(labels, BPFPROG_LABEL_OWNER, pname) &&
	     add_str(labels, BPFPROG_LABEL_NODE, node);
	anns = ok ? cJSON_AddObjectToObject(meta, "annotations") : NULL;
	ok = anns && add_str(anns, ann, point);
	fins = ok ? cJSON_AddArrayToObject(meta, "finalizers") : NULL;
	ok = fins && cJSON_AddItemToArray(fins, cJSON_CreateString(fin));
	owners = ok ? cJSON_AddArrayToObject(meta, "ownerReferences") : NULL;
	ref = owners ? cJSON_CreateObject() : NULL;
	ok = ref && cJSON_AddItemToArray(owners, ref) &&
	     add_str(ref, "apiVersion", BPFPROG_GROUP_VERSION) && add_str(ref, "kind", k->kind) &&
	     add_str(ref, "name", pname) && add_str(ref, "uid", uid) &&
	     cJSON_AddTrueToObject(ref, "controller") &&
	     cJSON_AddTrueToObject(ref, "blockOwnerDeletion");
	spec = ok ? cJSON_AddObjectToObject(o, "spec") : NULL;
	ok = spec && add_str(spec, "type", k->type) && add_str(spec, "node", node) &&
	     add_str(spec, "attachpoint", point);
	if (!ok) {
		cJSON_Delete(o);
		errmsg_set(em, -ENOMEM, "out of memory");
		return NULL;
	}
	return o;
}

int bpfprog_node_selected(const cJSON *program, const cJSON *node, struct errmsg *em)
{
	return k8s_selector_match(k8s_json_get(program, "spec.nodeselector"),
				  k8s_json_get(node, "metadata.labels"), em);
}

const char *bpfprog_node_internal_ip(const cJSON *node)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, k8s_json_get(node, "status.addresses")) {
		if (!strcmp(k8s_json_str(it, "type") ?: "", "InternalIP"))
			return k8s_json_str(it, "address");
	}
	return NULL;
}
