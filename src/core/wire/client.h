/* SPDX-License-Identifier: Apache-2.0 */
/* client.h - blocking unary gRPC client of bpfd (bpfctl, bpfd-agent) */
#ifndef BPFD_CORE_CLIENT_H
#define BPFD_CORE_CLIENT_H

#include <stdint.h>

#include <pb.h>

#include "core/base/errmsg.h"
#include "core/wire/grpc.h"

#define CLIENT_DEFAULT_ENDPOINT	"unix:///run/bpfd/bpfd.sock"
#define CLIENT_DEFAULT_TIMEOUT_MS	30000

struct client_opts {
	/* unix:///PATH or tcp://HOST:PORT (HOST numeric, [v6] or localhost);
	 * NULL: $BPFD_ENDPOINT, else CLIENT_DEFAULT_ENDPOINT */
	const char *endpoint;
	/* mTLS files for tcp://; NULL: /etc/bpfd/certs/ca/ca.pem,
	 * bpfd-client/bpfd-client.pem, bpfd-client/bpfd-client.key */
	const char *ca;
	const char *cert;
	const char *key;
	uint64_t timeout_ms;	/* per call and for connecting; 0: default */
};

struct client;

struct client_status {
	enum grpc_status code;
	char message[4096];	/* grpc-message, or what went wrong on the way */
};

/* Connect (and for tcp:// do the TLS handshake).  0, or -errno with em saying
 * what failed and what to check (daemon running? certificates?). */
int client_open(const struct client_opts *o, struct client **ret, struct errmsg *em);
void client_close(struct client *c);
/* The endpoint connected to, e.g. "unix:///run/bpfd/bpfd.sock". */
const char *client_endpoint(const struct client *c);

/* One unary call of method ("/bpfd.v1.Bpfd/List"): encode req, wait for the
 * reply, decode it into resp (callbacks set in resp are used).  Returns 0 and
 * fills st: st->code is the gRPC status, or UNAVAILABLE / DEADLINE_EXCEEDED /
 * INTERNAL for failures on the way (connection lost, timeout, undecodable
 * reply) with st->message saying so.  -ENOMEM / -EINVAL for local errors. */
int client_call(struct client *c, const char *method, const pb_msgdesc_t *req_fields,
		const void *req, const pb_msgdesc_t *resp_fields, void *resp,
		struct client_status *st);

/* A server-streaming call: each message is decoded into resp and handed to
 * on_msg(arg, resp), which returns 0 to go on (else the call stops, status
 * CANCELLED); no deadline.  Returns when the server ends the call, with st as
 * client_call() fills it (GRPC_OK for a normal end). */
int client_stream(struct client *c, const char *method, const pb_msgdesc_t *req_fields,
		  const void *req, const pb_msgdesc_t *resp_fields, void *resp,
		  int (*on_msg)(void *arg, void *resp), void *arg, struct client_status *st);

/* fn(arg) is called once, in the calling thread, when the answer of the next
 * call begins to arrive (its headers: a stream is open in the server); NULL
 * to clear.  Not called when the call fails before. */
void client_on_open(struct client *c, void (*fn)(void *arg), void *arg);

/* From another thread: end the connection under a call blocked in c (a
 * stream), which then returns (UNAVAILABLE).  Only client_close() is left to
 * do with c afterwards. */
void client_shutdown(struct client *c);

#endif
