/* SPDX-License-Identifier: Apache-2.0 */
/* chain_floor.c - bench tool: the least dispatcher of the libxdp protocol with N
 * members, for tests/bench/dispatch.sh.  Loads DISP_OBJ's floor_disp
 * (tests/bpf/chain_floor_disp.bpf.o), then N instances of program PROG of MEMBER_OBJ,
 * each as an extension (freplace) of slot prog<i>, as libxdp and bpfd load members;
 * pins the dispatcher and the links under PIN_DIR (which must not exist) and attaches
 * the dispatcher to IFACE in native mode.  Prints the dispatcher's program id.  Undo:
 * detach IFACE's XDP program and remove PIN_DIR.
 *   chain_floor DISP_OBJ MEMBER_OBJ PROG N PIN_DIR IFACE */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#define MAX_SLOTS 10

static const char *me = "chain_floor";

/* load one member as the extension of slot @slot of @disp_fd and pin its link */
static int load_member(const char *obj_path, const char *name, int disp_fd, int slot,
		       const char *pin_dir)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_link *link = NULL;
	char target[16], path[4096];
	int err;

	snprintf(target, sizeof(target), "prog%d", slot);
	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		return -errno;
	bpf_object__for_each_program(p, obj)	/* only @name, as bpfd and libxdp do */
		bpf_program__set_autoload(p, false);
	p = bpf_object__find_program_by_name(obj, name);
	if (!p) {
		fprintf(stderr, "%s: %s has no program %s\n", me, obj_path, name);
		err = -ENOENT;
		goto out;
	}
	bpf_program__set_autoload(p, true);
	/* an extension has no attach type of its own (SEC("xdp") gave it BPF_XDP) */
	bpf_program__set_expected_attach_type(p, 0);
	err = bpf_program__set_type(p, BPF_PROG_TYPE_EXT);
	if (!err)
		err = bpf_program__set_attach_target(p, disp_fd, target);
	if (!err)
		err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "%s: loading %s as the extension of %s: %s\n", me, name,
			target, strerror(-err));
		goto out;
	}
	link = bpf_program__attach_freplace(p, disp_fd, target);
	if (!link) {
		err = -errno;
		fprintf(stderr, "%s: attaching %s to %s: %s\n", me, name, target,
			strerror(-err));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/link%d", pin_dir, slot);
	err = bpf_link__pin(link, path);
	if (err)
		fprintf(stderr, "%s: pinning %s: %s\n", me, path, strerror(-err));
out:
	bpf_link__destroy(link);	/* the pin (if any) keeps it */
	bpf_object__close(obj);		/* the link keeps the program */
	return err;
}

int main(int argc, char **argv)
{
	struct bpf_object *disp = NULL;
	struct bpf_program *p;
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	char path[4096];
	int n, i, fd, ifindex, err;

	if (argc != 7) {
		fprintf(stderr, "usage: %s DISP_OBJ MEMBER_OBJ PROG N PIN_DIR IFACE\n", me);
		return 2;
	}
	n = atoi(argv[4]);
	ifindex = if_nametoindex(argv[6]);
	if (n < 1 || n > MAX_SLOTS || !ifindex) {
		fprintf(stderr, "%s: N must be 1..%d and IFACE an interface\n", me, MAX_SLOTS);
		return 2;
	}
	if (mkdir(argv[5], 0700)) {
		fprintf(stderr, "%s: %s: %s\n", me, argv[5], strerror(errno));
		return 1;
	}
	disp = bpf_object__open_file(argv[1], NULL);
	if (!disp) {
		err = -errno;
		fprintf(stderr, "%s: %s: %s\n", me, argv[1], strerror(-err));
		goto out;
	}
	err = bpf_object__load(disp);
	p = bpf_object__find_program_by_name(disp, "floor_disp");
	if (err || !p) {
		err = err ? err : -ENOENT;
		fprintf(stderr, "%s: loading floor_disp of %s: %s\n", me, argv[1],
			strerror(-err));
		goto out;
	}
	fd = bpf_program__fd(p);
	snprintf(path, sizeof(path), "%s/disp", argv[5]);
	err = bpf_program__pin(p, path);
	for (i = 0; !err && i < n; i++)
		err = load_member(argv[2], argv[3], fd, i, argv[5]);
	if (err)
		goto out;
	err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "%s: attaching to %s: %s\n", me, argv[6], strerror(-err));
		goto out;
	}
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	if (!err)
		printf("%u\n", info.id);
out:
	bpf_object__close(disp);
	return err ? 1 : 0;
}
