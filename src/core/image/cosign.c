/* SPDX-License-Identifier: Apache-2.0 */
/* cosign.c - cosign key-based signatures: simple-signing payloads, ECDSA P-256 (mbedtls) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
#include <mbedtls/base64.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>

#include "core/image/cosign.h"

#define KEY_NAME_MAX	256
#define KEY_FILE_MAX	(16u << 10)
#define SIG_DER_MAX	160

struct cosign_key {
	mbedtls_pk_context pk;
	char name[KEY_NAME_MAX];
};

struct cosign_keys {
	struct cosign_key v[COSIGN_MAX_KEYS];
	size_t n;
};

void cosign_keys_free(struct cosign_keys *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n; i++)
		mbedtls_pk_free(&k->v[i].pk);
	free(k);
}

size_t cosign_keys_count(const struct cosign_keys *k)
{
	return k ? k->n : 0;
}

int cosign_keys_add_pem(struct cosign_keys **keys, const char *pem, const char *name,
			struct errmsg *em)
{
	struct cosign_keys *k = *keys;
	struct cosign_key *key;
	int rc;

	if (!k) {
		k = calloc(1, sizeof(*k));
		if (!k)
			return errmsg_set(em, -ENOMEM, "out of memory");
		*keys = k;
	}
	if (k->n == COSIGN_MAX_KEYS)
		return errmsg_set(em, -E2BIG, "[signing] keys names more than %d keys",
				  COSIGN_MAX_KEYS);
	key = &k->v[k->n];
	mbedtls_pk_init(&key->pk);
	/* PEM input's length includes the terminating NUL */
	rc = mbedtls_pk_parse_public_key(&key->pk, (const unsigned char *)pem, strlen(pem) + 1);
	if (rc) {
		mbedtls_pk_free(&key->pk);
		return errmsg_set(em, -EINVAL,
				  "signing key %s is not a PEM public key (-----BEGIN PUBLIC KEY-----, as cosign.pub): mbedtls error -0x%04x",
				  name, (unsigned)-rc);
	}
	if (!mbedtls_pk_can_do(&key->pk, MBEDTLS_PK_ECDSA) ||
	    mbedtls_pk_ec(key->pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
		mbedtls_pk_free(&key->pk);
		return errmsg_set(em, -EINVAL,
				  "signing key %s is not an ECDSA P-256 key, the kind cosign makes",
				  name);
	}
	snprintf(key->name, sizeof(key->name), "%s", name);
	k->n++;
	return 0;
}

static int read_small(const char *path, char **ret, struct errmsg *em)
{
	char *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg_set(em, -errno, "cannot open signing key %s: %s", path,
				  strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > KEY_FILE_MAX) {
		err = errmsg_set(em, -EINVAL, "signing key %s is not a regular file of at most %u bytes",
				 path, KEY_FILE_MAX);
		goto out;
	}
	buf = calloc(1, st.st_size + 1);
	if (!buf) {
		err = errmsg_set(em, -ENOMEM, "out of memory");
		goto out;
	}
	n = read(fd, buf, st.st_size);
	if (n != st.st_size) {
		err = errmsg_set(em, n < 0 ? -errno : -EIO, "cannot read signing key %s", path);
		goto out;
	}
	*ret = buf;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

int cosign_keys_load(const char *const *paths, size_t n, struct cosign_keys **ret,
		     struct errmsg *em)
{
	struct cosign_keys *k = NULL;
	char *pem = NULL;
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		err = read_small(paths[i], &pem, em);
		if (!err)
			err = cosign_keys_add_pem(&k, pem, paths[i], em);
		free(pem);
		pem = NULL;
	}
	if (err) {
		cosign_keys_free(k);
		return err;
	}
	*ret = k;
	return 0;
}

int cosign_sig_tag(const char *digest, char buf[COSIGN_TAG_LEN + 1])
{
	if (!image_digest_valid(digest))
		return -EINVAL;
	snprintf(buf, COSIGN_TAG_LEN + 1, "sha256-%s.sig", digest + 7);
	return 0;
}

/* obj.key as an object or string, NULL if absent or of another type. */
static const cJSON *obj_get(const cJSON *obj, const char *key, int want_string)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (want_string)
		return cJSON_IsString(v) ? v : NULL;
	return cJSON_IsObject(v) ? v : NULL;
}

/* The docker-reference of the payload names the image's repository: host/repo,
 * where Docker Hub images may be spelled index.docker.io/... */
static bool reference_matches(const char *s, const struct image_ref *ref)
{
	char want[IMAGE_HOST_MAX + IMAGE_REPO_MAX + 2];
	const char *lib = "library/";

	snprintf(want, sizeof(want), "%s/%s", ref->host, ref->repo);
	if (!strcmp(s, want))
		return true;
	if (strcmp(ref->host, IMAGE_DOCKER_HUB))
		return false;
	if (!strncmp(s, "index.docker.io/", 16) && !strcmp(s + 16, ref->repo))
		return true;
	/* "alpine" for docker.io/library/alpine */
	return !strncmp(ref->repo, lib, strlen(lib)) && !strcmp(s, ref->repo + strlen(lib));
}

int cosign_payload_check(const void *payload, size_t len, const char *digest,
			 const struct image_ref *ref, struct errmsg *em)
{
	const cJSON *crit, *type, *img, *dig, *id, *dref;
	cJSON *root;
	int err = -EACCES;

	root = cJSON_ParseWithLength(payload, len);
	if (!cJSON_IsObject(root)) {
		err = errmsg_set(em, -EACCES, "the signature's payload is not a JSON object");
		goto out;
	}
	crit = obj_get(root, "critical", 0);
	type = crit ? obj_get(crit, "type", 1) : NULL;
	img = crit ? obj_get(crit, "image", 0) : NULL;
	dig = img ? obj_get(img, "docker-manifest-digest", 1) : NULL;
	id = crit ? obj_get(crit, "identity", 0) : NULL;
	dref = id ? obj_get(id, "docker-reference", 1) : NULL;
	if (!type || strcmp(type->valuestring, COSIGN_TYPE)) {
		errmsg_set(em, err, "the signed payload is not a cosign image signature (critical.type is not \"%s\")",
			   COSIGN_TYPE);
		goto out;
	}
	if (!dig || strcmp(dig->valuestring, digest)) {
		errmsg_set(em, err,
			   "the signature is for another image: it signs manifest digest %.80s, the image's is %s",
			   dig ? dig->valuestring : "(none)", digest);
		goto out;
	}
	if (!dref || !reference_matches(dref->valuestring, ref)) {
		errmsg_set(em, err,
			   "the signature is for another repository: it names %.300s, the image is %s/%s",
			   dref ? dref->valuestring : "(none)", ref->host, ref->repo);
		goto out;
	}
	err = 0;
out:
	cJSON_Delete(root);
	return err;
}

int cosign_verify_payload(const struct cosign_keys *keys, const void *payload, size_t len,
			  const char *sig_b64, const char *digest,
			  const struct image_ref *ref, struct errmsg *em)
{
	unsigned char hash[32], der[SIG_DER_MAX];
	size_t dlen = 0, i;

	if (!keys || !keys->n)
		return errmsg_set(em, -EACCES,
				  "the image is signed but no [signing] keys are configured to verify it with");
	if (mbedtls_base64_decode(der, sizeof(der), &dlen, (const unsigned char *)sig_b64,
				  strlen(sig_b64)) || !dlen)
		return errmsg_set(em, -EACCES,
				  "the signature annotation %s is not a base64 DER ECDSA signature",
				  COSIGN_ANNOTATION);
	if (mbedtls_sha256_ret(payload, len, hash, 0))
		return errmsg_set(em, -EACCES, "cannot hash the signature payload");
	for (i = 0; i < keys->n; i++) {
		if (mbedtls_pk_verify((mbedtls_pk_context *)&keys->v[i].pk, MBEDTLS_MD_SHA256,
				      hash, sizeof(hash), der, dlen))
			continue;
		return cosign_payload_check(payload, len, digest, ref, em);
	}
	return errmsg_set(em, -EACCES,
			  "the signature does not verify with any of the %zu [signing] keys: the payload was changed, or it was signed with another key",
			  keys->n);
}

/* One layer of a signature manifest. */
static int verify_layer(const struct cosign_keys *keys, const cJSON *l, cosign_blob_fn blob,
			void *arg, const char *digest, const struct image_ref *ref,
			struct errmsg *em)
{
	const cJSON *mt = obj_get(l, "mediaType", 1), *d = obj_get(l, "digest", 1);
	const cJSON *ann = obj_get(l, "annotations", 0), *sig;
	char *data = NULL;
	size_t len = 0;
	int err;

	if (!mt || strcmp(mt->valuestring, COSIGN_MT_PAYLOAD))
		return -ENOENT;		/* another attachment: not a signature */
	sig = ann ? obj_get(ann, COSIGN_ANNOTATION, 1) : NULL;
	if (!sig)
		return errmsg_set(em, -EACCES, "a signature layer has no %s annotation",
				  COSIGN_ANNOTATION);
	if (!d || !image_digest_valid(d->valuestring))
		return errmsg_set(em, -EACCES, "a signature layer has no valid digest");
	err = blob(arg, d->valuestring, COSIGN_MAX_PAYLOAD, &data, &len, em);
	if (err)
		return err;
	err = cosign_verify_payload(keys, data, len, sig->valuestring, digest, ref, em);
	free(data);
	return err;
}

int cosign_verify_manifest(const struct cosign_keys *keys, const char *manifest,
			   size_t len, cosign_blob_fn blob, void *arg, const char *digest,
			   const struct image_ref *ref, struct errmsg *em)
{
	struct errmsg first = { "" }, one;
	const cJSON *layers, *l;
	cJSON *root;
	int err, first_err = 0, n = 0;

	root = cJSON_ParseWithLength(manifest, len);
	layers = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "layers") : NULL;
	if (!cJSON_IsArray(layers)) {
		cJSON_Delete(root);
		return errmsg_set(em, -EINVAL,
				  "the signature tag holds no image manifest with layers");
	}
	cJSON_ArrayForEach(l, layers) {
		if (n++ == COSIGN_MAX_SIGS)
			break;
		one.msg[0] = '\0';
		err = cJSON_IsObject(l) ? verify_layer(keys, l, blob, arg, digest, ref, &one) :
					  -ENOENT;
		if (!err) {
			cJSON_Delete(root);
			return 0;
		}
		if (err != -ENOENT && !first_err) {
			first_err = err;
			first = one;
		}
	}
	cJSON_Delete(root);
	if (!first_err)
		return errmsg_set(em, -EACCES, "the signature manifest holds no %s layer",
				  COSIGN_MT_PAYLOAD);
	return errmsg_set(em, first_err == -EACCES ? -EACCES : first_err, "%s", first.msg);
}
