/* SPDX-License-Identifier: Apache-2.0 */
/* manager.h - the program manager: what bpfd loaded, its state on disk, load and unload.
 * The RPC handlers (rpc.c) call these; all kernel work goes through src/bpf. */
#ifndef BPFD_CORE_MANAGER_H
#define BPFD_CORE_MANAGER_H

#include <stdint.h>

#include "bpfd.pb.h"
#include "core/config/config.h"
#include "core/base/errmsg.h"

struct mgr;

/* Create the manager: make the run directories, rebuild state from disk and reconcile it
 * with the kernel (records without program dropped, pins without record removed). */
int mgr_new(const struct bpfd_config *cfg, struct mgr **ret, struct errmsg *em);
void mgr_free(struct mgr *m);

/* Load and attach one program.  On any failure nothing is left behind (no program, no
 * pin, no record) and em says why.  resp is filled on success.
 * Test hook: with BPFD_TEST_PAUSE_LOAD=<seconds> in the daemon's environment, each load
 * sleeps that long after the program is loaded, attached and pinned and before its
 * record is written, so a test can kill -9 the daemon in the middle of a load; the next
 * mgr_new() must then remove the program, its pins and any partial record. */
int mgr_load(struct mgr *m, const bpfd_v1_LoadRequest *req, bpfd_v1_LoadResponse *resp,
	     struct errmsg *em);
/* Detach and unload a program bpfd loaded; -ENOENT with em set when bpfd does not own it. */
int mgr_unload(struct mgr *m, uint32_t id, struct errmsg *em);
/* Fetch an image into the local store. */
int mgr_pull_bytecode(struct mgr *m, const bpfd_v1_PullBytecodeRequest *req, struct errmsg *em);

/* For List/Get: fill ret with bpfd's view of program id; 0, or -ENOENT when bpfd does not
 * own it.  *ret_type (may be NULL) gets the managed kind to report as program_type (the
 * original reported xdp=6/tc=3 for dispatcher members, whose kernel type is EXT). */
int mgr_prog_info(struct mgr *m, uint32_t id, bpfd_v1_ProgramInfo *ret, uint32_t *ret_type);

#endif
