/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_netlink.c - libFuzzer target: rtnetlink reply parsing (netlink_parse_reply, and
 * netlink_parse_xdp for the XDP ids of one link) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/netlink.h"
#include "core/base/errmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errmsg em = { { 0 } };
	struct netlink_xdp xdp;
	uint32_t seq = 0;
	void *buf;
	int ret;

	/* The first 4 bytes pick the sequence number; a copy gives the netlink
	 * headers their natural (4-byte) alignment, as recv() into our buffer does. */
	if (size >= 4) {
		memcpy(&seq, data, 4);
		data += 4;
		size -= 4;
	}
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ret = netlink_parse_reply(buf, size, seq, &em);
	if (ret < -4095 || (ret > 0 && em.msg[0]))
		abort();
	if (memchr(em.msg, '\0', sizeof(em.msg)) == NULL)
		abort();
	memset(&em, 0, sizeof(em));
	ret = netlink_parse_xdp(buf, size, seq, seq & 0xff, &xdp, &em);
	if (ret > 0 || ret < -4095 || memchr(em.msg, '\0', sizeof(em.msg)) == NULL)
		abort();
	free(buf);
	return 0;
}
