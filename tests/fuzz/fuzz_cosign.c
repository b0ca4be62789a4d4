/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_cosign.c - libFuzzer target for cosign signature manifests and payloads
 *
 * The input is a signature manifest (the sha256-<hex>.sig tag's document) whose
 * payload blobs are the input itself, verified against the real-cosign key of
 * containers/image's fixtures; and a simple-signing payload for the payload checks.
 * Besides ASan/UBSan/leak findings it aborts when the verifier breaks its contract:
 * random input never verifies, failure is -EACCES or -EINVAL (or the blob
 * callback's error) with a message, the same input gives the same result twice.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/image/cosign.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_cosign: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

static const char pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFNLqFhf4fiN6o/glAuYnq2jYUeL0\n"
	"vRuLu/z39pmbVwS9ff5AYnlwaP9sxREajdLY9ynM6G1sy6AAmb7Z63TsLg==\n"
	"-----END PUBLIC KEY-----\n";
static const char digest[] =
	"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";

struct input {
	const uint8_t *data;
	size_t len;
};

static int blob(void *arg, const char *d, size_t max, char **ret, size_t *ret_len,
		struct errmsg *em)
{
	struct input *in = arg;

	(void)d;
	if (in->len > max)
		return errmsg_set(em, -EFBIG, "too big");
	*ret = malloc(in->len + 1);
	if (!*ret)
		return errmsg_set(em, -ENOMEM, "out of memory");
	memcpy(*ret, in->data, in->len);
	*ret_len = in->len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cosign_keys *keys;
	static struct image_ref ref;
	struct input in = { data, size };
	struct errmsg em = { { 0 } }, em2 = { { 0 } };
	int err, err2;

	if (!keys) {
		CHECK(!cosign_keys_add_pem(&keys, pub, "fixture", NULL));
		CHECK(!image_ref_parse("192.168.64.2:5000/cosign-signed-single-sample", &ref, NULL));
	}
	err = cosign_verify_manifest(keys, (const char *)data, size, blob, &in, digest, &ref, &em);
	err2 = cosign_verify_manifest(keys, (const char *)data, size, blob, &in, digest, &ref, &em2);
	CHECK(err == err2 && !strcmp(em.msg, em2.msg));
	/* a valid signature needs the key's private half */
	CHECK(err == -EACCES || err == -EINVAL || err == -EFBIG || err == -ENOMEM);
	CHECK(em.msg[0]);
	memset(&em, 0, sizeof(em));
	err = cosign_payload_check(data, size, digest, &ref, &em);
	CHECK(!err || (err == -EACCES && em.msg[0]));
	return 0;
}
