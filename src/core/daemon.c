/* SPDX-License-Identifier: Apache-2.0 */
/* daemon.c - start-up (rlimit, run dir and its lock, bpffs, manager, certificates, endpoints),
 * the event loop, shutdown */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bpf/probe.h"
#include "core/daemon.h"
#include "core/base/caps.h"
#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/exec.h"
#include "core/progd.h"
#include "core/metrics.h"
#include "core/state/manager.h"
#include "core/rpc.h"
#include "core/rpc_exec.h"
#include "core/monitor.h"
#include "core/events.h"
#include "core/base/event.h"
#include "core/wire/certgen.h"
#include "core/wire/server.h"
#include "core/wire/tls.h"

/* Events the bus holds for the front between two of its rounds. */
#define DAEMON_EVENT_BUS	4096

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char msg[] = "READY=1";
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')	/* abstract namespace */
		sa.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		log_warn("Failed to notify systemd at '%s': %s, continuing", path, strerror(errno));
	close(fd);
}

/* The PID of the process holding the lock on fd (from the kernel, else the file). */
static pid_t lock_owner(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char buf[32] = "";
	ssize_t n;

	if (!fcntl(fd, F_GETLK, &fl) && fl.l_type != F_UNLCK && fl.l_pid > 0)
		return fl.l_pid;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0)
		buf[n] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

/* One daemon per run directory: a write lock on <rundir>/bpfd.lock, held for the
 * daemon's life, with its PID in the file.  The kernel drops a POSIX lock when its
 * process dies, so a lock left by a killed daemon does not block the next start.
 * Returns the locked fd (kept open, never closed: closing any fd of the file would
 * drop the lock), or -1 with the reason logged. */
static int lock_rundir(const char *rundir)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX], pid[24];
	int fd, len;
	pid_t other;

	if (snprintf(path, sizeof(path), "%s/bpfd.lock", rundir) >= (int)sizeof(path)) {
		log_err("The run directory path '%s' is too long", rundir);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		log_errno(LOG_ERR, -errno, "Failed to open the lock file '%s'", path);
		return -1;
	}
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		if (errno != EACCES && errno != EAGAIN) {
			log_errno(LOG_ERR, -errno, "Failed to lock '%s'", path);
		} else {
			other = lock_owner(fd);
			log_err("Another bpfd (pid %d) is running on the run directory '%s' (it holds '%s'): stop it first, or give this daemon another --rundir",
				(int)other, rundir, path);
		}
		close(fd);
		return -1;
	}
	len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, len, 0) != len)
		log_warn("Failed to write the PID to '%s': %s, continuing", path, strerror(errno));
	return fd;
}

/*
 * What the start-up probe depends on: the kernel boot (its features do not change
 * until the next boot) and this very binary (a new bpfd may probe more).  "" if
 * either cannot be read: then nothing is cached.
 */
static void probe_cache_key(char *key, size_t len)
{
	char boot[64] = "";
	struct stat st;
	FILE *f;

	key[0] = '\0';
	f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (!f)
		return;
	if (!fgets(boot, sizeof(boot), f))
		boot[0] = '\0';
	fclose(f);
	boot[strcspn(boot, "\n")] = '\0';
	if (!boot[0] || stat("/proc/self/exe", &st) < 0)
		return;
	snprintf(key, len, "boot %s bpfd %s exe %lld.%09ld %lld", boot, BPFD_VERSION,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_size);
}

/* The cached summary when its first line is key, else -ENOENT. */
static int probe_cache_read(const char *path, const char *key, char *line, size_t len)
{
	char first[256];
	int err = -ENOENT;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	if (fgets(first, sizeof(first), f) && !strncmp(first, key, strlen(key)) &&
	    first[strlen(key)] == '\n' && fgets(line, len, f)) {
		line[strcspn(line, "\n")] = '\0';
		err = line[0] ? 0 : -ENOENT;
	}
	fclose(f);
	return err;
}

/* Write key and line to path through a temporary file and a rename. */
static void probe_cache_write(const char *path, const char *key, const char *line)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return;
	f = fopen(tmp, "we");
	if (!f)
		goto fail;
	fprintf(f, "%s\n%s\n", key, line);
	if (fclose(f) || rename(tmp, path) < 0)
		goto fail;
	return;
fail:
	log_info("Failed to cache the kernel probe in '%s': %s, continuing", path, strerror(errno));
	unlink(tmp);
}

/*
 * The same probe as `bpfd --probe`, summarised in one log line.  It takes a third
 * of a second (it loads and runs a program of every kind), so its line is cached
 * in the run dir (a tmpfs: gone at the next boot) for the starts that follow in
 * the same boot of the same binary.
 */
static void log_probe(const char *rundir)
{
	struct probe_result *r = NULL;
	char line[1024], key[256], path[PATH_MAX];
	int err;

	probe_cache_key(key, sizeof(key));
	if (snprintf(path, sizeof(path), "%s/probe.cache", rundir) >= (int)sizeof(path))
		key[0] = '\0';
	if (key[0] && !probe_cache_read(path, key, line, sizeof(line))) {
		log_info("Kernel features (probed earlier in this boot): %s", line);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return;
	err = probe_run(r);
	if (err) {
		log_errno(LOG_WARNING, err, "Failed to probe the kernel's BPF features, continuing");
	} else {
		probe_summary(r, line, sizeof(line));
		log_info("Kernel features: %s", line);
		if (key[0])
			probe_cache_write(path, key, line);
	}
	free(r);
}

static int stop_signals(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	/* An ignored signal is dropped before signalfd() sees it: a shell starts
	 * background jobs with SIGINT ignored. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* SIGHUP: re-read programs.d (server_on_hup()) */
	sigaddset(&set, SIGHUP);
	/* blocked before any thread exists, so every thread has them blocked and the
	 * front's signalfd gets them */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int tls_setup(const struct bpfd_config *cfg, struct tls_ctx **ret)
{
	char ca[512], cert[512], key[512];
	struct errmsg em = { "" };
	bool set;
	int err;

	/* Files named in [tls] are used as they are: nothing is generated then. */
	set = config_tls_file(cfg, CONFIG_TLS_CA, ca, sizeof(ca));
	set |= config_tls_file(cfg, CONFIG_TLS_CERT, cert, sizeof(cert));
	set |= config_tls_file(cfg, CONFIG_TLS_KEY, key, sizeof(key));
	err = set ? 0 : certgen_ensure(cfg->certs_dir, NULL, &em);
	if (err) {
		log_err("%s", em.msg);
		return err;
	}
	err = tls_server_new(ca, cert, key, &em, ret);
	if (err)
		log_err("%s", em.msg);
	return err;
}

/* The [[policy]] rules' names as ids, and who may do what, in the log. */
static int policy_setup(struct bpfd_config *cfg)
{
	struct policy *p = &cfg->policy;
	struct errmsg em = { "" };
	int err;

	err = policy_resolve(p, "/etc/passwd", "/etc/group",
			     cfg->unix_enabled ? cfg->socket_group : "", &em);
	if (err) {
		log_err("%s", em.msg);
		return err;
	}
	if (p->n_rules)
		log_info("Policy: %zu [[policy]] rule%s; root may do everything, other callers what the first rule matching them grants",
			 p->n_rules, p->n_rules == 1 ? "" : "s");
	else if (p->has_admin_gid)
		log_info("Policy: no [[policy]] rules: root, group '%s' and TCP clients with a valid certificate may do everything",
			 p->admin_group);
	else
		log_info("Policy: no [[policy]] rules: root and TCP clients with a valid certificate may do everything");
	return 0;
}

static void log_thread_caps(const char *who, pid_t tid, uint64_t caps)
{
	char names[512];

	caps_names(caps, names, sizeof(names));
	if (caps)
		log_info("%s thread %d: %s", who, tid, names);
	else
		log_info("%s thread %d: no capabilities", who, tid);
}

/*
 * Split the daemon in two (DEVELOPERS.md, "Privilege separation"): start the
 * kernel executor, which keeps the capabilities of CAPS_DAEMON, and drop every
 * capability of this thread, the front, which then reads what clients send.
 */
static int privsep(struct exec **ret)
{
	struct caps got, front;
	int err;

	err = caps_bound(CAPS_DAEMON);
	if (!err)
		err = caps_limit(CAPS_DAEMON);
	if (err)
		return log_errno(LOG_ERR, err,
				 "Failed to limit the capabilities to the daemon's set");
	err = exec_start(CAPS_DAEMON, ret, &got);
	if (err)
		return log_errno(LOG_ERR, err, "Failed to start the kernel executor thread");
	if (got.prm != CAPS_DAEMON) {
		char miss[512];

		caps_names(CAPS_DAEMON & ~got.prm, miss, sizeof(miss));
		log_warn("The kernel executor runs without %s (not granted to bpfd): what "
			 "needs it will fail; dist/bpfd.service lists the set bpfd needs", miss);
	}
	err = caps_drop_all();
	if (!err)
		err = caps_get(&front);
	if (!err && (front.eff || front.prm || front.inh))
		err = -EPERM;
	if (err) {
		exec_stop(*ret);
		*ret = NULL;
		return log_errno(LOG_ERR, err,
				 "Failed to drop the capabilities of the front thread");
	}
	log_thread_caps("front", gettid(), 0);
	log_thread_caps("kernel executor", exec_tid(*ret), got.eff);
	return 0;
}

/* programs.d through the calls of k (the kernel executor), at start and on SIGHUP. */
static void programs_sync(const struct bpfd_config *cfg, const struct rpc_kernel *k,
			  const char *why)
{
	struct progd_report rep = { 0 };
	struct progd_ops ops;
	int err;

	rpc_progd_ops(k, &ops);
	err = progd_sync(cfg->programs_dir, &ops, (void *)k, &rep);
	progd_report_log(&rep, why);
	if (err)
		log_errno(LOG_ERR, err, "Failed to read the programs of %s", cfg->programs_dir);
	progd_report_free(&rep);
}

struct hup_ctx {
	const struct bpfd_config *cfg;
	struct rpc_kernel *kern;
	struct rpc_exec *rx;
};

static void on_hup(void *arg)
{
	struct hup_ctx *h = arg;

	log_info("Received SIGHUP: re-reading %s", h->cfg->programs_dir);
	h->rx->peer = "programs.d (SIGHUP)";	/* the caller of its events */
	programs_sync(h->cfg, h->kern, "SIGHUP");
	h->rx->peer = NULL;
}

static int mgr_free_job(void *arg)
{
	mgr_free(arg);
	return 0;
}

static int mgr_unload_all_job(void *arg)
{
	return mgr_unload_all(arg);
}

/* A worker thread whose answers the front's loop completes: 0 or -errno (logged). */
static int start_worker(struct server *srv, const char *name, struct rpc_pulls **ret)
{
	int err = rpc_pulls_start(ret);

	if (err) {
		log_errno(LOG_ERR, err, "Failed to start the %s thread", name);
		return err;
	}
	return server_on_wake(srv, rpc_pulls_fd(*ret), rpc_pulls_wake, *ret);
}

int daemon_run(struct bpfd_config *cfg)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct errmsg em = { "" };
	struct tls_ctx *tls = NULL;
	struct server *srv = NULL;
	struct metrics *metrics = NULL;
	struct rpc_pulls *pulls = NULL, *walker = NULL;
	struct rpc_exec rx = { 0 };
	struct rpc_images img;
	bool have_img = false;
	struct rpc_kernel kern;
	struct hup_ctx hup;
	struct exec *ex = NULL;
	struct mgr *mgr = NULL;
	struct events_hub *hub = NULL;
	struct monitor *mon = NULL;
	struct rpc rpc;
	int stop_fd = -1, lock_fd = -1, bus_fd = -1, err, rc = EXIT_FAILURE;

	rpc_exec_stats_init(&rx, cfg->stats_mode, cfg->stats_grace);
	log_info("bpfd %s starting (pid %d)", BPFD_VERSION, getpid());
	/* nothing beyond the daemon's set can come back through execve(), in any
	 * thread or child created from here on; CAP_CHOWN (the socket's group)
	 * goes in privsep() */
	err = caps_bound(CAPS_DAEMON | CAPS_STARTUP);
	if (err) {
		log_errno(LOG_ERR, err, "Failed to drop the capabilities bpfd does not need from "
			  "the bounding set (it needs CAP_SETPCAP)");
		goto out;
	}
	/* Kernels >= 5.11 charge BPF memory to the cgroup and ignore the limit. */
	if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		log_info("Failed to lift RLIMIT_MEMLOCK: %s, continuing (only kernels before 5.11 "
			 "need it for BPF maps)", strerror(errno));
	/* one fd per client connection: take what the hard limit allows */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	err = fs_mkdir_p(cfg->rundir, 0755);
	if (err) {
		log_errno(LOG_ERR, err, "Failed to create the run directory '%s'", cfg->rundir);
		goto out;
	}
	lock_fd = lock_rundir(cfg->rundir);
	if (lock_fd < 0)
		goto out;
	err = fs_bpffs_mount(cfg->bpffs, &em);
	if (err) {
		log_err("%s", em.msg);
		goto out;
	}
	log_probe(cfg->rundir);
	stop_fd = stop_signals();
	if (stop_fd < 0) {
		log_errno(LOG_ERR, stop_fd, "Failed to set up signal handling");
		goto out;
	}
	err = mgr_new(cfg, &mgr, &em);
	if (err) {
		log_err("Failed to start the program manager: %s",
			em.msg[0] ? em.msg : strerror(-err));
		goto out;
	}
	rx.inner = (struct rpc_kernel){ .ops = &rpc_mgr_kernel_ops, .ctx = mgr };
	if (cfg->tcp_enabled && tls_setup(cfg, &tls))
		goto out;
	if (policy_setup(cfg))
		goto out;
	/* the image store is opened (created) here, with the capabilities; the
	 * front reads and writes it later as the owner of its folders */
	em.msg[0] = '\0';
	err = rpc_images_init(&img, cfg, NULL, &em);
	if (err)
		log_warn("Bytecode images are not available: %s", em.msg[0] ? em.msg :
			 strerror(-err));
	have_img = !err;
	kern = (struct rpc_kernel){ .ops = &rpc_exec_ops, .ctx = &rx,
				    .programs_dir = cfg->programs_dir,
				    .img = have_img ? &img : NULL };
	bus_fd = event_bus_init(DAEMON_EVENT_BUS);
	err = bus_fd < 0 ? bus_fd : events_hub_new(cfg->event_queue, cfg->event_readers, &hub);
	if (err) {
		log_errno(LOG_ERR, err, "Failed to set up the event stream");
		goto out;
	}
	rpc = (struct rpc){ .ops = &rpc_kernel_ops, .ctx = &kern, .hub = hub,
			     .policy = &cfg->policy };
	err = server_new(cfg, tls, rpc_exec_handle, &rpc, &em, &srv);
	if (err) {
		log_err("%s", em.msg);
		goto out;
	}
	server_set_source(srv, bus_fd, events_hub_run, hub);
	if (cfg->metrics_enabled && metrics_new(cfg, &rx, &em, &metrics)) {
		log_err("%s", em.msg);
		goto out;
	}
	/* the endpoints are open and no client byte has been read yet */
	if (privsep(&ex))
		goto out;
	rx.ex = ex;
	/* after recovery (what the last run loaded from programs.d is known), in the
	 * front without capabilities: bytecode_image entries pull from registries */
	rx.peer = "programs.d (start)";	/* the caller of its events */
	programs_sync(cfg, &kern, "start");
	rx.peer = NULL;
	hup = (struct hup_ctx){ .cfg = cfg, .kern = &kern, .rx = &rx };
	server_on_hup(srv, on_hup, &hup);
	/* the pull worker too: downloads and extraction off the front's loop; the
	 * List walker: a List waits there for a walk while the front goes on */
	if ((have_img && start_worker(srv, "pull worker", &pulls)) ||
	    start_worker(srv, "List walker", &walker))
		goto out;
	rpc.pulls = pulls;
	rpc.walker = walker;
	/* started by the front after privsep(): it has no capabilities either */
	if (metrics && metrics_start(metrics)) {
		log_err("Failed to start the metrics thread");
		goto out;
	}
	if (cfg->stats_mode == STATS_ALWAYS)
		exec_call(ex, rpc_exec_stats_job, &rx);
	else if (cfg->stats_mode == STATS_ON_DEMAND)
		exec_set_idle(ex, rpc_exec_stats_idle, &rx);
	/* created by the front: it has no capabilities, and needs none */
	err = monitor_start(ex, mgr, &mon);
	if (err)
		log_warn("Failed to start the netlink monitor: %s; bpfd notices changes of the kernel's hooks only at List and Get",
			 strerror(-err));
	notify_ready();
	log_info("Ready");
	err = server_run(srv, stop_fd);
	/* a pull still running ends with its [registry] timeouts */
	rpc_pulls_stop(pulls);
	pulls = NULL;
	rpc_pulls_stop(walker);
	walker = NULL;
	if (err) {
		log_errno(LOG_ERR, err, "The event loop failed");
		goto out;
	}
	/* detaching and unpinning are the executor's: it holds the capabilities */
	if (cfg->unload_on_exit)
		exec_call(ex, mgr_unload_all_job, mgr);
	log_info("Stopped");
	rc = EXIT_SUCCESS;
out:
	rpc_pulls_stop(pulls);
	rpc_pulls_stop(walker);
	monitor_stop(mon);
	/* before the executor stops: a scrape may be waiting for it */
	metrics_free(metrics);
	server_free(srv);
	events_hub_free(hub);
	event_bus_fini();
	tls_ctx_free(tls);
	if (ex && mgr)
		exec_call(ex, mgr_free_job, mgr);
	else
		mgr_free(mgr);
	exec_stop(ex);
	rpc_exec_fini(&rx);
	if (have_img)
		rpc_images_fini(&img);
	if (stop_fd >= 0)
		close(stop_fd);
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}
