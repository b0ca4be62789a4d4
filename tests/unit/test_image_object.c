/* SPDX-License-Identifier: Apache-2.0 */
/* test_image_object.c - the object of a stored image by its labels: legacy and
 * io.ebpf.programs labels, the default function, a kind against the label, a file
 * the label names or the one *.o; hostile layers (tar-slip, absolute path, symlink
 * escape, gzip bomb), a blob changed in the store, a wrong media type and missing
 * labels are refused with nothing left in the work folder. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>

#include "harness.h"
#include "image_build.h"
#include "core/image/object.h"

static char tmp[64], work[128], src[128];
static struct image_store *st;

static void cleanup(void)
{
	image_store_close(st);
	ib_sh("rm -rf '%s'", tmp);
}

static void setup(void)
{
	struct errmsg em = { { 0 } };
	char sdir[128];

	snprintf(tmp, sizeof(tmp), "/tmp/bpfd-test-imgobj-XXXXXX");
	if (!mkdtemp(tmp))
		exit(1);
	atexit(cleanup);
	snprintf(sdir, sizeof(sdir), "%s/store", tmp);
	snprintf(work, sizeof(work), "%s/store/unpack", tmp);
	snprintf(src, sizeof(src), "%s/src", tmp);
	if (!ASSERT_OK(image_store_open(sdir, &st, &em), em.msg))
		exit(1);
	ib_sh("mkdir -p %s && printf '\\177ELF one' >%s/prog.o && printf '\\177ELF two' >%s/other.o "
	      "&& printf 'text' >%s/README", src, src, src, src);
	ib_sh("cd %s && tar -czf ../one.tgz prog.o README && tar -cf ../one.tar prog.o && "
	      "tar -czf ../two.tgz prog.o other.o", src);
}

/* The work folder holds nothing but (with kept) the extractions kept per manifest
 * (m-<hex>): a failed open leaves nothing behind. */
static bool work_holds_only(bool kept)
{
	struct dirent *de;
	DIR *d = opendir(work);
	int n = 0;

	if (!d)
		return true;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    !(kept && !strncmp(de->d_name, "m-", 2)))
			n++;
	closedir(d);
	return n == 0;
}

static bool work_empty(void)
{
	return work_holds_only(false);
}

static int open_img(const char *layer, const char *mt, const char *labels, const char *fn,
		    struct image_object *o, struct errmsg *em)
{
	char d[IMAGE_DIGEST_LEN + 1], path[256];

	snprintf(path, sizeof(path), "%s/%s", tmp, layer);
	ib_image(st, path, mt, labels, NULL, d);
	return image_object_open(st, d, fn, work, o, em);
}

static void legacy_labels(void)
{
	struct errmsg em = { { 0 } };
	struct image_object o;
	size_t len;
	char *data;

	setup();
	if (!ASSERT_OK(open_img("one.tgz", IB_GZ, IB_LEGACY("xdp", "prog.o", "xdp_pass"), "", &o,
				&em), em.msg))
		return;
	ASSERT_STREQ(o.function, "xdp_pass", "function from the label");
	ASSERT_STREQ(o.program_type, "xdp", "type from the label");
	data = ib_slurp(o.path, &len);
	ASSERT_STREQ(data, "\177ELF one", "the object");
	free(data);
	ASSERT_TRUE(o.size > 0, "size");
	ASSERT_STREQ(o.dir, "", "the extraction is kept, not a folder to remove");
	image_object_close(&o);
	ASSERT_FALSE(work_empty(), "close keeps the extraction");
}

/* The extraction is kept per manifest: a second open reads no layer, a changed
 * object is extracted again, a removed image's extraction goes with image_object_trim(). */
static void kept_extraction(void)
{
	char d[IMAGE_DIGEST_LEN + 1], path[256], first[PATH_MAX];
	struct errmsg em = { { 0 } };
	struct image_store_prune_stats ps;
	struct image_object o;
	size_t len;
	char *data;

	setup();
	snprintf(path, sizeof(path), "%s/one.tgz", tmp);
	ib_image(st, path, IB_GZ, IB_LEGACY("xdp", "prog.o", "f"), "localhost:5000/ib/kept:v1", d);
	if (!ASSERT_OK(image_object_open(st, d, "", work, &o, &em), em.msg))
		return;
	snprintf(first, sizeof(first), "%s", o.path);
	ASSERT_STRSTR(o.path, d + strlen("sha256:"), "kept under the manifest's digest");
	image_object_close(&o);
	/* the layer's blob is gone: the kept object serves (checked by its own sum) */
	ib_sh("cd %s/store/blobs/sha256 && for f in *; do "
	      "if gzip -t $f 2>/dev/null; then chmod u+w $f; mv $f ../../../layer.keep; fi; done", tmp);
	if (!ASSERT_OK(image_object_open(st, d, "", work, &o, &em), em.msg))
		return;
	ASSERT_STREQ(o.path, first, "the same object");
	data = ib_slurp(o.path, &len);
	ASSERT_STREQ(data, "\177ELF one", "the object");
	free(data);
	image_object_close(&o);
	/* a changed object is extracted again, from the layer (checked again) */
	ib_sh("cd %s/store/blobs/sha256 && for f in ../../../layer.keep; do "
	      "mv $f $(sha256sum $f | cut -c1-64); done && printf 'changed' >'%s'", tmp, first);
	if (!ASSERT_OK(image_object_open(st, d, "", work, &o, &em), em.msg))
		return;
	data = ib_slurp(o.path, &len);
	ASSERT_STREQ(data, "\177ELF one", "extracted again, not the changed one");
	free(data);
	image_object_close(&o);
	/* its image removed from the store: the extraction goes too */
	image_object_trim(st, work);
	ASSERT_FALSE(work_empty(), "kept while the image is stored");
	ASSERT_OK(image_store_remove(st, "localhost:5000/ib/kept:v1", &em), em.msg);
	ASSERT_OK(image_store_prune(st, 0, 0, &ps, &em), em.msg);
	image_object_trim(st, work);
	ASSERT_TRUE(work_empty(), "dropped with its image");
}

static void programs_label(void)
{
	struct errmsg em = { { 0 } };
	struct image_object o;

	setup();
	/* one program: the default function; uncompressed layer; the one *.o */
	if (!ASSERT_OK(open_img("one.tar", IB_TAR, "\"io.ebpf.programs\":\"{\\\"tp\\\":\\\"tracepoint\\\"}\"",
				"", &o, &em), em.msg))
		return;
	ASSERT_STREQ(o.function, "tp", "function");
	ASSERT_STREQ(o.program_type, "tracepoint", "type");
	ASSERT_STRSTR(o.path, "/prog.o", "the only object");
	image_object_close(&o);
}

#define TWO "\"io.ebpf.programs\":\"{\\\"a\\\":\\\"xdp\\\",\\\"b\\\":\\\"tc\\\"}\""

static void several_programs(void)
{
	struct errmsg em = { { 0 } };
	struct image_object o;

	setup();
	ASSERT_EQ(open_img("one.tgz", IB_GZ, TWO, "", &o, &em), -EINVAL, "needs -n");
	ASSERT_STRSTR(em.msg, "several programs (a, b)", "names them");
	em.msg[0] = '\0';
	if (ASSERT_OK(open_img("one.tgz", IB_GZ, TWO, "b", &o, &em), em.msg)) {
		ASSERT_STREQ(o.program_type, "tc", "b's type");
		image_object_close(&o);
	}
	ASSERT_EQ(open_img("one.tgz", IB_GZ, TWO, "c", &o, &em), -ESRCH, "not in the label");
	ASSERT_STRSTR(em.msg, "function c is not in the image", "reason");
	ASSERT_TRUE(work_holds_only(true), "nothing left but b's kept extraction");
}

static void several_objects(void)
{
	struct errmsg em = { { 0 } };
	struct image_object o;

	setup();
	ASSERT_EQ(open_img("two.tgz", IB_GZ, "\"io.ebpf.programs\":\"{\\\"a\\\":\\\"xdp\\\"}\"", "",
			   &o, &em), -EINVAL, "which object");
	ASSERT_STRSTR(em.msg, "io.ebpf.filename", "says what to do");
	ASSERT_TRUE(work_empty(), "nothing left");
}

static void missing_file(void)
{
	struct errmsg em = { { 0 } };
	struct image_object o;

	setup();
	ASSERT_EQ(open_img("one.tgz", IB_GZ, IB_LEGACY("xdp", "nope.o", "f"), "", &o, &em),
		  -ENOENT, "no such file");
	ASSERT_STRSTR(em.msg, "no file nope.o", "reason");
	ASSERT_TRUE(work_empty(), "nothing left");
}

static void missing_labels(void)
{
	struct errmsg em = { { 0 } };
	struct image_object o;

	setup();
	ASSERT_EQ(open_img("one.tgz", IB_GZ, "\"org.example\":\"x\"", "", &o, &em), -EINVAL,
		  "no eBPF labels");
	ASSERT_STRSTR(em.msg, "no eBPF labels", "reason");
	em.msg[0] = '\0';
	ASSERT_EQ(open_img("one.tgz", IB_GZ, "\"io.ebpf.program_type\":\"xdp\"", "", &o, &em),
		  -EINVAL, "some legacy labels");
	ASSERT_STRSTR(em.msg, "io.ebpf.filename", "names the missing ones");
	ASSERT_TRUE(work_empty(), "nothing left");
}

static void wrong_media_type(void)
{
	struct errmsg em = { { 0 } };
	struct image_object o;

	setup();
	ASSERT_EQ(open_img("one.tgz", "application/vnd.oci.image.layer.v1.tar+zstd",
			   IB_LEGACY("xdp", "prog.o", "f"), "", &o, &em), -EINVAL, "zstd");
	ASSERT_STRSTR(em.msg, "zstd", "reason");
	em.msg[0] = '\0';
	ASSERT_EQ(open_img("one.tgz", "application/octet-stream", IB_LEGACY("xdp", "prog.o", "f"),
			   "", &o, &em), -EINVAL, "not a layer type");
	ASSERT_STRSTR(em.msg, "application/octet-stream", "names it");
}

/* A tar made by python's tarfile with a hostile member. */
static void hostile(const char *name, const char *py)
{
	ib_sh("cd %s && /usr/bin/python3 -c '\nimport io, tarfile\n"
	      "t = tarfile.open(\"%s\", \"w:gz\")\n"
	      "def add(n, data=b\"\\177ELF\", **kw):\n"
	      "    i = tarfile.TarInfo(n); i.size = len(data)\n"
	      "    for k, v in kw.items(): setattr(i, k, v)\n"
	      "    t.addfile(i, io.BytesIO(data) if i.type == tarfile.REGTYPE else None)\n"
	      "%s\nt.close()'", tmp, name, py);
}

static void refused_layer(const char *layer, const char *why)
{
	struct errmsg em = { { 0 } };
	struct image_object o;

	ASSERT_ERR(open_img(layer, IB_GZ, IB_LEGACY("xdp", "prog.o", "f"), "", &o, &em), layer);
	ASSERT_STRSTR(em.msg, why, layer);
	ASSERT_TRUE(work_empty(), "nothing left");
}

static void tar_slip(void)
{
	setup();
	hostile("slip.tgz", "add(\"prog.o\")\nadd(\"../evil.o\")");
	refused_layer("slip.tgz", "..");
}

static void absolute_path(void)
{
	setup();
	hostile("abs.tgz", "add(\"/etc/bpfd-evil.o\")");
	refused_layer("abs.tgz", "absolute");
	ASSERT_TRUE(access("/etc/bpfd-evil.o", F_OK), "nothing in /etc");
}

static void symlink_escape(void)
{
	setup();
	hostile("sym.tgz", "add(\"up\", type=tarfile.SYMTYPE, linkname=\"/etc\")\n"
		"add(\"up/bpfd-evil.o\")");
	refused_layer("sym.tgz", "link");
	ASSERT_TRUE(access("/etc/bpfd-evil.o", F_OK), "nothing in /etc");
}

static void gzip_bomb(void)
{
	setup();
	ib_sh("cd %s && head -c 32M /dev/zero >src/prog.o && tar -czf bomb.tgz -C src prog.o", tmp);
	refused_layer("bomb.tgz", "gzip bomb");
}

static void blob_changed(void)
{
	char d[IMAGE_DIGEST_LEN + 1], path[256];
	struct errmsg em = { { 0 } };
	struct image_object o;

	setup();
	snprintf(path, sizeof(path), "%s/one.tgz", tmp);
	ib_image(st, path, IB_GZ, IB_LEGACY("xdp", "prog.o", "f"), NULL, d);
	/* the layer's blob is changed behind the store's back (a disk error, or worse) */
	ib_sh("cd %s/store/blobs/sha256 && for f in *; do "
	      "if gzip -t $f 2>/dev/null; then chmod u+w $f; cp ../../../one.tar $f; fi; done", tmp);
	ASSERT_EQ(image_object_open(st, d, "", work, &o, &em), -EBADMSG, "checked again when used");
	ASSERT_STRSTR(em.msg, "sha256", "reason");
	ASSERT_TRUE(work_empty(), "nothing left");
}

static void type_allows(void)
{
	ASSERT_TRUE(image_type_allows("xdp", "xdp"), "xdp");
	ASSERT_FALSE(image_type_allows("xdp", "tc"), "xdp vs tc");
	ASSERT_TRUE(image_type_allows("tc", "tcx"), "tc programs attach as tcx");
	ASSERT_TRUE(image_type_allows("kprobe", "kretprobe"), "kretprobe");
	ASSERT_TRUE(image_type_allows("probe", "uprobe"), "the original's probe");
	ASSERT_FALSE(image_type_allows("tracepoint", "uprobe"), "tracepoint vs uprobe");
	ASSERT_FALSE(image_type_allows("lsm", "xdp"), "unknown type");
	ASSERT_TRUE(image_type_allows("", "xdp"), "no label");
}

TEST_MAIN("image_object", TEST(legacy_labels), TEST(programs_label), TEST(several_programs),
	  TEST(several_objects), TEST(missing_file), TEST(missing_labels),
	  TEST(wrong_media_type), TEST(tar_slip), TEST(absolute_path), TEST(symlink_escape),
	  TEST(gzip_bomb), TEST(blob_changed), TEST(kept_extraction), TEST(type_allows))
