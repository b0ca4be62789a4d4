/* SPDX-License-Identifier: Apache-2.0 */
/* record.h - plain C <-> bpfd.v1.ProgramInfo and AttachInfo.
 *
 * The program record on disk (bpfd_state.proto) embeds the ProgramInfo message "as
 * returned by Get", so this one codec serves both sides of it: the manager writes and
 * reads records with it, and rpc.c answers Load, Get and List with it (and reads a
 * LoadRequest's AttachInfo).  Pure functions: no state, no kernel. */
#ifndef BPFD_CORE_RECORD_H
#define BPFD_CORE_RECORD_H

#include "bpfd.pb.h"
#include "core/state/manager.h"

/* ai -> *ret (fully overwritten); ai == NULL or no kind set gives OBJ_KIND_UNKNOWN. */
void record_attach_from_pb(const bpfd_v1_AttachInfo *ai, struct attach_spec *ret);
/* The reverse (kind UNKNOWN: no member set). */
void record_attach_to_pb(const struct attach_spec *a, bpfd_v1_AttachInfo *ret);

/* ProgramInfo <-> view.  from_pb: ret is fully overwritten (padding too: results
 * compare with memcmp).  to_pb: every field is, but the entries of global_data,
 * map_used_by and metadata past their counts are left as they were (what is
 * encoded is the same; a List fills one per program).  map_used_by travels as
 * decimal ids. */
void record_info_from_pb(const bpfd_v1_ProgramInfo *info, struct prog_view *ret);
void record_info_to_pb(const struct prog_view *v, bpfd_v1_ProgramInfo *ret);

#endif
