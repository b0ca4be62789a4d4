/* SPDX-License-Identifier: Apache-2.0 */
/* base64.h - RFC 4648 base64 (standard alphabet, padded), as Kubernetes uses it for
 * []byte fields (kubeconfig *-data, Secret data, globaldata) */
#ifndef BPFD_CORE_BASE64_H
#define BPFD_CORE_BASE64_H

#include <stddef.h>

/* Decode text (len bytes; whitespace and newlines are skipped, padding is optional)
 * into a new buffer, NUL-terminated for convenience.  0 with *ret (free()) and
 * *ret_len, -EINVAL for a character outside the alphabet or a bad length, -ENOMEM. */
int base64_decode(const char *text, size_t len, unsigned char **ret, size_t *ret_len);

/* Encode len bytes as padded base64 into a new NUL-terminated string (free()), or
 * NULL (no memory). */
char *base64_encode(const void *data, size_t len);

#endif
