/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_k8s.c - libFuzzer target for what bpfd-agent reads from the API server and
 * from a kubeconfig
 *
 * Every input goes through: the watch stream decoder (fed whole, then in pieces
 * whose sizes come from the input's first byte), a list, an object and an error
 * Status body, a label selector matched against labels (both from the input when
 * it is a JSON object with "selector" and "labels"), and the YAML reader
 * (yamljson, what a kubeconfig goes through).  Besides ASan/UBSan/leak findings it
 * aborts when a parser breaks its contract: both ways of feeding the stream give
 * the same events and the same result; errors are the documented ones with a
 * printable message; parsed lists and objects carry a name and resourceVersion
 * that fit their limits; a selector answers 1, 0 or -EINVAL.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "fuzz.h"
#include "core/base/errmsg.h"
#include "core/k8s/api.h"
#include "core/k8s/watch.h"
#include "core/k8s/yamljson.h"

static void check_msg(int err, const struct errmsg *em)
{
	fuzz_check_msg(err, em->msg);
}

struct seen {
	unsigned long n;
	unsigned long hash;
};

static int on_event(void *arg, enum k8s_event_type type, cJSON *obj, struct errmsg *em)
{
	struct seen *s = arg;
	const char *rv = k8s_meta_str(obj, "resourceVersion");
	const char *p;

	(void)em;
	CHECK(type >= K8S_ADDED && type <= K8S_ERROR);
	CHECK(cJSON_IsObject(obj));
	if (type != K8S_ERROR) {
		CHECK(rv && *rv && strlen(rv) < K8S_MAX_RV);
		for (p = rv; *p; p++)
			s->hash = s->hash * 31 + (unsigned char)*p;
	}
	if (type != K8S_ERROR && type != K8S_BOOKMARK)
		CHECK(strlen(k8s_meta_str(obj, "name")) < K8S_MAX_NAME);
	s->hash = s->hash * 7 + type;
	s->n++;
	cJSON_Delete(obj);
	return 0;
}

static int feed(const uint8_t *data, size_t size, size_t piece, struct seen *s)
{
	struct k8s_watch_dec d;
	struct errmsg em = { 0 };
	size_t off, n;
	int err = 0;

	k8s_watch_dec_init(&d, on_event, s);
	d.max_line = 64 << 10;
	for (off = 0; off < size && !err; off += n) {
		n = size - off < piece ? size - off : piece;
		err = k8s_watch_dec_feed(&d, data + off, n, &em);
	}
	CHECK(!err || err == -EPROTO || err == -EFBIG || err == -ENOMEM);
	check_msg(err, &em);
	CHECK(k8s_watch_dec_pending(&d) <= d.max_line);
	k8s_watch_dec_fini(&d);
	return err;
}

static void watch(const uint8_t *data, size_t size)
{
	struct seen a = { 0 }, b = { 0 };
	size_t piece = size ? (data[0] % 31) + 1 : 1;
	int e1, e2;

	e1 = feed(data, size, size ? size : 1, &a);
	e2 = feed(data, size, piece, &b);
	/* an over-long line is found at different points; everything else agrees */
	if (e1 != -EFBIG && e2 != -EFBIG) {
		CHECK(e1 == e2);
		CHECK(a.n == b.n && a.hash == b.hash);
	}
}

static void documents(const char *text, size_t size)
{
	char rv[K8S_MAX_RV], cont[256];
	struct errmsg em = { 0 };
	struct k8s_status st;
	cJSON *root = NULL, *it;
	int err;

	err = k8s_list_parse(text, size, &root, rv, cont, sizeof(cont), &em);
	CHECK(!err || err == -EPROTO);
	check_msg(err, &em);
	if (!err) {
		CHECK(rv[0] && strlen(rv) < K8S_MAX_RV && strlen(cont) < sizeof(cont));
		cJSON_ArrayForEach(it, k8s_list_items(root)) {
			CHECK(k8s_meta_str(it, "name") && k8s_meta_str(it, "resourceVersion"));
		}
		cJSON_Delete(root);
	}
	memset(&em, 0, sizeof(em));
	root = NULL;
	err = k8s_object_parse(text, size, &root, &em);
	CHECK(!err || err == -EPROTO);
	check_msg(err, &em);
	cJSON_Delete(root);

	k8s_status_from_body(500, text, size, &st);
	CHECK(st.code >= 0 && st.code < 1000);
	CHECK(strlen(st.message) < sizeof(st.message) && strlen(st.reason) < sizeof(st.reason));
}

static void selector(const char *text, size_t size)
{
	cJSON *root = cJSON_ParseWithLength(text, size);
	struct errmsg em = { 0 };
	int r;

	if (!root)
		return;
	r = k8s_selector_match(cJSON_GetObjectItemCaseSensitive(root, "selector"),
			       cJSON_GetObjectItemCaseSensitive(root, "labels"), &em);
	CHECK(r == 0 || r == 1 || r == -EINVAL);
	check_msg(r < 0 ? r : 0, &em);
	cJSON_Delete(root);
}

static void yaml(const char *text, size_t size)
{
	struct errmsg em = { 0 };
	cJSON *root = NULL;
	int err;

	err = yamljson_parse(text, size, "fuzz", &root, &em);
	CHECK(!err || err == -EINVAL || err == -E2BIG || err == -ENOMEM);
	check_msg(err, &em);
	CHECK(!err == !!root);
	cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	watch(data, size);
	documents((const char *)data, size);
	selector((const char *)data, size);
	yaml((const char *)data, size);
	return 0;
}
