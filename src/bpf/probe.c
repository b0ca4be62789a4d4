/* SPDX-License-Identifier: Apache-2.0 */
/* probe.c - kernel feature probes: load and attach one tiny program per feature */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/bpflog.h"
#include "bpf/embed.h"
#include "bpf/netlink.h"
#include "bpf/probe.h"
#include "core/base/errmsg.h"
#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/base/sandbox.h"

/* libbpf 1.1.2 and the 6.1 uapi headers predate TCX (kernel 6.6). */
#define PROBE_TCX_INGRESS 46

/* Indexes into hits[] of probe.bpf.c. */
enum {
	HIT_TRACEPOINT,
	HIT_KPROBE,
	HIT_UPROBE,
	HIT_FENTRY,
};

#define PROBE_TIMEOUT_MS 60000	/* the emulated test VM is slow */
#define VETH0 "bpfdprobe0"
#define VETH1 "bpfdprobe1"

static const char *const feature_names[__PROBE_MAX] = {
	[PROBE_BPFFS] = "bpffs",
	[PROBE_BTF] = "btf",
	[PROBE_XDP] = "xdp",
	[PROBE_TC] = "tc",
	[PROBE_TCX] = "tcx",
	[PROBE_TRACEPOINT] = "tracepoint",
	[PROBE_KPROBE] = "kprobe",
	[PROBE_UPROBE] = "uprobe",
	[PROBE_FREPLACE] = "freplace",
	[PROBE_FENTRY] = "fentry",
	[PROBE_XDP_LINK] = "xdp_link",
	[PROBE_STATS] = "stats",
};

/* Kernel functions to hang kprobe and fentry probes on, first one in BTF wins. */
static const char *const kfunc_candidates[] = { "vfs_read", "ksys_read", "do_sys_openat2" };

const char *probe_feature_name(enum probe_feature f)
{
	return (unsigned int)f < __PROBE_MAX ? feature_names[f] : "unknown";
}

int probe_feature_from_name(const char *name)
{
	int i;

	for (i = 0; i < __PROBE_MAX; i++)
		if (!strcmp(feature_names[i], name))
			return i;
	return -ENOENT;
}

bool probe_has(const struct probe_result *r, enum probe_feature f)
{
	return (unsigned int)f < __PROBE_MAX && r->f[f].available;
}

static const char *ename(int err)
{
	const char *s = strerrorname_np(err < 0 ? -err : err);

	return s ? s : "unknown error";
}

static void set_yes(struct probe_status *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_yes(struct probe_status *s, const char *fmt, ...)
{
	va_list ap;

	s->available = true;
	s->err = 0;
	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
}

/* "WHAT refused (EPERM): CONSEQUENCE" ("unavailable" for other errors).  err is
 * 0 only when something attached but never ran. */
static void set_no(struct probe_status *s, int err, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set_no(struct probe_status *s, int err, const char *what, const char *fmt, ...)
{
	va_list ap;
	int n;

	s->available = false;
	s->err = err < 0 ? -err : err;
	if (s->err)
		n = snprintf(s->detail, sizeof(s->detail), "%s %s (%s): ", what,
			     s->err == EPERM ? "refused" : "unavailable", ename(s->err));
	else
		n = snprintf(s->detail, sizeof(s->detail), "%s: ", what);
	if (n < 0 || (size_t)n >= sizeof(s->detail))
		return;
	va_start(ap, fmt);
	vsnprintf(s->detail + n, sizeof(s->detail) - n, fmt, ap);
	va_end(ap);
}

static int obj_open(const char *name, struct bpf_object **ret_obj, struct bpf_program **ret_prog)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "probe");
	struct bpf_object *obj = NULL;
	struct bpf_program *prog, *p;
	const void *data;
	size_t len;
	int err;

	err = embed_find("probe", &data, &len);
	if (err)
		return err;
	obj = bpf_object__open_mem(data, len, &opts);
	if (!obj)
		return -errno;
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), name));
	prog = bpf_object__find_program_by_name(obj, name);
	if (!prog) {
		bpf_object__close(obj);
		return -ENOENT;
	}
	*ret_obj = obj;
	*ret_prog = prog;
	return 0;
}

/* Open and load program 'name' alone. */
static int obj_load(const char *name, struct bpf_object **ret_obj, struct bpf_program **ret_prog)
{
	int err;

	err = obj_open(name, ret_obj, ret_prog);
	if (err)
		return err;
	err = bpf_object__load(*ret_obj);
	if (err) {
		bpf_object__close(*ret_obj);
		*ret_obj = NULL;
	}
	return err;
}

/* How often the program counting into hits[idx] ran. */
static uint64_t obj_hits(struct bpf_object *obj, int idx)
{
	uint64_t hits[4] = { 0 };
	struct bpf_map *map;
	uint32_t zero = 0;
	const char *name;
	size_t n;

	bpf_object__for_each_map(map, obj) {
		name = bpf_map__name(map);
		n = strlen(name);
		if (!bpf_map__is_internal(map) || n < 4 || strcmp(name + n - 4, ".bss") ||
		    bpf_map__value_size(map) != sizeof(hits))
			continue;
		if (bpf_map_lookup_elem(bpf_map__fd(map), &zero, hits))
			return 0;
		return hits[idx];
	}
	return 0;
}

/* Make the kernel run vfs_read() at least once. */
static void trigger_read(void)
{
	int pfd[2];
	char c = 0;

	if (pipe(pfd))
		return;
	if (write(pfd[1], &c, 1) == 1 && read(pfd[0], &c, 1) < 0)
		c = 0;
	close(pfd[0]);
	close(pfd[1]);
}

/* The uprobe probe's target: a real function of this binary. */
static __attribute__((noinline, used)) void uprobe_target(void)
{
	__asm__ volatile("" ::: "memory");
}

/* File offset of code address addr in its mapping, from /proc/self/maps.  The
 * path there may be outside a chroot: attach through /proc/self/exe instead. */
static int self_file_offset(const void *addr, uint64_t *ret_off)
{
	uintptr_t a = (uintptr_t)addr;
	unsigned long long start, end, off;
	char line[4096], perms[8];
	int err = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %7s %llx", &start, &end, perms, &off) != 4 ||
		    a < start || a >= end)
			continue;
		*ret_off = a - start + off;
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

/* Private mount and network namespaces for this (child) process. */
struct probe_ctx {
	struct probe_result *r;
	int netns_err;		/* 0, or -errno of unshare(CLONE_NEWNET) */
	int mntns_err;		/* 0, or -errno of unshare(CLONE_NEWNS) + MS_PRIVATE */
	struct btf *vmlinux;	/* NULL without kernel BTF */
	const char *kfunc;	/* kernel function for kprobe and fentry */
};

static void probe_bpffs(struct probe_ctx *c)
{
	struct probe_status *s = &c->r->f[PROBE_BPFFS];

	if (fs_is_bpffs("/sys/fs/bpf")) {
		c->r->bpffs_mounted = true;
		set_yes(s, "mounted at /sys/fs/bpf");
		return;
	}
	if (c->mntns_err) {
		set_no(s, c->mntns_err, "bpffs test mount",
		       "not mounted at /sys/fs/bpf and no private mount namespace to try; programs cannot be pinned");
		return;
	}
	/* Only this child's private mount namespace sees the mount. */
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		set_no(s, -errno, "bpffs", "cannot be mounted; programs and maps cannot be pinned, state does not survive bpfd");
		return;
	}
	if (!fs_is_bpffs("/sys/fs/bpf")) {
		set_no(s, EIO, "bpffs", "mounted but not recognised; programs cannot be pinned");
		return;
	}
	set_yes(s, "supported; not mounted at /sys/fs/bpf (bpfd mounts its own in its run directory)");
}

static void probe_tracefs(struct probe_ctx *c)
{
	struct statfs st;

	if ((!statfs("/sys/kernel/tracing", &st) && st.f_type == TRACEFS_MAGIC) ||
	    !access("/sys/kernel/debug/tracing/events", F_OK)) {
		c->r->tracefs_mounted = true;
		return;
	}
	/* libbpf looks tracepoints up in tracefs: mount it for the probe only. */
	if (!c->mntns_err && mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		log_debug("probe: cannot mount tracefs: %s", strerror(errno));
}

static void probe_btf(struct probe_ctx *c)
{
	struct probe_status *s = &c->r->f[PROBE_BTF];
	size_t i;

	c->vmlinux = btf__load_vmlinux_btf();
	if (!c->vmlinux) {
		set_no(s, -errno, "kernel BTF (/sys/kernel/btf/vmlinux)",
		       "fentry/fexit programs and CO-RE relocations cannot be used");
		return;
	}
	set_yes(s, "/sys/kernel/btf/vmlinux, %u types", btf__type_cnt(c->vmlinux));
	for (i = 0; i < sizeof(kfunc_candidates) / sizeof(kfunc_candidates[0]); i++) {
		if (btf__find_by_name_kind(c->vmlinux, kfunc_candidates[i], BTF_KIND_FUNC) > 0) {
			c->kfunc = kfunc_candidates[i];
			break;
		}
	}
}

static void probe_tracepoint(struct probe_ctx *c)
{
	static const char *const tps[][2] = {
		{ "syscalls", "sys_enter_getpid" },
		{ "raw_syscalls", "sys_enter" },
	};
	struct probe_status *s = &c->r->f[PROBE_TRACEPOINT];
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct bpf_link *link = NULL;
	size_t i;
	int err, last = -ENOENT;

	err = obj_load("probe_tracepoint", &obj, &prog);
	for (i = 0; !err && i < sizeof(tps) / sizeof(tps[0]); i++) {
		link = bpf_program__attach_tracepoint(prog, tps[i][0], tps[i][1]);
		if (link)
			break;
		last = -errno;
	}
	if (!err && !link)
		err = last;
	if (err) {
		set_no(s, err, "tracepoints", "tracepoint programs cannot be attached%s",
		       c->r->tracefs_mounted ? "" : " (tracefs could not be mounted)");
		goto out;
	}
	syscall(SYS_getpid);
	if (!obj_hits(obj, HIT_TRACEPOINT)) {
		set_no(s, 0, "tracepoint attached", "the program never ran");
		goto out;
	}
	set_yes(s, "perf link on %s/%s%s", tps[i][0], tps[i][1],
		c->r->tracefs_mounted ? "" : " (tracefs is not mounted at /sys/kernel/tracing; attaching needs it)");
out:
	bpf_link__destroy(link);
	bpf_object__close(obj);
}

static void probe_kprobe(struct probe_ctx *c)
{
	struct probe_status *s = &c->r->f[PROBE_KPROBE];
	const char *fn = c->kfunc ? c->kfunc : kfunc_candidates[0];
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct bpf_link *link = NULL;
	int err;

	/* Without the kprobe PMU libbpf would fall back to legacy tracefs kprobe_events. */
	if (access("/sys/bus/event_source/devices/kprobe", F_OK)) {
		set_no(s, -errno, "kprobes", "kprobe/kretprobe programs cannot be attached (no kprobe PMU: kernel built without CONFIG_KPROBES?)");
		return;
	}
	err = obj_load("probe_kprobe", &obj, &prog);
	if (!err) {
		link = bpf_program__attach_kprobe(prog, false, fn);
		err = link ? 0 : -errno;
	}
	if (err) {
		set_no(s, err, "kprobes", "kprobe/kretprobe programs cannot be attached (tried %s)", fn);
		goto out;
	}
	trigger_read();
	if (!obj_hits(obj, HIT_KPROBE)) {
		set_no(s, 0, "kprobe attached", "the program never ran (%s)", fn);
		goto out;
	}
	set_yes(s, "perf link on %s", fn);
out:
	bpf_link__destroy(link);
	bpf_object__close(obj);
}

static void probe_uprobe(struct probe_ctx *c)
{
	struct probe_status *s = &c->r->f[PROBE_UPROBE];
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct bpf_link *link = NULL;
	const char *path = "/proc/self/exe";
	uint64_t off = 0;
	int err;

	err = self_file_offset((const void *)uprobe_target, &off);
	if (!err)
		err = obj_load("probe_uprobe", &obj, &prog);
	if (!err) {
		link = bpf_program__attach_uprobe(prog, false, 0, path, off);
		err = link ? 0 : -errno;
	}
	if (err) {
		set_no(s, err, "uprobes", "uprobe/uretprobe programs cannot be attached (tried %s)", path);
		goto out;
	}
	uprobe_target();
	if (!obj_hits(obj, HIT_UPROBE)) {
		set_no(s, 0, "uprobe attached", "the program never ran (%s)", path);
		goto out;
	}
	set_yes(s, "perf link on a function of %s", path);
out:
	bpf_link__destroy(link);
	bpf_object__close(obj);
	(void)c;
}

static void probe_fentry(struct probe_ctx *c)
{
	struct probe_status *s = &c->r->f[PROBE_FENTRY];
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct bpf_link *link = NULL;
	int err;

	if (!c->vmlinux || !c->kfunc) {
		set_no(s, c->vmlinux ? ENOENT : c->r->f[PROBE_BTF].err, "fentry",
		       "fentry/fexit programs cannot be loaded (%s)",
		       c->vmlinux ? "no known kernel function in BTF" : "no kernel BTF");
		return;
	}
	err = obj_open("probe_fentry", &obj, &prog);
	if (!err)
		err = bpf_program__set_attach_target(prog, 0, c->kfunc);
	if (!err)
		err = bpf_object__load(obj);
	if (!err) {
		link = bpf_program__attach_trace(prog);
		err = link ? 0 : -errno;
	}
	if (err) {
		set_no(s, err, "fentry", "fentry/fexit programs cannot be loaded");
		goto out;
	}
	trigger_read();
	if (!obj_hits(obj, HIT_FENTRY)) {
		set_no(s, 0, "fentry attached", "the program never ran (%s)", c->kfunc);
		goto out;
	}
	set_yes(s, "BPF_TRACE_FENTRY on %s", c->kfunc);
out:
	bpf_link__destroy(link);
	bpf_object__close(obj);
}

/* Load an XDP program with a global function, replace that function with an
 * EXT program, and test-run the XDP program: XDP_DROP proves the replacement. */
static void probe_freplace(struct probe_ctx *c)
{
	struct probe_status *s = &c->r->f[PROBE_FREPLACE];
	struct bpf_object *target = NULL, *ext = NULL;
	struct bpf_program *tprog, *eprog;
	struct bpf_link *link = NULL;
	char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt, .data_size_in = sizeof(pkt));
	int err, tfd = -1;

	err = obj_load("probe_xdp", &target, &tprog);
	if (!err) {
		tfd = bpf_program__fd(tprog);
		err = obj_open("probe_freplace", &ext, &eprog);
	}
	if (!err)
		err = bpf_program__set_attach_target(eprog, tfd, "probe_target");
	if (!err)
		err = bpf_object__load(ext);
	if (!err) {
		link = bpf_program__attach_freplace(eprog, tfd, "probe_target");
		err = link ? 0 : -errno;
	}
	if (err) {
		set_no(s, err, "freplace", "one XDP/TC program per hook, no multi-program chains");
		goto out;
	}
	err = bpf_prog_test_run_opts(tfd, &run);
	if (err || run.retval != XDP_DROP) {
		set_no(s, err, "freplace attached",
		       "the replacement did not run (test run: retval %u); no multi-program chains", run.retval);
		goto out;
	}
	set_yes(s, "EXT program replaced a global function of an XDP program");
	(void)c;
out:
	bpf_link__destroy(link);
	bpf_object__close(ext);
	bpf_object__close(target);
}

static void probe_stats(struct probe_ctx *c)
{
	struct probe_status *s = &c->r->f[PROBE_STATS];
	int fd;

	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0) {
		set_no(s, fd, "BPF run-time stats", "run_time_ns and run_cnt of programs stay 0");
		return;
	}
	close(fd);
	set_yes(s, "bpf_enable_stats(BPF_STATS_RUN_TIME)");
	(void)c;
}

/* Attach prog (id) to ifindex, native mode first, check with bpf_xdp_query()
 * that it is there, detach.  *ret_native says which mode worked. */
static int xdp_attach_check(int ifindex, int prog_fd, uint32_t id, bool *ret_native,
			    int *ret_native_err, struct errmsg *em)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	uint32_t mode = XDP_FLAGS_DRV_MODE, got;
	int err;

	err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_UPDATE_IF_NOEXIST | mode, NULL);
	*ret_native_err = err;
	if (err) {
		mode = XDP_FLAGS_SKB_MODE;
		err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_UPDATE_IF_NOEXIST | mode, NULL);
		if (err)
			return errmsg_set(em, err, "cannot attach XDP (native: %s, skb: %s)",
					  strerror(-*ret_native_err), strerror(-err));
	}
	err = bpf_xdp_query(ifindex, 0, &q);
	got = mode == XDP_FLAGS_DRV_MODE ? q.drv_prog_id : q.skb_prog_id;
	if (!err && got != id)
		err = errmsg_set(em, -ENOENT, "bpf_xdp_query() reports program id %u, attached %u",
				 got, id);
	else if (err)
		errmsg_set(em, err, "bpf_xdp_query() failed: %s", strerror(-err));
	if (bpf_xdp_detach(ifindex, mode, NULL) && !err)
		err = errmsg_set(em, -EIO, "cannot detach the XDP program");
	*ret_native = mode == XDP_FLAGS_DRV_MODE;
	return err;
}

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* A veth pair in this child's namespace; on failure fall back to lo. */
static int make_ifaces(int *ret_if0, int *ret_if1, const char **ret_name, struct errmsg *em)
{
	int err, i0, i1;

	err = netlink_veth_create(VETH0, VETH1, em);
	if (!err)
		err = netlink_link_set_up(VETH0, em);
	if (!err)
		err = netlink_link_set_up(VETH1, em);
	i0 = err ? err : netlink_ifindex(VETH0, em);
	i1 = i0 < 0 ? i0 : netlink_ifindex(VETH1, em);
	if (i0 > 0 && i1 > 0) {
		*ret_if0 = i0;
		*ret_if1 = i1;
		*ret_name = "veth";
		return 0;
	}
	log_debug("probe: no veth pair (%s), probing on lo", em->msg);
	err = netlink_link_set_up("lo", NULL);
	i0 = err ? err : netlink_ifindex("lo", NULL);
	if (i0 < 0)
		return i0;
	*ret_if0 = *ret_if1 = i0;
	*ret_name = "lo";
	return 0;
}

static void probe_xdp(struct probe_ctx *c, int ifindex, const char *dev)
{
	struct probe_status *s = &c->r->f[PROBE_XDP];
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct errmsg em = { "" };
	bool native = false;
	int err, native_err = 0;

	err = obj_load("probe_xdp", &obj, &prog);
	if (!err)
		err = xdp_attach_check(ifindex, bpf_program__fd(prog), prog_id(bpf_program__fd(prog)),
				       &native, &native_err, &em);
	if (err) {
		set_no(s, err, "XDP", "xdp programs cannot be attached%s%s", em.msg[0] ? ": " : "", em.msg);
		goto out;
	}
	c->r->xdp_native = native;
	if (native)
		set_yes(s, "native (driver) mode on %s", dev);
	else
		set_yes(s, "generic (skb) mode only on %s: native mode refused (%s)", dev, ename(native_err));
out:
	bpf_object__close(obj);
}

static void probe_xdp_link(struct probe_ctx *c, int ifindex, const char *dev)
{
	struct probe_status *s = &c->r->f[PROBE_XDP_LINK];
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	int err, fd = -1;

	err = obj_load("probe_xdp", &obj, &prog);
	if (!err) {
		fd = bpf_link_create(bpf_program__fd(prog), ifindex, BPF_XDP, NULL);
		err = fd < 0 ? fd : 0;
	}
	if (err) {
		set_no(s, err, "XDP bpf_link", "%sXDP programs are attached through netlink, not pinned links",
		       err == -EINVAL ? "kernel older than 5.9; " : "");
		goto out;
	}
	set_yes(s, "bpf_link_create(BPF_XDP) on %s", dev);
out:
	if (fd >= 0)
		close(fd);
	bpf_object__close(obj);
}

static void probe_tc(struct probe_ctx *c, int ifindex, const char *dev)
{
	struct probe_status *s = &c->r->f[PROBE_TC];
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	const char *step = "load";
	bool hooked = false;
	int err;

	err = obj_load("probe_tc", &obj, &prog);
	if (!err) {
		step = "clsact qdisc";
		err = bpf_tc_hook_create(&hook);
		hooked = !err;
	}
	if (!err) {
		step = "cls_bpf filter";
		opts.prog_fd = bpf_program__fd(prog);
		err = bpf_tc_attach(&hook, &opts);
	}
	if (!err) {
		opts.prog_fd = 0;
		opts.prog_id = 0;
		opts.flags = 0;
		err = bpf_tc_detach(&hook, &opts);
	}
	if (err) {
		set_no(s, err, "tc", "%s failed; tc programs cannot be attached", step);
		goto out;
	}
	set_yes(s, "clsact qdisc + cls_bpf direct-action filter on %s", dev);
out:
	if (hooked) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	bpf_object__close(obj);
}

static void probe_tcx(struct probe_ctx *c, int ifindex, const char *dev)
{
	struct probe_status *s = &c->r->f[PROBE_TCX];
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	int err, fd = -1;

	err = obj_load("probe_tc", &obj, &prog);
	if (!err) {
		fd = bpf_link_create(bpf_program__fd(prog), ifindex, PROBE_TCX_INGRESS, NULL);
		err = fd < 0 ? fd : 0;
	}
	if (err) {
		set_no(s, err, "TCX", "%stcx programs cannot be attached; use tc",
		       err == -EINVAL ? "kernel older than 6.6, " : "");
		goto out;
	}
	set_yes(s, "bpf_link attach type BPF_TCX_INGRESS on %s", dev);
out:
	if (fd >= 0)
		close(fd);
	bpf_object__close(obj);
}

static void probe_network(struct probe_ctx *c)
{
	static const enum probe_feature net[] = { PROBE_XDP, PROBE_TC, PROBE_TCX, PROBE_XDP_LINK };
	struct errmsg em = { "" };
	const char *dev = NULL;
	int if0 = 0, if1 = 0, err;
	size_t i;

	err = c->netns_err;
	if (!err)
		err = make_ifaces(&if0, &if1, &dev, &em);
	if (err) {
		for (i = 0; i < sizeof(net) / sizeof(net[0]); i++)
			set_no(&c->r->f[net[i]], err, "private network namespace",
			       "cannot probe %s without touching the host's interfaces",
			       feature_names[net[i]]);
		return;
	}
	probe_xdp(c, if0, dev);
	probe_tc(c, if0, dev);
	probe_tcx(c, if1, dev);
	probe_xdp_link(c, if1, dev);
}

static void timed(const char *what, void (*fn)(struct probe_ctx *), struct probe_ctx *c)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fn(c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_debug("probe: %s took %ld us", what,
		  (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));
}

/* In the forked child: everything it creates dies with it and its namespaces.
 * The probes run one after another, ~0.3-0.5 s on the host (~0.2 s in threads).
 * Threads were dropped after soft lockups in the test VM; the cause turned out
 * to be QEMU's multi-threaded emulation, not bpfd (tests/vm/README), but one
 * probe at a time is simpler and fast enough for a start-up check. */
static void probe_child(struct probe_result *r)
{
	struct probe_ctx c = { .r = r };

	/* libbpf's refusals are expected here: debug level */
	bpflog_set(BPFLOG_DEBUG);
	if (unshare(CLONE_NEWNET))
		c.netns_err = -errno;
	if (unshare(CLONE_NEWNS))
		c.mntns_err = -errno;
	else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		c.mntns_err = -errno;
	timed("bpffs", probe_bpffs, &c);
	timed("tracefs", probe_tracefs, &c);
	timed("network", probe_network, &c);
	timed("tracepoint", probe_tracepoint, &c);
	timed("uprobe", probe_uprobe, &c);
	timed("btf", probe_btf, &c);
	timed("kprobe", probe_kprobe, &c);
	timed("fentry", probe_fentry, &c);
	timed("freplace", probe_freplace, &c);
	timed("stats", probe_stats, &c);
	btf__free(c.vmlinux);
}

/* Run fn(buf) in the sandbox: the child's namespaces, programs and links vanish when
 * it exits. */
static int run_in_child(void (*fn)(void *buf), void *buf, size_t len)
{
	int err, status = 0;

	err = sandbox_run(fn, buf, len, PROBE_TIMEOUT_MS, &status);
	if (err && WIFSIGNALED(status))
		log_debug("probe: child killed by signal %d", WTERMSIG(status));
	return err;
}

static void probe_child_fn(void *buf)
{
	probe_child(buf);
}

int probe_run(struct probe_result *ret)
{
	struct timespec t0, t1;
	struct utsname u;
	int err;

	memset(ret, 0, sizeof(*ret));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = run_in_child(probe_child_fn, ret, sizeof(*ret));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (err)
		memset(ret, 0, sizeof(*ret));
	if (!uname(&u))
		snprintf(ret->kernel, sizeof(ret->kernel), "%s", u.release);
	ret->duration_us = (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
	return err;
}

int probe_summary(const struct probe_result *r, char *buf, size_t len)
{
	size_t n = 0;
	int i, w, missing = 0;

#define APPEND(...) do {						\
		w = snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, __VA_ARGS__); \
		if (w > 0)						\
			n += w;						\
	} while (0)

	APPEND("kernel %s:", r->kernel);
	for (i = 0; i < __PROBE_MAX; i++)
		if (r->f[i].available)
			APPEND(" %s", feature_names[i]);
	for (i = 0; i < __PROBE_MAX; i++) {
		if (r->f[i].available)
			continue;
		APPEND("%s %s (%s)", missing++ ? "," : "; missing:", feature_names[i],
		       r->f[i].err ? ename(r->f[i].err) : "did not run");
	}
	APPEND(" [%u ms]", r->duration_us / 1000);
#undef APPEND
	return (int)n;
}

/* --- bpfd --selftest-xdp ------------------------------------------------ */

struct selftest_out {
	int err;
	bool native;
	uint32_t id;
	struct errmsg em;
};

static void selftest_child(void *buf)
{
	struct selftest_out *o = buf;
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	const void *data;
	size_t len;
	int err, ifindex, fd, native_err;

	bpflog_set(BPFLOG_WARN);
	if (unshare(CLONE_NEWNET)) {
		err = errmsg_set(&o->em, -errno, "cannot create a private network namespace: %s",
				 strerror(errno));
		goto out;
	}
	err = netlink_veth_create("bpfdst0", "bpfdst1", &o->em);
	if (!err)
		err = netlink_link_set_up("bpfdst0", &o->em);
	if (!err)
		err = netlink_link_set_up("bpfdst1", &o->em);
	if (err)
		goto out;
	ifindex = netlink_ifindex("bpfdst0", &o->em);
	if (ifindex < 0) {
		err = ifindex;
		goto out;
	}
	err = embed_find("xdp_pass", &data, &len);
	if (err) {
		errmsg_set(&o->em, err, "this bpfd has no embedded xdp_pass object");
		goto out;
	}
	obj = bpf_object__open_mem(data, len, NULL);
	if (!obj) {
		err = errmsg_set(&o->em, -errno, "cannot open the embedded xdp_pass object: %s",
				 strerror(errno));
		goto out;
	}
	err = bpf_object__load(obj);
	if (err) {
		errmsg_set(&o->em, err, "cannot load xdp_pass: %s", strerror(-err));
		goto out;
	}
	prog = bpf_object__find_program_by_name(obj, "xdp_pass");
	fd = prog ? bpf_program__fd(prog) : -1;
	o->id = prog_id(fd);
	err = xdp_attach_check(ifindex, fd, o->id, &o->native, &native_err, &o->em);
	if (err)
		goto out;
	err = netlink_link_delete("bpfdst0", &o->em);
out:
	bpf_object__close(obj);
	o->err = err;
}

int probe_selftest_xdp(const char **ret_mode, uint32_t *ret_id, struct errmsg *em)
{
	struct selftest_out o;
	int err;

	memset(&o, 0, sizeof(o));
	err = run_in_child(selftest_child, &o, sizeof(o));
	if (err)
		return errmsg_set(em, err, "the self-test process failed: %s", strerror(-err));
	if (o.err)
		return errmsg_set(em, o.err, "%s", o.em.msg[0] ? o.em.msg : strerror(-o.err));
	*ret_mode = o.native ? "native" : "skb";
	*ret_id = o.id;
	return 0;
}
