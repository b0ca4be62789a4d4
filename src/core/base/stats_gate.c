/* SPDX-License-Identifier: Apache-2.0 */
/* stats_gate.c - when the kernel's run statistics are on: [monitor] stats */
#include <string.h>

#include "core/base/stats_gate.h"

static const char *const names[] = {
	[STATS_ON_DEMAND] = "on-demand",
	[STATS_ALWAYS] = "always",
	[STATS_OFF] = "off",
};

int stats_mode_parse(const char *s)
{
	int i;

	for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

const char *stats_mode_name(enum stats_mode mode)
{
	return (unsigned int)mode < sizeof(names) / sizeof(names[0]) ? names[mode] : "?";
}

enum stats_step stats_gate_step(struct stats_gate *g, uint64_t now, bool asking)
{
	switch (g->mode) {
	case STATS_OFF:
		break;
	case STATS_ALWAYS:
		return g->on ? STATS_KEEP : STATS_OPEN;
	case STATS_ON_DEMAND:
		if (asking) {
			g->last_ns = now;
			return g->on ? STATS_KEEP : STATS_OPEN;
		}
		if (g->on && now - g->last_ns < g->grace_ns)
			return STATS_KEEP;
		break;
	}
	if (!g->on)
		return STATS_KEEP;
	g->on = false;
	return STATS_CLOSE;
}

void stats_gate_opened(struct stats_gate *g, bool ok)
{
	g->on = ok;
}

uint64_t stats_gate_due(const struct stats_gate *g, uint64_t now)
{
	uint64_t end = g->last_ns + g->grace_ns;

	if (g->mode != STATS_ON_DEMAND || !g->on)
		return 0;
	return end > now ? end - now : 1;
}
