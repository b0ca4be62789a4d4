/* SPDX-License-Identifier: Apache-2.0 */
/* limits.h - every limit of the wire protocol and of the server, in one place */
#ifndef BPFD_CORE_LIMITS_H
#define BPFD_CORE_LIMITS_H

/* HTTP/2 settings the server announces and enforces.  The limits a client may
 * reach (streams, buffered bytes, connections, timeouts) are configured: [grpc]
 * in bpfd.toml, struct server_limits in config.h. */
#define H2_MAX_CONCURRENT_STREAMS	100		/* when the caller sets none */
#define H2_MAX_HEADER_LIST		(16u << 10)	/* sum of name + value + 32 */
#define H2_INITIAL_WINDOW		(256u << 10)	/* per stream */
#define H2_CONN_WINDOW			(1u << 20)	/* per connection */
#define H2_MAX_PATH			128		/* longer :path -> UNIMPLEMENTED */
#define H2_MAX_MESSAGE			4096		/* grpc-message, percent-encoded */

/* Largest gRPC message: cfg->max_msg, default BPFD_MAX_MSG (config.h, 4 MiB).  The
 * client accepts larger responses: a List of every program can be big. */
#define CLIENT_MAX_RECV_MSG		(64u << 20)

/* Server connections. */
#define SERVER_LISTEN_BACKLOG		128
#define CONN_READ_CHUNK			(16u << 10)
/* Encoded output kept in user space per connection: above this the server stops
 * taking frames from nghttp2 and stops reading from the peer until it drains. */
#define CONN_OUT_HIGH			(64u << 10)
/* Response bodies waiting for the peer's flow-control window, per connection:
 * above this the peer is dropped (it sends requests but does not read replies). */
#define CONN_MAX_PENDING		(32u << 20)
/* A peer whose socket accepts no byte for this long while output is waiting is dropped. */
#define CONN_STALL_MS			30000
/* On SIGTERM: in-flight calls get this long to finish before connections are closed. */
#define SERVER_SHUTDOWN_MS		10000

#endif
