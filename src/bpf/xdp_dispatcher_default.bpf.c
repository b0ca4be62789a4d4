// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* xdp_dispatcher_default.bpf.c - the XDP dispatcher for chains whose every enabled slot
 * proceeds on the default (pass, dispatcher_return): the same program, config and
 * slots, without reading the masks (see xdp_dispatcher.bpf.c).  Its program is named
 * xdp_dispatcher too: libxdp and bpfd tell no difference but speed. */
#define DISPATCHER_DEFAULT_MASKS 1
#include "bpf/xdp_dispatcher.bpf.c"
