// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* chain_floor_disp.bpf.c - the least dispatcher of the libxdp protocol, for the
 * dispatch bench (tests/tools/chain_floor.c loads it and its members): ten global
 * slot functions prog0..prog9 that freplace members replace, called in turn, and
 * after each the least test a chain needs (stop at the first verdict other than
 * XDP_PASS); no config, no proceed-on masks, no slot count.  A dispatcher of that
 * protocol has at least this between its members. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "chain_floor.h"

/* volatile: the caller must not fold a stub's verdict in (as in libxdp's stubs) */
#define SLOT(i)								\
	__noinline int prog##i(struct xdp_md *ctx)			\
	{								\
		volatile int ret = XDP_PASS;				\
									\
		if (!ctx)						\
			return XDP_ABORTED;				\
		return ret;						\
	}

SLOT(0) SLOT(1) SLOT(2) SLOT(3) SLOT(4) SLOT(5) SLOT(6) SLOT(7) SLOT(8) SLOT(9)

#define CALL_SLOT(i)	prog##i(ctx)

SEC("xdp")
int floor_disp(struct xdp_md *ctx)
{
	CHAIN10(CALL_SLOT);
}

char _license[] SEC("license") = "Dual BSD/GPL";
