/* SPDX-License-Identifier: Apache-2.0 */
/* prog_bad.bpf.c - a program the verifier rejects (hash map value used without the
 * NULL check): the tests expect the verifier log's tail in the error. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bad_counter SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int bad_count(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&bad_counter, &k);

	*v += 1;	/* no NULL check: rejected */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
