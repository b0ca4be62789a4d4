/* SPDX-License-Identifier: Apache-2.0 */
/* xdp_hook.c - the XDP side of the dispatcher engine: netlink attach (never a
 * bpf_link, so that libxdp can replace the dispatcher), libxdp's v2 config, XDP modes.
 *
 * Pins: <xdp_bpffs>/xdp/dispatch-<ifindex>-<dispatcher id>/prog<N>-{link,prog}, under
 * flock(<xdp_bpffs>/xdp): libxdp's own layout and lock, so `xdp-loader status` lists
 * bpfd's programs and `xdp-loader load/unload` keeps them. */
#include <errno.h>
#include <linux/if_link.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/hook_int.h"
#include "bpf/netlink.h"

#ifndef ENOTSUPP
#define ENOTSUPP	524	/* kernel-internal, seen from some drivers */
#endif

static uint32_t mode_of(const struct netlink_xdp *q, uint32_t *ret_id)
{
	if (q->drv_id) {
		*ret_id = q->drv_id;
		return XDP_FLAGS_DRV_MODE;
	}
	if (q->skb_id) {
		*ret_id = q->skb_id;
		return XDP_FLAGS_SKB_MODE;
	}
	*ret_id = q->hw_id;
	return q->hw_id ? XDP_FLAGS_HW_MODE : 0;
}

/* One RTM_GETLINK for this link (not libbpf's dump of all links); a link that is gone
 * has no programs, as with bpf_xdp_query(). */
static int query(struct hook *h, struct netlink_xdp *q)
{
	int err = netlink_xdp_query(h->ifindex, q, NULL);

	if (err == -ENODEV) {
		memset(q, 0, sizeof(*q));
		return 0;
	}
	return err;
}

/* Native (driver) before generic, as libxdp does when both are attached. */
static int xdp_query(struct hook *h, uint32_t *ret_id, uint32_t *ret_mode_flags)
{
	struct netlink_xdp q;
	uint32_t mode;
	int err;

	err = query(h, &q);
	if (err)
		return err;
	mode = mode_of(&q, ret_id);
	if (ret_mode_flags)
		*ret_mode_flags = mode;
	return 0;
}

static bool xdp_is_attached(struct hook *h, uint32_t id)
{
	struct netlink_xdp q;

	if (query(h, &q))
		return true;	/* cannot tell: keep */
	return id == q.drv_id || id == q.skb_id || id == q.hw_id;
}

uint32_t xdp_hook_mode_flags(struct hook *h, bool *ret_fallback)
{
	enum hook_xdp_mode mode = HOOK_XDP_DEFAULT;

	*ret_fallback = false;
	if (h->env->xdp_mode)
		mode = h->env->xdp_mode(h->iface, h->env->xdp_mode_arg);
	switch (mode) {
	case HOOK_XDP_SKB:
		return XDP_FLAGS_SKB_MODE;
	case HOOK_XDP_DRV:
		return XDP_FLAGS_DRV_MODE;
	case HOOK_XDP_HW:
		return XDP_FLAGS_HW_MODE;
	case HOOK_XDP_DEFAULT:
		break;
	}
	*ret_fallback = true;
	return XDP_FLAGS_DRV_MODE;
}

static const char *mode_str(uint32_t flags)
{
	return flags & XDP_FLAGS_SKB_MODE ? "skb" : flags & XDP_FLAGS_HW_MODE ? "hw" : "drv";
}

/* The driver refused native mode (no ndo_bpf, MTU too large, ...): generic works. */
static bool drv_refused(int err)
{
	return err == -EOPNOTSUPP || err == -ENOTSUPP || err == -EINVAL || err == -ERANGE;
}

static int xdp_first_attach(struct hook *h, int fd, struct errmsg *em)
{
	bool fallback;
	uint32_t flags = xdp_hook_mode_flags(h, &fallback);
	int err;

	err = bpf_xdp_attach(h->ifindex, fd, flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err && fallback && drv_refused(err)) {
		flags = XDP_FLAGS_SKB_MODE;
		err = bpf_xdp_attach(h->ifindex, fd, flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	}
	if (err == -EBUSY || err == -EEXIST)
		return -EAGAIN;	/* somebody attached first: look again */
	if (err)
		return errmsg_set(em, err, "cannot attach XDP to %s in %s mode: %s%s", h->iface,
				  mode_str(flags), strerror(-err), flags & XDP_FLAGS_DRV_MODE ?
				  " (set xdp_mode = \"skb\" for this interface in bpfd.toml if "
				  "its driver lacks native XDP)" : "");
	return 0;
}

static int xdp_swap(struct hook *h, int new_fd, int old_fd, uint32_t old_id,
		    uint32_t mode_flags, struct errmsg *em)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = old_fd);
	int err;

	(void)old_id;
	if (old_fd < 0)
		return xdp_first_attach(h, new_fd, em);
	/* libbpf turns old_prog_fd into XDP_FLAGS_REPLACE + IFLA_XDP_EXPECTED_FD */
	err = bpf_xdp_attach(h->ifindex, new_fd, mode_flags, &ao);
	if (err == -EEXIST)
		return -EAGAIN;	/* the expected program is not there any more */
	if (err == -EBUSY)
		return errmsg_set(em, -HOOK_EPRECONDITION, "the XDP hook of %s is held by a "
				  "bpf_link, which bpfd cannot replace; detach it first",
				  h->iface);
	if (err)
		return errmsg_set(em, err, "cannot replace the XDP dispatcher of %s: %s",
				  h->iface, strerror(-err));
	return 0;
}

static int xdp_remove(struct hook *h, int old_fd, uint32_t old_id, uint32_t mode_flags,
		      struct errmsg *em)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = old_fd);
	int err;

	(void)old_id;
	err = bpf_xdp_detach(h->ifindex, mode_flags, &ao);
	if (err == -EEXIST)
		return -EAGAIN;
	if (err == -EBUSY)
		return errmsg_set(em, -HOOK_EPRECONDITION, "the XDP hook of %s is held by a "
				  "bpf_link, which bpfd cannot detach", h->iface);
	if (err)
		return errmsg_set(em, err, "cannot detach XDP from %s: %s", h->iface,
				  strerror(-err));
	return 0;
}

static int xdp_prepare(struct hook *h, struct errmsg *em)
{
	(void)h, (void)em;
	return 0;
}

static void xdp_cleanup(struct hook *h)
{
	(void)h;
}

static int xdp_conf_fill(void *conf, const struct chain_entry *e, size_t n)
{
	return chain_xdp_conf_fill(conf, e, n);
}

/* the same dispatcher without reading the masks, when all are the default */
static const char *xdp_disp_obj(const void *conf)
{
	return chain_xdp_default_masks(conf) ? "xdp_dispatcher_default" : "xdp_dispatcher";
}

const struct hook_ops xdp_hook_ops = {
	.kind = CHAIN_XDP,
	.disp_name = "xdp_dispatcher",
	.disp_obj = xdp_disp_obj,
	.slot_fmt = "prog%u",
	.conf_size = sizeof(struct chain_xdp_conf),
	.query = xdp_query,
	.is_attached = xdp_is_attached,
	.prepare = xdp_prepare,
	.swap = xdp_swap,
	.remove = xdp_remove,
	.cleanup = xdp_cleanup,
	.conf_fill = xdp_conf_fill,
	.conf_read = chain_xdp_conf_parse,
};
