/* SPDX-License-Identifier: Apache-2.0 */
/* pullsecret.c - registry credentials from a kubernetes.io/dockerconfigjson Secret */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "core/base/base64.h"
#include "core/base/dockerkey.h"
#include "core/base/errmsg.h"
#include "core/k8s/api.h"
#include "core/k8s/pullsecret.h"

#define MAX_CONFIG	(1u << 20)	/* a Secret holds at most 1 MiB */

/* s with anything but printable ASCII replaced, cut to fit buf (for messages). */
static const char *printable(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s && s[i] && i + 1 < size; i++)
		buf[i] = s[i] > ' ' && s[i] < 127 ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static int copy_cred(char *dst, size_t size, const char *src, size_t n)
{
	if (n >= size)
		return -E2BIG;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* One "auths" entry into ret: username + password, or auth = base64(USER:PASSWORD). */
static int entry_cred(const cJSON *e, struct k8s_registry_cred *ret, struct errmsg *em)
{
	const char *user = k8s_json_str(e, "username"), *pass = k8s_json_str(e, "password");
	const char *auth = k8s_json_str(e, "auth");
	unsigned char *plain = NULL;
	const char *colon;
	size_t len = 0;
	int err;

	if (user && *user) {
		err = copy_cred(ret->username, sizeof(ret->username), user, strlen(user)) ?:
		      copy_cred(ret->password, sizeof(ret->password), pass ?: "",
				strlen(pass ?: ""));
		if (err)
			return errmsg_set(em, -EINVAL, "its username or password is too long");
		return 0;
	}
	if (!auth || !*auth)
		return errmsg_set(em, -EINVAL, "its entry has neither username nor auth");
	err = base64_decode(auth, strlen(auth), &plain, &len);
	if (err == -ENOMEM)
		return errmsg_set(em, err, "out of memory");
	colon = err ? NULL : memchr(plain, ':', len);
	if (!colon || colon == (const char *)plain || memchr(plain, '\0', len))
		err = errmsg_set(em, -EINVAL, "its \"auth\" is not base64 of USER:PASSWORD");
	else if (copy_cred(ret->username, sizeof(ret->username), (const char *)plain,
			   colon - (const char *)plain) ||
		 copy_cred(ret->password, sizeof(ret->password), colon + 1,
			   len - (colon + 1 - (const char *)plain)))
		err = errmsg_set(em, -EINVAL, "its username or password is too long");
	else
		err = 0;
	if (plain) {
		explicit_bzero(plain, len);
		free(plain);
	}
	return err;
}

static void wipe_strings(cJSON *node)
{
	cJSON *it;

	if (cJSON_IsString(node) && node->valuestring)
		explicit_bzero(node->valuestring, strlen(node->valuestring));
	cJSON_ArrayForEach(it, node)
		wipe_strings(it);
}

void k8s_secret_wipe(cJSON *secret)
{
	wipe_strings(cJSON_GetObjectItemCaseSensitive(secret, "data"));
	wipe_strings(cJSON_GetObjectItemCaseSensitive(secret, "stringData"));
}

static int find_cred(const cJSON *doc, const char *registry, struct k8s_registry_cred *ret,
		     struct errmsg *em)
{
	const cJSON *auths = cJSON_GetObjectItemCaseSensitive(doc, "auths"), *e;
	char buf[128];

	if (!cJSON_IsObject(auths))
		return errmsg_set(em, -EINVAL, "its .dockerconfigjson has no \"auths\" object");
	cJSON_ArrayForEach(e, auths) {
		if (e->string && docker_key_matches(e->string, registry))
			return cJSON_IsObject(e) ? entry_cred(e, ret, em) :
			       errmsg_set(em, -EINVAL, "its entry is not an object");
	}
	return errmsg_set(em, -ENOENT, "it has no credentials for registry %s",
			  printable(registry, buf, sizeof(buf)));
}

int k8s_pull_secret_cred(const cJSON *secret, const char *registry,
			 struct k8s_registry_cred *ret, struct errmsg *em)
{
	const char *type = k8s_json_str(secret, "type");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(secret, "data");
	unsigned char *text = NULL;
	const char *b64;
	char buf[64];
	cJSON *doc;
	size_t len = 0;
	int err;

	memset(ret, 0, sizeof(*ret));
	if (!type || strcmp(type, K8S_SECRET_DOCKERCONFIGJSON))
		return errmsg_set(em, -EINVAL, "it is of type '%s', not " K8S_SECRET_DOCKERCONFIGJSON
				  " (kubectl create secret docker-registry makes one)",
				  printable(type ?: "", buf, sizeof(buf)));
	b64 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, ".dockerconfigjson"));
	if (!b64 || strlen(b64) > MAX_CONFIG / 3 * 4 + 4)
		return errmsg_set(em, -EINVAL, "its data has no .dockerconfigjson (or it is over "
				  "1 MiB)");
	err = base64_decode(b64, strlen(b64), &text, &len);
	if (err)
		return errmsg_set(em, err == -ENOMEM ? err : -EINVAL, "its .dockerconfigjson is "
				  "not base64");
	doc = cJSON_ParseWithLength((const char *)text, len);
	explicit_bzero(text, len);
	free(text);
	if (!doc)
		return errmsg_set(em, -EINVAL, "its .dockerconfigjson is not JSON");
	err = find_cred(doc, registry, ret, em);
	wipe_strings(doc);
	cJSON_Delete(doc);
	if (err)
		explicit_bzero(ret, sizeof(*ret));
	return err;
}
