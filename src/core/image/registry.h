/* SPDX-License-Identifier: Apache-2.0 */
/* registry.h - OCI distribution v2 client: pull an image's manifest, config and
 * layers into the content store (store.h), over http1.h */
#ifndef BPFD_CORE_IMAGE_REGISTRY_H
#define BPFD_CORE_IMAGE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"
#include "core/config/config.h"
#include "core/image/ref.h"
#include "core/image/store.h"

/*
 * Runs in the unprivileged front (it blocks on the network for up to the
 * timeouts below), never in the executor thread.
 *
 * Errors of every function here, and the gRPC status errmap.c gives them
 * (em always holds the reason, naming the registry and the reference):
 *   -ENOENT        404: no such repository, tag, manifest or blob,
 *                  or an index without linux/<arch>                NOT_FOUND
 *   -ENOKEY        401: credentials needed, or the ones given were
 *                  rejected (by the registry or its token server)  UNAUTHENTICATED
 *   -EACCES        403 / "denied": authenticated but not allowed   PERMISSION_DENIED
 *   -EHOSTUNREACH  the registry cannot be reached, refused the
 *                  connection, timed out (connect or read), its
 *                  certificate is not trusted, or it answered 429
 *                  or 5xx                                          UNAVAILABLE
 *   -EBADMSG       a manifest or blob whose sha256 is not the digest
 *                  asked for or announced                          INTERNAL
 *   -EFBIG         a blob over max_blob_bytes or its descriptor    RESOURCE_EXHAUSTED
 *                  (errmap: -E2BIG/-EFBIG)
 *   -EINVAL        a document of the wrong media type or that does
 *                  not parse, bad credentials syntax               INVALID_ARGUMENT
 *   -EPROTO        the registry broke the protocol                 INTERNAL
 *   -ENOMEM, or the store's errors (-ENOSPC, -EIO ...).
 * Credentials are never logged, stored, or put in em.
 */

/* Credentials for one pull.  All NULL: anonymous, unless the Docker client
 * configuration ($DOCKER_CONFIG/config.json, else $HOME/.docker/config.json,
 * "auths" -> "<registry>" -> "auth") has an entry for the registry. */
struct registry_auth {
	const char *basic;	/* base64("user:password"), as bpfctl -r gives it */
	const char *username;	/* or these two */
	const char *password;
	bool no_docker_config;	/* do not read the Docker client configuration */
};

/* [registry] in bpfd.toml (config.h: struct registry_config) and test knobs. */
struct registry_opts {
	/* host[:port] reached over plain HTTP (as in the reference: "127.0.0.1:5000";
	 * a host without a port matches every port of it).  Credentials are sent
	 * over plain HTTP only to these (a token realm too). */
	const char *const *insecure;
	size_t n_insecure;
	const char *const *ca_files;	/* CAs trusted besides the system bundle */
	size_t n_ca_files;
	bool no_system_ca;		/* tests: trust only ca_files */
	unsigned int connect_timeout_ms;	/* 0: 10000 */
	unsigned int read_timeout_ms;		/* 0: 30000 */
	uint64_t max_blob_bytes;	/* one manifest, config or layer; 0: 256 MiB */
	const char *arch;		/* index entry to pick; NULL: the running machine */
	const char *variant;
};

#define REGISTRY_DEFAULT_MAX_BLOB	(256ull << 20)

enum registry_phase {
	REGISTRY_PHASE_MANIFEST = 1,	/* the manifest (or index, then manifest) */
	REGISTRY_PHASE_CONFIG,
	REGISTRY_PHASE_LAYER,
	REGISTRY_PHASE_DONE,		/* everything is in the store */
};

struct registry_progress {
	enum registry_phase phase;
	const char *digest;	/* the blob */
	unsigned int layer;	/* REGISTRY_PHASE_LAYER: 0-based index ... */
	unsigned int n_layers;	/* ... of this many */
	uint64_t done;		/* bytes of this blob so far */
	uint64_t total;		/* its size from the manifest */
	bool cached;		/* already in the store: not downloaded */
};

/* Called at the start of each blob, every 64 KiB or so of it, and at its
 * end (done == total); never with credentials. */
typedef void (*registry_progress_fn)(void *arg, const struct registry_progress *p);

struct registry_session;

/* Open a session with the registry of ref (no I/O yet: the CA files are
 * loaded and the credentials checked for syntax; the Docker configuration is
 * read).  Tokens obtained are kept in the session for its later requests.
 * auth may be NULL (anonymous/Docker config); opts may be NULL (defaults),
 * else it (and the strings it points to) must outlive the session.  auth is
 * copied.  HTTPS_PROXY/HTTP_PROXY/NO_PROXY are read here. */
int registry_open(const struct image_ref *ref, const struct registry_auth *auth,
		  const struct registry_opts *opts, struct registry_session **ret,
		  struct errmsg *em);
void registry_close(struct registry_session *s);

/* Pull the image ref names (its tag, or its digest) into store: the manifest,
 * or the index and the manifest it has for linux/<arch>, the config and every
 * layer, each checked against its digest while it is written (a blob already
 * in the store is not fetched again).  digest receives what ref resolves to:
 * the index digest for a multi-arch image, else the manifest digest (what a
 * cosign signature names, and what image_store_tag_set() takes).  The
 * reference is NOT entered in the store's index: the caller does that with
 * image_store_tag_set() once it accepts the image (signature checked). */
int registry_session_pull(struct registry_session *s, struct image_store *store,
			  registry_progress_fn cb, void *arg,
			  char digest[IMAGE_DIGEST_LEN + 1], struct errmsg *em);

/* The same in one call: open, pull, close. */
int registry_pull(const struct image_ref *ref, const struct registry_auth *auth,
		  const struct registry_opts *opts, struct image_store *store,
		  registry_progress_fn cb, void *arg, char digest[IMAGE_DIGEST_LEN + 1],
		  struct errmsg *em);

/* GET the manifest (or index) target (a tag such as "sha256-<hex>.sig" or a
 * "sha256:..." digest) of the session's repository, with the OCI and Docker
 * types in Accept.  *ret_data (NUL-terminated, caller frees) holds at most
 * IMAGE_MAX_MANIFEST bytes; ret_media_type (IMAGE_MT_MAX + 1 bytes, may be
 * NULL) the Content-Type; ret_digest (may be NULL) the sha256 of the bytes,
 * checked against target when it is a digest and against
 * Docker-Content-Digest when the registry sends one.  Nothing is stored.
 * A missing tag is -ENOENT (cosign: "unsigned"). */
int registry_get_manifest(struct registry_session *s, const char *target, char **ret_data,
			  size_t *ret_len, char *ret_media_type,
			  char ret_digest[IMAGE_DIGEST_LEN + 1], struct errmsg *em);

/* GET a blob of the session's repository into memory: at most max bytes
 * (-EFBIG beyond), its sha256 checked against digest (-EBADMSG).  The
 * caller frees *ret_data (NUL-terminated).  Nothing is stored. */
int registry_get_blob(struct registry_session *s, const char *digest, size_t max,
		      char **ret_data, size_t *ret_len, struct errmsg *em);

/* registry_opts for the [registry] table of the configuration; the string
 * arrays point into rc and ptrs, which must outlive opts. */
struct registry_opts_ptrs {
	const char *insecure[REGISTRY_MAX_LIST];
	const char *ca_files[REGISTRY_MAX_LIST];
};
void registry_opts_from_config(const struct registry_config *rc, struct registry_opts *opts,
			       struct registry_opts_ptrs *ptrs);

/* Does the insecure list name this registry host[:port]? */
bool registry_is_insecure(const struct registry_opts *opts, const char *hostport);

#endif
