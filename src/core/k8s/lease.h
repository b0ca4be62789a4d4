/* SPDX-License-Identifier: Apache-2.0 */
/* lease.h - leader election through a coordination.k8s.io/v1 Lease, as client-go's
 * leaderelection does it:
 *   - the holder writes spec.renewTime every renew period; holderIdentity names it;
 *   - a candidate takes the Lease when it is free (no holder) or expired: its record
 *     (resourceVersion) has not changed for leaseDurationSeconds as measured on the
 *     candidate's own monotonic clock since it first saw that record (no clock skew
 *     between nodes matters);
 *   - every write carries the resourceVersion read: a 409 Conflict means another
 *     candidate won the race;
 *   - a holder that cannot renew for 2/3 of the duration stops being the leader
 *     before anyone else may take over;
 *   - release (clean exit) empties holderIdentity, so a candidate takes it at once.
 * One k8s_lease is used by one thread. */
#ifndef BPFD_CORE_K8S_LEASE_H
#define BPFD_CORE_K8S_LEASE_H

#include <stdbool.h>

#include "core/k8s/api.h"
#include "core/k8s/client.h"

struct errmsg;

#define K8S_LEASE_GROUP		"coordination.k8s.io"
#define K8S_LEASE_VERSION	"v1"

struct k8s_lease {
	/* set by k8s_lease_init() */
	struct k8s_transport *t;
	char path[K8S_MAX_PATH];		/* the Lease */
	char coll[K8S_MAX_PATH];		/* its collection (create) */
	char ns[K8S_MAX_NAME];
	char name[K8S_MAX_NAME];
	char identity[K8S_MAX_NAME];		/* our holderIdentity */
	unsigned int duration_s;		/* leaseDurationSeconds we write */

	/* state */
	bool held;				/* we are the leader */
	char holder[K8S_MAX_NAME];		/* holderIdentity last read ("" none) */
	char seen_rv[K8S_MAX_RV];		/* resourceVersion last read */
	long long seen_ms;			/* when that record was first seen (caller's clock) */
	unsigned int seen_duration_s;		/* its leaseDurationSeconds */
	long long renewed_ms;			/* our last successful write while holding */
	unsigned long transitions;		/* times we acquired it */
};

/* A Lease NAME in namespace ns for candidate identity (the node's name), holding
 * duration_s (>= 2) seconds.  0 or -EINVAL + em for a bad name. */
int k8s_lease_init(struct k8s_lease *l, struct k8s_transport *t, const char *ns,
		   const char *name, const char *identity, unsigned int duration_s,
		   struct errmsg *em);

/*
 * One round: read the Lease; create it when missing, renew it when held, take it
 * when free or expired.  now_ms is the caller's monotonic clock in ms.  Returns 1
 * when this candidate holds the Lease after the call, 0 when another one does (or
 * won a race), or -errno + em when the API server could not be asked; then l->held
 * stays true only while the last renewal is younger than 2/3 of the duration.
 */
int k8s_lease_try(struct k8s_lease *l, long long now_ms, struct errmsg *em);

/* Give the Lease up (holderIdentity emptied) if this candidate holds it.
 * l->held is false afterwards.  0, or -errno + em. */
int k8s_lease_release(struct k8s_lease *l, struct errmsg *em);

/* The time now as a MicroTime ("2006-01-02T15:04:05.000000Z") into buf (>= 32). */
void k8s_micro_time(char *buf, size_t size);

#endif
