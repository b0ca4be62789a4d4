/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_tar.c - libFuzzer target for layer extraction (image_tar_extract_mem)
 *
 * Each input is extracted into ROOT/a/b/d.  Besides ASan/UBSan/leak findings
 * it aborts when the extractor breaks its contract: a failure is -EINVAL,
 * -EFBIG or -ENOMEM with a non-empty message and leaves ROOT/a/b empty; a
 * success leaves exactly ROOT/a/b/d holding only regular files and folders
 * whose sizes add up to the reported bytes; nothing ever appears next to
 * ROOT/a/b or ROOT/a (an escape with ".."); the same input gives the same
 * result twice.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/errmsg.h"
#include "core/image/tar.h"
#include "fuzz.h"

static char root[64], dir_a[96], dir_b[128], dest[160];
static uint64_t walk_bytes, walk_files, walk_dirs;

static const struct image_tar_limits lim = {
	.max_bytes = 2u << 20,
	.max_entries = 64,
	.max_ratio = 50,
};

static int unlink_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw);

static void cleanup(void)
{
	nftw(root, unlink_one, 16, FTW_PHYS | FTW_DEPTH);
}

static void setup(void)
{
	if (root[0])
		return;
	snprintf(root, sizeof(root), "/tmp/bpfd-fuzz-tar-XXXXXX");
	CHECK(mkdtemp(root));
	snprintf(dir_a, sizeof(dir_a), "%s/a", root);
	snprintf(dir_b, sizeof(dir_b), "%s/b", dir_a);
	snprintf(dest, sizeof(dest), "%s/d", dir_b);
	CHECK(!mkdir(dir_a, 0700) && !mkdir(dir_b, 0700));
	atexit(cleanup);
}

/* The names in dir, other than only (which may be NULL). */
static size_t others(const char *dir, const char *only)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	CHECK(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    (!only || strcmp(de->d_name, only)))
			n++;
	closedir(d);
	return n;
}

static int visit(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)p;
	(void)ftw;
	CHECK(flag == FTW_F || flag == FTW_D || flag == FTW_DP);
	CHECK(S_ISREG(sb->st_mode) || S_ISDIR(sb->st_mode));
	if (S_ISREG(sb->st_mode)) {
		CHECK((sb->st_mode & 07777) == 0644);
		walk_bytes += sb->st_size;
		walk_files++;
	} else {
		walk_dirs++;
	}
	return 0;
}

static int unlink_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	CHECK(!(flag == FTW_DP ? rmdir(p) : unlink(p)));
	return 0;
}

static int run(const uint8_t *data, size_t size, struct image_tar_stats *st,
	       struct errmsg *em)
{
	int err;

	memset(em, 0, sizeof(*em));
	err = image_tar_extract_mem(data, size, dest, &lim, st, em);
	CHECK(!others(root, "a") && !others(dir_a, "b"));
	if (err) {
		CHECK(err == -EINVAL || err == -EFBIG || err == -ENOMEM);
		CHECK(em->msg[0]);
		CHECK(!others(dir_b, NULL));
		return err;
	}
	CHECK(!em->msg[0]);
	CHECK(!others(dir_b, "d"));
	walk_bytes = walk_files = walk_dirs = 0;
	CHECK(!nftw(dest, visit, 16, FTW_PHYS));
	CHECK(walk_bytes == st->file_bytes);
	/* every file and folder comes from an entry, or is a parent folder an
	 * entry needed (bounded by the depth limit), or is the image's folder */
	CHECK(walk_files <= st->files && walk_dirs <= st->dirs + st->implicit_dirs + 1);
	CHECK(walk_files + walk_dirs <= st->entries + st->implicit_dirs + 1);
	CHECK(st->implicit_dirs <= (uint64_t)st->entries * IMAGE_TAR_MAX_DEPTH);
	CHECK(st->tar_bytes <= lim.max_bytes && st->entries <= lim.max_entries);
	CHECK(!nftw(dest, unlink_one, 16, FTW_PHYS | FTW_DEPTH));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_tar_stats sa, sb;
	struct errmsg *ea = calloc(1, sizeof(*ea)), *eb = calloc(1, sizeof(*eb));
	int ra, rb;

	CHECK(ea && eb);
	setup();
	ra = run(data, size, &sa, ea);
	rb = run(data, size, &sb, eb);
	CHECK(ra == rb && !strcmp(ea->msg, eb->msg));
	CHECK(!memcmp(&sa, &sb, sizeof(sa)));
	free(ea);
	free(eb);
	return 0;
}
