/* SPDX-License-Identifier: Apache-2.0 */
/* test_exec.c - the kernel executor: its own thread, its capabilities, jobs in order */
#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "harness.h"
#include "core/exec.h"

struct where {
	pid_t tid;
	struct caps c;
};

static int job_where(void *arg)
{
	struct where *w = arg;

	w->tid = gettid();
	return caps_get(&w->c) ? -EIO : 42;
}

static void runs_in_its_thread(void)
{
	struct caps mine, got, after;
	struct where w = { 0 };
	struct exec *ex = NULL;

	if (!ASSERT_OK(caps_get(&mine), "caps_get") ||
	    !ASSERT_OK(exec_start(CAPS_DAEMON, &ex, &got), "exec_start"))
		return;
	ASSERT_EQ(exec_call(ex, job_where, &w), 42, "the job's result");
	ASSERT_NEQ(w.tid, gettid(), "another thread");
	ASSERT_EQ(w.tid, exec_tid(ex), "the executor's thread");
	ASSERT_EQ(w.c.prm, mine.prm & CAPS_DAEMON, "executor CapPrm: the set, no more");
	ASSERT_EQ(w.c.eff, mine.prm & CAPS_DAEMON, "executor CapEff");
	ASSERT_EQ(w.c.inh, 0, "executor CapInh");
	ASSERT_EQ(got.prm, w.c.prm, "exec_start reports what it holds");
	ASSERT_OK(caps_get(&after), "caps_get");
	ASSERT_EQ(after.prm, mine.prm, "the caller keeps its own");
	exec_stop(ex);
}

#define CALLERS	8
#define CALLS	2000

struct counter {
	struct exec *ex;
	long n;
	int inside;		/* jobs running now */
	int overlap;		/* times two ran at once */
};

static int job_count(void *arg)
{
	struct counter *c = arg;

	if (__atomic_add_fetch(&c->inside, 1, __ATOMIC_SEQ_CST) != 1)
		c->overlap++;
	c->n++;			/* not atomic: jobs never overlap */
	__atomic_sub_fetch(&c->inside, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static void *caller(void *arg)
{
	struct counter *c = arg;
	long i, err = 0;

	for (i = 0; i < CALLS; i++)
		err |= exec_call(c->ex, job_count, c);
	return (void *)err;
}

/* More callers than queue slots: every job runs once, one at a time. */
static void many_callers(void)
{
	struct counter c = { 0 };
	pthread_t t[CALLERS];
	void *ret;
	int i, started = 0;

	if (!ASSERT_OK(exec_start(CAPS_DAEMON, &c.ex, NULL), "exec_start"))
		return;
	for (i = 0; i < CALLERS; i++)
		started += !pthread_create(&t[i], NULL, caller, &c);
	ASSERT_EQ(started, CALLERS, "pthread_create");
	for (i = 0; i < started; i++) {
		pthread_join(t[i], &ret);
		ASSERT_EQ((long)ret, 0, "exec_call");
	}
	ASSERT_EQ(c.n, (long)started * CALLS, "every job ran once");
	ASSERT_EQ(c.overlap, 0, "one job at a time");
	exec_stop(c.ex);
}

/* A child forked in the executor (the parsing sandbox) is bounded by alarm(). */
static int job_fork_alarm(void *arg)
{
	int st = 0, i;
	pid_t pid;

	(void)arg;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		alarm(1);
		for (;;)
			pause();
	}
	for (i = 0; i < 300 && !waitpid(pid, &st, WNOHANG); i++)
		usleep(10000);
	if (i == 300) {		/* SIGALRM blocked: it would wait forever */
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	return WIFSIGNALED(st) ? WTERMSIG(st) : -1;
}

static void child_alarm(void)
{
	struct exec *ex = NULL;

	if (!ASSERT_OK(exec_start(CAPS_DAEMON, &ex, NULL), "exec_start"))
		return;
	ASSERT_EQ(exec_call(ex, job_fork_alarm, NULL), SIGALRM, "the child ends by SIGALRM");
	exec_stop(ex);
}

struct idle {
	int calls;		/* atomic */
	pid_t tid;
};

/* Asks to be called again 10 ms later, three times, then not at all. */
static uint64_t idle_fn(void *arg)
{
	struct idle *d = arg;
	int n = __atomic_add_fetch(&d->calls, 1, __ATOMIC_SEQ_CST);

	d->tid = gettid();
	return n <= 3 ? 10000000 : 0;
}

static int job_nop(void *arg)
{
	(void)arg;
	return 0;
}

static void idle_timer(void)
{
	struct idle d = { 0 };
	struct exec *ex = NULL;

	if (!ASSERT_OK(exec_start(CAPS_DAEMON, &ex, NULL), "exec_start"))
		return;
	exec_set_idle(ex, idle_fn, &d);
	usleep(300000);
	ASSERT_EQ(__atomic_load_n(&d.calls, __ATOMIC_SEQ_CST), 4,
		  "called when idle, then after each delay it asked for, then no more");
	ASSERT_EQ(d.tid, exec_tid(ex), "in the executor");
	ASSERT_OK(exec_call(ex, job_nop, NULL), "a job");
	usleep(100000);
	ASSERT_EQ(__atomic_load_n(&d.calls, __ATOMIC_SEQ_CST), 5, "called again after a job");
	exec_stop(ex);
}

static void stop_null(void)
{
	exec_stop(NULL);
}

TEST_MAIN("exec", TEST(runs_in_its_thread), TEST(many_callers), TEST(child_alarm),
	  TEST(idle_timer), TEST(stop_null))
