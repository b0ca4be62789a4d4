/* SPDX-License-Identifier: GPL-2.0 */
/* grpc_sock.bpf.c - a socket filter with one map: something known for List/Get tests
 * and the List benchmark to find in the kernel (loaded with bpftool, not bpfd) */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} grpc_cnt SEC(".maps");

SEC("socket")
int grpc_sock(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&grpc_cnt, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
