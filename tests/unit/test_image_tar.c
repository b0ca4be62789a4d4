/* SPDX-License-Identifier: Apache-2.0 */
/* test_image_tar.c - layer extraction: good tars (plain, gzip, pax, GNU), every
 * refusal (tar-slip, absolute paths, links, devices, bombs, limits) leaving
 * nothing behind.  Archives are made by python3's tarfile or tar(1). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "harness.h"
#include "core/image/tar.h"

#define PY "/usr/bin/python3"

static char tmp[64];

static const char py_prelude[] =
	"import gzip, io, sys, tarfile\n"
	"out = sys.argv[1]\n"
	"def add(t, name, data=b'', type=tarfile.REGTYPE, link=''):\n"
	"    i = tarfile.TarInfo(name)\n"
	"    i.type = type\n"
	"    i.linkname = link\n"
	"    i.size = len(data) if type == tarfile.REGTYPE else 0\n"
	"    i.mode = 0o755 if type == tarfile.DIRTYPE else 0o4755\n"
	"    t.addfile(i, io.BytesIO(data) if i.size else None)\n";

static void setup(void)
{
	if (access(PY, X_OK))
		test_skip(PY " is not installed");
	snprintf(tmp, sizeof(tmp), "/tmp/bpfd-test-tar-XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		exit(1);
	}
}

static void cleanup(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", tmp);
}

static char *path(const char *name)
{
	static char p[4][PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tmp, name);
	return p[i];
}

/* Run python3 with the prelude and body; it writes tmp/out. */
static bool make_tar(const char *out, const char *body)
{
	char *script = NULL;
	pid_t pid;
	int status;

	if (asprintf(&script, "%s%s", py_prelude, body) < 0)
		return false;
	pid = fork();
	if (pid == 0) {
		execl(PY, PY, "-c", script, path(out), (char *)NULL);
		_exit(127);
	}
	free(script);
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

static int extract(const char *tar, const char *dest, const struct image_tar_limits *lim,
		   struct image_tar_stats *st, struct errmsg *em)
{
	int fd, err;

	memset(em, 0, sizeof(*em));
	fd = open(path(tar), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = image_tar_extract(fd, path(dest), lim, st, em);
	close(fd);
	return err;
}

static bool read_file(const char *p, char *buf, size_t size)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* Only the inputs named are left in tmp: no destination, no temporary folder. */
static bool only_inputs(const char *a, const char *b)
{
	struct dirent *de;
	bool ok = true;
	DIR *d = opendir(tmp);

	if (!d)
		return false;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, a) || (b && !strcmp(de->d_name, b)))
			continue;
		fprintf(stderr, "  left behind: %s\n", de->d_name);
		ok = false;
	}
	closedir(d);
	return ok;
}

static void good_plain_and_gzip(void)
{
	static const char body[] =
		"for name, mode in (('l.tar', 'w'), ('l.tgz', 'w:gz')):\n"
		"    t = tarfile.open(out.replace('l.tar', name), mode, format=tarfile.PAX_FORMAT)\n"
		"    add(t, 'bpf', type=tarfile.DIRTYPE)\n"
		"    add(t, 'bpf/xdp_pass.o', b'\\x7fELF-object')\n"
		"    add(t, './top.o', b'top')\n"
		"    add(t, 'deep/er/file', b'd')\n"
		"    add(t, 'bpf/', type=tarfile.DIRTYPE)\n"
		"    t.close()\n";
	struct image_tar_stats st;
	struct errmsg em;
	struct stat sb;
	char buf[64];
	const char *dests[] = { "out-plain", "out-gz" }, *tars[] = { "l.tar", "l.tgz" };
	int i;

	setup();
	if (!ASSERT_TRUE(make_tar("l.tar", body), "python3 tarfile"))
		goto out;
	for (i = 0; i < 2; i++) {
		if (!ASSERT_OK(extract(tars[i], dests[i], NULL, &st, &em), em.msg))
			continue;
		ASSERT_EQ(st.gzip, i == 1, "gzip detected by magic");
		ASSERT_EQ(st.files, 3, "files");
		ASSERT_EQ(st.dirs, 2, "dirs");
		ASSERT_EQ(st.file_bytes, 15, "bytes");
		ASSERT_TRUE(read_file(path(i ? "out-gz/bpf/xdp_pass.o" :
					   "out-plain/bpf/xdp_pass.o"), buf, sizeof(buf)),
			    "object extracted");
		ASSERT_STREQ(buf, "\x7f" "ELF-object", "content");
		ASSERT_TRUE(read_file(path(i ? "out-gz/top.o" : "out-plain/top.o"), buf,
				      sizeof(buf)), "./top.o");
		ASSERT_STREQ(buf, "top", "content");
		ASSERT_OK(stat(path(i ? "out-gz/deep/er/file" : "out-plain/deep/er/file"),
			       &sb), "parents created");
		/* no setuid or exec bits from the archive */
		ASSERT_EQ(sb.st_mode & 07777, 0644, "file mode");
	}
out:
	cleanup();
}

static void good_long_names(void)
{
	static const char body[] =
		"long = 'd' * 90 + '/' + 'n' * 120 + '.o'\n"
		"t = tarfile.open(out, 'w', format=tarfile.GNU_FORMAT)\n"
		"add(t, long, b'gnu')\n"
		"t.close()\n"
		"t = tarfile.open(out + '.pax', 'w', format=tarfile.PAX_FORMAT)\n"
		"add(t, long, b'pax')\n"
		"add(t, 'caf\\u00e9.o', b'utf8')\n"
		"t.close()\n"
		"t = tarfile.open(out + '.ustar', 'w', format=tarfile.USTAR_FORMAT)\n"
		"add(t, 'p' * 120 + '/' + 'n' * 90, b'prefix')\n"
		"t.close()\n";
	char buf[64], name[300], long_path[310];
	struct image_tar_stats st;
	struct errmsg em;

	setup();
	if (!ASSERT_TRUE(make_tar("g.tar", body), "python3 tarfile"))
		goto out;
	memset(name, 0, sizeof(name));
	memset(name, 'd', 90);
	name[90] = '/';
	memset(name + 91, 'n', 120);
	strcat(name, ".o");
	ASSERT_OK(extract("g.tar", "gnu", NULL, &st, &em), em.msg);
	snprintf(long_path, sizeof(long_path), "gnu/%s", name);
	ASSERT_TRUE(read_file(path(long_path), buf, sizeof(buf)), "GNU long name");
	ASSERT_STREQ(buf, "gnu", "content");
	ASSERT_EQ(st.entries, 2, "long-name header + file");
	ASSERT_OK(extract("g.tar.pax", "pax", NULL, &st, &em), em.msg);
	snprintf(long_path, sizeof(long_path), "pax/%s", name);
	ASSERT_TRUE(read_file(path(long_path), buf, sizeof(buf)), "pax path");
	ASSERT_STREQ(buf, "pax", "content");
	ASSERT_TRUE(read_file(path("pax/caf\xc3\xa9.o"), buf, sizeof(buf)), "UTF-8 name");
	ASSERT_OK(extract("g.tar.ustar", "ustar", NULL, &st, &em), em.msg);
	ASSERT_EQ(st.files, 1, "ustar prefix + name");
out:
	cleanup();
}

static void good_tar_tool(void)
{
	char cmd[PATH_MAX * 2], buf[16];
	struct image_tar_stats st;
	struct errmsg em;

	setup();
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/src/sub && echo obj > %s/src/sub/x.o && "
		 "tar -C %s/src -czf %s/t.tgz . 2>/dev/null", tmp, tmp, tmp, tmp);
	if (system(cmd))
		test_skip("tar(1) with gzip is not available");
	ASSERT_OK(extract("t.tgz", "o", NULL, &st, &em), em.msg);
	ASSERT_TRUE(read_file(path("o/sub/x.o"), buf, sizeof(buf)), "./sub/x.o");
	ASSERT_STREQ(buf, "obj\n", "content");
	ASSERT_TRUE(st.gzip && st.dirs == 2 && st.files == 1, "GNU tar's ./ entries");
	cleanup();
}

struct refusal {
	const char *name;
	const char *body;	/* python adding entries to t */
	int err;
	const char *why;
};

static const struct refusal refusals[] = {
	{ "tar-slip", "add(t, 'ok.o', b'x')\nadd(t, '../evil', b'x')", -EINVAL,
	  "'../evil' has a '..' component" },
	{ "tar-slip inside", "add(t, 'a/../../evil', b'x')", -EINVAL, "'..' component" },
	{ "tar-slip dir", "add(t, 'a/..', type=tarfile.DIRTYPE)", -EINVAL, "'..'" },
	{ "absolute path", "add(t, '/tmp/bpfd-evil', b'x')", -EINVAL,
	  "'/tmp/bpfd-evil' has an absolute path" },
	{ "symlink escape", "add(t, 'l', type=tarfile.SYMTYPE, link='/etc')\n"
	  "add(t, 'l/passwd', b'x')", -EINVAL, "'l' is a symbolic link" },
	{ "relative symlink", "add(t, 'l', type=tarfile.SYMTYPE, link='x.o')", -EINVAL,
	  "symbolic link" },
	{ "hard link", "add(t, 'x.o', b'x')\nadd(t, 'h', type=tarfile.LNKTYPE, link='x.o')",
	  -EINVAL, "'h' is a hard link" },
	{ "char device", "add(t, 'null', type=tarfile.CHRTYPE)", -EINVAL,
	  "'null' is a character device" },
	{ "block device", "add(t, 'sda', type=tarfile.BLKTYPE)", -EINVAL, "block device" },
	{ "fifo", "add(t, 'p', type=tarfile.FIFOTYPE)", -EINVAL, "'p' is a FIFO" },
	{ "twice", "add(t, 'x.o', b'1')\nadd(t, './x.o', b'2')", -EINVAL,
	  "'./x.o' appears twice" },
	{ "file then dir", "add(t, 'x', b'1')\nadd(t, 'x', type=tarfile.DIRTYPE)", -EINVAL,
	  "'x/' is a folder and a file" },
	{ "through a file", "add(t, 'x', b'1')\nadd(t, 'x/y', b'2')", -EINVAL,
	  "'x/y' is inside a path that is a file" },
	{ "file as root", "add(t, './', b'1')", -EINVAL, "is a file where the image's folder" },
	{ "control character", "add(t, 'a\\nb', b'1')", -EINVAL, "control character" },
	{ "deep", "add(t, '/'.join(['d'] * 65), b'1')", -EINVAL, "more than 64 directories" },
	{ "unknown type", "add(t, 'c', type=b'C')", -EINVAL, "unknown type 'C'" },
};

static void refused(void)
{
	char body[1024], tar[32];
	struct errmsg em;
	size_t i;

	setup();
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];

		snprintf(tar, sizeof(tar), "r%zu.tar", i);
		snprintf(body, sizeof(body), "t = tarfile.open(out, 'w:gz' if %zu %% 2 else "
			 "'w', format=tarfile.PAX_FORMAT)\n%s\nt.close()\n", i, r->body);
		if (!ASSERT_TRUE(make_tar(tar, body), r->name))
			continue;
		ASSERT_EQ(extract(tar, "dest", NULL, NULL, &em), r->err, r->name);
		ASSERT_STRSTR(em.msg, r->why, r->name);
		ASSERT_TRUE(only_inputs(tar, NULL), r->name);
		unlink(path(tar));
	}
	ASSERT_TRUE(access("/tmp/bpfd-evil", F_OK), "nothing written outside");
	cleanup();
}

static void gzip_bomb(void)
{
	static const char body[] =
		"t = tarfile.open(out, 'w:gz', compresslevel=9)\n"
		"i = tarfile.TarInfo('zeros.o')\n"
		"i.size = 64 << 20\n"
		"class Z(io.RawIOBase):\n"
		"    def readable(self):\n"
		"        return True\n"
		"    def readinto(self, b):\n"
		"        b[:] = bytes(len(b))\n"
		"        return len(b)\n"
		"t.addfile(i, io.BufferedReader(Z()))\n"
		"t.close()\n";
	struct image_tar_stats st;
	struct errmsg em;
	struct stat sb;

	setup();
	if (!ASSERT_TRUE(make_tar("bomb.tgz", body), "python3 tarfile"))
		goto out;
	ASSERT_OK(stat(path("bomb.tgz"), &sb), "stat");
	ASSERT_TRUE(sb.st_size < (1 << 20), "64 MiB of zeros in less than 1 MiB");
	ASSERT_EQ(extract("bomb.tgz", "dest", NULL, &st, &em), -EFBIG, "refused");
	ASSERT_STRSTR(em.msg, "gzip bomb", "message");
	/* stopped early: a few MiB at most came out */
	ASSERT_TRUE(st.tar_bytes < (16u << 20), "stopped early");
	ASSERT_TRUE(only_inputs("bomb.tgz", NULL), "nothing left");
out:
	cleanup();
}

static void limits(void)
{
	static const char body[] =
		"t = tarfile.open(out, 'w')\n"
		"for n in range(10):\n"
		"    add(t, 'f%d' % n, b'x' * 1000)\n"
		"t.close()\n"
		"import shutil\n"
		"with open(out, 'rb') as f, gzip.open(out + '.gz', 'wb') as g:\n"
		"    shutil.copyfileobj(f, g)\n";
	struct image_tar_limits lim = { .max_bytes = 1 << 20, .max_entries = 10,
					.max_ratio = 2 };
	struct image_tar_stats st;
	struct errmsg em;

	setup();
	if (!ASSERT_TRUE(make_tar("m.tar", body), "python3 tarfile"))
		goto out;
	ASSERT_OK(extract("m.tar", "d1", &lim, &st, &em), em.msg);
	ASSERT_EQ(st.files, 10, "ten files");
	lim.max_entries = 9;
	ASSERT_EQ(extract("m.tar", "d2", &lim, NULL, &em), -EFBIG, "entries");
	ASSERT_STRSTR(em.msg, "more than 9 tar entries", "message");
	lim.max_entries = 10;
	lim.max_bytes = 8000;
	ASSERT_EQ(extract("m.tar", "d3", &lim, NULL, &em), -EFBIG, "bytes");
	ASSERT_STRSTR(em.msg, "larger than 8000 bytes", "message");
	/* a ratio below the floor is not judged: 10 KiB from a few hundred bytes */
	lim.max_bytes = 1 << 20;
	ASSERT_OK(extract("m.tar.gz", "d4", &lim, &st, &em), em.msg);
	ASSERT_TRUE(st.in_bytes * 2 < st.tar_bytes, "compressed well");
	ASSERT_EQ(extract("m.tar", "d1", &lim, NULL, &em), -EEXIST, "dest exists");
	ASSERT_STRSTR(em.msg, "exists already", "message");
out:
	cleanup();
}

static void corrupt(void)
{
	static const char body[] =
		"t = tarfile.open(out, 'w')\n"
		"add(t, 'x.o', b'x' * 3000)\n"
		"t.close()\n"
		"data = open(out, 'rb').read()\n"
		"open(out + '.cut', 'wb').write(data[:2048])\n"
		"bad = bytearray(data)\n"
		"bad[0] ^= 1\n"
		"open(out + '.sum', 'wb').write(bad)\n"
		"z = gzip.compress(data)\n"
		"open(out + '.gzcut', 'wb').write(z[:len(z) // 2])\n"
		"bz = bytearray(z)\n"
		"bz[len(z) - 6] ^= 0xff\n"
		"open(out + '.crc', 'wb').write(bz)\n"
		"open(out + '.junk', 'wb').write(z + b'junk')\n"
		"open(out + '.multi', 'wb').write(gzip.compress(data[:1024]) + "
		"gzip.compress(data[1024:]))\n"
		"open(out + '.empty', 'wb').write(b'')\n"
		"open(out + '.v7', 'wb').write(data[:257] + bytes(6) + data[263:])\n";
	static const struct {
		const char *file;
		const char *why;
	} cases[] = {
		{ "c.tar.cut", "ends in the middle of x.o" },
		{ "c.tar.sum", "not a ustar, GNU or pax tar archive" },
		{ "c.tar.gzcut", "gzip stream is truncated" },
		{ "c.tar.crc", "gzip stream is corrupt" },
		{ "c.tar.junk", "not another gzip member" },
		{ "c.tar.empty", "ends in the middle of a header" },
		{ "c.tar.v7", "not a ustar" },
	};
	struct errmsg em;
	size_t i;

	setup();
	if (!ASSERT_TRUE(make_tar("c.tar", body), "python3"))
		goto out;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(extract(cases[i].file, "d", NULL, NULL, &em), -EINVAL,
			  cases[i].file);
		ASSERT_STRSTR(em.msg, cases[i].why, cases[i].file);
		ASSERT_TRUE(access(path("d"), F_OK), "no dest");
	}
	ASSERT_OK(extract("c.tar.multi", "m", NULL, NULL, &em), "multi-member gzip");
out:
	cleanup();
}

static void from_memory(void)
{
	/* one hand-made ustar header for "m.o" with 2 bytes, then the end */
	static uint8_t tar[512 * 4];
	struct image_tar_stats st;
	struct errmsg em = { 0 };
	unsigned sum = 0;
	char buf[8];
	size_t i;

	setup();
	strcpy((char *)tar, "m.o");
	strcpy((char *)tar + 100, "0000644");
	strcpy((char *)tar + 124, "00000000002");
	tar[156] = '0';
	memcpy(tar + 257, "ustar\0" "00", 8);
	memset(tar + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += tar[i];
	snprintf((char *)tar + 148, 8, "%06o", sum);
	memcpy(tar + 512, "hi", 2);
	ASSERT_OK(image_tar_extract_mem(tar, sizeof(tar), path("mem"), NULL, &st, &em),
		  em.msg);
	ASSERT_TRUE(read_file(path("mem/m.o"), buf, sizeof(buf)), "extracted");
	ASSERT_STREQ(buf, "hi", "content");
	/* base-256 size (GNU) */
	memset(tar + 124, 0, 12);
	tar[124] = 0x80;
	tar[135] = 2;
	memset(tar + 148, ' ', 8);
	for (sum = 0, i = 0; i < 512; i++)
		sum += tar[i];
	snprintf((char *)tar + 148, 8, "%06o", sum);
	ASSERT_OK(image_tar_extract_mem(tar, sizeof(tar), path("mem256"), NULL, &st, &em),
		  em.msg);
	ASSERT_EQ(st.file_bytes, 2, "base-256 size");
	/* a size near 2^64 is refused at once, not wrapped around */
	memset(tar + 128, 0xff, 7);
	tar[135] = 0x9c;
	memset(tar + 148, ' ', 8);
	for (sum = 0, i = 0; i < 512; i++)
		sum += tar[i];
	snprintf((char *)tar + 148, 8, "%06o", sum);
	ASSERT_EQ(image_tar_extract_mem(tar, sizeof(tar), path("huge"), NULL, &st, &em),
		  -EFBIG, "2^64 - 100 bytes");
	ASSERT_STRSTR(em.msg, "larger than 268435456 bytes", "message");
	cleanup();
}

TEST_MAIN("image_tar", TEST(good_plain_and_gzip), TEST(good_long_names),
	  TEST(good_tar_tool), TEST(refused), TEST(gzip_bomb), TEST(limits),
	  TEST(corrupt), TEST(from_memory))
