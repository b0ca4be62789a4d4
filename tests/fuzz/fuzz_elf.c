/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_elf.c - libFuzzer target: a BPF ELF object is untrusted input; open it through
 * libbpf as the daemon does (obj_open_mem: ELF check, program selection, map and
 * global-variable walk), without loading anything into the kernel.
 *
 * An input starting with the ELF magic is the object itself, opened for the
 * functions of bpfd's and the tests' objects whose names it holds (the seeds are
 * those objects, tests/fuzz/corpus/fuzz_elf), or "xdp_dispatcher" and "prog0"
 * when it holds none of them.  Any other input is a
 * list of 5-byte patches (32-bit offset, byte) applied to the embedded XDP
 * dispatcher object, so the fuzzer reaches libbpf's section, BTF and relocation
 * parsing with mostly well-formed files from the first run.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/embed.h"
#include "bpf/obj.h"
#include "core/base/log.h"
#include "fuzz.h"

/* libbpf sizes some allocations from the file (section and BTF sizes): a malloc() of
 * an absurd size must return NULL, as it does in the daemon, and libbpf then fails
 * the open with -ENOMEM; ASan would otherwise report it as an error of its own. */
const char *__asan_default_options(void)
{
	/* small quarantine: each input forks (obj.c parses objects in a child first), and
	 * the fork copies whatever the parent holds */
	return "allocator_may_return_null=1:quarantine_size_mb=8";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_elf");
	log_set_level(LOG_ERR);
	return 0;
}

static void exercise(const uint8_t *buf, size_t len, const char *func)
{
	struct errmsg em = { { 0 } };
	uint8_t conf[124] = { 236, 2 };
	char vars[512];
	struct obj *o = NULL;
	int err, err2;

	err = obj_open_mem(buf, len, "fuzz", func, &o, &em);
	if (err) {
		CHECK(err < 0 && !o);
		CHECK(em.msg[0] && memchr(em.msg, '\0', sizeof(em.msg)));
		return;
	}
	CHECK(o && !em.msg[0]);
	CHECK(!strcmp(obj_func_name(o), func));
	CHECK(obj_section(o) && obj_section_target(o));
	CHECK(obj_kind_str(obj_kind(o)));
	CHECK(obj_prog_fd(o) == -EBADF);
	(void)obj_map_count(o);
	obj_globals_list(o, vars, sizeof(vars));
	CHECK(memchr(vars, '\0', sizeof(vars)));
	/* one variable has one size: at most one of the two succeeds; failures say why */
	err = obj_set_global(o, "conf", conf, sizeof(conf), &em);
	CHECK(!err || (err < 0 && em.msg[0]));
	em.msg[0] = '\0';
	err2 = obj_set_global(o, "conf", conf, 3, &em);
	CHECK(!err2 || (err2 < 0 && em.msg[0]));
	CHECK(err || err2);
	obj_close(o);
}

/* function names of the objects in build/bpf and build/tests/bpf */
static const char *const funcs[] = {
	"xdp_dispatcher", "tc_dispatcher", "xdp_pass", "chain_xdp", "chain_tc", "chain_xdp_a",
	"grpc_sock", "bad_count", "tp_count", "kp_count", "up_count", "fe_count", "xdp_count",
	"tc_count", "tcx_count", "foreign_count",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const void *base;
	uint8_t *buf;
	size_t len, i;
	uint32_t off;
	int n = 0;

	if (size >= 4 && !memcmp(data, "\177ELF", 4)) {
		buf = malloc(size ? size : 1);
		CHECK(buf);
		memcpy(buf, data, size);
		/* each open forks the parsing sandbox: two at most */
		for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]) && n < 2; i++) {
			if (memmem(data, size, funcs[i], strlen(funcs[i]) + 1)) {
				exercise(buf, size, funcs[i]);
				n++;
			}
		}
		if (!n) {
			exercise(buf, size, "xdp_dispatcher");
			exercise(buf, size, "prog0");
		}
		free(buf);
		return 0;
	}
	CHECK(embed_find("xdp_dispatcher", &base, &len) == 0);
	buf = malloc(len);
	CHECK(buf);
	memcpy(buf, base, len);
	for (i = 0; i + 5 <= size; i += 5) {
		memcpy(&off, data + i, sizeof(off));
		buf[off % len] = data[i + 4];
	}
	exercise(buf, len, "xdp_dispatcher");
	free(buf);
	return 0;
}
