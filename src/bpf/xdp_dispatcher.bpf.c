// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* xdp_dispatcher.bpf.c - XDP dispatcher, libxdp multi-prog protocol version 2
 *
 * Layout that Debian 12's libxdp 1.3.1 recognises (xdp-loader status/load/unload):
 * program name xdp_dispatcher, ONE map (the frozen .rodata config, 124 bytes, magic
 * 236, version 2), BTF DATASEC xdp_metadata with dispatcher_version = 2, global
 * __noinline slot functions prog0..prog9 that freplace (BPF_PROG_TYPE_EXT) programs
 * replace, and compat_test (only called with num_progs_enabled >= 11, which libxdp
 * never writes; kept as libxdp's object has it.  bpfd loads members against the
 * compat_test of the small xdp_target.bpf.c instead).
 *
 * Slot i runs when num_progs_enabled > i; if its verdict's bit is not set in
 * chain_call_actions[i] the dispatcher returns it, otherwise the next slot runs;
 * after the last slot the packet passes.  An empty slot returns 31, which bit 31
 * ("dispatcher_return") skips.
 *
 * Per packet: the verifier reads the frozen .rodata, so it keeps only the way each
 * test of CALL() goes (see there).  An enabled slot costs the call, its argument and
 * one compare of the verdict with XDP_PASS - 3 instructions - in the build for chains
 * whose every mask is the default (xdp_dispatcher_default.bpf.c: this file with
 * DISPATCHER_DEFAULT_MASKS, no mask read; bpfd loads it for such chains, xdp_hook.c);
 * in this build 5 with the default mask (the mask's load stays) and 7 with another
 * (-mcpu=v3, the Makefile: a 32-bit shift of the mask by the verdict, no
 * zero-extension first; a verdict above 31, an invalid action, is returned as it is,
 * as a 64-bit (1 << ret) test did).  libxdp's object spends 12.  The slots that are
 * not enabled are dropped.  A lone member whose verdict passes unchanged replaces
 * xdp_dispatcher itself (disp.c), as with libxdp: no dispatcher code runs at all then.
 *
 * Each stub makes a no-op bpf_xdp_adjust_tail(ctx, 0) call: kernels since ~6.13
 * refuse an extension that changes packet data in place of a function that does not.
 *
 * Built with -DCHAIN_DISPATCHER_TEST (tests/bpf/chain_xdp_disp_test.bpf.c and
 * chain_xdp_default_disp_test.bpf.c) the stubs
 * return test_ret[i] - 1 (0 = empty slot) and count their calls in test_calls[]:
 * chain semantics can then be tested where the kernel refuses freplace. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_DISPATCHER_ACTIONS	10
#define XDP_DISPATCHER_RETVAL	31
#define XDP_DISPATCHER_MAGIC	236
#define XDP_DISPATCHER_VERSION	2

struct xdp_dispatcher_config {
	__u8 magic;			/* XDP_DISPATCHER_MAGIC */
	__u8 dispatcher_version;	/* XDP_DISPATCHER_VERSION */
	__u8 num_progs_enabled;		/* slots called: 0..10 */
	__u8 is_xdp_frags;		/* loaded with BPF_F_XDP_HAS_FRAGS */
	__u32 chain_call_actions[MAX_DISPATCHER_ACTIONS];	/* proceed-on masks */
	__u32 run_prios[MAX_DISPATCHER_ACTIONS];		/* priorities */
	__u32 program_flags[MAX_DISPATCHER_ACTIONS];		/* frags per slot */
};

/* Filled by bpfd before load; .rodata is frozen, so the verifier removes the slots
 * that are not enabled. */
static volatile const struct xdp_dispatcher_config conf = {};

/* BTF-only metadata read by libxdp: DATASEC xdp_metadata, VAR dispatcher_version. */
__uint(dispatcher_version, XDP_DISPATCHER_VERSION) SEC("xdp_metadata");

#ifdef CHAIN_DISPATCHER_TEST
volatile const __u32 test_ret[MAX_DISPATCHER_ACTIONS + 1] = {};
__u64 test_calls[MAX_DISPATCHER_ACTIONS + 1] = {};
#define STUB_RET(i)							\
	({								\
		__sync_fetch_and_add(&test_calls[i], 1);		\
		test_ret[i] ? (int)test_ret[i] - 1 : XDP_DISPATCHER_RETVAL; \
	})
#else
#define STUB_RET(i)	XDP_DISPATCHER_RETVAL
#endif

#define SLOT(name, i)							\
__attribute__((noinline)) int name(struct xdp_md *ctx)			\
{									\
	volatile int ret = STUB_RET(i);					\
									\
	if (!ctx)							\
		return XDP_ABORTED;					\
	bpf_xdp_adjust_tail(ctx, 0);					\
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

/* The default proceed-on (pass and dispatcher_return, chain.h CHAIN_XDP_DEFAULT_MASK) */
#define DEFAULT_MASK	((1U << XDP_PASS) | (1U << XDP_DISPATCHER_RETVAL))

/* After slot i returned ret: return it unless the chain proceeds.  The mask is known
 * to the verifier: with the default one, only the compares with XDP_PASS and 31 stay. */
#define STOP_UNLESS_DEFAULT_PROCEEDS()					\
	do {								\
		if (__builtin_expect(ret != XDP_PASS, 0) &&		\
		    ret != XDP_DISPATCHER_RETVAL)			\
			return ret;					\
	} while (0)

#ifdef DISPATCHER_DEFAULT_MASKS
/* xdp_dispatcher_default.bpf.c: loaded only when every enabled slot has the default
 * mask (chain_xdp_default_masks(), xdp_hook.c), so the masks need not be read */
#define STOP_UNLESS_PROCEEDS(i)	STOP_UNLESS_DEFAULT_PROCEEDS()
#else
#define STOP_UNLESS_PROCEEDS(i)						\
	do {								\
		__u32 mask = conf.chain_call_actions[(i) % 10];		\
									\
		if (mask == DEFAULT_MASK)				\
			STOP_UNLESS_DEFAULT_PROCEEDS();			\
		else if ((__u32)ret > 31 || !((mask >> ret) & 1))	\
			return ret;					\
	} while (0)
#endif

/* Slot i: its tests read frozen .rodata, so the verifier knows which way each goes
 * and drops the other way - when that way's first instruction is reached from nowhere
 * else.  A slot that is not enabled therefore leaves by its own exit (the empty asm
 * puts i in a register: no two exits are the same code, and the compiler cannot merge
 * them into one that the enabled slots' tests would share); and a slot with the
 * default mask tests its verdict against XDP_PASS (then 31) instead of shifting the
 * mask.  Per enabled slot the packet meets the call, its argument, the mask's load
 * (none in xdp_dispatcher_default) and one compare. */
#define CALL(fn, i)							\
	do {								\
		if (num_progs_enabled < (i) + 1) {			\
			asm volatile("" : : "r"(i));			\
			return XDP_PASS;				\
		}							\
		ret = fn(ctx);						\
		STOP_UNLESS_PROCEEDS(i);				\
	} while (0)

SEC("xdp")
int xdp_dispatcher(struct xdp_md *ctx)
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
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
