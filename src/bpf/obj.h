/* SPDX-License-Identifier: Apache-2.0 */
/* obj.h - a BPF ELF object opened (not yet loaded) with ONE selected program:
 * user global data, map reuse from a pin directory, load with the verifier log,
 * map pinning.  Only src/bpf uses the libbpf accessors at the end. */
#ifndef BPFD_BPF_OBJ_H
#define BPFD_BPF_OBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"
#include "core/base/obj_kind.h"

struct obj;
struct bpf_object;
struct bpf_program;


/* Open the ELF object at path and select the program whose C function is func_name;
 * every other program in the object is set not to load.  Errors (em says which):
 * -ENOENT missing file; -ENAMETOOLONG path longer than PATH_MAX; -ENOEXEC not an
 * ELF file or not a BPF ELF (e_machine != EM_BPF); -ESRCH no function func_name
 * (em lists the functions the object has); -EINVAL func_name NULL or empty. */
int obj_open_file(const char *path, const char *func_name, struct obj **ret_obj,
		  struct errmsg *em);
/* The same from fd, a regular file opened (with the caller's credentials) by
 * someone else; path names it in messages and gives the object its name.  The file
 * is read whole (at most 256 MiB: -EFBIG); fd stays the caller's to close. */
int obj_open_fd(int fd, const char *path, const char *func_name, struct obj **ret_obj,
		struct errmsg *em);
/* The same from memory (embedded objects, fuzzing).  name is the object name used in
 * messages and for map names; data must stay valid until obj_close(). */
int obj_open_mem(const void *data, size_t len, const char *name,
		 const char *func_name, struct obj **ret_obj, struct errmsg *em);

/* Set the initial value of global variable name (in .rodata*, .data* or .bss*, found
 * through the object's BTF) to bytes.  len must equal the variable's size exactly.
 * Errors: -ENOENT unknown name (em lists the object's variables with their sizes);
 * -EINVAL wrong size (em gives the expected size); -EOPNOTSUPP the object has no BTF. */
int obj_set_global(struct obj *o, const char *name, const void *bytes, size_t len,
		   struct errmsg *em);
/* Write into ret_buf a ", "-separated list "NAME (N bytes)" of the settable globals. */
void obj_globals_list(struct obj *o, char *ret_buf, size_t size);

/* Map sharing (--map-owner-id): make every map of the object except the internal
 * ones (.rodata, .data, .bss, .kconfig) reuse the map pinned at dir/<map name>.
 * All of them must exist there and match in type, key and value size and max
 * entries: -ENOENT / -EINVAL with em naming the map otherwise. */
int obj_reuse_maps(struct obj *o, const char *dir, struct errmsg *em);

/* Number of maps obj_reuse_maps() / obj_pin_maps() deal with (all but the internal
 * .rodata, .data, .bss, .kconfig ones). */
size_t obj_map_count(struct obj *o);

/* Load the selected program (and the object's maps) into the kernel.  A verifier
 * rejection is -EINVAL with the tail of the verifier log in em.  -EPERM from the
 * kernel is explained (policy / capabilities).  Call at most once. */
int obj_load(struct obj *o, struct errmsg *em);

/* Pin every non-internal map of a loaded object at dir/<map name> (dir is created,
 * mode 0700); maps reused from dir already are skipped.  On failure the pins made
 * by this call are removed. */
int obj_pin_maps(struct obj *o, const char *dir, struct errmsg *em);
/* Remove the pins obj_pin_maps() made in dir (and dir when it is then empty). */
void obj_unpin_maps(struct obj *o, const char *dir);

/* The selected program: its function name, ELF section, kind from the section.
 * obj_prog_fd() is valid after obj_load() (-EBADF before). */
const char *obj_func_name(const struct obj *o);
const char *obj_section(const struct obj *o);
enum obj_kind obj_kind(const struct obj *o);
int obj_prog_fd(const struct obj *o);
/* The attach target recorded in the section after '/' ("syscalls/sys_enter_openat"
 * for "tracepoint/syscalls/sys_enter_openat"), or "" when there is none. */
const char *obj_section_target(const struct obj *o);

/* Release everything (programs loaded by obj_load() stay in the kernel only if they
 * were pinned or attached by a link that was pinned).  NULL is fine. */
void obj_close(struct obj *o);

/* src/bpf only: the libbpf handles, e.g. to change the program type to EXT and set
 * its attach target before obj_load(), or to attach after it.  Owned by o. */
struct bpf_object *obj_bpf_object(struct obj *o);
struct bpf_program *obj_bpf_program(struct obj *o);

#endif
