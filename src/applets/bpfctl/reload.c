/* SPDX-License-Identifier: Apache-2.0 */
/* reload.c - bpfctl reload: the daemon re-reads programs.d and says what changed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/bpfctl/bpfctl.h"

struct reload_opts {
	struct bpfctl_common c;
};

static const struct opt reload_optv[] = {
	BPFCTL_COMMON_OPTS(struct reload_opts),
	OPT_END
};

static const struct opts_spec reload_spec = {
	.prog = "bpfctl reload",
	.usage = "bpfctl reload [-o text|json]",
	.desc = "Make bpfd re-read its programs.d directory ([runtime] programs_dir, default\n"
		"/etc/bpfd/programs.d), as SIGHUP does, and print what changed, one line per\n"
		"entry: loaded (a new entry), kept (unchanged: the same program stays),\n"
		"replaced (a changed entry: new id, old id), modified (only the priority\n"
		"changed: the same program moved in place), unloaded (its entry or file is\n"
		"gone), error (FILE:LINE:COL and what is wrong: that file is skipped, its\n"
		"programs stay).  Exits 1 when there was an error.",
	.optv = reload_optv,
};

static void print_json(const bpfd_v1_ReloadResponse *r, struct out *o)
{
	const bpfd_v1_ReloadResponse_Change *c;
	pb_size_t i;

	out_begin_object(o, NULL);
	out_begin_list(o, "changes");
	for (i = 0; i < r->changes_count; i++) {
		c = &r->changes[i];
		out_begin_object(o, NULL);
		out_str(o, "action", NULL, c->action);
		out_str(o, "source", NULL, c->source);
		out_str(o, "name", NULL, c->name);
		if (c->id)
			out_u64(o, "id", NULL, c->id);
		if (c->old_id)
			out_u64(o, "old_id", NULL, c->old_id);
		if (c->error[0])
			out_str(o, "error", NULL, c->error);
		out_end(o);
	}
	out_end(o);
	out_bool(o, "truncated", NULL, r->truncated);
	out_end(o);
}

static void print_text(const bpfd_v1_ReloadResponse *r)
{
	const bpfd_v1_ReloadResponse_Change *c;
	pb_size_t i;

	for (i = 0; i < r->changes_count; i++) {
		c = &r->changes[i];
		if (c->error[0])
			printf("%-9s %s\n", c->action, c->error);
		else if (c->old_id)
			printf("%-9s %s %s: %u (was %u)\n", c->action, c->source, c->name, c->id,
			       c->old_id);
		else
			printf("%-9s %s %s: %u\n", c->action, c->source, c->name, c->id);
	}
	if (!r->changes_count)
		printf("nothing in programs.d\n");
	if (r->truncated)
		printf("(more changes: see the daemon's log)\n");
}

int bpfctl_reload(int argc, char **argv)
{
	struct reload_opts o = { 0 };
	bpfd_v1_ReloadRequest req = bpfd_v1_ReloadRequest_init_zero;
	bpfd_v1_ReloadResponse *resp = NULL;
	struct out *out = NULL;
	pb_size_t i;
	int rc;

	rc = bpfctl_parse(&reload_spec, &o, argc, argv, NULL, 0);
	if (rc < 0)
		return opts_exit_code(rc);
	if (bpfctl_common_check(&reload_spec, &o.c))
		return 2;
	resp = calloc(1, sizeof(*resp));
	if (!resp)
		return bpfctl_error(&o.c, "Out of memory");
	rc = bpfctl_call(&o.c, "/bpfd.v1.Bpfd/Reload", bpfd_v1_ReloadRequest_fields, &req,
			 bpfd_v1_ReloadResponse_fields, resp);
	if (rc)
		goto out;
	if (bpfctl_json(&o.c)) {
		out = out_new(stdout, true, true);
		if (!out) {
			rc = bpfctl_error(&o.c, "Out of memory");
			goto out;
		}
		print_json(resp, out);
		if (out_finish(out))
			rc = bpfctl_error(&o.c, "Out of memory");
		out = NULL;	/* out_finish() freed it */
	} else {
		print_text(resp);
	}
	for (i = 0; i < resp->changes_count; i++)
		if (resp->changes[i].error[0])
			rc = 1;
out:
	out_free(out);
	free(resp);
	return rc;
}
