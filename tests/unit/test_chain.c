/* SPDX-License-Identifier: Apache-2.0 */
/* test_chain.c - run order, proceed-on masks and dispatcher configs (core/chain.c) */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "core/base/chain.h"

static struct chain_entry ent(uint32_t id, int32_t prio, const char *name)
{
	struct chain_entry e = { .prog_id = id, .priority = prio };

	snprintf(e.name, sizeof(e.name), "%s", name);
	return e;
}

static void xdp_default_mask(void)
{
	uint32_t mask = 0;

	ASSERT_OK(chain_proceed_on_encode(CHAIN_XDP, NULL, 0, &mask, NULL), "encode");
	ASSERT_EQ(mask, 0x80000004u, "pass + dispatcher_return");
}

static void tc_default_mask(void)
{
	uint32_t mask = 0;

	ASSERT_OK(chain_proceed_on_encode(CHAIN_TC, NULL, 0, &mask, NULL), "encode");
	ASSERT_EQ(mask, 0x80000010u, "pipe + dispatcher_return");
}

static void xdp_encode_each_code(void)
{
	static const int32_t codes[] = { 0, 1, 2, 3, 4, 31 };
	static const uint32_t bits[] = { 1, 2, 4, 8, 16, 0x80000000u };
	uint32_t mask;
	size_t i;

	for (i = 0; i < 6; i++) {
		ASSERT_OK(chain_proceed_on_encode(CHAIN_XDP, &codes[i], 1, &mask, NULL), "enc");
		ASSERT_EQ(mask, bits[i], "bit of code");
	}
	ASSERT_OK(chain_proceed_on_encode(CHAIN_XDP, codes, 6, &mask, NULL), "all");
	ASSERT_EQ(mask, 0x8000001fu, "all codes");
}

static void tc_encode_each_code(void)
{
	int32_t code;
	uint32_t mask;

	for (code = -1; code <= 8; code++) {
		ASSERT_OK(chain_proceed_on_encode(CHAIN_TC, &code, 1, &mask, NULL), "enc");
		ASSERT_EQ(mask, 1u << (code + 1), "bit = code + 1");
	}
	code = 30;
	ASSERT_OK(chain_proceed_on_encode(CHAIN_TC, &code, 1, &mask, NULL), "retval");
	ASSERT_EQ(mask, 0x80000000u, "dispatcher_return = bit 31");
}

static void invalid_codes(void)
{
	static const int32_t xdp_bad[] = { -1, 5, 30, 32 };
	static const int32_t tc_bad[] = { -2, 9, 31 };
	struct errmsg em = {};
	uint32_t mask = 7;
	size_t i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(chain_proceed_on_encode(CHAIN_XDP, &xdp_bad[i], 1, &mask, NULL),
			  -EINVAL, "xdp bad code");
	for (i = 0; i < 3; i++)
		ASSERT_EQ(chain_proceed_on_encode(CHAIN_TC, &tc_bad[i], 1, &mask, NULL),
			  -EINVAL, "tc bad code");
	ASSERT_EQ(chain_proceed_on_encode(CHAIN_TC, tc_bad, 1, &mask, &em), -EINVAL, "msg");
	ASSERT_STRSTR(em.msg, "-2", "message names the code");
	ASSERT_STRSTR(em.msg, "30 dispatcher_return", "message lists the valid codes");
	ASSERT_EQ(mask, 7, "mask untouched on error");
	ASSERT_EQ(chain_proceed_on_encode(CHAIN_TCX, xdp_bad, 1, &mask, NULL), -EINVAL,
		  "tcx has no proceed-on");
}

static void decode_round_trip(void)
{
	int32_t codes[16], in[] = { -1, 2, 8, 30 };
	uint32_t mask;
	size_t n;

	ASSERT_OK(chain_proceed_on_encode(CHAIN_TC, in, 4, &mask, NULL), "encode");
	n = chain_proceed_on_decode(CHAIN_TC, mask, codes, 16);
	ASSERT_EQ(n, 4, "4 codes");
	ASSERT_EQ(codes[0], -1, "unspec");
	ASSERT_EQ(codes[1], 2, "shot");
	ASSERT_EQ(codes[2], 8, "trap");
	ASSERT_EQ(codes[3], 30, "dispatcher_return");
	n = chain_proceed_on_decode(CHAIN_XDP, 0x80000004u, codes, 16);
	ASSERT_EQ(n, 2, "xdp default decodes to 2 codes");
	ASSERT_EQ(codes[0], 2, "pass");
	ASSERT_EQ(codes[1], 31, "dispatcher_return");
	n = chain_proceed_on_decode(CHAIN_XDP, 0x80000ff3u, codes, 1);
	ASSERT_EQ(n, 4, "unknown bits skipped, count beyond max");
	ASSERT_EQ(codes[0], 0, "only max written");
	ASSERT_EQ(chain_proceed_on_decode(CHAIN_XDP, 0, codes, 16), 0, "empty mask");
}

static void action_names(void)
{
	char buf[128];
	int32_t code;

	ASSERT_STREQ(chain_action_str(CHAIN_XDP, 4), "redirect", "xdp 4");
	ASSERT_STREQ(chain_action_str(CHAIN_TC, -1), "unspec", "tc -1");
	ASSERT_STREQ(chain_action_str(CHAIN_TC, 30), "dispatcher_return", "tc 30");
	ASSERT_TRUE(chain_action_str(CHAIN_XDP, 30) == NULL, "xdp 30 invalid");
	ASSERT_OK(chain_action_parse(CHAIN_TC, "trap", &code), "parse trap");
	ASSERT_EQ(code, 8, "trap = 8");
	ASSERT_OK(chain_action_parse(CHAIN_XDP, "dispatcher_return", &code), "parse dr");
	ASSERT_EQ(code, 31, "xdp dispatcher_return = 31");
	ASSERT_EQ(chain_action_parse(CHAIN_XDP, "pipe", &code), -EINVAL, "pipe is not xdp");
	chain_proceed_on_str(CHAIN_TC, 0x80000011u, buf, sizeof(buf));
	ASSERT_STREQ(buf, "unspec,pipe,dispatcher_return", "mask string");
}

static void order_by_priority_name_id(void)
{
	struct chain_entry e[] = {
		ent(7, 100, "b"), ent(3, 50, "z"), ent(9, 100, "a"), ent(0, 100, "a"),
		ent(5, 100, "a"), ent(2, -5, "x"),
	};

	chain_sort(e, 6);
	ASSERT_EQ(e[0].prog_id, 2, "negative priority first");
	ASSERT_EQ(e[1].prog_id, 3, "then 50");
	ASSERT_EQ(e[2].prog_id, 5, "100 'a' older id");
	ASSERT_EQ(e[3].prog_id, 9, "100 'a' newer id");
	ASSERT_EQ(e[4].prog_id, 0, "100 'a' not yet loaded after loaded ones");
	ASSERT_EQ(e[5].prog_id, 7, "100 'b' after 'a'");
}

static void insert_and_remove(void)
{
	struct chain_entry e[4] = { ent(1, 10, "a"), ent(2, 50, "a"), ent(3, 90, "a") };
	struct chain_entry add = ent(4, 50, "b");

	ASSERT_EQ(chain_insert_pos(e, 3, &add), 2, "after the equal-priority 'a'");
	add.priority = 5;
	ASSERT_EQ(chain_insert_pos(e, 3, &add), 0, "front");
	add.priority = 500;
	ASSERT_EQ(chain_insert_pos(e, 3, &add), 3, "end");
	ASSERT_EQ(chain_insert_pos(e, 0, &add), 0, "empty chain");
	ASSERT_EQ(chain_remove(e, 3, 2), 2, "removed the middle");
	ASSERT_EQ(e[0].prog_id, 1, "first kept");
	ASSERT_EQ(e[1].prog_id, 3, "last moved up");
	ASSERT_EQ(e[1].priority, 90, "its priority kept");
	ASSERT_EQ(chain_remove(e, 2, 42), -ENOENT, "absent id");
}

static void tcx_anchors(void)
{
	struct chain_entry e[] = { ent(11, 10, "a"), ent(12, 20, "a"), ent(13, 30, "a") };
	uint32_t anchor;
	bool before;

	chain_tcx_anchor(e, 3, 0, &before, &anchor);
	ASSERT_TRUE(before && anchor == 12, "first: before the next");
	chain_tcx_anchor(e, 3, 1, &before, &anchor);
	ASSERT_TRUE(before && anchor == 13, "middle: before the next");
	chain_tcx_anchor(e, 3, 2, &before, &anchor);
	ASSERT_TRUE(!before && anchor == 12, "last: after the previous");
	chain_tcx_anchor(e, 1, 0, &before, &anchor);
	ASSERT_TRUE(before && anchor == 0, "alone: head");
}

static void xdp_conf_layout(void)
{
	struct chain_entry e[3] = { ent(1, 10, "a"), ent(2, 20, "b"), ent(3, 30, "c") };
	struct chain_entry big[CHAIN_MAX_PROGS + 1];
	struct chain_xdp_conf c;

	ASSERT_EQ(offsetof(struct chain_xdp_conf, chain_call_actions), 4, "cca at 4");
	ASSERT_EQ(offsetof(struct chain_xdp_conf, run_prios), 44, "prios at 44");
	ASSERT_EQ(offsetof(struct chain_xdp_conf, program_flags), 84, "flags at 84");
	e[0].proceed_on = 0x80000006u;
	e[1].flags = 1u << 5;
	ASSERT_OK(chain_xdp_conf_fill(&c, e, 3), "fill");
	ASSERT_EQ(c.magic, 236, "magic");
	ASSERT_EQ(c.dispatcher_version, 2, "version");
	ASSERT_EQ(c.num_progs_enabled, 3, "count");
	ASSERT_EQ(c.chain_call_actions[0], 0x80000006u, "mask of slot 0");
	ASSERT_EQ(c.run_prios[2], 30, "real priority of slot 2");
	ASSERT_EQ(c.program_flags[1], 1u << 5, "flags kept");
	ASSERT_EQ(c.is_xdp_frags, 0, "frags only when all have it");
	e[0].flags = e[2].flags = 1u << 5;
	ASSERT_OK(chain_xdp_conf_fill(&c, e, 3), "fill");
	ASSERT_EQ(c.is_xdp_frags, 1, "all frags");
	ASSERT_EQ(chain_xdp_conf_fill(&c, big, CHAIN_MAX_PROGS + 1), -E2BIG, "11 programs");
}

/* chain_xdp_whole says yes exactly when a lone member's verdicts, each of them, come
 * out of the dispatcher unchanged: then the member may replace the dispatcher. */
static void xdp_whole(void)
{
	struct chain_entry e[2] = { ent(1, 10, "a"), ent(2, 20, "b") };
	struct chain_xdp_conf c;
	uint32_t mask, ran;
	int ret, same;

	for (mask = 0; mask < 32; mask++) {
		e[0].proceed_on = mask | CHAIN_RETVAL_BIT;
		ASSERT_OK(chain_xdp_conf_fill(&c, e, 1), "fill");
		same = 1;
		for (ret = 0; ret <= 4; ret++)
			if (chain_xdp_eval(&c, &ret, &ran) != ret)
				same = 0;
		ASSERT_EQ(chain_xdp_whole(e, 1), same, "whole iff verdicts unchanged");
		ASSERT_EQ(chain_xdp_whole(e, 2), 0, "never with two members");
	}
	e[0].proceed_on = CHAIN_XDP_DEFAULT_MASK;
	ASSERT_EQ(chain_xdp_whole(e, 1), 1, "the default proceed-on");
	ASSERT_EQ(chain_xdp_whole(e, 0), 0, "no member");
}

/* chain_xdp_default_masks: every enabled slot exactly the default; what lies past the
 * enabled slots does not count. */
static void xdp_default_masks(void)
{
	struct chain_entry e[3] = { ent(1, 10, "a"), ent(2, 20, "b"), ent(3, 30, "c") };
	struct chain_xdp_conf c;
	int i;

	for (i = 0; i < 3; i++)
		e[i].proceed_on = CHAIN_XDP_DEFAULT_MASK;
	ASSERT_OK(chain_xdp_conf_fill(&c, e, 3), "fill");
	ASSERT_TRUE(chain_xdp_default_masks(&c), "three default masks");
	e[2].proceed_on = 1u << 2;	/* pass alone: a member's 31 would end the chain */
	ASSERT_OK(chain_xdp_conf_fill(&c, e, 3), "fill");
	ASSERT_TRUE(!chain_xdp_default_masks(&c), "pass without dispatcher_return");
	ASSERT_OK(chain_xdp_conf_fill(&c, e, 2), "fill");
	ASSERT_TRUE(chain_xdp_default_masks(&c), "the other mask is past the enabled slots");
	e[0].proceed_on = CHAIN_XDP_DEFAULT_MASK | (1u << 1);
	ASSERT_OK(chain_xdp_conf_fill(&c, e, 2), "fill");
	ASSERT_TRUE(!chain_xdp_default_masks(&c), "default and drop");
	ASSERT_OK(chain_xdp_conf_fill(&c, e, 0), "fill");
	ASSERT_TRUE(chain_xdp_default_masks(&c), "no slot enabled");
}

static void tc_conf_layout(void)
{
	struct chain_entry e[2] = { ent(1, 7, "a"), ent(2, 9, "b") };
	struct chain_tc_conf c;

	ASSERT_EQ(offsetof(struct chain_tc_conf, chain_call_actions), 4, "cca at 4");
	ASSERT_EQ(offsetof(struct chain_tc_conf, run_prios), 44, "prios at 44");
	e[1].proceed_on = 0x80000010u;
	ASSERT_OK(chain_tc_conf_fill(&c, e, 2), "fill");
	ASSERT_EQ(c.num_progs_enabled, 2, "count");
	ASSERT_EQ(c.chain_call_actions[1], 0x80000010u, "mask");
	ASSERT_EQ(c.run_prios[0], 7, "prio");
}

/* The table of dispatchers.md 5.4, as the C model of the BPF dispatcher. */
static void xdp_eval_table(void)
{
	struct chain_xdp_conf c = { .num_progs_enabled = 3 };
	int rets[CHAIN_MAX_PROGS] = { 2, 2, 2 };
	uint32_t ran;
	int i;

	for (i = 0; i < 3; i++)
		c.chain_call_actions[i] = 0x80000004u;
	ASSERT_EQ(chain_xdp_eval(&c, rets, &ran), 2, "all pass: pass");
	ASSERT_EQ(ran, 7, "all ran");
	rets[1] = 1;
	ASSERT_EQ(chain_xdp_eval(&c, rets, &ran), 1, "drop in the middle stops");
	ASSERT_EQ(ran, 3, "third did not run");
	c.chain_call_actions[1] |= 1u << 1;
	ASSERT_EQ(chain_xdp_eval(&c, rets, &ran), 2, "drop proceeds when in the mask");
	ASSERT_EQ(ran, 7, "all ran");
	rets[0] = 3;
	ASSERT_EQ(chain_xdp_eval(&c, rets, &ran), 3, "tx stops at once");
	ASSERT_EQ(ran, 1, "only the first");
	rets[0] = CHAIN_XDP_RETVAL;
	rets[1] = 2;
	ASSERT_EQ(chain_xdp_eval(&c, rets, &ran), 2, "empty slot skipped by bit 31");
	c.chain_call_actions[0] = 4;
	ASSERT_EQ(chain_xdp_eval(&c, rets, &ran), CHAIN_XDP_RETVAL, "no bit 31: 31 returned");
	rets[0] = 99;
	ASSERT_EQ(chain_xdp_eval(&c, rets, &ran), 99, "out-of-range verdict stops");
}

static void tc_eval_table(void)
{
	struct chain_tc_conf c = { .num_progs_enabled = 2 };
	int rets[CHAIN_MAX_PROGS] = { 3, 3 };
	uint32_t ran;

	c.chain_call_actions[0] = c.chain_call_actions[1] = 0x80000010u;
	ASSERT_EQ(chain_tc_eval(&c, rets, &ran), 0, "all pipe: TC_ACT_OK at the end");
	rets[0] = -1;
	ASSERT_EQ(chain_tc_eval(&c, rets, &ran), -1, "unspec stops by default");
	ASSERT_EQ(ran, 1, "second did not run");
	c.chain_call_actions[0] |= 1;
	ASSERT_EQ(chain_tc_eval(&c, rets, &ran), 0, "unspec (bit 0) proceeds");
	ASSERT_EQ(ran, 3, "both ran");
	rets[0] = 0;
	ASSERT_EQ(chain_tc_eval(&c, rets, &ran), 0, "ok stops (default has no ok)");
	ASSERT_EQ(ran, 1, "first only");
	rets[0] = CHAIN_TC_RETVAL;
	rets[1] = 2;
	ASSERT_EQ(chain_tc_eval(&c, rets, &ran), 2, "empty slot skipped, shot returned");
}

/* Configs found in the kernel: bpfd's own layout parses, anything else is refused. */
static void conf_parse(void)
{
	struct chain_entry e[3] = { ent(1, 10, "a"), ent(2, 20, "b"), ent(3, 30, "c") };
	struct chain_entry got[CHAIN_MAX_PROGS];
	struct chain_xdp_conf c;
	struct chain_tc_conf t;
	unsigned char raw[128] = { 0 };
	size_t n = 0;
	int v;

	e[1].proceed_on = 0x8000000au;
	chain_xdp_conf_fill(&c, e, 3);
	c.run_prios[2] = 0xffffffffu;
	ASSERT_OK(chain_xdp_conf_parse(&c, sizeof(c), got, &n, &v), "own layout");
	ASSERT_EQ(n, 3, "three");
	ASSERT_EQ(v, 2, "version 2");
	ASSERT_EQ(got[1].proceed_on, 0x8000000au, "mask");
	ASSERT_EQ(got[2].priority, INT32_MAX, "huge priority clamped");
	ASSERT_EQ(chain_xdp_conf_parse(&c, 128, got, &n, &v), -EPROTO, "v3 size");
	c.dispatcher_version = 3;
	ASSERT_EQ(chain_xdp_conf_parse(&c, sizeof(c), got, &n, &v), -EPROTO, "v3");
	ASSERT_EQ(v, 3, "version reported");
	raw[0] = 2;	/* libxdp v1: no magic, count first */
	ASSERT_EQ(chain_xdp_conf_parse(raw, 84, got, &n, &v), -EPROTO, "v1");
	ASSERT_EQ(v, 1, "v1 recognised");
	c.dispatcher_version = 2;
	c.num_progs_enabled = 11;
	ASSERT_EQ(chain_xdp_conf_parse(&c, sizeof(c), got, &n, &v), -EPROTO, "11 slots");
	chain_tc_conf_fill(&t, e, 2);
	ASSERT_OK(chain_tc_conf_parse(&t, sizeof(t), got, &n), "tc layout");
	ASSERT_EQ(n, 2, "two");
	ASSERT_EQ(got[1].priority, 20, "tc priority");
	ASSERT_EQ(chain_tc_conf_parse(&t, 85, got, &n), -EPROTO, "tc size");
}

static void dir_parse(void)
{
	enum chain_dir d;

	ASSERT_OK(chain_dir_parse("egress", &d), "egress");
	ASSERT_EQ(d, CHAIN_EGRESS, "egress value");
	ASSERT_OK(chain_dir_parse("in", &d), "in");
	ASSERT_EQ(d, CHAIN_INGRESS, "in value");
	ASSERT_EQ(chain_dir_parse("sideways", &d), -EINVAL, "bad direction");
	ASSERT_STREQ(chain_kind_str(CHAIN_TCX), "tcx", "kind name");
}

TEST_MAIN("chain",
	  TEST(xdp_default_mask), TEST(tc_default_mask), TEST(xdp_encode_each_code),
	  TEST(tc_encode_each_code), TEST(invalid_codes), TEST(decode_round_trip),
	  TEST(action_names), TEST(order_by_priority_name_id), TEST(insert_and_remove),
	  TEST(tcx_anchors), TEST(xdp_conf_layout), TEST(xdp_whole), TEST(xdp_default_masks),
	  TEST(tc_conf_layout),
	  TEST(xdp_eval_table), TEST(tc_eval_table), TEST(conf_parse), TEST(dir_parse))
