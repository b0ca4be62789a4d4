/* SPDX-License-Identifier: Apache-2.0 */
/* object.h - the eBPF object of a stored image, found by its io.ebpf.* labels */
#ifndef BPFD_CORE_IMAGE_OBJECT_H
#define BPFD_CORE_IMAGE_OBJECT_H

#include <limits.h>
#include <stdbool.h>

#include "core/base/errmsg.h"
#include "core/image/manifest.h"
#include "core/image/store.h"

struct image_object {
	char dir[1024];			/* temporary folder of the extracted layers, ""
					 * when the object is a kept one (object.c) */
	char path[PATH_MAX];		/* the ELF object in it */
	char function[IMAGE_NAME_MAX + 1];	/* the function to load */
	char program_type[IMAGE_TYPE_MAX + 1];	/* its type by the labels, "" unknown */
	char manifest[IMAGE_DIGEST_LEN + 1];	/* the platform's manifest */
	uint64_t size;			/* bytes of manifest, config and layers */
};

/* Open the image digest (a manifest, or an index: the running platform's
 * manifest) of store s: every blob's sha256 is checked again as it is read,
 * the config's labels parsed, the layers extracted (tar.c: bounded, nothing
 * outside the folder) into a new folder under workdir, and the object found:
 * io.ebpf.filename, else the one *.o file of the layers.  function "" means the
 * label's (io.ebpf.bpf_function_name, or the only entry of io.ebpf.programs);
 * a function the programs label does not list is -ESRCH.  0 with ret filled
 * (image_object_close() removes the folder), or -errno with em; on failure
 * nothing is left under workdir.
 * The folder is kept as workdir/m-<manifest hex> (ret->dir is then ""): a later
 * open of the same manifest reads its manifest and config blobs again, but not its
 * layers; it checks the object against the sha256 taken when it was extracted. */
int image_object_open(struct image_store *s, const char *digest, const char *function,
		      const char *workdir, struct image_object *ret, struct errmsg *em);
void image_object_close(struct image_object *o);
/* Drop the extracted images kept under workdir whose manifest is no longer a blob
 * of store s (after a removal from the store). */
void image_object_trim(struct image_store *s, const char *workdir);

/* Does a program labelled type (io.ebpf.program_type or an io.ebpf.programs
 * value: xdp, tc, tracepoint, kprobe, uprobe ...) load as kind (a bpfctl KIND
 * name)?  "" (no label) allows every kind. */
bool image_type_allows(const char *type, const char *kind);

#endif
