/* SPDX-License-Identifier: Apache-2.0 */
/* reconcile.c - bpfd-agent's level-based pass: the node's BpfPrograms and bpfd's
 * programs made to match the *Programs (kubernetes.md "Agent reconcile loop") */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdarg.h>
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
#include "core/k8s/pullsecret.h"

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
	/* failures are logged here, when the condition changes, not at each retry */
	if (!strcmp(c->type, "Loaded") || !strcmp(c->type, "NotSelected") ||
	    !strcmp(c->type, "Unloaded"))
		log_info("BpfProgram '%s' (node %s): %s", k8s_meta_str(bp, "name"), a->node,
			 c->type);
	else
		log_warn("BpfProgram '%s' (node %s): %s: %s", k8s_meta_str(bp, "name"), a->node,
			 c->type, c->message);
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

static void cond_set(struct cond *c, const char *type, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void cond_set(struct cond *c, const char *type, const char *reason, const char *fmt, ...)
{
	va_list ap;

	c->type = type;
	c->reason = reason;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
}

/* Unload l (of BpfProgram name) for the reason why; 0 or -errno + em, logged. */
static int unload(struct agent *a, struct agent_loaded *l, const char *name, const char *why,
		  struct errmsg *em)
{
	int err = agent_bpfd_unload(a->endpoint, l->id, em);

	if (err) {
		log_warn("Failed to unload program %u of BpfProgram '%s' (node %s): %s", l->id,
			 name, a->node, em->msg);
		return err;
	}
	log_info("unloaded program %u of BpfProgram '%s' (node %s): %s", l->id, name, a->node,
		 why);
	l->uuid[0] = '\0';
	return 0;
}

/* A BpfProgram being deleted (its *Program is gone or going): unload, condition
 * Unloaded, then let it go (remove the agent's finalizer). */
static int finish_deletion(struct agent *a, const struct bpfprog_kind *k, const cJSON *bp,
			   struct agent_loaded *loaded, size_t n_loaded)
{
	const char *name = k8s_meta_str(bp, "name");
	struct agent_loaded *l = find_loaded(loaded, n_loaded, k8s_meta_str(bp, "uid"));
	char fin[128], path[K8S_MAX_PATH];
	struct errmsg em = { "" };
	struct cond c = { 0 };
	int err, changes = 0;

	bpfprog_finalizer(k, fin, sizeof(fin));
	if (!k8s_meta_has_finalizer(bp, fin))
		return 0;
	if (l) {
		err = unload(a, l, name, "its program is deleted", &em);
		if (err) {
			cond_set(&c, "NotUnLoaded", "bpfdNotUnloaded", "%.500s", em.msg);
			write_status(a, bp, &c);
			return err;
		}
		changes++;
	}
	cond_set(&c, "Unloaded", "bpfdUnloaded",
		 "This BpfProgram object and all its bpfd programs have been unloaded");
	if (write_status(a, bp, &c) > 0)
		changes++;
	err = bpfp_path(name, path, sizeof(path), &em);
	if (!err)
		err = k8s_update_retry(a->t, path, NULL, drop_finalizer, fin, NULL, &em);
	if (err && err != -ENOENT) {
		log_warn("Failed to remove the finalizer of BpfProgram '%s' (node %s): %s", name,
			 a->node, em.msg);
		return err;
	}
	log_info("BpfProgram '%s' (node %s): unloaded, finalizer removed", name, a->node);
	return changes + 1;
}

/*
 * The kernel id of the program whose maps p shares: its spec.mapownerselector must
 * select exactly one BpfProgram of this node (other than self), and that one must be
 * loaded.  0 with *ret_id (0 when p has no selector), or 1 with c saying why not.
 */
static int map_owner(struct agent *a, const cJSON *p, const cJSON *self,
		     struct agent_loaded *loaded, size_t n_loaded, uint32_t *ret_id,
		     struct cond *c)
{
	const cJSON *sel = k8s_json_get(p, "spec.mapownerselector");
	const char *uid = k8s_meta_str(self, "uid") ?: "";
	struct errmsg em = { "" };
	struct agent_loaded *l;
	cJSON *bps, *bp, *found = NULL;
	char names[256] = "";
	size_t len = 0;
	int r, n = 0;

	*ret_id = 0;
	if (!sel || cJSON_IsNull(sel))
		return 0;
	bps = k8s_reflector_list(a->bpfprograms);
	cJSON_ArrayForEach(bp, bps) {
		if (!strcmp(k8s_meta_str(bp, "uid") ?: "", uid))
			continue;
		r = k8s_selector_match(sel, k8s_json_get(bp, "metadata.labels"), &em);
		if (r < 0) {
			cond_set(c, "MapOwnerNotFound", "mapOwnerNotFound",
				 "spec.mapownerselector: %.400s", em.msg);
			goto out;
		}
		if (!r)
			continue;
		found = bp;
		if (len < sizeof(names))
			len += snprintf(names + len, sizeof(names) - len, "%s'%s'", n ? ", " : "",
					k8s_meta_str(bp, "name"));
		n++;
	}
	if (!n) {
		cond_set(c, "MapOwnerNotFound", "mapOwnerNotFound", "No BpfProgram of node %s "
			 "matches spec.mapownerselector", a->node);
	} else if (n > 1) {
		cond_set(c, "MapOwnerNotFound", "mapOwnerNotFound", "%d BpfPrograms of node %s "
			 "match spec.mapownerselector (%.300s): it must select exactly one", n,
			 a->node, names);
	} else {
		l = find_loaded(loaded, n_loaded, k8s_meta_str(found, "uid"));
		if (l && !k8s_meta_deleting(found))
			*ret_id = l->id;
		else
			cond_set(c, "MapOwnerNotLoaded", "mapOwnerNotLoaded", "The map owner, "
				 "BpfProgram %s, is not loaded on node %s", names, a->node);
	}
out:
	cJSON_Delete(bps);
	return c->type ? 1 : 0;
}

/* The registry credentials of spec.bytecode.image.imagepullsecret into w (nothing
 * when it names none).  0, or -errno + em (the condition BytecodeSelectorError). */
static int pull_secret(struct agent *a, const cJSON *spec, struct agent_want *w,
		       struct errmsg *em)
{
	const cJSON *ps = k8s_json_get(spec, "bytecode.image.imagepullsecret");
	const char *name = k8s_json_str(ps, "name"), *ns = k8s_json_str(ps, "namespace");
	struct k8s_registry_cred cred;
	char path[K8S_MAX_PATH];
	cJSON *secret = NULL;
	int err;

	if (!cJSON_IsObject(ps) || k8s_json_str(spec, "bytecode.path"))
		return 0;
	if (!name || !*name || !ns || !*ns)
		return errmsg_set(em, -EINVAL, "spec.bytecode.image.imagepullsecret needs a name "
				  "and a namespace");
	if (!w->registry[0])
		return errmsg_set(em, -EINVAL, "spec.bytecode.image.url is not an image "
				  "reference: no registry to find in the image pull secret");
	memset(&cred, 0, sizeof(cred));
	err = k8s_path(path, sizeof(path), "", "v1", "secrets", ns, name, NULL, em);
	if (!err)
		err = k8s_get(a->t, path, &secret, NULL, em);
	if (!err)
		err = k8s_pull_secret_cred(secret, w->registry, &cred, em);
	if (!err)
		err = agent_want_set_cred(w, cred.username, cred.password, em);
	explicit_bzero(&cred, sizeof(cred));
	if (secret) {
		k8s_secret_wipe(secret);
		cJSON_Delete(secret);
	}
	if (err)
		errmsg_prefix(em, "image pull secret %.64s/%.253s", ns, name);
	return err;
}

/* A selected attach point: make bpfd hold what p asks for, in place where it can
 * (priority, proceed-on), else by loading again.  c gets the condition, *ret_id
 * the program loaded (0: none).  Returns the number of changes made. */
static int selected_pass(struct agent *a, const struct bpfprog_kind *k, const cJSON *p,
			 const cJSON *bp, const char *point, struct agent_loaded *l,
			 struct agent_loaded *loaded, size_t n_loaded, struct cond *c,
			 uint32_t *ret_id)
{
	const char *name = k8s_meta_str(bp, "name");
	struct agent_want w = { 0 };
	struct errmsg em = { "" };
	uint32_t owner = 0;
	int err, changes = 0;

	if (map_owner(a, p, bp, loaded, n_loaded, &owner, c)) {
		if (l && !unload(a, l, name, "its map owner is not loaded", &em))
			changes++;
		return changes;
	}
	err = agent_want_build(k, p, point, owner, &w, &em);
	if (err) {
		cond_set(c, "NotLoaded", "bpfdNotLoaded", "%.500s", em.msg);
		if (l && !unload(a, l, name, "its spec cannot be loaded", &em))
			changes++;
		goto out;
	}
	switch (l ? agent_bpfd_compare(l, &w) : AGENT_RELOAD) {
	case AGENT_SAME:
		*ret_id = l->id;
		goto out;
	case AGENT_MODIFY:
		err = agent_bpfd_modify(a->endpoint, l, &w, &em);
		if (!err) {
			log_info("modified program %u of BpfProgram '%s' (node %s) in place: "
				 "priority %d, proceed-on 0x%x", l->id, name, a->node, w.priority,
				 w.proceed_on);
			*ret_id = l->id;
			changes++;
			goto out;
		}
		log_warn("Failed to modify program %u of BpfProgram '%s' (node %s): %s; loading "
			 "it again", l->id, name, a->node, em.msg);
		memset(&em, 0, sizeof(em));
		/* fall through */
	case AGENT_RELOAD:
		if (l && unload(a, l, name, "to load it changed", &em)) {
			cond_set(c, "NotLoaded", "bpfdNotLoaded", "%.500s", em.msg);
			goto out;
		}
		changes += l != NULL;
	}
	err = pull_secret(a, k8s_json_get(p, "spec"), &w, &em);
	if (err) {
		cond_set(c, "BytecodeSelectorError", "bytecodeSelectorError", "%.500s", em.msg);
		log_debug("BpfProgram '%s' (node %s): %s", name, a->node, em.msg);
		goto out;
	}
	err = agent_bpfd_load(a->endpoint, &w, k8s_meta_str(bp, "uid"), k8s_meta_str(p, "name"),
			      ret_id, &em);
	if (err) {
		cond_set(c, "NotLoaded", "bpfdNotLoaded", "%.500s", em.msg);
		log_debug("Failed to load BpfProgram '%s' (node %s): %s", name, a->node, em.msg);
		*ret_id = 0;
		goto out;
	}
	log_info("loaded BpfProgram '%s' (node %s): program %u", name, a->node, *ret_id);
	changes++;
out:
	agent_want_fini(&w);
	return changes;
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
	if (selected) {
		changes += selected_pass(a, k, p, bp, point, l, loaded, n_loaded, &c, &id);
	} else {
		cond_set(&c, "NotSelected", "nodeNotSelected",
			 "This node is not selected to run the bpfProgram");
		if (l && unload(a, l, name, "node not selected", &em))
			cond_set(&c, "NotUnLoaded", "bpfdNotUnloaded", "%.500s", em.msg);
		else if (l)
			changes++;
	}
	if (!c.type)
		cond_set(&c, "Loaded", "bpfdLoaded", "Successfully loaded bpfProgram");
	if (id && set_program_id(a, bp, id) > 0)
		changes++;
	if (write_status(a, bp, &c) > 0)
		changes++;
	cJSON_Delete(bp);
	return changes;
}

/* BpfPrograms of p on this node for attach points p no longer has (an interface
 * or tracepoint taken out of its list): deleted; their deletion unloads them. */
static int drop_stale_points(struct agent *a, const struct bpfprog_kind *k, const cJSON *p,
			     const char **pts, int n)
{
	const char *uid = k8s_meta_str(p, "uid") ?: "", *bname;
	char want[K8S_MAX_NAME], path[K8S_MAX_PATH];
	struct errmsg em;
	cJSON *bps, *bp;
	int i, err, changes = 0;

	bps = k8s_reflector_list(a->bpfprograms);
	cJSON_ArrayForEach(bp, bps) {
		bname = k8s_meta_str(bp, "name") ?: "";
		if (strcmp(k8s_json_str(bp, "spec.type") ?: "", k->type) ||
		    k8s_meta_deleting(bp) ||
		    strcmp(k8s_json_str(cJSON_GetArrayItem(k8s_json_get(bp,
				"metadata.ownerReferences"), 0), "uid") ?: "", uid))
			continue;
		for (i = 0; i < n; i++) {
			if (!bpfprog_name(k8s_meta_str(p, "name"), a->node, pts[i], want,
					  sizeof(want)) && !strcmp(want, bname))
				break;
		}
		if (i < n)
			continue;
		memset(&em, 0, sizeof(em));
		err = bpfp_path(bname, path, sizeof(path), &em);
		if (!err)
			err = k8s_delete(a->t, path, NULL, NULL, &em);
		if (err && err != -ENOENT) {
			log_warn("Failed to delete BpfProgram '%s' (node %s), an attach point %s "
				 "'%s' no longer has: %s", bname, a->node, k->kind,
				 k8s_meta_str(p, "name"), em.msg);
			continue;
		}
		log_info("deleted BpfProgram '%s' (node %s): %s '%s' no longer has attach point "
			 "'%s'", bname, a->node, k->kind, k8s_meta_str(p, "name"),
			 k8s_json_str(bp, "spec.attachpoint") ?: "?");
		changes++;
	}
	cJSON_Delete(bps);
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
		if (!k8s_meta_deleting(p))
			changes += drop_stale_points(a, w->kind, p, pts, n);
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
