/* SPDX-License-Identifier: Apache-2.0 */
/* mrec.c - the manager's table of programs in memory (struct mrec), shared by
 * manager.c and recovery.c, which both use it and not each other's internals. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpf/prog.h"
#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/state/mrec.h"
#include "core/state/record.h"

/* Copy src into dst[size]: 0, or -ENAMETOOLONG (dst then holds ""). */
int mrec_copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size) {
		dst[0] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

static size_t idx_slot(const struct mgr *m, uint32_t id)
{
	size_t i = (id * 2654435761u) & (m->idx_cap - 1);

	while (m->idx[i] && m->recs[m->idx[i] - 1].id != id)
		i = (i + 1) & (m->idx_cap - 1);
	return i;
}

/* Rebuild m->idx for m->n entries (at least cap slots): 0 or -ENOMEM (the old
 * index then stays, still right for the entries it had). */
static int idx_rebuild(struct mgr *m, size_t cap)
{
	uint32_t *v = calloc(cap, sizeof(*v));
	size_t i;

	if (!v)
		return -ENOMEM;
	free(m->idx);
	m->idx = v;
	m->idx_cap = cap;
	for (i = 0; i < m->n; i++)
		m->idx[idx_slot(m, m->recs[i].id)] = i + 1;
	return 0;
}

struct mrec *mrec_find(struct mgr *m, uint32_t id)
{
	size_t i;

	if (!m->idx_cap)
		return NULL;
	i = idx_slot(m, id);
	return m->idx[i] ? &m->recs[m->idx[i] - 1] : NULL;
}

void mrec_drop(struct mgr *m, struct mrec *r)
{
	size_t i, j, k, at = r - m->recs;

	free(r->pb);
	/* take r's id out of the index: linear probing's backward shift */
	i = idx_slot(m, r->id);
	m->idx[i] = 0;
	for (j = (i + 1) & (m->idx_cap - 1); m->idx[j]; j = (j + 1) & (m->idx_cap - 1)) {
		k = (m->recs[m->idx[j] - 1].id * 2654435761u) & (m->idx_cap - 1);
		/* may the entry at j move to the hole at i? (its home k not in (i, j]) */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		m->idx[i] = m->idx[j];
		m->idx[j] = 0;
		i = j;
	}
	/* the last entry takes r's place */
	if (at != --m->n) {
		*r = m->recs[m->n];
		m->idx[idx_slot(m, r->id)] = at + 1;
	}
}

void mrec_release(struct mgr *m, struct mrec *r)
{
	char map_dir[sizeof(r->map_dir)];

	if (r->link_pin[0])
		prog_unpin(r->link_pin);
	if (r->prog_pin[0])
		prog_unpin(r->prog_pin);
	snprintf(map_dir, sizeof(map_dir), "%s", r->map_dir);
	mrec_drop(m, r);
	if (map_dir[0] && !mrec_map_dir_in_use(m, map_dir))
		fs_rmtree(map_dir);
}

bool mrec_map_dir_in_use(struct mgr *m, const char *dir)
{
	const char *base = strrchr(dir, '/');
	unsigned int id;
	struct mrec *r;
	char tail;
	size_t i;

	/* maps/<id>: the directory of program id, while it is loaded */
	if (base && sscanf(base + 1, "%u%c", &id, &tail) == 1 && (r = mrec_find(m, id)) &&
	    !strcmp(r->map_dir, dir))
		return true;

	for (i = 0; i < m->n; i++)
		if (m->recs[i].map_dir[0] && !strcmp(m->recs[i].map_dir, dir))
			return true;
	return false;
}

uint32_t mrec_managed_type(enum obj_kind k)
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

void mrec_attach_str(const struct attach_spec *a, char *buf, size_t size)
{
	const char *k = obj_kind_str(a->kind);

	switch (a->kind) {
	case OBJ_KIND_XDP:
		snprintf(buf, size, "%s %s", k, a->iface);
		break;
	case OBJ_KIND_TC:
	case OBJ_KIND_TCX:
		snprintf(buf, size, "%s %s %s", k, a->iface,
			 a->direction[0] ? a->direction : "ingress");
		break;
	case OBJ_KIND_TRACEPOINT:
		snprintf(buf, size, "%s %s", k, a->tracepoint);
		break;
	case OBJ_KIND_UPROBE:
	case OBJ_KIND_URETPROBE:
		snprintf(buf, size, "%s %.200s:%s", k, a->target, a->has_fn_name ? a->fn_name : "");
		break;
	case OBJ_KIND_KPROBE:
	case OBJ_KIND_KRETPROBE:
	case OBJ_KIND_FENTRY:
	case OBJ_KIND_FEXIT:
		snprintf(buf, size, "%s %.200s", k, a->fn_name);
		break;
	default:
		snprintf(buf, size, "%s", k);
	}
}

int mrec_from_record(struct mrec *mr, const bpfd_state_ProgramRecord *r, const uint8_t *pb,
		     size_t len)
{
	struct attach_spec *a;

	memset(mr, 0, sizeof(*mr));
	mr->id = r->id;
	mr->kind = obj_kind_parse(r->kind);
	mr->chain = mr->kind == OBJ_KIND_XDP || mr->kind == OBJ_KIND_TC ||
		    mr->kind == OBJ_KIND_TCX;
	mr->ck = mr->kind == OBJ_KIND_XDP ? CHAIN_XDP :
		 mr->kind == OBJ_KIND_TC ? CHAIN_TC : CHAIN_TCX;
	mr->cdir = r->chain_dir ? CHAIN_EGRESS : CHAIN_INGRESS;
	mr->ifindex = r->ifindex;
	mr->owner = r->info.has_map_owner_id ? r->info.map_owner_id : 0;
	mr->direct = !strcmp(r->chain_mode, "direct");
	mr->managed_type = r->managed_type;
	mrec_copy_str(mr->map_dir, sizeof(mr->map_dir), r->info.map_pin_path);
	mrec_copy_str(mr->prog_pin, sizeof(mr->prog_pin), r->prog_pin);
	mrec_copy_str(mr->link_pin, sizeof(mr->link_pin), r->link_pin);
	a = malloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	record_attach_from_pb(r->info.has_attach ? &r->info.attach : NULL, a);
	if (a->kind == OBJ_KIND_UNKNOWN)
		a->kind = mr->kind;
	mrec_attach_str(a, mr->attach, sizeof(mr->attach));
	if (mr->chain)
		snprintf(mr->iface, sizeof(mr->iface), "%s", a->iface);
	free(a);
	mr->pb = malloc(len ? len : 1);
	if (!mr->pb)
		return -ENOMEM;
	memcpy(mr->pb, pb, len);
	mr->pb_len = len;
	return 0;
}

int mrec_add(struct mgr *m, const struct mrec *mr)
{
	struct mrec *v, *o;

	if (m->n == m->cap) {
		v = reallocarray(m->recs, m->cap ? m->cap * 2 : 16, sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->recs = v;
		m->cap = m->cap ? m->cap * 2 : 16;
	}
	if ((m->n + 1) * 2 > m->idx_cap && idx_rebuild(m, m->idx_cap ? m->idx_cap * 2 : 64))
		return -ENOMEM;
	m->recs[m->n++] = *mr;
	m->idx[idx_slot(m, mr->id)] = m->n;
	if (mr->owner) {
		m->recs[m->n - 1].maps_shared = true;
		o = mrec_find(m, mr->owner);
		if (o)
			o->maps_shared = true;
	}
	return 0;
}

void mrec_mark_shared(struct mgr *m)
{
	struct mrec *o;
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (!m->recs[i].owner)
			continue;
		o = mrec_find(m, m->recs[i].owner);
		if (o)
			o->maps_shared = true;
	}
}

void mrec_unpin(const bpfd_state_ProgramRecord *r)
{
	if (r->link_pin[0])
		prog_unpin(r->link_pin);
	if (r->prog_pin[0])
		prog_unpin(r->prog_pin);
}

int mrec_not_found(uint32_t id, struct errmsg *em)
{
	struct prog_ident pi;

	if (!prog_ident_id(id, &pi))
		return errmsg_set(em, -ENOENT,
				  "program %u (%s) is not managed by bpfd: bpfd did not load it (or has just unloaded it), so bpfd does not change or unload it; use the tool that loaded it",
				  id, pi.name);
	return errmsg_set(em, -ENOENT,
			  "there is no program %u: 'bpfctl list' shows the programs bpfd manages",
			  id);
}

void mrec_test_pause(const char *var, uint32_t id, const char *what)
{
	const char *s = getenv(var);
	struct timespec ts;
	double sec;

	if (!s || !*s)
		return;
	sec = strtod(s, NULL);
	if (sec <= 0)
		return;
	log_warn("%s: program %u %s; pausing %.1fs before recording it", var, id, what, sec);
	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)((sec - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
