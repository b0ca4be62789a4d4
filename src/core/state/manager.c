/* SPDX-License-Identifier: Apache-2.0 */
/* manager.c - the program manager: load/unload, records on disk, restart reconcile.
 *
 * Source of truth: the kernel plus bpfd's pins (<bpffs>/prog_<id>, prog_<id>_link,
 * maps/<id>/) and one record per program in <rundir>/programs/<id>.  A load pins
 * first and writes the record last; an unload removes the record first and the pins
 * after.  So after a crash at any point, mgr_new() finds either a record with its
 * program (kept), a record without program (dropped) or pins without record
 * (removed, which unloads the program): nothing is left half-done. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
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
#include "core/state/manager.h"
#include "core/rpc.h"
#include "core/state/store.h"

/* Program types reported on the wire for managed kinds (v0.3.1 convention). */
#define TYPE_KPROBE	2
#define TYPE_SCHED_CLS	3
#define TYPE_TRACEPOINT	5
#define TYPE_XDP	6
#define TYPE_TRACING	26

#define PENDING_PREFIX	".pending-"

/* What bpfd keeps in memory per program; the full record stays encoded. */
struct mrec {
	uint32_t id;
	enum obj_kind kind;
	bool chain;		/* xdp, tc, tcx: attached by the chain code */
	enum chain_kind ck;
	enum chain_dir cdir;
	uint32_t ifindex;
	uint32_t owner;		/* map owner id when sharing, else 0 */
	uint32_t managed_type;
	char map_dir[320];	/* the map pin directory this program uses, "" none */
	char prog_pin[320];
	char link_pin[320];
	uint8_t *pb;		/* encoded bpfd.state.ProgramRecord */
	size_t pb_len;
};

struct mgr {
	const struct bpfd_config *cfg;
	struct store *st;
	struct hook_env *chains;
	char maps_dir[PATH_MAX];
	struct mrec *recs;
	size_t n, cap;
	pthread_mutex_t lock;
};

/* Everything needed to act on one load request, in plain C. */
struct load_plan {
	enum obj_kind kind;
	bool chain;
	struct prog_attach pa;
	struct hook_req cr;
	const char *kind_str;
	const char *path;
	struct mrec *owner;
};

/* Copy src into dst[size]: 0, or -ENAMETOOLONG (dst then holds ""). */
static int copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size) {
		dst[0] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

static struct mrec *rec_find(struct mgr *m, uint32_t id)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->recs[i].id == id)
			return &m->recs[i];
	return NULL;
}

static void rec_drop(struct mgr *m, struct mrec *r)
{
	free(r->pb);
	*r = m->recs[--m->n];
}

static bool map_dir_in_use(struct mgr *m, const char *dir)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->recs[i].map_dir[0] && !strcmp(m->recs[i].map_dir, dir))
			return true;
	return false;
}

static enum obj_kind kind_parse(const char *s)
{
	static const enum obj_kind all[] = {
		OBJ_KIND_XDP, OBJ_KIND_TC, OBJ_KIND_TCX, OBJ_KIND_TRACEPOINT, OBJ_KIND_KPROBE,
		OBJ_KIND_KRETPROBE, OBJ_KIND_UPROBE, OBJ_KIND_URETPROBE, OBJ_KIND_FENTRY,
		OBJ_KIND_FEXIT,
	};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(obj_kind_str(all[i]), s))
			return all[i];
	return OBJ_KIND_UNKNOWN;
}

static uint32_t managed_type(enum obj_kind k)
{
	switch (k) {
	case OBJ_KIND_XDP:
		return TYPE_XDP;
	case OBJ_KIND_TC:
	case OBJ_KIND_TCX:
		return TYPE_SCHED_CLS;
	case OBJ_KIND_TRACEPOINT:
		return TYPE_TRACEPOINT;
	case OBJ_KIND_FENTRY:
	case OBJ_KIND_FEXIT:
		return TYPE_TRACING;
	default:
		return TYPE_KPROBE;
	}
}

/* Fill the in-memory part from a decoded record. */
static int mrec_from_record(struct mrec *mr, const bpfd_state_ProgramRecord *r,
			    const uint8_t *pb, size_t len)
{
	memset(mr, 0, sizeof(*mr));
	mr->id = r->id;
	mr->kind = kind_parse(r->kind);
	mr->chain = mr->kind == OBJ_KIND_XDP || mr->kind == OBJ_KIND_TC ||
		    mr->kind == OBJ_KIND_TCX;
	mr->ck = mr->kind == OBJ_KIND_XDP ? CHAIN_XDP :
		 mr->kind == OBJ_KIND_TC ? CHAIN_TC : CHAIN_TCX;
	mr->cdir = r->chain_dir ? CHAIN_EGRESS : CHAIN_INGRESS;
	mr->ifindex = r->ifindex;
	mr->owner = r->info.has_map_owner_id ? r->info.map_owner_id : 0;
	mr->managed_type = r->managed_type;
	copy_str(mr->map_dir, sizeof(mr->map_dir), r->info.map_pin_path);
	copy_str(mr->prog_pin, sizeof(mr->prog_pin), r->prog_pin);
	copy_str(mr->link_pin, sizeof(mr->link_pin), r->link_pin);
	mr->pb = malloc(len ? len : 1);
	if (!mr->pb)
		return -ENOMEM;
	memcpy(mr->pb, pb, len);
	mr->pb_len = len;
	return 0;
}

static int rec_add(struct mgr *m, const struct mrec *mr)
{
	struct mrec *v;

	if (m->n == m->cap) {
		v = reallocarray(m->recs, m->cap ? m->cap * 2 : 16, sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->recs = v;
		m->cap = m->cap ? m->cap * 2 : 16;
	}
	m->recs[m->n++] = *mr;
	return 0;
}

/* --- start-up: rebuild state from records, reconcile with the kernel and pins --- */

static void unpin_record_pins(const bpfd_state_ProgramRecord *r)
{
	if (r->link_pin[0])
		prog_unpin(r->link_pin);
	if (r->prog_pin[0])
		prog_unpin(r->prog_pin);
}

struct load_ctx {
	struct mgr *m;
	bpfd_state_ProgramRecord *r;
	int err;
};

static int load_one(uint32_t id, const char *name, const uint8_t *buf, size_t len, void *ctx)
{
	struct load_ctx *c = ctx;
	struct mrec mr;
	int err;

	if (!buf) {
		if (name[0] == '.')
			return 0;	/* pending markers: handled separately */
		log_warn("removing %s/%s: not a program record", store_dir(c->m->st), name);
		store_remove_name(c->m->st, name);
		return 0;
	}
	if (store_decode(buf, len, c->r) || c->r->id != id) {
		log_warn("removing record %s/%s: it cannot be decoded", store_dir(c->m->st), name);
		store_remove_name(c->m->st, name);
		return 0;
	}
	if (!prog_alive(id, c->r->tag, c->r->load_time)) {
		log_warn("dropping the record of program %u (%s %s): the program is no longer in the kernel",
			 id, c->r->kind, c->r->info.name);
		unpin_record_pins(c->r);
		store_del(c->m->st, id);
		return 0;
	}
	err = mrec_from_record(&mr, c->r, buf, len);
	if (!err)
		err = rec_add(c->m, &mr);
	if (err) {
		free(mr.pb);
		c->err = err;
		return err;
	}
	log_debug("program %u (%s %s) restored from its record", id, c->r->kind, c->r->info.name);
	return 0;
}

/* prog_<id> or prog_<id>_link: the id, else 0. */
static uint32_t pin_id(const char *name, bool *ret_link)
{
	char again[40];
	unsigned int id;

	if (sscanf(name, "prog_%u", &id) != 1 || !id)
		return 0;
	snprintf(again, sizeof(again), "prog_%u", id);
	*ret_link = false;
	if (!strcmp(again, name))
		return id;
	snprintf(again, sizeof(again), "prog_%u_link", id);
	*ret_link = true;
	return strcmp(again, name) ? 0 : id;
}

/* Pins under <bpffs> and <bpffs>/maps that no record accounts for are removed. */
static void reconcile_pins(struct mgr *m)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct mrec *r;
	bool is_link;
	uint32_t id;
	DIR *d;

	d = opendir(m->cfg->bpffs);
	while (d && (de = readdir(d))) {
		id = pin_id(de->d_name, &is_link);
		if (!id)
			continue;
		snprintf(path, sizeof(path), "%s/%s", m->cfg->bpffs, de->d_name);
		r = rec_find(m, id);
		if (r && !strcmp(is_link ? r->link_pin : r->prog_pin, path))
			continue;
		log_warn("removing pin %s: bpfd has no record of program %u", path, id);
		prog_unpin(path);
	}
	if (d)
		closedir(d);
	d = opendir(m->maps_dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%.255s", m->maps_dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (map_dir_in_use(m, path))
			continue;
		log_warn("removing map pins %s: no program bpfd manages uses them", path);
		fs_rmtree(path);
	}
	if (d)
		closedir(d);
}

/* Pending markers of dispatcher-kind loads interrupted before their record was
 * written: a program on that hook with the marker's function name, loaded after the
 * marker and without a record, is bpfd's residue and is detached. */
struct pending {
	uint32_t ifindex;
	uint32_t ck, cdir;
	uint64_t since;		/* CLOCK_BOOTTIME ns when the marker was written */
	char func[128];
};

static void reconcile_pending_one(struct mgr *m, const struct pending *p)
{
	struct hook_member_info mi[64];
	struct prog_ident pi;
	size_t n = 0, i;

	if (!m->chains || hook_members(m->chains, p->ck, p->ifindex, p->cdir, mi,
				       sizeof(mi) / sizeof(mi[0]), &n))
		return;
	for (i = 0; i < n && i < sizeof(mi) / sizeof(mi[0]); i++) {
		if (rec_find(m, mi[i].prog_id) || strcmp(mi[i].name, p->func))
			continue;
		if (prog_ident_id(mi[i].prog_id, &pi) || pi.load_time < p->since)
			continue;
		log_warn("detaching program %u (%s) from %s ifindex %u: its load was interrupted before bpfd recorded it",
			 mi[i].prog_id, p->func, chain_kind_str(p->ck), p->ifindex);
		hook_detach(m->chains, p->ck, p->ifindex, p->cdir, mi[i].prog_id, NULL);
	}
}

static void reconcile_pending(struct mgr *m)
{
	char path[PATH_MAX];
	struct pending p;
	struct dirent *de;
	FILE *f;
	DIR *d;
	int ok;

	d = opendir(store_dir(m->st));
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, PENDING_PREFIX, strlen(PENDING_PREFIX)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", store_dir(m->st), de->d_name);
		f = fopen(path, "re");
		memset(&p, 0, sizeof(p));
		ok = f && fscanf(f, "%u %u %u %" SCNu64 " %127s", &p.ck, &p.cdir, &p.ifindex,
				 &p.since, p.func) == 5;
		if (f)
			fclose(f);
		if (ok)
			reconcile_pending_one(m, &p);
		unlink(path);
	}
	if (d)
		closedir(d);
}

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

int mgr_new(const struct bpfd_config *cfg, struct mgr **ret, struct errmsg *em)
{
	struct hook_opts ho = { .bpffs = cfg->bpffs, .xdp_bpffs = cfg->xdp_bpffs,
				.xdp_mode = hook_xdp_mode_of, .xdp_mode_arg = (void *)cfg };
	bpfd_state_ProgramRecord *r = NULL;
	char dir[PATH_MAX];
	struct load_ctx lc;
	struct mgr *m;
	int err;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = cfg;
	pthread_mutex_init(&m->lock, NULL);
	err = fs_bpffs_mount(cfg->bpffs, em);
	if (err)
		goto out;
	snprintf(m->maps_dir, sizeof(m->maps_dir), "%s/maps", cfg->bpffs);
	if (mkdir(m->maps_dir, 0700) && errno != EEXIST) {
		err = errmsg_set(em, -errno, "cannot create %s: %s", m->maps_dir, strerror(errno));
		goto out;
	}
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
	r = malloc(sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	lc = (struct load_ctx){ .m = m, .r = r };
	err = store_walk(m->st, load_one, &lc);
	if (err) {
		errmsg_set(em, err, "cannot read the program records in %s: %s", dir,
			   strerror(-err));
		goto out;
	}
	reconcile_pending(m);
	reconcile_pins(m);
	err = hook_reconcile(m->chains, NULL);
	if (err < 0)
		log_warn("cleaning dispatcher residue failed: %s", strerror(-err));
	else if (err > 0)
		log_info("removed %d dispatcher leftovers of interrupted changes", err);
	err = 0;
	log_info("program manager: %zu program%s restored from %s", m->n, m->n == 1 ? "" : "s", dir);
out:
	free(r);
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
	hook_env_free(m->chains);
	store_close(m->st);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* --- load --- */

static int plan_chain(const bpfd_v1_AttachInfo *ai, struct load_plan *p, struct errmsg *em)
{
	const int32_t *codes = NULL;
	const char *iface, *dir = NULL;
	size_t n = 0;
	int32_t prio;
	int err;

	switch (ai->which_info) {
	case bpfd_v1_AttachInfo_xdp_attach_info_tag:
		p->kind = OBJ_KIND_XDP;
		p->cr.kind = CHAIN_XDP;
		iface = ai->info.xdp_attach_info.iface;
		prio = ai->info.xdp_attach_info.priority;
		codes = ai->info.xdp_attach_info.proceed_on;
		n = ai->info.xdp_attach_info.proceed_on_count;
		break;
	case bpfd_v1_AttachInfo_tc_attach_info_tag:
		p->kind = OBJ_KIND_TC;
		p->cr.kind = CHAIN_TC;
		iface = ai->info.tc_attach_info.iface;
		prio = ai->info.tc_attach_info.priority;
		dir = ai->info.tc_attach_info.direction;
		codes = ai->info.tc_attach_info.proceed_on;
		n = ai->info.tc_attach_info.proceed_on_count;
		break;
	default:
		p->kind = OBJ_KIND_TCX;
		p->cr.kind = CHAIN_TCX;
		iface = ai->info.tcx_attach_info.iface;
		prio = ai->info.tcx_attach_info.priority;
		dir = ai->info.tcx_attach_info.direction;
		break;
	}
	p->chain = true;
	if (!iface[0])
		return errmsg_set(em, -EINVAL, "%s attach needs an interface name",
				  obj_kind_str(p->kind));
	if (prio < 0)
		return errmsg_set(em, -EINVAL,
				  "priority %d is negative: give a priority of 0 or more (lower runs first)",
				  prio);
	p->cr.iface = iface;
	p->cr.priority = prio;
	if (dir && chain_dir_parse(dir, &p->cr.dir))
		return errmsg_set(em, -EINVAL,
				  "direction '%s' is neither ingress nor egress", dir);
	if (p->kind != OBJ_KIND_TCX) {
		err = chain_proceed_on_encode(p->cr.kind, codes, n, &p->cr.proceed_on, em);
		if (err)
			return err;
	}
	return 0;
}

/* What kprobes and uprobes refuse alike; kind is "kprobe" or "uprobe" (its
 * return probe is then "kretprobe" or "uretprobe"). */
static int probe_check(const char *kind, const char *ns, bool retprobe, uint64_t offset,
		       struct errmsg *em)
{
	if (ns && ns[0])
		return errmsg_set(em, -EINVAL,
				  "%s namespaces are not supported: leave the namespace out", kind);
	if (retprobe && offset)
		return errmsg_set(em, -EINVAL,
				  "an offset is not allowed with a %cretprobe (retprobe): it fires on the function's return",
				  kind[0]);
	return 0;
}

static int plan_attach(const bpfd_v1_LoadRequest *req, struct load_plan *p, struct errmsg *em)
{
	const bpfd_v1_AttachInfo *ai = &req->attach;
	const bpfd_v1_KprobeAttachInfo *k;
	const bpfd_v1_UprobeAttachInfo *u;
	int err;

	if (!req->has_attach)
		return errmsg_set(em, -EINVAL,
				  "the request has no attach info: say where to attach (xdp, tc, tcx, tracepoint, kprobe, uprobe, fentry, fexit)");
	p->pa.pid = -1;
	switch (ai->which_info) {
	case bpfd_v1_AttachInfo_tracepoint_attach_info_tag:
		p->kind = OBJ_KIND_TRACEPOINT;
		p->pa.tracepoint = ai->info.tracepoint_attach_info.tracepoint;
		break;
	case bpfd_v1_AttachInfo_kprobe_attach_info_tag:
		k = &ai->info.kprobe_attach_info;
		err = probe_check("kprobe", k->has_namespace ? k->namespace : NULL,
				  k->retprobe, k->offset, em);
		if (err)
			return err;
		p->kind = k->retprobe ? OBJ_KIND_KRETPROBE : OBJ_KIND_KPROBE;
		p->pa.fn_name = k->fn_name;
		p->pa.offset = k->offset;
		break;
	case bpfd_v1_AttachInfo_uprobe_attach_info_tag:
		u = &ai->info.uprobe_attach_info;
		err = probe_check("uprobe", u->has_namespace ? u->namespace : NULL,
				  u->retprobe, u->offset, em);
		if (err)
			return err;
		if (u->has_pid && u->pid <= 0)
			return errmsg_set(em, -EINVAL, "pid %d is not a process id", u->pid);
		p->kind = u->retprobe ? OBJ_KIND_URETPROBE : OBJ_KIND_UPROBE;
		p->pa.fn_name = u->has_fn_name ? u->fn_name : NULL;
		p->pa.offset = u->offset;
		p->pa.target = u->target;
		p->pa.pid = u->has_pid ? u->pid : -1;
		break;
	case bpfd_v1_AttachInfo_fentry_attach_info_tag:
		p->kind = OBJ_KIND_FENTRY;
		p->pa.fn_name = ai->info.fentry_attach_info.fn_name;
		break;
	case bpfd_v1_AttachInfo_fexit_attach_info_tag:
		p->kind = OBJ_KIND_FEXIT;
		p->pa.fn_name = ai->info.fexit_attach_info.fn_name;
		break;
	case bpfd_v1_AttachInfo_xdp_attach_info_tag:
	case bpfd_v1_AttachInfo_tc_attach_info_tag:
	case bpfd_v1_AttachInfo_tcx_attach_info_tag:
		return plan_chain(ai, p, em);
	default:
		return errmsg_set(em, -EINVAL,
				  "the attach info names no kind: say where to attach (xdp, tc, tcx, tracepoint, kprobe, uprobe, fentry, fexit)");
	}
	p->pa.kind = p->kind;
	return 0;
}

static int plan_load(struct mgr *m, const bpfd_v1_LoadRequest *req, struct load_plan *p,
		     struct errmsg *em)
{
	int err;

	memset(p, 0, sizeof(*p));
	if (!req->has_bytecode || !req->bytecode.which_location)
		return errmsg_set(em, -EINVAL, "the request names no bytecode: give a file path or an image");
	if (req->bytecode.which_location == bpfd_v1_BytecodeLocation_image_tag)
		return errmsg_set(em, -EOPNOTSUPP,
				  "loading from a bytecode image is not available in this build of bpfd: give the path of an ELF file");
	p->path = req->bytecode.location.file;
	if (!req->name[0])
		return errmsg_set(em, -EINVAL,
				  "no function name given: name the BPF program function to load");
	err = plan_attach(req, p, em);
	if (err)
		return err;
	p->kind_str = obj_kind_str(p->kind);
	if (req->has_map_owner_id) {
		p->owner = rec_find(m, req->map_owner_id);
		if (!p->owner)
			return errmsg_set(em, -ENOENT,
					  "map owner %u is not a program bpfd manages: give the id of a loaded program whose maps should be shared ('bpfctl list')",
					  req->map_owner_id);
		if (p->owner->owner)
			return errmsg_set(em, -EINVAL,
					  "program %u shares the maps of program %u: pass --map-owner-id %u",
					  req->map_owner_id, p->owner->owner, p->owner->owner);
		if (!p->owner->map_dir[0])
			return errmsg_set(em, -EINVAL,
					  "map owner %u has no maps to share", req->map_owner_id);
	}
	return 0;
}

static int pending_write(struct mgr *m, const struct load_plan *p, const char *func,
			 uint32_t ifindex, char *ret_path, size_t size)
{
	struct timespec ts;
	FILE *f;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	snprintf(ret_path, size, "%s/" PENDING_PREFIX "%d-%ld", store_dir(m->st), (int)getpid(),
		 (long)ts.tv_nsec);
	f = fopen(ret_path, "we");
	if (!f)
		return -errno;
	fprintf(f, "%u %u %u %" PRIu64 " %s\n", p->cr.kind, p->cr.dir, ifindex,
		(uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec, func);
	if (fflush(f) || fsync(fileno(f))) {
		fclose(f);
		unlink(ret_path);
		return -EIO;
	}
	fclose(f);
	return 0;
}

/* Test hook: BPFD_TEST_PAUSE_LOAD=<seconds> sleeps after the program is loaded,
 * attached and pinned and before its record is written, so a test can kill -9 the
 * daemon in the middle of a load and check the restart cleans up. */
static void test_pause(uint32_t id)
{
	const char *s = getenv("BPFD_TEST_PAUSE_LOAD");
	struct timespec ts;
	double sec;

	if (!s || !*s)
		return;
	sec = strtod(s, NULL);
	if (sec <= 0)
		return;
	log_warn("BPFD_TEST_PAUSE_LOAD: program %u loaded and pinned; pausing %.1fs before recording it",
		 id, sec);
	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)((sec - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

#define PROCEED_ON_MAX	(sizeof(((bpfd_v1_XDPAttachInfo *)0)->proceed_on) / sizeof(int32_t))

static pb_size_t proceed_on_codes(enum chain_kind k, uint32_t mask, int32_t *codes)
{
	size_t n = chain_proceed_on_decode(k, mask, codes, PROCEED_ON_MAX);

	return n > PROCEED_ON_MAX ? PROCEED_ON_MAX : n;
}

static void info_from_request(const bpfd_v1_LoadRequest *req, const struct load_plan *p,
			      bpfd_v1_ProgramInfo *info)
{
	pb_size_t i;

	snprintf(info->name, sizeof(info->name), "%s", req->name);
	info->has_bytecode = true;
	info->bytecode = req->bytecode;
	if (info->bytecode.which_location == bpfd_v1_BytecodeLocation_image_tag) {
		info->bytecode.location.image.has_username = false;
		info->bytecode.location.image.has_password = false;
		memset(info->bytecode.location.image.username, 0,
		       sizeof(info->bytecode.location.image.username));
		memset(info->bytecode.location.image.password, 0,
		       sizeof(info->bytecode.location.image.password));
	}
	info->has_attach = true;
	info->attach = req->attach;
	for (i = 0; i < req->global_data_count; i++) {
		snprintf(info->global_data[i].key, sizeof(info->global_data[i].key), "%s",
			 req->global_data[i].key);
		info->global_data[i].value.size = req->global_data[i].value.size;
		memcpy(info->global_data[i].value.bytes, req->global_data[i].value.bytes,
		       req->global_data[i].value.size);
	}
	info->global_data_count = req->global_data_count;
	for (i = 0; i < req->metadata_count; i++) {
		snprintf(info->metadata[i].key, sizeof(info->metadata[i].key), "%s",
			 req->metadata[i].key);
		snprintf(info->metadata[i].value, sizeof(info->metadata[i].value), "%s",
			 req->metadata[i].value);
	}
	info->metadata_count = req->metadata_count;
	if (p->owner) {
		info->has_map_owner_id = true;
		info->map_owner_id = p->owner->id;
	}
	snprintf(info->attach_mode, sizeof(info->attach_mode), "%s", p->chain ? "" : "link");
	/* an empty proceed-on means the default: record what applies */
	if (p->kind == OBJ_KIND_XDP && !info->attach.info.xdp_attach_info.proceed_on_count)
		info->attach.info.xdp_attach_info.proceed_on_count =
			proceed_on_codes(CHAIN_XDP, p->cr.proceed_on,
					 info->attach.info.xdp_attach_info.proceed_on);
	if (p->kind == OBJ_KIND_TC && !info->attach.info.tc_attach_info.proceed_on_count)
		info->attach.info.tc_attach_info.proceed_on_count =
			proceed_on_codes(CHAIN_TC, p->cr.proceed_on,
					 info->attach.info.tc_attach_info.proceed_on);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* map_used_by and the live position of dispatcher members. */
static void info_complete(struct mgr *m, const struct mrec *mr, bpfd_v1_ProgramInfo *info)
{
	const size_t max = sizeof(info->map_used_by) / sizeof(info->map_used_by[0]);
	uint32_t owner = mr->owner ? mr->owner : mr->id, ids[max];
	struct hook_member_info mi;
	size_t i, n = 0;

	info->map_used_by_count = 0;
	if (mr->map_dir[0]) {
		/* the owner first (while loaded), then the others by id */
		for (i = 0; i < m->n && n < max; i++)
			if (m->recs[i].id != owner && !strcmp(m->recs[i].map_dir, mr->map_dir))
				ids[n++] = m->recs[i].id;
		qsort(ids, n, sizeof(ids[0]), cmp_u32);
		if (rec_find(m, owner)) {
			if (n == max)
				n--;
			memmove(ids + 1, ids, n * sizeof(ids[0]));
			ids[0] = owner;
			n++;
		}
		for (i = 0; i < n; i++)
			snprintf(info->map_used_by[i], sizeof(info->map_used_by[0]), "%u", ids[i]);
		info->map_used_by_count = n;
	}
	if (!mr->chain || hook_member(m->chains, mr->ck, mr->ifindex, mr->cdir, mr->id, &mi))
		return;
	snprintf(info->attach_mode, sizeof(info->attach_mode), "%s", hook_mode_str(mi.mode));
	switch (info->attach.which_info) {
	case bpfd_v1_AttachInfo_xdp_attach_info_tag:
		info->attach.info.xdp_attach_info.position = mi.position;
		break;
	case bpfd_v1_AttachInfo_tc_attach_info_tag:
		info->attach.info.tc_attach_info.position = mi.position;
		break;
	case bpfd_v1_AttachInfo_tcx_attach_info_tag:
		info->attach.info.tcx_attach_info.position = mi.position;
		break;
	}
}

/* Kernel side of a load: open, globals, shared maps, load + attach + pins.  On
 * success the program is attached and pinned (*ret_id) and its own maps pinned at
 * *ret_map_dir ("" when it has none or shares the owner's). */
static int load_kernel(struct mgr *m, const bpfd_v1_LoadRequest *req, const struct load_plan *p,
		       struct obj **ret_obj, bpfd_state_ProgramRecord *r, char *pending,
		       size_t psize, struct errmsg *em)
{
	struct hook_result cres = { 0 };
	struct prog_loaded *pl = NULL;
	struct prog_ident pi;
	struct obj *o = NULL;
	pb_size_t i;
	int err;

	err = obj_open_file(p->path, req->name, &o, em);
	if (err)
		goto out;
	*ret_obj = o;
	err = prog_check_kind(o, p->kind, em);
	if (err)
		goto out;
	for (i = 0; i < req->global_data_count; i++) {
		err = obj_set_global(o, req->global_data[i].key, req->global_data[i].value.bytes,
				     req->global_data[i].value.size, em);
		if (err)
			goto out;
	}
	if (p->owner) {
		err = obj_reuse_maps(o, p->owner->map_dir, em);
		if (err) {
			errmsg_prefix(em, "cannot share the maps of program %u", p->owner->id);
			goto out;
		}
	}
	if (!p->chain) {
		pl = calloc(1, sizeof(*pl));
		if (!pl) {
			err = -ENOMEM;
			goto out;
		}
		err = prog_load_attach(o, &p->pa, m->cfg->bpffs, pl, em);
		if (err)
			goto out;
		pi = pl->ident;
		if (copy_str(r->prog_pin, sizeof(r->prog_pin), pl->prog_pin) ||
		    copy_str(r->link_pin, sizeof(r->link_pin), pl->link_pin) ||
		    copy_str(r->target_path, sizeof(r->target_path), pl->target_path)) {
			/* cannot happen: bpffs paths are bounded by the config */
			prog_unpin(pl->link_pin);
			prog_unpin(pl->prog_pin);
			err = errmsg_set(em, -ENAMETOOLONG, "pin path %s is too long", pl->link_pin);
			goto out;
		}
	} else {
		err = hook_ifindex(p->cr.iface, &r->ifindex, em);
		if (err)
			goto out;
		err = pending_write(m, p, req->name, r->ifindex, pending, psize);
		if (err) {
			errmsg_set(em, err, "cannot write to %s: %s", store_dir(m->st),
				   strerror(-err));
			goto out;
		}
		err = hook_attach(m->chains, o, &p->cr, &cres, em);
		if (err)
			goto out;
		err = prog_ident_id(cres.prog_id, &pi);
		if (err) {
			errmsg_set(em, err, "program %u vanished right after it was attached",
				   cres.prog_id);
			hook_detach(m->chains, p->cr.kind, cres.ifindex, p->cr.dir, cres.prog_id, NULL);
			goto out;
		}
		r->ifindex = cres.ifindex;
		r->chain_dir = p->cr.dir;
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
			  const struct load_plan *p)
{
	if (p->chain)
		hook_detach(m->chains, p->cr.kind, r->ifindex, p->cr.dir, r->id, NULL);
	unpin_record_pins(r);
}

static int pin_maps(struct mgr *m, struct obj *o, const struct load_plan *p,
		    bpfd_state_ProgramRecord *r, struct errmsg *em)
{
	char dir[PATH_MAX];
	int err;

	if (p->owner)
		return copy_str(r->info.map_pin_path, sizeof(r->info.map_pin_path),
				p->owner->map_dir);
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
	copy_str(r->info.map_pin_path, sizeof(r->info.map_pin_path), dir);
	copy_str(r->map_pin_dir, sizeof(r->map_pin_dir), dir);
	return 0;
}

static int load_locked(struct mgr *m, const bpfd_v1_LoadRequest *req,
		       bpfd_state_ProgramRecord *r, struct errmsg *em)
{
	char pending[PATH_MAX] = "";
	struct load_plan p;
	struct obj *o = NULL;
	uint8_t *pb = NULL;
	struct mrec mr;
	size_t len = 0;
	bool loaded = false;
	int err;

	err = plan_load(m, req, &p, em);
	if (err)
		goto out;
	memset(r, 0, sizeof(*r));
	r->format = STORE_FORMAT;
	r->has_info = true;
	info_from_request(req, &p, &r->info);
	snprintf(r->kind, sizeof(r->kind), "%s", p.kind_str);
	r->managed_type = managed_type(p.kind);
	if (req->has_uuid)
		snprintf(r->uuid, sizeof(r->uuid), "%s", req->uuid);
	err = load_kernel(m, req, &p, &o, r, pending, sizeof(pending), em);
	if (err)
		goto out;
	loaded = true;
	err = pin_maps(m, o, &p, r, em);
	if (err)
		goto out;
	test_pause(r->id);
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
		err = rec_add(m, &mr);
	if (err) {
		free(mr.pb);
		store_del(m->st, r->id);
		goto out;
	}
	log_info("loaded %s program %u (%s from %s)", p.kind_str, r->id, req->name, p.path);
out:
	if (err && loaded) {
		if (r->map_pin_dir[0])
			fs_rmtree(r->map_pin_dir);
		unload_kernel(m, r, &p);
	}
	if (pending[0])
		unlink(pending);
	obj_close(o);
	free(pb);
	return err;
}

int mgr_load(struct mgr *m, const bpfd_v1_LoadRequest *req, bpfd_v1_LoadResponse *resp,
	     struct errmsg *em)
{
	bpfd_state_ProgramRecord *r;
	struct mrec *mr;
	int err;

	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_lock(&m->lock);
	err = load_locked(m, req, r, em);
	if (!err && resp) {
		memset(resp, 0, sizeof(*resp));
		resp->has_info = true;
		resp->info = r->info;
		mr = rec_find(m, r->id);
		if (mr)
			info_complete(m, mr, &resp->info);
		resp->has_kernel_info = true;
		(void)rpc_kernel_info(r->id, &resp->kernel_info);
	}
	pthread_mutex_unlock(&m->lock);
	free(r);
	return err;
}

/* --- unload --- */

static int unload_locked(struct mgr *m, uint32_t id, struct errmsg *em)
{
	struct prog_ident pi;
	struct mrec *r = rec_find(m, id);
	char map_dir[sizeof(r->map_dir)];
	int err;

	if (!r) {
		if (!prog_ident_id(id, &pi))
			return errmsg_set(em, -ENOENT,
					  "program %u (%s) is not managed by bpfd: bpfd did not load it (or has just unloaded it), so bpfd does not unload it; use the tool that loaded it",
					  id, pi.name);
		return errmsg_set(em, -ENOENT,
				  "there is no program %u: 'bpfctl list' shows the programs bpfd manages",
				  id);
	}
	err = store_del(m->st, id);
	if (err)
		return errmsg_set(em, err, "cannot remove the record of program %u: %s", id,
				  strerror(-err));
	if (r->chain) {
		err = hook_detach(m->chains, r->ck, r->ifindex, r->cdir, id, em);
		if (err && err != -ENOENT)
			log_warn("detaching program %u: %s", id, em && em->msg[0] ? em->msg : strerror(-err));
		if (em)
			em->msg[0] = '\0';
	}
	if (r->link_pin[0])
		prog_unpin(r->link_pin);
	if (r->prog_pin[0])
		prog_unpin(r->prog_pin);
	snprintf(map_dir, sizeof(map_dir), "%s", r->map_dir);
	rec_drop(m, r);
	if (map_dir[0] && !map_dir_in_use(m, map_dir))
		fs_rmtree(map_dir);
	log_info("unloaded program %u", id);
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

int mgr_pull_bytecode(struct mgr *m, const bpfd_v1_PullBytecodeRequest *req, struct errmsg *em)
{
	(void)m, (void)req;
	return errmsg_set(em, -EOPNOTSUPP,
			  "PullBytecode is not available in this build of bpfd: bytecode images are not implemented");
}

int mgr_prog_info(struct mgr *m, uint32_t id, bpfd_v1_ProgramInfo *ret, uint32_t *ret_type)
{
	bpfd_state_ProgramRecord *r = NULL;
	struct mrec *mr;
	int err = -ENOENT;

	pthread_mutex_lock(&m->lock);
	mr = rec_find(m, id);
	if (!mr)
		goto out;
	r = malloc(sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	err = store_decode(mr->pb, mr->pb_len, r);
	if (err)
		goto out;
	*ret = r->info;
	info_complete(m, mr, ret);
	if (ret_type)
		*ret_type = mr->managed_type;
out:
	pthread_mutex_unlock(&m->lock);
	free(r);
	return err;
}
