/* SPDX-License-Identifier: Apache-2.0 */
/* bpfprog.h - the bpfd.dev/v1alpha1 objects the agent works out: which attach
 * points a *Program has on a node, and the BpfProgram for each with the original
 * operator's name, labels, annotation, finalizer and owner reference */
#ifndef BPFD_CORE_K8S_BPFPROG_H
#define BPFD_CORE_K8S_BPFPROG_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "core/k8s/api.h"

struct errmsg;

#define BPFPROG_GROUP_VERSION	"bpfd.dev/v1alpha1"
#define BPFPROG_LABEL_OWNER	"bpfd.dev/ownedByProgram"
#define BPFPROG_LABEL_NODE	"kubernetes.io/hostname"
#define BPFPROG_ANN_PROGRAM_ID	"bpfd.dev/ProgramId"
#define BPFPROG_MAX_POINTS	64	/* attach points of one *Program on one node */

/* One program kind of bpfd.dev. */
struct bpfprog_kind {
	const char *kind;		/* "XdpProgram" */
	const char *plural;		/* "xdpprograms" */
	const char *type;		/* BpfProgram spec.type: "xdp" */
	const char *point_key;		/* the annotation suffix: "interface", "tracepoint" ... */
};

/* The kind called name ("XdpProgram"), or NULL. */
const struct bpfprog_kind *bpfprog_kind_find(const char *name);
/* Every kind, n set to their number. */
const struct bpfprog_kind *bpfprog_kinds(size_t *n);

/* "bpfd.dev.xdpprogramcontroller/finalizer" (the agent's finalizer on BpfPrograms of
 * kind k) into buf. */
void bpfprog_finalizer(const struct bpfprog_kind *k, char *buf, size_t size);

/*
 * The attach points of program (a *Program object of kind k) on a node: the
 * interfaces (XDP, TC, TCX: the list, or primary_iface when it asks for the
 * primary node interface), the tracepoints, the kprobe functions, the uprobe
 * targets, the fentry/fexit function.  Returns how many (>= 1) with points[i]
 * borrowed from program (or primary_iface), or -EINVAL + em when the spec does
 * not say (no interfaces, primarynodeinterface without primary_iface ...).
 */
int bpfprog_points(const struct bpfprog_kind *k, const cJSON *program, const char *primary_iface,
		   const char *points[BPFPROG_MAX_POINTS], struct errmsg *em);

/* The BpfProgram name "<program>-<node>-<attach point>" made an RFC 1123
 * subdomain: lower case, '/', '_' and other characters to '-', at most 253
 * characters.  0 or -EINVAL when nothing valid is left. */
int bpfprog_name(const char *program, const char *node, const char *point, char *buf,
		 size_t size);

/* A new BpfProgram object (caller owns) for program of kind k on node at point,
 * with labels, annotation, finalizer, controller owner reference (program's uid)
 * and spec {type, node, attachpoint}.  NULL + em on a bad name or no memory. */
cJSON *bpfprog_new(const struct bpfprog_kind *k, const cJSON *program, const char *node,
		   const char *point, struct errmsg *em);

/* Does node (a Node object) match the program's nodeselector?  1, 0, or -EINVAL + em. */
int bpfprog_node_selected(const cJSON *program, const cJSON *node, struct errmsg *em);

/* The address of the node's InternalIP (status.addresses), or NULL (borrowed). */
const char *bpfprog_node_internal_ip(const cJSON *node);

#endif
