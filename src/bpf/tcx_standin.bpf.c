// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tcx_standin.bpf.c - the stand-in that holds a TCX program's new place while bpfd
 * moves it (tcx.c, tcx_modify()): it tail-calls the program in slot 0 of its
 * program array, so a packet passing the stand-in runs exactly that program and
 * gets its verdict.  An empty slot (never while attached) continues the chain. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} standin_target SEC(".maps");

SEC("tc")
int tcx_standin(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &standin_target, 0);
	return -1;	/* TCX_NEXT */
}

char _license[] SEC("license") = "Dual BSD/GPL";
