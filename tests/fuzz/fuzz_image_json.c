/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_image_json.c - libFuzzer target for image manifests, indexes and configs
 *
 * Every input goes through image_doc_kind, image_manifest_parse (without and
 * with a Content-Type), image_index_parse (and image_index_pick for three
 * platforms) and image_config_parse.  Besides ASan/UBSan/leak findings it aborts
 * when a parser breaks its contract: the same input gives the same result
 * twice; failure is -EINVAL, -E2BIG or -ENOMEM (pick: -ENOENT) with a non-empty
 * message of printable ASCII; success gives digests that are valid, media types
 * bpfd reads, counts within their bounds, a picked entry of the platform asked
 * for, and labels that passed their own rules.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/errmsg.h"
#include "core/image/manifest.h"
#include "fuzz.h"

static void check_msg(int err, const struct errmsg *em)
{
	const char *c;

	if (!err) {
		CHECK(!em->msg[0]);
		return;
	}
	CHECK(err == -EINVAL || err == -E2BIG || err == -ENOMEM || err == -ENOENT);
	CHECK(em->msg[0] || err == -ENOMEM);
	for (c = em->msg; *c; c++)
		CHECK(*c >= ' ' && *c <= '~');
}

static void check_desc(const struct image_desc *d)
{
	CHECK(image_digest_valid(d->digest));
	CHECK(d->size <= IMAGE_MAX_BLOB);
	CHECK(strlen(d->media_type) <= IMAGE_MT_MAX);
}

static void check_manifest(const struct image_manifest *m)
{
	size_t i;

	check_desc(&m->config);
	CHECK(!strcmp(m->config.media_type, MT_OCI_CONFIG) ||
	      !strcmp(m->config.media_type, MT_DOCKER_CONFIG));
	CHECK(m->n_layers >= 1 && m->n_layers <= IMAGE_MAX_LAYERS);
	for (i = 0; i < m->n_layers; i++) {
		check_desc(&m->layers[i]);
		CHECK(image_layer_kind(m->layers[i].media_type) > 0);
	}
}

static void manifests(const char *data, size_t size, const char *ct)
{
	struct image_manifest *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct errmsg *ea = calloc(1, sizeof(*ea)), *eb = calloc(1, sizeof(*eb));
	int ra, rb;

	CHECK(a && b && ea && eb);
	ra = image_manifest_parse(data, size, ct, a, ea);
	rb = image_manifest_parse(data, size, ct, b, eb);
	CHECK(ra == rb && !strcmp(ea->msg, eb->msg));
	check_msg(ra, ea);
	if (!ra) {
		CHECK(!memcmp(a, b, sizeof(*a)));
		check_manifest(a);
		memset(ea, 0, sizeof(*ea));
		CHECK(image_doc_kind(data, size, ct, ea) == IMAGE_DOC_MANIFEST);
	}
	free(a);
	free(b);
	free(ea);
	free(eb);
}

static void pick(const struct image_index *idx, const char *arch, const char *variant)
{
	const struct image_platform_desc *p = NULL;
	struct errmsg *em = calloc(1, sizeof(*em));
	int err;

	CHECK(em);
	err = image_index_pick(idx, arch, variant, &p, em);
	check_msg(err, em);
	if (!err) {
		CHECK(p >= idx->manifests && p < idx->manifests + idx->n_manifests);
		CHECK(!strcmp(p->os, "linux") && !strcmp(p->arch, arch));
		CHECK(!strcmp(p->desc.media_type, MT_OCI_MANIFEST) ||
		      !strcmp(p->desc.media_type, MT_DOCKER_MANIFEST));
	} else {
		CHECK(err == -ENOENT);
	}
	free(em);
}

static void indexes(const char *data, size_t size)
{
	struct image_index *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct errmsg *ea = calloc(1, sizeof(*ea)), *eb = calloc(1, sizeof(*eb));
	size_t i;
	int ra, rb;

	CHECK(a && b && ea && eb);
	ra = image_index_parse(data, size, NULL, a, ea);
	rb = image_index_parse(data, size, NULL, b, eb);
	CHECK(ra == rb && !strcmp(ea->msg, eb->msg));
	check_msg(ra, ea);
	if (!ra) {
		CHECK(!memcmp(a, b, sizeof(*a)));
		CHECK(a->n_manifests <= IMAGE_MAX_INDEX);
		for (i = 0; i < a->n_manifests; i++)
			check_desc(&a->manifests[i].desc);
		pick(a, "amd64", "");
		pick(a, "arm64", "v8");
		pick(a, "arm", "v7");
	}
	free(a);
	free(b);
	free(ea);
	free(eb);
}

static bool word(const char *s, bool ident)
{
	if (!*s || (ident && isdigit((unsigned char)*s)))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
		else if (!ident && isupper((unsigned char)*s))
			return false;
	return true;
}

static void configs(const char *data, size_t size)
{
	struct image_config *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct errmsg *ea = calloc(1, sizeof(*ea)), *eb = calloc(1, sizeof(*eb));
	size_t i;
	int ra, rb;

	CHECK(a && b && ea && eb);
	ra = image_config_parse(data, size, a, ea);
	rb = image_config_parse(data, size, b, eb);
	CHECK(ra == rb && !strcmp(ea->msg, eb->msg));
	check_msg(ra, ea);
	if (!ra) {
		CHECK(!memcmp(a, b, sizeof(*a)));
		CHECK(a->has_legacy || a->n_programs);
		CHECK(a->n_programs <= IMAGE_MAX_PROGRAMS && a->n_maps <= IMAGE_MAX_PROGRAMS);
		if (a->has_legacy) {
			CHECK(word(a->program_type, false));
			CHECK(word(a->function_name, true));
			CHECK(a->filename[0] && a->filename[0] != '/' &&
			      !strstr(a->filename, ".."));
		}
		for (i = 0; i < a->n_programs; i++)
			CHECK(word(a->programs[i].name, true) &&
			      word(a->programs[i].type, false));
		for (i = 0; i < a->n_maps; i++)
			CHECK(word(a->maps[i].name, true) && word(a->maps[i].type, false));
	}
	free(a);
	free(b);
	free(ea);
	free(eb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errmsg *em = calloc(1, sizeof(*em));
	const char *d = (const char *)data;
	int kind;

	CHECK(em);
	kind = image_doc_kind(d, size, NULL, em);
	if (kind < 0)
		check_msg(kind, em);
	else
		CHECK(kind == IMAGE_DOC_MANIFEST || kind == IMAGE_DOC_INDEX);
	free(em);
	manifests(d, size, NULL);
	manifests(d, size, MT_DOCKER_MANIFEST "; charset=utf-8");
	indexes(d, size);
	configs(d, size);
	return 0;
}
