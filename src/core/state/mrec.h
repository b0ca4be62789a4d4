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
};

struct mgr {
	const struct bpfd_config *cfg;
	struct store *st;
	struct hook_env *chains;
	char maps_dir[PATH_MAX];
	struct mrec *recs;
	size_t n, cap;
	pthread_mutex_t lock;
};

/* Copy src into dst[size]: 0, or -ENAMETOOLONG (dst then holds ""). */
int mrec_copy_str(char *dst, size_t size, const char *src);
/* The program type reported on the wire for a managed kind (TYPE_*). */
uint32_t mrec_managed_type(enum obj_kind k);
struct mrec *mrec_find(struct mgr *m, uint32_t id);
/* Forget r (frees its encoded record; the last entry takes its place). */
void mrec_drop(struct mgr *m, struct mrec *r);
/* Append a copy of mr (which then owns mr->pb): 0 or -ENOMEM. */
int mrec_add(struct mgr *m, const struct mrec *mr);
bool mrec_map_dir_in_use(struct mgr *m, const char *dir);
/* Fill mr from a decoded record r whose encoding is pb[len] (copied). */
int mrec_from_record(struct mrec *mr, const bpfd_state_ProgramRecord *r, const uint8_t *pb,
		     size_t len);
/* Remove the program and link pins a record names (missing is fine). */
void mrec_unpin(const bpfd_state_ProgramRecord *r);

#endif
