/* SPDX-License-Identifier: Apache-2.0 */
/* nodestate.c - the node's BpfNodeState: every BPF program on the node, bpfd's and
 * foreign ones, with kind, attach point, owner and run statistics */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "applets/agent/agent.h"
#include "core/base/errmsg.h"
#include "core/base/log.h"
#include "core/k8s/api.h"
#include "core/k8s/client.h"

#define STATS_EVERY_S	30	/* rewrite for run statistics alone at most this often */

static long long now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The BpfProgram (of this node) whose uid is uuid, or "". */
static const char *bpfprogram_of(const cJSON *bps, const char *uuid)
{
	const cJSON *bp;

	cJSON_ArrayForEach(bp, bps) {
		if (*uuid && !strcmp(k8s_meta_str(bp, "uid") ?: "", uuid))
			return k8s_meta_str(bp, "name");
	}
	return "";
}

static cJSON *programs_json(const struct agent_loaded *v, size_t n, const cJSON *bps,
			    bool stats)
{
	cJSON *arr = cJSON_CreateArray(), *o;
	size_t i;

	for (i = 0; arr && i < n; i++) {
		o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddNumberToObject(o, "id", v[i].id);
		cJSON_AddStringToObject(o, "name", v[i].name);
		cJSON_AddStringToObject(o, "type", v[i].kind);
		if (v[i].bpfd)
			cJSON_AddStringToObject(o, "kind", v[i].kind);
		if (v[i].point[0])
			cJSON_AddStringToObject(o, "attachpoint", v[i].point);
		cJSON_AddStringToObject(o, "owner", v[i].bpfd ? "bpfd" : "foreign");
		if (v[i].uuid[0])
			cJSON_AddStringToObject(o, "bpfprogram", bpfprogram_of(bps, v[i].uuid));
		cJSON_AddStringToObject(o, "tag", v[i].tag);
		if (stats && v[i].has_stats) {
			cJSON_AddNumberToObject(o, "runcount", (double)v[i].run_count);
			cJSON_AddNumberToObject(o, "runtimens", (double)v[i].run_time_ns);
		}
	}
	return arr;
}

struct state_write {
	cJSON *programs;	/* with statistics */
	int total, managed, foreign;
};

static int set_state(void *arg, cJSON *obj, struct errmsg *em)
{
	struct state_write *w = arg;
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	cJSON *st, *p;

	(void)em;
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	p = cJSON_Duplicate(w->programs, true);
	cJSON_DeleteItemFromObject(obj, "status");
	st = cJSON_AddObjectToObject(obj, "status");
	if (!st || !p) {
		cJSON_Delete(p);
		return -ENOMEM;
	}
	cJSON_AddStringToObject(st, "updated", now);
	cJSON_AddNumberToObject(st, "total", w->total);
	cJSON_AddNumberToObject(st, "managed", w->managed);
	cJSON_AddNumberToObject(st, "foreign", w->foreign);
	cJSON_AddItemToObject(st, "programs", p);
	return 1;
}

static int ensure_object(struct agent *a, const char *path, struct errmsg *em)
{
	char text[512];
	cJSON *o;
	int err;

	err = k8s_get(a->t, path, &o, NULL, em);
	cJSON_Delete(o);
	if (err != -ENOENT)
		return err;
	if (em)
		em->msg[0] = '\0';
	snprintf(text, sizeof(text), "{\"apiVersion\":\"bpfd.dev/v1alpha1\",\"kind\":\"BpfNodeState\","
		 "\"metadata\":{\"name\":\"%s\",\"labels\":{\"kubernetes.io/hostname\":\"%s\"}},"
		 "\"spec\":{\"node\":\"%s\"}}", a->node, a->node, a->node);
	o = cJSON_Parse(text);
	err = o ? k8s_create(a->t, "/apis/bpfd.dev/v1alpha1/bpfnodestates", o, NULL, NULL, em) :
		  -ENOMEM;
	cJSON_Delete(o);
	return err == -EEXIST ? 0 : err;
}

int agent_node_state(struct agent *a, const struct agent_loaded *progs, size_t n,
		     struct errmsg *em)
{
	struct state_write w = { 0 };
	char path[K8S_MAX_PATH];
	cJSON *bps, *plain = NULL;
	char *key = NULL;
	size_t i;
	int err;

	bps = k8s_reflector_list(a->bpfprograms);
	plain = programs_json(progs, n, bps, false);
	key = plain ? cJSON_PrintUnformatted(plain) : NULL;
	err = key ? 0 : errmsg_set(em, -ENOMEM, "out of memory");
	if (err)
		goto out;
	if (a->node_state && !strcmp(a->node_state, key) &&
	    now_s() - a->node_state_at < STATS_EVERY_S)
		goto out;	/* nothing new but statistics, written recently */
	w.programs = programs_json(progs, n, bps, true);
	for (i = 0; i < n; i++) {
		w.total++;
		if (progs[i].bpfd)
			w.managed++;
		else
			w.foreign++;
	}
	err = w.programs ? k8s_path(path, sizeof(path), "bpfd.dev", "v1alpha1", "bpfnodestates",
				    NULL, a->node, NULL, em) : -ENOMEM;
	if (!err)
		err = ensure_object(a, path, em);
	if (!err)
		err = k8s_update_retry(a->t, path, "/status", set_state, &w, NULL, em);
	if (err)
		goto out;
	if (!a->node_state || strcmp(a->node_state, key))
		log_info("BpfNodeState '%s': %d programs (%d bpfd, %d foreign)", a->node, w.total,
			 w.managed, w.foreign);
	free(a->node_state);
	a->node_state = key;
	key = NULL;
	a->node_state_at = now_s();
	err = 1;
out:
	cJSON_Delete(w.programs);
	cJSON_Delete(plain);
	cJSON_Delete(bps);
	cJSON_free(key);
	return err;
}
