/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_k8s_pullsecret.c - libFuzzer target for the image pull Secrets the agent reads
 * (k8s_pull_secret_cred): the input as a whole Secret, and as the .dockerconfigjson a
 * well-formed Secret carries; the registry looked for is picked by the first byte.
 * Contract: 0, -EINVAL, -ENOENT or -ENOMEM; an error has a printable message and
 * leaves the credentials empty; credentials returned fit and hold no NUL before
 * their end; the Secret's data is all zeros after k8s_secret_wipe(). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "fuzz.h"
#include "core/base/base64.h"
#include "core/base/errmsg.h"
#include "core/k8s/pullsecret.h"

static const char *const registries[] = {
	"127.0.0.1:5000", "docker.io", "quay.io", "reg.example:443", "r",
};

static void check_wiped(const cJSON *node)
{
	const cJSON *it;

	if (cJSON_IsString(node) && node->valuestring)
		CHECK(node->valuestring[0] == '\0');
	cJSON_ArrayForEach(it, node)
		check_wiped(it);
}

static void one(cJSON *secret, const char *registry)
{
	struct k8s_registry_cred c;
	struct errmsg em = { "" };
	const char *p;
	int err;

	err = k8s_pull_secret_cred(secret, registry, &c, &em);
	CHECK(!err || err == -EINVAL || err == -ENOENT || err == -ENOMEM);
	TERMINATED(c.username);
	TERMINATED(c.password);
	if (err) {
		CHECK(em.msg[0] || err == -ENOMEM);
		for (p = em.msg; *p; p++)
			CHECK((unsigned char)*p >= ' ' && (unsigned char)*p < 127);
		CHECK(!c.username[0] && !c.password[0]);
	} else {
		CHECK(c.username[0]);
	}
	k8s_secret_wipe(secret);
	check_wiped(cJSON_GetObjectItemCaseSensitive(secret, "data"));
	check_wiped(cJSON_GetObjectItemCaseSensitive(secret, "stringData"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *reg = registries[size ? data[0] % (sizeof(registries) / sizeof(registries[0])) : 0];
	cJSON *s, *d;
	char *b64;

	s = cJSON_ParseWithLength((const char *)data, size);
	if (s) {
		one(s, reg);
		cJSON_Delete(s);
	}
	b64 = base64_encode(data, size);
	s = cJSON_CreateObject();
	if (b64 && s && cJSON_AddStringToObject(s, "type", K8S_SECRET_DOCKERCONFIGJSON) &&
	    (d = cJSON_AddObjectToObject(s, "data")) &&
	    cJSON_AddStringToObject(d, ".dockerconfigjson", b64))
		one(s, reg);
	cJSON_Delete(s);
	free(b64);
	return 0;
}
