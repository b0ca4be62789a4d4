// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* chain_xdp_default_disp_test.bpf.c - bpfd's XDP dispatcher for default masks
 * (xdp_dispatcher_default.bpf.c) with scripted slots, as chain_xdp_disp_test.bpf.c */
#define CHAIN_DISPATCHER_TEST 1
#define DISPATCHER_DEFAULT_MASKS 1
#include "xdp_dispatcher.bpf.c"
