/* SPDX-License-Identifier: Apache-2.0 */
/* test_image_pull.c - pull policies against a fake registry (a second store):
 * IfNotPresent and Never from the store with the registry down, Never without the
 * image NOT_FOUND, Always with the registry down UNAVAILABLE with the reason;
 * concurrent pulls download once; signatures per [signing] (good, missing allowed
 * and refused, wrong key, another digest), a refused or broken image never gets
 * a reference in the store. */
#include <errno.h>
#include <limits.h>
#include <sys/wait.h>

#include "harness.h"
#include "image_build.h"
#include "core/image/cosign.h"
#include "core/image/manifest.h"
#include "core/image/pull.h"

#define REF	"127.0.0.1:5000/bpf/prog:v1"
#define REPO	"127.0.0.1:5000/bpf/prog"

static char tmp[64];

struct fake {
	struct image_store *remote;
	char count[192];	/* one byte appended per pull */
	bool down;
	unsigned delay_ms;	/* each pull takes this long */
	char *sig_manifest;	/* the sha256-<hex>.sig tag's document, NULL none */
	char *payload;
	char payload_digest[IMAGE_DIGEST_LEN + 1];
};

static int copy_blob(struct fake *f, struct image_store *s, const char *d, struct errmsg *em)
{
	char *data;
	size_t len;
	int err;

	err = image_store_blob_read(f->remote, d, 1 << 26, &data, &len, em);
	if (!err)
		err = image_store_blob_put(s, d, data, len, em);
	free(data);
	return err;
}

static int fake_pull(void *ctx, const struct image_ref *ref, const struct image_auth *auth,
		     struct image_store *s, image_progress_fn progress, void *parg,
		     char ret_digest[IMAGE_DIGEST_LEN + 1], struct errmsg *em)
{
	struct fake *f = ctx;
	struct image_manifest m;
	char canon[600], *data;
	size_t len, i;
	int err, fd;

	(void)auth, (void)progress, (void)parg;
	if (f->down)
		return errmsg_set(em, -ECONNREFUSED, "connecting to %s: Connection refused",
				  ref->host);
	fd = open(f->count, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1)
		exit(1);
	close(fd);
	usleep(f->delay_ms * 1000);
	image_ref_format(ref, canon, sizeof(canon));
	err = image_store_tag_get(f->remote, canon, ret_digest, NULL);
	if (err)
		return errmsg_set(em, -ENOENT, "manifest unknown: %s", canon);
	err = image_store_blob_read(f->remote, ret_digest, 1 << 20, &data, &len, em);
	if (!err)
		err = image_manifest_parse(data, len, NULL, &m, em);
	free(data);
	for (i = 0; !err && i < m.n_layers; i++)
		err = copy_blob(f, s, m.layers[i].digest, em);
	if (!err)
		err = copy_blob(f, s, m.config.digest, em);
	if (!err)
		err = copy_blob(f, s, ret_digest, em);
	return err;
}

static int fake_manifest(void *ctx, const struct image_ref *ref, const char *tag,
			 const struct image_auth *auth, char **ret, size_t *ret_len,
			 struct errmsg *em)
{
	struct fake *f = ctx;

	(void)ref, (void)auth;
	if (f->down)
		return errmsg_set(em, -ECONNREFUSED, "Connection refused");
	if (!f->sig_manifest || strncmp(tag, "sha256-", 7))
		return errmsg_set(em, -ENOENT, "manifest unknown: %s", tag);
	*ret = strdup(f->sig_manifest);
	*ret_len = strlen(*ret);
	return 0;
}

static int fake_blob(void *ctx, const struct image_ref *ref, const char *digest, size_t max,
		     const struct image_auth *auth, char **ret, size_t *ret_len,
		     struct errmsg *em)
{
	struct fake *f = ctx;

	(void)ref, (void)auth, (void)max;
	if (!f->payload || strcmp(digest, f->payload_digest))
		return errmsg_set(em, -ENOENT, "blob unknown");
	*ret = strdup(f->payload);
	*ret_len = strlen(*ret);
	return 0;
}

static const struct image_source_ops fake_ops = {
	.pull = fake_pull, .manifest = fake_manifest, .blob = fake_blob,
};

static struct fake fk;
static struct image_puller pl;
static const char *keys[1];
static char key_path[128], remote_digest[IMAGE_DIGEST_LEN + 1];

static void cleanup(void)
{
	image_store_close(pl.store);
	image_store_close(fk.remote);
	ib_sh("rm -rf '%s'", tmp);
}

static int pulls(void)
{
	struct stat st;

	return stat(fk.count, &st) ? 0 : (int)st.st_size;
}

/* A remote with REF (a legacy-labelled xdp image), an empty local store. */
static void setup(const char *labels)
{
	struct errmsg em = { { 0 } };
	char dir[128];

	snprintf(tmp, sizeof(tmp), "/tmp/bpfd-test-pull-XXXXXX");
	if (!mkdtemp(tmp))
		exit(1);
	atexit(cleanup);
	snprintf(dir, sizeof(dir), "%s/remote", tmp);
	if (!ASSERT_OK(image_store_open(dir, &fk.remote, &em), em.msg))
		exit(1);
	snprintf(dir, sizeof(dir), "%s/local", tmp);
	if (!ASSERT_OK(image_store_open(dir, &pl.store, &em), em.msg))
		exit(1);
	snprintf(fk.count, sizeof(fk.count), "%s/pulls", tmp);
	ib_sh("mkdir %s/src && printf '\\177ELF' >%s/src/prog.o && tar -czf %s/l.tgz -C %s/src prog.o",
	      tmp, tmp, tmp, tmp);
	snprintf(dir, sizeof(dir), "%s/l.tgz", tmp);
	ib_image(fk.remote, dir, IB_GZ, labels ? labels : IB_LEGACY("xdp", "prog.o", "xdp_pass"),
		 REF, remote_digest);
	pl.src = (struct image_source){ .ops = &fake_ops, .ctx = &fk };
	pl.verify = true;
	pl.allow_unsigned = true;
}

static int pull(int policy, char digest[IMAGE_DIGEST_LEN + 1], bool *pulled,
		struct errmsg *em)
{
	return image_pull(&pl, REF, policy, NULL, image_now_ns(), NULL, NULL, digest, pulled, em);
}

static bool stored(void)
{
	char d[IMAGE_DIGEST_LEN + 1];

	return !image_store_tag_get(pl.store, REF, d, NULL);
}

static void never_missing(void)
{
	char d[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };

	setup(NULL);
	ASSERT_EQ(pull(IMAGE_PULL_NEVER, d, NULL, &em), -ENOENT, "NOT_FOUND");
	ASSERT_STRSTR(em.msg, "pull policy is Never", "reason");
	ASSERT_EQ(pulls(), 0, "registry not asked");
}

static void if_not_present_offline(void)
{
	char d[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };
	bool pulled;

	setup(NULL);
	if (!ASSERT_OK(pull(IMAGE_PULL_IF_NOT_PRESENT, d, &pulled, &em), em.msg))
		return;
	ASSERT_TRUE(pulled, "first pull asks the registry");
	ASSERT_STREQ(d, remote_digest, "digest");
	fk.down = true;
	ASSERT_OK(pull(IMAGE_PULL_IF_NOT_PRESENT, d, &pulled, &em), em.msg);
	ASSERT_FALSE(pulled, "from the store");
	ASSERT_OK(pull(IMAGE_PULL_NEVER, d, &pulled, &em), em.msg);
	ASSERT_FALSE(pulled, "Never from the store");
	ASSERT_STREQ(d, remote_digest, "digest");
	ASSERT_EQ(pulls(), 1, "one download");
}

static void always_down(void)
{
	char d[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };

	setup(NULL);
	ASSERT_OK(pull(IMAGE_PULL_ALWAYS, d, NULL, &em), em.msg);
	ASSERT_OK(pull(IMAGE_PULL_ALWAYS, d, NULL, &em), em.msg);
	ASSERT_EQ(pulls(), 2, "Always asks every time");
	fk.down = true;
	ASSERT_EQ(pull(IMAGE_PULL_ALWAYS, d, NULL, &em), -EHOSTUNREACH, "UNAVAILABLE");
	ASSERT_STRSTR(em.msg, "Connection refused", "the reason");
	ASSERT_STRSTR(em.msg, "cannot pull " REF, "which image");
}

static void no_registry_client(void)
{
	char d[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };

	setup(NULL);
	pl.src.ops = NULL;
	ASSERT_EQ(pull(IMAGE_PULL_IF_NOT_PRESENT, d, NULL, &em), -EAGAIN, "UNAVAILABLE");
	ASSERT_STRSTR(em.msg, "no registry client", "reason");
}

/* Four processes pull at once: one download; with Always too, since all asked
 * before the one pull ended. */
static void concurrent(int policy)
{
	char d[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };
	int64_t start;
	int i, status, bad = 0;

	setup(NULL);
	fk.delay_ms = 300;
	start = image_now_ns();
	for (i = 0; i < 4; i++) {
		if (fork() == 0) {
			struct image_puller p = pl;
			char dir[128];

			snprintf(dir, sizeof(dir), "%s/local", tmp);
			if (image_store_open(dir, &p.store, &em))
				_exit(2);
			_exit(image_pull(&p, REF, policy, NULL, start, NULL, NULL, d, NULL, &em) ||
			      strcmp(d, remote_digest));
		}
	}
	for (i = 0; i < 4; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	ASSERT_EQ(bad, 0, "every pull succeeded");
	ASSERT_EQ(pulls(), 1, "downloaded once");
}

static void concurrent_if_not_present(void)
{
	concurrent(IMAGE_PULL_IF_NOT_PRESENT);
}

static void concurrent_always(void)
{
	concurrent(IMAGE_PULL_ALWAYS);
}

static void policy_names(void)
{
	ASSERT_EQ(image_pull_policy_parse("Always"), 0, "Always");
	ASSERT_EQ(image_pull_policy_parse("ifnotpresent"), 1, "IfNotPresent");
	ASSERT_EQ(image_pull_policy_parse("Never"), 2, "Never");
	ASSERT_EQ(image_pull_policy_parse("Sometimes"), -EINVAL, "bad");
	ASSERT_STREQ(image_pull_policy_str(1), "IfNotPresent", "name");
}

/* ---- signatures ---- */

static void sign(const char *repo, const char *digest, const char *key)
{
	char path[128], m[4096], *sig;
	size_t len;

	ib_sh("cd %s && openssl ecparam -name prime256v1 -genkey -noout -out ec.pem 2>/dev/null && "
	      "openssl ec -in ec.pem -pubout -out cosign.pub 2>/dev/null && "
	      "openssl ecparam -name prime256v1 -genkey -noout -out other.pem 2>/dev/null", tmp);
	ib_sh("cd %s && printf '%%s' '{\"critical\":{\"identity\":{\"docker-reference\":\"%s\"},"
	      "\"image\":{\"docker-manifest-digest\":\"%s\"},\"type\":\"cosign container image signature\"},"
	      "\"optional\":null}' >payload.json && "
	      "openssl dgst -sha256 -sign %s -out sig.der payload.json && base64 -w0 sig.der >sig.b64",
	      tmp, repo, digest, key);
	snprintf(path, sizeof(path), "%s/payload.json", tmp);
	fk.payload = ib_slurp(path, &len);
	digest_of(fk.payload, len, fk.payload_digest);
	snprintf(path, sizeof(path), "%s/sig.b64", tmp);
	sig = ib_slurp(path, &len);
	snprintf(m, sizeof(m),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,\"digest\":\"%s\"},"
		 "\"layers\":[{\"mediaType\":\"" COSIGN_MT_PAYLOAD "\",\"size\":%zu,\"digest\":\"%s\","
		 "\"annotations\":{\"" COSIGN_ANNOTATION "\":\"%s\"}}]}",
		 fk.payload_digest, strlen(fk.payload), fk.payload_digest, sig);
	free(sig);
	fk.sig_manifest = strdup(m);
	snprintf(key_path, sizeof(key_path), "%s/cosign.pub", tmp);
	keys[0] = key_path;
	pl.keys = keys;
	pl.n_keys = 1;
}

static void signed_good(void)
{
	char d[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };

	setup(NULL);
	sign(REPO, remote_digest, "ec.pem");
	pl.allow_unsigned = false;
	ASSERT_OK(pull(IMAGE_PULL_ALWAYS, d, NULL, &em), em.msg);
	ASSERT_TRUE(stored(), "stored");
}

static void unsigned_allowed(void)
{
	char d[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };

	setup(NULL);
	ASSERT_OK(pull(IMAGE_PULL_ALWAYS, d, NULL, &em), em.msg);
	ASSERT_TRUE(stored(), "stored");
	ASSERT_STREQ(em.msg, "", "no error left behind");
}

static void unsigned_refused(void)
{
	char d[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };

	setup(NULL);
	pl.allow_unsigned = false;
	ASSERT_EQ(pull(IMAGE_PULL_ALWAYS, d, NULL, &em), -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "is not signed", "reason");
	ASSERT_STRSTR(em.msg, "allow_unsigned is false", "which setting");
	ASSERT_FALSE(stored(), "no reference stored");
}

static void signed_wrong_key(void)
{
	char d[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };

	setup(NULL);
	sign(REPO, remote_digest, "other.pem");
	/* a present but invalid signature is refused even when unsigned is allowed */
	ASSERT_EQ(pull(IMAGE_PULL_ALWAYS, d, NULL, &em), -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "signature is not valid", "reason");
	ASSERT_STRSTR(em.msg, "does not verify", "why");
	ASSERT_FALSE(stored(), "no reference stored");
}

static void signed_other_digest(void)
{
	char d[IMAGE_DIGEST_LEN + 1], other[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };

	setup(NULL);
	digest_of("another image", 13, other);
	sign(REPO, other, "ec.pem");
	ASSERT_EQ(pull(IMAGE_PULL_ALWAYS, d, NULL, &em), -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "for another image", "reason");
	ASSERT_FALSE(stored(), "no reference stored");
}

static void verify_disabled(void)
{
	char d[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };

	setup(NULL);
	sign(REPO, remote_digest, "other.pem");
	pl.verify = false;
	pl.allow_unsigned = false;
	ASSERT_OK(pull(IMAGE_PULL_ALWAYS, d, NULL, &em), em.msg);
}

static void broken_image_not_stored(void)
{
	char d[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };

	setup("\"org.example\":\"no ebpf labels\"");
	ASSERT_EQ(pull(IMAGE_PULL_ALWAYS, d, NULL, &em), -EINVAL, "refused");
	ASSERT_STRSTR(em.msg, "not a usable eBPF bytecode image", "reason");
	ASSERT_STRSTR(em.msg, "no eBPF labels", "why");
	ASSERT_FALSE(stored(), "no reference stored");
}

TEST_MAIN("image_pull", TEST(never_missing), TEST(if_not_present_offline),
	  TEST(always_down), TEST(no_registry_client), TEST(concurrent_if_not_present),
	  TEST(concurrent_always), TEST(policy_names), TEST(signed_good),
	  TEST(unsigned_allowed), TEST(unsigned_refused), TEST(signed_wrong_key),
	  TEST(signed_other_digest), TEST(verify_disabled), TEST(broken_image_not_stored))
