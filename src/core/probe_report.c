/* SPDX-License-Identifier: Apache-2.0 */
/* probe_report.c - `bpfd --probe [--json]` and `bpfd --selftest-xdp` */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cJSON.h"

#include "bpf/probe.h"
#include "core/base/errmsg.h"
#include "core/base/log.h"
#include "core/probe_report.h"

static int print_text(const struct probe_result *r)
{
	int i;

	printf("kernel %s (probed in %u ms)\n", r->kernel, r->duration_us / 1000);
	printf("%-11s %-5s %s\n", "FEATURE", "AVAIL", "DETAIL");
	for (i = 0; i < __PROBE_MAX; i++)
		printf("%-11s %-5s %s\n", probe_feature_name(i),
		       r->f[i].available ? "yes" : "no", r->f[i].detail);
	return EXIT_SUCCESS;
}

static cJSON *feature_json(const struct probe_status *s)
{
	cJSON *o = cJSON_CreateObject();
	const char *name = s->err ? strerrorname_np(s->err) : NULL;

	if (!o)
		return NULL;
	if (!cJSON_AddBoolToObject(o, "available", s->available) ||
	    !(name ? cJSON_AddStringToObject(o, "errno", name) : cJSON_AddNullToObject(o, "errno")) ||
	    !cJSON_AddStringToObject(o, "detail", s->detail)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int print_json(const struct probe_result *r)
{
	cJSON *root, *features, *f;
	char *text = NULL;
	int i, ret = EXIT_FAILURE;

	root = cJSON_CreateObject();
	if (!root || !cJSON_AddStringToObject(root, "kernel", r->kernel) ||
	    !cJSON_AddNumberToObject(root, "duration_ms", r->duration_us / 1000))
		goto out;
	features = cJSON_AddObjectToObject(root, "features");
	if (!features)
		goto out;
	for (i = 0; i < __PROBE_MAX; i++) {
		f = feature_json(&r->f[i]);
		if (!f)
			goto out;
		cJSON_AddItemToObject(features, probe_feature_name(i), f);
	}
	text = cJSON_Print(root);
	if (!text)
		goto out;
	printf("%s\n", text);
	ret = EXIT_SUCCESS;
out:
	if (ret)
		log_err("Failed to build the JSON report: out of memory");
	free(text);
	cJSON_Delete(root);
	return ret;
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
	return json ? print_json(&r) : print_text(&r);
}

int selftest_xdp_cmd(void)
{
	struct errmsg em = { { 0 } };
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
