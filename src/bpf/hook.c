/* SPDX-License-Identifier: Apache-2.0 */
/* hook.c - multi-program hooks: the environment (freplace probe, load targets, pin
 * directories) and the public API of hook.h, which hands each kind to disp.c or tcx.c */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/bpflog.h"
#include "bpf/embed.h"
#include "bpf/hook_int.h"
#include "bpf/obj.h"
#include "core/base/fs.h"
#include "core/base/log.h"

const char *hook_mode_str(enum hook_mode m)
{
	switch (m) {
	case HOOK_MODE_DISPATCHER:
		return "dispatcher";
	case HOOK_MODE_DIRECT:
		return "direct";
	case HOOK_MODE_TCX:
		return "tcx";
	case HOOK_MODE_NONE:
		break;
	}
	return "none";
}

/* ---- environment ------------------------------------------------------------------ */

int hook_env_new(const struct hook_opts *opts, struct hook_env **ret_env,
		 struct errmsg *em)
{
	static const char *const dirs[] = { "ingress", "egress" };
	struct hook_env *env;
	int i;

	env = calloc(1, sizeof(*env));
	if (!env)
		return -ENOMEM;
	pthread_mutex_init(&env->lock, NULL);
	pthread_mutex_init(&env->cache_lock, NULL);
	env->xdp_mode = opts->xdp_mode;
	env->xdp_mode_arg = opts->xdp_mode_arg;
	snprintf(env->xdp_bpffs, sizeof(env->xdp_bpffs), "%s", opts->xdp_bpffs);
	snprintf(env->xdp_root, sizeof(env->xdp_root), "%s/xdp", opts->xdp_bpffs);
	for (i = 0; i < 2; i++) {
		snprintf(env->tc_root[i], sizeof(env->tc_root[i]), "%s/tc-%s", opts->bpffs,
			 dirs[i]);
		snprintf(env->tcx_root[i], sizeof(env->tcx_root[i]), "%s/tcx-%s", opts->bpffs,
			 dirs[i]);
	}
	(void)em;
	/* freplace is probed on first need (hook_multiprog()): a daemon start pays
	 * nothing for it, and a host that never chains never loads the probe */
	*ret_env = env;
	return 0;
}

void hook_env_free(struct hook_env *env)
{
	if (!env)
		return;
	disp_cache_free(env);
	pthread_mutex_destroy(&env->cache_lock);
	pthread_mutex_destroy(&env->lock);
	free(env);
}

void hook_env_force_direct(struct hook_env *env, bool on)
{
	env->force_direct = on;
}

/* Load an extension of the embedded xdp_pass program against compat_test of the XDP
 * load target: exactly what every chain member needs (and what it is linked into
 * later, a slot of a dispatcher, takes the same prototype). */
static int probe_freplace(struct hook_env *env, struct errmsg *em)
{
	struct bpf_object *o = NULL;
	struct bpf_program *p;
	const void *data;
	size_t len;
	int err, tfd;

	tfd = hook_load_target(env, CHAIN_XDP, em);
	if (tfd < 0)
		return tfd;
	err = embed_find("xdp_pass", &data, &len);
	if (err) {
		errmsg_set(em, err, "the embedded xdp_pass object is missing");
		goto out;
	}
	o = bpf_object__open_mem(data, len, NULL);
	if (!o) {
		err = errmsg_set(em, -errno, "cannot open the embedded xdp_pass object");
		goto out;
	}
	p = bpf_object__next_program(o, NULL);
	bpf_program__set_type(p, BPF_PROG_TYPE_EXT);
	bpf_program__set_expected_attach_type(p, 0);
	err = bpf_program__set_attach_target(p, tfd, "compat_test");
	if (!err)
		err = bpf_object__load(o);
	if (err)
		errmsg_set(em, err, "the kernel refuses freplace (BPF_PROG_TYPE_EXT) "
			   "programs: %s", strerror(-err));
out:
	bpf_object__close(o);
	close(tfd);
	return err;
}

static void env_probe(struct hook_env *env)
{
	enum bpflog_mode old;
	struct errmsg em = {};
	int err;

	if (env->probed)
		return;
	env->probed = true;
	/* an expected refusal is not a warning for the log */
	old = bpflog_set(BPFLOG_OFF);
	err = probe_freplace(env, &em);
	bpflog_set(old);
	env->multiprog = !err;
	if (err)
		snprintf(env->why, sizeof(env->why), "%.500s", em.msg);
	log_debug("freplace probe: %s", err ? em.msg : "allowed, multi-program chains work");
}

bool hook_multiprog(struct hook_env *env)
{
	bool ok;

	pthread_mutex_lock(&env->lock);
	env_probe(env);
	ok = env->multiprog && !env->force_direct;
	pthread_mutex_unlock(&env->lock);
	return ok;
}

bool hook_env_multiprog(struct hook_env *env, const char **why)
{
	bool ok = hook_multiprog(env);

	if (why)
		*why = ok ? "" : env->force_direct ? "multi-program chains are switched off"
						   : env->why;
	return ok;
}

/* A small program whose global compat_test has the slots' prototype (xdp_target.bpf.c,
 * tc_target.bpf.c): an extension loaded against it can later be linked into any slot
 * of any dispatcher.  Loaded for each use and not kept: once the extension is linked
 * into a real dispatcher the kernel drops its reference, the target goes away, and no
 * unattached program of bpfd's lingers in the kernel's program list. */
int hook_load_target(struct hook_env *env, enum chain_kind kind, struct errmsg *em)
{
	const char *name = kind == CHAIN_XDP ? "xdp_target" : "tc_target";
	struct bpf_object *o = NULL;
	struct bpf_program *p;
	const void *data;
	size_t len;
	int ret, err;

	(void)env;
	err = embed_find(name, &data, &len);
	if (err)
		return errmsg_set(em, err, "the embedded %s object is missing", name);
	o = bpf_object__open_mem(data, len, NULL);
	if (!o)
		return errmsg_set(em, -errno, "cannot open the embedded %s object", name);
	p = bpf_object__find_program_by_name(o, name);
	err = p ? bpf_object__load(o) : -ENOEXEC;
	if (err) {
		ret = errmsg_set(em, err, "cannot load the %s: %s", name, strerror(-err));
		goto out;
	}
	/* the fd outlives the object: bpf_object__close() closes its own copy */
	ret = fcntl(bpf_program__fd(p), F_DUPFD_CLOEXEC, 3);
	if (ret < 0)
		ret = errmsg_set(em, -errno, "cannot keep the %s: %s", name, strerror(errno));
out:
	bpf_object__close(o);
	return ret;
}

/* ---- hooks ---------------------------------------------------------------------- */

int hook_ifindex(const char *iface, uint32_t *ret_ifindex, struct errmsg *em)
{
	unsigned int idx;

	if (!iface || !*iface)
		return errmsg_set(em, -EINVAL, "an interface name is required");
	if (strlen(iface) >= IF_NAMESIZE)
		return errmsg_set(em, -EINVAL, "interface name '%s' is longer than %d bytes",
				  iface, IF_NAMESIZE - 1);
	idx = if_nametoindex(iface);
	if (!idx)
		return errmsg_set(em, -ENODEV, "no interface '%s' in bpfd's network namespace "
				  "(see 'ip link')", iface);
	*ret_ifindex = idx;
	return 0;
}

int hook_init(struct hook *h, struct hook_env *env, enum chain_kind kind,
	      enum chain_dir dir, uint32_t ifindex, struct errmsg *em)
{
	int err;

	memset(h, 0, sizeof(*h));
	h->env = env;
	h->kind = kind;
	h->dir = dir;
	h->ifindex = ifindex;
	h->lock_fd = -1;
	h->ops = kind == CHAIN_XDP ? &xdp_hook_ops : &tc_hook_ops;
	h->root = kind == CHAIN_XDP ? env->xdp_root : env->tc_root[dir];
	h->iface_found = if_indextoname(ifindex, h->iface);
	if (!h->iface_found)
		snprintf(h->iface, sizeof(h->iface), "if%u", ifindex);
	if (kind == CHAIN_XDP && !fs_is_bpffs(env->xdp_bpffs) && hook_multiprog(env)) {
		/* libxdp's pins live there; systemd mounts it, bare hosts may not */
		err = fs_bpffs_mount(env->xdp_bpffs, NULL);
		if (err)
			return errmsg_set(em, err, "%s is not a bpffs and mounting one there "
					  "failed (%s): XDP dispatcher pins need it",
					  env->xdp_bpffs, strerror(-err));
	}
	err = fs_mkdir_p(h->root, 0700);
	if (err)
		return errmsg_set(em, err, "cannot create pin directory %s: %s", h->root,
				  strerror(-err));
	return 0;
}

/* ---- public API ------------------------------------------------------------------ */

/* The caller checked what the request means (the manager's check_plan(): priority,
 * direction, interface); this guards the API only. */
static int req_check(const struct hook_req *req, struct errmsg *em)
{
	if (req->kind != CHAIN_XDP && req->kind != CHAIN_TC && req->kind != CHAIN_TCX)
		return errmsg_set(em, -EINVAL, "unknown attach kind %d", req->kind);
	if (!req->ifindex)
		return errmsg_set(em, -EINVAL, "no interface index for %s: resolve the "
				  "interface with hook_ifindex() first",
				  req->iface ? req->iface : "the hook");
	return 0;
}

/* Set type and target of program p for mode: EXT against the load target (chains),
 * the native type otherwise.  *ret_tfd gets the load target's fd (-1 when none): the
 * caller closes it after the program is attached. */
static int prog_prepare(struct hook_env *env, struct bpf_program *p,
			const struct hook_req *req, bool chain, uint32_t *ret_flags,
			int *ret_tfd, struct errmsg *em)
{
	int tfd;

	*ret_flags = bpf_program__flags(p);
	if (req->kind == CHAIN_TCX || !chain) {
		bpf_program__set_type(p, req->kind == CHAIN_XDP ? BPF_PROG_TYPE_XDP :
				      BPF_PROG_TYPE_SCHED_CLS);
		if (req->kind == CHAIN_XDP)
			bpf_program__set_expected_attach_type(p, BPF_XDP);
		return 0;
	}
	tfd = hook_load_target(env, req->kind, em);
	if (tfd < 0)
		return tfd;
	*ret_tfd = tfd;
	bpf_program__set_type(p, BPF_PROG_TYPE_EXT);
	bpf_program__set_expected_attach_type(p, 0);
	/* frags and dev-bound belong to the dispatcher, not to its members */
	bpf_program__set_flags(p, *ret_flags & ~(BPF_F_XDP_HAS_FRAGS | (1u << 6)));
	return bpf_program__set_attach_target(p, tfd, "compat_test");
}

static int attach_loaded(struct hook_env *env, int prog_fd, const char *name,
			 uint32_t flags, const struct hook_req *req, uint32_t ifindex,
			 bool chain, struct hook_result *ret, struct errmsg *em)
{
	struct chain_entry add = {};
	struct hook h;
	int err;

	if (req->kind == CHAIN_TCX)
		return tcx_attach(env, prog_fd, req, ifindex, ret, em);
	err = hook_init(&h, env, req->kind, req->dir, ifindex, em);
	if (err)
		return err;
	if (!chain)
		return disp_direct_attach(&h, prog_fd, ret, em);
	err = kinfo_prog_desc(prog_fd, &add.prog_id, NULL, 0);
	if (err)
		return err;
	snprintf(add.name, sizeof(add.name), "%s", name);
	add.priority = req->priority;
	add.proceed_on = req->proceed_on;
	add.flags = flags & BPF_F_XDP_HAS_FRAGS;
	add.is_new = true;
	return disp_add(&h, prog_fd, &add, ret, em);
}

/* Is something already on the hook that a direct attach would collide with?  Checked
 * before loading so that the answer comes fast; attaching checks again. */
static int direct_precheck(struct hook_env *env, const struct hook_req *req,
			   uint32_t ifindex, struct errmsg *em)
{
	struct hook h;
	uint32_t id = 0, mode;
	const char *why;
	char name[64] = "";
	int err;

	err = hook_init(&h, env, req->kind, req->dir, ifindex, em);
	if (err)
		return err;
	err = h.ops->query(&h, &id, &mode);
	if (err || !id)
		return err;
	kinfo_prog_name(id, name, sizeof(name));
	hook_env_multiprog(env, &why);
	return errmsg_set(em, -HOOK_EPRECONDITION, "the %s hook of %s%s%s already has program "
			  "%u ('%s'); more than one program per hook needs a dispatcher, and "
			  "multi-program chains are unavailable (%s). Unload program %u first",
			  req->kind == CHAIN_XDP ? "XDP" : "TC", req->iface,
			  req->kind == CHAIN_TC ? " " : "",
			  req->kind == CHAIN_TC ? chain_dir_str(req->dir) : "", id, name, why, id);
}

int hook_attach(struct hook_env *env, struct obj *o, const struct hook_req *req,
		struct hook_result *ret, struct errmsg *em)
{
	struct bpf_program *p = obj_bpf_program(o);
	uint32_t ifindex = req->ifindex, flags;
	int err, tfd = -1;
	const char *why;
	bool chain;

	err = req_check(req, em);
	if (err)
		return err;
	if (req->kind == CHAIN_TCX) {
		err = tcx_probe(em);
		if (err)
			return err;
	}
	chain = req->kind != CHAIN_TCX && hook_multiprog(env);
	if (req->kind != CHAIN_TCX && !chain && req->proceed_on_set) {
		hook_env_multiprog(env, &why);
		/* a direct attach has no chain to proceed in: do not store what cannot apply */
		return errmsg_set(em, -HOOK_EPRECONDITION, "proceed-on applies only in a "
				  "dispatcher chain, and this %s program would be attached directly: "
				  "multi-program chains are unavailable (%s). Load it without "
				  "proceed-on", chain_kind_str(req->kind), why);
	}
	if (req->kind != CHAIN_TCX && !chain) {
		err = direct_precheck(env, req, ifindex, em);
		if (err)
			return err;
	}
	err = prog_prepare(env, p, req, chain, &flags, &tfd, em);
	if (err) {
		errmsg_set(em, err, "cannot prepare program '%s' for %s: %s",
			   bpf_program__name(p), chain_kind_str(req->kind), strerror(-err));
		goto out;
	}
	err = obj_load(o, em);
	if (err)
		goto out;
	err = attach_loaded(env, obj_prog_fd(o), bpf_program__name(p), flags, req, ifindex,
			    chain, ret, em);
out:
	if (tfd >= 0)
		close(tfd);
	return err;
}

int hook_detach(struct hook_env *env, enum chain_kind kind, uint32_t ifindex,
		enum chain_dir dir, uint32_t prog_id, struct errmsg *em)
{
	struct hook_state st;
	struct hook h;
	int err;

	if (kind == CHAIN_TCX)
		return tcx_detach(env, ifindex, dir, prog_id, em);
	err = hook_init(&h, env, kind, dir, ifindex, em);
	if (err)
		return err;
	err = hook_lock(&h, em);
	if (err)
		return err;
	err = disp_state_read(&h, &st);
	hook_unlock(&h);
	if (err)
		return errmsg_set(em, err, "cannot read the %s hook of %s: %s",
				  chain_kind_str(kind), h.iface, strerror(-err));
	if (st.id == prog_id && !st.dispatcher) {
		disp_state_free(&st);
		return disp_direct_detach(&h, prog_id, em);
	}
	disp_state_free(&st);
	return disp_remove(&h, prog_id, em);
}

int hook_modify(struct hook_env *env, enum chain_kind kind, uint32_t ifindex,
		enum chain_dir dir, uint32_t prog_id, int32_t priority, uint32_t proceed_on,
		struct hook_result *ret, struct errmsg *em)
{
	struct hook h;
	int err;

	if (priority < 0)
		return errmsg_set(em, -EINVAL, "priority %d is negative", priority);
	if (kind == CHAIN_TCX)
		return tcx_modify(env, ifindex, dir, prog_id, priority, ret, em);
	err = hook_init(&h, env, kind, dir, ifindex, em);
	if (err)
		return err;
	return disp_modify(&h, prog_id, priority, proceed_on, ret, em);
}

int hook_members(struct hook_env *env, enum chain_kind kind, uint32_t ifindex,
		 enum chain_dir dir, struct hook_member_info *ret, size_t max,
		 size_t *ret_n)
{
	struct hook h;
	int err;

	if (kind == CHAIN_TCX)
		return tcx_members(env, ifindex, dir, ret, max, ret_n);
	err = hook_init(&h, env, kind, dir, ifindex, NULL);
	if (err)
		return err;
	return disp_members(&h, ret, max, ret_n);
}

int hook_member(struct hook_env *env, enum chain_kind kind, uint32_t ifindex,
		enum chain_dir dir, uint32_t prog_id, struct hook_member_info *ret)
{
	struct hook_member_info all[CHAIN_TCX_MAX_PROGS];
	size_t n = 0;
	int err;

	err = hook_members(env, kind, ifindex, dir, all, CHAIN_TCX_MAX_PROGS, &n);
	if (err)
		return err;
	return hook_member_find(all, n < CHAIN_TCX_MAX_PROGS ? n : CHAIN_TCX_MAX_PROGS, prog_id,
				ret);
}

int hook_member_find(const struct hook_member_info *mi, size_t n, uint32_t prog_id,
		     struct hook_member_info *ret)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (mi[i].prog_id != prog_id)
			continue;
		*ret = mi[i];
		return 0;
	}
	return -ENOENT;
}

int hook_reconcile(struct hook_env *env, struct errmsg *em)
{
	int n = 0, r, d;

	r = disp_reconcile(env, &xdp_hook_ops, env->xdp_root, CHAIN_INGRESS);
	if (r > 0)
		n += r;
	for (d = 0; d < 2; d++) {
		r = disp_reconcile(env, &tc_hook_ops, env->tc_root[d], d);
		if (r > 0)
			n += r;
		r = tcx_reconcile(env, d);
		if (r > 0)
			n += r;
	}
	(void)em;
	return n;
}
