/* SPDX-License-Identifier: Apache-2.0 */
/* reconcile.c - bpfd-agent's level-based pass: the node's BpfPrograms and bpfd's
 * programs made to match the *Programs (kubernetes.md "Agent reconcile loop") */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "applets/agent/agent.h"
#include "core/base/errmsg.h"
#include "core/base/log.h"
#include "core/k8s/api.h"
#include "core/k8s/bpfprog.h"
#include "core/k8s/client.h"

#define BPFP_PATH "/apis/bpfd.dev/v1alpha1/bpfprograms"

/* The wanted state of one BpfProgram. */
struct cond {
	const char *type;
	const char *reason;
	char message[512];
};

/* The interface holding addr (the node's InternalIP), into buf; NULL if none. */
static const char *iface_of(const char *addr, char *buf, size_t size)
{
	struct ifaddrs *ifa = NULL, *i;
	char ip[INET6_ADDRSTRLEN];
	const void *a;

	if (!addr || getifaddrs(&ifa))
		return NULL;
	buf[0] = '\0';
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
				     i->ifa_addr->sa_family != AF_INET6))
			continue;
		a = i->ifa_addr->sa_family == AF_INET ?
			(const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr :
			(const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (inet_ntop(i->ifa_addr->sa_family, a, ip, sizeof(ip)) && !strcmp(ip, addr)) {
			snprintf(buf, size, "%s", i->ifa_name);
			break;
		}
	}
	freeifaddrs(ifa);
	return buf[0] ? buf : NULL;
}

static struct agent_loaded *find_loaded(struct agent_loaded *v, size_t n, const char *uuid)
{
	size_t i;

	for (i = 0; uuid && i < n; i++) {
		if (!strcmp(v[i].uuid, uuid))
			return &v[i];
	}
	return NULL;
}

static int bpfp_path(const char *name, char *buf, size_t size, struct errmsg *em)
{
	return k8s_path(buf, size, "bpfd.dev", "v1alpha1", "bpfprograms", NULL, name, NULL, em);
}

static int drop_finalizer(void *arg, cJSON *obj, struct errmsg *em)
{
	const char *fin = arg;
	cJSON *fins = (cJSON *)k8s_json_get(obj, "metadata.finalizers"), *it;
	int i = 0;

	(void)em;
	cJSON_ArrayForEach(it, fins) {
		if (cJSON_IsString(it) && !strcmp(it->valuestring, fin)) {
			cJSON_DeleteItemFromArray(fins, i);
			return 1;
		}
		i++;
	}
	return 0;
}

/* The last condition of a BpfProgram, or NULL. */
static const cJSON *last_condition(const cJSON *bp)
{
	const cJSON *conds = k8s_json_get(bp, "status.conditions");
	int n = cJSON_GetArraySize(conds);

	return n ? cJSON_GetArrayItem(conds, n - 1) : NULL;
}

static int set_condition(void *arg, cJSON *obj, struct errmsg *em)
{
	const struct cond *c = arg;
	const cJSON *last = last_condition(obj);
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	cJSON *st, *conds, *e;

	(void)em;
	if (last && !strcmp(k8s_json_str(last, "type") ?: "", c->type) &&
	    !strcmp(k8s_json_str(last, "message") ?: "", c->message))
		return 0;
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_DeleteItemFromObject(obj, "status");
	st = cJSON_AddObjectToObject(obj, "status");
	conds = st ? cJSON_AddArrayToObject(st, "conditions") : NULL;
	e = cJSON_CreateObject();
	if (!conds || !e || !cJSON_AddItemToArray(conds, e)) {
		cJSON_Delete(e);
		return -ENOMEM;
	}
	cJSON_AddStringToObject(e, "type", c->type);
	cJSON_AddStringToObject(e, "status", "True");
	cJSON_AddStringToObject(e, "reason", c->reason);
	cJSON_AddStringToObject(e, "message", c->message);
	cJSON_AddStringToObject(e, "lastTransitionTime", now);
	return 1;
}

static bool cond_same(const cJSON *bp, const struct cond *c)
{
	const cJSON *last = last_condition(bp);

	return last && !strcmp(k8s_json_str(last, "type") ?: "", c->type) &&
	       !strcmp(k8s_json_str(last, "message") ?: "", c->message);
}

static int write_status(struct agent *a, const cJSON *bp, const struct cond *c)
{
	char path[K8S_MAX_PATH];
	struct errmsg em = { "" };
	int err;

	if (cond_same(bp, c))
		return 0;
	err = bpfp_path(k8s_meta_str(bp, "name"), path, sizeof(path), &em);
	if (!err)
		err = k8s_update_retry(a->t, path, "/status", set_condition, (void *)c, NULL, &em);
	if (err) {
		log_warn("Failed to write the status of BpfProgram '%s' (node %s): %s",
			 k8s_meta_str(bp, "name"), a->node, em.msg);
		return err;
	}
	log_info("BpfProgram '%s' (node %s): %s", k8s_meta_str(bp, "name"), a->node, c->type);
	return 1;
}

static int set_program_id(struct agent *a, const cJSON *bp, uint32_t id)
{
	char path[K8S_MAX_PATH], text[128];
	const char *have;
	struct errmsg em = { "" };
	cJSON *patch;
	int err;

	have = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		k8s_json_get(bp, "metadata.annotations"), BPFPROG_ANN_PROGRAM_ID));
	snprintf(text, sizeof(text), "%u", id);
	if (have && !strcmp(have, text))
		return 0;
	snprintf(text, sizeof(text), "{\"metadata\":{\"annotations\":{\"%s\":\"%u\"}}}",
		 BPFPROG_ANN_PROGRAM_ID, id);
	patch = cJSON_Parse(text);
	err = bpfp_path(k8s_meta_str(bp, "name"), path, sizeof(path), &em);
	if (!err)
		err = patch ? k8s_merge_patch(a->t, path, patch, NULL, NULL, &em) : -ENOMEM;
	cJSON_Delete(patch);
	if (err) {
		log_warn("Failed to annotate BpfProgram '%s' (node %s): %s",
			 k8s_meta_str(bp, "name"), a->node, em.msg);
		return err;
	}
	return 1;
}

/* A BpfProgram being deleted (its *Program is gone or going): unload, then let it go. */
static int finish_deletion(struct agent *a, const struct bpfprog_kind *k, const cJSON *bp,
			   struct agent_loaded *loaded, size_t n_loaded)
{
	struct agent_loaded *l = find_loaded(loaded, n_loaded, k8s_meta_str(bp, "uid"));
	char fin[128], path[K8S_MAX_PATH];
	struct errmsg em = { "" };
	int err, changes = 0;

	bpfprog_finalizer(k, fin, sizeof(fin));
	if (l) {
		err = agent_bpfd_unload(a->endpoint, l->id, &em);
		if (err) {
			log_warn("Failed to unload program %u of BpfProgram '%s' (node %s): %s",
				 l->id, k8s_meta_str(bp, "name"), a->node, em.msg);
			return err;
		}
		log_info("unloaded program %u of BpfProgram '%s' (node %s)", l->id,
			 k8s_meta_str(bp, "name"), a->node);
		l->uuid[0] = '\0';
		changes++;
	}
	if (!k8s_meta_has_finalizer(bp, fin))
		return changes;
	err = bpfp_path(k8s_meta_str(bp, "name"), path, sizeof(path), &em);
	if (!err)
		err = k8s_update_retry(a->t, path, NULL, drop_finalizer, fin, NULL, &em);
	if (err && err != -ENOENT) {
		log_warn("Failed to remove the finalizer of BpfProgram '%s' (node %s): %s",
			 k8s_meta_str(bp, "name"), a->node, em.msg);
		return err;
	}
	log_info("BpfProgram '%s' (node %s): unloaded, finalizer removed",
		 k8s_meta_str(bp, "name"), a->node);
	return changes + 1;
}

/* One attach point of one *Program. */
static int point_pass(struct agent *a, const struct bpfprog_kind *k, const cJSON *p,
		      const char *point, bool selected, struct agent_loaded *loaded,
		      size_t n_loaded)
{
	char name[K8S_MAX_NAME], path[K8S_MAX_PATH];
	struct cond c = { 0 };
	struct errmsg em = { "" };
	struct agent_loaded *l;
	cJSON *bp, *made = NULL;
	uint32_t id = 0;
	int err, changes = 0;

	if (bpfprog_name(k8s_meta_str(p, "name"), a->node, point, name, sizeof(name)))
		return 0;
	bp = k8s_reflector_get(a->bpfprograms, NULL, name);
	if (k8s_meta_deleting(p)) {
		changes = bp ? finish_deletion(a, k, bp, loaded, n_loaded) : 0;
		cJSON_Delete(bp);
		return changes;
	}
	if (!bp) {
		made = bpfprog_new(k, p, a->node, point, &em);
		err = made ? bpfp_path(NULL, path, sizeof(path), &em) : -ENOMEM;
		if (!err)
			err = k8s_create(a->t, BPFP_PATH, made, &bp, NULL, &em);
		cJSON_Delete(made);
		if (err && err != -EEXIST) {
			log_warn("Failed to create BpfProgram '%s' (node %s): %s", name, a->node,
				 em.msg);
			return err;
		}
		if (err)	/* made by us before the cache saw it: the next pass has it */
			return 1;
		log_info("created BpfProgram '%s' for %s '%s' (node %s)", name, k->kind,
			 k8s_meta_str(p, "name"), a->node);
		changes++;
	}
	if (k8s_meta_deleting(bp)) {
		changes += finish_deletion(a, k, bp, loaded, n_loaded);
		cJSON_Delete(bp);
		return changes;
	}
	l = find_loaded(loaded, n_loaded, k8s_meta_str(bp, "uid"));
	if (selected && l && agent_bpfd_differs(l, k, p)) {
		err = agent_bpfd_unload(a->endpoint, l->id, &em);
		if (!err) {
			log_info("unloaded program %u of BpfProgram '%s' (node %s) to load it "
				 "changed", l->id, name, a->node);
			l->uuid[0] = '\0';
			l = NULL;
			changes++;
		}
	}
	if (selected && !l) {
		err = agent_bpfd_load(a->endpoint, k, p, point, k8s_meta_str(bp, "uid"), &id, &em);
		if (err) {
			c = (struct cond){ .type = "NotLoaded", .reason = "bpfdNotLoaded" };
			snprintf(c.message, sizeof(c.message), "%.500s", em.msg);
			log_warn("Failed to load BpfProgram '%s' (node %s): %s", name, a->node,
				 em.msg);
		} else {
			log_info("loaded BpfProgram '%s' (node %s): program %u", name, a->node, id);
			changes++;
		}
	} else if (selected) {
		id = l->id;
	} else if (l) {
		err = agent_bpfd_unload(a->endpoint, l->id, &em);
		if (!err) {
			log_info("unloaded program %u of BpfProgram '%s' (node %s): node not "
				 "selected", l->id, name, a->node);
			changes++;
		} else {
			log_warn("Failed to unload program %u of BpfProgram '%s' (node %s): %s",
				 l->id, name, a->node, em.msg);
		}
	}
	if (!c.type && selected)
		c = (struct cond){ .type = "Loaded", .reason = "bpfdLoaded",
				   .message = "Successfully loaded bpfProgram" };
	else if (!c.type)
		c = (struct cond){ .type = "NotSelected", .reason = "nodeNotSelected",
				   .message = "This node is not selected to run the bpfProgram" };
	if (id && set_program_id(a, bp, id) > 0)
		changes++;
	if (write_status(a, bp, &c) > 0)
		changes++;
	cJSON_Delete(bp);
	return changes;
}

static int kind_pass(struct agent *a, const struct agent_kind_watch *w, const cJSON *node,
		     struct agent_loaded *loaded, size_t n_loaded)
{
	const char *pts[BPFPROG_MAX_POINTS];
	struct errmsg em = { "" };
	cJSON *progs, *p, *bps, *bp;
	int i, n, sel, r, changes = 0;

	progs = k8s_reflector_list(w->programs);
	cJSON_ArrayForEach(p, progs) {
		memset(&em, 0, sizeof(em));
		sel = bpfprog_node_selected(p, node, &em);
		n = bpfprog_points(w->kind, p, a->primary_iface, pts, &em);
		if (sel < 0 || n < 0) {
			log_warn("%s '%s' (node %s): %s", w->kind->kind, k8s_meta_str(p, "name"),
				 a->node, em.msg);
			continue;
		}
		for (i = 0; i < n; i++) {
			r = point_pass(a, w->kind, p, pts[i], sel == 1, loaded, n_loaded);
			if (r > 0)
				changes += r;
		}
	}
	cJSON_Delete(progs);
	/* BpfPrograms whose *Program is gone: the garbage collector deletes them; the
	 * agent unloads and removes its finalizer */
	bps = k8s_reflector_list(a->bpfprograms);
	cJSON_ArrayForEach(bp, bps) {
		if (strcmp(k8s_json_str(bp, "spec.type") ?: "", w->kind->type) ||
		    !k8s_meta_deleting(bp))
			continue;
		r = finish_deletion(a, w->kind, bp, loaded, n_loaded);
		if (r > 0)
			changes += r;
	}
	cJSON_Delete(bps);
	return changes;
}

int agent_reconcile(struct agent *a, struct errmsg *em)
{
	struct agent_loaded *loaded = NULL;
	char ifbuf[IF_NAMESIZE + 1];
	size_t n_loaded = 0, i;
	cJSON *node;
	int err, changes = 0;

	node = k8s_reflector_get(a->nodes, NULL, a->node);
	if (!node)
		return errmsg_set(em, -ENOENT, "Node '%s' is not in the API server (yet)", a->node);
	a->primary_iface = iface_of(bpfprog_node_internal_ip(node), ifbuf, sizeof(ifbuf));
	err = agent_bpfd_list(a->endpoint, &loaded, &n_loaded, em);
	if (err) {
		cJSON_Delete(node);
		return err;
	}
	for (i = 0; i < a->n_kinds; i++) {
		if (!a->kinds[i].programs->synced || !a->bpfprograms->synced)
			continue;
		changes += kind_pass(a, &a->kinds[i], node, loaded, n_loaded);
	}
	/* the node's inventory, as it was before this pass's changes: the next pass
	 * (their watch events) writes it again */
	if (a->bpfprograms->synced && agent_node_state(a, loaded, n_loaded, em) < 0) {
		log_warn("Failed to write BpfNodeState '%s': %s", a->node, em->msg);
		em->msg[0] = '\0';
	}
	free(loaded);
	cJSON_Delete(node);
	return changes;
}
