// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* chain_xdp.bpf.c - XDP chain members for the dispatcher tests: each counts the
 * packets it sees in counter[0] and returns the global `verdict` (set per instance
 * with obj_set_global / bpfctl -g verdict=...).  Three functions with the same body
 * and different names, for the name tie-break of the run order. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* in .data: set at load (-g verdict=...) or changed later through the map */
volatile __s32 verdict = XDP_PASS;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps");

static __always_inline int count(void)
{
	__u32 k = 0;
	__u64 *v;

	v = bpf_map_lookup_elem(&counter, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	return verdict;
}

SEC("xdp")
int chain_xdp(struct xdp_md *ctx)
{
	return count();
}

SEC("xdp")
int chain_xdp_a(struct xdp_md *ctx)
{
	return count();
}

SEC("xdp")
int chain_xdp_b(struct xdp_md *ctx)
{
	return count();
}

char _license[] SEC("license") = "Dual BSD/GPL";
