/* SPDX-License-Identifier: Apache-2.0 */
/* test_netlink.c - rtnetlink message builder and reply parser (no root needed) */
#include <errno.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "harness.h"
#include "bpf/netlink.h"

/* The attribute of type 'type' among those in [p, p + len), or NULL. */
static const struct rtattr *find_attr(const void *p, int len, unsigned short type)
{
	const struct rtattr *rta = p;

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == type)
			return rta;
	return NULL;
}

/* Attributes must tile their parent exactly: the sum of aligned lengths == len. */
static bool attrs_tile(const void *p, int len)
{
	const struct rtattr *rta = p;

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		;
	return len == 0;
}

static void veth_layout(void)
{
	struct netlink_msg m;
	const struct ifinfomsg *ifi;
	const struct rtattr *name, *li, *kind, *data, *peer, *pname;
	const char *attrs;
	int alen;

	if (!ASSERT_OK(netlink_build_veth(&m, "bpfdv0", "bpfdv1", 42), "build"))
		return;
	ASSERT_EQ(netlink_msg_hdr(&m)->nlmsg_len, m.len, "nlmsg_len == len");
	ASSERT_EQ(m.len % 4, 0, "aligned length");
	ASSERT_EQ(netlink_msg_hdr(&m)->nlmsg_type, RTM_NEWLINK, "type");
	ASSERT_EQ(netlink_msg_hdr(&m)->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, "flags");
	ASSERT_EQ(netlink_msg_hdr(&m)->nlmsg_seq, 42, "seq");
	ifi = NLMSG_DATA(netlink_msg_hdr(&m));
	ASSERT_EQ(ifi->ifi_family, AF_UNSPEC, "family");
	attrs = (const char *)ifi + NLMSG_ALIGN(sizeof(*ifi));
	alen = m.len - NLMSG_HDRLEN - NLMSG_ALIGN(sizeof(*ifi));
	ASSERT_TRUE(attrs_tile(attrs, alen), "top-level attributes tile the message");

	name = find_attr(attrs, alen, IFLA_IFNAME);
	if (!ASSERT_TRUE(name, "IFLA_IFNAME"))
		return;
	ASSERT_STREQ(RTA_DATA(name), "bpfdv0", "name");
	ASSERT_EQ(RTA_PAYLOAD(name), 7, "name includes its NUL");

	li = find_attr(attrs, alen, IFLA_LINKINFO);
	if (!ASSERT_TRUE(li, "IFLA_LINKINFO"))
		return;
	ASSERT_TRUE(attrs_tile(RTA_DATA(li), RTA_PAYLOAD(li)), "linkinfo nest length");
	kind = find_attr(RTA_DATA(li), RTA_PAYLOAD(li), IFLA_INFO_KIND);
	if (!ASSERT_TRUE(kind, "IFLA_INFO_KIND"))
		return;
	ASSERT_STREQ(RTA_DATA(kind), "veth", "kind");
	data = find_attr(RTA_DATA(li), RTA_PAYLOAD(li), IFLA_INFO_DATA);
	if (!ASSERT_TRUE(data, "IFLA_INFO_DATA"))
		return;
	peer = find_attr(RTA_DATA(data), RTA_PAYLOAD(data), VETH_INFO_PEER);
	if (!ASSERT_TRUE(peer, "VETH_INFO_PEER"))
		return;
	/* the peer nest starts with a whole ifinfomsg, then the peer's attributes */
	ASSERT_TRUE(RTA_PAYLOAD(peer) > sizeof(struct ifinfomsg), "peer payload");
	pname = find_attr((const char *)RTA_DATA(peer) + sizeof(struct ifinfomsg),
			  RTA_PAYLOAD(peer) - sizeof(struct ifinfomsg), IFLA_IFNAME);
	if (!ASSERT_TRUE(pname, "peer IFLA_IFNAME"))
		return;
	ASSERT_STREQ(RTA_DATA(pname), "bpfdv1", "peer name");
	/* nests end exactly where the message ends */
	ASSERT_EQ((const char *)li + li->rta_len - m.buf, m.len, "linkinfo ends the message");
	ASSERT_EQ((const char *)peer + peer->rta_len, (const char *)li + li->rta_len,
		  "peer nest ends with linkinfo");
}

static void bad_names(void)
{
	struct netlink_msg m;
	struct errmsg em = { { 0 } };

	ASSERT_EQ(netlink_build_veth(&m, "", "x", 1), -EINVAL, "empty");
	ASSERT_EQ(netlink_build_veth(&m, "0123456789abcdef", "x", 1), -EINVAL, "16 bytes");
	ASSERT_OK(netlink_build_veth(&m, "0123456789abcde", "x", 1), "15 bytes is fine");
	ASSERT_EQ(netlink_build_veth(&m, "a/b", "x", 1), -EINVAL, "slash");
	ASSERT_EQ(netlink_build_veth(&m, "x", "a b", 1), -EINVAL, "space");
	ASSERT_EQ(netlink_build_veth(&m, "..", "x", 1), -EINVAL, "dot-dot");
	/* the public call explains the rule without talking to the kernel */
	ASSERT_EQ(netlink_veth_create("a:b", "x", &em), -EINVAL, "colon");
	ASSERT_STRSTR(em.msg, "'a:b' is not a valid interface name", "message names the problem");
}

static void overflow(void)
{
	struct netlink_msg m;
	char big[200] = { 0 };
	size_t before;
	int err = 0, i;

	netlink_msg_init(&m, RTM_NEWLINK, 0, 1);
	for (i = 0; i < 100 && !err; i++) {
		before = m.len;
		err = netlink_attr_put(&m, IFLA_IFALIAS, big, sizeof(big));
	}
	ASSERT_EQ(err, -EMSGSIZE, "full buffer");
	ASSERT_EQ(m.len, before, "a failed put leaves the message as it was");
	ASSERT_EQ(netlink_msg_hdr(&m)->nlmsg_len, before, "header length unchanged");
	ASSERT_TRUE(m.len <= NETLINK_MSG_MAX, "within the buffer");
	ASSERT_EQ(netlink_attr_put(&m, 1, big, (size_t)-1), -EMSGSIZE, "huge length");
	ASSERT_EQ(netlink_msg_put(&m, big, (size_t)-4), -EMSGSIZE, "huge header");
}

/* A reply buffer: one NLMSG_ERROR with error err and optional ext-ack text. */
static size_t make_error(char *buf, size_t cap, uint32_t seq, int err, const char *text, bool capped)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct nlmsgerr *e = NLMSG_DATA(nh);
	size_t off = NLMSG_HDRLEN + sizeof(*e), tl;
	struct rtattr *rta;

	memset(buf, 0, cap);
	nh->nlmsg_type = NLMSG_ERROR;
	nh->nlmsg_seq = seq;
	e->error = err;
	e->msg.nlmsg_len = NLMSG_HDRLEN + 8;	/* the echoed request: 8 payload bytes */
	e->msg.nlmsg_seq = seq;
	if (!capped)
		off += 8;
	else
		nh->nlmsg_flags |= NLM_F_CAPPED;
	if (text) {
		nh->nlmsg_flags |= NLM_F_ACK_TLVS;
		tl = strlen(text) + 1;
		rta = (struct rtattr *)(buf + off);
		rta->rta_type = NLMSGERR_ATTR_MSG;
		rta->rta_len = RTA_LENGTH(tl);
		memcpy(RTA_DATA(rta), text, tl);
		off += RTA_SPACE(tl);
	}
	nh->nlmsg_len = off;
	return NLMSG_ALIGN(off);
}

static void parse_replies(void)
{
	char buf[512] __attribute__((aligned(4)));
	struct errmsg em = { { 0 } };
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct ifinfomsg *ifi;
	size_t len;

	len = make_error(buf, sizeof(buf), 7, 0, NULL, true);
	ASSERT_EQ(netlink_parse_reply(buf, len, 7, &em), 0, "ack");
	ASSERT_EQ(netlink_parse_reply(buf, len, 8, &em), -EAGAIN, "other seq");

	len = make_error(buf, sizeof(buf), 7, -EEXIST, "Link name already in use", false);
	ASSERT_EQ(netlink_parse_reply(buf, len, 7, &em), -EEXIST, "error");
	ASSERT_STREQ(em.msg, "Link name already in use", "ext-ack text (request echoed)");

	memset(&em, 0, sizeof(em));
	len = make_error(buf, sizeof(buf), 7, -EOPNOTSUPP, "Unknown device type", true);
	ASSERT_EQ(netlink_parse_reply(buf, len, 7, &em), -EOPNOTSUPP, "capped error");
	ASSERT_STREQ(em.msg, "Unknown device type", "ext-ack text (capped)");

	memset(&em, 0, sizeof(em));
	len = make_error(buf, sizeof(buf), 7, -ENODEV, NULL, true);
	ASSERT_EQ(netlink_parse_reply(buf, len, 7, &em), -ENODEV, "plain error");
	ASSERT_EQ(em.msg[0], 0, "no text without ext ack");

	len = make_error(buf, sizeof(buf), 7, 5, NULL, true);
	ASSERT_EQ(netlink_parse_reply(buf, len, 7, NULL), -EBADMSG, "positive error code");

	len = make_error(buf, sizeof(buf), 7, 0, NULL, true);
	ASSERT_EQ(netlink_parse_reply(buf, len - 4, 7, NULL), -EBADMSG, "truncated");
	ASSERT_EQ(netlink_parse_reply(buf, 3, 7, NULL), -EBADMSG, "shorter than a header");
	nh->nlmsg_len = 4;
	ASSERT_EQ(netlink_parse_reply(buf, len, 7, NULL), -EBADMSG, "length below header size");

	/* an RTM_NEWLINK answer carries the ifindex; a foreign message before it is skipped */
	memset(buf, 0, sizeof(buf));
	nh->nlmsg_type = RTM_NEWLINK;
	nh->nlmsg_seq = 99;
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	nh = (struct nlmsghdr *)(buf + NLMSG_ALIGN(nh->nlmsg_len));
	nh->nlmsg_type = RTM_NEWLINK;
	nh->nlmsg_seq = 7;
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	ifi = NLMSG_DATA(nh);
	ifi->ifi_index = 12;
	len = 2 * NLMSG_ALIGN(NLMSG_LENGTH(sizeof(*ifi)));
	ASSERT_EQ(netlink_parse_reply(buf, len, 7, NULL), 12, "ifindex of the second message");
	ifi->ifi_index = 0;
	ASSERT_EQ(netlink_parse_reply(buf, len, 7, NULL), -EBADMSG, "ifindex 0");
}

/* An RTM_NEWLINK for ifindex 5 with IFLA_MTU, then IFLA_XDP (nested flag set, as the
 * kernel sends it) holding ATTACHED and the DRV and SKB ids. */
static size_t make_xdp_link(char *buf, size_t cap, uint32_t seq)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	struct rtattr *rta, *x;
	size_t off = NLMSG_LENGTH(sizeof(*ifi));
	uint32_t v;

	memset(buf, 0, cap);
	nh->nlmsg_type = RTM_NEWLINK;
	nh->nlmsg_seq = seq;
	ifi->ifi_index = 5;
	rta = (struct rtattr *)(buf + NLMSG_ALIGN(off));
	rta->rta_type = IFLA_MTU;
	rta->rta_len = RTA_LENGTH(4);
	v = 1500;
	memcpy(RTA_DATA(rta), &v, 4);
	off = NLMSG_ALIGN(off) + RTA_SPACE(4);
	x = (struct rtattr *)(buf + off);
	x->rta_type = IFLA_XDP | NLA_F_NESTED;
	rta = RTA_DATA(x);
	rta->rta_type = IFLA_XDP_ATTACHED;
	rta->rta_len = RTA_LENGTH(1);
	*(uint8_t *)RTA_DATA(rta) = XDP_ATTACHED_MULTI;
	rta = (struct rtattr *)((char *)rta + RTA_SPACE(1));
	rta->rta_type = IFLA_XDP_DRV_PROG_ID;
	rta->rta_len = RTA_LENGTH(4);
	v = 41;
	memcpy(RTA_DATA(rta), &v, 4);
	rta = (struct rtattr *)((char *)rta + RTA_SPACE(4));
	rta->rta_type = IFLA_XDP_SKB_PROG_ID;
	rta->rta_len = RTA_LENGTH(4);
	v = 42;
	memcpy(RTA_DATA(rta), &v, 4);
	x->rta_len = RTA_LENGTH(RTA_SPACE(1) + 2 * RTA_SPACE(4));
	off += RTA_ALIGN(x->rta_len);
	nh->nlmsg_len = off;
	return NLMSG_ALIGN(off);
}

static void parse_xdp(void)
{
	char buf[512] __attribute__((aligned(4)));
	struct netlink_xdp q;
	struct errmsg em = { { 0 } };
	size_t len;

	len = make_xdp_link(buf, sizeof(buf), 9);
	ASSERT_EQ(netlink_parse_xdp(buf, len, 9, 5, &q, &em), 0, "xdp ids");
	ASSERT_EQ(q.drv_id, 41, "native id");
	ASSERT_EQ(q.skb_id, 42, "generic id");
	ASSERT_EQ(q.hw_id, 0, "no offload");
	ASSERT_EQ(netlink_parse_xdp(buf, len, 10, 5, &q, &em), -EAGAIN, "other seq");
	ASSERT_EQ(netlink_parse_xdp(buf, len, 9, 6, &q, &em), -EBADMSG, "another link");
	ASSERT_EQ(netlink_parse_xdp(buf, len - 4, 9, 5, &q, &em), -EBADMSG, "truncated");
	/* a nested attribute longer than its parent: the walk stops, nothing read */
	((struct rtattr *)(buf + NLMSG_ALIGN(NLMSG_LENGTH(sizeof(struct ifinfomsg))) +
			   RTA_SPACE(4)))->rta_len = 400;
	ASSERT_EQ(netlink_parse_xdp(buf, len, 9, 5, &q, &em), 0, "bad nest skipped");
	ASSERT_EQ(q.drv_id, 0, "nothing from it");
	len = make_error(buf, sizeof(buf), 9, -ENODEV, NULL, true);
	ASSERT_EQ(netlink_parse_xdp(buf, len, 9, 5, &q, &em), -ENODEV, "error");
	len = make_error(buf, sizeof(buf), 9, 0, NULL, true);
	ASSERT_EQ(netlink_parse_xdp(buf, len, 9, 5, &q, &em), -EBADMSG, "an ack is no answer");
}

/* Real round trips with the kernel that need no privilege. */
static void live_ifindex(void)
{
	struct errmsg em = { { 0 } };

	ASSERT_EQ(netlink_ifindex("lo", &em), (int)if_nametoindex("lo"), "lo, as if_nametoindex()");
	ASSERT_EQ(netlink_ifindex("bpfd-nosuch0", &em), -ENODEV, "missing link");
	ASSERT_STRSTR(em.msg, "cannot find interface 'bpfd-nosuch0'", "message");
}

static void live_xdp_query(void)
{
	struct netlink_xdp q;
	struct errmsg em = { { 0 } };

	ASSERT_EQ(netlink_xdp_query(if_nametoindex("lo"), &q, &em), 0, "lo");
	ASSERT_EQ(q.drv_id + q.skb_id + q.hw_id, 0, "no XDP on lo");
	ASSERT_EQ(netlink_xdp_query(0x7ffffff0u, &q, &em), -ENODEV, "missing link");
	ASSERT_STRSTR(em.msg, "ifindex 2147483632", "message names it");
}

TEST_MAIN("netlink", TEST(veth_layout), TEST(bad_names), TEST(overflow), TEST(parse_replies),
	  TEST(parse_xdp), TEST(live_ifindex), TEST(live_xdp_query))
