/* SPDX-License-Identifier: Apache-2.0 */
/* chain.c - run order, proceed-on masks and dispatcher configs of multi-program hooks */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/base/chain.h"

static const char *const xdp_actions[] = {
	"aborted", "drop", "pass", "tx", "redirect",
};
/* index = code + 1 */
static const char *const tc_actions[] = {
	"unspec", "ok", "reclassify", "shot", "pipe", "stolen", "queued", "repeat",
	"redirect", "trap",
};
#define N_XDP_ACTIONS	(sizeof(xdp_actions) / sizeof(xdp_actions[0]))
#define N_TC_ACTIONS	(sizeof(tc_actions) / sizeof(tc_actions[0]))

const char *chain_kind_str(enum chain_kind k)
{
	switch (k) {
	case CHAIN_XDP:
		return "xdp";
	case CHAIN_TC:
		return "tc";
	case CHAIN_TCX:
		return "tcx";
	}
	return "unknown";
}

const char *chain_dir_str(enum chain_dir d)
{
	return d == CHAIN_EGRESS ? "egress" : "ingress";
}

int chain_dir_parse(const char *s, enum chain_dir *ret_dir)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "ingress") || !strcmp(s, "in"))
		*ret_dir = CHAIN_INGRESS;
	else if (!strcmp(s, "egress") || !strcmp(s, "eg"))
		*ret_dir = CHAIN_EGRESS;
	else
		return -EINVAL;
	return 0;
}

/* The mask bit of an action code, or -1 when the code is not valid for kind. */
static int action_bit(enum chain_kind kind, int32_t code)
{
	if (kind == CHAIN_XDP) {
		if (code >= 0 && code < (int32_t)N_XDP_ACTIONS)
			return code;
		return code == CHAIN_XDP_RETVAL ? 31 : -1;
	}
	if (kind == CHAIN_TC) {
		if (code >= -1 && code < (int32_t)N_TC_ACTIONS - 1)
			return code + 1;
		return code == CHAIN_TC_RETVAL ? 31 : -1;
	}
	return -1;
}

const char *chain_action_str(enum chain_kind kind, int32_t code)
{
	if (action_bit(kind, code) < 0)
		return NULL;
	if (action_bit(kind, code) == 31)
		return "dispatcher_return";
	return kind == CHAIN_XDP ? xdp_actions[code] : tc_actions[code + 1];
}

int chain_action_parse(enum chain_kind kind, const char *name, int32_t *ret_code)
{
	size_t i;

	if (kind != CHAIN_XDP && kind != CHAIN_TC)
		return -EINVAL;
	if (!strcmp(name, "dispatcher_return")) {
		*ret_code = kind == CHAIN_XDP ? CHAIN_XDP_RETVAL : CHAIN_TC_RETVAL;
		return 0;
	}
	if (kind == CHAIN_XDP) {
		for (i = 0; i < N_XDP_ACTIONS; i++)
			if (!strcmp(name, xdp_actions[i])) {
				*ret_code = i;
				return 0;
			}
		return -EINVAL;
	}
	for (i = 0; i < N_TC_ACTIONS; i++)
		if (!strcmp(name, tc_actions[i])) {
			*ret_code = (int32_t)i - 1;
			return 0;
		}
	return -EINVAL;
}

int chain_proceed_on_encode(enum chain_kind kind, const int32_t *codes, size_t n,
			    uint32_t *ret_mask, struct errmsg *em)
{
	uint32_t mask = 0;
	size_t i;
	int bit;

	if (kind == CHAIN_TCX) {
		if (n)
			return errmsg_set(em, -EINVAL, "TCX programs have no proceed-on: the "
					  "kernel runs the next program when one returns "
					  "TCX_NEXT (-1)");
		*ret_mask = 0;
		return 0;
	}
	if (!n) {
		*ret_mask = kind == CHAIN_XDP ? CHAIN_XDP_DEFAULT_MASK : CHAIN_TC_DEFAULT_MASK;
		return 0;
	}
	for (i = 0; i < n; i++) {
		bit = action_bit(kind, codes[i]);
		if (bit < 0)
			return errmsg_set(em, -EINVAL, "Invalid %s proceed-on code %d: valid "
					  "codes are %s", chain_kind_str(kind), codes[i],
					  kind == CHAIN_XDP ?
					  "0 aborted, 1 drop, 2 pass, 3 tx, 4 redirect, "
					  "31 dispatcher_return" :
					  "-1 unspec, 0 ok, 1 reclassify, 2 shot, 3 pipe, "
					  "4 stolen, 5 queued, 6 repeat, 7 redirect, 8 trap, "
					  "30 dispatcher_return");
		mask |= 1u << bit;
	}
	*ret_mask = mask;
	return 0;
}

size_t chain_proceed_on_decode(enum chain_kind kind, uint32_t mask, int32_t *ret_codes,
			       size_t max)
{
	size_t n = 0;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		int32_t code;

		if (!(mask & (1u << bit)))
			continue;
		if (bit == 31)
			code = kind == CHAIN_XDP ? CHAIN_XDP_RETVAL : CHAIN_TC_RETVAL;
		else if (kind == CHAIN_XDP && bit < (int)N_XDP_ACTIONS)
			code = bit;
		else if (kind == CHAIN_TC && bit < (int)N_TC_ACTIONS)
			code = bit - 1;
		else
			continue;
		if (n < max)
			ret_codes[n] = code;
		n++;
	}
	return n;
}

void chain_proceed_on_str(enum chain_kind kind, uint32_t mask, char *buf, size_t size)
{
	int32_t codes[32];
	size_t n, i, off = 0;

	if (!size)
		return;
	buf[0] = '\0';
	n = chain_proceed_on_decode(kind, mask, codes, 32);
	for (i = 0; i < n && off < size; i++)
		off += snprintf(buf + off, size - off, "%s%s", i ? "," : "",
				chain_action_str(kind, codes[i]));
}

int chain_entry_cmp(const struct chain_entry *a, const struct chain_entry *b)
{
	int c;

	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	c = strcmp(a->name, b->name);
	if (c)
		return c < 0 ? -1 : 1;
	if (a->prog_id == b->prog_id)
		return 0;
	/* loaded before not yet loaded (id 0), then the older (smaller) id first */
	if (!a->prog_id || !b->prog_id)
		return a->prog_id ? -1 : 1;
	return a->prog_id < b->prog_id ? -1 : 1;
}

void chain_sort(struct chain_entry *e, size_t n)
{
	struct chain_entry tmp;
	size_t i, j;

	/* insertion sort: stable, and n is at most 64 */
	for (i = 1; i < n; i++) {
		tmp = e[i];
		for (j = i; j > 0 && chain_entry_cmp(&e[j - 1], &tmp) > 0; j--)
			e[j] = e[j - 1];
		e[j] = tmp;
	}
}

size_t chain_insert_pos(const struct chain_entry *e, size_t n, const struct chain_entry *add)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (chain_entry_cmp(add, &e[i]) < 0)
			break;
	return i;
}

int chain_remove(struct chain_entry *e, size_t n, uint32_t prog_id)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i].prog_id != prog_id)
			continue;
		memmove(&e[i], &e[i + 1], (n - i - 1) * sizeof(*e));
		return n - 1;
	}
	return -ENOENT;
}

void chain_tcx_anchor(const struct chain_entry *e, size_t n, size_t pos,
		      bool *ret_before, uint32_t *ret_anchor)
{
	if (pos + 1 < n) {
		*ret_before = true;
		*ret_anchor = e[pos + 1].prog_id;
	} else if (pos > 0 && pos - 1 < n) {
		*ret_before = false;
		*ret_anchor = e[pos - 1].prog_id;
	} else {
		*ret_before = true;
		*ret_anchor = 0;
	}
}

#define XDP_FLAG_FRAGS	(1u << 5)	/* BPF_F_XDP_HAS_FRAGS */

int chain_xdp_conf_fill(struct chain_xdp_conf *c, const struct chain_entry *e, size_t n)
{
	bool frags = n > 0;
	size_t i;

	if (n > CHAIN_MAX_PROGS)
		return -E2BIG;
	memset(c, 0, sizeof(*c));
	c->magic = CHAIN_XDP_MAGIC;
	c->dispatcher_version = CHAIN_XDP_VERSION;
	c->num_progs_enabled = n;
	for (i = 0; i < n; i++) {
		c->chain_call_actions[i] = e[i].proceed_on;
		c->run_prios[i] = (uint32_t)e[i].priority;
		c->program_flags[i] = e[i].flags;
		if (!(e[i].flags & XDP_FLAG_FRAGS))
			frags = false;
	}
	c->is_xdp_frags = frags;
	return 0;
}

bool chain_xdp_whole(const struct chain_entry *e, size_t n)
{
	return n == 1 && !(e[0].proceed_on & ~CHAIN_XDP_DEFAULT_MASK);
}

bool chain_xdp_default_masks(const struct chain_xdp_conf *c)
{
	unsigned int i;

	for (i = 0; i < c->num_progs_enabled && i < CHAIN_MAX_PROGS; i++)
		if (c->chain_call_actions[i] != CHAIN_XDP_DEFAULT_MASK)
			return false;
	return true;
}

int chain_tc_conf_fill(struct chain_tc_conf *c, const struct chain_entry *e, size_t n)
{
	size_t i;

	if (n > CHAIN_MAX_PROGS)
		return -E2BIG;
	memset(c, 0, sizeof(*c));
	c->num_progs_enabled = n;
	for (i = 0; i < n; i++) {
		c->chain_call_actions[i] = e[i].proceed_on;
		c->run_prios[i] = (uint32_t)e[i].priority;
	}
	return 0;
}

static int32_t prio_of(uint32_t v)
{
	return v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

/* Slots 0..n-1 of a dispatcher config into entries; flags NULL for TC. */
static int conf_entries(size_t n, const uint32_t *actions, const uint32_t *prios,
			const uint32_t *flags, struct chain_entry *e, size_t *ret_n)
{
	size_t i;

	if (n > CHAIN_MAX_PROGS)
		return -EPROTO;
	for (i = 0; i < n; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		e[i].priority = prio_of(prios[i]);
		e[i].proceed_on = actions[i];
		if (flags)
			e[i].flags = flags[i];
	}
	*ret_n = n;
	return 0;
}

int chain_xdp_conf_parse(const void *buf, size_t size, struct chain_entry *e,
			 size_t *ret_n, int *ret_version)
{
	struct chain_xdp_conf c;
	const unsigned char *b = buf;

	*ret_version = size >= 2 && b[0] == CHAIN_XDP_MAGIC ? b[1] : 1;
	if (*ret_version != CHAIN_XDP_VERSION || size != sizeof(c))
		return -EPROTO;
	memcpy(&c, buf, sizeof(c));
	return conf_entries(c.num_progs_enabled, c.chain_call_actions, c.run_prios,
			    c.program_flags, e, ret_n);
}

int chain_tc_conf_parse(const void *buf, size_t size, struct chain_entry *e,
			size_t *ret_n)
{
	struct chain_tc_conf c;

	if (size != sizeof(c))
		return -EPROTO;
	memcpy(&c, buf, sizeof(c));
	return conf_entries(c.num_progs_enabled, c.chain_call_actions, c.run_prios, NULL,
			    e, ret_n);
}

/* Does mask let the chain continue after a slot returned bit? */
static bool proceeds(uint32_t mask, long bit)
{
	return bit >= 0 && bit < 32 && (mask & (1u << bit));
}

int chain_xdp_eval(const struct chain_xdp_conf *c, const int *rets, uint32_t *ret_ran)
{
	unsigned int i;

	*ret_ran = 0;
	for (i = 0; i < c->num_progs_enabled && i < CHAIN_MAX_PROGS; i++) {
		*ret_ran |= 1u << i;
		if (!proceeds(c->chain_call_actions[i], rets[i]))
			return rets[i];
	}
	return 2;	/* XDP_PASS */
}

int chain_tc_eval(const struct chain_tc_conf *c, const int *rets, uint32_t *ret_ran)
{
	unsigned int i;

	*ret_ran = 0;
	for (i = 0; i < c->num_progs_enabled && i < CHAIN_MAX_PROGS; i++) {
		*ret_ran |= 1u << i;
		if (!proceeds(c->chain_call_actions[i], (long)rets[i] + 1))
			return rets[i];
	}
	return 0;	/* TC_ACT_OK */
}
