/* SPDX-License-Identifier: Apache-2.0 */
/* rpc.c - bpfd.v1.Bpfd method table: Load, Unload, List, Get, PullBytecode, Reload,
 * Events, Modify */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "bpf/kinfo.h"
#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/base/event.h"
#include "core/events.h"
#include "core/image/object.h"
#include "core/image/progress.h"
#include "core/wire/errmap.h"
#include "core/wire/h2.h"
#include "core/state/manager.h"
#include "core/state/record.h"
#include "core/progd.h"
#include "core/metrics.h"
#include "core/rpc.h"

int rpc_decode(const pb_msgdesc_t *fields, const uint8_t *buf, size_t len, void *msg,
	       struct errmsg *em)
{
	pb_istream_t is = pb_istream_from_buffer(buf, len);

	if (!pb_decode(&is, fields, msg))
		return errmsg_set(em, -EINVAL, "Malformed request message: %s", PB_GET_ERROR(&is));
	return 0;
}

static bool buf_write(pb_ostream_t *s, const pb_byte_t *b, size_t n)
{
	return !grpc_buf_append(s->state, b, n);
}

/* Encode msg as the reply body. */
static void reply_encode(struct grpc_reply *r, const pb_msgdesc_t *fields, const void *msg)
{
	pb_ostream_t os = { .callback = buf_write, .state = &r->body, .max_size = SIZE_MAX };

	if (grpc_reply_begin(r))
		return grpc_reply_error(r, GRPC_RESOURCE_EXHAUSTED, "Out of memory");
	os.max_size = r->max_msg;
	if (!pb_encode(&os, fields, msg)) {
		if (os.bytes_written >= r->max_msg)
			return grpc_reply_error(r, GRPC_RESOURCE_EXHAUSTED,
				"The response is larger than the message limit of %zu bytes",
				r->max_msg);
		return grpc_reply_error(r, GRPC_INTERNAL, "Failed to encode the response: %s",
					PB_GET_ERROR(&os));
	}
	if (grpc_reply_end(r))
		return grpc_reply_error(r, GRPC_RESOURCE_EXHAUSTED,
			"The response is larger than the message limit of %zu bytes", r->max_msg);
	r->status = GRPC_OK;
}

static void reply_errno(struct grpc_reply *r, int err, const struct errmsg *em,
			const char *what)
{
	grpc_reply_error(r, grpc_status_from_errno(err), "%s",
			 em->msg[0] ? em->msg : what);
	if (!em->msg[0])
		snprintf(r->message, sizeof(r->message), "%s: %s", what, strerror(-err));
}

static bool decode_or_reply(struct grpc_reply *r, const char *name, const pb_msgdesc_t *fields,
			    const struct grpc_call *call, void *msg)
{
	struct errmsg em = { "" };

	if (!rpc_decode(fields, call->msg, call->len, msg, &em))
		return true;
	grpc_reply_error(r, GRPC_INVALID_ARGUMENT, "Malformed %s: %s", name,
			 em.msg + strlen("Malformed request message: "));
	return false;
}

/* ---- who may do what ([[policy]], decided here in the front) ---- */

static bool policy_on(const struct rpc *rpc, const struct grpc_call *call)
{
	return rpc->policy && call->caller;
}

static void refuse(struct grpc_reply *r, const struct grpc_call *call, const char *method,
		   const struct errmsg *em)
{
	log_warn("Refused %s of %s: %s", method, call->caller->name, em->msg);
	grpc_reply_error(r, grpc_status_from_errno(-EPERM), "%s", em->msg);
}

/* "an xdp program on eth0 at priority 50", "a tracepoint program" */
static void describe(const struct attach_spec *a, char *buf, size_t size)
{
	const char *k = obj_kind_str(a->kind);
	bool an = a->kind == OBJ_KIND_XDP || a->kind == OBJ_KIND_FENTRY ||
		  a->kind == OBJ_KIND_FEXIT || a->kind == OBJ_KIND_UNKNOWN;

	if (a->kind == OBJ_KIND_XDP || a->kind == OBJ_KIND_TC || a->kind == OBJ_KIND_TCX)
		snprintf(buf, size, "%s %s program on %s at priority %d", an ? "an" : "a", k,
			 a->iface, a->priority);
	else
		snprintf(buf, size, "%s %s program", an ? "an" : "a", k);
}

/* The programs whose owner is name. */
static int count_held(struct rpc *rpc, const char *name, size_t *ret, struct errmsg *em)
{
	bpfd_v1_ProgramInfo *info = malloc(sizeof(*info));
	uint32_t id = 0;
	size_t n = 0;
	int err;

	if (!info)
		return -ENOMEM;
	for (;;) {
		err = rpc->ops->prog_next(rpc->ctx, id, &id);
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		if (err) {
			errmsg_set(em, err, "Failed to count the caller's programs: %s", strerror(-err));
			break;
		}
		if (!rpc->ops->prog_info(rpc->ctx, id, info, NULL) && !strcmp(info->owner, name))
			n++;
	}
	free(info);
	*ret = n;
	return err;
}

/* May the caller load what req asks for (kind, interface, priority, how many)? */
static int load_allowed(struct rpc *rpc, const struct grpc_call *call,
			const bpfd_v1_LoadRequest *req, struct errmsg *em)
{
	struct attach_spec *a = malloc(sizeof(*a));
	struct policy_target t;
	char what[128];
	uint32_t limit;
	size_t held;
	int err;

	if (!a)
		return -ENOMEM;
	record_attach_from_pb(req->has_attach ? &req->attach : NULL, a);
	t = (struct policy_target){ .kind = a->kind, .iface = a->iface, .priority = a->priority };
	snprintf(what, sizeof(what), "load ");
	describe(a, what + 5, sizeof(what) - 5);
	err = policy_check(rpc->policy, call->caller, POLICY_WRITE, what, &t, &limit, em);
	if (!err && limit) {
		err = count_held(rpc, call->caller->name, &held, em);
		if (!err)
			err = policy_check_count(rpc->policy, call->caller, held, limit, em);
	}
	free(a);
	return err;
}

/* May the caller unload (verb "unload") or modify (verb "modify") program id: could it
 * have loaded it, and, when priority is not NULL, load it at that priority? */
static int prog_allowed(struct rpc *rpc, const struct grpc_call *call, uint32_t id,
			const char *verb, const int32_t *priority, struct errmsg *em)
{
	bpfd_v1_ProgramInfo *info;
	struct attach_spec *a;
	struct policy_target t;
	char what[192];
	int err = -ENOMEM, n;

	if (!policy_restricts(rpc->policy, call->caller))
		return 0;
	info = malloc(sizeof(*info));
	a = malloc(sizeof(*a));
	if (!info || !a)
		goto out;
	err = 0;
	/* not bpfd's: the manager says so, whoever asks */
	if (rpc->ops->prog_info(rpc->ctx, id, info, NULL))
		goto out;
	record_attach_from_pb(info->has_attach ? &info->attach : NULL, a);
	if (a->kind == OBJ_KIND_UNKNOWN) {
		/* a damaged record: what the grant would be checked against is unknown */
		err = errmsg_set(em, -EPERM, "%s may not %s program %u: bpfd cannot tell its kind and attach point (%s), so only root may",
				 call->caller->name, verb, id,
				 info->record_damaged[0] ? "its record is damaged" : "bpfd recorded none");
		goto out;
	}
	t = (struct policy_target){ .kind = a->kind, .iface = a->iface, .priority = a->priority };
	n = snprintf(what, sizeof(what), "%s program %u (", verb, id);
	describe(a, what + n, sizeof(what) - n - 1);
	strcat(what, ")");
	err = policy_check(rpc->policy, call->caller, POLICY_WRITE, what, &t, NULL, em);
	if (err || !priority)
		goto out;
	t.priority = *priority;
	snprintf(what, sizeof(what), "move program %u to priority %d", id, *priority);
	err = policy_check(rpc->policy, call->caller, POLICY_WRITE, what, &t, NULL, em);
out:
	free(info);
	free(a);
	return err;
}

/* ---- calls answered after the pull worker's part (rpc_pull.h) ---- */

struct pull_call {
	struct rpc_pull_job job;
	struct rpc *rpc;
	const char *path;		/* the method, for the metrics */
	struct h2_deferred *d;
	size_t max_msg;
	bool has_caller;
	struct caller caller;
	uint64_t t0_ns;
	int err;
	struct errmsg em;
	bpfd_v1_LoadRequest *load;	/* a Load: req, and what prepare made */
	void *prep;
	bpfd_v1_PullBytecodeRequest *pull;	/* a PullBytecode */
	bpfd_v1_PullBytecodeResponse pull_resp;
};

/*
 * Blocks of 32 KiB and more get mappings of their own (server.c), and in a
 * process with two threads each munmap() is a TLB shoot-down on the other
 * CPU: a List that allocated its result and a prog_view per program spent
 * about half its time mapping and unmapping (perf, 100 programs).  The front
 * (one thread; calls do not nest) keeps one of each fixed-size struct for the
 * daemon's life instead.  A Load's request handed to the pull worker is the
 * worker's until its reply; the next Load meanwhile takes a new one.
 */
static struct {
	bpfd_v1_ListResponse_ListResult *list_res;	/* do_list(), walk_steps() */
	bpfd_v1_ListRequest *list_req;			/* do_list(), list_walk_done() */
	struct prog_view *view;				/* kern_op_info() */
	struct prog_view *reply_view;			/* reply_view() */
	bpfd_v1_LoadRequest *load_req;	/* do_load(); NULL while lent to a pull */
	bpfd_v1_LoadResponse *load_resp;	/* do_load(), pull_call_done() */
} scratch;

static bpfd_v1_LoadRequest *load_req_get(void)
{
	bpfd_v1_LoadRequest *req = scratch.load_req;

	scratch.load_req = NULL;
	return req ? req : calloc(1, sizeof(*req));
}

/* Back from do_load() or a pull: credentials must not linger, in the kept one either. */
static void load_req_put(bpfd_v1_LoadRequest *req)
{
	if (!req)
		return;
	explicit_bzero(req, sizeof(*req));
	if (scratch.load_req)
		free(req);
	else
		scratch.load_req = req;
}

/* Zeroed, as the ops expect it. */
static bpfd_v1_LoadResponse *load_resp_get(void)
{
	if (!scratch.load_resp)
		return scratch.load_resp = calloc(1, sizeof(*scratch.load_resp));
	memset(scratch.load_resp, 0, sizeof(*scratch.load_resp));
	return scratch.load_resp;
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void pull_call_free(struct pull_call *pc)
{
	/* credentials must not linger in freed memory */
	load_req_put(pc->load);
	if (pc->pull)
		explicit_bzero(pc->pull, sizeof(*pc->pull));
	free(pc->pull);
	free(pc);
}

static void pull_call_work(struct rpc_pull_job *j)
{
	struct pull_call *pc = (struct pull_call *)j;
	struct rpc *rpc = pc->rpc;

	/* the pull's progress events name who asked */
	event_caller_set(pc->has_caller ? pc->caller.name : NULL);
	if (pc->load)
		pc->err = rpc->ops->load_prepare(rpc->ctx, pc->load,
						 pc->has_caller ? &pc->caller : NULL,
						 &pc->prep, &pc->em);
	else
		pc->err = rpc->ops->pull_bytecode(rpc->ctx, pc->pull, &pc->pull_resp, &pc->em);
	event_caller_set(NULL);
}

static void pull_call_done(struct rpc_pull_job *j)
{
	struct pull_call *pc = (struct pull_call *)j;
	struct rpc *rpc = pc->rpc;
	bpfd_v1_LoadResponse *resp;
	struct grpc_reply r;
	int err = pc->err;

	grpc_reply_init(&r, pc->max_msg);
	if (j->cancelled || !h2_deferred_waited(pc->d)) {
		/* no client would learn a program's id: load nothing */
		if (pc->prep)
			(void)rpc->ops->load_prepared(rpc->ctx, pc->load, pc->prep, NULL, &pc->em);
		grpc_reply_error(&r, GRPC_UNAVAILABLE, "bpfd is stopping");
		goto out;
	}
	if (pc->pull) {
		if (err)
			reply_errno(&r, err, &pc->em, "PullBytecode failed");
		else
			reply_encode(&r, bpfd_v1_PullBytecodeResponse_fields, &pc->pull_resp);
		goto out;
	}
	resp = load_resp_get();
	if (!err && !resp) {
		err = errmsg_set(&pc->em, -ENOMEM, "Out of memory");
		(void)rpc->ops->load_prepared(rpc->ctx, pc->load, pc->prep, NULL, &pc->em);
	} else if (!err) {
		err = rpc->ops->load_prepared(rpc->ctx, pc->load, pc->prep, resp, &pc->em);
	}
	pc->prep = NULL;
	metrics_load_observe(mono_ns() - pc->t0_ns);
	if (err && pc->has_caller)
		log_info("Load of %s failed: %s", pc->caller.name,
			 pc->em.msg[0] ? pc->em.msg : strerror(-err));
	if (err)
		reply_errno(&r, err, &pc->em, "Load failed");
	else
		reply_encode(&r, bpfd_v1_LoadResponse_fields, resp);
out:
	metrics_rpc_done(pc->path, r.status);
	h2_deferred_complete(pc->d, &r);
	grpc_reply_fini(&r);
	pull_call_free(pc);
}

/* Hand the call to the pull worker, which takes load or pull (one of them NULL):
 * true when it did and the answer comes later; false: answer now, in the front. */
static bool pull_call_defer(struct rpc *rpc, const struct grpc_call *call,
			    struct grpc_reply *r, bpfd_v1_LoadRequest **load,
			    bpfd_v1_PullBytecodeRequest **pull)
{
	struct pull_call *pc;

	if (!rpc->pulls || (load && !rpc->ops->load_prepare))
		return false;
	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return false;
	pc->d = h2_reply_defer(r);
	if (!pc->d) {
		free(pc);
		return false;
	}
	pc->job = (struct rpc_pull_job){ .work = pull_call_work, .done = pull_call_done };
	pc->rpc = rpc;
	/* a literal: the metrics keep the pointer, and call->path is the
	 * stream's, freed when the client goes (ASan: use after free) */
	pc->path = load ? "/bpfd.v1.Bpfd/Load" : "/bpfd.v1.Bpfd/PullBytecode";
	pc->max_msg = r->max_msg;
	if (call->caller) {
		pc->has_caller = true;
		pc->caller = *call->caller;
	}
	pc->t0_ns = mono_ns();
	pc->load = load ? *load : NULL;
	pc->pull = pull ? *pull : NULL;
	if (rpc_pulls_submit(rpc->pulls, &pc->job)) {
		h2_deferred_complete(pc->d, NULL);
		r->deferred = NULL;
		free(pc);
		return false;
	}
	if (load)
		*load = NULL;
	if (pull)
		*pull = NULL;
	return true;
}

static void do_load(struct rpc *rpc, const struct grpc_call *call, struct grpc_reply *r)
{
	bpfd_v1_LoadRequest *req = load_req_get();
	bpfd_v1_LoadResponse *resp;
	struct errmsg em = { "" };
	struct timespec t0, t1;
	int err;

	if (!req) {
		grpc_reply_error(r, GRPC_RESOURCE_EXHAUSTED, "Out of memory");
		goto out;
	}
	if (!decode_or_reply(r, "LoadRequest", bpfd_v1_LoadRequest_fields, call, req))
		goto out;
	if (policy_on(rpc, call)) {
		err = load_allowed(rpc, call, req, &em);
		if (err == -EPERM) {
			refuse(r, call, "Load", &em);
			goto out;
		}
		if (err) {
			reply_errno(r, err, &em, "Load failed");
			goto out;
		}
	}
	if (req->has_bytecode &&
	    req->bytecode.which_location == bpfd_v1_BytecodeLocation_image_tag &&
	    pull_call_defer(rpc, call, r, &req, NULL))
		goto out;
	resp = load_resp_get();
	if (!resp) {
		grpc_reply_error(r, GRPC_RESOURCE_EXHAUSTED, "Out of memory");
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = rpc->ops->load(rpc->ctx, req, call->caller, resp, &em);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_load_observe((uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 +
			     t1.tv_nsec - t0.tv_nsec);
	if (err && call->caller)
		log_info("Load of %s failed: %s", call->caller->name,
			 em.msg[0] ? em.msg : strerror(-err));
	if (err)
		reply_errno(r, err, &em, "Load failed");
	else
		reply_encode(r, bpfd_v1_LoadResponse_fields, resp);
out:
	load_req_put(req);
}

/* ---- unary methods: decode, check the caller, one op, encode ---- */

/* One call of a unary method, as its callbacks see it. */
struct unary_call {
	const struct unary *u;
	struct rpc *rpc;
	const struct grpc_call *call;
	void *req;			/* the decoded request */
	void *resp;			/* zeroed: the op fills it */
	struct errmsg em;
};

struct unary_msg {
	const pb_msgdesc_t *fields;
	size_t size;			/* of the struct nanopb decodes to */
};

/*
 * A method that answers from the front with one op: what differs between
 * them.  Requests and responses are allocated because some are large.
 */
struct unary {
	const char *name;		/* "Modify": "ModifyRequest", "Modify failed" */
	struct unary_msg req, resp;
	const char *unserved;		/* UNIMPLEMENTED's message when the op is NULL */
	/* with [[policy]] on, may the caller make this call: 0, -EPERM (refused
	 * with c->em) or -errno; NULL: the method's grant is enough */
	int (*allowed)(struct unary_call *c);
	/* the op: 0 with c->resp filled, or -errno with c->em */
	int (*op)(struct unary_call *c);
};

static void unary_run(const struct unary *u, bool served, struct rpc *rpc,
		      const struct grpc_call *call, struct grpc_reply *r)
{
	struct unary_call c = { .u = u, .rpc = rpc, .call = call, .em = { "" } };
	char what[64];
	int err = 0;

	if (!served)
		return grpc_reply_error(r, GRPC_UNIMPLEMENTED, "%s", u->unserved);
	c.req = calloc(1, u->req.size);
	c.resp = calloc(1, u->resp.size);
	if (!c.req || !c.resp) {
		grpc_reply_error(r, GRPC_RESOURCE_EXHAUSTED, "Out of memory");
		goto out;
	}
	snprintf(what, sizeof(what), "%sRequest", u->name);
	if (!decode_or_reply(r, what, u->req.fields, call, c.req))
		goto out;
	if (u->allowed && policy_on(rpc, call)) {
		err = u->allowed(&c);
		if (err == -EPERM) {
			refuse(r, call, u->name, &c.em);
			goto out;
		}
	}
	if (!err)
		err = u->op(&c);
	snprintf(what, sizeof(what), "%s failed", u->name);
	if (err)
		reply_errno(r, err, &c.em, what);
	else
		reply_encode(r, u->resp.fields, c.resp);
out:
	free(c.req);
	free(c.resp);
}

/* The log line of a call that changed program id, by a caller (did: "unloaded"). */
static void log_change(const struct unary_call *c, const char *did, uint32_t id, int err)
{
	const struct caller *who = c->call->caller;

	if (!who)
		return;
	if (err)
		log_info("%s of program %u by %s failed: %s", c->u->name, id, who->name,
			 c->em.msg[0] ? c->em.msg : strerror(-err));
	else
		log_info("%s %s program %u", who->name, did, id);
}

static int unload_allowed(struct unary_call *c)
{
	const bpfd_v1_UnloadRequest *req = c->req;

	return prog_allowed(c->rpc, c->call, req->id, "unload", NULL, &c->em);
}

static int unload_op(struct unary_call *c)
{
	const bpfd_v1_UnloadRequest *req = c->req;
	int err = c->rpc->ops->unload(c->rpc->ctx, req->id, &c->em);

	log_change(c, "unloaded", req->id, err);
	return err;
}

static void do_unload(struct rpc *rpc, const struct grpc_call *call, struct grpc_reply *r)
{
	static const struct unary u = {
		.name = "Unload",
		.req = { bpfd_v1_UnloadRequest_fields, sizeof(bpfd_v1_UnloadRequest) },
		.resp = { bpfd_v1_UnloadResponse_fields, sizeof(bpfd_v1_UnloadResponse) },
		.allowed = unload_allowed,
		.op = unload_op,
	};

	unary_run(&u, true, rpc, call, r);
}

static int modify_allowed(struct unary_call *c)
{
	const bpfd_v1_ModifyRequest *req = c->req;

	return prog_allowed(c->rpc, c->call, req->id, "modify",
			    req->has_priority ? &req->priority : NULL, &c->em);
}

static int modify_op(struct unary_call *c)
{
	const bpfd_v1_ModifyRequest *req = c->req;
	int err = c->rpc->ops->modify(c->rpc->ctx, req, c->resp, &c->em);

	log_change(c, "modified", req->id, err);
	return err;
}

static void do_modify(struct rpc *rpc, const struct grpc_call *call, struct grpc_reply *r)
{
	static const struct unary u = {
		.name = "Modify",
		.req = { bpfd_v1_ModifyRequest_fields, sizeof(bpfd_v1_ModifyRequest) },
		.resp = { bpfd_v1_ModifyResponse_fields, sizeof(bpfd_v1_ModifyResponse) },
		.unserved = "Modify is not available here",
		.allowed = modify_allowed,
		.op = modify_op,
	};

	unary_run(&u, rpc->ops->modify != NULL, rpc, call, r);
}

static void do_pull(struct rpc *rpc, const struct grpc_call *call, struct grpc_reply *r)
{
	bpfd_v1_PullBytecodeRequest *req = calloc(1, sizeof(*req));
	bpfd_v1_PullBytecodeResponse resp = bpfd_v1_PullBytecodeResponse_init_zero;
	struct errmsg em = { "" };
	int err;

	if (!req)
		return grpc_reply_error(r, GRPC_RESOURCE_EXHAUSTED, "Out of memory");
	if (decode_or_reply(r, "PullBytecodeRequest", bpfd_v1_PullBytecodeRequest_fields,
			    call, req) && !pull_call_defer(rpc, call, r, NULL, &req)) {
		err = rpc->ops->pull_bytecode(rpc->ctx, req, &resp, &em);
		if (err)
			reply_errno(r, err, &em, "PullBytecode failed");
		else
			reply_encode(r, bpfd_v1_PullBytecodeResponse_fields, &resp);
	}
	if (req)
		explicit_bzero(req, sizeof(*req));
	free(req);
}

static int list_images_op(struct unary_call *c)
{
	return c->rpc->ops->list_images(c->rpc->ctx, c->resp, &c->em);
}

static void do_list_images(struct rpc *rpc, const struct grpc_call *call,
			   struct grpc_reply *r)
{
	static const struct unary u = {
		.name = "ListImages",
		.req = { bpfd_v1_ListImagesRequest_fields, sizeof(bpfd_v1_ListImagesRequest) },
		.resp = { bpfd_v1_ListImagesResponse_fields, sizeof(bpfd_v1_ListImagesResponse) },
		.unserved = "ListImages is not served here",
		.op = list_images_op,
	};

	unary_run(&u, rpc->ops->list_images != NULL, rpc, call, r);
}

static int remove_images_op(struct unary_call *c)
{
	return c->rpc->ops->remove_images(c->rpc->ctx, c->req, c->resp, &c->em);
}

static void do_remove_images(struct rpc *rpc, const struct grpc_call *call,
			     struct grpc_reply *r)
{
	static const struct unary u = {
		.name = "RemoveImages",
		.req = { bpfd_v1_RemoveImagesRequest_fields, sizeof(bpfd_v1_RemoveImagesRequest) },
		.resp = { bpfd_v1_RemoveImagesResponse_fields,
			  sizeof(bpfd_v1_RemoveImagesResponse) },
		.unserved = "RemoveImages is not served here",
		.op = remove_images_op,
	};

	unary_run(&u, rpc->ops->remove_images != NULL, rpc, call, r);
}

/* One program as List/Get show it: kernel view, plus bpfd's when it owns it. */
static int prog_fill(struct rpc *rpc, uint32_t id, bpfd_v1_KernelProgramInfo *k,
		     bpfd_v1_ProgramInfo *info, bool *ret_owned)
{
	uint32_t type = 0;
	int err;

	memset(k, 0, sizeof(*k));
	err = rpc->ops->prog_kernel(rpc->ctx, id, k);
	if (err)
		return err;
	/* info is 64 KiB: not cleared here, it is only encoded when owned, and then
	 * prog_info() filled it */
	*ret_owned = !rpc->ops->prog_info(rpc->ctx, id, info, &type);
	/* dispatcher members are EXT in the kernel: report the managed kind */
	if (*ret_owned && type)
		k->program_type = type;
	return 0;
}

static bool metadata_match(const bpfd_v1_ListRequest *req, const bpfd_v1_ProgramInfo *info)
{
	size_t i, j;

	for (i = 0; i < req->match_metadata_count; i++) {
		for (j = 0; j < info->metadata_count; j++)
			if (!strcmp(req->match_metadata[i].key, info->metadata[j].key) &&
			    !strcmp(req->match_metadata[i].value, info->metadata[j].value))
				break;
		if (j == info->metadata_count)
			return false;
	}
	return true;
}

/*
 * Encoded results of programs bpfd does not own, by id: what List reports about
 * them never changes while they are loaded (ids are allocated cyclically, not
 * reused soon) but their run statistics, and getting a prog fd, its info and
 * encoding it is most of the cost of a List (three bpf() calls and a close a
 * program).  An open-addressing table; after each complete walk the entries of
 * programs the walk did not see are dropped, so it holds at most the programs
 * in the kernel.  Every walk sees which programs exist (exact); the run
 * statistics of one it does not own are read again when they are older than
 * LC_STATS_MAX_AGE_NS (they grow all the time: a List many times a second
 * would read them all every time).
 */
#define LC_STATS_MAX_AGE_NS	(100 * 1000000ull)

struct lc_entry {
	uint32_t id;		/* 0: free */
	uint32_t type;
	uint32_t gen;		/* walk that last saw it */
	bool counted;		/* read with run statistics on */
	uint64_t read_ns;	/* CLOCK_MONOTONIC when its info was read */
	struct grpc_buf enc;	/* the encoded ListResult */
};

static struct {
	struct lc_entry *v;
	size_t cap;		/* power of two */
	size_t n;
	size_t seen;		/* entries seen by the current walk */
	uint32_t gen;
} lc;

static struct lc_entry *lc_slot(struct lc_entry *v, size_t cap, uint32_t id)
{
	size_t i = (id * 2654435761u) & (cap - 1);

	while (v[i].id && v[i].id != id)
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static struct lc_entry *lc_find(uint32_t id)
{
	struct lc_entry *e;

	if (!lc.cap)
		return NULL;
	e = lc_slot(lc.v, lc.cap, id);
	return e->id ? e : NULL;
}

/* Rebuild into a table of cap entries, keeping those seen by walk gen (all if 0). */
static int lc_rebuild(size_t cap, uint32_t gen)
{
	struct lc_entry *v = calloc(cap, sizeof(*v)), *e;
	size_t i;

	if (!v)
		return -ENOMEM;
	lc.n = 0;
	for (i = 0; i < lc.cap; i++) {
		if (!lc.v[i].id)
			continue;
		if (gen && lc.v[i].gen != gen) {
			grpc_buf_fini(&lc.v[i].enc);
			continue;
		}
		e = lc_slot(v, cap, lc.v[i].id);
		*e = lc.v[i];
		lc.n++;
	}
	free(lc.v);
	lc.v = v;
	lc.cap = cap;
	return 0;
}

/* The current walk saw e's program. */
static void lc_seen(struct lc_entry *e)
{
	if (e->gen != lc.gen)
		lc.seen++;
	e->gen = lc.gen;
}

/* A walk is complete: forget the programs it did not see. */
static void lc_prune(void)
{
	if (lc.seen < lc.n)
		(void)lc_rebuild(lc.cap, lc.gen);
}

/* Room for one more element of size bytes in the array *(void **)pv that
 * holds n of *cap: 0 or -ENOMEM (the array then as it was). */
static int room_for_one(void *pv, size_t n, size_t *cap, size_t size)
{
	void **p = pv, *v;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 64;
	v = reallocarray(*p, c, size);
	if (!v)
		return -ENOMEM;
	*p = v;
	*cap = c;
	return 0;
}

/*
 * The last walk's results, each encoded once as its ListResult: what a List
 * answers, with the request's filters applied as it copies them.  A List whose
 * request was read before that walk began, with no load, unload or modify since,
 * answers from it (it shows the kernel as it was after the request arrived):
 * many Lists at once cost one walk.
 */
struct lw_entry {
	uint32_t id;
	uint32_t type;		/* the kind reported */
	bool owned;
	size_t off, len;	/* its ListResult in lw.enc */
};

static struct {
	struct lw_entry *v;
	size_t n, cap;
	struct grpc_buf enc;
	bool valid;		/* a complete walk */
	uint64_t walk_ns;	/* CLOCK_MONOTONIC ns before it began */
	uint64_t changes;	/* rpc_ops.changes() then */
} lw;

static uint64_t mono_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int lw_add(uint32_t id, uint32_t type, bool owned, size_t off)
{
	if (room_for_one(&lw.v, lw.n, &lw.cap, sizeof(*lw.v)))
		return -ENOMEM;
	lw.v[lw.n++] = (struct lw_entry){ .id = id, .type = type, .owned = owned, .off = off,
					  .len = lw.enc.len - off };
	return 0;
}

static bool lw_want_kernel(struct rpc_walk *w, uint32_t id, bool owned, bool stats)
{
	const struct lc_entry *e;

	(void)w;
	if (owned)
		return true;
	e = lc_find(id);
	if (!e || !e->enc.len)
		return true;
	/* statistics on: counters at most LC_STATS_MAX_AGE_NS old; off: the
	 * entry stands unless it was read with them (they would stay frozen) */
	if (stats)
		return !e->counted || lw.walk_ns - e->read_ns > LC_STATS_MAX_AGE_NS;
	return e->counted;
}

/* One program of the walk (rpc_walk.prog): its ListResult encoded into lw. */
static int lw_prog(struct rpc_walk *w, uint32_t id, const bpfd_v1_KernelProgramInfo *kernel,
		   const bpfd_v1_ProgramInfo *info, uint32_t type, bool stats)
{
	pb_ostream_t os = { .callback = buf_write, .state = &lw.enc, .max_size = SIZE_MAX };
	size_t off = lw.enc.len;
	struct lc_entry *e;
	uint8_t *p;
	size_t len;

	(void)w;
	if (!kernel) {
		/* not bpfd's, and the earlier walk's result stands */
		e = lc_find(id);
		if (!e || !e->enc.len)
			return -ENOENT;
		lc_seen(e);
		if (grpc_buf_append(&lw.enc, e->enc.data, e->enc.len))
			return -ENOMEM;
		return lw_add(id, e->type, false, off);
	}
	/* a ListResult: info (1) when bpfd owns it, kernel_info (2) */
	if ((info && (!pb_encode_tag(&os, PB_WT_STRING, bpfd_v1_ListResponse_ListResult_info_tag) ||
		      !pb_encode_submessage(&os, bpfd_v1_ProgramInfo_fields, info))) ||
	    !pb_encode_tag(&os, PB_WT_STRING, bpfd_v1_ListResponse_ListResult_kernel_info_tag) ||
	    !pb_encode_submessage(&os, bpfd_v1_KernelProgramInfo_fields, kernel))
		return -ENOMEM;
	if (!info) {
		len = lw.enc.len - off;
		if ((lc.n + 1) * 2 > lc.cap && lc_rebuild(lc.cap ? lc.cap * 2 : 256, 0))
			goto out;
		e = lc_slot(lc.v, lc.cap, id);
		if (!e->id)
			lc.n++;
		lc_seen(e);
		e->id = id;
		e->type = type;
		e->counted = stats || kernel->has_run_count;
		e->read_ns = lw.walk_ns;
		e->enc.len = 0;
		p = lw.enc.data + off;
		if (grpc_buf_append(&e->enc, p, len))
			e->enc.len = 0;		/* an empty entry is never used */
	}
out:
	return lw_add(id, type, info != NULL, off);
}

/* rpc_ops.prog_walk by steps: prog_next, prog_info, prog_kernel (ops without
 * a walk of their own: tests). */
static int walk_steps(struct rpc *rpc, struct rpc_walk *w)
{
	bpfd_v1_ListResponse_ListResult *res = scratch.list_res;
	uint32_t id = 0, type;
	bool owned, stats;
	int err;

	for (;;) {
		err = rpc->ops->prog_next(rpc->ctx, id, &id);
		if (err)
			return err == -ENOENT ? 0 : err;
		stats = rpc->ops->stats && rpc->ops->stats(rpc->ctx);
		type = 0;
		memset(res, 0, sizeof(*res));
		owned = !rpc->ops->prog_info(rpc->ctx, id, &res->info, &type);
		if (!w->want_kernel(w, id, owned, stats)) {
			err = w->prog(w, id, NULL, NULL, 0, stats);
		} else {
			err = rpc->ops->prog_kernel(rpc->ctx, id, &res->kernel_info);
			if (err == -ENOENT)
				continue;	/* unloaded since the walk saw it */
			if (err)
				return err;
			if (owned && type)
				res->kernel_info.program_type = type;
			err = w->prog(w, id, &res->kernel_info, owned ? &res->info : NULL,
				      res->kernel_info.program_type, stats);
		}
		if (err)
			return err;
	}
}

/* A new walk into lw: 0 or -errno (lw then holds no walk). */
static int lw_walk(struct rpc *rpc)
{
	struct rpc_walk w = { .want_kernel = lw_want_kernel, .prog = lw_prog };
	int err;

	lw.valid = false;
	lw.n = 0;
	lw.enc.len = 0;
	lw.changes = rpc->ops->changes ? rpc->ops->changes(rpc->ctx) : 0;
	lw.walk_ns = mono_now_ns();
	lc.gen = lc.gen + 1 ? lc.gen + 1 : 1;
	lc.seen = 0;
	err = rpc->ops->prog_walk ? rpc->ops->prog_walk(rpc->ctx, &w) : walk_steps(rpc, &w);
	if (err)
		return err;
	lc_prune();
	lw.valid = true;
	return 0;
}

/* May the call read at recv_ns answer from the walk in lw? */
static bool lw_stands(struct rpc *rpc, uint64_t recv_ns)
{
	return lw.valid && recv_ns && recv_ns < lw.walk_ns && rpc->ops->changes &&
	       rpc->ops->changes(rpc->ctx) == lw.changes;
}

struct list_state {
	const bpfd_v1_ListRequest *req;
	bpfd_v1_ListResponse_ListResult *res;	/* scratch: metadata selectors */
};

static bool list_wanted(const struct list_state *ls, const struct lw_entry *e)
{
	const bpfd_v1_ListRequest *req = ls->req;
	pb_istream_t is;

	if (req->has_program_type && e->type != req->program_type)
		return false;
	if (req->has_bpfd_programs_only && req->bpfd_programs_only && !e->owned)
		return false;
	if (!req->match_metadata_count)
		return true;
	if (!e->owned)
		return false;
	memset(ls->res, 0, sizeof(*ls->res));
	is = pb_istream_from_buffer(lw.enc.data + e->off, e->len);
	return pb_decode(&is, bpfd_v1_ListResponse_ListResult_fields, ls->res) &&
	       ls->res->has_info && metadata_match(req, &ls->res->info);
}

/* Encoder of ListResponse.results: the walk's results the request wants. */
static bool list_encode(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
	const struct list_state *ls = *arg;
	const struct lw_entry *e;
	size_t i;

	for (i = 0; i < lw.n; i++) {
		e = &lw.v[i];
		if (!list_wanted(ls, e))
			continue;
		if (!pb_encode_tag_for_field(s, f) ||
		    !pb_encode_string(s, lw.enc.data + e->off, e->len))
			return false;
	}
	return true;
}

/* Answer a List from the walk in lw, with req's filters. */
static void list_reply(struct grpc_reply *r, const bpfd_v1_ListRequest *req)
{
	struct list_state ls = { .req = req, .res = scratch.list_res };
	bpfd_v1_ListResponse resp = { .results = { .funcs.encode = list_encode, .arg = &ls } };

	/* the reply in one allocation of the size it may need: it holds at most
	 * every result (100 bpfd programs: 25 KB, in the heap; doubled, 32 KiB
	 * was a mapping of its own, mapped and unmapped per List) */
	if (grpc_buf_reserve_exact(&r->body, lw.enc.len + 8 * lw.n + 64))
		return grpc_reply_error(r, GRPC_RESOURCE_EXHAUSTED, "Out of memory");
	reply_encode(r, bpfd_v1_ListResponse_fields, &resp);
}

static void list_walk_failed(struct grpc_reply *r, int err)
{
	grpc_reply_error(r, grpc_status_from_errno(err),
			 "Failed to walk the kernel's programs: %s", strerror(-err));
}

/*
 * Lists waiting for a walk, answered in the front when it is done (rpc.walker):
 * the front reads and answers other calls meanwhile, and every List read while
 * one walk runs is answered by the next, which begins after all of them were
 * read (so each shows the kernel as it was after its request arrived), many
 * for the price of one.  While a walk runs, lw and lc are the walker's and the
 * executor's: the front does not read them.  A waiting List keeps its request's
 * bytes, decoded (again) when it is answered: the decoded struct is 20 KiB, and a
 * walk's worth of them freed at once was a heap top glibc trimmed and faulted
 * back in, walk after walk.
 */
struct list_wait {
	struct h2_deferred *d;
	size_t max_msg;
	uint64_t recv_ns;
	struct list_wait *next;
	size_t len;
	uint8_t msg[];		/* the ListRequest as read */
};

static struct {
	struct rpc_pull_job job;	/* the walk, in the walker thread */
	struct rpc *rpc;
	bool running;			/* job is queued or running */
	int err;			/* its lw_walk() */
	struct list_wait *head, **tail;	/* in the order they were read */
} lq = { .tail = &lq.head };

static void list_walk_work(struct rpc_pull_job *j)
{
	(void)j;
	lq.err = lw_walk(lq.rpc);
}

static void list_walk_done(struct rpc_pull_job *j);

static int list_walk_start(struct rpc *rpc)
{
	lq.job = (struct rpc_pull_job){ .work = list_walk_work, .done = list_walk_done };
	lq.rpc = rpc;
	lq.running = true;
	return rpc_pulls_submit(rpc->walker, &lq.job);
}

/* A walk is done (or cancelled: the daemon stops): answer the Lists read before
 * it began; the ones read while it ran start the next. */
static void list_walk_done(struct rpc_pull_job *j)
{
	struct list_wait *w, **pw = &lq.head;
	struct grpc_reply r;
	int err = j->cancelled ? -ESHUTDOWN : lq.err;

	lq.running = false;
	while ((w = *pw)) {
		if (!j->cancelled && w->recv_ns >= lw.walk_ns && h2_deferred_waited(w->d)) {
			pw = &w->next;	/* read while the walk ran: the next one */
			continue;
		}
		*pw = w->next;
		grpc_reply_init(&r, w->max_msg);
		if (j->cancelled)
			grpc_reply_error(&r, GRPC_UNAVAILABLE, "bpfd is stopping");
		else if (!h2_deferred_waited(w->d))
			grpc_reply_error(&r, GRPC_CANCELLED, "The client went away");
		else if (err)
			list_walk_failed(&r, err);
		else if (decode_or_reply(&r, "ListRequest", bpfd_v1_ListRequest_fields,
					 &(struct grpc_call){ .msg = w->msg, .len = w->len },
					 scratch.list_req))
			list_reply(&r, scratch.list_req);
		/* a literal: call->path is the stream's, freed when the client goes */
		metrics_rpc_done("/bpfd.v1.Bpfd/List", r.status);
		h2_deferred_complete(w->d, &r);
		grpc_reply_fini(&r);
		free(w);
	}
	lq.tail = pw;
	if (lq.head && !j->cancelled && list_walk_start(lq.rpc))
		list_walk_done(&(struct rpc_pull_job){ .cancelled = true });
}

/* Wait for the next walk: true when the call is answered later. */
static bool list_defer(struct rpc *rpc, const struct grpc_call *call, struct grpc_reply *r)
{
	struct list_wait *w;

	if (!rpc->walker || !rpc->ops->prog_walk || !call->recv_ns)
		return false;
	w = calloc(1, sizeof(*w) + call->len);
	if (!w)
		return false;
	w->d = h2_reply_defer(r);
	if (!w->d) {
		free(w);
		return false;
	}
	if (!lq.running && list_walk_start(rpc)) {
		h2_deferred_complete(w->d, NULL);
		r->deferred = NULL;
		free(w);
		return false;
	}
	if (call->len)
		memcpy(w->msg, call->msg, call->len);
	w->len = call->len;
	w->max_msg = r->max_msg;
	w->recv_ns = call->recv_ns;
	*lq.tail = w;
	lq.tail = &w->next;
	return true;
}

static void do_list(struct rpc *rpc, const struct grpc_call *call, struct grpc_reply *r)
{
	bpfd_v1_ListRequest *req;
	int err;

	/* not cleared: cleared where used (64 KiB, per List otherwise); the
	 * request: pb_decode() sets every field */
	if (!scratch.list_res)
		scratch.list_res = malloc(sizeof(*scratch.list_res));
	if (!scratch.list_req)
		scratch.list_req = malloc(sizeof(*scratch.list_req));
	req = scratch.list_req;
	if (!req || !scratch.list_res) {
		grpc_reply_error(r, GRPC_RESOURCE_EXHAUSTED, "Out of memory");
		return;
	}
	if (!decode_or_reply(r, "ListRequest", bpfd_v1_ListRequest_fields, call, req))
		return;
	if (!lq.running && lw_stands(rpc, call->recv_ns)) {
		list_reply(r, req);
		return;
	}
	if (list_defer(rpc, call, r))
		return;
	if (lq.running) {
		/* the walker has lw: this List cannot wait for it (out of memory) */
		grpc_reply_error(r, GRPC_RESOURCE_EXHAUSTED,
				 "Out of memory: cannot queue the List; retry");
		return;
	}
	err = lw_walk(rpc);
	if (err) {
		list_walk_failed(r, err);
		return;
	}
	list_reply(r, req);
}

static int get_op(struct unary_call *c)
{
	const bpfd_v1_GetRequest *req = c->req;
	bpfd_v1_GetResponse *resp = c->resp;
	bool owned;
	int err;

	err = prog_fill(c->rpc, req->id, &resp->kernel_info, &resp->info, &owned);
	if (err == -ENOENT)
		return errmsg_set(&c->em, err,
				  "There is no program with id %u in the kernel: see 'bpfctl list --all'",
				  req->id);
	if (err)
		return errmsg_set(&c->em, err, "Failed to read program %u: %s", req->id,
				  strerror(-err));
	resp->has_kernel_info = true;
	resp->has_info = owned;
	return 0;
}

static void do_get(struct rpc *rpc, const struct grpc_call *call, struct grpc_reply *r)
{
	static const struct unary u = {
		.name = "Get",
		.req = { bpfd_v1_GetRequest_fields, sizeof(bpfd_v1_GetRequest) },
		.resp = { bpfd_v1_GetResponse_fields, sizeof(bpfd_v1_GetResponse) },
		.op = get_op,
	};

	unary_run(&u, true, rpc, call, r);
}

/* programs.d is the administrator's: a caller [[policy]] rules restrict loads
 * only what its rule grants, so it may not make the daemon load all of that */
static int reload_allowed(struct unary_call *c)
{
	if (!policy_restricts(c->rpc->policy, c->call->caller))
		return 0;
	return errmsg_set(&c->em, -EPERM, "%s may not call Reload: it re-reads programs.d, "
			  "which only callers no [[policy]] rule restricts (root) may do",
			  c->call->caller->name);
}

static int reload_op(struct unary_call *c)
{
	return c->rpc->ops->reload(c->rpc->ctx, c->resp, &c->em);
}

static void do_reload(struct rpc *rpc, const struct grpc_call *call, struct grpc_reply *r)
{
	static const struct unary u = {
		.name = "Reload",
		.req = { bpfd_v1_ReloadRequest_fields, sizeof(bpfd_v1_ReloadRequest) },
		.resp = { bpfd_v1_ReloadResponse_fields, sizeof(bpfd_v1_ReloadResponse) },
		.unserved = "Reload is not available here: this server has no programs.d",
		.allowed = reload_allowed,
		.op = reload_op,
	};

	unary_run(&u, rpc->ops->reload != NULL, rpc, call, r);
}

int rpc_event_encode(const struct event *e, uint8_t *buf, size_t size, size_t *ret_len)
{
	bpfd_v1_Event m = { 0 };
	pb_ostream_t os = pb_ostream_from_buffer(buf, size);
	time_t sec = e->time_ns / 1000000000;
	struct tm tm;
	char t[24];

	m.seq = e->seq;
	m.time_unix_ns = e->time_ns;
	gmtime_r(&sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(m.time, sizeof(m.time), "%s.%06uZ", t,
		 (unsigned int)(e->time_ns % 1000000000 / 1000));
	snprintf(m.kind, sizeof(m.kind), "%s", event_kind_name(e->kind));
	m.id = e->id;
	if (e->kind == EVENT_PULL_PROGRESS || e->kind == EVENT_PULL_END) {
		snprintf(m.image, sizeof(m.image), "%s", e->image);
		snprintf(m.layer, sizeof(m.layer), "%s", e->layer);
		m.bytes_done = e->bytes_done;
		m.bytes_total = e->bytes_total;
		m.pull = e->pull;
	} else {
		snprintf(m.attach_point, sizeof(m.attach_point), "%s", e->attach);
	}
	snprintf(m.caller, sizeof(m.caller), "%s", e->caller);
	snprintf(m.detail, sizeof(m.detail), "%s", e->detail);
	if (!pb_encode(&os, bpfd_v1_Event_fields, &m))
		return -EMSGSIZE;
	*ret_len = os.bytes_written;
	return 0;
}

static void do_events(struct rpc *rpc, const struct grpc_call *call, struct grpc_reply *r)
{
	bpfd_v1_EventsRequest req = bpfd_v1_EventsRequest_init_zero;
	struct errmsg em = { "" };
	int err;

	if (!decode_or_reply(r, "EventsRequest", bpfd_v1_EventsRequest_fields, call, &req))
		return;
	err = events_hub_subscribe(rpc->hub, r->max_msg, call->peer, &r->stream, &em);
	if (err)
		return reply_errno(r, err, &em, "Events failed");
	r->status = GRPC_OK;
}

/* reads: the method changes nothing, so read_only = true callers may call it;
 * every other method needs a grant that is not read-only. */
static const struct method {
	const char *path;
	void (*fn)(struct rpc *rpc, const struct grpc_call *call, struct grpc_reply *r);
	bool reads;
} methods[] = {
	{ "/bpfd.v1.Bpfd/Load", do_load },
	{ "/bpfd.v1.Bpfd/Unload", do_unload },
	{ "/bpfd.v1.Bpfd/List", do_list, .reads = true },
	{ "/bpfd.v1.Bpfd/Get", do_get, .reads = true },
	{ "/bpfd.v1.Bpfd/PullBytecode", do_pull },
	{ "/bpfd.v1.Bpfd/Reload", do_reload },
	{ "/bpfd.v1.Bpfd/ListImages", do_list_images, .reads = true },
	{ "/bpfd.v1.Bpfd/RemoveImages", do_remove_images },
	{ "/bpfd.v1.Bpfd/Events", do_events, .reads = true },
	{ "/bpfd.v1.Bpfd/Modify", do_modify },
};

/* The first check of every call: may this caller call this method at all? */
static bool call_allowed(struct rpc *rpc, const struct grpc_call *call, const struct method *m,
			 struct grpc_reply *reply)
{
	const char *name = strrchr(m->path, '/') + 1;
	struct errmsg em = { "" };
	char what[64];

	if (!policy_on(rpc, call))
		return true;
	snprintf(what, sizeof(what), "call %s", name);
	if (!policy_check(rpc->policy, call->caller, m->reads ? POLICY_READ : POLICY_WRITE, what,
			  NULL, NULL, &em))
		return true;
	refuse(reply, call, name, &em);
	return false;
}

void rpc_handle(void *arg, const struct grpc_call *call, struct grpc_reply *reply)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (!strcmp(call->path, methods[i].path)) {
			if (call_allowed(arg, call, &methods[i], reply))
				methods[i].fn(arg, call, reply);
			/* refused calls too: PERMISSION_DENIED by method; a deferred
			 * one when it is answered (pull_call_done()) */
			if (!reply->deferred)
				metrics_rpc_done(methods[i].path, reply->status);
			return;
		}
	}
	metrics_rpc_done(NULL, GRPC_UNIMPLEMENTED);
	grpc_reply_error(reply, GRPC_UNIMPLEMENTED,
			 "Unknown method '%.200s': bpfd serves /bpfd.v1.Bpfd/{Load,Unload,List,Get,PullBytecode,Reload,ListImages,RemoveImages,Events,Modify}",
			 call->path);
}

/* ---- the daemon's ops: the wire's messages to plain structs and back, here in the
 * front; the manager and the kernel behind a struct rpc_kernel ---- */

/* A program's kernel info in the wire form. */
static void kernel_info_to_pb(const struct kinfo_prog *p, bpfd_v1_KernelProgramInfo *ret)
{
	size_t i;

	memset(ret, 0, sizeof(*ret));
	ret->id = p->id;
	snprintf(ret->name, sizeof(ret->name), "%s", p->name);
	ret->program_type = p->type;
	snprintf(ret->loaded_at, sizeof(ret->loaded_at), "%s", p->loaded_at);
	snprintf(ret->tag, sizeof(ret->tag), "%s", p->tag);
	ret->gpl_compatible = p->gpl_compatible;
	for (i = 0; i < p->n_map_ids && i < sizeof(ret->map_ids) / sizeof(ret->map_ids[0]); i++)
		ret->map_ids[i] = p->map_ids[i];
	ret->map_ids_count = i;
	ret->btf_id = p->btf_id;
	ret->bytes_xlated = p->bytes_xlated;
	ret->jited = p->jited;
	ret->bytes_jited = p->bytes_jited;
	ret->bytes_memlock = p->bytes_memlock;
	ret->verified_insns = p->verified_insns;
	snprintf(ret->vanished, sizeof(ret->vanished), "%s", p->vanished);
	if (p->stats) {
		ret->has_run_count = true;
		ret->run_count = p->run_cnt;
		ret->has_run_time_ns = true;
		ret->run_time_ns = p->run_time_ns;
	}
}

/* Who loads: the owner kept in the record, and a local caller's credentials,
 * with which the file is opened (not root's: root reads what it likes). */
static void plan_caller(const struct caller *c, struct load_plan *p)
{
	size_t i;

	if (!c)
		return;
	snprintf(p->spec.loaded_by, sizeof(p->spec.loaded_by), "%s", c->name);
	if (c->kind != CALLER_UNIX || !c->uid)
		return;
	p->as_caller = true;
	p->uid = c->uid;
	p->gid = c->gid;
	for (i = 0; i < c->n_groups && i < PLAN_GROUPS_MAX; i++)
		p->groups[i] = c->groups[i];
	p->n_groups = i;
}

/* The wire's LoadRequest as the manager's plan: a copy, field by field; the manager
 * checks what it means.  Registry credentials are not copied. */
static void plan_from_request(const bpfd_v1_LoadRequest *req, const struct caller *caller,
			      struct load_plan *p)
{
	struct prog_spec *s = &p->spec;
	pb_size_t i;

	memset(p, 0, sizeof(*p));
	plan_caller(caller, p);
	if (req->has_bytecode &&
	    req->bytecode.which_location == bpfd_v1_BytecodeLocation_file_tag) {
		p->bytecode = PLAN_BYTECODE_FILE;
		snprintf(s->path, sizeof(s->path), "%s", req->bytecode.location.file);
	} else if (req->has_bytecode &&
		   req->bytecode.which_location == bpfd_v1_BytecodeLocation_image_tag) {
		p->bytecode = PLAN_BYTECODE_IMAGE;
	}
	snprintf(s->name, sizeof(s->name), "%s", req->name);
	p->has_attach = req->has_attach;
	record_attach_from_pb(req->has_attach ? &req->attach : NULL, &s->attach);
	for (i = 0; i < req->global_data_count && i < PLAN_GLOBALS_MAX; i++) {
		snprintf(s->globals[i].key, sizeof(s->globals[i].key), "%s",
			 req->global_data[i].key);
		s->globals[i].size = req->global_data[i].value.size;
		memcpy(s->globals[i].value, req->global_data[i].value.bytes,
		       s->globals[i].size);
	}
	s->n_globals = i;
	for (i = 0; i < req->metadata_count && i < PLAN_METADATA_MAX; i++) {
		snprintf(s->metadata[i].key, sizeof(s->metadata[i].key), "%s",
			 req->metadata[i].key);
		snprintf(s->metadata[i].value, sizeof(s->metadata[i].value), "%s",
			 req->metadata[i].value);
	}
	s->n_metadata = i;
	s->has_map_owner = req->has_map_owner_id;
	s->map_owner_id = req->map_owner_id;
	p->has_uuid = req->has_uuid;
	snprintf(p->uuid, sizeof(p->uuid), "%s", req->uuid);
	snprintf(s->source, sizeof(s->source), "%s", PLAN_SOURCE_API);
}

/* ---- bytecode images, in the front ---- */

static int no_image_store(struct errmsg *em)
{
	return errmsg_set(em, -EAGAIN,
			  "bpfd has no image store (see the daemon's log for why it could not open [runtime] image_dir)");
}

/* The request's credentials, if any, in a struct that is wiped when freed. */
static int auth_from_pb(const bpfd_v1_BytecodeImage *im, struct image_auth **ret)
{
	struct image_auth *a;

	*ret = NULL;
	if (!im->has_username && !im->has_password)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->set = true;
	snprintf(a->username, sizeof(a->username), "%s", im->username);
	snprintf(a->password, sizeof(a->password), "%s", im->password);
	*ret = a;
	return 0;
}

static void auth_free(struct image_auth *a)
{
	if (!a)
		return;
	explicit_bzero(a, sizeof(*a));
	free(a);
}

/* Pull url per policy with p and extract its object for the load: the plan
 * then names the object's path, and the function the label gives when the
 * request named none. */
static int image_for_plan(const struct rpc_kernel *k, const struct image_puller *p,
			  const char *url, int policy, const struct image_auth *auth,
			  struct load_plan *plan, struct image_object *obj, struct errmsg *em)
{
	struct prog_spec *s = &plan->spec;
	char name[sizeof(s->name)];
	struct pull_report rep;
	int err;

	if (!k->img)
		return no_image_store(em);
	snprintf(name, sizeof(name), "%s", s->name);
	pull_report_init(&rep, url);
	err = image_pull(p, url, policy, auth, image_now_ns(), pull_report_progress, &rep,
			 s->image_digest, NULL, em);
	pull_report_end(&rep, err, s->image_digest, em);
	if (!err)
		err = image_object_open(k->img->puller.store, s->image_digest, name,
					k->img->workdir, obj, em);
	if (err)
		return err;
	s->from_image = true;
	if (s->image_url != url)
		snprintf(s->image_url, sizeof(s->image_url), "%s", url);
	s->image_pull_policy = policy;
	snprintf(s->path, sizeof(s->path), "%s", obj->path);
	snprintf(s->name, sizeof(s->name), "%s", obj->function);
	snprintf(plan->image_type, sizeof(plan->image_type), "%s", obj->program_type);
	/* the object is the daemon's own extraction (a folder only root reads), not a
	 * file of the caller's: the caller's policy rules decided on the request */
	plan->as_caller = false;
	return 0;
}

/* A Load request's image (the pull worker's puller). */
static int image_for_load(const struct rpc_kernel *k, const bpfd_v1_BytecodeImage *im,
			  struct load_plan *plan, struct image_object *obj, struct errmsg *em)
{
	struct image_auth *auth = NULL;
	int err;

	if (!k->img)
		return no_image_store(em);
	err = auth_from_pb(im, &auth);
	if (!err)
		err = image_for_plan(k, &k->img->puller, im->url, im->image_pull_policy, auth,
				     plan, obj, em);
	auth_free(auth);
	return err;
}

static void *remove_dir(void *arg)
{
	(void)fs_rmtree(arg);
	free(arg);
	return NULL;
}

/* Remove an image's extracted folder off the reply's path: on a disk file
 * system the unlinks cost milliseconds the client would wait for.  (What a
 * stop leaves behind goes at the next start: rpc_images_init().) */
static void object_close_later(struct image_object *obj)
{
	pthread_attr_t attr;
	bool started = false;
	pthread_t t;
	char *dir;

	if (!obj->dir[0])
		return;
	dir = strdup(obj->dir);
	if (dir && !pthread_attr_init(&attr)) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		started = !pthread_create(&t, &attr, remove_dir, dir);
		pthread_attr_destroy(&attr);
	}
	if (!started) {
		free(dir);
		return;		/* image_object_close() removes it now */
	}
	obj->dir[0] = '\0';
}

/* The object's temporary path in a load's error is the image's file to the user. */
static void name_image_object(struct errmsg *em, const struct image_object *obj,
			      const char *url)
{
	char *at = em && obj->path[0] ? strstr(em->msg, obj->path) : NULL;
	char tail[sizeof(em->msg)];
	const char *file;

	if (!at)
		return;
	file = strrchr(obj->path, '/') + 1;
	snprintf(tail, sizeof(tail), "%s", at + strlen(obj->path));
	snprintf(at, sizeof(em->msg) - (at - em->msg), "%s of image %.1024s%s", file, url, tail);
}

/* The view a Load's or Modify's reply is built from: the front's, one call at a time,
 * kept (69 KB: mapped and unmapped per call otherwise); NULL when out of memory. */
static struct prog_view *reply_view(void)
{
	if (!scratch.reply_view)
		scratch.reply_view = malloc(sizeof(*scratch.reply_view));
	return scratch.reply_view;
}

/* A Load's or Modify's reply: bpfd's view v and the kernel's info kp of the program,
 * read in the same call (kp->id 0: none). */
static void reply_info(const struct prog_view *v, const struct kinfo_prog *kp,
		       bpfd_v1_ProgramInfo *info, bpfd_v1_KernelProgramInfo *kernel_info)
{
	record_info_to_pb(v, info);
	memset(kernel_info, 0, sizeof(*kernel_info));
	if (kp->id)
		kernel_info_to_pb(kp, kernel_info);
	/* the managed kind, as Get and List report it (dispatcher members are EXT) */
	if (v->managed_type)
		kernel_info->program_type = v->managed_type;
}

/* What a Load from kern_op_load_prepare() hands to kern_op_load_prepared(). */
struct load_prep {
	struct load_plan plan;
	struct image_object obj;
};

/* One load_prep (74 KB) kept between Loads: made in the front or the pull worker,
 * used up in the front, so under a lock; a second one at a time is malloc'ed. */
static struct {
	pthread_mutex_t mu;
	struct load_prep *spare;
} preps = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* Zeroed. */
static struct load_prep *prep_get(void)
{
	struct load_prep *p;

	pthread_mutex_lock(&preps.mu);
	p = preps.spare;
	preps.spare = NULL;
	pthread_mutex_unlock(&preps.mu);
	if (!p)
		return calloc(1, sizeof(*p));
	memset(p, 0, sizeof(*p));
	return p;
}

static void prep_put(struct load_prep *p)
{
	pthread_mutex_lock(&preps.mu);
	if (!preps.spare) {
		preps.spare = p;
		p = NULL;
	}
	pthread_mutex_unlock(&preps.mu);
	free(p);
}

/* The request as a plan, and its image pulled and opened: any thread, one at a
 * time (the registry client). */
static int kern_op_load_prepare(void *ctx, const bpfd_v1_LoadRequest *req,
				const struct caller *caller, void **ret_prep, struct errmsg *em)
{
	const struct rpc_kernel *k = ctx;
	struct load_prep *p = prep_get();
	int err = 0;

	*ret_prep = NULL;
	if (!p)
		return -ENOMEM;
	plan_from_request(req, caller, &p->plan);
	if (p->plan.bytecode == PLAN_BYTECODE_IMAGE)
		err = image_for_load(k, &req->bytecode.location.image, &p->plan, &p->obj, em);
	if (err) {
		image_object_close(&p->obj);
		prep_put(p);
		return err;
	}
	*ret_prep = p;
	return 0;
}

/* The load of a prepared plan, in the front; frees prep. */
static int kern_op_load_prepared(void *ctx, const bpfd_v1_LoadRequest *req, void *prep,
				 bpfd_v1_LoadResponse *resp, struct errmsg *em)
{
	const struct rpc_kernel *k = ctx;
	struct load_prep *p = prep;
	struct load_plan *plan = &p->plan;
	struct prog_view *v = NULL;
	struct kinfo_prog *kp = NULL;
	int err = 0;

	if (!resp)
		goto out;
	v = reply_view();
	kp = malloc(sizeof(*kp));
	err = -ENOMEM;
	if (!v || !kp)
		goto out;
	err = k->ops->load(k->ctx, plan, v, kp, em);
	if (err && plan->bytecode == PLAN_BYTECODE_IMAGE)
		name_image_object(em, &p->obj, req->bytecode.location.image.url);
	if (err)
		goto out;
	memset(resp, 0, sizeof(*resp));
	resp->has_info = true;
	resp->has_kernel_info = true;
	reply_info(v, kp, &resp->info, &resp->kernel_info);
out:
	object_close_later(&p->obj);
	image_object_close(&p->obj);
	prep_put(p);
	free(kp);
	return err;
}

static int kern_op_load(void *ctx, const bpfd_v1_LoadRequest *req, const struct caller *caller,
			bpfd_v1_LoadResponse *resp, struct errmsg *em)
{
	bpfd_v1_LoadResponse *own = NULL;
	void *prep;
	int err;

	err = kern_op_load_prepare(ctx, req, caller, &prep, em);
	if (err)
		return err;
	/* resp NULL (programs.d): load all the same */
	if (!resp)
		resp = own = malloc(sizeof(*own));
	if (!resp) {
		(void)kern_op_load_prepared(ctx, req, prep, NULL, em);
		return -ENOMEM;
	}
	err = kern_op_load_prepared(ctx, req, prep, resp, em);
	free(own);
	return err;
}

static int kern_op_unload(void *ctx, uint32_t id, struct errmsg *em)
{
	const struct rpc_kernel *k = ctx;

	return k->ops->unload(k->ctx, id, em);
}

/* The wire's ModifyRequest as the manager's plan (the manager checks it). */
static void modify_plan_from_request(const bpfd_v1_ModifyRequest *req,
				     struct modify_plan *p)
{
	pb_size_t i;

	memset(p, 0, sizeof(*p));
	p->id = req->id;
	p->has_priority = req->has_priority;
	p->priority = req->priority;
	for (i = 0; i < req->proceed_on_count && i < PLAN_PROCEED_ON_MAX; i++)
		p->proceed_on[i] = req->proceed_on[i];
	p->n_proceed_on = i;
	for (i = 0; i < req->metadata_count && i < PLAN_METADATA_MAX; i++) {
		snprintf(p->metadata[i].key, sizeof(p->metadata[i].key), "%s",
			 req->metadata[i].key);
		snprintf(p->metadata[i].value, sizeof(p->metadata[i].value), "%s",
			 req->metadata[i].value);
	}
	p->n_metadata = i;
}

static int kern_op_modify(void *ctx, const bpfd_v1_ModifyRequest *req,
			  bpfd_v1_ModifyResponse *resp, struct errmsg *em)
{
	const struct rpc_kernel *k = ctx;
	struct modify_plan *plan = malloc(sizeof(*plan));
	struct prog_view *v = reply_view();
	struct kinfo_prog *kp = malloc(sizeof(*kp));
	int err = -ENOMEM;

	if (!plan || !v || !kp)
		goto out;
	if (!k->ops->modify) {
		err = errmsg_set(em, -EOPNOTSUPP, "Modify is not available here");
		goto out;
	}
	modify_plan_from_request(req, plan);
	err = k->ops->modify(k->ctx, plan, v, resp ? kp : NULL, em);
	if (err || !resp)
		goto out;
	memset(resp, 0, sizeof(*resp));
	resp->has_info = true;
	resp->has_kernel_info = true;
	reply_info(v, kp, &resp->info, &resp->kernel_info);
out:
	free(plan);
	free(kp);
	return err;
}

static int kern_op_pull(void *ctx, const bpfd_v1_PullBytecodeRequest *req,
			bpfd_v1_PullBytecodeResponse *resp, struct errmsg *em)
{
	const struct rpc_kernel *k = ctx;
	struct image_auth *auth = NULL;
	struct pull_report rep;
	int err;

	if (!k->img)
		return no_image_store(em);
	err = auth_from_pb(&req->image, &auth);
	if (err)
		return err;
	pull_report_init(&rep, req->image.url);
	err = image_pull(&k->img->puller, req->image.url, req->image.image_pull_policy, auth,
			 image_now_ns(), pull_report_progress, &rep, resp->digest, NULL, em);
	pull_report_end(&rep, err, resp->digest, em);
	auth_free(auth);
	return err;
}

static int kern_op_next(void *ctx, uint32_t id, uint32_t *ret_next)
{
	const struct rpc_kernel *k = ctx;

	return k->ops->next(k->ctx, id, ret_next);
}

static int kern_op_kernel(void *ctx, uint32_t id, bpfd_v1_KernelProgramInfo *ret)
{
	const struct rpc_kernel *k = ctx;
	struct kinfo_prog p;
	int err;

	err = k->ops->kinfo(k->ctx, id, &p);
	if (!err)
		kernel_info_to_pb(&p, ret);
	return err;
}

static int kern_op_info(void *ctx, uint32_t id, bpfd_v1_ProgramInfo *ret, uint32_t *ret_type)
{
	const struct rpc_kernel *k = ctx;
	struct prog_view *v = scratch.view;
	int err;

	/* not cleared: view() fills it, or fails */
	if (!v && !(v = scratch.view = malloc(sizeof(*v))))
		return -ENOMEM;
	err = k->ops->view(k->ctx, id, v);
	if (!err) {
		record_info_to_pb(v, ret);
		if (ret_type)
			*ret_type = v->managed_type;
	}
	return err;
}

int rpc_kwalk_steps(const struct rpc_kernel_ops *ops, void *ctx, struct rpc_kwalk *w,
		    struct prog_view *view, bool stats)
{
	struct kinfo_prog kp;
	uint32_t id = 0;
	bool owned;
	int err;

	for (;;) {
		err = ops->next(ctx, id, &id);
		if (err)
			return err == -ENOENT ? 0 : err;
		owned = !ops->view(ctx, id, view);
		if (!w->want_kinfo(w, id, owned, stats)) {
			err = w->prog(w, id, NULL, owned ? view : NULL, stats);
		} else {
			err = ops->kinfo(ctx, id, &kp);
			if (err == -ENOENT)
				continue;	/* unloaded since the walk saw it */
			if (err)
				return err;
			kp.stats = stats;
			err = w->prog(w, id, &kp, owned ? view : NULL, stats);
		}
		if (err)
			return err;
	}
}

/* kern_op_walk(): the wire's walk over the plain one, converting each program
 * where the walk runs (the executor, while the front waits). */
struct kern_walk {
	struct rpc_kwalk kw;
	struct rpc_walk *w;
	bpfd_v1_ProgramInfo *info;
	bpfd_v1_KernelProgramInfo kernel;
};

static bool kern_walk_want(struct rpc_kwalk *kw, uint32_t id, bool owned, bool stats)
{
	struct kern_walk *kt = kw->arg;

	return kt->w->want_kernel(kt->w, id, owned, stats);
}

static int kern_walk_prog(struct rpc_kwalk *kw, uint32_t id, const struct kinfo_prog *kinfo,
			  const struct prog_view *view, bool stats)
{
	struct kern_walk *kt = kw->arg;

	if (view)
		record_info_to_pb(view, kt->info);
	if (!kinfo)
		return kt->w->prog(kt->w, id, NULL, view ? kt->info : NULL, 0, stats);
	kernel_info_to_pb(kinfo, &kt->kernel);
	/* dispatcher members are EXT in the kernel: report the managed kind */
	if (view && view->managed_type)
		kt->kernel.program_type = view->managed_type;
	return kt->w->prog(kt->w, id, &kt->kernel, view ? kt->info : NULL,
			   kt->kernel.program_type, stats);
}

static struct {
	struct kern_walk *kt;		/* kern_op_walk() */
	struct prog_view *view;		/* its steps without a walk op */
} walk_scratch;

static int kern_op_walk(void *ctx, struct rpc_walk *w)
{
	const struct rpc_kernel *k = ctx;
	struct kern_walk *kt = walk_scratch.kt;

	/* kept: 64 KiB and more, a mapping of its own per List otherwise */
	if (!kt && !(kt = walk_scratch.kt = calloc(1, sizeof(*kt))))
		return -ENOMEM;
	if (!kt->info && !(kt->info = malloc(sizeof(*kt->info))))
		return -ENOMEM;
	kt->kw = (struct rpc_kwalk){ .want_kinfo = kern_walk_want, .prog = kern_walk_prog,
				     .arg = kt };
	kt->w = w;
	if (k->ops->walk)
		return k->ops->walk(k->ctx, &kt->kw);
	if (!walk_scratch.view && !(walk_scratch.view = malloc(sizeof(*walk_scratch.view))))
		return -ENOMEM;
	return rpc_kwalk_steps(k->ops, k->ctx, &kt->kw, walk_scratch.view,
			       k->ops->stats && k->ops->stats(k->ctx));
}

static uint64_t kern_op_changes(void *ctx)
{
	const struct rpc_kernel *k = ctx;

	return k->ops->changes ? k->ops->changes(k->ctx) : 0;
}

/* The programs bpfd loaded from images: (digest, id) pairs of a walk. */
struct image_use {
	char digest[PLAN_DIGEST_SIZE];
	uint32_t id;
};

struct image_uses_walk {
	struct rpc_kwalk kw;
	struct image_use *u;
	size_t n, cap;
};

/* rpc_kwalk.want_kinfo of walks that look at bpfd's views only. */
static bool kwalk_views_only(struct rpc_kwalk *kw, uint32_t id, bool owned, bool stats)
{
	(void)kw, (void)id, (void)owned, (void)stats;
	return false;
}

static int image_uses_prog(struct rpc_kwalk *kw, uint32_t id, const struct kinfo_prog *kinfo,
			   const struct prog_view *v, bool stats)
{
	struct image_uses_walk *iw = kw->arg;

	(void)kinfo, (void)stats;
	if (!v || !v->spec.from_image)
		return 0;
	if (room_for_one(&iw->u, iw->n, &iw->cap, sizeof(*iw->u)))
		return -ENOMEM;
	memcpy(iw->u[iw->n].digest, v->spec.image_digest, sizeof(iw->u[iw->n].digest));
	iw->u[iw->n++].id = id;
	return 0;
}

/* One walk (one executor job): the programs bpfd loaded from images. */
static int image_uses(const struct rpc_kernel *k, struct image_use **ret, size_t *ret_n)
{
	struct image_uses_walk iw = { .kw = { .want_kinfo = kwalk_views_only,
					      .prog = image_uses_prog } };
	struct prog_view *v = NULL;
	int err;

	iw.kw.arg = &iw;
	if (k->ops->walk) {
		err = k->ops->walk(k->ctx, &iw.kw);
	} else {
		v = malloc(sizeof(*v));
		err = v ? rpc_kwalk_steps(k->ops, k->ctx, &iw.kw, v, false) : -ENOMEM;
		free(v);
	}
	if (err) {
		free(iw.u);
		return err;
	}
	*ret = iw.u;
	*ret_n = iw.n;
	return 0;
}

static int kern_op_list_images(void *ctx, bpfd_v1_ListImagesResponse *resp,
			       struct errmsg *em)
{
	const struct rpc_kernel *k = ctx;
	const size_t max = sizeof(resp->images) / sizeof(resp->images[0]);
	const size_t max_ids = sizeof(resp->images[0].used_by) / sizeof(uint32_t);
	struct image_store_entry *e = NULL;
	struct image_use *u = NULL;
	size_t n = 0, nu = 0, i, j;
	int err;

	if (!k->img)
		return no_image_store(em);
	err = image_store_list(k->img->puller.store, &e, &n, em);
	if (!err)
		err = image_uses(k, &u, &nu);
	for (i = 0; !err && i < n && i < max; i++) {
		bpfd_v1_ListImagesResponse_Image *im = &resp->images[i];

		snprintf(im->reference, sizeof(im->reference), "%s", e[i].reference);
		snprintf(im->digest, sizeof(im->digest), "%s", e[i].digest);
		im->size = e[i].size;
		im->last_used = e[i].last_used;
		for (j = 0; j < nu && im->used_by_count < max_ids; j++)
			if (!strcmp(u[j].digest, e[i].digest))
				im->used_by[im->used_by_count++] = u[j].id;
		resp->images_count++;
	}
	free(e);
	free(u);
	return err;
}

static int remove_one(const struct rpc_kernel *k, const char *ref,
		      bpfd_v1_RemoveImagesResponse *resp, struct errmsg *em)
{
	const size_t max = sizeof(resp->removed) / sizeof(resp->removed[0]);
	struct image_ref r;
	int err;

	err = image_store_remove(k->img->puller.store, ref, em);
	if (err)
		return err;
	if (resp->removed_count < max) {
		if (image_ref_parse(ref, &r, NULL) ||
		    image_ref_format(&r, resp->removed[resp->removed_count],
				     sizeof(resp->removed[0])) < 0)
			snprintf(resp->removed[resp->removed_count], sizeof(resp->removed[0]),
				 "%s", ref);
		resp->removed_count++;
	}
	return 0;
}

/* --prune: every entry whose image no program bpfd loaded uses. */
static int prune_unused(const struct rpc_kernel *k, bpfd_v1_RemoveImagesResponse *resp,
			struct errmsg *em)
{
	struct image_store_entry *e = NULL;
	struct image_use *u = NULL;
	size_t n = 0, nu = 0, i, j;
	int err;

	err = image_store_list(k->img->puller.store, &e, &n, em);
	if (!err)
		err = image_uses(k, &u, &nu);
	for (i = 0; !err && i < n; i++) {
		for (j = 0; j < nu && strcmp(u[j].digest, e[i].digest); j++)
			;
		if (j == nu)
			err = remove_one(k, e[i].reference, resp, em);
	}
	free(e);
	free(u);
	return err;
}

static int kern_op_remove_images(void *ctx, const bpfd_v1_RemoveImagesRequest *req,
				 bpfd_v1_RemoveImagesResponse *resp, struct errmsg *em)
{
	const struct rpc_kernel *k = ctx;
	struct image_store_prune_stats st = { 0 };
	pb_size_t i;
	int err = 0;

	if (!k->img)
		return no_image_store(em);
	for (i = 0; !err && i < req->references_count; i++) {
		err = remove_one(k, req->references[i], resp, em);
		if (err == -ENOENT)
			errmsg_reset(em, err,
				     "image %.720s is not in the local store: see 'bpfctl images'",
				     req->references[i]);
	}
	if (!err && req->prune)
		err = prune_unused(k, resp, em);
	/* the blobs no entry uses any more; pulls run in this thread, so none
	 * is writing blobs now */
	if (!err)
		err = image_store_prune(k->img->puller.store, 0, 0, &st, em);
	image_object_trim(k->img->puller.store, k->img->workdir);
	resp->blobs = st.blobs;
	resp->bytes = st.bytes;
	return err;
}

int rpc_images_init(struct rpc_images *img, const struct bpfd_config *cfg,
		    const struct image_source *src, struct errmsg *em)
{
	size_t i;
	int err;

	memset(img, 0, sizeof(*img));
	err = image_store_open(cfg->image_dir, &img->puller.store, em);
	if (err)
		return err;
	registry_opts_from_config(&cfg->registry, &img->ropts, &img->rptrs);
	if (src)
		img->puller.src = *src;
	else
		image_registry_source(&img->rsrc, &img->ropts, &img->puller.src);
	img->puller.verify = cfg->verify_enabled;
	img->puller.allow_unsigned = cfg->allow_unsigned;
	for (i = 0; i < cfg->n_signing_keys; i++)
		img->keys[i] = cfg->signing_keys[i];
	img->puller.keys = img->keys;
	img->puller.n_keys = cfg->n_signing_keys;
	/* in the run directory, which is this daemon's alone: objects of loads a
	 * crash interrupted are removed at the start */
	snprintf(img->workdir, sizeof(img->workdir), "%s/images", cfg->rundir);
	(void)fs_rmtree(img->workdir);
	img->puller.workdir = img->workdir;
	/* programs.d pulls in the front while the pull worker may run one: each
	 * has its own registry session */
	img->progd_puller = img->puller;
	if (!src)
		image_registry_source(&img->progd_rsrc, &img->ropts, &img->progd_puller.src);
	return 0;
}

void rpc_images_fini(struct rpc_images *img)
{
	image_store_close(img->puller.store);
	img->puller.store = NULL;
}

static bool kern_op_stats(void *ctx)
{
	const struct rpc_kernel *k = ctx;

	return k->ops->stats && k->ops->stats(k->ctx);
}

/* programs.d's calls: ctx is a struct rpc_kernel; its images (bytecode_image
 * entries) through the front's own puller (the pull worker has the other). */
static int pd_load(void *ctx, const struct load_plan *plan, struct prog_view *ret,
		   struct errmsg *em)
{
	const struct rpc_kernel *k = ctx;

	return k->ops->load(k->ctx, plan, ret, NULL, em);
}

static int pd_unload(void *ctx, uint32_t id, struct errmsg *em)
{
	const struct rpc_kernel *k = ctx;

	return k->ops->unload(k->ctx, id, em);
}

/*
 * A programs.d pass looks only at bpfd's programs from programs.d (their source
 * says so): next(0) takes their ids in one walk (one executor job, not two per
 * program in the kernel) and the pass steps through them, viewing each; a step
 * that is not the walk's asks the kernel.
 */
static struct {
	uint32_t *ids;
	size_t n, cap, pos;	/* ids[pos - 1]: the id next gave last */
} pd_walk;

static int pd_walk_prog(struct rpc_kwalk *kw, uint32_t id, const struct kinfo_prog *kinfo,
			const struct prog_view *v, bool stats)
{
	(void)kw, (void)kinfo, (void)stats;
	if (!v || strncmp(v->spec.source, PROGD_SOURCE_PREFIX, strlen(PROGD_SOURCE_PREFIX)))
		return 0;
	if (room_for_one(&pd_walk.ids, pd_walk.n, &pd_walk.cap, sizeof(*pd_walk.ids)))
		return -ENOMEM;
	pd_walk.ids[pd_walk.n++] = id;
	return 0;
}

static int pd_next(void *ctx, uint32_t id, uint32_t *ret_next)
{
	const struct rpc_kernel *k = ctx;
	struct rpc_kwalk kw = { .want_kinfo = kwalk_views_only, .prog = pd_walk_prog };
	struct prog_view *v;
	int err;

	if (!id) {
		pd_walk.n = pd_walk.pos = 0;
		if (k->ops->walk) {
			err = k->ops->walk(k->ctx, &kw);
		} else {
			v = malloc(sizeof(*v));
			err = v ? rpc_kwalk_steps(k->ops, k->ctx, &kw, v, false) : -ENOMEM;
			free(v);
		}
		if (err)
			return err;
	} else if (!pd_walk.pos || pd_walk.ids[pd_walk.pos - 1] != id) {
		pd_walk.pos = 0;
		return k->ops->next(k->ctx, id, ret_next);
	}
	if (pd_walk.pos == pd_walk.n)
		return -ENOENT;
	*ret_next = pd_walk.ids[pd_walk.pos++];
	return 0;
}

static int pd_view(void *ctx, uint32_t id, struct prog_view *ret)
{
	const struct rpc_kernel *k = ctx;

	return k->ops->view(k->ctx, id, ret);
}

static int pd_load_image(void *ctx, const struct load_plan *plan, const char *username,
			 const char *password, struct prog_view *ret, struct errmsg *em)
{
	const struct rpc_kernel *k = ctx;
	struct load_plan *p = malloc(sizeof(*p));
	struct image_auth *auth = NULL;
	struct image_object obj = { .dir = "" };
	int err = -ENOMEM;

	if (!p)
		goto out;
	*p = *plan;
	if (username) {
		auth = calloc(1, sizeof(*auth));
		if (!auth)
			goto out;
		auth->set = true;
		snprintf(auth->username, sizeof(auth->username), "%s", username);
		snprintf(auth->password, sizeof(auth->password), "%s", password ? password : "");
	}
	err = image_for_plan(k, k->img ? &k->img->progd_puller : NULL, plan->spec.image_url,
			     plan->spec.image_pull_policy, auth, p, &obj, em);
	if (!err)
		err = k->ops->load(k->ctx, p, ret, NULL, em);
	if (err && obj.path[0])
		name_image_object(em, &obj, plan->spec.image_url);
out:
	auth_free(auth);
	object_close_later(&obj);
	image_object_close(&obj);
	free(p);
	return err;
}

static int pd_modify(void *ctx, const struct modify_plan *plan, struct prog_view *ret,
		     struct errmsg *em)
{
	const struct rpc_kernel *k = ctx;

	return k->ops->modify(k->ctx, plan, ret, NULL, em);
}

void rpc_progd_ops(const struct rpc_kernel *k, struct progd_ops *ret)
{
	*ret = (struct progd_ops){
		.load = pd_load, .unload = pd_unload, .next = pd_next, .view = pd_view,
		.load_image = k->img ? pd_load_image : NULL,
		.modify = k->ops->modify ? pd_modify : NULL,
	};
}

static void change_to_pb(const struct progd_change *c, bpfd_v1_ReloadResponse_Change *ret)
{
	snprintf(ret->action, sizeof(ret->action), "%s", progd_action_str(c->action));
	snprintf(ret->source, sizeof(ret->source), "%s", c->source);
	snprintf(ret->name, sizeof(ret->name), "%s", c->name);
	ret->id = c->id;
	ret->old_id = c->old_id;
	snprintf(ret->error, sizeof(ret->error), "%s", c->error);
}

static int kern_op_reload(void *ctx, bpfd_v1_ReloadResponse *resp, struct errmsg *em)
{
	const size_t max = sizeof(resp->changes) / sizeof(resp->changes[0]);
	const struct rpc_kernel *k = ctx;
	struct progd_report rep = { 0 };
	struct progd_ops ops;
	size_t i;
	int err;

	if (!k->programs_dir)
		return errmsg_set(em, -EOPNOTSUPP,
				  "Reload is not available here: this server has no programs.d");
	rpc_progd_ops(k, &ops);
	err = progd_sync(k->programs_dir, &ops, (void *)k, &rep);
	progd_report_log(&rep, "Reload");
	if (err) {
		errmsg_set(em, err, "reading %s failed: %s", k->programs_dir, strerror(-err));
		goto out;
	}
	memset(resp, 0, sizeof(*resp));
	for (i = 0; i < rep.n && i < max; i++)
		change_to_pb(&rep.v[i], &resp->changes[i]);
	resp->changes_count = i;
	resp->truncated = rep.n > max;
out:
	progd_report_free(&rep);
	return err;
}

const struct rpc_ops rpc_kernel_ops = {
	.reload = kern_op_reload,
	.load = kern_op_load,
	.unload = kern_op_unload,
	.modify = kern_op_modify,
	.pull_bytecode = kern_op_pull,
	.list_images = kern_op_list_images,
	.remove_images = kern_op_remove_images,
	.prog_next = kern_op_next,
	.prog_kernel = kern_op_kernel,
	.prog_info = kern_op_info,
	.stats = kern_op_stats,
	.prog_walk = kern_op_walk,
	.changes = kern_op_changes,
	.load_prepare = kern_op_load_prepare,
	.load_prepared = kern_op_load_prepared,
};

/* The manager and the kernel called in this thread: ctx is a struct mgr *. */

/* The kernel's info of the program of view v, which the manager just built (its
 * vanished too: one look at the hook, not two). */
static void reply_kinfo(const struct prog_view *v, struct kinfo_prog *ret)
{
	if (kinfo_get(v->id, ret)) {
		ret->id = 0;
		return;
	}
	snprintf(ret->vanished, sizeof(ret->vanished), "%s", v->vanished);
}

static int mgr_load_plain(void *ctx, const struct load_plan *plan, struct prog_view *ret,
			  struct kinfo_prog *ret_kinfo, struct errmsg *em)
{
	int err = mgr_load(ctx, plan, ret, em);

	if (!err && ret_kinfo)
		reply_kinfo(ret, ret_kinfo);
	return err;
}

static int mgr_unload_plain(void *ctx, uint32_t id, struct errmsg *em)
{
	return mgr_unload(ctx, id, em);
}

static int mgr_modify_plain(void *ctx, const struct modify_plan *plan,
			    struct prog_view *ret, struct kinfo_prog *ret_kinfo,
			    struct errmsg *em)
{
	int err = mgr_modify(ctx, plan, ret, em);

	if (!err && ret_kinfo)
		reply_kinfo(ret, ret_kinfo);
	return err;
}

static int mgr_next_plain(void *ctx, uint32_t id, uint32_t *ret_next)
{
	(void)ctx;
	return kinfo_next_id(id, ret_next);
}

static int mgr_kinfo_plain(void *ctx, uint32_t id, struct kinfo_prog *ret)
{
	int err = kinfo_get(id, ret);

	if (!err && ctx)
		(void)mgr_prog_vanished(ctx, id, ret->vanished, sizeof(ret->vanished));
	return err;
}

static int mgr_view_plain(void *ctx, uint32_t id, struct prog_view *ret)
{
	return mgr_prog_view(ctx, id, ret);
}

const struct rpc_kernel_ops rpc_mgr_kernel_ops = {
	.load = mgr_load_plain,
	.unload = mgr_unload_plain,
	.modify = mgr_modify_plain,
	.next = mgr_next_plain,
	.kinfo = mgr_kinfo_plain,
	.view = mgr_view_plain,
};

/* rpc_mgr_ops: ctx is the struct mgr *, called in this thread. */
#define MGR_K(ctx)	(&(struct rpc_kernel){ .ops = &rpc_mgr_kernel_ops, .ctx = (ctx) })

static int mgr_op_load(void *ctx, const bpfd_v1_LoadRequest *req, const struct caller *caller,
		       bpfd_v1_LoadResponse *resp, struct errmsg *em)
{
	return kern_op_load(MGR_K(ctx), req, caller, resp, em);
}

static int mgr_op_unload(void *ctx, uint32_t id, struct errmsg *em)
{
	return kern_op_unload(MGR_K(ctx), id, em);
}

static int mgr_op_modify(void *ctx, const bpfd_v1_ModifyRequest *req,
			 bpfd_v1_ModifyResponse *resp, struct errmsg *em)
{
	return kern_op_modify(MGR_K(ctx), req, resp, em);
}

static int mgr_op_pull(void *ctx, const bpfd_v1_PullBytecodeRequest *req,
		       bpfd_v1_PullBytecodeResponse *resp, struct errmsg *em)
{
	return kern_op_pull(MGR_K(ctx), req, resp, em);
}

static int mgr_op_next(void *ctx, uint32_t id, uint32_t *ret_next)
{
	return kern_op_next(MGR_K(ctx), id, ret_next);
}

static int mgr_op_kernel(void *ctx, uint32_t id, bpfd_v1_KernelProgramInfo *ret)
{
	return kern_op_kernel(MGR_K(ctx), id, ret);
}

static int mgr_op_info(void *ctx, uint32_t id, bpfd_v1_ProgramInfo *ret, uint32_t *ret_type)
{
	return kern_op_info(MGR_K(ctx), id, ret, ret_type);
}

static int mgr_op_walk(void *ctx, struct rpc_walk *w)
{
	return kern_op_walk(MGR_K(ctx), w);
}

const struct rpc_ops rpc_mgr_ops = {
	.load = mgr_op_load,
	.unload = mgr_op_unload,
	.modify = mgr_op_modify,
	.pull_bytecode = mgr_op_pull,
	.prog_next = mgr_op_next,
	.prog_kernel = mgr_op_kernel,
	.prog_info = mgr_op_info,
	.prog_walk = mgr_op_walk,
};
