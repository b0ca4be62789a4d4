// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* chain_floor_xdp.bpf.c - the floor under a chain of ten chain_xdp members, for the
 * dispatch bench: the ten members' bodies (each its own counter map and verdict, as
 * ten loaded members have) run by one program, with only what a chain needs between
 * them (stop at the first verdict other than XDP_PASS) and no dispatcher.
 * floor_inline runs the bodies inline; floor_calls calls each as a function of its
 * own, a call and a return per member as a dispatcher's slot has, without the slot's
 * checks or the jump freplace adds.  A dispatcher runs the same bodies with more
 * between them: it cannot cost less than these. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "chain_floor.h"

volatile __s32 verdict[10] = {
	XDP_PASS, XDP_PASS, XDP_PASS, XDP_PASS, XDP_PASS,
	XDP_PASS, XDP_PASS, XDP_PASS, XDP_PASS, XDP_PASS,
};

#define COUNTER(i)							\
	struct {							\
		__uint(type, BPF_MAP_TYPE_ARRAY);			\
		__uint(max_entries, 1);					\
		__type(key, __u32);					\
		__type(value, __u64);					\
	} counter##i SEC(".maps")

COUNTER(0); COUNTER(1); COUNTER(2); COUNTER(3); COUNTER(4);
COUNTER(5); COUNTER(6); COUNTER(7); COUNTER(8); COUNTER(9);

/* chain_xdp.bpf.c's count() for member i */
#define BODY(i) ({							\
	__u32 k = 0;							\
	__u64 *v = bpf_map_lookup_elem(&counter##i, &k);		\
	if (v)								\
		__sync_fetch_and_add(v, 1);				\
	verdict[i];							\
})

/* global, checked by the verifier on its own; the empty asm keeps the ctx argument
 * (a dispatcher passes it) without adding an instruction */
#define MEMBER(i)							\
	__noinline int member##i(struct xdp_md *ctx)			\
	{								\
		asm volatile("" : : "r"(ctx));				\
		return BODY(i);						\
	}

MEMBER(0) MEMBER(1) MEMBER(2) MEMBER(3) MEMBER(4)
MEMBER(5) MEMBER(6) MEMBER(7) MEMBER(8) MEMBER(9)

#define CALL_MEMBER(i)	member##i(ctx)

SEC("xdp")
int floor_inline(struct xdp_md *ctx)
{
	CHAIN10(BODY);
}

SEC("xdp")
int floor_calls(struct xdp_md *ctx)
{
	CHAIN10(CALL_MEMBER);
}

char _license[] SEC("license") = "Dual BSD/GPL";
