/* SPDX-License-Identifier: Apache-2.0 */
/* reflector.h - list + watch of one resource into a local cache, with the
 * resourceVersion rules of the API server:
 *   - list (paged by limit/continue) gives the cache and the resourceVersion RV;
 *   - watch from RV (allowWatchBookmarks, timeoutSeconds); each event and bookmark
 *     moves RV; a watch that ends (server timeout, dropped connection) resumes
 *     from RV without a list;
 *   - 410 Gone, as an HTTP status or an ERROR event with code 410 / Expired
 *     (how 1.20 answers a watch from a compacted RV), drops RV: list again;
 *   - other errors (refused, 5xx, 429, 401/403, 404 when the CRD is missing)
 *     back off: 0.5 s doubling to 30 s, reset after a step that worked;
 *   - after a re-list the cache is replaced and the change handler sees what
 *     changed while the agent was not watching: ADDED, MODIFIED (another
 *     resourceVersion) and DELETED (gone from the list) for each object.
 * One reflector is used by one thread; the cache is read by others under its
 * lock (k8s_reflector_get()). */
#ifndef BPFD_CORE_K8S_REFLECTOR_H
#define BPFD_CORE_K8S_REFLECTOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "core/k8s/api.h"
#include "core/k8s/client.h"

struct errmsg;

#define K8S_BACKOFF_MIN_MS	500
#define K8S_BACKOFF_MAX_MS	30000

/* A change of the cache: obj is the new object (the last known one for DELETED),
 * borrowed for the call.  Called from the reflector's thread, without the lock. */
typedef void (*k8s_change_fn)(void *arg, enum k8s_event_type type, const cJSON *obj);

struct k8s_reflector {
	/* set by the caller before the first step */
	struct k8s_transport *t;
	char path[K8S_MAX_PATH];		/* collection: "/apis/bpfd.dev/v1alpha1/xdpprograms" */
	char label_selector[256];		/* "" for none */
	char field_selector[256];		/* "" for none ("metadata.name=node1") */
	unsigned int page_size;			/* list limit; 0: 500 */
	unsigned int watch_timeout_s;		/* timeoutSeconds of a watch; 0: 300 */
	k8s_change_fn on_change;
	void *arg;

	/* state */
	char rv[K8S_MAX_RV];			/* last resourceVersion seen; "" = list next */
	bool synced;				/* a list has completed */
	unsigned int backoff_ms;		/* wait before the next step; 0 after success */
	pthread_mutex_t lock;			/* guards the cache */
	cJSON **objs;				/* the cache, sorted by namespace/name */
	size_t n, cap;

	/* counters (tests, logs) */
	unsigned long lists;			/* completed lists */
	unsigned long watches;			/* watch requests answered 200 */
	unsigned long expired;			/* 410s that forced a re-list */
	unsigned long bookmarks;
	unsigned long events;			/* ADDED/MODIFIED/DELETED applied */
	unsigned long failures;			/* steps that ended in backoff */
};

/* Initialise with the collection path; selectors may be NULL.  0 or -EINVAL/
 * -ENAMETOOLONG + em. */
int k8s_reflector_init(struct k8s_reflector *r, struct k8s_transport *t, const char *path,
		       const char *label_selector, const char *field_selector,
		       k8s_change_fn fn, void *arg, struct errmsg *em);
void k8s_reflector_fini(struct k8s_reflector *r);

/*
 * One step: a full list when there is no RV, else one watch until the server
 * ends it.  Returns 0 when it worked (call again at once), or -errno with em
 * set (log it, sleep backoff_ms, call again):
 *   -ESTALE  only internally; a 410 turns into an immediate re-list (returns 0)
 *   -EPROTO  the server sent something that is not the API (stream cut off in the
 *            middle of an event is not an error: the next watch resumes)
 *   the transport's errors, and k8s_errno() of error answers.
 */
int k8s_reflector_step(struct k8s_reflector *r, struct errmsg *em);

/* A copy of the cached object NAME (namespace ns, NULL for cluster-scoped), or
 * NULL (not there, or no memory).  The caller owns it.  Thread-safe. */
cJSON *k8s_reflector_get(struct k8s_reflector *r, const char *ns, const char *name);

/* A copy of every cached object as a JSON array (caller owns), NULL for no memory. */
cJSON *k8s_reflector_list(struct k8s_reflector *r);

#endif
