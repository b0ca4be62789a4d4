/* SPDX-License-Identifier: Apache-2.0 */
/* digest.h - "sha256:<hex>" of a buffer, computed in the test itself (mbedtls directly,
 * not the image store's code), for the image unit tests */
#ifndef BPFD_TESTS_DIGEST_H
#define BPFD_TESTS_DIGEST_H

#include <stdio.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "core/image/manifest.h"

static inline void digest_of(const char *data, size_t len, char out[IMAGE_DIGEST_LEN + 1])
{
	unsigned char sum[32];
	int i;

	mbedtls_sha256_ret((const unsigned char *)data, len, sum, 0);
	strcpy(out, "sha256:");
	for (i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", sum[i]);
}

#endif
