/* SPDX-License-Identifier: Apache-2.0 */
/* addr.c - numeric socket addresses for the TCP endpoints */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/wire/addr.h"

int addr_split(const char *s, char *host, size_t size, uint16_t *ret_port)
{
	const char *h = s, *colon, *p;
	unsigned long port = 0;
	size_t n;

	if (*s == '[') {
		colon = strstr(s, "]:");
		if (!colon)
			return -EINVAL;
		h = s + 1;
		n = colon - h;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		n = colon - s;
	}
	if (!n || n >= size || !colon[1])
		return -EINVAL;
	for (p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		port = port * 10 + (*p - '0');
		if (port > 65535)
			return -EINVAL;
	}
	if (!port)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*ret_port = port;
	return 0;
}

int addr_parse(const char *host, uint16_t port, struct sockaddr_storage *ss,
	       socklen_t *ret_len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*ret_len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*ret_len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}
