/* SPDX-License-Identifier: Apache-2.0 */
/* record.c - plain C <-> bpfd.v1.ProgramInfo and AttachInfo (see record.h) */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/state/record.h"

#define FIELD(type, f)	(sizeof(((type *)0)->f))

/* The plain fields hold exactly what the wire fields hold (proto/bpfd.options). */
_Static_assert(FIELD(bpfd_v1_ProgramInfo, name) == PLAN_NAME_SIZE, "name");
_Static_assert(FIELD(bpfd_v1_ProgramInfo, owner) == PLAN_OWNER_SIZE, "owner");
_Static_assert(FIELD(bpfd_v1_BytecodeLocation, location.file) == PLAN_PATH_SIZE, "path");
_Static_assert(FIELD(bpfd_v1_XDPAttachInfo, iface) == PLAN_IFACE_SIZE, "iface");
_Static_assert(FIELD(bpfd_v1_TCAttachInfo, direction) == PLAN_DIR_SIZE, "direction");
_Static_assert(FIELD(bpfd_v1_XDPAttachInfo, proceed_on) ==
	       PLAN_PROCEED_ON_MAX * sizeof(int32_t), "proceed_on");
_Static_assert(FIELD(bpfd_v1_TCAttachInfo, proceed_on) ==
	       PLAN_PROCEED_ON_MAX * sizeof(int32_t), "proceed_on");
_Static_assert(FIELD(bpfd_v1_TracepointAttachInfo, tracepoint) == PLAN_TRACEPOINT_SIZE,
	       "tracepoint");
_Static_assert(FIELD(bpfd_v1_KprobeAttachInfo, fn_name) == PLAN_FN_SIZE, "fn_name");
_Static_assert(FIELD(bpfd_v1_UprobeAttachInfo, target) == PLAN_PATH_SIZE, "target");
_Static_assert(FIELD(bpfd_v1_UprobeAttachInfo, namespace) == PLAN_NS_SIZE, "namespace");
_Static_assert(FIELD(bpfd_v1_ProgramInfo, global_data) ==
	       PLAN_GLOBALS_MAX * sizeof(bpfd_v1_ProgramInfo_GlobalDataEntry), "globals");
_Static_assert(FIELD(bpfd_v1_ProgramInfo_GlobalDataEntry, value.bytes) == PLAN_GLOBAL_SIZE,
	       "global value");
_Static_assert(FIELD(bpfd_v1_ProgramInfo, metadata) ==
	       PLAN_METADATA_MAX * sizeof(bpfd_v1_ProgramInfo_MetadataEntry), "metadata");
_Static_assert(FIELD(bpfd_v1_ProgramInfo_MetadataEntry, value) == PLAN_META_SIZE,
	       "metadata value");
_Static_assert(FIELD(bpfd_v1_ProgramInfo, map_pin_path) == VIEW_MAP_PATH_SIZE, "map path");
_Static_assert(FIELD(bpfd_v1_ProgramInfo, map_used_by) / 12 == VIEW_USED_BY_MAX, "used by");
_Static_assert(FIELD(bpfd_v1_ProgramInfo, attach_mode) == VIEW_MODE_SIZE, "attach mode");
_Static_assert(FIELD(bpfd_v1_ProgramInfo, record_damaged) == VIEW_DAMAGED_SIZE, "damaged");
_Static_assert(FIELD(bpfd_v1_ProgramInfo, source) == PLAN_SOURCE_SIZE, "source");
_Static_assert(FIELD(bpfd_v1_BytecodeImage, url) == PLAN_IMAGE_URL_SIZE, "image url");
_Static_assert(FIELD(bpfd_v1_ProgramInfo, image_digest) == PLAN_DIGEST_SIZE, "image digest");

#define COPY(dst, src)	snprintf(dst, sizeof(dst), "%s", src)

/* The fields every hook kind (xdp, tc, tcx) has: attach_spec a <-> wire member h. */
#define HOOK_FROM_PB(a, h)						\
	do {								\
		COPY((a)->iface, (h)->iface);				\
		(a)->priority = (h)->priority;				\
		(a)->position = (h)->position;				\
	} while (0)
#define HOOK_TO_PB(a, h)						\
	do {								\
		COPY((h)->iface, (a)->iface);				\
		(h)->priority = (a)->priority;				\
		(h)->position = (a)->position;				\
	} while (0)

static size_t codes_copy(int32_t *dst, const int32_t *src, size_t n)
{
	if (n > PLAN_PROCEED_ON_MAX)
		n = PLAN_PROCEED_ON_MAX;
	memcpy(dst, src, n * sizeof(*src));
	return n;
}

void record_attach_from_pb(const bpfd_v1_AttachInfo *ai, struct attach_spec *a)
{
	const bpfd_v1_KprobeAttachInfo *k;
	const bpfd_v1_UprobeAttachInfo *u;

	memset(a, 0, sizeof(*a));
	switch (ai ? ai->which_info : 0) {
	case bpfd_v1_AttachInfo_xdp_attach_info_tag:
		a->kind = OBJ_KIND_XDP;
		HOOK_FROM_PB(a, &ai->info.xdp_attach_info);
		a->n_proceed_on = codes_copy(a->proceed_on, ai->info.xdp_attach_info.proceed_on,
					     ai->info.xdp_attach_info.proceed_on_count);
		break;
	case bpfd_v1_AttachInfo_tc_attach_info_tag:
		a->kind = OBJ_KIND_TC;
		HOOK_FROM_PB(a, &ai->info.tc_attach_info);
		COPY(a->direction, ai->info.tc_attach_info.direction);
		a->n_proceed_on = codes_copy(a->proceed_on, ai->info.tc_attach_info.proceed_on,
					     ai->info.tc_attach_info.proceed_on_count);
		break;
	case bpfd_v1_AttachInfo_tcx_attach_info_tag:
		a->kind = OBJ_KIND_TCX;
		HOOK_FROM_PB(a, &ai->info.tcx_attach_info);
		COPY(a->direction, ai->info.tcx_attach_info.direction);
		break;
	case bpfd_v1_AttachInfo_tracepoint_attach_info_tag:
		a->kind = OBJ_KIND_TRACEPOINT;
		COPY(a->tracepoint, ai->info.tracepoint_attach_info.tracepoint);
		break;
	case bpfd_v1_AttachInfo_kprobe_attach_info_tag:
		k = &ai->info.kprobe_attach_info;
		a->kind = k->retprobe ? OBJ_KIND_KRETPROBE : OBJ_KIND_KPROBE;
		a->has_fn_name = true;
		COPY(a->fn_name, k->fn_name);
		a->offset = k->offset;
		a->has_namespace = k->has_namespace;
		COPY(a->ns, k->namespace);
		break;
	case bpfd_v1_AttachInfo_uprobe_attach_info_tag:
		u = &ai->info.uprobe_attach_info;
		a->kind = u->retprobe ? OBJ_KIND_URETPROBE : OBJ_KIND_UPROBE;
		a->has_fn_name = u->has_fn_name;
		COPY(a->fn_name, u->fn_name);
		a->offset = u->offset;
		COPY(a->target, u->target);
		a->has_pid = u->has_pid;
		a->pid = u->pid;
		a->has_namespace = u->has_namespace;
		COPY(a->ns, u->namespace);
		break;
	case bpfd_v1_AttachInfo_fentry_attach_info_tag:
		a->kind = OBJ_KIND_FENTRY;
		a->has_fn_name = true;
		COPY(a->fn_name, ai->info.fentry_attach_info.fn_name);
		break;
	case bpfd_v1_AttachInfo_fexit_attach_info_tag:
		a->kind = OBJ_KIND_FEXIT;
		a->has_fn_name = true;
		COPY(a->fn_name, ai->info.fexit_attach_info.fn_name);
		break;
	default:
		a->kind = OBJ_KIND_UNKNOWN;
		break;
	}
}

void record_attach_to_pb(const struct attach_spec *a, bpfd_v1_AttachInfo *ai)
{
	bpfd_v1_KprobeAttachInfo *k = &ai->info.kprobe_attach_info;
	bpfd_v1_UprobeAttachInfo *u = &ai->info.uprobe_attach_info;

	memset(ai, 0, sizeof(*ai));
	switch (a->kind) {
	case OBJ_KIND_XDP:
		ai->which_info = bpfd_v1_AttachInfo_xdp_attach_info_tag;
		HOOK_TO_PB(a, &ai->info.xdp_attach_info);
		ai->info.xdp_attach_info.proceed_on_count =
			codes_copy(ai->info.xdp_attach_info.proceed_on, a->proceed_on,
				   a->n_proceed_on);
		break;
	case OBJ_KIND_TC:
		ai->which_info = bpfd_v1_AttachInfo_tc_attach_info_tag;
		HOOK_TO_PB(a, &ai->info.tc_attach_info);
		COPY(ai->info.tc_attach_info.direction, a->direction);
		ai->info.tc_attach_info.proceed_on_count =
			codes_copy(ai->info.tc_attach_info.proceed_on, a->proceed_on,
				   a->n_proceed_on);
		break;
	case OBJ_KIND_TCX:
		ai->which_info = bpfd_v1_AttachInfo_tcx_attach_info_tag;
		HOOK_TO_PB(a, &ai->info.tcx_attach_info);
		COPY(ai->info.tcx_attach_info.direction, a->direction);
		break;
	case OBJ_KIND_TRACEPOINT:
		ai->which_info = bpfd_v1_AttachInfo_tracepoint_attach_info_tag;
		COPY(ai->info.tracepoint_attach_info.tracepoint, a->tracepoint);
		break;
	case OBJ_KIND_KPROBE:
	case OBJ_KIND_KRETPROBE:
		ai->which_info = bpfd_v1_AttachInfo_kprobe_attach_info_tag;
		COPY(k->fn_name, a->fn_name);
		k->offset = a->offset;
		k->retprobe = a->kind == OBJ_KIND_KRETPROBE;
		k->has_namespace = a->has_namespace;
		COPY(k->namespace, a->ns);
		break;
	case OBJ_KIND_UPROBE:
	case OBJ_KIND_URETPROBE:
		ai->which_info = bpfd_v1_AttachInfo_uprobe_attach_info_tag;
		u->has_fn_name = a->has_fn_name;
		COPY(u->fn_name, a->fn_name);
		u->offset = a->offset;
		COPY(u->target, a->target);
		u->retprobe = a->kind == OBJ_KIND_URETPROBE;
		u->has_pid = a->has_pid;
		u->pid = a->pid;
		u->has_namespace = a->has_namespace;
		COPY(u->namespace, a->ns);
		break;
	case OBJ_KIND_FENTRY:
		ai->which_info = bpfd_v1_AttachInfo_fentry_attach_info_tag;
		COPY(ai->info.fentry_attach_info.fn_name, a->fn_name);
		break;
	case OBJ_KIND_FEXIT:
		ai->which_info = bpfd_v1_AttachInfo_fexit_attach_info_tag;
		COPY(ai->info.fexit_attach_info.fn_name, a->fn_name);
		break;
	default:
		break;
	}
}

void record_info_from_pb(const bpfd_v1_ProgramInfo *info, struct prog_view *v)
{
	struct prog_spec *s = &v->spec;
	pb_size_t i;

	memset(v, 0, sizeof(*v));
	COPY(s->name, info->name);
	if (info->has_bytecode &&
	    info->bytecode.which_location == bpfd_v1_BytecodeLocation_file_tag)
		COPY(s->path, info->bytecode.location.file);
	if (info->has_bytecode &&
	    info->bytecode.which_location == bpfd_v1_BytecodeLocation_image_tag) {
		s->from_image = true;
		COPY(s->image_url, info->bytecode.location.image.url);
		s->image_pull_policy = info->bytecode.location.image.image_pull_policy;
		COPY(s->image_digest, info->image_digest);
	}
	record_attach_from_pb(info->has_attach ? &info->attach : NULL, &s->attach);
	for (i = 0; i < info->global_data_count && i < PLAN_GLOBALS_MAX; i++) {
		COPY(s->globals[i].key, info->global_data[i].key);
		s->globals[i].size = info->global_data[i].value.size;
		memcpy(s->globals[i].value, info->global_data[i].value.bytes,
		       s->globals[i].size);
	}
	s->n_globals = i;
	for (i = 0; i < info->metadata_count && i < PLAN_METADATA_MAX; i++) {
		COPY(s->metadata[i].key, info->metadata[i].key);
		COPY(s->metadata[i].value, info->metadata[i].value);
	}
	s->n_metadata = i;
	s->has_map_owner = info->has_map_owner_id;
	s->map_owner_id = info->map_owner_id;
	COPY(v->map_pin_path, info->map_pin_path);
	for (i = 0; i < info->map_used_by_count && i < VIEW_USED_BY_MAX; i++)
		v->map_used_by[i] = strtoul(info->map_used_by[i], NULL, 10);
	v->n_map_used_by = i;
	COPY(v->attach_mode, info->attach_mode);
	COPY(v->record_damaged, info->record_damaged);
	COPY(s->loaded_by, info->owner);
	/* records written before programs.d existed came from Load calls */
	COPY(s->source, info->source[0] || info->record_damaged[0] ? info->source
								     : PLAN_SOURCE_API);
}

/* Zero info but its three arrays (about 95% of its 68 KB): they are encoded up to
 * their counts, and each entry up to there is written whole below.  A List fills one
 * per program it shows: zeroing it all was most of a List of 100 bpfd programs. */
static void info_clear(bpfd_v1_ProgramInfo *info)
{
	uint8_t *p = (uint8_t *)info;
	const struct {
		size_t off, len;
	} keep[] = {	/* in the order of the struct */
		{ offsetof(bpfd_v1_ProgramInfo, global_data), sizeof(info->global_data) },
		{ offsetof(bpfd_v1_ProgramInfo, map_used_by), sizeof(info->map_used_by) },
		{ offsetof(bpfd_v1_ProgramInfo, metadata), sizeof(info->metadata) },
	};
	size_t at = 0, i;

	_Static_assert(offsetof(bpfd_v1_ProgramInfo, global_data) <
		       offsetof(bpfd_v1_ProgramInfo, map_used_by) &&
		       offsetof(bpfd_v1_ProgramInfo, map_used_by) <
		       offsetof(bpfd_v1_ProgramInfo, metadata), "keep[] in struct order");
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		memset(p + at, 0, keep[i].off - at);
		at = keep[i].off + keep[i].len;
	}
	memset(p + at, 0, sizeof(*info) - at);
}

void record_info_to_pb(const struct prog_view *v, bpfd_v1_ProgramInfo *info)
{
	const struct prog_spec *s = &v->spec;
	size_t i;

	info_clear(info);
	COPY(info->name, s->name);
	info->has_bytecode = true;
	if (s->from_image) {
		/* never credentials: the plain struct has none */
		info->bytecode.which_location = bpfd_v1_BytecodeLocation_image_tag;
		COPY(info->bytecode.location.image.url, s->image_url);
		info->bytecode.location.image.image_pull_policy = s->image_pull_policy;
		COPY(info->image_digest, s->image_digest);
	} else {
		info->bytecode.which_location = bpfd_v1_BytecodeLocation_file_tag;
		COPY(info->bytecode.location.file, s->path);
	}
	info->has_attach = true;
	record_attach_to_pb(&s->attach, &info->attach);
	for (i = 0; i < s->n_globals; i++) {
		COPY(info->global_data[i].key, s->globals[i].key);
		info->global_data[i].value.size = s->globals[i].size;
		memcpy(info->global_data[i].value.bytes, s->globals[i].value, s->globals[i].size);
	}
	info->global_data_count = s->n_globals;
	for (i = 0; i < s->n_metadata; i++) {
		COPY(info->metadata[i].key, s->metadata[i].key);
		COPY(info->metadata[i].value, s->metadata[i].value);
	}
	info->metadata_count = s->n_metadata;
	info->has_map_owner_id = s->has_map_owner;
	info->map_owner_id = s->map_owner_id;
	COPY(info->map_pin_path, v->map_pin_path);
	for (i = 0; i < v->n_map_used_by; i++)
		snprintf(info->map_used_by[i], sizeof(info->map_used_by[i]), "%u",
			 v->map_used_by[i]);
	info->map_used_by_count = v->n_map_used_by;
	COPY(info->attach_mode, v->attach_mode);
	COPY(info->record_damaged, v->record_damaged);
	COPY(info->owner, s->loaded_by);
	COPY(info->source, s->source);
}
