/* SPDX-License-Identifier: Apache-2.0 */
/* manager.h - the program manager: what bpfd loaded, its state on disk, load and unload.
 *
 * The manager speaks plain C: it takes a struct load_plan and program ids and returns
 * struct prog_view.  Converting from and to the wire (bpfd.v1 messages) is rpc.c's
 * job; nothing here knows the wire format.  The structs below are self-contained
 * values (fixed-size arrays, no pointers into a request's memory), so a request can be
 * decoded in one thread and executed in another.  All kernel work goes through src/bpf.
 * Restart recovery lives in recovery.c. */
#ifndef BPFD_CORE_MANAGER_H
#define BPFD_CORE_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/obj_kind.h"
#include "core/config/config.h"
#include "core/base/errmsg.h"

/* Sizes of the text fields: those of the wire (proto/bpfd.options), which rpc.c
 * checks at compile time, plus room for the terminating NUL. */
#define PLAN_NAME_SIZE		128
#define PLAN_PATH_SIZE		4096
#define PLAN_IFACE_SIZE		16
#define PLAN_DIR_SIZE		16
#define PLAN_PROCEED_ON_MAX	16
#define PLAN_TRACEPOINT_SIZE	256
#define PLAN_FN_SIZE		256
#define PLAN_NS_SIZE		256
#define PLAN_KEY_SIZE		128
#define PLAN_GLOBAL_SIZE	1024
#define PLAN_META_SIZE		512
#define PLAN_GLOBALS_MAX	32
#define PLAN_METADATA_MAX	32
#define PLAN_UUID_SIZE		64
#define PLAN_OWNER_SIZE		128	/* ProgramInfo.owner */
#define PLAN_GROUPS_MAX		128
#define PLAN_IMAGE_URL_SIZE	1024
#define PLAN_DIGEST_SIZE	72
#define PLAN_IMAGE_TYPE_SIZE	32
#define VIEW_MAP_PATH_SIZE	256
#define VIEW_USED_BY_MAX	64
#define VIEW_MODE_SIZE		16
#define VIEW_DAMAGED_SIZE	96
#define PLAN_SOURCE_SIZE	288	/* "programs.d/" + a file name, or "api" */
#define PLAN_ENTRY_SIZE		17	/* an entry's fingerprint: 16 hex digits */
#define PLAN_SOURCE_API		"api"
#define VIEW_VANISHED_SIZE	160

/* Where to attach, as the client said it: one flat struct for every kind.  Only the
 * fields of kind mean anything; the others are zero.  Strings are kept as given (the
 * record and Get show them back); the manager checks and interprets them. */
struct attach_spec {
	enum obj_kind kind;			/* OBJ_KIND_UNKNOWN: the client named none */
	/* xdp, tc, tcx */
	char iface[PLAN_IFACE_SIZE];		/* interface name */
	int32_t priority;			/* >= 0, lower runs first */
	int32_t position;			/* in results: the live run order */
	char direction[PLAN_DIR_SIZE];		/* tc, tcx: "ingress", "egress"; "" ingress */
	int32_t proceed_on[PLAN_PROCEED_ON_MAX];	/* xdp, tc: action codes */
	size_t n_proceed_on;			/* 0: the default */
	/* tracepoint */
	char tracepoint[PLAN_TRACEPOINT_SIZE];	/* "category/name" */
	/* kprobe, kretprobe, uprobe, uretprobe, fentry, fexit */
	bool has_fn_name;			/* uprobe: the function is optional */
	char fn_name[PLAN_FN_SIZE];
	uint64_t offset;			/* k/uprobe */
	char target[PLAN_PATH_SIZE];		/* uprobe: file or library name */
	bool has_pid;				/* uprobe: fire only in pid */
	int32_t pid;
	bool has_namespace;			/* k/uprobe: refused unless empty */
	char ns[PLAN_NS_SIZE];
};

struct global_kv {
	char key[PLAN_KEY_SIZE];		/* variable name */
	uint8_t value[PLAN_GLOBAL_SIZE];	/* its initial bytes */
	size_t size;
};

struct meta_kv {
	char key[PLAN_KEY_SIZE];
	char value[PLAN_META_SIZE];
};

/* What a program is, as asked for: shared by the plan and the view. */
struct prog_spec {
	char name[PLAN_NAME_SIZE];		/* function name in the object */
	char path[PLAN_PATH_SIZE];		/* absolute path of the ELF object */
	struct attach_spec attach;
	struct global_kv globals[PLAN_GLOBALS_MAX];
	size_t n_globals;
	struct meta_kv metadata[PLAN_METADATA_MAX];
	size_t n_metadata;
	bool has_map_owner;			/* share the maps of program map_owner_id */
	uint32_t map_owner_id;
	char loaded_by[PLAN_OWNER_SIZE];	/* who loaded it (ProgramInfo.owner):
						 * "uid=1000(alice)", "cn=NAME", "" unknown */
	char source[PLAN_SOURCE_SIZE];		/* "programs.d/NAME.toml" or "api" */
	/* bytecode from an image: path is then the object extracted for the load
	 * (removed after it), not recorded; the record keeps these */
	bool from_image;
	char image_url[PLAN_IMAGE_URL_SIZE];	/* as the client gave it */
	int32_t image_pull_policy;		/* 0 Always, 1 IfNotPresent, 2 Never */
	char image_digest[PLAN_DIGEST_SIZE];	/* the image's manifest or index */
};

enum plan_bytecode {
	PLAN_BYTECODE_NONE = 0,			/* the client named no bytecode */
	PLAN_BYTECODE_FILE,			/* spec.path */
	PLAN_BYTECODE_IMAGE,			/* an image: the front pulled it and
						 * extracted the object to spec.path */
};

/* One Load, decoded but not yet checked: mgr_load() checks it (every check of
 * meaning, with the message a user sees, is made there) and carries it out. */
struct load_plan {
	enum plan_bytecode bytecode;
	bool has_attach;			/* false: the client sent no attach info */
	struct prog_spec spec;
	bool has_uuid;
	char uuid[PLAN_UUID_SIZE];		/* the agent's handle, kept in the record */
	/* A local caller other than root: the file is opened with its credentials
	 * (base/open_as.h), so it loads only what it could read itself. */
	bool as_caller;
	uint32_t uid;
	uint32_t gid;
	uint32_t groups[PLAN_GROUPS_MAX];
	size_t n_groups;
	char entry[PLAN_ENTRY_SIZE];		/* programs.d: the entry's fingerprint,
						 * kept in the record (progd.c), else "" */
	char image_type[PLAN_IMAGE_TYPE_SIZE];	/* image: the program type its labels
						 * give the function ("" none) */
};

/* bpfd's view of one program it manages: what Load returns and Get and List show.
 * spec.attach.position is the live position for xdp, tc and tcx. */
struct prog_view {
	uint32_t id;				/* kernel program id */
	uint32_t managed_type;			/* program type to report: the managed kind
						 * (xdp 6, tc/tcx 3, ...) where the kernel's
						 * is EXT for dispatcher members */
	struct prog_spec spec;
	char map_pin_path[VIEW_MAP_PATH_SIZE];	/* the maps' pin directory, "" none */
	uint32_t map_used_by[VIEW_USED_BY_MAX];	/* the owner first, then by id */
	size_t n_map_used_by;
	char attach_mode[VIEW_MODE_SIZE];	/* "link", "dispatcher", "direct", "tcx" */
	char vanished[VIEW_VANISHED_SIZE];	/* "" while on its hook; else why not
						 * (attach_mode is then "vanished") */
	char record_damaged[VIEW_DAMAGED_SIZE];	/* "" when bpfd's record is sound; else
						 * what is wrong with it, and spec holds
						 * what the kernel tells (recovery.h) */
	char entry[PLAN_ENTRY_SIZE];		/* the plan's entry fingerprint */
};

/* One Modify, decoded but not yet checked (mgr_modify() checks it). */
struct modify_plan {
	uint32_t id;
	bool has_priority;
	int32_t priority;			/* xdp, tc, tcx */
	int32_t proceed_on[PLAN_PROCEED_ON_MAX];	/* xdp, tc: the new set */
	size_t n_proceed_on;			/* 0: unchanged */
	struct meta_kv metadata[PLAN_METADATA_MAX];	/* set; value "": remove the key */
	size_t n_metadata;
	char entry[PLAN_ENTRY_SIZE];		/* programs.d: the entry's new fingerprint
						 * (a priority-only change); "": unchanged */
};

struct mgr;

/* Create the manager: make the run directories, rebuild state from disk and reconcile it
 * with the kernel (records without program dropped, pins without record removed). */
int mgr_new(const struct bpfd_config *cfg, struct mgr **ret, struct errmsg *em);
void mgr_free(struct mgr *m);

/* Check plan and load and attach one program.  On any failure nothing is left behind
 * (no program, no pin, no record) and em says why (and what to do).  ret (may be NULL)
 * gets the program as Get would show it.
 * Test hook: with BPFD_TEST_PAUSE_LOAD=<seconds> in the daemon's environment, each load
 * sleeps that long after the program is loaded, attached and pinned and before its
 * record is written, so a test can kill -9 the daemon in the middle of a load; the next
 * mgr_new() must then remove the program, its pins and any partial record. */
int mgr_load(struct mgr *m, const struct load_plan *plan, struct prog_view *ret,
	     struct errmsg *em);
/* Detach and unload a program bpfd loaded; -ENOENT with em set when bpfd does not own it. */
int mgr_unload(struct mgr *m, uint32_t id, struct errmsg *em);
/* Change priority, proceed-on and metadata of program plan->id in place: its id stays;
 * a chain is rebuilt and swapped atomically, a TCX program moved without a moment off
 * its hook (hook_modify()); metadata alone touches no kernel state.  The record is
 * replaced atomically after the kernel change, with a pending-modify marker holding
 * the new record in between (recovery.h).  On failure nothing changed (kernel, pins,
 * record) and em says why.  ret (may be NULL) gets the program as Get shows it. */
int mgr_modify(struct mgr *m, const struct modify_plan *plan, struct prog_view *ret,
	       struct errmsg *em);
/* Detach and unload every program bpfd holds ([runtime] unload_on_exit): records and
 * pins removed, chains emptied.  Programs sharing another's maps go before their
 * owner.  Returns the number of programs that could not be unloaded (each logged). */
int mgr_unload_all(struct mgr *m);

struct nl_change;
/* Live truth (follow.c): the kernel told of changes c[n] (bpf/nlmon.h: links
 * deleted, renamed or moved, tc filters and XDP programs changed), or with all
 * that it may have missed some: bpfd's programs there are checked against
 * their hooks; one that is no longer on its hook is marked vanished (Get and
 * List show why) and an event says so, as for interfaces gone and chains
 * changed by others.  bpfd's own changes are not reported twice.  0. */
int mgr_follow(struct mgr *m, const struct nl_change *c, size_t n, bool all);
/* Why program id is no longer on its hook ("" when it is; checked now) into
 * buf[size]: 0, or -ENOENT when bpfd does not own it. */
int mgr_prog_vanished(struct mgr *m, uint32_t id, char *buf, size_t size);

/* For List/Get: fill ret with bpfd's view of program id; 0, or -ENOENT when bpfd does
 * not own it. */
int mgr_prog_view(struct mgr *m, uint32_t id, struct prog_view *ret);

#endif
