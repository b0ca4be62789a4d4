/* SPDX-License-Identifier: Apache-2.0 */
/* test_policy.c - [[policy]] rules: parsing, name resolution, the decisions (a table),
 * the caller's name, opening a file with a caller's credentials */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "harness.h"
#include "core/base/caller.h"
#include "core/base/open_as.h"
#include "core/config/config.h"
#include "core/config/policy.h"

static const char passwd[] =
	"root:x:0:0:root:/root:/bin/sh\n"
	"alice:x:1000:1000::/home/alice:/bin/sh\n"
	"bob:x:1001:1001::/home/bob:/bin/sh\n"
	"broken:x:abc:1::/:/bin/sh\n";
static const char group[] =
	"root:x:0:\n"
	"bpfd:x:990:carol\n"
	"netops:x:2000:alice,bob\n";

/* Write text to a temporary file; its path into buf. */
static bool tmpfile_with(char *buf, size_t size, const char *text)
{
	int fd;

	snprintf(buf, size, "/tmp/test_policy.XXXXXX");
	fd = mkstemp(buf);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp"))
		return false;
	if (!ASSERT_EQ(write(fd, text, strlen(text)), (long long)strlen(text), "write")) {
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

/* Parse text as bpfd.toml and resolve its rules against the files above. */
static int load(struct bpfd_config *cfg, const char *text, struct errmsg *em)
{
	char pw[64], gr[64];
	int err;

	config_defaults(cfg);
	memset(em, 0, sizeof(*em));
	err = config_parse(cfg, text, strlen(text), em);
	if (err)
		return err;
	if (!tmpfile_with(pw, sizeof(pw), passwd) || !tmpfile_with(gr, sizeof(gr), group))
		return -EIO;
	err = policy_resolve(&cfg->policy, pw, gr, cfg->socket_group, em);
	unlink(pw);
	unlink(gr);
	return err;
}

static struct caller unix_caller(uint32_t uid, uint32_t gid, uint32_t group2, const char *name)
{
	struct caller c = { .kind = CALLER_UNIX, .uid = uid, .gid = gid, .pid = 1 };

	if (group2)
		c.groups[c.n_groups++] = group2;
	snprintf(c.name, sizeof(c.name), "%s", name);
	return c;
}

static struct caller tls_caller(const char *cn, const char *san)
{
	struct caller c = { .kind = CALLER_TLS };

	snprintf(c.cn, sizeof(c.cn), "%s", cn);
	if (san)
		snprintf(c.sans[c.n_sans++], sizeof(c.sans[0]), "%s", san);
	snprintf(c.name, sizeof(c.name), "cn=%s", cn);
	return c;
}

static const char rules[] =
	"[[policy]]\n"				/* line 1: #1 */
	"user = \"alice\"\n"
	"kinds = [\"tracepoint\", \"tcx\"]\n"
	"interfaces = [\"veth0\", \"veth1\"]\n"
	"priority_min = 500\n"
	"priority_max = 1000\n"
	"max_programs = 2\n"
	"\n"
	"[[policy]]\n"				/* line 9: #2 */
	"group = \"netops\"\n"
	"read_only = true\n"
	"\n"
	"[[policy]]\n"				/* line 13: #3 */
	"client_cn = \"ops-client\"\n"
	"kinds = [\"xdp\", \"kprobe\"]\n"
	"interfaces = [\"*\"]\n"
	"\n"
	"[[policy]]\n"				/* line 18: #4 */
	"uid = 1005\n"
	"kinds = []\n";

struct decision {
	const char *caller;	/* alice bob carol root dave cn:NAME san:NAME */
	enum policy_op op;
	enum obj_kind kind;	/* OBJ_KIND_UNKNOWN with op WRITE: no target */
	const char *iface;
	int32_t priority;
	int want;		/* 0 or -EPERM */
	const char *msg;	/* substring of the message */
	uint32_t limit;		/* max_programs the decision reports */
};

static const struct decision table[] = {
	/* root: everything, rules or not */
	{ "root", POLICY_WRITE, OBJ_KIND_XDP, "eth0", 1, 0, NULL, 0 },
	/* alice, rule #1 */
	{ "alice", POLICY_READ, 0, NULL, 0, 0, NULL, 0 },
	{ "alice", POLICY_WRITE, OBJ_KIND_TRACEPOINT, NULL, 0, 0, NULL, 2 },
	{ "alice", POLICY_WRITE, OBJ_KIND_TCX, "veth1", 500, 0, NULL, 2 },
	{ "alice", POLICY_WRITE, OBJ_KIND_TCX, "veth1", 1000, 0, NULL, 2 },
	{ "alice", POLICY_WRITE, OBJ_KIND_XDP, "veth0", 600, -EPERM,
	  "uid=1000(alice) may not do it: kind xdp is not in the kinds [[policy]] #1 (line 1) allows (tcx, tracepoint)", 0 },
	{ "alice", POLICY_WRITE, OBJ_KIND_TCX, "veth0", 499, -EPERM,
	  "priority 499 is outside what [[policy]] #1 (line 1) allows (500 to 1000)", 0 },
	{ "alice", POLICY_WRITE, OBJ_KIND_TCX, "veth0", 1001, -EPERM, "priority 1001", 0 },
	{ "alice", POLICY_WRITE, OBJ_KIND_TCX, "eth0", 600, -EPERM,
	  "interface 'eth0' is not in the interfaces [[policy]] #1 (line 1) allows (veth0, veth1)", 0 },
	/* bob: only through group netops, read-only */
	{ "bob", POLICY_READ, 0, NULL, 0, 0, NULL, 0 },
	{ "bob", POLICY_WRITE, OBJ_KIND_UNKNOWN, NULL, 0, -EPERM,
	  "uid=1001(bob) may not do it: [[policy]] #2 (line 9) is read_only", 0 },
	{ "bob", POLICY_WRITE, OBJ_KIND_TRACEPOINT, NULL, 0, -EPERM, "is read_only", 0 },
	/* alice is in netops too: the first rule that matches decides */
	{ "alice+netops", POLICY_WRITE, OBJ_KIND_TRACEPOINT, NULL, 0, 0, NULL, 2 },
	/* carol (in bpfd, the socket's group) has no rule: with rules, denied */
	{ "carol", POLICY_READ, 0, NULL, 0, -EPERM,
	  "uid=1002(carol) may not do it: none of the 4 [[policy]] rules matches it", 0 },
	/* TLS clients: CN or DNS SAN */
	{ "cn:ops-client", POLICY_WRITE, OBJ_KIND_XDP, "eth7", 3, 0, NULL, 0 },
	{ "cn:ops-client", POLICY_WRITE, OBJ_KIND_KRETPROBE, NULL, 0, 0, NULL, 0 },
	{ "cn:ops-client", POLICY_WRITE, OBJ_KIND_TC, "eth7", 3, -EPERM, "kind tc is not in the kinds [[policy]] #3 (line 13) allows (xdp, kprobe)", 0 },
	{ "san:ops-client", POLICY_WRITE, OBJ_KIND_XDP, "eth7", 3, 0, NULL, 0 },
	{ "cn:other", POLICY_READ, 0, NULL, 0, -EPERM, "cn=other may not do it: none of", 0 },
	/* a unix caller never matches client_cn, a TLS one never uid */
	{ "dave", POLICY_READ, 0, NULL, 0, -EPERM, "none of the 4", 0 },
	/* kinds = []: nothing to load, reads and calls without a program fine */
	{ "uid1005", POLICY_READ, 0, NULL, 0, 0, NULL, 0 },
	{ "uid1005", POLICY_WRITE, OBJ_KIND_UNKNOWN, NULL, 0, 0, NULL, 0 },
	{ "uid1005", POLICY_WRITE, OBJ_KIND_TRACEPOINT, NULL, 0, -EPERM, "allows (no kind)", 0 },
	/* the caller's kind cannot be told */
	{ "unknown", POLICY_READ, 0, NULL, 0, -EPERM, "bpfd cannot tell who it is", 0 },
};

static struct caller named(const char *who)
{
	struct caller c = { 0 };

	if (!strcmp(who, "root"))
		return unix_caller(0, 0, 0, "uid=0(root)");
	if (!strcmp(who, "alice"))
		return unix_caller(1000, 1000, 0, "uid=1000(alice)");
	if (!strcmp(who, "alice+netops"))
		return unix_caller(1000, 1000, 2000, "uid=1000(alice)");
	if (!strcmp(who, "bob"))
		return unix_caller(1001, 1001, 2000, "uid=1001(bob)");
	if (!strcmp(who, "carol"))
		return unix_caller(1002, 1002, 990, "uid=1002(carol)");
	if (!strcmp(who, "dave"))
		return unix_caller(1003, 1003, 0, "uid=1003(dave)");
	if (!strcmp(who, "uid1005"))
		return unix_caller(1005, 100, 0, "uid=1005");
	if (!strncmp(who, "cn:", 3))
		return tls_caller(who + 3, NULL);
	if (!strncmp(who, "san:", 4))
		return tls_caller("something-else", who + 4);
	snprintf(c.name, sizeof(c.name), "unknown caller");
	return c;
}

static void decisions(void)
{
	struct bpfd_config *cfg = malloc(sizeof(*cfg));
	const struct decision *d;
	struct policy_target t;
	struct errmsg em;
	struct caller c;
	char what[512];
	uint32_t limit;
	size_t i;
	int err;

	if (!ASSERT_OK(load(cfg, rules, &em), em.msg))
		goto out;
	ASSERT_EQ(cfg->policy.n_rules, 4, "rules");
	ASSERT_EQ(cfg->policy.rules[0].uid, 1000, "alice resolved");
	ASSERT_EQ(cfg->policy.rules[1].gid, 2000, "netops resolved");
	ASSERT_TRUE(cfg->policy.has_admin_gid && cfg->policy.admin_gid == 990, "bpfd group");
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		d = &table[i];
		c = named(d->caller);
		t = (struct policy_target){ .kind = d->kind, .iface = d->iface,
					    .priority = d->priority };
		memset(&em, 0, sizeof(em));
		limit = 99;
		err = policy_check(&cfg->policy, &c, d->op, "do it",
				   d->kind == OBJ_KIND_UNKNOWN ? NULL : &t, &limit, &em);
		snprintf(what, sizeof(what), "row %zu (%s): %.400s", i, d->caller, em.msg);
		ASSERT_EQ(err, d->want, what);
		if (d->msg)
			ASSERT_STRSTR(em.msg, d->msg, what);
		if (!err)
			ASSERT_EQ(limit, d->limit, what);
	}
	/* max_programs: alice holds 1, then 2 of 2 */
	c = named("alice");
	memset(&em, 0, sizeof(em));
	ASSERT_OK(policy_check_count(&cfg->policy, &c, 1, 2, &em), "1 of 2");
	ASSERT_EQ(policy_check_count(&cfg->policy, &c, 2, 2, &em), -EPERM, "2 of 2");
	ASSERT_STRSTR(em.msg, "uid=1000(alice) may not load another program: it holds 2, and [[policy]] #1 (line 1) allows at most 2 (max_programs)",
		      "max_programs message");
out:
	free(cfg);
}

/* Without rules: root, the socket's group and TLS clients; nobody else. */
static void no_rules(void)
{
	struct bpfd_config *cfg = malloc(sizeof(*cfg));
	struct errmsg em;
	struct caller c;

	if (!ASSERT_OK(load(cfg, "", &em), em.msg))
		goto out;
	c = named("root");
	ASSERT_OK(policy_check(&cfg->policy, &c, POLICY_WRITE, "x", NULL, NULL, &em), "root");
	c = named("carol");
	ASSERT_OK(policy_check(&cfg->policy, &c, POLICY_WRITE, "x", NULL, NULL, &em), "bpfd member");
	c = named("cn:anyone");
	ASSERT_OK(policy_check(&cfg->policy, &c, POLICY_WRITE, "x", NULL, NULL, &em), "TLS");
	ASSERT_FALSE(policy_restricts(&cfg->policy, &c), "no rules restrict");
	c = named("alice");
	ASSERT_EQ(policy_check(&cfg->policy, &c, POLICY_READ, "call List", NULL, NULL, &em), -EPERM,
		  "alice");
	ASSERT_STREQ(em.msg, "uid=1000(alice) may not call List: it is neither root nor in group 'bpfd', and no [[policy]] rule grants anything (see bpfd.toml)",
		     "message");
	/* another socket group, one that does not exist */
	if (!ASSERT_OK(load(cfg, "[[grpc.endpoints]]\ntype = \"unix\"\ngroup = \"nosuch\"\n", &em),
		       em.msg))
		goto out;
	ASSERT_FALSE(cfg->policy.has_admin_gid, "no such group");
	c = named("carol");
	ASSERT_EQ(policy_check(&cfg->policy, &c, POLICY_READ, "x", NULL, NULL, &em), -EPERM,
		  "carol not in 'nosuch'");
out:
	free(cfg);
}

struct bad {
	const char *text;
	const char *msg;
};

static const struct bad bad_rules[] = {
	{ "[[policy]]\nkinds = [\"xdp\"]\n",
	  "line 1, column 1: [[policy]] #1 matches nobody: give user, uid, group, gid (unix socket callers) or client_cn (TCP clients)" },
	{ "[[policy]]\nuser = \"alice\"\nuid = 1\n",
	  "line 3, column 1: [[policy]] #1: give user or uid, not both" },
	{ "[[policy]]\ngroup = \"a\"\ngid = 1\n", "give group or gid, not both" },
	{ "[[policy]]\nuser = \"alice\"\nclient_cn = \"x\"\n",
	  "line 3, column 1: [[policy]] #1: client_cn matches TCP clients and user/uid/group/gid unix socket callers; no caller is both: write two rules" },
	{ "[[policy]]\nuser = \"alice\"\nread_only = true\nkinds = [\"xdp\"]\n",
	  "line 3, column 1: [[policy]] #1: read_only = true allows List and Get only" },
	{ "[[policy]]\nuser = \"alice\"\nkinds = [\"socket\"]\n",
	  "line 3, column 10: kind 'socket' is not one of xdp, tc, tcx, tracepoint, kprobe, uprobe, fentry, fexit" },
	{ "[[policy]]\nuser = \"alice\"\nkinds = [1]\n", "'kinds' holds strings, not an integer" },
	{ "[[policy]]\nuser = \"alice\"\nkinds = \"xdp\"\n",
	  "'kinds' in [[policy]] #1 must be an array, not a string" },
	{ "[[policy]]\nuser = \"alice\"\ninterfaces = [\"a/b\"]\n",
	  "'a/b' is not an interface name (1-15 bytes, no '/', ':' or whitespace) or \"*\" (any)" },
	{ "[[policy]]\nuser = \"alice\"\npriority_min = 10\npriority_max = 5\n",
	  "line 4, column 16: [[policy]] #1: priority_max 5 is below priority_min 10" },
	{ "[[policy]]\nuser = \"alice\"\npriority_min = -1\n", "priority_min -1 is out of range" },
	{ "[[policy]]\nuser = \"alice\"\nmax_programs = 0\n", "max_programs 0 is out of range" },
	{ "[[policy]]\nuser = \"al ice\"\n", "user 'al ice' is not a user name" },
	{ "[[policy]]\nuid = -5\n", "uid -5 is out of range" },
	{ "[[policy]]\nuid = 4294967295\n", "uid 4294967295 is out of range" },
	{ "[[policy]]\nuser = \"alice\"\nwho = 1\n",
	  "unknown key 'who' in [[policy]] #1 (known: user, uid, group, gid, client_cn, kinds, interfaces, priority_min, priority_max, max_programs, read_only)" },
	{ "[policy]\nuser = \"alice\"\n",
	  "'policy' at the top level must be an array of tables, not a table" },
	{ "[[grpc.endpoints]]\ntype = \"unix\"\nmode = 0o1777\n",
	  "socket mode 01777 is not a permission mode: give 0o600 to 0o777, e.g. mode = 0o660" },
	{ "[[grpc.endpoints]]\ntype = \"unix\"\ngroup = \"a:b\"\n", "socket group 'a:b' is not a group name" },
	{ "[[grpc.endpoints]]\ntype = \"tcp\"\nmode = 0o600\n",
	  "'mode' belongs to unix endpoints; a tcp endpoint has address, port and enabled" },
};

static void parse_errors(void)
{
	struct bpfd_config *cfg = malloc(sizeof(*cfg));
	struct errmsg em;
	size_t i;
	char what[96];

	for (i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
		config_defaults(cfg);
		memset(&em, 0, sizeof(em));
		snprintf(what, sizeof(what), "bad text %zu", i);
		ASSERT_EQ(config_parse(cfg, bad_rules[i].text, strlen(bad_rules[i].text), &em),
			  -EINVAL, what);
		ASSERT_STRSTR(em.msg, bad_rules[i].msg, what);
		ASSERT_EQ(cfg->policy.n_rules, 0, "nothing kept");
	}
	free(cfg);
}

static void good_keys(void)
{
	struct bpfd_config *cfg = malloc(sizeof(*cfg));
	struct errmsg em;

	if (!ASSERT_OK(load(cfg, "[[grpc.endpoints]]\ntype = \"unix\"\nmode = 0o666\ngroup = \"netops\"\n"
			   "[[policy]]\ngid = 7\nmax_programs = 3\n", &em), em.msg))
		goto out;
	ASSERT_EQ(cfg->socket_mode, 0666, "mode");
	ASSERT_STREQ(cfg->socket_group, "netops", "group");
	ASSERT_TRUE(cfg->socket_group_set, "group given");
	ASSERT_TRUE(cfg->policy.has_admin_gid && cfg->policy.admin_gid == 2000, "admin gid");
	ASSERT_TRUE(cfg->policy.rules[0].has_gid && cfg->policy.rules[0].gid == 7, "gid");
	ASSERT_EQ(cfg->policy.rules[0].line, 5, "line");
	/* defaults */
	config_defaults(cfg);
	ASSERT_EQ(cfg->socket_mode, 0660, "default mode");
	ASSERT_FALSE(cfg->socket_group_set, "default group not given");
	/* a user that is not in passwd */
	ASSERT_EQ(load(cfg, "[[policy]]\nuser = \"mallory\"\n", &em), -ENOENT, "unknown user");
	ASSERT_STRSTR(em.msg, "[[policy]] #1 (line 1): user 'mallory' is not in /tmp/test_policy.",
		      "unknown user message");
	ASSERT_STRSTR(em.msg, ": create the user or give uid = N", "unknown user fix");
	ASSERT_EQ(load(cfg, "[[policy]]\nuser = \"root\"\n[[policy]]\ngroup = \"wheel\"\n", &em),
		  -ENOENT, "unknown group");
	ASSERT_STRSTR(em.msg, "[[policy]] #2 (line 3): group 'wheel' is not in", "group message");
out:
	free(cfg);
}

static void names(void)
{
	struct caller c = { .kind = CALLER_UNIX, .uid = 1001 };
	char pw[64], buf[64];
	uint32_t id;

	if (!tmpfile_with(pw, sizeof(pw), passwd))
		return;
	caller_set_name(&c, pw);
	ASSERT_STREQ(c.name, "uid=1001(bob)", "known uid");
	c.uid = 4242;
	caller_set_name(&c, pw);
	ASSERT_STREQ(c.name, "uid=4242", "unknown uid");
	ASSERT_EQ(ident_user_uid(pw, "broken", &id), -ENOENT, "non-numeric uid");
	ASSERT_EQ(ident_user_uid(pw, "ali", &id), -ENOENT, "prefix");
	ASSERT_OK(ident_user_name(pw, 0, buf, sizeof(buf)), "uid 0");
	ASSERT_STREQ(buf, "root", "uid 0 name");
	ASSERT_EQ(ident_user_uid("/nonexistent/passwd", "root", &id), -ENOENT, "no file");
	c = tls_caller("client1", "client1.example");
	caller_set_name(&c, pw);
	ASSERT_STREQ(c.name, "cn=client1", "cn");
	ASSERT_TRUE(caller_has_cert_name(&c, "client1.example"), "SAN");
	ASSERT_FALSE(caller_has_cert_name(&c, ""), "empty name");
	ASSERT_FALSE(caller_in_group(&c, 0), "TLS callers have no groups");
	c = (struct caller){ 0 };
	caller_set_name(&c, pw);
	ASSERT_STREQ(c.name, "unknown caller", "unknown");
	unlink(pw);
}

/* open_as() as root: the file is opened with the user's rights, not root's. */
static void open_with_credentials(void)
{
	struct open_cred nobody = { .uid = 65534, .gid = 65534 };
	char path[64], buf[8] = "";
	int fd;

	if (geteuid())
		test_skip("needs root (setresuid)");
	if (!tmpfile_with(path, sizeof(path), "secret"))
		return;
	chmod(path, 0600);
	ASSERT_EQ(open_as(&nobody, path, 5000), -EACCES, "0600 root file");
	chmod(path, 0644);
	fd = open_as(&nobody, path, 5000);
	if (ASSERT_TRUE(fd >= 0, "0644 file")) {
		ASSERT_EQ(read(fd, buf, 6), 6, "read");
		ASSERT_STREQ(buf, "secret", "content");
		ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC, "cloexec");
		close(fd);
	}
	/* a group the user is in opens a 0640 file of that group */
	chmod(path, 0640);
	if (!chown(path, 0, 4242)) {
		uint32_t g = 4242;
		struct open_cred member = { .uid = 65534, .gid = 65534, .groups = &g,
					    .n_groups = 1 };

		fd = open_as(&member, path, 5000);
		ASSERT_TRUE(fd >= 0, "group member");
		if (fd >= 0)
			close(fd);
		ASSERT_EQ(open_as(&nobody, path, 5000), -EACCES, "not a member");
	}
	ASSERT_EQ(open_as(&nobody, "/nonexistent/x.o", 5000), -ENOENT, "missing");
	unlink(path);
}

TEST_MAIN("policy",
	  TEST(decisions),
	  TEST(no_rules),
	  TEST(parse_errors),
	  TEST(good_keys),
	  TEST(names),
	  TEST(open_with_credentials))
