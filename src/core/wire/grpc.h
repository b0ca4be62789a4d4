/* SPDX-License-Identifier: Apache-2.0 */
/* grpc.h - gRPC over HTTP/2: status codes, message framing, grpc-message
 * percent-encoding, grpc-timeout; no I/O here */
#ifndef BPFD_CORE_GRPC_H
#define BPFD_CORE_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum grpc_status {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_ALREADY_EXISTS = 6,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10,
	GRPC_OUT_OF_RANGE = 11,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_DATA_LOSS = 15,
	GRPC_UNAUTHENTICATED = 16,
};

/* "NOT_FOUND" etc.; "UNKNOWN" for a code outside the table. */
const char *grpc_status_name(int code);

/* Length-prefixed message: 1 byte compressed flag, 4 bytes big-endian length. */
#define GRPC_HDR_LEN	5
void grpc_hdr_put(uint8_t hdr[GRPC_HDR_LEN], uint32_t len);
/* Parse a prefix: 0, or -EINVAL when the flag byte is neither 0 nor 1. */
int grpc_hdr_parse(const uint8_t hdr[GRPC_HDR_LEN], bool *ret_compressed,
		   uint32_t *ret_len);

/* Percent-encode text for grpc-message (bytes outside 0x20..0x7e and '%' become
 * %XX).  Writes at most size bytes including the NUL; returns the length the
 * full encoding needs (excluding NUL), like snprintf. */
size_t grpc_percent_encode(const char *in, char *out, size_t size);
/* Decode %XX sequences (an invalid one is kept as it is, as the spec asks).
 * Returns the decoded length; out is always NUL-terminated when size > 0. */
size_t grpc_percent_decode(const char *in, size_t len, char *out, size_t size);

/* Parse a grpc-timeout value ("1-8 digits" + unit H M S m u n) into
 * milliseconds, rounded up (so "1n" is 1 ms, never 0).  0 or -EINVAL. */
int grpc_timeout_parse(const char *s, size_t len, uint64_t *ret_ms);
/* Format milliseconds as a grpc-timeout value ("2500m", or a coarser unit when
 * 8 digits are not enough).  Returns snprintf's count. */
int grpc_timeout_format(uint64_t ms, char *buf, size_t size);

/* A growing byte buffer. */
struct grpc_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};
/* Make room for extra more bytes: 0 or -ENOMEM (-E2BIG past SIZE_MAX / 2). */
int grpc_buf_reserve(struct grpc_buf *b, size_t extra);
/* The same, growing to exactly what is needed (a reply whose size is known: a
 * power of two above M_MMAP_THRESHOLD would be a mapping of its own). */
int grpc_buf_reserve_exact(struct grpc_buf *b, size_t extra);
int grpc_buf_append(struct grpc_buf *b, const void *data, size_t len);
void grpc_buf_fini(struct grpc_buf *b);

/*
 * Reassembly of the one message of a unary call from DATA frames, without
 * trusting the length prefix: the limit is checked as soon as the 5-byte prefix
 * is complete, and the buffer grows only with the bytes that really arrive.
 */
struct grpc_reader {
	uint8_t hdr[GRPC_HDR_LEN];
	size_t hdr_have;
	uint32_t need;		/* message length from the prefix */
	bool compressed;
	bool done;		/* one complete message held in buf */
	size_t max;		/* largest message accepted */
	struct grpc_buf buf;
};
void grpc_reader_init(struct grpc_reader *r, size_t max);
void grpc_reader_fini(struct grpc_reader *r);
/* Feed bytes.  0, or:
 *   -EMSGSIZE	the prefix announces more than max (r->need says how much)
 *   -EPROTO	bytes after the first message (a unary call carries one)
 *   -EINVAL	invalid compressed-flag byte
 *   -ENOMEM */
int grpc_reader_feed(struct grpc_reader *r, const uint8_t *data, size_t len);
/* At end of stream: 0 when exactly one message arrived, -ENODATA when none,
 * -EPROTO when it was cut short. */
int grpc_reader_finish(const struct grpc_reader *r);

struct caller;
struct h2_server;
struct h2_deferred;

/* A call as the server's handler sees it. */
struct grpc_call {
	const char *path;	/* "/bpfd.v1.Bpfd/List" */
	const uint8_t *msg;	/* request message (without prefix); valid during the call */
	size_t len;
	const char *peer;	/* "unix" or "127.0.0.1:4711 (CN=bpfd-client)", for logs */
	const struct caller *caller;	/* who calls (core/base/caller.h); NULL: in-process */
	uint64_t deadline_ms;	/* CLOCK_MONOTONIC ms, 0 = none */
	uint64_t recv_ns;	/* CLOCK_MONOTONIC ns when its last byte was read, 0 unknown */
};

/*
 * A server-streaming response: the producer queues messages, the HTTP/2 layer
 * sends them as the peer's flow control allows, then the status.  Both hold a
 * reference and run in one thread (the front), so nothing is locked and
 * nothing ever waits: a full queue is refused at once (the producer decides
 * what a slow reader gets), and a peer that went away shows as closed.
 */
struct grpc_ostream {
	uint8_t **msg;		/* framed messages (prefix included), oldest at head */
	size_t *len;
	size_t cap, head, n;
	size_t off;		/* bytes of msg[head] already taken by the transport */
	size_t max_msg;
	bool ended;		/* status set: queued messages, then the trailers */
	enum grpc_status status;
	char message[512];	/* grpc-message of the end, not yet percent-encoded */
	bool closed;		/* the transport is gone (peer cancelled, connection
				 * dropped): the producer lets go of it */
	int refs;
	/* set by the transport: there is something new to send */
	void (*wake)(void *arg);
	void *wake_arg;
};
/* A stream holding at most cap messages of at most max_msg bytes; one
 * reference, the caller's.  NULL when out of memory. */
struct grpc_ostream *grpc_ostream_new(size_t cap, size_t max_msg);
struct grpc_ostream *grpc_ostream_get(struct grpc_ostream *os);
/* Drop a reference (frees at the last; NULL is fine). */
void grpc_ostream_put(struct grpc_ostream *os);
/* Queue one message (the prefix is added here): 0, -ENOBUFS when cap
 * messages wait already, -EPIPE when ended or closed, -EMSGSIZE, -ENOMEM. */
int grpc_ostream_push(struct grpc_ostream *os, const uint8_t *data, size_t len);
/* Messages waiting, the one being sent included. */
size_t grpc_ostream_queued(const struct grpc_ostream *os);
/* End the stream with a status.  With discard, queued messages not yet begun
 * are dropped (a message partly sent is finished first).  Returns the number
 * dropped. */
size_t grpc_ostream_end(struct grpc_ostream *os, bool discard, enum grpc_status status,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* For the transport: take up to len bytes of the queue into buf; returns how
 * many (0 when nothing waits). */
size_t grpc_ostream_take(struct grpc_ostream *os, uint8_t *buf, size_t len);

/* What the handler answers.  On GRPC_OK body holds the framed response message
 * (grpc_reply_begin() reserves the prefix, grpc_reply_end() fills it in).  A
 * server-streaming method sets stream instead (handing over one reference):
 * the response stays open and carries what is pushed there. */
struct grpc_reply {
	enum grpc_status status;
	char message[4096];	/* for grpc-message, not yet percent-encoded */
	struct grpc_buf body;
	size_t max_msg;		/* largest response message allowed */
	struct grpc_ostream *stream;
	/* answer later (h2.h h2_reply_defer()): set by the session, NULL when the
	 * caller of the handler cannot wait for a deferred answer */
	struct h2_server *session;
	struct h2_deferred *deferred;	/* the handler deferred: status and body unused */
};
void grpc_reply_init(struct grpc_reply *r, size_t max_msg);
void grpc_reply_fini(struct grpc_reply *r);
/* Set an error status; the text is formatted into r->message, and body dropped. */
void grpc_reply_error(struct grpc_reply *r, enum grpc_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reserve the 5-byte prefix at the start of body: 0 or -ENOMEM. */
int grpc_reply_begin(struct grpc_reply *r);
/* Fill in the prefix from the bytes appended after it: 0, or -EMSGSIZE when the
 * message is larger than max_msg. */
int grpc_reply_end(struct grpc_reply *r);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t grpc_now_ms(void);

#endif
