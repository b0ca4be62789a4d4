/* SPDX-License-Identifier: Apache-2.0 */
/* modify.c - bpfctl modify ID: change an attached program's priority, proceed-on and
 * metadata in place */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/bpfctl/bpfctl.h"

struct modify_opts {
	struct bpfctl_common c;
	const char *priority;
	struct str_list proceed_on;
	struct str_list metadata;
};

static const struct opt modify_optv[] = {
	OPT_STR("priority", 'p', struct modify_opts, priority, "N",
		"new priority (xdp, tc, tcx): lower runs first"),
	OPT_LISTN("proceed-on", 0, struct modify_opts, proceed_on, "ACTION...",
		  "new proceed-on set (xdp, tc in a chain), replacing the old one;\n"
		  "                             repeatable, comma lists or several: "
		  "--proceed-on pass drop"),
	OPT_LIST("metadata", 'm', struct modify_opts, metadata, "KEY=VALUE[,...]",
		 "set metadata KEY; KEY= (empty value) removes KEY; repeatable"),
	BPFCTL_COMMON_OPTS(struct modify_opts),
	OPT_END
};

static const struct opts_spec modify_spec = {
	.prog = "bpfctl modify",
	.usage = "bpfctl modify ID [-p N] [--proceed-on ACTION]... [-m KEY=VALUE]... [OPTIONS]",
	.desc = "Change the program with kernel id ID, which bpfd loaded, in place: its id\n"
		"stays.  A new priority re-orders its XDP or TC chain (a new dispatcher is\n"
		"swapped in at once) or moves it on its TCX hook (a stand-in holds the new\n"
		"place first, so no packet misses the program); a new proceed-on set\n"
		"replaces the old one (only in a dispatcher chain: a program attached\n"
		"directly is refused).  Metadata alone changes only bpfd's record: KEY=VALUE\n"
		"sets KEY, KEY= removes it.  On failure nothing changes.  Prints the program\n"
		"as 'get' does, with its new position.",
	.optv = modify_optv,
	.footer = "ACTION names: xdp aborted, drop, pass, tx, redirect, dispatcher_return;\n"
		  "tc unspec, ok, reclassify, shot, pipe, stolen, queued, repeat, redirect,\n"
		  "trap, dispatcher_return.",
};

/* "K=V[,K=V...]" into the request's metadata ("K=" removes K). */
static int add_metadata(bpfd_v1_ModifyRequest *req, const char *arg)
{
	size_t max = sizeof(req->metadata) / sizeof(req->metadata[0]);
	bpfd_v1_ModifyRequest_MetadataEntry *e;
	const char *p, *end;
	int err;

	for (p = arg; *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ",");
		if (req->metadata_count == max)
			return bpfctl_too_many(&modify_spec, "--metadata pairs", max);
		e = &req->metadata[req->metadata_count];
		err = bpfctl_kv(&modify_spec, "--metadata", p, end - p, e->key, sizeof(e->key),
				e->value, sizeof(e->value));
		if (err)
			return err;
		req->metadata_count++;
	}
	return 0;
}

/* The chain kind of program id, from a Get: the proceed-on names depend on it.  1 when
 * the daemon cannot be reached (said so); -ENOENT when it does not manage id (the
 * Modify then says so, in the words of every command). */
static int prog_chain_kind(const struct bpfctl_common *c, uint32_t id,
			   enum chain_kind *ret)
{
	bpfd_v1_GetRequest req = { .id = id };
	bpfd_v1_GetResponse *resp = calloc(1, sizeof(*resp));
	struct errmsg em = { "" };
	struct client_status st;
	int err;

	if (!resp)
		return bpfctl_error(c, "Out of memory");
	err = bpfctl_call_quiet(c, "/bpfd.v1.Bpfd/Get", bpfd_v1_GetRequest_fields, &req,
				bpfd_v1_GetResponse_fields, resp, &st, &em);
	if (err)
		err = bpfctl_error(c, "%s", em.msg);
	else if (st.code != GRPC_OK || !resp->has_info)
		err = -ENOENT;
	else
		*ret = resp->info.attach.which_info == bpfd_v1_AttachInfo_tc_attach_info_tag ?
		       CHAIN_TC : CHAIN_XDP;
	free(resp);
	return err;
}

static int build(struct modify_opts *o, int argc, char **argv, bpfd_v1_ModifyRequest *req)
{
	char *pos[1];
	uint64_t id;
	size_t i;
	int n, err;

	n = bpfctl_parse(&modify_spec, o, argc, argv, pos, 1);
	if (n < 0)
		return n;
	if (bpfctl_common_check(&modify_spec, &o->c))
		return OPTS_USAGE;
	/* "--proceed-on pass drop 7": the ID ended the values */
	if (n < 1 && o->proceed_on.n &&
	    !parse_u64(o->proceed_on.v[o->proceed_on.n - 1], UINT32_MAX, &id)) {
		o->proceed_on.n--;
		req->id = id;
	} else if (n < 1) {
		return opts_usage_error(&modify_spec, "missing program ID");
	} else {
		err = bpfctl_prog_id(&modify_spec, NULL, pos[0], false, &req->id);
		if (err)
			return err;
	}
	if (o->priority) {
		err = bpfctl_priority(&modify_spec, o->priority, &req->priority);
		if (err)
			return err;
		req->has_priority = true;
	}
	for (i = 0; i < o->metadata.n; i++) {
		err = add_metadata(req, o->metadata.v[i]);
		if (err)
			return err;
	}
	if (!o->priority && !o->proceed_on.n && !o->metadata.n)
		return opts_usage_error(&modify_spec, "nothing to modify: give -p, --proceed-on "
					"or -m");
	return 0;
}

int bpfctl_modify(int argc, char **argv)
{
	struct modify_opts o = { 0 };
	bpfd_v1_ModifyRequest *req = calloc(1, sizeof(*req));
	bpfd_v1_ModifyResponse *resp = calloc(1, sizeof(*resp));
	enum chain_kind kind = CHAIN_XDP;
	int rc;

	if (!req || !resp) {
		rc = bpfctl_error(&o.c, "Out of memory");
		goto out;
	}
	rc = build(&o, argc, argv, req);
	if (rc) {
		rc = opts_exit_code(rc);
		goto out;
	}
	if (o.proceed_on.n) {
		rc = prog_chain_kind(&o.c, req->id, &kind);
		if (rc > 0)
			goto out;
	}
	if (o.proceed_on.n && !rc) {
		rc = bpfctl_proceed_on(&modify_spec, kind, &o.proceed_on, req->proceed_on,
				       &req->proceed_on_count,
				       sizeof(req->proceed_on) / sizeof(req->proceed_on[0]));
		if (rc) {
			rc = opts_exit_code(rc);
			goto out;
		}
	}
	rc = bpfctl_call(&o.c, "/bpfd.v1.Bpfd/Modify", bpfd_v1_ModifyRequest_fields, req,
			 bpfd_v1_ModifyResponse_fields, resp);
	if (!rc && show_program(resp->has_info ? &resp->info : NULL, &resp->kernel_info,
				bpfctl_json(&o.c)))
		rc = bpfctl_error(&o.c, "Out of memory");
out:
	str_list_free(&o.proceed_on);
	str_list_free(&o.metadata);
	free(req);
	free(resp);
	return rc;
}
