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
#include "core/image/object.h"
#include "core/image/tar.h"

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

int image_object_open(struct image_store *s, const char *digest, const char *function,
		      const char *workdir, struct image_object *ret, struct errmsg *em)
{
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
