/* SPDX-License-Identifier: Apache-2.0 */
/* test_rpc_exec.c - the kernel ops through the executor: every op in the executor
 * thread, a List walk in one job, a walk shared by Lists read before it began */
#include <errno.h>

#include "harness.h"
#include "core/rpc_exec.h"

/* A kernel of programs 5, 9 and 12, of which bpfd owns 9. */
static const uint32_t ids[] = { 5, 9, 12 };

static struct fake {
	pid_t exec_tid;
	int wrong_thread;	/* ops run outside the executor */
	int nexts;		/* prog_next calls */
	int infos;
	int loads;
} fk;

static void where(void)
{
	if (gettid() != fk.exec_tid)
		fk.wrong_thread++;
}

static int f_load(void *ctx, const struct load_plan *plan, struct prog_view *ret,
		  struct errmsg *em)
{
	(void)ctx, (void)plan, (void)ret, (void)em;
	where();
	fk.loads++;
	return 0;
}

static int f_next(void *ctx, uint32_t id, uint32_t *ret_next)
{
	size_t i;

	(void)ctx;
	where();
	fk.nexts++;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i] > id) {
			*ret_next = ids[i];
			return 0;
		}
	return -ENOENT;
}

static int f_kinfo(void *ctx, uint32_t id, struct kinfo_prog *ret)
{
	(void)ctx;
	where();
	ret->id = id;
	return 0;
}

static int f_view(void *ctx, uint32_t id, struct prog_view *ret)
{
	(void)ctx;
	where();
	fk.infos++;
	if (id != 9)
		return -ENOENT;
	ret->id = id;
	ret->managed_type = 6;
	return 0;
}

static const struct rpc_kernel_ops fake_ops = {
	.load = f_load, .next = f_next, .kinfo = f_kinfo, .view = f_view,
};

static struct prog_view view;

/* What rpc.c's List does: next, then bpfd's view; the ids seen and how many owned. */
static int list(struct rpc_exec *r, uint32_t *seen, int *owned)
{
	uint32_t id = 0;
	int n = 0, err;

	*owned = 0;
	for (;;) {
		err = rpc_exec_ops.next(r, id, &id);
		if (err == -ENOENT)
			return n;
		if (err)
			return err;
		seen[n++] = id;
		*owned += !rpc_exec_ops.view(r, id, &view);
	}
}

static void setup(struct rpc_exec *r)
{
	memset(&fk, 0, sizeof(fk));
	memset(r, 0, sizeof(*r));
	r->inner = (struct rpc_kernel){ .ops = &fake_ops };
	if (exec_start(0, &r->ex, NULL))
		test_skip("exec_start failed");
	fk.exec_tid = exec_tid(r->ex);
}

static void walk_in_one_job(void)
{
	struct rpc_exec r;
	uint32_t seen[8];
	int owned, infos;

	setup(&r);
	ASSERT_EQ(list(&r, seen, &owned), 3, "three programs");
	ASSERT_EQ(seen[0], 5, "in order");
	ASSERT_EQ(seen[1], 9, "in order");
	ASSERT_EQ(seen[2], 12, "in order");
	ASSERT_EQ(owned, 1, "bpfd owns one");
	ASSERT_EQ(fk.nexts, 4, "one walk: three ids and the end");
	/* the walk asked each program once; only the owned one is asked again */
	ASSERT_EQ(fk.infos, 3 + 1, "bpfd's view: walk + the owned program");
	infos = fk.infos;
	/* outside a walk (Get) the answer comes from the executor, not the snapshot */
	ASSERT_EQ(rpc_exec_ops.view(&r, 5, &view), -ENOENT, "Get of 5");
	ASSERT_EQ(fk.infos, infos + 1, "Get asks the executor");
	ASSERT_EQ(fk.wrong_thread, 0, "every op ran in the executor");
	exec_stop(r.ex);
	rpc_exec_fini(&r);
}

static void walk_shared_by_earlier_requests(void)
{
	struct errmsg em;
	struct rpc_exec r;
	uint32_t seen[8];
	int owned;

	setup(&r);
	r.recv_ns = 1;
	ASSERT_EQ(list(&r, seen, &owned), 3, "first List");
	ASSERT_EQ(fk.nexts, 4, "walked");
	/* read before that walk began: answered from it */
	ASSERT_EQ(list(&r, seen, &owned), 3, "second List");
	ASSERT_EQ(fk.nexts, 4, "no second walk");
	ASSERT_EQ(owned, 1, "same answer");
	/* read after it began: a walk of its own */
	r.recv_ns = r.walk_ns + 1;
	ASSERT_EQ(list(&r, seen, &owned), 3, "third List");
	ASSERT_EQ(fk.nexts, 8, "walked again");
	/* a load in between: the next List walks, whenever it was read */
	r.recv_ns = 1;
	ASSERT_OK(rpc_exec_ops.load(&r, NULL, &view, &em), "load");
	ASSERT_EQ(fk.loads, 1, "loaded");
	ASSERT_EQ(list(&r, seen, &owned), 3, "List after a load");
	ASSERT_EQ(fk.nexts, 12, "walked after the load");
	/* time unknown (0): never shared */
	r.recv_ns = 0;
	ASSERT_EQ(list(&r, seen, &owned), 3, "List of unknown time");
	ASSERT_EQ(fk.nexts, 16, "walked");
	ASSERT_EQ(fk.wrong_thread, 0, "every op ran in the executor");
	exec_stop(r.ex);
	rpc_exec_fini(&r);
}

/* [monitor] stats = "off": kernel info never says it carries counts, no fd */
static void stats_off(void)
{
	struct kinfo_prog k = { 0 };
	struct rpc_exec r;

	setup(&r);
	rpc_exec_stats_init(&r, STATS_OFF, 60);
	ASSERT_OK(exec_call(r.ex, rpc_exec_stats_job, &r), "the start-up job");
	ASSERT_OK(rpc_exec_ops.kinfo(&r, 5, &k), "kinfo");
	ASSERT_FALSE(k.stats, "no counts");
	ASSERT_EQ(r.stats_fd, -1, "no stats fd");
	ASSERT_FALSE(rpc_exec_ops.stats(&r), "List: off");
	exec_stop(r.ex);
	rpc_exec_fini(&r);
}

/* "always": the start-up job enables them in the executor (the real
 * BPF_ENABLE_STATS: skipped without CAP_SYS_ADMIN) */
static void stats_always(void)
{
	struct kinfo_prog k = { 0 };
	struct rpc_exec r;

	setup(&r);
	exec_stop(r.ex);
	if (exec_start(CAPS_DAEMON, &r.ex, NULL))
		test_skip("exec_start failed");
	fk.exec_tid = exec_tid(r.ex);
	rpc_exec_stats_init(&r, STATS_ALWAYS, 60);
	ASSERT_OK(exec_call(r.ex, rpc_exec_stats_job, &r), "the start-up job");
	if (r.stats_fd < 0)
		test_skip("BPF_ENABLE_STATS refused here (needs CAP_SYS_ADMIN)");
	ASSERT_OK(rpc_exec_ops.kinfo(&r, 5, &k), "kinfo");
	ASSERT_TRUE(k.stats, "counts");
	ASSERT_TRUE(rpc_exec_ops.stats(&r), "List: on");
	ASSERT_EQ(fk.wrong_thread, 0, "every op ran in the executor");
	exec_stop(r.ex);
	rpc_exec_fini(&r);
	ASSERT_EQ(r.stats_fd, -1, "closed");
}

TEST_MAIN("rpc_exec", TEST(walk_in_one_job), TEST(walk_shared_by_earlier_requests),
	  TEST(stats_off), TEST(stats_always))
