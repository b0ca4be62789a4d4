/* SPDX-License-Identifier: Apache-2.0 */
/* follow.c - live truth: bpfd's records follow what the kernel does to their hooks.
 *
 * The netlink monitor (core/monitor.c) tells the manager when an interface went,
 * was renamed or moved, or a tc filter or XDP program changed (mgr_follow()); a
 * List or Get re-checks each chain program it shows (view_complete()), which
 * catches what no notification reports (a TCX link detached with bpftool).
 * Both compare the live hook with what bpfd knows, so the notifications of
 * bpfd's own chain swaps change nothing: after a load or unload the manager
 * records the hook as it left it (follow_hook()). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/event.h"
#include "core/base/fs.h"
#include "core/base/log.h"
#include "bpf/nlmon.h"
#include "bpf/prog.h"
#include "core/state/mrec.h"

static void attach_of(const struct mrec *mr, char *buf, size_t size)
{
	if (mr->attach[0])
		snprintf(buf, size, "%s", mr->attach);
	else
		snprintf(buf, size, "%s ifindex %u", obj_kind_str(mr->kind), mr->ifindex);
}

static const char *hook_name(enum chain_kind ck)
{
	return ck == CHAIN_XDP ? "xdp" : ck == CHAIN_TC ? "tc" : "tcx";
}

/* Why mr is not on its hook: the notification's word, else what is true now. */
static void vanish_reason(const struct mrec *mr, const char *hint, char *buf, size_t size)
{
	char name[IF_NAMESIZE];

	if (hint && hint[0])
		snprintf(buf, size, "%s", hint);
	else if (!if_indextoname(mr->ifindex, name))
		snprintf(buf, size, "interface %s (ifindex %u) is gone",
			 mr->iface[0] ? mr->iface : "?", mr->ifindex);
	else
		snprintf(buf, size,
			 "no longer on the %s hook of %s: removed behind bpfd's back (tc filter del, ip link set xdp off, bpftool ...)",
			 hook_name(mr->ck), name);
}

/* "xdp OLD" -> "xdp NEW", "tc OLD ingress" -> "tc NEW ingress" */
static void attach_rename(struct mrec *mr, const char *to)
{
	char rest[EVENT_ATTACH_SIZE] = "";
	const char *p = strchr(mr->attach, ' ');

	if (p)
		p = strchr(p + 1, ' ');
	if (p)
		snprintf(rest, sizeof(rest), "%s", p);
	if (mr->attach[0])
		snprintf(mr->attach, sizeof(mr->attach), "%s %s%s", obj_kind_str(mr->kind), to,
			 rest);
}

/* Interface ifindex is now called to: every program on it takes the name; one
 * event. */
static void renamed(struct mgr *m, uint32_t ifindex, const char *from, const char *to)
{
	char old[IF_NAMESIZE], attach[EVENT_ATTACH_SIZE];
	size_t i;

	snprintf(old, sizeof(old), "%s", from);
	for (i = 0; i < m->n; i++) {
		if (!m->recs[i].chain || m->recs[i].ifindex != ifindex)
			continue;
		snprintf(m->recs[i].iface, sizeof(m->recs[i].iface), "%s", to);
		attach_rename(&m->recs[i], to);
	}
	log_info("interface %s (ifindex %u) is now called %s", old, ifindex, to);
	snprintf(attach, sizeof(attach), "interface %s", to);
	event_emitf(EVENT_IFACE_RENAMED, 0, attach,
		    "interface %s (ifindex %u) was renamed to %s; bpfd's programs on it stay",
		    old, ifindex, to);
}

/* A read of a hook: its members, or err.  One read serves every record on the hook
 * (follow_ifindex()). */
struct hook_look {
	int err;
	size_t n;
	struct hook_member_info mi[CHAIN_TCX_MAX_PROGS];
};

/* read the hook of mr */
static void look_read(struct mgr *m, const struct mrec *mr, struct hook_look *l)
{
	l->n = 0;
	l->err = hook_members(m->chains, mr->ck, mr->ifindex, mr->cdir, l->mi,
			      CHAIN_TCX_MAX_PROGS, &l->n);
	if (l->n > CHAIN_TCX_MAX_PROGS)
		l->n = CHAIN_TCX_MAX_PROGS;
}

/* mr's member info from a read of its hook: as hook_member() would answer */
static int look_member(const struct hook_look *l, const struct mrec *mr,
		       struct hook_member_info *ret)
{
	return l->err ? l->err : hook_member_find(l->mi, l->n, mr->id, ret);
}

/* follow_check() with the hook read: err and mi are what hook_member() said */
static int check_member(struct mgr *m, struct mrec *mr, enum follow_why why,
			const char *hint, int err, const struct hook_member_info *mi)
{
	char attach[EVENT_ATTACH_SIZE], name[IF_NAMESIZE];
	struct prog_ident pi;

	if (!err) {
		if (mi->iface[0] && mr->iface[0] && strcmp(mi->iface, mr->iface))
			renamed(m, mr->ifindex, mr->iface, mi->iface);
		return 0;
	}
	if (err != -ENOENT && err != -ENODEV && err != -ENXIO) {
		/* could not look: no verdict */
		log_debug("program %u: cannot read its hook: %s", mr->id, strerror(-err));
		return err;
	}
	/* The interface is gone, and its RTM_DELLINK (deleted or moved?) is on
	 * its way behind the notifications of what went with it: wait for it. */
	if (why == FOLLOW_NOTIFIED && !if_indextoname(mr->ifindex, name))
		return err;
	vanish_reason(mr, hint, mr->vanished, sizeof(mr->vanished));
	attach_of(mr, attach, sizeof(attach));
	/* attached directly (no dispatcher, nothing pinned), the hook held the
	 * program: it went with it (the kernel may free it a moment later), unless
	 * the interface took it to another namespace */
	mr->freed = (mr->direct && why != FOLLOW_MOVED) || prog_ident_id(mr->id, &pi) == -ENOENT;
	log_warn("program %u (%s) vanished: %s%s", mr->id, attach, mr->vanished,
		 mr->freed ? "; the kernel freed it, bpfd forgets it" : "");
	event_emitf(EVENT_PROGRAM_VANISHED, mr->id, attach, "program %u: %s%s", mr->id,
		    mr->vanished,
		    mr->freed ? "; the kernel freed it (nothing else held it), bpfd forgets it" :
				"; it stays loaded until 'bpfctl unload'");
	return err;
}

int follow_check(struct mgr *m, struct mrec *mr, enum follow_why why, const char *hint,
		 struct hook_member_info *ret)
{
	struct hook_member_info mi;
	int err;

	if (!mr->chain)
		return -ENOENT;
	if (mr->vanished[0])
		return -ENOENT;
	err = hook_member(m->chains, mr->ck, mr->ifindex, mr->cdir, mr->id, &mi);
	err = check_member(m, mr, why, hint, err, &mi);
	if (!err && ret)
		*ret = mi;
	return err;
}

/* Records of programs the kernel freed: gone with their hook. */
void follow_sweep(struct mgr *m)
{
	char map_dir[sizeof(m->recs[0].map_dir)];
	size_t i = 0;

	while (i < m->n) {
		if (!m->recs[i].freed) {
			i++;
			continue;
		}
		if (m->recs[i].pb)
			(void)store_del(m->st, m->recs[i].id);
		if (m->recs[i].link_pin[0])
			prog_unpin(m->recs[i].link_pin);
		if (m->recs[i].prog_pin[0])
			prog_unpin(m->recs[i].prog_pin);
		snprintf(map_dir, sizeof(map_dir), "%s", m->recs[i].map_dir);
		mrec_drop(m, &m->recs[i]);
		if (map_dir[0] && !mrec_map_dir_in_use(m, map_dir))
			fs_rmtree(map_dir);
	}
}

static struct hook_seen *seen_find(struct mgr *m, enum chain_kind ck, uint32_t ifindex,
				   enum chain_dir dir)
{
	size_t i;

	for (i = 0; i < m->n_seen; i++)
		if (m->seen[i].ck == ck && m->seen[i].ifindex == ifindex &&
		    (ck == CHAIN_XDP || m->seen[i].dir == dir))
			return &m->seen[i];
	return NULL;
}

static bool has_id(const uint32_t *ids, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* bpfd's members that are in both, in the order of a: the same as in b? */
static bool same_order(struct mgr *m, const struct hook_seen *a, const uint32_t *b, size_t nb)
{
	size_t i, j = 0;

	for (i = 0; i < a->n; i++) {
		if (!mrec_find(m, a->ids[i]) || !has_id(b, nb, a->ids[i]))
			continue;
		while (j < nb && (!mrec_find(m, b[j]) || !has_id(a->ids, a->n, b[j])))
			j++;
		if (j == nb || b[j] != a->ids[i])
			return false;
		j++;
	}
	return true;
}

static void hook_attach_str(enum chain_kind ck, uint32_t ifindex, enum chain_dir dir,
			    const char *iface, char *buf, size_t size)
{
	char name[IF_NAMESIZE];

	if (!iface || !iface[0])
		iface = if_indextoname(ifindex, name) ? name : "?";
	if (ck == CHAIN_XDP)
		snprintf(buf, size, "xdp %s", iface);
	else
		snprintf(buf, size, "%s %s %s", hook_name(ck), iface, chain_dir_str(dir));
}

static void seen_diff(struct mgr *m, const struct hook_seen *old, const struct hook_member_info *mi,
		      const uint32_t *ids, size_t n, const char *attach, uint32_t own)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!has_id(old->ids, old->n, ids[i]) && !mrec_find(m, ids[i]) && ids[i] != own)
			event_emitf(EVENT_CHAIN_JOINED, ids[i], attach,
				    "program %u (%s), not bpfd's, joined the chain at position %zu",
				    ids[i], mi[i].name, i);
	for (i = 0; i < old->n; i++)
		if (!has_id(ids, n, old->ids[i]) && !mrec_find(m, old->ids[i]) &&
		    old->ids[i] != own)
			event_emitf(EVENT_CHAIN_LEFT, old->ids[i], attach,
				    "program %u, not bpfd's, left the chain", old->ids[i]);
	if (!same_order(m, old, ids, n))
		event_emitf(EVENT_CHAIN_REORDERED, 0, attach,
			    "bpfd's programs on the chain run in a new order");
}

/* follow_hook() with the hook read: mi[0..n), n = 0 when it could not be read */
static void hook_seen(struct mgr *m, enum chain_kind ck, uint32_t ifindex, enum chain_dir dir,
		      uint32_t own, const struct hook_member_info *mi, size_t n)
{
	uint32_t ids[CHAIN_TCX_MAX_PROGS];
	char attach[EVENT_ATTACH_SIZE];
	struct hook_seen *s, *v;
	size_t i;

	s = seen_find(m, ck, ifindex, dir);
	for (i = 0; i < n; i++)
		ids[i] = mi[i].prog_id;
	if (s) {
		hook_attach_str(ck, ifindex, dir, n ? mi[0].iface : NULL, attach, sizeof(attach));
		seen_diff(m, s, mi, ids, n, attach, own);
	} else {
		if (m->n_seen == m->cap_seen) {
			v = reallocarray(m->seen, m->cap_seen ? m->cap_seen * 2 : 8, sizeof(*v));
			if (!v)
				return;
			m->seen = v;
			m->cap_seen = m->cap_seen ? m->cap_seen * 2 : 8;
		}
		s = &m->seen[m->n_seen++];
		s->ck = ck;
		s->ifindex = ifindex;
		s->dir = dir;
	}
	memcpy(s->ids, ids, n * sizeof(ids[0]));
	s->n = n;
}

void follow_hook(struct mgr *m, enum chain_kind ck, uint32_t ifindex, enum chain_dir dir,
		 uint32_t own)
{
	struct hook_member_info *mi;
	size_t n = 0;

	mi = calloc(CHAIN_TCX_MAX_PROGS, sizeof(*mi));
	if (!mi)
		return;
	if (hook_members(m->chains, ck, ifindex, dir, mi, CHAIN_TCX_MAX_PROGS, &n))
		n = 0;
	hook_seen(m, ck, ifindex, dir, own, mi, n > CHAIN_TCX_MAX_PROGS ? CHAIN_TCX_MAX_PROGS : n);
	free(mi);
}

void follow_prune(struct mgr *m)
{
	size_t i = 0, j;
	bool used;

	while (i < m->n_seen) {
		used = false;
		for (j = 0; j < m->n && !used; j++)
			used = m->recs[j].chain && !m->recs[j].vanished[0] &&
			       m->recs[j].ck == m->seen[i].ck &&
			       m->recs[j].ifindex == m->seen[i].ifindex &&
			       (m->seen[i].ck == CHAIN_XDP || m->recs[j].cdir == m->seen[i].dir);
		if (used)
			i++;
		else
			m->seen[i] = m->seen[--m->n_seen];
	}
}

/* Does bpfd have a program on ifindex (it may have vanished already: the tc
 * filters of a deleted interface are reported before the interface)? */
static bool iface_used(struct mgr *m, uint32_t ifindex, const char **ret_name)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->recs[i].chain && m->recs[i].ifindex == ifindex) {
			*ret_name = m->recs[i].iface;
			return true;
		}
	return false;
}

/* An interface went: one event for it, then its programs are checked. */
static void link_gone(struct mgr *m, const struct nl_change *c, char *hint, size_t size)
{
	char attach[EVENT_ATTACH_SIZE], name[IF_NAMESIZE];
	const char *known = NULL;

	if (!iface_used(m, c->ifindex, &known))
		return;
	snprintf(name, sizeof(name), "%s", c->ifname[0] ? c->ifname : known);
	snprintf(attach, sizeof(attach), "interface %s", name);
	if (c->moved) {
		snprintf(hint, size, "interface %s (ifindex %u) was moved to another network namespace",
			 name, c->ifindex);
		event_emitf(EVENT_IFACE_MOVED, 0, attach,
			    "interface %s (ifindex %u) was moved to another network namespace (nsid %d); bpfd's programs on it no longer run here",
			    name, c->ifindex, c->new_netnsid);
	} else {
		snprintf(hint, size, "interface %s (ifindex %u) was deleted", name, c->ifindex);
		event_emitf(EVENT_IFACE_GONE, 0, attach,
			    "interface %s (ifindex %u) was deleted; bpfd's programs on it vanished with it",
			    name, c->ifindex);
	}
	log_warn("%s", hint);
}

static bool same_hook(const struct mrec *a, const struct mrec *b)
{
	return a->ck == b->ck && a->ifindex == b->ifindex &&
	       (a->ck == CHAIN_XDP || a->cdir == b->cdir);
}

/* recs[i] is the first chain record on its hook that follow_ifindex() looks at */
static bool first_on_hook(struct mgr *m, size_t i, uint32_t ifindex, bool all)
{
	const struct mrec *r;
	size_t j;

	for (j = 0; j < i; j++) {
		r = &m->recs[j];
		if (r->chain && (all || r->ifindex == ifindex) && same_hook(r, &m->recs[i]))
			return false;
	}
	return true;
}

/* Check every chain record on ifindex (all: on every hook), then note the hook as it
 * is now (follow_hook()): one read of a hook for all of its records (a chain of 10
 * was read 20 times at each notification). */
static void follow_ifindex(struct mgr *m, uint32_t ifindex, bool all, enum follow_why why,
			   const char *hint)
{
	struct hook_member_info mi;
	struct hook_look *l;
	struct mrec *r, *o;
	bool live;
	size_t i, j;

	l = malloc(sizeof(*l));
	if (!l)
		return;
	for (i = 0; i < m->n; i++) {
		r = &m->recs[i];
		if (!r->chain || !(all || r->ifindex == ifindex) || !first_on_hook(m, i, ifindex, all))
			continue;
		look_read(m, r, l);
		live = false;
		for (j = i; j < m->n; j++) {
			o = &m->recs[j];
			if (!o->chain || o->vanished[0] || !same_hook(o, r))
				continue;
			check_member(m, o, why, hint, look_member(l, o, &mi), &mi);
			live |= !o->vanished[0];
		}
		if (live)
			hook_seen(m, r->ck, r->ifindex, r->cdir, 0, l->mi, l->err ? 0 : l->n);
	}
	free(l);
	follow_prune(m);
}

int mgr_follow(struct mgr *m, const struct nl_change *c, size_t n, bool all)
{
	char hint[160];
	size_t i, j;
	bool seen;

	pthread_mutex_lock(&m->lock);
	if (all) {
		follow_ifindex(m, 0, true, FOLLOW_LOOK, NULL);
		goto out;
	}
	for (i = 0; i < n; i++) {
		/* one look per interface and batch: the latest word on it counts */
		seen = false;
		for (j = i + 1; j < n && !seen; j++)
			seen = c[j].ifindex == c[i].ifindex &&
			       (c[j].type == NL_LINK_GONE || c[i].type != NL_LINK_GONE);
		if (seen)
			continue;
		hint[0] = '\0';
		if (c[i].type == NL_LINK_GONE)
			link_gone(m, &c[i], hint, sizeof(hint));
		follow_ifindex(m, c[i].ifindex, false,
			       c[i].type != NL_LINK_GONE ? FOLLOW_NOTIFIED :
			       c[i].moved ? FOLLOW_MOVED : FOLLOW_GONE, hint);
	}
out:
	follow_sweep(m);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int mgr_prog_vanished(struct mgr *m, uint32_t id, char *buf, size_t size)
{
	struct mrec *mr;
	int err = -ENOENT;

	buf[0] = '\0';
	pthread_mutex_lock(&m->lock);
	mr = mrec_find(m, id);
	if (mr) {
		(void)follow_check(m, mr, FOLLOW_LOOK, NULL, NULL);
		snprintf(buf, size, "%s", mr->vanished);
		err = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return err;
}

void follow_unloaded(struct mgr *m, enum chain_kind ck, uint32_t ifindex, enum chain_dir dir)
{
	struct prog_ident pi;
	size_t i;
	int n;

	for (i = 0; i < m->n; i++)
		if (m->recs[i].chain && m->recs[i].ck == ck && m->recs[i].ifindex == ifindex &&
		    (ck == CHAIN_XDP || m->recs[i].cdir == dir))
			return;	/* the others still need the pins */
	/* the hook is gone: its dispatcher directory or TCX link pins hold the
	 * last program bpfd had there; remove what is dead (hook_reconcile is
	 * what the daemon's start does) */
	n = hook_reconcile(m->chains, NULL);
	if (n <= 0)
		return;
	log_info("removed %d pin%s of hooks that are gone", n, n == 1 ? "" : "s");
	/* vanished programs of other dead hooks went with them */
	for (i = 0; i < m->n; i++)
		if (m->recs[i].vanished[0] && prog_ident_id(m->recs[i].id, &pi) == -ENOENT)
			m->recs[i].freed = true;
	follow_sweep(m);
}
