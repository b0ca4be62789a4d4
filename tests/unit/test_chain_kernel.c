/* SPDX-License-Identifier: Apache-2.0 */
/* test_chain_kernel.c - the chain API (src/bpf/hook.h) against the real kernel.
 * Every test runs in its own process with private network and mount namespaces: a
 * veth pair veth0 <-> veth1 and a private bpffs (both the bpfd and the libxdp pin
 * root).  Needs root; chain tests skip when the kernel refuses freplace (the probe
 * says why), TCX tests when the kernel has no TCX.  Run directly, or through
 * tests/integration/t_xdp_chain.sh (host and VM). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "bpf/hook_int.h"
#include "bpf/hook.h"
#include "bpf/obj.h"

#define MAXP 12

static struct hook_opts opts;
static struct hook_env *env;
/* hook_opts.xdp_mode: one configured interface, as bpfd.toml would give it */
static char mode_iface[IF_NAMESIZE];
static enum hook_xdp_mode mode_of_iface;
static char tmpdir[64];
static char fs[128];
static const char *testbpf;
static uint32_t ifindex;	/* veth0 */

struct member_prog {
	struct obj *o;
	uint32_t id;
	int position;
};
static struct member_prog progs[MAXP];
static int nprogs;

static enum hook_xdp_mode xdp_mode(const char *iface, void *arg)
{
	(void)arg;
	return strcmp(iface, mode_iface) ? HOOK_XDP_DEFAULT : mode_of_iface;
}

/* hook_attach() with the interface resolved first, as the manager does it. */
static int attach_req(struct hook_env *e, struct obj *o, const struct hook_req *req,
		      struct hook_result *res, struct errmsg *em)
{
	struct hook_req r = *req;
	int err;

	err = hook_ifindex(r.iface, &r.ifindex, em);
	if (err)
		return err;
	return hook_attach(e, o, &r, res, em);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Output of a shell command into buf. */
static int sh_out(char *buf, size_t size, const char *cmd)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	return pclose(f);
}

static void setup(bool need_multiprog)
{
	const char *why;
	struct errmsg em = {};

	if (geteuid())
		test_skip("needs root");
	testbpf = getenv("BPFD_TESTBPF");
	if (!testbpf)
		testbpf = "build/tests/bpf";
	if (unshare(CLONE_NEWNET | CLONE_NEWNS))
		test_skip("cannot unshare network and mount namespaces");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		test_skip("cannot make / private");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/chaintest.XXXXXX");
	if (!mkdtemp(tmpdir))
		test_skip("mkdtemp");
	snprintf(fs, sizeof(fs), "%s/fs", tmpdir);
	mkdir(fs, 0700);
	if (mount("bpf", fs, "bpf", 0, "mode=0700"))
		test_skip("cannot mount a bpffs");
	/* no IPv6 chatter (router solicitations, DAD) in the counters */
	sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 "
	   "2>/dev/null");
	if (sh("ip link add veth0 type veth peer name veth1 && ip link set veth0 up && "
	       "ip link set veth1 up && ip link set lo up"))
		test_skip("cannot create a veth pair (ip link add ... type veth)");
	ifindex = if_nametoindex("veth0");
	opts = (struct hook_opts){ .bpffs = fs, .xdp_bpffs = fs, .xdp_mode = xdp_mode };
	setenv("LIBXDP_BPFFS", fs, 1);
	if (!ASSERT_OK(hook_env_new(&opts, &env, &em), em.msg))
		_exit(1);
	if (need_multiprog && !hook_env_multiprog(env, &why)) {
		char buf[600];

		snprintf(buf, sizeof(buf), "kernel refuses freplace, no chains: %s", why);
		test_skip(buf);
	}
}

static void need_tcx(void)
{
	struct errmsg em = {};

	if (tcx_probe(&em))
		test_skip(em.msg);
}

static struct obj *open_prog(const char *file, const char *func, int32_t verdict)
{
	char path[512];
	struct errmsg em = {};
	struct obj *o = NULL;

	snprintf(path, sizeof(path), "%s/%s", testbpf, file);
	if (!ASSERT_OK(obj_open_file(path, func, &o, &em), em.msg))
		_exit(1);
	if (!ASSERT_OK(obj_set_global(o, "verdict", &verdict, sizeof(verdict), &em), em.msg))
		_exit(1);
	return o;
}

/* Attach a new member; returns its index in progs[] or -errno (message in em). */
static int add(enum chain_kind kind, int32_t prio, int32_t verdict, const int32_t *codes,
	       size_t ncodes, struct errmsg *em)
{
	struct hook_req req = { .kind = kind, .iface = "veth0", .priority = prio };
	struct hook_result res = {};
	struct obj *o;
	int err;

	o = kind == CHAIN_XDP ? open_prog("chain_xdp.bpf.o", "chain_xdp", verdict)
			      : open_prog("chain_tc.bpf.o", "chain_tc", verdict);
	err = chain_proceed_on_encode(kind, codes, ncodes, &req.proceed_on, em);
	req.proceed_on_set = ncodes > 0;	/* as the manager marks it */
	if (!err)
		err = attach_req(env, o, &req, &res, em);
	if (err) {
		obj_close(o);
		return err;
	}
	progs[nprogs].o = o;
	progs[nprogs].id = res.prog_id;
	progs[nprogs].position = res.position;
	return nprogs++;
}

static int add_ok(enum chain_kind kind, int32_t prio, int32_t verdict)
{
	struct errmsg em = {};
	int i = add(kind, prio, verdict, NULL, 0, &em);

	if (!ASSERT_OK(i, em.msg))
		_exit(1);
	return i;
}

static uint64_t counter(int i)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj_bpf_object(progs[i].o),
							 "counter");
	uint64_t v = 0;
	uint32_t k = 0;

	bpf_map_lookup_elem(bpf_map__fd(m), &k, &v);
	return v;
}

static size_t members(enum chain_kind kind, struct hook_member_info *m)
{
	size_t n = 0;

	if (!ASSERT_OK(hook_members(env, kind, ifindex, CHAIN_INGRESS, m, MAXP, &n),
		       "hook_members"))
		_exit(1);
	return n;
}

/* The program attached at the hook now (dispatcher or direct). */
static uint32_t hook_prog(enum chain_kind kind)
{
	struct hook h;
	uint32_t id = 0, mode;

	hook_init(&h, env, kind, CHAIN_INGRESS, ifindex, NULL);
	h.ops->query(&h, &id, &mode);
	return id;
}

/* One BPF_PROG_TEST_RUN of the live hook program on an Ethernet frame: its verdict. */
static int test_run(enum chain_kind kind)
{
	unsigned char pkt[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1,
				  0x08, 0x00, 0x45 };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = 1);
	int fd, err;

	fd = bpf_prog_get_fd_by_id(hook_prog(kind));
	if (!ASSERT_OK(fd, "hook program fd"))
		_exit(1);
	err = bpf_prog_test_run_opts(fd, &t);
	close(fd);
	if (!ASSERT_OK(err, "test run"))
		_exit(1);
	return (int)t.retval;
}

/* Send n Ethernet frames into veth1: they arrive on veth0 (XDP, TC ingress). */
static void send_frames(int n)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_halen = ETH_ALEN };
	unsigned char pkt[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1,
				  0x88, 0xb5 };	/* local experimental ethertype */
	int fd, i;

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (!ASSERT_OK(fd, "packet socket"))
		_exit(1);
	sa.sll_ifindex = if_nametoindex("veth1");
	memset(sa.sll_addr, 0xff, ETH_ALEN);
	for (i = 0; i < n; i++)
		if (!ASSERT_EQ(sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&sa,
				      sizeof(sa)), (long long)sizeof(pkt), "sendto"))
			break;
	close(fd);
	usleep(100 * 1000);
}

static int count_dirs(const char *root, const char *prefix)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(root);

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

/* ---- dispatcher objects, chain logic on any kernel ---------------------------------- */

/* The embedded XDP dispatcher is what libxdp 1.3.1 recognises (dispatchers.md 2.1):
 * both builds of it, the one for chains of default masks and the other. */
static void layout_check(uint32_t mask)
{
	struct chain_entry e[2] = { { .prog_id = 1, .priority = 10, .proceed_on = mask },
				    { .prog_id = 2, .priority = 20, .proceed_on = mask } };
	struct chain_xdp_conf conf, got;
	struct bpf_prog_info info = {};
	struct bpf_map_info mi = {};
	struct bpf_object *o = NULL;
	struct errmsg em = {};
	const struct btf_type *t;
	struct btf *btf;
	__u32 len = sizeof(info), map_id = 0, key = 0;
	int fd = -1, mfd, id;

	chain_xdp_conf_fill(&conf, e, 2);
	if (!ASSERT_OK(disp_load(&xdp_hook_ops, &conf, false, &o, &fd, &em), em.msg))
		return;
	info.nr_map_ids = 1;
	info.map_ids = (uintptr_t)&map_id;
	ASSERT_OK(bpf_obj_get_info_by_fd(fd, &info, &len), "prog info");
	ASSERT_STREQ(info.name, "xdp_dispatcher", "program name");
	ASSERT_EQ(info.nr_map_ids, 1, "exactly one map");
	ASSERT_NEQ(info.btf_id, 0, "loaded with BTF");
	mfd = bpf_map_get_fd_by_id(map_id);
	len = sizeof(mi);
	ASSERT_OK(bpf_obj_get_info_by_fd(mfd, &mi, &len), "map info");
	ASSERT_EQ(mi.value_size, 124, "v2 config size");
	ASSERT_EQ(mi.key_size, 4, "key");
	ASSERT_EQ(mi.max_entries, 1, "one entry");
	ASSERT_TRUE(mi.map_flags & BPF_F_RDONLY_PROG, "read-only for programs");
	ASSERT_OK(bpf_map_lookup_elem(mfd, &key, &got), "read config");
	ASSERT_EQ(got.magic, 236, "magic");
	ASSERT_EQ(got.dispatcher_version, 2, "version");
	ASSERT_EQ(got.run_prios[1], 20, "priority of slot 1");
	ASSERT_ERR(bpf_map_update_elem(mfd, &key, &got, 0), "config is frozen");
	btf = btf__load_from_kernel_by_id(info.btf_id);
	id = btf__find_by_name_kind(btf, "xdp_metadata", BTF_KIND_DATASEC);
	ASSERT_OK(id, "DATASEC xdp_metadata in the kernel BTF");
	id = btf__find_by_name_kind(btf, "dispatcher_version", BTF_KIND_VAR);
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);	/* PTR */
	t = btf__type_by_id(btf, t->type);				/* ARRAY */
	ASSERT_TRUE(btf_is_array(t) && btf_array(t)->nelems == 2, "dispatcher_version 2");
	for (id = 0; id < 10; id++) {
		char name[8];

		snprintf(name, sizeof(name), "prog%d", id);
		ASSERT_OK(btf__find_by_name_kind(btf, name, BTF_KIND_FUNC), name);
	}
	ASSERT_OK(btf__find_by_name_kind(btf, "compat_test", BTF_KIND_FUNC), "compat_test");
	btf__free(btf);
	close(mfd);
	bpf_object__close(o);
}

static void xdp_dispatcher_layout(void)
{
	setup(false);
	layout_check(CHAIN_XDP_DEFAULT_MASK);
	layout_check(1u << XDP_PASS);
}

/* Load a scripted dispatcher (tests/bpf/chain_*_disp_test; dflt: the XDP build for
 * default masks, chain_xdp_default_disp_test): rets[i] per slot, masks. */
static int scripted_run(bool tc, bool dflt, const int *rets, const uint32_t *masks, int n,
			uint64_t *ret_calls)
{
	unsigned char pkt[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1,
				  0x08, 0x00 };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = 1);
	char path[512];
	struct bpf_object *o;
	struct bpf_program *p;
	struct bpf_map *m;
	size_t sz;
	char *ro;
	int i, err;

	snprintf(path, sizeof(path), "%s/%s", testbpf,
		 tc ? "chain_tc_disp_test.bpf.o" : dflt ? "chain_xdp_default_disp_test.bpf.o" :
		 "chain_xdp_disp_test.bpf.o");
	o = bpf_object__open_file(path, NULL);
	if (!ASSERT_TRUE(o, "open scripted dispatcher"))
		_exit(1);
	m = bpf_object__find_map_by_name(o, ".rodata");
	ro = (char *)bpf_map__initial_value(m, &sz);
	/* clang puts test_ret first, then conf (the layout checked here) */
	if (!ASSERT_TRUE(ro && sz >= 44 + (tc ? 84 : 124), ".rodata layout"))
		_exit(1);
	if (tc) {
		struct chain_tc_conf *c = (void *)(ro + 44);

		c->num_progs_enabled = n;
		memcpy(c->chain_call_actions, masks, n * sizeof(*masks));
	} else {
		struct chain_xdp_conf *c = (void *)(ro + 44);

		c->num_progs_enabled = n;
		memcpy(c->chain_call_actions, masks, n * sizeof(*masks));
	}
	for (i = 0; i < n; i++)
		((uint32_t *)ro)[i] = rets[i] == (tc ? CHAIN_TC_RETVAL : CHAIN_XDP_RETVAL) ? 0 :
				      rets[i] + (tc ? 2 : 1);
	err = bpf_object__load(o);
	if (!ASSERT_OK(err, "load scripted dispatcher"))
		_exit(1);
	p = bpf_object__find_program_by_name(o, tc ? "tc_dispatcher" : "xdp_dispatcher");
	err = bpf_prog_test_run_opts(bpf_program__fd(p), &t);
	if (!ASSERT_OK(err, "test run"))
		_exit(1);
	m = bpf_object__find_map_by_name(o, ".bss");
	memset(ret_calls, 0, 11 * sizeof(*ret_calls));
	memcpy(ret_calls, bpf_map__initial_value(m, &sz), 11 * sizeof(*ret_calls));
	i = 0;
	bpf_map_lookup_elem(bpf_map__fd(m), &i, ret_calls);
	bpf_object__close(o);
	return (int)t.retval;
}

/* The BPF dispatchers agree with the C model for many verdict/mask combinations. */
static void scripted_vs_model(bool tc)
{
	uint32_t masks[CHAIN_MAX_PROGS], ran, seed = 12345;
	int rets[CHAIN_MAX_PROGS], got, want, round, i, n, b;
	bool dflt = false;
	uint64_t calls[11];

	setup(false);
	for (round = 0; round < 80; round++) {
		n = 1 + round % CHAIN_MAX_PROGS;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			rets[i] = tc ? (int)((seed >> 8) % 11) - 1 : (int)((seed >> 8) % 5);
			if ((seed >> 20) % 7 == 0)
				rets[i] = tc ? CHAIN_TC_RETVAL : CHAIN_XDP_RETVAL;
			masks[i] = (seed >> 4) & (tc ? 0x3ff : 0x1f);
			masks[i] |= (seed >> 3) & 1 ? CHAIN_RETVAL_BIT : 0;
			masks[i] |= (seed >> 16) % 3 ? (tc ? 1u << (rets[i] + 1 > 31 ? 31 :
						     rets[i] + 1) : 1u << (rets[i] & 31)) : 0;
			/* the default mask has a path of its own in the XDP dispatcher */
			if ((seed >> 24) % 3 == 0)
				masks[i] = tc ? CHAIN_TC_DEFAULT_MASK : CHAIN_XDP_DEFAULT_MASK;
			/* and a verdict that is no action at all */
			if (!tc && (seed >> 27) % 11 == 0)
				rets[i] = 40;
			/* every fourth round, all default: the XDP build for that */
			if (round % 4 == 3)
				masks[i] = tc ? CHAIN_TC_DEFAULT_MASK : CHAIN_XDP_DEFAULT_MASK;
		}
		if (tc) {
			struct chain_tc_conf c = { .num_progs_enabled = n };

			memcpy(c.chain_call_actions, masks, sizeof(masks));
			want = chain_tc_eval(&c, rets, &ran);
		} else {
			struct chain_xdp_conf c = { .num_progs_enabled = n };

			memcpy(c.chain_call_actions, masks, sizeof(masks));
			want = chain_xdp_eval(&c, rets, &ran);
			dflt = chain_xdp_default_masks(&c);
			if (round % 4 == 3)
				ASSERT_TRUE(dflt, "all default masks are the default");
		}
		/* the default-mask build too where bpfd would load it */
		for (b = 0; b <= (dflt ? 1 : 0); b++) {
			got = scripted_run(tc, b, rets, masks, n, calls);
			if (!ASSERT_EQ(got, want, "verdict of the BPF dispatcher = model"))
				fprintf(stderr, "  round %d n %d build %d\n", round, n, b);
			for (i = 0; i < n; i++)
				if (!ASSERT_EQ(calls[i], !!(ran & (1u << i)),
					       "slot ran as in the model"))
					fprintf(stderr, "  round %d slot %d build %d\n", round,
						i, b);
		}
	}
}

static void xdp_dispatcher_logic(void)
{
	scripted_vs_model(false);
}

static void tc_dispatcher_logic(void)
{
	scripted_vs_model(true);
}

/* ---- without freplace: direct attach, second program refused ------------------------ */

static void direct_fallback(enum chain_kind kind)
{
	struct hook_member_info m[MAXP];
	struct errmsg em = {};
	int a, err;

	static const int32_t xdp_codes[] = { XDP_PASS, XDP_DROP }, tc_codes[] = { TC_ACT_PIPE };

	setup(false);
	hook_env_force_direct(env, true);	/* the host needs no forcing; the VM does */
	/* proceed-on cannot apply to a program attached directly: refused, not stored */
	err = add(kind, 50, 0, kind == CHAIN_XDP ? xdp_codes : tc_codes,
		  kind == CHAIN_XDP ? 2 : 1, &em);
	ASSERT_EQ(err, -HOOK_EPRECONDITION, "proceed-on without a dispatcher refused");
	ASSERT_STRSTR(em.msg, "proceed-on applies only in a dispatcher chain", "message says what");
	ASSERT_STRSTR(em.msg, "multi-program chains are", "message says why");
	ASSERT_EQ(hook_prog(kind), 0, "nothing attached");
	memset(&em, 0, sizeof(em));
	a = add_ok(kind, 50, kind == CHAIN_XDP ? XDP_PASS : TC_ACT_OK);
	ASSERT_EQ(hook_prog(kind), progs[a].id, "the program itself is on the hook");
	ASSERT_EQ(members(kind, m), 1, "one member");
	ASSERT_EQ(m[0].mode, HOOK_MODE_DIRECT, "mode direct");
	ASSERT_EQ(m[0].prog_id, progs[a].id, "its id");
	err = add(kind, 60, 0, NULL, 0, &em);
	ASSERT_EQ(err, -HOOK_EPRECONDITION, "second program refused");
	ASSERT_STRSTR(em.msg, "veth0", "message names the interface");
	ASSERT_STRSTR(em.msg, "multi-program chains are", "message says why");
	ASSERT_EQ(hook_prog(kind), progs[a].id, "first program still there");
	send_frames(3);
	ASSERT_EQ(counter(a), 3, "it sees the traffic");
	ASSERT_OK(hook_detach(env, kind, ifindex, CHAIN_INGRESS, progs[a].id, &em), em.msg);
	ASSERT_EQ(hook_prog(kind), 0, "hook empty");
	ASSERT_EQ(hook_detach(env, kind, ifindex, CHAIN_INGRESS, progs[a].id, NULL),
		  -ENOENT, "second detach: not there");
	if (kind == CHAIN_TC)
		ASSERT_EQ(sh("tc qdisc show dev veth0 | grep -q clsact"), 1, "clsact removed");
}

static void xdp_direct_fallback(void)
{
	direct_fallback(CHAIN_XDP);
}

static void tc_direct_fallback(void)
{
	direct_fallback(CHAIN_TC);
}

/* ---- chains (freplace) ------------------------------------------------------------ */

static void chain_order(enum chain_kind kind)
{
	static const int32_t prios[] = { 100, 200, 50, 75 };
	static const int want_pos[] = { 0, 1, 0, 1 };
	struct hook_member_info m[MAXP];
	char dir[256];
	int32_t v = kind == CHAIN_XDP ? XDP_PASS : TC_ACT_PIPE;
	uint32_t disp;
	int i;

	setup(true);
	for (i = 0; i < 4; i++) {
		add_ok(kind, prios[i], v);
		ASSERT_EQ(progs[i].position, want_pos[i], "position reported at attach");
	}
	ASSERT_EQ(members(kind, m), 4, "four members");
	ASSERT_EQ(m[0].prog_id, progs[2].id, "prio 50 first");
	ASSERT_EQ(m[1].prog_id, progs[3].id, "prio 75 second");
	ASSERT_EQ(m[2].prog_id, progs[0].id, "prio 100 third");
	ASSERT_EQ(m[3].prog_id, progs[1].id, "prio 200 last");
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(m[i].position, i, "positions 0..3");
		ASSERT_EQ(m[i].mode, HOOK_MODE_DISPATCHER, "dispatcher mode");
		ASSERT_TRUE(m[i].have_config, "config known");
		ASSERT_STREQ(m[i].name, kind == CHAIN_XDP ? "chain_xdp" : "chain_tc", "name");
	}
	ASSERT_EQ(m[0].priority, 50, "real priority in the config");
	ASSERT_EQ(m[3].proceed_on, kind == CHAIN_XDP ? CHAIN_XDP_DEFAULT_MASK :
		  CHAIN_TC_DEFAULT_MASK, "default proceed-on");
	disp = hook_prog(kind);
	ASSERT_EQ(m[0].dispatcher_id, disp, "dispatcher id = attached program");
	snprintf(dir, sizeof(dir), "%s/%s/dispatch-%u-%u", fs, kind == CHAIN_XDP ? "xdp" :
		 "tc-ingress", ifindex, disp);
	ASSERT_EQ(access(dir, F_OK), 0, "pin directory of the live dispatcher");
	ASSERT_EQ(count_dirs(kind == CHAIN_XDP ? opts.xdp_bpffs : fs, "") > 0, 1, "root");
	snprintf(dir, sizeof(dir), "%s/%s", fs, kind == CHAIN_XDP ? "xdp" : "tc-ingress");
	ASSERT_EQ(count_dirs(dir, "dispatch-"), 1, "old dispatcher directories removed");
	send_frames(5);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(counter(i), 5, "every member saw every frame");
	if (kind == CHAIN_TC) {
		char out[4096];

		/* swapped in place: one filter, still at priority 50, handle 0xbfd */
		sh_out(out, sizeof(out), "tc filter show dev veth0 ingress | grep -c 'handle'");
		ASSERT_EQ(atoi(out), 1, "one filter after four swaps");
		sh_out(out, sizeof(out), "tc filter show dev veth0 ingress");
		ASSERT_STRSTR(out, "pref 50 bpf", "at priority 50");
		ASSERT_STRSTR(out, "handle 0xbfd", "same handle");
	}
}

static void xdp_chain_order(void)
{
	chain_order(CHAIN_XDP);
}

static void tc_chain_order(void)
{
	chain_order(CHAIN_TC);
}

/* Ties: same priority, different names order by name; same name by program id. */
static void xdp_chain_ties(void)
{
	struct hook_member_info m[MAXP];
	struct hook_req req = { .kind = CHAIN_XDP, .iface = "veth0", .priority = 10,
				 .proceed_on = CHAIN_XDP_DEFAULT_MASK };
	static const char *const funcs[] = { "chain_xdp_b", "chain_xdp_a", "chain_xdp",
					     "chain_xdp_a" };
	struct hook_result res;
	struct errmsg em = {};
	struct obj *o[4];
	int i;

	setup(true);
	for (i = 0; i < 4; i++) {
		o[i] = open_prog("chain_xdp.bpf.o", funcs[i], XDP_PASS);
		ASSERT_OK(attach_req(env, o[i], &req, &res, &em), em.msg);
		progs[i].id = res.prog_id;
	}
	ASSERT_EQ(members(CHAIN_XDP, m), 4, "four");
	ASSERT_STREQ(m[0].name, "chain_xdp", "name order");
	ASSERT_EQ(m[1].prog_id, progs[1].id, "chain_xdp_a, older id");
	ASSERT_EQ(m[2].prog_id, progs[3].id, "chain_xdp_a, newer id");
	ASSERT_STREQ(m[3].name, "chain_xdp_b", "b last");
}

static void set_u32(int i, const char *map, uint32_t v)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj_bpf_object(progs[i].o), map);
	uint64_t zero = 0;
	uint32_t k = 0;

	if (!strcmp(map, "counter"))
		bpf_map_update_elem(bpf_map__fd(m), &k, &zero, 0);
	else
		bpf_map_update_elem(bpf_map__fd(m), &k, &v, 0);
}

/* Every position x every action: which members ran and the verdict (test run on the
 * live dispatcher), with and without the action in the members' proceed-on, and with
 * the default proceed-on (XDP: the dispatcher built for it).  The verdicts live in
 * .data, so one chain serves the three positions. */
static void chain_semantics(enum chain_kind kind)
{
	int lo = kind == CHAIN_XDP ? 0 : -1, hi = kind == CHAIN_XDP ? 4 : 8;
	int32_t pass = kind == CHAIN_XDP ? XDP_PASS : TC_ACT_PIPE;
	int32_t end = kind == CHAIN_XDP ? XDP_PASS : TC_ACT_OK;
	struct errmsg em = {};
	int pos, act, with, i, verdict, idx[3];

	setup(true);
	for (act = lo; act <= hi; act++) {
		for (with = 0; with < 3; with++) {
			int32_t codes[2] = { pass, act };
			bool cont = with == 1 || act == pass;

			nprogs = 0;
			for (i = 0; i < 3; i++) {
				/* with 2: no codes, the default proceed-on */
				idx[i] = add(kind, 10 * (i + 1), pass, codes,
					     with == 2 ? 0 : 1 + with, &em);
				if (!ASSERT_OK(idx[i], em.msg))
					_exit(1);
			}
			for (pos = 0; pos < 3; pos++) {
				for (i = 0; i < 3; i++) {
					set_u32(idx[i], ".data", i == pos ? act : pass);
					set_u32(idx[i], "counter", 0);
				}
				verdict = test_run(kind);
				if (!ASSERT_EQ(verdict, cont ? end : act, "chain verdict"))
					fprintf(stderr, "  pos %d action %d in-mask %d\n", pos, act,
						with);
				for (i = 0; i < 3; i++)
					if (!ASSERT_EQ(counter(idx[i]), i <= pos || cont,
						       "member ran"))
						fprintf(stderr, "  pos %d action %d in-mask %d "
							"member %d\n", pos, act, with, i);
			}
			for (i = 0; i < 3; i++) {
				ASSERT_OK(hook_detach(env, kind, ifindex, CHAIN_INGRESS,
						      progs[idx[i]].id, &em), em.msg);
				obj_close(progs[idx[i]].o);
				progs[idx[i]].o = NULL;
			}
		}
	}
	ASSERT_EQ(hook_prog(kind), 0, "hook empty at the end");
}

static void xdp_chain_semantics(void)
{
	chain_semantics(CHAIN_XDP);
}

static void tc_chain_semantics(void)
{
	chain_semantics(CHAIN_TC);
}

/* Loads (BPF_LDX) in the live XDP hook program as the kernel runs it: the config's
 * reads in xdp_dispatcher, and one stack read in each slot stub. */
static int hook_loads(void)
{
	struct bpf_insn insns[1024];
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), i;
	int fd, n = 0;

	fd = bpf_prog_get_fd_by_id(hook_prog(CHAIN_XDP));
	if (!ASSERT_OK(fd, "hook program fd"))
		_exit(1);
	info.xlated_prog_len = sizeof(insns);
	info.xlated_prog_insns = (uintptr_t)insns;
	if (!ASSERT_OK(bpf_obj_get_info_by_fd(fd, &info, &len), "prog info") ||
	    !ASSERT_TRUE(info.xlated_prog_len <= sizeof(insns), "xlated fits"))
		_exit(1);
	close(fd);
	for (i = 0; i < info.xlated_prog_len / sizeof(insns[0]); i++)
		n += BPF_CLASS(insns[i].code) == BPF_LDX;
	return n;
}

/* A chain whose members all proceed on the default gets the dispatcher that reads no
 * mask (xdp_dispatcher_default); one other mask and it is the one that reads them all. */
static void xdp_dispatcher_builds(void)
{
	static const int32_t pass_only[] = { XDP_PASS };
	struct errmsg em = {};
	int i, dflt, other;

	setup(true);
	for (i = 0; i < 3; i++)
		add_ok(CHAIN_XDP, 10 * (i + 1), XDP_PASS);
	dflt = hook_loads();
	for (i = 0; i < 3; i++) {
		ASSERT_OK(hook_detach(env, CHAIN_XDP, ifindex, CHAIN_INGRESS, progs[i].id,
				      &em), em.msg);
		obj_close(progs[i].o);
	}
	nprogs = 0;
	for (i = 0; i < 2; i++)
		add_ok(CHAIN_XDP, 10 * (i + 1), XDP_PASS);
	ASSERT_OK(add(CHAIN_XDP, 30, XDP_PASS, pass_only, 1, &em), em.msg);
	other = hook_loads();
	/* the same three slots, each of which now reads its mask */
	ASSERT_EQ(other - dflt, 3, "default masks: no mask read; otherwise one per slot");
	ASSERT_EQ(test_run(CHAIN_XDP), XDP_PASS, "the chain still passes");
	send_frames(2);
	for (i = 0; i < 3; i++)	/* the test run and the two frames */
		ASSERT_EQ(counter(i), 3, "all three run");
}

static void xdp_chain_full(void)
{
	struct hook_member_info m[MAXP];
	struct errmsg em = {};
	int i;

	setup(true);
	for (i = 0; i < CHAIN_MAX_PROGS; i++)
		add_ok(CHAIN_XDP, 100 - i, XDP_PASS);
	ASSERT_EQ(add(CHAIN_XDP, 1, XDP_PASS, NULL, 0, &em), -HOOK_EFULL, "11th refused");
	ASSERT_STRSTR(em.msg, "veth0", "names the interface");
	ASSERT_STRSTR(em.msg, "10 programs", "names the limit");
	ASSERT_EQ(members(CHAIN_XDP, m), 10, "the ten are still there");
	ASSERT_EQ(m[0].priority, 91, "lowest first");
	send_frames(2);
	for (i = 0; i < CHAIN_MAX_PROGS; i++)
		ASSERT_EQ(counter(i), 2, "all ten run");
}

/* Removing the middle member keeps everybody else's priority and proceed-on (#791). */
static void remove_middle(enum chain_kind kind)
{
	int32_t c0[] = { 1, 2 }, c2[] = { 0, 2, 4 }, tc0[] = { -1, 3 }, tc2[] = { 2, 3, 30 };
	struct hook_member_info m[MAXP];
	struct errmsg em = {};
	uint32_t mask0, mask2;
	int a, b, c;

	setup(true);
	chain_proceed_on_encode(kind, kind == CHAIN_XDP ? c0 : tc0, 2, &mask0, NULL);
	chain_proceed_on_encode(kind, kind == CHAIN_XDP ? c2 : tc2, 3, &mask2, NULL);
	a = add(kind, 10, kind == CHAIN_XDP ? XDP_PASS : TC_ACT_PIPE,
		kind == CHAIN_XDP ? c0 : tc0, 2, &em);
	b = add(kind, 20, kind == CHAIN_XDP ? XDP_PASS : TC_ACT_PIPE, NULL, 0, &em);
	c = add(kind, 30, kind == CHAIN_XDP ? XDP_PASS : TC_ACT_PIPE,
		kind == CHAIN_XDP ? c2 : tc2, 3, &em);
	if (!ASSERT_OK(a | b | c, em.msg))
		return;
	ASSERT_OK(hook_detach(env, kind, ifindex, CHAIN_INGRESS, progs[b].id, &em), em.msg);
	ASSERT_EQ(members(kind, m), 2, "two left");
	ASSERT_EQ(m[0].prog_id, progs[a].id, "first");
	ASSERT_EQ(m[0].proceed_on, mask0, "first keeps its proceed-on");
	ASSERT_EQ(m[0].priority, 10, "and priority");
	ASSERT_EQ(m[1].prog_id, progs[c].id, "last moved up");
	ASSERT_EQ(m[1].position, 1, "to position 1");
	ASSERT_EQ(m[1].proceed_on, mask2, "last keeps its proceed-on");
	ASSERT_EQ(m[1].priority, 30, "and priority");
	ASSERT_EQ(hook_detach(env, kind, ifindex, CHAIN_INGRESS, progs[b].id, &em), -ENOENT,
		  "removed one is gone");
}

static void xdp_remove_middle(void)
{
	remove_middle(CHAIN_XDP);
}

static void tc_remove_middle(void)
{
	remove_middle(CHAIN_TC);
}

static void remove_last(enum chain_kind kind)
{
	char root[256];
	struct errmsg em = {};
	int a, b;

	setup(true);
	a = add_ok(kind, 1, kind == CHAIN_XDP ? XDP_PASS : TC_ACT_PIPE);
	b = add_ok(kind, 2, kind == CHAIN_XDP ? XDP_PASS : TC_ACT_PIPE);
	ASSERT_OK(hook_detach(env, kind, ifindex, CHAIN_INGRESS, progs[a].id, &em), em.msg);
	ASSERT_OK(hook_detach(env, kind, ifindex, CHAIN_INGRESS, progs[b].id, &em), em.msg);
	ASSERT_EQ(hook_prog(kind), 0, "dispatcher detached");
	snprintf(root, sizeof(root), "%s/%s", fs, kind == CHAIN_XDP ? "xdp" : "tc-ingress");
	ASSERT_EQ(count_dirs(root, "dispatch-"), 0, "no pins left");
	if (kind == CHAIN_TC)
		ASSERT_EQ(sh("tc qdisc show dev veth0 | grep -q clsact"), 1, "clsact removed");
}

static void xdp_remove_last(void)
{
	remove_last(CHAIN_XDP);
}

static void tc_remove_last(void)
{
	remove_last(CHAIN_TC);
}

/* The original's demo on real traffic: counter at 55 counts until a dropping program
 * that proceeds only on pass goes in front at 50; moved to 60, counting resumes. */
static void xdp_demo_traffic(void)
{
	int32_t pass_only[] = { XDP_PASS };
	struct errmsg em = {};
	int cnt, drop;

	setup(true);
	cnt = add_ok(CHAIN_XDP, 55, XDP_PASS);
	send_frames(4);
	ASSERT_EQ(counter(cnt), 4, "counter counts");
	drop = add(CHAIN_XDP, 50, XDP_DROP, pass_only, 1, &em);
	ASSERT_OK(drop, em.msg);
	send_frames(4);
	ASSERT_EQ(counter(cnt), 4, "counter stopped behind the drop at 50");
	ASSERT_EQ(counter(drop), 4, "the drop program saw them");
	ASSERT_OK(hook_detach(env, CHAIN_XDP, ifindex, CHAIN_INGRESS, progs[drop].id, &em),
		  em.msg);
	drop = add(CHAIN_XDP, 60, XDP_DROP, pass_only, 1, &em);
	ASSERT_OK(drop, em.msg);
	send_frames(4);
	ASSERT_EQ(counter(cnt), 8, "counting resumed with the drop at 60");
	ASSERT_EQ(counter(drop), 4, "drop program runs after the counter");
}

static void xdp_mode_skb(void)
{
	struct hook_member_info m[MAXP];
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	setup(true);
	snprintf(mode_iface, sizeof(mode_iface), "veth0");
	mode_of_iface = HOOK_XDP_SKB;
	add_ok(CHAIN_XDP, 5, XDP_PASS);
	add_ok(CHAIN_XDP, 6, XDP_PASS);
	bpf_xdp_query(ifindex, 0, &q);
	ASSERT_NEQ(q.skb_prog_id, 0, "attached in skb mode");
	ASSERT_EQ(q.drv_prog_id, 0, "not in driver mode");
	ASSERT_EQ(members(CHAIN_XDP, m), 2, "swap kept skb mode");
}

static void xdp_mode_default_drv(void)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	setup(true);
	add_ok(CHAIN_XDP, 5, XDP_PASS);
	bpf_xdp_query(ifindex, 0, &q);
	ASSERT_NEQ(q.drv_prog_id, 0, "veth takes native mode by default");
}

/* A device without native XDP (dummy, or a bridge): the default mode falls back to skb; drv asked
 * for explicitly fails with a hint.  Works with and without freplace. */
static void xdp_mode_fallback_skb(void)
{
	struct hook_req req = { .kind = CHAIN_XDP, .iface = "dm0", .priority = 1,
				 .proceed_on = CHAIN_XDP_DEFAULT_MASK };
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct hook_result res;
	struct errmsg em = {};
	struct obj *o;

	setup(false);
	if (sh("{ ip link add dm0 type dummy || ip link add dm0 type bridge; } 2>/dev/null && "
	       "ip link set dm0 up"))
		test_skip("cannot create a dummy or bridge interface");
	o = open_prog("chain_xdp.bpf.o", "chain_xdp", XDP_PASS);
	if (!ASSERT_OK(attach_req(env, o, &req, &res, &em), em.msg))
		return;
	bpf_xdp_query(if_nametoindex("dm0"), 0, &q);
	ASSERT_NEQ(q.skb_prog_id, 0, "fell back to skb mode");
	ASSERT_OK(hook_detach(env, CHAIN_XDP, if_nametoindex("dm0"), CHAIN_INGRESS,
			      res.prog_id, &em), em.msg);
	obj_close(o);
	snprintf(mode_iface, sizeof(mode_iface), "dm0");
	mode_of_iface = HOOK_XDP_DRV;
	o = open_prog("chain_xdp.bpf.o", "chain_xdp", XDP_PASS);
	memset(&em, 0, sizeof(em));
	ASSERT_ERR(attach_req(env, o, &req, &res, &em), "drv mode refused by dummy");
	ASSERT_STRSTR(em.msg, "drv mode", "message names the mode");
	ASSERT_STRSTR(em.msg, "xdp_mode = \"skb\"", "and the way out");
	bpf_xdp_query(if_nametoindex("dm0"), 0, &q);
	ASSERT_EQ(q.prog_id, 0, "nothing left attached");
}

/* A dispatcher and its members survive the process that made them (a daemon restart):
 * a new environment reads them from kernel + pins, and can change the chain. */
static void survives_restart(void)
{
	struct hook_member_info m[MAXP];
	struct errmsg em = {};
	pid_t pid;
	int st;

	setup(true);
	pid = fork();
	if (!pid) {
		add_ok(CHAIN_XDP, 30, XDP_PASS);
		add_ok(CHAIN_XDP, 10, XDP_PASS);
		_exit(test__failed);
	}
	waitpid(pid, &st, 0);
	ASSERT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st), "child attached two");
	hook_env_free(env);
	ASSERT_OK(hook_env_new(&opts, &env, &em), "new env");
	ASSERT_EQ(members(CHAIN_XDP, m), 2, "both still there");
	ASSERT_EQ(m[0].priority, 10, "order from the config");
	ASSERT_EQ(hook_reconcile(env, &em), 0, "nothing to clean up");
	add_ok(CHAIN_XDP, 20, XDP_PASS);
	ASSERT_EQ(members(CHAIN_XDP, m), 3, "the new env extended the chain");
	ASSERT_EQ(m[1].priority, 20, "in the middle");
	ASSERT_OK(hook_detach(env, CHAIN_XDP, ifindex, CHAIN_INGRESS, m[0].prog_id, &em),
		  em.msg);
	ASSERT_EQ(members(CHAIN_XDP, m), 2, "removed one made by the old process");
}

/* Crash residue: a dispatcher pinned but never swapped in, and an old one left after
 * the swap, are removed by hook_reconcile(); the live chain stays. */
static void reconcile_residue(void)
{
	struct hook_member_info m[MAXP];
	struct chain_xdp_conf conf;
	struct chain_entry e = { .priority = 1 };
	struct bpf_object *o = NULL;
	struct errmsg em = {};
	char dir[256], path[300];
	uint32_t id;
	int fd;

	setup(true);
	add_ok(CHAIN_XDP, 1, XDP_PASS);
	chain_xdp_conf_fill(&conf, &e, 1);
	ASSERT_OK(disp_load(&xdp_hook_ops, &conf, false, &o, &fd, &em), em.msg);
	kinfo_prog_desc(fd, &id, NULL, 0);
	snprintf(dir, sizeof(dir), "%s/xdp/dispatch-%u-%u", fs, ifindex, id);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/prog0-prog", dir);
	ASSERT_OK(bpf_obj_pin(fd, path), "pin a never-swapped dispatcher");
	bpf_object__close(o);
	snprintf(dir, sizeof(dir), "%s/xdp", fs);
	ASSERT_EQ(count_dirs(dir, "dispatch-"), 2, "residue present");
	ASSERT_EQ(hook_reconcile(env, &em), 1, "one directory removed");
	ASSERT_EQ(count_dirs(dir, "dispatch-"), 1, "live one kept");
	ASSERT_EQ(members(CHAIN_XDP, m), 1, "chain intact");
	send_frames(2);
	ASSERT_EQ(counter(0), 2, "and working");
}

/* 8 processes add and remove programs on one interface at the same time. */
static void concurrent_clients(void)
{
	struct hook_member_info m[MAXP];
	char dir[256];
	pid_t pid[8];
	int i, st, ok = 1;

	setup(true);
	for (i = 0; i < 8; i++) {
		pid[i] = fork();
		if (pid[i])
			continue;
		hook_env_free(env);
		hook_env_new(&opts, &env, NULL);
		nprogs = 0;
		/* everybody adds one, removes it, adds another: at most 8 at once */
		add_ok(CHAIN_XDP, 100 + i, XDP_PASS);
		if (hook_detach(env, CHAIN_XDP, ifindex, CHAIN_INGRESS, progs[0].id, NULL))
			_exit(1);
		add_ok(CHAIN_XDP, 200 + i, XDP_PASS);
		_exit(test__failed);
	}
	for (i = 0; i < 8; i++) {
		waitpid(pid[i], &st, 0);
		ok &= WIFEXITED(st) && !WEXITSTATUS(st);
	}
	ASSERT_TRUE(ok, "every client succeeded");
	ASSERT_EQ(members(CHAIN_XDP, m), 8, "eight left");
	for (i = 0; i < 8; i++)
		ASSERT_EQ(m[i].priority, 200 + i, "in priority order");
	snprintf(dir, sizeof(dir), "%s/xdp", fs);
	ASSERT_EQ(count_dirs(dir, "dispatch-"), 1, "one pin directory");
	for (i = 0; i < 8; i++)
		hook_detach(env, CHAIN_XDP, ifindex, CHAIN_INGRESS, m[i].prog_id, NULL);
	ASSERT_EQ(hook_prog(CHAIN_XDP), 0, "all gone");
	ASSERT_EQ(count_dirs(dir, "dispatch-"), 0, "no pins left over");
}

static void tc_ingress_qdisc_in_the_way(void)
{
	struct errmsg em = {};

	setup(false);
	if (sh("tc qdisc add dev veth0 ingress"))
		test_skip("cannot add an ingress qdisc (sch_ingress missing)");
	ASSERT_EQ(add(CHAIN_TC, 5, TC_ACT_PIPE, NULL, 0, &em), -HOOK_EPRECONDITION,
		  "refused");
	ASSERT_STRSTR(em.msg, "'ingress' qdisc", "says what is in the way");
	ASSERT_STRSTR(em.msg, "tc qdisc del dev veth0 ingress", "and how to remove it");
}

static void tc_foreign_filter_untouched(void)
{
	char out[4096];
	struct errmsg em = {};
	int i;

	setup(false);
	if (sh("tc qdisc add dev veth0 clsact && tc filter add dev veth0 ingress pref 7 "
	       "protocol all matchall action pass"))
		test_skip("cannot add a matchall filter (cls_matchall missing)");
	add_ok(CHAIN_TC, 5, TC_ACT_PIPE);
	if (hook_env_multiprog(env, NULL))
		add_ok(CHAIN_TC, 6, TC_ACT_PIPE);
	for (i = 0; i < nprogs; i++)
		ASSERT_OK(hook_detach(env, CHAIN_TC, ifindex, CHAIN_INGRESS, progs[i].id, &em),
			  em.msg);
	sh_out(out, sizeof(out), "tc filter show dev veth0 ingress");
	ASSERT_STRSTR(out, "matchall", "foreign filter still there");
	ASSERT_EQ(sh("tc qdisc show dev veth0 | grep -q clsact"), 0, "clsact kept for it");
}

/* ---- coexistence with libxdp (xdp-loader) ------------------------------------------ */

static void xdp_loader_interop(void)
{
	char out[8192], cmd[600], id[16];
	struct hook_member_info m[MAXP];
	struct errmsg em = {};
	int a, b, i;

	setup(true);
	if (sh("command -v xdp-loader >/dev/null"))
		test_skip("xdp-loader is not installed (xdp-tools)");
	a = add(CHAIN_XDP, 20, XDP_PASS, (int32_t[]){ XDP_PASS, XDP_DROP }, 2, &em);
	b = add(CHAIN_XDP, 40, XDP_PASS, NULL, 0, &em);
	if (!ASSERT_OK(a | b, em.msg))
		return;
	/* status lists bpfd's programs with priorities and chain actions */
	sh_out(out, sizeof(out), "xdp-loader status veth0 2>&1");
	ASSERT_STRSTR(out, "xdp_dispatcher", "libxdp sees the dispatcher");
	ASSERT_STRSTR(out, "20", "priority 20");
	ASSERT_STRSTR(out, "XDP_DROP,XDP_PASS", "chain actions of the first");
	snprintf(id, sizeof(id), "%u", progs[a].id);
	ASSERT_STRSTR(out, id, "id of the first");
	/* xdp-loader adds its own beside them (native, as bpfd attached on veth) */
	snprintf(cmd, sizeof(cmd), "xdp-loader load -m native -P 30 -n chain_xdp_b veth0 "
		 "%s/chain_xdp.bpf.o 2>&1", testbpf);
	if (!ASSERT_EQ(sh_out(out, sizeof(out), cmd), 0, "xdp-loader load"))
		fprintf(stderr, "%s\n", out);
	ASSERT_EQ(members(CHAIN_XDP, m), 3, "bpfd sees three members");
	ASSERT_EQ(m[0].prog_id, progs[a].id, "bpfd's 20 first");
	ASSERT_STREQ(m[1].name, "chain_xdp_b", "xdp-loader's 30 in the middle");
	ASSERT_EQ(m[1].priority, 30, "with its priority");
	ASSERT_EQ(m[2].prog_id, progs[b].id, "bpfd's 40 last");
	ASSERT_EQ(m[0].proceed_on & 0x1f, (1u << XDP_PASS) | (1u << XDP_DROP),
		  "libxdp kept bpfd's chain actions");
	send_frames(3);
	ASSERT_EQ(counter(a), 3, "first runs");
	ASSERT_EQ(counter(b), 3, "last runs behind the foreign one");
	/* bpfd's next change keeps the foreign member */
	i = add_ok(CHAIN_XDP, 35, XDP_PASS);
	ASSERT_EQ(progs[i].position, 2, "new one after the foreign 30");
	ASSERT_EQ(members(CHAIN_XDP, m), 4, "foreign member kept by bpfd's rebuild");
	ASSERT_STREQ(m[1].name, "chain_xdp_b", "still there");
	ASSERT_OK(hook_detach(env, CHAIN_XDP, ifindex, CHAIN_INGRESS, progs[i].id, &em),
		  em.msg);
	sh_out(out, sizeof(out), "xdp-loader status veth0 2>&1");
	ASSERT_STRSTR(out, "chain_xdp_b", "xdp-loader still lists its program");
	/* xdp-loader unloads its own program: bpfd's stay */
	snprintf(cmd, sizeof(cmd), "xdp-loader unload -i %u veth0 2>&1", m[1].prog_id);
	if (!ASSERT_EQ(sh_out(out, sizeof(out), cmd), 0, "xdp-loader unload"))
		fprintf(stderr, "%s\n", out);
	ASSERT_EQ(members(CHAIN_XDP, m), 2, "bpfd's two remain");
	ASSERT_EQ(m[0].prog_id, progs[a].id, "first");
	ASSERT_EQ(m[1].prog_id, progs[b].id, "second");
	ASSERT_EQ(m[0].priority, 20, "priority kept");
	send_frames(2);
	ASSERT_EQ(counter(b), 5, "chain still runs");
	ASSERT_OK(hook_detach(env, CHAIN_XDP, ifindex, CHAIN_INGRESS, progs[a].id, &em), em.msg);
	ASSERT_OK(hook_detach(env, CHAIN_XDP, ifindex, CHAIN_INGRESS, progs[b].id, &em), em.msg);
	sh_out(out, sizeof(out), "xdp-loader status veth0 2>&1");
	ASSERT_STRSTR(out, "No XDP program loaded", "nothing left for libxdp either");
}

/* ---- TCX ------------------------------------------------------------------------- */

static void tcx_order_and_traffic(void)
{
	static const int32_t prios[] = { 100, 50, 200, 75 };
	struct hook_member_info m[MAXP];
	struct hook_req req = { .kind = CHAIN_TCX, .iface = "veth0" };
	struct hook_result res;
	struct errmsg em = {};
	char root[256];
	int i, v = -1;	/* TCX_NEXT */

	setup(false);
	need_tcx();
	for (i = 0; i < 4; i++) {
		progs[i].o = open_prog("chain_tc.bpf.o", "chain_tc", v);
		req.priority = prios[i];
		if (!ASSERT_OK(attach_req(env, progs[i].o, &req, &res, &em), em.msg))
			return;
		ASSERT_EQ(res.mode, HOOK_MODE_TCX, "tcx mode");
		progs[i].id = res.prog_id;
		nprogs++;
	}
	ASSERT_EQ(members(CHAIN_TCX, m), 4, "four");
	ASSERT_EQ(m[0].prog_id, progs[1].id, "50 first");
	ASSERT_EQ(m[1].prog_id, progs[3].id, "75");
	ASSERT_EQ(m[2].prog_id, progs[0].id, "100");
	ASSERT_EQ(m[3].prog_id, progs[2].id, "200 last");
	ASSERT_TRUE(m[0].have_config && m[0].priority == 50, "priority from the pin");
	send_frames(3);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(counter(i), 3, "all saw the frames (TCX_NEXT)");
	/* a dropping program at 60 hides the frames from 75..200 */
	progs[4].o = open_prog("chain_tc.bpf.o", "chain_tc", 2 /* TCX_DROP */);
	req.priority = 60;
	ASSERT_OK(attach_req(env, progs[4].o, &req, &res, &em), em.msg);
	progs[4].id = res.prog_id;
	nprogs++;
	ASSERT_EQ(res.position, 1, "placed before the 75");
	send_frames(2);
	ASSERT_EQ(counter(1), 5, "50 still counts");
	ASSERT_EQ(counter(4), 2, "60 drops");
	ASSERT_EQ(counter(3), 3, "75 sees nothing more");
	ASSERT_EQ(counter(2), 3, "200 sees nothing more");
	ASSERT_OK(hook_detach(env, CHAIN_TCX, ifindex, CHAIN_INGRESS, progs[4].id, &em), em.msg);
	send_frames(1);
	ASSERT_EQ(counter(2), 4, "200 counts again");
	ASSERT_EQ(members(CHAIN_TCX, m), 4, "four again");
	for (i = 0; i < 4; i++)
		hook_detach(env, CHAIN_TCX, ifindex, CHAIN_INGRESS, progs[i].id, &em);
	ASSERT_EQ(members(CHAIN_TCX, m), 0, "hook empty");
	snprintf(root, sizeof(root), "%s/tcx-ingress", fs);
	ASSERT_EQ(count_dirs(root, "link-"), 0, "no pins left");
}

/* Foreign TCX programs stay where they are; bpfd's go around them by priority. */
static void tcx_foreign_and_reconcile(void)
{
	struct hook_member_info m[MAXP];
	struct hook_req req = { .kind = CHAIN_TCX, .iface = "veth0", .priority = 10 };
	struct hook_result res;
	struct errmsg em = {};
	struct obj *foreign;
	char root[256];
	int lfd;

	setup(false);
	need_tcx();
	foreign = open_prog("chain_tc.bpf.o", "chain_tc", -1);
	bpf_program__set_type(obj_bpf_program(foreign), BPF_PROG_TYPE_SCHED_CLS);
	ASSERT_OK(obj_load(foreign, &em), em.msg);
	lfd = bpf_link_create(obj_prog_fd(foreign), ifindex, 46, NULL);
	ASSERT_OK(lfd, "foreign tcx link");
	progs[0].o = open_prog("chain_tc.bpf.o", "chain_tc", -1);
	ASSERT_OK(attach_req(env, progs[0].o, &req, &res, &em), em.msg);
	ASSERT_EQ(res.position, 0, "bpfd's first alone goes to the head");
	ASSERT_EQ(members(CHAIN_TCX, m), 2, "two on the hook");
	ASSERT_FALSE(m[1].have_config, "foreign one has no bpfd priority");
	ASSERT_EQ(hook_detach(env, CHAIN_TCX, ifindex, CHAIN_INGRESS, m[1].prog_id, &em),
		  -ENOENT, "bpfd does not detach a foreign program");
	/* interface removed: the pin stays until reconcile */
	sh("ip link del veth0");
	snprintf(root, sizeof(root), "%s/tcx-ingress", fs);
	ASSERT_EQ(count_dirs(root, "link-"), 1, "pin left behind");
	ASSERT_EQ(hook_reconcile(env, &em), 1, "reconcile removed it");
	ASSERT_EQ(count_dirs(root, "link-"), 0, "gone");
	close(lfd);
}

static void tcx_absent_is_clear(void)
{
	struct hook_req req = { .kind = CHAIN_TCX, .iface = "veth0", .priority = 1 };
	struct hook_result res;
	struct errmsg em = {};
	struct obj *o;

	setup(false);
	if (!tcx_probe(NULL))
		test_skip("this kernel has TCX (tested by tcx_order_and_traffic)");
	o = open_prog("chain_tc.bpf.o", "chain_tc", -1);
	ASSERT_EQ(attach_req(env, o, &req, &res, &em), -EOPNOTSUPP, "refused");
	ASSERT_STRSTR(em.msg, "6.6", "says which kernel is needed");
}

TEST_MAIN("chain_kernel",
	  TEST(xdp_dispatcher_layout), TEST(xdp_dispatcher_logic), TEST(tc_dispatcher_logic),
	  TEST(xdp_dispatcher_builds),
	  TEST(xdp_direct_fallback), TEST(tc_direct_fallback),
	  TEST(xdp_chain_order), TEST(tc_chain_order), TEST(xdp_chain_ties),
	  TEST(xdp_chain_semantics), TEST(tc_chain_semantics), TEST(xdp_chain_full),
	  TEST(xdp_remove_middle), TEST(tc_remove_middle), TEST(xdp_remove_last),
	  TEST(tc_remove_last), TEST(xdp_demo_traffic), TEST(xdp_mode_skb),
	  TEST(xdp_mode_default_drv), TEST(xdp_mode_fallback_skb), TEST(survives_restart), TEST(reconcile_residue),
	  TEST(concurrent_clients), TEST(tc_ingress_qdisc_in_the_way),
	  TEST(tc_foreign_filter_untouched), TEST(xdp_loader_interop),
	  TEST(tcx_order_and_traffic), TEST(tcx_foreign_and_reconcile),
	  TEST(tcx_absent_is_clear))
