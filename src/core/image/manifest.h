/* SPDX-License-Identifier: Apache-2.0 */
/* manifest.h - OCI/Docker image manifests, indexes and the image config's eBPF labels */
#ifndef BPFD_CORE_IMAGE_MANIFEST_H
#define BPFD_CORE_IMAGE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"
#include "core/image/ref.h"

/* Media types (the registry's Content-Type and the documents' mediaType). */
#define MT_OCI_MANIFEST		"application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX		"application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG		"application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER		"application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP	"application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_DOCKER_MANIFEST	"application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST		"application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG	"application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER		"application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZIP	"application/vnd.docker.image.rootfs.diff.tar.gzip"
/* What a registry client puts in Accept for a manifest. */
#define IMAGE_MANIFEST_ACCEPT	MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " \
				MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST

/* Bounds on what is read from a registry. */
#define IMAGE_MAX_MANIFEST	(4u << 20)	/* manifest or index document */
#define IMAGE_MAX_CONFIG	(4u << 20)	/* image config document */
#define IMAGE_MAX_LAYERS	16
#define IMAGE_MAX_INDEX		256		/* manifests in an index */
#define IMAGE_MAX_LABEL		(64u << 10)	/* one label value */
#define IMAGE_MAX_PROGRAMS	64		/* entries of io.ebpf.programs / maps */
#define IMAGE_MAX_BLOB		(1ull << 40)	/* a descriptor's size, sanity only */

#define IMAGE_MT_MAX		127
#define IMAGE_NAME_MAX		127	/* program, function and map names */
#define IMAGE_TYPE_MAX		31	/* program and map type words */
#define IMAGE_FILENAME_MAX	255

enum image_doc {
	IMAGE_DOC_MANIFEST = 1,
	IMAGE_DOC_INDEX,
};

enum image_layer_kind {
	IMAGE_LAYER_TAR = 1,
	IMAGE_LAYER_GZIP,
};

struct image_desc {
	char media_type[IMAGE_MT_MAX + 1];
	char digest[IMAGE_DIGEST_LEN + 1];
	uint64_t size;
};

struct image_manifest {
	struct image_desc config;
	struct image_desc layers[IMAGE_MAX_LAYERS];
	size_t n_layers;
};

struct image_platform_desc {
	struct image_desc desc;
	char os[32];
	char arch[32];
	char variant[32];
};

struct image_index {
	struct image_platform_desc manifests[IMAGE_MAX_INDEX];
	size_t n_manifests;
};

struct image_label_pair {
	char name[IMAGE_NAME_MAX + 1];
	char type[IMAGE_TYPE_MAX + 1];
};

/* The eBPF labels of an image config.  Either the four legacy labels are all
 * set (has_legacy) or io.ebpf.programs has at least one entry, or both. */
struct image_config {
	bool has_legacy;
	char program_type[IMAGE_TYPE_MAX + 1];		/* io.ebpf.program_type */
	char filename[IMAGE_FILENAME_MAX + 1];		/* io.ebpf.filename, may be "" */
	char program_name[IMAGE_NAME_MAX + 1];		/* io.ebpf.program_name */
	char function_name[IMAGE_NAME_MAX + 1];		/* io.ebpf.bpf_function_name */
	struct image_label_pair programs[IMAGE_MAX_PROGRAMS];	/* function -> type */
	size_t n_programs;
	struct image_label_pair maps[IMAGE_MAX_PROGRAMS];	/* map -> map type */
	size_t n_maps;
	char os[32];
	char arch[32];
};

/* Which document is this: a manifest or an index?  content_type is the
 * registry's Content-Type (parameters after ';' ignored) or NULL; a mediaType
 * in the document must agree with it.  Returns IMAGE_DOC_*, or -EINVAL /
 * -E2BIG with em set (a schema 1 manifest, an unknown type, not JSON). */
int image_doc_kind(const char *data, size_t len, const char *content_type,
		   struct errmsg *em);

/* Parse an image manifest (OCI or Docker schema 2): schemaVersion 2, a config
 * descriptor of a config media type, 1..IMAGE_MAX_LAYERS layers of tar or
 * tar+gzip media types, each with a valid sha256 digest and size.  0 or -EINVAL /
 * -E2BIG / -ENOMEM with em set. */
int image_manifest_parse(const char *data, size_t len, const char *content_type,
			 struct image_manifest *ret, struct errmsg *em);

/* Parse an OCI index or Docker manifest list.  Entries that are not manifests
 * (nested indexes, unknown types) are kept; image_index_pick skips them. */
int image_index_parse(const char *data, size_t len, const char *content_type,
		      struct image_index *ret, struct errmsg *em);

/* Pick the manifest for os "linux" and arch (and variant, which only decides
 * between several entries of that arch; "" for none).  *ret points into idx.
 * -ENOENT with em listing the platforms the index has. */
int image_index_pick(const struct image_index *idx, const char *arch, const char *variant,
		     const struct image_platform_desc **ret, struct errmsg *em);

/* The OCI architecture and variant of a uname machine string (x86_64 -> amd64,
 * aarch64 -> arm64 v8, armv7l -> arm v7 ...).  -ENOENT for unknown machines. */
int image_arch_of(const char *machine, const char **ret_arch, const char **ret_variant);
/* The same for the running kernel (uname). */
int image_arch_host(const char **ret_arch, const char **ret_variant, struct errmsg *em);

/* Parse an image config document and its io.ebpf.* labels (config.Labels). */
int image_config_parse(const char *data, size_t len, struct image_config *ret,
		       struct errmsg *em);

/* The layer's compression from its media type, -EINVAL for other types. */
int image_layer_kind(const char *media_type);

#endif
