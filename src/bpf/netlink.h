/* SPDX-License-Identifier: Apache-2.0 */
/* netlink.h - a small rtnetlink client: veth pairs, link up/delete, ifindex lookup.
 * Works in the caller's network namespace (a thread's, after unshare/setns) and
 * needs no iproute2, so it runs in a busybox-only initramfs. */
#ifndef BPFD_BPF_NETLINK_H
#define BPFD_BPF_NETLINK_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "core/base/errmsg.h"

/* Each call opens its own NETLINK_ROUTE socket, sends one request with NLM_F_ACK
 * and waits for the kernel's answer; returns 0 or -errno from the kernel (with the
 * kernel's extended-ack text in em when it sent one).  em may be NULL. */

/* Create a veth pair NAME <-> PEER in the current namespace (both down).
 * -EEXIST when a link of either name exists, -EINVAL for a bad name. */
int netlink_veth_create(const char *name, const char *peer, struct errmsg *em);
/* Delete link NAME (deleting one veth end deletes both); -ENODEV if absent. */
int netlink_link_delete(const char *name, struct errmsg *em);
/* Set link NAME up (IFF_UP). */
int netlink_link_set_up(const char *name, struct errmsg *em);
/* ifindex of link NAME (> 0), or -ENODEV / -errno. */
int netlink_ifindex(const char *name, struct errmsg *em);

/* The message builder, exposed for the unit tests.  A message lives in a fixed
 * buffer; a put that does not fit returns -EMSGSIZE and leaves the message as it was. */
#define NETLINK_MSG_MAX 1024

struct netlink_msg {
	size_t len;			/* bytes used, == the header's nlmsg_len */
	char buf[NETLINK_MSG_MAX] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static inline struct nlmsghdr *netlink_msg_hdr(struct netlink_msg *m)
{
	return (struct nlmsghdr *)m->buf;
}

/* Start a message: header with type, NLM_F_REQUEST | flags, seq. */
void netlink_msg_init(struct netlink_msg *m, uint16_t type, uint16_t flags, uint32_t seq);
/* Append a fixed header (e.g. struct ifinfomsg) of len bytes, padded to 4. */
int netlink_msg_put(struct netlink_msg *m, const void *data, size_t len);
/* Append attribute TYPE carrying len bytes of data. */
int netlink_attr_put(struct netlink_msg *m, uint16_t type, const void *data, size_t len);
/* Append attribute TYPE with the string s and its NUL. */
int netlink_attr_put_str(struct netlink_msg *m, uint16_t type, const char *s);
/* Open a nested attribute: returns its offset in the message (>= 0) for
 * netlink_nest_end(), or -EMSGSIZE. */
int netlink_nest_begin(struct netlink_msg *m, uint16_t type);
void netlink_nest_end(struct netlink_msg *m, int nest);

/* Build the RTM_NEWLINK request that creates a veth pair (name checked: 1 to
 * IFNAMSIZ-1 bytes, no '/', no whitespace). */
int netlink_build_veth(struct netlink_msg *m, const char *name, const char *peer, uint32_t seq);

/* Read the kernel's answer to request seq in buf[0..len): 0 for an ack, the
 * ifindex (> 0) of an RTM_NEWLINK message (the answer to RTM_GETLINK), the -errno
 * of an NLMSG_ERROR (its extended-ack text, if any, goes to em), -EBADMSG for a
 * malformed or truncated reply, -EAGAIN when buf holds no answer to seq. */
int netlink_parse_reply(const void *buf, size_t len, uint32_t seq, struct errmsg *em);

/* The XDP programs on one link (0: none in that mode). */
struct netlink_xdp {
	uint32_t drv_id;
	uint32_t skb_id;
	uint32_t hw_id;
};
/* Ids of the XDP programs on ifindex, with one RTM_GETLINK for that link only (libbpf's
 * bpf_xdp_query() dumps every link of the namespace and keeps one: its cost grows with
 * the interfaces of the node).  -ENODEV when there is no such link. */
int netlink_xdp_query(uint32_t ifindex, struct netlink_xdp *ret, struct errmsg *em);
/* Read the answer to RTM_GETLINK seq for ifindex in buf[0..len) into *ret: 0, the
 * -errno of an NLMSG_ERROR, -EBADMSG for a malformed reply or another link's, -EAGAIN
 * when buf holds no answer to seq. */
int netlink_parse_xdp(const void *buf, size_t len, uint32_t seq, uint32_t ifindex,
		      struct netlink_xdp *ret, struct errmsg *em);

#endif
