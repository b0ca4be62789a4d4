/* SPDX-License-Identifier: Apache-2.0 */
/* rpc_pull.h - a worker thread with a job queue: the pull worker runs image pulls
 * (network, extraction, signature checks) off the front's event loop, the List
 * walker (a second one) List walks; their calls are answered when they are done */
#ifndef BPFD_CORE_RPC_PULL_H
#define BPFD_CORE_RPC_PULL_H

#include <stdbool.h>

/*
 * A job: work() runs in the worker thread (one job at a time, in order: the
 * registry client's session is the worker's alone), then done() in the thread
 * that calls rpc_pulls_wake() (the front), which answers the call.  done() runs
 * with cancelled set for the jobs rpc_pulls_stop() finds queued (work() did not
 * run) or finished: it only frees then.
 */
struct rpc_pull_job {
	void (*work)(struct rpc_pull_job *j);
	void (*done)(struct rpc_pull_job *j);
	bool cancelled;
	struct rpc_pull_job *next;	/* private */
};

struct rpc_pulls;

/* Start the worker thread (it has the capabilities of the calling thread: start
 * it from the front, after privilege separation).  0 or -errno. */
int rpc_pulls_start(struct rpc_pulls **ret);
/* Queue j: 0, or -ESHUTDOWN once stopping. */
int rpc_pulls_submit(struct rpc_pulls *p, struct rpc_pull_job *j);
/* Readable when finished jobs wait for rpc_pulls_wake(). */
int rpc_pulls_fd(const struct rpc_pulls *p);
/* Run done() of the finished jobs (arg: the struct rpc_pulls). */
void rpc_pulls_wake(void *arg);
/* Stop: the running job finishes (a pull ends at the latest with its
 * [registry] timeouts), the others are cancelled; their done() runs here;
 * frees p (NULL is fine). */
void rpc_pulls_stop(struct rpc_pulls *p);

#endif
