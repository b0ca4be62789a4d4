// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* probe.bpf.c - one tiny program per kernel feature `bpfd --probe` tries.
 * probe.c loads each program on its own (autoload off for the others) and sets
 * the attach points at run time.  Each counts its runs in hits[] so the probe
 * can check that an attached program really ran. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* Indexes into hits[]; probe.c uses the same numbers. */
#define HIT_TRACEPOINT	0
#define HIT_KPROBE	1
#define HIT_UPROBE	2
#define HIT_FENTRY	3

__u64 hits[4];

/* The freplace target: a global (separately verified) function.  The volatile
 * keeps clang from folding the call away. */
__attribute__((noinline)) int probe_target(struct xdp_md *ctx)
{
	volatile int ret = XDP_PASS;

	if (!ctx)
		return XDP_ABORTED;
	return ret;
}

SEC("xdp")
int probe_xdp(struct xdp_md *ctx)
{
	return probe_target(ctx);
}

/* Replaces probe_target: test-running probe_xdp then returns XDP_DROP. */
SEC("freplace")
int probe_freplace(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("tc")
int probe_tc(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("tracepoint")
int probe_tracepoint(void *ctx)
{
	__sync_fetch_and_add(&hits[HIT_TRACEPOINT], 1);
	return 0;
}

SEC("kprobe")
int probe_kprobe(void *ctx)
{
	__sync_fetch_and_add(&hits[HIT_KPROBE], 1);
	return 0;
}

SEC("uprobe")
int probe_uprobe(void *ctx)
{
	__sync_fetch_and_add(&hits[HIT_UPROBE], 1);
	return 0;
}

SEC("fentry")
int probe_fentry(unsigned long long *ctx)
{
	__sync_fetch_and_add(&hits[HIT_FENTRY], 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
