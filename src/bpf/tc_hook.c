/* SPDX-License-Identifier: Apache-2.0 */
/* tc_hook.c - the TC side of the dispatcher engine: clsact qdisc, one cls_bpf
 * direct-action filter at priority HOOK_TC_PRIO, handle HOOK_TC_HANDLE per interface
 * and direction, swapped in place (BPF_TC_F_REPLACE at the same handle and priority).
 * Foreign filters are never touched; a plain `ingress` qdisc in the way is an error.
 *
 * Pins: <bpffs>/tc-<dir>/dispatch-<ifindex>-<dispatcher id>/prog<N>-{link,prog}, under
 * flock(<bpffs>/tc-<dir>); the config is bpfd's 84-byte TC layout. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/hook_int.h"

static void tc_hook_of(const struct hook *h, struct bpf_tc_hook *th)
{
	memset(th, 0, sizeof(*th));
	th->sz = sizeof(*th);
	th->ifindex = h->ifindex;
	th->attach_point = h->dir == CHAIN_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

static int tc_query(struct hook *h, uint32_t *ret_id, uint32_t *ret_mode_flags)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = HOOK_TC_HANDLE, .priority = HOOK_TC_PRIO);
	struct bpf_tc_hook th;
	int err;

	tc_hook_of(h, &th);
	if (ret_mode_flags)
		*ret_mode_flags = 0;
	*ret_id = 0;
	err = bpf_tc_query(&th, &o);
	/* no filter there, or no clsact at all */
	if (err == -ENOENT || err == -EINVAL)
		return 0;
	if (err)
		return err;
	*ret_id = o.prog_id;
	return 0;
}

static bool tc_is_attached(struct hook *h, uint32_t id)
{
	uint32_t cur = 0;

	if (tc_query(h, &cur, NULL))
		return true;
	return cur == id;
}

/* ---- a small rtnetlink dump: qdisc kinds, filter counts ---- */

struct nl_req {
	struct nlmsghdr nh;
	struct tcmsg tc;
};

/* Send a dump request for ifindex/parent; call fn for each answer.  fn returns 0 to
 * go on.  Returns 0 or -errno. */
static int nl_dump(uint16_t type, uint32_t ifindex, uint32_t parent,
		   int (*fn)(const struct nlmsghdr *nh, void *arg), void *arg)
{
	struct nl_req req = {
		.nh = {
			.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
			.nlmsg_type = type,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1,
		},
		.tc = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent },
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[16384];
	struct nlmsghdr *nh;
	int fd, err = 0, done = 0;
	ssize_t len;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	while (!done && !err) {
		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0) {
			err = -errno;
			break;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				break;
			}
			if (!err)
				err = fn(nh, arg);
		}
	}
out:
	close(fd);
	return err;
}

struct qdisc_find {
	uint32_t ifindex;
	char kind[32];
};

static int qdisc_cb(const struct nlmsghdr *nh, void *arg)
{
	const struct tcmsg *tc = NLMSG_DATA(nh);
	struct qdisc_find *q = arg;
	const struct rtattr *a;
	int len;

	if (nh->nlmsg_type != RTM_NEWQDISC || (uint32_t)tc->tcm_ifindex != q->ifindex ||
	    tc->tcm_parent != TC_H_INGRESS)	/* == TC_H_CLSACT */
		return 0;
	len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*tc));
	for (a = (const struct rtattr *)((const char *)tc + NLMSG_ALIGN(sizeof(*tc)));
	     RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == TCA_KIND)
			snprintf(q->kind, sizeof(q->kind), "%.*s", (int)RTA_PAYLOAD(a),
				 (const char *)RTA_DATA(a));
	return 0;
}

static int count_cb(const struct nlmsghdr *nh, void *arg)
{
	if (nh->nlmsg_type == RTM_NEWTFILTER)
		(*(int *)arg)++;
	return 0;
}

/* "clsact", "ingress" or "" for the qdisc at ffff: of ifindex. */
static int qdisc_kind(uint32_t ifindex, char *ret_kind, size_t size)
{
	struct qdisc_find q = { .ifindex = ifindex };
	int err;

	err = nl_dump(RTM_GETQDISC, ifindex, 0, qdisc_cb, &q);
	snprintf(ret_kind, size, "%s", q.kind);
	return err;
}

static int tc_prepare(struct hook *h, struct errmsg *em)
{
	struct bpf_tc_hook th;
	char kind[32];
	int err;

	err = qdisc_kind(h->ifindex, kind, sizeof(kind));
	if (err)
		return errmsg_set(em, err, "cannot list the qdiscs of %s: %s", h->iface,
				  strerror(-err));
	if (!strcmp(kind, "clsact"))
		return 0;
	if (kind[0])
		return errmsg_set(em, -HOOK_EPRECONDITION, "%s has an '%s' qdisc where bpfd "
				  "needs 'clsact' for its TC programs; remove it with 'tc "
				  "qdisc del dev %s ingress' (it may carry other filters)",
				  h->iface, kind, h->iface);
	tc_hook_of(h, &th);
	err = bpf_tc_hook_create(&th);
	if (err && err != -EEXIST)
		return errmsg_set(em, err, "cannot add a clsact qdisc to %s: %s", h->iface,
				  strerror(-err));
	return 0;
}

/* The filter at our handle must still be old_id: nobody else may have swapped it. */
static int tc_check(struct hook *h, uint32_t old_id)
{
	uint32_t cur = 0;
	int err;

	err = tc_query(h, &cur, NULL);
	if (err)
		return err;
	return cur == old_id ? 0 : -EAGAIN;
}

static int tc_swap(struct hook *h, int new_fd, int old_fd, uint32_t old_id,
		   uint32_t mode_flags, struct errmsg *em)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = HOOK_TC_HANDLE, .priority = HOOK_TC_PRIO,
		    .prog_fd = new_fd);
	struct bpf_tc_hook th;
	int err;

	(void)mode_flags;
	err = tc_check(h, old_fd < 0 ? 0 : old_id);
	if (err)
		return err;
	tc_hook_of(h, &th);
	if (old_fd >= 0)
		o.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&th, &o);
	if (err == -EEXIST)
		return -EAGAIN;
	if (err)
		return errmsg_set(em, err, "cannot attach the TC filter (priority %d, handle "
				  "0x%x) to %s %s: %s", HOOK_TC_PRIO, HOOK_TC_HANDLE, h->iface,
				  chain_dir_str(h->dir), strerror(-err));
	return 0;
}

static int tc_remove(struct hook *h, int old_fd, uint32_t old_id, uint32_t mode_flags,
		     struct errmsg *em)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = HOOK_TC_HANDLE, .priority = HOOK_TC_PRIO);
	struct bpf_tc_hook th;
	int err;

	(void)old_fd, (void)mode_flags;
	err = tc_check(h, old_id);
	if (err)
		return err;
	tc_hook_of(h, &th);
	err = bpf_tc_detach(&th, &o);
	if (err)
		return errmsg_set(em, err, "cannot delete the TC filter of %s %s: %s", h->iface,
				  chain_dir_str(h->dir), strerror(-err));
	return 0;
}

/* After the last bpfd program of a direction left: drop clsact when neither
 * direction has any filter (bpfd's or anybody's). */
static void tc_cleanup(struct hook *h)
{
	struct bpf_tc_hook th;
	char kind[32];
	int n = 0;

	if (qdisc_kind(h->ifindex, kind, sizeof(kind)) || strcmp(kind, "clsact"))
		return;
	if (nl_dump(RTM_GETTFILTER, h->ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		    count_cb, &n) ||
	    nl_dump(RTM_GETTFILTER, h->ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS),
		    count_cb, &n) || n)
		return;
	tc_hook_of(h, &th);
	th.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&th);
}

static int tc_conf_fill(void *conf, const struct chain_entry *e, size_t n)
{
	return chain_tc_conf_fill(conf, e, n);
}

static int tc_conf_read(const void *buf, size_t size, struct chain_entry *e,
			size_t *ret_n, int *ret_version)
{
	*ret_version = CHAIN_TC_VERSION;
	return chain_tc_conf_parse(buf, size, e, ret_n);
}

const struct hook_ops tc_hook_ops = {
	.kind = CHAIN_TC,
	.disp_name = "tc_dispatcher",
	.slot_fmt = "prog%u",
	.conf_size = sizeof(struct chain_tc_conf),
	.query = tc_query,
	.is_attached = tc_is_attached,
	.prepare = tc_prepare,
	.swap = tc_swap,
	.remove = tc_remove,
	.cleanup = tc_cleanup,
	.conf_fill = tc_conf_fill,
	.conf_read = tc_conf_read,
};
