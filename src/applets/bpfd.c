/* SPDX-License-Identifier: Apache-2.0 */
/* bpfd.c - the daemon applet: options, configuration, then daemon_run() */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/applets.h"
#include "core/config/config.h"
#include "core/daemon.h"
#include "core/base/log.h"
#include "core/base/opts.h"
#include "core/probe_report.h"
#include "core/wire/addr.h"

struct bpfd_opts {
	const char *config;
	const char *rundir;
	const char *socket;
	const char *tcp;
	const char *certs;
	const char *log_level;
	int verbose;
	bool probe;
	bool check_config;
	bool json;
	bool selftest_xdp;
	bool version;
};

static const struct opt bpfd_optv[] = {
	OPT_STR("config", 'c', struct bpfd_opts, config, "FILE",
		"configuration file (default $BPFD_CONFIG, else " BPFD_CONFIG_FILE
		"; missing = defaults)"),
	OPT_STR("rundir", 0, struct bpfd_opts, rundir, "DIR",
		"runtime directory for state, pins (DIR/fs) and socket (default " BPFD_RUNDIR ")"),
	OPT_STR("socket", 0, struct bpfd_opts, socket, "PATH",
		"unix socket to serve (default " BPFD_RUNDIR "/bpfd.sock)"),
	OPT_STR("tcp", 0, struct bpfd_opts, tcp, "ADDR:PORT",
		"also serve TCP with mTLS, e.g. [::1]:50051 or 127.0.0.1:50051"),
	OPT_STR("certs", 0, struct bpfd_opts, certs, "DIR",
		"mTLS certificates: DIR/{ca,bpfd,bpfd-client}/ (default " BPFD_CERTS_DIR ")"),
	OPT_FLAG("probe", 0, struct bpfd_opts, probe,
		 "probe the kernel features bpfd depends on, print them and exit"),
	OPT_FLAG("json", 'j', struct bpfd_opts, json, "with --probe: print JSON"),
	OPT_FLAG("check-config", 0, struct bpfd_opts, check_config,
		 "read the configuration file and the options, then exit: 0 when they are valid"),
	OPT_COUNT("verbose", 'v', struct bpfd_opts, verbose, "more log output (-v info, -vv debug)"),
	OPT_STR("log-level", 0, struct bpfd_opts, log_level, "LEVEL",
		"error, warn, info or debug (default: $BPFD_LOG, else [log] level, else info)"),
	OPT_FLAG("version", 'V', struct bpfd_opts, version, "print the version and exit"),
	OPT_HIDDEN_FLAG("selftest-xdp", struct bpfd_opts, selftest_xdp),
	OPT_END
};

static const struct opts_spec bpfd_spec = {
	.prog = "bpfd",
	.usage = "bpfd [OPTIONS]\nbpfd --probe [--json]\nbpfd APPLET [ARGS]   (applets: bpfctl, bpfd-agent; see bpfd --applets)",
	.desc = "Run the bpfd daemon: it loads, attaches, lists and unloads eBPF programs for its\n"
		"clients through the gRPC API bpfd.v1.Bpfd on a unix socket (and optionally TCP\n"
		"with mutual TLS).  Programs stay loaded when the daemon stops, unless\n"
		"bpfd.toml sets [runtime] unload_on_exit = true.  At start it loads the\n"
		"[[programs]] of " BPFD_PROGRAMS_DIR "/*.toml ([runtime] programs_dir),\n"
		"keeping what an earlier run loaded from unchanged entries; SIGHUP (or\n"
		"'bpfctl reload') re-reads them.",
	.optv = bpfd_optv,
	.footer = "Multi-call: bpfd --list | --install [-s] DIR | --applets | --version",
};

static int parse_tcp(struct bpfd_config *cfg, const char *s)
{
	uint16_t port;

	if (addr_split(s, cfg->tcp_addr, sizeof(cfg->tcp_addr), &port))
		return -EINVAL;
	cfg->tcp_port = port;
	cfg->tcp_enabled = true;
	return 0;
}

int bpfd_main(int argc, char **argv)
{
	struct bpfd_opts o = { 0 };
	struct bpfd_config cfg;
	struct errmsg em = { "" };
	const char *config;
	int idx, lvl, err;

	log_init("bpfd");
	idx = opts_parse(&bpfd_spec, &o, argc, argv);
	if (idx < 0)
		return opts_exit_code(idx);
	if (idx < argc)
		return opts_exit_code(opts_usage_error(&bpfd_spec,
				"unexpected argument '%s' (applets: bpfctl, bpfd-agent)", argv[idx]));
	if (o.version) {
		printf("bpfd %s\n", BPFD_VERSION);
		return EXIT_SUCCESS;
	}
	if (o.log_level) {
		lvl = log_level_parse(o.log_level);
		if (lvl < 0)
			return opts_exit_code(opts_usage_error(&bpfd_spec,
					"--log-level '%s' is not one of error, warn, info, debug", o.log_level));
		log_set_level(lvl);
	} else if (o.verbose) {
		log_set_level(o.verbose > 1 ? LOG_DEBUG : LOG_INFO);
	}
	if (o.json && !o.probe)
		return opts_exit_code(opts_usage_error(&bpfd_spec, "--json goes with --probe"));
	if (o.probe)
		return probe_cmd(o.json);
	if (o.selftest_xdp)
		return selftest_xdp_cmd();

	config_defaults(&cfg);
	config = o.config ? o.config : secure_getenv("BPFD_CONFIG");
	err = config_load(&cfg, config ? config : BPFD_CONFIG_FILE, config != NULL, &em);
	if (err) {
		log_err("%s", em.msg);
		return EXIT_FAILURE;
	}
	/* --log-level/-v, then $BPFD_LOG, then [log] level */
	if (cfg.log_level >= 0)
		log_set_default_level(cfg.log_level);
	log_setup_daemon(cfg.log_target);
	if (o.rundir)
		config_set_rundir(&cfg, o.rundir);
	if (o.socket) {
		if (strlen(o.socket) >= sizeof(cfg.socket_path))
			return opts_exit_code(opts_usage_error(&bpfd_spec, "--socket path is too long"));
		strcpy(cfg.socket_path, o.socket);
		cfg.unix_enabled = true;
	}
	if (o.tcp && parse_tcp(&cfg, o.tcp))
		return opts_exit_code(opts_usage_error(&bpfd_spec,
				"--tcp '%s' is not ADDR:PORT with a numeric address, e.g. 127.0.0.1:50051 or [::1]:50051",
				o.tcp));
	if (o.certs) {
		if (strlen(o.certs) >= sizeof(cfg.certs_dir))
			return opts_exit_code(opts_usage_error(&bpfd_spec, "--certs path is too long"));
		strcpy(cfg.certs_dir, o.certs);
	}
	if (o.check_config) {
		if (config || !access(BPFD_CONFIG_FILE, F_OK))
			printf("%s: the configuration is valid\n", config ? config : BPFD_CONFIG_FILE);
		else
			printf("no %s: the defaults apply\n", BPFD_CONFIG_FILE);
		return EXIT_SUCCESS;
	}
	return daemon_run(&cfg);
}
