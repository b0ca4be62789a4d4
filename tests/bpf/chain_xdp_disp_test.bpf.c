// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* chain_xdp_disp_test.bpf.c - bpfd's XDP dispatcher with scripted slots (test_ret[],
 * test_calls[]): its chain logic under BPF_PROG_TEST_RUN on kernels without freplace */
#define CHAIN_DISPATCHER_TEST 1
#include "xdp_dispatcher.bpf.c"
