/* SPDX-License-Identifier: Apache-2.0 */
/* chain.h - pure logic of multi-program hooks: run order from priorities, proceed-on
 * masks (XDP and TC action codes, both ways), slot computation.  No kernel here; the
 * kernel side is src/bpf/hook.h. */
#ifndef BPFD_CORE_CHAIN_H
#define BPFD_CORE_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"

#define CHAIN_MAX_PROGS		10	/* dispatcher slots (libxdp MAX_DISPATCHER_ACTIONS) */
#define CHAIN_XDP_RETVAL	31	/* what an empty XDP slot returns */
#define CHAIN_TC_RETVAL		30	/* what an empty TC slot returns */
#define CHAIN_RETVAL_BIT	(1u << 31)	/* "dispatcher_return" in a mask */
/* Default proceed-on: XDP pass + dispatcher_return, TC pipe + dispatcher_return. */
#define CHAIN_XDP_DEFAULT_MASK	((1u << 2) | CHAIN_RETVAL_BIT)	/* 0x80000004 */
#define CHAIN_TC_DEFAULT_MASK	((1u << 4) | CHAIN_RETVAL_BIT)	/* 0x80000010 */
#define CHAIN_TCX_MAX_PROGS	64	/* bpf_mprog limit per TCX hook */

enum chain_kind {
	CHAIN_XDP = 0,
	CHAIN_TC,
	CHAIN_TCX,
};

enum chain_dir {
	CHAIN_INGRESS = 0,
	CHAIN_EGRESS,
};

/* "xdp", "tc", "tcx" / "ingress", "egress". */
const char *chain_kind_str(enum chain_kind k);
const char *chain_dir_str(enum chain_dir d);
/* "ingress"/"in", "egress"/"eg" -> dir; -EINVAL otherwise. */
int chain_dir_parse(const char *s, enum chain_dir *ret_dir);

/* Proceed-on: codes are the wire's action codes (XDP aborted 0 .. redirect 4,
 * dispatcher_return 31; TC unspec -1 .. trap 8, dispatcher_return 30).  The mask has
 * bit (code) for XDP and bit (code + 1) for TC; dispatcher_return is bit 31 for both.
 * An empty list (n == 0) gives the default mask.  -EINVAL with em naming the bad code
 * (and the valid ones).  Duplicates are fine.  TCX has no proceed-on: -EINVAL if n>0. */
int chain_proceed_on_encode(enum chain_kind kind, const int32_t *codes, size_t n,
			    uint32_t *ret_mask, struct errmsg *em);
/* The codes of mask in ascending bit order into ret_codes (room for max); returns the
 * number of codes (may exceed max: only max are written).  Unknown bits are skipped. */
size_t chain_proceed_on_decode(enum chain_kind kind, uint32_t mask, int32_t *ret_codes,
			       size_t max);
/* Action code <-> name: "aborted", "drop", "pass", "tx", "redirect",
 * "dispatcher_return" (XDP); "unspec", "ok", "reclassify", "shot", "pipe", "stolen",
 * "queued", "repeat", "redirect", "trap", "dispatcher_return" (TC).  NULL / -EINVAL. */
const char *chain_action_str(enum chain_kind kind, int32_t code);
int chain_action_parse(enum chain_kind kind, const char *name, int32_t *ret_code);
/* Format mask as "pass,dispatcher_return" into buf. */
void chain_proceed_on_str(enum chain_kind kind, uint32_t mask, char *buf, size_t size);

/* One program of a hook as the ordering sees it. */
struct chain_entry {
	uint32_t prog_id;	/* kernel id; 0 = not loaded yet (sorts after loaded ones) */
	int32_t priority;	/* lower runs first */
	char name[64];		/* function name */
	uint32_t proceed_on;
	uint32_t flags;		/* XDP program_flags (frags), preserved */
	bool foreign;		/* added by another manager (xdp-loader) */
	bool is_new;		/* the program being added */
};

/* The run-order rule, used on every rebuild over the whole set:
 *	priority ascending, then function name (strcmp), then program id ascending
 *	(older program first; a not-yet-loaded program, id 0, after loaded ones).
 * It is libxdp's rule (priority, name, loaded-before-new) with the id as the final,
 * deterministic tie-break.  Returns <0, 0, >0 like strcmp. */
int chain_entry_cmp(const struct chain_entry *a, const struct chain_entry *b);
/* Sort n entries in place by chain_entry_cmp (stable). */
void chain_sort(struct chain_entry *e, size_t n);
/* Position (index after sorting) that entry `add` would take among the n entries e
 * (which are sorted). */
size_t chain_insert_pos(const struct chain_entry *e, size_t n, const struct chain_entry *add);
/* Remove the entry with prog_id from e (n entries), keeping order; returns the new
 * count, or -ENOENT. */
int chain_remove(struct chain_entry *e, size_t n, uint32_t prog_id);

/* TCX placement: given the bpfd members sorted (e, n, already including the new entry at
 * index pos), which neighbour anchors the new program: *ret_before = true with
 * *ret_anchor = id of the next member (attach before it), else false with the previous
 * member's id (attach after it); *ret_anchor = 0 means no bpfd neighbour (head). */
void chain_tcx_anchor(const struct chain_entry *e, size_t n, size_t pos,
		      bool *ret_before, uint32_t *ret_anchor);

/* The dispatcher configurations, exactly as the BPF objects lay them out. */
#define CHAIN_XDP_MAGIC		236
#define CHAIN_XDP_VERSION	2
#define CHAIN_TC_VERSION	1
struct chain_xdp_conf {		/* libxdp v2, 124 bytes */
	uint8_t magic;
	uint8_t dispatcher_version;
	uint8_t num_progs_enabled;
	uint8_t is_xdp_frags;
	uint32_t chain_call_actions[CHAIN_MAX_PROGS];
	uint32_t run_prios[CHAIN_MAX_PROGS];
	uint32_t program_flags[CHAIN_MAX_PROGS];
};
struct chain_tc_conf {		/* bpfd/bpfman TC, 84 bytes */
	uint8_t num_progs_enabled;
	uint32_t chain_call_actions[CHAIN_MAX_PROGS];
	uint32_t run_prios[CHAIN_MAX_PROGS];
};
_Static_assert(sizeof(struct chain_xdp_conf) == 124, "libxdp v2 config is 124 bytes");
_Static_assert(sizeof(struct chain_tc_conf) == 84, "TC dispatcher config is 84 bytes");

/* Fill a config for the sorted entries (n <= CHAIN_MAX_PROGS): slot i = entry i.
 * XDP: magic, version, frags only when every entry has BPF_F_XDP_HAS_FRAGS (1 << 5).
 * -E2BIG when n > CHAIN_MAX_PROGS. */
int chain_xdp_conf_fill(struct chain_xdp_conf *c, const struct chain_entry *e, size_t n);
int chain_tc_conf_fill(struct chain_tc_conf *c, const struct chain_entry *e, size_t n);
/* May the only member of an XDP chain replace the dispatcher's own function instead of
 * slot prog0 (what libxdp does for one program)?  Only when the dispatcher would return
 * the member's verdict unchanged: n == 1 and the member proceeds on nothing but
 * XDP_PASS (and the empty slot's 31), since after the last slot the packet passes.
 * Then a packet enters the member directly, with no dispatcher code before it. */
bool chain_xdp_whole(const struct chain_entry *e, size_t n);
/* Does every enabled slot of c proceed on exactly the default (CHAIN_XDP_DEFAULT_MASK)?
 * Then the dispatcher need not read the masks (src/bpf/xdp_dispatcher_default.bpf.c). */
bool chain_xdp_default_masks(const struct chain_xdp_conf *c);

/* Read a dispatcher config found in the kernel (a map value of size bytes, which
 * anybody with CAP_BPF may have attached: validated, never trusted) into entries e
 * (room for CHAIN_MAX_PROGS; prog_id and name left empty).  XDP: libxdp's rule, byte 0
 * == magic gives the version in byte 1, else version 1; *ret_version is set either way.
 * -EPROTO when the layout is not the one bpfd writes (size, version, count > 10). */
int chain_xdp_conf_parse(const void *buf, size_t size, struct chain_entry *e,
			 size_t *ret_n, int *ret_version);
int chain_tc_conf_parse(const void *buf, size_t size, struct chain_entry *e,
			size_t *ret_n);

/* What a dispatcher with config c returns for member verdicts rets[0..n-1] (the chain
 * semantics in C, for tests: which slots ran goes to *ret_ran as a bitmask). */
int chain_xdp_eval(const struct chain_xdp_conf *c, const int *rets, uint32_t *ret_ran);
int chain_tc_eval(const struct chain_tc_conf *c, const int *rets, uint32_t *ret_ran);

#endif
