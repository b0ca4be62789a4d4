/* SPDX-License-Identifier: Apache-2.0 */
/* recovery.c - restart recovery and the pending-load markers (the contract is in
 * recovery.h).
 *
 * Source of truth: the kernel plus bpfd's pins (<bpffs>/prog_<id>, prog_<id>_link,
 * maps/<id>/, the chain code's dispatcher and link pins) and one record per program
 * in <rundir>/programs/<id>, with pending markers beside them
 * (<rundir>/programs/.pending-*). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bpf/hook.h"
#include "bpf/prog.h"
#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/state/mrec.h"
#include "core/state/record.h"
#include "core/state/recovery.h"

#define PENDING_PREFIX	".pending-"
#define MODIFY_PREFIX	".modify-"

struct load_ctx {
	struct mgr *m;
	bpfd_state_ProgramRecord *r;
	int err;
};

/* The hook a damaged record's program is on: the hooks that run its program type
 * (EXT: dispatcher members) are asked on every interface.  0 or -ENOENT. */
static int find_on_hooks(struct mgr *m, uint32_t id, uint32_t type,
			 struct hook_member_info *ret)
{
	static const struct { enum chain_kind ck; enum chain_dir dir; } hooks[] = {
		{ CHAIN_XDP, CHAIN_INGRESS }, { CHAIN_TC, CHAIN_INGRESS },
		{ CHAIN_TC, CHAIN_EGRESS }, { CHAIN_TCX, CHAIN_INGRESS },
		{ CHAIN_TCX, CHAIN_EGRESS },
	};
	struct if_nameindex *ifs, *i;
	size_t h, first, last;
	int err = -ENOENT;

	if (!m->chains)
		return -ENOENT;
	switch (type) {
	case TYPE_XDP:
		first = 0, last = 0;
		break;
	case TYPE_SCHED_CLS:
		first = 1, last = 4;
		break;
	case TYPE_EXT:
		first = 0, last = 2;
		break;
	default:
		return -ENOENT;
	}
	ifs = if_nameindex();
	for (i = ifs; i && i->if_index && err; i++)
		for (h = first; h <= last && err; h++)
			if (!hook_member(m->chains, hooks[h].ck, i->if_index, hooks[h].dir,
					 id, ret))
				err = 0;
	if (ifs)
		if_freenameindex(ifs);
	return err;
}

/* <bpffs>/prog_<id> (or _link) into pin when it exists. */
static bool pin_exists(struct mgr *m, uint32_t id, const char *suffix, char *pin,
		       size_t size)
{
	struct stat st;

	if (snprintf(pin, size, "%s/prog_%u%s", m->cfg->bpffs, id, suffix) >= (int)size ||
	    lstat(pin, &st)) {
		pin[0] = '\0';
		return false;
	}
	return true;
}

/* A record file failed its check: move it aside and, when its program is still bpfd's
 * (pinned by bpfd or on a hook), keep the program as a damaged entry. */
static int keep_damaged(struct mgr *m, uint32_t id, const char *name, const char *why)
{
	struct hook_member_info mi;
	char moved[PATH_MAX] = "";
	struct prog_ident pi, pp;
	struct mrec mr = { .id = id };
	bool pinned, on_hook;
	struct stat st;
	int err;

	err = store_move_aside(m->st, name, moved, sizeof(moved));
	if (err)
		log_err("cannot move the damaged record %s/%s aside: %s; it stays there",
			store_dir(m->st), name, strerror(-err));
	if (prog_ident_id(id, &pi)) {
		log_warn("the record of program %u is damaged (%s), moved to %s; the program is no longer in the kernel",
			 id, why, moved[0] ? moved : name);
		return 0;
	}
	pinned = pin_exists(m, id, "", mr.prog_pin, sizeof(mr.prog_pin)) &&
		 !prog_ident_pin(mr.prog_pin, &pp) && pp.id == id;
	pin_exists(m, id, "_link", mr.link_pin, sizeof(mr.link_pin));
	on_hook = !find_on_hooks(m, id, pi.type, &mi);
	if (!pinned && !on_hook) {
		log_warn("the record of program %u is damaged (%s), moved to %s; program %u in the kernel is neither pinned by bpfd nor on a hook, so bpfd leaves it alone",
			 id, why, moved[0] ? moved : name, id);
		return 0;
	}
	snprintf(mr.damaged, sizeof(mr.damaged), "%s", why);
	snprintf(mr.name, sizeof(mr.name), "%s", on_hook ? mi.name : pi.name);
	mr.managed_type = pi.type == TYPE_EXT ? (on_hook && mi.kind == CHAIN_XDP ? TYPE_XDP :
						 TYPE_SCHED_CLS) : pi.type;
	if (on_hook) {
		mr.chain = true;
		mr.ck = mi.kind;
		mr.cdir = mi.dir;
		mr.ifindex = mi.ifindex;
		mr.kind = mi.kind == CHAIN_XDP ? OBJ_KIND_XDP :
			  mi.kind == CHAIN_TC ? OBJ_KIND_TC : OBJ_KIND_TCX;
	}
	if (snprintf(mr.map_dir, sizeof(mr.map_dir), "%s/%u", m->maps_dir, id) >=
	    (int)sizeof(mr.map_dir) || stat(mr.map_dir, &st) || !S_ISDIR(st.st_mode))
		mr.map_dir[0] = '\0';
	err = mrec_add(m, &mr);
	if (err)
		return err;
	log_err("the record of program %u (%s) is damaged (%s), moved to %s; the program keeps running, listed as 'record damaged'; 'bpfctl unload %u' removes it",
		id, mr.name, why, moved[0] ? moved : name, id);
	return 0;
}

static int load_one(const struct store_entry *e, void *ctx)
{
	struct load_ctx *c = ctx;
	struct mrec mr;
	int err;

	if (!e->id) {
		if (e->name[0] == '.')
			return 0;	/* pending markers: handled separately */
		log_warn("removing %s/%s: not a program record", store_dir(c->m->st), e->name);
		store_remove_name(c->m->st, e->name);
		return 0;
	}
	if (!e->pb)
		return keep_damaged(c->m, e->id, e->name, e->damaged);
	if (store_decode(e->pb, e->len, c->r) || c->r->id != e->id)
		return keep_damaged(c->m, e->id, e->name, "the record cannot be decoded");
	if (!prog_alive(e->id, c->r->tag, c->r->load_time)) {
		log_warn("dropping the record of program %u (%s %s): the program is no longer in the kernel",
			 e->id, c->r->kind, c->r->info.name);
		mrec_unpin(c->r);
		store_del(c->m->st, e->id);
		return 0;
	}
	err = mrec_from_record(&mr, c->r, e->pb, e->len);
	if (!err)
		err = mrec_add(c->m, &mr);
	if (err) {
		free(mr.pb);
		c->err = err;
		return err;
	}
	log_debug("program %u (%s %s) restored from its record", e->id, c->r->kind,
		  c->r->info.name);
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
		r = mrec_find(m, id);
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
		if (mrec_map_dir_in_use(m, path))
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
		if (mrec_find(m, mi[i].prog_id) || strcmp(mi[i].name, p->func))
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

int recovery_mark_pending(struct mgr *m, enum chain_kind kind, enum chain_dir dir,
			  uint32_t ifindex, const char *func, char *ret_path, size_t size,
			  struct errmsg *em)
{
	char name[64], text[256];
	struct timespec ts;
	int err;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	snprintf(name, sizeof(name), PENDING_PREFIX "%d-%ld", (int)getpid(), (long)ts.tv_nsec);
	snprintf(text, sizeof(text), "%u %u %u %" PRIu64 " %.127s\n", kind, dir, ifindex,
		 (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec, func);
	err = store_put_marker(m->st, name, text, em);
	if (!err)
		snprintf(ret_path, size, "%s/%s", store_dir(m->st), name);
	return err;
}

/* A modify interrupted after its marker (the new record) was written: when the hook
 * shows the marker's priority and proceed-on, the change happened and the marker's
 * record becomes the record; otherwise the old record stands. */
static void reconcile_modify_one(struct mgr *m, const char *name,
				 bpfd_state_ProgramRecord *r, struct prog_view *v)
{
	struct hook_member_info mi;
	struct mrec *mr;
	uint32_t mask = 0;
	uint8_t *pb = NULL;
	size_t len = 0;

	if (store_get_named(m->st, name, r))
		return;
	mr = mrec_find(m, r->id);
	if (!mr || !mr->pb || !mr->chain ||
	    hook_member(m->chains, mr->ck, mr->ifindex, mr->cdir, mr->id, &mi) ||
	    !mi.have_config)
		return;
	record_info_from_pb(&r->info, v);
	if (mr->kind != OBJ_KIND_TCX &&
	    chain_proceed_on_encode(mr->ck, v->spec.attach.proceed_on,
				    v->spec.attach.n_proceed_on, &mask, NULL))
		return;
	if (mi.priority != v->spec.attach.priority ||
	    (mr->kind != OBJ_KIND_TCX && mi.proceed_on != mask)) {
		log_info("program %u: its interrupted modify did not reach the hook; the "
			 "record stands", r->id);
		return;
	}
	if (store_encode(r, &pb, &len) || store_put(m->st, r, NULL)) {
		free(pb);
		return;
	}
	free(mr->pb);
	mr->pb = pb;
	mr->pb_len = len;
	log_warn("program %u: finished recording its interrupted modify (priority %d)",
		 r->id, v->spec.attach.priority);
}

static void reconcile_modify(struct mgr *m)
{
	bpfd_state_ProgramRecord *r = malloc(sizeof(*r));
	struct prog_view *v = malloc(sizeof(*v));
	struct dirent *de;
	DIR *d;

	d = opendir(store_dir(m->st));
	while (r && v && d && (de = readdir(d))) {
		if (strncmp(de->d_name, MODIFY_PREFIX, strlen(MODIFY_PREFIX)))
			continue;
		reconcile_modify_one(m, de->d_name, r, v);
		store_remove_name(m->st, de->d_name);
	}
	if (d)
		closedir(d);
	free(r);
	free(v);
}

/* Is the program of sound record r no longer where its record says it is attached
 * (its interface deleted, an unload killed after detaching it)? */
static bool detached(struct mgr *m, const struct mrec *r)
{
	struct hook_member_info mi;
	char name[IF_NAMESIZE];
	struct stat st;

	if (r->chain)
		return !if_indextoname(r->ifindex, name) ||
		       hook_member(m->chains, r->ck, r->ifindex, r->cdir, r->id, &mi) == -ENOENT;
	return r->link_pin[0] && lstat(r->link_pin, &st) && errno == ENOENT;
}

/*
 * Programs that are no longer attached: their interface was deleted (for TCX,
 * hook_reconcile removed the dead link pin, the program's only hold), or an unload
 * was killed after detaching.  Finish the unload: the record, the pins, the map pins.
 * A damaged record stays for a person.
 */
static void drop_detached(struct mgr *m)
{
	struct mrec *r;
	size_t i;

	for (i = m->n; i-- > 0;) {
		r = &m->recs[i];
		if (!r->pb || !detached(m, r))
			continue;
		log_warn("dropping the record of program %u: it is no longer attached (%s)",
			 r->id, r->chain ? "interface deleted, or an unload was interrupted" :
			 "an unload was interrupted");
		store_del(m->st, r->id);
		mrec_release(m, r);
	}
}

int recovery_restore(struct mgr *m, struct errmsg *em)
{
	struct load_ctx lc = { .m = m };
	int err;

	lc.r = malloc(sizeof(*lc.r));
	if (!lc.r)
		return -ENOMEM;
	err = store_walk(m->st, load_one, &lc);
	free(lc.r);
	if (err)
		return errmsg_set(em, err, "cannot read the program records in %s: %s",
				  store_dir(m->st), strerror(-err));
	mrec_mark_shared(m);
	reconcile_pending(m);
	reconcile_pins(m);
	err = hook_reconcile(m->chains, NULL);
	if (err < 0)
		log_warn("cleaning dispatcher residue failed: %s", strerror(-err));
	else if (err > 0)
		log_info("removed %d dispatcher leftovers of interrupted changes", err);
	reconcile_modify(m);
	drop_detached(m);
	return 0;
}
