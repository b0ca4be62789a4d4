/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_list_images_request.c - libFuzzer target: decode of ListImagesRequest as the server does it */
#include "fuzz_decode.h"

FUZZ_DECODE(bpfd_v1_ListImagesRequest)
