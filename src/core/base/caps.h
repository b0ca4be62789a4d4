/* SPDX-License-Identifier: Apache-2.0 */
/* caps.h - capabilities of the calling thread: raw capget/capset, bounding set, names */
#ifndef BPFD_CORE_BASE_CAPS_H
#define BPFD_CORE_BASE_CAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CAPS_BIT(c)	(1ull << (c))

/*
 * What the daemon needs, the set of dist/bpfd.service: CAP_BPF (39),
 * CAP_DAC_READ_SEARCH (2), CAP_NET_ADMIN (12), CAP_SETPCAP (8),
 * CAP_SETGID (6) and CAP_SETUID (7: a file a local caller loads is opened with
 * its uid and groups, base/open_as.h),
 * CAP_SYS_ADMIN (21), CAP_SYS_RESOURCE (24), CAP_SYSLOG (34: /proc/kallsyms shows
 * addresses only to it; kprobe -o checks an offset against the function's length).  Numbers, not <linux/capability.h>
 * names: the kernel ABI is fixed and older headers lack CAP_BPF.
 */
#define CAPS_DAEMON	(CAPS_BIT(2) | CAPS_BIT(6) | CAPS_BIT(7) | CAPS_BIT(8) | \
			 CAPS_BIT(12) | CAPS_BIT(21) | CAPS_BIT(24) | CAPS_BIT(34) | \
			 CAPS_BIT(39))
/* Needed only during start-up, before any client byte is read: CAP_CHOWN (0)
 * gives the unix socket its group.  Dropped from every set before the threads
 * split (daemon.c privsep()). */
#define CAPS_STARTUP	CAPS_BIT(0)

/* The three sets of one thread, one bit per capability number. */
struct caps {
	uint64_t eff;
	uint64_t prm;
	uint64_t inh;
};

/* What /proc/self/task/TID/status says about a thread. */
struct caps_status {
	struct caps c;
	uint64_t bnd;
	uint64_t amb;
	int no_new_privs;	/* -1: the kernel does not say */
	int seccomp;		/* 0 none, 1 strict, 2 filter; -1: not said */
};

/* Capabilities of the calling thread (capget(2)): 0 or -errno. */
int caps_get(struct caps *ret);

/* Set the calling thread's capabilities (capset(2)).  Capabilities are per
 * thread in Linux and capset changes only the caller: the other threads keep
 * theirs.  A set can only shrink, except eff within prm.  0 or -errno. */
int caps_set(const struct caps *c);

/*
 * Drop from the calling thread's bounding set every capability not in keep,
 * and clear its ambient set: nothing outside keep can come back through
 * execve().  The bounding set is per thread too and inherited by the threads
 * and processes created after: call it before creating any.  Needs
 * CAP_SETPCAP while something is left to drop.  0 or -errno.
 */
int caps_bound(uint64_t keep);

/* Keep at most keep in the calling thread: eff = prm = (prm & keep), inh = 0.
 * 0 or -errno. */
int caps_limit(uint64_t keep);

/*
 * Drop every capability of the calling thread for good: capset to all zero,
 * after locking the securebits so that uid 0 regains nothing at execve()
 * (SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP, both locked; needs CAP_SETPCAP,
 * skipped without it) and setting no_new_privs.  0 or -errno.
 */
int caps_drop_all(void);

/* Read thread tid of this process (0: the caller) from /proc.  0 or -errno. */
int caps_status_read(pid_t tid, struct caps_status *ret);

/* "cap_bpf,cap_net_admin" for mask, "none" for 0; unknown bits as "cap_N".
 * Returns the length it needed (truncated like snprintf). */
size_t caps_names(uint64_t mask, char *buf, size_t len);

#endif
