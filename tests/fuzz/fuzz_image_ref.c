/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_image_ref.c - libFuzzer target for image references (image_ref_parse)
 *
 * Besides ASan/UBSan findings it aborts when the parser breaks its contract:
 * failure is -EINVAL with a message; success gives a lowercase host, a
 * repository, a tag or a digest (valid), "library/" for one-component Docker
 * Hub names, never index.docker.io; the canonical form parses back to the
 * same reference and formats to the same string.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/errmsg.h"
#include "core/image/ref.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[IMAGE_REF_MAX + 2], a[IMAGE_REF_MAX + 80], b[IMAGE_REF_MAX + 80];
	struct image_ref r, again;
	struct errmsg *em = calloc(1, sizeof(*em));
	const char *c;
	int err;

	CHECK(em);
	if (size > IMAGE_REF_MAX + 1)
		size = IMAGE_REF_MAX + 1;
	memcpy(in, data, size);
	in[size] = '\0';
	err = image_ref_parse(in, &r, em);
	if (err) {
		CHECK(err == -EINVAL && em->msg[0]);
		goto out;
	}
	CHECK(!em->msg[0]);
	for (c = r.host; *c; c++)
		CHECK(!(*c >= 'A' && *c <= 'Z'));
	CHECK(r.host[0] && r.repo[0] && (r.tag[0] || r.digest[0]));
	CHECK(!r.digest[0] || image_digest_valid(r.digest));
	CHECK(strcmp(r.host, "index.docker.io"));
	CHECK(strcmp(r.host, IMAGE_DOCKER_HUB) || strchr(r.repo, '/'));
	CHECK(strlen(r.host) + 1 + strlen(r.repo) <= IMAGE_REPO_MAX);
	CHECK(image_ref_format(&r, a, sizeof(a)) > 0);
	CHECK(image_ref_parse(a, &again, em) == 0);
	CHECK(!memcmp(&r, &again, sizeof(r)));
	CHECK(image_ref_format(&again, b, sizeof(b)) > 0 && !strcmp(a, b));
	CHECK(!strcmp(image_ref_target(&r), r.digest[0] ? r.digest : r.tag));
out:
	free(em);
	return 0;
}
