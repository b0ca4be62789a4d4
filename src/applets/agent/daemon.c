/* SPDX-License-Identifier: Apache-2.0 */
/* daemon.c - bpfd-agent's calls to the local bpfd (gRPC Load, Modify, Unload, List)
 * and the load request it builds from a *Program's spec */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "applets/agent/agent.h"
#include "applets/bpfctl/bpfctl.h"
#include "bpfd.pb.h"
#include "core/base/base64.h"
#include "core/base/chain.h"
#include "core/base/errmsg.h"
#include "core/image/ref.h"
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

static uint32_t proceed_mask(enum chain_kind ck, const int32_t *codes, size_t n)
{
	uint32_t mask = 0;

	return chain_proceed_on_encode(ck, codes, n, &mask, NULL) ? 0 : mask;
}

static void fill_point(struct agent_loaded *l, const bpfd_v1_AttachInfo *ai)
{
	const bpfd_v1_XDPAttachInfo *x = &ai->info.xdp_attach_info;
	const bpfd_v1_TCAttachInfo *tc = &ai->info.tc_attach_info;
	const bpfd_v1_TCXAttachInfo *tcx = &ai->info.tcx_attach_info;

	l->chain = -1;
	switch (ai->which_info) {
	case bpfd_v1_AttachInfo_xdp_attach_info_tag:
		snprintf(l->point, sizeof(l->point), "%s", x->iface);
		l->chain = CHAIN_XDP;
		l->priority = x->priority;
		l->proceed_on = proceed_mask(CHAIN_XDP, x->proceed_on, x->proceed_on_count);
		break;
	case bpfd_v1_AttachInfo_tc_attach_info_tag:
		snprintf(l->point, sizeof(l->point), "%s/%s", tc->iface, tc->direction);
		l->chain = CHAIN_TC;
		l->priority = tc->priority;
		l->proceed_on = proceed_mask(CHAIN_TC, tc->proceed_on, tc->proceed_on_count);
		break;
	case bpfd_v1_AttachInfo_tcx_attach_info_tag:
		snprintf(l->point, sizeof(l->point), "%s/%s", tcx->iface, tcx->direction);
		l->chain = CHAIN_TCX;
		l->priority = tcx->priority;
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
	case bpfd_v1_AttachInfo_fentry_attach_info_tag:
		snprintf(l->point, sizeof(l->point), "%s", ai->info.fentry_attach_info.fn_name);
		break;
	case bpfd_v1_AttachInfo_fexit_attach_info_tag:
		snprintf(l->point, sizeof(l->point), "%s", ai->info.fexit_attach_info.fn_name);
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
	l->chain = -1;
	if (!res->has_info)
		return true;
	fill_point(l, &res->info.attach);
	l->map_owner_id = res->info.has_map_owner_id ? res->info.map_owner_id : 0;
	for (i = 0; i < res->info.metadata_count; i++) {
		if (!strcmp(res->info.metadata[i].key, AGENT_UUID_KEY))
			snprintf(l->uuid, sizeof(l->uuid), "%s", res->info.metadata[i].value);
		else if (!strcmp(res->info.metadata[i].key, AGENT_HASH_KEY))
			snprintf(l->load_hash, sizeof(l->load_hash), "%s",
				 res->info.metadata[i].value);
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

/* The image's registry (host[:port]) for its pull secret; "" when url does not parse
 * (bpfd then refuses the load and says why). */
static void image_registry(const char *url, char *buf, size_t size)
{
	struct image_ref ref;

	buf[0] = '\0';
	if (url && !image_ref_parse(url, &ref, NULL))
		snprintf(buf, size, "%s", ref.host);
}

static int set_bytecode(struct agent_want *w, const cJSON *spec, struct errmsg *em)
{
	bpfd_v1_LoadRequest *req = w->req;
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
	image_registry(url, w->registry, sizeof(w->registry));
	return copy(img->url, sizeof(img->url), url, "spec.bytecode.image.url", em);
}

/* spec.proceedon as codes and mask into w (the kind's default when absent or empty). */
static int want_proceed_on(struct agent_want *w, const cJSON *po, struct errmsg *em)
{
	enum chain_kind ck = (enum chain_kind)w->chain;
	const cJSON *it;

	w->n_codes = 0;
	cJSON_ArrayForEach(it, po) {
		if (w->n_codes >= sizeof(w->codes) / sizeof(w->codes[0]))
			return errmsg_set(em, -EINVAL, "spec.proceedon has too many entries");
		if (!cJSON_IsString(it) || chain_action_parse(ck, it->valuestring,
							     &w->codes[w->n_codes]))
			return errmsg_set(em, -EINVAL, "spec.proceedon holds an unknown action");
		w->n_codes++;
	}
	if (chain_proceed_on_encode(ck, w->codes, w->n_codes, &w->proceed_on, em))
		return -EINVAL;
	if (!w->n_codes)
		w->n_codes = chain_proceed_on_decode(ck, w->proceed_on, w->codes,
						     sizeof(w->codes) / sizeof(w->codes[0]));
	return 0;
}

/* The codes to load with: none for the kind's default, so that bpfd applies it and
 * a program attached without a dispatcher (a kernel that refuses freplace) is not
 * refused for a proceed-on it never asked for. */
static pb_size_t load_codes(const struct agent_want *w, int32_t *codes)
{
	uint32_t def = w->chain == CHAIN_XDP ? CHAIN_XDP_DEFAULT_MASK : CHAIN_TC_DEFAULT_MASK;

	if (w->proceed_on == def)
		return 0;
	memcpy(codes, w->codes, w->n_codes * sizeof(codes[0]));
	return (pb_size_t)w->n_codes;
}

static int64_t spec_int(const cJSON *spec, const char *key, int64_t def)
{
	const cJSON *v = k8s_json_get(spec, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

static int set_iface_attach(struct agent_want *w, const struct bpfprog_kind *k,
			    const cJSON *spec, const char *point, struct errmsg *em)
{
	bpfd_v1_AttachInfo *ai = &w->req->attach;
	bpfd_v1_XDPAttachInfo *x = &ai->info.xdp_attach_info;
	bpfd_v1_TCAttachInfo *tc = &ai->info.tc_attach_info;
	bpfd_v1_TCXAttachInfo *tcx = &ai->info.tcx_attach_info;
	const char *dir = k8s_json_str(spec, "direction");
	int err = 0;

	w->priority = (int32_t)spec_int(spec, "priority", 0);
	if (!strcmp(k->type, "xdp")) {
		w->chain = CHAIN_XDP;
		ai->which_info = bpfd_v1_AttachInfo_xdp_attach_info_tag;
		x->priority = w->priority;
		err = copy(x->iface, sizeof(x->iface), point, "the interface name", em) ?:
		      want_proceed_on(w, k8s_json_get(spec, "proceedon"), em);
		if (!err)
			x->proceed_on_count = load_codes(w, x->proceed_on);
	} else if (!strcmp(k->type, "tc")) {
		w->chain = CHAIN_TC;
		ai->which_info = bpfd_v1_AttachInfo_tc_attach_info_tag;
		tc->priority = w->priority;
		err = copy(tc->iface, sizeof(tc->iface), point, "the interface name", em) ?:
		      copy(tc->direction, sizeof(tc->direction), dir, "spec.direction", em) ?:
		      want_proceed_on(w, k8s_json_get(spec, "proceedon"), em);
		if (!err)
			tc->proceed_on_count = load_codes(w, tc->proceed_on);
	} else {
		w->chain = CHAIN_TCX;
		ai->which_info = bpfd_v1_AttachInfo_tcx_attach_info_tag;
		tcx->priority = w->priority;
		err = copy(tcx->iface, sizeof(tcx->iface), point, "the interface name", em) ?:
		      copy(tcx->direction, sizeof(tcx->direction), dir, "spec.direction", em);
	}
	return err;
}

static int set_attach(struct agent_want *w, const struct bpfprog_kind *k, const cJSON *spec,
		      const char *point, struct errmsg *em)
{
	bpfd_v1_AttachInfo *ai = &w->req->attach;
	bpfd_v1_KprobeAttachInfo *kp = &ai->info.kprobe_attach_info;
	bpfd_v1_UprobeAttachInfo *up = &ai->info.uprobe_attach_info;
	const char *fn = k8s_json_str(spec, "func_name");

	w->req->has_attach = true;
	w->chain = -1;
	if (!strcmp(k->point_key, "interface"))
		return set_iface_attach(w, k, spec, point, em);
	if (!strcmp(k->type, "tracepoint")) {
		ai->which_info = bpfd_v1_AttachInfo_tracepoint_attach_info_tag;
		return copy(ai->info.tracepoint_attach_info.tracepoint,
			    sizeof(ai->info.tracepoint_attach_info.tracepoint), point,
			    "the tracepoint", em);
	}
	if (!strcmp(k->type, "kprobe")) {
		ai->which_info = bpfd_v1_AttachInfo_kprobe_attach_info_tag;
		kp->offset = (uint64_t)spec_int(spec, "offset", 0);
		kp->retprobe = cJSON_IsTrue(k8s_json_get(spec, "retprobe"));
		return copy(kp->fn_name, sizeof(kp->fn_name), point, "the function name", em);
	}
	if (!strcmp(k->type, "uprobe")) {
		ai->which_info = bpfd_v1_AttachInfo_uprobe_attach_info_tag;
		up->offset = (uint64_t)spec_int(spec, "offset", 0);
		up->retprobe = cJSON_IsTrue(k8s_json_get(spec, "retprobe"));
		up->has_pid = cJSON_IsNumber(k8s_json_get(spec, "pid"));
		up->pid = (int32_t)spec_int(spec, "pid", 0);
		up->has_fn_name = fn && *fn;
		return copy(up->target, sizeof(up->target), point, "the target", em) ?:
		       (up->has_fn_name ? copy(up->fn_name, sizeof(up->fn_name), fn,
					       "spec.func_name", em) : 0);
	}
	if (!strcmp(k->type, "fentry")) {
		ai->which_info = bpfd_v1_AttachInfo_fentry_attach_info_tag;
		return copy(ai->info.fentry_attach_info.fn_name,
			    sizeof(ai->info.fentry_attach_info.fn_name), point, "spec.func_name",
			    em);
	}
	if (!strcmp(k->type, "fexit")) {
		ai->which_info = bpfd_v1_AttachInfo_fexit_attach_info_tag;
		return copy(ai->info.fexit_attach_info.fn_name,
			    sizeof(ai->info.fexit_attach_info.fn_name), point, "spec.func_name",
			    em);
	}
	return errmsg_set(em, -EOPNOTSUPP, "the agent does not load %s", k->kind);
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

struct fnv {
	uint64_t h;
};

static bool fnv_write(pb_ostream_t *s, const pb_byte_t *buf, size_t n)
{
	struct fnv *f = s->state;
	size_t i;

	for (i = 0; i < n; i++) {
		f->h ^= buf[i];
		f->h *= 0x100000001b3ull;
	}
	return true;
}

/* FNV-1a of the request as encoded, without priority and proceed-on (what a Modify
 * changes in place) and without metadata: a change of anything else is a reload. */
static int want_hash(struct agent_want *w, struct errmsg *em)
{
	bpfd_v1_LoadRequest *r = malloc(sizeof(*r));
	struct fnv f = { .h = 0xcbf29ce484222325ull };
	pb_ostream_t s = { .callback = fnv_write, .state = &f, .max_size = SIZE_MAX };
	bpfd_v1_AttachInfo *ai;
	bool ok;

	if (!r)
		return errmsg_set(em, -ENOMEM, "out of memory");
	memcpy(r, w->req, sizeof(*r));
	ai = &r->attach;
	switch (ai->which_info) {
	case bpfd_v1_AttachInfo_xdp_attach_info_tag:
		ai->info.xdp_attach_info.priority = 0;
		ai->info.xdp_attach_info.proceed_on_count = 0;
		break;
	case bpfd_v1_AttachInfo_tc_attach_info_tag:
		ai->info.tc_attach_info.priority = 0;
		ai->info.tc_attach_info.proceed_on_count = 0;
		break;
	case bpfd_v1_AttachInfo_tcx_attach_info_tag:
		ai->info.tcx_attach_info.priority = 0;
		break;
	}
	r->metadata_count = 0;
	ok = pb_encode(&s, bpfd_v1_LoadRequest_fields, r);
	free(r);
	if (!ok)
		return errmsg_set(em, -EINVAL, "cannot encode the load request");
	snprintf(w->hash, sizeof(w->hash), "%016llx", (unsigned long long)f.h);
	return 0;
}

int agent_want_build(const struct bpfprog_kind *k, const cJSON *program, const char *point,
		     uint32_t map_owner_id, struct agent_want *w, struct errmsg *em)
{
	const cJSON *spec = k8s_json_get(program, "spec");

	memset(w, 0, sizeof(*w));
	w->chain = -1;
	w->req = calloc(1, sizeof(*w->req));
	if (!w->req)
		return errmsg_set(em, -ENOMEM, "out of memory");
	w->req->has_map_owner_id = map_owner_id != 0;
	w->req->map_owner_id = map_owner_id;
	return copy(w->req->name, sizeof(w->req->name), k8s_json_str(spec, "bpffunctionname"),
		    "spec.bpffunctionname", em) ?:
	       set_bytecode(w, spec, em) ?:
	       set_attach(w, k, spec, point, em) ?:
	       add_globals(w->req, k8s_json_get(spec, "globaldata"), em) ?:
	       want_hash(w, em);
}

int agent_want_set_cred(struct agent_want *w, const char *user, const char *password,
			struct errmsg *em)
{
	bpfd_v1_BytecodeImage *img = &w->req->bytecode.location.image;

	if (strlen(user) >= sizeof(img->username) || strlen(password) >= sizeof(img->password))
		return errmsg_set(em, -EINVAL, "the registry user name or password is too long "
				  "for bpfd (%zu, %zu bytes at most)", sizeof(img->username) - 1,
				  sizeof(img->password) - 1);
	img->has_username = img->has_password = true;
	strcpy(img->username, user);
	strcpy(img->password, password);
	return 0;
}

void agent_want_fini(struct agent_want *w)
{
	if (w->req) {
		explicit_bzero(w->req, sizeof(*w->req));
		free(w->req);
	}
	w->req = NULL;
}

enum agent_change agent_bpfd_compare(const struct agent_loaded *l, const struct agent_want *w)
{
	if (strcmp(l->load_hash, w->hash) || l->chain != w->chain)
		return AGENT_RELOAD;
	if (w->chain < 0)
		return AGENT_SAME;
	if (l->priority != w->priority || (w->chain != CHAIN_TCX && l->proceed_on != w->proceed_on))
		return AGENT_MODIFY;
	return AGENT_SAME;
}

int agent_bpfd_load(const char *endpoint, struct agent_want *w, const char *uuid,
		    const char *program_name, uint32_t *ret_id, struct errmsg *em)
{
	bpfd_v1_LoadResponse *resp;
	int err;

	resp = calloc(1, sizeof(*resp));
	if (!resp)
		return errmsg_set(em, -ENOMEM, "out of memory");
	w->req->metadata_count = 0;
	err = add_meta(w->req, AGENT_UUID_KEY, uuid, em) ?:
	      add_meta(w->req, AGENT_NAME_KEY, program_name, em) ?:
	      add_meta(w->req, AGENT_HASH_KEY, w->hash, em);
	if (!err)
		err = call(endpoint, "/bpfd.v1.Bpfd/Load", bpfd_v1_LoadRequest_fields, w->req,
			   bpfd_v1_LoadResponse_fields, resp, em);
	if (!err)
		*ret_id = resp->kernel_info.id;
	free(resp);
	return err;
}

int agent_bpfd_modify(const char *endpoint, const struct agent_loaded *l,
		      const struct agent_want *w, struct errmsg *em)
{
	bpfd_v1_ModifyRequest *req = calloc(1, sizeof(*req));
	bpfd_v1_ModifyResponse *resp = calloc(1, sizeof(*resp));
	int err;

	if (!req || !resp) {
		err = errmsg_set(em, -ENOMEM, "out of memory");
		goto out;
	}
	req->id = l->id;
	if (l->priority != w->priority) {
		req->has_priority = true;
		req->priority = w->priority;
	}
	/* only a change of the set: a program attached directly has the default and
	 * cannot be given another */
	if (w->chain != CHAIN_TCX && l->proceed_on != w->proceed_on) {
		memcpy(req->proceed_on, w->codes, w->n_codes * sizeof(w->codes[0]));
		req->proceed_on_count = (pb_size_t)w->n_codes;
	}
	err = call(endpoint, "/bpfd.v1.Bpfd/Modify", bpfd_v1_ModifyRequest_fields, req,
		   bpfd_v1_ModifyResponse_fields, resp, em);
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
