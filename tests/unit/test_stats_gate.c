/* SPDX-License-Identifier: Apache-2.0 */
/* test_stats_gate.c - when run statistics are on: the three modes, on a clock the test moves */
#include "harness.h"
#include "core/base/stats_gate.h"

#define S	1000000000ull

static struct stats_gate gate(enum stats_mode mode)
{
	return (struct stats_gate){ .mode = mode, .grace_ns = 60 * S };
}

static void names(void)
{
	ASSERT_EQ(stats_mode_parse("on-demand"), STATS_ON_DEMAND, "on-demand");
	ASSERT_EQ(stats_mode_parse("always"), STATS_ALWAYS, "always");
	ASSERT_EQ(stats_mode_parse("off"), STATS_OFF, "off");
	ASSERT_EQ(stats_mode_parse("on"), -1, "on is not a mode");
	ASSERT_EQ(stats_mode_parse(""), -1, "empty");
	ASSERT_STREQ(stats_mode_name(STATS_ON_DEMAND), "on-demand", "name");
}

static void on_demand(void)
{
	struct stats_gate g = gate(STATS_ON_DEMAND);

	ASSERT_EQ(stats_gate_step(&g, 1 * S, false), STATS_KEEP, "nobody asked: stays off");
	ASSERT_EQ(stats_gate_due(&g, 1 * S), 0, "nothing due while off");
	ASSERT_EQ(stats_gate_step(&g, 10 * S, true), STATS_OPEN, "the first Get opens");
	stats_gate_opened(&g, true);
	ASSERT_EQ(stats_gate_due(&g, 10 * S), 60 * S, "due a grace after");
	ASSERT_EQ(stats_gate_step(&g, 20 * S, true), STATS_KEEP, "a second Get keeps");
	ASSERT_EQ(stats_gate_due(&g, 30 * S), 50 * S, "the grace runs from the last Get");
	ASSERT_EQ(stats_gate_step(&g, 79 * S, false), STATS_KEEP, "within the grace: kept");
	ASSERT_TRUE(g.on, "still on");
	ASSERT_EQ(stats_gate_step(&g, 80 * S, false), STATS_CLOSE, "grace over: closed");
	ASSERT_FALSE(g.on, "off");
	ASSERT_EQ(stats_gate_step(&g, 81 * S, false), STATS_KEEP, "closed once");
	ASSERT_EQ(stats_gate_due(&g, 81 * S), 0, "nothing due after");
	ASSERT_EQ(stats_gate_step(&g, 90 * S, true), STATS_OPEN, "asked again: opens again");
}

static void on_demand_open_failed(void)
{
	struct stats_gate g = gate(STATS_ON_DEMAND);

	ASSERT_EQ(stats_gate_step(&g, 1 * S, true), STATS_OPEN, "opens");
	stats_gate_opened(&g, false);
	ASSERT_FALSE(g.on, "not on");
	ASSERT_EQ(stats_gate_due(&g, 1 * S), 0, "nothing to close");
	ASSERT_EQ(stats_gate_step(&g, 2 * S, false), STATS_KEEP, "nothing to close");
	ASSERT_EQ(stats_gate_step(&g, 3 * S, true), STATS_OPEN, "tries again when asked");
}

static void due_late(void)
{
	struct stats_gate g = gate(STATS_ON_DEMAND);

	stats_gate_step(&g, 1 * S, true);
	stats_gate_opened(&g, true);
	ASSERT_EQ(stats_gate_due(&g, 100 * S), 1, "overdue: at once (1 ns), never 0");
}

static void always(void)
{
	struct stats_gate g = gate(STATS_ALWAYS);

	ASSERT_EQ(stats_gate_step(&g, 0, false), STATS_OPEN, "opens at start without asking");
	stats_gate_opened(&g, true);
	ASSERT_EQ(stats_gate_step(&g, 1000 * S, false), STATS_KEEP, "never closes");
	ASSERT_EQ(stats_gate_due(&g, 1000 * S), 0, "nothing due");
}

static void off(void)
{
	struct stats_gate g = gate(STATS_OFF);

	ASSERT_EQ(stats_gate_step(&g, 0, true), STATS_KEEP, "never opens, asked or not");
	ASSERT_EQ(stats_gate_step(&g, 5 * S, false), STATS_KEEP, "never");
	ASSERT_FALSE(g.on, "off");
}

TEST_MAIN("stats_gate", TEST(names), TEST(on_demand), TEST(on_demand_open_failed),
	  TEST(due_late), TEST(always), TEST(off))
