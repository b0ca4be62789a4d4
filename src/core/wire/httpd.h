/* SPDX-License-Identifier: Apache-2.0 */
/* httpd.h - a small HTTP/1.1 server for the metrics endpoint: requests parsed by
 * libhttp-parser, bounded in size and time, one response per connection */
#ifndef BPFD_CORE_WIRE_HTTPD_H
#define BPFD_CORE_WIRE_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

#include "core/base/errmsg.h"

#define HTTPD_MAX_REQUEST	8192	/* bytes of one request, head and body */
#define HTTPD_MAX_PATH		256	/* bytes of the request target */
#define HTTPD_MAX_CONNS		16	/* connections at once; more get a 503 */
#define HTTPD_TIMEOUT_MS	10000	/* a connection's request and response within */

/* One request being read.  Zero it with httpd_req_init() before the first byte. */
struct httpd_req {
	http_parser parser;
	size_t total;			/* bytes fed so far */
	char method[16];		/* "GET", "HEAD", ... */
	char target[HTTPD_MAX_PATH];	/* as sent, NUL-terminated */
	size_t target_len;
	char path[HTTPD_MAX_PATH];	/* the path of target, without the query */
	bool complete;			/* the whole request was read */
	int status;			/* an error response to send instead (400, 413,
					 * 414, 505), 0 while the request is good */
};

void httpd_req_init(struct httpd_req *r);

/*
 * Feed the next len bytes of the connection to the parser.  Returns 1 when the
 * request is complete (method and path set; bytes after it are ignored: one
 * request per connection), 0 when more bytes are needed, or -EINVAL with
 * r->status the error response to send (400 malformed, 413 over
 * HTTPD_MAX_REQUEST, 414 target too long, 505 not HTTP/1.x).  After 1 or
 * -EINVAL further calls return the same.
 */
int httpd_req_feed(struct httpd_req *r, const char *buf, size_t len);

/* The peer closed its side: -EINVAL with status 400 unless complete. */
int httpd_req_eof(struct httpd_req *r);

/* What a handler answers.  body is malloc'ed (or NULL), freed by the server. */
struct httpd_resp {
	int status;
	const char *content_type;	/* NULL: text/plain; charset=utf-8 */
	const char *allow;		/* the Allow header of a 405, or NULL */
	char *body;
	size_t len;
};

/* The reason phrase of status ("Not Found"), "Unknown" for others. */
const char *httpd_reason(int status);

/*
 * Format the head of resp into buf (at most size bytes): status line,
 * Content-Type, Content-Length (resp->len, also for a HEAD request, which
 * gets no body), Allow, Connection: close.  The length of the head, or -ENOSPC.
 */
int httpd_resp_head(const struct httpd_resp *resp, char *buf, size_t size);

/* Called for each complete request, in the server's thread; it fills resp. */
typedef void (*httpd_handler_fn)(void *arg, const struct httpd_req *req,
				 struct httpd_resp *resp);

struct httpd;

/*
 * Listen on TCP host:port (numeric; port 0 picks a free one) for handler.
 * The socket is bound here; nothing is read until httpd_run().  0, or -errno
 * with em set.
 */
int httpd_new(const char *host, uint16_t port, httpd_handler_fn handler, void *arg,
	      struct errmsg *em, struct httpd **ret);
/* The port it listens on. */
uint16_t httpd_port(const struct httpd *h);
/*
 * Serve until stop_fd becomes readable: accept (HTTPD_MAX_CONNS at once; one
 * more is answered 503 and closed), read each request within HTTPD_TIMEOUT_MS,
 * answer and close.  The handler runs in this thread and may block it (not the
 * caller of anything else).  0, or -errno when poll() fails.
 */
int httpd_run(struct httpd *h, int stop_fd);
void httpd_free(struct httpd *h);

#endif
