/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - bpfctl: the command-line client of bpfd; command table and dispatch */
#include <stdio.h>
#include <string.h>

#include "applets/applets.h"
#include "applets/bpfctl/bpfctl.h"
#include "core/config/config.h"
#include "core/base/log.h"
#include "core/base/opts.h"

static const struct cmd bpfctl_cmds[] = {
	{ "events", bpfctl_events, "print load, unload, chain and interface events as they happen" },
	{ "get", bpfctl_get, "show one program (bpfd's state and the kernel's) by kernel id" },
	{ "images", bpfctl_images, "list the daemon's local image store, or remove images from it" },
	{ "load-from-file", bpfctl_load_from_file, "load a program from an ELF file and attach it" },
	{ "load-from-image", bpfctl_load_from_image,
	  "load a program from an eBPF bytecode image (OCI registry) and attach it" },
	{ "list", bpfctl_list, "list the programs loaded by bpfd (-a: every program in the kernel)" },
	{ "modify", bpfctl_modify, "change a program's priority, proceed-on or metadata in place" },
	{ "pull-bytecode", bpfctl_pull_bytecode,
	  "fetch an eBPF bytecode image into the daemon's local store" },
	{ "reload", bpfctl_reload, "re-read programs.d (as SIGHUP) and show what changed" },
	{ "save", bpfctl_save, "write the programs bpfd holds as a programs.d file" },
	{ "top", bpfctl_top, "live view of the busiest programs: events/s, ns per run, CPU %" },
	{ "unload", bpfctl_unload, "detach and unload a program bpfd loaded, by kernel id" },
	{ NULL, NULL, NULL }
};

/* Connection and output options may come before the command ("bpfctl --endpoint
 * URL list"): move them after it, where the command's option table takes them. */
static void hoist_common_opts(int argc, char **argv)
{
	static const char *const with_arg[] = { "--endpoint", "--ca", "--cert", "--key",
						"--output", "-o" };
	char *cmd;
	int c = 1, n, j;
	size_t a, l;

	while (c < argc && argv[c][0] == '-') {
		n = 0;
		if (!strcmp(argv[c], "-j") || !strcmp(argv[c], "--json"))
			n = 1;
		for (a = 0; !n && a < sizeof(with_arg) / sizeof(with_arg[0]); a++) {
			l = strlen(with_arg[a]);
			if (!strncmp(argv[c], with_arg[a], l) && argv[c][l] == '=')
				n = 1;
			else if (!strcmp(argv[c], with_arg[a]))
				n = 2;
		}
		if (!n)
			return;		/* --help, --version, unknown: cmd_dispatch decides */
		c += n;
	}
	if (c == 1 || c >= argc)
		return;
	cmd = argv[c];
	for (j = c; j > 1; j--)
		argv[j] = argv[j - 1];
	argv[1] = cmd;
}

int bpfctl_main(int argc, char **argv)
{
	log_init("bpfctl");
	hoist_common_opts(argc, argv);
	return cmd_dispatch("bpfctl",
			    "Command-line client of the bpfd daemon: load, list, inspect, modify and\n"
			    "unload eBPF programs through the bpfd gRPC API.\n"
			    "\n"
			    "The daemon is found at the first of: --endpoint URL; $BPFD_ENDPOINT; the\n"
			    "enabled unix endpoint of the daemon's configuration file ($BPFD_CONFIG,\n"
			    "else " BPFD_CONFIG_FILE "), with the daemon's defaults when that file\n"
			    "is missing; " CLIENT_DEFAULT_ENDPOINT ".",
			    bpfctl_cmds, argc, argv);
}
