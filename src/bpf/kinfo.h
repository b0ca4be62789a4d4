/* SPDX-License-Identifier: Apache-2.0 */
/* kinfo.h - what the kernel says about a loaded program (any program, owned or not) */
#ifndef BPFD_BPF_KINFO_H
#define BPFD_BPF_KINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KINFO_MAX_MAPS	64	/* the kernel's MAX_USED_MAPS */

struct kinfo_prog {
	uint32_t id;
	uint32_t type;			/* enum bpf_prog_type */
	char name[16];			/* BPF_OBJ_NAME_LEN */
	char tag[17];			/* 16 lowercase hex digits */
	char loaded_at[32];		/* local time, %Y-%m-%dT%H:%M:%S%z */
	int64_t loaded_at_unix;		/* seconds since the epoch */
	bool gpl_compatible;
	bool jited;
	uint32_t btf_id;
	uint32_t bytes_xlated;
	uint32_t bytes_jited;
	uint32_t bytes_memlock;		/* from fdinfo "memlock:" */
	uint32_t verified_insns;
	uint32_t map_ids[KINFO_MAX_MAPS];
	size_t n_map_ids;
	bool stats;			/* run_cnt/run_time_ns are meaningful (stats enabled) */
	uint64_t run_cnt;		/* runs counted while stats were enabled */
	uint64_t run_time_ns;		/* their total run time */
	char vanished[160];		/* not the kernel's: filled by the manager, ""
					 * unless bpfd attached it and it is no longer
					 * on its hook (why) */
};

/* The next program id after id (0 starts the walk): 0 with *ret_next, -ENOENT
 * at the end, or -errno (-EPERM without CAP_SYS_ADMIN). */
int kinfo_next_id(uint32_t id, uint32_t *ret_next);
/* Fill ret for program id: 0, -ENOENT when there is no such program (any
 * more), or -errno. */
int kinfo_get(uint32_t id, struct kinfo_prog *ret);
/* Turn on the kernel's run statistics (BPF_STATS_RUN_TIME, needs
 * CAP_SYS_ADMIN): they are counted while the returned fd is open (the caller
 * closes it).  The fd, or -errno. */
int kinfo_stats_enable(void);
/* Kernel name of a program type ("xdp", "cgroup_skb", ...), or NULL. */
const char *kinfo_type_name(uint32_t type);

/* Program facts by fd: id, and the BTF name of its main function (the kernel's name,
 * cut at 15 characters, when there is no BTF).  0 or -errno. */
int kinfo_prog_desc(int fd, uint32_t *ret_id, char *ret_name, size_t size);
/* The same name for program id. */
int kinfo_prog_name(uint32_t id, char *ret_name, size_t size);
/* Link facts by fd: link id, program id, link type and the first word of the
 * link's union (the ifindex for XDP and TCX links).  0 or -errno. */
int kinfo_link_desc(int fd, uint32_t *ret_id, uint32_t *ret_prog_id, uint32_t *ret_type,
		    uint32_t *ret_ifindex);

#endif
