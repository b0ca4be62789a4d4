/* SPDX-License-Identifier: Apache-2.0 */
/* monitor.h - the netlink monitor thread: link and tc filter notifications
 * (bpf/nlmon.h) become jobs of the kernel executor that bring the manager's
 * records up to date (mgr_follow()) */
#ifndef BPFD_CORE_MONITOR_H
#define BPFD_CORE_MONITOR_H

#include "core/exec.h"
#include "core/state/manager.h"

struct monitor;

/*
 * Start the thread (from the front after privilege separation: it inherits no
 * capabilities and needs none to receive rtnetlink notifications).  It first
 * has everything checked once, then each burst of notifications.  0 or -errno
 * (the daemon then runs without, and re-checks on List/Get only).
 */
int monitor_start(struct exec *ex, struct mgr *m, struct monitor **ret);
/* Stop and join the thread, free mon (NULL is fine).  Before exec_stop(). */
void monitor_stop(struct monitor *mon);

#endif
