/* SPDX-License-Identifier: Apache-2.0 */
/* recovery.h - restart recovery: rebuild the manager's state from the records on disk
 * and reconcile it with the kernel and bpfd's pins; the pending-load markers that let
 * it find dispatcher loads interrupted before their record was written.
 *
 * The contract (what is written when): a load pins first and writes the record last;
 * a dispatcher-kind load (xdp, tc, tcx) writes a pending marker before it touches the
 * hook and removes it when the record is written or the load failed; an unload removes
 * the record first and the pins after.  So after a crash at any point recovery finds a
 * record with its program (kept), a record without program (dropped), pins without
 * record (removed, which unloads the program) or a marker whose program sits on the
 * hook without record (detached): nothing is left half-done.  A modify that changes
 * the hook writes a marker .modify-<id> holding the new record first (modify.c):
 * after the hook's residue is cleaned (interrupted TCX moves finished or undone),
 * the marker's record replaces the record when the hook shows its priority and
 * proceed-on, else the old record stands; the marker goes either way.
 *
 * A record that fails its checksum or cannot be decoded is not a crash residue but
 * damage: the file is moved aside (store_move_aside()) and the program it names, when
 * it is still in the kernel under bpfd's pins or on a hook, is kept as a damaged entry
 * (mrec.damaged) built from what the kernel tells.  List/Get show it with
 * record_damaged set; unload removes it with its pins and hook slot as usual. */
#ifndef BPFD_CORE_RECOVERY_H
#define BPFD_CORE_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "core/base/chain.h"
#include "core/base/errmsg.h"

struct mgr;

/* At start, on a manager with its store and chain env open and no program yet: load
 * the records, then reconcile markers, pins and dispatcher residue.  0, or -errno
 * with em set when the records cannot be read. */
int recovery_restore(struct mgr *m, struct errmsg *em);

/* Before a dispatcher-kind load touches hook (kind, dir, ifindex) with function func:
 * write a marker (mode 0600) and fsync it and its directory; its path goes to
 * ret_path[size] (unlink it when the load is recorded or undone).  0 or -errno with
 * em set (a full file system is -ENOSPC and says so). */
int recovery_mark_pending(struct mgr *m, enum chain_kind kind, enum chain_dir dir,
			  uint32_t ifindex, const char *func, char *ret_path, size_t size,
			  struct errmsg *em);

#endif
