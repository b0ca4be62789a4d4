/* SPDX-License-Identifier: Apache-2.0 */
/* test_manager.c - the program manager against the real kernel (root): load and
 * attach each kind, prove the programs run (a counter map read through its pin),
 * global data, map sharing in every unload order, restart and reconcile, bad inputs
 * that must change nothing.  Kinds the kernel lacks (bpfd --probe) are checked to fail
 * with a clear message instead. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "harness.h"
#include "bpf/probe.h"
#include "core/config/config.h"
#include "core/rpc.h"
#include "core/state/manager.h"

#define COUNTER_OBJ	"prog_counter.bpf.o"
#define BAD_OBJ		"prog_bad.bpf.o"

struct env {
	char dir[64];
	struct bpfd_config cfg;
	struct mgr *m;
};

static void env_fini(struct env *e);

static const char *testbpf(const char *name)
{
	static char p[PATH_MAX];
	const char *d = getenv("BPFD_TESTBPF");

	snprintf(p, sizeof(p), "%s/%s", d ? d : "build/tests/bpf", name);
	return p;
}

static void require_root(void)
{
	if (geteuid() != 0)
		test_skip("needs root (bpf(), bpffs mounts)");
	if (access(testbpf(COUNTER_OBJ), R_OK))
		test_skip("test BPF objects not built (set BPFD_TESTBPF)");
}

static bool env_init(struct env *e)
{
	struct errmsg em = { { 0 } };

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/test_manager.XXXXXX");
	if (!mkdtemp(e->dir))
		return false;
	config_defaults(&e->cfg);
	config_set_rundir(&e->cfg, e->dir);
	if (!ASSERT_OK(mgr_new(&e->cfg, &e->m, &em), em.msg))
		return false;
	return true;
}

static bool env_restart(struct env *e)
{
	struct errmsg em = { { 0 } };

	mgr_free(e->m);
	e->m = NULL;
	return ASSERT_OK(mgr_new(&e->cfg, &e->m, &em), em.msg);
}

static void env_fini(struct env *e)
{
	char cmd[200];

	mgr_free(e->m);
	e->m = NULL;
	umount2(e->cfg.bpffs, MNT_DETACH);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	if (e->dir[0] && system(cmd))
		fprintf(stderr, "cannot remove %s\n", e->dir);
}

static void req_init(bpfd_v1_LoadRequest *r, const char *obj, const char *fn)
{
	memset(r, 0, sizeof(*r));
	r->has_bytecode = true;
	r->bytecode.which_location = bpfd_v1_BytecodeLocation_file_tag;
	snprintf(r->bytecode.location.file, sizeof(r->bytecode.location.file), "%s", testbpf(obj));
	snprintf(r->name, sizeof(r->name), "%s", fn);
	r->has_attach = true;
}

static void req_tracepoint(bpfd_v1_LoadRequest *r, const char *fn, const char *tp)
{
	req_init(r, COUNTER_OBJ, fn);
	r->attach.which_info = bpfd_v1_AttachInfo_tracepoint_attach_info_tag;
	snprintf(r->attach.info.tracepoint_attach_info.tracepoint,
		 sizeof(r->attach.info.tracepoint_attach_info.tracepoint), "%s", tp);
}

static void req_step(bpfd_v1_LoadRequest *r, uint64_t step)
{
	size_t i = r->global_data_count++;

	snprintf(r->global_data[i].key, sizeof(r->global_data[i].key), "step");
	r->global_data[i].value.size = sizeof(step);
	memcpy(r->global_data[i].value.bytes, &step, sizeof(step));
}

static bpfd_v1_LoadRequest *req_new(void)
{
	return calloc(1, sizeof(bpfd_v1_LoadRequest));
}

static int load(struct env *e, const bpfd_v1_LoadRequest *r, uint32_t *ret_id,
		struct errmsg *em)
{
	bpfd_v1_LoadResponse *resp = calloc(1, sizeof(*resp));
	int err;

	err = rpc_mgr_ops.load(e->m, r, NULL, resp, em);
	if (!err)
		*ret_id = resp->kernel_info.id;
	free(resp);
	return err;
}

/* Load tp_count on the getppid tracepoint: the program several tests start from. */
static bool load_tp_count(struct env *e, bpfd_v1_LoadRequest *r, uint32_t *ret_id,
			  struct errmsg *em)
{
	req_tracepoint(r, "tp_count", "syscalls/sys_enter_getppid");
	return ASSERT_OK(load(e, r, ret_id, em), em->msg);
}

static uint64_t counter(const char *map_dir)
{
	char p[PATH_MAX];
	uint64_t v = 0;
	uint32_t k = 0;
	int fd;

	snprintf(p, sizeof(p), "%.4000s/counter", map_dir);
	fd = bpf_obj_get(p);
	if (fd < 0)
		return UINT64_MAX;
	if (bpf_map_lookup_elem(fd, &k, &v))
		v = UINT64_MAX;
	close(fd);
	return v;
}

/* Kernel id of the counter map pinned in map_dir, 0 if none. */
static uint32_t map_id_of(const char *map_dir)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%.4000s/counter", map_dir);
	fd = bpf_obj_get(p);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

static void trigger_getppid(int n)
{
	while (n--)
		syscall(SYS_getppid);
}

static bool exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool exists(const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	return access(p, F_OK) == 0;
}

/* The kernel frees programs after an RCU grace period: wait for id to go. */
static bool prog_gone(uint32_t id)
{
	int i, fd;

	for (i = 0; i < 200; i++) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0 && errno == ENOENT)
			return true;
		if (fd >= 0)
			close(fd);
		usleep(10000);
	}
	return false;
}

static size_t count_entries(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* bpfd's own pins: prog_* entries in bpffs plus map directories (the chain code
 * keeps its directories there too; they are not counted). */
static size_t fs_pins(struct env *e)
{
	char p[PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(e->cfg.bpffs);

	while (d && (de = readdir(d)))
		n += !strncmp(de->d_name, "prog_", 5);
	if (d)
		closedir(d);
	snprintf(p, sizeof(p), "%s/maps", e->cfg.bpffs);
	return n + count_entries(p);
}

/* fds of this process that hold a program: a BPF program or link, a perf event (a
 * tracepoint or probe attachment). */
static size_t prog_fds(void)
{
	char p[PATH_MAX], t[64];
	struct dirent *de;
	size_t n = 0;
	ssize_t len;
	DIR *d = opendir("/proc/self/fd");

	while (d && (de = readdir(d))) {
		snprintf(p, sizeof(p), "/proc/self/fd/%s", de->d_name);
		len = readlink(p, t, sizeof(t) - 1);
		if (len <= 0)
			continue;
		t[len] = '\0';
		n += !strcmp(t, "anon_inode:bpf-prog") || !strcmp(t, "anon_inode:bpf_link") ||
		     !strcmp(t, "anon_inode:[perf_event]");
	}
	if (d)
		closedir(d);
	return n;
}

/* A snapshot of what a failed load must not change: the fds holding programs, pins,
 * records.  (Not the kernel's program ids: other tests on the machine load programs
 * of the same names meanwhile.  A program a failed load left behind is held by an
 * fd of this process or a pin.) */
struct snap {
	size_t n_fds, n_fs, n_maps, n_records;
};

static void snap_take(struct env *e, struct snap *s)
{
	char p[PATH_MAX];

	memset(s, 0, sizeof(*s));
	s->n_fds = prog_fds();
	s->n_fs = fs_pins(e);
	snprintf(p, sizeof(p), "%s/maps", e->cfg.bpffs);
	s->n_maps = count_entries(p);
	snprintf(p, sizeof(p), "%s/programs", e->cfg.rundir);
	s->n_records = count_entries(p);
}

/* Nothing holds a program the failed load made: no new fd, pin, map pin or record. */
static bool snap_same(struct env *e, const struct snap *a)
{
	struct snap *b = calloc(1, sizeof(*b));
	bool ok = true;

	snap_take(e, b);
	ok &= ASSERT_EQ(b->n_fds, a->n_fds, "no program left behind (fds holding programs)");
	ok &= ASSERT_EQ(b->n_fs, a->n_fs, "entries in bpffs unchanged");
	ok &= ASSERT_EQ(b->n_maps, a->n_maps, "map pin dirs unchanged");
	ok &= ASSERT_EQ(b->n_records, a->n_records, "records unchanged");
	free(b);
	return ok;
}

/* --- tests --- */

static void tracepoint_runs_with_global(void)
{
	bpfd_v1_LoadRequest *r = req_new();
	bpfd_v1_ProgramInfo *info = calloc(1, sizeof(*info));
	struct errmsg em = { { 0 } };
	char maps[PATH_MAX];
	struct env e;
	uint32_t id = 0, type = 0;
	uint64_t v0, v1;

	require_root();
	if (!env_init(&e))
		goto out;
	req_tracepoint(r, "tp_count", "syscalls/sys_enter_getppid");
	req_step(r, 1000003);
	r->metadata_count = 1;
	snprintf(r->metadata[0].key, 128, "app");
	snprintf(r->metadata[0].value, 512, "counter");
	if (!ASSERT_OK(load(&e, r, &id, &em), em.msg))
		goto out;
	ASSERT_TRUE(exists("%s/prog_%u", e.cfg.bpffs, id), "program pinned");
	ASSERT_TRUE(exists("%s/prog_%u_link", e.cfg.bpffs, id), "link pinned");
	ASSERT_TRUE(exists("%s/maps/%u/counter", e.cfg.bpffs, id), "map pinned");
	ASSERT_FALSE(exists("%s/maps/%u/prog_cou.rodata", e.cfg.bpffs, id), ".rodata not pinned");
	ASSERT_TRUE(exists("%s/programs/%u", e.cfg.rundir, id), "record written");
	ASSERT_EQ(fs_pins(&e), 3, "pins: prog, link, map dir");
	snprintf(maps, sizeof(maps), "%s/maps/%u", e.cfg.bpffs, id);
	ASSERT_EQ(count_entries(maps), 1, "only the counter map is pinned");
	v0 = counter(maps);
	trigger_getppid(100);
	v1 = counter(maps);
	ASSERT_TRUE(v1 != UINT64_MAX && v1 - v0 >= 100 * 1000003ull, "counter grew by 100 steps");
	ASSERT_EQ(v1 % 1000003ull, 0, "counter moves in steps of the global");

	if (!ASSERT_OK(rpc_mgr_ops.prog_info(e.m, id, info, &type), "prog info"))
		goto out;
	ASSERT_EQ(type, 5, "tracepoint reported as type 5");
	ASSERT_STREQ(info->name, "tp_count", "name");
	ASSERT_STREQ(info->map_pin_path, maps, "map pin path");
	ASSERT_EQ(info->map_used_by_count, 1, "used by itself");
	ASSERT_EQ(strtoul(info->map_used_by[0], NULL, 10), id, "used by id");
	ASSERT_FALSE(info->has_map_owner_id, "no owner");
	ASSERT_EQ(info->metadata_count, 1, "metadata kept");
	ASSERT_STREQ(info->metadata[0].value, "counter", "metadata value");
	ASSERT_EQ(info->global_data_count, 1, "global kept");
	ASSERT_STREQ(info->attach.info.tracepoint_attach_info.tracepoint,
		     "syscalls/sys_enter_getppid", "tracepoint kept");
	ASSERT_STREQ(info->attach_mode, "link", "attach mode");

	ASSERT_OK(mgr_unload(e.m, id, &em), em.msg);
	ASSERT_EQ(fs_pins(&e), 0, "no pins left");
	ASSERT_FALSE(exists("%s", maps), "map dir removed");
	ASSERT_FALSE(exists("%s/programs/%u", e.cfg.rundir, id), "record removed");
	ASSERT_TRUE(prog_gone(id), "program unloaded");
	ASSERT_EQ(rpc_mgr_ops.prog_info(e.m, id, info, NULL), -ENOENT, "no longer managed");
out:
	env_fini(&e);
	free(r);
	free(info);
}

static int __attribute__((noinline)) bpfd_test_func(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

static void call_test_func(int n)
{
	volatile int s = 0;

	while (n--)
		s = bpfd_test_func(s);
}

static void req_uprobe(bpfd_v1_LoadRequest *r, const char *fn, const char *target,
		       const char *func, bool ret, int pid)
{
	bpfd_v1_UprobeAttachInfo *u = &r->attach.info.uprobe_attach_info;

	req_init(r, COUNTER_OBJ, fn);
	r->attach.which_info = bpfd_v1_AttachInfo_uprobe_attach_info_tag;
	snprintf(u->target, sizeof(u->target), "%s", target);
	if (func) {
		u->has_fn_name = true;
		snprintf(u->fn_name, sizeof(u->fn_name), "%s", func);
	}
	u->retprobe = ret;
	if (pid > 0) {
		u->has_pid = true;
		u->pid = pid;
	}
}

static void uprobe_self_and_pid_filter(void)
{
	bpfd_v1_LoadRequest *r = req_new();
	struct errmsg em = { { 0 } };
	char self[PATH_MAX], maps[PATH_MAX];
	struct env e;
	uint32_t id = 0, id2 = 0;
	uint64_t v0, v1;
	ssize_t n;
	pid_t child;
	int st;

	require_root();
	if (!env_init(&e))
		goto out;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (!ASSERT_TRUE(n > 0, "own path"))
		goto out;
	self[n] = '\0';
	/* uprobe, filtered to this process */
	req_uprobe(r, "up_count", self, "bpfd_test_func", false, getpid());
	req_step(r, 3);
	if (!ASSERT_OK(load(&e, r, &id, &em), em.msg))
		goto out;
	snprintf(maps, sizeof(maps), "%s/maps/%u", e.cfg.bpffs, id);
	v0 = counter(maps);
	child = fork();
	if (child == 0) {
		call_test_func(50);	/* another pid: must not count */
		_exit(0);
	}
	waitpid(child, &st, 0);
	ASSERT_EQ(counter(maps), v0, "other process not counted (pid filter)");
	call_test_func(40);
	v1 = counter(maps);
	ASSERT_EQ(v1 - v0, 40 * 3, "40 calls counted in steps of 3");
	/* uretprobe on the same function, every process */
	memset(&em, 0, sizeof(em));
	req_uprobe(r, "urp_count", self, "bpfd_test_func", true, 0);
	if (!ASSERT_OK(load(&e, r, &id2, &em), em.msg))
		goto out;
	snprintf(maps, sizeof(maps), "%s/maps/%u", e.cfg.bpffs, id2);
	v0 = counter(maps);
	child = fork();
	if (child == 0) {
		call_test_func(25);
		_exit(0);
	}
	waitpid(child, &st, 0);
	ASSERT_EQ(counter(maps) - v0, 25, "uretprobe counts every process");
	ASSERT_OK(mgr_unload(e.m, id, &em), em.msg);
	ASSERT_OK(mgr_unload(e.m, id2, &em), em.msg);
	ASSERT_EQ(fs_pins(&e), 0, "nothing but maps/ left");
out:
	env_fini(&e);
	free(r);
}

static void uprobe_library_name(void)
{
	bpfd_v1_LoadRequest *r = req_new();
	bpfd_v1_ProgramInfo *info = calloc(1, sizeof(*info));
	struct errmsg em = { { 0 } };
	char maps[PATH_MAX];
	struct env e;
	uint32_t id = 0;
	uint64_t v0, v1;

	require_root();
	if (!env_init(&e))
		goto out;
	/* getppid() of libc, found through ld.so.cache as "libc" */
	req_uprobe(r, "up_count", "libc", "getppid", false, getpid());
	if (!ASSERT_OK(load(&e, r, &id, &em), em.msg))
		goto out;
	snprintf(maps, sizeof(maps), "%s/maps/%u", e.cfg.bpffs, id);
	v0 = counter(maps);
	for (int i = 0; i < 30; i++)
		getppid();
	v1 = counter(maps);
	ASSERT_EQ(v1 - v0, 30, "30 libc getppid() calls counted");
	ASSERT_OK(rpc_mgr_ops.prog_info(e.m, id, info, NULL), "info");
	ASSERT_STREQ(info->attach.info.uprobe_attach_info.target, "libc", "target as given");
	ASSERT_OK(mgr_unload(e.m, id, &em), em.msg);
	/* a library that does not exist: the error says where bpfd looked */
	memset(&em, 0, sizeof(em));
	req_uprobe(r, "up_count", "libdoesnotexist", "f", false, 0);
	ASSERT_EQ(load(&e, r, &id, &em), -ENOENT, "missing library");
	ASSERT_STRSTR(em.msg, "/etc/ld.so.cache", "names ld.so.cache");
	ASSERT_STRSTR(em.msg, "/usr/lib", "names the directories");
	memset(&em, 0, sizeof(em));
	req_uprobe(r, "up_count", "libc", "no_such_function_xyz", false, 0);
	ASSERT_EQ(load(&e, r, &id, &em), -ENOENT, "missing symbol");
	ASSERT_STRSTR(em.msg, "no_such_function_xyz", "names the function");
	ASSERT_STRSTR(em.msg, "libc.so", "names the file");
	ASSERT_EQ(fs_pins(&e), 0, "nothing left behind");
out:
	env_fini(&e);
	free(r);
	free(info);
}

static bool probe_feature(enum probe_feature f, char *why, size_t size)
{
	static struct probe_result pr;
	static bool done;

	if (!done) {
		if (probe_run(&pr))
			return false;
		done = true;
	}
	snprintf(why, size, "%s (%s)", pr.f[f].detail, strerror(pr.f[f].err));
	return probe_has(&pr, f);
}

/* expect_run: prove the kind runs (skip when the kernel lacks it); else check the
 * load fails with a clear message (skip when the kernel has it). */
static void kernel_fn_kind(const char *fn, bool ret, bool fentry, bool expect_run)
{
	bpfd_v1_LoadRequest *r = req_new();
	struct errmsg em = { { 0 } };
	char maps[PATH_MAX], why[300];
	const char *kfn = "__task_pid_nr_ns";	/* called by getppid() */
	struct snap *s = calloc(1, sizeof(*s));
	struct env e;
	uint32_t id = 0;
	uint64_t v0, v1;
	bool have;
	int err;

	require_root();
	have = probe_feature(fentry ? PROBE_FENTRY : PROBE_KPROBE, why, sizeof(why));
	if (expect_run && !have)
		test_skip(why);
	if (!expect_run && have)
		test_skip(fentry ? "this kernel allows fentry/fexit: no refusal to check" :
				   "this kernel has kprobes: no refusal to check");
	if (!env_init(&e))
		goto out;
	req_init(r, COUNTER_OBJ, fn);
	if (fentry) {
		r->attach.which_info = ret ? bpfd_v1_AttachInfo_fexit_attach_info_tag :
					     bpfd_v1_AttachInfo_fentry_attach_info_tag;
		snprintf(r->attach.info.fentry_attach_info.fn_name, 256, "%s", kfn);
	} else {
		r->attach.which_info = bpfd_v1_AttachInfo_kprobe_attach_info_tag;
		snprintf(r->attach.info.kprobe_attach_info.fn_name, 256, "%s", kfn);
		r->attach.info.kprobe_attach_info.retprobe = ret;
	}
	req_step(r, 11);
	snap_take(&e, s);
	err = load(&e, r, &id, &em);
	if (!have) {
		/* the kernel lacks it: a clear error, nothing left behind */
		printf("  kernel lacks %s: %s\n", fentry ? "fentry" : "kprobe", why);
		ASSERT_ERR(err, "load fails");
		printf("  error: %s\n", em.msg);
		if (fentry)
			ASSERT_STRSTR(em.msg, "EPERM", "fentry refusal explained");
		else
			ASSERT_STRSTR(em.msg, "kprobe support", "missing kprobes explained");
		snap_same(&e, s);
		goto out;
	}
	if (!ASSERT_OK(err, em.msg))
		goto out;
	snprintf(maps, sizeof(maps), "%s/maps/%u", e.cfg.bpffs, id);
	v0 = counter(maps);
	trigger_getppid(20);
	v1 = counter(maps);
	ASSERT_TRUE(v1 - v0 >= 20 * 11, "20 calls counted");
	ASSERT_EQ((v1 - v0) % 11, 0, "in steps of the global");
	ASSERT_OK(mgr_unload(e.m, id, &em), em.msg);
	ASSERT_TRUE(prog_gone(id), "unloaded");
out:
	env_fini(&e);
	free(r);
	free(s);
}

static void kprobe_runs(void) { kernel_fn_kind("kp_count", false, false, true); }
static void kretprobe_runs(void) { kernel_fn_kind("krp_count", true, false, true); }
static void fentry_runs(void) { kernel_fn_kind("fe_count", false, true, true); }
static void fexit_runs(void) { kernel_fn_kind("fx_count", true, true, true); }
static void kprobe_missing_is_clear(void) { kernel_fn_kind("kp_count", false, false, false); }
static void fentry_refused_is_clear(void) { kernel_fn_kind("fe_count", false, true, false); }

static void check_used_by(struct env *e, uint32_t id, const uint32_t *want, size_t n,
			  const char *what)
{
	bpfd_v1_ProgramInfo *info = calloc(1, sizeof(*info));
	size_t i;

	if (ASSERT_OK(rpc_mgr_ops.prog_info(e->m, id, info, NULL), what) &&
	    ASSERT_EQ(info->map_used_by_count, n, what))
		for (i = 0; i < n; i++)
			ASSERT_EQ(strtoul(info->map_used_by[i], NULL, 10), want[i], what);
	free(info);
}

/* Owner + two users; unload in the order given (indexes into {owner, u1, u2}). */
static void share_order(const int order[3])
{
	bpfd_v1_LoadRequest *r = req_new();
	struct errmsg em = { { 0 } };
	bpfd_v1_LoadResponse *resp = calloc(1, sizeof(*resp));
	uint32_t ids[3] = { 0 }, left[3], counter_id = 0;
	bool has_counter[3] = { false };
	char dir[PATH_MAX];
	struct env e;
	size_t i, j, n;

	if (!env_init(&e))
		goto out;
	for (i = 0; i < 3; i++) {
		req_tracepoint(r, "tp_count", "syscalls/sys_enter_getppid");
		if (i) {
			r->has_map_owner_id = true;
			r->map_owner_id = ids[0];
		}
		memset(&em, 0, sizeof(em));
		if (!ASSERT_OK(rpc_mgr_ops.load(e.m, r, NULL, resp, &em), em.msg))
			goto out;
		ids[i] = resp->kernel_info.id;
		if (!i) {
			snprintf(dir, sizeof(dir), "%s/maps/%u", e.cfg.bpffs, ids[0]);
			counter_id = map_id_of(dir);
		}
		for (j = 0; j < resp->kernel_info.map_ids_count; j++)
			has_counter[i] |= resp->kernel_info.map_ids[j] == counter_id;
		if (i) {
			ASSERT_TRUE(resp->info.has_map_owner_id, "user has owner");
			ASSERT_EQ(resp->info.map_owner_id, ids[0], "owner id");
		}
	}
	ASSERT_TRUE(counter_id && has_counter[0], "owner uses its pinned map");
	ASSERT_TRUE(has_counter[1], "user 1 uses the owner's map (same kernel map id)");
	ASSERT_TRUE(has_counter[2], "user 2 uses the owner's map (same kernel map id)");
	ASSERT_EQ(count_entries(dir), 1, "one map pinned");
	ASSERT_FALSE(exists("%s/maps/%u", e.cfg.bpffs, ids[1]), "no map dir of user 1");
	for (i = 0; i < 3; i++)
		check_used_by(&e, ids[i], ids, 3, "used by all three");
	/* counting through the shared map: 3 programs on the same tracepoint */
	{
		uint64_t v0 = counter(dir), v1;

		trigger_getppid(10);
		v1 = counter(dir);
		ASSERT_TRUE(v1 - v0 >= 30, "all three count into the shared map");
	}
	for (i = 0; i < 3; i++) {
		memset(&em, 0, sizeof(em));
		ASSERT_OK(mgr_unload(e.m, ids[order[i]], &em), em.msg);
		n = 0;
		for (j = 0; j < 3; j++) {
			bool gone = false;
			for (size_t k = 0; k <= i; k++)
				gone |= order[k] == (int)j;
			if (!gone)
				left[n++] = ids[j];
		}
		for (j = 0; j < n; j++)
			check_used_by(&e, left[j], left, n, "used by the remaining programs");
		if (n)
			ASSERT_TRUE(exists("%s", dir), "map dir stays while a user remains");
		else
			ASSERT_FALSE(exists("%s", dir), "map dir removed with the last user");
	}
	ASSERT_EQ(fs_pins(&e), 0, "nothing left");
out:
	env_fini(&e);
	free(r);
	free(resp);
}

static void map_sharing_every_order(void)
{
	static const int orders[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	size_t i;

	require_root();
	for (i = 0; i < 6; i++)
		share_order(orders[i]);
}

static void map_owner_errors(void)
{
	bpfd_v1_LoadRequest *r = req_new();
	struct errmsg em = { { 0 } };
	struct snap *s = calloc(1, sizeof(*s));
	uint32_t owner = 0, user = 0, id;
	struct env e;

	require_root();
	if (!env_init(&e) || !load_tp_count(&e, r, &owner, &em))
		goto out;
	r->has_map_owner_id = true;
	r->map_owner_id = owner;
	if (!ASSERT_OK(load(&e, r, &user, &em), em.msg))
		goto out;
	snap_take(&e, s);
	r->map_owner_id = 999999;
	ASSERT_EQ(load(&e, r, &id, &em), -ENOENT, "non-existent owner");
	ASSERT_STRSTR(em.msg, "999999", "names the owner id");
	snap_same(&e, s);
	memset(&em, 0, sizeof(em));
	r->map_owner_id = user;
	ASSERT_EQ(load(&e, r, &id, &em), -EINVAL, "owner that is itself a user");
	ASSERT_STRSTR(em.msg, "--map-owner-id", "says which id to use");
	snap_same(&e, s);
	/* the owner unloaded: its maps live on for the user, but it is no owner any more */
	ASSERT_OK(mgr_unload(e.m, owner, &em), "unload owner");
	memset(&em, 0, sizeof(em));
	r->map_owner_id = owner;
	ASSERT_EQ(load(&e, r, &id, &em), -ENOENT, "unloaded owner");
	ASSERT_OK(mgr_unload(e.m, user, &em), "unload user");
out:
	env_fini(&e);
	free(r);
	free(s);
}

static void restart_keeps_everything(void)
{
	bpfd_v1_LoadRequest *r = req_new();
	bpfd_v1_ProgramInfo *a = calloc(8, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct errmsg em = { { 0 } };
	char maps[PATH_MAX], self[PATH_MAX];
	uint32_t ids[8], type;
	struct env e;
	uint64_t v0;
	size_t i, n = 0;
	ssize_t len;

	require_root();
	if (!env_init(&e))
		goto out;
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[len > 0 ? len : 0] = '\0';
	for (i = 0; i < 6; i++) {
		if (i % 2)
			req_uprobe(r, i % 4 == 1 ? "up_count" : "urp_count", self,
				   "bpfd_test_func", i % 4 != 1, 0);
		else
			req_tracepoint(r, "tp_count", "syscalls/sys_enter_getppid");
		req_step(r, i + 1);
		r->metadata_count = 1;
		snprintf(r->metadata[0].key, 128, "n");
		snprintf(r->metadata[0].value, 512, "%zu", i);
		if (i == 5) {
			r->has_map_owner_id = true;
			r->map_owner_id = ids[0];
		}
		memset(&em, 0, sizeof(em));
		if (!ASSERT_OK(load(&e, r, &ids[n], &em), em.msg))
			goto out;
		n++;
	}
	for (i = 0; i < n; i++)
		ASSERT_OK(rpc_mgr_ops.prog_info(e.m, ids[i], &a[i], NULL), "info");
	if (!env_restart(&e))
		goto out;
	for (i = 0; i < n; i++) {
		/* entries past the arrays' counts are left as they were (record.h) */
		memset(b, 0, sizeof(*b));
		if (!ASSERT_OK(rpc_mgr_ops.prog_info(e.m, ids[i], b, &type), "info after restart"))
			continue;
		ASSERT_EQ(memcmp(&a[i], b, sizeof(*b)), 0, "same details after restart");
	}
	snprintf(maps, sizeof(maps), "%s/maps/%u", e.cfg.bpffs, ids[0]);
	v0 = counter(maps);
	trigger_getppid(10);
	ASSERT_TRUE(counter(maps) - v0 >= 10, "tracepoint still runs");
	snprintf(maps, sizeof(maps), "%s/maps/%u", e.cfg.bpffs, ids[1]);
	v0 = counter(maps);
	call_test_func(7);
	ASSERT_EQ(counter(maps) - v0, 7 * 2, "uprobe still runs");
	for (i = 0; i < n; i++)
		ASSERT_OK(mgr_unload(e.m, ids[i], &em), "unload after restart");
	ASSERT_EQ(fs_pins(&e), 0, "nothing left");
out:
	env_fini(&e);
	free(r);
	free(a);
	free(b);
}

static void reconcile_orphans(void)
{
	bpfd_v1_LoadRequest *r = req_new();
	struct errmsg em = { { 0 } };
	char p[PATH_MAX], q[2 * PATH_MAX + 64];
	uint32_t kept = 0, orphan = 0;
	struct env e;
	int fd;

	require_root();
	if (!env_init(&e) || !load_tp_count(&e, r, &kept, &em))
		goto out;
	if (!ASSERT_OK(load(&e, r, &orphan, &em), em.msg))
		goto out;
	/* orphan: its record disappears (as if the daemon died before writing it) */
	snprintf(p, sizeof(p), "%s/programs/%u", e.cfg.rundir, orphan);
	ASSERT_OK(unlink(p), "remove record");
	/* a record whose program is gone: copy kept's record under an unused id */
	snprintf(p, sizeof(p), "%s/programs/%u", e.cfg.rundir, kept);
	snprintf(q, sizeof(q), "cp '%s' '%s/programs/4000000000'", p, e.cfg.rundir);
	ASSERT_OK(system(q), "fake record");
	/* a stray map dir and a temp file from an interrupted write */
	snprintf(p, sizeof(p), "%s/programs/.tmp-5-5", e.cfg.rundir);
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	close(fd);
	if (!env_restart(&e))
		goto out;
	ASSERT_FALSE(exists("%s/prog_%u", e.cfg.bpffs, orphan), "orphan program pin removed");
	ASSERT_FALSE(exists("%s/prog_%u_link", e.cfg.bpffs, orphan), "orphan link pin removed");
	ASSERT_FALSE(exists("%s/maps/%u", e.cfg.bpffs, orphan), "orphan maps removed");
	ASSERT_TRUE(prog_gone(orphan), "orphan program unloaded");
	ASSERT_FALSE(exists("%s/programs/4000000000", e.cfg.rundir), "record without program dropped");
	ASSERT_FALSE(exists("%s", p), "temp file removed");
	ASSERT_TRUE(exists("%s/prog_%u", e.cfg.bpffs, kept), "kept program still pinned");
	ASSERT_OK(rpc_mgr_ops.prog_info(e.m, kept, calloc(1, sizeof(bpfd_v1_ProgramInfo)), NULL),
		  "kept program managed");
	ASSERT_OK(mgr_unload(e.m, kept, &em), "unload kept");
out:
	env_fini(&e);
	free(r);
}

static void expect_fail(struct env *e, bpfd_v1_LoadRequest *r, int want, const char *needle,
			const char *what)
{
	struct errmsg em = { { 0 } };
	struct snap *s = calloc(1, sizeof(*s));
	uint32_t id;

	snap_take(e, s);
	if (ASSERT_EQ(load(e, r, &id, &em), want, what))
		ASSERT_STRSTR(em.msg, needle, what);
	printf("  %s: %s\n", what, em.msg);
	snap_same(e, s);
	free(s);
}

static void bad_inputs_change_nothing(void)
{
	bpfd_v1_LoadRequest *r = req_new();
	struct errmsg em = { { 0 } };
	char longp[600];
	struct env e;
	uint32_t keep = 0;
	int fd;

	require_root();
	/* one program loaded, so "nothing changed" includes an existing one */
	if (!env_init(&e) || !load_tp_count(&e, r, &keep, &em))
		goto out;

	req_init(r, COUNTER_OBJ, "krp_count");
	r->attach.which_info = bpfd_v1_AttachInfo_kprobe_attach_info_tag;
	snprintf(r->attach.info.kprobe_attach_info.fn_name, 256, "do_nanosleep");
	expect_fail(&e, r, -EINVAL, "kretprobe", "kretprobe program loaded as kprobe");
	req_tracepoint(r, "up_count", "syscalls/sys_enter_getppid");
	expect_fail(&e, r, -EINVAL, "of kind uprobe", "uprobe program loaded as tracepoint");

	req_tracepoint(r, "tp_count", "syscalls/sys_enter_getppid");
	snprintf(r->global_data[0].key, 128, "no_such_global");
	r->global_data[0].value.size = 8;
	r->global_data_count = 1;
	expect_fail(&e, r, -ENOENT, "step (8 bytes)", "unknown global lists the variables");
	snprintf(r->global_data[0].key, 128, "step");
	r->global_data[0].value.size = 4;
	expect_fail(&e, r, -EINVAL, "8 bytes long but 4", "wrong global size");
	r->global_data_count = 0;

	req_tracepoint(r, "no_such_fn", "syscalls/sys_enter_getppid");
	expect_fail(&e, r, -ESRCH, "tp_count", "missing function lists functions");
	req_tracepoint(r, "tp_count", "syscalls/no_such_tracepoint");
	expect_fail(&e, r, -ENOENT, "no_such_tracepoint", "missing tracepoint");
	req_tracepoint(r, "tp_count", "no-slash");
	expect_fail(&e, r, -EINVAL, "CATEGORY/NAME", "malformed tracepoint");

	req_tracepoint(r, "tp_count", "syscalls/sys_enter_getppid");
	snprintf(r->bytecode.location.file, 4096, "/nonexistent/prog.o");
	expect_fail(&e, r, -ENOENT, "/nonexistent/prog.o", "missing file");
	snprintf(r->bytecode.location.file, 4096, "/etc/hostname");
	expect_fail(&e, r, -ENOEXEC, "not an ELF file", "non-ELF file");
	snprintf(r->bytecode.location.file, 4096, "/proc/self/exe");
	expect_fail(&e, r, -ENOEXEC, "not a BPF object", "ELF of another machine");
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	snprintf(r->bytecode.location.file, 4096, "%s", longp);
	expect_fail(&e, r, -ENAMETOOLONG, "cannot open object file", "oversized path");

	req_init(r, BAD_OBJ, "bad_count");
	r->attach.which_info = bpfd_v1_AttachInfo_tracepoint_attach_info_tag;
	snprintf(r->attach.info.tracepoint_attach_info.tracepoint, 256, "syscalls/sys_enter_getppid");
	expect_fail(&e, r, -EINVAL, "invalid mem access", "verifier log tail");

	req_uprobe(r, "up_count", "/etc/hostname", "main", false, 0);
	expect_fail(&e, r, -ENOEXEC, "not an ELF file", "uprobe target not ELF");
	req_uprobe(r, "urp_count", "libc", "getppid", true, 0);
	r->attach.info.uprobe_attach_info.offset = 4;
	expect_fail(&e, r, -EINVAL, "offset is not allowed", "offset with uretprobe");

	memset(&em, 0, sizeof(em));
	ASSERT_EQ(mgr_unload(e.m, 4000000000u, &em), -ENOENT, "unload unknown id");
	ASSERT_STRSTR(em.msg, "no program 4000000000", "says there is none");
	/* a program someone else loaded: refused, and it stays */
	fd = bpf_prog_get_fd_by_id(keep);
	{
		LIBBPF_OPTS(bpf_prog_load_opts, o);
		struct bpf_insn insns[] = {
			{ .code = 0xb7, .dst_reg = 0, .imm = 0 },	/* r0 = 0 */
			{ .code = 0x95 },				/* exit */
		};
		int pfd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "foreign", "GPL", insns, 2, &o);
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (ASSERT_TRUE(pfd >= 0, "load a foreign program") &&
		    ASSERT_OK(bpf_obj_get_info_by_fd(pfd, &info, &len), "its id")) {
			memset(&em, 0, sizeof(em));
			ASSERT_EQ(mgr_unload(e.m, info.id, &em), -ENOENT, "foreign id refused");
			ASSERT_STRSTR(em.msg, "not managed by bpfd", "says why");
			ASSERT_TRUE(bpf_prog_get_fd_by_id(info.id) >= 0, "foreign program untouched");
		}
		if (pfd >= 0)
			close(pfd);
	}
	if (fd >= 0)
		close(fd);
	ASSERT_OK(mgr_unload(e.m, keep, &em), "unload the kept program");
out:
	env_fini(&e);
	free(r);
}

/* The manager's own API is plain C (no wire types): a plan in, a view out.  The plan
 * is a value: changing it after the load changes nothing the manager keeps. */
static void plain_plan_and_view(void)
{
	struct load_plan *p = calloc(1, sizeof(*p));
	struct prog_view *v = calloc(1, sizeof(*v)), *w = calloc(1, sizeof(*w));
	struct errmsg em = { { 0 } };
	struct env e;

	require_root();
	if (!env_init(&e))
		return;
	p->bytecode = PLAN_BYTECODE_FILE;
	snprintf(p->spec.path, sizeof(p->spec.path), "%s", testbpf(COUNTER_OBJ));
	snprintf(p->spec.name, sizeof(p->spec.name), "tp_count");
	p->has_attach = true;
	p->spec.attach.kind = OBJ_KIND_TRACEPOINT;
	snprintf(p->spec.attach.tracepoint, sizeof(p->spec.attach.tracepoint),
		 "syscalls/sys_enter_getppid");
	p->spec.n_metadata = 1;
	snprintf(p->spec.metadata[0].key, sizeof(p->spec.metadata[0].key), "app");
	snprintf(p->spec.metadata[0].value, sizeof(p->spec.metadata[0].value), "plain");
	if (!ASSERT_OK(mgr_load(e.m, p, v, &em), em.msg))
		goto out;
	ASSERT_TRUE(v->id != 0, "id");
	ASSERT_EQ(v->managed_type, 5, "tracepoint type");
	ASSERT_STREQ(v->spec.name, "tp_count", "name");
	ASSERT_STREQ(v->attach_mode, "link", "attach mode");
	ASSERT_EQ(v->n_map_used_by, 1, "used by itself");
	ASSERT_EQ(v->map_used_by[0], v->id, "used by id");
	memset(p, 0xa5, sizeof(*p));
	if (ASSERT_OK(mgr_prog_view(e.m, v->id, w), "view")) {
		ASSERT_EQ(memcmp(v, w, sizeof(*v)), 0, "load reply and view agree");
		ASSERT_STREQ(w->spec.metadata[0].value, "plain", "metadata kept");
	}
	ASSERT_EQ(mgr_prog_view(e.m, v->id + 1000000, w), -ENOENT, "not managed");
	memset(p, 0, sizeof(*p));
	p->bytecode = PLAN_BYTECODE_FILE;
	snprintf(p->spec.name, sizeof(p->spec.name), "tp_count");
	p->has_attach = true;
	p->spec.attach.kind = OBJ_KIND_TC;
	snprintf(p->spec.attach.iface, sizeof(p->spec.attach.iface), "lo");
	snprintf(p->spec.attach.direction, sizeof(p->spec.attach.direction), "up");
	ASSERT_EQ(mgr_load(e.m, p, NULL, &em), -EINVAL, "bad direction");
	ASSERT_STREQ(em.msg, "direction 'up' is neither ingress nor egress", "its message");
	ASSERT_OK(mgr_unload(e.m, v->id, &em), em.msg);
out:
	env_fini(&e);
	free(p);
	free(v);
	free(w);
}

TEST_MAIN("manager",
	  TEST(tracepoint_runs_with_global),
	  TEST(uprobe_self_and_pid_filter),
	  TEST(uprobe_library_name),
	  TEST(kprobe_runs),
	  TEST(kretprobe_runs),
	  TEST(fentry_runs),
	  TEST(fexit_runs),
	  TEST(kprobe_missing_is_clear),
	  TEST(fentry_refused_is_clear),
	  TEST(map_sharing_every_order),
	  TEST(map_owner_errors),
	  TEST(restart_keeps_everything),
	  TEST(reconcile_orphans),
	  TEST(bad_inputs_change_nothing),
	  TEST(plain_plan_and_view))
