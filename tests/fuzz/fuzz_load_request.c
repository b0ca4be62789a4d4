/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_load_request.c - libFuzzer target: decode of LoadRequest as the server does it */
#include "fuzz_decode.h"

FUZZ_DECODE(bpfd_v1_LoadRequest)
