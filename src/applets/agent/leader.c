/* SPDX-License-Identifier: Apache-2.0 */
/* leader.c - cluster status without an operator: the agents elect one leader through a
 * Lease; the leader watches every node's BpfPrograms and the Nodes, writes each
 * *Program's aggregate condition and owns the *Program finalizer (kubernetes.md
 * "Operator loop") */
#include <errno.h>
#include <pthread.h>
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
#include "core/k8s/lease.h"
#include "core/k8s/progstatus.h"
#include "core/k8s/reflector.h"
#include "core/k8s/transport.h"

/* A cluster-wide list + watch of the leader (started when it first leads). */
struct lwatch {
	const char *plural;
	struct k8s_transport *t;
	struct k8s_reflector r;
	pthread_t th;
};

struct leader {
	struct agent *a;
	const struct k8s_config *cfg;
	struct k8s_transport *t;	/* the Lease and the status writes */
	struct k8s_lease lease;
	struct lwatch bpfps, nodes;
	bool watching;
	pthread_t th;
};

static struct leader leader;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned long kicks;
static bool started, stopping, stopped;

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void agent_leader_kick(void)
{
	pthread_mutex_lock(&lock);
	kicks++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void on_change(void *arg, enum k8s_event_type type, const cJSON *obj)
{
	(void)arg;
	(void)type;
	(void)obj;
	agent_leader_kick();
}

static void *lwatch_thread(void *arg)
{
	struct lwatch *w = arg;
	struct errmsg em;
	struct timespec ts;

	for (;;) {
		memset(&em, 0, sizeof(em));
		if (!k8s_reflector_step(&w->r, &em))
			continue;
		log_warn("Failed to watch the %s of all nodes: %s; retrying in %u ms", w->plural,
			 em.msg[0] ? em.msg : "error", w->r.backoff_ms);
		ts.tv_sec = w->r.backoff_ms / 1000;
		ts.tv_nsec = (long)(w->r.backoff_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static int lwatch_start(struct lwatch *w, const char *group, const char *plural,
			const struct k8s_config *cfg, struct errmsg *em)
{
	char path[K8S_MAX_PATH];
	int err;

	w->plural = plural;
	err = k8s_path(path, sizeof(path), group, *group ? "v1alpha1" : "v1", plural, NULL, NULL,
		       NULL, em) ?:
	      k8s_https_new(cfg, &w->t, em) ?:
	      k8s_reflector_init(&w->r, w->t, path, NULL, NULL, on_change, w, em);
	if (err)
		return err;
	if (pthread_create(&w->th, NULL, lwatch_thread, w))
		return errmsg_set(em, -EAGAIN, "cannot start the watch of %s", plural);
	return 0;
}

/* ---- writes ---- */

static int set_condition(void *arg, cJSON *obj, struct errmsg *em)
{
	(void)em;
	return progstatus_apply(obj, arg);
}

/* Our finalizer on a *Program. */
static int add_finalizer(void *arg, cJSON *obj, struct errmsg *em)
{
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata"), *fins;

	(void)arg;
	(void)em;
	/* a terminating object takes no new finalizer (422) */
	if (k8s_meta_deleting(obj) || k8s_meta_has_finalizer(obj, AGENT_LEADER_FINALIZER))
		return 0;
	fins = cJSON_GetObjectItemCaseSensitive(meta, "finalizers");
	if (!fins)
		fins = cJSON_AddArrayToObject(meta, "finalizers");
	if (!cJSON_IsArray(fins) ||
	    !cJSON_AddItemToArray(fins, cJSON_CreateString(AGENT_LEADER_FINALIZER)))
		return -ENOMEM;
	return 1;
}

static int remove_finalizer(void *arg, cJSON *obj, struct errmsg *em)
{
	cJSON *fins = (cJSON *)k8s_json_get(obj, "metadata.finalizers"), *it;
	int i = 0;

	(void)arg;
	(void)em;
	cJSON_ArrayForEach(it, fins) {
		if (cJSON_IsString(it) && !strcmp(it->valuestring, AGENT_LEADER_FINALIZER)) {
			cJSON_DeleteItemFromArray(fins, i);
			return 1;
		}
		i++;
	}
	return 0;
}

/* A mutation that remembers whether the last try wrote (the cache may be behind). */
struct mutation {
	k8s_mutate_fn fn;
	void *arg;
	bool wrote;
};

static int mutate(void *arg, cJSON *obj, struct errmsg *em)
{
	struct mutation *m = arg;
	int r = m->fn(m->arg, obj, em);

	m->wrote = r > 0;
	return r;
}

/* Read-modify-write of one *Program; 1 written, 0 nothing to do (or it is gone). */
static int edit(struct leader *L, const struct bpfprog_kind *k, const cJSON *p,
		const char *sub, k8s_mutate_fn fn, void *arg, const char *what)
{
	struct mutation m = { .fn = fn, .arg = arg };
	char path[K8S_MAX_PATH];
	struct errmsg em = { "" };
	int err;

	err = k8s_path(path, sizeof(path), "bpfd.dev", "v1alpha1", k->plural, NULL,
		       k8s_meta_str(p, "name"), NULL, &em) ?:
	      k8s_update_retry(L->t, path, sub, mutate, &m, NULL, &em);
	if (err == -ENOENT)
		return 0;
	if (err) {
		log_warn("Failed to %s of %s '%s' (leader %s): %s", what, k->kind,
			 k8s_meta_str(p, "name"), L->a->node, em.msg);
		return err;
	}
	return m.wrote;
}

static int program_pass(struct leader *L, const struct bpfprog_kind *k, const cJSON *p,
			const cJSON *bps, const cJSON *nodes)
{
	struct progstatus v;
	int changes = 0, r;

	if (k8s_meta_deleting(p)) {
		if (!k8s_meta_has_finalizer(p, AGENT_LEADER_FINALIZER))
			return 0;
		if (progstatus_judge_deletion(k, p, bps, &v) == 0) {
			r = edit(L, k, p, NULL, remove_finalizer, NULL, "remove the finalizer");
			if (r > 0)
				log_info("%s '%s': unloaded on every node, finalizer removed "
					 "(leader %s)", k->kind, k8s_meta_str(p, "name"), L->a->node);
			return r;
		}
	} else {
		if (!k8s_meta_has_finalizer(p, AGENT_LEADER_FINALIZER)) {
			r = edit(L, k, p, NULL, add_finalizer, NULL, "add the finalizer");
			changes += r > 0 ? r : 0;
		}
		progstatus_judge(p, bps, nodes, &v);
	}
	if (progstatus_same(p, &v))
		return changes;
	r = edit(L, k, p, "/status", set_condition, &v, "write the status");
	if (r > 0) {
		log_info("%s '%s': %s: %s (leader %s)", k->kind, k8s_meta_str(p, "name"), v.type,
			 v.message, L->a->node);
		changes++;
	}
	return changes;
}

static int status_pass(struct leader *L)
{
	struct agent *a = L->a;
	cJSON *bps, *nodes, *progs, *p;
	size_t i;
	int changes = 0, r;

	if (!L->bpfps.r.synced || !L->nodes.r.synced)
		return 0;
	bps = k8s_reflector_list(&L->bpfps.r);
	nodes = k8s_reflector_list(&L->nodes.r);
	for (i = 0; bps && nodes && i < a->n_kinds; i++) {
		if (!a->kinds[i].programs->synced)
			continue;
		progs = k8s_reflector_list(a->kinds[i].programs);
		cJSON_ArrayForEach(p, progs) {
			r = program_pass(L, a->kinds[i].kind, p, bps, nodes);
			if (r > 0)
				changes += r;
		}
		cJSON_Delete(progs);
	}
	cJSON_Delete(bps);
	cJSON_Delete(nodes);
	return changes;
}

/* ---- the election thread ---- */

/* Still the leader: held, and renewed recently enough that nobody may have taken over. */
static bool leading(const struct leader *L, long long now)
{
	return L->lease.held &&
	       now - L->lease.renewed_ms < (long long)L->lease.duration_s * 2000 / 3;
}

static void elect(struct leader *L, long long now, bool *was, int *last_err)
{
	struct errmsg em = { "" };
	int r;

	r = k8s_lease_try(&L->lease, now, &em);
	if (r < 0 && r != *last_err)
		log_warn("Failed to %s the leader Lease (node %s): %s",
			 L->lease.held ? "renew" : "acquire", L->a->node, em.msg);
	*last_err = r < 0 ? r : 0;
	if (L->lease.held && !*was)
		log_info("node %s became the leader (Lease %s/%s, %u s): it writes the status "
			 "of the programs", L->a->node, L->lease.ns, L->lease.name,
			 L->lease.duration_s);
	else if (!L->lease.held && *was)
		log_info("node %s is no longer the leader (Lease %s/%s held by %s)", L->a->node,
			 L->lease.ns, L->lease.name, L->lease.holder[0] ? L->lease.holder : "nobody");
	*was = L->lease.held;
}

static void start_watches(struct leader *L)
{
	struct errmsg em = { "" };

	if (L->watching)
		return;
	if (lwatch_start(&L->bpfps, "bpfd.dev", "bpfprograms", L->cfg, &em) ||
	    lwatch_start(&L->nodes, "", "nodes", L->cfg, &em)) {
		log_err("Failed to watch the cluster as the leader (node %s): %s", L->a->node,
			em.msg);
		return;
	}
	L->watching = true;
}

static void *leader_thread(void *arg)
{
	struct leader *L = arg;
	unsigned int dur_ms = L->lease.duration_s * 1000;
	long long now, next = 0, wake;
	unsigned long seen = 0;
	struct errmsg em = { "" };
	struct timespec ts;
	int last_err = 0;
	bool was = false;

	for (;;) {
		now = mono_ms();
		if (now >= next) {
			elect(L, now, &was, &last_err);
			/* renew every third of the duration; candidates ask every seventh */
			next = now + (L->lease.held ? dur_ms / 3 : (dur_ms / 7 ?: 1000));
		}
		if (leading(L, now)) {
			start_watches(L);
			status_pass(L);
		}
		wake = next - mono_ms();
		if (wake < 0)
			wake = 0;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wake / 1000;
		ts.tv_nsec += (wake % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&lock);
		while (kicks == seen && !stopping &&
		       pthread_cond_timedwait(&cond, &lock, &ts) == 0)
			;
		seen = kicks;
		if (stopping) {
			pthread_mutex_unlock(&lock);
			break;
		}
		pthread_mutex_unlock(&lock);
	}
	if (L->lease.held) {
		if (k8s_lease_release(&L->lease, &em))
			log_warn("Failed to give up the leader Lease (node %s): %s", L->a->node,
				 em.msg);
		else
			log_info("node %s gave up the leader Lease %s/%s", L->a->node, L->lease.ns,
				 L->lease.name);
	}
	pthread_mutex_lock(&lock);
	stopped = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

int agent_leader_start(struct agent *a, const struct k8s_config *cfg,
		       const struct agent_leader_cfg *lc, struct errmsg *em)
{
	struct leader *L = &leader;
	int err;

	L->a = a;
	L->cfg = cfg;
	err = k8s_https_new(cfg, &L->t, em);
	if (err)
		return err;
	err = k8s_lease_init(&L->lease, L->t, lc->ns, lc->name, a->node, lc->duration_s, em);
	if (!err && pthread_create(&L->th, NULL, leader_thread, L))
		err = errmsg_set(em, -EAGAIN, "cannot start the leader election thread");
	if (err) {
		L->t->free(L->t);
		L->t = NULL;
		return err;
	}
	pthread_mutex_lock(&lock);
	started = true;
	pthread_mutex_unlock(&lock);
	log_info("node %s: electing a leader through Lease %s/%s (%u s)", a->node, lc->ns,
		 lc->name, lc->duration_s);
	return 0;
}

void agent_leader_stop(void)
{
	struct timespec ts;

	pthread_mutex_lock(&lock);
	if (!started) {
		pthread_mutex_unlock(&lock);
		return;
	}
	stopping = true;
	pthread_cond_broadcast(&cond);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3;
	while (!stopped && pthread_cond_timedwait(&cond, &lock, &ts) == 0)
		;
	pthread_mutex_unlock(&lock);
}
