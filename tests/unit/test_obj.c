/* SPDX-License-Identifier: Apache-2.0 */
/* test_obj.c - bpf/obj.c opening objects: the sandboxed parse runs once per object
 * (bytes and name), again for any other bytes, and after every failed parse */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "bpf/obj.h"
#include "core/base/errmsg.h"
#include "core/base/sha256.h"

static int forks;	/* fork()s of this process: the parse children */

static void count_fork(void)
{
	forks++;
}

static const char *obj_path(char *buf, size_t size)
{
	const char *dir = getenv("BPFD_TESTBPF");

	snprintf(buf, size, "%s/chain_xdp.bpf.o", dir ? dir : "build/tests/bpf");
	return buf;
}

/* The test object's bytes, with room for one byte more. */
static unsigned char *read_obj(size_t *ret_len)
{
	char path[512];
	unsigned char *buf;
	struct stat st;
	int fd;

	fd = open(obj_path(path, sizeof(path)), O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		test_skip("build/tests/bpf/chain_xdp.bpf.o is missing (make all)");
	buf = malloc(st.st_size + 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		test_skip("cannot read the test object");
	close(fd);
	*ret_len = st.st_size;
	pthread_atfork(count_fork, NULL, NULL);
	return buf;
}

/* Forks made by opening data[0..len) as name; *ret_err gets the result. */
static int open_forks(const void *data, size_t len, const char *name, int *ret_err)
{
	struct errmsg em = {};
	struct obj *o = NULL;
	int before = forks;

	*ret_err = obj_open_mem(data, len, name, "chain_xdp", &o, &em);
	obj_close(o);
	return forks - before;
}

static void sha256_known_answers(void)
{
	static const unsigned char abc[SHA256_LEN] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde,
		0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
	static const unsigned char empty[SHA256_LEN] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8,
		0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
		0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55 };
	unsigned char sum[SHA256_LEN];

	sha256("abc", 3, sum);
	ASSERT_TRUE(!memcmp(sum, abc, SHA256_LEN), "SHA-256 of \"abc\"");
	sha256("", 0, sum);
	ASSERT_TRUE(!memcmp(sum, empty, SHA256_LEN), "SHA-256 of nothing");
}

/* The same bytes under the same name: one parse child, the second open none. */
static void same_object_parsed_once(void)
{
	size_t len;
	unsigned char *buf = read_obj(&len);
	int err;

	ASSERT_EQ(open_forks(buf, len, "chain_xdp", &err), 1, "first open: one child");
	ASSERT_OK(err, "first open");
	ASSERT_EQ(open_forks(buf, len, "chain_xdp", &err), 0, "second open: no child");
	ASSERT_OK(err, "second open");
	free(buf);
}

/* One byte more, or another name: checked in a child again. */
static void other_bytes_or_name_parsed_again(void)
{
	size_t len;
	unsigned char *buf = read_obj(&len);
	int err;

	ASSERT_EQ(open_forks(buf, len, "chain_xdp", &err), 1, "first open");
	buf[len] = 0;
	ASSERT_EQ(open_forks(buf, len + 1, "chain_xdp", &err), 1, "a byte appended");
	ASSERT_OK(err, "a byte appended still parses");
	ASSERT_EQ(open_forks(buf, len, "other", &err), 1, "another name");
	ASSERT_EQ(open_forks(buf, len, "other", &err), 0, "that name again");
	free(buf);
}

/* Bytes libbpf refuses are never remembered: each open checks them again. */
static void failed_parse_checked_every_time(void)
{
	size_t len;
	unsigned char *buf = read_obj(&len);
	int err;

	/* section headers beyond the end: libbpf fails cleanly (or crashes, in the child) */
	ASSERT_EQ(open_forks(buf, len / 2, "chain_xdp", &err), 1, "first open");
	ASSERT_ERR(err, "half an object is refused");
	ASSERT_EQ(open_forks(buf, len / 2, "chain_xdp", &err), 1, "second open");
	ASSERT_ERR(err, "and refused again");
	free(buf);
}

/* A file is read once: its bytes are what the child checks and the daemon parses,
 * so a second open of the unchanged file needs no child. */
static void file_read_once_and_remembered(void)
{
	struct errmsg em = {};
	struct obj *o = NULL;
	char path[512];
	size_t len;
	int before;

	free(read_obj(&len));
	obj_path(path, sizeof(path));
	before = forks;
	ASSERT_OK(obj_open_file(path, "chain_xdp", &o, &em), em.msg);
	obj_close(o);
	o = NULL;
	ASSERT_EQ(forks - before, 1, "first open of the file: one child");
	before = forks;
	ASSERT_OK(obj_open_file(path, "chain_xdp_a", &o, &em), em.msg);
	ASSERT_STREQ(o ? obj_func_name(o) : NULL, "chain_xdp_a", "the function asked for");
	obj_close(o);
	ASSERT_EQ(forks - before, 0, "second open: no child");
}

TEST_MAIN("obj", TEST(sha256_known_answers), TEST(same_object_parsed_once),
	  TEST(other_bytes_or_name_parsed_again), TEST(failed_parse_checked_every_time),
	  TEST(file_read_once_and_remembered))
