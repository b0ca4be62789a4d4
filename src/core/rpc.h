/* SPDX-License-Identifier: Apache-2.0 */
/* rpc.h - the methods of bpfd.v1.Bpfd: decode, dispatch, encode */
#ifndef BPFD_CORE_RPC_H
#define BPFD_CORE_RPC_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <pb.h>

#include "bpfd.pb.h"
#include "bpf/kinfo.h"
#include "core/base/caller.h"
#include "core/base/errmsg.h"
#include "core/config/policy.h"
#include "core/config/config.h"
#include "core/image/pull.h"
#include "core/image/registry.h"
#include "core/state/manager.h"
#include "core/rpc_pull.h"
#include "core/wire/grpc.h"

/*
 * What the methods act on.  The daemon uses rpc_mgr_ops (the program manager
 * and the kernel); tests and fuzzers plug in their own.  Each returns 0 or
 * -errno, with em set to a sentence for the client where it helps.
 */
struct rpc_walk;

struct rpc_ops {
	/* caller (NULL: in-process) loads: kept as the program's owner; a local
	 * caller other than root has the file opened with its credentials */
	int (*load)(void *ctx, const bpfd_v1_LoadRequest *req, const struct caller *caller,
		    bpfd_v1_LoadResponse *resp, struct errmsg *em);
	int (*unload)(void *ctx, uint32_t id, struct errmsg *em);
	/* may be NULL: Modify is then UNIMPLEMENTED */
	int (*modify)(void *ctx, const bpfd_v1_ModifyRequest *req, bpfd_v1_ModifyResponse *resp,
		      struct errmsg *em);
	int (*pull_bytecode)(void *ctx, const bpfd_v1_PullBytecodeRequest *req,
			     bpfd_v1_PullBytecodeResponse *resp, struct errmsg *em);
	/* the local image store; may be NULL: UNIMPLEMENTED */
	int (*list_images)(void *ctx, bpfd_v1_ListImagesResponse *resp, struct errmsg *em);
	int (*remove_images)(void *ctx, const bpfd_v1_RemoveImagesRequest *req,
			     bpfd_v1_RemoveImagesResponse *resp, struct errmsg *em);
	/* program id walk: next id after id (0 = first), -ENOENT at the end */
	int (*prog_next)(void *ctx, uint32_t id, uint32_t *ret_next);
	/* kernel view of a program; -ENOENT if there is none */
	int (*prog_kernel)(void *ctx, uint32_t id, bpfd_v1_KernelProgramInfo *ret);
	/* bpfd's view; -ENOENT when bpfd does not own it; *ret_type the kind to report */
	int (*prog_info)(void *ctx, uint32_t id, bpfd_v1_ProgramInfo *ret, uint32_t *ret_type);
	/* run statistics are on (kernel info carries counts); may be NULL: never */
	bool (*stats)(void *ctx);
	/* every program of the kernel in one go (List): w's callbacks for each;
	 * may be NULL: List steps with prog_next, prog_kernel and prog_info */
	int (*prog_walk)(void *ctx, struct rpc_walk *w);
	/* a count of the loads, unloads and modifies so far (a List may answer
	 * from a walk only while it stands still); may be NULL: List never does */
	uint64_t (*changes)(void *ctx);
	/* re-read programs.d, fill resp with what changed; may be NULL: UNIMPLEMENTED */
	int (*reload)(void *ctx, bpfd_v1_ReloadResponse *resp, struct errmsg *em);
	/* A Load in two halves, so that an image's pull can run in the pull worker
	 * (rpc_pull.h): load_prepare (that thread: pull, extract) makes *ret_prep,
	 * load_prepared (the front) loads it and frees it (resp NULL: only frees).
	 * May be NULL: load does all in the front. */
	int (*load_prepare)(void *ctx, const bpfd_v1_LoadRequest *req,
			    const struct caller *caller, void **ret_prep, struct errmsg *em);
	int (*load_prepared)(void *ctx, const bpfd_v1_LoadRequest *req, void *prep,
			     bpfd_v1_LoadResponse *resp, struct errmsg *em);
};

/*
 * One List's walk of the kernel's programs (rpc_ops.prog_walk): the callbacks
 * run in whichever thread the walk runs (the kernel executor, while the front
 * waits for it), in the order of the ids.  want_kernel: does the caller need
 * the kernel's info of program id (owned: bpfd's)?  No: what it kept of the
 * program from an earlier walk stands.  prog: one program, kernel NULL when
 * not asked for, info NULL when bpfd does not own it, type the kind to report
 * (dispatcher members are EXT in the kernel); an error stops the walk.
 */
struct rpc_walk {
	bool (*want_kernel)(struct rpc_walk *w, uint32_t id, bool owned, bool stats);
	int (*prog)(struct rpc_walk *w, uint32_t id, const bpfd_v1_KernelProgramInfo *kernel,
		    const bpfd_v1_ProgramInfo *info, uint32_t type, bool stats);
	void *arg;
};

struct events_hub;
struct event;

struct rpc {
	const struct rpc_ops *ops;
	void *ctx;
	/* who may do what ([[policy]]), decided before any op is called; NULL:
	 * no checks (tests, fuzzers).  A call without a caller (in-process) is
	 * not checked either. */
	const struct policy *policy;
	struct events_hub *hub;		/* the Events readers (core/events.h); NULL: off */
	/* the pull worker: PullBytecode and a Load from an image run their pull
	 * there and are answered later (h2_reply_defer()); NULL: in the front */
	struct rpc_pulls *pulls;
	/* the List walker, a second such worker: a List that needs a new walk
	 * waits for it there, and the front goes on; NULL: walk in the front */
	struct rpc_pulls *walker;
};

/* An event (core/base/event.h) as a bpfd.v1.Event message in buf[size]: 0 with
 * *ret_len, or -EMSGSIZE (RPC_EVENT_MAX bytes always suffice). */
#define RPC_EVENT_MAX	bpfd_v1_Event_size
int rpc_event_encode(const struct event *e, uint8_t *buf, size_t size, size_t *ret_len);

/* The h2_handler_fn of the server: arg is a struct rpc. */
void rpc_handle(void *arg, const struct grpc_call *call, struct grpc_reply *reply);

/* Decode a request message the way the server does: 0, or -EINVAL with em
 * holding nanopb's reason.  msg is a struct of type fields (no allocation). */
int rpc_decode(const pb_msgdesc_t *fields, const uint8_t *buf, size_t len, void *msg,
	       struct errmsg *em);

/*
 * What the daemon's ops call once the wire's messages are plain structs
 * (state/manager.h, bpf/kinfo.h): the manager and the kernel, in this thread
 * (rpc_mgr_kernel_ops, ctx a struct mgr *) or in the kernel executor
 * (rpc_exec.c).  Each returns 0 or -errno.
 */
struct rpc_kwalk;

struct rpc_kernel_ops {
	/* ret_kinfo (may be NULL): the kernel's info of the program too, read in
	 * the same call (ret_kinfo->id 0: it could not be read) - a reply's */
	int (*load)(void *ctx, const struct load_plan *plan, struct prog_view *ret,
		    struct kinfo_prog *ret_kinfo, struct errmsg *em);
	int (*unload)(void *ctx, uint32_t id, struct errmsg *em);
	int (*modify)(void *ctx, const struct modify_plan *plan, struct prog_view *ret,
		      struct kinfo_prog *ret_kinfo, struct errmsg *em);
	/* program id walk: next id after id (0 = first), -ENOENT at the end */
	int (*next)(void *ctx, uint32_t id, uint32_t *ret_next);
	/* the kernel's view of a program; -ENOENT if there is none */
	int (*kinfo)(void *ctx, uint32_t id, struct kinfo_prog *ret);
	/* bpfd's view; -ENOENT when bpfd does not own it */
	int (*view)(void *ctx, uint32_t id, struct prog_view *ret);
	/* the kernel's run statistics were on at the last job; may be NULL: never */
	bool (*stats)(void *ctx);
	/* every program in one go: w's callbacks for each (rpc_kwalk_steps());
	 * may be NULL: the walk steps with next, view and kinfo */
	int (*walk)(void *ctx, struct rpc_kwalk *w);
	/* loads, unloads and modifies so far; may be NULL: unknown */
	uint64_t (*changes)(void *ctx);
};

/* A walk of the kernel's programs on plain structs (rpc_kernel_ops.walk): like
 * struct rpc_walk, with bpfd's view and the kernel's info as the manager and
 * bpf/kinfo.h give them.  stats: the kernel info carries run counts. */
struct rpc_kwalk {
	bool (*want_kinfo)(struct rpc_kwalk *w, uint32_t id, bool owned, bool stats);
	int (*prog)(struct rpc_kwalk *w, uint32_t id, const struct kinfo_prog *kinfo,
		    const struct prog_view *view, bool stats);
	void *arg;
};

/* The walk by steps, in this thread: next, view (into view: room for one) and
 * kinfo of ops for every program, w's callbacks for each; stats says whether
 * the kinfo carries counts.  A program unloaded during the walk is skipped. */
int rpc_kwalk_steps(const struct rpc_kernel_ops *ops, void *ctx, struct rpc_kwalk *w,
		    struct prog_view *view, bool stats);

/* The front's side of bytecode images: the store, the registry and [signing]
 * (pull.h), and the folder objects are extracted to for a load.  Pulls and
 * extraction run in the front, never in the kernel executor. */
struct rpc_images {
	struct image_puller puller;	/* the pull worker's (API calls) */
	struct image_puller progd_puller;	/* the front's (programs.d) */
	struct image_registry_src progd_rsrc;
	struct registry_opts ropts;	/* [registry] */
	struct registry_opts_ptrs rptrs;
	struct image_registry_src rsrc;
	const char *keys[BPFD_MAX_SIGNING_KEYS];
	char workdir[PATH_MAX];		/* <rundir>/images: objects of loads */
};

/* Open the store of cfg's image_dir and fill img: the registry is src, or
 * (src NULL) the registry client with cfg's [registry].  0 or -errno with em. */
int rpc_images_init(struct rpc_images *img, const struct bpfd_config *cfg,
		    const struct image_source *src, struct errmsg *em);
void rpc_images_fini(struct rpc_images *img);

struct rpc_kernel {
	const struct rpc_kernel_ops *ops;
	void *ctx;
	const char *programs_dir;	/* Reload re-reads it; NULL: Reload unavailable */
	struct rpc_images *img;		/* NULL: no image store (images UNAVAILABLE) */
};

struct progd_ops;
/* The calls of k as a programs.d pass needs them (core/progd.h), ctx k:
 * bytecode_image entries through k's image store (none without one). */
void rpc_progd_ops(const struct rpc_kernel *k, struct progd_ops *ret);

/* ctx is a struct rpc_kernel *: converts the wire's messages to the manager's
 * plain structs and back (in the calling thread, the front) and hands the plain
 * structs to the kernel ops; the manager never sees the wire format. */
extern const struct rpc_ops rpc_kernel_ops;
extern const struct rpc_kernel_ops rpc_mgr_kernel_ops;

/* The same with ctx a struct mgr *, everything in the calling thread. */
extern const struct rpc_ops rpc_mgr_ops;

#endif
