/* SPDX-License-Identifier: Apache-2.0 */
/* get.c - bpfctl get ID: one program, owned by bpfd or not */
#include <stdio.h>
#include <stdlib.h>

#include <pb_decode.h>

#include "applets/bpfctl/bpfctl.h"

struct get_opts {
	struct bpfctl_common c;
};

static const struct opt get_optv[] = {
	BPFCTL_COMMON_OPTS(struct get_opts),
	OPT_END
};

static const struct opts_spec get_spec = {
	.prog = "bpfctl get",
	.usage = "bpfctl get [OPTIONS] ID",
	.desc = "Show the program with kernel id ID: bpfd's state when bpfd loaded it\n"
		"(\"Bpfd State\"), and what the kernel says about it (\"Kernel State\").",
	.optv = get_optv,
};

int bpfctl_get(int argc, char **argv)
{
	struct get_opts o = { 0 };
	bpfd_v1_GetRequest req = bpfd_v1_GetRequest_init_zero;
	bpfd_v1_GetResponse *resp = NULL;
	uint64_t id;
	char *pos[1];
	int n, rc;

	n = bpfctl_parse(&get_spec, &o, argc, argv, pos, 1);
	if (n < 0)
		return opts_exit_code(n);
	if (bpfctl_common_check(&get_spec, &o.c))
		return 2;
	if (n < 1)
		return opts_exit_code(opts_usage_error(&get_spec, "missing program ID"));
	if (parse_u64(pos[0], UINT32_MAX, &id))
		return opts_exit_code(opts_usage_error(&get_spec,
				"'%s' is not a program ID (a number up to 4294967295)", pos[0]));
	req.id = id;
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
