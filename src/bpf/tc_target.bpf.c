// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tc_target.bpf.c - what TC chain members are loaded against (hook_load_target): one
 * global function compat_test with the prototype of the TC dispatcher's slots (see
 * xdp_target.bpf.c); its no-op bpf_skb_pull_data() matches the slots' own. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int compat_test(struct __sk_buff *skb)
{
	volatile int ret = 30;

	if (!skb)
		return TC_ACT_UNSPEC;
	bpf_skb_pull_data(skb, 0);
	return ret;
}

SEC("tc")
int tc_target(struct __sk_buff *skb)
{
	return compat_test(skb);
}

char _license[] SEC("license") = "Dual BSD/GPL";
