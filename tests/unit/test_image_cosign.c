/* SPDX-License-Identifier: Apache-2.0 */
/* test_image_cosign.c - cosign key-based signatures: the real-cosign golden vector of
 * containers/image's fixtures (tooling.md §3.4), and signatures made here with the
 * openssl CLI in cosign's format: good, tampered payload, wrong key, another digest,
 * another repository, a manifest without signature layers, bad base64. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "harness.h"
#include "image_build.h"
#include "core/image/cosign.h"

/* containers/image 5.23 signature/fixtures: cosign.pub, and the payload and
 * signature of dir-img-cosign-valid/signature-1 (made by real cosign). */
static const char golden_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFNLqFhf4fiN6o/glAuYnq2jYUeL0\n"
	"vRuLu/z39pmbVwS9ff5AYnlwaP9sxREajdLY9ynM6G1sy6AAmb7Z63TsLg==\n"
	"-----END PUBLIC KEY-----\n";
static const char golden_payload[] =
	"{\"critical\":{\"identity\":{\"docker-reference\":\"192.168.64.2:5000/cosign-signed-single-sample\"},"
	"\"image\":{\"docker-manifest-digest\":\"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00\"},"
	"\"type\":\"cosign container image signature\"},\"optional\":null}";
static const char golden_sig[] =
	"MEYCIQDmtamqYPjMg81nqeBhptrPls44aA/r7PwLmspINJY4MwIhANKRpqe2E9UCBtGFdPoz/8jAbaQm4uP4h+IpwKTE6ClR";
/* unknown-cosign-key.signature: the same payload signed by a key not in cosign.pub */
static const char golden_sig_unknown_key[] =
	"MEQCIH9Tuia53Kf88YlZ5GJY6vTykz3q69SW7Z2+ZUaWJXCYAiBL3pO+RsiJLHywzdbpQmMSjrzACeDs6MhT5P8GQw2jAw==";
static const char golden_ref[] = "192.168.64.2:5000/cosign-signed-single-sample";
static const char golden_digest[] =
	"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";
/* dir-img-cosign-modified-manifest/manifest.json's digest: signature-1 there is
 * the valid one above, for the original manifest */
static const char golden_modified_digest[] =
	"sha256:d9dcafdb480aa7c475e91737b96925e45844213dcb0290b4a90017459121f71f";

static struct cosign_keys *golden_keys(void)
{
	struct cosign_keys *k = NULL;
	struct errmsg em = { { 0 } };

	if (!ASSERT_OK(cosign_keys_add_pem(&k, golden_pub, "cosign.pub", &em), em.msg))
		exit(1);
	return k;
}

static void ref_of(const char *s, struct image_ref *r)
{
	struct errmsg em = { { 0 } };

	if (!ASSERT_OK(image_ref_parse(s, r, &em), em.msg))
		exit(1);
}

static void golden_valid(void)
{
	struct cosign_keys *k = golden_keys();
	struct errmsg em = { { 0 } };
	struct image_ref r;

	ref_of(golden_ref, &r);
	ASSERT_OK(cosign_verify_payload(k, golden_payload, strlen(golden_payload), golden_sig,
					golden_digest, &r, &em), em.msg);
	cosign_keys_free(k);
}

static void golden_unknown_key(void)
{
	struct cosign_keys *k = golden_keys();
	struct errmsg em = { { 0 } };
	struct image_ref r;

	ref_of(golden_ref, &r);
	ASSERT_EQ(cosign_verify_payload(k, golden_payload, strlen(golden_payload),
					golden_sig_unknown_key, golden_digest, &r, &em),
		  -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "does not verify with any", "reason");
}

static void golden_modified_manifest(void)
{
	struct cosign_keys *k = golden_keys();
	struct errmsg em = { { 0 } };
	struct image_ref r;

	ref_of(golden_ref, &r);
	ASSERT_EQ(cosign_verify_payload(k, golden_payload, strlen(golden_payload), golden_sig,
					golden_modified_digest, &r, &em), -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "for another image", "reason");
	ASSERT_STRSTR(em.msg, golden_modified_digest, "names the image's digest");
}

static void golden_tampered(void)
{
	struct cosign_keys *k = golden_keys();
	struct errmsg em = { { 0 } };
	struct image_ref r;
	char p[sizeof(golden_payload)];

	memcpy(p, golden_payload, sizeof(p));
	*strstr(p, "sample") = 'S';
	ref_of(golden_ref, &r);
	ASSERT_EQ(cosign_verify_payload(k, p, strlen(p), golden_sig, golden_digest, &r, &em),
		  -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "payload was changed", "reason");
}

/* ---- signatures made here with openssl ---- */

static char dir[64];

/* A file of dir (trailing newlines cut when ret_len is NULL). */
static char *slurp(const char *name, size_t *ret_len)
{
	char path[128], *buf;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf = ib_slurp(path, &len);
	if (ret_len)
		*ret_len = len;
	while (!ret_len && len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return buf;
}

static void cleanup(void)
{
	ib_sh("rm -rf '%s'", dir);
}

/* ec.pem/cosign.pub and other.pem/other.pub; payload.json for image digest of
 * ref signed with ec.pem: sig.b64 */
static void make_keys(void)
{
	if (access("/usr/bin/openssl", X_OK))
		test_skip("/usr/bin/openssl is not installed");
	snprintf(dir, sizeof(dir), "/tmp/bpfd-test-cosign-XXXXXX");
	if (!mkdtemp(dir))
		exit(1);
	atexit(cleanup);
	ib_sh("cd %s && openssl ecparam -name prime256v1 -genkey -noout -out ec.pem 2>/dev/null && "
	   "openssl ec -in ec.pem -pubout -out cosign.pub 2>/dev/null && "
	   "openssl ecparam -name prime256v1 -genkey -noout -out other.pem 2>/dev/null && "
	   "openssl ec -in other.pem -pubout -out other.pub 2>/dev/null", dir);
}

static void sign(const char *ref, const char *digest, const char *key)
{
	ib_sh("cd %s && printf '%%s' '{\"critical\":{\"identity\":{\"docker-reference\":\"%s\"},"
	   "\"image\":{\"docker-manifest-digest\":\"%s\"},\"type\":\"cosign container image signature\"},"
	   "\"optional\":null}' >payload.json && "
	   "openssl dgst -sha256 -sign %s -out sig.der payload.json && base64 -w0 sig.der >sig.b64",
	   dir, ref, digest, key);
}

static struct cosign_keys *load(const char *name)
{
	char path[128];
	const char *p = path;
	struct cosign_keys *k = NULL;
	struct errmsg em = { { 0 } };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!ASSERT_OK(cosign_keys_load(&p, 1, &k, &em), em.msg))
		exit(1);
	return k;
}

#define IMG_REF "127.0.0.1:5000/bpf/xdp-pass"
static char img_digest[IMAGE_DIGEST_LEN + 1];

static void setup(void)
{
	make_keys();
	digest_of("the image manifest", 18, img_digest);
}

static int check(struct cosign_keys *k, const char *ref, const char *digest,
		 struct errmsg *em)
{
	struct image_ref r;
	size_t len;
	char *p = slurp("payload.json", &len), *sig = slurp("sig.b64", NULL);
	int err;

	ref_of(ref, &r);
	err = cosign_verify_payload(k, p, len, sig, digest, &r, em);
	free(p);
	free(sig);
	return err;
}

static void openssl_good(void)
{
	struct cosign_keys *k;
	struct errmsg em = { { 0 } };

	setup();
	k = load("cosign.pub");
	sign(IMG_REF, img_digest, "ec.pem");
	ASSERT_OK(check(k, IMG_REF ":v1", img_digest, &em), em.msg);
	cosign_keys_free(k);
}

static void openssl_wrong_key(void)
{
	struct cosign_keys *k;
	struct errmsg em = { { 0 } };

	setup();
	k = load("cosign.pub");
	sign(IMG_REF, img_digest, "other.pem");
	ASSERT_EQ(check(k, IMG_REF, img_digest, &em), -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "does not verify", "reason");
	cosign_keys_free(k);
}

static void openssl_two_keys(void)
{
	const char *paths[2];
	char p0[128], p1[128];
	struct cosign_keys *k = NULL;
	struct errmsg em = { { 0 } };

	setup();
	snprintf(p0, sizeof(p0), "%s/cosign.pub", dir);
	snprintf(p1, sizeof(p1), "%s/other.pub", dir);
	paths[0] = p0;
	paths[1] = p1;
	if (!ASSERT_OK(cosign_keys_load(paths, 2, &k, &em), em.msg))
		return;
	ASSERT_EQ(cosign_keys_count(k), 2, "two keys");
	sign(IMG_REF, img_digest, "other.pem");
	ASSERT_OK(check(k, IMG_REF, img_digest, &em), em.msg);
	cosign_keys_free(k);
}

static void openssl_other_digest(void)
{
	char other[IMAGE_DIGEST_LEN + 1];
	struct cosign_keys *k;
	struct errmsg em = { { 0 } };

	setup();
	k = load("cosign.pub");
	digest_of("another manifest", 16, other);
	sign(IMG_REF, other, "ec.pem");
	ASSERT_EQ(check(k, IMG_REF, img_digest, &em), -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "for another image", "reason");
	cosign_keys_free(k);
}

static void openssl_other_repository(void)
{
	struct cosign_keys *k;
	struct errmsg em = { { 0 } };

	setup();
	k = load("cosign.pub");
	sign("127.0.0.1:5000/bpf/other", img_digest, "ec.pem");
	ASSERT_EQ(check(k, IMG_REF, img_digest, &em), -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "another repository", "reason");
	cosign_keys_free(k);
}

static void openssl_tampered(void)
{
	struct cosign_keys *k;
	struct errmsg em = { { 0 } };

	setup();
	k = load("cosign.pub");
	sign(IMG_REF, img_digest, "ec.pem");
	/* one byte of the signed payload changed */
	ib_sh("cd %s && sed -i 's/xdp-pass/xdp-pasS/' payload.json", dir);
	ASSERT_EQ(check(k, IMG_REF, img_digest, &em), -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "payload was changed", "reason");
	cosign_keys_free(k);
}

static void bad_base64(void)
{
	struct cosign_keys *k = golden_keys();
	struct errmsg em = { { 0 } };
	struct image_ref r;

	ref_of(golden_ref, &r);
	ASSERT_EQ(cosign_verify_payload(k, golden_payload, strlen(golden_payload), "!!not base64",
					golden_digest, &r, &em), -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "base64", "reason");
}

static void no_keys(void)
{
	struct errmsg em = { { 0 } };
	struct image_ref r;

	ref_of(golden_ref, &r);
	ASSERT_EQ(cosign_verify_payload(NULL, golden_payload, strlen(golden_payload), golden_sig,
					golden_digest, &r, &em), -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "no [signing] keys", "reason");
}

static void bad_key_file(void)
{
	struct cosign_keys *k = NULL;
	struct errmsg em = { { 0 } };

	ASSERT_EQ(cosign_keys_add_pem(&k, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
				      "junk.pub", &em), -EINVAL, "junk refused");
	ASSERT_STRSTR(em.msg, "junk.pub", "names the file");
	cosign_keys_free(k);
}

/* ---- whole signature manifests, the blob callback serving payloads ---- */

struct blobs {
	const char *digest[2];
	const char *data[2];
	size_t n;
};

static int blob_fn(void *arg, const char *digest, size_t max, char **ret, size_t *ret_len,
		   struct errmsg *em)
{
	struct blobs *b = arg;
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (strcmp(b->digest[i], digest))
			continue;
		if (strlen(b->data[i]) > max)
			return -EFBIG;
		*ret = strdup(b->data[i]);
		*ret_len = strlen(b->data[i]);
		return 0;
	}
	return errmsg_set(em, -ENOENT, "no blob %s", digest);
}

static void sig_manifest(char *buf, size_t size, const char *pdigest, const char *sig,
			 const char *other_layer)
{
	snprintf(buf, size,
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,"
		 "\"digest\":\"%s\"},\"layers\":[%s%s{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\","
		 "\"annotations\":{\"%s\":\"%s\"}}]}",
		 pdigest, other_layer ? other_layer : "", other_layer ? "," : "", COSIGN_MT_PAYLOAD,
		 strlen(golden_payload), pdigest, COSIGN_ANNOTATION, sig);
}

static void manifest_golden(void)
{
	struct cosign_keys *k = golden_keys();
	struct errmsg em = { { 0 } };
	char pd[IMAGE_DIGEST_LEN + 1], m[2048];
	struct blobs b = { .n = 1 };
	struct image_ref r;

	ref_of(golden_ref, &r);
	digest_of(golden_payload, strlen(golden_payload), pd);
	b.digest[0] = pd;
	b.data[0] = golden_payload;
	/* an attachment that is not a signature comes first: skipped */
	sig_manifest(m, sizeof(m), pd, golden_sig,
		     "{\"mediaType\":\"application/vnd.example.sbom\",\"size\":1,\"digest\":\"sha256:"
		     "0000000000000000000000000000000000000000000000000000000000000000\"}");
	ASSERT_OK(cosign_verify_manifest(k, m, strlen(m), blob_fn, &b, golden_digest, &r, &em),
		  em.msg);
	/* the wrong key's signature only: refused with its reason */
	sig_manifest(m, sizeof(m), pd, golden_sig_unknown_key, NULL);
	em.msg[0] = '\0';
	ASSERT_EQ(cosign_verify_manifest(k, m, strlen(m), blob_fn, &b, golden_digest, &r, &em),
		  -EACCES, "wrong key refused");
	ASSERT_STRSTR(em.msg, "does not verify", "reason");
	cosign_keys_free(k);
}

static void manifest_no_signature_layer(void)
{
	struct cosign_keys *k = golden_keys();
	struct errmsg em = { { 0 } };
	struct image_ref r;
	const char *m = "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"application/vnd.example\","
			"\"size\":1,\"digest\":\"sha256:00\"}]}";

	ref_of(golden_ref, &r);
	ASSERT_EQ(cosign_verify_manifest(k, m, strlen(m), blob_fn, NULL, golden_digest, &r, &em),
		  -EACCES, "refused");
	ASSERT_STRSTR(em.msg, "no application/vnd.dev.cosign.simplesigning", "reason");
	em.msg[0] = '\0';
	ASSERT_EQ(cosign_verify_manifest(k, "[1]", 3, blob_fn, NULL, golden_digest, &r, &em),
		  -EINVAL, "not a manifest");
	cosign_keys_free(k);
}

static void sig_tag(void)
{
	char t[COSIGN_TAG_LEN + 1];

	ASSERT_OK(cosign_sig_tag(golden_digest, t), "tag");
	ASSERT_STREQ(t, "sha256-634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00.sig",
		     "tag");
	ASSERT_EQ(cosign_sig_tag("sha256:12", t), -EINVAL, "bad digest");
}

TEST_MAIN("image_cosign", TEST(golden_valid), TEST(golden_unknown_key),
	  TEST(golden_modified_manifest), TEST(golden_tampered), TEST(openssl_good),
	  TEST(openssl_wrong_key), TEST(openssl_two_keys), TEST(openssl_other_digest),
	  TEST(openssl_other_repository), TEST(openssl_tampered), TEST(bad_base64),
	  TEST(no_keys), TEST(bad_key_file), TEST(manifest_golden),
	  TEST(manifest_no_signature_layer), TEST(sig_tag))
