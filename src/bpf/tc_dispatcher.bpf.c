// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tc_dispatcher.bpf.c - TC (cls_bpf, direct action) dispatcher: bpfd/bpfman layout
 *
 * 84-byte .rodata config {num_progs_enabled; chain_call_actions[10]; run_prios[10]},
 * BTF tc_metadata/dispatcher_version = 1, global __noinline slots prog0..prog9 and
 * compat_test replaced by freplace programs.  Slot i runs when num_progs_enabled > i;
 * the chain continues when bit (verdict + 1) is set in chain_call_actions[i] (so
 * TC_ACT_UNSPEC = -1 is bit 0); otherwise the verdict is returned.  After the last
 * slot the packet goes on with TC_ACT_OK.  An empty slot returns 30
 * ("dispatcher_return", bit 31).
 *
 * The stubs make a bpf_skb_pull_data(skb, 0) call so that extensions changing packet
 * data are accepted (kernels since ~6.13 compare that property); it runs only for an
 * enabled but empty slot.  -DCHAIN_DISPATCHER_TEST: see xdp_dispatcher.bpf.c. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define MAX_DISPATCHER_ACTIONS	10
#define TC_DISPATCHER_RETVAL	30
#define TC_DISPATCHER_VERSION	1

struct tc_dispatcher_config {
	__u8 num_progs_enabled;
	__u32 chain_call_actions[MAX_DISPATCHER_ACTIONS];
	__u32 run_prios[MAX_DISPATCHER_ACTIONS];
};

static volatile const struct tc_dispatcher_config conf = {};

__uint(dispatcher_version, TC_DISPATCHER_VERSION) SEC("tc_metadata");

#ifdef CHAIN_DISPATCHER_TEST
volatile const __u32 test_ret[MAX_DISPATCHER_ACTIONS + 1] = {};
__u64 test_calls[MAX_DISPATCHER_ACTIONS + 1] = {};
/* test_ret[i]: 0 = empty slot, else verdict + 2 (so that -1 is expressible) */
#define STUB_RET(i)							\
	({								\
		__sync_fetch_and_add(&test_calls[i], 1);		\
		test_ret[i] ? (int)test_ret[i] - 2 : TC_DISPATCHER_RETVAL; \
	})
#else
#define STUB_RET(i)	TC_DISPATCHER_RETVAL
#endif

#define SLOT(name, i)							\
__attribute__((noinline)) int name(struct __sk_buff *skb)		\
{									\
	volatile int ret = STUB_RET(i);					\
									\
	if (!skb)							\
		return TC_ACT_UNSPEC;					\
	bpf_skb_pull_data(skb, 0);					\
	return ret;							\
}

SLOT(prog0, 0)
SLOT(prog1, 1)
SLOT(prog2, 2)
SLOT(prog3, 3)
SLOT(prog4, 4)
SLOT(prog5, 5)
SLOT(prog6, 6)
SLOT(prog7, 7)
SLOT(prog8, 8)
SLOT(prog9, 9)
SLOT(compat_test, 10)

#define CALL(fn, i)							\
	do {								\
		if (num_progs_enabled < (i) + 1)			\
			goto out;					\
		ret = fn(skb);						\
		if (!((1U << (ret + 1)) & conf.chain_call_actions[(i) % 10])) \
			return ret;					\
	} while (0)

SEC("tc")
int tc_dispatcher(struct __sk_buff *skb)
{
	__u8 num_progs_enabled = conf.num_progs_enabled;
	int ret;

	CALL(prog0, 0);
	CALL(prog1, 1);
	CALL(prog2, 2);
	CALL(prog3, 3);
	CALL(prog4, 4);
	CALL(prog5, 5);
	CALL(prog6, 6);
	CALL(prog7, 7);
	CALL(prog8, 8);
	CALL(prog9, 9);
	CALL(compat_test, 10);
out:
	return TC_ACT_OK;
}

char _license[] SEC("license") = "Dual BSD/GPL";
