/* SPDX-License-Identifier: Apache-2.0 */
/* obj_kind.h - the program kinds bpfd attaches, and their names: one table for the
 * ELF reader (src/bpf/obj.c), the records on disk (state/) and messages. */
#ifndef BPFD_CORE_OBJ_KIND_H
#define BPFD_CORE_OBJ_KIND_H

/* What a program is and where it attaches (the selected program's ELF section says
 * which; libbpf SEC() conventions). */
enum obj_kind {
	OBJ_KIND_UNKNOWN = 0,	/* any other section: socket filters, cgroup, ... */
	OBJ_KIND_XDP,		/* "xdp", "xdp/..." (also "xdp.frags") */
	OBJ_KIND_TC,		/* "tc", "classifier", "classifier/...", "tc/..." */
	OBJ_KIND_TCX,		/* "tcx/ingress", "tcx/egress" (libbpf >= 1.3 names) */
	OBJ_KIND_TRACEPOINT,	/* "tracepoint/...", "tp/..." */
	OBJ_KIND_KPROBE,	/* "kprobe/...", "ksyscall/..." */
	OBJ_KIND_KRETPROBE,	/* "kretprobe/...", "kretsyscall/..." */
	OBJ_KIND_UPROBE,	/* "uprobe", "uprobe/...", "uprobe.s..." */
	OBJ_KIND_URETPROBE,	/* "uretprobe", "uretprobe/...", "uretprobe.s..." */
	OBJ_KIND_FENTRY,	/* "fentry/...", "fentry.s/..." */
	OBJ_KIND_FEXIT,		/* "fexit/...", "fexit.s/..." */
};

/* "xdp", "tc", "tcx", "tracepoint", "kprobe", "kretprobe", "uprobe", "uretprobe",
 * "fentry", "fexit" or "unknown". */
const char *obj_kind_str(enum obj_kind k);
/* The reverse: OBJ_KIND_UNKNOWN for any other string (also for "unknown"). */
enum obj_kind obj_kind_parse(const char *s);

#endif
