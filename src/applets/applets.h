/* SPDX-License-Identifier: Apache-2.0 */
/* applets.h - entry points of the applets of the multi-call binary */
#ifndef BPFD_APPLETS_H
#define BPFD_APPLETS_H

struct applet {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

#define APPLET(name, fn, summary) int fn(int argc, char **argv);
#include "applets/applets.def"
#undef APPLET

#endif
