/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_reload_request.c - libFuzzer target: decode of ReloadRequest as the server does it */
#include "fuzz_decode.h"

FUZZ_DECODE(bpfd_v1_ReloadRequest)
