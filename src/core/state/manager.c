/* SPDX-License-Identifier: Apache-2.0 */
/* manager.c - the program manager: check a load plan, load/unload, records on disk,
 * bpfd's view of its programs.  Plain C in and out (manager.h); restart recovery and
 * the pending-load markers are in recovery.c, with the crash-consistency contract. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bpf/hook.h"
#include "bpf/obj.h"
#include "bpf/prog.h"
#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/base/open_as.h"
#include "core/base/event.h"
#include "core/image/object.h"
#include "core/state/manager.h"
#include "core/state/mrec.h"
#include "core/state/record.h"
#include "core/state/recovery.h"
#include "core/state/store.h"

#define OPEN_AS_MS	10000	/* opening a file as the caller (a slow NFS server ...) */

/* A checked load plan and what follows from it, for the kernel side. */
struct load_job {
	const struct load_plan *plan;
	enum obj_kind kind;
	bool chain;
	struct prog_attach pa;	/* not chain: strings point into plan */
	struct hook_req cr;	/* chain: iface points into plan */
	const char *kind_str;
	struct mrec *owner;
};

/* hook_opts.xdp_mode: the XDP mode bpfd.toml gives iface, in the hooks' terms. */
static enum hook_xdp_mode hook_xdp_mode_of(const char *iface, void *cfg)
{
	switch (config_xdp_mode(cfg, iface)) {
	case XDP_MODE_SKB:
		return HOOK_XDP_SKB;
	case XDP_MODE_DRV:
		return HOOK_XDP_DRV;
	case XDP_MODE_HW:
		return HOOK_XDP_HW;
	case XDP_MODE_DEFAULT:
		break;
	}
	return HOOK_XDP_DEFAULT;
}

/* The bpffs bpfd pins in, mounted (if it is not) with its maps directory. */
static int mount_fs(struct mgr *m, struct errmsg *em)
{
	int err;

	err = fs_bpffs_mount(m->cfg->bpffs, em);
	if (err)
		return err;
	if (mkdir(m->maps_dir, 0700) && errno != EEXIST)
		return errmsg_set(em, -errno, "cannot create %s: %s", m->maps_dir,
				  strerror(errno));
	return 0;
}

/*
 * Someone unmounted bpfd's bpffs under it: the programs only a pin held are gone
 * with it (their records go at the next start).  Mount it again before the next pin.
 */
static int check_fs(struct mgr *m, struct errmsg *em)
{
	if (fs_is_bpffs(m->cfg->bpffs))
		return 0;
	log_warn("the bpffs at %s was unmounted under bpfd: programs only pinned there "
		 "are gone; mounting it again", m->cfg->bpffs);
	return mount_fs(m, em);
}

int mgr_new(const struct bpfd_config *cfg, struct mgr **ret, struct errmsg *em)
{
	struct hook_opts ho = { .bpffs = cfg->bpffs, .xdp_bpffs = cfg->xdp_bpffs,
				.xdp_mode = hook_xdp_mode_of, .xdp_mode_arg = (void *)cfg };
	char dir[PATH_MAX];
	struct mgr *m;
	int err;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = cfg;
	pthread_mutex_init(&m->lock, NULL);
	snprintf(m->maps_dir, sizeof(m->maps_dir), "%s/maps", cfg->bpffs);
	err = mount_fs(m, em);
	if (err)
		goto out;
	if (snprintf(dir, sizeof(dir), "%s/programs", cfg->rundir) >= (int)sizeof(dir)) {
		err = errmsg_set(em, -ENAMETOOLONG, "run directory path is too long");
		goto out;
	}
	err = store_open(dir, &m->st, em);
	if (err)
		goto out;
	err = hook_env_new(&ho, &m->chains, em);
	if (err)
		goto out;
	err = recovery_restore(m, em);
	if (err)
		goto out;
	log_info("program manager: %zu program%s restored from %s", m->n, m->n == 1 ? "" : "s", dir);
out:
	if (err) {
		mgr_free(m);
		return err;
	}
	*ret = m;
	return 0;
}

void mgr_free(struct mgr *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		free(m->recs[i].pb);
	free(m->recs);
	free(m->idx);
	free(m->view_rec);
	free(m->change_rec);
	free(m->change_view);
	free(m->seen);
	hook_env_free(m->chains);
	store_close(m->st);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* --- checking a load plan: every check of meaning, once --- */

static int check_chain(const struct attach_spec *a, struct load_job *j, struct errmsg *em)
{
	int err;

	j->chain = true;
	j->cr.kind = a->kind == OBJ_KIND_XDP ? CHAIN_XDP :
		     a->kind == OBJ_KIND_TC ? CHAIN_TC : CHAIN_TCX;
	if (!a->iface[0])
		return errmsg_set(em, -EINVAL, "%s attach needs an interface name",
				  obj_kind_str(a->kind));
	if (a->priority < 0)
		return errmsg_set(em, -EINVAL,
				  "priority %d is negative: give a priority of 0 or more (lower runs first)",
				  a->priority);
	j->cr.iface = a->iface;
	j->cr.priority = a->priority;
	if (a->kind != OBJ_KIND_XDP && chain_dir_parse(a->direction, &j->cr.dir))
		return errmsg_set(em, -EINVAL,
				  "direction '%s' is neither ingress nor egress", a->direction);
	if (a->kind != OBJ_KIND_TCX) {
		err = chain_proceed_on_encode(j->cr.kind, a->proceed_on, a->n_proceed_on,
					      &j->cr.proceed_on, em);
		if (err)
			return err;
		j->cr.proceed_on_set = a->n_proceed_on > 0;
	}
	return 0;
}

/* What kprobes and uprobes refuse alike; kind is "kprobe" or "uprobe" (its
 * return probe is then "kretprobe" or "uretprobe"). */
static int probe_check(const char *kind, const struct attach_spec *a, bool retprobe,
		       struct errmsg *em)
{
	if (a->has_namespace && a->ns[0])
		return errmsg_set(em, -EINVAL,
				  "%s namespaces are not supported: leave the namespace out", kind);
	if (retprobe && a->offset)
		return errmsg_set(em, -EINVAL,
				  "an offset is not allowed with a %cretprobe (retprobe): it fires on the function's return",
				  kind[0]);
	return 0;
}

static int check_attach(const struct load_plan *p, struct load_job *j, struct errmsg *em)
{
	const struct attach_spec *a = &p->spec.attach;
	bool ret = a->kind == OBJ_KIND_KRETPROBE || a->kind == OBJ_KIND_URETPROBE;
	int err;

	if (!p->has_attach)
		return errmsg_set(em, -EINVAL,
				  "the request has no attach info: say where to attach (xdp, tc, tcx, tracepoint, kprobe, uprobe, fentry, fexit)");
	j->kind = a->kind;
	j->pa.pid = -1;
	switch (a->kind) {
	case OBJ_KIND_TRACEPOINT:
		j->pa.tracepoint = a->tracepoint;
		break;
	case OBJ_KIND_KPROBE:
	case OBJ_KIND_KRETPROBE:
		err = probe_check("kprobe", a, ret, em);
		if (err)
			return err;
		j->pa.fn_name = a->fn_name;
		j->pa.offset = a->offset;
		break;
	case OBJ_KIND_UPROBE:
	case OBJ_KIND_URETPROBE:
		err = probe_check("uprobe", a, ret, em);
		if (err)
			return err;
		if (a->has_pid && a->pid <= 0)
			return errmsg_set(em, -EINVAL, "pid %d is not a process id", a->pid);
		j->pa.fn_name = a->has_fn_name ? a->fn_name : NULL;
		j->pa.offset = a->offset;
		j->pa.target = a->target;
		j->pa.pid = a->has_pid ? a->pid : -1;
		break;
	case OBJ_KIND_FENTRY:
	case OBJ_KIND_FEXIT:
		j->pa.fn_name = a->fn_name;
		break;
	case OBJ_KIND_XDP:
	case OBJ_KIND_TC:
	case OBJ_KIND_TCX:
		return check_chain(a, j, em);
	default:
		return errmsg_set(em, -EINVAL,
				  "the attach info names no kind: say where to attach (xdp, tc, tcx, tracepoint, kprobe, uprobe, fentry, fexit)");
	}
	j->pa.kind = j->kind;
	return 0;
}

/* The credentials of the plan's caller (as_caller), for open_as(). */
static struct open_cred plan_cred(const struct load_plan *p)
{
	return (struct open_cred){
		.uid = p->uid, .gid = p->gid, .groups = p->groups,
		.n_groups = p->n_groups < PLAN_GROUPS_MAX ? p->n_groups : PLAN_GROUPS_MAX,
	};
}

/* A uprobe's target file, for a local caller other than root: it may probe only a
 * file it may read (and learns nothing about the others).  Library names ("libc")
 * are looked up in the system's library directories, which everyone may read. */
static int check_target_readable(const struct load_plan *p, const struct load_job *j,
				 struct errmsg *em)
{
	const char *t = p->spec.attach.target;
	struct open_cred cr = plan_cred(p);
	int fd;

	if (!p->as_caller || (j->kind != OBJ_KIND_UPROBE && j->kind != OBJ_KIND_URETPROBE) ||
	    !strchr(t, '/'))
		return 0;
	fd = open_as(&cr, t, OPEN_AS_MS);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (fd == -EACCES || fd == -EPERM)
		return errmsg_set(em, -EACCES, "%s may not read '%s'",
				  p->spec.loaded_by[0] ? p->spec.loaded_by : "the caller", t);
	return errmsg_set(em, fd, "uprobe target '%s': %s", t, strerror(-fd));
}

/* The one check of a load plan: the errors name the problem and the fix. */
static int check_plan(struct mgr *m, const struct load_plan *p, struct load_job *j,
		      struct errmsg *em)
{
	const struct prog_spec *s = &p->spec;
	int err;

	memset(j, 0, sizeof(*j));
	j->plan = p;
	if (p->bytecode == PLAN_BYTECODE_NONE)
		return errmsg_set(em, -EINVAL, "the request names no bytecode: give a file path or an image");
	if (p->bytecode == PLAN_BYTECODE_IMAGE && !s->path[0])
		return errmsg_set(em, -EOPNOTSUPP,
				  "the bytecode image was not pulled and opened for this load: bytecode images need the image store ([runtime] image_dir)");
	if (!s->name[0])
		return errmsg_set(em, -EINVAL,
				  "no function name given: name the BPF program function to load");
	err = check_attach(p, j, em);
	if (err)
		return err;
	err = check_target_readable(p, j, em);
	if (err)
		return err;
	j->kind_str = obj_kind_str(j->kind);
	if (p->bytecode == PLAN_BYTECODE_IMAGE && !image_type_allows(p->image_type, j->kind_str))
		return errmsg_set(em, -EINVAL,
				  "the image's labels give function %s the program type %s, but it is to be loaded as %s: load it as %s, or name another function (-n)",
				  s->name, p->image_type, j->kind_str, p->image_type);
	if (s->has_map_owner) {
		j->owner = mrec_find(m, s->map_owner_id);
		if (!j->owner)
			return errmsg_set(em, -ENOENT,
					  "map owner %u is not a program bpfd manages: give the id of a loaded program whose maps should be shared ('bpfctl list')",
					  s->map_owner_id);
		if (j->owner->owner)
			return errmsg_set(em, -EINVAL,
					  "program %u shares the maps of program %u: pass --map-owner-id %u",
					  s->map_owner_id, j->owner->owner, j->owner->owner);
		if (!j->owner->map_dir[0])
			return errmsg_set(em, -EINVAL,
					  "map owner %u has no maps to share", s->map_owner_id);
	}
	return 0;
}

/* --- load --- */

/* The view a load starts from: the plan as given, with the default proceed-on
 * written out (an empty one means the default: record what applies). */
static void view_from_plan(const struct load_job *j, struct prog_view *v)
{
	struct attach_spec *a = &v->spec.attach;

	memset(v, 0, sizeof(*v));
	v->spec = j->plan->spec;
	snprintf(v->attach_mode, sizeof(v->attach_mode), "%s", j->chain ? "" : "link");
	/* "in" and "eg" are accepted: record the direction's name */
	if (j->kind == OBJ_KIND_TC || j->kind == OBJ_KIND_TCX)
		snprintf(a->direction, sizeof(a->direction), "%s", chain_dir_str(j->cr.dir));
	if ((j->kind == OBJ_KIND_XDP || j->kind == OBJ_KIND_TC) && !a->n_proceed_on) {
		a->n_proceed_on = chain_proceed_on_decode(j->cr.kind, j->cr.proceed_on,
							  a->proceed_on, PLAN_PROCEED_ON_MAX);
		if (a->n_proceed_on > PLAN_PROCEED_ON_MAX)
			a->n_proceed_on = PLAN_PROCEED_ON_MAX;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* map_used_by and the live position of dispatcher members. */
static void view_complete(struct mgr *m, struct mrec *mr, struct prog_view *v)
{
	uint32_t owner = mr->owner ? mr->owner : mr->id, *ids = v->map_used_by;
	const size_t max = VIEW_USED_BY_MAX;
	struct hook_member_info mi;
	size_t i, n = 0;
	int err;

	v->id = mr->id;
	v->managed_type = mr->managed_type;
	v->n_map_used_by = 0;
	if (mr->map_dir[0]) {
		/* the owner first (while loaded), then the others by id; a look
		 * at every program only when the maps are shared */
		for (i = 0; mr->maps_shared && i < m->n && n < max; i++)
			if (m->recs[i].id != owner && !strcmp(m->recs[i].map_dir, mr->map_dir))
				ids[n++] = m->recs[i].id;
		qsort(ids, n, sizeof(ids[0]), cmp_u32);
		if (mrec_find(m, owner)) {
			if (n == max)
				n--;
			memmove(ids + 1, ids, n * sizeof(ids[0]));
			ids[0] = owner;
			n++;
		}
		v->n_map_used_by = n;
	}
	if (!mr->chain)
		return;
	/* re-checked at every look: not every change comes with a notification */
	err = follow_check(m, mr, FOLLOW_LOOK, NULL, &mi);
	if (mr->vanished[0]) {
		snprintf(v->attach_mode, sizeof(v->attach_mode), "vanished");
		snprintf(v->vanished, sizeof(v->vanished), "%s", mr->vanished);
		v->spec.attach.position = -1;
		return;
	}
	if (err)
		return;
	snprintf(v->attach_mode, sizeof(v->attach_mode), "%s", hook_mode_str(mi.mode));
	v->spec.attach.position = mi.position;
	if (mi.iface[0])
		snprintf(v->spec.attach.iface, sizeof(v->spec.attach.iface), "%s", mi.iface);
}

/* Open the plan's object: as the daemon, or, for a local caller other than root,
 * with the caller's credentials, so that it loads only files it may read and
 * learns nothing about the others (not even whether they exist). */
static int open_obj(const struct load_plan *p, struct obj **ret, struct errmsg *em)
{
	const struct prog_spec *s = &p->spec;
	struct open_cred cr = plan_cred(p);
	const char *who = s->loaded_by[0] ? s->loaded_by : "the caller";
	int fd, err;

	if (!p->as_caller)
		return obj_open_file(s->path, s->name, ret, em);
	if (!s->path[0])
		return errmsg_set(em, -EINVAL, "no object file path given");
	fd = open_as(&cr, s->path, OPEN_AS_MS);
	if (fd == -EACCES || fd == -EPERM)
		return errmsg_set(em, -EACCES, "%s may not read '%s'", who, s->path);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return errmsg_set(em, fd, "cannot open object file '%s': %s%s", s->path,
				  strerror(-fd),
				  s->path[0] != '/' ? " (the daemon resolves relative paths from its own working directory; give an absolute path)" : "");
	if (fd < 0)
		return errmsg_set(em, fd, "cannot open object file '%s' as %s: %s", s->path, who,
				  strerror(-fd));
	err = obj_open_fd(fd, s->path, s->name, ret, em);
	close(fd);
	return err;
}

/* Kernel side of a load: open, globals, shared maps, load + attach + pins.  On
 * success the program is attached and pinned (r->id) and the record says where. */
static int load_kernel(struct mgr *m, const struct load_job *j, struct obj **ret_obj,
		       bpfd_state_ProgramRecord *r, char *pending, size_t psize,
		       struct errmsg *em)
{
	const struct prog_spec *s = &j->plan->spec;
	struct hook_result cres = { 0 };
	struct prog_loaded *pl = NULL;
	struct hook_req cr = j->cr;
	struct prog_ident pi;
	struct obj *o = NULL;
	size_t i;
	int err;

	err = open_obj(j->plan, &o, em);
	if (err)
		goto out;
	*ret_obj = o;
	err = prog_check_kind(o, j->kind, em);
	if (err)
		goto out;
	for (i = 0; i < s->n_globals; i++) {
		err = obj_set_global(o, s->globals[i].key, s->globals[i].value,
				     s->globals[i].size, em);
		if (err)
			goto out;
	}
	if (j->owner) {
		err = obj_reuse_maps(o, j->owner->map_dir, em);
		if (err) {
			errmsg_prefix(em, "cannot share the maps of program %u", j->owner->id);
			goto out;
		}
	}
	if (!j->chain) {
		pl = calloc(1, sizeof(*pl));
		if (!pl) {
			err = -ENOMEM;
			goto out;
		}
		err = prog_load_attach(o, &j->pa, m->cfg->bpffs, pl, em);
		if (err)
			goto out;
		pi = pl->ident;
		if (mrec_copy_str(r->prog_pin, sizeof(r->prog_pin), pl->prog_pin) ||
		    mrec_copy_str(r->link_pin, sizeof(r->link_pin), pl->link_pin) ||
		    mrec_copy_str(r->target_path, sizeof(r->target_path), pl->target_path)) {
			/* cannot happen: bpffs paths are bounded by the config */
			prog_unpin(pl->link_pin);
			prog_unpin(pl->prog_pin);
			err = errmsg_set(em, -ENAMETOOLONG, "pin path %s is too long", pl->link_pin);
			goto out;
		}
	} else {
		/* the one lookup of the interface for this request */
		err = hook_ifindex(cr.iface, &cr.ifindex, em);
		if (err)
			goto out;
		r->ifindex = cr.ifindex;
		err = recovery_mark_pending(m, cr.kind, cr.dir, cr.ifindex, s->name, pending,
					    psize, em);
		if (err)
			goto out;
		err = hook_attach(m->chains, o, &cr, &cres, em);
		if (err)
			goto out;
		err = prog_ident_id(cres.prog_id, &pi);
		if (err) {
			errmsg_set(em, err, "program %u vanished right after it was attached",
				   cres.prog_id);
			hook_detach(m->chains, cr.kind, cr.ifindex, cr.dir, cres.prog_id, NULL);
			goto out;
		}
		r->chain_dir = cr.dir;
		snprintf(r->chain_mode, sizeof(r->chain_mode), "%s", hook_mode_str(cres.mode));
		snprintf(r->info.attach_mode, sizeof(r->info.attach_mode), "%s",
			 hook_mode_str(cres.mode));
	}
	r->id = pi.id;
	r->kernel_type = pi.type;
	snprintf(r->tag, sizeof(r->tag), "%s", pi.tag);
	r->load_time = pi.load_time;
out:
	free(pl);
	return err;
}

/* Undo load_kernel() after it succeeded (the record could not be written). */
static void unload_kernel(struct mgr *m, const bpfd_state_ProgramRecord *r,
			  const struct load_job *j)
{
	if (j->chain)
		hook_detach(m->chains, j->cr.kind, r->ifindex, j->cr.dir, r->id, NULL);
	mrec_unpin(r);
}

static int pin_maps(struct mgr *m, struct obj *o, const struct load_job *j,
		    bpfd_state_ProgramRecord *r, struct errmsg *em)
{
	char dir[PATH_MAX];
	int err;

	if (j->owner)
		return mrec_copy_str(r->info.map_pin_path, sizeof(r->info.map_pin_path),
				j->owner->map_dir);
	if (!obj_map_count(o))
		return 0;
	if (snprintf(dir, sizeof(dir), "%s/%u", m->maps_dir, r->id) >=
	    (int)sizeof(r->info.map_pin_path))
		return errmsg_set(em, -ENAMETOOLONG,
				  "map pin directory %s/%u is too long: use a shorter --rundir",
				  m->maps_dir, r->id);
	err = obj_pin_maps(o, dir, em);
	if (err)
		return err;
	mrec_copy_str(r->info.map_pin_path, sizeof(r->info.map_pin_path), dir);
	mrec_copy_str(r->map_pin_dir, sizeof(r->map_pin_dir), dir);
	return 0;
}

static int load_locked(struct mgr *m, const struct load_plan *plan,
		       bpfd_state_ProgramRecord *r, struct prog_view *v, struct errmsg *em)
{
	char pending[PATH_MAX] = "";
	struct load_job j;
	struct obj *o = NULL;
	uint8_t *pb = NULL;
	struct mrec mr;
	size_t len = 0;
	bool loaded = false;
	int err;

	err = check_plan(m, plan, &j, em);
	if (!err)
		err = check_fs(m, em);
	if (err)
		goto out;
	memset(r, 0, sizeof(*r));
	r->format = STORE_FORMAT;
	r->has_info = true;
	view_from_plan(&j, v);
	record_info_to_pb(v, &r->info);
	snprintf(r->kind, sizeof(r->kind), "%s", j.kind_str);
	r->managed_type = mrec_managed_type(j.kind);
	if (plan->has_uuid)
		snprintf(r->uuid, sizeof(r->uuid), "%s", plan->uuid);
	snprintf(r->source_entry, sizeof(r->source_entry), "%s", plan->entry);
	err = load_kernel(m, &j, &o, r, pending, sizeof(pending), em);
	if (err)
		goto out;
	loaded = true;
	err = pin_maps(m, o, &j, r, em);
	if (err)
		goto out;
	mrec_test_pause("BPFD_TEST_PAUSE_LOAD", r->id, "loaded and pinned");
	err = store_encode(r, &pb, &len);
	if (err) {
		errmsg_set(em, err, "cannot encode the record of program %u", r->id);
		goto out;
	}
	err = store_put(m->st, r, em);
	if (err)
		goto out;
	err = mrec_from_record(&mr, r, pb, len);
	if (!err)
		err = mrec_add(m, &mr);
	if (err) {
		free(mr.pb);
		store_del(m->st, r->id);
		goto out;
	}
	log_info("loaded %s program %u (%s from %s)%s%s", j.kind_str, r->id, plan->spec.name,
		 plan->spec.from_image ? plan->spec.image_url : plan->spec.path,
		 plan->spec.loaded_by[0] ? " for " : "", plan->spec.loaded_by);
	event_emitf(EVENT_LOAD, r->id, mr.attach, "loaded %s program %u (%s from %.150s)",
		    j.kind_str, r->id, plan->spec.name,
		    plan->spec.from_image ? plan->spec.image_url : plan->spec.path);
	if (mr.chain)
		follow_hook(m, mr.ck, mr.ifindex, mr.cdir, 0);
out:
	if (err && loaded) {
		if (r->map_pin_dir[0])
			fs_rmtree(r->map_pin_dir);
		unload_kernel(m, r, &j);
	}
	if (pending[0])
		unlink(pending);
	obj_close(o);
	free(pb);
	return err;
}

int mgr_change_bufs(struct mgr *m, bpfd_state_ProgramRecord **ret_rec,
		    struct prog_view **ret_view)
{
	if (!m->change_rec)
		m->change_rec = malloc(sizeof(*m->change_rec));
	if (!m->change_view)
		m->change_view = malloc(sizeof(*m->change_view));
	*ret_rec = m->change_rec;
	*ret_view = m->change_view;
	return m->change_rec && m->change_view ? 0 : -ENOMEM;
}

int mgr_load(struct mgr *m, const struct load_plan *plan, struct prog_view *ret,
	     struct errmsg *em)
{
	bpfd_state_ProgramRecord *r;
	struct prog_view *v;
	struct mrec *mr;
	int err;

	pthread_mutex_lock(&m->lock);
	err = mgr_change_bufs(m, &r, &v);
	if (!err)
		err = load_locked(m, plan, r, v, em);
	if (!err && ret) {
		record_info_from_pb(&r->info, ret);
		ret->id = r->id;
		ret->managed_type = r->managed_type;
		snprintf(ret->entry, sizeof(ret->entry), "%s", r->source_entry);
		mr = mrec_find(m, r->id);
		if (mr)
			view_complete(m, mr, ret);
	}
	pthread_mutex_unlock(&m->lock);
	return err;
}

/* --- unload --- */

static int unload_locked(struct mgr *m, uint32_t id, struct errmsg *em)
{
	struct mrec *r = mrec_find(m, id);
	char attach[sizeof(r->attach)];
	struct hook_seen hook = { 0 };
	bool vanished, dead;
	int err;

	if (!r)
		return mrec_not_found(id, em);
	/* detach first, then the record: a daemon killed in between leaves a record of
	 * a detached program, which the next start drops (recovery), never an attached
	 * program without a record */
	if (r->chain) {
		err = hook_detach(m->chains, r->ck, r->ifindex, r->cdir, id, em);
		if (err && err != -ENOENT)
			log_warn("detaching program %u: %s", id, em && em->msg[0] ? em->msg : strerror(-err));
		if (em)
			em->msg[0] = '\0';
	}
	if (r->link_pin[0])
		prog_unpin(r->link_pin);
	mrec_test_pause("BPFD_TEST_PAUSE_UNLOAD", id, "detached");
	/* a damaged entry's file was moved aside, or stays where it is for a person
	 * to read when it could not be moved: never deleted */
	err = r->pb ? store_del(m->st, id) : 0;
	if (err)
		return errmsg_set(em, err, "cannot remove the record of program %u: %s", id,
				  strerror(-err));
	snprintf(attach, sizeof(attach), "%s", r->attach);
	hook = (struct hook_seen){ .ck = r->ck, .ifindex = r->ifindex, .dir = r->cdir };
	vanished = !r->chain || r->vanished[0];
	dead = r->chain && r->vanished[0];
	mrec_release(m, r);
	log_info("unloaded program %u", id);
	event_emitf(EVENT_UNLOAD, id, attach, "unloaded program %u", id);
	if (!vanished)
		follow_hook(m, hook.ck, hook.ifindex, hook.dir, id);
	else if (dead)
		follow_unloaded(m, hook.ck, hook.ifindex, hook.dir);
	follow_prune(m);
	return 0;
}

int mgr_unload(struct mgr *m, uint32_t id, struct errmsg *em)
{
	int err;

	pthread_mutex_lock(&m->lock);
	err = unload_locked(m, id, em);
	pthread_mutex_unlock(&m->lock);
	return err;
}

int mgr_unload_all(struct mgr *m)
{
	struct errmsg em = { "" };
	size_t i, done = 0, failed = 0;
	int pass, err;
	uint32_t id;

	pthread_mutex_lock(&m->lock);
	/* pass 0: map users; pass 1: map owners and the others.  unload_locked() moves the last
	 * record into the slot it frees, so i stays put after a success. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < m->n;) {
			if ((pass == 0) != (m->recs[i].owner != 0)) {
				i++;
				continue;
			}
			id = m->recs[i].id;
			em.msg[0] = '\0';
			err = unload_locked(m, id, &em);
			if (!err) {
				done++;
				continue;
			}
			log_err("Failed to unload program %u at exit: %s", id,
				em.msg[0] ? em.msg : strerror(-err));
			failed++;
			i++;
		}
	}
	pthread_mutex_unlock(&m->lock);
	log_info("Unloaded %zu program%s at exit%s", done, done == 1 ? "" : "s",
		 failed ? ", some failed (see above)" : "");
	return failed;
}

/* A damaged entry as List/Get show it: what the kernel and the hook tell. */
static void damaged_view(struct mgr *m, const struct mrec *mr, struct prog_view *v)
{
	struct attach_spec *a = &v->spec.attach;
	struct hook_member_info mi;
	size_t n;

	memset(v, 0, sizeof(*v));
	snprintf(v->spec.name, sizeof(v->spec.name), "%s", mr->name);
	snprintf(v->record_damaged, sizeof(v->record_damaged), "%s", mr->damaged);
	mrec_copy_str(v->map_pin_path, sizeof(v->map_pin_path), mr->map_dir);
	snprintf(v->attach_mode, sizeof(v->attach_mode), "%s", mr->chain ? "" : "link");
	if (!mr->chain)
		return;
	a->kind = mr->kind;
	if (mr->kind != OBJ_KIND_XDP)
		snprintf(a->direction, sizeof(a->direction), "%s", chain_dir_str(mr->cdir));
	if (hook_member(m->chains, mr->ck, mr->ifindex, mr->cdir, mr->id, &mi))
		return;
	snprintf(a->iface, sizeof(a->iface), "%s", mi.iface);
	if (!mi.have_config)
		return;
	a->priority = mi.priority;
	if (mr->kind == OBJ_KIND_TCX)
		return;
	n = chain_proceed_on_decode(mr->ck, mi.proceed_on, a->proceed_on, PLAN_PROCEED_ON_MAX);
	a->n_proceed_on = n > PLAN_PROCEED_ON_MAX ? PLAN_PROCEED_ON_MAX : n;
}

int mgr_prog_view(struct mgr *m, uint32_t id, struct prog_view *ret)
{
	bpfd_state_ProgramRecord *r;
	struct mrec *mr;
	int err = -ENOENT;

	pthread_mutex_lock(&m->lock);
	mr = mrec_find(m, id);
	if (!mr)
		goto out;
	if (!mr->pb) {
		damaged_view(m, mr, ret);
		view_complete(m, mr, ret);
		err = 0;
		goto out;
	}
	/* kept (under m->lock): a List views every program, and a record is
	 * large enough for a mapping of its own, which each free unmapped */
	if (!m->view_rec && !(m->view_rec = malloc(sizeof(*m->view_rec)))) {
		err = -ENOMEM;
		goto out;
	}
	r = m->view_rec;
	err = store_decode(mr->pb, mr->pb_len, r);
	if (err)
		goto out;
	record_info_from_pb(&r->info, ret);
	snprintf(ret->entry, sizeof(ret->entry), "%s", r->source_entry);
	view_complete(m, mr, ret);
out:
	pthread_mutex_unlock(&m->lock);
	return err;
}
