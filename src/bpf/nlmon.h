/* SPDX-License-Identifier: Apache-2.0 */
/* nlmon.h - rtnetlink notifications of links and tc filters: the socket that
 * receives them and the parser that turns them into plain changes.  The bytes
 * come from the kernel, but the parser trusts none of their lengths. */
#ifndef BPFD_BPF_NLMON_H
#define BPFD_BPF_NLMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nl_change_type {
	NL_LINK_CHANGED = 1,	/* RTM_NEWLINK: renamed, XDP program changed, up/down ... */
	NL_LINK_GONE,		/* RTM_DELLINK: deleted, or moved (then moved is set) */
	NL_FILTER_ADDED,	/* RTM_NEWTFILTER */
	NL_FILTER_REMOVED,	/* RTM_DELTFILTER */
};

struct nl_change {
	enum nl_change_type type;
	uint32_t ifindex;
	char ifname[16];	/* IFLA_IFNAME, "" when absent */
	bool moved;		/* NL_LINK_GONE: to another network namespace */
	int32_t new_netnsid;	/* ... whose id (as this namespace knows it), -1 unknown */
	bool has_xdp;		/* NL_LINK_*: IFLA_XDP was present */
	uint32_t xdp_prog_id;	/* ... and the program on it, 0 none */
	uint32_t tc_parent;	/* NL_FILTER_*: tcm_parent */
	char tc_kind[16];	/* TCA_KIND ("bpf"), "" absent */
};

/* A non-blocking NETLINK_ROUTE socket joined to the link and tc groups (no
 * capability needed), with a large receive buffer: the fd or -errno. */
int nlmon_open(void);
/*
 * Parse the messages of one datagram buf[len] into ret[max]: link and tc
 * filter messages only, others are skipped.  Returns 0 with *ret_n changes
 * (at most max; *ret_more set when more were there), or -EBADMSG at the first
 * malformed message (the changes before it stand in ret).
 */
int nlmon_parse(const void *buf, size_t len, struct nl_change *ret, size_t max,
		size_t *ret_n, bool *ret_more);

#endif
