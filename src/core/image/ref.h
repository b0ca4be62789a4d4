/* SPDX-License-Identifier: Apache-2.0 */
/* ref.h - image references (host[:port]/repo[:tag][@sha256:HEX]) and digests */
#ifndef BPFD_CORE_IMAGE_REF_H
#define BPFD_CORE_IMAGE_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/base/errmsg.h"

#define IMAGE_REF_MAX		1024	/* whole reference as typed */
#define IMAGE_HOST_MAX		255	/* host[:port] */
#define IMAGE_REPO_MAX		255	/* repository path, as Docker limits it */
#define IMAGE_TAG_MAX		128
#define IMAGE_DIGEST_LEN	71	/* "sha256:" + 64 lowercase hex */
#define IMAGE_DOCKER_HUB	"docker.io"

struct image_ref {
	char host[IMAGE_HOST_MAX + 1];	/* lowercase: "docker.io", "localhost:5000" */
	char repo[IMAGE_REPO_MAX + 1];	/* "library/alpine", "bpfd-bytecode/xdp_pass" */
	char tag[IMAGE_TAG_MAX + 1];	/* "" when only a digest was given */
	char digest[IMAGE_DIGEST_LEN + 1];	/* "" or "sha256:<64 hex>" */
};

/* Is s exactly "sha256:" followed by 64 lowercase hex digits? */
bool image_digest_valid(const char *s);

/* Parse a reference as Docker does: the first path component is a registry
 * host only if it has a '.' or ':' or is "localhost", else the image is on
 * Docker Hub (docker.io; one-component names get "library/"); index.docker.io
 * is docker.io; the tag defaults to "latest" unless a digest is given.  0, or
 * -EINVAL with em saying what is wrong with the reference. */
int image_ref_parse(const char *s, struct image_ref *ret_ref, struct errmsg *em);

/* The canonical form: host/repo:tag, host/repo@digest or host/repo:tag@digest.
 * Parsing it gives the same reference back.  Returns the length, or -ENAMETOOLONG
 * if it does not fit in len (buf is then truncated but terminated). */
int image_ref_format(const struct image_ref *ref, char *buf, size_t len);

/* What a registry is asked for: the digest if there is one, else the tag. */
const char *image_ref_target(const struct image_ref *ref);

/* The host name to connect to: Docker Hub's API lives on registry-1.docker.io. */
const char *image_ref_registry(const struct image_ref *ref);

#endif
