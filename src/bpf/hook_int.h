/* SPDX-License-Identifier: Apache-2.0 */
/* hook_int.h - internals shared by hook.c, hook_lock.c, disp.c, xdp_hook.c, tc_hook.c
 * and tcx.c (not for use outside them; the rest of bpfd uses hook.h) */
#ifndef BPFD_BPF_HOOK_INT_H
#define BPFD_BPF_HOOK_INT_H

#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bpf/hook.h"
#include "bpf/kinfo.h"

struct bpf_object;
struct bpf_program;

/* The TC dispatcher's (and a direct TC program's) filter: clsact, this priority and
 * handle, protocol all, direct action.  Foreign filters elsewhere are never touched. */
#define HOOK_TC_PRIO		50
#define HOOK_TC_HANDLE		0xbfd
/* How often a change raced by another manager is retried. */
#define HOOK_RETRIES		10

struct hook_env {
	char xdp_bpffs[PATH_MAX];	/* libxdp's bpffs root */
	enum hook_xdp_mode (*xdp_mode)(const char *iface, void *arg);
	void *xdp_mode_arg;
	pthread_mutex_t lock;		/* probe result and load targets */
	bool probed;
	bool multiprog;
	bool force_direct;
	char why[512];			/* why multiprog is false */
	char xdp_root[PATH_MAX];	/* <xdp_bpffs>/xdp */
	char tc_root[2][PATH_MAX];	/* <bpffs>/tc-ingress, tc-egress */
	char tcx_root[2][PATH_MAX];	/* <bpffs>/tcx-ingress, tcx-egress */
	pthread_mutex_t cache_lock;	/* members */
	struct members_cache *members;	/* disp.c: last members read per hook */
	size_t n_members;
};

struct hook;
struct members_cache;

/* One member of a dispatcher: its config entry and an fd of the EXT program. */
struct member {
	struct chain_entry e;
	int prog_fd;
	uint32_t link_id;
};

/* What is attached at a hook right now (read under the hook's lock). */
struct hook_state {
	uint32_t id;			/* program attached (dispatcher or direct), 0 none */
	int fd;				/* its fd, -1 */
	uint32_t mode_flags;		/* XDP_FLAGS_*_MODE of the attachment */
	char name[64];			/* its name */
	bool dispatcher;		/* a dispatcher bpfd can read (config + pins) */
	bool foreign_disp;		/* a dispatcher of another version/layout */
	int version;			/* of a foreign dispatcher */
	struct member m[CHAIN_MAX_PROGS];
	size_t n;
};

/* What differs between the XDP and the TC dispatcher. */
struct hook_ops {
	enum chain_kind kind;
	const char *disp_name;		/* program and embedded object name */
	/* the embedded object to load for conf, when not disp_name's (NULL: always it) */
	const char *(*disp_obj)(const void *conf);
	const char *slot_fmt;		/* "prog%u" */
	size_t conf_size;
	/* id and fd of the program attached at the hook, 0 when none */
	int (*query)(struct hook *h, uint32_t *ret_id, uint32_t *ret_mode_flags);
	/* is program id attached at the hook (in any mode)? */
	bool (*is_attached)(struct hook *h, uint32_t id);
	/* make the hook usable (TC: clsact, no ingress qdisc in the way) */
	int (*prepare)(struct hook *h, struct errmsg *em);
	/* put new_fd on the hook in place of old (old_fd -1: hook is empty);
	 * -EAGAIN when the hook changed meanwhile */
	int (*swap)(struct hook *h, int new_fd, int old_fd, uint32_t old_id,
		    uint32_t mode_flags, struct errmsg *em);
	/* take old off the hook; -EAGAIN when it changed meanwhile */
	int (*remove)(struct hook *h, int old_fd, uint32_t old_id, uint32_t mode_flags,
		      struct errmsg *em);
	/* after the last program left (TC: drop clsact when empty) */
	void (*cleanup)(struct hook *h);
	/* config <-> entries */
	int (*conf_fill)(void *conf, const struct chain_entry *e, size_t n);
	int (*conf_read)(const void *conf, size_t size, struct chain_entry *e, size_t *ret_n,
			 int *ret_version);
};

struct hook {
	struct hook_env *env;
	const struct hook_ops *ops;
	enum chain_kind kind;
	enum chain_dir dir;
	uint32_t ifindex;
	char iface[IF_NAMESIZE];	/* "if<index>" when the lookup failed */
	bool iface_found;		/* iface is the kernel's name, as hook_init read it */
	const char *root;		/* pin directory of this kind */
	int lock_fd;			/* flock'ed root, -1 */
};

extern const struct hook_ops xdp_hook_ops;
extern const struct hook_ops tc_hook_ops;

/* hook.c: a hook of env (pin directory made, XDP: bpffs mounted) */
int hook_init(struct hook *h, struct hook_env *env, enum chain_kind kind,
	      enum chain_dir dir, uint32_t ifindex, struct errmsg *em);
/* Load the load target for kind (xdp_target/tc_target: compat_test with the slots'
 * prototype): its fd (the caller closes it once the extensions loaded against it are
 * attached), or -errno. */
int hook_load_target(struct hook_env *env, enum chain_kind kind, struct errmsg *em);
bool hook_multiprog(struct hook_env *env);

/* hook_lock.c: flock on a pin directory (libxdp's lock for <xdp_bpffs>/xdp, ours for
 * tc-<dir> and tcx-<dir>).  Each call opens its own descriptor, so threads of one
 * process exclude each other too.  hook_lock_dir returns the locked fd or -errno. */
int hook_lock_dir(const char *root, struct errmsg *em);
void hook_unlock_dir(int fd);
int hook_lock(struct hook *h, struct errmsg *em);
void hook_unlock(struct hook *h);

/* disp.c: the dispatcher engine */
int disp_state_read(struct hook *h, struct hook_state *st);
void disp_state_free(struct hook_state *st);
int disp_add(struct hook *h, int prog_fd, const struct chain_entry *add,
	     struct hook_result *ret, struct errmsg *em);
int disp_remove(struct hook *h, uint32_t prog_id, struct errmsg *em);
int disp_modify(struct hook *h, uint32_t prog_id, int32_t priority, uint32_t proceed_on,
		struct hook_result *ret, struct errmsg *em);
int disp_members(struct hook *h, struct hook_member_info *ret, size_t max,
		 size_t *ret_n);
void disp_cache_free(struct hook_env *env);
int disp_reconcile(struct hook_env *env, const struct hook_ops *ops, const char *root,
		   enum chain_dir dir);
/* Open the embedded dispatcher of kind with conf, load it: object and program fd. */
int disp_load(const struct hook_ops *ops, const void *conf, bool frags,
	      struct bpf_object **ret_obj, int *ret_fd, struct errmsg *em);
/* Direct attach (no freplace) of prog_fd, or its removal. */
int disp_direct_attach(struct hook *h, int prog_fd, struct hook_result *ret,
		       struct errmsg *em);
int disp_direct_detach(struct hook *h, uint32_t prog_id, struct errmsg *em);

/* xdp_hook.c: the XDP mode flags to use for a first attach on h (hook_opts.xdp_mode) */
uint32_t xdp_hook_mode_flags(struct hook *h, bool *ret_fallback);

/* tcx.c */
int tcx_attach(struct hook_env *env, int prog_fd, const struct hook_req *req,
	       uint32_t ifindex, struct hook_result *ret, struct errmsg *em);
int tcx_detach(struct hook_env *env, uint32_t ifindex, enum chain_dir dir,
	       uint32_t prog_id, struct errmsg *em);
int tcx_modify(struct hook_env *env, uint32_t ifindex, enum chain_dir dir,
	       uint32_t prog_id, int32_t priority, struct hook_result *ret,
	       struct errmsg *em);
int tcx_members(struct hook_env *env, uint32_t ifindex, enum chain_dir dir,
		struct hook_member_info *ret, size_t max, size_t *ret_n);
int tcx_reconcile(struct hook_env *env, enum chain_dir dir);
/* 0 when the kernel has TCX, -EOPNOTSUPP (with why) otherwise. */
int tcx_probe(struct errmsg *em);

#endif
