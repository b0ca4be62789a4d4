/* SPDX-License-Identifier: Apache-2.0 */
/* kinfo.c - program ids, bpf_prog_info and bpf_link_info from the kernel: for List
 * and Get, and for the hooks' view of what is attached */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/kinfo.h"

int kinfo_next_id(uint32_t id, uint32_t *ret_next)
{
	__u32 next;

	if (bpf_prog_get_next_id(id, &next))
		return -errno;
	*ret_next = next;
	return 0;
}

static uint32_t fdinfo_memlock(int fd)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return 0;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "memlock:");
	if (p)
		v = strtoull(p + 8, NULL, 10);
	return v > UINT32_MAX ? UINT32_MAX : v;
}

/* A program's memlock never changes while it is loaded: remember it per (id,
 * load time) so that a List does not read one fdinfo file per program. */
#define MEMLOCK_CACHE	4096
static struct {
	uint32_t id;
	uint64_t load_time;
	uint32_t memlock;
} memlock_cache[MEMLOCK_CACHE];

static uint32_t prog_memlock(int fd, uint32_t id, uint64_t load_time)
{
	unsigned int slot = id % MEMLOCK_CACHE;

	if (memlock_cache[slot].id != id || memlock_cache[slot].load_time != load_time) {
		memlock_cache[slot].memlock = fdinfo_memlock(fd);
		memlock_cache[slot].id = id;
		memlock_cache[slot].load_time = load_time;
	}
	return memlock_cache[slot].memlock;
}

/* load_time is CLOCK_BOOTTIME nanoseconds; wall clock = now - uptime + it
 * (bpftool does the same). */
static void load_time(struct kinfo_prog *p, __u64 load_ns)
{
	struct timespec real, boot;
	int64_t wall_ns;
	struct tm tm;
	time_t t;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	wall_ns = (int64_t)real.tv_sec * 1000000000 + real.tv_nsec -
		  ((int64_t)boot.tv_sec * 1000000000 + boot.tv_nsec) + (int64_t)load_ns;
	t = wall_ns / 1000000000;
	p->loaded_at_unix = t;
	if (localtime_r(&t, &tm))
		strftime(p->loaded_at, sizeof(p->loaded_at), "%Y-%m-%dT%H:%M:%S%z", &tm);
}

int kinfo_get(uint32_t id, struct kinfo_prog *ret)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), n, i;
	__u32 maps[KINFO_MAX_MAPS];
	int fd, err = 0;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	memset(maps, 0, sizeof(maps));
	info.nr_map_ids = KINFO_MAX_MAPS;
	info.map_ids = (__u64)(unsigned long)maps;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	memset(ret, 0, sizeof(*ret));
	ret->id = info.id;
	ret->type = info.type;
	memcpy(ret->name, info.name, sizeof(ret->name) - 1);
	for (i = 0; i < BPF_TAG_SIZE; i++)
		snprintf(ret->tag + 2 * i, 3, "%02x", info.tag[i]);
	ret->gpl_compatible = info.gpl_compatible;
	ret->jited = info.jited_prog_len > 0;
	ret->btf_id = info.btf_id;
	ret->bytes_xlated = info.xlated_prog_len;
	ret->bytes_jited = info.jited_prog_len;
	ret->verified_insns = info.verified_insns;
	ret->bytes_memlock = prog_memlock(fd, info.id, info.load_time);
	n = info.nr_map_ids < KINFO_MAX_MAPS ? info.nr_map_ids : KINFO_MAX_MAPS;
	memcpy(ret->map_ids, maps, n * sizeof(maps[0]));
	ret->n_map_ids = n;
	ret->run_cnt = info.run_cnt;
	ret->run_time_ns = info.run_time_ns;
	load_time(ret, info.load_time);
out:
	close(fd);
	return err;
}

int kinfo_stats_enable(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	return fd < 0 ? -errno : fd;
}

const char *kinfo_type_name(uint32_t type)
{
	return libbpf_bpf_prog_type_str(type);
}

/* The BTF name of the program's main function: kernel names are cut at 15 chars. */
static void btf_func_name(const struct bpf_prog_info *info, uint32_t type_id,
			  char *ret_name, size_t size)
{
	const struct btf_type *t;
	struct btf *btf;
	const char *n;

	btf = btf__load_from_kernel_by_id(info->btf_id);
	if (!btf)
		return;
	t = btf__type_by_id(btf, type_id);
	if (t && btf_is_func(t)) {
		n = btf__name_by_offset(btf, t->name_off);
		if (n && *n && !strncmp(n, info->name, strlen(info->name)))
			snprintf(ret_name, size, "%s", n);
	}
	btf__free(btf);
}

int kinfo_prog_desc(int fd, uint32_t *ret_id, char *ret_name, size_t size)
{
	struct bpf_prog_info info = {};
	struct bpf_func_info fi = {};
	__u32 len = sizeof(info);
	int err;

	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err)
		return -errno;
	if (ret_id)
		*ret_id = info.id;
	if (!ret_name)
		return 0;
	snprintf(ret_name, size, "%s", info.name);
	if (!info.btf_id || !info.nr_func_info)
		return 0;
	memset(&info, 0, sizeof(info));
	info.nr_func_info = 1;
	info.func_info_rec_size = sizeof(fi);
	info.func_info = (uintptr_t)&fi;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	btf_func_name(&info, fi.type_id, ret_name, size);
	return 0;
}

int kinfo_prog_name(uint32_t id, char *ret_name, size_t size)
{
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	err = kinfo_prog_desc(fd, NULL, ret_name, size);
	close(fd);
	return err;
}

int kinfo_link_desc(int fd, uint32_t *ret_id, uint32_t *ret_prog_id, uint32_t *ret_type,
		    uint32_t *ret_ifindex)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (ret_id)
		*ret_id = info.id;
	if (ret_prog_id)
		*ret_prog_id = info.prog_id;
	if (ret_type)
		*ret_type = info.type;
	/* XDP and TCX link info both start with the ifindex (TCX: { ifindex,
	 * attach_type }, absent from the 6.1 uapi header) */
	if (ret_ifindex)
		*ret_ifindex = info.xdp.ifindex;
	return 0;
}
