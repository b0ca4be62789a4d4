/* SPDX-License-Identifier: Apache-2.0 */
/* disp.c - the dispatcher engine shared by XDP and TC: read a hook's chain from
 * kernel + pins, rebuild it with one program more or less, swap atomically, retry when
 * another manager (libxdp, another bpfd client) changed the hook in between.
 *
 * Every change, under flock(<root>):
 *   1. read what is attached; a dispatcher's config gives priorities and proceed-on,
 *      <root>/dispatch-<ifindex>-<id>/prog<N>-prog give the members (foreign ones too);
 *   2. sort the new member set (chain_sort), load a new dispatcher with that config;
 *   3. link every member (freplace) into its slot of the new dispatcher, pin the links
 *      and programs under <root>/dispatch-<ifindex>-<new id>/;
 *   4. swap the hook from the old dispatcher to the new one, expecting the old one
 *      (XDP: netlink XDP_FLAGS_REPLACE + expected fd; TC: BPF_TC_F_REPLACE at the same
 *      handle and priority after checking the current id) - a mismatch means somebody
 *      else changed the hook: undo 2-3 and start again from 1;
 *   5. remove the old pin directory: the old links go, the old dispatcher is freed.
 * A crash before 4 leaves the old chain working and a stale directory that
 * hook_reconcile() removes; a crash after 4 leaves the old directory, removed likewise.
 *
 * When the kernel refuses freplace, disp_direct_attach() puts a single program on the
 * hook itself, through the same hook_ops and with the same checks. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/hook_int.h"
#include "bpf/embed.h"
#include "core/base/fs.h"
#include "core/base/log.h"

#define CONF_MAX	256

static void pin_dir(const struct hook *h, uint32_t id, char *buf, size_t size)
{
	snprintf(buf, size, "%s/dispatch-%u-%u", h->root, h->ifindex, id);
}

int disp_load(const struct hook_ops *ops, const void *conf, bool frags,
	      struct bpf_object **ret_obj, int *ret_fd, struct errmsg *em)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = ops->kind == CHAIN_XDP ?
		    "xdp_disp" : "tc_disp");
	const char *name = ops->disp_obj ? ops->disp_obj(conf) : ops->disp_name;
	struct bpf_object *o = NULL;
	struct bpf_program *p;
	struct bpf_map *m, *rodata = NULL;
	const void *data;
	size_t len;
	int err;

	err = embed_find(name, &data, &len);
	if (err)
		return errmsg_set(em, err, "the embedded %s object is missing", name);
	o = bpf_object__open_mem(data, len, &oo);
	if (!o)
		return errmsg_set(em, -errno, "cannot open the embedded %s object", name);
	/* every variant's program has the one name libxdp and read_config() know */
	p = bpf_object__find_program_by_name(o, ops->disp_name);
	bpf_object__for_each_map(m, o)
		if (strstr(bpf_map__name(m), ".rodata"))
			rodata = m;
	if (!p || !rodata) {
		err = errmsg_set(em, -ENOEXEC, "the embedded %s object has no program or "
				 "config", name);
		goto out;
	}
	err = bpf_map__set_initial_value(rodata, conf, ops->conf_size);
	if (!err && frags)
		err = bpf_program__set_flags(p, bpf_program__flags(p) | BPF_F_XDP_HAS_FRAGS);
	if (!err)
		err = bpf_object__load(o);
	if (err) {
		errmsg_set(em, err, "cannot load the %s: %s", ops->disp_name, strerror(-err));
		goto out;
	}
	*ret_fd = bpf_program__fd(p);
	*ret_obj = o;
	o = NULL;
out:
	bpf_object__close(o);
	return err;
}

void disp_state_free(struct hook_state *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->m[i].prog_fd >= 0)
			close(st->m[i].prog_fd);
	if (st->fd >= 0)
		close(st->fd);
	st->n = 0;
	st->fd = -1;
}

/* Read the members from the pins of dispatcher st->id; -ENOENT when they are missing. */
static int read_pins(struct hook *h, struct hook_state *st)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	size_t i;
	int fd;

	pin_dir(h, st->id, dir, sizeof(dir));
	for (i = 0; i < st->n; i++) {
		struct member *m = &st->m[i];

		snprintf(path, sizeof(path), "%s/prog%zu-prog", dir, i);
		m->prog_fd = bpf_obj_get(path);
		if (m->prog_fd < 0)
			return -ENOENT;
		kinfo_prog_desc(m->prog_fd, &m->e.prog_id, m->e.name, sizeof(m->e.name));
		snprintf(path, sizeof(path), "%s/prog%zu-link", dir, i);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			kinfo_link_desc(fd, &m->link_id, NULL, NULL, NULL);
			close(fd);
		}
	}
	return 0;
}

/* Is the attached program a dispatcher of ours (name, one frozen config map)?  Fills
 * the member entries from its config. */
static int read_config(struct hook *h, struct hook_state *st)
{
	struct bpf_prog_info info = {};
	struct bpf_map_info minfo = {};
	struct chain_entry e[CHAIN_MAX_PROGS];
	__u32 len = sizeof(info), map_id = 0, key = 0;
	unsigned char conf[CONF_MAX];
	size_t i, n = 0;
	int mfd = -1, err;

	info.nr_map_ids = 1;
	info.map_ids = (uintptr_t)&map_id;
	if (bpf_obj_get_info_by_fd(st->fd, &info, &len))
		return -errno;
	if (strcmp(info.name, h->ops->disp_name) || info.nr_map_ids != 1 || !info.btf_id)
		return 0;	/* a plain program attached directly */
	mfd = bpf_map_get_fd_by_id(map_id);
	if (mfd < 0)
		return -errno;
	len = sizeof(minfo);
	err = bpf_obj_get_info_by_fd(mfd, &minfo, &len) ? -errno : 0;
	if (!err && (minfo.key_size != 4 || minfo.max_entries != 1 ||
		     minfo.value_size > CONF_MAX || !(minfo.map_flags & BPF_F_RDONLY_PROG)))
		goto foreign;
	if (!err)
		err = bpf_map_lookup_elem(mfd, &key, conf) ? -errno : 0;
	if (err)
		goto out;
	if (h->ops->conf_read(conf, minfo.value_size, e, &n, &st->version))
		goto foreign;
	st->n = n;
	for (i = 0; i < n; i++) {
		st->m[i].e = e[i];
		st->m[i].prog_fd = -1;
	}
	if (read_pins(h, st))
		goto foreign;
	st->dispatcher = true;
	goto out;
foreign:
	/* another layout or version, or no pins (bpfman, a crashed libxdp): not ours */
	st->foreign_disp = true;
	for (i = 0; i < st->n; i++)
		if (st->m[i].prog_fd >= 0)
			close(st->m[i].prog_fd);
	st->n = 0;
out:
	close(mfd);
	return err;
}

int disp_state_read(struct hook *h, struct hook_state *st)
{
	int err;

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	err = h->ops->query(h, &st->id, &st->mode_flags);
	if (err || !st->id)
		return err;
	st->fd = bpf_prog_get_fd_by_id(st->id);
	if (st->fd < 0)
		return errno == ENOENT ? -EAGAIN : -errno;	/* replaced meanwhile */
	kinfo_prog_desc(st->fd, NULL, st->name, sizeof(st->name));
	err = read_config(h, st);
	if (err)
		disp_state_free(st);
	return err;
}

static void members_sort(struct member *m, size_t n)
{
	struct member tmp;
	size_t i, j;

	for (i = 1; i < n; i++) {
		tmp = m[i];
		for (j = i; j > 0 && chain_entry_cmp(&m[j - 1].e, &tmp.e) > 0; j--)
			m[j] = m[j - 1];
		m[j] = tmp;
	}
}

static const char *hook_what(const struct hook *h, char *buf, size_t size)
{
	if (h->kind == CHAIN_XDP)
		snprintf(buf, size, "XDP hook of %s", h->iface);
	else
		snprintf(buf, size, "TC %s hook of %s", chain_dir_str(h->dir), h->iface);
	return buf;
}

/* Unpin and drop a dispatcher tree built by build() */
static void unbuild(const char *dir, int *link_fd, size_t n)
{
	size_t i;

	if (dir[0])
		fs_rmtree(dir);
	for (i = 0; i < n; i++)
		if (link_fd[i] >= 0)
			close(link_fd[i]);
}

/* Steps 2-3: dispatcher for members m[0..n) (sorted), linked and pinned. */
static int build(struct hook *h, struct member *m, size_t n, struct bpf_object **ret_obj,
		 int *ret_fd, uint32_t *ret_id, int *link_fd, char *dir, size_t dir_size,
		 struct errmsg *em)
{
	unsigned char conf[CONF_MAX] = {};
	struct chain_entry e[CHAIN_MAX_PROGS];
	char slot[16], path[PATH_MAX + 32], what[64];
	struct btf *btf;
	size_t i;
	int err, id;

	dir[0] = '\0';
	for (i = 0; i < n; i++) {
		e[i] = m[i].e;
		link_fd[i] = -1;
	}
	err = h->ops->conf_fill(conf, e, n);
	if (err)
		return err;
	err = disp_load(h->ops, conf, h->kind == CHAIN_XDP &&
			((struct chain_xdp_conf *)conf)->is_xdp_frags, ret_obj, ret_fd, em);
	if (err)
		return err;
	kinfo_prog_desc(*ret_fd, ret_id, NULL, 0);
	btf = bpf_object__btf(*ret_obj);
	for (i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_link_create_opts, lo);

		/* a lone XDP member whose verdict passes through unchanged replaces the
		 * dispatcher's own function, as libxdp does: no dispatcher code runs
		 * before it; the pins keep the slot's name (prog0-*) */
		if (h->kind == CHAIN_XDP && chain_xdp_whole(e, n))
			snprintf(slot, sizeof(slot), "%s", h->ops->disp_name);
		else
			snprintf(slot, sizeof(slot), h->ops->slot_fmt, (unsigned int)i);
		id = btf__find_by_name_kind(btf, slot, BTF_KIND_FUNC);
		if (id < 0) {
			err = errmsg_set(em, id, "the %s has no function %s", h->ops->disp_name,
					 slot);
			goto fail;
		}
		/* attach type 0: an EXT link is defined by target fd and BTF id */
		lo.target_btf_id = id;
		link_fd[i] = bpf_link_create(m[i].prog_fd, *ret_fd, 0, &lo);
		if (link_fd[i] < 0) {
			err = -errno;
			errmsg_set(em, err, "cannot link program %u ('%s') into slot %zu of the "
				   "new dispatcher for the %s: %s", m[i].e.prog_id, m[i].e.name,
				   i, hook_what(h, what, sizeof(what)), strerror(-err));
			goto fail;
		}
		kinfo_link_desc(link_fd[i], &m[i].link_id, NULL, NULL, NULL);
	}
	pin_dir(h, *ret_id, dir, dir_size);
	if (mkdir(dir, 0700)) {
		err = errmsg_set(em, -errno, "cannot create %s: %s", dir, strerror(errno));
		dir[0] = '\0';
		goto fail;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/prog%zu-link", dir, i);
		err = bpf_obj_pin(link_fd[i], path) ? -errno : 0;
		if (!err) {
			snprintf(path, sizeof(path), "%s/prog%zu-prog", dir, i);
			err = bpf_obj_pin(m[i].prog_fd, path) ? -errno : 0;
		}
		if (err) {
			errmsg_set(em, err, "cannot pin %s: %s", path, strerror(-err));
			goto fail;
		}
	}
	return 0;
fail:
	unbuild(dir, link_fd, n);
	bpf_object__close(*ret_obj);
	*ret_obj = NULL;
	return err;
}

/* Hook occupied by something bpfd cannot extend: say what and what to do. */
static int not_extensible(struct hook *h, const struct hook_state *st, struct errmsg *em)
{
	char what[64];

	hook_what(h, what, sizeof(what));
	if (st->foreign_disp && h->kind == CHAIN_XDP && st->version != CHAIN_XDP_VERSION)
		return errmsg_set(em, -HOOK_EPRECONDITION, "the %s has a libxdp dispatcher "
				  "(program %u) of protocol version %d; bpfd speaks version %d "
				  "(libxdp 1.3 to 1.5): unload it with 'xdp-loader unload -a %s' "
				  "first", what, st->id, st->version, CHAIN_XDP_VERSION, h->iface);
	if (st->foreign_disp)
		return errmsg_set(em, -HOOK_EPRECONDITION, "the %s has a dispatcher (program "
				  "%u) without the pins under %s that bpfd and libxdp need to "
				  "extend it: it was attached by another manager; detach it first",
				  what, st->id, h->root);
	return errmsg_set(em, -HOOK_EPRECONDITION, "the %s already has program %u ('%s') "
			  "attached directly, not through a dispatcher; detach it first (%s)",
			  what, st->id, st->name, h->kind == CHAIN_XDP ?
			  "xdp-loader unload, or ip link set dev IFACE xdp off" :
			  "tc filter del");
}

static void cache_seed(struct hook *h, uint32_t id, const struct member *m, size_t n);

/* One attempt at replacing the chain in st by members m[0..n) (n == 0: detach). */
static int rebuild_once(struct hook *h, struct hook_state *st, struct member *m, size_t n,
			uint32_t *ret_id, struct errmsg *em)
{
	char dir[PATH_MAX], old[PATH_MAX];
	struct bpf_object *o = NULL;
	int link_fd[CHAIN_MAX_PROGS], fd = -1, err;
	uint32_t id = 0;

	if (!n) {
		err = h->ops->remove(h, st->fd, st->id, st->mode_flags, em);
		if (err)
			return err;
		goto retire;
	}
	if (!st->id) {
		err = h->ops->prepare(h, em);
		if (err)
			return err;
	}
	err = build(h, m, n, &o, &fd, &id, link_fd, dir, sizeof(dir), em);
	if (err)
		return err;
	err = h->ops->swap(h, fd, st->fd, st->id, st->mode_flags, em);
	if (err) {
		unbuild(dir, link_fd, n);
		if (!st->id)
			h->ops->cleanup(h);	/* TC: the clsact prepare() added */
		goto out;
	}
	unbuild("", link_fd, n);	/* the pins hold the links now */
	cache_seed(h, id, m, n);
	if (ret_id)
		*ret_id = id;
retire:
	if (st->id && st->dispatcher) {
		pin_dir(h, st->id, old, sizeof(old));
		if (fs_rmtree(old))
			log_warn("Failed to remove %s, ignoring", old);
	}
	if (!n)
		h->ops->cleanup(h);
out:
	bpf_object__close(o);
	return err;
}

/* Run fn under the hook's lock, again while it says the hook changed under it. */
static int retry_locked(struct hook *h, int (*fn)(struct hook *, void *, struct errmsg *),
			void *arg, struct errmsg *em)
{
	char what[64];
	int i, err = -EAGAIN;

	for (i = 0; i < HOOK_RETRIES && err == -EAGAIN; i++) {
		if (i)
			usleep(1000u << (i < 8 ? i : 8));
		err = hook_lock(h, em);
		if (err)
			return err;
		err = fn(h, arg, em);
		hook_unlock(h);
	}
	if (err == -EAGAIN)
		err = errmsg_set(em, -EAGAIN, "the %s kept changing while bpfd updated it "
				 "(another manager at work?); try again",
				 hook_what(h, what, sizeof(what)));
	return err;
}

struct add_arg {
	int prog_fd;
	const struct chain_entry *add;
	struct hook_result *ret;
};

static int add_once(struct hook *h, void *arg, struct errmsg *em)
{
	struct add_arg *a = arg;
	struct member m[CHAIN_MAX_PROGS];
	struct hook_state st;
	char what[64];
	size_t i, n;
	int err;

	err = disp_state_read(h, &st);
	if (err)
		return err == -EAGAIN ? err : errmsg_set(em, err, "cannot read the %s: %s",
			hook_what(h, what, sizeof(what)), strerror(-err));
	if (st.id && !st.dispatcher) {
		err = not_extensible(h, &st, em);
		goto out;
	}
	if (st.n >= CHAIN_MAX_PROGS) {
		err = errmsg_set(em, -HOOK_EFULL, "the %s already runs %d programs, the most "
				 "one dispatcher holds; unload one first",
				 hook_what(h, what, sizeof(what)), CHAIN_MAX_PROGS);
		goto out;
	}
	n = st.n;
	memcpy(m, st.m, n * sizeof(m[0]));
	m[n].e = *a->add;
	m[n].prog_fd = a->prog_fd;
	n++;
	members_sort(m, n);
	err = rebuild_once(h, &st, m, n, &a->ret->dispatcher_id, em);
	if (err)
		goto out;
	for (i = 0; i < n; i++) {
		if (!m[i].e.is_new)
			continue;
		a->ret->position = i;
		a->ret->link_id = m[i].link_id;
	}
	a->ret->prog_id = a->add->prog_id;
	a->ret->ifindex = h->ifindex;
	a->ret->mode = HOOK_MODE_DISPATCHER;
out:
	disp_state_free(&st);
	return err;
}

int disp_add(struct hook *h, int prog_fd, const struct chain_entry *add,
	     struct hook_result *ret, struct errmsg *em)
{
	struct add_arg a = { .prog_fd = prog_fd, .add = add, .ret = ret };

	return retry_locked(h, add_once, &a, em);
}

static int remove_once(struct hook *h, void *arg, struct errmsg *em)
{
	uint32_t prog_id = *(uint32_t *)arg;
	struct member m[CHAIN_MAX_PROGS];
	struct hook_state st;
	char what[64];
	size_t i, n = 0;
	int err;

	err = disp_state_read(h, &st);
	if (err)
		return err;
	for (i = 0; st.dispatcher && i < st.n; i++)
		if (st.m[i].e.prog_id != prog_id)
			m[n++] = st.m[i];
	if (!st.dispatcher || n == st.n) {
		err = errmsg_set(em, -ENOENT, "program %u is not on the %s", prog_id,
				 hook_what(h, what, sizeof(what)));
		goto out;
	}
	err = rebuild_once(h, &st, m, n, NULL, em);
out:
	disp_state_free(&st);
	return err;
}

int disp_remove(struct hook *h, uint32_t prog_id, struct errmsg *em)
{
	return retry_locked(h, remove_once, &prog_id, em);
}

struct modify_arg {
	uint32_t prog_id;
	int32_t priority;
	uint32_t proceed_on;
	struct hook_result *ret;
};

/* The member's new priority and proceed-on: a new dispatcher with the new order and
 * config, every member re-linked, swapped in at once (rebuild_once); unchanged values
 * touch nothing.  A direct attachment has no config to change: 0, mode direct. */
static int modify_once(struct hook *h, void *arg, struct errmsg *em)
{
	struct modify_arg *a = arg;
	struct member m[CHAIN_MAX_PROGS];
	struct hook_state st;
	char what[64];
	size_t i, n;
	int err, at = -1;

	err = disp_state_read(h, &st);
	if (err)
		return err;
	memset(a->ret, 0, sizeof(*a->ret));
	a->ret->prog_id = a->prog_id;
	a->ret->ifindex = h->ifindex;
	if (st.id == a->prog_id && !st.dispatcher) {
		a->ret->mode = HOOK_MODE_DIRECT;
		goto out;
	}
	n = st.dispatcher ? st.n : 0;
	for (i = 0; i < n; i++)
		if (st.m[i].e.prog_id == a->prog_id)
			at = i;
	if (at < 0) {
		err = errmsg_set(em, -ENOENT, "program %u is not on the %s", a->prog_id,
				 hook_what(h, what, sizeof(what)));
		goto out;
	}
	memcpy(m, st.m, n * sizeof(m[0]));
	a->ret->mode = HOOK_MODE_DISPATCHER;
	a->ret->dispatcher_id = st.id;
	if (m[at].e.priority != a->priority || m[at].e.proceed_on != a->proceed_on) {
		m[at].e.priority = a->priority;
		m[at].e.proceed_on = a->proceed_on;
		members_sort(m, n);
		err = rebuild_once(h, &st, m, n, &a->ret->dispatcher_id, em);
		if (err)
			goto out;
	}
	for (i = 0; i < n; i++) {
		if (m[i].e.prog_id != a->prog_id)
			continue;
		a->ret->position = i;
		a->ret->link_id = m[i].link_id;
	}
out:
	disp_state_free(&st);
	return err;
}

int disp_modify(struct hook *h, uint32_t prog_id, int32_t priority, uint32_t proceed_on,
		struct hook_result *ret, struct errmsg *em)
{
	struct modify_arg a = { .prog_id = prog_id, .priority = priority,
				.proceed_on = proceed_on, .ret = ret };

	return retry_locked(h, modify_once, &a, em);
}

/* Member i of st; iface: the interface's name now ("" when it is gone). */
static void member_info(struct hook *h, const struct hook_state *st, size_t i,
			const char *iface, struct hook_member_info *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = h->kind;
	r->ifindex = h->ifindex;
	r->dir = h->dir;
	snprintf(r->iface, sizeof(r->iface), "%s", iface);
	r->position = i;
	if (!st->dispatcher) {
		r->prog_id = st->id;
		snprintf(r->name, sizeof(r->name), "%s", st->name);
		r->mode = HOOK_MODE_DIRECT;
		return;
	}
	r->prog_id = st->m[i].e.prog_id;
	snprintf(r->name, sizeof(r->name), "%s", st->m[i].e.name);
	r->mode = HOOK_MODE_DISPATCHER;
	r->have_config = true;
	r->priority = st->m[i].e.priority;
	r->proceed_on = st->m[i].e.proceed_on;
	r->dispatcher_id = st->id;
	r->link_id = st->m[i].link_id;
}

/* The members disp_members() last read on a hook.  A dispatcher's members never change
 * while its id stays (every change builds a new dispatcher), so a later read that finds
 * the same dispatcher on the hook and its pin directory untouched (same inode and
 * mtime: removed pins, or a bpffs unmounted, show there) answers from here, with one
 * netlink request instead of opening and describing every pin. */
struct members_cache {
	enum chain_kind kind;
	enum chain_dir dir;
	uint32_t ifindex;
	uint32_t disp_id;
	dev_t dev;
	ino_t ino;
	struct timespec mtim;
	size_t n;
	struct hook_member_info m[CHAIN_MAX_PROGS];
};

void disp_cache_free(struct hook_env *env)
{
	free(env->members);
	env->members = NULL;
	env->n_members = 0;
}

static struct members_cache *cache_find(struct hook *h)
{
	struct members_cache *c;
	size_t i;

	for (i = 0; i < h->env->n_members; i++) {
		c = &h->env->members[i];
		if (c->kind == h->kind && c->dir == h->dir && c->ifindex == h->ifindex)
			return c;
	}
	return NULL;
}

static int dir_stat(struct hook *h, uint32_t id, struct stat *sb)
{
	char dir[PATH_MAX];

	pin_dir(h, id, dir, sizeof(dir));
	return stat(dir, sb) ? -errno : 0;
}

static bool cache_get(struct hook *h, uint32_t id, struct hook_member_info *ret, size_t max,
		      size_t *ret_n)
{
	char iface[IF_NAMESIZE] = "";
	struct members_cache *c;
	struct stat sb;
	bool hit = false;
	size_t i;

	if (dir_stat(h, id, &sb))
		return false;
	/* renames show at once, as with a fresh read: hook_init() just looked */
	if (h->iface_found)
		snprintf(iface, sizeof(iface), "%s", h->iface);
	pthread_mutex_lock(&h->env->cache_lock);
	c = cache_find(h);
	if (c && c->disp_id == id && c->dev == sb.st_dev && c->ino == sb.st_ino &&
	    c->mtim.tv_sec == sb.st_mtim.tv_sec && c->mtim.tv_nsec == sb.st_mtim.tv_nsec) {
		hit = true;
		for (i = 0; i < c->n && i < max; i++) {
			ret[i] = c->m[i];
			snprintf(ret[i].iface, sizeof(ret[i].iface), "%s", iface);
		}
		*ret_n = c->n;
	}
	pthread_mutex_unlock(&h->env->cache_lock);
	return hit;
}

/* Remember members m[0..n) of dispatcher id, read with its pin directory as in sb. */
static void cache_put(struct hook *h, uint32_t id, const struct stat *sb,
		      const struct hook_member_info *m, size_t n)
{
	struct members_cache *c, *v;

	if (n > CHAIN_MAX_PROGS)
		return;
	pthread_mutex_lock(&h->env->cache_lock);
	c = cache_find(h);
	if (!c) {
		v = reallocarray(h->env->members, h->env->n_members + 1, sizeof(*v));
		if (!v)
			goto out;
		h->env->members = v;
		c = &v[h->env->n_members++];
	}
	c->kind = h->kind;
	c->dir = h->dir;
	c->ifindex = h->ifindex;
	c->disp_id = id;
	c->dev = sb->st_dev;
	c->ino = sb->st_ino;
	c->mtim = sb->st_mtim;
	c->n = n;
	memcpy(c->m, m, n * sizeof(m[0]));
out:
	pthread_mutex_unlock(&h->env->cache_lock);
}

/* The members of dispatcher id, just built and pinned under the hook's lock: what
 * the next disp_members() would read from its pins (the load's own look at the
 * chain, the notification of the swap) is known already. */
static void cache_seed(struct hook *h, uint32_t id, const struct member *m, size_t n)
{
	struct hook_member_info mi[CHAIN_MAX_PROGS];
	struct hook_state ns = { .id = id, .fd = -1, .dispatcher = true };
	struct stat sb;
	size_t i;

	if (n > CHAIN_MAX_PROGS || dir_stat(h, id, &sb))
		return;
	ns.n = n;
	for (i = 0; i < n; i++) {
		ns.m[i] = m[i];
		member_info(h, &ns, i, h->iface_found ? h->iface : "", &mi[i]);
	}
	cache_put(h, id, &sb, mi, n);
}

int disp_members(struct hook *h, struct hook_member_info *ret, size_t max,
		 size_t *ret_n)
{
	struct hook_member_info mi[CHAIN_MAX_PROGS];
	char iface[IF_NAMESIZE] = "";
	struct hook_state st;
	struct stat sb;
	uint32_t id = 0, mode;
	size_t i, n;
	int err, tries = 0;
	bool stat_ok;

	do {
		err = hook_lock(h, NULL);
		if (err)
			return err;
		if (!tries && !h->ops->query(h, &id, &mode) && id &&
		    cache_get(h, id, ret, max, ret_n)) {
			hook_unlock(h);
			return 0;
		}
		err = disp_state_read(h, &st);
		/* the directory as it was when the pins were read, under the lock */
		stat_ok = !err && st.dispatcher && !dir_stat(h, st.id, &sb);
		hook_unlock(h);
	} while (err == -EAGAIN && ++tries < HOOK_RETRIES);
	if (err)
		return err;
	n = st.dispatcher ? st.n : st.id ? 1 : 0;
	if (n && h->iface_found)
		snprintf(iface, sizeof(iface), "%s", h->iface);
	for (i = 0; i < n && i < CHAIN_MAX_PROGS; i++)
		member_info(h, &st, i, iface, &mi[i]);
	for (i = 0; i < n && i < max; i++)
		ret[i] = mi[i];
	*ret_n = n;
	if (stat_ok)
		cache_put(h, st.id, &sb, mi, n);
	disp_state_free(&st);
	return 0;
}

int disp_direct_attach(struct hook *h, int prog_fd, struct hook_result *ret,
		       struct errmsg *em)
{
	struct hook_state st = { .fd = -1 };
	int err;

	err = hook_lock(h, em);
	if (err)
		return err;
	err = disp_state_read(h, &st);
	if (!err && st.id)
		err = not_extensible(h, &st, em);
	if (!err)
		err = h->ops->prepare(h, em);
	if (!err) {
		err = h->ops->swap(h, prog_fd, -1, 0, 0, em);
		if (err && err != -EAGAIN)
			h->ops->cleanup(h);
	}
	if (err == -EAGAIN) {
		disp_state_free(&st);
		if (!disp_state_read(h, &st))
			err = not_extensible(h, &st, em);
	}
	hook_unlock(h);
	disp_state_free(&st);
	if (err)
		return err;
	memset(ret, 0, sizeof(*ret));
	ret->ifindex = h->ifindex;
	ret->mode = HOOK_MODE_DIRECT;
	return kinfo_prog_desc(prog_fd, &ret->prog_id, NULL, 0);
}

int disp_direct_detach(struct hook *h, uint32_t prog_id, struct errmsg *em)
{
	struct hook_state st;
	char what[64];
	int err;

	err = hook_lock(h, em);
	if (err)
		return err;
	err = disp_state_read(h, &st);
	if (!err && (st.id != prog_id || st.dispatcher))
		err = errmsg_set(em, -ENOENT, "program %u is not on the %s", prog_id,
				 hook_what(h, what, sizeof(what)));
	if (!err)
		err = h->ops->remove(h, st.fd, st.id, st.mode_flags, em);
	if (!err)
		h->ops->cleanup(h);
	if (err == -EAGAIN)
		err = errmsg_set(em, -EAGAIN, "the %s changed while bpfd detached program %u; "
				 "try again", hook_what(h, what, sizeof(what)), prog_id);
	hook_unlock(h);
	disp_state_free(&st);
	return err;
}

int disp_reconcile(struct hook_env *env, const struct hook_ops *ops, const char *root,
		   enum chain_dir dir)
{
	char path[PATH_MAX + 300];
	struct dirent *de;
	struct hook h = {};
	unsigned int ifindex, id;
	int n = 0;
	DIR *d;

	h.env = env;
	h.ops = ops;
	h.kind = ops->kind;
	h.dir = dir;
	h.root = root;
	h.lock_fd = -1;
	d = opendir(root);
	if (!d)
		return 0;
	if (hook_lock(&h, NULL)) {
		closedir(d);
		return 0;
	}
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "dispatch-%u-%u", &ifindex, &id) != 2)
			continue;
		h.ifindex = ifindex;
		if (if_indextoname(ifindex, h.iface) && ops->is_attached(&h, id))
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		log_info("Removing %s: dispatcher %u is not attached to ifindex %u", path, id,
			 ifindex);
		if (!fs_rmtree(path))
			n++;
	}
	hook_unlock(&h);
	closedir(d);
	return n;
}
