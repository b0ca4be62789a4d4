/* SPDX-License-Identifier: Apache-2.0 */
/* netlink.c - rtnetlink requests: veth create, link delete/up, ifindex lookup */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "bpf/netlink.h"
#include "core/base/errmsg.h"

#define ALIGN4(x) (((x) + 3) & ~(size_t)3)

void netlink_msg_init(struct netlink_msg *m, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nh = netlink_msg_hdr(m);

	memset(m, 0, sizeof(*m));
	m->len = NLMSG_HDRLEN;
	nh->nlmsg_len = m->len;
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = seq;
}

int netlink_msg_put(struct netlink_msg *m, const void *data, size_t len)
{
	if (len > sizeof(m->buf) || ALIGN4(len) > sizeof(m->buf) - m->len)
		return -EMSGSIZE;
	memcpy(m->buf + m->len, data, len);
	m->len += ALIGN4(len);
	netlink_msg_hdr(m)->nlmsg_len = m->len;
	return 0;
}

int netlink_attr_put(struct netlink_msg *m, uint16_t type, const void *data, size_t len)
{
	struct rtattr rta;

	if (len > sizeof(m->buf) || RTA_SPACE(len) > sizeof(m->buf) - m->len ||
	    RTA_LENGTH(len) > 0xffff)
		return -EMSGSIZE;
	rta.rta_type = type;
	rta.rta_len = RTA_LENGTH(len);
	memcpy(m->buf + m->len, &rta, sizeof(rta));
	if (len)
		memcpy(m->buf + m->len + RTA_LENGTH(0), data, len);
	m->len += RTA_SPACE(len);
	netlink_msg_hdr(m)->nlmsg_len = m->len;
	return 0;
}

int netlink_attr_put_str(struct netlink_msg *m, uint16_t type, const char *s)
{
	return netlink_attr_put(m, type, s, strlen(s) + 1);
}

int netlink_nest_begin(struct netlink_msg *m, uint16_t type)
{
	size_t off = m->len;
	int err;

	err = netlink_attr_put(m, type, NULL, 0);
	return err ? err : (int)off;
}

void netlink_nest_end(struct netlink_msg *m, int nest)
{
	struct rtattr rta;

	memcpy(&rta, m->buf + nest, sizeof(rta));
	rta.rta_len = m->len - nest;
	memcpy(m->buf + nest, &rta, sizeof(rta));
}

/* The kernel's dev_valid_name(), so a bad name fails here with a clear message. */
static bool name_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]))
			return false;
	return true;
}

static int check_name(const char *name, struct errmsg *em)
{
	if (name_valid(name))
		return 0;
	return errmsg_set(em, -EINVAL,
			  "'%s' is not a valid interface name: 1 to %d bytes without '/', ':' or spaces",
			  name, IFNAMSIZ - 1);
}

int netlink_build_veth(struct netlink_msg *m, const char *name, const char *peer, uint32_t seq)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	int linkinfo, data, peer_nest, err;

	if (!name_valid(name) || !name_valid(peer))
		return -EINVAL;
	netlink_msg_init(m, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
	err = netlink_msg_put(m, &ifi, sizeof(ifi));
	if (!err)
		err = netlink_attr_put_str(m, IFLA_IFNAME, name);
	if (err)
		return err;
	linkinfo = netlink_nest_begin(m, IFLA_LINKINFO);
	if (linkinfo < 0)
		return linkinfo;
	err = netlink_attr_put_str(m, IFLA_INFO_KIND, "veth");
	if (err)
		return err;
	data = netlink_nest_begin(m, IFLA_INFO_DATA);
	if (data < 0)
		return data;
	/* VETH_INFO_PEER carries a whole ifinfomsg, then the peer's attributes. */
	peer_nest = netlink_nest_begin(m, VETH_INFO_PEER);
	if (peer_nest < 0)
		return peer_nest;
	err = netlink_msg_put(m, &ifi, sizeof(ifi));
	if (!err)
		err = netlink_attr_put_str(m, IFLA_IFNAME, peer);
	if (err)
		return err;
	netlink_nest_end(m, peer_nest);
	netlink_nest_end(m, data);
	netlink_nest_end(m, linkinfo);
	return 0;
}

/* The text of an extended ack (NLMSGERR_ATTR_MSG), if the kernel sent one. */
static const char *ext_ack_msg(const struct nlmsghdr *nh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nh);
	const struct rtattr *rta;
	size_t off;
	int len;

	if (!(nh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	off = sizeof(*e);
	if (!(nh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return NULL;
		off += ALIGN4((size_t)e->msg.nlmsg_len - NLMSG_HDRLEN);
	}
	if (off > nh->nlmsg_len - NLMSG_HDRLEN)
		return NULL;
	/* int: RTA_NEXT may step past the end, RTA_OK then sees len < 0 */
	len = (int)(nh->nlmsg_len - NLMSG_HDRLEN - off);
	rta = (const struct rtattr *)((const char *)e + off);
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		size_t plen = RTA_PAYLOAD(rta);
		const char *s = RTA_DATA(rta);

		if (rta->rta_type == NLMSGERR_ATTR_MSG && plen && !s[plen - 1])
			return s;
	}
	return NULL;
}

/* One message addressed to us: its result, or -EAGAIN to keep reading. */
static int parse_one(const struct nlmsghdr *nh, struct errmsg *em)
{
	const struct nlmsgerr *e;
	const struct ifinfomsg *ifi;
	const char *msg;

	switch (nh->nlmsg_type) {
	case NLMSG_ERROR:
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			return -EBADMSG;
		e = NLMSG_DATA(nh);
		if (e->error > 0 || e->error < -4095)
			return -EBADMSG;
		msg = e->error ? ext_ack_msg(nh) : NULL;
		if (msg && *msg)
			errmsg_set(em, e->error, "%s", msg);
		return e->error;
	case RTM_NEWLINK:
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
			return -EBADMSG;
		ifi = NLMSG_DATA(nh);
		return ifi->ifi_index > 0 ? ifi->ifi_index : -EBADMSG;
	case NLMSG_DONE:
		return -EBADMSG;
	default:
		return -EAGAIN;
	}
}

int netlink_parse_reply(const void *buf, size_t len, uint32_t seq, struct errmsg *em)
{
	const char *p = buf;
	const struct nlmsghdr *nh;
	size_t step;
	int ret;

	while (len >= NLMSG_HDRLEN) {
		nh = (const struct nlmsghdr *)p;
		if (nh->nlmsg_len < NLMSG_HDRLEN || nh->nlmsg_len > len)
			return -EBADMSG;
		if (nh->nlmsg_seq == seq) {
			ret = parse_one(nh, em);
			if (ret != -EAGAIN)
				return ret;
		}
		step = NLMSG_ALIGN(nh->nlmsg_len);
		if (step > len)
			step = len;
		p += step;
		len -= step;
	}
	return len ? -EBADMSG : -EAGAIN;
}

/* Send m and read until the answer to its sequence number arrives. */
static int netlink_talk(struct netlink_msg *m, struct errmsg *em)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd, one = 1, err;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return errmsg_set(em, -errno, "cannot open a netlink socket: %s", strerror(errno));
	/* Best effort: extended acks carry the kernel's reason as text. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (sendto(fd, m->buf, m->len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		err = netlink_parse_reply(buf, n, netlink_msg_hdr(m)->nlmsg_seq, em);
		if (err != -EAGAIN)
			break;
	}
out:
	close(fd);
	if (err < 0 && !errmsg_isset(em))
		errmsg_set(em, err, "%s", strerror(-err));
	return err;
}

static uint32_t next_seq(void)
{
	static uint32_t seq;

	if (!seq)
		seq = (uint32_t)time(NULL);
	return ++seq;
}

int netlink_veth_create(const char *name, const char *peer, struct errmsg *em)
{
	struct netlink_msg m;
	int err;

	err = check_name(name, em);
	if (!err)
		err = check_name(peer, em);
	if (!err)
		err = netlink_build_veth(&m, name, peer, next_seq());
	if (!err)
		err = netlink_talk(&m, em);
	if (err)
		errmsg_prefix(em, "cannot create veth pair '%s'/'%s'", name, peer);
	return err;
}

/* One RTM_NEWLINK/DELLINK/GETLINK request addressing a link by name. */
static int link_request(uint16_t type, uint16_t flags, const char *name,
			unsigned int up, struct errmsg *em)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct netlink_msg m;
	int err;

	err = check_name(name, em);
	if (err)
		return err;
	if (up) {
		ifi.ifi_flags = IFF_UP;
		ifi.ifi_change = IFF_UP;
	}
	netlink_msg_init(&m, type, flags, next_seq());
	err = netlink_msg_put(&m, &ifi, sizeof(ifi));
	if (!err)
		err = netlink_attr_put_str(&m, IFLA_IFNAME, name);
	if (!err)
		err = netlink_talk(&m, em);
	return err;
}

int netlink_link_delete(const char *name, struct errmsg *em)
{
	int err = link_request(RTM_DELLINK, NLM_F_ACK, name, 0, em);

	if (err)
		errmsg_prefix(em, "cannot delete link '%s'", name);
	return err;
}

int netlink_link_set_up(const char *name, struct errmsg *em)
{
	int err = link_request(RTM_NEWLINK, NLM_F_ACK, name, 1, em);

	if (err)
		errmsg_prefix(em, "cannot set link '%s' up", name);
	return err;
}

int netlink_ifindex(const char *name, struct errmsg *em)
{
	/* No NLM_F_ACK: the answer is the RTM_NEWLINK message or an error. */
	int ret = link_request(RTM_GETLINK, 0, name, 0, em);

	if (ret == 0)
		ret = -EBADMSG;
	if (ret < 0)
		errmsg_prefix(em, "cannot find interface '%s'", name);
	return ret;
}
