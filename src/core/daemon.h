/* SPDX-License-Identifier: Apache-2.0 */
/* daemon.h - the bpfd daemon: start-up, endpoints, event loop, shutdown */
#ifndef BPFD_CORE_DAEMON_H
#define BPFD_CORE_DAEMON_H

#include "core/config/config.h"

/* Run the daemon until SIGTERM/SIGINT; returns an exit code. */
int daemon_run(struct bpfd_config *cfg);

#endif
