/* SPDX-License-Identifier: Apache-2.0 */
/* embed.c - table of the embedded BPF objects (symbols from build/gen/bpf_objs.S) */
#include <errno.h>
#include <string.h>

#include "bpf/embed.h"

#define EMBED(n) extern const char bpfd_embed_##n##_start[], bpfd_embed_##n##_end[];
#include "gen/bpf_objs.inc"
#undef EMBED

static const struct {
	const char *name;
	const char *start;
	const char *end;
} embedded[] = {
#define EMBED(n) { #n, bpfd_embed_##n##_start, bpfd_embed_##n##_end },
#include "gen/bpf_objs.inc"
#undef EMBED
	{ NULL, NULL, NULL }
};

int embed_find(const char *name, const void **ret_data, size_t *ret_len)
{
	size_t i;

	for (i = 0; embedded[i].name; i++) {
		if (strcmp(embedded[i].name, name))
			continue;
		*ret_data = embedded[i].start;
		*ret_len = embedded[i].end - embedded[i].start;
		return 0;
	}
	return -ENOENT;
}
