/* SPDX-License-Identifier: Apache-2.0 */
/* test_caps.c - per-thread capabilities (caps.c) and the parsing sandbox (confine.c) */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include "harness.h"
#include "core/base/caps.h"
#include "core/base/confine.h"

static void names(void)
{
	char b[512];

	caps_names(CAPS_DAEMON, b, sizeof(b));
	ASSERT_STREQ(b, "cap_dac_read_search,cap_setgid,cap_setuid,cap_setpcap,cap_net_admin,"
		     "cap_sys_admin,cap_sys_resource,cap_syslog,cap_bpf", "the daemon's set");
	caps_names(0, b, sizeof(b));
	ASSERT_STREQ(b, "none", "empty");
	caps_names(CAPS_BIT(0) | CAPS_BIT(50), b, sizeof(b));
	ASSERT_STREQ(b, "cap_chown,cap_50", "unknown bit");
	ASSERT_EQ(caps_names(CAPS_DAEMON, b, 8), strlen("cap_dac_read_search,cap_setgid,cap_setuid,"
		  "cap_setpcap,cap_net_admin,cap_sys_admin,cap_sys_resource,cap_syslog,cap_bpf"),
		  "needed length");
	ASSERT_STREQ(b, "cap_dac", "truncated");
}

static void get_is_status(void)
{
	struct caps_status st;
	struct caps c;

	if (!ASSERT_OK(caps_get(&c), "caps_get") ||
	    !ASSERT_OK(caps_status_read(0, &st), "caps_status_read"))
		return;
	ASSERT_EQ(c.eff, st.c.eff, "CapEff");
	ASSERT_EQ(c.prm, st.c.prm, "CapPrm");
	ASSERT_EQ(c.inh, st.c.inh, "CapInh");
	ASSERT_NEQ(st.seccomp, -1, "Seccomp: read");
}

static void need_setpcap(void)
{
	struct caps c;

	if (caps_get(&c) || !(c.eff & CAPS_BIT(8)))
		test_skip("needs CAP_SETPCAP (run as root)");
}

struct dropper {
	pid_t tid;
	int err;
	struct caps_status st;
	int regain;
};

static void *drop_thread(void *arg)
{
	struct dropper *d = arg;
	struct caps back = { .eff = CAPS_BIT(8), .prm = CAPS_BIT(8) };

	d->tid = gettid();
	d->err = caps_drop_all();
	if (!d->err)
		d->err = caps_status_read(0, &d->st);
	d->regain = caps_set(&back);
	return NULL;
}

/* capset changes the calling thread only: the others keep theirs */
static void per_thread(void)
{
	struct dropper d = { 0 };
	struct caps before, after;
	pthread_t t;

	need_setpcap();
	if (!ASSERT_OK(caps_get(&before), "caps_get") ||
	    !ASSERT_EQ(pthread_create(&t, NULL, drop_thread, &d), 0, "pthread_create"))
		return;
	pthread_join(t, NULL);
	if (!ASSERT_OK(d.err, "caps_drop_all in the thread"))
		return;
	ASSERT_EQ(d.st.c.eff, 0, "thread CapEff");
	ASSERT_EQ(d.st.c.prm, 0, "thread CapPrm");
	ASSERT_EQ(d.st.c.inh, 0, "thread CapInh");
	ASSERT_EQ(d.st.no_new_privs, 1, "thread NoNewPrivs");
	ASSERT_EQ(d.regain, -EPERM, "a dropped capability does not come back");
	ASSERT_OK(caps_get(&after), "caps_get");
	ASSERT_EQ(after.prm, before.prm, "this thread keeps its CapPrm");
	ASSERT_EQ(after.eff, before.eff, "this thread keeps its CapEff");
}

static void bound_and_limit(void)
{
	struct caps_status st, before;
	struct caps c;

	need_setpcap();
	if (!ASSERT_OK(caps_status_read(0, &before), "status"))
		return;
	if (!ASSERT_OK(caps_bound(CAPS_DAEMON), "caps_bound") ||
	    !ASSERT_OK(caps_limit(CAPS_DAEMON), "caps_limit") ||
	    !ASSERT_OK(caps_status_read(0, &st), "status"))
		return;
	ASSERT_EQ(st.bnd, before.bnd & CAPS_DAEMON, "CapBnd");
	ASSERT_EQ(st.amb, 0, "CapAmb");
	ASSERT_EQ(st.c.prm, before.c.prm & CAPS_DAEMON, "CapPrm");
	ASSERT_EQ(st.c.eff, before.c.prm & CAPS_DAEMON, "CapEff");
	ASSERT_EQ(st.c.inh, 0, "CapInh");
	c = (struct caps){ .eff = CAPS_BIT(0), .prm = CAPS_BIT(0) };	/* cap_chown */
	ASSERT_EQ(caps_set(&c), -EPERM, "cap_chown is gone");
	/* a second call has nothing left to drop */
	ASSERT_OK(caps_bound(CAPS_DAEMON), "caps_bound again");
}

/* Fork; the child confines itself and runs fn; returns its wait status. */
static int confined(void (*fn)(void))
{
	int st = -1;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (confine_parser(-1))
			_exit(4);
		fn();
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return st;
}

static void reads_status(void)
{
	struct caps_status st;

	if (caps_status_read(0, &st))
		_exit(5);
	if (st.c.eff || st.c.prm || st.c.inh || st.no_new_privs != 1 || st.seccomp != 2)
		_exit(6);
}

static void opens_for_writing(void)
{
	open("/dev/null", O_WRONLY);
	_exit(7);
}

static void makes_a_socket(void)
{
	socket(AF_UNIX, SOCK_STREAM, 0);
	_exit(7);
}

static void writes_stdout(void)
{
	if (write(1, "", 0) < 0)
		_exit(8);
	_exit(7);
}

static void writes_stderr(void)
{
	if (write(2, "", 0) < 0)
		_exit(8);
}

static void sandbox(void)
{
	int st;

	st = confined(reads_status);
	ASSERT_TRUE(WIFEXITED(st), "reading a file is allowed");
	ASSERT_EQ(WEXITSTATUS(st), 0, "no capabilities, no_new_privs 1, seccomp 2");
	st = confined(writes_stderr);
	ASSERT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st), "write to stderr is allowed");
	st = confined(opens_for_writing);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "open for writing: SIGSYS");
	st = confined(makes_a_socket);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "socket(): SIGSYS");
	st = confined(writes_stdout);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "write to another fd: SIGSYS");
}

TEST_MAIN("caps", TEST(names), TEST(get_is_status), TEST(per_thread), TEST(bound_and_limit),
	  TEST(sandbox))
