/* SPDX-License-Identifier: Apache-2.0 */
/* stats_gate.h - when the kernel's run statistics are on: [monitor] stats, kernel-free */
#ifndef BPFD_CORE_BASE_STATS_GATE_H
#define BPFD_CORE_BASE_STATS_GATE_H

#include <stdbool.h>
#include <stdint.h>

enum stats_mode {
	STATS_ON_DEMAND = 0,	/* on from a Get/List until grace after the last one */
	STATS_ALWAYS,		/* on from start-up */
	STATS_OFF,		/* never */
};

#define STATS_GRACE_DEFAULT	60	/* seconds */

/* "on-demand", "always", "off" -> the mode, or -1. */
int stats_mode_parse(const char *s);
const char *stats_mode_name(enum stats_mode mode);

/* The decision, apart from the fd that carries it (the executor holds that). */
struct stats_gate {
	enum stats_mode mode;
	uint64_t grace_ns;
	bool on;		/* the caller holds stats enabled */
	uint64_t last_ns;	/* the last request that asked (on-demand) */
};

enum stats_step {
	STATS_KEEP,		/* nothing to do */
	STATS_OPEN,		/* enable them, then stats_gate_opened() */
	STATS_CLOSE,		/* disable them (g->on is already false) */
};

/* At time now (monotonic ns; the clock is the caller's), asking: a Get or List
 * wants the counts.  Says what the caller must do. */
enum stats_step stats_gate_step(struct stats_gate *g, uint64_t now, bool asking);
/* ns from now until stats_gate_step() would end on-demand stats, 0 when
 * nothing is due (off, always, or not on). */
uint64_t stats_gate_due(const struct stats_gate *g, uint64_t now);
/* The caller enabled them (ok) or failed to. */
void stats_gate_opened(struct stats_gate *g, bool ok);

#endif
