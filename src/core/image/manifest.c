/* SPDX-License-Identifier: Apache-2.0 */
/* manifest.c - OCI/Docker manifests, indexes and image configs (cJSON), checked */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include <cJSON.h>

#include "core/image/manifest.h"

#define MT_DOCKER_SCHEMA1	"application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_JWS	"application/vnd.docker.distribution.manifest.v1+prettyjws"
#define LABEL_PREFIX		"io.ebpf."

static const char *const manifest_types[] = { MT_OCI_MANIFEST, MT_DOCKER_MANIFEST, NULL };
static const char *const index_types[] = { MT_OCI_INDEX, MT_DOCKER_LIST, NULL };
static const char *const config_types[] = { MT_OCI_CONFIG, MT_DOCKER_CONFIG, NULL };

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

/* Printable ASCII only: what bpfd reads from a document ends up in messages. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < ' ' || *s > '~')
			return false;
	return true;
}

int image_layer_kind(const char *mt)
{
	if (!strcmp(mt, MT_OCI_LAYER) || !strcmp(mt, MT_DOCKER_LAYER))
		return IMAGE_LAYER_TAR;
	if (!strcmp(mt, MT_OCI_LAYER_GZIP) || !strcmp(mt, MT_DOCKER_LAYER_GZIP))
		return IMAGE_LAYER_GZIP;
	return -EINVAL;
}

/* The document must be one JSON object and nothing else but white space. */
static int json_open(const char *data, size_t len, size_t max, const char *what,
		     cJSON **ret, struct errmsg *em)
{
	const char *end = NULL;
	cJSON *root;

	if (len > max)
		return errmsg_set(em, -E2BIG, "the %s is %zu bytes, more than the %zu "
				  "bpfd accepts", what, len, max);
	root = cJSON_ParseWithLengthOpts(data, len, &end, false);
	if (!root) {
		if (!end)
			return errmsg_set(em, -ENOMEM, "out of memory parsing the %s", what);
		return errmsg_set(em, -EINVAL, "the %s is not valid JSON (at byte %zu)",
				  what, (size_t)(end - data));
	}
	while (end < data + len && isspace((unsigned char)*end))
		end++;
	if (end != data + len) {
		cJSON_Delete(root);
		return errmsg_set(em, -EINVAL, "the %s has text after its JSON value "
				  "(at byte %zu)", what, (size_t)(end - data));
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return errmsg_set(em, -EINVAL, "the %s is not a JSON object", what);
	}
	*ret = root;
	return 0;
}

/* obj[key], refusing a key given twice: parsers disagree on which one wins. */
static int member(const cJSON *obj, const char *key, const char *what,
		  const cJSON **ret, struct errmsg *em)
{
	const cJSON *c, *found = NULL;

	cJSON_ArrayForEach(c, obj) {
		if (!c->string || strcmp(c->string, key))
			continue;
		if (found)
			return errmsg_set(em, -EINVAL, "the %s has the key \"%s\" twice",
					  what, key);
		found = c;
	}
	*ret = found;
	return 0;
}

/* A string member into buf; absent is "" unless required. */
static int get_str(const cJSON *obj, const char *key, bool required, char *buf,
		   size_t size, const char *what, struct errmsg *em)
{
	const cJSON *v;
	int err;

	buf[0] = '\0';
	err = member(obj, key, what, &v, em);
	if (err)
		return err;
	if (!v)
		return required ? errmsg_set(em, -EINVAL, "the %s has no \"%s\"", what,
					     key) : 0;
	if (!cJSON_IsString(v))
		return errmsg_set(em, -EINVAL, "\"%s\" in the %s is not a string", key,
				  what);
	if (strlen(v->valuestring) >= size)
		return errmsg_set(em, -EINVAL, "\"%s\" in the %s is longer than %zu "
				  "characters", key, what, size - 1);
	if (!printable(v->valuestring))
		return errmsg_set(em, -EINVAL, "\"%s\" in the %s holds control or "
				  "non-ASCII characters", key, what);
	strcpy(buf, v->valuestring);
	return 0;
}

static int get_uint(const cJSON *obj, const char *key, uint64_t max, uint64_t *ret,
		    const char *what, struct errmsg *em)
{
	const cJSON *v;
	int err;

	err = member(obj, key, what, &v, em);
	if (err)
		return err;
	if (!v)
		return errmsg_set(em, -EINVAL, "the %s has no \"%s\"", what, key);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
	    v->valuedouble > (double)max ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return errmsg_set(em, -EINVAL, "\"%s\" in the %s is not a whole number "
				  "from 0 to %llu", key, what, (unsigned long long)max);
	*ret = (uint64_t)v->valuedouble;
	return 0;
}

/* "type/subtype; charset=..." -> "type/subtype" in buf, lowercase. */
static void media_type_norm(const char *ct, char *buf, size_t size)
{
	size_t n = 0;

	while (isspace((unsigned char)*ct))
		ct++;
	for (; *ct && *ct != ';' && !isspace((unsigned char)*ct) && n + 1 < size; ct++)
		buf[n++] = *ct > ' ' && *ct <= '~' ? tolower((unsigned char)*ct) : '?';
	buf[n] = '\0';
}

static int kind_of_type(const char *mt)
{
	if (in_list(manifest_types, mt))
		return IMAGE_DOC_MANIFEST;
	if (in_list(index_types, mt))
		return IMAGE_DOC_INDEX;
	return 0;
}

static int doc_kind(const cJSON *root, const char *content_type, struct errmsg *em)
{
	char ct[IMAGE_MT_MAX + 1] = "", mt[IMAGE_MT_MAX + 1];
	const cJSON *v;
	const char *type;
	int err;

	err = get_str(root, "mediaType", false, mt, sizeof(mt), "manifest", em);
	if (err)
		return err;
	if (content_type)
		media_type_norm(content_type, ct, sizeof(ct));
	/* generic JSON types say nothing; decide by the document */
	if (!strcmp(ct, "application/json") || !strcmp(ct, "text/plain") ||
	    !strcmp(ct, "application/octet-stream"))
		ct[0] = '\0';
	if (!strcmp(ct, MT_DOCKER_SCHEMA1) || !strcmp(ct, MT_DOCKER_SCHEMA1_JWS) ||
	    !strcmp(mt, MT_DOCKER_SCHEMA1) || !strcmp(mt, MT_DOCKER_SCHEMA1_JWS))
		return errmsg_set(em, -EINVAL, "the registry sent a Docker schema 1 "
				  "manifest, which bpfd does not read; push the image "
				  "again with a current tool (schema 2 or OCI)");
	if (ct[0] && mt[0] && strcmp(ct, mt))
		return errmsg_set(em, -EINVAL, "the manifest says its mediaType is %s "
				  "but the registry sent it as %s", mt, ct);
	type = mt[0] ? mt : ct;
	if (type[0]) {
		if (kind_of_type(type))
			return kind_of_type(type);
		return errmsg_set(em, -EINVAL, "media type %s is not an image manifest "
				  "or index (expected one of %s)", type,
				  IMAGE_MANIFEST_ACCEPT);
	}
	/* OCI allows leaving mediaType out */
	err = member(root, "manifests", "manifest", &v, em);
	if (err)
		return err;
	if (v)
		return IMAGE_DOC_INDEX;
	err = member(root, "layers", "manifest", &v, em);
	if (err)
		return err;
	if (v)
		return IMAGE_DOC_MANIFEST;
	return errmsg_set(em, -EINVAL, "the document is neither an image manifest "
			  "nor an index: it has no mediaType, layers or manifests");
}

/* Open a manifest or index document, check its kind and schemaVersion 2. */
static int doc_open(const char *data, size_t len, const char *content_type, int want,
		    cJSON **ret, struct errmsg *em)
{
	const char *what = want == IMAGE_DOC_INDEX ? "image index" : "image manifest";
	cJSON *root = NULL;
	uint64_t version;
	int kind, err;

	err = json_open(data, len, IMAGE_MAX_MANIFEST, what, &root, em);
	if (err)
		return err;
	kind = doc_kind(root, content_type, em);
	if (kind < 0) {
		err = kind;
		goto out;
	}
	if (kind != want) {
		err = errmsg_set(em, -EINVAL, "expected an %s but got an %s", what,
				 kind == IMAGE_DOC_INDEX ? "image index" :
				 "image manifest");
		goto out;
	}
	err = get_uint(root, "schemaVersion", 1000, &version, what, em);
	if (!err && version != 2)
		err = errmsg_set(em, -EINVAL, "the %s has schemaVersion %llu; bpfd "
				 "reads version 2", what, (unsigned long long)version);
out:
	if (err)
		cJSON_Delete(root);
	else
		*ret = root;
	return err;
}

int image_doc_kind(const char *data, size_t len, const char *content_type,
		   struct errmsg *em)
{
	cJSON *root = NULL;
	int err;

	err = json_open(data, len, IMAGE_MAX_MANIFEST, "manifest", &root, em);
	if (err)
		return err;
	err = doc_kind(root, content_type, em);
	cJSON_Delete(root);
	return err;
}

static int desc_parse(const cJSON *obj, const char *what, struct image_desc *d,
		      struct errmsg *em)
{
	int err;

	if (!cJSON_IsObject(obj))
		return errmsg_set(em, -EINVAL, "the %s is not a JSON object", what);
	err = get_str(obj, "mediaType", true, d->media_type, sizeof(d->media_type),
		      what, em);
	if (!err)
		err = get_str(obj, "digest", true, d->digest, sizeof(d->digest), what, em);
	if (!err && !image_digest_valid(d->digest))
		err = errmsg_set(em, -EINVAL, "the %s has digest \"%s\"; bpfd needs "
				 "sha256: and 64 lowercase hex digits", what, d->digest);
	if (!err)
		err = get_uint(obj, "size", IMAGE_MAX_BLOB, &d->size, what, em);
	return err;
}

static int layer_check(const struct image_desc *d, size_t i, struct errmsg *em)
{
	const char *mt = d->media_type;

	if (image_layer_kind(mt) > 0)
		return 0;
	if (strstr(mt, "zstd"))
		return errmsg_set(em, -EINVAL, "layer %zu is zstd-compressed (%s); bpfd "
				  "reads tar and tar+gzip layers: push the image with "
				  "gzip compression", i, mt);
	if (strstr(mt, "nondistributable") || strstr(mt, "foreign"))
		return errmsg_set(em, -EINVAL, "layer %zu is a non-distributable layer "
				  "(%s), which bpfd does not fetch", i, mt);
	return errmsg_set(em, -EINVAL, "layer %zu has media type %s; bpfd reads %s, "
			  "%s, %s and %s", i, mt, MT_OCI_LAYER, MT_OCI_LAYER_GZIP,
			  MT_DOCKER_LAYER, MT_DOCKER_LAYER_GZIP);
}

int image_manifest_parse(const char *data, size_t len, const char *content_type,
			 struct image_manifest *ret, struct errmsg *em)
{
	const cJSON *cfg, *layers, *l;
	cJSON *root = NULL;
	char what[64];
	int err;

	memset(ret, 0, sizeof(*ret));
	err = doc_open(data, len, content_type, IMAGE_DOC_MANIFEST, &root, em);
	if (err)
		return err;
	err = member(root, "config", "image manifest", &cfg, em);
	if (err)
		goto out;
	if (!cfg) {
		err = errmsg_set(em, -EINVAL, "the image manifest has no \"config\"");
		goto out;
	}
	err = desc_parse(cfg, "manifest's config descriptor", &ret->config, em);
	if (err)
		goto out;
	if (!in_list(config_types, ret->config.media_type)) {
		err = errmsg_set(em, -EINVAL, "the image config has media type %s; bpfd "
				 "reads %s and %s", ret->config.media_type,
				 MT_OCI_CONFIG, MT_DOCKER_CONFIG);
		goto out;
	}
	err = member(root, "layers", "image manifest", &layers, em);
	if (err)
		goto out;
	if (!cJSON_IsArray(layers) || !cJSON_GetArraySize(layers)) {
		err = errmsg_set(em, -EINVAL, "the image manifest has no layers");
		goto out;
	}
	cJSON_ArrayForEach(l, layers) {
		if (ret->n_layers == IMAGE_MAX_LAYERS) {
			err = errmsg_set(em, -E2BIG, "the image has more than %d layers; "
					 "an eBPF bytecode image needs one", IMAGE_MAX_LAYERS);
			goto out;
		}
		snprintf(what, sizeof(what), "descriptor of layer %zu", ret->n_layers);
		err = desc_parse(l, what, &ret->layers[ret->n_layers], em);
		if (!err)
			err = layer_check(&ret->layers[ret->n_layers], ret->n_layers, em);
		if (err)
			goto out;
		ret->n_layers++;
	}
out:
	cJSON_Delete(root);
	return err;
}

static int platform_parse(const cJSON *obj, struct image_platform_desc *p, size_t i,
			  struct errmsg *em)
{
	const cJSON *plat;
	char what[64];
	int err;

	snprintf(what, sizeof(what), "platform of index entry %zu", i);
	err = member(obj, "platform", what, &plat, em);
	if (err || !plat)
		return err;
	if (!cJSON_IsObject(plat))
		return errmsg_set(em, -EINVAL, "the %s is not a JSON object", what);
	err = get_str(plat, "os", false, p->os, sizeof(p->os), what, em);
	if (!err)
		err = get_str(plat, "architecture", false, p->arch, sizeof(p->arch),
			      what, em);
	if (!err)
		err = get_str(plat, "variant", false, p->variant, sizeof(p->variant),
			      what, em);
	return err;
}

int image_index_parse(const char *data, size_t len, const char *content_type,
		      struct image_index *ret, struct errmsg *em)
{
	const cJSON *list, *m;
	cJSON *root = NULL;
	char what[64];
	int err;

	memset(ret, 0, sizeof(*ret));
	err = doc_open(data, len, content_type, IMAGE_DOC_INDEX, &root, em);
	if (err)
		return err;
	err = member(root, "manifests", "image index", &list, em);
	if (err)
		goto out;
	if (!cJSON_IsArray(list)) {
		err = errmsg_set(em, -EINVAL, "the image index has no \"manifests\" list");
		goto out;
	}
	cJSON_ArrayForEach(m, list) {
		struct image_platform_desc *p = &ret->manifests[ret->n_manifests];

		if (ret->n_manifests == IMAGE_MAX_INDEX) {
			err = errmsg_set(em, -E2BIG, "the image index lists more than %d "
					 "manifests", IMAGE_MAX_INDEX);
			goto out;
		}
		snprintf(what, sizeof(what), "index entry %zu", ret->n_manifests);
		err = desc_parse(m, what, &p->desc, em);
		if (!err)
			err = platform_parse(m, p, ret->n_manifests, em);
		if (err)
			goto out;
		ret->n_manifests++;
	}
out:
	cJSON_Delete(root);
	return err;
}

/* How well an entry's variant fits: 2 same, 1 unspecified on either side, 0 other. */
static int variant_fit(const char *arch, const char *have, const char *want)
{
	if (!strcmp(have, want))
		return 2;
	/* arm64 without a variant is v8 */
	if (!strcmp(arch, "arm64") && (!strcmp(have, "v8") || !have[0]) &&
	    (!strcmp(want, "v8") || !want[0]))
		return 2;
	return !have[0] || !want[0];
}

int image_index_pick(const struct image_index *idx, const char *arch, const char *variant,
		     const struct image_platform_desc **ret, struct errmsg *em)
{
	const struct image_platform_desc *p, *best = NULL;
	char have[512] = "";
	size_t i, n = 0, len = 0;
	int fit, best_fit = -1;

	for (i = 0; i < idx->n_manifests; i++) {
		p = &idx->manifests[i];
		if (strcmp(p->os, "linux") || strcmp(p->arch, arch) ||
		    !in_list(manifest_types, p->desc.media_type))
			continue;
		n++;
		fit = variant_fit(arch, p->variant, variant);
		if (fit > best_fit) {
			best = p;
			best_fit = fit;
		}
	}
	/* the variant decides only between several entries of one arch */
	if (best && (n == 1 || best_fit > 0)) {
		*ret = best;
		return 0;
	}
	for (i = 0; i < idx->n_manifests && len + 1 < sizeof(have); i++) {
		p = &idx->manifests[i];
		len += snprintf(have + len, sizeof(have) - len, "%s%s/%s%s%s",
				i ? ", " : "", p->os[0] ? p->os : "?",
				p->arch[0] ? p->arch : "?", p->variant[0] ? "/" : "",
				p->variant);
	}
	if (best)
		return errmsg_set(em, -ENOENT, "the image index has several linux/%s "
				  "images, none for variant %s (it has: %s)", arch,
				  variant[0] ? variant : "(none)", have);
	return errmsg_set(em, -ENOENT, "the image index has no image for linux/%s "
			  "(it has: %s)", arch, idx->n_manifests ? have : "nothing");
}

static const struct {
	const char *machine;	/* uname -m, or its prefix when it ends with '*' */
	const char *arch;
	const char *variant;
} arch_map[] = {
	{ "x86_64", "amd64", "" },
	{ "amd64", "amd64", "" },
	{ "i386", "386", "" },
	{ "i486", "386", "" },
	{ "i586", "386", "" },
	{ "i686", "386", "" },
	{ "aarch64", "arm64", "v8" },
	{ "arm64", "arm64", "v8" },
	{ "armv8*", "arm64", "v8" },
	{ "armv7*", "arm", "v7" },
	{ "armv6*", "arm", "v6" },
	{ "armv5*", "arm", "v5" },
	{ "ppc64le", "ppc64le", "" },
	{ "ppc64", "ppc64", "" },
	{ "s390x", "s390x", "" },
	{ "riscv64", "riscv64", "" },
	{ "mips64", "mips64", "" },
	{ "loongarch64", "loong64", "" },
};

int image_arch_of(const char *machine, const char **ret_arch, const char **ret_variant)
{
	size_t i, n;

	for (i = 0; i < sizeof(arch_map) / sizeof(arch_map[0]); i++) {
		n = strlen(arch_map[i].machine);
		if (arch_map[i].machine[n - 1] == '*' ?
		    strncmp(machine, arch_map[i].machine, n - 1) :
		    strcmp(machine, arch_map[i].machine))
			continue;
		*ret_arch = arch_map[i].arch;
		*ret_variant = arch_map[i].variant;
		return 0;
	}
	return -ENOENT;
}

int image_arch_host(const char **ret_arch, const char **ret_variant, struct errmsg *em)
{
	struct utsname u;

	if (uname(&u) < 0)
		return errmsg_set(em, -errno, "uname: %s", strerror(errno));
	if (image_arch_of(u.machine, ret_arch, ret_variant))
		return errmsg_set(em, -ENOENT, "bpfd does not know the OCI name of "
				  "machine architecture %s", u.machine);
	return 0;
}

static bool is_ident(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* Type words (xdp, tc, per_cpu_array): letters, digits, '_'; made lowercase. */
static bool type_norm(char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
		*s = tolower((unsigned char)*s);
	}
	return true;
}

/* A relative path without "", "." or ".." components, in printable ASCII. */
static bool filename_valid(const char *s)
{
	const char *c, *slash;
	size_t n;

	if (!*s || *s == '/')
		return false;
	for (c = s; *c; c++)
		if (*c < ' ' || *c > '~')
			return false;
	for (c = s;; c = slash + 1) {
		slash = strchr(c, '/');
		n = slash ? (size_t)(slash - c) : strlen(c);
		if (!n || (n == 1 && c[0] == '.') || (n == 2 && !strncmp(c, "..", 2)))
			return false;
		if (!slash)
			return true;
	}
}

/* io.ebpf.programs / io.ebpf.maps: a JSON object of name -> type in a string. */
static int label_pairs(const char *label, const char *value, bool need_one,
		       struct image_label_pair *pairs, size_t *ret_n, struct errmsg *em)
{
	const cJSON *c, *d;
	cJSON *root = NULL;
	size_t n = 0;
	int err;

	err = json_open(value, strlen(value), IMAGE_MAX_LABEL, "value", &root, em);
	if (err) {
		errmsg_prefix(em, "label %s must hold a JSON object of name: type",
			      label);
		return err;
	}
	cJSON_ArrayForEach(c, root) {
		if (n == IMAGE_MAX_PROGRAMS) {
			err = errmsg_set(em, -E2BIG, "label %s has more than %d entries",
					   label, IMAGE_MAX_PROGRAMS);
			goto out;
		}
		for (d = root->child; d != c; d = d->next)
			if (!strcmp(d->string, c->string)) {
				err = errmsg_set(em, -EINVAL, "label %s names \"%s\" "
						   "twice", label, c->string);
				goto out;
			}
		if (!is_ident(c->string) || strlen(c->string) > IMAGE_NAME_MAX) {
			err = errmsg_set(em, -EINVAL, "label %s: \"%.*s\" is not a C "
					   "identifier of at most %d characters", label,
					   printable(c->string) ? 200 : 0, c->string,
					   IMAGE_NAME_MAX);
			goto out;
		}
		if (!cJSON_IsString(c) || strlen(c->valuestring) > IMAGE_TYPE_MAX ||
		    !printable(c->valuestring)) {
			err = errmsg_set(em, -EINVAL, "label %s: the type of \"%s\" must "
					   "be a string of at most %d ASCII characters", label,
					   c->string, IMAGE_TYPE_MAX);
			goto out;
		}
		strcpy(pairs[n].name, c->string);
		strcpy(pairs[n].type, c->valuestring);
		if (!type_norm(pairs[n].type)) {
			err = errmsg_set(em, -EINVAL, "label %s: the type of \"%s\" "
					   "(\"%s\") is not a word of letters, digits and "
					   "'_'", label, c->string, c->valuestring);
			goto out;
		}
		n++;
	}
	if (need_one && !n)
		err = errmsg_set(em, -EINVAL, "label %s names no program", label);
out:
	cJSON_Delete(root);
	if (!err)
		*ret_n = n;
	return err;
}

static int legacy_labels(const cJSON *labels, struct image_config *c, struct errmsg *em)
{
	static const char *const names[] = {
		LABEL_PREFIX "program_type", LABEL_PREFIX "filename",
		LABEL_PREFIX "program_name", LABEL_PREFIX "bpf_function_name",
	};
	char *const bufs[] = { c->program_type, c->filename, c->program_name,
			       c->function_name };
	const size_t sizes[] = { sizeof(c->program_type), sizeof(c->filename),
				 sizeof(c->program_name), sizeof(c->function_name) };
	char missing[256] = "";
	size_t i, have = 0;
	int err;

	for (i = 0; i < 4; i++) {
		err = get_str(labels, names[i], false, bufs[i], sizes[i], "image labels",
			      em);
		if (err)
			return err;
		if (bufs[i][0])
			have++;
		else
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s", missing[0] ? ", " : "", names[i]);
	}
	if (!have)
		return 0;
	if (have < 4)
		return errmsg_set(em, -EINVAL, "the image has some of the io.ebpf.* "
				  "labels but not %s; rebuild it with all four", missing);
	if (!type_norm(c->program_type))
		return errmsg_set(em, -EINVAL, "label io.ebpf.program_type \"%s\" is not "
				  "a word of letters, digits and '_'", c->program_type);
	if (!filename_valid(c->filename))
		return errmsg_set(em, -EINVAL, "label io.ebpf.filename \"%s\" is not a "
				  "relative path inside the image", c->filename);
	if (!is_ident(c->function_name))
		return errmsg_set(em, -EINVAL, "label io.ebpf.bpf_function_name \"%s\" "
				  "is not a C identifier", c->function_name);
	for (i = 0; c->program_name[i]; i++)
		if (!isalnum((unsigned char)c->program_name[i]) &&
		    !strchr("_.-", c->program_name[i]))
			return errmsg_set(em, -EINVAL, "label io.ebpf.program_name \"%s\" "
					  "may only hold letters, digits, '_', '.' and "
					  "'-'", c->program_name);
	c->has_legacy = true;
	return 0;
}

/* A string label's value, NULL when absent. */
static int label_get(const cJSON *labels, const char *name, const char **ret,
		     struct errmsg *em)
{
	const cJSON *v;
	int err;

	*ret = NULL;
	err = member(labels, name, "image labels", &v, em);
	if (err || !v)
		return err;
	if (!cJSON_IsString(v))
		return errmsg_set(em, -EINVAL, "label %s is not a string", name);
	if (strlen(v->valuestring) > IMAGE_MAX_LABEL)
		return errmsg_set(em, -E2BIG, "label %s is longer than %u bytes", name,
				  IMAGE_MAX_LABEL);
	*ret = v->valuestring;
	return 0;
}

static int labels_parse(const cJSON *labels, struct image_config *c, struct errmsg *em)
{
	const char *value;
	int err;

	err = legacy_labels(labels, c, em);
	if (!err)
		err = label_get(labels, LABEL_PREFIX "programs", &value, em);
	if (!err && value)
		err = label_pairs(LABEL_PREFIX "programs", value, true, c->programs,
				  &c->n_programs, em);
	if (!err)
		err = label_get(labels, LABEL_PREFIX "maps", &value, em);
	if (!err && value)
		err = label_pairs(LABEL_PREFIX "maps", value, false, c->maps, &c->n_maps,
				  em);
	if (err)
		return err;
	if (!c->has_legacy && !c->n_programs)
		return errmsg_set(em, -EINVAL, "the image has no eBPF labels: it needs "
				  "io.ebpf.programs, or io.ebpf.program_type, "
				  "io.ebpf.filename, io.ebpf.program_name and "
				  "io.ebpf.bpf_function_name");
	return 0;
}

int image_config_parse(const char *data, size_t len, struct image_config *ret,
		       struct errmsg *em)
{
	const cJSON *cfg, *labels = NULL;
	cJSON *root = NULL;
	int err;

	memset(ret, 0, sizeof(*ret));
	err = json_open(data, len, IMAGE_MAX_CONFIG, "image config", &root, em);
	if (err)
		return err;
	err = get_str(root, "os", false, ret->os, sizeof(ret->os), "image config", em);
	if (!err)
		err = get_str(root, "architecture", false, ret->arch, sizeof(ret->arch),
			      "image config", em);
	if (!err)
		err = member(root, "config", "image config", &cfg, em);
	if (!err && cfg && !cJSON_IsNull(cfg)) {
		if (!cJSON_IsObject(cfg))
			err = errmsg_set(em, -EINVAL, "\"config\" in the image config is "
					 "not a JSON object");
		else
			err = member(cfg, "Labels", "image config", &labels, em);
	}
	if (!err && labels && !cJSON_IsNull(labels) && !cJSON_IsObject(labels))
		err = errmsg_set(em, -EINVAL, "config.Labels in the image config is not "
				 "a JSON object");
	if (err)
		goto out;
	if (!labels || cJSON_IsNull(labels)) {
		err = errmsg_set(em, -EINVAL, "the image config has no labels; an eBPF "
				 "bytecode image needs io.ebpf.programs or the four "
				 "legacy io.ebpf.* labels");
		goto out;
	}
	err = labels_parse(labels, ret, em);
out:
	cJSON_Delete(root);
	return err;
}
