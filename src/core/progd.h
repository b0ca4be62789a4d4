/* SPDX-License-Identifier: Apache-2.0 */
/* progd.h - programs.d: [[programs]] files loaded at start, on SIGHUP and Reload
 *
 * Every *.toml file of the directory ([runtime] programs_dir) holds [[programs]]
 * entries in the format of the original bpfd's static programs (docs/programs.d.md),
 * extended to every kind bpfd loads and to metadata.  Each program loaded from an
 * entry carries its source ("programs.d/NAME.toml") and the entry's fingerprint in
 * its record, so a second pass over the directory (a restart, SIGHUP, Reload) keeps
 * the program of an unchanged entry, replaces that of a changed one, unloads those
 * of removed entries and files, and loads nothing twice.
 */
#ifndef BPFD_CORE_PROGD_H
#define BPFD_CORE_PROGD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/base/errmsg.h"
#include "core/state/manager.h"

#define PROGD_SOURCE_PREFIX	"programs.d/"
#define PROGD_MAX_FILE		(1u << 20)	/* bytes in one programs.d file */
#define PROGD_MAX_ENTRIES	256		/* [[programs]] in one file */
#define PROGD_URL_SIZE		1024

/* One [[programs]] entry, checked for syntax and types (the manager checks what
 * it means when it loads it). */
struct progd_entry {
	struct load_plan plan;		/* spec.source and entry (fingerprint) set */
	int line;			/* the line of its [[programs]] header */
	char image_url[PROGD_URL_SIZE];	/* bytecode_image entries: the image */
	int image_pull_policy;		/* 0 Always, 1 IfNotPresent, 2 Never */
	bool has_auth;			/* bytecode_image's username/password */
	char username[257];
	char password[1025];
};

/*
 * Parse the text of one programs.d file.  path names it in messages
 * ("PATH:LINE:COL: what is wrong", naming the key); source is what its programs
 * carry ("programs.d/NAME.toml").  On success *ret is a malloc'ed array of *ret_n
 * entries (the caller frees it).  Errors: -EINVAL (em set), -ENOMEM.
 */
int progd_parse(const char *path, const char *source, const char *text, size_t len,
		struct progd_entry **ret, size_t *ret_n, struct errmsg *em);

/* Write s as one [[programs]] entry (the format progd_parse() reads): what a
 * programs.d file needs to load the same program again.  image_url (may be NULL)
 * replaces file_path.  Returns 0 or -EIO. */
int progd_write_entry(FILE *f, const struct prog_spec *s, const char *image_url,
		      int image_pull_policy);

enum progd_action {
	PROGD_LOADED,
	PROGD_KEPT,
	PROGD_REPLACED,
	PROGD_MODIFIED,		/* a priority-only change: the same program, moved in place */
	PROGD_UNLOADED,
	PROGD_ERROR,
};

struct progd_change {
	enum progd_action action;
	char source[PLAN_SOURCE_SIZE];
	char name[PLAN_NAME_SIZE];	/* the entry's function name, "" for a whole file */
	uint32_t id;			/* the program (the new one when replaced) */
	uint32_t old_id;		/* replaced: the program it replaced */
	char error[512];		/* PROGD_ERROR: where and what */
};

struct progd_report {
	struct progd_change *v;
	size_t n, cap;
};

/* "loaded", "kept", "replaced", "unloaded", "error". */
const char *progd_action_str(enum progd_action a);
void progd_report_free(struct progd_report *rep);
/* One log line per change (errors at error level) and a summary line. */
void progd_report_log(const struct progd_report *rep, const char *why);

/* What a pass over the directory acts through: the manager's plain calls, in
 * the calling thread or in the kernel executor (same signatures as rpc.h's
 * struct rpc_kernel_ops). */
struct progd_ops {
	int (*load)(void *ctx, const struct load_plan *plan, struct prog_view *ret,
		    struct errmsg *em);
	int (*unload)(void *ctx, uint32_t id, struct errmsg *em);
	/* program id walk: next id after id (0 = first), -ENOENT at the end */
	int (*next)(void *ctx, uint32_t id, uint32_t *ret_next);
	/* bpfd's view; -ENOENT when bpfd does not own it */
	int (*view)(void *ctx, uint32_t id, struct prog_view *ret);
	/* a bytecode_image entry (plan->spec.image_url and image_pull_policy set):
	 * pull it, open it and load it; username NULL: anonymous.  May be NULL:
	 * such entries are an error. */
	int (*load_image)(void *ctx, const struct load_plan *plan, const char *username,
			  const char *password, struct prog_view *ret, struct errmsg *em);
	/* change a program in place (Modify); may be NULL: a changed priority then
	 * replaces the program */
	int (*modify)(void *ctx, const struct modify_plan *plan, struct prog_view *ret,
		      struct errmsg *em);
};

/*
 * Bring what bpfd holds from programs.d in line with the directory dir: load new
 * entries, keep unchanged ones, replace changed ones (the new program is loaded
 * before the old one goes; if it fails the old one stays), unload the programs of
 * removed entries and files.  A file that cannot be read or parsed is reported
 * and skipped: its programs stay as they are.  A missing directory is an empty
 * one.  Every change and error goes into rep.  Returns 0, or -ENOMEM / -errno
 * when the pass itself could not run (rep holds what was done).
 */
int progd_sync(const char *dir, const struct progd_ops *ops, void *ctx,
	       struct progd_report *rep);

#endif
