/* SPDX-License-Identifier: Apache-2.0 */
/* test_events.c - the event bus, the Events readers and their bounded streams,
 * and the parser of rtnetlink notifications (no root needed) */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <string.h>

#include "harness.h"
#include "bpf/netlink.h"
#include "bpf/nlmon.h"
#include "core/base/event.h"
#include "core/events.h"
#include "core/wire/grpc.h"

static int wakes;

static void count_wake(void *arg)
{
	(void)arg;
	wakes++;
}

static void ostream_bounded(void)
{
	struct grpc_ostream *os = grpc_ostream_new(2, 64);
	uint8_t buf[64];
	size_t n;

	if (!ASSERT_TRUE(os != NULL, "new"))
		return;
	os->wake = count_wake;
	ASSERT_OK(grpc_ostream_push(os, (const uint8_t *)"abc", 3), "push 1");
	ASSERT_OK(grpc_ostream_push(os, (const uint8_t *)"de", 2), "push 2");
	ASSERT_EQ(grpc_ostream_push(os, (const uint8_t *)"f", 1), -ENOBUFS, "full at cap");
	ASSERT_EQ(grpc_ostream_push(os, buf, 65), -EMSGSIZE, "larger than max_msg");
	ASSERT_EQ(wakes, 2, "a wake per message");
	/* a message partly taken is finished before the end */
	n = grpc_ostream_take(os, buf, 4);
	ASSERT_EQ(n, 4, "partial take");
	ASSERT_EQ(grpc_ostream_end(os, true, GRPC_RESOURCE_EXHAUSTED, "slow %d", 1), 1,
		  "one message dropped");
	ASSERT_EQ(grpc_ostream_push(os, (const uint8_t *)"g", 1), -EPIPE, "ended");
	n = grpc_ostream_take(os, buf, sizeof(buf));
	ASSERT_EQ(n, 4, "the rest of the first message: 5 + 3 bytes in all");
	ASSERT_TRUE(buf[1] == 'a' && buf[3] == 'c', "its bytes");
	ASSERT_EQ(grpc_ostream_queued(os), 0, "nothing left");
	ASSERT_STREQ(os->message, "slow 1", "status message");
	grpc_ostream_put(os);
}

static void bus_order_and_caller(void)
{
	struct event ev[8];
	uint64_t lost;
	struct pollfd p;
	int fd = event_bus_init(4);

	if (!ASSERT_TRUE(fd >= 0, "bus init"))
		return;
	event_emitf(EVENT_LOAD, 7, "xdp v0", "loaded %d", 7);
	event_caller_set("unix:pid=1,uid=0");
	event_emitf(EVENT_UNLOAD, 7, "xdp v0", "unloaded");
	event_caller_set(NULL);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	ASSERT_EQ(poll(&p, 1, 0), 1, "eventfd readable");
	ASSERT_EQ(event_take(ev, 8, &lost), 2, "two events");
	ASSERT_EQ(lost, 0, "none lost");
	ASSERT_TRUE(ev[0].seq + 1 == ev[1].seq, "seq in order");
	ASSERT_STREQ(ev[0].caller, "kernel", "no caller: the kernel");
	ASSERT_STREQ(ev[1].caller, "unix:pid=1,uid=0", "the job's caller");
	ASSERT_STREQ(event_kind_name(ev[1].kind), "unload", "kind name");
	ASSERT_EQ(poll(&p, 1, 0), 0, "eventfd cleared when empty");
	for (int i = 0; i < 6; i++)
		event_emitf(EVENT_LOAD, i, NULL, "x");
	ASSERT_EQ(event_take(ev, 8, &lost), 4, "the bus keeps cap");
	ASSERT_EQ(lost, 2, "the oldest two counted as lost");
	ASSERT_EQ(ev[0].id, 2, "oldest kept");
	event_bus_fini();
	event_emitf(EVENT_LOAD, 1, NULL, "after fini: ignored");
}

static void hub_drops_slow_reader(void)
{
	struct events_hub *hub = NULL;
	struct grpc_ostream *slow = NULL, *fast = NULL, *third = NULL;
	struct errmsg em = { { 0 } };
	uint8_t buf[4096];
	int i;

	if (!ASSERT_TRUE(event_bus_init(64) >= 0, "bus"))
		return;
	if (!ASSERT_OK(events_hub_new(3, 2, &hub), "hub"))
		return;
	ASSERT_OK(events_hub_subscribe(hub, 4096, "slow", &slow, &em), "slow reader");
	ASSERT_OK(events_hub_subscribe(hub, 4096, "fast", &fast, &em), "fast reader");
	ASSERT_EQ(events_hub_subscribe(hub, 4096, "third", &third, &em), -EUSERS, "limit");
	ASSERT_STRSTR(em.msg, "event_readers", "the limit is named");
	for (i = 0; i < 5; i++) {
		event_emitf(EVENT_LOAD, i + 1, "xdp v0", "load %d", i);
		events_hub_run(hub);
		/* the fast one reads everything as it comes */
		while (grpc_ostream_take(fast, buf, sizeof(buf)))
			;
	}
	ASSERT_TRUE(slow->ended, "slow reader ended");
	ASSERT_EQ(slow->status, GRPC_RESOURCE_EXHAUSTED, "status");
	/* the 3 it let wait and the one that did not fit: dropped at once */
	ASSERT_STRSTR(slow->message, "event reader too slow: 4 events dropped", "message");
	ASSERT_EQ(grpc_ostream_queued(slow), 0, "its queue freed");
	ASSERT_FALSE(fast->ended, "fast reader kept");
	ASSERT_EQ(events_hub_readers(hub), 1, "one reader left");
	/* the transport of the fast one goes away: pruned at the next round */
	fast->closed = true;
	event_emitf(EVENT_UNLOAD, 1, NULL, "x");
	events_hub_run(hub);
	ASSERT_EQ(events_hub_readers(hub), 0, "closed reader pruned");
	grpc_ostream_put(slow);
	grpc_ostream_put(fast);
	events_hub_free(hub);
	event_bus_fini();
}

static size_t link_msg(struct netlink_msg *m, uint16_t type, int ifindex, const char *name,
		       int nsid)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	uint32_t prog = 42;
	int nest;

	netlink_msg_init(m, type, 0, 0);
	netlink_msg_put(m, &ifi, sizeof(ifi));
	if (name)
		netlink_attr_put_str(m, IFLA_IFNAME, name);
	if (nsid >= 0)
		netlink_attr_put(m, IFLA_NEW_NETNSID, &nsid, sizeof(nsid));
	nest = netlink_nest_begin(m, IFLA_XDP);
	netlink_attr_put(m, IFLA_XDP_PROG_ID, &prog, sizeof(prog));
	netlink_nest_end(m, nest);
	return m->len;
}

static void parse_notifications(void)
{
	struct tcmsg tcm = { .tcm_family = AF_UNSPEC, .tcm_ifindex = 9,
			     .tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS) };
	struct netlink_msg a, b, c;
	uint8_t buf[3 * NETLINK_MSG_MAX];
	struct nl_change ch[4];
	size_t n = 0, len = 0;
	bool more;

	len += link_msg(&a, RTM_DELLINK, 5, "v0", 3);
	memcpy(buf, a.buf, a.len);
	netlink_msg_init(&b, RTM_DELTFILTER, 0, 0);
	netlink_msg_put(&b, &tcm, sizeof(tcm));
	netlink_attr_put_str(&b, TCA_KIND, "bpf");
	memcpy(buf + len, b.buf, b.len);
	len += b.len;
	link_msg(&c, RTM_NEWLINK, 6, "renamed0", -1);
	memcpy(buf + len, c.buf, c.len);
	len += c.len;
	ASSERT_OK(nlmon_parse(buf, len, ch, 4, &n, &more), "parse");
	if (!ASSERT_EQ(n, 3, "three changes"))
		return;
	ASSERT_FALSE(more, "all taken");
	ASSERT_EQ(ch[0].type, NL_LINK_GONE, "dellink");
	ASSERT_TRUE(ch[0].moved && ch[0].new_netnsid == 3, "moved to nsid 3");
	ASSERT_STREQ(ch[0].ifname, "v0", "name");
	ASSERT_TRUE(ch[0].has_xdp && ch[0].xdp_prog_id == 42, "xdp prog id");
	ASSERT_EQ(ch[1].type, NL_FILTER_REMOVED, "deltfilter");
	ASSERT_EQ(ch[1].ifindex, 9, "filter ifindex");
	ASSERT_STREQ(ch[1].tc_kind, "bpf", "kind");
	ASSERT_EQ(ch[2].type, NL_LINK_CHANGED, "newlink");
	ASSERT_FALSE(ch[2].moved, "not moved");
	ASSERT_STREQ(ch[2].ifname, "renamed0", "new name");
	/* room for one: the rest is "more" */
	ASSERT_OK(nlmon_parse(buf, len, ch, 1, &n, &more), "parse into one");
	ASSERT_TRUE(n == 1 && more, "more said");
	/* a length past the end, an attribute past its message */
	((struct nlmsghdr *)buf)->nlmsg_len = len + 4;
	ASSERT_EQ(nlmon_parse(buf, len, ch, 4, &n, &more), -EBADMSG, "message too long");
	((struct nlmsghdr *)buf)->nlmsg_len = a.len;
	((struct nlattr *)(buf + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifinfomsg))))->nla_len = 200;
	ASSERT_EQ(nlmon_parse(buf, len, ch, 4, &n, &more), -EBADMSG, "attribute too long");
	ASSERT_OK(nlmon_parse(buf, 10, ch, 4, &n, &more), "a short tail is no message");
	ASSERT_EQ(n, 0, "nothing from it");
}

TEST_MAIN("events", TEST(ostream_bounded), TEST(bus_order_and_caller),
	  TEST(hub_drops_slow_reader), TEST(parse_notifications))
