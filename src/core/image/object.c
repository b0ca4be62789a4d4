/* SPDX-License-Identifier: Apache-2.0 */
/* object.c - open a stored image: manifest, config labels, layers, the ELF object */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/image/object.h"
#include "core/image/tar.h"

/* The extracted layers of a platform manifest are kept in <workdir>/m-<its hex>
 * for the daemon's life: a manifest's digest fixes its config and layers, so an
 * entry is never out of date, only unused (image_object_trim()).  Its file
 * CACHE_META holds the object's sha256 as extracted and its path in the entry;
 * each use checks the object against that sum. */
#define CACHE_PREFIX	"m-"
#define CACHE_META	"object"

/* The platform manifest of digest: itself, or the index's entry for this host. */
static int open_manifest(struct image_store *s, const char *digest, struct image_manifest *m,
			 struct image_object *o, struct errmsg *em)
{
	const struct image_platform_desc *pick;
	const char *arch, *variant;
	struct image_index *idx = NULL;
	char *data = NULL;
	size_t len;
	int err, kind;

	err = image_store_blob_read(s, digest, IMAGE_MAX_MANIFEST, &data, &len, em);
	if (err)
		return err;
	o->size += len;
	kind = image_doc_kind(data, len, NULL, em);
	if (kind < 0) {
		err = kind;
		goto out;
	}
	if (kind == IMAGE_DOC_INDEX) {
		idx = malloc(sizeof(*idx));
		err = idx ? image_index_parse(data, len, NULL, idx, em) :
			    errmsg_set(em, -ENOMEM, "out of memory");
		if (!err)
			err = image_arch_host(&arch, &variant, em);
		if (!err)
			err = image_index_pick(idx, arch, variant, &pick, em);
		if (err)
			goto out;
		snprintf(o->manifest, sizeof(o->manifest), "%s", pick->desc.digest);
		free(data);
		data = NULL;
		err = image_store_blob_read(s, o->manifest, IMAGE_MAX_MANIFEST, &data, &len, em);
		if (err)
			goto out;
		o->size += len;
	} else {
		snprintf(o->manifest, sizeof(o->manifest), "%s", digest);
	}
	err = image_manifest_parse(data, len, NULL, m, em);
out:
	free(idx);
	free(data);
	return err;
}

/* Extract layer i (its blob checked again on the way) into dir/l<i>. */
static int extract_layer(struct image_store *s, const struct image_desc *d, size_t i,
			 const char *dir, struct image_object *o, struct errmsg *em)
{
	char dest[PATH_MAX];
	uint64_t size;
	int fd, err;

	fd = image_store_blob_open(s, d->digest, &size, em);
	if (fd < 0)
		return fd;
	o->size += size;
	snprintf(dest, sizeof(dest), "%s/l%zu", dir, i);
	err = image_tar_extract(fd, dest, NULL, NULL, em);
	close(fd);
	if (err)
		errmsg_prefix(em, "layer %zu (%.19s...)", i, d->digest);
	return err;
}

static bool is_regular(const char *path)
{
	struct stat st;

	return !lstat(path, &st) && S_ISREG(st.st_mode);
}

/* The one *.o file at the top of the layers (the last layer's wins), or the
 * little-endian object of a cilium/ebpf build (bpf_bpfel.o) when there are several. */
static int find_object(const char *dir, size_t n_layers, struct image_object *o,
		       struct errmsg *em)
{
	char found[512] = "", sub[PATH_MAX - 8];
	struct dirent *de;
	size_t i, n = 0, len;
	DIR *d;

	for (i = n_layers; i-- > 0;) {
		snprintf(sub, sizeof(sub), "%s/l%zu", dir, i);
		d = opendir(sub);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			len = strlen(de->d_name);
			if (len < 3 || strcmp(de->d_name + len - 2, ".o"))
				continue;
			snprintf(sub, sizeof(sub), "%.1024s/l%zu/%.255s", dir, i, de->d_name);
			if (!is_regular(sub))
				continue;
			if (!n || strstr(de->d_name, "bpfel"))
				snprintf(o->path, sizeof(o->path), "%s", sub);
			snprintf(found + strlen(found), sizeof(found) - strlen(found), "%s%s",
				 n ? ", " : "", de->d_name);
			n++;
		}
		closedir(d);
	}
	if (n == 1 || (n > 1 && strstr(o->path, "bpfel")))
		return 0;
	if (!n)
		return errmsg_set(em, -ENOENT,
				  "the image has no io.ebpf.filename label and its layers hold no *.o file at the top");
	return errmsg_set(em, -EINVAL,
			  "the image has no io.ebpf.filename label and several objects (%s): label the image with io.ebpf.filename",
			  found);
}

static int find_file(const char *dir, size_t n_layers, const char *name,
		     struct image_object *o, struct errmsg *em)
{
	size_t i;

	for (i = n_layers; i-- > 0;) {
		snprintf(o->path, sizeof(o->path), "%s/l%zu/%s", dir, i, name);
		if (is_regular(o->path))
			return 0;
	}
	o->path[0] = '\0';
	return errmsg_set(em, -ENOENT,
			  "the image's layers hold no file %s, which its io.ebpf.filename label names",
			  name);
}

/* The function and its type by the labels. */
static int pick_function(const struct image_config *c, const char *want,
			 struct image_object *o, struct errmsg *em)
{
	char names[512] = "";
	size_t i;

	if (!want[0]) {
		if (c->has_legacy)
			want = c->function_name;
		else if (c->n_programs == 1)
			want = c->programs[0].name;
	}
	for (i = 0; i < c->n_programs; i++) {
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 i ? ", " : "", c->programs[i].name);
		if (want[0] && !strcmp(c->programs[i].name, want)) {
			snprintf(o->function, sizeof(o->function), "%s", want);
			snprintf(o->program_type, sizeof(o->program_type), "%s",
				 c->programs[i].type);
			return 0;
		}
	}
	if (!want[0])
		return errmsg_set(em, -EINVAL,
				  "the image holds several programs (%s): name the function to load (-n)",
				  names);
	if (c->has_legacy && !strcmp(c->function_name, want)) {
		snprintf(o->program_type, sizeof(o->program_type), "%s", c->program_type);
	} else if (c->n_programs) {
		return errmsg_set(em, -ESRCH,
				  "function %s is not in the image: its io.ebpf.programs label lists %s",
				  want, names);
	} else if (c->has_legacy) {
		/* the legacy labels name one function; another is the user's call */
		snprintf(o->program_type, sizeof(o->program_type), "%s", c->program_type);
	}
	snprintf(o->function, sizeof(o->function), "%s", want);
	return 0;
}

/* The entry of manifest under workdir; false when its path is too long to keep one. */
static bool cache_dir(const char *workdir, const char *manifest, char *out, size_t len)
{
	const char *hex = strchr(manifest, ':');

	return snprintf(out, len, "%s/" CACHE_PREFIX "%s", workdir, hex ? hex + 1 : manifest) <
	       (int)len - 64;	/* and room for the object's path in it */
}

/* The sha256 of the regular file path. */
static int file_digest(const char *path, char out[IMAGE_DIGEST_LEN + 1])
{
	struct stat st;
	int fd, err;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = fstat(fd, &st) ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
	if (!err)
		err = image_sha256_fd(fd, out);
	close(fd);
	return err;
}

/* The object of the entry dir, checked: 0 with o->path set, -ENOENT when there is no
 * entry; an entry that does not check out is dropped (-ENOENT: extract again). */
static int cache_find(const char *dir, struct image_object *o)
{
	char meta[PATH_MAX], want[IMAGE_DIGEST_LEN + 1], got[IMAGE_DIGEST_LEN + 1];
	char *text = NULL, *rel;
	size_t len;
	int err;

	if (snprintf(meta, sizeof(meta), "%s/" CACHE_META, dir) >= (int)sizeof(meta))
		return -ENOENT;		/* too long to keep: cache_add() did not */
	err = fs_read_file(meta, PATH_MAX, &text, &len, NULL);
	if (err == -ENOENT && access(dir, F_OK))
		return -ENOENT;
	/* "sha256:<hex> l<i>/<name>\n", as cache_add() wrote it */
	rel = !err ? strchr(text, ' ') : NULL;
	if (rel && rel - text == IMAGE_DIGEST_LEN && rel[1] == 'l' && !strstr(rel, "/..") &&
	    strlen(rel) > 2 && rel[strlen(rel) - 1] == '\n') {
		memcpy(want, text, IMAGE_DIGEST_LEN);
		want[IMAGE_DIGEST_LEN] = '\0';
		rel[strlen(rel) - 1] = '\0';
		err = snprintf(o->path, sizeof(o->path), "%s/%s", dir, rel + 1) <
		      (int)sizeof(o->path) ? file_digest(o->path, got) : -ENAMETOOLONG;
		if (!err && !strcmp(got, want)) {
			free(text);
			return 0;
		}
	}
	log_warn("Image object cache %s does not check out: extracting the image again", dir);
	o->path[0] = '\0';
	free(text);
	(void)fs_rmtree(dir);
	return -ENOENT;
}

/* Keep o's extraction as the entry dir: o then names the object there and has no
 * folder of its own to remove.  Failing that, o stays as it was. */
static void cache_add(const char *dir, struct image_object *o)
{
	char sum[IMAGE_DIGEST_LEN + 1], meta[PATH_MAX], path[PATH_MAX];
	size_t n = strlen(o->dir);
	FILE *f;

	if (strncmp(o->path, o->dir, n) || o->path[n] != '/' ||
	    snprintf(path, sizeof(path), "%s%s", dir, o->path + n) >= (int)sizeof(path) ||
	    snprintf(meta, sizeof(meta), "%s/" CACHE_META, o->dir) >= (int)sizeof(meta) ||
	    file_digest(o->path, sum))
		return;
	f = fopen(meta, "wxe");
	if (!f)
		return;
	fprintf(f, "%s %s\n", sum, o->path + n + 1);
	if (fclose(f) || rename(o->dir, dir)) {
		(void)unlink(meta);
		return;
	}
	memcpy(o->path, path, sizeof(o->path));
	o->dir[0] = '\0';
}

void image_object_trim(struct image_store *s, const char *workdir)
{
	char digest[IMAGE_DIGEST_LEN + 1], dir[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(workdir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, CACHE_PREFIX, strlen(CACHE_PREFIX)) ||
		    strlen(de->d_name) != strlen(CACHE_PREFIX) + 64)
			continue;
		snprintf(digest, sizeof(digest), "sha256:%s", de->d_name + strlen(CACHE_PREFIX));
		if (image_store_blob_has(s, digest))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", workdir, de->d_name);
		(void)fs_rmtree(dir);
	}
	closedir(d);
}

int image_object_open(struct image_store *s, const char *digest, const char *function,
		      const char *workdir, struct image_object *ret, struct errmsg *em)
{
	char cache[PATH_MAX];
	bool keep;
	struct image_manifest *m = malloc(sizeof(*m));
	struct image_config *c = malloc(sizeof(*c));
	char *data = NULL;
	size_t len, i;
	int err;

	memset(ret, 0, sizeof(*ret));
	if (!m || !c) {
		err = errmsg_set(em, -ENOMEM, "out of memory");
		goto out;
	}
	err = open_manifest(s, digest, m, ret, em);
	if (err)
		goto out;
	err = image_store_blob_read(s, m->config.digest, IMAGE_MAX_CONFIG, &data, &len, em);
	if (err)
		goto out;
	ret->size += len;
	err = image_config_parse(data, len, c, em);
	if (!err)
		err = pick_function(c, function, ret, em);
	if (err)
		goto out;
	keep = cache_dir(workdir, ret->manifest, cache, sizeof(cache));
	if (keep && !cache_find(cache, ret)) {
		for (i = 0; i < m->n_layers; i++)
			ret->size += m->layers[i].size;
		goto out;
	}
	err = fs_mkdir_p(workdir, 0700);
	if (err) {
		err = errmsg_set(em, err, "cannot create %s: %s", workdir, strerror(-err));
		goto out;
	}
	snprintf(ret->dir, sizeof(ret->dir), "%s/obj-XXXXXX", workdir);
	if (!mkdtemp(ret->dir)) {
		err = errmsg_set(em, -errno, "cannot create a folder in %s: %s", workdir,
				 strerror(errno));
		ret->dir[0] = '\0';
		goto out;
	}
	for (i = 0; i < m->n_layers && !err; i++)
		err = extract_layer(s, &m->layers[i], i, ret->dir, ret, em);
	if (!err)
		err = c->has_legacy && c->filename[0] ?
		      find_file(ret->dir, m->n_layers, c->filename, ret, em) :
		      find_object(ret->dir, m->n_layers, ret, em);
	if (!err && keep)
		cache_add(cache, ret);
out:
	if (err)
		image_object_close(ret);
	free(data);
	free(m);
	free(c);
	return err;
}

void image_object_close(struct image_object *o)
{
	if (o->dir[0])
		(void)fs_rmtree(o->dir);
	o->dir[0] = '\0';
	o->path[0] = '\0';
}

bool image_type_allows(const char *type, const char *kind)
{
	static const struct {
		const char *type;
		const char *kinds;	/* space-separated, with spaces around */
	} map[] = {
		{ "xdp", " xdp " },
		/* SCHED_CLS programs: the TC dispatcher and TCX take the same ones */
		{ "tc", " tc tcx " },
		{ "tcx", " tcx tc " },
		{ "classifier", " tc tcx " },
		{ "tracepoint", " tracepoint " },
		{ "kprobe", " kprobe kretprobe " },
		{ "kretprobe", " kretprobe kprobe " },
		{ "uprobe", " uprobe uretprobe " },
		{ "uretprobe", " uretprobe uprobe " },
		/* the original's name for both probes */
		{ "probe", " kprobe kretprobe uprobe uretprobe " },
		{ "fentry", " fentry " },
		{ "fexit", " fexit " },
	};
	char k[40];
	size_t i;

	if (!type[0])
		return true;
	snprintf(k, sizeof(k), " %s ", kind);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].type, type))
			return strstr(map[i].kinds, k) != NULL;
	return false;
}
