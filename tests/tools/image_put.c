/* SPDX-License-Identifier: Apache-2.0 */
/* image_put.c - test tool: put a one-layer eBPF image into an image store, as a pull
 * would leave it (integration tests and benchmarks run without a registry).
 *   image_put STORE_DIR REFERENCE LAYER_FILE MEDIA_TYPE LABELS
 * LABELS: the members of config.Labels as JSON ("\"io.ebpf.programs\":\"...\"").
 * Prints the manifest digest. */
#include <stdio.h>
#include <stdlib.h>

#include "unit/image_build.h"

int main(int argc, char **argv)
{
	char digest[IMAGE_DIGEST_LEN + 1];
	struct errmsg em = { { 0 } };
	struct image_store *s;

	if (argc != 6) {
		fprintf(stderr, "usage: image_put STORE_DIR REFERENCE LAYER_FILE MEDIA_TYPE LABELS\n");
		return 2;
	}
	if (image_store_open(argv[1], &s, &em)) {
		fprintf(stderr, "image_put: %s\n", em.msg);
		return 1;
	}
	ib_image(s, argv[3], argv[4], argv[5], argv[2], digest);
	image_store_close(s);
	printf("%s\n", digest);
	return 0;
}
