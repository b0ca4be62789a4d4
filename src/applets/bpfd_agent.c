/* SPDX-License-Identifier: Apache-2.0 */
/* bpfd_agent.c - the Kubernetes node agent applet (not implemented yet: says so) */
#include <stdio.h>
#include <stdlib.h>

#include "applets/applets.h"
#include "core/base/log.h"
#include "core/base/opts.h"

struct agent_opts {
	bool version;
};

static const struct opt agent_optv[] = {
	OPT_FLAG("version", 'V', struct agent_opts, version, "print the version and exit"),
	OPT_END
};

static const struct opts_spec agent_spec = {
	.prog = "bpfd-agent",
	.usage = "bpfd-agent [OPTIONS]",
	.desc = "Kubernetes node agent: reconciles bpfd programs on this node with the cluster's\n"
		"program resources through the bpfd gRPC API.",
	.optv = agent_optv,
};

int bpfd_agent_main(int argc, char **argv)
{
	struct agent_opts o = { 0 };
	int idx;

	log_init("bpfd-agent");
	idx = opts_parse(&agent_spec, &o, argc, argv);
	if (idx < 0)
		return opts_exit_code(idx);
	if (idx < argc)
		return opts_exit_code(opts_usage_error(&agent_spec, "unexpected argument '%s'", argv[idx]));
	if (o.version) {
		printf("bpfd-agent %s\n", BPFD_VERSION);
		return EXIT_SUCCESS;
	}
	log_err("the Kubernetes agent is not implemented in this version of bpfd");
	return EXIT_FAILURE;
}
