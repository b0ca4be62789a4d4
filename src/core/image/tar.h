/* SPDX-License-Identifier: Apache-2.0 */
/* tar.h - extract an image layer (tar or tar+gzip) into a new folder, safely */
#ifndef BPFD_CORE_IMAGE_TAR_H
#define BPFD_CORE_IMAGE_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"

/* Defaults of struct image_tar_limits (an eBPF image holds a few objects). */
#define IMAGE_TAR_MAX_BYTES	(256ull << 20)	/* tar stream after gunzip */
#define IMAGE_TAR_MAX_ENTRIES	4096
#define IMAGE_TAR_MAX_RATIO	200		/* gunzipped / gzipped bytes */
/* The ratio is only judged once this much came out: a small tar is mostly
 * zero padding and compresses far better than any real content. */
#define IMAGE_TAR_RATIO_FLOOR	(1u << 20)
#define IMAGE_TAR_MAX_DEPTH	64		/* path components of an entry */

struct image_tar_limits {
	uint64_t max_bytes;	/* uncompressed tar stream: headers, data, padding */
	uint32_t max_entries;	/* headers, including pax and GNU long-name ones */
	uint32_t max_ratio;	/* gzip expansion ratio (bomb), above the floor */
};

struct image_tar_stats {
	bool gzip;
	uint32_t entries;	/* headers read */
	uint32_t files;
	uint32_t dirs;		/* folder entries */
	uint32_t implicit_dirs;	/* folders made for entries whose parents had
				 * no entry (at most IMAGE_TAR_MAX_DEPTH each) */
	uint64_t file_bytes;	/* sum of the regular files' sizes */
	uint64_t tar_bytes;	/* uncompressed tar stream read */
	uint64_t in_bytes;	/* bytes read from the source */
};

/* Extract the layer read from fd (from its current offset to the end of the
 * archive) into the new directory dest, which must not exist.  gzip is
 * detected by its magic bytes, else the input is a ustar/GNU/pax tar.  Only
 * regular files (mode 0644) and directories (0755) are created, never outside
 * dest: absolute names, ".." components, links, devices, FIFOs and sparse
 * files are refused, as are names given twice.  Everything is extracted into a
 * temporary directory next to dest that is renamed to dest on success and
 * removed on any failure, so a refusal leaves nothing behind.  lim NULL means
 * the defaults above; ret_stats may be NULL.  0, or -EINVAL (bad or refused
 * input), -EFBIG (a limit), -EEXIST (dest exists) or another -errno, with em
 * naming the entry and the problem. */
int image_tar_extract(int fd, const char *dest, const struct image_tar_limits *lim,
		      struct image_tar_stats *ret_stats, struct errmsg *em);
/* The same for a layer in memory. */
int image_tar_extract_mem(const void *data, size_t len, const char *dest,
			  const struct image_tar_limits *lim,
			  struct image_tar_stats *ret_stats, struct errmsg *em);

#endif
