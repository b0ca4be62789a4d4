/* SPDX-License-Identifier: Apache-2.0 */
/* rpc_exec.c - the kernel ops as executor jobs: plain structs in, plain results out */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpf/kinfo.h"
#include "core/base/caller.h"
#include "core/base/event.h"
#include "core/base/log.h"
#include "core/rpc_exec.h"

/* One job's arguments and results: plain structs (state/manager.h, bpf/kinfo.h) and
 * pointers into the caller's frame, which waits in exec_call() until the job is done. */
struct op_args {
	const struct rpc_kernel *inner;
	uint32_t id;
	const struct load_plan *plan;
	const struct modify_plan *mplan;
	struct prog_view *view;
	struct kinfo_prog *kinfo;
	uint32_t *ret_next;
	struct errmsg *em;
	struct rpc_kwalk *kw;
	const char *caller;	/* the client's peer name, for the events of the job */
	/* the walk; the statistics gate */
	struct rpc_exec *r;
	exec_fn fn;
};

static uint64_t now_ns(void);

/* In the executor: apply the statistics gate at this job; asking: the job reads
 * a program's kernel info (a Get or a List wants the counts). */
static void stats_apply(struct rpc_exec *r, bool asking)
{
	int fd;

	if (!r->stats_ready)
		return;
	switch (stats_gate_step(&r->stats, now_ns(), asking)) {
	case STATS_KEEP:
		break;
	case STATS_OPEN:
		fd = kinfo_stats_enable();
		stats_gate_opened(&r->stats, fd >= 0);
		if (fd >= 0) {
			r->stats_fd = fd;
			log_debug("Run statistics enabled ([monitor] stats = \"%s\")",
				  stats_mode_name(r->stats.mode));
		} else if (!r->stats_warned) {
			r->stats_warned = true;
			log_warn("Failed to enable the kernel's run statistics (BPF_ENABLE_STATS): %s; Get and List show none (it needs CAP_SYS_ADMIN)",
				 strerror(-fd));
		}
		break;
	case STATS_CLOSE:
		close(r->stats_fd);
		r->stats_fd = -1;
		log_debug("Run statistics disabled");
		break;
	}
	__atomic_store_n(&r->stats_on, r->stats.on, __ATOMIC_RELAXED);
}

uint64_t rpc_exec_stats_idle(void *arg)
{
	struct rpc_exec *r = arg;

	stats_apply(r, false);
	return stats_gate_due(&r->stats, now_ns());
}

void rpc_exec_stats_ask(struct rpc_exec *r)
{
	stats_apply(r, true);
}

int rpc_exec_stats_job(void *arg)
{
	stats_apply(arg, false);
	return 0;
}

void rpc_exec_stats_init(struct rpc_exec *r, int mode, unsigned int grace_s)
{
	r->stats = (struct stats_gate){ .mode = mode,
					.grace_ns = (uint64_t)grace_s * 1000000000 };
	r->stats_ready = true;
	r->stats_fd = -1;
	r->stats_on = false;
}

/* a reply's kernel info, read in the job that made the change */
static int kinfo_done(struct op_args *a, int err)
{
	if (!err && a->kinfo && a->kinfo->id)
		a->kinfo->stats = a->r->stats.on;
	return err;
}

static int job_load(void *arg)
{
	struct op_args *a = arg;

	return kinfo_done(a, a->inner->ops->load(a->inner->ctx, a->plan, a->view, a->kinfo,
						 a->em));
}

static int job_modify(void *arg)
{
	struct op_args *a = arg;

	return kinfo_done(a, a->inner->ops->modify(a->inner->ctx, a->mplan, a->view,
						   a->kinfo, a->em));
}

static int job_unload(void *arg)
{
	struct op_args *a = arg;

	return a->inner->ops->unload(a->inner->ctx, a->id, a->em);
}

static int job_next(void *arg)
{
	struct op_args *a = arg;

	return a->inner->ops->next(a->inner->ctx, a->id, a->ret_next);
}

static int job_kinfo(void *arg)
{
	struct op_args *a = arg;
	int err;

	err = a->inner->ops->kinfo(a->inner->ctx, a->id, a->kinfo);
	if (!err)
		a->kinfo->stats = a->r->stats.on;
	return err;
}

static int job_view(void *arg)
{
	struct op_args *a = arg;

	return a->inner->ops->view(a->inner->ctx, a->id, a->view);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* In the executor: a List's walk, every program in one job (rpc_kwalk_steps()). */
static int job_walk(void *arg)
{
	struct op_args *a = arg;
	struct rpc_exec *r = a->r;

	/* kept: a mapping of its own, unmapped per List, cost a TLB shoot-down */
	if (!r->walk_view && !(r->walk_view = malloc(sizeof(*r->walk_view))))
		return -ENOMEM;
	return rpc_kwalk_steps(a->inner->ops, a->inner->ctx, a->kw, r->walk_view, r->stats.on);
}

/* In the executor: a job, after the statistics gate had its say: a program's
 * kernel info (a Get's, or a Load's or Modify's reply) or a List's walk asks for
 * them; on-demand stats end at the first job after the grace period. */
static int job_run(void *arg)
{
	struct op_args *a = arg;
	int err;

	stats_apply(a->r, a->fn == job_kinfo || a->fn == job_walk || a->kinfo);
	event_caller_set(a->caller);
	err = a->fn(a);
	event_caller_set(NULL);
	return err;
}

static int run(struct rpc_exec *r, exec_fn fn, struct op_args *a)
{
	a->inner = &r->inner;
	a->r = r;
	a->fn = fn;
	a->caller = r->peer;
	return exec_call(r->ex, job_run, a);
}

/* A job that may change what bpfd owns: no List answers from an earlier walk. */
static int run_change(struct rpc_exec *r, exec_fn fn, struct op_args *a)
{
	__atomic_add_fetch(&r->changes, 1, __ATOMIC_RELAXED);
	return run(r, fn, a);
}

static int op_load(void *ctx, const struct load_plan *plan, struct prog_view *ret,
		   struct kinfo_prog *ret_kinfo, struct errmsg *em)
{
	struct rpc_exec *r = ctx;
	struct op_args a = { .plan = plan, .view = ret, .kinfo = ret_kinfo, .em = em };
	const char *peer = r->peer;
	int err;

	/* a Load answered after the pull worker's part runs outside rpc_exec_handle():
	 * its events name the caller the plan carries */
	if (!peer && plan && plan->spec.loaded_by[0])
		r->peer = plan->spec.loaded_by;
	err = run_change(ctx, job_load, &a);
	r->peer = peer;
	return err;
}

static int op_modify(void *ctx, const struct modify_plan *plan, struct prog_view *ret,
		     struct kinfo_prog *ret_kinfo, struct errmsg *em)
{
	struct op_args a = { .mplan = plan, .view = ret, .kinfo = ret_kinfo, .em = em };

	return run_change(ctx, job_modify, &a);
}

static int op_unload(void *ctx, uint32_t id, struct errmsg *em)
{
	struct op_args a = { .id = id, .em = em };

	return run_change(ctx, job_unload, &a);
}

static int op_next(void *ctx, uint32_t id, uint32_t *ret_next)
{
	struct op_args a = { .id = id, .ret_next = ret_next };

	return run(ctx, job_next, &a);
}

static int op_kinfo(void *ctx, uint32_t id, struct kinfo_prog *ret)
{
	struct op_args a = { .id = id, .kinfo = ret };

	return run(ctx, job_kinfo, &a);
}

static int op_view(void *ctx, uint32_t id, struct prog_view *ret)
{
	struct op_args a = { .id = id, .view = ret };

	return run(ctx, job_view, &a);
}

static int op_walk(void *ctx, struct rpc_kwalk *w)
{
	struct rpc_exec *r = ctx;
	struct op_args a = { .kw = w, .inner = &r->inner, .r = r, .fn = job_walk };

	/* not run(): the List walker's thread calls it too, and r->peer is the
	 * front's (a walk changes nothing: no event names its caller) */
	return exec_call(r->ex, job_run, &a);
}

static uint64_t op_changes(void *ctx)
{
	struct rpc_exec *r = ctx;

	return __atomic_load_n(&r->changes, __ATOMIC_RELAXED);
}

static bool op_stats(void *ctx)
{
	struct rpc_exec *r = ctx;

	return __atomic_load_n(&r->stats_on, __ATOMIC_RELAXED);
}

const struct rpc_kernel_ops rpc_exec_ops = {
	.load = op_load,
	.unload = op_unload,
	.modify = op_modify,
	.next = op_next,
	.kinfo = op_kinfo,
	.view = op_view,
	.stats = op_stats,
	.walk = op_walk,
	.changes = op_changes,
};

void rpc_exec_handle(void *arg, const struct grpc_call *call, struct grpc_reply *reply)
{
	struct rpc *rpc = arg;
	struct rpc_kernel *k = rpc->ctx;
	struct rpc_exec *r = k->ctx;

	/* events name the caller as records do (ProgramInfo.owner) */
	r->peer = call->caller && call->caller->name[0] ? call->caller->name : call->peer;
	rpc_handle(arg, call, reply);
	r->peer = NULL;
}

void rpc_exec_fini(struct rpc_exec *r)
{
	if (r->stats_ready && r->stats_fd >= 0)
		close(r->stats_fd);
	r->stats_fd = -1;
	free(r->walk_view);
	r->walk_view = NULL;
}
