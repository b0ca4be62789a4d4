/* SPDX-License-Identifier: Apache-2.0 */
/* agent.h - bpfd-agent's pieces: the calls to the local bpfd, and the reconcile
 * pass that makes the node match its *Programs */
#ifndef BPFD_APPLETS_AGENT_H
#define BPFD_APPLETS_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "core/base/chain.h"
#include "core/k8s/bpfprog.h"
#include "core/k8s/client.h"
#include "core/k8s/reflector.h"

struct errmsg;
struct _bpfd_v1_LoadRequest;

#define AGENT_UUID_KEY	"bpfd.dev/uuid"		/* load metadata: the BpfProgram's UID */
#define AGENT_NAME_KEY	"bpfd.dev/ProgramName"	/* load metadata: the *Program's name */
#define AGENT_HASH_KEY	"bpfd.dev/loadhash"	/* load metadata: digest of the load request
						 * but priority and proceed-on (agent_want) */

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
	int chain;		/* enum chain_kind of an xdp, tc or tcx program; -1: none */
	int32_t priority;
	uint32_t proceed_on;	/* chain_proceed_on_encode() mask (xdp, tc) */
	uint32_t map_owner_id;	/* 0: owns its maps */
	char load_hash[17];	/* metadata AGENT_HASH_KEY, "" if none */
};

/* List every program in the kernel (bpfd's and foreign ones).  *ret (free()), *n. */
int agent_bpfd_list(const char *endpoint, struct agent_loaded **ret, size_t *n,
		    struct errmsg *em);

/* What the agent asks of bpfd for one attach point of a *Program. */
struct agent_want {
	struct _bpfd_v1_LoadRequest *req;	/* without metadata and credentials */
	char hash[17];		/* of req without priority and proceed-on: what a change
				 * of needs a reload, not a Modify */
	int chain;		/* enum chain_kind (xdp, tc, tcx), -1: none */
	int32_t priority;
	uint32_t proceed_on;	/* mask (xdp, tc), the default written out */
	int32_t codes[16];	/* the same as codes, for a Modify */
	size_t n_codes;
	char registry[256];	/* host[:port] of the bytecode image, "" for a path */
};

/* The load request of program (kind k) at point, sharing the maps of program
 * map_owner_id (0: none).  -EINVAL + em for a spec bpfd cannot be asked (a bad
 * action, a name too long ...); agent_want_fini() in every case. */
int agent_want_build(const struct bpfprog_kind *k, const cJSON *program, const char *point,
		     uint32_t map_owner_id, struct agent_want *w, struct errmsg *em);
/* The registry credentials for the image pull (never logged, wiped by _fini). */
int agent_want_set_cred(struct agent_want *w, const char *user, const char *password,
			struct errmsg *em);
void agent_want_fini(struct agent_want *w);

enum agent_change {
	AGENT_SAME,	/* the program is what w asks for */
	AGENT_MODIFY,	/* only its priority or proceed-on differ: Modify in place */
	AGENT_RELOAD,	/* anything else: unload and load again */
};
enum agent_change agent_bpfd_compare(const struct agent_loaded *l, const struct agent_want *w);

/* Load w with the metadata that ties it to the BpfProgram uuid and the *Program
 * program_name.  *ret_id is the kernel program id. */
int agent_bpfd_load(const char *endpoint, struct agent_want *w, const char *uuid,
		    const char *program_name, uint32_t *ret_id, struct errmsg *em);

/* Modify program l in place to w's priority and proceed-on (its id stays). */
int agent_bpfd_modify(const char *endpoint, const struct agent_loaded *l,
		      const struct agent_want *w, struct errmsg *em);

int agent_bpfd_unload(const char *endpoint, uint32_t id, struct errmsg *em);

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
