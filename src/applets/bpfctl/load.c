/* SPDX-License-Identifier: Apache-2.0 */
/* load.c - bpfctl load-from-file and load-from-image: load one program and attach it */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/base64.h>

#include "applets/bpfctl/bpfctl.h"
#include "core/base/chain.h"
#include "core/image/pull.h"

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

/* One struct for the options before and after the KIND: after it, the KIND's
 * options and load-from-file's own (-g, -m, -o json, --endpoint ...) are parsed
 * together. */
struct load_opts {
	struct bpfctl_common c;
	const char *path;
	const char *image_url;
	const char *auth;
	const char *policy;
	const char *name;
	struct str_list globals;
	struct str_list metadata;
	const char *map_owner;
	struct kind_opts k;
};

#define KO struct load_opts

/* The options the xdp, tc and tcx kinds share. */
#define KO_IFACE OPT_STR("iface", 'i', KO, k.iface, "IFACE", "interface to attach to (required)")
#define KO_DIRECTION OPT_STR("direction", 'd', KO, k.direction, "DIR", "ingress or egress (required)")
#define KO_PRIORITY OPT_STR("priority", 'p', KO, k.priority, "PRIORITY",	\
			    "0 or more; lower runs first (required)")
#define KO_PROCEED_ON(help) OPT_LISTN("proceed-on", 0, KO, k.proceed_on, "ACTION...", help)

static const struct opt xdp_optv[] = {
	KO_IFACE,
	KO_PRIORITY,
	KO_PROCEED_ON("continue the chain after these actions: aborted, drop, pass, tx, redirect,\n"
		      "                             dispatcher_return (default: pass dispatcher_return);\n"
		      "                             several, repeated or a comma list; refused where the program\n"
		      "                             would be attached directly (no dispatcher)"),
	OPT_END
};

static const struct opt tc_optv[] = {
	KO_IFACE,
	KO_DIRECTION,
	KO_PRIORITY,
	KO_PROCEED_ON("continue after: unspec, ok, reclassify, shot, pipe, stolen, queued, repeat,\n"
		      "                             redirect, trap, dispatcher_return (default: pipe dispatcher_return);\n"
		      "                             several, repeated or a comma list; refused where the program\n"
		      "                             would be attached directly (no dispatcher)"),
	OPT_END
};

static const struct opt tcx_optv[] = {
	KO_IFACE,
	KO_DIRECTION,
	KO_PRIORITY,
	OPT_END
};

static const struct opt tracepoint_optv[] = {
	OPT_STR("tracepoint", 't', KO, k.tracepoint, "CATEGORY/NAME",
		"tracepoint to attach to, e.g. syscalls/sys_enter_openat (required)"),
	OPT_END
};

static const struct opt kprobe_optv[] = {
	OPT_STR("fn-name", 'f', KO, k.fn_name, "FUNCTION", "kernel function (required)"),
	OPT_U64("offset", 'o', KO, k.offset, "OFFSET", "bytes into the function (not with -r)"),
	OPT_FLAG("retprobe", 'r', KO, k.retprobe,
		 "a kretprobe: fire on return (the program's section must be kretprobe)"),
	OPT_STR("namespace", 'n', KO, k.ns, "NS", "not supported"),
	OPT_END
};

static const struct opt uprobe_optv[] = {
	OPT_STR("target", 't', KO, k.target, "TARGET",
		"absolute path of a binary or library, or a library name such as libc (required)"),
	OPT_STR("fn-name", 'f', KO, k.fn_name, "FUNCTION", "function in TARGET"),
	OPT_U64("offset", 'o', KO, k.offset, "OFFSET",
		"bytes after FUNCTION, or the file offset without -f (not with -r)"),
	OPT_FLAG("retprobe", 'r', KO, k.retprobe,
		 "a uretprobe: fire on return (the program's section must be uretprobe)"),
	OPT_STR("pid", 'p', KO, k.pid, "PID", "fire only in this process"),
	OPT_STR("namespace", 'n', KO, k.ns, "NS", "not supported"),
	OPT_END
};

static const struct opt fentry_optv[] = {
	OPT_STR("fn-name", 'f', KO, k.fn_name, "FUNCTION",
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

#define LOAD_KINDS(K)								\
	K("xdp", xdp_optv, "Attach to an interface's XDP hook (multi-program dispatcher).") \
	K("tc", tc_optv, "Attach to an interface's TC hook (multi-program dispatcher).") \
	K("tcx", tcx_optv, "Attach to an interface's TCX hook (kernel 6.6 or later).") \
	K("tracepoint", tracepoint_optv, "Attach to a kernel tracepoint.")		\
	K("kprobe", kprobe_optv, "Attach to a kernel function (kprobe, or kretprobe with -r).") \
	K("uprobe", uprobe_optv,						\
	  "Attach to a function of a binary or library (uprobe, or uretprobe with -r).") \
	K("fentry", fentry_optv, "Attach to the entry of a kernel function (BTF).")	\
	K("fexit", fentry_optv, "Attach to the exit of a kernel function (BTF).")

static const struct kind kinds[] = {
#define KIND_ENTRY(n, o, d) { n, o, d },
	LOAD_KINDS(KIND_ENTRY)
#undef KIND_ENTRY
};

/* A KIND name ends the values of -g and --proceed-on ("-g A=01 B=02 xdp ..."). */
static const char *const kind_names[] = {
#define KIND_NAME(n, o, d) n,
	LOAD_KINDS(KIND_NAME)
#undef KIND_NAME
	NULL
};

#define LOAD_COMMON_OPTS							\
	OPT_LISTN("global", 'g', struct load_opts, globals, "NAME=HEX...",	\
		  "set global variable NAME to the bytes HEX (exactly its size); repeatable,\n" \
		  "                             or several: -g A=01 B=0200"),	\
	OPT_LIST("metadata", 'm', struct load_opts, metadata, "KEY=VALUE[,...]", \
		 "metadata stored with the program; repeatable"),		\
	OPT_STR("map-owner-id", 0, struct load_opts, map_owner, "ID",		\
		"share the maps of program ID (loaded by bpfd) instead of creating new ones"), \
	BPFCTL_COMMON_OPTS(struct load_opts)

static const struct opt file_optv[] = {
	OPT_STR("path", 'p', struct load_opts, path, "PATH",
		"the BPF ELF object file (required; relative paths are made absolute)"),
	OPT_STR("name", 'n', struct load_opts, name, "FUNCTION",
		"the program's function name in the object (required)"),
	LOAD_COMMON_OPTS,
	OPT_END
};

static const struct opt image_optv[] = {
	BPFCTL_IMAGE_OPTS(struct load_opts),
	OPT_STR("name", 'n', struct load_opts, name, "FUNCTION",
		"the program's function name (default: the image's label)"),
	LOAD_COMMON_OPTS,
	OPT_END
};

#define KINDS_FOOTER								\
	"Kinds:\n"								\
	"  xdp -i IFACE -p PRIORITY [--proceed-on ACTION]...\n"			\
	"  tc -i IFACE -d ingress|egress -p PRIORITY [--proceed-on ACTION]...\n"	\
	"  tcx -i IFACE -d ingress|egress -p PRIORITY\n"				\
	"  tracepoint -t CATEGORY/NAME\n"					\
	"  kprobe -f FUNCTION [-o OFFSET] [-r]\n"				\
	"  uprobe -t TARGET [-f FUNCTION] [-o OFFSET] [-r] [--pid PID]\n"	\
	"  fentry -f FUNCTION\n"						\
	"  fexit -f FUNCTION"

static const struct opts_spec file_spec = {
	.prog = "bpfctl load-from-file",
	.usage = "bpfctl load-from-file -p PATH -n FUNCTION [-g NAME=HEX]... [-m KEY=VALUE]...\n"
		 "    [--map-owner-id ID] KIND [KIND OPTIONS] [OPTIONS]",
	.desc = "Load the program FUNCTION from the ELF object PATH and attach it.  The ELF\n"
		"section of FUNCTION must be of KIND.  Options of the KIND come after it\n"
		"('bpfctl load-from-file KIND --help'); the options below may come there\n"
		"too, where a letter the KIND uses means the KIND's option (xdp -p is the\n"
		"priority, kprobe -o the offset: use --path, --output there).",
	.optv = file_optv,
	.list_stop = kind_names,
	.footer = KINDS_FOOTER,
};

static const struct opts_spec image_spec = {
	.prog = "bpfctl load-from-image",
	.usage = "bpfctl load-from-image -i URL [-r AUTH] [-p POLICY] [-n FUNCTION]\n"
		 "    [-g NAME=HEX]... [-m KEY=VALUE]... [--map-owner-id ID] KIND [KIND OPTIONS] [OPTIONS]",
	.desc = "Load a program from the eBPF bytecode image URL and attach it.  The daemon\n"
		"takes the image from its local store or pulls it, per POLICY: Always (ask\n"
		"the registry every time), IfNotPresent (the default: the stored copy when\n"
		"there is one, without the network) or Never (the stored copy, or an error).\n"
		"The object and FUNCTION's default come from the image's io.ebpf.* labels;\n"
		"a KIND that contradicts the label's program type is refused.  Options of the\n"
		"KIND come after it; a letter the KIND uses means the KIND's option there\n"
		"(xdp -i is the interface, -p the priority: use --image-url, --pull-policy).\n"
		"On a terminal, a pull from the registry shows one line per layer, bytes of\n"
		"its size, above the program (see bpfctl pull-bytecode --help).",
	.optv = image_optv,
	.list_stop = kind_names,
	.footer = KINDS_FOOTER,
};

/* The command being parsed: load-from-file or load-from-image. */
static const struct opts_spec *cur = &file_spec;

/* "NAME=HEX" into the request's global data. */
static int add_global(bpfd_v1_LoadRequest *req, const char *arg)
{
	const char *eq = strchr(arg, '='), *hex;
	bpfd_v1_LoadRequest_GlobalDataEntry *g;
	size_t n, i;
	int hi, lo;

	char what[sizeof(g->key) + 32];

	if (!eq || eq == arg)
		return opts_bad_value(cur, "--global", arg, strlen(arg), "NAME=HEX");
	if ((size_t)(eq - arg) >= sizeof(g->key))
		return bpfctl_too_long(cur, "--global name", eq - arg, sizeof(g->key) - 1);
	if (req->global_data_count == sizeof(req->global_data) / sizeof(req->global_data[0]))
		return bpfctl_too_many(cur, "--global values",
				       sizeof(req->global_data) / sizeof(req->global_data[0]));
	hex = eq + 1;
	if (!strncmp(hex, "0x", 2) || !strncmp(hex, "0X", 2))
		hex += 2;
	n = strlen(hex);
	if (!n || n % 2)
		return opts_usage_error(cur,
					"--global %.*s: '%s' is not an even number of hex digits (at least one byte)",
					(int)(eq - arg), arg, eq + 1);
	g = &req->global_data[req->global_data_count];
	if (n / 2 > sizeof(g->value.bytes)) {
		snprintf(what, sizeof(what), "--global value of '%.*s'", (int)(eq - arg), arg);
		return bpfctl_too_long(cur, what, n / 2, sizeof(g->value.bytes));
	}
	for (i = 0; i < n; i += 2) {
		hi = parse_hex_digit(hex[i]);
		lo = parse_hex_digit(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return opts_usage_error(cur, "--global %.*s: '%s' is not hex",
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
	const char *p = arg, *end;
	size_t max = sizeof(req->metadata) / sizeof(req->metadata[0]);
	int err;

	while (*p) {
		end = p + strcspn(p, ",");
		if (req->metadata_count == max)
			return bpfctl_too_many(cur, "--metadata pairs", max);
		e = &req->metadata[req->metadata_count];
		err = bpfctl_kv(cur, "--metadata", p, end - p, e->key, sizeof(e->key),
				e->value, sizeof(e->value));
		if (err)
			return err;
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
			return bpfctl_too_long(cur, "--path", strlen(path), max - 1);
		strcpy(req->bytecode.location.file, path);
		return 0;
	}
	/* the daemon has another working directory: send an absolute path */
	if (!getcwd(cwd, sizeof(cwd)))
		return opts_usage_error(cur, "cannot make --path '%s' absolute: %s", path,
					strerror(errno));
	n = snprintf(req->bytecode.location.file, max, "%s/%s", cwd, path);
	if (n < 0 || (size_t)n >= max)
		return bpfctl_too_long(cur, "--path made absolute", n < 0 ? 0 : n, max - 1);
	return 0;
}

static int set_copy(const struct opts_spec *spec, char *dst, size_t size, const char *src,
		    const char *what)
{
	if (strlen(src) >= size)
		return bpfctl_too_long(spec, what, strlen(src), size - 1);
	strcpy(dst, src);
	return 0;
}

/* Syntax only, here and below: the daemon says what a value may mean (a priority of 0
 * or more, ingress or egress, a process id). */
static int parse_priority(const struct opts_spec *spec, const char *s, int32_t *ret)
{
	if (!s)
		return opts_usage_error(spec, "missing -p/--priority");
	return bpfctl_priority(spec, s, ret);
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
		return opts_bad_value(spec, "--pid", s, strlen(s), "a number");
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
		       bpfctl_proceed_on(spec, CHAIN_XDP, &ko->proceed_on, x->proceed_on,
					&x->proceed_on_count,
					sizeof(x->proceed_on) / sizeof(x->proceed_on[0]));
	}
	if (!strcmp(k->name, "tc")) {
		ai->which_info = bpfd_v1_AttachInfo_tc_attach_info_tag;
		return set_copy(spec, t->iface, sizeof(t->iface), ko->iface, "--iface") ?:
		       parse_direction(spec, ko->direction, t->direction, sizeof(t->direction)) ?:
		       parse_priority(spec, ko->priority, &t->priority) ?:
		       bpfctl_proceed_on(spec, CHAIN_TC, &ko->proceed_on, t->proceed_on,
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
	/* kprobe, uprobe, fentry, fexit (the last two have none of -n, -o, -r) */
	if (ko->ns)
		return opts_usage_error(spec, "--namespace is not supported");
	if (ko->offset && ko->retprobe)
		return opts_usage_error(spec, "-o/--offset is not allowed with -r/--retprobe");
	if (strcmp(k->name, "uprobe") && !ko->fn_name)
		return opts_usage_error(spec, "missing -f/--fn-name");
	if (!strcmp(k->name, "kprobe")) {
		ai->which_info = bpfd_v1_AttachInfo_kprobe_attach_info_tag;
		kp->offset = ko->offset;
		kp->retprobe = ko->retprobe;
		return set_copy(spec, kp->fn_name, sizeof(kp->fn_name), ko->fn_name, "--fn-name");
	}
	if (!strcmp(k->name, "uprobe")) {
		ai->which_info = bpfd_v1_AttachInfo_uprobe_attach_info_tag;
		if (!ko->target)
			return opts_usage_error(spec, "missing -t/--target (a path or a library name)");
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
	ai->which_info = strcmp(k->name, "fentry") ? bpfd_v1_AttachInfo_fexit_attach_info_tag :
						      bpfd_v1_AttachInfo_fentry_attach_info_tag;
	return set_copy(spec, ai->info.fentry_attach_info.fn_name,
			sizeof(ai->info.fentry_attach_info.fn_name), ko->fn_name, "--fn-name");
}

/* "missing KIND" (name NULL) or "unknown kind NAME", with the kinds there are. */
static int kind_error(const char *name)
{
	char list[128];
	size_t i, n = 0, nk = sizeof(kinds) / sizeof(kinds[0]);

	list[0] = '\0';
	for (i = 0; i < nk; i++)
		n += snprintf(list + n, sizeof(list) - n, "%s%s",
			      !i ? "" : i == nk - 1 ? " or " : ", ", kinds[i].name);
	if (!name)
		return opts_usage_error(cur, "missing KIND: %s", list);
	return opts_usage_error(cur, "unknown kind '%s': %s", name, list);
}

/* The KIND's options, then load-from-file's own (hidden from the KIND's --help), without
 * the letters the KIND uses: *ret to be freed. */
static int kind_optv(const struct kind *k, struct opt **ret)
{
	const struct opt *o, *g;
	struct opt *v;
	size_t n = 0, m = 0;

	for (o = k->optv; o->lname; o++)
		n++;
	for (g = cur->optv; g->lname; g++)
		m++;
	v = calloc(n + m + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v, k->optv, n * sizeof(*v));
	for (g = cur->optv; g->lname; g++) {
		for (o = k->optv; o->lname && strcmp(o->lname, g->lname); o++)
			;
		if (o->lname)
			continue;
		v[n] = *g;
		v[n].hidden = true;
		for (o = k->optv; o->lname; o++)
			if (o->sname && o->sname == g->sname)
				v[n].sname = 0;
		n++;
	}
	*ret = v;
	return 0;
}

/* The KIND and the options after it: argv[0] is the kind name. */
static int parse_kind(struct load_opts *lo, int argc, char **argv, bpfd_v1_LoadRequest *req)
{
	struct opts_spec spec = { 0 };
	char prog[64], usage[160];
	const struct kind *k = NULL;
	struct opt *optv = NULL;
	size_t i;
	int idx;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].name, argv[0]))
			k = &kinds[i];
	if (!k)
		return kind_error(argv[0]);
	if (kind_optv(k, &optv))
		return opts_usage_error(cur, "out of memory");
	snprintf(prog, sizeof(prog), "%s %s", cur->prog, k->name);
	snprintf(usage, sizeof(usage), "%s %s [...] %s [OPTIONS]", cur->prog,
		 cur == &file_spec ? "-p PATH -n FUNCTION" : "-i URL", k->name);
	spec = (struct opts_spec){
		.prog = prog, .usage = usage, .desc = k->desc, .optv = optv,
		.list_stop = kind_names,
		.footer = "The options of the load command (-g, -m, -o, -j, --endpoint ...) may\n"
			  "come here too; a letter this KIND uses is the KIND's option here.",
	};
	idx = opts_parse(&spec, lo, argc, argv);
	if (idx >= 0 && idx < argc)
		idx = opts_usage_error(&spec, "unexpected argument '%s'", argv[idx]);
	if (idx >= 0) {
		req->has_attach = true;
		idx = fill_attach(&spec, k, &lo->k, &req->attach);
	}
	free(optv);
	return idx;
}

static int file_location(struct load_opts *o, bpfd_v1_LoadRequest *req)
{
	if (!o->path)
		return opts_usage_error(cur, "missing -p/--path");
	if (!o->name)
		return opts_usage_error(cur, "missing -n/--name");
	return set_path(req, o->path) ?:
	       set_copy(cur, req->name, sizeof(req->name), o->name, "--name");
}

static int bpfctl_image_auth(const struct opts_spec *spec, const char *auth, bpfd_v1_BytecodeImage *im)
{
	unsigned char buf[sizeof(im->username) + sizeof(im->password)];
	size_t len = 0;
	char *colon;
	int err = 0;

	if (mbedtls_base64_decode(buf, sizeof(buf) - 1, &len, (const unsigned char *)auth,
				  strlen(auth)) ||
	    !(colon = memchr(buf, ':', len))) {
		/* never echo the credentials */
		err = opts_usage_error(spec,
				       "-r/--registry-auth is not base64 of USER:PASSWORD (make it with: printf %%s USER:PASSWORD | base64 -w0)");
		goto out;
	}
	buf[len] = '\0';
	*colon = '\0';
	if (strlen((char *)buf) >= sizeof(im->username) ||
	    strlen(colon + 1) >= sizeof(im->password)) {
		err = opts_usage_error(spec, "-r/--registry-auth: the user name or password is too long");
		goto out;
	}
	im->has_username = im->has_password = true;
	strcpy(im->username, (char *)buf);
	strcpy(im->password, colon + 1);
out:
	explicit_bzero(buf, sizeof(buf));
	return err;
}

int bpfctl_image_fill(const struct opts_spec *spec, const char *url, const char *auth,
		      const char *policy, bpfd_v1_BytecodeImage *im)
{
	int p = IMAGE_PULL_IF_NOT_PRESENT;

	if (!url)
		return opts_usage_error(spec, "missing -i/--image-url");
	if (policy) {
		p = image_pull_policy_parse(policy);
		if (p < 0)
			return opts_bad_value(spec, "--pull-policy", policy, strlen(policy),
					      "Always, IfNotPresent or Never");
	}
	im->image_pull_policy = p;
	if (auth) {
		p = bpfctl_image_auth(spec, auth, im);
		if (p)
			return p;
	}
	return set_copy(spec, im->url, sizeof(im->url), url, "--image-url");
}

static int image_location(struct load_opts *o, bpfd_v1_LoadRequest *req)
{
	req->has_bytecode = true;
	req->bytecode.which_location = bpfd_v1_BytecodeLocation_image_tag;
	return bpfctl_image_fill(cur, o->image_url, o->auth, o->policy,
				 &req->bytecode.location.image) ?:
	       (o->name ? set_copy(cur, req->name, sizeof(req->name), o->name, "--name") : 0);
}

static int build_request(struct load_opts *o, int argc, char **argv, int idx,
			 bpfd_v1_LoadRequest *req)
{
	size_t i;
	int err;

	if (idx >= argc)
		return kind_error(NULL);
	/* the KIND first, so that 'load-from-file KIND --help' works alone */
	err = parse_kind(o, argc - idx, argv + idx, req);
	if (err)
		return err;
	if (bpfctl_common_check(cur, &o->c))
		return OPTS_USAGE;
	err = cur == &file_spec ? file_location(o, req) : image_location(o, req);
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
		err = bpfctl_prog_id(cur, "--map-owner-id", o->map_owner, false,
				     &req->map_owner_id);
		if (err)
			return err;
		req->has_map_owner_id = true;
	}
	return 0;
}

static int load_main(int argc, char **argv)
{
	struct load_opts o = { 0 };
	bpfd_v1_LoadRequest *req = NULL;
	bpfd_v1_LoadResponse *resp = NULL;
	int idx, rc;

	idx = opts_parse(cur, &o, argc, argv);
	if (idx < 0) {
		rc = opts_exit_code(idx);
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
	if (cur == &image_spec)
		rc = bpfctl_call_pull(&o.c, req->bytecode.location.image.url,
				      "/bpfd.v1.Bpfd/Load", bpfd_v1_LoadRequest_fields, req,
				      bpfd_v1_LoadResponse_fields, resp);
	else
		rc = bpfctl_call(&o.c, "/bpfd.v1.Bpfd/Load", bpfd_v1_LoadRequest_fields, req,
				 bpfd_v1_LoadResponse_fields, resp);
	if (!rc && show_program(resp->has_info ? &resp->info : NULL, &resp->kernel_info,
				bpfctl_json(&o.c)))
		rc = bpfctl_error(&o.c, "Out of memory");
out:
	str_list_free(&o.globals);
	str_list_free(&o.metadata);
	str_list_free(&o.k.proceed_on);
	if (req)
		explicit_bzero(req, sizeof(*req));
	free(req);
	free(resp);
	return rc;
}

int bpfctl_load_from_file(int argc, char **argv)
{
	cur = &file_spec;
	return load_main(argc, argv);
}

int bpfctl_load_from_image(int argc, char **argv)
{
	cur = &image_spec;
	return load_main(argc, argv);
}
