/* SPDX-License-Identifier: Apache-2.0 */
/* obj_kind.c - program kind <-> name */
#include <string.h>

#include "core/base/obj_kind.h"

static const char *const kind_names[] = {
	[OBJ_KIND_UNKNOWN] = "unknown",
	[OBJ_KIND_XDP] = "xdp",
	[OBJ_KIND_TC] = "tc",
	[OBJ_KIND_TCX] = "tcx",
	[OBJ_KIND_TRACEPOINT] = "tracepoint",
	[OBJ_KIND_KPROBE] = "kprobe",
	[OBJ_KIND_KRETPROBE] = "kretprobe",
	[OBJ_KIND_UPROBE] = "uprobe",
	[OBJ_KIND_URETPROBE] = "uretprobe",
	[OBJ_KIND_FENTRY] = "fentry",
	[OBJ_KIND_FEXIT] = "fexit",
};

#define N_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))

const char *obj_kind_str(enum obj_kind k)
{
	if ((size_t)k >= N_KINDS)
		return "unknown";
	return kind_names[k];
}

enum obj_kind obj_kind_parse(const char *s)
{
	size_t i;

	for (i = OBJ_KIND_UNKNOWN + 1; i < N_KINDS; i++)
		if (!strcmp(kind_names[i], s))
			return (enum obj_kind)i;
	return OBJ_KIND_UNKNOWN;
}
