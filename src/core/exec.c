/* SPDX-License-Identifier: Apache-2.0 */
/* exec.c - the kernel executor: the one thread with capabilities, fed by a bounded queue */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/exec.h"

/*
 * A hand-over through the mutex and condition variables costs a wake-up each
 * way, and a List is at least one hand-over.  The executor polls for the next
 * job a little before it sleeps, so a burst of calls wakes it once.  The
 * caller sleeps at once: on the 2-core test machine a caller that spun too
 * took the CPU the executor (and the clients) needed, and List throughput
 * fell below that of not spinning at all (tests/bench, DEVELOPERS.md).
 */
#define EXEC_SPIN	200	/* polls of ~65 ns (EPYC VM): ~15 us */

struct exec_job {
	exec_fn fn;
	void *arg;
	int ret;
	bool done;
};

struct exec {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* the executor: a job or stop */
	pthread_cond_t done;		/* the callers: a job done, or room in the queue */
	struct exec_job *q[EXEC_QUEUE_LEN];
	size_t head;			/* next job to run */
	size_t n;			/* jobs queued; atomic read without the lock to spin */
	bool stop;
	exec_idle_fn idle;		/* called when the queue is empty */
	void *idle_arg;
	/* start-up handshake */
	uint64_t want;
	struct caps got;
	int start_err;
	bool started;
	pid_t tid;
};

static int exec_enter(struct exec *ex)
{
	static const int front_sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	sigset_t set;
	size_t i;
	int err;

	/* the signals for the process go to the front (its signalfd), never here;
	 * the others stay open: a child forked here (the parsing sandbox) relies
	 * on SIGALRM */
	sigemptyset(&set);
	for (i = 0; i < sizeof(front_sigs) / sizeof(front_sigs[0]); i++)
		sigaddset(&set, front_sigs[i]);
	err = -pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (!err)
		err = caps_limit(ex->want);
	if (!err)
		err = caps_get(&ex->got);
	return err;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Poll (without the lock) until cond holds or EXEC_SPIN polls have passed. */
#define SPIN_UNTIL(cond) ({					\
	int _i = 0;						\
	while (!(cond) && _i++ < EXEC_SPIN)			\
		cpu_relax();					\
	(cond);							\
})

static void timespec_after(struct timespec *ts, uint64_t ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ns += ts->tv_nsec;
	ts->tv_sec += ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
}

/* With the lock held: sleep until there is a job or stop, calling the idle
 * function when it asked to be called. */
static void exec_wait(struct exec *ex)
{
	struct timespec ts;
	uint64_t delay;

	while (!ex->n && !ex->stop) {
		delay = 0;
		if (ex->idle) {
			pthread_mutex_unlock(&ex->lock);
			delay = ex->idle(ex->idle_arg);
			pthread_mutex_lock(&ex->lock);
			if (ex->n || ex->stop)
				break;
		}
		if (!delay) {
			pthread_cond_wait(&ex->wake, &ex->lock);
			continue;
		}
		timespec_after(&ts, delay);
		while (!ex->n && !ex->stop &&
		       pthread_cond_timedwait(&ex->wake, &ex->lock, &ts) != ETIMEDOUT)
			;
	}
}

static void *exec_main(void *arg)
{
	struct exec *ex = arg;
	struct exec_job *job;
	int err;

	err = exec_enter(ex);
	pthread_mutex_lock(&ex->lock);
	ex->tid = gettid();
	ex->start_err = err;
	ex->started = true;
	pthread_cond_broadcast(&ex->done);
	while (!err) {
		if (!ex->n && !ex->stop) {
			pthread_mutex_unlock(&ex->lock);
			(void)SPIN_UNTIL(__atomic_load_n(&ex->n, __ATOMIC_ACQUIRE));
			pthread_mutex_lock(&ex->lock);
		}
		exec_wait(ex);
		if (!ex->n)
			break;		/* stopped, and the queue is empty */
		job = ex->q[ex->head];
		ex->head = (ex->head + 1) % EXEC_QUEUE_LEN;
		__atomic_store_n(&ex->n, ex->n - 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&ex->lock);
		job->ret = job->fn(job->arg);
		pthread_mutex_lock(&ex->lock);
		job->done = true;	/* job may be gone once the lock is dropped */
		pthread_cond_broadcast(&ex->done);
	}
	pthread_mutex_unlock(&ex->lock);
	return NULL;
}

int exec_start(uint64_t caps, struct exec **ret, struct caps *ret_caps)
{
	struct exec *ex = calloc(1, sizeof(*ex));
	pthread_condattr_t attr;
	int err;

	if (!ex)
		return -ENOMEM;
	ex->want = caps;
	pthread_mutex_init(&ex->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ex->wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&ex->done, NULL);
	err = -pthread_create(&ex->thread, NULL, exec_main, ex);
	if (err)
		goto out;
	pthread_mutex_lock(&ex->lock);
	while (!ex->started)
		pthread_cond_wait(&ex->done, &ex->lock);
	err = ex->start_err;
	pthread_mutex_unlock(&ex->lock);
	if (err) {
		pthread_join(ex->thread, NULL);
		goto out;
	}
	if (ret_caps)
		*ret_caps = ex->got;
	*ret = ex;
	return 0;
out:
	pthread_cond_destroy(&ex->done);
	pthread_cond_destroy(&ex->wake);
	pthread_mutex_destroy(&ex->lock);
	free(ex);
	return err;
}

int exec_call(struct exec *ex, exec_fn fn, void *arg)
{
	struct exec_job job = { .fn = fn, .arg = arg };

	pthread_mutex_lock(&ex->lock);
	while (ex->n == EXEC_QUEUE_LEN && !ex->stop)
		pthread_cond_wait(&ex->done, &ex->lock);
	if (ex->stop) {
		pthread_mutex_unlock(&ex->lock);
		return -ESHUTDOWN;
	}
	ex->q[(ex->head + ex->n) % EXEC_QUEUE_LEN] = &job;
	__atomic_store_n(&ex->n, ex->n + 1, __ATOMIC_RELEASE);
	pthread_cond_signal(&ex->wake);
	while (!job.done)
		pthread_cond_wait(&ex->done, &ex->lock);
	pthread_mutex_unlock(&ex->lock);
	return job.ret;
}

void exec_set_idle(struct exec *ex, exec_idle_fn fn, void *arg)
{
	pthread_mutex_lock(&ex->lock);
	ex->idle = fn;
	ex->idle_arg = arg;
	pthread_cond_signal(&ex->wake);	/* let it ask for its first call */
	pthread_mutex_unlock(&ex->lock);
}

pid_t exec_tid(const struct exec *ex)
{
	return ex->tid;
}

void exec_stop(struct exec *ex)
{
	if (!ex)
		return;
	pthread_mutex_lock(&ex->lock);
	ex->stop = true;
	pthread_cond_broadcast(&ex->wake);
	pthread_cond_broadcast(&ex->done);
	pthread_mutex_unlock(&ex->lock);
	pthread_join(ex->thread, NULL);
	pthread_cond_destroy(&ex->done);
	pthread_cond_destroy(&ex->wake);
	pthread_mutex_destroy(&ex->lock);
	free(ex);
}
