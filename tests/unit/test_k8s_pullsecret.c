/* SPDX-License-Identifier: Apache-2.0 */
/* test_k8s_pullsecret.c - registry credentials from image pull Secrets
 * (kubernetes.io/dockerconfigjson), as kubectl create secret docker-registry makes
 * them: key forms, auth vs username/password, Docker Hub aliases, refusals whose
 * messages never carry a credential */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/base/base64.h"
#include "core/base/errmsg.h"
#include "core/k8s/pullsecret.h"

/* A Secret of type whose .dockerconfigjson is config (base64-encoded here). */
static cJSON *secret(const char *type, const char *config)
{
	char *b64 = base64_encode(config, strlen(config));
	cJSON *s = cJSON_CreateObject(), *data;

	cJSON_AddStringToObject(s, "kind", "Secret");
	if (type)
		cJSON_AddStringToObject(s, "type", type);
	data = cJSON_AddObjectToObject(s, "data");
	cJSON_AddStringToObject(data, ".dockerconfigjson", b64);
	free(b64);
	return s;
}

static int cred(const char *config, const char *registry, struct k8s_registry_cred *c,
		struct errmsg *em)
{
	cJSON *s = secret(K8S_SECRET_DOCKERCONFIGJSON, config);
	int err;

	memset(em, 0, sizeof(*em));
	err = k8s_pull_secret_cred(s, registry, c, em);
	k8s_secret_wipe(s);
	cJSON_Delete(s);
	return err;
}

static void forms(void)
{
	struct k8s_registry_cred c;
	struct errmsg em;

	/* kubectl create secret docker-registry: username, password and auth */
	ASSERT_OK(cred("{\"auths\":{\"127.0.0.1:5000\":{\"username\":\"u\",\"password\":\"p:w\","
		       "\"auth\":\"dTpwOnc=\"}}}", "127.0.0.1:5000", &c, &em), "username");
	ASSERT_STREQ(c.username, "u", "user");
	ASSERT_STREQ(c.password, "p:w", "password");
	/* auth alone (base64 of "kuser:pa:ss"), key with scheme and path, any case */
	ASSERT_OK(cred("{\"auths\":{\"HTTPS://Reg.Example:443/v1/\":{\"auth\":\"a3VzZXI6cGE6c3M=\"}}}",
		       "reg.example:443", &c, &em), "auth");
	ASSERT_STREQ(c.username, "kuser", "user from auth");
	ASSERT_STREQ(c.password, "pa:ss", "password from auth: split at the first ':'");
	/* Docker Hub under any of its names */
	ASSERT_OK(cred("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"YTpi\"}}}",
		       "docker.io", &c, &em), "hub");
	ASSERT_STREQ(c.username, "a", "hub user");
	/* the right entry of several; a port is part of the name */
	ASSERT_OK(cred("{\"auths\":{\"r:1\":{\"auth\":\"eDp5\"},\"r:2\":{\"auth\":\"YTpi\"}}}",
		       "r:2", &c, &em), "several");
	ASSERT_STREQ(c.username, "a", "the entry of r:2");
}

static void refused(void)
{
	struct k8s_registry_cred c;
	struct errmsg em = { "" };
	cJSON *s;

	ASSERT_EQ(cred("{\"auths\":{\"r:1\":{\"auth\":\"eDp5\"}}}", "r:2", &c, &em), -ENOENT,
		  "no entry");
	ASSERT_STRSTR(em.msg, "no credentials for registry r:2", "message");
	ASSERT_STREQ(c.username, "", "nothing returned");
	ASSERT_EQ(cred("{\"auths\":{\"r\":{\"auth\":\"bm9jb2xvbg==\"}}}", "r", &c, &em), -EINVAL,
		  "auth without ':'");
	ASSERT_STRSTR(em.msg, "not base64 of USER:PASSWORD", "message");
	ASSERT_EQ(cred("{\"auths\":{\"r\":{\"auth\":\"!!\"}}}", "r", &c, &em), -EINVAL,
		  "auth not base64");
	ASSERT_EQ(cred("{\"auths\":{\"r\":{}}}", "r", &c, &em), -EINVAL, "empty entry");
	ASSERT_EQ(cred("{\"auths\":[]}", "r", &c, &em), -EINVAL, "auths not an object");
	ASSERT_EQ(cred("not json", "r", &c, &em), -EINVAL, "not JSON");
	/* the password is in no message */
	ASSERT_EQ(cred("{\"auths\":{\"r\":{\"username\":\"u\",\"password\":\"secret-pw\"}}}", "q",
		       &c, &em), -ENOENT, "other registry");
	ASSERT_TRUE(!strstr(em.msg, "secret-pw"), "no password in the message");

	s = secret("Opaque", "{}");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_pull_secret_cred(s, "r", &c, &em), -EINVAL, "Opaque");
	ASSERT_STRSTR(em.msg, "of type 'Opaque', not kubernetes.io/dockerconfigjson", "message");
	cJSON_Delete(s);
	s = cJSON_Parse("{\"type\":\"kubernetes.io/dockerconfigjson\",\"data\":{}}");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_pull_secret_cred(s, "r", &c, &em), -EINVAL, "no data");
	ASSERT_STRSTR(em.msg, "no .dockerconfigjson", "message");
	cJSON_Delete(s);
}

static void wipe(void)
{
	cJSON *s = secret(K8S_SECRET_DOCKERCONFIGJSON, "{\"auths\":{}}");
	const char *v;

	k8s_secret_wipe(s);
	v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "data"),
					     ".dockerconfigjson")->valuestring;
	ASSERT_EQ(strlen(v), 0, "data wiped");
	cJSON_Delete(s);
}

TEST_MAIN("k8s_pullsecret", TEST(forms), TEST(refused), TEST(wipe))
