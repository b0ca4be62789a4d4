/* SPDX-License-Identifier: Apache-2.0 */
/* pullsecret.h - registry credentials from an image pull Secret (type
 * kubernetes.io/dockerconfigjson), as a *Program's spec.bytecode.image.imagepullsecret
 * names it */
#ifndef BPFD_CORE_K8S_PULLSECRET_H
#define BPFD_CORE_K8S_PULLSECRET_H

#include <cJSON.h>

struct errmsg;

#define K8S_SECRET_DOCKERCONFIGJSON	"kubernetes.io/dockerconfigjson"

struct k8s_registry_cred {
	char username[256];
	char password[1024];
};

/*
 * The credentials for registry (host[:port] of an image reference; "docker.io"
 * for Docker Hub, which also matches index.docker.io and registry-1.docker.io)
 * in secret (a Secret object as the API server returns it).  An "auths" key may
 * carry a scheme and a path ("https://127.0.0.1:5000/v1/"); an entry gives
 * "username" and "password", or "auth" (base64 of USER:PASSWORD).
 *
 * 0 with *ret filled (the caller wipes it with explicit_bzero() after use);
 * -EINVAL + em for a Secret of another type or a malformed one; -ENOENT + em
 * when it holds no entry for registry; -ENOMEM.  em never holds a credential.
 */
int k8s_pull_secret_cred(const cJSON *secret, const char *registry,
			 struct k8s_registry_cred *ret, struct errmsg *em);

/* Overwrite every string under secret's data and stringData with zeros (before
 * cJSON_Delete(): the tree held credentials). */
void k8s_secret_wipe(cJSON *secret);

#endif
