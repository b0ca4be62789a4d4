// SPDX-License-Identifier: Apache-2.0
/* rpc_pull.c - the pull worker: one thread, a queue in, a queue out and an eventfd */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/base/log.h"
#include "core/rpc_pull.h"

struct rpc_pulls {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct rpc_pull_job *todo, **todo_tail;	/* FIFO */
	struct rpc_pull_job *finished;		/* any order */
	bool stopping;
	int efd;
};

static void *worker(void *arg)
{
	struct rpc_pulls *p = arg;
	struct rpc_pull_job *j;
	uint64_t one = 1;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->todo && !p->stopping)
			pthread_cond_wait(&p->cond, &p->mu);
		if (p->stopping)
			break;
		j = p->todo;
		p->todo = j->next;
		if (!p->todo)
			p->todo_tail = &p->todo;
		pthread_mutex_unlock(&p->mu);
		j->work(j);
		pthread_mutex_lock(&p->mu);
		j->next = p->finished;
		p->finished = j;
		if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("pull worker: cannot wake the front: %m");
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int rpc_pulls_start(struct rpc_pulls **ret)
{
	struct rpc_pulls *p = calloc(1, sizeof(*p));
	sigset_t all, old;
	int err;

	if (!p)
		return -ENOMEM;
	p->todo_tail = &p->todo;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0) {
		err = -errno;
		goto fail;
	}
	/* the signals are the front's (signalfd) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&p->thread, NULL, worker, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto fail;
	*ret = p;
	return 0;
fail:
	if (p->efd >= 0)
		close(p->efd);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return err;
}

int rpc_pulls_submit(struct rpc_pulls *p, struct rpc_pull_job *j)
{
	int err = 0;

	pthread_mutex_lock(&p->mu);
	if (p->stopping) {
		err = -ESHUTDOWN;
	} else {
		j->cancelled = false;
		j->next = NULL;
		*p->todo_tail = j;
		p->todo_tail = &j->next;
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->mu);
	return err;
}

int rpc_pulls_fd(const struct rpc_pulls *p)
{
	return p->efd;
}

void rpc_pulls_wake(void *arg)
{
	struct rpc_pulls *p = arg;
	struct rpc_pull_job *j, *next;
	uint64_t n;

	if (read(p->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("pull worker: cannot read its eventfd: %m");
	pthread_mutex_lock(&p->mu);
	j = p->finished;
	p->finished = NULL;
	pthread_mutex_unlock(&p->mu);
	for (; j; j = next) {
		next = j->next;
		j->done(j);
	}
}

void rpc_pulls_stop(struct rpc_pulls *p)
{
	struct rpc_pull_job *j, *next;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	/* no client waits any more: nothing is loaded for them */
	for (j = p->finished; j; j = next) {
		next = j->next;
		j->cancelled = true;
		j->done(j);
	}
	for (j = p->todo; j; j = next) {
		next = j->next;
		j->cancelled = true;
		j->done(j);
	}
	close(p->efd);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
