/* SPDX-License-Identifier: Apache-2.0 */
/* probe.h - what the running kernel lets bpfd do, found by trying each feature.
 * Every probe really loads and attaches something; nothing is inferred from the
 * kernel version.  Network probes run in a private network namespace (a forked
 * child), so the caller's namespace, pins and links are never touched. */
#ifndef BPFD_BPF_PROBE_H
#define BPFD_BPF_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"

enum probe_feature {
	PROBE_BPFFS,		/* bpffs can be mounted (and whether at /sys/fs/bpf) */
	PROBE_BTF,		/* /sys/kernel/btf/vmlinux parses */
	PROBE_XDP,		/* XDP program attached to a veth (native, else skb) */
	PROBE_TC,		/* clsact qdisc + cls_bpf direct-action filter */
	PROBE_TCX,		/* bpf_link with attach type BPF_TCX_INGRESS (6.6+) */
	PROBE_TRACEPOINT,	/* perf link on a tracepoint */
	PROBE_KPROBE,		/* perf link on a kernel function */
	PROBE_UPROBE,		/* perf link on a function of /proc/self/exe */
	PROBE_FREPLACE,		/* BPF_PROG_TYPE_EXT on a global function of an XDP program */
	PROBE_FENTRY,		/* BPF_TRACE_FENTRY on a kernel function found in BTF */
	PROBE_XDP_LINK,		/* bpf_link_create(BPF_XDP) (5.9+) */
	PROBE_STATS,		/* bpf_enable_stats(BPF_STATS_RUN_TIME) */
	__PROBE_MAX
};

struct probe_status {
	bool available;
	int err;		/* positive errno when not available, else 0 */
	char detail[192];	/* what was tried, or what the absence means for users */
};

struct probe_result {
	char kernel[65];	/* uname -r */
	uint32_t duration_us;	/* how long probe_run() took */
	bool bpffs_mounted;	/* /sys/fs/bpf is a bpffs */
	bool tracefs_mounted;	/* /sys/kernel/tracing (or debugfs tracing) is there */
	bool xdp_native;	/* the XDP probe worked in native (driver) mode */
	struct probe_status f[__PROBE_MAX];
};

/* Probe every feature into ret (zeroed first).  Forks a child that unshares its
 * network and mount namespaces, so call it before starting threads.  Returns 0
 * when the probe ran (features may still be missing: see probe_has()), or -errno
 * when it could not run at all (fork failed, the child crashed). */
int probe_run(struct probe_result *ret);

/* Did the probe find feature f? */
bool probe_has(const struct probe_result *r, enum probe_feature f);
/* The stable name of f ("xdp_link", ...), as in `bpfd --probe --json`. */
const char *probe_feature_name(enum probe_feature f);
/* The feature called name, or -ENOENT. */
int probe_feature_from_name(const char *name);
/* One line for the daemon's start-up log, e.g. "kernel 6.1.0: bpffs btf xdp ...;
 * missing: tcx (EINVAL)".  Returns the length snprintf() would write. */
int probe_summary(const struct probe_result *r, char *buf, size_t len);

/* `bpfd --selftest-xdp`: in a private network namespace create a veth pair via
 * netlink, load the embedded xdp_pass program, attach it (native, else skb),
 * check with bpf_xdp_query() that it is the attached program, detach.  On success
 * ret_mode is "native" or "skb" and ret_id the program id; em says what failed. */
int probe_selftest_xdp(const char **ret_mode, uint32_t *ret_id, struct errmsg *em);

#endif
