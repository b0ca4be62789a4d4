/* SPDX-License-Identifier: Apache-2.0 */
/* unload.c - bpfctl unload ID: detach and unload a program bpfd loaded */
#include <stdio.h>
#include <stdlib.h>

#include "applets/bpfctl/bpfctl.h"

static const struct opts_spec unload_spec = {
	.prog = "bpfctl unload",
	.usage = "bpfctl unload [OPTIONS] ID",
	.desc = "Detach and unload the program with kernel id ID, which bpfd loaded; its\n"
		"links and pins go with it, and its maps when no other program shares them.\n"
		"Prints nothing on success.",
	.optv = bpfctl_id_optv,
};

int bpfctl_unload(int argc, char **argv)
{
	struct bpfctl_id_opts o = { 0 };
	bpfd_v1_UnloadRequest req = bpfd_v1_UnloadRequest_init_zero;
	bpfd_v1_UnloadResponse resp = bpfd_v1_UnloadResponse_init_zero;
	int err;

	err = bpfctl_parse_id(&unload_spec, &o, argc, argv, false, &req.id);
	if (err)
		return opts_exit_code(err);
	return bpfctl_call(&o.c, "/bpfd.v1.Bpfd/Unload", bpfd_v1_UnloadRequest_fields, &req,
			   bpfd_v1_UnloadResponse_fields, &resp);
}
