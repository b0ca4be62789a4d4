/* SPDX-License-Identifier: Apache-2.0 */
/* get.c - bpfctl get ID: one program, owned by bpfd or not */
#include <stdio.h>
#include <stdlib.h>

#include <pb_decode.h>

#include "applets/bpfctl/bpfctl.h"

static const struct opts_spec get_spec = {
	.prog = "bpfctl get",
	.usage = "bpfctl get [OPTIONS] ID",
	.desc = "Show the program with kernel id ID: bpfd's state when bpfd loaded it\n"
		"(\"Bpfd State\"), and what the kernel says about it (\"Kernel State\").\n"
		"Run Count and Run Time (ns) are the kernel's run statistics, counted only\n"
		"while the daemon holds them on ([monitor] stats in bpfd.toml): by default\n"
		"from the first Get or List until 60 s after the last one, so the first Get\n"
		"after a quiet spell shows the runs since then, not since the load; with\n"
		"stats = \"off\" they read \"n/a (stats off)\" (JSON null).",
	.optv = bpfctl_id_optv,
};

int bpfctl_get(int argc, char **argv)
{
	struct bpfctl_id_opts o = { 0 };
	bpfd_v1_GetRequest req = bpfd_v1_GetRequest_init_zero;
	bpfd_v1_GetResponse *resp = NULL;
	int rc;

	rc = bpfctl_parse_id(&get_spec, &o, argc, argv, true, &req.id);
	if (rc)
		return opts_exit_code(rc);
	resp = calloc(1, sizeof(*resp));
	if (!resp)
		return bpfctl_error(&o.c, "Out of memory");
	rc = bpfctl_call(&o.c, "/bpfd.v1.Bpfd/Get", bpfd_v1_GetRequest_fields, &req,
			 bpfd_v1_GetResponse_fields, resp);
	if (!rc && show_program(resp->has_info ? &resp->info : NULL, &resp->kernel_info,
				bpfctl_json(&o.c)))
		rc = bpfctl_error(&o.c, "Out of memory");
	free(resp);
	return rc;
}
