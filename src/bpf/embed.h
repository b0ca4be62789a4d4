/* SPDX-License-Identifier: Apache-2.0 */
/* embed.h - BPF objects compiled from src/bpf/NAME.bpf.c, embedded in the binary */
#ifndef BPFD_BPF_EMBED_H
#define BPFD_BPF_EMBED_H

#include <stddef.h>

/* Find the object built from src/bpf/NAME.bpf.c: 0 with data/len set, or -ENOENT. */
int embed_find(const char *name, const void **ret_data, size_t *ret_len);

#endif
