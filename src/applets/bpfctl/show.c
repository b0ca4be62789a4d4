/* SPDX-License-Identifier: Apache-2.0 */
/* show.c - bpfctl: a program as the two tables of the original bpfctl
 * ("Bpfd State", "Kernel State") or as JSON with snake_case keys */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- text tables ---- */

struct row {
	const char *key;
	char *val;
};

struct table {
	const char *title;
	struct row *rows;
	size_t n;
	bool oom;
};

static void row(struct table *t, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void row(struct table *t, const char *key, const char *fmt, ...)
{
	struct row *r;
	va_list ap;
	char *v = NULL;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	r = reallocarray(t->rows, t->n + 1, sizeof(*r));
	if (!v || !r) {
		free(v);
		if (r)
			t->rows = r;
		t->oom = true;
		return;
	}
	t->rows = r;
	t->rows[t->n++] = (struct row){ key, v };
}

static void table_print(struct table *t)
{
	bool tty = isatty(STDOUT_FILENO);
	size_t i, w = 0;

	for (i = 0; i < t->n; i++)
		if (strlen(t->rows[i].key) > w)
			w = strlen(t->rows[i].key);
	if (tty)
		printf(" \033[1;4;32m%s\033[0m\n", t->title);
	else
		printf(" %s\n", t->title);
	for (i = 0; i < t->n; i++) {
		if (t->rows[i].val[0])
			printf(" %-*s  %s\n", (int)w, t->rows[i].key, t->rows[i].val);
		else
			printf(" %s\n", t->rows[i].key);
		free(t->rows[i].val);
	}
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

static const char *pull_policy(int32_t p)
{
	return p == 0 ? "Always" : p == 1 ? "IfNotPresent" : p == 2 ? "Never" : "Unknown";
}

static void proceed_on_row(struct table *t, enum chain_kind kind, const int32_t *v, size_t n)
{
	char buf[512] = "", tmp[16];
	size_t i, len = 0;

	for (i = 0; i < n && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? ", " : "",
				action_name(kind, v[i], tmp, sizeof(tmp)));
	row(t, "Proceed On:", "%s", buf);
}

/* The fields the XDP, TC and TCX attach infos share, so that one printer (text
 * or JSON) serves the three. */
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

static void hook_rows(struct table *t, const struct hook_info *h)
{
	row(t, "Priority:", "%d", h->priority);
	row(t, "Iface:", "%s", h->iface);
	row(t, "Position:", "%d", h->position);
	if (h->direction)
		row(t, "Direction:", "%s",
		    !strcmp(h->direction, "ingress") ? "in" :
		    !strcmp(h->direction, "egress") ? "eg" : h->direction);
	if (h->proceed_on)
		proceed_on_row(t, h->kind, h->proceed_on, h->proceed_on_count);
}

static void attach_rows(struct table *t, const bpfd_v1_AttachInfo *a)
{
	const bpfd_v1_KprobeAttachInfo *kp;
	const bpfd_v1_UprobeAttachInfo *up;
	struct hook_info h;

	if (hook_info_get(a, &h)) {
		hook_rows(t, &h);
		return;
	}
	switch (a->which_info) {
	case bpfd_v1_AttachInfo_tracepoint_attach_info_tag:
		row(t, "Tracepoint:", "%s", a->info.tracepoint_attach_info.tracepoint);
		break;
	case bpfd_v1_AttachInfo_kprobe_attach_info_tag:
		kp = &a->info.kprobe_attach_info;
		row(t, "Probe Type:", "%s", kp->retprobe ? "kretprobe" : "kprobe");
		row(t, "Function Name:", "%s", kp->fn_name);
		row(t, "Offset:", "%" PRIu64, kp->offset);
		row(t, "Namespace:", "%s", kp->has_namespace ? kp->namespace : "None");
		break;
	case bpfd_v1_AttachInfo_uprobe_attach_info_tag:
		up = &a->info.uprobe_attach_info;
		row(t, "Probe Type:", "%s", up->retprobe ? "uretprobe" : "uprobe");
		row(t, "Function Name:", "%s", up->has_fn_name ? up->fn_name : "None");
		row(t, "Offset:", "%" PRIu64, up->offset);
		row(t, "Target:", "%s", up->target);
		row(t, "PID:", "%d", up->has_pid ? up->pid : 0);
		row(t, "Namespace:", "%s", up->has_namespace ? up->namespace : "None");
		break;
	case bpfd_v1_AttachInfo_fentry_attach_info_tag:
		row(t, "Probe Type:", "fentry");
		row(t, "Function Name:", "%s", a->info.fentry_attach_info.fn_name);
		break;
	case bpfd_v1_AttachInfo_fexit_attach_info_tag:
		row(t, "Probe Type:", "fexit");
		row(t, "Function Name:", "%s", a->info.fexit_attach_info.fn_name);
		break;
	}
}

static void bpfd_rows(struct table *t, const bpfd_v1_ProgramInfo *p)
{
	const bpfd_v1_BytecodeLocation *b = &p->bytecode;
	char hex[2 * 1024 + 1];
	size_t i, j;

	row(t, "Name:", "%s", p->name[0] ? p->name : "None");
	if (p->has_bytecode && b->which_location == bpfd_v1_BytecodeLocation_image_tag) {
		row(t, "Image URL:", "%s", b->location.image.url);
		row(t, "Pull Policy:", "%s", pull_policy(b->location.image.image_pull_policy));
	} else if (p->has_bytecode && b->which_location == bpfd_v1_BytecodeLocation_file_tag) {
		row(t, "Path:", "%s", b->location.file);
	}
	if (!p->global_data_count)
		row(t, "Global:", "None");
	for (i = 0; i < p->global_data_count; i++) {
		for (j = 0; j < p->global_data[i].value.size; j++)
			snprintf(hex + 2 * j, 3, "%02X", p->global_data[i].value.bytes[j]);
		hex[2 * j] = '\0';
		row(t, i ? "" : "Global:", "%s=%s", p->global_data[i].key, hex);
	}
	if (!p->metadata_count)
		row(t, "Metadata:", "None");
	for (i = 0; i < p->metadata_count; i++)
		row(t, i ? "" : "Metadata:", "%s=%s", p->metadata[i].key, p->metadata[i].value);
	row(t, "Map Pin Path:", "%s", p->map_pin_path[0] ? p->map_pin_path : "None");
	if (p->has_map_owner_id)
		row(t, "Map Owner ID:", "%" PRIu32, p->map_owner_id);
	else
		row(t, "Map Owner ID:", "None");
	if (!p->map_used_by_count)
		row(t, "Maps Used By:", "None");
	for (i = 0; i < p->map_used_by_count; i++)
		row(t, i ? "" : "Maps Used By:", "%s", p->map_used_by[i]);
	if (p->attach_mode[0])
		row(t, "Attach Mode:", "%s", p->attach_mode);
	if (p->has_attach)
		attach_rows(t, &p->attach);
}

static void kernel_rows(struct table *t, const bpfd_v1_KernelProgramInfo *k)
{
	char ids[64 * 12 + 4] = "[", tbuf[32];
	size_t i, n = 1;

	for (i = 0; i < k->map_ids_count; i++)
		n += snprintf(ids + n, sizeof(ids) - n, "%s%" PRIu32, i ? ", " : "", k->map_ids[i]);
	snprintf(ids + n, sizeof(ids) - n, "]");
	row(t, "ID:", "%" PRIu32, k->id);
	row(t, "Name:", "%s", k->name[0] ? k->name : "None");
	row(t, "Type:", "%s", show_prog_type(k->program_type, tbuf, sizeof(tbuf)));
	row(t, "Loaded At:", "%s", k->loaded_at);
	row(t, "Tag:", "%s", k->tag);
	row(t, "GPL Compatible:", "%s", k->gpl_compatible ? "true" : "false");
	row(t, "Map IDs:", "%s", ids);
	row(t, "BTF ID:", "%" PRIu32, k->btf_id);
	row(t, "Size Translated (bytes):", "%" PRIu32, k->bytes_xlated);
	row(t, "JITted:", "%s", k->jited ? "true" : "false");
	row(t, "Size JITted:", "%" PRIu32, k->bytes_jited);
	row(t, "Kernel Allocated Memory (bytes):", "%" PRIu32, k->bytes_memlock);
	row(t, "Verified Instruction Count:", "%" PRIu32, k->verified_insns);
}

/* ---- JSON ---- */

static void hook_json(struct out *o, const struct hook_info *h)
{
	size_t i;

	out_begin_object(o, h->json_key);
	out_i64(o, "priority", NULL, h->priority);
	out_str(o, "iface", NULL, h->iface);
	out_i64(o, "position", NULL, h->position);
	if (h->direction)
		out_str(o, "direction", NULL, h->direction);
	if (h->proceed_on) {
		out_begin_list(o, "proceed_on");
		for (i = 0; i < h->proceed_on_count; i++)
			out_i64(o, NULL, NULL, h->proceed_on[i]);
		out_end(o);
	}
	out_end(o);
}

static void attach_json(struct out *o, const bpfd_v1_AttachInfo *a)
{
	const bpfd_v1_KprobeAttachInfo *kp = &a->info.kprobe_attach_info;
	const bpfd_v1_UprobeAttachInfo *up = &a->info.uprobe_attach_info;
	struct hook_info h;

	out_begin_object(o, "attach");
	if (hook_info_get(a, &h))
		hook_json(o, &h);
	switch (a->which_info) {
	case bpfd_v1_AttachInfo_tracepoint_attach_info_tag:
		out_begin_object(o, "tracepoint_attach_info");
		out_str(o, "tracepoint", NULL, a->info.tracepoint_attach_info.tracepoint);
		out_end(o);
		break;
	case bpfd_v1_AttachInfo_kprobe_attach_info_tag:
		out_begin_object(o, "kprobe_attach_info");
		out_str(o, "fn_name", NULL, kp->fn_name);
		out_u64(o, "offset", NULL, kp->offset);
		out_bool(o, "retprobe", NULL, kp->retprobe);
		if (kp->has_namespace)
			out_str(o, "namespace", NULL, kp->namespace);
		out_end(o);
		break;
	case bpfd_v1_AttachInfo_uprobe_attach_info_tag:
		out_begin_object(o, "uprobe_attach_info");
		if (up->has_fn_name)
			out_str(o, "fn_name", NULL, up->fn_name);
		out_u64(o, "offset", NULL, up->offset);
		out_str(o, "target", NULL, up->target);
		out_bool(o, "retprobe", NULL, up->retprobe);
		if (up->has_pid)
			out_i64(o, "pid", NULL, up->pid);
		if (up->has_namespace)
			out_str(o, "namespace", NULL, up->namespace);
		out_end(o);
		break;
	case bpfd_v1_AttachInfo_fentry_attach_info_tag:
		out_begin_object(o, "fentry_attach_info");
		out_str(o, "fn_name", NULL, a->info.fentry_attach_info.fn_name);
		out_end(o);
		break;
	case bpfd_v1_AttachInfo_fexit_attach_info_tag:
		out_begin_object(o, "fexit_attach_info");
		out_str(o, "fn_name", NULL, a->info.fexit_attach_info.fn_name);
		out_end(o);
		break;
	}
	out_end(o);
}

static void info_json(struct out *o, const bpfd_v1_ProgramInfo *p)
{
	const bpfd_v1_BytecodeLocation *b = &p->bytecode;
	char hex[2 * 1024 + 1];
	size_t i, j;

	out_begin_object(o, "info");
	out_str(o, "name", NULL, p->name);
	if (p->has_bytecode) {
		out_begin_object(o, "bytecode");
		if (b->which_location == bpfd_v1_BytecodeLocation_image_tag) {
			out_begin_object(o, "image");
			out_str(o, "url", NULL, b->location.image.url);
			out_i64(o, "image_pull_policy", NULL, b->location.image.image_pull_policy);
			out_end(o);
		} else if (b->which_location == bpfd_v1_BytecodeLocation_file_tag) {
			out_str(o, "file", NULL, b->location.file);
		}
		out_end(o);
	}
	if (p->has_attach)
		attach_json(o, &p->attach);
	out_begin_object(o, "global_data");
	for (i = 0; i < p->global_data_count; i++) {
		for (j = 0; j < p->global_data[i].value.size; j++)
			snprintf(hex + 2 * j, 3, "%02x", p->global_data[i].value.bytes[j]);
		hex[2 * j] = '\0';
		out_str(o, p->global_data[i].key, NULL, hex);
	}
	out_end(o);
	if (p->has_map_owner_id)
		out_u64(o, "map_owner_id", NULL, p->map_owner_id);
	else
		out_null(o, "map_owner_id");
	out_str(o, "map_pin_path", NULL, p->map_pin_path);
	out_begin_list(o, "map_used_by");
	for (i = 0; i < p->map_used_by_count; i++)
		out_str(o, NULL, NULL, p->map_used_by[i]);
	out_end(o);
	out_begin_object(o, "metadata");
	for (i = 0; i < p->metadata_count; i++)
		out_str(o, p->metadata[i].key, NULL, p->metadata[i].value);
	out_end(o);
	out_str(o, "attach_mode", NULL, p->attach_mode);
	out_end(o);
}

static void kernel_json(struct out *o, const bpfd_v1_KernelProgramInfo *k)
{
	char tbuf[32];
	size_t i;

	out_begin_object(o, "kernel_info");
	out_u64(o, "id", NULL, k->id);
	out_str(o, "name", NULL, k->name);
	out_u64(o, "program_type", NULL, k->program_type);
	out_str(o, "type", NULL, show_prog_type(k->program_type, tbuf, sizeof(tbuf)));
	out_str(o, "loaded_at", NULL, k->loaded_at);
	out_str(o, "tag", NULL, k->tag);
	out_bool(o, "gpl_compatible", NULL, k->gpl_compatible);
	out_begin_list(o, "map_ids");
	for (i = 0; i < k->map_ids_count; i++)
		out_u64(o, NULL, NULL, k->map_ids[i]);
	out_end(o);
	out_u64(o, "btf_id", NULL, k->btf_id);
	out_u64(o, "bytes_xlated", NULL, k->bytes_xlated);
	out_bool(o, "jited", NULL, k->jited);
	out_u64(o, "bytes_jited", NULL, k->bytes_jited);
	out_u64(o, "bytes_memlock", NULL, k->bytes_memlock);
	out_u64(o, "verified_insns", NULL, k->verified_insns);
	out_end(o);
}

void show_program_json(struct out *o, const bpfd_v1_ProgramInfo *info,
		       const bpfd_v1_KernelProgramInfo *k)
{
	out_begin_object(o, NULL);
	if (info)
		info_json(o, info);
	else
		out_null(o, "info");
	kernel_json(o, k);
	out_end(o);
}

int show_program(const bpfd_v1_ProgramInfo *info, const bpfd_v1_KernelProgramInfo *k,
		 bool json)
{
	struct table t = { .title = "Bpfd State" };
	struct out *o;
	bool oom;

	if (json) {
		o = out_new(stdout, true, true);
		if (!o)
			return -ENOMEM;
		show_program_json(o, info, k);
		return out_finish(o);
	}
	if (info)
		bpfd_rows(&t, info);
	else
		row(&t, "NONE", "%s", "");
	oom = t.oom;
	table_print(&t);
	t.title = "Kernel State";
	kernel_rows(&t, k);
	oom |= t.oom;
	table_print(&t);
	fflush(stdout);
	return oom ? -ENOMEM : 0;
}
