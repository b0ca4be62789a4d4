/* SPDX-License-Identifier: Apache-2.0 */
/* httpd.c - a small HTTP/1.1 server for the metrics endpoint: libhttp-parser reads
 * the requests; one request per connection, every connection bounded in bytes and time */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include <http_parser.h>

#include "core/base/log.h"
#include "core/wire/addr.h"
#include "core/wire/httpd.h"

#define HTTPD_DRAIN_MS		1000		/* after the answer, for the peer's close */
#define HTTPD_DRAIN_MAX		(64 << 10)	/* bytes read and dropped meanwhile */
#define HTTPD_SPARE		4		/* slots that only answer 503 */
#define HTTPD_SLOTS		(HTTPD_MAX_CONNS + HTTPD_SPARE)

/* ---- the request parser ---- */

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct httpd_req *r = p->data;

	if (r->target_len + len >= sizeof(r->target)) {
		r->status = 414;
		return -1;
	}
	memcpy(r->target + r->target_len, at, len);
	r->target_len += len;
	r->target[r->target_len] = '\0';
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct httpd_req *r = p->data;

	if (p->http_major != 1 || p->http_minor > 1) {
		r->status = 505;
		return -1;
	}
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct httpd_req *r = p->data;
	struct http_parser_url u;
	size_t n;

	http_parser_url_init(&u);
	if (http_parser_parse_url(r->target, r->target_len, p->method == HTTP_CONNECT, &u)) {
		r->status = 400;
		return -1;
	}
	if (u.field_set & (1 << UF_PATH)) {
		n = u.field_data[UF_PATH].len;
		memcpy(r->path, r->target + u.field_data[UF_PATH].off, n);
		r->path[n] = '\0';
	}
	snprintf(r->method, sizeof(r->method), "%s", http_method_str(p->method));
	r->complete = true;
	/* one request per connection: what follows is not parsed */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

void httpd_req_init(struct httpd_req *r)
{
	memset(r, 0, sizeof(*r));
	http_parser_init(&r->parser, HTTP_REQUEST);
}

static int req_result(const struct httpd_req *r)
{
	if (r->status)
		return -EINVAL;
	return r->complete ? 1 : 0;
}

int httpd_req_feed(struct httpd_req *r, const char *buf, size_t len)
{
	enum http_errno e;
	size_t room;

	if (r->status || r->complete)
		return req_result(r);
	room = HTTPD_MAX_REQUEST - r->total;
	if (len > room)
		len = room;
	r->parser.data = r;
	http_parser_execute(&r->parser, &settings, buf, len);
	r->total += len;
	e = HTTP_PARSER_ERRNO(&r->parser);
	if (!r->status && e != HPE_OK && e != HPE_PAUSED)
		r->status = e == HPE_INVALID_VERSION ? 505 : 400;
	if (!r->status && !r->complete && r->total >= HTTPD_MAX_REQUEST)
		r->status = 413;
	return req_result(r);
}

int httpd_req_eof(struct httpd_req *r)
{
	if (!r->status && !r->complete)
		r->status = 400;
	return req_result(r);
}

/* ---- responses ---- */

const char *httpd_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

int httpd_resp_head(const struct httpd_resp *resp, char *buf, size_t size)
{
	int n;

	n = snprintf(buf, size,
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s%sConnection: close\r\n\r\n",
		     resp->status, httpd_reason(resp->status),
		     resp->content_type ? resp->content_type : "text/plain; charset=utf-8",
		     resp->len, resp->allow ? "Allow: " : "", resp->allow ? resp->allow : "",
		     resp->allow ? "\r\n" : "");
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* ---- the server ---- */

struct hconn {
	int fd;				/* -1: free slot */
	uint64_t deadline;		/* CLOCK_MONOTONIC ms */
	struct httpd_req req;
	char *out;			/* head and body being sent */
	size_t out_len;
	size_t out_off;
	bool draining;			/* answered: reading what the peer still sends
					 * until it closes, so that closing with unread
					 * bytes (a reset) does not destroy the answer */
	size_t drained;
};

struct httpd {
	int lfd;
	uint16_t port;
	httpd_handler_fn handler;
	void *arg;
	struct hconn conns[HTTPD_SLOTS];	/* HTTPD_MAX_CONNS, then the spare ones */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int httpd_new(const char *host, uint16_t port, httpd_handler_fn handler, void *arg,
	      struct errmsg *em, struct httpd **ret)
{
	struct sockaddr_storage ss;
	struct httpd *h;
	socklen_t len;
	int one = 1, err = 0, i;

	if (addr_parse(host, port, &ss, &len))
		return errmsg_set(em, -EINVAL,
				  "[metrics] address '%s' is not a numeric IPv4 or IPv6 address (e.g. 127.0.0.1 or ::1)",
				  host);
	h = calloc(1, sizeof(*h));
	if (!h)
		return errmsg_set(em, -ENOMEM, "Out of memory");
	for (i = 0; i < HTTPD_SLOTS; i++)
		h->conns[i].fd = -1;
	h->handler = handler;
	h->arg = arg;
	h->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->lfd < 0) {
		err = errmsg_set(em, -errno, "Failed to create the metrics socket: %s",
				 strerror(errno));
		goto out;
	}
	(void)setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->lfd, (struct sockaddr *)&ss, len) < 0 || listen(h->lfd, 64) < 0) {
		err = errmsg_set(em, -errno,
				 "Failed to listen for metrics on [%s]:%u: %s; choose another [metrics] port",
				 host, port, strerror(errno));
		goto out;
	}
	len = sizeof(ss);
	if (!getsockname(h->lfd, (struct sockaddr *)&ss, &len))
		h->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						       : ((struct sockaddr_in6 *)&ss)->sin6_port);
out:
	if (err) {
		httpd_free(h);
		return err;
	}
	*ret = h;
	return 0;
}

uint16_t httpd_port(const struct httpd *h)
{
	return h->port;
}

static void conn_close(struct hconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->draining = false;
	c->drained = 0;
}

void httpd_free(struct httpd *h)
{
	int i;

	if (!h)
		return;
	for (i = 0; i < HTTPD_SLOTS; i++)
		conn_close(&h->conns[i]);
	if (h->lfd >= 0)
		close(h->lfd);
	free(h);
}

/* Queue resp (and its body unless head_only) on c. */
static void conn_respond(struct hconn *c, struct httpd_resp *resp, bool head_only)
{
	char head[512];
	int n = httpd_resp_head(resp, head, sizeof(head));
	size_t body = head_only ? 0 : resp->len;

	free(c->out);
	c->out = NULL;
	if (n > 0)
		c->out = malloc(n + body);
	if (c->out) {
		memcpy(c->out, head, n);
		if (body)
			memcpy(c->out + n, resp->body, body);
		c->out_len = n + body;
		c->out_off = 0;
	}
	free(resp->body);
	resp->body = NULL;
	if (!c->out)
		conn_close(c);
}

static void conn_error(struct hconn *c, int status)
{
	struct httpd_resp resp = { .status = status };
	char text[128];

	snprintf(text, sizeof(text), "%d %s\n", status, httpd_reason(status));
	resp.body = strdup(text);
	resp.len = resp.body ? strlen(resp.body) : 0;
	conn_respond(c, &resp, false);
}

static void conn_request(struct httpd *h, struct hconn *c)
{
	struct httpd_resp resp = { .status = 500 };

	h->handler(h->arg, &c->req, &resp);
	conn_respond(c, &resp, !strcmp(c->req.method, "HEAD"));
}

static void conn_read(struct httpd *h, struct hconn *c)
{
	char buf[4096];
	ssize_t n;
	int rc;

	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);		/* the peer is gone: nobody to answer */
		return;
	}
	if (c->draining) {
		c->drained += n;
		if (c->drained > HTTPD_DRAIN_MAX)
			conn_close(c);
		return;
	}
	rc = httpd_req_feed(&c->req, buf, n);
	if (rc < 0)
		conn_error(c, c->req.status);
	else if (rc > 0)
		conn_request(h, c);
}

static void conn_write(struct hconn *c, uint64_t now)
{
	ssize_t n;

	n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->out_off += n;
	if (c->out_off == c->out_len) {
		shutdown(c->fd, SHUT_WR);
		free(c->out);
		c->out = NULL;
		c->draining = true;
		if (c->deadline > now + HTTPD_DRAIN_MS)
			c->deadline = now + HTTPD_DRAIN_MS;
	}
}

/* One connection over the limit gets a 503 from a spare slot: answered, then
 * drained like any other (closing at once would reset it, and the peer might
 * never read the answer); with no spare slot either it is closed. */
static void conn_busy(struct httpd *h, int fd, uint64_t now)
{
	struct httpd_resp resp = { .status = 503 };
	struct hconn *c = NULL;
	int i;

	for (i = HTTPD_MAX_CONNS; i < HTTPD_SLOTS && !c; i++)
		if (h->conns[i].fd < 0)
			c = &h->conns[i];
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->deadline = now + HTTPD_DRAIN_MS;
	httpd_req_init(&c->req);
	c->req.status = 503;
	conn_respond(c, &resp, false);
}

static void do_accept(struct httpd *h, uint64_t now)
{
	struct hconn *c = NULL;
	int fd, i;

	fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < HTTPD_MAX_CONNS && !c; i++)
		if (h->conns[i].fd < 0)
			c = &h->conns[i];
	if (!c)
		return conn_busy(h, fd, now);
	c->fd = fd;
	c->deadline = now + HTTPD_TIMEOUT_MS;
	httpd_req_init(&c->req);
}

int httpd_run(struct httpd *h, int stop_fd)
{
	struct pollfd pfd[HTTPD_SLOTS + 2];
	int idx[HTTPD_SLOTS + 2];
	uint64_t now, next;
	int i, n, timeout;

	for (;;) {
		now = now_ms();
		next = 0;
		n = 0;
		pfd[n++] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = h->lfd, .events = POLLIN };
		for (i = 0; i < HTTPD_SLOTS; i++) {
			struct hconn *c = &h->conns[i];

			if (c->fd < 0)
				continue;
			if (now >= c->deadline) {
				conn_close(c);	/* too slow: no answer is owed */
				continue;
			}
			if (!next || c->deadline < next)
				next = c->deadline;
			idx[n] = i;
			pfd[n++] = (struct pollfd){ .fd = c->fd,
						    .events = c->out ? POLLOUT : POLLIN };
		}
		timeout = next ? (int)(next - now) : -1;
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[0].revents)
			return 0;
		now = now_ms();
		for (i = 2; i < n; i++) {
			struct hconn *c = &h->conns[idx[i]];

			if (!pfd[i].revents)
				continue;
			if (c->out)
				conn_write(c, now);
			else
				conn_read(h, c);
		}
		if (pfd[1].revents & POLLIN)
			do_accept(h, now);
	}
}
