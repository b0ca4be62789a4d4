/* SPDX-License-Identifier: Apache-2.0 */
/* hook.h - the kernel side of the xdp, tc and tcx kinds: multi-program XDP and TC
 * hooks through dispatcher chains (libxdp protocol v2), direct single-program attach
 * when the kernel refuses freplace, and TCX links.  The kernel-free model these follow
 * (kinds, directions, proceed-on actions, order, dispatcher config layouts) is
 * core/base/chain.h; everything here touches the kernel.
 *
 * Files: hook.c (environment and this API), disp.c (the dispatcher engine and the
 * direct attach), xdp_hook.c and tc_hook.c (what differs between the XDP and the TC
 * hook), tcx.c (TCX links), hook_lock.c (the pin directory lock); hook_int.h holds
 * what they share.
 *
 * The program manager calls these for the xdp, tc and tcx kinds.  It records what
 * hook_attach() returns and pins nothing of its own for these kinds: the chain code
 * pins, and the kernel plus those pins are the source of truth (xdp-loader may rebuild
 * an XDP dispatcher behind bpfd's back; hook_member() always reads the live state).
 *
 * Pin layout (documented in docs and in xdp_hook.c / tc_hook.c / tcx.c):
 *   <xdp_bpffs>/xdp/dispatch-<ifindex>-<dispatcher id>/prog<N>-{prog,link}
 *		libxdp's own layout, under flock(<xdp_bpffs>/xdp)
 *   <bpffs>/tc-<dir>/dispatch-<ifindex>-<dispatcher id>/prog<N>-{prog,link}
 *		the same layout for the TC dispatcher, under flock(<bpffs>/tc-<dir>)
 *   <bpffs>/tcx-<dir>/link-<ifindex>-<priority>-<prog id>
 *		one pinned TCX bpf_link per program, under flock(<bpffs>/tcx-<dir>)
 * Direct (no-dispatcher) attachments pin nothing: the hook holds the program.
 *
 * All functions are safe to call from several threads and processes at once: every
 * change of a hook happens under the flock of its directory, and XDP swaps use the
 * netlink expected-fd check (a concurrent change by libxdp is detected and retried). */
#ifndef BPFD_BPF_HOOK_H
#define BPFD_BPF_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/chain.h"
#include "core/base/errmsg.h"

struct obj;
struct hook_env;

/* errno for "the kernel refuses freplace, so a second program cannot join this hook"
 * and for "a foreign qdisc/program occupies the hook": maps to FAILED_PRECONDITION. */
#define HOOK_EPRECONDITION	EL2HLT
/* errno for "the dispatcher is full (10 programs)": maps to RESOURCE_EXHAUSTED. */
#define HOOK_EFULL		ENOSPC

enum hook_mode {
	HOOK_MODE_NONE = 0,
	HOOK_MODE_DISPATCHER,	/* freplace member of a dispatcher slot */
	HOOK_MODE_DIRECT,	/* attached directly to the hook (no freplace) */
	HOOK_MODE_TCX,		/* TCX bpf_link, kernel ordering */
};

/* "dispatcher", "direct", "tcx" or "none". */
const char *hook_mode_str(enum hook_mode m);

struct hook_req {
	enum chain_kind kind;
	const char *iface;	/* interface name, for messages */
	uint32_t ifindex;	/* the interface: the caller resolves iface once
				 * (hook_ifindex()) and passes it down */
	enum chain_dir dir;	/* tc, tcx only */
	int32_t priority;	/* >= 0; lower runs first */
	uint32_t proceed_on;	/* mask from chain_proceed_on_encode() (xdp, tc) */
	bool proceed_on_set;	/* proceed_on was asked for, not the default: refused where
				 * the program would be attached directly (no dispatcher) */
};

struct hook_result {
	uint32_t prog_id;	/* kernel id of the program (EXT for dispatcher members) */
	uint32_t ifindex;
	int32_t position;	/* index in the chain right after the attach */
	enum hook_mode mode;
	uint32_t dispatcher_id;	/* dispatcher program id, 0 when none */
	uint32_t link_id;	/* freplace / TCX link id, 0 for direct attach */
};

struct hook_member_info {
	uint32_t prog_id;
	enum chain_kind kind;
	uint32_t ifindex;
	enum chain_dir dir;
	char iface[16];		/* "" when the interface is gone */
	char name[64];		/* function name (BTF), else the kernel name */
	int32_t position;	/* 0-based run order on the hook */
	enum hook_mode mode;
	bool have_config;	/* priority/proceed_on are known (dispatcher, tcx) */
	int32_t priority;
	uint32_t proceed_on;	/* mask (xdp, tc dispatcher members) */
	uint32_t dispatcher_id;
	uint32_t link_id;
};

/* The XDP attach mode for the first program on an interface's hook. */
enum hook_xdp_mode {
	HOOK_XDP_DEFAULT = 0,	/* drv, falling back to skb when the driver refuses */
	HOOK_XDP_SKB,
	HOOK_XDP_DRV,
	HOOK_XDP_HW,
};

/* What the environment needs from the daemon's configuration (filled by the caller;
 * src/bpf does not read the configuration itself). */
struct hook_opts {
	const char *bpffs;	/* bpfd's bpffs: <bpffs>/tc-<dir>, <bpffs>/tcx-<dir> pins */
	const char *xdp_bpffs;	/* libxdp's bpffs root for <xdp_bpffs>/xdp (mounted if
				 * it is not a bpffs yet) */
	/* The XDP mode configured for iface, asked at each first attach; NULL: the
	 * default everywhere.  xdp_mode_arg is passed along and must outlive env. */
	enum hook_xdp_mode (*xdp_mode)(const char *iface, void *arg);
	void *xdp_mode_arg;
};

/* Create the environment: the paths are copied from opts; whether the kernel allows
 * freplace is probed on first need, once (cached).  The pin directories are made on
 * first use.  0, or -errno with em set. */
int hook_env_new(const struct hook_opts *opts, struct hook_env **ret_env,
		 struct errmsg *em);
void hook_env_free(struct hook_env *env);
/* Whether multi-program chains work (the kernel allows BPF_PROG_TYPE_EXT).  When not,
 * *why (may be NULL) gets a sentence for messages and logs. */
bool hook_env_multiprog(struct hook_env *env, const char **why);
/* Tests: pretend the kernel refuses freplace (exercise the direct-attach fallback). */
void hook_env_force_direct(struct hook_env *env, bool on);

/* Attach program o (opened, NOT loaded) to the hook in req: sets the program type and
 * attach target as the mode needs (chains: EXT against the load target's compat_test,
 * xdp_target/tc_target.bpf.c), calls obj_load(o, em), then inserts it into the hook: a new dispatcher is built with
 * every member re-linked (foreign ones included), pinned and swapped in atomically.
 * o stays owned by the caller (close it whenever; the pins keep the program).
 * Errors: -EINVAL bad request (em says which field); -ENODEV no such interface;
 * -HOOK_EFULL 10 programs already (em names the interface and the limit);
 * -HOOK_EPRECONDITION second program without freplace, foreign program or ingress
 * qdisc in the way; -EOPNOTSUPP kind not supported by the kernel (TCX before 6.6);
 * load errors from obj_load().  On failure nothing is left on the hook. */
int hook_attach(struct hook_env *env, struct obj *o, const struct hook_req *req,
		struct hook_result *ret, struct errmsg *em);

/* Remove program prog_id from the hook (kind, ifindex, dir): the chain is rebuilt
 * without it (other members keep priority and proceed-on); the last member removes the
 * dispatcher and its pins.  -ENOENT when the program is not on that hook. */
int hook_detach(struct hook_env *env, enum chain_kind kind, uint32_t ifindex,
		enum chain_dir dir, uint32_t prog_id, struct errmsg *em);

/* Give program prog_id on the hook (kind, ifindex, dir) a new priority and (xdp, tc)
 * proceed-on mask; its id stays.  XDP/TC: a new dispatcher with the new order and
 * config is built, every member re-linked, and swapped in atomically.  TCX: the
 * program is moved to its new place make-before-break: a stand-in that tail-calls it
 * is linked at the new place first, then the old link goes and the stand-in's link
 * is switched to the program (bpf_link_update), so no packet misses it (one that
 * passes in the short moment between the first two steps meets it twice).  A direct
 * attachment (no dispatcher) is left as it is (ret->mode says HOOK_MODE_DIRECT): the
 * caller refuses what cannot apply there.  On failure the hook is as before.  ret
 * gets the new position.  -ENOENT when the program is not on that hook. */
int hook_modify(struct hook_env *env, enum chain_kind kind, uint32_t ifindex,
		enum chain_dir dir, uint32_t prog_id, int32_t priority, uint32_t proceed_on,
		struct hook_result *ret, struct errmsg *em);

/* prog_id's entry among members mi[0..n) (as hook_members() read them) into *ret:
 * 0, or -ENOENT when it is not one of them. */
int hook_member_find(const struct hook_member_info *mi, size_t n, uint32_t prog_id,
		     struct hook_member_info *ret);
/* Current state of prog_id on the hook, read from kernel + pins.  -ENOENT if absent. */
int hook_member(struct hook_env *env, enum chain_kind kind, uint32_t ifindex,
		enum chain_dir dir, uint32_t prog_id, struct hook_member_info *ret);

/* Every program on the hook in run order, bpfd's and foreign ones (at most max; the
 * count is returned in *ret_n even when larger than max).  0 or -errno. */
int hook_members(struct hook_env *env, enum chain_kind kind, uint32_t ifindex,
		 enum chain_dir dir, struct hook_member_info *ret, size_t max,
		 size_t *ret_n);

/* At daemon start: remove residue of interrupted changes (dispatch-* directories whose
 * dispatcher is not attached, like `xdp-loader clean`; TCX link pins whose link is
 * gone).  Returns the number of directories/pins removed, or -errno. */
int hook_reconcile(struct hook_env *env, struct errmsg *em);

/* Interface name -> ifindex, with an actionable message: -ENODEV if absent. */
int hook_ifindex(const char *iface, uint32_t *ret_ifindex, struct errmsg *em);

#endif
