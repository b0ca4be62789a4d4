/* SPDX-License-Identifier: Apache-2.0 */
/* exec.h - the kernel executor: one thread that keeps the daemon's capabilities and
 * runs the jobs the front hands it, one at a time, in order */
#ifndef BPFD_CORE_EXEC_H
#define BPFD_CORE_EXEC_H

#include <stdint.h>
#include <sys/types.h>

#include "core/base/caps.h"

struct exec;

/* A job: plain data in, plain data out, through arg; returns 0 or -errno. */
typedef int (*exec_fn)(void *arg);

/*
 * Start the executor thread.  It inherits the caller's capabilities and keeps
 * exactly caps of them (capset: eff = prm = caps & what it has, inh = 0), with
 * the signals meant for the process blocked (SIGTERM, SIGINT, SIGHUP, SIGQUIT,
 * SIGUSR1/2: they are the front's), before it runs anything.  ret_caps (may
 * be NULL) gets what it holds.  0 or -errno (the thread is not running then).
 */
int exec_start(uint64_t caps, struct exec **ret, struct caps *ret_caps);

/*
 * Run fn(arg) in the executor and wait for it: fn's result, or -ESHUTDOWN after
 * exec_stop().  Jobs run one at a time in the order they were queued; a full
 * queue (EXEC_QUEUE_LEN jobs) makes the caller wait for room.  arg belongs to the
 * caller and must stay valid until exec_call() returns.  Any thread may call it.
 */
#define EXEC_QUEUE_LEN	16
int exec_call(struct exec *ex, exec_fn fn, void *arg);

/*
 * A function the executor calls, in its thread, whenever its queue is empty
 * (before it sleeps): it returns how many ns from now it wants to be called
 * again if no job comes first, 0 for not at all.  For what must happen in the
 * executor some time after the last job (the end of on-demand run statistics).
 */
typedef uint64_t (*exec_idle_fn)(void *arg);
void exec_set_idle(struct exec *ex, exec_idle_fn fn, void *arg);

/* The executor's thread id (for the log and /proc). */
pid_t exec_tid(const struct exec *ex);

/* Let the queued jobs finish, stop the thread, free ex (NULL is fine). */
void exec_stop(struct exec *ex);

#endif
