/* SPDX-License-Identifier: Apache-2.0 */
/* rpc_exec.h - the manager's and the kernel's calls run in the kernel executor */
#ifndef BPFD_CORE_RPC_EXEC_H
#define BPFD_CORE_RPC_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/stats_gate.h"
#include "core/exec.h"
#include "core/rpc.h"

/*
 * Kernel ops that run each op of inner (rpc_mgr_kernel_ops: the manager and the
 * kernel) in the executor ex, as a job that carries plain structs (a struct
 * load_plan in, a struct prog_view or kinfo_prog out): the front (rpc.c, which
 * has decoded, checked and converted the request) waits for the result.  A
 * List's walk is one job (walk: every id, bpfd's view and the kernel's info,
 * the caller's callbacks run in the executor), so a List costs one hand-over,
 * not one or two per program.  changes counts the loads, unloads and modifies
 * handed over (rpc.c answers a List from an earlier walk only while it stands
 * still).  ctx of rpc_exec_ops is a struct rpc_exec; one front thread uses it
 * at a time, through rpc_exec_handle().
 */
struct rpc_exec {
	struct rpc_kernel inner;
	struct exec *ex;
	uint64_t changes;		/* atomic: loads, unloads, modifies so far */
	const char *peer;		/* its caller's name (else its peer), during the
					 * call: the caller of the events it makes */
	struct prog_view *walk_view;	/* the walk's scratch (executor only) */
	/* the kernel's run statistics: gate and fd owned by the executor's jobs;
	 * stats_on is written there and read by the front after its job */
	struct stats_gate stats;
	bool stats_ready;		/* rpc_exec_stats_init() ran: else no stats at all */
	int stats_fd;			/* -1: not held */
	bool stats_on;			/* atomic: the idle function writes it */
	bool stats_warned;		/* enabling failed once: said so */
};

extern const struct rpc_kernel_ops rpc_exec_ops;

/* The server's handler: arg is a struct rpc whose ctx is a struct rpc_kernel
 * whose ctx is a struct rpc_exec; notes the caller (its events), then
 * rpc_handle(). */
void rpc_exec_handle(void *arg, const struct grpc_call *call, struct grpc_reply *reply);

/* Set up r's statistics gate ([monitor] stats and stats_grace) before the
 * first job; with "always" the next job enables them. */
void rpc_exec_stats_init(struct rpc_exec *r, int mode, unsigned int grace_s);
/* In the executor (a job of another module: the metrics scrape): apply the
 * gate as a request that asks for the counts; r->stats.on says the result. */
void rpc_exec_stats_ask(struct rpc_exec *r);
/* A job that applies the gate now (enables "always" stats at start-up). */
int rpc_exec_stats_job(void *arg);
/* The executor's idle function (exec_set_idle(), arg r): ends on-demand stats
 * stats_grace after the last request that asked, with no job needed. */
uint64_t rpc_exec_stats_idle(void *arg);

/* Free the walk's scratch of r (not r itself), close the stats fd (in the executor's
 * absence: the daemon is stopping). */
void rpc_exec_fini(struct rpc_exec *r);

#endif
