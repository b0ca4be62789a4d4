/* SPDX-License-Identifier: Apache-2.0 */
/* prog.h - load and attach programs that need no dispatcher (tracepoint, kprobe,
 * kretprobe, uprobe, uretprobe, fentry, fexit), pin program and link; program
 * identity by id or pin; pin housekeeping under bpfd's bpffs. */
#ifndef BPFD_BPF_PROG_H
#define BPFD_BPF_PROG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/obj.h"
#include "core/base/errmsg.h"

/* Where to attach (plain C copy of the request's attach info). */
struct prog_attach {
	enum obj_kind kind;	/* TRACEPOINT, KPROBE, KRETPROBE, UPROBE, URETPROBE,
				 * FENTRY or FEXIT */
	const char *tracepoint;	/* "category/name" */
	const char *fn_name;	/* kprobe, fentry, fexit: required; uprobe: optional */
	uint64_t offset;	/* kprobe, uprobe: bytes after fn_name (or file offset) */
	const char *target;	/* uprobe: absolute path or library name ("libc") */
	int32_t pid;		/* uprobe: fire only in this process; -1 = every process */
};

/* Identity of a loaded program: ids can in principle be reused, tag + load time not. */
struct prog_ident {
	uint32_t id;
	uint32_t type;		/* enum bpf_prog_type */
	char tag[17];		/* lowercase hex */
	uint64_t load_time;	/* ns since boot */
	char name[17];		/* kernel name (truncated function name) */
};

struct prog_loaded {
	struct prog_ident ident;
	char prog_pin[PATH_MAX];
	char link_pin[PATH_MAX];
	char target_path[PATH_MAX];	/* uprobe: the file the probe is on */
};

/* Does the object's section kind fit the requested kind?  -EINVAL with em naming
 * both (e.g. a kretprobe program requested as kprobe) otherwise. */
int prog_check_kind(struct obj *o, enum obj_kind want, struct errmsg *em);

/* Check the attach point exists, set what the load needs (fentry/fexit target),
 * obj_load(), attach, pin the program at <bpffs>/prog_<id> and the link at
 * <bpffs>/prog_<id>_link.  On failure nothing is pinned and (the object being
 * closed by the caller) nothing stays in the kernel.  Errors name the tracepoint,
 * function or symbol and where it was looked for. */
int prog_load_attach(struct obj *o, const struct prog_attach *a, const char *bpffs,
		     struct prog_loaded *ret, struct errmsg *em);

/* Identity of the program behind fd / id: 0, or -errno (-ENOENT: no such program). */
int prog_ident_fd(int fd, struct prog_ident *ret);
int prog_ident_id(uint32_t id, struct prog_ident *ret);
/* Is program id in the kernel with this tag and load time? */
bool prog_alive(uint32_t id, const char *tag, uint64_t load_time);
/* The program pinned at path, or -errno. */
int prog_ident_pin(const char *path, struct prog_ident *ret);

/* Remove a pin (file); missing is fine.  0 or -errno.  A pinned-map directory with
 * its entries goes with fs_rmtree() (core/base/fs.h). */
int prog_unpin(const char *path);

/* Kernel support for an attach kind, for messages: 0 if usable, else -EOPNOTSUPP
 * with em saying what is missing (no kprobe PMU or kprobe_events, no tracefs). */
int prog_kind_supported(enum obj_kind kind, struct errmsg *em);

#endif
