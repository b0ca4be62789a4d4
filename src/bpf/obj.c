/* SPDX-License-Identifier: Apache-2.0 */
/* obj.c - one BPF ELF object, one selected program: globals, map reuse, load, pin maps */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/bpflog.h"
#include "bpf/obj.h"
#include "core/base/log.h"
#include "core/base/sandbox.h"
#include "core/base/sha256.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

#define OBJ_LOG_SIZE	(1u << 20)	/* verifier log buffer, only during obj_load() */
#define OBJ_LOG_TAIL	2400		/* bytes of the log's end put into the message */
#define OBJ_PARSE_SECS	10		/* time a parse in the sandbox child may take */
#define OBJ_MAX_FD_FILE	(256u << 20)	/* bytes obj_open_fd() reads */
#define OBJ_SAFE_MAX	64		/* objects remembered as safe to parse */

struct obj {
	struct bpf_object *bo;
	struct bpf_program *prog;
	enum obj_kind kind;
	bool loaded;
	bool maps_reused;	/* obj_reuse_maps() done: the maps belong to another program */
	void *buf;		/* obj_open_fd(): the file's bytes, which libelf reads in place */
};

static const struct {
	const char *word;	/* section name up to the first '/' */
	enum obj_kind kind;
} sec_kinds[] = {
	{ "xdp", OBJ_KIND_XDP },
	{ "xdp.frags", OBJ_KIND_XDP },
	{ "tc", OBJ_KIND_TC },
	{ "classifier", OBJ_KIND_TC },
	{ "tcx", OBJ_KIND_TCX },
	{ "tracepoint", OBJ_KIND_TRACEPOINT },
	{ "tp", OBJ_KIND_TRACEPOINT },
	{ "kprobe", OBJ_KIND_KPROBE },
	{ "ksyscall", OBJ_KIND_KPROBE },
	{ "kretprobe", OBJ_KIND_KRETPROBE },
	{ "kretsyscall", OBJ_KIND_KRETPROBE },
	{ "uprobe", OBJ_KIND_UPROBE },
	{ "uprobe.s", OBJ_KIND_UPROBE },
	{ "uretprobe", OBJ_KIND_URETPROBE },
	{ "uretprobe.s", OBJ_KIND_URETPROBE },
	{ "fentry", OBJ_KIND_FENTRY },
	{ "fentry.s", OBJ_KIND_FENTRY },
	{ "fexit", OBJ_KIND_FEXIT },
	{ "fexit.s", OBJ_KIND_FEXIT },
};

static enum obj_kind sec_kind(const char *sec)
{
	size_t n = strcspn(sec, "/"), i;

	for (i = 0; i < sizeof(sec_kinds) / sizeof(sec_kinds[0]); i++)
		if (strlen(sec_kinds[i].word) == n && !strncmp(sec, sec_kinds[i].word, n))
			return sec_kinds[i].kind;
	return OBJ_KIND_UNKNOWN;
}

/* Is this an ELF file for the BPF machine?  hdr holds the first len bytes. */
static int check_bpf_elf(const unsigned char *hdr, size_t len, const char *what,
			 struct errmsg *em)
{
	uint16_t machine;

	if (len < EI_NIDENT || memcmp(hdr, ELFMAG, SELFMAG))
		return errmsg_set(em, -ENOEXEC,
				  "%s is not an ELF file: a BPF object compiled with 'clang -target bpf' is needed",
				  what);
	if (len < sizeof(Elf64_Ehdr) || hdr[EI_CLASS] != ELFCLASS64)
		return errmsg_set(em, -ENOEXEC,
				  "%s is an ELF file but not a 64-bit BPF object (compile it with 'clang -target bpf')",
				  what);
	if (hdr[EI_DATA] == ELFDATA2LSB)
		machine = hdr[18] | hdr[19] << 8;
	else
		machine = hdr[18] << 8 | hdr[19];
	if (machine != EM_BPF)
		return errmsg_set(em, -ENOEXEC,
				  "%s is an ELF file for machine %u, not a BPF object (e_machine %u); compile it with 'clang -target bpf'",
				  what, machine, EM_BPF);
	return 0;
}

static void list_functions(struct bpf_object *bo, char *buf, size_t size)
{
	struct bpf_program *p;
	size_t n = 0;

	buf[0] = '\0';
	bpf_object__for_each_program(p, bo) {
		n += snprintf(buf + n, n < size ? size - n : 0, "%s%s (SEC \"%s\")",
			      n ? ", " : "", bpf_program__name(p), bpf_program__section_name(p));
		if (n >= size)
			break;
	}
	if (n >= size && size > 4)
		strcpy(buf + size - 4, "...");
	if (!buf[0])
		snprintf(buf, size, "none");
}

/* Select func_name, disable the others, stop libbpf's own pinning (pins are ours). */
static int obj_select(struct obj *o, const char *what, const char *func_name,
		      struct errmsg *em)
{
	char names[1500];
	struct bpf_program *p;
	struct bpf_map *m;

	o->prog = bpf_object__find_program_by_name(o->bo, func_name);
	if (!o->prog) {
		list_functions(o->bo, names, sizeof(names));
		return errmsg_set(em, -ESRCH,
				  "%s has no BPF program function '%s'; its programs are: %s",
				  what, func_name, names);
	}
	bpf_object__for_each_program(p, o->bo)
		bpf_program__set_autoload(p, p == o->prog);
	/* LIBBPF_PIN_BY_NAME would pin under /sys/fs/bpf, outside bpfd's tree:
	 * maps are pinned by bpfd and shared with --map-owner-id instead. */
	bpf_object__for_each_map(m, o->bo)
		bpf_map__set_pin_path(m, NULL);
	o->kind = sec_kind(bpf_program__section_name(o->prog));
	return 0;
}

/* The ELF file is untrusted and libbpf 1.1 (Debian 12) crashes on some malformed
 * ones: fuzz_elf found a NULL dereference in bpf_object__collect_prog_relos() for a
 * relocation section whose target section has no data (fixed in later libbpf).  So
 * the object is parsed first in a forked child; only when that child survives does
 * the daemon parse it itself, the same bytes under the same name (parsing is
 * deterministic).  The bytes are always a buffer the daemon read once: what the
 * child checked is what the daemon parses. */
struct parse_job {
	const void *data;
	size_t len;
	const char *name;
	int parsed;		/* 1: libbpf parsed it, 0: it failed cleanly */
};

/* Objects whose parse in a child succeeded, by the SHA-256 of their bytes and the
 * name they were opened as: loading one of them again (the k-th program of a chain,
 * a reload) skips the child.  A ring of the last OBJ_SAFE_MAX; new bytes always go
 * through the child. */
static struct {
	pthread_mutex_t lock;
	unsigned char sum[OBJ_SAFE_MAX][SHA256_LEN];
	char name[OBJ_SAFE_MAX][64];
	size_t n, next;
} safe = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool safe_known(const unsigned char *sum, const char *name)
{
	bool hit = false;
	size_t i;

	pthread_mutex_lock(&safe.lock);
	for (i = 0; i < safe.n && !hit; i++)
		hit = !memcmp(safe.sum[i], sum, SHA256_LEN) && !strcmp(safe.name[i], name);
	pthread_mutex_unlock(&safe.lock);
	return hit;
}

static void safe_add(const unsigned char *sum, const char *name)
{
	if (strlen(name) >= sizeof(safe.name[0]))
		return;		/* not remembered: checked again next time */
	pthread_mutex_lock(&safe.lock);
	memcpy(safe.sum[safe.next], sum, SHA256_LEN);
	strcpy(safe.name[safe.next], name);
	safe.next = (safe.next + 1) % OBJ_SAFE_MAX;
	if (safe.n < OBJ_SAFE_MAX)
		safe.n++;
	pthread_mutex_unlock(&safe.lock);
}

static void parse_child(void *buf)
{
	struct parse_job *j = buf;
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = j->name);
	struct bpf_object *bo;

	bpflog_set(BPFLOG_OFF);
	bo = bpf_object__open_mem(j->data, j->len, &opts);
	j->parsed = !!bo;
}

/* Parse data[0..len) as object name (NULL: libbpf's own name) in a confined child,
 * unless these bytes under this name parsed there before. */
static int parse_sandboxed(const void *data, size_t len, const char *name, const char *what,
			   struct errmsg *em)
{
	struct parse_job j = { .data = data, .len = len, .name = name };
	unsigned char sum[SHA256_LEN];
	int err, st = 0;

	sha256(data, len, sum);
	if (safe_known(sum, name ? name : ""))
		return 0;
	err = sandbox_run_confined(parse_child, &j, sizeof(j), OBJ_PARSE_SECS * 1000, &st);
	if (!err) {
		if (j.parsed)
			safe_add(sum, name ? name : "");
		return 0;	/* parsed, or failed cleanly: the real open says why */
	}
	if (err == -ETIMEDOUT)
		return errmsg_set(em, -ENOEXEC,
				  "%s is not a usable BPF object: parsing it took more than %d seconds",
				  what, OBJ_PARSE_SECS);
	if (err != -EIO)
		return errmsg_set(em, err, "cannot run the check of %s: %s", what, strerror(-err));
	if (WIFEXITED(st) && WEXITSTATUS(st) == SANDBOX_EXIT_CONFINE)
		return errmsg_set(em, -EPERM,
				  "cannot check %s: the parsing sandbox could not be set up (no_new_privs, seccomp); see the daemon's log",
				  what);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		return errmsg_set(em, -ENOEXEC,
				  "%s is a malformed BPF object: parsing it made a system call the parsing sandbox forbids",
				  what);
	if (WIFSIGNALED(st))
		return errmsg_set(em, -ENOEXEC,
				  "%s is a malformed BPF object: libbpf crashed parsing it (%s); rebuild it with 'clang -target bpf'",
				  what, strsignal(WTERMSIG(st)));
	return errmsg_set(em, -ENOEXEC,
			  "%s is a malformed BPF object: libbpf failed parsing it (exit %d); rebuild it with 'clang -target bpf'",
			  what, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int obj_finish_open(struct bpf_object *bo, const char *what, const char *func_name,
			   struct obj **ret_obj, struct errmsg *em)
{
	struct obj *o;
	int err;

	o = calloc(1, sizeof(*o));
	if (!o) {
		bpf_object__close(bo);
		return -ENOMEM;
	}
	o->bo = bo;
	err = obj_select(o, what, func_name, em);
	if (err) {
		obj_close(o);
		return err;
	}
	*ret_obj = o;
	return 0;
}

int obj_open_file(const char *path, const char *func_name, struct obj **ret_obj,
		  struct errmsg *em)
{
	unsigned char hdr[sizeof(Elf64_Ehdr)];
	struct stat st;
	ssize_t n;
	int fd, err;

	bpflog_init();
	if (!path || !*path)
		return errmsg_set(em, -EINVAL, "no object file path given");
	if (strlen(path) >= PATH_MAX)
		return errmsg_set(em, -ENAMETOOLONG,
				  "object file path is %zu bytes long; the limit is %d",
				  strlen(path), PATH_MAX - 1);
	if (!func_name || !*func_name)
		return errmsg_set(em, -EINVAL,
				  "no function name given: name the BPF program function to load");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		return errmsg_set(em, err, "cannot open object file '%s': %s%s", path,
				  strerror(-err),
				  path[0] != '/' ? " (the daemon resolves relative paths from its own working directory; give an absolute path)" : "");
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		return errmsg_set(em, -ENOEXEC, "object file '%s' is not a regular file", path);
	}
	n = read(fd, hdr, sizeof(hdr));
	if (n < 0) {
		err = errmsg_set(em, -errno, "cannot read object file '%s': %s", path,
				 strerror(errno));
		goto out;
	}
	err = check_bpf_elf(hdr, n, path, em);
	/* read once into memory: the sandbox checks the bytes the daemon parses */
	if (!err)
		err = obj_open_fd(fd, path, func_name, ret_obj, em);
out:
	close(fd);
	return err;
}

static int open_mem(const void *data, size_t len, const char *name, const char *what,
		    const char *func_name, struct obj **ret_obj, struct errmsg *em);

/* The name libbpf gives an object opened from path: the file name up to its
 * first '.', so that maps are named alike whichever way it was opened. */
static void obj_name_of(const char *path, char *buf, size_t size)
{
	const char *base = strrchr(path, '/');

	snprintf(buf, size, "%s", base ? base + 1 : path);
	buf[strcspn(buf, ".")] = '\0';
}

static int read_fd(int fd, const char *path, void **ret, size_t *ret_len, struct errmsg *em)
{
	struct stat st;
	size_t len = 0;
	char *buf;
	ssize_t n;

	if (fstat(fd, &st))
		return errmsg_set(em, -errno, "cannot stat object file '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return errmsg_set(em, -ENOEXEC, "object file '%s' is not a regular file", path);
	if ((unsigned long long)st.st_size > OBJ_MAX_FD_FILE)
		return errmsg_set(em, -EFBIG, "object file '%s' is %lld bytes; bpfd reads at most %u",
				  path, (long long)st.st_size, OBJ_MAX_FD_FILE);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		n = pread(fd, buf + len, st.st_size - len, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return errmsg_set(em, -errno, "cannot read object file '%s': %s", path,
					  strerror(errno));
		}
		if (!n)
			break;	/* shrank since fstat() */
		len += n;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int obj_open_fd(int fd, const char *path, const char *func_name, struct obj **ret_obj,
		struct errmsg *em)
{
	char name[64];
	void *buf = NULL;
	size_t len = 0;
	int err;

	err = read_fd(fd, path, &buf, &len, em);
	if (err)
		return err;
	obj_name_of(path, name, sizeof(name));
	err = open_mem(buf, len, name, path, func_name, ret_obj, em);
	if (err) {
		free(buf);
		return err;
	}
	(*ret_obj)->buf = buf;
	return 0;
}

/* Open data[0..len) as object name; what names it in messages. */
static int open_mem(const void *data, size_t len, const char *name, const char *what,
		    const char *func_name, struct obj **ret_obj, struct errmsg *em)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name);
	struct bpf_object *bo;
	int err;

	bpflog_init();
	if (!func_name || !*func_name)
		return errmsg_set(em, -EINVAL,
				  "no function name given: name the BPF program function to load");
	err = check_bpf_elf(data, len, what, em);
	if (err)
		return err;
	err = parse_sandboxed(data, len, name, what, em);
	if (err)
		return err;
	bo = bpf_object__open_mem(data, len, &opts);
	if (!bo) {
		err = -errno;
		return errmsg_set(em, err, "libbpf cannot open BPF object '%s': %s", what,
				  strerror(-err));
	}
	return obj_finish_open(bo, what, func_name, ret_obj, em);
}

int obj_open_mem(const void *data, size_t len, const char *name,
		 const char *func_name, struct obj **ret_obj, struct errmsg *em)
{
	return open_mem(data, len, name, name ? name : "object", func_name, ret_obj, em);
}

/* The section a data map stands for (".rodata", ".data.foo", ".bss"), or NULL for
 * other maps.  Internal map names are "<obj prefix>.<sec>", truncated. */
static const char *datasec_name(struct bpf_object *bo, struct bpf_map *m)
{
	struct btf *btf = bpf_object__btf(bo);
	const struct btf_type *t;
	const char *s;

	if (!bpf_map__is_internal(m) || !btf || !bpf_map__btf_value_type_id(m))
		return NULL;
	t = btf__type_by_id(btf, bpf_map__btf_value_type_id(m));
	if (!t || !btf_is_datasec(t))
		return NULL;
	s = btf__name_by_offset(btf, t->name_off);
	if (!s || !strcmp(s, ".kconfig") || !strncmp(s, ".ksyms", 6))
		return NULL;
	return s;
}

typedef int (*var_fn)(struct bpf_map *m, const char *var, const struct btf_var_secinfo *vi,
		      void *ctx);

static int for_each_global(struct obj *o, var_fn fn, void *ctx)
{
	struct btf *btf = bpf_object__btf(o->bo);
	const struct btf_var_secinfo *vi;
	const struct btf_type *t, *v;
	struct bpf_map *m;
	const char *name;
	int i, ret;

	if (!btf)
		return 0;
	bpf_object__for_each_map(m, o->bo) {
		if (!datasec_name(o->bo, m))
			continue;
		t = btf__type_by_id(btf, bpf_map__btf_value_type_id(m));
		vi = btf_var_secinfos(t);
		for (i = 0; i < btf_vlen(t); i++, vi++) {
			v = btf__type_by_id(btf, vi->type);
			if (!v || !btf_is_var(v))
				continue;
			name = btf__name_by_offset(btf, v->name_off);
			if (!name)
				continue;
			ret = fn(m, name, vi, ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}

struct list_ctx {
	char *buf;
	size_t size, n;
};

static int list_one(struct bpf_map *m, const char *var, const struct btf_var_secinfo *vi,
		    void *ctx)
{
	struct list_ctx *l = ctx;

	(void)m;
	l->n += snprintf(l->buf + l->n, l->n < l->size ? l->size - l->n : 0,
			 "%s%s (%u bytes)", l->n ? ", " : "", var, vi->size);
	return l->n >= l->size;
}

void obj_globals_list(struct obj *o, char *ret_buf, size_t size)
{
	struct list_ctx l = { .buf = ret_buf, .size = size };

	if (!size)
		return;
	ret_buf[0] = '\0';
	for_each_global(o, list_one, &l);
	if (l.n >= size && size > 4)
		strcpy(ret_buf + size - 4, "...");
	if (!ret_buf[0])
		snprintf(ret_buf, size, "none");
}

struct set_ctx {
	const char *name;
	const void *bytes;
	size_t len;
	struct errmsg *em;
	bool found;
};

static int set_one(struct bpf_map *m, const char *var, const struct btf_var_secinfo *vi,
		   void *ctx)
{
	struct set_ctx *s = ctx;
	size_t size = 0;
	char *data;

	if (strcmp(var, s->name))
		return 0;
	s->found = true;
	if (s->len != vi->size)
		return errmsg_set(s->em, -EINVAL,
				  "global variable '%s' is %u bytes long but %zu bytes were given; give exactly %u bytes (%u hex digits) in the program's byte order",
				  var, vi->size, s->len, vi->size, vi->size * 2);
	data = (char *)bpf_map__initial_value(m, &size);
	if (!data || (size_t)vi->offset + vi->size > size)
		return errmsg_set(s->em, -EINVAL,
				  "global variable '%s' cannot be set: its section has no initial data",
				  var);
	memcpy(data + vi->offset, s->bytes, s->len);
	return 1;
}

int obj_set_global(struct obj *o, const char *name, const void *bytes, size_t len,
		   struct errmsg *em)
{
	struct set_ctx s = { .name = name, .bytes = bytes, .len = len, .em = em };
	char vars[1500];
	int ret;

	if (o->loaded)
		return errmsg_set(em, -EBUSY, "global data must be set before the program is loaded");
	if (!bpf_object__btf(o->bo))
		return errmsg_set(em, -EOPNOTSUPP,
				  "cannot set global '%s': the object has no BTF (compile it with 'clang -g')",
				  name);
	ret = for_each_global(o, set_one, &s);
	if (ret < 0)
		return ret;
	if (!s.found) {
		obj_globals_list(o, vars, sizeof(vars));
		return errmsg_set(em, -ENOENT,
				  "the object has no global variable '%s'; its global variables are: %s",
				  name, vars);
	}
	return 0;
}

static bool map_is_data(struct bpf_map *m)
{
	return bpf_map__is_internal(m);
}

/* ", "-separated names of the entries of dir, or "none". */
static void list_dir(const char *dir, char *buf, size_t size)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	buf[0] = '\0';
	d = opendir(dir);
	while (d && (de = readdir(d)) && n < size) {
		if (de->d_name[0] == '.')
			continue;
		n += snprintf(buf + n, size - n, "%s%s", n ? ", " : "", de->d_name);
	}
	if (d)
		closedir(d);
	if (n >= size && size > 4)
		strcpy(buf + size - 4, "...");
	if (!buf[0])
		snprintf(buf, size, "none");
}

int obj_reuse_maps(struct obj *o, const char *dir, struct errmsg *em)
{
	struct bpf_map_info info;
	char path[PATH_MAX], names[1024];
	__u32 ilen;
	struct bpf_map *m;
	int fd = -1, err = 0;

	bpf_object__for_each_map(m, o->bo) {
		if (map_is_data(m))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m)) >= (int)sizeof(path))
			return errmsg_set(em, -ENAMETOOLONG, "map pin path for '%s' is too long",
					  bpf_map__name(m));
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			list_dir(dir, names, sizeof(names));
			return errmsg_set(em, err,
					  "the map owner has no map '%s' (looked for %s: %s); its maps are: %s. A program sharing maps must use the owner's map names",
					  bpf_map__name(m), path, strerror(-err), names);
		}
		memset(&info, 0, sizeof(info));
		ilen = sizeof(info);
		err = bpf_obj_get_info_by_fd(fd, &info, &ilen);
		if (err) {
			err = -errno;
			errmsg_set(em, err, "cannot inspect the owner's map %s: %s", path,
				   strerror(-err));
			goto out;
		}
		if (info.type != bpf_map__type(m) || info.key_size != bpf_map__key_size(m) ||
		    info.value_size != bpf_map__value_size(m) ||
		    info.max_entries != bpf_map__max_entries(m)) {
			err = errmsg_set(em, -EINVAL,
					 "map '%s' does not match the owner's map: owner has type %u, key %u, value %u bytes, %u entries; this object has type %u, key %u, value %u bytes, %u entries",
					 bpf_map__name(m), info.type, info.key_size, info.value_size,
					 info.max_entries, bpf_map__type(m), bpf_map__key_size(m),
					 bpf_map__value_size(m), bpf_map__max_entries(m));
			goto out;
		}
		err = bpf_map__reuse_fd(m, fd);
		if (err) {
			errmsg_set(em, err, "cannot reuse the owner's map %s: %s", path,
				   strerror(-err));
			goto out;
		}
		close(fd);
		fd = -1;
	}
	o->maps_reused = true;
out:
	if (fd >= 0)
		close(fd);
	return err;
}

size_t obj_map_count(struct obj *o)
{
	struct bpf_map *m;
	size_t n = 0;

	bpf_object__for_each_map(m, o->bo)
		n += !map_is_data(m);
	return n;
}

/* The last lines of the verifier log that fit in about OBJ_LOG_TAIL bytes. */
static const char *log_tail(const char *log)
{
	size_t n = strlen(log);
	const char *p;

	while (n && (log[n - 1] == '\n' || log[n - 1] == ' '))
		n--;
	if (n <= OBJ_LOG_TAIL)
		return log;
	p = log + n - OBJ_LOG_TAIL;
	while (*p && *p != '\n')
		p++;
	return *p ? p + 1 : log + n - OBJ_LOG_TAIL;
}

int obj_load(struct obj *o, struct errmsg *em)
{
	char *log = NULL;
	const char *tail;
	size_t n;
	int err;

	if (o->loaded)
		return errmsg_set(em, -EBUSY, "the program is already loaded");
	log = calloc(1, OBJ_LOG_SIZE);
	if (!log)
		return -ENOMEM;
	bpf_program__set_log_buf(o->prog, log, OBJ_LOG_SIZE);
	err = bpf_object__load(o->bo);
	bpf_program__set_log_buf(o->prog, NULL, 0);
	if (!err) {
		o->loaded = true;
		goto out;
	}
	if (err == -EPERM) {
		errmsg_set(em, err,
			   "the kernel refused to load %s program '%s' (EPERM): the daemon needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), and this kernel's security policy may forbid this program kind; 'bpfd --probe' shows which kinds this kernel allows",
			   obj_kind_str(o->kind), bpf_program__name(o->prog));
		goto out;
	}
	if (log[0]) {
		tail = log_tail(log);
		n = strlen(tail);
		while (n && tail[n - 1] == '\n')
			n--;
		/* the kernel says EACCES (or EINVAL): the program is what is wrong */
		err = -EINVAL;
		errmsg_set(em, err,
			   "the kernel verifier rejected program '%s'; end of the verifier log:\n%.*s",
			   bpf_program__name(o->prog), (int)n, tail);
		goto out;
	}
	errmsg_set(em, err, "cannot load program '%s' from the object: %s",
		   bpf_program__name(o->prog), strerror(-err));
out:
	free(log);
	return err;
}

int obj_pin_maps(struct obj *o, const char *dir, struct errmsg *em)
{
	char path[PATH_MAX];
	struct bpf_map *m;
	int err = 0;

	if (o->maps_reused)
		return 0;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return errmsg_set(em, -errno, "cannot create map pin directory %s: %s", dir,
				  strerror(errno));
	bpf_object__for_each_map(m, o->bo) {
		if (map_is_data(m))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m)) >= (int)sizeof(path)) {
			err = errmsg_set(em, -ENAMETOOLONG, "map pin path for '%s' is too long",
					 bpf_map__name(m));
			break;
		}
		err = bpf_map__pin(m, path);
		if (err) {
			errmsg_set(em, err, "cannot pin map '%s' at %s: %s", bpf_map__name(m),
				   path, strerror(-err));
			break;
		}
	}
	if (err)
		obj_unpin_maps(o, dir);
	return err;
}

void obj_unpin_maps(struct obj *o, const char *dir)
{
	char path[PATH_MAX];
	struct bpf_map *m;

	if (o->maps_reused)
		return;
	bpf_object__for_each_map(m, o->bo) {
		if (map_is_data(m))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m)) < (int)sizeof(path))
			unlink(path);
	}
	rmdir(dir);
}

const char *obj_func_name(const struct obj *o)
{
	return bpf_program__name(o->prog);
}

const char *obj_section(const struct obj *o)
{
	return bpf_program__section_name(o->prog);
}

const char *obj_section_target(const struct obj *o)
{
	const char *s = strchr(bpf_program__section_name(o->prog), '/');

	return s ? s + 1 : "";
}

enum obj_kind obj_kind(const struct obj *o)
{
	return o->kind;
}

int obj_prog_fd(const struct obj *o)
{
	int fd;

	if (!o->loaded)
		return -EBADF;
	fd = bpf_program__fd(o->prog);
	return fd < 0 ? -EBADF : fd;
}

void obj_close(struct obj *o)
{
	if (!o)
		return;
	bpf_object__close(o->bo);
	free(o->buf);
	free(o);
}

struct bpf_object *obj_bpf_object(struct obj *o)
{
	return o->bo;
}

struct bpf_program *obj_bpf_program(struct obj *o)
{
	return o->prog;
}
