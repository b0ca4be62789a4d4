/* SPDX-License-Identifier: Apache-2.0 */
/* test_probe.c - probe result helpers: names, probe_has(), the start-up summary line */
#include <errno.h>

#include "harness.h"
#include "bpf/probe.h"

static void names_round_trip(void)
{
	static const char *const want[__PROBE_MAX] = {
		"bpffs", "btf", "xdp", "tc", "tcx", "tracepoint", "kprobe", "uprobe",
		"freplace", "fentry", "xdp_link", "stats",
	};
	int i;

	for (i = 0; i < __PROBE_MAX; i++) {
		ASSERT_STREQ(probe_feature_name(i), want[i], "stable name");
		ASSERT_EQ(probe_feature_from_name(want[i]), i, "name -> feature");
	}
	ASSERT_EQ(probe_feature_from_name("kprobes"), -ENOENT, "unknown name");
	ASSERT_STREQ(probe_feature_name(__PROBE_MAX), "unknown", "out of range");
}

static void fill(struct probe_result *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	strcpy(r->kernel, "6.1.0-test");
	r->duration_us = 123456;
	for (i = 0; i < __PROBE_MAX; i++)
		r->f[i].available = true;
	r->f[PROBE_TCX] = (struct probe_status){ .available = false, .err = EINVAL };
	r->f[PROBE_FENTRY] = (struct probe_status){ .available = false, .err = EPERM };
}

static void has(void)
{
	struct probe_result r;

	fill(&r);
	ASSERT_TRUE(probe_has(&r, PROBE_XDP), "xdp");
	ASSERT_FALSE(probe_has(&r, PROBE_TCX), "tcx");
	ASSERT_FALSE(probe_has(&r, __PROBE_MAX), "out of range");
}

static void summary(void)
{
	struct probe_result r;
	char buf[512];
	int n;

	fill(&r);
	n = probe_summary(&r, buf, sizeof(buf));
	ASSERT_EQ(n, strlen(buf), "returns the length");
	ASSERT_STREQ(buf, "kernel 6.1.0-test: bpffs btf xdp tc tracepoint kprobe uprobe freplace "
		     "xdp_link stats; missing: tcx (EINVAL), fentry (EPERM) [123 ms]", "line");
	r.f[PROBE_KPROBE] = (struct probe_status){ .available = false, .err = 0 };
	probe_summary(&r, buf, sizeof(buf));
	ASSERT_STRSTR(buf, "kprobe (did not run)", "attached but never ran");
}

static void summary_truncates(void)
{
	struct probe_result r;
	char full[512], small[20];
	int n;

	fill(&r);
	n = probe_summary(&r, full, sizeof(full));
	memset(small, 'x', sizeof(small));
	ASSERT_EQ(probe_summary(&r, small, sizeof(small)), n, "snprintf-style length");
	ASSERT_EQ(small[sizeof(small) - 1], '\0', "terminated");
	ASSERT_EQ(strncmp(small, full, sizeof(small) - 1), 0, "prefix of the full line");
	ASSERT_EQ(probe_summary(&r, NULL, 0), n, "length only");
}

TEST_MAIN("probe", TEST(names_round_trip), TEST(has), TEST(summary), TEST(summary_truncates))
