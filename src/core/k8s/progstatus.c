/* SPDX-License-Identifier: Apache-2.0 */
/* progstatus.c - a *Program's aggregate condition from every node's BpfPrograms */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "core/k8s/api.h"
#include "core/k8s/bpfprog.h"
#include "core/k8s/progstatus.h"

#define NODES_MAX (PROGSTATUS_MAX_MESSAGE / 2)

static bool owned_by(const cJSON *bp, const char *uid)
{
	const cJSON *ref;

	cJSON_ArrayForEach(ref, k8s_json_get(bp, "metadata.ownerReferences")) {
		if (uid && !strcmp(k8s_json_str(ref, "uid") ?: "", uid))
			return true;
	}
	return false;
}

static const char *bp_node(const cJSON *bp)
{
	return k8s_json_str(bp, "spec.node") ?: k8s_meta_label(bp, BPFPROG_LABEL_NODE) ?: "?";
}

static const cJSON *last_condition(const cJSON *obj)
{
	const cJSON *conds = k8s_json_get(obj, "status.conditions");
	int n = cJSON_GetArraySize(conds);

	return n > 0 ? cJSON_GetArrayItem(conds, n - 1) : NULL;
}

/* The node-level conditions that mean the node failed the program. */
static bool failed(const char *type)
{
	static const char *const bad[] = { "NotLoaded", "NotUnLoaded", "MapOwnerNotFound",
					   "MapOwnerNotLoaded", "BytecodeSelectorError" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!strcmp(type, bad[i]))
			return true;
	}
	return false;
}

static bool node_listed(const char *list, const char *node)
{
	size_t n = strlen(node);
	const char *s;

	for (s = list; n && (s = strstr(s, node)); s += n) {
		if ((s == list || s[-1] == ' ') && (s[n] == '\0' || s[n] == ','))
			return true;
	}
	return false;
}

/* Add node to the list "a, b, c" once (cut at size). */
static void add_node(char *list, size_t size, const char *node)
{
	size_t n = strlen(list);

	if (!node_listed(list, node))
		snprintf(list + n, size - n, "%s%s", n ? ", " : "", node);
}

int progstatus_judge_deletion(const struct bpfprog_kind *k, const cJSON *program,
			      const cJSON *bpfprograms, struct progstatus *ret)
{
	char fin[128], nodes[NODES_MAX] = "";
	const cJSON *bp;
	int holding = 0;

	bpfprog_finalizer(k, fin, sizeof(fin));
	cJSON_ArrayForEach(bp, bpfprograms) {
		if (!owned_by(bp, k8s_meta_str(program, "uid")) || !k8s_meta_has_finalizer(bp, fin))
			continue;
		holding++;
		add_node(nodes, sizeof(nodes), bp_node(bp));
	}
	*ret = (struct progstatus){ .type = "DeleteError", .reason = "DeleteError" };
	snprintf(ret->message, sizeof(ret->message),
		 "Waiting for %d BpfProgram(s) to be unloaded on nodes: %s", holding, nodes);
	return holding;
}

/* "; BpfProgram NAME: TYPE: MESSAGE" onto errs (cut at size). */
static void add_error(char *errs, size_t size, const cJSON *bp, const char *type,
		      const char *msg)
{
	size_t n = strlen(errs);

	if (n + 1 < size)
		snprintf(errs + n, size - n, "%sBpfProgram %s: %s: %.300s", n ? "; " : "",
			 k8s_meta_str(bp, "name") ?: "?", type, msg);
}

static bool node_reported(const cJSON *bpfprograms, const char *uid, const char *node)
{
	const cJSON *bp;

	cJSON_ArrayForEach(bp, bpfprograms) {
		if (owned_by(bp, uid) && !strcmp(bp_node(bp), node))
			return true;
	}
	return false;
}

void progstatus_judge(const cJSON *program, const cJSON *bpfprograms, const cJSON *nodes,
		      struct progstatus *ret)
{
	char errs[PROGSTATUS_MAX_MESSAGE] = "", bad[NODES_MAX] = "", waiting[NODES_MAX] = "";
	const char *uid = k8s_meta_str(program, "uid"), *type, *name;
	const cJSON *bp, *node, *c;

	cJSON_ArrayForEach(bp, bpfprograms) {
		if (!owned_by(bp, uid))
			continue;
		c = last_condition(bp);
		type = k8s_json_str(c, "type") ?: "";
		if (!c) {
			add_node(waiting, sizeof(waiting), bp_node(bp));
		} else if (failed(type)) {
			add_node(bad, sizeof(bad), bp_node(bp));
			add_error(errs, sizeof(errs), bp, type, k8s_json_str(c, "message") ?: "");
		}
	}
	cJSON_ArrayForEach(node, nodes) {
		name = k8s_meta_str(node, "name") ?: "";
		if (*name && !node_reported(bpfprograms, uid, name))
			add_node(waiting, sizeof(waiting), name);
	}
	if (bad[0]) {
		*ret = (struct progstatus){ .type = "ReconcileError", .reason = "ReconcileError" };
		/* the nodes' errors may not all fit: a cut message ends in "..." */
		if (snprintf(ret->message, sizeof(ret->message),
			     "bpfProgramReconciliation failed on nodes: %s (%s)", bad, errs) >=
		    (int)sizeof(ret->message))
			memcpy(ret->message + sizeof(ret->message) - 4, "...", 4);
	} else if (waiting[0]) {
		*ret = (struct progstatus){ .type = "NotYetLoaded", .reason = "ProgramsNotYetLoaded" };
		snprintf(ret->message, sizeof(ret->message),
			 "Waiting for the program to be reconciled on nodes: %s", waiting);
	} else {
		*ret = (struct progstatus){ .type = "ReconcileSuccess", .reason = "ReconcileSuccess",
					    .message = "bpfProgramReconciliation Succeeded on all nodes" };
	}
}

bool progstatus_same(const cJSON *obj, const struct progstatus *st)
{
	const cJSON *c = last_condition(obj);

	return c && cJSON_GetArraySize(k8s_json_get(obj, "status.conditions")) == 1 &&
	       !strcmp(k8s_json_str(c, "type") ?: "", st->type) &&
	       !strcmp(k8s_json_str(c, "message") ?: "", st->message);
}

int progstatus_apply(cJSON *obj, const struct progstatus *st)
{
	const cJSON *old = last_condition(obj);
	long long gen = k8s_meta_generation(obj);
	char now[32], since[64];
	time_t t = time(NULL);
	cJSON *status, *conds, *c;
	struct tm tm;

	if (progstatus_same(obj, st))
		return 0;
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* the transition time stays while only the message changes */
	snprintf(since, sizeof(since), "%s",
		 old && !strcmp(k8s_json_str(old, "type") ?: "", st->type) ?
		 k8s_json_str(old, "lastTransitionTime") ?: now : now);
	/* every "status": a JSON object may repeat a key (cJSON keeps each; the
	 * lookups take the first), and the new one goes last (fuzz_k8s_leader) */
	while (cJSON_GetObjectItemCaseSensitive(obj, "status"))
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
	status = cJSON_AddObjectToObject(obj, "status");
	conds = status ? cJSON_AddArrayToObject(status, "conditions") : NULL;
	c = cJSON_CreateObject();
	if (!conds || !c || !cJSON_AddItemToArray(conds, c)) {
		cJSON_Delete(c);
		return -ENOMEM;
	}
	if (!cJSON_AddStringToObject(c, "type", st->type) ||
	    !cJSON_AddStringToObject(c, "status", "True") ||
	    !cJSON_AddStringToObject(c, "reason", st->reason) ||
	    !cJSON_AddStringToObject(c, "message", st->message) ||
	    !cJSON_AddStringToObject(c, "lastTransitionTime", since) ||
	    (gen >= 0 && !cJSON_AddNumberToObject(c, "observedGeneration", (double)gen)))
		return -ENOMEM;
	return 1;
}
