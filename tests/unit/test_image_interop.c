/* SPDX-License-Identifier: Apache-2.0 */
/* test_image_interop.c - images made by buildah (OCI layout with a two-platform
 * index, and Docker schema 2 in a dir:) go through all of src/core/image: the
 * index picks a platform, manifests and configs parse, every blob enters the
 * store under its digest, a reference is set, and the layer extracts to the
 * object that was put in.  Skipped without /usr/bin/buildah. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "harness.h"
#include "digest.h"
#include "core/image/manifest.h"
#include "core/image/store.h"
#include "core/image/tar.h"

#define BUILDAH "/usr/bin/buildah"
#define AMD64_OBJ "\177ELF amd64 object"
#define ARM64_OBJ "\177ELF arm64 object"

static char tmp[64];

/* buildah with a private vfs store: amd64 and arm64 images, a manifest list,
 * pushed as an OCI layout (layout:v1) and as Docker schema 2 (dir:v2s2). */
static const char build_sh[] =
	"set -e\n"
	"cd \"$1\"\n"
	"export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot\n"
	"B=\"buildah --root $PWD/bstore --runroot $PWD/brun --storage-driver vfs\"\n"
	"printf '" AMD64_OBJ "' >amd64.o\n"
	"printf '" ARM64_OBJ "' >arm64.o\n"
	"c=$($B from scratch)\n"
	"$B copy $c amd64.o /xdp_pass.o\n"
	"$B config --arch amd64 --os linux --label io.ebpf.program_type=xdp "
	"--label io.ebpf.filename=xdp_pass.o --label io.ebpf.program_name=pass "
	"--label io.ebpf.bpf_function_name=xdp_pass "
	"--label 'io.ebpf.programs={\"xdp_pass\":\"xdp\"}' --label 'io.ebpf.maps={}' $c\n"
	"$B commit $c localhost/xdp:amd64\n"
	"c=$($B from scratch)\n"
	"$B copy $c arm64.o /xdp_pass.o\n"
	"$B config --arch arm64 --variant v8 --os linux "
	"--label 'io.ebpf.programs={\"xdp_pass\":\"xdp\"}' $c\n"
	"$B commit $c localhost/xdp:arm64\n"
	"$B manifest create localhost/multi:v1\n"
	"$B manifest add localhost/multi:v1 localhost/xdp:amd64\n"
	"$B manifest add localhost/multi:v1 localhost/xdp:arm64\n"
	"$B manifest push --all localhost/multi:v1 oci:$PWD/layout:v1\n"
	"$B push --format v2s2 localhost/xdp:amd64 dir:$PWD/v2s2\n";

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", tmp);
}

static void build(void)
{
	char cmd[256];

	if (access(BUILDAH, X_OK))
		test_skip(BUILDAH " is not installed (make deps)");
	snprintf(tmp, sizeof(tmp), "/tmp/bpfd-test-interop-XXXXXX");
	if (!mkdtemp(tmp))
		exit(1);
	snprintf(cmd, sizeof(cmd), "sh -c '%s' sh %s >%s/build.log 2>&1", "eval \"$BUILD\"",
		 tmp, tmp);
	setenv("BUILD", build_sh, 1);
	if (system(cmd)) {
		snprintf(cmd, sizeof(cmd), "tail -n 20 %s/build.log >&2", tmp);
		if (system(cmd))
			fprintf(stderr, "buildah failed\n");
		ASSERT_TRUE(false, "buildah built the images");
		cleanup();
		exit(1);
	}
}

static char *slurp(const char *path, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		goto out;
	buf = malloc(st.st_size + 1);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	if (buf) {
		buf[st.st_size] = '\0';
		*ret_len = st.st_size;
	}
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

/* Copy a blob of the layout into the store (checked against its digest) and
 * return its bytes. */
static char *take(struct image_store *s, const char *blobdir, const char *digest,
		  size_t *ret_len)
{
	struct errmsg em = { 0 };
	char path[256], *data;

	snprintf(path, sizeof(path), "%s/%s", blobdir, digest + 7);
	data = slurp(path, ret_len);
	if (!ASSERT_TRUE(data, path))
		return NULL;
	if (!ASSERT_OK(image_store_blob_put(s, digest, data, *ret_len, &em), em.msg)) {
		free(data);
		return NULL;
	}
	return data;
}

/* Manifest digest -> its config labels and extracted layer, all via the store. */
static void image_through(struct image_store *s, const char *blobdir, const char *digest,
			  const char *media_type, const char *want_obj, bool legacy,
			  const char *dest)
{
	struct image_manifest m;
	struct image_config c;
	struct image_tar_stats st;
	struct errmsg em = { 0 };
	char *doc = NULL, *cfg = NULL, *layer = NULL, path[256], obj[64] = "";
	size_t len, n;
	int fd;

	doc = take(s, blobdir, digest, &len);
	if (!doc)
		goto out;
	if (!ASSERT_OK(image_manifest_parse(doc, len, media_type, &m, &em), em.msg))
		goto out;
	ASSERT_EQ(m.n_layers, 1, "one layer");
	ASSERT_EQ(image_layer_kind(m.layers[0].media_type), IMAGE_LAYER_GZIP, "gzip");
	cfg = take(s, blobdir, m.config.digest, &n);
	layer = take(s, blobdir, m.layers[0].digest, &n);
	if (!cfg || !layer)
		goto out;
	ASSERT_EQ(n, m.layers[0].size, "layer size as the manifest says");
	if (!ASSERT_OK(image_config_parse(cfg, strlen(cfg), &c, &em), em.msg))
		goto out;
	ASSERT_EQ(c.has_legacy, legacy, "legacy labels");
	if (legacy) {
		ASSERT_STREQ(c.program_type, "xdp", "program_type");
		ASSERT_STREQ(c.filename, "xdp_pass.o", "filename");
		ASSERT_STREQ(c.function_name, "xdp_pass", "function");
	}
	ASSERT_TRUE(c.n_programs == 1 && !strcmp(c.programs[0].name, "xdp_pass") &&
		    !strcmp(c.programs[0].type, "xdp"), "io.ebpf.programs");
	/* the layer as the loader will read it: from the store, checked again */
	fd = image_store_blob_open(s, m.layers[0].digest, NULL, &em);
	if (!ASSERT_OK(fd, em.msg))
		goto out;
	snprintf(path, sizeof(path), "%s/%s", tmp, dest);
	ASSERT_OK(image_tar_extract(fd, path, NULL, &st, &em), em.msg);
	close(fd);
	ASSERT_TRUE(st.gzip && st.files == 1, "one gzipped file");
	snprintf(path, sizeof(path), "%s/%s/xdp_pass.o", tmp, dest);
	free(doc);
	doc = slurp(path, &len);
	if (ASSERT_TRUE(doc, "xdp_pass.o extracted"))
		snprintf(obj, sizeof(obj), "%s", doc);
	ASSERT_STREQ(obj, want_obj, "the object put in");
out:
	free(doc);
	free(cfg);
	free(layer);
}

static void buildah_oci_index(void)
{
	const struct image_platform_desc *p;
	struct image_store_entry *list = NULL;
	struct image_index *top = calloc(1, sizeof(*top)), *idx = calloc(1, sizeof(*idx));
	struct image_store *s = NULL;
	struct errmsg em = { 0 };
	char path[128], blobdir[128], got[IMAGE_DIGEST_LEN + 1], *doc = NULL;
	const char *arch, *variant;
	size_t len, n;

	build();
	snprintf(path, sizeof(path), "%s/store", tmp);
	snprintf(blobdir, sizeof(blobdir), "%s/layout/blobs/sha256", tmp);
	if (!ASSERT_OK(image_store_open(path, &s, &em), em.msg) || !top || !idx)
		goto out;
	/* the layout's own index.json names the manifest list */
	snprintf(path, sizeof(path), "%s/layout/index.json", tmp);
	doc = slurp(path, &len);
	if (!ASSERT_TRUE(doc, "index.json") ||
	    !ASSERT_OK(image_index_parse(doc, len, NULL, top, &em), em.msg))
		goto out;
	ASSERT_EQ(top->n_manifests, 1, "one entry");
	free(doc);
	doc = take(s, blobdir, top->manifests[0].desc.digest, &len);
	if (!doc)
		goto out;
	ASSERT_EQ(image_doc_kind(doc, len, NULL, &em), IMAGE_DOC_INDEX, "an index");
	if (!ASSERT_OK(image_index_parse(doc, len, MT_OCI_INDEX, idx, &em), em.msg))
		goto out;
	ASSERT_EQ(idx->n_manifests, 2, "two platforms");
	if (ASSERT_OK(image_index_pick(idx, "amd64", "", &p, &em), em.msg))
		image_through(s, blobdir, p->desc.digest, MT_OCI_MANIFEST, AMD64_OBJ, true,
			      "amd64");
	if (ASSERT_OK(image_index_pick(idx, "arm64", "v8", &p, &em), em.msg)) {
		ASSERT_STREQ(p->variant, "v8", "variant");
		image_through(s, blobdir, p->desc.digest, MT_OCI_MANIFEST, ARM64_OBJ, false,
			      "arm64");
	}
	ASSERT_EQ(image_index_pick(idx, "s390x", "", &p, &em), -ENOENT, "no s390x");
	ASSERT_STRSTR(em.msg, "it has: linux/amd64, linux/arm64/v8", "platforms named");
	memset(&em, 0, sizeof(em));
	if (!image_arch_host(&arch, &variant, &em) &&
	    (!strcmp(arch, "amd64") || !strcmp(arch, "arm64")))
		ASSERT_OK(image_index_pick(idx, arch, variant, &p, &em), "this machine's");
	/* the reference names the index; both platforms are complete */
	ASSERT_OK(image_store_tag_set(s, "localhost:5000/bpf/xdp-pass:v1",
				      top->manifests[0].desc.digest, &em), em.msg);
	ASSERT_OK(image_store_tag_get(s, "localhost:5000/bpf/xdp-pass:v1", got, &em), em.msg);
	ASSERT_STREQ(got, top->manifests[0].desc.digest, "digest");
	ASSERT_OK(image_store_list(s, &list, &n, &em), em.msg);
	ASSERT_TRUE(n == 1 && list[0].size > 1000, "size: index, 2 manifests, 2 configs, "
		    "2 layers");
	free(list);
out:
	free(doc);
	free(top);
	free(idx);
	image_store_close(s);
	cleanup();
}

static void buildah_docker_v2s2(void)
{
	struct image_store *s = NULL;
	struct errmsg em = { 0 };
	char path[256], blobdir[128], digest[IMAGE_DIGEST_LEN + 1], *doc = NULL;
	FILE *f = NULL;
	size_t len;

	build();
	snprintf(path, sizeof(path), "%s/store", tmp);
	snprintf(blobdir, sizeof(blobdir), "%s/v2s2", tmp);
	if (!ASSERT_OK(image_store_open(path, &s, &em), em.msg))
		goto out;
	/* dir: keeps the manifest as manifest.json: store it under its digest */
	snprintf(path, sizeof(path), "%s/v2s2/manifest.json", tmp);
	doc = slurp(path, &len);
	if (!ASSERT_TRUE(doc, "manifest.json"))
		goto out;
	ASSERT_EQ(image_doc_kind(doc, len, MT_DOCKER_MANIFEST, &em), IMAGE_DOC_MANIFEST,
		  "Docker schema 2");
	digest_of(doc, len, digest);
	snprintf(path, sizeof(path), "%s/%s", blobdir, digest + 7);
	f = fopen(path, "w");
	if (!ASSERT_TRUE(f && fwrite(doc, 1, len, f) == len, "manifest as a blob"))
		goto out;
	fclose(f);
	f = NULL;
	image_through(s, blobdir, digest, MT_DOCKER_MANIFEST, AMD64_OBJ, true, "v2s2-out");
	ASSERT_OK(image_store_tag_set(s, "localhost/xdp:amd64", digest, &em), em.msg);
out:
	if (f)
		fclose(f);
	free(doc);
	image_store_close(s);
	cleanup();
}

TEST_MAIN("image_interop", TEST(buildah_oci_index), TEST(buildah_docker_v2s2))
