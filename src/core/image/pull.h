/* SPDX-License-Identifier: Apache-2.0 */
/* pull.h - pull policies over the local store, cosign checks, one download per image */
#ifndef BPFD_CORE_IMAGE_PULL_H
#define BPFD_CORE_IMAGE_PULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"
#include "core/image/ref.h"
#include "core/image/store.h"

/* BytecodeImage.image_pull_policy's values. */
enum image_pull_policy {
	IMAGE_PULL_ALWAYS = 0,		/* ask the registry every time */
	IMAGE_PULL_IF_NOT_PRESENT = 1,	/* the store's copy if it has one */
	IMAGE_PULL_NEVER = 2,		/* the store's copy or NOT_FOUND */
};

/* "Always", "IfNotPresent", "Never" (any case) -> 0..2; -EINVAL otherwise. */
int image_pull_policy_parse(const char *s);
const char *image_pull_policy_str(int policy);

/* Registry credentials of one request: never stored, logged or sent back. */
struct image_auth {
	bool set;
	char username[257];
	char password[1025];
};

/* Progress of a pull, layer by layer: called when a layer starts (done 0), as
 * its bytes arrive (every 64 KiB or so: the callee throttles what it shows)
 * and when it is complete (done == total); a layer the store had already
 * comes once, cached and complete.  Never with credentials. */
struct image_progress {
	const char *digest;	/* the layer's */
	unsigned int layer;	/* 0-based index of the manifest's layers ... */
	unsigned int n_layers;	/* ... of this many */
	uint64_t done;		/* bytes so far */
	uint64_t total;		/* its size in the manifest */
	bool cached;		/* in the store already: not downloaded */
};
typedef void (*image_progress_fn)(void *arg, const struct image_progress *p);

/* What talks to a registry (the registry client; tests plug in a fake). */
struct image_source_ops {
	/* Fetch ref (by tag or digest) and every blob it uses into s; *ret_digest
	 * is the digest of the manifest or index the registry serves for it.
	 * Network failures: -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH ... with em. */
	int (*pull)(void *ctx, const struct image_ref *ref, const struct image_auth *auth,
		    struct image_store *s, image_progress_fn progress, void *parg,
		    char ret_digest[IMAGE_DIGEST_LEN + 1], struct errmsg *em);
	/* The manifest tagged tag in ref's repository into memory (*ret_data
	 * malloc'ed): -ENOENT when the registry has no such tag. */
	int (*manifest)(void *ctx, const struct image_ref *ref, const char *tag,
			const struct image_auth *auth, char **ret_data, size_t *ret_len,
			struct errmsg *em);
	/* A blob of ref's repository into memory, its sha256 checked; at most max bytes. */
	int (*blob)(void *ctx, const struct image_ref *ref, const char *digest, size_t max,
		    const struct image_auth *auth, char **ret_data, size_t *ret_len,
		    struct errmsg *em);
	/* The pull is over: drop what was kept for it (a session).  May be NULL. */
	void (*end)(void *ctx);
};

struct image_source {
	const struct image_source_ops *ops;
	void *ctx;
};

/* The registry client (registry.h) as an image source: one session per pull,
 * for the image, its signature tag and the signature's blobs.  opts (and what
 * it points to) must outlive src's use; ctx_mem is the source's state. */
struct registry_opts;
struct image_registry_src {
	const struct registry_opts *opts;
	struct registry_session *sess;
};
void image_registry_source(struct image_registry_src *ctx_mem, const struct registry_opts *opts,
			   struct image_source *ret);

/* What image_pull needs: the store, the registry (ops NULL: none in this
 * build, every network pull is UNAVAILABLE) and the [signing] settings. */
struct image_puller {
	struct image_store *store;
	struct image_source src;
	bool verify;			/* [signing] verify_enabled */
	bool allow_unsigned;		/* [signing] allow_unsigned */
	const char *const *keys;	/* [signing] keys: PEM public key files */
	size_t n_keys;
	const char *workdir;		/* where a pulled image is opened to check
					 * it (NULL: STORE/unpack) */
};

/* Make url available in the store under policy: IfNotPresent and Never answer
 * from the store without the network when it has url; Never without it is
 * -ENOENT; Always (and IfNotPresent without it) pulls, and a registry that
 * cannot be reached is -EHOSTUNREACH (UNAVAILABLE) with the reason.  A pulled image
 * is checked (signature per [signing]: unsigned passes with a warning only when
 * allow_unsigned; a bad signature is always -EACCES with the reason) before its
 * reference is set.  One pull of a reference runs at a time (a lock file in
 * the store, across threads and processes); a pull that waited for another
 * uses that one's result when it finished after fresh_after (unix ns).
 * *ret_digest: the digest the reference points at.  *ret_pulled: whether the
 * registry was asked (may be NULL). */
int image_pull(const struct image_puller *p, const char *url, int policy,
	       const struct image_auth *auth, int64_t fresh_after, image_progress_fn progress,
	       void *parg, char ret_digest[IMAGE_DIGEST_LEN + 1], bool *ret_pulled,
	       struct errmsg *em);

/* The time image_pull's fresh_after compares with: CLOCK_REALTIME in ns. */
int64_t image_now_ns(void);

#endif
