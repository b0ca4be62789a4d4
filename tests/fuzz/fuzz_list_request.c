/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_list_request.c - libFuzzer target: decode of ListRequest as the server does it */
#include "fuzz_decode.h"

FUZZ_DECODE(bpfd_v1_ListRequest)
