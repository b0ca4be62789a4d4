/* SPDX-License-Identifier: Apache-2.0 */
/* prog_counter.bpf.c - counters for the program tests: every program adds the
 * global `step` to counter[0] (so the global data shows in the count), one program
 * per kind bpfd attaches.  The tests trigger getppid() (tracepoint, kprobes,
 * fentry/fexit) or call bpfd_test_func() in a binary they build (uprobes). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u64 step = 1;

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
		__sync_fetch_and_add(v, step);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int tp_count(void *ctx)
{
	return count();
}

SEC("kprobe")
int kp_count(void *ctx)
{
	return count();
}

SEC("kretprobe")
int krp_count(void *ctx)
{
	return count();
}

SEC("uprobe")
int up_count(void *ctx)
{
	return count();
}

SEC("uretprobe")
int urp_count(void *ctx)
{
	return count();
}

SEC("fentry")
int fe_count(void *ctx)
{
	return count();
}

SEC("fexit")
int fx_count(void *ctx)
{
	return count();
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	count();
	return XDP_PASS;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	count();
	return 0;	/* TC_ACT_OK */
}

/* for TCX: TCX_NEXT (-1), so the classic tc programs of the hook still run */
SEC("tc")
int tcx_count(struct __sk_buff *skb)
{
	count();
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
