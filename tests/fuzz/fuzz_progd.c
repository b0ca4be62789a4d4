/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_progd.c - libFuzzer target for programs.d files (progd_parse)
 *
 * Besides ASan/UBSan/leak findings it aborts when the parser breaks its
 * contract: failure is -EINVAL (or -ENOMEM) with a one-line message that starts
 * with the file name; success gives entries with a name, a source, one attach
 * kind and a 16-digit fingerprint; and what progd_write_entry() writes for them
 * parses back to the same plans (same fingerprints).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/progd.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_progd: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

static void rewrite(const struct progd_entry *e, size_t n)
{
	struct progd_entry *e2 = NULL;
	struct errmsg em = { { 0 } };
	char *buf = NULL;
	size_t len = 0, n2 = 0, i;
	FILE *f;

	f = open_memstream(&buf, &len);
	CHECK(f);
	for (i = 0; i < n; i++)
		CHECK(!progd_write_entry(f, &e[i].plan.spec,
					 e[i].image_url[0] ? e[i].image_url : NULL,
					 e[i].image_pull_policy));
	CHECK(!fclose(f));
	CHECK(!progd_parse("w.toml", "programs.d/w.toml", buf, len, &e2, &n2, &em));
	CHECK(n2 == n);
	for (i = 0; i < n; i++)
		CHECK(!strcmp(e2[i].plan.entry, e[i].plan.entry));
	free(e2);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct progd_entry *e = NULL;
	struct errmsg *em = calloc(1, sizeof(*em));
	size_t n = 0, i;
	int err;

	CHECK(em);
	err = progd_parse("f.toml", "programs.d/f.toml", (const char *)data, size, &e, &n, em);
	if (err) {
		CHECK(err == -EINVAL || err == -ENOMEM);
		CHECK(err == -ENOMEM || !strncmp(em->msg, "f.toml:", 7));
		CHECK(!strchr(em->msg, '\n'));
		CHECK(!e);
		free(em);
		return 0;
	}
	CHECK(n <= PROGD_MAX_ENTRIES);
	for (i = 0; i < n; i++) {
		CHECK(e[i].plan.spec.name[0]);
		CHECK(!strcmp(e[i].plan.spec.source, "programs.d/f.toml"));
		CHECK(e[i].plan.spec.attach.kind != OBJ_KIND_UNKNOWN);
		CHECK(strlen(e[i].plan.entry) == 16);
		CHECK(e[i].line >= 1);
	}
	rewrite(e, n);
	free(e);
	free(em);
	return 0;
}
