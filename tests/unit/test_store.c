/* SPDX-License-Identifier: Apache-2.0 */
/* test_store.c - program records on disk: codec, checksummed file format, atomic
 * replace, walk, damaged files moved aside, markers, leftovers */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "core/state/store.h"

static char *tmpdir(void)
{
	static char d[64];

	snprintf(d, sizeof(d), "/tmp/test_store.XXXXXX");
	if (!mkdtemp(d))
		return NULL;
	return d;
}

static void rm_rf(const char *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", d);
}

/* Create the empty file dir/name; its path is left in path. */
static void touch(char *path, size_t size, const char *dir, const char *name)
{
	snprintf(path, size, "%s/%s", dir, name);
	close(open(path, O_CREAT | O_WRONLY, 0600));
}

static bpfd_state_ProgramRecord *sample(uint32_t id)
{
	bpfd_state_ProgramRecord *r = calloc(1, sizeof(*r));

	r->format = STORE_FORMAT;
	r->id = id;
	r->has_info = true;
	snprintf(r->info.name, sizeof(r->info.name), "tp_count");
	r->info.has_bytecode = true;
	r->info.bytecode.which_location = bpfd_v1_BytecodeLocation_file_tag;
	snprintf(r->info.bytecode.location.file, sizeof(r->info.bytecode.location.file),
		 "/tmp/prog_counter.bpf.o");
	r->info.has_attach = true;
	r->info.attach.which_info = bpfd_v1_AttachInfo_uprobe_attach_info_tag;
	r->info.attach.info.uprobe_attach_info.has_fn_name = true;
	snprintf(r->info.attach.info.uprobe_attach_info.fn_name, 256, "malloc");
	snprintf(r->info.attach.info.uprobe_attach_info.target, 4096, "libc");
	r->info.attach.info.uprobe_attach_info.retprobe = true;
	r->info.attach.info.uprobe_attach_info.has_pid = true;
	r->info.attach.info.uprobe_attach_info.pid = 4242;
	r->info.global_data_count = 1;
	snprintf(r->info.global_data[0].key, 128, "step");
	r->info.global_data[0].value.size = 8;
	memcpy(r->info.global_data[0].value.bytes, "\x07\0\0\0\0\0\0\0", 8);
	r->info.metadata_count = 2;
	snprintf(r->info.metadata[0].key, 128, "owner");
	snprintf(r->info.metadata[0].value, 512, "test");
	snprintf(r->info.metadata[1].key, 128, "bpfd.dev/uuid");
	snprintf(r->info.metadata[1].value, 512, "1234-5678");
	r->info.has_map_owner_id = true;
	r->info.map_owner_id = 17;
	snprintf(r->info.map_pin_path, 256, "/run/bpfd/fs/maps/17");
	snprintf(r->kind, sizeof(r->kind), "uretprobe");
	r->kernel_type = 2;
	r->managed_type = 2;
	snprintf(r->tag, sizeof(r->tag), "0123456789abcdef");
	r->load_time = 123456789012345ull;
	snprintf(r->prog_pin, sizeof(r->prog_pin), "/run/bpfd/fs/prog_%u", id);
	snprintf(r->link_pin, sizeof(r->link_pin), "/run/bpfd/fs/prog_%u_link", id);
	snprintf(r->target_path, sizeof(r->target_path), "/usr/lib/x86_64-linux-gnu/libc.so.6");
	return r;
}

static void codec_roundtrip(void)
{
	bpfd_state_ProgramRecord *r = sample(42), *d = calloc(1, sizeof(*d));
	uint8_t *buf = NULL;
	size_t len = 0;

	if (!ASSERT_OK(store_encode(r, &buf, &len), "encode"))
		goto out;
	ASSERT_TRUE(len > 0 && len < 2048, "record is small on disk");
	if (!ASSERT_OK(store_decode(buf, len, d), "decode"))
		goto out;
	ASSERT_EQ(d->id, 42, "id");
	ASSERT_STREQ(d->kind, "uretprobe", "kind");
	ASSERT_STREQ(d->info.name, "tp_count", "name");
	ASSERT_STREQ(d->info.attach.info.uprobe_attach_info.target, "libc", "target");
	ASSERT_EQ(d->info.attach.info.uprobe_attach_info.pid, 4242, "pid");
	ASSERT_TRUE(d->info.attach.info.uprobe_attach_info.retprobe, "retprobe");
	ASSERT_EQ(d->info.global_data_count, 1, "globals");
	ASSERT_EQ(d->info.global_data[0].value.size, 8, "global size");
	ASSERT_EQ(d->info.global_data[0].value.bytes[0], 7, "global byte");
	ASSERT_EQ(d->info.metadata_count, 2, "metadata");
	ASSERT_STREQ(d->info.metadata[1].value, "1234-5678", "metadata value");
	ASSERT_EQ(d->info.map_owner_id, 17, "map owner");
	ASSERT_EQ(d->load_time, 123456789012345ull, "load time");
	ASSERT_STREQ(d->tag, "0123456789abcdef", "tag");
	ASSERT_STREQ(d->target_path, "/usr/lib/x86_64-linux-gnu/libc.so.6", "target path");
	ASSERT_EQ(memcmp(&d->info, &r->info, sizeof(r->info)), 0, "info identical");
out:
	free(buf);
	free(r);
	free(d);
}

static void codec_rejects_bad(void)
{
	bpfd_state_ProgramRecord *r = sample(42), *d = calloc(1, sizeof(*d));
	uint8_t junk[64], *buf = NULL;
	size_t len = 0, i, k;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	ASSERT_EQ(store_decode(junk, sizeof(junk), d), -EBADMSG, "garbage");
	ASSERT_EQ(store_decode(junk, 0, d), -EBADMSG, "empty record (no id)");

	r->format = 2;
	ASSERT_OK(store_encode(r, &buf, &len), "encode");
	ASSERT_EQ(store_decode(buf, len, d), -EBADMSG, "unknown format");
	free(buf);
	r->format = STORE_FORMAT;
	snprintf(r->kind, sizeof(r->kind), "socket");
	ASSERT_OK(store_encode(r, &buf, &len), "encode");
	ASSERT_EQ(store_decode(buf, len, d), -EBADMSG, "unknown kind");
	free(buf);
	snprintf(r->kind, sizeof(r->kind), "tracepoint");
	r->id = 0;
	ASSERT_OK(store_encode(r, &buf, &len), "encode");
	ASSERT_EQ(store_decode(buf, len, d), -EBADMSG, "id 0");
	r->id = 9;
	free(buf);
	ASSERT_OK(store_encode(r, &buf, &len), "encode");
	/* every truncation is either rejected or decodes to a valid record */
	for (i = 0; i + 1 < len; i++)
		if (store_decode(buf, i, d) == 0)
			ASSERT_EQ(d->id, 9, "truncated record decodes to the same id");
	free(buf);
	/* a string with a NUL inside ("tp\0count": the C string would lose its tail),
	 * in a nested message, in a repeated one and at the top level */
	for (k = 0; k < 3; k++) {
		static const char *const where[] = { "tp_count", "1234-567", "/run/bpf" };

		ASSERT_OK(store_encode(r, &buf, &len), "encode");
		for (i = 0; i + 8 <= len; i++)
			if (!memcmp(buf + i, where[k], 8))
				buf[i + 2] = '\0';
		ASSERT_EQ(store_decode(buf, len, d), -EBADMSG, where[k]);
		free(buf);
	}
	ASSERT_OK(store_encode(r, &buf, &len), "encode");
	ASSERT_OK(store_decode(buf, len, d), "the same record without a NUL decodes");
	free(buf);
	free(r);
	free(d);
}

struct walk_seen {
	uint32_t ids[8];
	int n, other, damaged;
};

static int walk_cb(const struct store_entry *e, void *ctx)
{
	struct walk_seen *w = ctx;
	bpfd_state_ProgramRecord *d;

	if (!e->pb) {
		if (e->id)
			w->damaged++;
		else
			w->other++;
		return 0;
	}
	d = calloc(1, sizeof(*d));
	if (store_decode(e->pb, e->len, d) == 0 && d->id == e->id && w->n < 8)
		w->ids[w->n++] = e->id;
	free(d);
	return 0;
}

static void put_walk_del(void)
{
	bpfd_state_ProgramRecord *a = sample(10), *b = sample(11);
	struct errmsg em = { { 0 } };
	struct walk_seen w = { 0 };
	struct store *s = NULL;
	char *d = tmpdir(), path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/sub/programs", d);
	if (!ASSERT_OK(store_open(path, &s, &em), em.msg))
		goto out;
	ASSERT_OK(store_put(s, a, &em), "put 10");
	ASSERT_OK(store_put(s, b, &em), "put 11");
	snprintf(path, sizeof(path), "%s/sub/programs/10", d);
	ASSERT_OK(stat(path, &st), "file 10 exists");
	ASSERT_EQ(st.st_mode & 0777, 0600, "record mode 0600");
	touch(path, sizeof(path), d, "sub/programs/README");
	ASSERT_OK(store_walk(s, walk_cb, &w), "walk");
	ASSERT_EQ(w.n, 2, "two records");
	ASSERT_EQ(w.other, 1, "one foreign file reported");
	ASSERT_OK(store_remove_name(s, "README"), "remove foreign");
	ASSERT_OK(store_del(s, 10), "del 10");
	ASSERT_OK(store_del(s, 10), "del 10 again is fine");
	memset(&w, 0, sizeof(w));
	ASSERT_OK(store_walk(s, walk_cb, &w), "walk");
	ASSERT_EQ(w.n, 1, "one record left");
	ASSERT_EQ(w.ids[0], 11, "record 11 left");
	ASSERT_EQ(w.other, 0, "no foreign file");
	ASSERT_EQ(store_remove_name(s, "../x"), -EINVAL, "no path escape");
out:
	store_close(s);
	rm_rf(d);
	free(a);
	free(b);
}

static void put_replaces_atomically(void)
{
	bpfd_state_ProgramRecord *a = sample(10), *d2 = calloc(1, sizeof(*d2));
	struct errmsg em = { { 0 } };
	struct store *s = NULL;
	char *d = tmpdir(), path[128];
	const uint8_t *pb;
	const char *why;
	uint8_t buf[4096];
	size_t len;
	ssize_t n;
	int fd;

	if (!ASSERT_OK(store_open(d, &s, &em), em.msg))
		goto out;
	ASSERT_OK(store_put(s, a, &em), "put");
	snprintf(a->info.name, sizeof(a->info.name), "second");
	ASSERT_OK(store_put(s, a, &em), "replace");
	snprintf(path, sizeof(path), "%s/10", d);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (!ASSERT_TRUE(n > 0, "read record"))
		goto out;
	if (!ASSERT_OK(store_check(buf, n, &pb, &len, &why), "header and checksum"))
		goto out;
	ASSERT_OK(store_decode(pb, len, d2), "decode");
	ASSERT_STREQ(d2->info.name, "second", "replaced");
	/* no temp file stays behind */
	snprintf(path, sizeof(path), "ls -A '%s' | grep -vx 10 | grep -q .", d);
	ASSERT_TRUE(system(path) != 0, "only the record in the directory");
out:
	store_close(s);
	rm_rf(d);
	free(a);
	free(d2);
}

/* Write the file image of sample(id) to dir/<id> (checked by the caller). */
static int image(uint32_t id, uint8_t **ret_buf, size_t *ret_len)
{
	bpfd_state_ProgramRecord *r = sample(id);
	uint8_t *pb = NULL;
	size_t len = 0;
	int err;

	err = store_encode(r, &pb, &len);
	if (!err)
		err = store_frame(pb, len, ret_buf, ret_len);
	free(pb);
	free(r);
	return err;
}

static void checksum_catches_damage(void)
{
	bpfd_state_ProgramRecord *d = calloc(1, sizeof(*d)), *r = sample(42);
	uint8_t *buf = NULL, *pb_raw = NULL, rnd[256];
	const uint8_t *pb;
	const char *why;
	size_t len = 0, plen, i, bad = 0;
	int bit;

	if (!ASSERT_OK(image(42, &buf, &len), "frame"))
		goto out;
	ASSERT_EQ(memcmp(buf, "BPFR", 4), 0, "magic");
	if (!ASSERT_OK(store_check(buf, len, &pb, &plen, &why), "sound image passes"))
		goto out;
	ASSERT_EQ(plen, len - STORE_HDR_SIZE, "payload length");
	ASSERT_OK(store_decode(pb, plen, d), "payload decodes");
	ASSERT_EQ(d->id, 42, "id");

	ASSERT_EQ(store_check(buf, 0, &pb, &plen, &why), -EBADMSG, "empty");
	ASSERT_STREQ(why, "the file is empty", "empty: why");
	/* every single bit flipped anywhere in the file is caught */
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			buf[i] ^= 1u << bit;
			if (store_check(buf, len, &pb, &plen, &why) != -EBADMSG)
				bad++;
			buf[i] ^= 1u << bit;
		}
	ASSERT_EQ(bad, 0, "bit flips accepted");
	/* every truncation is caught */
	for (i = 0, bad = 0; i < len; i++)
		if (store_check(buf, i, &pb, &plen, &why) != -EBADMSG)
			bad++;
	ASSERT_EQ(bad, 0, "truncations accepted");
	ASSERT_EQ(store_check(buf, len - 5, &pb, &plen, &why), -EBADMSG, "truncated");
	ASSERT_STREQ(why, "the file is truncated", "truncated: why");
	buf[len - 1] ^= 0x40;
	ASSERT_EQ(store_check(buf, len, &pb, &plen, &why), -EBADMSG, "flipped payload byte");
	ASSERT_STREQ(why, "checksum mismatch", "flipped: why");
	/* random bytes, and the bare protobuf of the old format */
	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)(i * 131 + 7);
	ASSERT_EQ(store_check(rnd, sizeof(rnd), &pb, &plen, &why), -EBADMSG, "random bytes");
	free(buf);
	buf = NULL;
	if (!ASSERT_OK(store_encode(r, &pb_raw, &plen), "encode"))
		goto out;
	ASSERT_EQ(store_check(pb_raw, plen, &pb, &plen, &why), -EBADMSG, "old bare format");
	ASSERT_STRSTR(why, "no record header", "old format: why");
out:
	free(pb_raw);
	free(buf);
	free(r);
	free(d);
}

/* Write len bytes of buf to path (replacing it). */
static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		fprintf(stderr, "cannot write %s\n", path);
	close(fd);
}

static void damaged_walked_and_moved_aside(void)
{
	bpfd_state_ProgramRecord *a = sample(10), *b = sample(11);
	struct errmsg em = { { 0 } };
	struct walk_seen w = { 0 };
	struct store *s = NULL;
	char *d = tmpdir(), path[128], moved[256], moved2[256], cmd[512];
	struct stat st;

	if (!ASSERT_OK(store_open(d, &s, &em), em.msg))
		goto out;
	ASSERT_OK(store_put(s, a, &em), "put 10");
	ASSERT_OK(store_put(s, b, &em), "put 11");
	snprintf(path, sizeof(path), "%s/11", d);
	write_file(path, "\x08\x01\x10\x0b", 4);	/* valid protobuf, no header */
	ASSERT_OK(store_walk(s, walk_cb, &w), "walk");
	ASSERT_EQ(w.n, 1, "one sound record");
	ASSERT_EQ(w.ids[0], 10, "record 10 sound");
	ASSERT_EQ(w.damaged, 1, "record 11 damaged");
	ASSERT_EQ(w.other, 0, "no foreign file");
	if (!ASSERT_OK(store_move_aside(s, "11", moved, sizeof(moved)), "move aside"))
		goto out;
	ASSERT_STRSTR(moved, "/damaged/11.damaged-", "moved to damaged/");
	ASSERT_TRUE(access(path, F_OK) != 0, "record 11 gone from its place");
	ASSERT_OK(stat(moved, &st), "moved file exists");
	ASSERT_EQ(st.st_size, 4, "moved file kept its bytes");
	/* a second damaged copy of the same id does not replace the first */
	write_file(path, "", 0);
	ASSERT_OK(store_move_aside(s, "11", moved2, sizeof(moved2)), "move aside again");
	ASSERT_TRUE(strcmp(moved, moved2) != 0, "second copy has another name");
	ASSERT_OK(stat(moved, &st), "first copy still there");
	ASSERT_EQ(st.st_size, 4, "first copy unchanged");
	memset(&w, 0, sizeof(w));
	ASSERT_OK(store_walk(s, walk_cb, &w), "walk");
	ASSERT_EQ(w.n + w.damaged + w.other, 1, "damaged/ is not walked");
	ASSERT_EQ(store_move_aside(s, "../10", moved, sizeof(moved)), -EINVAL, "no escape");
	snprintf(cmd, sizeof(cmd), "test \"$(stat -c %%a '%s/damaged')\" = 700", d);
	ASSERT_OK(system(cmd), "damaged/ is 0700");
out:
	store_close(s);
	rm_rf(d);
	free(a);
	free(b);
}

static void marker_private_and_exclusive(void)
{
	struct errmsg em = { { 0 } };
	struct store *s = NULL;
	char *d = tmpdir(), path[128], buf[32] = "";
	struct stat st;
	int fd;

	umask(0);
	if (!ASSERT_OK(store_open(d, &s, &em), em.msg))
		goto out;
	ASSERT_OK(store_put_marker(s, ".pending-1", "1 2 3\n", &em), "marker");
	snprintf(path, sizeof(path), "%s/.pending-1", d);
	ASSERT_OK(stat(path, &st), "marker exists");
	ASSERT_EQ(st.st_mode & 0777, 0600, "marker mode 0600 whatever the umask");
	fd = open(path, O_RDONLY);
	ASSERT_EQ(read(fd, buf, sizeof(buf) - 1), 6, "marker bytes");
	close(fd);
	ASSERT_STREQ(buf, "1 2 3\n", "marker text");
	ASSERT_EQ(store_put_marker(s, ".pending-1", "x", &em), -EEXIST, "never replaced");
	ASSERT_STRSTR(em.msg, ".pending-1", "message names the file");
out:
	store_close(s);
	rm_rf(d);
}

static void open_removes_temps(void)
{
	struct errmsg em = { { 0 } };
	struct store *s = NULL;
	char *d = tmpdir(), path[128];

	touch(path, sizeof(path), d, ".tmp-77-1234");
	if (!ASSERT_OK(store_open(d, &s, &em), em.msg))
		goto out;
	ASSERT_TRUE(access(path, F_OK) != 0, "interrupted temp write removed");
out:
	store_close(s);
	rm_rf(d);
}

static void open_errors(void)
{
	struct errmsg em = { { 0 } };
	struct store *s = NULL;
	char *d = tmpdir(), path[128];

	touch(path, sizeof(path), d, "file");
	snprintf(path, sizeof(path), "%s/file/programs", d);
	ASSERT_ERR(store_open(path, &s, &em), "parent is a file");
	ASSERT_STRSTR(em.msg, "cannot create the record directory", "message");
	rm_rf(d);
}

TEST_MAIN("store",
	  TEST(codec_roundtrip),
	  TEST(codec_rejects_bad),
	  TEST(put_walk_del),
	  TEST(put_replaces_atomically),
	  TEST(checksum_catches_damage),
	  TEST(damaged_walked_and_moved_aside),
	  TEST(marker_private_and_exclusive),
	  TEST(open_removes_temps),
	  TEST(open_errors))
