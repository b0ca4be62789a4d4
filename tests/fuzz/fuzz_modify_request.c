/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_modify_request.c - libFuzzer target: decode of ModifyRequest as the server does it */
#include "fuzz_decode.h"

FUZZ_DECODE(bpfd_v1_ModifyRequest)
