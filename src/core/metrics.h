/* SPDX-License-Identifier: Apache-2.0 */
/* metrics.h - the Prometheus endpoint ([metrics]): what the daemon counts, the
 * scrape (a job of the kernel executor) and the thread that serves GET /metrics */
#ifndef BPFD_CORE_METRICS_H
#define BPFD_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"
#include "core/config/config.h"
#include "core/rpc_exec.h"
#include "core/wire/httpd.h"

/* Counters, safe from any thread (a mutex; the front calls them once per call). */

/* A gRPC call of method (its path, "/bpfd.v1.Bpfd/Load"; NULL: an unknown
 * method) ended with status code (enum grpc_status).  method must stay valid
 * for the life of the process (a string of the method table). */
void metrics_rpc_done(const char *method, int code);
/* A Load took ns (request decoded to reply ready, failed ones too). */
void metrics_load_observe(uint64_t ns);

/* The status of a request to the endpoint: 200 for GET and HEAD of /metrics,
 * 405 (with *ret_allow set) for another method there, 404 for another path. */
int metrics_route(const struct httpd_req *req, const char **ret_allow);

struct metrics;

/*
 * Bind [metrics] address and port of cfg (cfg->metrics_enabled); rx is the
 * daemon's executor state, whose executor runs the scrape.  Nothing is served
 * until metrics_start().  0 or -errno with em set.
 */
int metrics_new(const struct bpfd_config *cfg, struct rpc_exec *rx, struct errmsg *em,
		struct metrics **ret);
/* Start the serving thread (it inherits the caller's capabilities: start it
 * from the front, after privsep, so it has none).  0 or -errno. */
int metrics_start(struct metrics *m);
/* The port listened on. */
uint16_t metrics_port(const struct metrics *m);
/* Stop the thread (before the executor stops) and free m (NULL is fine). */
void metrics_free(struct metrics *m);

#endif
