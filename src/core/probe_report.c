/* SPDX-License-Identifier: Apache-2.0 */
/* probe_report.c - `bpfd --probe [--json]` and `bpfd --selftest-xdp` */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/probe.h"
#include "core/base/errmsg.h"
#include "core/base/log.h"
#include "core/base/out.h"
#include "core/probe_report.h"

static void feature_fields(struct out *o, const char *name, const struct probe_status *s)
{
	const char *err = s->err ? strerrorname_np(s->err) : NULL;

	out_begin_object(o, name);
	out_text(o, "%-11s ", name);
	out_bool(o, "available", NULL, s->available);
	out_text(o, "%-5s ", s->available ? "yes" : "no");
	if (err)
		out_str(o, "errno", NULL, err);
	else
		out_null(o, "errno");
	out_str(o, "detail", "%s\n", s->detail);
	out_end(o);
}

/* The report: a header and one line per feature, or a JSON object. */
static int print_report(const struct probe_result *r, bool json)
{
	struct out *o = out_new(stdout, json, true);
	int i;

	if (!o)
		goto oom;
	out_begin_object(o, NULL);
	out_str(o, "kernel", "kernel %s", r->kernel);
	out_u64(o, "duration_ms", " (probed in %llu ms)\n", r->duration_us / 1000);
	out_text(o, "%-11s %-5s %s\n", "FEATURE", "AVAIL", "DETAIL");
	out_begin_object(o, "features");
	for (i = 0; i < __PROBE_MAX; i++)
		feature_fields(o, probe_feature_name(i), &r->f[i]);
	out_end(o);
	out_end(o);
	if (out_finish(o))
		goto oom;
	return EXIT_SUCCESS;
oom:
	log_err("Failed to build the probe report: out of memory");
	return EXIT_FAILURE;
}

int probe_cmd(bool json)
{
	struct probe_result r;
	int err;

	if (geteuid())
		log_warn("not running as root: most probes fail with EPERM; run 'bpfd --probe' as root");
	err = probe_run(&r);
	if (err) {
		log_errno(LOG_ERR, err, "Failed to probe the kernel (the probe process did not report)");
		return EXIT_FAILURE;
	}
	return print_report(&r, json);
}

int selftest_xdp_cmd(void)
{
	struct errmsg em = { "" };
	const char *mode = NULL;
	uint32_t id = 0;
	int err;

	err = probe_selftest_xdp(&mode, &id, &em);
	if (err) {
		log_err("selftest-xdp: %s", em.msg);
		return EXIT_FAILURE;
	}
	printf("selftest-xdp: ok (%s, prog id %u)\n", mode, id);
	return EXIT_SUCCESS;
}
