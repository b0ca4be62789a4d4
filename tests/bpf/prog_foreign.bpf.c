/* SPDX-License-Identifier: Apache-2.0 */
/* prog_foreign.bpf.c - a program the tests load with bpftool, not bpfd: bpfd must
 * refuse to unload it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int foreign_count(struct __sk_buff *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
