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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpf/hook.h"
#include "bpf/prog.h"
#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/state/mrec.h"
#include "core/state/recovery.h"

#define PENDING_PREFIX	".pending-"

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

int recovery_mark_pending(struct mgr *m, enum chain_kind kind, enum chain_dir dir,
			  uint32_t ifindex, const char *func, char *ret_path, size_t size)
{
	struct timespec ts;
	FILE *f;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	snprintf(ret_path, size, "%s/" PENDING_PREFIX "%d-%ld", store_dir(m->st), (int)getpid(),
		 (long)ts.tv_nsec);
	f = fopen(ret_path, "we");
	if (!f)
		return -errno;
	fprintf(f, "%u %u %u %" PRIu64 " %s\n", kind, dir, ifindex,
		(uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec, func);
	if (fflush(f) || fsync(fileno(f))) {
		fclose(f);
		unlink(ret_path);
		return -EIO;
	}
	fclose(f);
	return 0;
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
	reconcile_pending(m);
	reconcile_pins(m);
	err = hook_reconcile(m->chains, NULL);
	if (err < 0)
		log_warn("cleaning dispatcher residue failed: %s", strerror(-err));
	else if (err > 0)
		log_info("removed %d dispatcher leftovers of interrupted changes", err);
	return 0;
}
