/* SPDX-License-Identifier: Apache-2.0 */
/* dockerkey.c - Docker configuration "auths" keys matched against a registry */
#include <string.h>
#include <strings.h>

#include "core/base/dockerkey.h"

static bool is_hub(const char *host, size_t n)
{
	static const char *const names[] = { "docker.io", "index.docker.io",
					     "registry-1.docker.io" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) == n && !strncasecmp(host, names[i], n))
			return true;
	}
	return false;
}

bool docker_key_matches(const char *key, const char *host)
{
	const char *p = key;
	size_t n;

	if (!strncasecmp(p, "https://", 8))
		p += 8;
	else if (!strncasecmp(p, "http://", 7))
		p += 7;
	n = strcspn(p, "/");
	if (!n)
		return false;
	if (strlen(host) == n && !strncasecmp(p, host, n))
		return true;
	return is_hub(host, strlen(host)) && is_hub(p, n);
}
