/* SPDX-License-Identifier: Apache-2.0 */
/* bpfctl.h - the bpfctl subcommands (one file each under src/applets/bpfctl/) */
#ifndef BPFD_APPLETS_BPFCTL_H
#define BPFD_APPLETS_BPFCTL_H

/* Each returns an exit code: 0 ok, 1 error from the daemon, 2 usage. argv[0] = command. */

#endif
