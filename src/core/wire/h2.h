/* SPDX-License-Identifier: Apache-2.0 */
/* h2.h - HTTP/2 (nghttp2) sessions for gRPC: an in-memory server session that
 * turns bytes into calls of a handler and back, an in-memory client session
 * for unary calls, and the byte transport (plain fd or TLS) both run over.
 * nghttp2 error codes never leave h2.c. */
#ifndef BPFD_CORE_H2_H
#define BPFD_CORE_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/wire/grpc.h"

struct tls_conn;

/* A connected non-blocking socket, optionally with TLS on it (handshake done). */
struct h2_io {
	int fd;
	struct tls_conn *tls;	/* NULL: plain */
};
/* > 0 bytes, 0 at end of stream, -EAGAIN, or -errno. */
ssize_t h2_io_read(struct h2_io *io, void *buf, size_t len);
/* > 0 bytes taken, -EAGAIN, or -errno (never SIGPIPE). */
ssize_t h2_io_write(struct h2_io *io, const void *buf, size_t len);
/* Send what TLS still holds: 0, -EAGAIN or -errno; 0 for a plain fd. */
int h2_io_flush(struct h2_io *io);
/* Bytes already decrypted and waiting (poll() does not see them). */
size_t h2_io_pending(const struct h2_io *io);

/* ---- server ---- */

/* Called once per complete request, synchronously, from h2_server_recv(). */
typedef void (*h2_handler_fn)(void *arg, const struct grpc_call *call,
			      struct grpc_reply *reply);

/*
 * A handler that cannot answer at once (it waits for another thread) defers the
 * reply: h2_reply_defer(reply) returns a handle, or NULL when this call cannot
 * be deferred (no session, out of memory: answer now).  The handle is completed
 * exactly once with h2_deferred_complete(), in the server's thread: the reply goes
 * to the stream if it is still open (the client may have cancelled, the
 * connection gone, the grpc-timeout passed: then it is dropped), the handle is
 * freed.  The server's loop sends it on its next round.
 */
struct h2_deferred;
struct h2_deferred *h2_reply_defer(struct grpc_reply *reply);
void h2_deferred_complete(struct h2_deferred *d, struct grpc_reply *reply);
/* Someone still waits for d's reply (its stream is open, not yet answered). */
bool h2_deferred_waited(const struct h2_deferred *d);

/* Request bytes held by the sessions of one server, against a budget: incomplete
 * request messages.  Shared by every session of the server's thread (not locked).
 * When a request would go over max, the session holding the most loses its
 * largest request (RESOURCE_EXHAUSTED), so a small call always gets through. */
struct h2_budget {
	size_t used;
	size_t max;			/* 0: no limit */
	struct h2_server *sessions;	/* private to h2.c: the sessions sharing it */
	uint64_t last_warn;		/* private: rate of the warnings */
};

struct caller;

struct h2_server_opts {
	size_t max_msg;		/* largest request and response message */
	size_t max_streams;	/* SETTINGS_MAX_CONCURRENT_STREAMS; 0: H2_MAX_CONCURRENT_STREAMS */
	size_t max_buffered;	/* request bytes this session may hold; 0: no limit */
	struct h2_budget *total;	/* the server's budget, or NULL */
	uint64_t msg_timeout_ms;	/* a request must arrive whole within; 0: none */
	h2_handler_fn handler;
	void *arg;
	const char *peer;	/* copied; for logs */
	const struct caller *caller;	/* not copied: must outlive the session */
};

struct h2_server;

/* A server session; nothing is sent until h2_server_send() is called (the
 * SETTINGS frame is queued).  0, -ENOMEM. */
int h2_server_new(const struct h2_server_opts *o, struct h2_server **ret);
void h2_server_free(struct h2_server *s);
/* Feed bytes read from the peer; complete calls run the handler before this
 * returns.  0, or -EPROTO when the connection must be closed (bad preface, an
 * HTTP/1.x request, a protocol error, a flood), -ENOMEM. */
int h2_server_recv(struct h2_server *s, const uint8_t *data, size_t len);
/* The next bytes to write (valid until the next call on s): their length, 0
 * when nothing is queued, or -EPROTO / -ENOMEM. */
ssize_t h2_server_send(struct h2_server *s, const uint8_t **ret_data);
/* False once the session is over (GOAWAY exchanged, no stream left): close. */
bool h2_server_alive(const struct h2_server *s);
/* Response bytes not yet handed to h2_server_send() (flow control). */
size_t h2_server_pending(const struct h2_server *s);
/* Answer DEADLINE_EXCEEDED to requests whose grpc-timeout passed at now_ms, or
 * that did not arrive whole within msg_timeout_ms; returns the next deadline
 * (CLOCK_MONOTONIC ms) or 0 if none. */
uint64_t h2_server_expire(struct h2_server *s, uint64_t now_ms);
/* Graceful shutdown: GOAWAY naming the last stream taken; streams already open
 * finish.  After it, h2_server_alive() turns false when they are done. */
void h2_server_shutdown(struct h2_server *s);
/* The bytes a server sends a peer it refuses before closing: its SETTINGS and a
 * GOAWAY (ENHANCE_YOUR_CALM) whose debug data is why.  Written to buf: their
 * length, or -ENOBUFS / -ENOMEM. */
ssize_t h2_server_refusal(const char *why, uint8_t *buf, size_t size);
/* A call of the session waits for its deferred answer (h2_reply_defer()). */
bool h2_server_deferred(const struct h2_server *s);
/* Number of streams open (requests received or replies being sent). */
size_t h2_server_streams(const struct h2_server *s);
/* Bytes of incomplete requests this session holds (counted in its budget). */
size_t h2_server_buffered(const struct h2_server *s);
/* The peer's connection preface and first SETTINGS frame arrived. */
bool h2_server_started(const struct h2_server *s);
/* CLOCK_MONOTONIC ms since when no stream is open, 0 while one is. */
uint64_t h2_server_idle_since(const struct h2_server *s);

/* ---- client (one unary call at a time) ---- */

struct h2_client;

struct h2_client_result {
	int http_status;	/* :status, 0 if no headers arrived */
	int grpc_status;	/* -1 when the server sent none */
	char message[4096];	/* grpc-message, decoded */
	struct grpc_reader body;	/* the response message */
	int body_err;		/* grpc_reader_feed() error, e.g. -EMSGSIZE */
	bool closed;		/* the stream is over */
	uint32_t rst_code;	/* RST_STREAM / GOAWAY error code, if any */
	char goaway[256];	/* debug data of a GOAWAY with an error: the server's reason */
};

int h2_client_new(struct h2_client **ret);
void h2_client_free(struct h2_client *c);
/* Start a call: POST path with the framed message body (the 5-byte prefix is
 * added here).  timeout_ms 0 sends no grpc-timeout.  Results accumulate in
 * h2_client_result(c).  0, -EBUSY (a call is running), -EMSGSIZE, -ENOMEM. */
int h2_client_call(struct h2_client *c, const char *scheme, const char *authority,
		   const char *path, const uint8_t *msg, size_t len,
		   uint64_t timeout_ms, size_t max_recv);
/* For a server-streaming call (set after h2_client_call()): every complete
 * response message goes to fn(arg, msg, len) as it arrives, instead of being
 * kept; fn's non-zero result cancels the call (body_err).  NULL: unary. */
void h2_client_on_message(struct h2_client *c,
			  int (*fn)(void *arg, const uint8_t *msg, size_t len), void *arg);
int h2_client_recv(struct h2_client *c, const uint8_t *data, size_t len);
ssize_t h2_client_send(struct h2_client *c, const uint8_t **ret_data);
struct h2_client_result *h2_client_result(struct h2_client *c);
/* The session is over (GOAWAY, error); a new call needs a new connection. */
bool h2_client_alive(const struct h2_client *c);

#endif
