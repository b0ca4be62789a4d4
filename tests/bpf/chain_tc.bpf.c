// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* chain_tc.bpf.c - TC and TCX chain members for the dispatcher tests: count packets
 * in counter[0], return the global `verdict` (TC_ACT_* for tc; for tcx -1 = TCX_NEXT,
 * 0 = TCX_PASS, 2 = TCX_DROP). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* in .data: set at load (-g verdict=...) or changed later through the map */
volatile __s32 verdict = TC_ACT_PIPE;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps");

SEC("tc")
int chain_tc(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *v;

	v = bpf_map_lookup_elem(&counter, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	return verdict;
}

char _license[] SEC("license") = "Dual BSD/GPL";
