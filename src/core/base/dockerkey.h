/* SPDX-License-Identifier: Apache-2.0 */
/* dockerkey.h - which registry an "auths" key of a Docker client configuration
 * (~/.docker/config.json, a kubernetes.io/dockerconfigjson Secret) names */
#ifndef BPFD_CORE_DOCKERKEY_H
#define BPFD_CORE_DOCKERKEY_H

#include <stdbool.h>

/* Does key ("https://host:port/v1/", "host:port", any case) name the registry host
 * (host[:port] of an image reference)?  Docker Hub answers to docker.io,
 * index.docker.io and registry-1.docker.io alike. */
bool docker_key_matches(const char *key, const char *host);

#endif
