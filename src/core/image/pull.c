/* SPDX-License-Identifier: Apache-2.0 */
/* pull.c - pull policies over the store, signature checks, one download per image */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/image/cosign.h"
#include "core/image/object.h"
#include "core/image/pull.h"
#include "core/image/registry.h"

static const char *const policy_names[] = { "Always", "IfNotPresent", "Never" };

int image_pull_policy_parse(const char *s)
{
	int i;

	for (i = 0; i < 3; i++)
		if (!strcasecmp(s, policy_names[i]))
			return i;
	return -EINVAL;
}

const char *image_pull_policy_str(int policy)
{
	return policy >= 0 && policy < 3 ? policy_names[policy] : "Unknown";
}

int64_t image_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* DIR/pulls/<sha256 of the canonical reference>: flock(2) held by the one pull
 * of that reference; it holds "<unix ns> <digest>" of the last pull that ended well. */
static int pull_lock(const struct image_puller *p, const char *canon, struct errmsg *em)
{
	char path[PATH_MAX], dir[PATH_MAX];
	unsigned char sum[32];
	int fd, i, n, err;

	snprintf(dir, sizeof(dir), "%s/pulls", image_store_dir(p->store));
	err = fs_mkdir_p(dir, 0700);
	if (err)
		return errmsg_set(em, err, "cannot create %s: %s", dir, strerror(-err));
	mbedtls_sha256_ret((const unsigned char *)canon, strlen(canon), sum, 0);
	n = snprintf(path, sizeof(path), "%s/", dir);
	for (i = 0; i < 32 && n + 3 < (int)sizeof(path); i++)
		n += snprintf(path + n, sizeof(path) - n, "%02x", sum[i]);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errmsg_set(em, -errno, "cannot open %s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		err = errmsg_set(em, -errno, "cannot lock %s: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

/* The last pull's end time and digest from the lock file; false if none. */
static bool pull_stamp_read(int fd, int64_t *ret_ns, char digest[IMAGE_DIGEST_LEN + 1])
{
	char buf[128];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long long ns;

	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (sscanf(buf, "%lld %71s", &ns, digest) != 2 || !image_digest_valid(digest))
		return false;
	*ret_ns = ns;
	return true;
}

static void pull_stamp_write(int fd, const char *digest)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "%" PRId64 " %s\n", image_now_ns(), digest);

	if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != n)
		log_warn("Failed to note the pull of %s: %s", digest, strerror(errno));
}

struct sig_blob_arg {
	const struct image_puller *p;
	const struct image_ref *ref;
	const struct image_auth *auth;
};

static int sig_blob(void *arg, const char *digest, size_t max, char **ret_data,
		    size_t *ret_len, struct errmsg *em)
{
	struct sig_blob_arg *a = arg;

	return a->p->src.ops->blob(a->p->src.ctx, a->ref, digest, max, a->auth, ret_data,
				   ret_len, em);
}

/* The signature check of a pulled image per [signing]. */
static int verify(const struct image_puller *p, const struct image_ref *ref,
		  const struct image_auth *auth, const char *canon, const char *digest,
		  struct errmsg *em)
{
	struct sig_blob_arg a = { .p = p, .ref = ref, .auth = auth };
	struct cosign_keys *keys = NULL;
	char tag[COSIGN_TAG_LEN + 1], *m = NULL;
	size_t len;
	int err;

	if (!p->verify)
		return 0;
	cosign_sig_tag(digest, tag);
	err = p->src.ops->manifest(p->src.ctx, ref, tag, auth, &m, &len, em);
	if (err == -ENOENT) {
		if (p->allow_unsigned) {
			log_warn("Image %s (%s) is not signed (no %s tag); accepted because [signing] allow_unsigned is true",
				 canon, digest, tag);
			if (em)
				em->msg[0] = '\0';
			return 0;
		}
		return errmsg_reset(em, -EACCES,
				    "image %s is not signed (the registry has no %s tag) and [signing] allow_unsigned is false: sign it with cosign, or allow unsigned images",
				    canon, tag);
	}
	if (err) {
		errmsg_prefix(em, "cannot fetch the signature of %s (tag %s)", canon, tag);
		return err;
	}
	err = cosign_keys_load(p->keys, p->n_keys, &keys, em);
	if (!err)
		err = cosign_verify_manifest(keys, m, len, sig_blob, &a, digest, ref, em);
	if (err)
		errmsg_prefix(em, "refusing image %s: its signature is not valid", canon);
	cosign_keys_free(keys);
	free(m);
	return err;
}

/* Open the pulled image once before its reference is set: a broken image
 * (labels, layers, no object) never becomes an entry of the store. */
static int check_image(const struct image_puller *p, const char *canon, const char *digest,
		       struct errmsg *em)
{
	struct image_object o;
	char work[PATH_MAX];
	int err;

	if (p->workdir)
		snprintf(work, sizeof(work), "%s", p->workdir);
	else
		snprintf(work, sizeof(work), "%s/unpack", image_store_dir(p->store));
	err = image_object_open(p->store, digest, "", work, &o, em);
	/* several programs and no -n: that is for the load to say */
	if (err == -EINVAL && em && strstr(em->msg, "name the function")) {
		em->msg[0] = '\0';
		return 0;
	}
	if (err) {
		errmsg_prefix(em, "image %s is not a usable eBPF bytecode image", canon);
		return err;
	}
	image_object_close(&o);
	return 0;
}

static int network_pull(const struct image_puller *p, const struct image_ref *ref,
			const char *canon, const struct image_auth *auth,
			image_progress_fn progress, void *parg,
			char digest[IMAGE_DIGEST_LEN + 1], struct errmsg *em)
{
	int err;

	if (!p->src.ops)
		return errmsg_set(em, -EAGAIN,
				  "cannot pull %s: this bpfd has no registry client; use an image that is in the local store (pull policy IfNotPresent or Never)",
				  canon);
	err = p->src.ops->pull(p->src.ctx, ref, auth, p->store, progress, parg, digest, em);
	if (err) {
		/* the registry could not be asked: UNAVAILABLE, with the reason */
		if (err == -ECONNREFUSED || err == -ENETUNREACH || err == -ETIMEDOUT ||
		    err == -ECONNRESET || err == -EHOSTDOWN)
			err = -EHOSTUNREACH;
		errmsg_prefix(em, "cannot pull %s", canon);
		return err;
	}
	err = verify(p, ref, auth, canon, digest, em);
	if (!err)
		err = check_image(p, canon, digest, em);
	if (!err)
		err = image_store_tag_set(p->store, canon, digest, em);
	return err;
}

int image_pull(const struct image_puller *p, const char *url, int policy,
	       const struct image_auth *auth, int64_t fresh_after, image_progress_fn progress,
	       void *parg, char ret_digest[IMAGE_DIGEST_LEN + 1], bool *ret_pulled,
	       struct errmsg *em)
{
	char canon[IMAGE_STORE_REF_MAX + 1], digest[IMAGE_DIGEST_LEN + 1];
	struct image_ref ref;
	int64_t stamp;
	int err, fd = -1;

	if (ret_pulled)
		*ret_pulled = false;
	if (policy < IMAGE_PULL_ALWAYS || policy > IMAGE_PULL_NEVER)
		return errmsg_set(em, -EINVAL,
				  "image pull policy %d is not one of 0 (Always), 1 (IfNotPresent), 2 (Never)",
				  policy);
	err = image_ref_parse(url, &ref, em);
	if (err)
		return err;
	if (image_ref_format(&ref, canon, sizeof(canon)) < 0)
		return errmsg_set(em, -ENAMETOOLONG, "image reference %s is too long", url);
	if (policy != IMAGE_PULL_ALWAYS &&
	    !image_store_tag_get(p->store, canon, digest, NULL))
		goto found;
	if (policy == IMAGE_PULL_NEVER)
		return errmsg_set(em, -ENOENT,
				  "image %s is not in the local store and the pull policy is Never: pull it first (bpfctl pull-bytecode -i %s) or use IfNotPresent",
				  canon, canon);
	fd = pull_lock(p, canon, em);
	if (fd < 0)
		return fd;
	/* another pull of it may have ended while this one waited for the lock */
	if (pull_stamp_read(fd, &stamp, digest) && stamp >= fresh_after &&
	    !image_store_tag_get(p->store, canon, digest, NULL))
		goto found;
	if (policy == IMAGE_PULL_IF_NOT_PRESENT &&
	    !image_store_tag_get(p->store, canon, digest, NULL))
		goto found;
	err = network_pull(p, &ref, canon, auth, progress, parg, digest, em);
	if (p->src.ops && p->src.ops->end)
		p->src.ops->end(p->src.ctx);
	if (err)
		goto out;
	pull_stamp_write(fd, digest);
	if (ret_pulled)
		*ret_pulled = true;
	log_info("Pulled image %s: %s", canon, digest);
	goto done;
found:
	(void)image_store_touch(p->store, canon, NULL);
done:
	memcpy(ret_digest, digest, sizeof(digest));
	err = 0;
out:
	if (fd >= 0)
		close(fd);
	return err;
}

/* ---- the registry client as the source ---- */

struct progress_arg {
	image_progress_fn fn;
	void *arg;
};

/* The layers of the registry's progress (the manifest and config blobs are
 * small and not what a user waits for). */
static void reg_progress(void *arg, const struct registry_progress *rp)
{
	struct progress_arg *pa = arg;
	struct image_progress p = {
		.digest = rp->digest, .layer = rp->layer, .n_layers = rp->n_layers,
		.done = rp->done, .total = rp->total, .cached = rp->cached,
	};

	if (rp->phase == REGISTRY_PHASE_LAYER && rp->digest)
		pa->fn(pa->arg, &p);
}

static void reg_auth(const struct image_auth *a, struct registry_auth *ra)
{
	memset(ra, 0, sizeof(*ra));
	if (a && a->set) {
		ra->username = a->username;
		ra->password = a->password;
	}
}

/* The session for ref, opened on first use in a pull. */
static int reg_session(struct image_registry_src *r, const struct image_ref *ref,
		       const struct image_auth *auth, struct errmsg *em)
{
	struct registry_auth ra;

	if (r->sess)
		return 0;
	reg_auth(auth, &ra);
	return registry_open(ref, &ra, r->opts, &r->sess, em);
}

static int reg_pull(void *ctx, const struct image_ref *ref, const struct image_auth *auth,
		    struct image_store *s, image_progress_fn progress, void *parg,
		    char ret_digest[IMAGE_DIGEST_LEN + 1], struct errmsg *em)
{
	struct image_registry_src *r = ctx;
	struct progress_arg pa = { progress, parg };
	int err;

	err = reg_session(r, ref, auth, em);
	if (!err)
		err = registry_session_pull(r->sess, s, progress ? reg_progress : NULL, &pa,
					    ret_digest, em);
	return err;
}

static int reg_manifest(void *ctx, const struct image_ref *ref, const char *tag,
			const struct image_auth *auth, char **ret_data, size_t *ret_len,
			struct errmsg *em)
{
	struct image_registry_src *r = ctx;
	int err;

	err = reg_session(r, ref, auth, em);
	if (!err)
		err = registry_get_manifest(r->sess, tag, ret_data, ret_len, NULL, NULL, em);
	return err;
}

static int reg_blob(void *ctx, const struct image_ref *ref, const char *digest, size_t max,
		    const struct image_auth *auth, char **ret_data, size_t *ret_len,
		    struct errmsg *em)
{
	struct image_registry_src *r = ctx;
	int err;

	err = reg_session(r, ref, auth, em);
	if (!err)
		err = registry_get_blob(r->sess, digest, max, ret_data, ret_len, em);
	return err;
}

static void reg_end(void *ctx)
{
	struct image_registry_src *r = ctx;

	registry_close(r->sess);
	r->sess = NULL;
}

static const struct image_source_ops registry_source_ops = {
	.pull = reg_pull,
	.manifest = reg_manifest,
	.blob = reg_blob,
	.end = reg_end,
};

void image_registry_source(struct image_registry_src *ctx_mem, const struct registry_opts *opts,
			   struct image_source *ret)
{
	ctx_mem->opts = opts;
	ctx_mem->sess = NULL;
	*ret = (struct image_source){ .ops = &registry_source_ops, .ctx = ctx_mem };
}
