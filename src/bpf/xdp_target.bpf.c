// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* xdp_target.bpf.c - what XDP chain members are loaded against (hook_load_target):
 * one global function compat_test with the prototype of the dispatcher's slots, so
 * that the extension can then be linked into any slot of any dispatcher (freplace
 * re-attach).  The whole 11-slot dispatcher did the same job at several times the
 * verifier's work, a config map and a larger BTF, for every load.  Like the slots,
 * compat_test makes a no-op bpf_xdp_adjust_tail(): kernels since ~6.13 refuse an
 * extension that changes packet data in place of a function that does not. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int compat_test(struct xdp_md *ctx)
{
	volatile int ret = 31;

	if (!ctx)
		return XDP_ABORTED;
	bpf_xdp_adjust_tail(ctx, 0);
	return ret;
}

SEC("xdp")
int xdp_target(struct xdp_md *ctx)
{
	return compat_test(ctx);
}

char _license[] SEC("license") = "Dual BSD/GPL";
