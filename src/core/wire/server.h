/* SPDX-License-Identifier: Apache-2.0 */
/* server.h - the gRPC server: listeners, connections, one poll() loop */
#ifndef BPFD_CORE_SERVER_H
#define BPFD_CORE_SERVER_H

#include "core/config/config.h"
#include "core/base/errmsg.h"
#include "core/wire/h2.h"

struct server;
struct tls_ctx;

/* Open the endpoints of cfg: the unix socket (cfg->unix_enabled: a stale socket is
 * replaced, mode 0660, group cfg->socket_group when that group exists) and TCP
 * (cfg->tcp_enabled: numeric address, TLS with tls, which must then be non-NULL).
 * Calls go to handler(arg, ...).  0 or -errno with em set. */
int server_new(const struct bpfd_config *cfg, struct tls_ctx *tls,
	       h2_handler_fn handler, void *arg, struct errmsg *em,
	       struct server **ret);
/* Close everything; removes the unix socket if this server created it. */
void server_free(struct server *srv);
/* Serve until stop_fd becomes readable (a signalfd: it is read here), then shut
 * down gracefully: stop accepting, GOAWAY, let calls in flight finish (at most
 * SERVER_SHUTDOWN_MS), close.  Returns 0 or -errno for a failure of the loop. */
int server_run(struct server *srv, int stop_fd);
/* A SIGHUP read from stop_fd calls fn(arg) in the loop's thread (while not
 * stopping) instead of shutting down; without fn it is ignored. */
void server_on_hup(struct server *srv, void (*fn)(void *arg), void *arg);
/* Poll fd in the loop as well: fn(arg) runs in the loop's thread whenever it
 * is readable (the event bus).  One such source; fd -1 removes it. */
void server_set_source(struct server *srv, int fd, void (*fn)(void *arg), void *arg);
/* Poll fd (readable: another thread has answers for deferred calls,
 * h2_reply_defer()) in the loop and call fn(arg) in its thread then; fn reads
 * fd.  Up to SERVER_WAKES such fds (the pull worker, the List walker), one per
 * arg: a second call with the same arg replaces its fd, fd -1 turns it off.
 * 0, or -ENOSPC when all are taken. */
#define SERVER_WAKES	2
int server_on_wake(struct server *srv, int fd, void (*fn)(void *arg), void *arg);
/* The TCP port actually bound (useful with port 0), or 0. */
int server_tcp_port(const struct server *srv);

/* Find group name in /etc/group (path) without NSS: 0 with *ret_gid, -ENOENT,
 * or -errno reading the file. */
int server_group_lookup(const char *path, const char *name, unsigned int *ret_gid);

#endif
