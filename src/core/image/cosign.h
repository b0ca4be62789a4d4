/* SPDX-License-Identifier: Apache-2.0 */
/* cosign.h - cosign key-based image signatures, verified offline (mbedtls) */
#ifndef BPFD_CORE_IMAGE_COSIGN_H
#define BPFD_CORE_IMAGE_COSIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/base/errmsg.h"
#include "core/image/ref.h"

/* cosign's format (tooling.md §3.2): the tag sha256-<hex>.sig in the image's
 * repository holds an OCI manifest; each layer of media type
 * COSIGN_MT_PAYLOAD is a "simple signing" JSON payload whose ECDSA P-256
 * signature over SHA-256(payload), DER, standard base64, is the layer's
 * annotation COSIGN_ANNOTATION. */
#define COSIGN_MT_PAYLOAD	"application/vnd.dev.cosign.simplesigning.v1+json"
#define COSIGN_ANNOTATION	"dev.cosignproject.cosign/signature"
#define COSIGN_TYPE		"cosign container image signature"
#define COSIGN_TAG_LEN		(6 + 1 + 64 + 4)	/* sha256-<hex>.sig */
#define COSIGN_MAX_KEYS		16
#define COSIGN_MAX_PAYLOAD	(64u << 10)
#define COSIGN_MAX_SIGS		32		/* layers of a signature manifest */

struct cosign_keys;

/* Load the PEM public keys (SubjectPublicKeyInfo, as cosign.pub) named by paths.
 * -EINVAL / -ENOENT ... with em naming the file. */
int cosign_keys_load(const char *const *paths, size_t n, struct cosign_keys **ret,
		     struct errmsg *em);
/* The same from PEM text in memory (tests). */
int cosign_keys_add_pem(struct cosign_keys **keys, const char *pem, const char *name,
			struct errmsg *em);
void cosign_keys_free(struct cosign_keys *k);
size_t cosign_keys_count(const struct cosign_keys *k);

/* The signature tag of manifest digest ("sha256:<hex>" -> "sha256-<hex>.sig"). */
int cosign_sig_tag(const char *digest, char buf[COSIGN_TAG_LEN + 1]);

/* Verify one signature: sig_b64 over payload with one of keys, then the payload
 * itself: critical.type, critical.image.docker-manifest-digest == digest, and
 * critical.identity.docker-reference == the repository of ref (host/repo, with
 * Docker Hub's spellings accepted).  0, or -EACCES with em saying which check
 * failed (bad base64, no key matches, payload for another digest or image). */
int cosign_verify_payload(const struct cosign_keys *keys, const void *payload, size_t len,
			  const char *sig_b64, const char *digest,
			  const struct image_ref *ref, struct errmsg *em);

/* The payload's checks alone (after its signature verified): 0 or -EACCES. */
int cosign_payload_check(const void *payload, size_t len, const char *digest,
			 const struct image_ref *ref, struct errmsg *em);

/* Fetch a blob of the signature manifest (the payload), checked against its
 * digest by the callee: 0 with *ret_data (malloc'ed) and *ret_len, or -errno. */
typedef int (*cosign_blob_fn)(void *arg, const char *digest, size_t max, char **ret_data,
			      size_t *ret_len, struct errmsg *em);

/* Verify a signature manifest (the sha256-<hex>.sig tag's document): any one
 * payload layer that verifies is enough.  -EACCES with em giving the reason of
 * the first layer that failed (or that the manifest has no signature layer);
 * -EINVAL for a manifest that is not a signature manifest. */
int cosign_verify_manifest(const struct cosign_keys *keys, const char *manifest,
			   size_t len, cosign_blob_fn blob, void *arg, const char *digest,
			   const struct image_ref *ref, struct errmsg *em);

#endif
