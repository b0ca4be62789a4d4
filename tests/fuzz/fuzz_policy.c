/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_policy.c - libFuzzer target for the [[policy]] rules: config_parse() of the
 * rule tables, then the decisions for callers and targets taken from the input
 *
 * It aborts when the module breaks its contract: a parse that fails leaves no
 * rule; a parsed rule matches somebody (it has a matcher) and keeps its
 * strings within their fields; uid 0 may always; without rules a TLS client may;
 * a decision is 0 or -EPERM, the same twice, with a one-line message that names
 * the caller exactly when it refuses; read-only rules never grant a write.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config/config.h"
#include "core/config/policy.h"
#include "fuzz.h"

static void check_rules(const struct policy *p)
{
	const struct policy_rule *r;
	size_t i, j;

	CHECK(p->n_rules <= POLICY_MAX_RULES);
	for (i = 0; i < p->n_rules; i++) {
		r = &p->rules[i];
		TERMINATED(r->user);
		TERMINATED(r->group);
		TERMINATED(r->client_cn);
		CHECK(r->line >= 1);
		CHECK(r->user[0] || r->has_uid || r->group[0] || r->has_gid || r->client_cn[0]);
		CHECK(r->n_ifaces <= POLICY_MAX_IFACES);
		for (j = 0; j < r->n_ifaces; j++)
			TERMINATED(r->ifaces[j]);
		CHECK(!r->has_prio_min || !r->has_prio_max || r->prio_min <= r->prio_max);
		CHECK(!r->read_only || (!r->has_kinds && !r->has_ifaces && !r->has_max_programs));
	}
}

/* A caller and a target from 8 bytes of input. */
static void pick(const uint8_t *b, struct caller *c, struct policy_target *t)
{
	static const char *const names[] = { "", "ops", "client1", "bpfd-client", "x" };
	static const char *const ifaces[] = { "eth0", "veth0", "lo", "" };

	memset(c, 0, sizeof(*c));
	c->kind = b[0] % 3;
	c->uid = b[1] % 4 ? 1000 + b[1] % 8 : 0;
	c->gid = 1000 + b[2] % 8;
	c->n_groups = b[3] % 3;
	c->groups[0] = b[2];
	c->groups[1] = 990;
	snprintf(c->cn, sizeof(c->cn), "%s", names[b[4] % 5]);
	if (b[4] & 0x80)
		snprintf(c->sans[c->n_sans++], sizeof(c->sans[0]), "%s", names[(b[4] >> 3) % 5]);
	caller_set_name(c, "/nonexistent/passwd");
	t->kind = b[5] % (OBJ_KIND_FEXIT + 1);
	t->iface = ifaces[b[6] % 4];
	t->priority = (int8_t)b[7] * 8;
}

static void decide(const struct policy *p, const uint8_t *b)
{
	struct errmsg e1 = { { 0 } }, e2 = { { 0 } };
	struct policy_target t;
	struct caller c;
	enum policy_op op = b[0] & 0x40 ? POLICY_WRITE : POLICY_READ;
	uint32_t l1, l2;
	int r1, r2;

	pick(b, &c, &t);
	r1 = policy_check(p, &c, op, "do it", b[0] & 0x20 ? &t : NULL, &l1, &e1);
	r2 = policy_check(p, &c, op, "do it", b[0] & 0x20 ? &t : NULL, &l2, &e2);
	CHECK(r1 == r2 && l1 == l2 && !strcmp(e1.msg, e2.msg));
	CHECK(r1 == 0 || r1 == -EPERM);
	CHECK(!strchr(e1.msg, '\n'));
	if (r1) {
		CHECK(c.kind == CALLER_UNKNOWN || !strncmp(e1.msg, c.name, strlen(c.name)));
	} else {
		CHECK(!e1.msg[0]);
		CHECK(c.kind != CALLER_UNKNOWN);
	}
	if (c.kind == CALLER_UNIX && c.uid == 0)
		CHECK(r1 == 0 && !l1);
	if (!p->n_rules && c.kind == CALLER_TLS)
		CHECK(r1 == 0);
	if (!r1 && op == POLICY_WRITE && policy_restricts(p, &c))
		CHECK(!policy_match(p, &c)->read_only);
	if (!r1 && l1) {
		CHECK(policy_check_count(p, &c, l1 - 1, l1, &e1) == 0);
		CHECK(policy_check_count(p, &c, l1, l1, &e1) == -EPERM);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfd_config *cfg;
	struct errmsg em = { { 0 } };
	const uint8_t *b;
	size_t i;
	int err;

	if (size < 16)
		return 0;
	cfg = malloc(sizeof(*cfg));
	CHECK(cfg);
	config_defaults(cfg);
	/* the first 16 bytes pick callers and targets, the rest is bpfd.toml */
	err = config_parse(cfg, (const char *)data + 16, size - 16, &em);
	if (err) {
		CHECK(err == -EINVAL || err == -ENOMEM);
		CHECK(cfg->policy.n_rules == 0);
	} else {
		check_rules(&cfg->policy);
		/* names are not resolved here: rules with user or group match by id only */
		cfg->policy.has_admin_gid = data[15] & 1;
		cfg->policy.admin_gid = 990;
		for (i = 0, b = data; i < 2; i++, b += 8)
			decide(&cfg->policy, b);
	}
	free(cfg);
	return 0;
}
