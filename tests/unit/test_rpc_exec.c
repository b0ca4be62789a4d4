/* SPDX-License-Identifier: Apache-2.0 */
/* test_rpc_exec.c - the kernel ops through the executor: every op in the executor
 * thread, a List's walk in one job, the count of changes */
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
	int kinfos;
	int loads;
} fk;

static void where(void)
{
	if (gettid() != fk.exec_tid)
		fk.wrong_thread++;
}

static int f_load(void *ctx, const struct load_plan *plan, struct prog_view *ret,
		  struct kinfo_prog *ret_kinfo, struct errmsg *em)
{
	(void)ctx, (void)plan, (void)ret, (void)ret_kinfo, (void)em;
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
	fk.kinfos++;
	if (id == 12)
		return -ENOENT;		/* unloaded while the walk ran */
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

/* What a walk's callbacks saw, and in which thread. */
struct seen {
	struct rpc_kwalk kw;
	uint32_t ids[8];
	bool owned[8];
	bool kinfo[8];
	int n;
};

static bool want(struct rpc_kwalk *kw, uint32_t id, bool owned, bool stats)
{
	(void)kw, (void)stats;
	where();
	return owned || id == 12;	/* 5: an earlier walk's answer stands */
}

static int prog(struct rpc_kwalk *kw, uint32_t id, const struct kinfo_prog *kinfo,
		const struct prog_view *v, bool stats)
{
	struct seen *sn = kw->arg;

	(void)stats;
	where();
	if (sn->n == 8)
		return -E2BIG;
	if (kinfo && kinfo->id != id)
		return -EINVAL;
	sn->ids[sn->n] = id;
	sn->owned[sn->n] = v && v->id == id;
	sn->kinfo[sn->n++] = kinfo;
	return 0;
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
	struct seen sn = { .kw = { .want_kinfo = want, .prog = prog } };
	struct rpc_exec r;

	sn.kw.arg = &sn;
	setup(&r);
	ASSERT_OK(rpc_exec_ops.walk(&r, &sn.kw), "walk");
	/* 12 went between the id walk and its info: not shown */
	ASSERT_EQ(sn.n, 2, "two programs");
	ASSERT_EQ(sn.ids[0], 5, "in order");
	ASSERT_EQ(sn.ids[1], 9, "in order");
	ASSERT_TRUE(!sn.owned[0] && sn.owned[1], "bpfd owns 9, with its view");
	ASSERT_TRUE(!sn.kinfo[0] && sn.kinfo[1], "kernel info where asked for");
	ASSERT_EQ(fk.nexts, 4, "three ids and the end");
	ASSERT_EQ(fk.infos, 3, "bpfd's view of each, once");
	ASSERT_EQ(fk.kinfos, 2, "kernel info of 9 and 12 only");
	ASSERT_EQ(fk.wrong_thread, 0, "every op and callback ran in the executor");
	exec_stop(r.ex);
	rpc_exec_fini(&r);
}

static void changes_counted(void)
{
	struct errmsg em;
	struct rpc_exec r;
	uint32_t id;

	setup(&r);
	ASSERT_EQ(rpc_exec_ops.changes(&r), 0, "none yet");
	ASSERT_OK(rpc_exec_ops.next(&r, 0, &id), "next");
	ASSERT_EQ(id, 5, "first id");
	ASSERT_EQ(rpc_exec_ops.view(&r, 5, &view), -ENOENT, "view of 5");
	ASSERT_EQ(rpc_exec_ops.changes(&r), 0, "looks change nothing");
	ASSERT_OK(rpc_exec_ops.load(&r, NULL, &view, NULL, &em), "load");
	ASSERT_EQ(fk.loads, 1, "loaded");
	ASSERT_EQ(rpc_exec_ops.changes(&r), 1, "a load counts");
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

TEST_MAIN("rpc_exec", TEST(walk_in_one_job), TEST(changes_counted),
	  TEST(stats_off), TEST(stats_always))
