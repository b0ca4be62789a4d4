/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_pull_bytecode_request.c - libFuzzer target: decode of PullBytecodeRequest as the server does it */
#include "fuzz_decode.h"

FUZZ_DECODE(bpfd_v1_PullBytecodeRequest)
