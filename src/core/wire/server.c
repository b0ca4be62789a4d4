/* SPDX-License-Identifier: Apache-2.0 */
/* server.c - gRPC endpoints (unix socket, TCP + mTLS) and the poll() event loop */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/base/caller.h"
#include "core/base/limits.h"
#include "core/base/log.h"
#include "core/wire/addr.h"
#include "core/wire/server.h"
#include "core/wire/tls.h"

struct listener {
	int fd;
	bool tcp;
};

/* Who is at the other end, for the per-peer limits: a uid on the unix socket,
 * an IPv4 address or an IPv6 /64 on TCP. */
struct peer_id {
	bool known;
	uint32_t uid;
	uint8_t addr[16];	/* IPv4 as ::ffff:a.b.c.d; IPv6 with the low 64 bits 0 */
};

struct conn {
	struct h2_io io;
	struct h2_server *h2;
	bool tcp;
	bool ready;		/* TLS handshake done (always for unix) */
	bool read_eof;		/* the peer shut down its side: answer what came, close */
	bool dead;
	bool idle_closing;	/* GOAWAY sent for idleness: closed at close_at at the latest */
	uint64_t hs_deadline;	/* TLS handshake + HTTP/2 preface and SETTINGS deadline */
	uint64_t close_at;
	struct peer_id id;
	struct caller caller;	/* who it is, for the [[policy]] rules */
	uint64_t progress_ms;	/* last time output moved, or nothing was waiting */
	uint8_t *out;		/* encoded frames not yet written */
	size_t out_len, out_off, out_cap;
	char peer[128];
};

struct server {
	const struct bpfd_config *cfg;
	struct tls_ctx *tls;
	h2_handler_fn handler;
	void *arg;
	void (*hup)(void *arg);		/* SIGHUP on stop_fd: call this, keep serving */
	void *hup_arg;
	struct {
		int fd;
		void (*fn)(void *arg);
		void *arg;
	} wake[SERVER_WAKES];		/* server_on_wake(); fd -1: none */
	struct listener lst[2];
	size_t n_lst;
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int tcp_port;
	const struct server_limits *lim;
	struct h2_budget budget;	/* request bytes held by all connections */
	struct conn **conns;
	size_t n_conns, cap_conns;
	size_t n_unix, n_tcp;	/* connections per listener kind, each with its limit */
	bool freed;		/* a connection was freed: trim the heap */
	uint64_t last_trim;
	struct pollfd *pfds;
	bool stopping;
	uint64_t stop_deadline;
	uint64_t accept_pause;	/* out of fds: listeners not polled until then */
	uint64_t last_refusal;	/* rate limit of the warnings about refusals */
	int src_fd;		/* server_set_source(): -1 none */
	void (*src_fn)(void *arg);
	void *src_arg;
};

void server_set_source(struct server *srv, int fd, void (*fn)(void *arg), void *arg)
{
	srv->src_fd = fd;
	srv->src_fn = fn;
	srv->src_arg = arg;
}

static void zclose(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int server_group_lookup(const char *path, const char *name, unsigned int *ret_gid)
{
	uint32_t gid;
	int err = ident_group_gid(path, name, &gid);

	if (!err)
		*ret_gid = gid;
	return err;
}

/* A socket file at path: is a daemon answering there? */
static bool unix_socket_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

/* The socket's mode and group ([[grpc.endpoints]] mode, group).  Giving it a
 * group needs CAP_CHOWN (start-up only, see daemon.c).  A group named in the
 * file must exist; the default one (bpfd) is used when it does. */
static int socket_perms(const struct bpfd_config *cfg, const char *path, struct errmsg *em)
{
	const char *grp = cfg->socket_group;
	unsigned int gid;
	int err;

	if (chmod(path, cfg->socket_mode) < 0)
		return errmsg_set(em, -errno, "Failed to set the mode of '%s' to %04o: %s", path,
				  cfg->socket_mode, strerror(errno));
	if (!grp[0])
		return 0;
	err = server_group_lookup("/etc/group", grp, &gid);
	if (err && cfg->socket_group_set)
		return errmsg_set(em, err, "The socket group '%s' is not in /etc/group: create it (groupadd %s) or change 'group' of the unix endpoint",
				  grp, grp);
	if (err)
		return 0;
	if (chown(path, -1, gid) < 0) {
		err = -errno;
		if (cfg->socket_group_set)
			return errmsg_set(em, err, "Failed to give '%s' to group '%s': %s (bpfd needs CAP_CHOWN at start-up)",
					  path, grp, strerror(-err));
		log_warn("Failed to give '%s' to group '%s': %s, continuing", path, grp,
			 strerror(-err));
	}
	return 0;
}

static int listen_unix(struct server *srv, struct errmsg *em)
{
	const char *path = srv->cfg->socket_path;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat stb;
	mode_t old;
	int fd = -1, err;

	/* bound and listening at "<path>.new", then renamed: a client that sees
	 * the socket can connect (a connect between bind and listen is refused) */
	if (strlen(path) + 4 >= sizeof(sa.sun_path))
		return errmsg_set(em, -ENAMETOOLONG,
				  "Socket path '%s' is too long: a unix socket path has at most %zu bytes",
				  path, sizeof(sa.sun_path) - 5);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.new", path);
	if (!lstat(path, &stb)) {
		if (!S_ISSOCK(stb.st_mode))
			return errmsg_set(em, -EEXIST,
					  "'%s' exists and is not a socket: remove it or choose another socket path",
					  path);
		if (unix_socket_live(path))
			return errmsg_set(em, -EADDRINUSE,
					  "Another bpfd is already serving '%s': stop it first", path);
		(void)unlink(path);	/* stale, from a daemon that did not exit cleanly */
	}
	(void)unlink(sa.sun_path);	/* left by a daemon killed at start */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errmsg_set(em, -errno, "Failed to create a unix socket: %s", strerror(errno));
	old = umask(0117);	/* created 0660: no window with a wider mode */
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (err) {
		errmsg_set(em, err, "Failed to bind the unix socket '%s': %s", path, strerror(-err));
		goto out;
	}
	if (listen(fd, SERVER_LISTEN_BACKLOG) < 0) {
		err = errmsg_set(em, -errno, "Failed to listen on '%s': %s", path, strerror(errno));
		(void)unlink(sa.sun_path);
		goto out;
	}
	err = socket_perms(srv->cfg, sa.sun_path, em);
	if (!err && rename(sa.sun_path, path))
		err = errmsg_set(em, -errno, "Failed to rename '%s' to '%s': %s", sa.sun_path,
				 path, strerror(errno));
	if (err) {
		(void)unlink(sa.sun_path);
		goto out;
	}
	snprintf(srv->unix_path, sizeof(srv->unix_path), "%s", path);
	srv->lst[srv->n_lst++] = (struct listener){ .fd = fd, .tcp = false };
	log_info("Serving gRPC on unix://%s", path);
	fd = -1;
out:
	zclose(&fd);
	return err;
}

static int listen_tcp(struct server *srv, struct errmsg *em)
{
	const struct bpfd_config *cfg = srv->cfg;
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd = -1, one = 1, err = 0;

	if (!srv->tls)
		return errmsg_set(em, -EINVAL, "TCP needs TLS certificates");
	if (addr_parse(cfg->tcp_addr, cfg->tcp_port, &ss, &len))
		return errmsg_set(em, -EINVAL,
				  "TCP address '%s' is not a numeric IPv4 or IPv6 address (e.g. 127.0.0.1 or ::1)",
				  cfg->tcp_addr);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errmsg_set(em, -errno, "Failed to create a TCP socket: %s", strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, SERVER_LISTEN_BACKLOG) < 0) {
		err = errmsg_set(em, -errno, "Failed to listen on TCP [%s]:%u: %s", cfg->tcp_addr,
				 cfg->tcp_port, strerror(errno));
		goto out;
	}
	len = sizeof(ss);
	if (!getsockname(fd, (struct sockaddr *)&ss, &len))
		srv->tcp_port = ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port);
	srv->lst[srv->n_lst++] = (struct listener){ .fd = fd, .tcp = true };
	log_info("Serving gRPC on tcp [%s]:%d with mutual TLS", cfg->tcp_addr, srv->tcp_port);
	fd = -1;
out:
	zclose(&fd);
	return err;
}

/* Each connection holds one fd: room for both limits plus what the rest of the
 * daemon opens.  Raise the soft limit up to the hard one if needed; warn when
 * even that is short (the unix socket then runs out of fds before its limit). */
static void fd_limit_raise(const struct bpfd_config *cfg)
{
	rlim_t need = 256;	/* listeners, records, BPF objects, the sandbox */
	struct rlimit rl;

	if (cfg->unix_enabled)
		need += cfg->limits.max_unix_conns;
	if (cfg->tcp_enabled)
		need += cfg->limits.max_tcp_conns;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need)
		log_warn("The fd limit (%llu) is below the %llu that max_unix_connections and max_tcp_connections need: raise LimitNOFILE= or lower them",
			 (unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

int server_new(const struct bpfd_config *cfg, struct tls_ctx *tls,
	       h2_handler_fn handler, void *arg, struct errmsg *em,
	       struct server **ret)
{
	struct server *srv;
	int err = 0;
	size_t i;

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return errmsg_set(em, -ENOMEM, "Out of memory");
	srv->cfg = cfg;
	srv->lim = &cfg->limits;
	srv->budget.max = cfg->limits.max_buffered_total;
	srv->tls = tls;
	srv->handler = handler;
	srv->arg = arg;
	srv->src_fd = -1;
	for (i = 0; i < SERVER_WAKES; i++)
		srv->wake[i].fd = -1;
	/* Buffers of 32 KiB and more get their own mappings, so memory returns to
	 * the kernel when a request ends or its peer goes (measured: 32 KiB keeps
	 * the slow-message attack of t_limits 8 MB above its budget, 128 KiB 16 MB).
	 * A fixed threshold also stops glibc from raising it after the first free
	 * of such a buffer, which would put the next ones on the heap, where they
	 * stay (860 MB after the attack's peers went, before). */
	(void)mallopt(M_MMAP_THRESHOLD, 32 << 10);
	/* The heap's top stays up to 1 MiB while calls come (a walk's worth of
	 * List replies, 16 of 9 KiB with 100 programs, was trimmed at 128 KiB and
	 * faulted back in by the next: 492 brk() for 10,000 Lists); heap_trim()
	 * still gives it back once peers went. */
	(void)mallopt(M_TRIM_THRESHOLD, 1 << 20);
	fd_limit_raise(cfg);
	if (cfg->unix_enabled)
		err = listen_unix(srv, em);
	if (!err && cfg->tcp_enabled)
		err = listen_tcp(srv, em);
	if (!err && !srv->n_lst)
		err = errmsg_set(em, -EINVAL,
				 "No endpoint is enabled: enable the unix socket or TCP in the configuration");
	if (err) {
		server_free(srv);
		return err;
	}
	*ret = srv;
	return 0;
}

static void conn_free(struct conn *c)
{
	if (!c)
		return;
	h2_server_free(c->h2);
	tls_conn_free(c->io.tls);
	zclose(&c->io.fd);
	free(c->out);
	free(c);
}

static void close_listeners(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->n_lst; i++)
		zclose(&srv->lst[i].fd);
	srv->n_lst = 0;
	if (srv->unix_path[0]) {
		(void)unlink(srv->unix_path);
		srv->unix_path[0] = '\0';
	}
}

void server_on_hup(struct server *srv, void (*fn)(void *arg), void *arg)
{
	srv->hup = fn;
	srv->hup_arg = arg;
}

int server_on_wake(struct server *srv, int fd, void (*fn)(void *arg), void *arg)
{
	size_t i;

	for (i = 0; i < SERVER_WAKES; i++) {
		if (srv->wake[i].fd == -1 || srv->wake[i].arg == arg) {
			srv->wake[i].fd = fd;
			srv->wake[i].fn = fn;
			srv->wake[i].arg = arg;
			return 0;
		}
	}
	return -ENOSPC;
}

void server_free(struct server *srv)
{
	size_t i;

	if (!srv)
		return;
	close_listeners(srv);
	for (i = 0; i < srv->n_conns; i++)
		conn_free(srv->conns[i]);
	free(srv->conns);
	free(srv->pfds);
	free(srv);
}

int server_tcp_port(const struct server *srv)
{
	return srv->tcp_port;
}

/* A unix peer's credentials as of its connect(): SO_PEERCRED, and its
 * supplementary groups from SO_PEERGROUPS (Linux 4.13), which unlike
 * /proc/PID/status cannot belong to another process that took over the PID. */
static void caller_unix(struct caller *cl, int fd, const struct ucred *cr)
{
	gid_t groups[CALLER_MAX_GROUPS];
	socklen_t len = sizeof(groups);
	size_t i;

	cl->kind = CALLER_UNIX;
	cl->pid = cr->pid;
	cl->uid = cr->uid;
	cl->gid = cr->gid;
	cl->n_groups = 0;
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
		for (i = 0; i < len / sizeof(groups[0]); i++)
			cl->groups[cl->n_groups++] = groups[i];
	} else if (errno == ERANGE) {
		log_warn("unix peer pid %d (uid %u) is in more than %d groups: only its primary group counts for [[policy]] group rules",
			 cr->pid, cr->uid, CALLER_MAX_GROUPS);
	}
	caller_set_name(cl, NULL);
}

/* The peer's name for logs and its id for the per-peer limits. */
static void peer_name(struct conn *c, int fd, bool tcp)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = sizeof(ss);
	char addr[INET6_ADDRSTRLEN] = "?";
	struct ucred cr;
	int port = 0;

	if (!tcp) {
		len = sizeof(cr);
		if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len)) {
			snprintf(c->peer, sizeof(c->peer), "unix:pid=%d,uid=%u", cr.pid, cr.uid);
			c->id = (struct peer_id){ .known = true, .uid = cr.uid };
			caller_unix(&c->caller, fd, &cr);
		} else {
			snprintf(c->peer, sizeof(c->peer), "unix");
			caller_set_name(&c->caller, NULL);
		}
		return;
	}
	if (!getpeername(fd, (struct sockaddr *)&ss, &len)) {
		c->id.known = true;
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
			port = ntohs(s4->sin_port);
			c->id.addr[10] = c->id.addr[11] = 0xff;
			memcpy(c->id.addr + 12, &s4->sin_addr, 4);
		} else if (ss.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
			port = ntohs(s6->sin6_port);
			/* one host holds a /64, unless it is an IPv4-mapped address */
			memcpy(c->id.addr, &s6->sin6_addr, IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) ? 16 : 8);
		} else {
			c->id.known = false;
		}
	}
	snprintf(c->peer, sizeof(c->peer), "[%s]:%d", addr, port);
}

/* Connections open from the same peer as c (same listener kind). */
static size_t peer_conns(const struct server *srv, const struct conn *c)
{
	size_t i, n = 0;
	const struct conn *o;

	for (i = 0; i < srv->n_conns; i++) {
		o = srv->conns[i];
		if (o->tcp != c->tcp || o->dead || !o->id.known)
			continue;
		if (c->tcp ? !memcmp(o->id.addr, c->id.addr, sizeof(c->id.addr))
			   : o->id.uid == c->id.uid)
			n++;
	}
	return n;
}

/* May the connection c be served?  The unix socket and TCP each have their own
 * limit, so TCP peers can never take the slots of local clients; one uid or
 * address has a smaller one, so one peer cannot take all of them.  Returns NULL
 * or why not. */
static const char *conn_refusal(const struct server *srv, const struct conn *c,
				char *buf, size_t size)
{
	const struct server_limits *lim = srv->lim;

	if (c->tcp && srv->n_tcp >= lim->max_tcp_conns)
		snprintf(buf, size, "%zu TCP connections are open (max_tcp_connections)",
			 srv->n_tcp);
	else if (!c->tcp && srv->n_unix >= lim->max_unix_conns)
		snprintf(buf, size, "%zu unix socket connections are open (max_unix_connections)",
			 srv->n_unix);
	else if (c->id.known && c->tcp && peer_conns(srv, c) >= lim->max_conns_per_addr)
		snprintf(buf, size, "its address has %zu connections open (max_connections_per_address)",
			 lim->max_conns_per_addr);
	else if (c->id.known && !c->tcp && peer_conns(srv, c) >= lim->max_conns_per_uid)
		snprintf(buf, size, "uid %u has %zu connections open (max_connections_per_uid)",
			 c->id.uid, lim->max_conns_per_uid);
	else
		return NULL;
	return buf;
}

static int conn_start_h2(struct server *srv, struct conn *c)
{
	struct h2_server_opts o = {
		.max_msg = srv->cfg->max_msg, .handler = srv->handler, .arg = srv->arg,
		.peer = c->peer,
		.caller = &c->caller,
		.max_streams = srv->lim->max_streams,
		.max_buffered = srv->lim->max_buffered_conn,
		.total = &srv->budget,
		.msg_timeout_ms = srv->lim->message_timeout * 1000ull,
	};

	return h2_server_new(&o, &c->h2);
}

static int conns_add(struct server *srv, struct conn *c)
{
	struct conn **v;
	struct pollfd *p;
	size_t cap;

	if (srv->n_conns == srv->cap_conns) {
		cap = srv->cap_conns ? srv->cap_conns * 2 : 16;
		v = reallocarray(srv->conns, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		srv->conns = v;
		p = reallocarray(srv->pfds, cap + 2 + 2 + SERVER_WAKES, sizeof(*p));
		if (!p)
			return -ENOMEM;
		srv->pfds = p;
		srv->cap_conns = cap;
	}
	srv->conns[srv->n_conns++] = c;
	return 0;
}

static void refusal_send(int fd, const char *why)
{
	char msg[192];
	uint8_t buf[256];
	ssize_t n;

	snprintf(msg, sizeof(msg), "bpfd refused the connection: %s", why);
	n = h2_server_refusal(msg, buf, sizeof(buf));
	if (n > 0)
		(void)send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void accept_one(struct server *srv, struct listener *l, int fd)
{
	struct conn *c = NULL;
	const char *why;
	char buf[128];
	int one = 1, err;

	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->io.fd = fd;
	c->tcp = l->tcp;
	c->hs_deadline = grpc_now_ms() + srv->lim->handshake_timeout * 1000ull;
	c->progress_ms = grpc_now_ms();
	peer_name(c, fd, l->tcp);
	why = conn_refusal(srv, c, buf, sizeof(buf));
	if (why) {
		if (grpc_now_ms() - srv->last_refusal >= 1000) {
			log_warn("Refusing the connection of %s: %s", c->peer, why);
			srv->last_refusal = grpc_now_ms();
		}
		/* Closed before a byte is read.  A local client is told why in a
		 * GOAWAY (one non-blocking write, best effort); on TCP that would
		 * need a TLS handshake first, which is what is being refused. */
		if (!c->tcp)
			refusal_send(fd, why);
		conn_free(c);
		return;
	}
	if (l->tcp) {
		/* nghttp2 writes HEADERS, DATA and trailers separately: without
		 * TCP_NODELAY, Nagle + delayed ACK cost ~40 ms per call. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		err = tls_conn_new(srv->tls, fd, &c->io.tls);
	} else {
		c->ready = true;
		err = conn_start_h2(srv, c);
	}
	if (!err)
		err = conns_add(srv, c);
	if (err) {
		log_warn("Failed to set up the connection of %s: %s", c->peer, strerror(-err));
		conn_free(c);
		return;
	}
	if (c->tcp)
		srv->n_tcp++;
	else
		srv->n_unix++;
	log_debug("Connection from %s", c->peer);
}

static void do_accept(struct server *srv, struct listener *l)
{
	int fd, i;

	for (i = 0; i < 64; i++) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			/* Out of fds (EMFILE, ENFILE) or memory: the listener stays
			 * readable, so stop polling it for a moment instead of spinning. */
			srv->accept_pause = grpc_now_ms() + 200;
			if (grpc_now_ms() - srv->last_refusal >= 1000) {
				log_warn("Failed to accept a connection: %s, continuing",
					 strerror(errno));
				srv->last_refusal = grpc_now_ms();
			}
			return;
		}
		accept_one(srv, l, fd);
	}
}

static void conn_drop(struct conn *c, const char *why)
{
	if (!c->dead && why)
		log_debug("Closing the connection of %s: %s", c->peer, why);
	c->dead = true;
}

/* Move frames from nghttp2 to the out buffer and from there to the socket. */
static void conn_flush(struct conn *c, uint64_t now)
{
	const uint8_t *p;
	ssize_t n;
	uint8_t *b;

	for (;;) {
		while (c->out_len - c->out_off < CONN_OUT_HIGH) {
			n = h2_server_send(c->h2, &p);
			if (n < 0)
				return conn_drop(c, "HTTP/2 error while sending");
			if (!n)
				break;
			if (c->out_off && c->out_off == c->out_len)
				c->out_off = c->out_len = 0;
			if (c->out_len + n > c->out_cap) {
				b = realloc(c->out, c->out_len + n);
				if (!b)
					return conn_drop(c, "out of memory");
				c->out = b;
				c->out_cap = c->out_len + n;
			}
			memcpy(c->out + c->out_len, p, n);
			c->out_len += n;
		}
		if (c->out_off == c->out_len)
			break;
		n = h2_io_write(&c->io, c->out + c->out_off, c->out_len - c->out_off);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return conn_drop(c, "write failed");
		c->out_off += n;
		c->progress_ms = now;
		if (c->out_off == c->out_len) {
			c->out_off = c->out_len = 0;
			/* keep the buffer small when idle */
			if (c->out_cap > 2 * CONN_OUT_HIGH) {
				free(c->out);
				c->out = NULL;
				c->out_cap = 0;
			}
		}
	}
	if (c->io.tls) {
		n = h2_io_flush(&c->io);
		if (n < 0 && n != -EAGAIN)
			return conn_drop(c, "TLS write failed");
	}
	if (c->out_off == c->out_len && !h2_server_pending(c->h2))
		c->progress_ms = now;
}

static bool conn_may_read(const struct conn *c)
{
	return !c->read_eof && c->out_len - c->out_off < CONN_OUT_HIGH;
}

static void conn_read(struct conn *c, uint64_t now)
{
	uint8_t buf[CONN_READ_CHUNK];
	ssize_t n;
	int i, err;

	/* A few chunks per round, so one busy peer cannot starve the others. */
	for (i = 0; i < 8 && !c->dead && conn_may_read(c); i++) {
		n = h2_io_read(&c->io, buf, sizeof(buf));
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			/* calls already received were answered: their replies go out first */
			c->read_eof = true;
			return;
		}
		if (n < 0)
			return conn_drop(c, c->io.tls ? tls_conn_errstr(c->io.tls) : strerror(-n));
		err = h2_server_recv(c->h2, buf, n);
		if (err)
			return conn_drop(c, "not HTTP/2 or a protocol error");
		if (h2_server_pending(c->h2) > CONN_MAX_PENDING) {
			log_warn("Dropping %s: more than %u bytes of replies wait for it to read them",
				 c->peer, CONN_MAX_PENDING);
			return conn_drop(c, NULL);
		}
		conn_flush(c, now);
	}
}

static void conn_handshake(struct server *srv, struct conn *c)
{
	const char *cn, *san;
	int err;

	err = tls_conn_handshake(c->io.tls);
	if (err == -EAGAIN)
		return;
	if (err) {
		log_info("TLS handshake with %s failed: %s", c->peer, tls_conn_errstr(c->io.tls));
		return conn_drop(c, NULL);
	}
	cn = tls_conn_peer_cn(c->io.tls);
	if (cn) {
		size_t n = strlen(c->peer);

		snprintf(c->peer + n, sizeof(c->peer) - n, " (CN=%s)", cn);
	}
	/* the handshake verified the certificate against the CA */
	c->caller.kind = CALLER_TLS;
	snprintf(c->caller.cn, sizeof(c->caller.cn), "%s", cn ? cn : "");
	for (c->caller.n_sans = 0; c->caller.n_sans < CALLER_MAX_SANS &&
	     (san = tls_conn_peer_san(c->io.tls, c->caller.n_sans)); c->caller.n_sans++)
		snprintf(c->caller.sans[c->caller.n_sans], sizeof(c->caller.sans[0]), "%s", san);
	caller_set_name(&c->caller, NULL);
	c->ready = true;
	if (conn_start_h2(srv, c))
		return conn_drop(c, "out of memory");
	if (srv->stopping)
		h2_server_shutdown(c->h2);
}

/* Everything written out and nothing more to come (the session ended, or the
 * peer shut down its side after the calls it sent were answered): close. */
static void conn_drop_if_done(struct conn *c)
{
	/* a peer that half-closed still gets the answers of its deferred calls */
	if (!c->dead && c->out_off == c->out_len &&
	    (!h2_server_alive(c->h2) || (c->read_eof && !h2_server_deferred(c->h2))))
		conn_drop(c, c->read_eof ? "closed by peer" : "session over");
}

static void conn_io(struct server *srv, struct conn *c, short revents, uint64_t now)
{
	if (!c->ready) {
		if (revents)
			conn_handshake(srv, c);
		if (!c->ready || c->dead)
			return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR) || h2_io_pending(&c->io))
		conn_read(c, now);
	if (!c->dead)
		conn_flush(c, now);
	conn_drop_if_done(c);
}

static short conn_events(const struct conn *c)
{
	short ev = 0;

	if (!c->ready)
		return tls_conn_wants(c->io.tls);
	if (conn_may_read(c))
		ev |= POLLIN;
	if (c->out_off < c->out_len)
		ev |= POLLOUT;
	if (c->io.tls && (tls_conn_wants(c->io.tls) & POLLOUT))
		ev |= POLLOUT;
	return ev;
}

/* A connection without a call for idle_timeout gets a GOAWAY; one that does
 * not go after it is closed a second later.  Returns the next deadline or 0. */
static uint64_t conn_idle(struct server *srv, struct conn *c, uint64_t now, bool waiting)
{
	uint64_t since = h2_server_idle_since(c->h2), t;

	if (c->idle_closing) {
		if (now >= c->close_at)
			conn_drop(c, "idle, GOAWAY sent");
		return c->close_at;
	}
	if (!since || waiting)
		return 0;
	t = since + srv->lim->idle_timeout * 1000ull;
	if (now < t)
		return t;
	log_debug("Closing the connection of %s: no call for %zu s (idle_timeout)", c->peer,
		  srv->lim->idle_timeout);
	h2_server_shutdown(c->h2);
	c->idle_closing = true;
	c->close_at = now + 1000;
	return c->close_at;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a || (b && b < a) ? b : a;
}

/* Timers: handshake and preface, idleness, stalled output, grpc-timeout and
 * message_timeout; returns the next deadline. */
static uint64_t conn_timers(struct server *srv, struct conn *c, uint64_t now)
{
	uint64_t next = 0, t;
	bool waiting;

	/* Every phase has a deadline: bytes trickling in do not extend it.  The front
	 * runs calls one at a time, so it may not have looked at a connection since
	 * it accepted it (a round of long calls in between): what the peer sent in
	 * time is read before the peer is judged (a List's connection dropped so,
	 * its bytes unread, saw "Connection reset by peer"). */
	if ((!c->h2 || !h2_server_started(c->h2)) && now >= c->hs_deadline) {
		conn_io(srv, c, POLLIN, now);
		if (c->dead)
			return 0;
	}
	if (!c->h2 || !h2_server_started(c->h2)) {
		if (now >= c->hs_deadline)
			return conn_drop(c, c->h2 ? "no HTTP/2 preface in time (handshake_timeout)" :
						    "no TLS handshake in time (handshake_timeout)"), 0;
		next = c->hs_deadline;
	}
	if (!c->h2)
		return next;
	waiting = c->out_off < c->out_len || h2_server_pending(c->h2);
	next = earliest(next, conn_idle(srv, c, now, waiting));
	if (c->dead)
		return 0;
	if (waiting && now - c->progress_ms >= CONN_STALL_MS) {
		conn_flush(c, now);	/* as above: the front may not have tried since */
		if (c->dead)
			return 0;
		waiting = c->out_off < c->out_len || h2_server_pending(c->h2);
	}
	if (waiting) {
		if (now - c->progress_ms >= CONN_STALL_MS) {
			log_warn("Dropping %s: it has not read its replies for %d s", c->peer,
				 CONN_STALL_MS / 1000);
			return conn_drop(c, NULL), 0;
		}
		t = c->progress_ms + CONN_STALL_MS;
		if (!next || t < next)
			next = t;
	}
	t = h2_server_expire(c->h2, now);
	if (t && (!next || t < next))
		next = t;
	return next;
}

static void begin_shutdown(struct server *srv, int stop_fd, uint64_t now)
{
	struct signalfd_siginfo si;
	size_t i;

	if (read(stop_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		if (srv->hup && !srv->stopping)
			srv->hup(srv->hup_arg);
		return;
	}
	if (srv->stopping) {
		log_info("Received %s again: closing the connections now",
			 strsignal(si.ssi_signo));
		srv->stop_deadline = now;
		return;
	}
	log_info("Received %s, shutting down: %zu connection(s) open", strsignal(si.ssi_signo),
		 srv->n_conns);
	srv->stopping = true;
	srv->stop_deadline = now + SERVER_SHUTDOWN_MS;
	close_listeners(srv);
	for (i = 0; i < srv->n_conns; i++) {
		if (srv->conns[i]->h2)
			h2_server_shutdown(srv->conns[i]->h2);
		else
			conn_drop(srv->conns[i], "shutting down");
	}
}

static void reap(struct server *srv)
{
	struct conn *c;
	size_t i, j = 0;

	for (i = 0; i < srv->n_conns; i++) {
		c = srv->conns[i];
		if (!c->dead) {
			srv->conns[j++] = c;
			continue;
		}
		if (c->tcp)
			srv->n_tcp--;
		else
			srv->n_unix--;
		conn_free(c);
		srv->freed = true;
	}
	srv->n_conns = j;
}

/* glibc keeps freed heap pages (TLS contexts, nghttp2 sessions, small buffers)
 * in its arenas: give them back after peers went, at most once a second.
 * Returns when to come back, or 0. */
static uint64_t heap_trim(struct server *srv, uint64_t now)
{
	if (!srv->freed)
		return 0;
	if (now - srv->last_trim < 1000)
		return srv->last_trim + 1000;
	(void)malloc_trim(0);
	srv->last_trim = now;
	srv->freed = false;
	return 0;
}

int server_run(struct server *srv, int stop_fd)
{
	struct conn *c;
	uint64_t now, next, t;
	size_t i, nl, np;
	int timeout, rc;
	bool busy;

	if (!srv->pfds) {
		srv->pfds = calloc(2 + 2 + 16 + SERVER_WAKES, sizeof(*srv->pfds));
		if (!srv->pfds)
			return -ENOMEM;
	}
	for (;;) {
		now = grpc_now_ms();
		next = srv->stopping ? srv->stop_deadline : 0;
		for (i = 0; i < srv->n_conns; i++) {
			t = conn_timers(srv, srv->conns[i], now);
			c = srv->conns[i];
			if (c->dead || !c->h2) {
				if (t && (!next || t < next))
					next = t;
				continue;
			}
			busy = !h2_server_idle_since(c->h2);
			conn_flush(c, now);
			/* e.g. an idle connection after the GOAWAY of a shutdown */
			conn_drop_if_done(c);
			/* the answer of a deferred call (the wake of the last round)
			 * ended its last call just now: the idle timer starts */
			if (busy && !c->dead && h2_server_idle_since(c->h2))
				t = conn_timers(srv, c, now);
			if (t && (!next || t < next))
				next = t;
		}
		reap(srv);
		next = earliest(next, heap_trim(srv, now));
		if (srv->stopping && (!srv->n_conns || now >= srv->stop_deadline)) {
			if (srv->n_conns)
				log_warn("Closing %zu connection(s) with calls still in flight",
					 srv->n_conns);
			return 0;
		}
		np = 0;
		srv->pfds[np++] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
		srv->pfds[np++] = (struct pollfd){ .fd = srv->src_fd, .events = POLLIN };
		nl = srv->n_lst;
		for (i = 0; i < nl; i++)
			srv->pfds[np++] = (struct pollfd){
				.fd = now < srv->accept_pause ? -1 : srv->lst[i].fd, .events = POLLIN };
		if (now < srv->accept_pause && (!next || srv->accept_pause < next))
			next = srv->accept_pause;
		for (i = 0; i < srv->n_conns; i++)
			srv->pfds[np++] = (struct pollfd){
				.fd = srv->conns[i]->io.fd, .events = conn_events(srv->conns[i]) };
		/* the last slots: pfds has room for 2 + 2 listeners + conns + SERVER_WAKES */
		for (i = 0; i < SERVER_WAKES; i++)
			srv->pfds[np + i] = (struct pollfd){ .fd = srv->wake[i].fd, .events = POLLIN };
		timeout = -1;
		if (next)
			timeout = next > now ? (int)(next - now) : 0;
		/* TLS may hold decrypted bytes that poll() cannot see */
		for (i = 0; i < srv->n_conns; i++)
			if (srv->conns[i]->ready && h2_io_pending(&srv->conns[i]->io))
				timeout = 0;
		rc = poll(srv->pfds, np + SERVER_WAKES, timeout);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		now = grpc_now_ms();
		if (srv->pfds[0].revents)
			begin_shutdown(srv, stop_fd, now);
		if (srv->pfds[1].revents & POLLIN)
			srv->src_fn(srv->src_arg);
		for (i = 0; i < SERVER_WAKES; i++)
			if (srv->pfds[np + i].revents & POLLIN)
				srv->wake[i].fn(srv->wake[i].arg);	/* replies: next round */
		for (i = 0; i < nl && i < srv->n_lst; i++)
			if (srv->pfds[2 + i].revents & POLLIN)
				do_accept(srv, &srv->lst[i]);
		/* conns added by accept are beyond np; they get polled next round */
		for (i = 0; i + 2 + nl < np; i++) {
			short rev = srv->pfds[2 + nl + i].revents;

			c = srv->conns[i];
			if (rev || (c->ready && h2_io_pending(&c->io)))
				conn_io(srv, c, rev, now);
		}
	}
}
