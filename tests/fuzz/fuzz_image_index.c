/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_image_index.c - libFuzzer target: the index of the image content store
 * (<image_dir>/index.json: references, digests, sizes, last use), which the daemon
 * reads on every pull, lookup and prune; a damaged one must be refused with a
 * message, never trusted.
 *
 * Each input is written as the index of a store in a private folder, then listed,
 * looked up and touched.  Besides sanitizer findings it aborts when the store breaks
 * its contract: a failure is -EIO ("damaged", with a message) or -ENOMEM; a listed
 * entry has a terminated canonical reference and a valid digest, entries are sorted
 * and unique, a listed reference is found with its digest, and the index the store
 * writes back after a touch lists the same entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base/errmsg.h"
#include "core/image/ref.h"
#include "core/image/store.h"
#include "fuzz.h"

static char dir[64], index_path[96];
static struct image_store *store;

static void cleanup(void)
{
	char p[128];

	image_store_close(store);
	unlink(index_path);
	snprintf(p, sizeof(p), "%s/lock", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/blobs/sha256", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/blobs", dir);
	rmdir(p);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct errmsg em = { { 0 } };

	(void)argc, (void)argv;
	snprintf(dir, sizeof(dir), "/tmp/fuzz_image_index.XXXXXX");
	CHECK(mkdtemp(dir));
	snprintf(index_path, sizeof(index_path), "%s/index.json", dir);
	CHECK(image_store_open(dir, &store, &em) == 0);
	atexit(cleanup);
	return 0;
}

static void write_index(const uint8_t *data, size_t size)
{
	int fd = open(index_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);
}

static int list(struct image_store_entry **e, size_t *n)
{
	struct errmsg em = { { 0 } };
	int err = image_store_list(store, e, n, &em);

	if (err) {
		CHECK(err == -EIO || err == -ENOMEM);
		CHECK(em.msg[0] && memchr(em.msg, '\0', sizeof(em.msg)));
	}
	return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_store_entry *e = NULL, *again = NULL;
	char digest[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };
	size_t n = 0, m = 0, i;

	write_index(data, size);
	if (list(&e, &n))
		return 0;
	for (i = 0; i < n; i++) {
		CHECK(memchr(e[i].reference, '\0', sizeof(e[i].reference)));
		CHECK(e[i].reference[0]);
		CHECK(image_digest_valid(e[i].digest));
		CHECK(!i || strcmp(e[i - 1].reference, e[i].reference) < 0);
	}
	if (n) {
		i = data[0] % n;
		CHECK(image_store_tag_get(store, e[i].reference, digest, &em) == 0);
		CHECK(!strcmp(digest, e[i].digest));
		/* written back by the store: the same entries */
		CHECK(image_store_touch(store, e[i].reference, &em) == 0);
		CHECK(list(&again, &m) == 0 && m == n);
		for (i = 0; i < n; i++)
			CHECK(!strcmp(e[i].reference, again[i].reference) &&
			      !strcmp(e[i].digest, again[i].digest) && e[i].size == again[i].size);
	}
	free(e);
	free(again);
	return 0;
}
