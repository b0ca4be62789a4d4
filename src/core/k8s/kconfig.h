/* SPDX-License-Identifier: Apache-2.0 */
/* kconfig.h - where the API server is and who the agent is: in-cluster (service
 * account token + CA, KUBERNETES_SERVICE_HOST/PORT) or a kubeconfig file (token or
 * client certificate) */
#ifndef BPFD_CORE_K8S_KCONFIG_H
#define BPFD_CORE_K8S_KCONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct errmsg;

#define K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* The name the API server's certificate carries inside every cluster: mbedtls 2.28
 * cannot verify an IP address subjectAltName, so in-cluster (where the host is the
 * service IP) this name is verified instead. */
#define K8S_IN_CLUSTER_NAME "kubernetes.default.svc"
#define K8S_MAX_TOKEN	16384	/* bytes of a bearer token (+ NUL) */

struct k8s_config {
	char server[512];		/* "https://host:port" (no path) */
	char tls_server_name[256];	/* name to verify; "" = the host of server */
	/* Certificates and keys: a path or the PEM text itself (tls.h's rule);
	 * NULL when absent. */
	char *ca;
	char *cert;
	char *key;
	char *token;			/* bearer token, NULL when none */
	char *token_file;		/* re-read before use (tokens rotate), NULL when none */
	char namespace[64];		/* the context's or the service account's; "" if none */
	char source[600];		/* for logs: "in-cluster" or "kubeconfig PATH context C" */
};

/*
 * Read a kubeconfig (YAML or JSON).  context NULL: current-context.  Supported:
 * clusters[].cluster.{server, certificate-authority[-data], tls-server-name},
 * users[].user.{token, tokenFile, client-certificate[-data], client-key[-data]};
 * relative file names are relative to the kubeconfig's folder.  Refused with a
 * message saying so: insecure-skip-tls-verify, a server that is not https, and
 * users with exec, auth-provider or username/password.  0, or -errno with em
 * naming the file and the problem.  Free with k8s_config_fini().
 */
int k8s_config_from_kubeconfig(const char *path, const char *context, struct k8s_config *ret,
			       struct errmsg *em);

/*
 * The in-cluster configuration: $KUBERNETES_SERVICE_HOST and
 * $KUBERNETES_SERVICE_PORT (an IPv6 host is bracketed), and token, ca.crt and
 * namespace in sa_dir (K8S_SA_DIR when NULL); the token is re-read before use.
 * -ENOENT when the variables are not set (not in a pod), other -errno with em.
 */
int k8s_config_in_cluster(const char *sa_dir, struct k8s_config *ret, struct errmsg *em);

/* The bearer token to send now (re-reads token_file), into buf; "" when none.
 * 0 or -errno + em (the token file is unreadable or empty). */
int k8s_config_token(const struct k8s_config *c, char *buf, size_t size, struct errmsg *em);

void k8s_config_fini(struct k8s_config *c);

#endif
