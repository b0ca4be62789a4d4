/* SPDX-License-Identifier: Apache-2.0 */
/* prog.c - attach tracepoint/kprobe/uprobe/fentry/fexit programs, pin, kernel info */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/prog.h"
#include "bpf/uprobe.h"
#include "core/base/log.h"

static const char *const tracefs_roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

static bool kind_is(enum obj_kind k, enum obj_kind a, enum obj_kind b)
{
	return k == a || k == b;
}

int prog_check_kind(struct obj *o, enum obj_kind want, struct errmsg *em)
{
	enum obj_kind have = obj_kind(o);
	bool ok;

	switch (want) {
	case OBJ_KIND_TC:
	case OBJ_KIND_TCX:
		/* a SCHED_CLS program runs under either hook */
		ok = kind_is(have, OBJ_KIND_TC, OBJ_KIND_TCX);
		break;
	default:
		ok = have == want;
		break;
	}
	if (ok)
		return 0;
	if (have == OBJ_KIND_UNKNOWN)
		return errmsg_set(em, -EINVAL,
				  "program '%s' is in ELF section '%s', which is not a kind bpfd attaches; it was requested as %s (bpfd attaches xdp, tc, tcx, tracepoint, kprobe, kretprobe, uprobe, uretprobe, fentry, fexit)",
				  obj_func_name(o), obj_section(o), obj_kind_str(want));
	return errmsg_set(em, -EINVAL,
			  "program '%s' is of kind %s (ELF section '%s') but was requested as %s; load it as %s%s",
			  obj_func_name(o), obj_kind_str(have), obj_section(o), obj_kind_str(want),
			  obj_kind_str(have),
			  kind_is(have, OBJ_KIND_KRETPROBE, OBJ_KIND_URETPROBE) ? " (add -r/--retprobe)" :
			  kind_is(want, OBJ_KIND_KRETPROBE, OBJ_KIND_URETPROBE) ? " (without -r/--retprobe)" : "");
}

static bool path_exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static const char *tracefs_find(void)
{
	char p[64];
	size_t i;

	for (i = 0; i < sizeof(tracefs_roots) / sizeof(tracefs_roots[0]); i++) {
		snprintf(p, sizeof(p), "%s/events", tracefs_roots[i]);
		if (path_exists(p))
			return tracefs_roots[i];
	}
	return NULL;
}

/* The tracefs root; mounted at its standard place when no tracefs is mounted (libbpf
 * reads tracepoint ids and probe events there, as systemd would have mounted it). */
static const char *tracefs_root(void)
{
	const char *root = tracefs_find();

	if (root)
		return root;
	if (mount("tracefs", tracefs_roots[0], "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		log_debug("cannot mount tracefs at %s: %s", tracefs_roots[0], strerror(errno));
		return NULL;
	}
	log_info("mounted tracefs at %s", tracefs_roots[0]);
	return tracefs_find();
}

static int check_tracepoint(const char *tp, char *cat, size_t csize, char *name, size_t nsize,
			    struct errmsg *em)
{
	const char *slash = tp ? strchr(tp, '/') : NULL, *root;
	char p[PATH_MAX];

	if (!slash || slash == tp || !slash[1] || strchr(slash + 1, '/') ||
	    (size_t)(slash - tp) >= csize || strlen(slash + 1) >= nsize)
		return errmsg_set(em, -EINVAL,
				  "tracepoint '%s' is not CATEGORY/NAME, e.g. syscalls/sys_enter_openat",
				  tp ? tp : "");
	memcpy(cat, tp, slash - tp);
	cat[slash - tp] = '\0';
	strcpy(name, slash + 1);
	if (strstr(cat, "..") || strstr(name, ".."))
		return errmsg_set(em, -EINVAL, "tracepoint '%s' is not a valid name", tp);
	root = tracefs_root();
	if (!root)
		return errmsg_set(em, -ENOENT,
				  "cannot look up tracepoint %s: tracefs is not mounted (looked for %s/events and %s/events) and mounting it failed; mount it with 'mount -t tracefs tracefs /sys/kernel/tracing'",
				  tp, tracefs_roots[0], tracefs_roots[1]);
	snprintf(p, sizeof(p), "%s/events/%s/%s/id", root, cat, name);
	if (!path_exists(p))
		return errmsg_set(em, -ENOENT,
				  "tracepoint %s does not exist: looked for %s (the list is in %s/available_events)",
				  tp, p, root);
	return 0;
}

/* One /proc/kallsyms line ("addr type name [module]"): 0 with the address and
 * name (NUL-terminated in line), -EINVAL for a line of another shape. */
static int kallsyms_parse(char *line, unsigned long long *ret_addr, char **ret_name)
{
	char *name, *end;

	errno = 0;
	*ret_addr = strtoull(line, &end, 16);
	if (errno || end == line || *end != ' ')
		return -EINVAL;
	name = strchr(end + 1, ' ');
	if (!name)
		return -EINVAL;
	name++;
	name[strcspn(name, " \t\n")] = '\0';
	*ret_name = name;
	return 0;
}

/*
 * Is fn a kernel symbol in /proc/kallsyms?  With an offset, also: is fn+offset
 * still inside fn?  The kernel accepts any instruction boundary past the end, in
 * whatever function follows, so the length is taken from the next symbol's address
 * (addresses all zero, as without CAP_SYSLOG: not checked, the kernel decides).
 */
static int check_kallsyms(const char *fn, uint64_t offset, struct errmsg *em)
{
	unsigned long long addr, at = 0, next = ~0ULL;
	char line[512], *name;
	bool found = false;
	FILE *f;

	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return 0;	/* cannot check: let the kernel say */
	while (!found && fgets(line, sizeof(line), f))
		if (!kallsyms_parse(line, &at, &name) && !strcmp(name, fn))
			found = true;
	if (found && offset && at) {
		rewind(f);
		while (fgets(line, sizeof(line), f))
			if (!kallsyms_parse(line, &addr, &name) && addr > at && addr < next)
				next = addr;
	}
	fclose(f);
	if (!found)
		return errmsg_set(em, -ENOENT,
				  "kernel function '%s' not found: looked in /proc/kallsyms", fn);
	if (offset && at && next != ~0ULL && offset >= next - at)
		return errmsg_set(em, -EINVAL,
				  "offset %" PRIu64 " is past the end of kernel function '%s', which is %llu bytes long (/proc/kallsyms): the probe would land in another function; use an offset below %llu",
				  offset, fn, next - at, next - at);
	return 0;
}

static int check_btf_func(const char *fn, struct errmsg *em)
{
	struct btf *btf;
	int id, err;

	btf = btf__load_vmlinux_btf();
	if (!btf) {
		err = -errno;
		return errmsg_set(em, err,
				  "cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s; fentry/fexit need a kernel built with CONFIG_DEBUG_INFO_BTF",
				  strerror(-err));
	}
	id = btf__find_by_name_kind(btf, fn, BTF_KIND_FUNC);
	btf__free(btf);
	if (id < 0)
		return errmsg_set(em, -ENOENT,
				  "kernel function '%s' not found in the kernel's BTF (/sys/kernel/btf/vmlinux): fentry/fexit attach only to functions listed there",
				  fn);
	return 0;
}

int prog_kind_supported(enum obj_kind kind, struct errmsg *em)
{
	char p[128];
	const char *root = tracefs_root();

	switch (kind) {
	case OBJ_KIND_KPROBE:
	case OBJ_KIND_KRETPROBE:
		if (path_exists("/sys/bus/event_source/devices/kprobe/type"))
			return 0;
		snprintf(p, sizeof(p), "%s/kprobe_events", root ? root : tracefs_roots[0]);
		if (root && path_exists(p))
			return 0;
		return errmsg_set(em, -EOPNOTSUPP,
				  "this kernel has no kprobe support (no /sys/bus/event_source/devices/kprobe and no %s): it was built without CONFIG_KPROBES or kprobes are disabled",
				  p);
	case OBJ_KIND_UPROBE:
	case OBJ_KIND_URETPROBE:
		if (path_exists("/sys/bus/event_source/devices/uprobe/type"))
			return 0;
		snprintf(p, sizeof(p), "%s/uprobe_events", root ? root : tracefs_roots[0]);
		if (root && path_exists(p))
			return 0;
		return errmsg_set(em, -EOPNOTSUPP,
				  "this kernel has no uprobe support (no /sys/bus/event_source/devices/uprobe and no %s)",
				  p);
	default:
		return 0;
	}
}

/* Checks and load-time settings before obj_load(). */
static int prepare(struct obj *o, const struct prog_attach *a, char *cat, char *tpname,
		   struct prog_loaded *ret, struct errmsg *em)
{
	int err;

	switch (a->kind) {
	case OBJ_KIND_TRACEPOINT:
		return check_tracepoint(a->tracepoint, cat, 128, tpname, 256, em);
	case OBJ_KIND_KPROBE:
	case OBJ_KIND_KRETPROBE:
		if (!a->fn_name || !*a->fn_name)
			return errmsg_set(em, -EINVAL, "a kprobe needs a kernel function name (-f)");
		if (a->kind == OBJ_KIND_KRETPROBE && a->offset)
			return errmsg_set(em, -EINVAL,
					  "an offset is not allowed for a kretprobe: it fires on the function's return");
		err = prog_kind_supported(a->kind, em);
		if (err)
			return err;
		return check_kallsyms(a->fn_name, a->offset, em);
	case OBJ_KIND_UPROBE:
	case OBJ_KIND_URETPROBE:
		if (a->kind == OBJ_KIND_URETPROBE && a->offset)
			return errmsg_set(em, -EINVAL,
					  "an offset is not allowed for a uretprobe: it fires on the function's return");
		err = uprobe_resolve_target(a->target, ret->target_path,
					    sizeof(ret->target_path), em);
		if (err)
			return err;
		return prog_kind_supported(a->kind, em);
	case OBJ_KIND_FENTRY:
	case OBJ_KIND_FEXIT:
		if (!a->fn_name || !*a->fn_name)
			return errmsg_set(em, -EINVAL, "%s needs a kernel function name (-f)",
					  obj_kind_str(a->kind));
		err = check_btf_func(a->fn_name, em);
		if (err)
			return err;
		err = bpf_program__set_attach_target(obj_bpf_program(o), 0, a->fn_name);
		if (err)
			return errmsg_set(em, err, "cannot set %s target '%s': %s",
					  obj_kind_str(a->kind), a->fn_name, strerror(-err));
		return 0;
	default:
		return errmsg_set(em, -EOPNOTSUPP, "%s programs are not attached by this code",
				  obj_kind_str(a->kind));
	}
}

/* The attach error: strerror, or what E2BIG means here. */
static const char *attach_strerror(int e)
{
	if (e == E2BIG)
		return "the kernel allows at most 64 BPF programs on one tracepoint or probe (E2BIG); unload one first";
	if (e == EILSEQ)
		return "the offset is not where an instruction starts (EILSEQ); use the offset of an instruction (objdump -d)";
	return strerror(e);
}

/* Attach the loaded program: 0 with *ret_link, or -errno with em set. */
static int attach(struct obj *o, const struct prog_attach *a, const char *cat,
		  const char *tpname, const char *target, struct bpf_link **ret_link,
		  struct errmsg *em)
{
	LIBBPF_OPTS(bpf_kprobe_opts, kopts);
	LIBBPF_OPTS(bpf_uprobe_opts, uopts);
	struct bpf_program *p = obj_bpf_program(o);
	const char *fn = a->fn_name && *a->fn_name ? a->fn_name : NULL;
	struct bpf_link *l = NULL;
	uint64_t off = a->offset;
	int err;

	switch (a->kind) {
	case OBJ_KIND_TRACEPOINT:
		l = bpf_program__attach_tracepoint(p, cat, tpname);
		if (!l)
			return errmsg_set(em, -errno, "cannot attach to tracepoint %s/%s: %s", cat,
					  tpname, attach_strerror(errno));
		break;
	case OBJ_KIND_KPROBE:
	case OBJ_KIND_KRETPROBE:
		kopts.offset = a->offset;
		kopts.retprobe = a->kind == OBJ_KIND_KRETPROBE;
		l = bpf_program__attach_kprobe_opts(p, a->fn_name, &kopts);
		if (!l)
			return errmsg_set(em, -errno, "cannot attach %s to kernel function %s+%" PRIu64 ": %s",
					  obj_kind_str(a->kind), a->fn_name, a->offset,
					  attach_strerror(errno));
		break;
	case OBJ_KIND_UPROBE:
	case OBJ_KIND_URETPROBE:
		if (fn) {
			uint64_t size;

			err = uprobe_func_offset(target, fn, &off, &size, em);
			if (err)
				return err;
			if (a->offset && size && a->offset >= size)
				return errmsg_set(em, -EINVAL,
						  "offset %" PRIu64 " is past the end of function '%s' in %s, which is %" PRIu64 " bytes long (its ELF symbol): the probe would land in other code; use an offset below %" PRIu64,
						  a->offset, fn, target, size, size);
			off += a->offset;
		}
		uopts.retprobe = a->kind == OBJ_KIND_URETPROBE;
		l = bpf_program__attach_uprobe_opts(p, a->pid > 0 ? a->pid : -1, target, off,
						    &uopts);
		if (!l)
			return errmsg_set(em, -errno, "cannot attach %s to %s at file offset 0x%" PRIx64 "%s%s%s: %s",
					  obj_kind_str(a->kind), target, off, fn ? " (function " : "",
					  fn ? fn : "", fn ? ")" : "", attach_strerror(errno));
		break;
	case OBJ_KIND_FENTRY:
	case OBJ_KIND_FEXIT:
		l = bpf_program__attach_trace(p);
		if (!l)
			return errmsg_set(em, -errno, "cannot attach %s to kernel function %s: %s",
					  obj_kind_str(a->kind), a->fn_name, attach_strerror(errno));
		break;
	default:
		return errmsg_set(em, -EOPNOTSUPP, "%s programs are not attached by this code",
				  obj_kind_str(a->kind));
	}
	*ret_link = l;
	return 0;
}

int prog_load_attach(struct obj *o, const struct prog_attach *a, const char *bpffs,
		     struct prog_loaded *ret, struct errmsg *em)
{
	char cat[128] = "", tpname[256] = "";
	struct bpf_link *link = NULL;
	bool prog_pinned = false;
	int err, fd;

	memset(ret, 0, sizeof(*ret));
	err = prog_check_kind(o, a->kind, em);
	if (err)
		return err;
	err = prepare(o, a, cat, tpname, ret, em);
	if (err)
		return err;
	err = obj_load(o, em);
	if (err)
		return err;
	fd = obj_prog_fd(o);
	err = prog_ident_fd(fd, &ret->ident);
	if (err)
		return errmsg_set(em, err, "cannot read the loaded program's id: %s", strerror(-err));
	err = attach(o, a, cat, tpname, ret->target_path, &link, em);
	if (err)
		goto out;
	snprintf(ret->prog_pin, sizeof(ret->prog_pin), "%s/prog_%u", bpffs, ret->ident.id);
	snprintf(ret->link_pin, sizeof(ret->link_pin), "%s/prog_%u_link", bpffs, ret->ident.id);
	if (bpf_obj_pin(fd, ret->prog_pin)) {
		err = -errno;
		errmsg_set(em, err, "cannot pin the program at %s: %s", ret->prog_pin, strerror(-err));
		goto out;
	}
	prog_pinned = true;
	err = bpf_link__pin(link, ret->link_pin);
	if (err) {
		errmsg_set(em, err, "cannot pin the link at %s: %s", ret->link_pin, strerror(-err));
		goto out;
	}
out:
	if (err && prog_pinned)
		unlink(ret->prog_pin);
	/* a pinned link outlives its fd; an unpinned one is detached here */
	bpf_link__destroy(link);
	return err;
}

int prog_ident_fd(int fd, struct prog_ident *ret)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	size_t i;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	memset(ret, 0, sizeof(*ret));
	ret->id = info.id;
	ret->type = info.type;
	ret->load_time = info.load_time;
	for (i = 0; i < sizeof(info.tag); i++)
		snprintf(ret->tag + 2 * i, 3, "%02x", info.tag[i]);
	snprintf(ret->name, sizeof(ret->name), "%s", info.name);
	return 0;
}

int prog_ident_id(uint32_t id, struct prog_ident *ret)
{
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	err = prog_ident_fd(fd, ret);
	close(fd);
	return err;
}

int prog_ident_pin(const char *path, struct prog_ident *ret)
{
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = prog_ident_fd(fd, ret);
	close(fd);
	return err;
}

bool prog_alive(uint32_t id, const char *tag, uint64_t load_time)
{
	struct prog_ident pi;

	if (prog_ident_id(id, &pi))
		return false;
	return !strcmp(pi.tag, tag) && pi.load_time == load_time;
}

int prog_unpin(const char *path)
{
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}
