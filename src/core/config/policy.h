/* SPDX-License-Identifier: Apache-2.0 */
/* policy.h - who may do what: the [[policy]] rules of bpfd.toml and the decisions
 *
 * A pure module: rules in, a caller and what it asks for in, a yes or a
 * sentence for PERMISSION_DENIED out.  config.c fills the rules from the file;
 * policy_resolve() turns user and group names into ids at start-up; the front
 * thread (rpc.c) asks before anything reaches the kernel executor.
 *
 * Who may do everything: uid 0 always.  Without rules, also the members of the
 * unix socket's group (bpfd) and every TCP client with a valid certificate (the
 * behaviour before rules existed).  With rules, everyone but uid 0 needs a
 * matching rule: the first rule whose matchers all fit the caller decides; no
 * further rule is tried.
 */
#ifndef BPFD_CORE_CONFIG_POLICY_H
#define BPFD_CORE_CONFIG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/caller.h"
#include "core/base/errmsg.h"
#include "core/base/obj_kind.h"

#define POLICY_MAX_RULES	64
#define POLICY_MAX_IFACES	16
#define POLICY_IFACE_SIZE	16
#define POLICY_NAME_SIZE	64	/* user and group names */

struct policy_rule {
	int line;			/* of its [[policy]] header, for messages */
	/* matchers: every one given must fit */
	bool has_uid;			/* user = "NAME" or uid = N */
	uint32_t uid;
	char user[POLICY_NAME_SIZE];	/* the name given; uid resolved by policy_resolve() */
	bool has_gid;			/* group = "NAME" or gid = N */
	uint32_t gid;
	char group[POLICY_NAME_SIZE];
	char client_cn[CALLER_CN_SIZE];	/* CN or DNS SAN of a TCP client's certificate */
	/* grants */
	bool read_only;			/* List and Get only */
	bool has_kinds;			/* kinds = [...]: else every kind */
	uint32_t kinds;			/* 1 << enum obj_kind */
	bool has_ifaces;		/* interfaces = [...]: else any ("*" too) */
	char ifaces[POLICY_MAX_IFACES][POLICY_IFACE_SIZE];
	size_t n_ifaces;
	bool has_prio_min, has_prio_max;
	int32_t prio_min, prio_max;
	bool has_max_programs;
	uint32_t max_programs;
};

struct policy {
	struct policy_rule rules[POLICY_MAX_RULES];
	size_t n_rules;
	/* the unix socket's group: its members may do everything while there
	 * are no rules (set by policy_resolve()) */
	bool has_admin_gid;
	uint32_t admin_gid;
	char admin_group[POLICY_NAME_SIZE];
};

/* What a call asks for. */
enum policy_op {
	POLICY_READ,		/* List, Get: any matching rule */
	POLICY_WRITE,		/* any call that changes something (Load, Unload, pulls ...) */
};

/* Where a program goes (Load) or is (Unload): the kind and, for xdp, tc and
 * tcx, the interface and priority. */
struct policy_target {
	enum obj_kind kind;		/* OBJ_KIND_UNKNOWN: not said (the manager refuses it) */
	const char *iface;
	int32_t priority;
};

/* The rule kinds = [...] accepts: "xdp", "tc", "tcx", "tracepoint", "kprobe"
 * (kretprobe too), "uprobe" (uretprobe too), "fentry", "fexit".  The bit of a
 * kind's grant, 0 for an unknown name. */
uint32_t policy_kind_bit(const char *name);

/* Resolve the names of the rules (user, group) through passwd and group files,
 * and the admin group (group_name, may be "" or a group that does not exist).
 * 0, or -ENOENT with em naming the rule and the name that does not exist. */
int policy_resolve(struct policy *p, const char *passwd, const char *group,
		   const char *admin_group, struct errmsg *em);

/* Rules decide for c: there are rules and c is not root.  (Without, a caller
 * passing policy_check() may do everything.) */
bool policy_restricts(const struct policy *p, const struct caller *c);
/* The rule deciding for c, or NULL (uid 0, no rules, or none matches). */
const struct policy_rule *policy_match(const struct policy *p, const struct caller *c);

/*
 * May c do op?  With t (may be NULL for calls that name no program), also: may
 * it load a program there (or, for an unload, may it have loaded it)?  what
 * names the action for messages ("load", "unload program 42").  When the
 * deciding rule limits the programs a caller holds (max_programs), *ret_limit
 * (may be NULL) gets that limit, else 0: the caller counts and calls
 * policy_check_count().  0 or -EPERM with em: "<caller> may not <what>: <why>".
 */
int policy_check(const struct policy *p, const struct caller *c, enum policy_op op,
		 const char *what, const struct policy_target *t, uint32_t *ret_limit,
		 struct errmsg *em);
/* The max_programs part: c holds held programs, the limit is limit (from
 * policy_check()).  0 or -EPERM with em. */
int policy_check_count(const struct policy *p, const struct caller *c, size_t held,
		       uint32_t limit, struct errmsg *em);

#endif
