/* SPDX-License-Identifier: Apache-2.0 */
/* probe_report.c - placeholder until the probe lands */
#include <stdlib.h>

#include "core/log.h"
#include "core/probe_report.h"

int probe_cmd(bool json)
{
	(void)json;
	log_err("--probe is not implemented in this build yet");
	return EXIT_FAILURE;
}

int selftest_xdp_cmd(void)
{
	log_err("--selftest-xdp is not implemented in this build yet");
	return EXIT_FAILURE;
}
