/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_nlmon.c - libFuzzer target: rtnetlink notification parsing (nlmon_parse) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/nlmon.h"

#define MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nl_change c[MAX + 1];
	size_t n = 0, i;
	bool more = false;
	void *buf;
	int ret;

	/* a copy: the alignment recv() into our buffer gives */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(c, 0xa5, sizeof(c));
	ret = nlmon_parse(buf, size, c, MAX, &n, &more);
	if (ret && ret != -74 /* -EBADMSG */)
		abort();
	if (n > MAX || (more && n != MAX))
		abort();
	/* nothing written beyond max */
	for (i = 0; i < sizeof(c[MAX]); i++)
		if (((const uint8_t *)&c[MAX])[i] != 0xa5)
			abort();
	for (i = 0; i < n; i++) {
		if (c[i].type < NL_LINK_CHANGED || c[i].type > NL_FILTER_REMOVED || !c[i].ifindex)
			abort();
		if (!memchr(c[i].ifname, '\0', sizeof(c[i].ifname)) ||
		    !memchr(c[i].tc_kind, '\0', sizeof(c[i].tc_kind)))
			abort();
		if (c[i].moved && c[i].type != NL_LINK_GONE && c[i].type != NL_LINK_CHANGED)
			abort();
	}
	free(buf);
	return 0;
}
