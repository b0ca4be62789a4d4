/* SPDX-License-Identifier: Apache-2.0 */
/* mrec.h - the manager's state in memory (mrec.c), shared by manager.c (load, unload,
 * views) and recovery.c (rebuilding it at start).  Private to src/core/state. */
#ifndef BPFD_CORE_MREC_H
#define BPFD_CORE_MREC_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/hook.h"
#include "core/base/obj_kind.h"
#include "core/config/config.h"
#include "core/state/manager.h"
#include "core/state/store.h"

/* Program types reported on the wire for managed kinds (v0.3.1 convention), and EXT
 * (dispatcher members). */
#define TYPE_KPROBE	2
#define TYPE_SCHED_CLS	3
#define TYPE_TRACEPOINT	5
#define TYPE_XDP	6
#define TYPE_TRACING	26
#define TYPE_EXT	28

/* What bpfd keeps in memory per program; the full record stays encoded. */
struct mrec {
	uint32_t id;
	enum obj_kind kind;
	bool chain;		/* xdp, tc, tcx: attached by the chain code */
	enum chain_kind ck;
	enum chain_dir cdir;
	uint32_t ifindex;
	uint32_t owner;		/* map owner id when sharing, else 0 */
	uint32_t managed_type;
	char map_dir[320];	/* the map pin directory this program uses, "" none */
	char prog_pin[320];
	char link_pin[320];
	uint8_t *pb;		/* encoded bpfd.state.ProgramRecord, NULL when damaged */
	size_t pb_len;
	char damaged[96];	/* what was wrong with the record, "" when sound */
	char name[64];		/* damaged: the function name the kernel tells */
	char attach[96];	/* where, for events: "xdp v0", "tc v0 ingress", ... */
	char iface[16];		/* xdp, tc, tcx: the interface's name as last seen */
	char vanished[160];	/* "" while it is on its hook; else why not (follow.c) */
	bool freed;		/* vanished, and the kernel freed the program */
	bool direct;		/* attached directly: the hook alone holds it */
	bool maps_shared;	/* its map directory may be another program's too
				 * (it has a map owner, or is one): map_used_by
				 * looks at every program only then */
};

/* The members of one hook bpfd has programs on, as last seen (follow.c): what
 * changed since is what others did. */
struct hook_seen {
	enum chain_kind ck;
	enum chain_dir dir;
	uint32_t ifindex;
	uint32_t ids[CHAIN_TCX_MAX_PROGS];
	size_t n;
};

struct mgr {
	const struct bpfd_config *cfg;
	struct store *st;
	struct hook_env *chains;
	char maps_dir[PATH_MAX];
	struct mrec *recs;
	size_t n, cap;
	/* recs by id: open addressing, index + 1 into recs (0: free), at most
	 * half full; mrec_add() and mrec_drop() keep it (mrec.c) */
	uint32_t *idx;
	size_t idx_cap;		/* a power of two, 0: none yet */
	bpfd_state_ProgramRecord *view_rec;	/* mgr_prog_view()'s decode (m->lock) */
	/* a load's or modify's record and view (mgr_change_bufs(), m->lock) */
	bpfd_state_ProgramRecord *change_rec;
	struct prog_view *change_view;
	pthread_mutex_t lock;
	struct hook_seen *seen;	/* follow.c */
	size_t n_seen, cap_seen;
};

/* With m->lock held: the record and view a load or modify works in, kept from one
 * call to the next (each is about 70 KB: an mmap of its own, page faults and a TLB
 * shoot-down at every call otherwise).  0, or -ENOMEM. */
int mgr_change_bufs(struct mgr *m, bpfd_state_ProgramRecord **ret_rec,
		    struct prog_view **ret_view);
/* Copy src into dst[size]: 0, or -ENAMETOOLONG (dst then holds ""). */
int mrec_copy_str(char *dst, size_t size, const char *src);
/* The program type reported on the wire for a managed kind (TYPE_*). */
uint32_t mrec_managed_type(enum obj_kind k);
/* The program id bpfd holds, or NULL: a look-up in m->idx, not a walk. */
struct mrec *mrec_find(struct mgr *m, uint32_t id);
/* The error for an id bpfd does not manage (one wording for unload and modify):
 * -ENOENT with em naming the program when the kernel has it. */
int mrec_not_found(uint32_t id, struct errmsg *em);
/* Forget r (frees its encoded record; the last entry takes its place). */
void mrec_drop(struct mgr *m, struct mrec *r);
/* Unpin what is left of r's program (link, program), drop r, and remove its map
 * pins when no other program uses them. */
void mrec_release(struct mgr *m, struct mrec *r);
/* Append a copy of mr (which then owns mr->pb): 0 or -ENOMEM. */
int mrec_add(struct mgr *m, const struct mrec *mr);
bool mrec_map_dir_in_use(struct mgr *m, const char *dir);
/* After recovery added every record: the owners of shared maps know it
 * (mrec_add() marks an owner already there). */
void mrec_mark_shared(struct mgr *m);
/* Fill mr from a decoded record r whose encoding is pb[len] (copied). */
int mrec_from_record(struct mrec *mr, const bpfd_state_ProgramRecord *r, const uint8_t *pb,
		     size_t len);
/* Where a program attaches, for events and logs: "xdp v0", "tc v0 egress",
 * "tracepoint sched/sched_switch", "uprobe /bin/sh:main", ... */
void mrec_attach_str(const struct attach_spec *a, char *buf, size_t size);

/* follow.c: the kernel changed under bpfd (or may have).  All with m->lock held. */
enum follow_why {
	FOLLOW_LOOK,		/* a List or Get looks: verdict now */
	FOLLOW_NOTIFIED,	/* a notification about the interface: when it is
				 * gone, no verdict yet (its RTM_DELLINK, which says
				 * why, follows) */
	FOLLOW_GONE,		/* the interface was deleted */
	FOLLOW_MOVED,		/* ... moved to another namespace */
};
/* Is mr still on its hook?  If not, mark it vanished and say so (an event); a
 * new name of its interface is taken.  hint: the sentence of why, or NULL.
 * 0 when it is there (ret, if not NULL: its member info), else -errno. */
int follow_check(struct mgr *m, struct mrec *mr, enum follow_why why, const char *hint,
		 struct hook_member_info *ret);
/* Compare hook (ck, ifindex, dir) with what was seen there last: programs of
 * others that joined or left, bpfd's members in another order (events); then
 * remember it.  own: a program bpfd just unloaded (not someone else's). */
void follow_hook(struct mgr *m, enum chain_kind ck, uint32_t ifindex, enum chain_dir dir,
		 uint32_t own);
/* Forget hooks where bpfd has no program left. */
void follow_prune(struct mgr *m);
/* Drop the records of programs marked freed (their pins and map directories). */
void follow_sweep(struct mgr *m);
/* A vanished program on hook (ck, ifindex, dir) was unloaded: when it was bpfd's
 * last there, remove the pins of dead hooks that kept it. */
void follow_unloaded(struct mgr *m, enum chain_kind ck, uint32_t ifindex, enum chain_dir dir);

/* Test hooks BPFD_TEST_PAUSE_LOAD and BPFD_TEST_PAUSE_MODIFY: when the environment
 * variable var holds seconds, sleep that long (the kernel has the change, the record
 * not yet), so a test can kill -9 the daemon there and check the restart.  The log
 * line says "VAR: program ID WHAT; pausing ...". */
void mrec_test_pause(const char *var, uint32_t id, const char *what);
/* Remove the program and link pins a record names (missing is fine). */
void mrec_unpin(const bpfd_state_ProgramRecord *r);

#endif
