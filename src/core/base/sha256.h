/* SPDX-License-Identifier: Apache-2.0 */
/* sha256.h - SHA-256 of a buffer in one call (mbedtls), for code below src/core/image */
#ifndef BPFD_CORE_SHA256_H
#define BPFD_CORE_SHA256_H

#include <stddef.h>

#define SHA256_LEN	32

/* ret[0..SHA256_LEN) = SHA-256 of data[0..len). */
void sha256(const void *data, size_t len, unsigned char ret[SHA256_LEN]);

#endif
