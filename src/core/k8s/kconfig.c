/* SPDX-License-Identifier: Apache-2.0 */
/* kconfig.c - the API server and the agent's credentials: kubeconfig or in-cluster */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "core/base/base64.h"
#include "core/base/errmsg.h"
#include "core/base/fs.h"
#include "core/k8s/api.h"
#include "core/k8s/kconfig.h"
#include "core/k8s/yamljson.h"

#define MAX_KUBECONFIG	(1u << 20)

void k8s_config_fini(struct k8s_config *c)
{
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c->token);
	free(c->token_file);
	memset(c, 0, sizeof(*c));
}

/* The entry of list (clusters, users, contexts) called name, or NULL. */
static const cJSON *named(const cJSON *root, const char *list, const char *name,
			  const char *field)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, list)) {
		if (!strcmp(k8s_json_str(it, "name") ?: "", name)) {
			it = cJSON_GetObjectItemCaseSensitive(it, field);
			return cJSON_IsObject(it) ? it : NULL;
		}
	}
	return NULL;
}

/* A file named by a kubeconfig, relative to its folder. */
static char *rel_path(const char *kubeconfig, const char *file)
{
	const char *slash = strrchr(kubeconfig, '/');
	char *out;

	if (file[0] == '/' || !slash)
		return strdup(file);
	if (asprintf(&out, "%.*s/%s", (int)(slash - kubeconfig), kubeconfig, file) < 0)
		return NULL;
	return out;
}

/* FIELD (a file) or FIELD-data (base64 PEM) of obj into *ret (a path or PEM text). */
static int pem_field(const cJSON *obj, const char *field, const char *path, char **ret,
		     struct errmsg *em)
{
	char data_field[64];
	const char *file, *data;
	unsigned char *pem = NULL;
	size_t len;

	snprintf(data_field, sizeof(data_field), "%s-data", field);
	file = k8s_json_str(obj, field);
	data = k8s_json_str(obj, data_field);
	if (data && *data) {
		if (base64_decode(data, strlen(data), &pem, &len) || !len ||
		    !strstr((char *)pem, "-----BEGIN")) {
			free(pem);
			return errmsg_set(em, -EINVAL, "kubeconfig %s: %s is not base64 of a PEM "
					  "certificate or key", path, data_field);
		}
		*ret = (char *)pem;
		return 0;
	}
	if (file && *file) {
		*ret = rel_path(path, file);
		return *ret ? 0 : errmsg_set(em, -ENOMEM, "out of memory");
	}
	return 0;
}

static int cluster_config(const cJSON *cl, const char *path, const char *name,
			  struct k8s_config *c, struct errmsg *em)
{
	const char *server = k8s_json_str(cl, "server"), *sni;
	const cJSON *insecure = cJSON_GetObjectItemCaseSensitive(cl, "insecure-skip-tls-verify");
	size_t n;

	if (!server || strncmp(server, "https://", 8))
		return errmsg_set(em, -EINVAL, "kubeconfig %s: cluster '%s' needs a server "
				  "https://HOST:PORT (plain http is not supported)", path, name);
	if (cJSON_IsTrue(insecure) ||
	    (cJSON_IsString(insecure) && !strcmp(insecure->valuestring, "true")))
		return errmsg_set(em, -EINVAL, "kubeconfig %s: cluster '%s' sets "
				  "insecure-skip-tls-verify: the agent always verifies the API "
				  "server; give certificate-authority instead", path, name);
	n = strlen(server);
	while (n > 8 && server[n - 1] == '/')
		n--;
	if (n >= sizeof(c->server))
		return errmsg_set(em, -ENAMETOOLONG, "kubeconfig %s: server is too long", path);
	memcpy(c->server, server, n);
	c->server[n] = '\0';
	if (strchr(c->server + 8, '/'))
		return errmsg_set(em, -EINVAL, "kubeconfig %s: server '%s' has a path; the agent "
				  "needs https://HOST:PORT", path, c->server);
	sni = k8s_json_str(cl, "tls-server-name");
	if (sni && snprintf(c->tls_server_name, sizeof(c->tls_server_name), "%s", sni) >=
		   (int)sizeof(c->tls_server_name))
		return errmsg_set(em, -ENAMETOOLONG, "kubeconfig %s: tls-server-name is too long",
				  path);
	return pem_field(cl, "certificate-authority", path, &c->ca, em);
}

static int user_config(const cJSON *u, const char *path, const char *name,
		       struct k8s_config *c, struct errmsg *em)
{
	static const char *const unsupported[] = { "exec", "auth-provider", "username",
						   "password" };
	const char *tok, *tokfile;
	size_t i;
	int err;

	for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		if (cJSON_GetObjectItemCaseSensitive(u, unsupported[i]))
			return errmsg_set(em, -EOPNOTSUPP, "kubeconfig %s: user '%s' uses '%s', "
					  "which the agent does not support: give a token, a "
					  "tokenFile or a client certificate", path, name,
					  unsupported[i]);
	}
	tok = k8s_json_str(u, "token");
	tokfile = k8s_json_str(u, "tokenFile");
	if (tok && *tok && !(c->token = strdup(tok)))
		return -ENOMEM;
	if (tokfile && *tokfile && !(c->token_file = rel_path(path, tokfile)))
		return -ENOMEM;
	err = pem_field(u, "client-certificate", path, &c->cert, em);
	if (!err)
		err = pem_field(u, "client-key", path, &c->key, em);
	if (err)
		return err;
	if (!c->cert != !c->key)
		return errmsg_set(em, -EINVAL, "kubeconfig %s: user '%s' has a client %s but no "
				  "client %s", path, name, c->cert ? "certificate" : "key",
				  c->cert ? "key" : "certificate");
	return 0;
}

static int from_tree(const cJSON *root, const char *path, const char *context,
		     struct k8s_config *c, struct errmsg *em)
{
	const char *cname, *uname, *ns;
	const cJSON *ctx, *cl, *u;

	if (!context)
		context = k8s_json_str(root, "current-context");
	if (!context || !*context)
		return errmsg_set(em, -EINVAL, "kubeconfig %s has no current-context: give "
				  "--context", path);
	ctx = named(root, "contexts", context, "context");
	if (!ctx)
		return errmsg_set(em, -ENOENT, "kubeconfig %s has no context '%s'", path, context);
	cname = k8s_json_str(ctx, "cluster");
	uname = k8s_json_str(ctx, "user");
	ns = k8s_json_str(ctx, "namespace");
	cl = cname ? named(root, "clusters", cname, "cluster") : NULL;
	if (!cl)
		return errmsg_set(em, -ENOENT, "kubeconfig %s: context '%s' names no cluster that "
				  "is defined", path, context);
	u = uname ? named(root, "users", uname, "user") : NULL;
	if (uname && !u)
		return errmsg_set(em, -ENOENT, "kubeconfig %s: context '%s' names user '%s', "
				  "which is not defined", path, context, uname);
	snprintf(c->namespace, sizeof(c->namespace), "%s", ns ? ns : "");
	snprintf(c->source, sizeof(c->source), "kubeconfig %s context %s", path, context);
	if (cluster_config(cl, path, cname, c, em))
		return -EINVAL;
	return u ? user_config(u, path, uname, c, em) : 0;
}

int k8s_config_from_kubeconfig(const char *path, const char *context, struct k8s_config *ret,
			       struct errmsg *em)
{
	char *text = NULL, what[600];
	cJSON *root = NULL;
	size_t len;
	int err;

	memset(ret, 0, sizeof(*ret));
	err = fs_read_file(path, MAX_KUBECONFIG, &text, &len, em);
	if (err)
		return err;
	snprintf(what, sizeof(what), "kubeconfig %s", path);
	err = yamljson_parse(text, len, what, &root, em);
	if (!err && !cJSON_IsObject(root))
		err = errmsg_set(em, -EINVAL, "kubeconfig %s is not a mapping", path);
	if (!err)
		err = from_tree(root, path, context, ret, em);
	if (err)
		k8s_config_fini(ret);
	cJSON_Delete(root);
	free(text);
	return err;
}

int k8s_config_in_cluster(const char *sa_dir, struct k8s_config *ret, struct errmsg *em)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char path[512], *ns = NULL, *tok;
	size_t len;
	int err;

	memset(ret, 0, sizeof(*ret));
	if (!sa_dir)
		sa_dir = K8S_SA_DIR;
	if (!host || !*host || !port || !*port)
		return errmsg_set(em, -ENOENT, "not in a pod: KUBERNETES_SERVICE_HOST and "
				  "KUBERNETES_SERVICE_PORT are not set; give --kubeconfig");
	if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
		return errmsg_set(em, -EINVAL, "KUBERNETES_SERVICE_PORT '%.16s' is not a port", port);
	snprintf(ret->server, sizeof(ret->server), strchr(host, ':') ? "https://[%s]:%s" :
		 "https://%s:%s", host, port);
	snprintf(ret->tls_server_name, sizeof(ret->tls_server_name), "%s", K8S_IN_CLUSTER_NAME);
	snprintf(ret->source, sizeof(ret->source), "in-cluster (%s)", sa_dir);
	snprintf(path, sizeof(path), "%s/ca.crt", sa_dir);
	ret->ca = strdup(path);
	snprintf(path, sizeof(path), "%s/token", sa_dir);
	ret->token_file = strdup(path);
	if (!ret->ca || !ret->token_file) {
		k8s_config_fini(ret);
		return errmsg_set(em, -ENOMEM, "out of memory");
	}
	snprintf(path, sizeof(path), "%s/namespace", sa_dir);
	if (!fs_read_file(path, 256, &ns, &len, NULL)) {
		len = strcspn(ns, "\r\n ");
		if (len < sizeof(ret->namespace))
			snprintf(ret->namespace, sizeof(ret->namespace), "%.*s", (int)len, ns);
		free(ns);
	}
	/* the token must be readable now: fail early with the reason */
	tok = malloc(K8S_MAX_TOKEN);
	err = tok ? k8s_config_token(ret, tok, K8S_MAX_TOKEN, em) : -ENOMEM;
	free(tok);
	if (err)
		k8s_config_fini(ret);
	return err;
}

int k8s_config_token(const struct k8s_config *c, char *buf, size_t size, struct errmsg *em)
{
	char *text = NULL;
	size_t len;
	int err;

	if (size)
		buf[0] = '\0';
	if (!c->token_file) {
		if (!c->token)
			return 0;
		if (strlen(c->token) >= size)
			return errmsg_set(em, -ENOSPC, "the bearer token is over %zu bytes", size - 1);
		strcpy(buf, c->token);
		return 0;
	}
	err = fs_read_file(c->token_file, K8S_MAX_TOKEN, &text, &len, em);
	if (err) {
		errmsg_prefix(em, "the service account token");
		return err;
	}
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (!len || strpbrk(text, "\r\n")) {
		free(text);
		return errmsg_set(em, -EINVAL, "the token file %s is empty or not one line",
				  c->token_file);
	}
	if (len >= size) {
		free(text);
		return errmsg_set(em, -ENOSPC, "the token in %s is over %zu bytes", c->token_file,
				  size - 1);
	}
	memcpy(buf, text, len + 1);
	free(text);
	return 0;
}
