/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_unload_request.c - libFuzzer target: decode of UnloadRequest as the server does it */
#include "fuzz_decode.h"

FUZZ_DECODE(bpfd_v1_UnloadRequest)
