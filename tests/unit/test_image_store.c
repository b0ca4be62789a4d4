/* SPDX-License-Identifier: Apache-2.0 */
/* test_image_store.c - content store: blobs checked on write and read, the
 * reference index (set, get, touch, list, remove), prune, damage, two writers */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

#include <cJSON.h>
#include "harness.h"
#include "digest.h"
#include "core/image/manifest.h"
#include "core/image/store.h"

static char tmp[64], sdir[128];

static void setup(struct image_store **s)
{
	struct errmsg em = { 0 };

	snprintf(tmp, sizeof(tmp), "/tmp/bpfd-test-store-XXXXXX");
	if (!mkdtemp(tmp))
		exit(1);
	/* nested folders that do not exist yet */
	snprintf(sdir, sizeof(sdir), "%s/var/lib/io.bpfd.image.content", tmp);
	if (!ASSERT_OK(image_store_open(sdir, s, &em), em.msg))
		exit(1);
}

static void cleanup(struct image_store *s)
{
	char cmd[128];

	image_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", tmp);
}

/* Put data, return its digest (static buffers, four in turn). */
static const char *put(struct image_store *s, const char *data)
{
	static char d[4][IMAGE_DIGEST_LEN + 1];
	static int i;
	struct errmsg em = { 0 };

	i = (i + 1) % 4;
	digest_of(data, strlen(data), d[i]);
	ASSERT_OK(image_store_blob_put(s, d[i], data, strlen(data), &em), em.msg);
	return d[i];
}

static char *blob_path(const char *digest)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", sdir, digest + 7);
	return p;
}

/* Names in dir starting with prefix. */
static int count(const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' || !strncmp(prefix, ".tmp", 4))
			n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

static char *blobs_dir(void)
{
	static char p[192];

	snprintf(p, sizeof(p), "%s/blobs/sha256", sdir);
	return p;
}

static void blobs(void)
{
	struct image_store *s;
	struct errmsg em = { 0 };
	const char *d;
	char *data = NULL, buf[32];
	uint64_t size;
	size_t len;
	struct stat st;
	int fd;

	setup(&s);
	d = put(s, "hello bytecode");
	ASSERT_TRUE(image_store_blob_has(s, d), "has");
	ASSERT_OK(stat(blob_path(d), &st), "named by its hex digest");
	ASSERT_EQ(st.st_mode & 0777, 0444, "read-only");
	ASSERT_OK(image_store_blob_read(s, d, 100, &data, &len, &em), em.msg);
	ASSERT_EQ(len, 14, "length");
	ASSERT_STREQ(data, "hello bytecode", "content");
	free(data);
	ASSERT_EQ(image_store_blob_read(s, d, 13, &data, &len, &em), -EFBIG, "max");
	fd = image_store_blob_open(s, d, &size, &em);
	if (ASSERT_OK(fd, em.msg)) {
		ASSERT_EQ(size, 14, "size");
		ASSERT_EQ(read(fd, buf, sizeof(buf)), 14, "read from offset 0");
		close(fd);
	}
	/* putting it again is fine (content-addressed) */
	ASSERT_STREQ(put(s, "hello bytecode"), d, "again");
	memset(&em, 0, sizeof(em));
	ASSERT_FALSE(image_store_blob_has(s, "sha256:0000000000000000000000000000000000000"
					  "000000000000000000000000000"), "absent");
	ASSERT_EQ(image_store_blob_read(s, "sha256:00000000000000000000000000000000000000"
					"00000000000000000000000000", 10, &data, &len, &em),
		  -ENOENT, "absent read");
	ASSERT_STRSTR(em.msg, "is not in the image store", "message");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(image_store_blob_has(s, "../../etc/passwd"), false, "not a digest");
	ASSERT_EQ(image_store_blob_open(s, "sha256:../../x", NULL, &em), -EINVAL, "bad digest");
	ASSERT_EQ(count(blobs_dir(), ".tmp"), 0, "no temporaries");
	cleanup(s);
}

static void blob_checked_on_write(void)
{
	struct image_blob_writer *w;
	struct image_store *s;
	struct errmsg em = { 0 };
	char d[IMAGE_DIGEST_LEN + 1], other[IMAGE_DIGEST_LEN + 1];

	setup(&s);
	digest_of("abc", 3, d);
	digest_of("abd", 3, other);
	ASSERT_EQ(image_store_blob_put(s, other, "abc", 3, &em), -EBADMSG, "mismatch");
	ASSERT_STRSTR(em.msg, "has sha256 sha256:ba7816bf", "message names both");
	ASSERT_FALSE(image_store_blob_has(s, other), "not stored");
	/* in pieces */
	memset(&em, 0, sizeof(em));
	if (ASSERT_OK(image_store_blob_begin(s, d, 3, &w, &em), em.msg)) {
		ASSERT_OK(image_store_blob_write(w, "a", 1, &em), "a");
		ASSERT_FALSE(image_store_blob_has(s, d), "not visible before commit");
		ASSERT_OK(image_store_blob_write(w, "bc", 2, &em), "bc");
		ASSERT_OK(image_store_blob_commit(w, &em), em.msg);
		ASSERT_TRUE(image_store_blob_has(s, d), "visible after commit");
	}
	unlink(blob_path(d));
	if (ASSERT_OK(image_store_blob_begin(s, d, 2, &w, &em), em.msg)) {
		ASSERT_OK(image_store_blob_write(w, "ab", 2, &em), "ab");
		ASSERT_EQ(image_store_blob_write(w, "c", 1, &em), -EFBIG, "over max");
		ASSERT_STRSTR(em.msg, "larger than 2 bytes", "message");
		image_store_blob_abort(w);
	}
	ASSERT_FALSE(image_store_blob_has(s, d), "aborted");
	ASSERT_EQ(count(blobs_dir(), ".tmp"), 0, "no temporaries");
	cleanup(s);
}

static void blob_checked_on_read(void)
{
	struct image_store *s;
	struct errmsg em = { 0 };
	const char *d;
	char *data;
	size_t len;
	int fd;

	setup(&s);
	d = put(s, "original content");
	/* change it behind the store's back */
	chmod(blob_path(d), 0644);
	fd = open(blob_path(d), O_WRONLY);
	ASSERT_EQ(pwrite(fd, "X", 1, 0), 1, "tamper");
	close(fd);
	ASSERT_EQ(image_store_blob_read(s, d, 100, &data, &len, &em), -EBADMSG, "read");
	ASSERT_STRSTR(em.msg, "has changed", "message");
	ASSERT_FALSE(image_store_blob_has(s, d), "removed");
	d = put(s, "original content");
	chmod(blob_path(d), 0644);
	fd = open(blob_path(d), O_WRONLY | O_APPEND);
	ASSERT_EQ(write(fd, "!", 1), 1, "grow");
	close(fd);
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(image_store_blob_open(s, d, NULL, &em), -EBADMSG, "open");
	ASSERT_STRSTR(em.msg, "pull the image again", "message");
	ASSERT_FALSE(image_store_blob_has(s, d), "removed");
	cleanup(s);
}

/* Store a config and a layer and a manifest naming them; the manifest's digest. */
static const char *image(struct image_store *s, const char *layer_text, bool put_layer,
			 char digest[IMAGE_DIGEST_LEN + 1])
{
	char cfg_d[IMAGE_DIGEST_LEN + 1], layer_d[IMAGE_DIGEST_LEN + 1], m[1024];
	const char *cfg = "{\"config\":{\"Labels\":{\"io.ebpf.programs\":\"{\\\"f\\\":\\\"xdp\\\"}\"}}}";

	strcpy(cfg_d, put(s, cfg));
	digest_of(layer_text, strlen(layer_text), layer_d);
	if (put_layer)
		put(s, layer_text);
	snprintf(m, sizeof(m), "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
		 "\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"%s\",\"size\":%zu},"
		 "\"layers\":[{\"mediaType\":\"" MT_OCI_LAYER_GZIP "\",\"digest\":\"%s\","
		 "\"size\":%zu}]}", cfg_d, strlen(cfg), layer_d, strlen(layer_text));
	strcpy(digest, put(s, m));
	return digest;
}

static void tags(void)
{
	char d1[IMAGE_DIGEST_LEN + 1], d2[IMAGE_DIGEST_LEN + 1], got[IMAGE_DIGEST_LEN + 1];
	struct image_store_entry *list = NULL;
	struct image_store *s;
	struct errmsg em = { 0 };
	time_t now = time(NULL);
	size_t n;
	char idx[256];

	setup(&s);
	image(s, "layer one", false, d1);
	ASSERT_EQ(image_store_tag_set(s, "localhost:5000/bpf/xdp:v1", d1, &em), -ENOENT,
		  "layer missing");
	ASSERT_STRSTR(em.msg, "is not in the store", "message");
	snprintf(idx, sizeof(idx), "%s/index.json", sdir);
	ASSERT_TRUE(access(idx, F_OK), "no index written");
	put(s, "layer one");
	memset(&em, 0, sizeof(em));
	ASSERT_OK(image_store_tag_set(s, "localhost:5000/bpf/xdp:v1", d1, &em), em.msg);
	ASSERT_OK(image_store_tag_get(s, "localhost:5000/bpf/xdp:v1", got, &em), em.msg);
	ASSERT_STREQ(got, d1, "get");
	ASSERT_EQ(image_store_tag_get(s, "localhost:5000/bpf/xdp", got, &em), -ENOENT,
		  "other tag");
	ASSERT_STRSTR(em.msg, "image localhost:5000/bpf/xdp:latest is not in the image store",
		      "canonical name in message");
	/* Docker Hub short names are the same reference as their long form */
	image(s, "layer two", true, d2);
	memset(&em, 0, sizeof(em));
	ASSERT_OK(image_store_tag_set(s, "xdp_pass", d2, &em), em.msg);
	ASSERT_OK(image_store_tag_get(s, "docker.io/library/xdp_pass:latest", got, &em),
		  em.msg);
	ASSERT_STREQ(got, d2, "long form");
	ASSERT_OK(image_store_list(s, &list, &n, &em), em.msg);
	if (ASSERT_EQ(n, 2, "two entries")) {
		ASSERT_STREQ(list[0].reference, "docker.io/library/xdp_pass:latest", "sorted");
		ASSERT_STREQ(list[1].reference, "localhost:5000/bpf/xdp:v1", "second");
		ASSERT_STREQ(list[1].digest, d1, "digest");
		ASSERT_TRUE(list[0].last_used >= now && list[0].last_used <= now + 5, "time");
	}
	/* size: the manifest, config and layer on disk */
	ASSERT_TRUE(n == 2 && list[1].size > 9 + 50 && list[1].size < 1024, "size");
	free(list);
	/* re-pointing a reference replaces its digest */
	ASSERT_OK(image_store_tag_set(s, "localhost:5000/bpf/xdp:v1", d2, &em), em.msg);
	ASSERT_OK(image_store_tag_get(s, "localhost:5000/bpf/xdp:v1", got, &em), em.msg);
	ASSERT_STREQ(got, d2, "moved");
	ASSERT_EQ(image_store_tag_set(s, "Bad/Ref", d2, &em), -EINVAL, "bad reference");
	ASSERT_EQ(image_store_tag_set(s, "x", "sha256:12", &em), -EINVAL, "bad digest");
	ASSERT_EQ(count(sdir, ".tmp"), 0, "no temporaries");
	cleanup(s);
}

/* Rewrite last_used of every entry in index.json. */
static void age_index(int64_t when)
{
	char path[256], *text = NULL;
	cJSON *root, *e;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/index.json", sdir);
	f = fopen(path, "r");
	if (!ASSERT_TRUE(f, "index"))
		return;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, len + 1);
	if (fread(text, 1, len, f) != (size_t)len)
		len = 0;
	fclose(f);
	root = cJSON_Parse(text);
	free(text);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "images"))
		cJSON_SetNumberValue(cJSON_GetObjectItem(e, "last_used"), (double)when);
	text = cJSON_Print(root);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	cJSON_free(text);
	cJSON_Delete(root);
}

static void touch_remove_prune(void)
{
	char d1[IMAGE_DIGEST_LEN + 1], d2[IMAGE_DIGEST_LEN + 1], got[IMAGE_DIGEST_LEN + 1];
	struct image_store_prune_stats ps;
	struct image_store_entry *list = NULL;
	struct image_store *s;
	struct errmsg em = { 0 };
	const char *loose;
	size_t n;
	int fd;

	setup(&s);
	image(s, "layer one", true, d1);
	image(s, "layer two", true, d2);	/* the config blob is shared */
	ASSERT_OK(image_store_tag_set(s, "quay.io/a/one:v1", d1, &em), em.msg);
	ASSERT_OK(image_store_tag_set(s, "quay.io/a/two:v1", d2, &em), em.msg);
	loose = put(s, "nobody uses this");
	ASSERT_EQ(count(blobs_dir(), ""), 6, "config, two layers, two manifests, loose");
	/* young unused blobs survive a prune with a grace period */
	ASSERT_OK(image_store_prune(s, 0, 3600, &ps, &em), em.msg);
	ASSERT_EQ(ps.blobs, 0, "grace");
	ASSERT_OK(image_store_prune(s, 0, 0, &ps, &em), em.msg);
	ASSERT_EQ(ps.entries, 0, "no entries");
	ASSERT_EQ(ps.blobs, 1, "the loose blob");
	ASSERT_EQ(ps.bytes, 16, "its bytes");
	ASSERT_FALSE(image_store_blob_has(s, loose), "gone");
	ASSERT_TRUE(image_store_blob_has(s, d1) && image_store_blob_has(s, d2), "kept");

	/* remove: the entry goes now, its own blobs at the next prune */
	ASSERT_OK(image_store_remove(s, "quay.io/a/one:v1", &em), em.msg);
	ASSERT_EQ(image_store_remove(s, "quay.io/a/one:v1", &em), -ENOENT, "twice");
	ASSERT_EQ(image_store_tag_get(s, "quay.io/a/one:v1", got, &em), -ENOENT, "gone");
	ASSERT_TRUE(image_store_blob_has(s, d1), "blobs until prune");
	memset(&em, 0, sizeof(em));
	ASSERT_OK(image_store_prune(s, 0, 0, &ps, &em), em.msg);
	ASSERT_EQ(ps.blobs, 2, "manifest and layer one");
	ASSERT_FALSE(image_store_blob_has(s, d1), "manifest one gone");
	ASSERT_OK(image_store_tag_get(s, "quay.io/a/two:v1", got, &em), "two stays");
	ASSERT_EQ(count(blobs_dir(), ""), 3, "config, layer two, manifest two");

	/* touch and unused_before */
	ASSERT_OK(image_store_tag_set(s, "quay.io/a/one:v1", d2, &em), em.msg);
	age_index(1000);
	ASSERT_OK(image_store_touch(s, "quay.io/a/two:v1", &em), em.msg);
	ASSERT_EQ(image_store_touch(s, "quay.io/a/three:v1", &em), -ENOENT, "touch absent");
	memset(&em, 0, sizeof(em));
	ASSERT_OK(image_store_prune(s, time(NULL) - 60, 0, &ps, &em), em.msg);
	ASSERT_EQ(ps.entries, 1, "one:v1 unused since 1970");
	ASSERT_EQ(ps.blobs, 0, "its blobs are two's");
	ASSERT_OK(image_store_list(s, &list, &n, &em), em.msg);
	ASSERT_TRUE(n == 1 && !strcmp(list[0].reference, "quay.io/a/two:v1"), "two kept");
	free(list);

	/* a temporary left by a crash goes at prune */
	fd = open(strcat(blobs_dir(), "/.tmp-crash"), O_CREAT | O_WRONLY, 0600);
	close(fd);
	ASSERT_OK(image_store_prune(s, 0, 0, &ps, &em), em.msg);
	ASSERT_EQ(ps.blobs, 1, "the temporary");
	ASSERT_EQ(count(blobs_dir(), ".tmp"), 0, "gone");
	cleanup(s);
}

static void index_of_platforms(void)
{
	char d1[IMAGE_DIGEST_LEN + 1], d2[IMAGE_DIGEST_LEN + 1], ix[1024], absent[80];
	struct image_store_prune_stats ps;
	struct image_store_entry *list = NULL;
	struct image_store *s;
	struct errmsg em = { 0 };
	const char *di;
	size_t n;

	setup(&s);
	image(s, "amd64 layer", true, d1);
	image(s, "arm64 layer", true, d2);
	unlink(blob_path(d2));		/* only one platform is stored */
	digest_of("nothing", 7, absent);
	snprintf(ix, sizeof(ix), "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\","
		 "\"manifests\":[{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"%s\","
		 "\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
		 "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":1}]}",
		 d1, d2);
	di = put(s, ix);
	ASSERT_OK(image_store_tag_set(s, "quay.io/multi/arch:v1", di, &em), em.msg);
	ASSERT_OK(image_store_list(s, &list, &n, &em), em.msg);
	ASSERT_TRUE(n == 1 && list[0].size > strlen(ix) + 9, "size has the platform image");
	free(list);
	ASSERT_OK(image_store_prune(s, 0, 0, &ps, &em), em.msg);
	ASSERT_EQ(ps.blobs, 1, "only the orphaned arm64 layer");
	ASSERT_TRUE(image_store_blob_has(s, d1), "amd64 manifest kept");
	cleanup(s);
}

static void index_damaged(void)
{
	struct image_store_entry *list = NULL;
	struct image_store *s;
	struct errmsg em = { 0 };
	char path[256], got[IMAGE_DIGEST_LEN + 1];
	FILE *f;
	size_t n;

	setup(&s);
	snprintf(path, sizeof(path), "%s/index.json", sdir);
	f = fopen(path, "w");
	fputs("{\"version\":1,\"images\":[{\"reference\":\"alpine\",\"digest\":\"x\"}]}", f);
	fclose(f);
	ASSERT_EQ(image_store_list(s, &list, &n, &em), -EIO, "not canonical");
	ASSERT_STRSTR(em.msg, "index.json is damaged (an entry has no canonical reference); "
		      "move it away", "message");
	f = fopen(path, "w");
	fputs("{\"vers", f);
	fclose(f);
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(image_store_tag_get(s, "alpine", got, &em), -EIO, "not JSON");
	ASSERT_STRSTR(em.msg, "damaged (not JSON)", "message");
	cleanup(s);
}

/* Two processes set 40 references each: the lock keeps every one of them. */
static void two_writers(void)
{
	struct image_store_entry *list = NULL;
	struct image_store *s;
	struct errmsg em = { 0 };
	char d[IMAGE_DIGEST_LEN + 1], ref[64];
	int p, i, status, ok = 1;
	size_t n;
	pid_t pid[2];

	setup(&s);
	image(s, "layer", true, d);
	for (p = 0; p < 2; p++) {
		pid[p] = fork();
		if (pid[p] == 0) {
			struct image_store *c;

			if (image_store_open(sdir, &c, NULL))
				_exit(1);
			for (i = 0; i < 40; i++) {
				snprintf(ref, sizeof(ref), "quay.io/p%d/img:v%d", p, i);
				if (image_store_tag_set(c, ref, d, NULL))
					_exit(1);
			}
			image_store_close(c);
			_exit(0);
		}
	}
	for (p = 0; p < 2; p++)
		ok &= waitpid(pid[p], &status, 0) == pid[p] && WIFEXITED(status) &&
		      !WEXITSTATUS(status);
	ASSERT_TRUE(ok, "writers succeeded");
	ASSERT_OK(image_store_list(s, &list, &n, &em), em.msg);
	ASSERT_EQ(n, 80, "no update lost");
	free(list);
	ASSERT_EQ(count(sdir, ".tmp"), 0, "no temporaries");
	cleanup(s);
}

TEST_MAIN("image_store", TEST(blobs), TEST(blob_checked_on_write),
	  TEST(blob_checked_on_read), TEST(tags), TEST(touch_remove_prune),
	  TEST(index_of_platforms), TEST(index_damaged), TEST(two_writers))
