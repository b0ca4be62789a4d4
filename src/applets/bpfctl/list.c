/* SPDX-License-Identifier: Apache-2.0 */
/* list.c - bpfctl list: programs loaded by bpfd (or all, with -a) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pb_decode.h>

#include "applets/bpfctl/bpfctl.h"

struct list_opts {
	struct bpfctl_common c;
	bool all;
	const char *type;
	struct str_list metadata;
};

static const struct opt list_optv[] = {
	OPT_FLAG("all", 'a', struct list_opts, all,
		 "include programs not loaded by bpfd (default: bpfd's only)"),
	OPT_STR("program-type", 'p', struct list_opts, type, "TYPE",
		"only this type: socket-filter, kprobe (probe), tc, tcx, sched-act, tracepoint,\n"
		"                             xdp, perf-event, cgroup-skb, ..., tracing, ext, lsm, sk-lookup, syscall"),
	OPT_LIST("metadata-selector", 'm', struct list_opts, metadata, "K=V",
		 "only programs with this metadata; repeatable, or K=V,K2=V2"),
	BPFCTL_COMMON_OPTS(struct list_opts),
	OPT_END
};

static const struct opts_spec list_spec = {
	.prog = "bpfctl list",
	.usage = "bpfctl list [-a] [-p TYPE] [-m K=V[,K=V]...] [-o text|json]",
	.desc = "List the programs loaded by bpfd, or every program in the kernel with -a.",
	.optv = list_optv,
};

struct list_row {
	uint32_t id;
	char name[17];
	char type[32];
	char loaded_at[32];
	bool damaged;		/* bpfd's record of it is damaged */
	char source[40];	/* "programs.d/NAME.toml", "api"; "" not bpfd's */
};

struct list_state {
	struct out *o;				/* JSON */
	bpfd_v1_ListResponse_ListResult *res;
	struct list_row *rows;			/* text */
	size_t n;
	const char *kind;			/* -p tc, -p tcx: show only this kind */
	bool oom;
};

static bool result_decode(pb_istream_t *s, const pb_field_t *f, void **arg)
{
	struct list_state *ls = *arg;
	bpfd_v1_ListResponse_ListResult *res = ls->res;
	struct list_row *r;
	const char *src;
	char kind[32];

	(void)f;
	memset(res, 0, sizeof(*res));
	if (!pb_decode(s, bpfd_v1_ListResponse_ListResult_fields, res))
		return false;
	show_prog_kind(res->has_info ? &res->info : NULL, res->kernel_info.program_type, kind,
		       sizeof(kind));
	/* tc and tcx share the kernel's type: the server's filter returns both */
	if (ls->kind && strcmp(ls->kind, kind))
		return true;
	if (ls->o) {
		show_program_out(ls->o, res->has_info ? &res->info : NULL, &res->kernel_info);
		return true;
	}
	r = reallocarray(ls->rows, ls->n + 1, sizeof(*r));
	if (!r) {
		ls->oom = true;
		return false;
	}
	ls->rows = r;
	r = &ls->rows[ls->n++];
	r->id = res->kernel_info.id;
	snprintf(r->name, sizeof(r->name), "%s", res->kernel_info.name);
	snprintf(r->type, sizeof(r->type), "%s", kind);
	snprintf(r->loaded_at, sizeof(r->loaded_at), "%s", res->kernel_info.loaded_at);
	r->damaged = res->has_info && res->info.record_damaged[0];
	src = !res->has_info ? "" : res->info.source[0] ? res->info.source : "unknown";
	if (strlen(src) >= sizeof(r->source))
		snprintf(r->source, sizeof(r->source), "%.*s...", (int)sizeof(r->source) - 4, src);
	else
		memcpy(r->source, src, strlen(src) + 1);
	return true;
}

static void print_rows(const struct list_state *ls)
{
	size_t i, wid = strlen("Program ID"), wn = strlen("Name"), wt = strlen("Type");
	size_t wl = strlen("Load Time");
	char id[16];

	for (i = 0; i < ls->n; i++) {
		snprintf(id, sizeof(id), "%u", ls->rows[i].id);
		if (strlen(id) > wid)
			wid = strlen(id);
		if (strlen(ls->rows[i].name) > wn)
			wn = strlen(ls->rows[i].name);
		if (strlen(ls->rows[i].type) > wt)
			wt = strlen(ls->rows[i].type);
		if (strlen(ls->rows[i].loaded_at) > wl)
			wl = strlen(ls->rows[i].loaded_at);
	}
	printf(" %-*s  %-*s  %-*s  %-*s  %s\n", (int)wid, "Program ID", (int)wn, "Name",
	       (int)wt, "Type", (int)wl, "Load Time", "Source");
	for (i = 0; i < ls->n; i++)
		printf(" %-*u  %-*s  %-*s  %-*s  %s%s\n", (int)wid, ls->rows[i].id, (int)wn,
		       ls->rows[i].name, (int)wt, ls->rows[i].type, (int)wl,
		       ls->rows[i].loaded_at, ls->rows[i].source,
		       ls->rows[i].damaged ? "  (record damaged)" : "");
	printf("\n");
}

/* K=V pairs from -m (each may be a comma list) into the request. */
static int add_selectors(const struct list_opts *o, bpfd_v1_ListRequest *req)
{
	bpfd_v1_ListRequest_MatchMetadataEntry *e;
	const char *p, *end;
	size_t i, max = sizeof(req->match_metadata) / sizeof(req->match_metadata[0]);
	int err;

	for (i = 0; i < o->metadata.n; i++) {
		for (p = o->metadata.v[i]; *p; p = *end ? end + 1 : end) {
			end = p + strcspn(p, ",");
			if (req->match_metadata_count >= max)
				return bpfctl_too_many(&list_spec, "--metadata-selector pairs", max);
			e = &req->match_metadata[req->match_metadata_count];
			err = bpfctl_kv(&list_spec, "--metadata-selector", p, end - p, e->key,
					sizeof(e->key), e->value, sizeof(e->value));
			if (err)
				return err;
			req->match_metadata_count++;
		}
	}
	return 0;
}

int bpfctl_list(int argc, char **argv)
{
	struct list_opts o = { 0 };
	struct list_state ls = { 0 };
	bpfd_v1_ListRequest *req = NULL;
	bpfd_v1_ListResponse resp = { .results = { .funcs.decode = result_decode, .arg = &ls } };
	uint32_t type;
	int idx, rc = 2;

	idx = bpfctl_parse(&list_spec, &o, argc, argv, NULL, 0);
	if (idx < 0) {
		rc = opts_exit_code(idx);
		goto out;
	}
	if (bpfctl_common_check(&list_spec, &o.c))
		goto out;
	req = calloc(1, sizeof(*req));
	ls.res = calloc(1, sizeof(*ls.res));
	if (!req || !ls.res) {
		rc = bpfctl_error(&o.c, "Out of memory");
		goto out;
	}
	if (o.type) {
		if (!strcmp(o.type, "tc") || !strcmp(o.type, "tcx"))
			ls.kind = o.type;
		if (show_prog_type_parse(ls.kind ? "tc" : o.type, &type)) {
			opts_usage_error(&list_spec, "unknown program type '%s'", o.type);
			goto out;
		}
		req->has_program_type = true;
		req->program_type = type;
	}
	req->has_bpfd_programs_only = true;
	req->bpfd_programs_only = !o.all;
	if (add_selectors(&o, req))
		goto out;
	if (bpfctl_json(&o.c)) {
		ls.o = out_new(stdout, true, true);
		if (!ls.o) {
			rc = bpfctl_error(&o.c, "Out of memory");
			goto out;
		}
		out_begin_list(ls.o, NULL);
	}
	rc = bpfctl_call(&o.c, "/bpfd.v1.Bpfd/List", bpfd_v1_ListRequest_fields, req,
			 bpfd_v1_ListResponse_fields, &resp);
	if (rc)
		goto out;
	if (ls.o) {
		out_end(ls.o);
		rc = out_finish(ls.o) ? bpfctl_error(&o.c, "Out of memory") : 0;
		ls.o = NULL;
	} else {
		print_rows(&ls);
	}
out:
	out_free(ls.o);
	free(ls.rows);
	free(ls.res);
	free(req);
	str_list_free(&o.metadata);
	return rc;
}
