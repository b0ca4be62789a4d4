/* SPDX-License-Identifier: Apache-2.0 */
/* agent.h - bpfd-agent's pieces: the calls to the local bpfd, and the reconcile
 * pass that makes the node match its *Programs */
#ifndef BPFD_APPLETS_AGENT_H
#define BPFD_APPLETS_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "core/k8s/bpfprog.h"
#include "core/k8s/client.h"
#include "core/k8s/reflector.h"

struct errmsg;

#define AGENT_UUID_KEY	"bpfd.dev/uuid"		/* load metadata: the BpfProgram's UID */
#define AGENT_NAME_KEY	"bpfd.dev/ProgramName"	/* load metadata: the *Program's name */

/* A program in the kernel, as bpfd lists it; uuid (metadata bpfd.dev/uuid) ties
 * the programs the agent loaded to their BpfProgram. */
struct agent_loaded {
	uint32_t id;
	bool bpfd;		/* loaded by bpfd (else foreign) */
	char uuid[64];		/* "" when not the agent's */
	char name[17];
	char kind[32];		/* "xdp", "tracepoint" ... (bpfctl's names) */
	char point[256];	/* interface, tracepoint, function ... ("" if none) */
	char tag[17];
	char loaded_at[32];
	bool has_stats;
	uint64_t run_count;
	uint64_t run_time_ns;
	int32_t priority;
	uint32_t proceed_on;	/* bit per action code */
};

/* List every program in the kernel (bpfd's and foreign ones).  *ret (free()), *n. */
int agent_bpfd_list(const char *endpoint, struct agent_loaded **ret, size_t *n,
		    struct errmsg *em);

/* Load the bytecode of program (kind k) attached at point, with the metadata that
 * ties it to the BpfProgram uuid.  *ret_id is the kernel program id. */
int agent_bpfd_load(const char *endpoint, const struct bpfprog_kind *k, const cJSON *program,
		    const char *point, const char *uuid, uint32_t *ret_id, struct errmsg *em);

int agent_bpfd_unload(const char *endpoint, uint32_t id, struct errmsg *em);

/* Does the loaded program differ from what program asks for at point (priority,
 * proceed-on)?  Then it is unloaded and loaded again. */
bool agent_bpfd_differs(const struct agent_loaded *l, const struct bpfprog_kind *k,
			const cJSON *program);

struct agent_kind_watch {
	const struct bpfprog_kind *kind;
	struct k8s_reflector *programs;
};

struct agent {
	const char *node;
	const char *endpoint;			/* bpfd's gRPC endpoint */
	struct k8s_transport *t;		/* writes, from the reconcile thread */
	struct k8s_reflector *nodes;		/* its own Node */
	struct k8s_reflector *bpfprograms;	/* BpfPrograms of its node */
	struct agent_kind_watch kinds[8];
	size_t n_kinds;
	const char *primary_iface;		/* set by the pass from the Node's InternalIP */
	char *node_state;			/* the BpfNodeState programs last written
						 * (without run statistics), NULL: none yet */
	long long node_state_at;		/* when (monotonic s) */
};

/* Write the node's BpfNodeState (every program on the node) when the set of
 * programs changed, or every 30 s for the run statistics.  1 written, 0 not
 * needed, -errno + em. */
int agent_node_state(struct agent *a, const struct agent_loaded *progs, size_t n,
		     struct errmsg *em);

/* One level-based pass over every supported kind: create missing BpfPrograms,
 * load/unload/reload through bpfd, write conditions, handle deletion.  Returns
 * the number of API writes and bpfd changes made (the caller passes again at once
 * when > 0, else waits for a change or 5 s), or -errno for a pass that could not
 * run (bpfd unreachable, no Node yet). */
int agent_reconcile(struct agent *a, struct errmsg *em);

/* Leader election and the *Programs' aggregate status (leader.c): the agents elect one
 * leader through a coordination.k8s.io/v1 Lease; it watches the BpfPrograms and Nodes
 * of the whole cluster, writes each *Program's condition (NotYetLoaded, ReconcileSuccess,
 * ReconcileError naming the failed nodes, DeleteError) and owns the *Program finalizer
 * AGENT_LEADER_FINALIZER. */
#define AGENT_LEADER_FINALIZER	"bpfd.dev.operator/finalizer"

struct k8s_config;

struct agent_leader_cfg {
	const char *ns;			/* the Lease's namespace */
	const char *name;		/* the Lease */
	unsigned int duration_s;	/* leaseDurationSeconds; renewed every third of it */
};

/* Start the election thread (a's kinds must be set up; cfg must outlive it).
 * 0 or -errno + em. */
int agent_leader_start(struct agent *a, const struct k8s_config *cfg,
		       const struct agent_leader_cfg *lc, struct errmsg *em);
/* Something the leader reads changed: pass again (any thread; no-op when not started). */
void agent_leader_kick(void);
/* Clean exit: give the Lease up if held (waits up to 3 s for the election thread). */
void agent_leader_stop(void);

#endif
