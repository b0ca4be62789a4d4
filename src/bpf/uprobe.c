/* SPDX-License-Identifier: Apache-2.0 */
/* uprobe.c - uprobe targets: library lookup like ld.so, symbol -> file offset */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpf/uprobe.h"

#define LDCACHE_PATH	"/etc/ld.so.cache"
#define LDCACHE_MAGIC	"glibc-ld.so.cache1.1"
#define LDCACHE_OLD	"ld.so-1.7.0"

#if defined(__x86_64__)
#define MULTIARCH	"x86_64-linux-gnu"
#define LDCACHE_FLAGS	0x0303	/* FLAG_ELF_LIBC6 | FLAG_X8664_LIB64 */
#elif defined(__aarch64__)
#define MULTIARCH	"aarch64-linux-gnu"
#define LDCACHE_FLAGS	0x0a03	/* FLAG_ELF_LIBC6 | FLAG_AARCH64_LIB64 */
#else
#define MULTIARCH	""
#define LDCACHE_FLAGS	0
#endif

static const char *const lib_dirs[] = {
	"/lib/" MULTIARCH, "/usr/lib/" MULTIARCH, "/lib64", "/usr/lib64", "/lib", "/usr/lib",
	"/usr/local/lib",
};

struct ldcache_new {
	char magic[20];
	uint32_t nlibs;
	uint32_t len_strings;
	uint8_t flags;
	uint8_t pad[3];
	uint32_t ext_offset;
	uint32_t unused[3];
};

struct ldcache_entry {
	int32_t flags;
	uint32_t key;
	uint32_t value;
	uint32_t osversion;
	uint64_t hwcap;
};

/* Does library file name `key` satisfy the request `name`?  2 exact, 1 versioned. */
static int lib_match(const char *name, const char *key)
{
	size_t n = strlen(name);

	if (!strcmp(name, key))
		return 2;
	if (strstr(name, ".so"))
		return 0;
	if (strncmp(key, name, n) || strncmp(key + n, ".so", 3))
		return 0;
	return key[n + 3] == '\0' || key[n + 3] == '.';
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int copy_path(const char *src, char *ret_path, size_t size)
{
	if (strlen(src) >= size)
		return -ENAMETOOLONG;
	strcpy(ret_path, src);
	return 0;
}

/* Look name up in a glibc ld.so.cache (new format, possibly after the old one). */
static int ldcache_lookup(const char *cache, const char *name, char *ret_path, size_t size)
{
	const struct ldcache_new *h;
	const struct ldcache_entry *e;
	const char *base = NULL, *key, *val;
	int best = 0, m, fd, err = -ENOENT;
	size_t len = 0, off = 0, i;
	uint32_t old_n;
	struct stat st;
	void *map = MAP_FAILED;

	fd = open(cache, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(*h))
		goto out;
	len = st.st_size;
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		goto out;
	base = map;
	if (!memcmp(base, LDCACHE_OLD, strlen(LDCACHE_OLD))) {
		/* old header: magic[11], nlibs; entries of 3 ints; new header 8-aligned */
		memcpy(&old_n, base + 12, sizeof(old_n));
		off = (16 + (size_t)old_n * 12 + 7) & ~(size_t)7;
	}
	if (off + sizeof(*h) > len || memcmp(base + off, LDCACHE_MAGIC, strlen(LDCACHE_MAGIC)))
		goto out;
	h = (const void *)(base + off);
	if (h->nlibs > (len - off - sizeof(*h)) / sizeof(*e))
		goto out;
	e = (const void *)(h + 1);
	for (i = 0; i < h->nlibs; i++, e++) {
		if (LDCACHE_FLAGS && e->flags != LDCACHE_FLAGS)
			continue;
		/* string offsets are from the start of the new-format header */
		if (e->key >= len - off || e->value >= len - off)
			continue;
		key = base + off + e->key;
		val = base + off + e->value;
		if (!memchr(key, '\0', len - off - e->key) || !memchr(val, '\0', len - off - e->value))
			continue;
		m = lib_match(name, key);
		if (m > best && is_file(val)) {
			best = m;
			err = copy_path(val, ret_path, size);
			if (m == 2)
				break;
		}
	}
out:
	if (map != MAP_FAILED)
		munmap(map, len);
	close(fd);
	return err;
}

/* Look name up in dir: exact file, NAME.so, or the highest NAME.so.<version>. */
static int dir_lookup(const char *dir, const char *name, char *ret_path, size_t size)
{
	char best[NAME_MAX + 1] = "", path[PATH_MAX];
	struct dirent *de;
	int m, bm = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		m = lib_match(name, de->d_name);
		if (!m)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!is_file(path))
			continue;
		if (m > bm || (m == bm && strverscmp(de->d_name, best) > 0)) {
			bm = m;
			snprintf(best, sizeof(best), "%s", de->d_name);
		}
	}
	closedir(d);
	if (!bm)
		return -ENOENT;
	if (snprintf(path, sizeof(path), "%s/%s", dir, best) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return copy_path(path, ret_path, size);
}

int uprobe_resolve_target_in(const char *target, const char *ldcache, char *ret_path,
			     size_t size, struct errmsg *em)
{
	char dirs[512];
	size_t i, n = 0;
	int err;

	if (!target || !*target)
		return errmsg_set(em, -EINVAL,
				  "no uprobe target given: give an absolute path or a library name such as 'libc'");
	if (target[0] == '/') {
		if (strlen(target) >= size || strlen(target) >= PATH_MAX)
			return errmsg_set(em, -ENAMETOOLONG, "uprobe target path is too long (limit %zu bytes)",
					  size - 1);
		if (!is_file(target))
			return errmsg_set(em, -ENOENT, "uprobe target %s does not exist or is not a regular file",
					  target);
		strcpy(ret_path, target);
		return 0;
	}
	if (strchr(target, '/'))
		return errmsg_set(em, -EINVAL,
				  "uprobe target '%s' is a relative path: give an absolute path or a bare library name such as 'libc'",
				  target);
	err = ldcache_lookup(ldcache, target, ret_path, size);
	if (!err)
		return 0;
	if (err == -ENAMETOOLONG)
		return errmsg_set(em, err, "the path of library '%s' is too long", target);
	for (i = 0; i < sizeof(lib_dirs) / sizeof(lib_dirs[0]); i++) {
		if (!lib_dirs[i][0] || !strcmp(lib_dirs[i], "/lib/") || !strcmp(lib_dirs[i], "/usr/lib/"))
			continue;
		err = dir_lookup(lib_dirs[i], target, ret_path, size);
		if (!err)
			return 0;
		n += snprintf(dirs + n, n < sizeof(dirs) ? sizeof(dirs) - n : 0, "%s%s",
			      n ? ", " : "", lib_dirs[i]);
	}
	return errmsg_set(em, -ENOENT,
			  "uprobe target library '%s' not found: looked in %s and in %s; give the absolute path of the file instead",
			  target, ldcache, dirs);
}

int uprobe_resolve_target(const char *target, char *ret_path, size_t size,
			  struct errmsg *em)
{
	return uprobe_resolve_target_in(target, LDCACHE_PATH, ret_path, size, em);
}

/* Search one symbol table section for fn; 0 with *ret_offset, or -ENOENT. */
static int symtab_find(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, const char *fn,
		       uint64_t *ret_offset, uint64_t *ret_size)
{
	GElf_Shdr tsh;
	Elf_Data *data;
	GElf_Sym sym;
	const char *name;
	Elf_Scn *tscn;
	size_t i, n;
	int type;

	data = elf_getdata(scn, NULL);
	if (!data || !sh->sh_entsize)
		return -ENOENT;
	n = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < n; i++) {
		if (!gelf_getsym(data, i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    sym.st_shndx >= SHN_LORESERVE)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || strcmp(name, fn))
			continue;
		/* virtual address -> file offset through the symbol's own section */
		tscn = elf_getscn(elf, sym.st_shndx);
		if (!tscn || !gelf_getshdr(tscn, &tsh))
			continue;
		if (sym.st_value < tsh.sh_addr)
			continue;
		*ret_offset = sym.st_value - tsh.sh_addr + tsh.sh_offset;
		*ret_size = sym.st_size;
		return 0;
	}
	return -ENOENT;
}

int uprobe_func_offset(const char *path, const char *fn, uint64_t *ret_offset,
		       uint64_t *ret_size, struct errmsg *em)
{
	bool have_symtab = false, have_dynsym = false;
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int fd, err = -ENOENT;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return errmsg_set(em, -EINVAL, "libelf initialisation failed");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg_set(em, -errno, "cannot open uprobe target %s: %s", path,
				  strerror(errno));
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		err = errmsg_set(em, -ENOEXEC, "uprobe target %s is not an ELF file", path);
		goto out;
	}
	/* .symtab first: it also has the local functions a stripped .dynsym lacks */
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		have_symtab = true;
		err = symtab_find(elf, scn, &sh, fn, ret_offset, ret_size);
		if (!err)
			goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
			continue;
		have_dynsym = true;
		err = symtab_find(elf, scn, &sh, fn, ret_offset, ret_size);
		if (!err)
			goto out;
	}
	err = errmsg_set(em, -ENOENT,
			 "function '%s' not found in %s: searched %s%s%s for a defined function symbol",
			 fn, path, have_symtab ? ".symtab" : "",
			 have_symtab && have_dynsym ? " and " : "",
			 have_dynsym ? ".dynsym" :
			 (have_symtab ? "" : "no symbol table (the file has neither .symtab nor .dynsym)"));
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}
