/* SPDX-License-Identifier: Apache-2.0 */
/* daemon.c - placeholder until the server lands: refuses to run */
#include <stdlib.h>

#include "core/daemon.h"
#include "core/log.h"

int daemon_run(struct bpfd_config *cfg)
{
	(void)cfg;
	log_err("the daemon is not implemented in this build yet");
	return EXIT_FAILURE;
}
