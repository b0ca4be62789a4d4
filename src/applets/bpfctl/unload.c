/* SPDX-License-Identifier: Apache-2.0 */
/* unload.c - bpfctl unload ID: detach and unload a program bpfd loaded */
#include <stdio.h>
#include <stdlib.h>

#include "applets/bpfctl/bpfctl.h"

struct unload_opts {
	struct bpfctl_common c;
};

static const struct opt unload_optv[] = {
	BPFCTL_COMMON_OPTS(struct unload_opts),
	OPT_END
};

static const struct opts_spec unload_spec = {
	.prog = "bpfctl unload",
	.usage = "bpfctl unload [OPTIONS] ID",
	.desc = "Detach and unload the program with kernel id ID, which bpfd loaded; its\n"
		"links and pins go with it, and its maps when no other program shares them.\n"
		"Prints nothing on success.",
	.optv = unload_optv,
};

int bpfctl_unload(int argc, char **argv)
{
	struct unload_opts o = { 0 };
	bpfd_v1_UnloadRequest req = bpfd_v1_UnloadRequest_init_zero;
	bpfd_v1_UnloadResponse resp = bpfd_v1_UnloadResponse_init_zero;
	uint64_t id;
	char *pos[1];
	int n;

	n = bpfctl_parse(&unload_spec, &o, argc, argv, pos, 1);
	if (n < 0)
		return opts_exit_code(n);
	if (bpfctl_common_check(&unload_spec, &o.c))
		return 2;
	if (n < 1)
		return opts_exit_code(opts_usage_error(&unload_spec, "missing program ID"));
	if (parse_u64(pos[0], UINT32_MAX, &id) || !id)
		return opts_exit_code(opts_usage_error(&unload_spec,
				"'%s' is not a program ID (a number from 1 to 4294967295)", pos[0]));
	req.id = id;
	return bpfctl_call(&o.c, "/bpfd.v1.Bpfd/Unload", bpfd_v1_UnloadRequest_fields, &req,
			   bpfd_v1_UnloadResponse_fields, &resp);
}
