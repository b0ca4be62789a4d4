/* SPDX-License-Identifier: Apache-2.0 */
/* test_image_manifest.c - manifests, indexes, platform choice, image config labels */
#include <errno.h>

#include "harness.h"
#include "core/image/manifest.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

#define OCI_MANIFEST							\
	"{\"schemaVersion\": 2, \"mediaType\": \"" MT_OCI_MANIFEST "\",\n"	\
	" \"config\": {\"mediaType\": \"" MT_OCI_CONFIG "\", \"digest\": \"" D1 "\", " \
	"\"size\": 642},\n"						\
	" \"layers\": [{\"mediaType\": \"" MT_OCI_LAYER_GZIP "\", \"digest\": \"" D2 "\", " \
	"\"size\": 5123, \"annotations\": {\"x\": \"y\"}}]}\n"

#define DOCKER_MANIFEST							\
	"{\"schemaVersion\": 2, \"mediaType\": \"" MT_DOCKER_MANIFEST "\", "	\
	"\"config\": {\"mediaType\": \"" MT_DOCKER_CONFIG "\", \"digest\": \"" D1 "\", " \
	"\"size\": 1}, \"layers\": [{\"mediaType\": \"" MT_DOCKER_LAYER_GZIP "\", " \
	"\"digest\": \"" D2 "\", \"size\": 2}, {\"mediaType\": \"" MT_DOCKER_LAYER "\", " \
	"\"digest\": \"" D3 "\", \"size\": 3}]}"

static int manifest(const char *json, const char *ct, struct image_manifest *m,
		    struct errmsg *em)
{
	memset(em, 0, sizeof(*em));
	return image_manifest_parse(json, strlen(json), ct, m, em);
}

/* A manifest with one layer of media type mt, digest and size as JSON text. */
static int layer_manifest(const char *mt, const char *digest, const char *size,
			  struct errmsg *em)
{
	struct image_manifest m;
	char json[1024];

	snprintf(json, sizeof(json), "{\"schemaVersion\": 2, \"config\": {\"mediaType\": "
		 "\"" MT_OCI_CONFIG "\", \"digest\": \"" D1 "\", \"size\": 7}, "
		 "\"layers\": [{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %s}]}",
		 mt, digest, size);
	return manifest(json, NULL, &m, em);
}

static void manifest_oci(void)
{
	struct image_manifest m;
	struct errmsg em;

	ASSERT_OK(manifest(OCI_MANIFEST, MT_OCI_MANIFEST, &m, &em), em.msg);
	ASSERT_STREQ(m.config.media_type, MT_OCI_CONFIG, "config type");
	ASSERT_STREQ(m.config.digest, D1, "config digest");
	ASSERT_EQ(m.config.size, 642, "config size");
	ASSERT_EQ(m.n_layers, 1, "one layer");
	ASSERT_STREQ(m.layers[0].digest, D2, "layer digest");
	ASSERT_EQ(m.layers[0].size, 5123, "layer size");
	ASSERT_EQ(image_layer_kind(m.layers[0].media_type), IMAGE_LAYER_GZIP, "gzip");
	/* Content-Type parameters and case do not matter; no Content-Type is fine */
	ASSERT_OK(manifest(OCI_MANIFEST, " Application/vnd.oci.image.manifest.v1+json; "
			   "charset=utf-8", &m, &em), em.msg);
	ASSERT_OK(manifest(OCI_MANIFEST, NULL, &m, &em), em.msg);
	ASSERT_OK(manifest(OCI_MANIFEST, "application/json", &m, &em), em.msg);
}

static void manifest_docker(void)
{
	struct image_manifest m;
	struct errmsg em;

	ASSERT_OK(manifest(DOCKER_MANIFEST, MT_DOCKER_MANIFEST, &m, &em), em.msg);
	ASSERT_EQ(m.n_layers, 2, "two layers");
	ASSERT_EQ(image_layer_kind(m.layers[0].media_type), IMAGE_LAYER_GZIP, "gzip");
	ASSERT_EQ(image_layer_kind(m.layers[1].media_type), IMAGE_LAYER_TAR, "tar");
	ASSERT_STREQ(m.config.media_type, MT_DOCKER_CONFIG, "config type");
}

static void manifest_without_media_type(void)
{
	const char *json = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\""
		MT_OCI_CONFIG "\",\"digest\":\"" D1 "\",\"size\":0},\"layers\":[{"
		"\"mediaType\":\"" MT_OCI_LAYER "\",\"digest\":\"" D2 "\",\"size\":9}]}";
	struct image_manifest m;
	struct errmsg em;

	ASSERT_OK(manifest(json, NULL, &m, &em), em.msg);
	ASSERT_EQ(image_doc_kind(json, strlen(json), NULL, &em), IMAGE_DOC_MANIFEST, "kind");
	ASSERT_EQ(image_layer_kind(m.layers[0].media_type), IMAGE_LAYER_TAR, "tar");
}

#define MT_DOCKER_SCHEMA1_CT "application/vnd.docker.distribution.manifest.v1+prettyjws"

struct bad {
	const char *json;
	const char *ct;
	int err;
	const char *why;
};

static const struct bad bad_manifests[] = {
	{ OCI_MANIFEST, MT_DOCKER_MANIFEST, -EINVAL, "but the registry sent it as" },
	{ OCI_MANIFEST, "text/html", -EINVAL, "but the registry sent it as text/html" },
	{ "{\"schemaVersion\":2,\"layers\":[]}", "text/html", -EINVAL,
	  "media type text/html is not an image manifest or index" },
	{ "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", MT_DOCKER_SCHEMA1_CT,
	  -EINVAL, "schema 1" },
	{ "{\"schemaVersion\":1,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"layers\":[]}",
	  NULL, -EINVAL, "schemaVersion 1" },
	{ "{\"schemaVersion\":\"2\",\"layers\":[]}", NULL, -EINVAL,
	  "\"schemaVersion\" in the image manifest is not a whole number" },
	{ "{\"mediaType\":\"" MT_OCI_INDEX "\",\"schemaVersion\":2,\"manifests\":[]}",
	  NULL, -EINVAL, "expected an image manifest but got an image index" },
	{ "{\"schemaVersion\":2}", NULL, -EINVAL, "neither an image manifest nor" },
	{ "[1,2]", NULL, -EINVAL, "not a JSON object" },
	{ "{\"schemaVersion\":2,", NULL, -EINVAL, "not valid JSON" },
	{ "{\"layers\":[]} {}", NULL, -EINVAL, "text after its JSON value" },
	{ "{\"schemaVersion\":2,\"layers\":[]}", NULL, -EINVAL, "no \"config\"" },
	{ "{\"schemaVersion\":2,\"schemaVersion\":2,\"layers\":[]}", NULL, -EINVAL,
	  "the key \"schemaVersion\" twice" },
	{ "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":"
	  "\"" D1 "\",\"size\":1},\"layers\":[]}", NULL, -EINVAL, "has no layers" },
	{ "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\","
	  "\"digest\":\"" D1 "\",\"size\":2},\"layers\":[]}", NULL, -EINVAL,
	  "config has media type application/vnd.oci.empty.v1+json" },
	{ "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":"
	  "\"" D1 "\"},\"layers\":[]}", NULL, -EINVAL, "config descriptor has no \"size\"" },
	{ "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":"
	  "\"" D1 "\",\"size\":1,\"digest\":\"" D2 "\"},\"layers\":[]}", NULL, -EINVAL,
	  "\"digest\" twice" },
	{ "{\"schemaVersion\":2,\"config\":[],\"layers\":[]}", NULL, -EINVAL,
	  "config descriptor is not a JSON object" },
};

static void manifest_bad(void)
{
	struct image_manifest m;
	struct errmsg em;
	char what[80];
	size_t i;

	for (i = 0; i < sizeof(bad_manifests) / sizeof(bad_manifests[0]); i++) {
		snprintf(what, sizeof(what), "bad manifest %zu", i);
		ASSERT_EQ(manifest(bad_manifests[i].json, bad_manifests[i].ct, &m, &em),
			  bad_manifests[i].err, what);
		ASSERT_STRSTR(em.msg, bad_manifests[i].why, what);
	}
}

static void layers_checked(void)
{
	struct errmsg em;

	ASSERT_OK(layer_manifest(MT_OCI_LAYER_GZIP, D2, "0", &em), em.msg);
	ASSERT_OK(layer_manifest(MT_DOCKER_LAYER, D2, "1099511627776", &em), em.msg);
	ASSERT_EQ(layer_manifest("application/vnd.oci.image.layer.v1.tar+zstd", D2, "1", &em),
		  -EINVAL, "zstd");
	ASSERT_STRSTR(em.msg, "zstd-compressed", "zstd message");
	ASSERT_EQ(layer_manifest("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
				 D2, "1", &em), -EINVAL, "foreign");
	ASSERT_STRSTR(em.msg, "non-distributable", "foreign message");
	ASSERT_EQ(layer_manifest("application/octet-stream", D2, "1", &em), -EINVAL, "other");
	ASSERT_STRSTR(em.msg, "layer 0 has media type application/octet-stream", "message");
	ASSERT_EQ(layer_manifest(MT_OCI_LAYER, "sha256:abc", "1", &em), -EINVAL, "short");
	ASSERT_STRSTR(em.msg, "digest \"sha256:abc\"", "digest message");
	ASSERT_EQ(layer_manifest(MT_OCI_LAYER, "sha512:1111111111111111111111111111111111111"
				 "111111111111111111111111111", "1", &em), -EINVAL, "sha512");
	ASSERT_EQ(layer_manifest(MT_OCI_LAYER, "SHA256:1111111111111111111111111111111111111"
				 "111111111111111111111111111", "1", &em), -EINVAL, "case");
	ASSERT_EQ(layer_manifest(MT_OCI_LAYER, D2, "-1", &em), -EINVAL, "negative size");
	ASSERT_STRSTR(em.msg, "\"size\" in the descriptor of layer 0", "size message");
	ASSERT_EQ(layer_manifest(MT_OCI_LAYER, D2, "1.5", &em), -EINVAL, "fraction");
	ASSERT_EQ(layer_manifest(MT_OCI_LAYER, D2, "1e400", &em), -EINVAL, "infinite");
	ASSERT_EQ(layer_manifest(MT_OCI_LAYER, D2, "1099511627777", &em), -EINVAL, "huge");
	ASSERT_EQ(layer_manifest(MT_OCI_LAYER, D2, "\"1\"", &em), -EINVAL, "string");
}

static void layer_count_bounded(void)
{
	char json[16384], *p = json;
	struct image_manifest m;
	struct errmsg em;
	int i;

	p += sprintf(p, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG
		     "\",\"digest\":\"" D1 "\",\"size\":1},\"layers\":[");
	for (i = 0; i < IMAGE_MAX_LAYERS; i++)
		p += sprintf(p, "%s{\"mediaType\":\"" MT_OCI_LAYER "\",\"digest\":\"" D2
			     "\",\"size\":1}", i ? "," : "");
	strcpy(p, "]}");
	ASSERT_OK(manifest(json, NULL, &m, &em), "16 layers");
	ASSERT_EQ(m.n_layers, IMAGE_MAX_LAYERS, "all kept");
	sprintf(p, ",{\"mediaType\":\"" MT_OCI_LAYER "\",\"digest\":\"" D2 "\",\"size\":1}]}");
	ASSERT_EQ(manifest(json, NULL, &m, &em), -E2BIG, "17 layers");
	ASSERT_STRSTR(em.msg, "more than 16 layers", "message");
}

static void size_bounded(void)
{
	size_t len = IMAGE_MAX_MANIFEST + 1;
	struct image_manifest m;
	struct errmsg em = { 0 };
	char *big = malloc(len);

	if (!ASSERT_TRUE(big, "malloc"))
		return;
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	ASSERT_EQ(image_manifest_parse(big, len, NULL, &m, &em), -E2BIG, "over 4 MiB");
	ASSERT_STRSTR(em.msg, "more than the", "message");
	free(big);
}

#define ENTRY(digest, mt, plat)						\
	"{\"mediaType\":\"" mt "\",\"digest\":\"" digest "\",\"size\":10" plat "}"
#define PLAT(os, arch, variant)						\
	",\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\"" variant "}"

static const char index_json[] =
	"{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
	ENTRY(D1, MT_OCI_MANIFEST, PLAT("linux", "amd64", "")) ","
	ENTRY(D2, MT_OCI_MANIFEST, PLAT("linux", "arm64", ",\"variant\":\"v8\"")) ","
	ENTRY(D3, MT_OCI_MANIFEST, PLAT("linux", "arm", ",\"variant\":\"v7\"")) ","
	ENTRY(D1, MT_OCI_MANIFEST, PLAT("linux", "arm", ",\"variant\":\"v6\"")) ","
	ENTRY(D2, MT_OCI_INDEX, PLAT("linux", "s390x", "")) ","
	ENTRY(D3, MT_OCI_MANIFEST, PLAT("unknown", "unknown", "")) ","
	ENTRY(D3, MT_OCI_MANIFEST, "") "]}";

static void index_parse_and_pick(void)
{
	const struct image_platform_desc *p;
	struct image_index *idx = calloc(1, sizeof(*idx));
	struct errmsg em = { 0 };

	if (!ASSERT_TRUE(idx, "calloc"))
		return;
	ASSERT_EQ(image_doc_kind(index_json, strlen(index_json), NULL, &em),
		  IMAGE_DOC_INDEX, "kind");
	if (!ASSERT_OK(image_index_parse(index_json, strlen(index_json), MT_OCI_INDEX, idx,
					 &em), em.msg))
		goto out;
	ASSERT_EQ(idx->n_manifests, 7, "entries");
	ASSERT_STREQ(idx->manifests[2].variant, "v7", "variant");
	ASSERT_OK(image_index_pick(idx, "amd64", "", &p, &em), "amd64");
	ASSERT_STREQ(p->desc.digest, D1, "amd64 digest");
	ASSERT_OK(image_index_pick(idx, "arm64", "v8", &p, &em), "arm64");
	ASSERT_STREQ(p->desc.digest, D2, "arm64 digest");
	ASSERT_OK(image_index_pick(idx, "arm64", "", &p, &em), "arm64 without variant");
	ASSERT_OK(image_index_pick(idx, "arm", "v7", &p, &em), "arm v7");
	ASSERT_STREQ(p->desc.digest, D3, "v7 chosen");
	ASSERT_OK(image_index_pick(idx, "arm", "v6", &p, &em), "arm v6");
	ASSERT_STREQ(p->desc.digest, D1, "v6 chosen");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(image_index_pick(idx, "arm", "v5", &p, &em), -ENOENT, "arm v5 ambiguous");
	ASSERT_STRSTR(em.msg, "several linux/arm images, none for variant v5", "message");
	memset(&em, 0, sizeof(em));
	/* a nested index is not a platform image */
	ASSERT_EQ(image_index_pick(idx, "s390x", "", &p, &em), -ENOENT, "s390x");
	ASSERT_STRSTR(em.msg, "no image for linux/s390x (it has: linux/amd64, "
		      "linux/arm64/v8, linux/arm/v7, linux/arm/v6, linux/s390x, "
		      "unknown/unknown, ?/?)", "platforms listed");
out:
	free(idx);
}

static void index_docker_list(void)
{
	const char *json = "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST
		"\",\"manifests\":[" ENTRY(D2, MT_DOCKER_MANIFEST,
					   PLAT("linux", "ppc64le", "")) "]}";
	const struct image_platform_desc *p;
	struct image_index *idx = calloc(1, sizeof(*idx));
	struct image_manifest m;
	struct errmsg em = { 0 };

	if (!ASSERT_TRUE(idx, "calloc"))
		return;
	ASSERT_OK(image_index_parse(json, strlen(json), NULL, idx, &em), em.msg);
	ASSERT_OK(image_index_pick(idx, "ppc64le", "", &p, &em), "ppc64le");
	ASSERT_STREQ(p->desc.media_type, MT_DOCKER_MANIFEST, "entry type");
	ASSERT_EQ(image_manifest_parse(json, strlen(json), NULL, &m, &em), -EINVAL,
		  "an index is not a manifest");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(image_index_parse(json, strlen(json), MT_OCI_INDEX, idx, &em), -EINVAL,
		  "content type mismatch");
	ASSERT_EQ(image_index_parse(OCI_MANIFEST, strlen(OCI_MANIFEST), NULL, idx, &em),
		  -EINVAL, "a manifest is not an index");
	memset(&em, 0, sizeof(em));
	json = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" D1
		"\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":"
		"\"012345678901234567890123456789012\"}}]}";
	ASSERT_EQ(image_index_parse(json, strlen(json), NULL, idx, &em), -EINVAL, "long arch");
	ASSERT_STRSTR(em.msg, "\"architecture\" in the platform of index entry 0 is "
		      "longer than 31", "message");
	free(idx);
}

static void arch_names(void)
{
	static const char *const map[][3] = {
		{ "x86_64", "amd64", "" }, { "aarch64", "arm64", "v8" },
		{ "armv7l", "arm", "v7" }, { "armv6l", "arm", "v6" },
		{ "i686", "386", "" }, { "ppc64le", "ppc64le", "" },
		{ "s390x", "s390x", "" }, { "riscv64", "riscv64", "" },
	};
	const char *arch, *variant;
	struct errmsg em = { 0 };
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!ASSERT_OK(image_arch_of(map[i][0], &arch, &variant), map[i][0]))
			continue;
		ASSERT_STREQ(arch, map[i][1], map[i][0]);
		ASSERT_STREQ(variant, map[i][2], map[i][0]);
	}
	ASSERT_EQ(image_arch_of("pdp11", &arch, &variant), -ENOENT, "unknown");
	ASSERT_OK(image_arch_host(&arch, &variant, &em), em.msg);
#if defined(__x86_64__)
	ASSERT_STREQ(arch, "amd64", "this machine");
#elif defined(__aarch64__)
	ASSERT_STREQ(arch, "arm64", "this machine");
#endif
}

static int config(const char *labels, struct image_config *c, struct errmsg *em)
{
	char json[16384];

	snprintf(json, sizeof(json), "{\"architecture\":\"amd64\",\"os\":\"linux\","
		 "\"config\":{\"Labels\":{%s}},\"rootfs\":{\"type\":\"layers\"}}", labels);
	memset(em, 0, sizeof(*em));
	return image_config_parse(json, strlen(json), c, em);
}

#define LEGACY "\"io.ebpf.program_type\":\"XDP\",\"io.ebpf.filename\":\"xdp_pass.bpf.o\"," \
	"\"io.ebpf.program_name\":\"pass\",\"io.ebpf.bpf_function_name\":\"xdp_prog\""

static void config_legacy(void)
{
	struct image_config c;
	struct errmsg em;

	ASSERT_OK(config(LEGACY ",\"other\":\"x\"", &c, &em), em.msg);
	ASSERT_TRUE(c.has_legacy, "legacy");
	ASSERT_STREQ(c.program_type, "xdp", "type made lowercase");
	ASSERT_STREQ(c.filename, "xdp_pass.bpf.o", "filename");
	ASSERT_STREQ(c.program_name, "pass", "program name");
	ASSERT_STREQ(c.function_name, "xdp_prog", "function");
	ASSERT_EQ(c.n_programs, 0, "no programs label");
	ASSERT_STREQ(c.os, "linux", "os");
	ASSERT_STREQ(c.arch, "amd64", "arch");
}

static void config_programs(void)
{
	struct image_config c;
	struct errmsg em;

	ASSERT_OK(config("\"io.ebpf.programs\":\"{\\\"xdp_stats\\\":\\\"xdp\\\","
			 "\\\"tc_x\\\":\\\"TC\\\"}\",\"io.ebpf.maps\":\"{\\\"xdp_stats_map\\\":"
			 "\\\"per_cpu_array\\\"}\"", &c, &em), em.msg);
	ASSERT_FALSE(c.has_legacy, "not legacy");
	ASSERT_EQ(c.n_programs, 2, "two programs");
	ASSERT_STREQ(c.programs[0].name, "xdp_stats", "first");
	ASSERT_STREQ(c.programs[0].type, "xdp", "first type");
	ASSERT_STREQ(c.programs[1].type, "tc", "second type lowercase");
	ASSERT_EQ(c.n_maps, 1, "one map");
	ASSERT_STREQ(c.maps[0].name, "xdp_stats_map", "map");
	ASSERT_STREQ(c.maps[0].type, "per_cpu_array", "map type");
	/* both kinds of label together */
	ASSERT_OK(config(LEGACY ",\"io.ebpf.programs\":\"{\\\"xdp_prog\\\":\\\"xdp\\\"}\"",
			 &c, &em), em.msg);
	ASSERT_TRUE(c.has_legacy && c.n_programs == 1, "both");
}

static const struct {
	const char *labels;
	int err;
	const char *why;
} bad_configs[] = {
	{ "", -EINVAL, "has no eBPF labels" },
	{ "\"io.ebpf.program_type\":\"xdp\",\"io.ebpf.filename\":\"a.o\"", -EINVAL,
	  "but not io.ebpf.program_name, io.ebpf.bpf_function_name" },
	{ LEGACY ",\"io.ebpf.filename\":\"b.o\"", -EINVAL, "\"io.ebpf.filename\" twice" },
	{ "\"io.ebpf.program_type\":\"xdp\",\"io.ebpf.filename\":\"../a.o\","
	  "\"io.ebpf.program_name\":\"p\",\"io.ebpf.bpf_function_name\":\"f\"", -EINVAL,
	  "io.ebpf.filename \"../a.o\" is not a relative path" },
	{ "\"io.ebpf.program_type\":\"xdp\",\"io.ebpf.filename\":\"/a.o\","
	  "\"io.ebpf.program_name\":\"p\",\"io.ebpf.bpf_function_name\":\"f\"", -EINVAL,
	  "is not a relative path" },
	{ "\"io.ebpf.program_type\":\"xdp\",\"io.ebpf.filename\":\"a.o\","
	  "\"io.ebpf.program_name\":\"p\",\"io.ebpf.bpf_function_name\":\"1f\"", -EINVAL,
	  "\"1f\" is not a C identifier" },
	{ "\"io.ebpf.program_type\":\"x dp\",\"io.ebpf.filename\":\"a.o\","
	  "\"io.ebpf.program_name\":\"p\",\"io.ebpf.bpf_function_name\":\"f\"", -EINVAL,
	  "program_type \"x dp\"" },
	{ "\"io.ebpf.program_type\":\"xdp\",\"io.ebpf.filename\":\"a.o\","
	  "\"io.ebpf.program_name\":\"p/q\",\"io.ebpf.bpf_function_name\":\"f\"", -EINVAL,
	  "program_name \"p/q\"" },
	{ "\"io.ebpf.program_type\":7", -EINVAL, "io.ebpf.program_type\" in the image "
	  "labels is not a string" },
	{ "\"io.ebpf.programs\":\"{}\"", -EINVAL, "names no program" },
	{ "\"io.ebpf.programs\":\"xdp\"", -EINVAL, "label io.ebpf.programs must hold a "
	  "JSON object of name: type: the value is not valid JSON" },
	{ "\"io.ebpf.programs\":\"[1]\"", -EINVAL, "not a JSON object" },
	{ "\"io.ebpf.programs\":\"{\\\"a\\\":\\\"xdp\\\",\\\"a\\\":\\\"tc\\\"}\"", -EINVAL,
	  "names \"a\" twice" },
	{ "\"io.ebpf.programs\":\"{\\\"a-b\\\":\\\"xdp\\\"}\"", -EINVAL,
	  "\"a-b\" is not a C identifier" },
	{ "\"io.ebpf.programs\":\"{\\\"a\\\":1}\"", -EINVAL, "the type of \"a\" must be" },
	{ "\"io.ebpf.programs\":\"{\\\"a\\\":\\\"\\\"}\"", -EINVAL, "is not a word" },
	{ "\"io.ebpf.programs\":{\"a\":\"xdp\"}", -EINVAL, "label io.ebpf.programs is not "
	  "a string" },
	{ "\"io.ebpf.programs\":\"{\\\"a\\\":\\\"xdp\\\"}\",\"io.ebpf.maps\":\"{\\\"m\\\":"
	  "\\\"hash map\\\"}\"", -EINVAL, "label io.ebpf.maps: the type of \"m\"" },
};

static void config_bad(void)
{
	struct image_config c;
	struct errmsg em;
	char what[64];
	size_t i;

	for (i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		snprintf(what, sizeof(what), "bad config %zu", i);
		ASSERT_EQ(config(bad_configs[i].labels, &c, &em), bad_configs[i].err, what);
		ASSERT_STRSTR(em.msg, bad_configs[i].why, what);
	}
}

static void config_shapes(void)
{
	static const char *const no_labels[] = {
		"{}", "{\"config\":null}", "{\"config\":{}}", "{\"config\":{\"Labels\":null}}",
	};
	struct image_config c;
	struct errmsg em;
	char many[8192], *p = many;
	size_t i;

	for (i = 0; i < 4; i++) {
		memset(&em, 0, sizeof(em));
		ASSERT_EQ(image_config_parse(no_labels[i], strlen(no_labels[i]), &c, &em),
			  -EINVAL, no_labels[i]);
		ASSERT_STRSTR(em.msg, "has no labels", no_labels[i]);
	}
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(image_config_parse("{\"config\":{\"Labels\":[]}}", 24, &c, &em),
		  -EINVAL, "labels array");
	ASSERT_STRSTR(em.msg, "config.Labels in the image config is not a JSON object", "msg");
	p += sprintf(p, "\"io.ebpf.programs\":\"{");
	for (i = 0; i <= IMAGE_MAX_PROGRAMS; i++)
		p += sprintf(p, "%s\\\"f%zu\\\":\\\"xdp\\\"", i ? "," : "", i);
	sprintf(p, "}\"");
	ASSERT_EQ(config(many, &c, &em), -E2BIG, "65 programs");
	ASSERT_STRSTR(em.msg, "more than 64 entries", "message");
}

TEST_MAIN("image_manifest", TEST(manifest_oci), TEST(manifest_docker),
	  TEST(manifest_without_media_type), TEST(manifest_bad), TEST(layers_checked),
	  TEST(layer_count_bounded), TEST(size_bounded), TEST(index_parse_and_pick),
	  TEST(index_docker_list), TEST(arch_names), TEST(config_legacy),
	  TEST(config_programs), TEST(config_bad), TEST(config_shapes))
