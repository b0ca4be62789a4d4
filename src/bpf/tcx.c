/* SPDX-License-Identifier: Apache-2.0 */
/* tcx.c - TCX (kernel >= 6.6): one bpf_link per program, kernel ordering, no dispatcher.
 *
 * libbpf 1.1.2 and the 6.1 uapi headers know nothing of TCX, so the link is made with
 * a raw bpf(BPF_LINK_CREATE) whose attr layout is spelled out below (from the 6.6 uapi).
 * Order: bpfd's programs on a hook are sorted by chain_sort() (priority, name, id); a
 * new one goes BEFORE its next bpfd neighbour, else AFTER its previous one, else to the
 * head of the hook (foreign TCX programs then run after it).  The hook's revision is
 * passed as expected_revision: a concurrent change (ESTALE) is retried.
 *
 * Pins: <bpffs>/tcx-<dir>/link-<ifindex>-<priority>-<prog id>, under
 * flock(<bpffs>/tcx-<dir>): the pin keeps the link (and so the program) alive across
 * daemon restarts, and its name keeps the priority, which the kernel does not.
 *
 * A priority change that moves a program (tcx_modify) cannot be one kernel step: the
 * kernel has no "move", and a program can be on a hook only once.  So a stand-in
 * (tcx_standin.bpf.c: tail-calls the program) is linked at the new place and pinned as
 * standin-<ifindex>-<new priority>-<prog id>; the old link is detached; the stand-in's
 * link is switched to the program (bpf_link_update) and its pin renamed to the link-
 * name.  A crash in between is finished or undone by tcx_reconcile(). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/embed.h"
#include "bpf/hook_int.h"
#include "core/base/fs.h"
#include "core/base/log.h"

#define TCX_INGRESS		46	/* BPF_TCX_INGRESS */
#define TCX_EGRESS		47	/* BPF_TCX_EGRESS */
#define LINK_TYPE_TCX		11	/* BPF_LINK_TYPE_TCX */
#define F_BEFORE		(1u << 3)
#define F_AFTER			(1u << 4)
#define F_ID			(1u << 5)

/* union bpf_attr for BPF_LINK_CREATE, tcx member (6.6) */
struct tcx_link_attr {
	__u32 prog_fd;
	__u32 target_ifindex;
	__u32 attach_type;
	__u32 flags;
	__u32 relative_id;	/* union with relative_fd */
	__u32 pad;
	__u64 expected_revision;
};

/* union bpf_attr for BPF_PROG_QUERY (6.6) */
struct tcx_query_attr {
	__u32 target_ifindex;
	__u32 attach_type;
	__u32 query_flags;
	__u32 attach_flags;
	__u64 prog_ids;
	__u32 count;
	__u32 pad;
	__u64 prog_attach_flags;
	__u64 link_ids;
	__u64 link_attach_flags;
	__u64 revision;
};

static int sys_bpf(int cmd, void *attr, size_t size)
{
	return syscall(__NR_bpf, cmd, attr, size);
}

static __u32 attach_type(enum chain_dir dir)
{
	return dir == CHAIN_EGRESS ? TCX_EGRESS : TCX_INGRESS;
}

/* Programs and links on the hook in run order; returns the count (<= max). */
static int tcx_query(uint32_t ifindex, enum chain_dir dir, uint32_t *prog_ids,
		     uint32_t *link_ids, size_t max, uint64_t *ret_revision)
{
	struct tcx_query_attr a = {
		.target_ifindex = ifindex,
		.attach_type = attach_type(dir),
		.prog_ids = (uintptr_t)prog_ids,
		.link_ids = (uintptr_t)link_ids,
		.count = max,
	};

	if (sys_bpf(BPF_PROG_QUERY, &a, sizeof(a)))
		return -errno;
	if (ret_revision)
		*ret_revision = a.revision;
	return a.count < max ? a.count : max;
}

int tcx_probe(struct errmsg *em)
{
	uint32_t ids[1];
	int err;

	err = tcx_query(1, CHAIN_INGRESS, ids, NULL, 1, NULL);	/* lo */
	if (err >= 0)
		return 0;
	return errmsg_set(em, -EOPNOTSUPP, "this kernel has no TCX (BPF_TCX_INGRESS, Linux "
			  "6.6 and later): %s; use the tc kind instead", strerror(-err));
}

struct tcx_pin {
	uint32_t ifindex;
	int32_t priority;
	uint32_t prog_id;
	char path[PATH_MAX];
};

static bool parse_pin_as(const char *fmt, const char *root, const char *name,
			 struct tcx_pin *p)
{
	int n = 0;

	if (sscanf(name, fmt, &p->ifindex, &p->priority, &p->prog_id, &n) != 3 || name[n])
		return false;
	snprintf(p->path, sizeof(p->path), "%s/%s", root, name);
	return true;
}

static bool parse_pin(const char *root, const char *name, struct tcx_pin *p)
{
	return parse_pin_as("link-%u-%d-%u%n", root, name, p);
}

static bool parse_standin(const char *root, const char *name, struct tcx_pin *p)
{
	return parse_pin_as("standin-%u-%d-%u%n", root, name, p);
}

/* Is the pinned link still attached to ifindex with prog_id? */
static bool pin_alive(const struct tcx_pin *p)
{
	uint32_t prog_id = 0, type = 0, ifindex = 0;
	int fd;

	fd = bpf_obj_get(p->path);
	if (fd < 0)
		return false;
	kinfo_link_desc(fd, NULL, &prog_id, &type, &ifindex);
	close(fd);
	return type == LINK_TYPE_TCX && prog_id == p->prog_id && ifindex == p->ifindex;
}

/* bpfd's live pins for ifindex, sorted into entries e (names from the programs). */
static int read_pins(const char *root, uint32_t ifindex, struct tcx_pin *pins,
		     struct chain_entry *e, size_t max, size_t *ret_n)
{
	struct tcx_pin p;
	struct dirent *de;
	size_t n = 0, i, j;
	DIR *d;

	d = opendir(root);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) && n < max) {
		if (!parse_pin(root, de->d_name, &p) || p.ifindex != ifindex || !pin_alive(&p))
			continue;
		pins[n] = p;
		memset(&e[n], 0, sizeof(e[n]));
		e[n].prog_id = p.prog_id;
		e[n].priority = p.priority;
		kinfo_prog_name(p.prog_id, e[n].name, sizeof(e[n].name));
		n++;
	}
	closedir(d);
	chain_sort(e, n);
	/* keep pins[] in the order of e[] */
	for (i = 0; i < n; i++)
		for (j = i; j < n; j++)
			if (pins[j].prog_id == e[i].prog_id) {
				p = pins[i];
				pins[i] = pins[j];
				pins[j] = p;
				break;
			}
	*ret_n = n;
	return 0;
}

static int lock_root(const char *root, struct errmsg *em)
{
	int err;

	err = fs_mkdir_p(root, 0700);
	if (err)
		return errmsg_set(em, err, "cannot create %s: %s", root, strerror(-err));
	return hook_lock_dir(root, em);
}

static int position_of(uint32_t ifindex, enum chain_dir dir, uint32_t prog_id)
{
	uint32_t ids[CHAIN_TCX_MAX_PROGS];
	int n, i;

	n = tcx_query(ifindex, dir, ids, NULL, CHAIN_TCX_MAX_PROGS, NULL);
	for (i = 0; i < n; i++)
		if (ids[i] == prog_id)
			return i;
	return -1;
}

/* Link prog_fd to the hook before (else after) the program anchor (0: head/tail),
 * expecting the hook's revision: the link fd, or -errno (-ESTALE: the hook changed
 * since the query). */
static int link_create(int prog_fd, uint32_t ifindex, enum chain_dir dir, bool before,
		       uint32_t anchor)
{
	struct tcx_link_attr a = {};
	uint32_t ids[CHAIN_TCX_MAX_PROGS];
	uint64_t revision = 0;
	int err, fd;

	err = tcx_query(ifindex, dir, ids, NULL, CHAIN_TCX_MAX_PROGS, &revision);
	if (err < 0)
		return err;
	a.prog_fd = prog_fd;
	a.target_ifindex = ifindex;
	a.attach_type = attach_type(dir);
	a.flags = before ? F_BEFORE : F_AFTER;
	if (anchor) {
		a.flags |= F_ID;
		a.relative_id = anchor;
	}
	a.expected_revision = revision;
	fd = sys_bpf(BPF_LINK_CREATE, &a, sizeof(a));
	return fd < 0 ? -errno : fd;
}

static int attach_once(struct hook_env *env, int prog_fd, const struct hook_req *req,
		       uint32_t ifindex, struct hook_result *ret, struct errmsg *em)
{
	const char *root = env->tcx_root[req->dir];
	struct tcx_pin pins[CHAIN_TCX_MAX_PROGS];
	struct chain_entry e[CHAIN_TCX_MAX_PROGS], add = {};
	char path[PATH_MAX + 64];
	uint32_t anchor;
	size_t n = 0, pos;
	bool before;
	int err, lfd = -1, lock;

	lock = lock_root(root, em);
	if (lock < 0)
		return lock;
	err = read_pins(root, ifindex, pins, e, CHAIN_TCX_MAX_PROGS - 1, &n);
	if (err)
		goto out;
	err = kinfo_prog_desc(prog_fd, &add.prog_id, add.name, sizeof(add.name));
	if (err)
		goto out;
	add.priority = req->priority;
	pos = chain_insert_pos(e, n, &add);
	memmove(&e[pos + 1], &e[pos], (n - pos) * sizeof(e[0]));
	e[pos] = add;
	n++;
	chain_tcx_anchor(e, n, pos, &before, &anchor);
	lfd = link_create(prog_fd, ifindex, req->dir, before, anchor);
	if (lfd < 0) {
		err = lfd;
		if (err == -ESTALE)
			goto out;	/* the hook changed since the query: again */
		errmsg_set(em, err, "cannot attach TCX program %u to %s %s: %s", add.prog_id,
			   req->iface, chain_dir_str(req->dir), strerror(-err));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/link-%u-%d-%u", root, ifindex, req->priority,
		 add.prog_id);
	if (bpf_obj_pin(lfd, path)) {
		err = errmsg_set(em, -errno, "cannot pin %s: %s", path, strerror(errno));
		bpf_link_detach(lfd);
		goto out;
	}
	memset(ret, 0, sizeof(*ret));
	ret->prog_id = add.prog_id;
	ret->ifindex = ifindex;
	ret->mode = HOOK_MODE_TCX;
	ret->position = position_of(ifindex, req->dir, add.prog_id);
	kinfo_link_desc(lfd, &ret->link_id, NULL, NULL, NULL);
	err = 0;
out:
	if (lfd >= 0)
		close(lfd);
	hook_unlock_dir(lock);
	return err;
}

int tcx_attach(struct hook_env *env, int prog_fd, const struct hook_req *req,
	       uint32_t ifindex, struct hook_result *ret, struct errmsg *em)
{
	int i, err = -ESTALE;

	for (i = 0; i < HOOK_RETRIES && err == -ESTALE; i++)
		err = attach_once(env, prog_fd, req, ifindex, ret, em);
	if (err == -ESTALE)
		err = errmsg_set(em, -EAGAIN, "the TCX %s hook of %s kept changing; try again",
				 chain_dir_str(req->dir), req->iface);
	return err;
}

int tcx_detach(struct hook_env *env, uint32_t ifindex, enum chain_dir dir,
	       uint32_t prog_id, struct errmsg *em)
{
	const char *root = env->tcx_root[dir];
	struct tcx_pin pins[CHAIN_TCX_MAX_PROGS];
	struct chain_entry e[CHAIN_TCX_MAX_PROGS];
	size_t n = 0, i;
	int err, fd, lock;

	lock = lock_root(root, em);
	if (lock < 0)
		return lock;
	err = read_pins(root, ifindex, pins, e, CHAIN_TCX_MAX_PROGS, &n);
	for (i = 0; !err && i < n; i++) {
		if (pins[i].prog_id != prog_id)
			continue;
		fd = bpf_obj_get(pins[i].path);
		if (fd >= 0) {
			if (bpf_link_detach(fd))
				err = errmsg_set(em, -errno, "cannot detach TCX link %s: %s",
						 pins[i].path, strerror(errno));
			close(fd);
		}
		if (!err)
			unlink(pins[i].path);
		goto out;
	}
	if (!err)
		err = errmsg_set(em, -ENOENT, "program %u is not a bpfd TCX program on %s of "
				 "ifindex %u", prog_id, chain_dir_str(dir), ifindex);
out:
	hook_unlock_dir(lock);
	return err;
}

/* Load the stand-in with prog_fd in its slot: its object (the caller closes it once
 * the stand-in's link switched to the program) and program fd. */
static int standin_load(int prog_fd, struct bpf_object **ret_obj, int *ret_fd,
			struct errmsg *em)
{
	struct bpf_object *o = NULL;
	struct bpf_program *p;
	struct bpf_map *map;
	const void *data;
	size_t len;
	__u32 key = 0, val = prog_fd;
	int err;

	err = embed_find("tcx_standin", &data, &len);
	if (err)
		return errmsg_set(em, err, "the embedded tcx_standin object is missing");
	o = bpf_object__open_mem(data, len, NULL);
	if (!o)
		return errmsg_set(em, -errno, "cannot open the embedded tcx_standin object");
	p = bpf_object__find_program_by_name(o, "tcx_standin");
	map = bpf_object__find_map_by_name(o, "standin_target");
	if (!p || !map) {
		err = errmsg_set(em, -ENOEXEC, "the embedded tcx_standin object is incomplete");
		goto out;
	}
	bpf_program__set_type(p, BPF_PROG_TYPE_SCHED_CLS);
	err = bpf_object__load(o);
	if (err) {
		errmsg_set(em, err, "cannot load the TCX stand-in: %s", strerror(-err));
		goto out;
	}
	if (bpf_map_update_elem(bpf_map__fd(map), &key, &val, BPF_ANY)) {
		err = errmsg_set(em, -errno, "the TCX stand-in cannot call the program: %s",
				 strerror(errno));
		goto out;
	}
	*ret_fd = bpf_program__fd(p);
	*ret_obj = o;
	o = NULL;
out:
	bpf_object__close(o);
	return err;
}

/* Is the order of bpfd's programs the same with a (n entries) as with b? */
static bool same_order(const struct chain_entry *a, const struct chain_entry *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i].prog_id != b[i].prog_id)
			return false;
	return true;
}

/* Steps 2-4 of a move (the stand-in's link lfd is attached and pinned at standin):
 * old link off, stand-in's link to the program, pins renamed.  On failure the program
 * is put back on the hook (at its new place) as well as can be. */
static int move_finish(int lfd, int prog_fd, const char *old_pin, const char *standin,
		       const char *new_pin, struct errmsg *em)
{
	int ofd, err;

	ofd = bpf_obj_get(old_pin);
	if (ofd < 0)
		return errmsg_set(em, -errno, "cannot open TCX link %s: %s", old_pin,
				  strerror(errno));
	err = bpf_link_detach(ofd) ? -errno : 0;
	close(ofd);
	if (err)
		return errmsg_set(em, err, "cannot detach TCX link %s: %s", old_pin,
				  strerror(-err));
	if (bpf_link_update(lfd, prog_fd, NULL)) {
		err = -errno;
		/* the stand-in keeps running the program at its new place: keep it */
		log_err("TCX move: cannot switch %s to the program (%s); the stand-in runs it",
			standin, strerror(-err));
		return errmsg_set(em, err, "cannot switch the TCX link to the program: %s",
				  strerror(-err));
	}
	if (rename(standin, new_pin))
		return errmsg_set(em, -errno, "cannot rename %s to %s: %s", standin, new_pin,
				  strerror(errno));
	(void)unlink(old_pin);
	return 0;
}

static int modify_once(struct hook_env *env, uint32_t ifindex, enum chain_dir dir,
		       uint32_t prog_id, int32_t priority, struct errmsg *em)
{
	const char *root = env->tcx_root[dir];
	struct tcx_pin pins[CHAIN_TCX_MAX_PROGS];
	struct chain_entry e[CHAIN_TCX_MAX_PROGS], ne[CHAIN_TCX_MAX_PROGS], mv;
	struct bpf_object *so = NULL;
	char new_pin[PATH_MAX + 64], standin[PATH_MAX + 64];
	uint32_t anchor;
	size_t n = 0, i, k = 0, pos;
	int err, lock, at = -1, lfd = -1, pfd = -1, sfd = -1;
	bool before;

	lock = lock_root(root, em);
	if (lock < 0)
		return lock;
	err = read_pins(root, ifindex, pins, e, CHAIN_TCX_MAX_PROGS, &n);
	if (err)
		goto out;
	for (i = 0; i < n; i++)
		if (e[i].prog_id == prog_id)
			at = i;
	if (at < 0) {
		err = errmsg_set(em, -ENOENT, "program %u is not a bpfd TCX program on %s of "
				 "ifindex %u", prog_id, chain_dir_str(dir), ifindex);
		goto out;
	}
	snprintf(new_pin, sizeof(new_pin), "%s/link-%u-%d-%u", root, ifindex, priority,
		 prog_id);
	if (e[at].priority == priority)
		goto out;	/* nothing to move */
	mv = e[at];
	mv.priority = priority;
	for (i = 0; i < n; i++)
		if ((int)i != at)
			ne[k++] = e[i];
	pos = chain_insert_pos(ne, k, &mv);
	memmove(&ne[pos + 1], &ne[pos], (k - pos) * sizeof(ne[0]));
	ne[pos] = mv;
	if (same_order(e, ne, n)) {
		/* the run order stays: only the priority in the pin's name changes */
		if (rename(pins[at].path, new_pin))
			err = errmsg_set(em, -errno, "cannot rename %s: %s", pins[at].path,
					 strerror(errno));
		goto out;
	}
	/* the anchor is a neighbour at the new place, never the program itself */
	chain_tcx_anchor(ne, n, pos, &before, &anchor);
	pfd = bpf_prog_get_fd_by_id(prog_id);
	if (pfd < 0) {
		err = errmsg_set(em, -errno, "program %u: %s", prog_id, strerror(errno));
		goto out;
	}
	err = standin_load(pfd, &so, &sfd, em);
	if (err)
		goto out;
	lfd = link_create(sfd, ifindex, dir, before, anchor);
	if (lfd < 0) {
		err = lfd;
		if (err != -ESTALE)
			errmsg_set(em, err, "cannot link the stand-in of TCX program %u at its "
				   "new place: %s", prog_id, strerror(-err));
		goto out;
	}
	snprintf(standin, sizeof(standin), "%s/standin-%u-%d-%u", root, ifindex, priority,
		 prog_id);
	if (bpf_obj_pin(lfd, standin)) {
		err = errmsg_set(em, -errno, "cannot pin %s: %s", standin, strerror(errno));
		bpf_link_detach(lfd);
		goto out;
	}
	err = move_finish(lfd, pfd, pins[at].path, standin, new_pin, em);
	if (err && !access(pins[at].path, F_OK) && pin_alive(&pins[at])) {
		/* the old link is still attached: undo the stand-in */
		bpf_link_detach(lfd);
		(void)unlink(standin);
	}
out:
	if (lfd >= 0)
		close(lfd);
	if (pfd >= 0)
		close(pfd);
	bpf_object__close(so);
	hook_unlock_dir(lock);
	return err;
}

/* Where program prog_id is now, with the link of its pin new_pin. */
static void result(uint32_t ifindex, enum chain_dir dir, uint32_t prog_id,
		   const char *pin, struct hook_result *ret)
{
	int fd;

	memset(ret, 0, sizeof(*ret));
	ret->prog_id = prog_id;
	ret->ifindex = ifindex;
	ret->mode = HOOK_MODE_TCX;
	ret->position = position_of(ifindex, dir, prog_id);
	fd = bpf_obj_get(pin);
	if (fd >= 0) {
		kinfo_link_desc(fd, &ret->link_id, NULL, NULL, NULL);
		close(fd);
	}
}

int tcx_modify(struct hook_env *env, uint32_t ifindex, enum chain_dir dir,
	       uint32_t prog_id, int32_t priority, struct hook_result *ret,
	       struct errmsg *em)
{
	char pin[PATH_MAX + 64];
	int i, err = -ESTALE;

	for (i = 0; i < HOOK_RETRIES && err == -ESTALE; i++)
		err = modify_once(env, ifindex, dir, prog_id, priority, em);
	if (err == -ESTALE)
		err = errmsg_set(em, -EAGAIN, "the TCX %s hook of ifindex %u kept changing; "
				 "try again", chain_dir_str(dir), ifindex);
	if (err)
		return err;
	snprintf(pin, sizeof(pin), "%s/link-%u-%d-%u", env->tcx_root[dir], ifindex, priority,
		 prog_id);
	result(ifindex, dir, prog_id, pin, ret);
	return 0;
}

int tcx_members(struct hook_env *env, uint32_t ifindex, enum chain_dir dir,
		struct hook_member_info *ret, size_t max, size_t *ret_n)
{
	const char *root = env->tcx_root[dir];
	struct tcx_pin pins[CHAIN_TCX_MAX_PROGS];
	struct chain_entry e[CHAIN_TCX_MAX_PROGS];
	uint32_t ids[CHAIN_TCX_MAX_PROGS], links[CHAIN_TCX_MAX_PROGS];
	size_t np = 0, j;
	int n, i, err;

	n = tcx_query(ifindex, dir, ids, links, CHAIN_TCX_MAX_PROGS, NULL);
	if (n < 0)
		return n == -EINVAL ? -EOPNOTSUPP : n;
	err = read_pins(root, ifindex, pins, e, CHAIN_TCX_MAX_PROGS, &np);
	if (err)
		return err;
	for (i = 0; i < n && (size_t)i < max; i++) {
		struct hook_member_info *r = &ret[i];

		memset(r, 0, sizeof(*r));
		r->prog_id = ids[i];
		r->kind = CHAIN_TCX;
		r->ifindex = ifindex;
		r->dir = dir;
		if_indextoname(ifindex, r->iface);
		r->position = i;
		r->mode = HOOK_MODE_TCX;
		r->link_id = links[i];
		kinfo_prog_name(ids[i], r->name, sizeof(r->name));
		for (j = 0; j < np; j++)
			if (pins[j].prog_id == ids[i]) {
				r->have_config = true;
				r->priority = pins[j].priority;
			}
	}
	*ret_n = n;
	return 0;
}

/* A stand-in pin left by a move that was interrupted: undo it while the program's old
 * link is still attached, else finish it.  True when the pin was dealt with. */
static bool reconcile_standin(const char *root, const struct tcx_pin *p)
{
	struct tcx_pin q;
	struct dirent *de;
	uint32_t link_prog = 0, type = 0, ifindex = 0;
	char new_pin[PATH_MAX + 64];
	bool old_alive = false;
	int fd, pfd;
	DIR *d;

	fd = bpf_obj_get(p->path);
	if (fd < 0)
		return !unlink(p->path);
	kinfo_link_desc(fd, NULL, &link_prog, &type, &ifindex);
	d = opendir(root);
	while (d && (de = readdir(d)))
		if (parse_pin(root, de->d_name, &q) && q.prog_id == p->prog_id &&
		    q.ifindex == p->ifindex && pin_alive(&q))
			old_alive = true;
	if (d)
		closedir(d);
	snprintf(new_pin, sizeof(new_pin), "%s/link-%u-%d-%u", root, p->ifindex, p->priority,
		 p->prog_id);
	if (type != LINK_TYPE_TCX || ifindex != p->ifindex || old_alive) {
		log_info("Removing %s: the move of TCX program %u did not complete", p->path,
			 p->prog_id);
		if (type == LINK_TYPE_TCX && link_prog != p->prog_id)
			bpf_link_detach(fd);
		close(fd);
		return !unlink(p->path);
	}
	if (link_prog != p->prog_id) {
		pfd = bpf_prog_get_fd_by_id(p->prog_id);
		if (pfd < 0 || bpf_link_update(fd, pfd, NULL))
			log_warn("TCX program %u: cannot finish its move (%s); its stand-in runs it",
				 p->prog_id, strerror(errno));
		if (pfd >= 0)
			close(pfd);
	}
	close(fd);
	log_info("Finishing the interrupted move of TCX program %u: %s", p->prog_id, new_pin);
	return !rename(p->path, new_pin);
}

int tcx_reconcile(struct hook_env *env, enum chain_dir dir)
{
	const char *root = env->tcx_root[dir];
	struct tcx_pin p;
	struct dirent *de;
	int n = 0, lock;
	DIR *d;

	d = opendir(root);
	if (!d)
		return 0;
	lock = lock_root(root, NULL);
	while (lock >= 0 && (de = readdir(d)))
		if (parse_standin(root, de->d_name, &p) && reconcile_standin(root, &p))
			n++;
	rewinddir(d);
	while (lock >= 0 && (de = readdir(d))) {
		if (!parse_pin(root, de->d_name, &p) || pin_alive(&p))
			continue;
		log_info("Removing %s: its TCX link is gone (interface deleted?)", p.path);
		if (!unlink(p.path))
			n++;
	}
	if (lock >= 0)
		hook_unlock_dir(lock);
	closedir(d);
	return n;
}
