/* SPDX-License-Identifier: Apache-2.0 */
/* netlink.c - rtnetlink requests: veth create, link delete/up, ifindex lookup */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
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

/* Call one() for each message of request seq in buf[0..len) until it returns other than
 * -EAGAIN; -EBADMSG for a malformed buffer, -EAGAIN when no message settled it. */
static int walk_reply(const void *buf, size_t len, uint32_t seq,
		      int (*one)(const struct nlmsghdr *nh, void *arg, struct errmsg *em),
		      void *arg, struct errmsg *em)
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
			ret = one(nh, arg, em);
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

static int reply_one(const struct nlmsghdr *nh, void *arg, struct errmsg *em)
{
	(void)arg;
	return parse_one(nh, em);
}

int netlink_parse_reply(const void *buf, size_t len, uint32_t seq, struct errmsg *em)
{
	return walk_reply(buf, len, seq, reply_one, NULL, em);
}

typedef int (*parse_fn)(const void *buf, size_t len, uint32_t seq, void *arg,
			struct errmsg *em);

/* Send m and read until parse finds the answer to its sequence number in what the
 * kernel sent (a reply to one link carries all its attributes: 64 KiB is plenty). */
static int netlink_talk_parse(struct netlink_msg *m, parse_fn parse, void *arg,
			      struct errmsg *em)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	const size_t size = 65536;
	int fd, one = 1, err;
	ssize_t n;
	char *buf;

	buf = malloc(size);
	if (!buf)
		return errmsg_set(em, -ENOMEM, "out of memory for a netlink reply");
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		free(buf);
		return errmsg_set(em, -errno, "cannot open a netlink socket: %s", strerror(errno));
	}
	/* Best effort: extended acks carry the kernel's reason as text. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (sendto(fd, m->buf, m->len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		n = recv(fd, buf, size, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		err = parse(buf, n, netlink_msg_hdr(m)->nlmsg_seq, arg, em);
		if (err != -EAGAIN)
			break;
	}
out:
	close(fd);
	free(buf);
	if (err < 0 && !errmsg_isset(em))
		errmsg_set(em, err, "%s", strerror(-err));
	return err;
}

static int parse_reply(const void *buf, size_t len, uint32_t seq, void *arg,
		       struct errmsg *em)
{
	(void)arg;
	return netlink_parse_reply(buf, len, seq, em);
}

static int netlink_talk(struct netlink_msg *m, struct errmsg *em)
{
	return netlink_talk_parse(m, parse_reply, NULL, em);
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

/* The XDP attributes nested in IFLA_XDP, len bytes at rta. */
static void xdp_attrs(const struct rtattr *rta, int len, struct netlink_xdp *ret)
{
	uint32_t v;

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (RTA_PAYLOAD(rta) < sizeof(v))
			continue;
		memcpy(&v, RTA_DATA(rta), sizeof(v));
		switch (rta->rta_type & NLA_TYPE_MASK) {
		case IFLA_XDP_DRV_PROG_ID:
			ret->drv_id = v;
			break;
		case IFLA_XDP_SKB_PROG_ID:
			ret->skb_id = v;
			break;
		case IFLA_XDP_HW_PROG_ID:
			ret->hw_id = v;
			break;
		}
	}
}

struct xdp_arg {
	uint32_t ifindex;
	struct netlink_xdp *ret;
};

static int xdp_one(const struct nlmsghdr *nh, void *arg, struct errmsg *em)
{
	struct xdp_arg *a = arg;
	const struct ifinfomsg *ifi;
	const struct rtattr *rta;
	int len, err;

	if (nh->nlmsg_type != RTM_NEWLINK) {
		err = parse_one(nh, em);
		return err == -EAGAIN || err < 0 ? err : -EBADMSG;	/* an ack is no answer */
	}
	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return -EBADMSG;
	ifi = NLMSG_DATA(nh);
	if (ifi->ifi_index <= 0 || (uint32_t)ifi->ifi_index != a->ifindex)
		return -EBADMSG;
	len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	rta = (const struct rtattr *)((const char *)ifi + NLMSG_ALIGN(sizeof(*ifi)));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if ((rta->rta_type & NLA_TYPE_MASK) == IFLA_XDP)
			xdp_attrs(RTA_DATA(rta), (int)RTA_PAYLOAD(rta), a->ret);
	return 0;
}

int netlink_parse_xdp(const void *buf, size_t len, uint32_t seq, uint32_t ifindex,
		      struct netlink_xdp *ret, struct errmsg *em)
{
	struct xdp_arg a = { .ifindex = ifindex, .ret = ret };

	memset(ret, 0, sizeof(*ret));
	return walk_reply(buf, len, seq, xdp_one, &a, em);
}

static int parse_xdp(const void *buf, size_t len, uint32_t seq, void *arg,
		     struct errmsg *em)
{
	struct xdp_arg *a = arg;

	return netlink_parse_xdp(buf, len, seq, a->ifindex, a->ret, em);
}

int netlink_xdp_query(uint32_t ifindex, struct netlink_xdp *ret, struct errmsg *em)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)ifindex };
	struct xdp_arg a = { .ifindex = ifindex, .ret = ret };
	struct netlink_msg m;
	int err;

	if (!ifindex || ifindex > INT32_MAX)
		return errmsg_set(em, -ENODEV, "no interface with index %u", ifindex);
	netlink_msg_init(&m, RTM_GETLINK, 0, next_seq());
	err = netlink_msg_put(&m, &ifi, sizeof(ifi));
	if (!err)
		err = netlink_talk_parse(&m, parse_xdp, &a, em);
	if (err)
		errmsg_prefix(em, "cannot read the XDP programs of ifindex %u", ifindex);
	return err;
}
