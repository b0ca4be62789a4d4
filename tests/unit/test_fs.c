/* SPDX-License-Identifier: Apache-2.0 */
/* test_fs.c - core/base/fs.c: mkdir -p and rm -r (which never follows a link) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "core/base/fs.h"

static char top[] = "/tmp/test_fs.XXXXXX";

static void touch(const char *dir, const char *name)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (ASSERT_TRUE(fd >= 0, p))
		close(fd);
}

static bool exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

static void mkdir_p_and_rmtree_deep(void)
{
	char dir[256], deep[300];

	ASSERT_TRUE(mkdtemp(top) != NULL, "mkdtemp");
	snprintf(dir, sizeof(dir), "%s/a", top);
	snprintf(deep, sizeof(deep), "%s/b/c/d", dir);
	ASSERT_OK(fs_mkdir_p(deep, 0700), "mkdir -p");
	ASSERT_OK(fs_mkdir_p(deep, 0700), "mkdir -p of an existing directory");
	touch(dir, "f");
	touch(deep, "g");
	ASSERT_OK(fs_rmtree(dir), "rm -r");
	ASSERT_FALSE(exists(dir), "the tree is gone");
	ASSERT_OK(fs_rmtree(dir), "a missing directory is not an error");
	rmdir(top);
}

/* A link to a directory outside is removed as a name; what it points to stays. */
static void rmtree_does_not_follow_links(void)
{
	char dir[256], outside[256], link[300], kept[300];

	ASSERT_TRUE(mkdtemp(top) != NULL, "mkdtemp");
	snprintf(dir, sizeof(dir), "%s/tree", top);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	ASSERT_OK(fs_mkdir_p(dir, 0700), "mkdir tree");
	ASSERT_OK(fs_mkdir_p(outside, 0700), "mkdir outside");
	touch(outside, "keep");
	snprintf(link, sizeof(link), "%s/link", dir);
	ASSERT_OK(symlink(outside, link) ? -errno : 0, "symlink");
	ASSERT_OK(fs_rmtree(dir), "rm -r");
	ASSERT_FALSE(exists(dir), "the tree is gone");
	snprintf(kept, sizeof(kept), "%s/keep", outside);
	ASSERT_TRUE(exists(kept), "the link's target is untouched");
	ASSERT_OK(fs_rmtree(top), "clean up");
}

static void mkdir_p_over_a_file(void)
{
	char f[300];

	ASSERT_TRUE(mkdtemp(top) != NULL, "mkdtemp");
	touch(top, "file");
	snprintf(f, sizeof(f), "%s/file", top);
	ASSERT_EQ(fs_mkdir_p(f, 0700), -ENOTDIR, "a file in the way");
	ASSERT_OK(fs_rmtree(top), "clean up");
}

/* fs_read_fd: the whole file, NUL-terminated; over the bound -EFBIG; a directory
 * -EINVAL. */
static void read_fd(void)
{
	char path[] = "/tmp/test_fs_read.XXXXXX", *buf = NULL;
	size_t len = 0;
	int fd, dfd;

	fd = mkstemp(path);
	if (!ASSERT_OK(fd, "mkstemp"))
		return;
	unlink(path);
	ASSERT_EQ(write(fd, "hello", 5), 5, "write");
	lseek(fd, 0, SEEK_SET);
	if (ASSERT_OK(fs_read_fd(fd, 5, &buf, &len), "read 5 of 5")) {
		ASSERT_EQ(len, 5, "len");
		ASSERT_STREQ(buf, "hello", "content");
	}
	free(buf);
	lseek(fd, 0, SEEK_SET);
	ASSERT_EQ(fs_read_fd(fd, 4, &buf, &len), -EFBIG, "over the bound");
	close(fd);
	dfd = open("/tmp", O_RDONLY | O_DIRECTORY);
	ASSERT_EQ(fs_read_fd(dfd, 4, &buf, &len), -EINVAL, "a directory");
	close(dfd);
}

TEST_MAIN("fs", TEST(mkdir_p_and_rmtree_deep), TEST(rmtree_does_not_follow_links),
	  TEST(mkdir_p_over_a_file), TEST(read_fd))
