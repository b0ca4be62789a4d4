/* SPDX-License-Identifier: Apache-2.0 */
/* daemon.c - bpfd-agent's calls to the local bpfd (gRPC Load, Unload, List) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <pb_decode.h>

#include "applets/agent/agent.h"
#include "applets/bpfctl/bpfctl.h"
#include "bpfd.pb.h"
#include "core/base/base64.h"
#include "core/base/chain.h"
#include "core/base/errmsg.h"
#include "core/k8s/api.h"
#include "core/wire/client.h"

static int call(const char *endpoint, const char *method, const pb_msgdesc_t *req_fields,
		const void *req, const pb_msgdesc_t *resp_fields, void *resp, struct errmsg *em)
{
	struct client_opts o = { .endpoint = endpoint };
	struct client_status st;
	struct client *cl = NULL;
	int err;

	err = client_open(&o, &cl, em);
	if (err)
		return err;
	err = client_call(cl, method, req_fields, req, resp_fields, resp, &st);
	client_close(cl);
	if (err)
		return errmsg_set(em, err, "bpfd %s: %s", method, strerror(-err));
	if (st.code != GRPC_OK)
		return errmsg_set(em, -EIO, "bpfd: %s", st.message[0] ? st.message :
				  grpc_status_name(st.code));
	return 0;
}

struct list_state {
	bpfd_v1_ListResponse_ListResult *res;
	struct agent_loaded *v;
	size_t n;
	bool oom;
};

static uint32_t proceed_bits(const int32_t *codes, size_t n)
{
	uint32_t bits = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (codes[i] >= 0 && codes[i] < 32)
			bits |= 1u << codes[i];
	}
	return bits;
}

static void fill_point(struct agent_loaded *l, const bpfd_v1_AttachInfo *ai)
{
	switch (ai->which_info) {
	case bpfd_v1_AttachInfo_xdp_attach_info_tag:
		snprintf(l->point, sizeof(l->point), "%s", ai->info.xdp_attach_info.iface);
		l->priority = ai->info.xdp_attach_info.priority;
		l->proceed_on = proceed_bits(ai->info.xdp_attach_info.proceed_on,
					     ai->info.xdp_attach_info.proceed_on_count);
		break;
	case bpfd_v1_AttachInfo_tc_attach_info_tag:
		snprintf(l->point, sizeof(l->point), "%s/%s", ai->info.tc_attach_info.iface,
			 ai->info.tc_attach_info.direction);
		l->priority = ai->info.tc_attach_info.priority;
		break;
	case bpfd_v1_AttachInfo_tcx_attach_info_tag:
		snprintf(l->point, sizeof(l->point), "%s/%s", ai->info.tcx_attach_info.iface,
			 ai->info.tcx_attach_info.direction);
		l->priority = ai->info.tcx_attach_info.priority;
		break;
	case bpfd_v1_AttachInfo_tracepoint_attach_info_tag:
		snprintf(l->point, sizeof(l->point), "%s", ai->info.tracepoint_attach_info.tracepoint);
		break;
	case bpfd_v1_AttachInfo_kprobe_attach_info_tag:
		snprintf(l->point, sizeof(l->point), "%s", ai->info.kprobe_attach_info.fn_name);
		break;
	case bpfd_v1_AttachInfo_uprobe_attach_info_tag:
		snprintf(l->point, sizeof(l->point), "%.255s", ai->info.uprobe_attach_info.target);
		break;
	}
}

static bool result_decode(pb_istream_t *s, const pb_field_t *f, void **arg)
{
	struct list_state *ls = *arg;
	bpfd_v1_ListResponse_ListResult *res = ls->res;
	const bpfd_v1_KernelProgramInfo *k = &res->kernel_info;
	struct agent_loaded *l, *nv;
	size_t i;

	(void)f;
	memset(res, 0, sizeof(*res));
	if (!pb_decode(s, bpfd_v1_ListResponse_ListResult_fields, res))
		return false;
	nv = reallocarray(ls->v, ls->n + 1, sizeof(*nv));
	if (!nv) {
		ls->oom = true;
		return false;
	}
	ls->v = nv;
	l = &ls->v[ls->n++];
	memset(l, 0, sizeof(*l));
	l->id = k->id;
	l->bpfd = res->has_info;
	snprintf(l->name, sizeof(l->name), "%s", k->name);
	snprintf(l->tag, sizeof(l->tag), "%s", k->tag);
	snprintf(l->loaded_at, sizeof(l->loaded_at), "%s", k->loaded_at);
	show_prog_kind(res->has_info ? &res->info : NULL, k->program_type, l->kind,
		       sizeof(l->kind));
	l->has_stats = k->has_run_count;
	l->run_count = k->run_count;
	l->run_time_ns = k->run_time_ns;
	if (!res->has_info)
		return true;
	fill_point(l, &res->info.attach);
	for (i = 0; i < res->info.metadata_count; i++) {
		if (!strcmp(res->info.metadata[i].key, AGENT_UUID_KEY))
			snprintf(l->uuid, sizeof(l->uuid), "%s", res->info.metadata[i].value);
	}
	return true;
}

int agent_bpfd_list(const char *endpoint, struct agent_loaded **ret, size_t *n,
		    struct errmsg *em)
{
	struct list_state ls = { 0 };
	bpfd_v1_ListRequest *req;
	bpfd_v1_ListResponse resp = { .results = { .funcs.decode = result_decode, .arg = &ls } };
	int err;

	req = calloc(1, sizeof(*req));
	ls.res = calloc(1, sizeof(*ls.res));
	if (!req || !ls.res) {
		err = errmsg_set(em, -ENOMEM, "out of memory");
		goto out;
	}
	req->has_bpfd_programs_only = true;
	req->bpfd_programs_only = false;
	err = call(endpoint, "/bpfd.v1.Bpfd/List", bpfd_v1_ListRequest_fields, req,
		   bpfd_v1_ListResponse_fields, &resp, em);
	if (!err && ls.oom)
		err = errmsg_set(em, -ENOMEM, "out of memory");
	if (!err) {
		*ret = ls.v;
		*n = ls.n;
		ls.v = NULL;
	}
out:
	free(ls.v);
	free(ls.res);
	free(req);
	return err;
}

static int copy(char *dst, size_t size, const char *src, const char *what, struct errmsg *em)
{
	if (!src || strlen(src) >= size)
		return errmsg_set(em, -EINVAL, "%s is %s", what, src ? "too long" : "missing");
	strcpy(dst, src);
	return 0;
}

static int set_bytecode(bpfd_v1_LoadRequest *req, const cJSON *spec, struct errmsg *em)
{
	const char *path = k8s_json_str(spec, "bytecode.path");
	const char *url = k8s_json_str(spec, "bytecode.image.url");
	const char *pol = k8s_json_str(spec, "bytecode.image.imagepullpolicy");
	bpfd_v1_BytecodeImage *img = &req->bytecode.location.image;

	req->has_bytecode = true;
	if (path) {
		req->bytecode.which_location = bpfd_v1_BytecodeLocation_file_tag;
		return copy(req->bytecode.location.file, sizeof(req->bytecode.location.file), path,
			    "spec.bytecode.path", em);
	}
	req->bytecode.which_location = bpfd_v1_BytecodeLocation_image_tag;
	img->image_pull_policy = pol && !strcmp(pol, "Always") ? 0 : pol && !strcmp(pol, "Never") ?
				 2 : 1;
	return copy(img->url, sizeof(img->url), url, "spec.bytecode.image.url", em);
}

/* Is po the CRD's default for XDP (pass, dispatcher_return)?  Then nothing is sent:
 * bpfd applies its default, and a program attached without a dispatcher (a kernel
 * that refuses freplace) is not refused for a proceed-on it never asked for. */
static bool xdp_default_proceed_on(const cJSON *po)
{
	const cJSON *a = cJSON_GetArrayItem(po, 0), *b = cJSON_GetArrayItem(po, 1);

	return cJSON_GetArraySize(po) == 2 && cJSON_IsString(a) && cJSON_IsString(b) &&
	       !strcmp(a->valuestring, "pass") && !strcmp(b->valuestring, "dispatcher_return");
}

static int set_proceed_on(enum chain_kind ck, const cJSON *po, int32_t *codes,
			  pb_size_t *count, size_t max, struct errmsg *em)
{
	const cJSON *it;

	if (ck == CHAIN_XDP && xdp_default_proceed_on(po))
		return 0;

	cJSON_ArrayForEach(it, po) {
		if (*count >= max)
			return errmsg_set(em, -EINVAL, "spec.proceedon has too many entries");
		if (!cJSON_IsString(it) || chain_action_parse(ck, it->valuestring, &codes[*count]))
			return errmsg_set(em, -EINVAL, "spec.proceedon holds an unknown action");
		(*count)++;
	}
	return 0;
}

static int set_attach(bpfd_v1_LoadRequest *req, const struct bpfprog_kind *k,
		      const cJSON *spec, const char *point, struct errmsg *em)
{
	bpfd_v1_AttachInfo *ai = &req->attach;
	bpfd_v1_XDPAttachInfo *x = &ai->info.xdp_attach_info;
	const cJSON *prio = k8s_json_get(spec, "priority");

	req->has_attach = true;
	if (!strcmp(k->type, "xdp")) {
		ai->which_info = bpfd_v1_AttachInfo_xdp_attach_info_tag;
		x->priority = cJSON_IsNumber(prio) ? (int32_t)prio->valuedouble : 0;
		return copy(x->iface, sizeof(x->iface), point, "the interface name", em) ?:
		       set_proceed_on(CHAIN_XDP, k8s_json_get(spec, "proceedon"), x->proceed_on,
				      &x->proceed_on_count,
				      sizeof(x->proceed_on) / sizeof(x->proceed_on[0]), em);
	}
	if (!strcmp(k->type, "tracepoint")) {
		ai->which_info = bpfd_v1_AttachInfo_tracepoint_attach_info_tag;
		return copy(ai->info.tracepoint_attach_info.tracepoint,
			    sizeof(ai->info.tracepoint_attach_info.tracepoint), point,
			    "the tracepoint", em);
	}
	return errmsg_set(em, -EOPNOTSUPP, "the agent does not load %s yet", k->kind);
}

static int add_meta(bpfd_v1_LoadRequest *req, const char *key, const char *value,
		    struct errmsg *em)
{
	bpfd_v1_LoadRequest_MetadataEntry *e;

	if (req->metadata_count >= sizeof(req->metadata) / sizeof(req->metadata[0]))
		return errmsg_set(em, -E2BIG, "too much metadata");
	e = &req->metadata[req->metadata_count];
	if (copy(e->key, sizeof(e->key), key, "a metadata key", em) ||
	    copy(e->value, sizeof(e->value), value, "a metadata value", em))
		return -EINVAL;
	req->metadata_count++;
	return 0;
}

static int add_globals(bpfd_v1_LoadRequest *req, const cJSON *gd, struct errmsg *em)
{
	bpfd_v1_LoadRequest_GlobalDataEntry *g;
	unsigned char *bytes;
	const cJSON *it;
	size_t len;

	cJSON_ArrayForEach(it, gd) {
		if (req->global_data_count >= sizeof(req->global_data) / sizeof(req->global_data[0]))
			return errmsg_set(em, -E2BIG, "spec.globaldata has too many entries");
		g = &req->global_data[req->global_data_count];
		if (copy(g->key, sizeof(g->key), it->string, "a spec.globaldata name", em))
			return -EINVAL;
		if (!cJSON_IsString(it) ||
		    base64_decode(it->valuestring, strlen(it->valuestring), &bytes, &len))
			return errmsg_set(em, -EINVAL, "spec.globaldata '%s' is not base64", it->string);
		if (len > sizeof(g->value.bytes)) {
			free(bytes);
			return errmsg_set(em, -EINVAL, "spec.globaldata '%s' is too long", it->string);
		}
		memcpy(g->value.bytes, bytes, len);
		g->value.size = (pb_size_t)len;
		free(bytes);
		req->global_data_count++;
	}
	return 0;
}

int agent_bpfd_load(const char *endpoint, const struct bpfprog_kind *k, const cJSON *program,
		    const char *point, const char *uuid, uint32_t *ret_id, struct errmsg *em)
{
	const cJSON *spec = k8s_json_get(program, "spec");
	bpfd_v1_LoadRequest *req;
	bpfd_v1_LoadResponse *resp;
	int err;

	req = calloc(1, sizeof(*req));
	resp = calloc(1, sizeof(*resp));
	if (!req || !resp) {
		err = errmsg_set(em, -ENOMEM, "out of memory");
		goto out;
	}
	err = copy(req->name, sizeof(req->name), k8s_json_str(spec, "bpffunctionname"),
		   "spec.bpffunctionname", em) ?:
	      set_bytecode(req, spec, em) ?:
	      set_attach(req, k, spec, point, em) ?:
	      add_meta(req, AGENT_UUID_KEY, uuid, em) ?:
	      add_meta(req, AGENT_NAME_KEY, k8s_meta_str(program, "name"), em) ?:
	      add_globals(req, k8s_json_get(spec, "globaldata"), em);
	if (err)
		goto out;
	err = call(endpoint, "/bpfd.v1.Bpfd/Load", bpfd_v1_LoadRequest_fields, req,
		   bpfd_v1_LoadResponse_fields, resp, em);
	if (!err)
		*ret_id = resp->kernel_info.id;
out:
	free(req);
	free(resp);
	return err;
}

int agent_bpfd_unload(const char *endpoint, uint32_t id, struct errmsg *em)
{
	bpfd_v1_UnloadRequest req = { .id = id };
	bpfd_v1_UnloadResponse resp = { 0 };

	return call(endpoint, "/bpfd.v1.Bpfd/Unload", bpfd_v1_UnloadRequest_fields, &req,
		    bpfd_v1_UnloadResponse_fields, &resp, em);
}

bool agent_bpfd_differs(const struct agent_loaded *l, const struct bpfprog_kind *k,
			const cJSON *program)
{
	const cJSON *spec = k8s_json_get(program, "spec"), *prio, *it;
	int32_t code;
	uint32_t bits = 0;

	if (strcmp(k->type, "xdp"))
		return false;
	prio = k8s_json_get(spec, "priority");
	if (cJSON_IsNumber(prio) && (int32_t)prio->valuedouble != l->priority)
		return true;
	if (xdp_default_proceed_on(k8s_json_get(spec, "proceedon")))
		return false;
	cJSON_ArrayForEach(it, k8s_json_get(spec, "proceedon")) {
		if (cJSON_IsString(it) && !chain_action_parse(CHAIN_XDP, it->valuestring, &code) &&
		    code >= 0 && code < 32)
			bits |= 1u << code;
	}
	return bits && bits != l->proceed_on;
}
