/* SPDX-License-Identifier: Apache-2.0 */
/* nlmon.c - rtnetlink link and tc filter notifications: socket and parser */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "bpf/nlmon.h"

#ifndef IFLA_NEW_NETNSID
#define IFLA_NEW_NETNSID	45
#endif

int nlmon_open(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_TC,
	};
	int fd, rcv = 4 << 20, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* a burst (many interfaces deleted at once) must not overrun it; when it
	 * does anyway, recv() says ENOBUFS and the caller re-checks everything */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Walk the attributes in buf[len]: fn for each; -EBADMSG on a bad length. */
static int attrs_each(const uint8_t *buf, size_t len,
		      void (*fn)(uint16_t type, const uint8_t *data, size_t n, void *arg),
		      void *arg)
{
	struct nlattr a;
	size_t off = 0, step;

	while (len - off >= NLA_HDRLEN) {
		memcpy(&a, buf + off, sizeof(a));
		if (a.nla_len < NLA_HDRLEN || a.nla_len > len - off)
			return -EBADMSG;
		fn(a.nla_type & NLA_TYPE_MASK, buf + off + NLA_HDRLEN, a.nla_len - NLA_HDRLEN,
		   arg);
		step = NLA_ALIGN(a.nla_len);
		if (step > len - off)
			break;
		off += step;
	}
	return 0;
}

static void copy_str(char *dst, size_t size, const uint8_t *data, size_t n)
{
	size_t k = strnlen((const char *)data, n);

	if (k >= size)
		k = size - 1;
	memcpy(dst, data, k);
	dst[k] = '\0';
}

static void xdp_attr(uint16_t type, const uint8_t *data, size_t n, void *arg)
{
	struct nl_change *c = arg;

	if (type == IFLA_XDP_PROG_ID && n >= 4)
		memcpy(&c->xdp_prog_id, data, 4);
}

static void link_attr(uint16_t type, const uint8_t *data, size_t n, void *arg)
{
	struct nl_change *c = arg;
	int32_t id;

	switch (type) {
	case IFLA_IFNAME:
		copy_str(c->ifname, sizeof(c->ifname), data, n);
		break;
	case IFLA_XDP:
		c->has_xdp = true;
		/* a bad nest leaves the program id 0; the message still counts */
		(void)attrs_each(data, n, xdp_attr, c);
		break;
	case IFLA_NEW_NETNSID:
		if (n >= 4) {
			memcpy(&id, data, 4);
			c->moved = true;
			c->new_netnsid = id;
		}
		break;
	}
}

static void filter_attr(uint16_t type, const uint8_t *data, size_t n, void *arg)
{
	struct nl_change *c = arg;

	if (type == TCA_KIND)
		copy_str(c->tc_kind, sizeof(c->tc_kind), data, n);
}

static int parse_link(const struct nlmsghdr *nh, const uint8_t *body, size_t len,
		      struct nl_change *c)
{
	struct ifinfomsg ifi;

	if (len < sizeof(ifi))
		return -EBADMSG;
	memcpy(&ifi, body, sizeof(ifi));
	if (ifi.ifi_index <= 0)
		return -EBADMSG;
	c->type = nh->nlmsg_type == RTM_DELLINK ? NL_LINK_GONE : NL_LINK_CHANGED;
	c->ifindex = ifi.ifi_index;
	c->new_netnsid = -1;
	return attrs_each(body + NLMSG_ALIGN(sizeof(ifi)),
			  len > NLMSG_ALIGN(sizeof(ifi)) ? len - NLMSG_ALIGN(sizeof(ifi)) : 0,
			  link_attr, c);
}

static int parse_filter(const struct nlmsghdr *nh, const uint8_t *body, size_t len,
			struct nl_change *c)
{
	struct tcmsg tcm;

	if (len < sizeof(tcm))
		return -EBADMSG;
	memcpy(&tcm, body, sizeof(tcm));
	if (tcm.tcm_ifindex <= 0)
		return -EBADMSG;
	c->type = nh->nlmsg_type == RTM_DELTFILTER ? NL_FILTER_REMOVED : NL_FILTER_ADDED;
	c->ifindex = tcm.tcm_ifindex;
	c->tc_parent = tcm.tcm_parent;
	return attrs_each(body + NLMSG_ALIGN(sizeof(tcm)),
			  len > NLMSG_ALIGN(sizeof(tcm)) ? len - NLMSG_ALIGN(sizeof(tcm)) : 0,
			  filter_attr, c);
}

int nlmon_parse(const void *buf, size_t len, struct nl_change *ret, size_t max,
		size_t *ret_n, bool *ret_more)
{
	const uint8_t *p = buf;
	struct nlmsghdr nh;
	size_t off = 0, n = 0, body;
	struct nl_change c;
	int err;

	*ret_more = false;
	*ret_n = 0;
	while (len - off >= sizeof(nh)) {
		memcpy(&nh, p + off, sizeof(nh));
		if (nh.nlmsg_len < sizeof(nh) || nh.nlmsg_len > len - off)
			return -EBADMSG;
		body = nh.nlmsg_len - NLMSG_HDRLEN;
		memset(&c, 0, sizeof(c));
		err = 1;
		switch (nh.nlmsg_type) {
		case RTM_NEWLINK:
		case RTM_DELLINK:
			err = parse_link(&nh, p + off + NLMSG_HDRLEN, body, &c);
			break;
		case RTM_NEWTFILTER:
		case RTM_DELTFILTER:
			err = parse_filter(&nh, p + off + NLMSG_HDRLEN, body, &c);
			break;
		}
		if (err < 0)
			return err;
		if (!err) {
			if (n < max)
				ret[n++] = c;
			else
				*ret_more = true;
			*ret_n = n;
		}
		if (NLMSG_ALIGN(nh.nlmsg_len) >= len - off)
			break;
		off += NLMSG_ALIGN(nh.nlmsg_len);
	}
	return 0;
}
