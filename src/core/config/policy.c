/* SPDX-License-Identifier: Apache-2.0 */
/* policy.c - the decisions of the [[policy]] rules: which rule fits a caller, and
 * whether its grant covers what the caller asks for */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/config/policy.h"

#define KIND_BIT(k)	(1u << (k))

static const struct {
	const char *name;
	uint32_t bits;
} kind_names[] = {
	{ "xdp", KIND_BIT(OBJ_KIND_XDP) },
	{ "tc", KIND_BIT(OBJ_KIND_TC) },
	{ "tcx", KIND_BIT(OBJ_KIND_TCX) },
	{ "tracepoint", KIND_BIT(OBJ_KIND_TRACEPOINT) },
	{ "kprobe", KIND_BIT(OBJ_KIND_KPROBE) | KIND_BIT(OBJ_KIND_KRETPROBE) },
	{ "uprobe", KIND_BIT(OBJ_KIND_UPROBE) | KIND_BIT(OBJ_KIND_URETPROBE) },
	{ "fentry", KIND_BIT(OBJ_KIND_FENTRY) },
	{ "fexit", KIND_BIT(OBJ_KIND_FEXIT) },
};
#define N_KINDS	(sizeof(kind_names) / sizeof(kind_names[0]))

uint32_t policy_kind_bit(const char *name)
{
	size_t i;

	for (i = 0; i < N_KINDS; i++)
		if (!strcmp(kind_names[i].name, name))
			return kind_names[i].bits;
	return 0;
}

/* One name of rule #n: its id through lookup() in file, or -ENOENT with em. */
static int resolve_name(int (*lookup)(const char *, const char *, uint32_t *), const char *file,
			const char *what, const char *name, size_t n, int line, uint32_t *ret_id,
			bool *ret_has, struct errmsg *em)
{
	int err;

	if (!name[0])
		return 0;
	err = lookup(file, name, ret_id);
	if (err)
		return errmsg_set(em, -ENOENT,
				  "[[policy]] #%zu (line %d): %s '%s' is not in %s%s%s: create the %s or give %cid = N",
				  n, line, what, name, file, err != -ENOENT ? ": " : "",
				  err != -ENOENT ? strerror(-err) : "", what, what[0]);
	*ret_has = true;
	return 0;
}

int policy_resolve(struct policy *p, const char *passwd, const char *group,
		   const char *admin_group, struct errmsg *em)
{
	struct policy_rule *r;
	size_t i;
	int err;

	p->has_admin_gid = false;
	snprintf(p->admin_group, sizeof(p->admin_group), "%s", admin_group ? admin_group : "");
	if (p->admin_group[0] && !ident_group_gid(group, p->admin_group, &p->admin_gid))
		p->has_admin_gid = true;
	for (i = 0; i < p->n_rules; i++) {
		r = &p->rules[i];
		err = resolve_name(ident_user_uid, passwd, "user", r->user, i + 1, r->line, &r->uid,
				   &r->has_uid, em);
		if (!err)
			err = resolve_name(ident_group_gid, group, "group", r->group, i + 1, r->line,
					   &r->gid, &r->has_gid, em);
		if (err)
			return err;
	}
	return 0;
}

static bool rule_fits(const struct policy_rule *r, const struct caller *c)
{
	if (r->has_uid && (c->kind != CALLER_UNIX || c->uid != r->uid))
		return false;
	if (r->has_gid && !caller_in_group(c, r->gid))
		return false;
	if (r->client_cn[0] && !caller_has_cert_name(c, r->client_cn))
		return false;
	return r->has_uid || r->has_gid || r->client_cn[0];
}

static bool is_root(const struct caller *c)
{
	return c->kind == CALLER_UNIX && c->uid == 0;
}

bool policy_restricts(const struct policy *p, const struct caller *c)
{
	return p->n_rules && !is_root(c);
}

const struct policy_rule *policy_match(const struct policy *p, const struct caller *c)
{
	size_t i;

	if (is_root(c))
		return NULL;
	for (i = 0; i < p->n_rules; i++)
		if (rule_fits(&p->rules[i], c))
			return &p->rules[i];
	return NULL;
}

/* "[[policy]] #2 (line 14)" */
static const char *rule_name(const struct policy *p, const struct policy_rule *r, char *buf,
			     size_t size)
{
	snprintf(buf, size, "[[policy]] #%zu (line %d)", (size_t)(r - p->rules) + 1, r->line);
	return buf;
}

static void kinds_str(uint32_t kinds, char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < N_KINDS && n < size; i++)
		if (kinds & kind_names[i].bits)
			n += snprintf(buf + n, size - n, "%s%s", n ? ", " : "", kind_names[i].name);
	if (!n)
		snprintf(buf, size, "no kind");
}

static void ifaces_str(const struct policy_rule *r, char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < r->n_ifaces && n < size; i++)
		n += snprintf(buf + n, size - n, "%s%s", n ? ", " : "", r->ifaces[i]);
	if (!n)
		snprintf(buf, size, "none");
}

static bool iface_allowed(const struct policy_rule *r, const char *iface)
{
	size_t i;

	if (!r->has_ifaces)
		return true;
	for (i = 0; i < r->n_ifaces; i++)
		if (!strcmp(r->ifaces[i], "*") || !strcmp(r->ifaces[i], iface))
			return true;
	return false;
}

static bool chain_kind(enum obj_kind k)
{
	return k == OBJ_KIND_XDP || k == OBJ_KIND_TC || k == OBJ_KIND_TCX;
}

/* The grant of rule r for target t. */
static int grant_check(const struct policy *p, const struct policy_rule *r,
		       const struct caller *c, const char *what, const struct policy_target *t,
		       struct errmsg *em)
{
	char rn[64], list[256];

	rule_name(p, r, rn, sizeof(rn));
	if (t->kind == OBJ_KIND_UNKNOWN)
		return 0;	/* the manager refuses a request without a kind */
	if (r->has_kinds && !(r->kinds & KIND_BIT(t->kind))) {
		kinds_str(r->kinds, list, sizeof(list));
		return errmsg_set(em, -EPERM, "%s may not %s: kind %s is not in the kinds %s allows (%s)",
				  c->name, what, obj_kind_str(t->kind), rn, list);
	}
	if (!chain_kind(t->kind))
		return 0;
	if (!iface_allowed(r, t->iface ? t->iface : "")) {
		ifaces_str(r, list, sizeof(list));
		return errmsg_set(em, -EPERM, "%s may not %s: interface '%s' is not in the interfaces %s allows (%s)",
				  c->name, what, t->iface ? t->iface : "", rn, list);
	}
	if ((r->has_prio_min && t->priority < r->prio_min) ||
	    (r->has_prio_max && t->priority > r->prio_max)) {
		if (r->has_prio_min && r->has_prio_max)
			snprintf(list, sizeof(list), "%d to %d", r->prio_min, r->prio_max);
		else if (r->has_prio_min)
			snprintf(list, sizeof(list), "%d and above", r->prio_min);
		else
			snprintf(list, sizeof(list), "up to %d", r->prio_max);
		return errmsg_set(em, -EPERM, "%s may not %s: priority %d is outside what %s allows (%s)",
				  c->name, what, t->priority, rn, list);
	}
	return 0;
}

int policy_check(const struct policy *p, const struct caller *c, enum policy_op op,
		 const char *what, const struct policy_target *t, uint32_t *ret_limit,
		 struct errmsg *em)
{
	const struct policy_rule *r;
	char rn[64];
	int err;

	if (ret_limit)
		*ret_limit = 0;
	if (c->kind == CALLER_UNKNOWN)
		return errmsg_set(em, -EPERM, "the caller may not %s: bpfd cannot tell who it is (no peer credentials)",
				  what);
	if (is_root(c))
		return 0;
	if (!p->n_rules) {
		if (c->kind == CALLER_TLS)
			return 0;
		if (p->has_admin_gid && caller_in_group(c, p->admin_gid))
			return 0;
		if (p->admin_group[0])
			return errmsg_set(em, -EPERM, "%s may not %s: it is neither root nor in group '%s', and no [[policy]] rule grants anything (see bpfd.toml)",
					  c->name, what, p->admin_group);
		return errmsg_set(em, -EPERM, "%s may not %s: it is not root, and no [[policy]] rule grants anything (see bpfd.toml)",
				  c->name, what);
	}
	r = policy_match(p, c);
	if (!r)
		return errmsg_set(em, -EPERM, "%s may not %s: none of the %zu [[policy]] rules matches it",
				  c->name, what, p->n_rules);
	rule_name(p, r, rn, sizeof(rn));
	if (op == POLICY_READ)
		return 0;
	if (r->read_only)
		return errmsg_set(em, -EPERM, "%s may not %s: %s is read_only (List and Get)",
				  c->name, what, rn);
	if (t) {
		err = grant_check(p, r, c, what, t, em);
		if (err)
			return err;
	}
	if (ret_limit && r->has_max_programs)
		*ret_limit = r->max_programs;
	return 0;
}

int policy_check_count(const struct policy *p, const struct caller *c, size_t held,
		       uint32_t limit, struct errmsg *em)
{
	const struct policy_rule *r = policy_match(p, c);
	char rn[64] = "its [[policy]] rule";

	if (!limit || held < limit)
		return 0;
	if (r)
		rule_name(p, r, rn, sizeof(rn));
	return errmsg_set(em, -EPERM, "%s may not load another program: it holds %zu, and %s allows at most %u (max_programs)",
			  c->name, held, rn, limit);
}
