/* SPDX-License-Identifier: Apache-2.0 */
/* image_build.h - build eBPF images straight into an image store for the image tests:
 * layers made by shell commands (tar, gzip, python3 tarfile for hostile ones), a
 * config with the given labels, an OCI manifest; digests computed here (digest.h) */
#ifndef BPFD_TESTS_IMAGE_BUILD_H
#define BPFD_TESTS_IMAGE_BUILD_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "core/image/store.h"

/* Run a shell command (printf-style); exit the test when it fails. */
static inline void ib_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd)) {
		fprintf(stderr, "  command failed: %s\n", cmd);
		exit(1);
	}
}

/* A whole file into memory (NUL-terminated; *ret_len its size). */
static inline char *ib_slurp(const char *path, size_t *ret_len)
{
	struct stat st;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "  cannot read %s\n", path);
		exit(1);
	}
	buf = calloc(1, st.st_size + 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		exit(1);
	close(fd);
	*ret_len = st.st_size;
	return buf;
}

static inline void ib_put(struct image_store *s, const char *data, size_t len,
			  char digest[IMAGE_DIGEST_LEN + 1])
{
	struct errmsg em = { { 0 } };

	digest_of(data, len, digest);
	if (image_store_blob_put(s, digest, data, len, &em)) {
		fprintf(stderr, "  blob_put: %s\n", em.msg);
		exit(1);
	}
}

/* Put an image whose one layer is the file layer (media type mt) and whose
 * config has the labels (a JSON object's members, "" none) into s; its
 * manifest's digest in ret_digest; reference (NULL: none) set to it. */
static inline void ib_image(struct image_store *s, const char *layer, const char *mt,
			    const char *labels, const char *reference,
			    char ret_digest[IMAGE_DIGEST_LEN + 1])
{
	char ld[IMAGE_DIGEST_LEN + 1], cd[IMAGE_DIGEST_LEN + 1], cfg[4096], man[2048];
	struct errmsg em = { { 0 } };
	size_t llen;
	char *l = ib_slurp(layer, &llen);

	ib_put(s, l, llen, ld);
	free(l);
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":{%s}},"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", labels);
	ib_put(s, cfg, strlen(cfg), cd);
	snprintf(man, sizeof(man),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		 "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
		 cd, strlen(cfg), mt, ld, llen);
	ib_put(s, man, strlen(man), ret_digest);
	if (reference && image_store_tag_set(s, reference, ret_digest, &em)) {
		fprintf(stderr, "  tag_set: %s\n", em.msg);
		exit(1);
	}
}

#define IB_GZ	"application/vnd.oci.image.layer.v1.tar+gzip"
#define IB_TAR	"application/vnd.oci.image.layer.v1.tar"
#define IB_LEGACY(type, file, fn)						\
	"\"io.ebpf.program_type\":\"" type "\",\"io.ebpf.filename\":\"" file "\","	\
	"\"io.ebpf.program_name\":\"" fn "\",\"io.ebpf.bpf_function_name\":\"" fn "\""

#endif
