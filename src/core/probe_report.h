/* SPDX-License-Identifier: Apache-2.0 */
/* probe_report.h - `bpfd --probe`: kernel features, as text or JSON */
#ifndef BPFD_CORE_PROBE_REPORT_H
#define BPFD_CORE_PROBE_REPORT_H

#include <stdbool.h>

/* Probe every kernel feature bpfd depends on and print the report; returns an exit code. */
int probe_cmd(bool json);
/* Hidden self-test: create a veth pair in a private netns, load and attach an XDP
 * program from the embedded objects, detach; returns an exit code. */
int selftest_xdp_cmd(void);

#endif
