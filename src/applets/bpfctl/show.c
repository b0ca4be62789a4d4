/* SPDX-License-Identifier: Apache-2.0 */
/* show.c - bpfctl: a program as the two tables of the original bpfctl
 * ("Bpfd State", "Kernel State") or as JSON with snake_case keys */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "applets/bpfctl/bpfctl.h"
#include "core/base/chain.h"

/* Kernel enum bpf_prog_type order; the names `list -p` takes (reference-bpfd.md 2.1). */
static const char *const prog_types[] = {
	"unspec", "socket-filter", "kprobe", "tc", "sched-act", "tracepoint", "xdp",
	"perf-event", "cgroup-skb", "cgroup-sock", "lwt-in", "lwt-out", "lwt-xmit",
	"sock-ops", "sk-skb", "cgroup-device", "sk-msg", "raw-tracepoint",
	"cgroup-sock-addr", "lwt-seg6-local", "lirc-mode2", "sk-reuseport",
	"flow-dissector", "cgroup-sysctl", "raw-tracepoint-writable", "cgroup-sockopt",
	"tracing", "struct-ops", "ext", "lsm", "sk-lookup", "syscall", "netfilter",
};
#define N_PROG_TYPES (sizeof(prog_types) / sizeof(prog_types[0]))

const char *show_prog_type(uint32_t type, char *buf, size_t size)
{
	char *p;

	if (type == 2) {
		snprintf(buf, size, "probe");	/* the original's name for k/uprobes */
		return buf;
	}
	if (type >= N_PROG_TYPES) {
		snprintf(buf, size, "unknown(%" PRIu32 ")", type);
		return buf;
	}
	snprintf(buf, size, "%s", prog_types[type]);
	for (p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
	return buf;
}

const char *show_prog_kind(const bpfd_v1_ProgramInfo *info, uint32_t type, char *buf,
			   size_t size)
{
	/* TCX programs are SCHED_CLS in the kernel, as TC ones: bpfd's view tells them apart */
	if (info && info->has_attach &&
	    info->attach.which_info == bpfd_v1_AttachInfo_tcx_attach_info_tag) {
		snprintf(buf, size, "tcx");
		return buf;
	}
	return show_prog_type(type, buf, size);
}

int show_prog_type_parse(const char *s, uint32_t *ret)
{
	uint64_t v;
	size_t i, j;

	if (!parse_u64(s, UINT32_MAX, &v)) {
		*ret = v;
		return 0;
	}
	if (!strcmp(s, "probe") || !strcmp(s, "uprobe")) {
		*ret = 2;
		return 0;
	}
	for (i = 0; i < N_PROG_TYPES; i++) {
		for (j = 0; s[j] && prog_types[i][j]; j++)
			if (s[j] != prog_types[i][j] && !(s[j] == '_' && prog_types[i][j] == '-'))
				break;
		if (!s[j] && !prog_types[i][j]) {
			*ret = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The name of a proceed-on code (core/base/chain.h), or the number when the
 * daemon sent one the chain model does not know. */
static const char *action_name(enum chain_kind kind, int32_t a, char *buf, size_t size)
{
	const char *name = chain_action_str(kind, a);

	if (name)
		return name;
	snprintf(buf, size, "%d", a);
	return buf;
}

/* ---- one program: a table per section in text, an object in JSON ---- */

static const char *pull_policy(int32_t p)
{
	return p == 0 ? "Always" : p == 1 ? "IfNotPresent" : p == 2 ? "Never" : "Unknown";
}

/* A string the tables show as "None" when empty; JSON has it as it is. */
static void str_or_none(struct out *o, const char *key, const char *fmt, const char *v)
{
	out_str(o, key, NULL, v);
	out_text(o, fmt, v[0] ? v : "None");
}

/* A field the message may lack: JSON leaves it out, the tables say "None". */
static void opt_str(struct out *o, bool has, const char *key, const char *fmt,
		    const char *v)
{
	if (has)
		out_str(o, key, fmt, v);
	else
		out_text(o, fmt, "None");
}

/* The fields the XDP, TC and TCX attach infos share, so that one printer
 * serves the three. */
struct hook_info {
	const char *json_key;
	enum chain_kind kind;		/* whose action codes proceed_on holds */
	int32_t priority;
	const char *iface;
	int32_t position;
	const char *direction;		/* NULL: XDP has none */
	const int32_t *proceed_on;	/* NULL: TCX has none */
	size_t proceed_on_count;
};

/* Fill h when a is an XDP, TC or TCX attach info. */
static bool hook_info_get(const bpfd_v1_AttachInfo *a, struct hook_info *h)
{
	const bpfd_v1_XDPAttachInfo *x = &a->info.xdp_attach_info;
	const bpfd_v1_TCAttachInfo *tc = &a->info.tc_attach_info;
	const bpfd_v1_TCXAttachInfo *tcx = &a->info.tcx_attach_info;

	switch (a->which_info) {
	case bpfd_v1_AttachInfo_xdp_attach_info_tag:
		*h = (struct hook_info){
			.json_key = "xdp_attach_info", .kind = CHAIN_XDP, .priority = x->priority,
			.iface = x->iface, .position = x->position,
			.proceed_on = x->proceed_on, .proceed_on_count = x->proceed_on_count,
		};
		return true;
	case bpfd_v1_AttachInfo_tc_attach_info_tag:
		*h = (struct hook_info){
			.json_key = "tc_attach_info", .kind = CHAIN_TC, .priority = tc->priority,
			.iface = tc->iface, .position = tc->position, .direction = tc->direction,
			.proceed_on = tc->proceed_on, .proceed_on_count = tc->proceed_on_count,
		};
		return true;
	case bpfd_v1_AttachInfo_tcx_attach_info_tag:
		*h = (struct hook_info){
			.json_key = "tcx_attach_info", .kind = CHAIN_TCX, .priority = tcx->priority,
			.iface = tcx->iface, .position = tcx->position, .direction = tcx->direction,
		};
		return true;
	}
	return false;
}

/* Proceed-on: JSON the codes, the table their names ("pass, dispatcher_return"). */
static void proceed_on_fields(struct out *o, const struct hook_info *h)
{
	char names[512] = "", tmp[16];
	size_t i, len = 0;
	int32_t a;

	out_begin_list(o, "proceed_on");
	for (i = 0; i < h->proceed_on_count; i++) {
		a = h->proceed_on[i];
		out_i64(o, NULL, NULL, a);
		if (len < sizeof(names))
			len += snprintf(names + len, sizeof(names) - len, "%s%s",
					i ? ", " : "",
					action_name(h->kind, a, tmp, sizeof(tmp)));
	}
	out_end(o);
	out_text(o, "Proceed On:\t%s", names);
}

static void hook_fields(struct out *o, const struct hook_info *h)
{
	const char *d = h->direction;

	out_begin_object(o, h->json_key);
	out_i64(o, "priority", "Priority:\t%lld", h->priority);
	out_str(o, "iface", "Iface:\t%s", h->iface);
	out_i64(o, "position", "Position:\t%lld", h->position);
	if (d) {
		out_str(o, "direction", NULL, d);
		out_text(o, "Direction:\t%s", !strcmp(d, "ingress") ? "in" :
			 !strcmp(d, "egress") ? "eg" : d);
	}
	if (h->proceed_on)
		proceed_on_fields(o, h);
	out_end(o);
}

static void kprobe_fields(struct out *o, const bpfd_v1_KprobeAttachInfo *kp)
{
	out_begin_object(o, "kprobe_attach_info");
	out_text(o, "Probe Type:\t%s", kp->retprobe ? "kretprobe" : "kprobe");
	out_str(o, "fn_name", "Function Name:\t%s", kp->fn_name);
	out_u64(o, "offset", "Offset:\t%llu", kp->offset);
	out_bool(o, "retprobe", NULL, kp->retprobe);
	opt_str(o, kp->has_namespace, "namespace", "Namespace:\t%s", kp->namespace);
	out_end(o);
}

static void uprobe_fields(struct out *o, const bpfd_v1_UprobeAttachInfo *up)
{
	out_begin_object(o, "uprobe_attach_info");
	out_text(o, "Probe Type:\t%s", up->retprobe ? "uretprobe" : "uprobe");
	opt_str(o, up->has_fn_name, "fn_name", "Function Name:\t%s", up->fn_name);
	out_u64(o, "offset", "Offset:\t%llu", up->offset);
	out_str(o, "target", "Target:\t%s", up->target);
	out_bool(o, "retprobe", NULL, up->retprobe);
	if (up->has_pid)
		out_i64(o, "pid", "PID:\t%lld", up->pid);
	else
		out_text(o, "PID:\t0");
	opt_str(o, up->has_namespace, "namespace", "Namespace:\t%s", up->namespace);
	out_end(o);
}

/* fentry/fexit: fn_name only. */
static void trampoline_fields(struct out *o, const char *key, const char *type,
			      const char *fn_name)
{
	out_begin_object(o, key);
	out_text(o, "Probe Type:\t%s", type);
	out_str(o, "fn_name", "Function Name:\t%s", fn_name);
	out_end(o);
}

static void attach_fields(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	const bpfd_v1_AttachInfo *a = &p->attach;
	struct hook_info h;

	if (!p->has_attach)
		return;
	out_begin_object(o, "attach");
	if (hook_info_get(a, &h))
		hook_fields(o, &h);
	switch (a->which_info) {
	case bpfd_v1_AttachInfo_tracepoint_attach_info_tag:
		out_begin_object(o, "tracepoint_attach_info");
		out_str(o, "tracepoint", "Tracepoint:\t%s",
			a->info.tracepoint_attach_info.tracepoint);
		out_end(o);
		break;
	case bpfd_v1_AttachInfo_kprobe_attach_info_tag:
		kprobe_fields(o, &a->info.kprobe_attach_info);
		break;
	case bpfd_v1_AttachInfo_uprobe_attach_info_tag:
		uprobe_fields(o, &a->info.uprobe_attach_info);
		break;
	case bpfd_v1_AttachInfo_fentry_attach_info_tag:
		trampoline_fields(o, "fentry_attach_info", "fentry",
				  a->info.fentry_attach_info.fn_name);
		break;
	case bpfd_v1_AttachInfo_fexit_attach_info_tag:
		trampoline_fields(o, "fexit_attach_info", "fexit",
				  a->info.fexit_attach_info.fn_name);
		break;
	}
	out_end(o);
}

static void name_field(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	str_or_none(o, "name", "Name:\t%s", p->name);
}

static void bytecode_fields(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	const bpfd_v1_BytecodeLocation *b = &p->bytecode;
	const bpfd_v1_BytecodeImage *img = &b->location.image;

	if (!p->has_bytecode)
		return;
	out_begin_object(o, "bytecode");
	if (b->which_location == bpfd_v1_BytecodeLocation_image_tag) {
		out_begin_object(o, "image");
		out_str(o, "url", "Image URL:\t%s", img->url);
		out_i64(o, "image_pull_policy", NULL, img->image_pull_policy);
		out_text(o, "Pull Policy:\t%s", pull_policy(img->image_pull_policy));
		out_end(o);
		if (p->image_digest[0])
			out_str(o, "image_digest", "Image Digest:\t%s", p->image_digest);
	} else if (b->which_location == bpfd_v1_BytecodeLocation_file_tag) {
		out_str(o, "file", "Path:\t%s", b->location.file);
	}
	out_end(o);
}

/* Global data: JSON "key": "0700", the table "key=0700" in upper case. */
static void global_fields(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	char lower[2 * 1024 + 1], upper[sizeof(lower)];
	size_t i, j;

	out_begin_object(o, "global_data");
	if (!p->global_data_count)
		out_text(o, "Global:\tNone");
	for (i = 0; i < p->global_data_count; i++) {
		for (j = 0; j < p->global_data[i].value.size; j++) {
			snprintf(lower + 2 * j, 3, "%02x", p->global_data[i].value.bytes[j]);
			snprintf(upper + 2 * j, 3, "%02X", p->global_data[i].value.bytes[j]);
		}
		lower[2 * j] = upper[2 * j] = '\0';
		out_str(o, p->global_data[i].key, NULL, lower);
		out_text(o, "%s\t%s=%s", i ? "" : "Global:", p->global_data[i].key, upper);
	}
	out_end(o);
}

static void metadata_fields(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	size_t i;

	out_begin_object(o, "metadata");
	if (!p->metadata_count)
		out_text(o, "Metadata:\tNone");
	for (i = 0; i < p->metadata_count; i++) {
		out_str(o, p->metadata[i].key, NULL, p->metadata[i].value);
		out_text(o, "%s\t%s=%s", i ? "" : "Metadata:", p->metadata[i].key,
			 p->metadata[i].value);
	}
	out_end(o);
}

static void map_pin_path_field(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	str_or_none(o, "map_pin_path", "Map Pin Path:\t%s", p->map_pin_path);
}

static void map_owner_field(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	if (p->has_map_owner_id) {
		out_u64(o, "map_owner_id", "Map Owner ID:\t%llu", p->map_owner_id);
		return;
	}
	out_null(o, "map_owner_id");
	out_text(o, "Map Owner ID:\tNone");
}

static void map_used_by_fields(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	size_t i;

	out_begin_list(o, "map_used_by");
	if (!p->map_used_by_count)
		out_text(o, "Maps Used By:\tNone");
	for (i = 0; i < p->map_used_by_count; i++)
		out_str(o, NULL, i ? "\t%s" : "Maps Used By:\t%s", p->map_used_by[i]);
	out_end(o);
}

static void attach_mode_field(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	out_str(o, "attach_mode", p->attach_mode[0] ? "Attach Mode:\t%s" : NULL,
		p->attach_mode);
}

/* JSON always; the table only when the record is damaged. */
static void record_field(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	out_str(o, "record_damaged", p->record_damaged[0] ?
		"Record:\tdamaged (%s): what follows is what the kernel tells" : NULL,
		p->record_damaged);
}

/* Who loaded it ("uid=1000(alice)", "cn=NAME"); older records have none. */
static void owner_field(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	out_str(o, "owner", p->owner[0] ? "Owner:\t%s" : NULL, p->owner);
}

/* Who asked for it: "programs.d/NAME.toml" or "api". */
static void source_field(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	out_str(o, "source", "Source:\t%s", p->source[0] ? p->source : "unknown");
}

/* The same fields in two orders: JSON follows the proto's field order, the
 * "Bpfd State" table the row order of the original bpfctl. */
typedef void info_field_fn(struct out *o, const bpfd_v1_ProgramInfo *p);

static info_field_fn *const info_json_order[] = {
	name_field, bytecode_fields, attach_fields, global_fields, map_owner_field,
	map_pin_path_field, map_used_by_fields, metadata_fields, attach_mode_field,
	record_field, source_field, owner_field,
};
static info_field_fn *const info_text_order[] = {
	name_field, source_field, record_field, bytecode_fields, global_fields, metadata_fields,
	map_pin_path_field, map_owner_field, map_used_by_fields, attach_mode_field,
	owner_field, attach_fields,
};
_Static_assert(sizeof(info_json_order) == sizeof(info_text_order),
	       "every field in both orders");

static void info_fields(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	info_field_fn *const *f = out_is_json(o) ? info_json_order : info_text_order;
	size_t i;

	out_begin_object(o, "info");
	for (i = 0; i < sizeof(info_json_order) / sizeof(info_json_order[0]); i++)
		f[i](o, p);
	out_end(o);
}

/* Counted only while the daemon holds the kernel's stats enabled ([monitor]
 * stats); absent: it does not, JSON null. */
static void run_stats(struct out *o, const bpfd_v1_KernelProgramInfo *k)
{
	if (k->has_run_count) {
		out_u64(o, "run_count", "Run Count:\t%llu", k->run_count);
	} else {
		out_null(o, "run_count");
		out_text(o, "Run Count:\tn/a (stats off)");
	}
	if (k->has_run_time_ns) {
		out_u64(o, "run_time_ns", "Run Time (ns):\t%llu", k->run_time_ns);
	} else {
		out_null(o, "run_time_ns");
		out_text(o, "Run Time (ns):\tn/a (stats off)");
	}
}

static void kernel_fields(struct out *o, const bpfd_v1_ProgramInfo *info,
			  const bpfd_v1_KernelProgramInfo *k)
{
	char ids[64 * 12 + 4] = "[", tbuf[32];
	size_t i, n = 1;

	out_begin_object(o, "kernel_info");
	out_u64(o, "id", "ID:\t%llu", k->id);
	str_or_none(o, "name", "Name:\t%s", k->name);
	out_u64(o, "program_type", NULL, k->program_type);
	out_str(o, "type", "Type:\t%s",
		show_prog_kind(info, k->program_type, tbuf, sizeof(tbuf)));
	out_str(o, "loaded_at", "Loaded At:\t%s", k->loaded_at);
	out_str(o, "tag", "Tag:\t%s", k->tag);
	out_bool(o, "gpl_compatible", "GPL Compatible:\t%s", k->gpl_compatible);
	out_begin_list(o, "map_ids");
	for (i = 0; i < k->map_ids_count; i++) {
		out_u64(o, NULL, NULL, k->map_ids[i]);
		n += snprintf(ids + n, sizeof(ids) - n, "%s%" PRIu32, i ? ", " : "",
			      k->map_ids[i]);
	}
	out_end(o);
	snprintf(ids + n, sizeof(ids) - n, "]");
	out_text(o, "Map IDs:\t%s", ids);
	out_u64(o, "btf_id", "BTF ID:\t%llu", k->btf_id);
	out_u64(o, "bytes_xlated", "Size Translated (bytes):\t%llu", k->bytes_xlated);
	out_bool(o, "jited", "JITted:\t%s", k->jited);
	out_u64(o, "bytes_jited", "Size JITted:\t%llu", k->bytes_jited);
	out_u64(o, "bytes_memlock", "Kernel Allocated Memory (bytes):\t%llu", k->bytes_memlock);
	out_u64(o, "verified_insns", "Verified Instruction Count:\t%llu", k->verified_insns);
	run_stats(o, k);
	/* bpfd's word, not the kernel's: the program is no longer on its hook */
	out_str(o, "vanished", k->vanished[0] ? "Vanished:\t%s" : NULL, k->vanished);
	out_end(o);
}

void show_program_out(struct out *o, const bpfd_v1_ProgramInfo *info,
		      const bpfd_v1_KernelProgramInfo *k)
{
	out_begin_object(o, NULL);
	out_table_begin(o, "Bpfd State");
	if (info) {
		info_fields(o, info);
	} else {
		out_null(o, "info");
		out_text(o, "NONE");
	}
	out_table_end(o);
	out_table_begin(o, "Kernel State");
	kernel_fields(o, info, k);
	out_table_end(o);
	out_end(o);
}

int show_program(const bpfd_v1_ProgramInfo *info, const bpfd_v1_KernelProgramInfo *k,
		 bool json)
{
	struct out *o = out_new(stdout, json, true);

	if (!o)
		return -ENOMEM;
	show_program_out(o, info, k);
	return out_finish(o);
}
