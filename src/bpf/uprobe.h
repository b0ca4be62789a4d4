/* SPDX-License-Identifier: Apache-2.0 */
/* uprobe.h - uprobe targets: library names resolved like the dynamic loader does,
 * function symbols resolved to file offsets */
#ifndef BPFD_BPF_UPROBE_H
#define BPFD_BPF_UPROBE_H

#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"

/* Resolve target to an existing file: an absolute path is taken as it is; a library
 * name ("libc", "libc.so.6", "libssl.so") is looked up in /etc/ld.so.cache, then in
 * the standard directories (/lib, /usr/lib, their multiarch and lib64 variants).
 * "libc" matches "libc.so" and "libc.so.<N>".  -ENOENT with em listing where it
 * looked; -EINVAL for a relative path with a '/'; -ENAMETOOLONG when ret_path is
 * too small. */
int uprobe_resolve_target(const char *target, char *ret_path, size_t size,
			  struct errmsg *em);
/* Like uprobe_resolve_target() with an explicit ld.so.cache (tests). */
int uprobe_resolve_target_in(const char *target, const char *ldcache, char *ret_path,
			     size_t size, struct errmsg *em);

/* File offset of function fn (STT_FUNC or STT_GNU_IFUNC, defined) in the ELF file at
 * path, as the kernel's uprobe wants it, and its size (st_size, 0 when unknown):
 * .symtab is searched first, then .dynsym.  -ENOENT with em saying which tables were
 * searched; -ENOEXEC not an ELF file. */
int uprobe_func_offset(const char *path, const char *fn, uint64_t *ret_offset,
		       uint64_t *ret_size, struct errmsg *em);

#endif
