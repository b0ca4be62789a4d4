/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_remove_images_request.c - libFuzzer target: decode of RemoveImagesRequest as the server does it */
#include "fuzz_decode.h"

FUZZ_DECODE(bpfd_v1_RemoveImagesRequest)
