/* SPDX-License-Identifier: Apache-2.0 */
/* sandbox.h - run crash-prone or kernel-changing work in a forked child */
#ifndef BPFD_CORE_SANDBOX_H
#define BPFD_CORE_SANDBOX_H

#include <stddef.h>

/* Run fn(buf) in a forked child and copy buf (len bytes) back: whatever the child
 * creates (namespaces, programs, links) and whatever it breaks dies with it.  The
 * child is killed after timeout_ms, or when the caller dies.
 * 0 when the child reported; -ETIMEDOUT when it took too long; -EIO when it died
 * without reporting (crashed, or a sanitizer stopped it); -errno when it could not
 * be started.  *ret_status (may be NULL) gets its wait status. */
int sandbox_run(void (*fn)(void *buf), void *buf, size_t len, int timeout_ms,
		int *ret_status);

/* The same for a child that parses untrusted input: before fn it confines itself
 * with confine_parser() (no capabilities, no_new_privs, seccomp allow-list; it
 * may write only its report and stderr).  A child that cannot confine itself
 * exits SANDBOX_EXIT_CONFINE (-EIO); one the filter stops dies of SIGSYS. */
#define SANDBOX_EXIT_CONFINE	4
int sandbox_run_confined(void (*fn)(void *buf), void *buf, size_t len, int timeout_ms,
			 int *ret_status);

#endif
