/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - bpfctl: the command-line client of bpfd; command table and dispatch */
#include <stdio.h>

#include "applets/applets.h"
#include "applets/bpfctl/bpfctl.h"
#include "core/log.h"
#include "core/opts.h"

static const struct cmd bpfctl_cmds[] = {
	{ "get", bpfctl_get, "show one program (bpfd's state and the kernel's) by kernel id" },
	{ "load-from-file", bpfctl_load_from_file, "load a program from an ELF file and attach it" },
	{ "list", bpfctl_list, "list the programs loaded by bpfd (-a: every program in the kernel)" },
	{ "unload", bpfctl_unload, "detach and unload a program bpfd loaded, by kernel id" },
	{ NULL, NULL, NULL }
};

int bpfctl_main(int argc, char **argv)
{
	log_init("bpfctl");
	return cmd_dispatch("bpfctl",
			    "Command-line client of the bpfd daemon: load, list, inspect and unload\n"
			    "eBPF programs through the bpfd gRPC API.",
			    bpfctl_cmds, argc, argv);
}
