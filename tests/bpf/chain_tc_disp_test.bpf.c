// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* chain_tc_disp_test.bpf.c - bpfd's TC dispatcher with scripted slots (test_ret[] =
 * verdict + 2, test_calls[]): its chain logic under BPF_PROG_TEST_RUN */
#define CHAIN_DISPATCHER_TEST 1
#include "tc_dispatcher.bpf.c"
