/* SPDX-License-Identifier: Apache-2.0 */
/* progstatus.h - the aggregate condition of a *Program, worked out from the BpfPrograms
 * of all nodes (what the original operator wrote; here the elected agent does):
 *   ReconcileError    a node's BpfProgram's last condition is NotLoaded, NotUnLoaded,
 *                     MapOwnerNotFound, MapOwnerNotLoaded or BytecodeSelectorError
 *                     (the message names those nodes, then each BpfProgram's error);
 *   NotYetLoaded      otherwise, while a Node has no BpfProgram of the program or one
 *                     without a condition (the message names those nodes);
 *   ReconcileSuccess  otherwise;
 *   DeleteError       while the program is deleted and BpfPrograms still carry the
 *                     agent's finalizer (not unloaded yet; the message names the nodes).
 * BpfPrograms belong to the program by their owner reference's uid.  Pure functions on
 * untrusted objects. */
#ifndef BPFD_CORE_K8S_PROGSTATUS_H
#define BPFD_CORE_K8S_PROGSTATUS_H

#include <stdbool.h>

#include <cJSON.h>

#include "core/k8s/bpfprog.h"

#define PROGSTATUS_MAX_MESSAGE	2048

struct progstatus {
	const char *type;			/* "ReconcileSuccess" ... (static) */
	const char *reason;			/* (static) */
	char message[PROGSTATUS_MAX_MESSAGE];
};

/* The condition of program (kind k, not being deleted) from bpfprograms and nodes
 * (JSON arrays of objects, as k8s_reflector_list() gives them). */
void progstatus_judge(const cJSON *program, const cJSON *bpfprograms, const cJSON *nodes,
		      struct progstatus *ret);

/* For a program being deleted: how many of its BpfPrograms still carry the agent's
 * finalizer of kind k; ret is the DeleteError naming their nodes. */
int progstatus_judge_deletion(const struct bpfprog_kind *k, const cJSON *program,
			      const cJSON *bpfprograms, struct progstatus *ret);

/* Does obj already carry exactly this condition (one entry, same type and message)? */
bool progstatus_same(const cJSON *obj, const struct progstatus *st);

/* Make st obj's only condition (status.conditions), keeping lastTransitionTime while
 * the type stays, with observedGeneration.  1 changed, 0 already so, -ENOMEM. */
int progstatus_apply(cJSON *obj, const struct progstatus *st);

#endif
