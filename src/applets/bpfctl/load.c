/* SPDX-License-Identifier: Apache-2.0 */
/* load.c - bpfctl load-from-file: load one program from an ELF file and attach it */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/bpfctl/bpfctl.h"
#include "core/base/chain.h"

struct load_opts {
	struct bpfctl_common c;
	const char *path;
	const char *name;
	struct str_list globals;
	struct str_list metadata;
	const char *map_owner;
};

/* Options of every kind in one struct; each kind's table uses its own subset. */
struct kind_opts {
	const char *iface;
	const char *direction;
	const char *priority;
	struct str_list proceed_on;
	const char *tracepoint;
	const char *fn_name;
	uint64_t offset;
	bool retprobe;
	const char *target;
	const char *pid;
	const char *ns;
};

static const struct opt load_optv[] = {
	OPT_STR("path", 'p', struct load_opts, path, "PATH",
		"the BPF ELF object file (required; relative paths are made absolute)"),
	OPT_STR("name", 'n', struct load_opts, name, "FUNCTION",
		"the program's function name in the object (required)"),
	OPT_LIST("global", 'g', struct load_opts, globals, "NAME=HEX",
		 "set global variable NAME to the bytes HEX (exactly its size); repeatable"),
	OPT_LIST("metadata", 'm', struct load_opts, metadata, "KEY=VALUE[,...]",
		 "metadata stored with the program; repeatable"),
	OPT_STR("map-owner-id", 0, struct load_opts, map_owner, "ID",
		"share the maps of program ID (loaded by bpfd) instead of creating new ones"),
	BPFCTL_COMMON_OPTS(struct load_opts),
	OPT_END
};

static const struct opts_spec load_spec = {
	.prog = "bpfctl load-from-file",
	.usage = "bpfctl load-from-file -p PATH -n FUNCTION [-g NAME=HEX]... [-m KEY=VALUE]...\n"
		 "    [--map-owner-id ID] KIND [KIND OPTIONS]",
	.desc = "Load the program FUNCTION from the ELF object PATH and attach it.  The ELF\n"
		"section of FUNCTION must be of KIND.  Options of the KIND come after it\n"
		"('bpfctl load-from-file KIND --help').",
	.optv = load_optv,
	.footer = "Kinds:\n"
		  "  xdp -i IFACE -p PRIORITY [--proceed-on ACTION]...\n"
		  "  tc -i IFACE -d ingress|egress -p PRIORITY [--proceed-on ACTION]...\n"
		  "  tcx -i IFACE -d ingress|egress -p PRIORITY\n"
		  "  tracepoint -t CATEGORY/NAME\n"
		  "  kprobe -f FUNCTION [-o OFFSET] [-r]\n"
		  "  uprobe -t TARGET [-f FUNCTION] [-o OFFSET] [-r] [--pid PID]\n"
		  "  fentry -f FUNCTION\n"
		  "  fexit -f FUNCTION",
};

#define KO struct kind_opts

/* The options the xdp, tc and tcx kinds share. */
#define KO_IFACE OPT_STR("iface", 'i', KO, iface, "IFACE", "interface to attach to (required)")
#define KO_DIRECTION OPT_STR("direction", 'd', KO, direction, "DIR", "ingress or egress (required)")
#define KO_PRIORITY OPT_STR("priority", 'p', KO, priority, "PRIORITY",	\
			    "0 or more; lower runs first (required)")
#define KO_PROCEED_ON(help) OPT_LIST("proceed-on", 0, KO, proceed_on, "ACTION[,...]", help)

static const struct opt xdp_optv[] = {
	KO_IFACE,
	KO_PRIORITY,
	KO_PROCEED_ON("continue the chain after these actions: aborted, drop, pass, tx, redirect,\n"
		      "                             dispatcher_return (default: pass,dispatcher_return)"),
	OPT_END
};

static const struct opt tc_optv[] = {
	KO_IFACE,
	KO_DIRECTION,
	KO_PRIORITY,
	KO_PROCEED_ON("continue after: unspec, ok, reclassify, shot, pipe, stolen, queued, repeat,\n"
		      "                             redirect, trap, dispatcher_return (default: pipe,dispatcher_return)"),
	OPT_END
};

static const struct opt tcx_optv[] = {
	KO_IFACE,
	KO_DIRECTION,
	KO_PRIORITY,
	OPT_END
};

static const struct opt tracepoint_optv[] = {
	OPT_STR("tracepoint", 't', KO, tracepoint, "CATEGORY/NAME",
		"tracepoint to attach to, e.g. syscalls/sys_enter_openat (required)"),
	OPT_END
};

static const struct opt kprobe_optv[] = {
	OPT_STR("fn-name", 'f', KO, fn_name, "FUNCTION", "kernel function (required)"),
	OPT_U64("offset", 'o', KO, offset, "OFFSET", "bytes into the function (not with -r)"),
	OPT_FLAG("retprobe", 'r', KO, retprobe,
		 "a kretprobe: fire on return (the program's section must be kretprobe)"),
	OPT_STR("namespace", 'n', KO, ns, "NS", "not supported"),
	OPT_END
};

static const struct opt uprobe_optv[] = {
	OPT_STR("target", 't', KO, target, "TARGET",
		"absolute path of a binary or library, or a library name such as libc (required)"),
	OPT_STR("fn-name", 'f', KO, fn_name, "FUNCTION", "function in TARGET"),
	OPT_U64("offset", 'o', KO, offset, "OFFSET",
		"bytes after FUNCTION, or the file offset without -f (not with -r)"),
	OPT_FLAG("retprobe", 'r', KO, retprobe,
		 "a uretprobe: fire on return (the program's section must be uretprobe)"),
	OPT_STR("pid", 'p', KO, pid, "PID", "fire only in this process"),
	OPT_STR("namespace", 'n', KO, ns, "NS", "not supported"),
	OPT_END
};

static const struct opt fentry_optv[] = {
	OPT_STR("fn-name", 'f', KO, fn_name, "FUNCTION",
		"kernel function, found through the kernel's BTF (required)"),
	OPT_END
};

#undef KO_PROCEED_ON
#undef KO_PRIORITY
#undef KO_DIRECTION
#undef KO_IFACE
#undef KO

struct kind {
	const char *name;
	const struct opt *optv;
	const char *desc;
};

static const struct kind kinds[] = {
	{ "xdp", xdp_optv, "Attach to an interface's XDP hook (multi-program dispatcher)." },
	{ "tc", tc_optv, "Attach to an interface's TC hook (multi-program dispatcher)." },
	{ "tcx", tcx_optv, "Attach to an interface's TCX hook (kernel 6.6 or later)." },
	{ "tracepoint", tracepoint_optv, "Attach to a kernel tracepoint." },
	{ "kprobe", kprobe_optv, "Attach to a kernel function (kprobe, or kretprobe with -r)." },
	{ "uprobe", uprobe_optv,
	  "Attach to a function of a binary or library (uprobe, or uretprobe with -r)." },
	{ "fentry", fentry_optv, "Attach to the entry of a kernel function (BTF)." },
	{ "fexit", fentry_optv, "Attach to the exit of a kernel function (BTF)." },
};

/* "NAME=HEX" into the request's global data. */
static int add_global(bpfd_v1_LoadRequest *req, const char *arg)
{
	const char *eq = strchr(arg, '='), *hex;
	bpfd_v1_LoadRequest_GlobalDataEntry *g;
	size_t n, i;
	int hi, lo;

	if (!eq || eq == arg)
		return opts_usage_error(&load_spec, "--global '%s' is not NAME=HEX", arg);
	if ((size_t)(eq - arg) >= sizeof(g->key))
		return opts_usage_error(&load_spec, "--global name is too long (limit %zu)",
					sizeof(g->key) - 1);
	if (req->global_data_count == sizeof(req->global_data) / sizeof(req->global_data[0]))
		return opts_usage_error(&load_spec, "too many --global values (limit %zu)",
					sizeof(req->global_data) / sizeof(req->global_data[0]));
	hex = eq + 1;
	if (!strncmp(hex, "0x", 2) || !strncmp(hex, "0X", 2))
		hex += 2;
	n = strlen(hex);
	if (!n || n % 2)
		return opts_usage_error(&load_spec,
					"--global %.*s: '%s' is not an even number of hex digits (at least one byte)",
					(int)(eq - arg), arg, eq + 1);
	g = &req->global_data[req->global_data_count];
	if (n / 2 > sizeof(g->value.bytes))
		return opts_usage_error(&load_spec, "--global %.*s: more than %zu bytes",
					(int)(eq - arg), arg, sizeof(g->value.bytes));
	for (i = 0; i < n; i += 2) {
		hi = parse_hex_digit(hex[i]);
		lo = parse_hex_digit(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return opts_usage_error(&load_spec, "--global %.*s: '%s' is not hex",
						(int)(eq - arg), arg, eq + 1);
		g->value.bytes[i / 2] = hi << 4 | lo;
	}
	g->value.size = n / 2;
	memcpy(g->key, arg, eq - arg);
	g->key[eq - arg] = '\0';
	req->global_data_count++;
	return 0;
}

/* "K=V[,K=V...]" into the request's metadata. */
static int add_metadata(bpfd_v1_LoadRequest *req, const char *arg)
{
	bpfd_v1_LoadRequest_MetadataEntry *e;
	const char *p = arg, *end, *eq;
	size_t max = sizeof(req->metadata) / sizeof(req->metadata[0]);

	while (*p) {
		end = p + strcspn(p, ",");
		eq = memchr(p, '=', end - p);
		if (!eq || eq == p)
			return opts_usage_error(&load_spec, "--metadata '%.*s' is not KEY=VALUE",
						(int)(end - p), p);
		if (req->metadata_count == max)
			return opts_usage_error(&load_spec, "too many --metadata pairs (limit %zu)", max);
		e = &req->metadata[req->metadata_count];
		if ((size_t)(eq - p) >= sizeof(e->key) || (size_t)(end - eq - 1) >= sizeof(e->value))
			return opts_usage_error(&load_spec, "--metadata '%.*s' is too long",
						(int)(end - p), p);
		memcpy(e->key, p, eq - p);
		e->key[eq - p] = '\0';
		memcpy(e->value, eq + 1, end - eq - 1);
		e->value[end - eq - 1] = '\0';
		req->metadata_count++;
		p = *end ? end + 1 : end;
	}
	return 0;
}

static int set_path(bpfd_v1_LoadRequest *req, const char *path)
{
	char cwd[PATH_MAX];
	size_t max = sizeof(req->bytecode.location.file);
	int n;

	req->has_bytecode = true;
	req->bytecode.which_location = bpfd_v1_BytecodeLocation_file_tag;
	if (path[0] == '/') {
		if (strlen(path) >= max)
			return opts_usage_error(&load_spec,
						"--path is %zu bytes long; the limit is %zu",
						strlen(path), max - 1);
		strcpy(req->bytecode.location.file, path);
		return 0;
	}
	/* the daemon has another working directory: send an absolute path */
	if (!getcwd(cwd, sizeof(cwd)))
		return opts_usage_error(&load_spec, "cannot make --path '%s' absolute: %s", path,
					strerror(errno));
	n = snprintf(req->bytecode.location.file, max, "%s/%s", cwd, path);
	if (n < 0 || (size_t)n >= max)
		return opts_usage_error(&load_spec, "--path is %d bytes long as an absolute path; the limit is %zu",
					n, max - 1);
	return 0;
}

static int set_copy(const struct opts_spec *spec, char *dst, size_t size, const char *src,
		    const char *what)
{
	if (strlen(src) >= size)
		return opts_usage_error(spec, "%s is %zu bytes long; the limit is %zu", what,
					strlen(src), size - 1);
	strcpy(dst, src);
	return 0;
}

/* Syntax only, here and below: the daemon says what a value may mean (a priority of 0
 * or more, ingress or egress, a process id). */
static int parse_priority(const struct opts_spec *spec, const char *s, int32_t *ret)
{
	int64_t v;

	if (!s)
		return opts_usage_error(spec, "missing -p/--priority");
	if (parse_i64(s, INT32_MIN, INT32_MAX, &v))
		return opts_usage_error(spec, "priority '%s' is not a number", s);
	*ret = v;
	return 0;
}

/* --proceed-on values (repeatable, comma lists) into codes. */
static int parse_proceed_on(const struct opts_spec *spec, enum chain_kind kind,
			    const struct str_list *l, int32_t *codes, pb_size_t *ret_n, size_t max)
{
	char name[32];
	const char *p, *end;
	size_t i, n = 0;

	for (i = 0; i < l->n; i++) {
		for (p = l->v[i]; *p; p = *end ? end + 1 : end) {
			end = p + strcspn(p, ",");
			snprintf(name, sizeof(name), "%.*s", (int)(end - p), p);
			if (n == max)
				return opts_usage_error(spec, "too many --proceed-on values (limit %zu)", max);
			if (chain_action_parse(kind, name, &codes[n]))
				return opts_usage_error(spec,
							"--proceed-on '%s' is not a %s action (see --help)",
							name, chain_kind_str(kind));
			n++;
		}
	}
	*ret_n = n;
	return 0;
}

static int parse_direction(const struct opts_spec *spec, const char *s, char *dst, size_t size)
{
	if (!s)
		return opts_usage_error(spec, "missing -d/--direction (ingress or egress)");
	return set_copy(spec, dst, size, s, "--direction");
}

static int parse_pid(const struct opts_spec *spec, const char *s, int32_t *ret)
{
	int64_t v;

	if (parse_i64(s, INT32_MIN, INT32_MAX, &v))
		return opts_usage_error(spec, "--pid '%s' is not a number", s);
	*ret = v;
	return 0;
}

/* Fill the request's attach info from the kind's options. */
static int fill_attach(const struct opts_spec *spec, const struct kind *k,
		       const struct kind_opts *ko, bpfd_v1_AttachInfo *ai)
{
	bpfd_v1_XDPAttachInfo *x = &ai->info.xdp_attach_info;
	bpfd_v1_TCAttachInfo *t = &ai->info.tc_attach_info;
	bpfd_v1_TCXAttachInfo *tx = &ai->info.tcx_attach_info;
	bpfd_v1_KprobeAttachInfo *kp = &ai->info.kprobe_attach_info;
	bpfd_v1_UprobeAttachInfo *u = &ai->info.uprobe_attach_info;
	int err;

	if ((!strcmp(k->name, "xdp") || !strncmp(k->name, "tc", 2)) && !ko->iface)
		return opts_usage_error(spec, "missing -i/--iface");
	if (!strcmp(k->name, "xdp")) {
		ai->which_info = bpfd_v1_AttachInfo_xdp_attach_info_tag;
		return set_copy(spec, x->iface, sizeof(x->iface), ko->iface, "--iface") ?:
		       parse_priority(spec, ko->priority, &x->priority) ?:
		       parse_proceed_on(spec, CHAIN_XDP, &ko->proceed_on, x->proceed_on,
					&x->proceed_on_count,
					sizeof(x->proceed_on) / sizeof(x->proceed_on[0]));
	}
	if (!strcmp(k->name, "tc")) {
		ai->which_info = bpfd_v1_AttachInfo_tc_attach_info_tag;
		return set_copy(spec, t->iface, sizeof(t->iface), ko->iface, "--iface") ?:
		       parse_direction(spec, ko->direction, t->direction, sizeof(t->direction)) ?:
		       parse_priority(spec, ko->priority, &t->priority) ?:
		       parse_proceed_on(spec, CHAIN_TC, &ko->proceed_on, t->proceed_on,
					&t->proceed_on_count,
					sizeof(t->proceed_on) / sizeof(t->proceed_on[0]));
	}
	if (!strcmp(k->name, "tcx")) {
		ai->which_info = bpfd_v1_AttachInfo_tcx_attach_info_tag;
		return set_copy(spec, tx->iface, sizeof(tx->iface), ko->iface, "--iface") ?:
		       parse_direction(spec, ko->direction, tx->direction, sizeof(tx->direction)) ?:
		       parse_priority(spec, ko->priority, &tx->priority);
	}
	if (!strcmp(k->name, "tracepoint")) {
		ai->which_info = bpfd_v1_AttachInfo_tracepoint_attach_info_tag;
		if (!ko->tracepoint)
			return opts_usage_error(spec, "missing -t/--tracepoint CATEGORY/NAME");
		return set_copy(spec, ai->info.tracepoint_attach_info.tracepoint,
				sizeof(ai->info.tracepoint_attach_info.tracepoint), ko->tracepoint,
				"--tracepoint");
	}
	if (ko->ns)
		return opts_usage_error(spec, "--namespace is not supported");
	if (!strcmp(k->name, "kprobe")) {
		ai->which_info = bpfd_v1_AttachInfo_kprobe_attach_info_tag;
		if (!ko->fn_name)
			return opts_usage_error(spec, "missing -f/--fn-name");
		if (ko->offset && ko->retprobe)
			return opts_usage_error(spec, "-o/--offset is not allowed with -r/--retprobe");
		kp->offset = ko->offset;
		kp->retprobe = ko->retprobe;
		return set_copy(spec, kp->fn_name, sizeof(kp->fn_name), ko->fn_name, "--fn-name");
	}
	if (!strcmp(k->name, "uprobe")) {
		ai->which_info = bpfd_v1_AttachInfo_uprobe_attach_info_tag;
		if (!ko->target)
			return opts_usage_error(spec, "missing -t/--target (a path or a library name)");
		if (ko->offset && ko->retprobe)
			return opts_usage_error(spec, "-o/--offset is not allowed with -r/--retprobe");
		u->offset = ko->offset;
		u->retprobe = ko->retprobe;
		if (ko->fn_name) {
			u->has_fn_name = true;
			err = set_copy(spec, u->fn_name, sizeof(u->fn_name), ko->fn_name, "--fn-name");
			if (err)
				return err;
		}
		if (ko->pid) {
			u->has_pid = true;
			err = parse_pid(spec, ko->pid, &u->pid);
			if (err)
				return err;
		}
		return set_copy(spec, u->target, sizeof(u->target), ko->target, "--target");
	}
	/* fentry, fexit */
	if (!ko->fn_name)
		return opts_usage_error(spec, "missing -f/--fn-name");
	ai->which_info = strcmp(k->name, "fentry") ? bpfd_v1_AttachInfo_fexit_attach_info_tag :
						      bpfd_v1_AttachInfo_fentry_attach_info_tag;
	return set_copy(spec, ai->info.fentry_attach_info.fn_name,
			sizeof(ai->info.fentry_attach_info.fn_name), ko->fn_name, "--fn-name");
}

/* The KIND and its options: argv[0] is the kind name. */
static int parse_kind(int argc, char **argv, bpfd_v1_LoadRequest *req)
{
	struct kind_opts ko = { 0 };
	struct opts_spec spec = { 0 };
	char prog[64], usage[160];
	const struct kind *k = NULL;
	size_t i;
	int idx, err;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].name, argv[0]))
			k = &kinds[i];
	if (!k)
		return opts_usage_error(&load_spec,
					"unknown kind '%s': xdp, tc, tcx, tracepoint, kprobe, uprobe, fentry or fexit",
					argv[0]);
	snprintf(prog, sizeof(prog), "bpfctl load-from-file %s", k->name);
	snprintf(usage, sizeof(usage), "bpfctl load-from-file -p PATH -n FUNCTION [...] %s [OPTIONS]",
		 k->name);
	spec = (struct opts_spec){ .prog = prog, .usage = usage, .desc = k->desc, .optv = k->optv };
	idx = opts_parse(&spec, &ko, argc, argv);
	if (idx < 0) {
		str_list_free(&ko.proceed_on);
		return idx;
	}
	if (idx < argc) {
		str_list_free(&ko.proceed_on);
		return opts_usage_error(&spec, "unexpected argument '%s'", argv[idx]);
	}
	req->has_attach = true;
	err = fill_attach(&spec, k, &ko, &req->attach);
	str_list_free(&ko.proceed_on);
	return err;
}

static int build_request(struct load_opts *o, int argc, char **argv, int idx,
			 bpfd_v1_LoadRequest *req)
{
	uint64_t owner;
	size_t i;
	int err;

	if (idx >= argc)
		return opts_usage_error(&load_spec,
					"missing KIND: xdp, tc, tcx, tracepoint, kprobe, uprobe, fentry or fexit");
	/* the KIND first, so that 'load-from-file KIND --help' works alone */
	err = parse_kind(argc - idx, argv + idx, req);
	if (err)
		return err;
	if (!o->path)
		return opts_usage_error(&load_spec, "missing -p/--path");
	if (!o->name)
		return opts_usage_error(&load_spec, "missing -n/--name");
	err = set_path(req, o->path);
	if (err)
		return err;
	err = set_copy(&load_spec, req->name, sizeof(req->name), o->name, "--name");
	if (err)
		return err;
	for (i = 0; i < o->globals.n; i++) {
		err = add_global(req, o->globals.v[i]);
		if (err)
			return err;
	}
	for (i = 0; i < o->metadata.n; i++) {
		err = add_metadata(req, o->metadata.v[i]);
		if (err)
			return err;
	}
	if (o->map_owner) {
		if (parse_u64(o->map_owner, UINT32_MAX, &owner) || !owner)
			return opts_usage_error(&load_spec, "--map-owner-id '%s' is not a program id",
						o->map_owner);
		req->has_map_owner_id = true;
		req->map_owner_id = owner;
	}
	return 0;
}

int bpfctl_load_from_file(int argc, char **argv)
{
	struct load_opts o = { 0 };
	bpfd_v1_LoadRequest *req = NULL;
	bpfd_v1_LoadResponse *resp = NULL;
	int idx, rc;

	idx = opts_parse(&load_spec, &o, argc, argv);
	if (idx < 0) {
		rc = opts_exit_code(idx);
		goto out;
	}
	if (bpfctl_common_check(&load_spec, &o.c)) {
		rc = 2;
		goto out;
	}
	req = calloc(1, sizeof(*req));
	resp = calloc(1, sizeof(*resp));
	if (!req || !resp) {
		rc = bpfctl_error(&o.c, "Out of memory");
		goto out;
	}
	idx = build_request(&o, argc, argv, idx, req);
	if (idx < 0) {
		rc = opts_exit_code(idx);
		goto out;
	}
	rc = bpfctl_call(&o.c, "/bpfd.v1.Bpfd/Load", bpfd_v1_LoadRequest_fields, req,
			 bpfd_v1_LoadResponse_fields, resp);
	if (!rc && show_program(resp->has_info ? &resp->info : NULL, &resp->kernel_info,
				bpfctl_json(&o.c)))
		rc = bpfctl_error(&o.c, "Out of memory");
out:
	str_list_free(&o.globals);
	str_list_free(&o.metadata);
	free(req);
	free(resp);
	return rc;
}
