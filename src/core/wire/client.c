/* SPDX-License-Identifier: Apache-2.0 */
/* client.c - blocking unary gRPC calls over a unix socket or TCP with mTLS */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "core/wire/addr.h"
#include "core/wire/certgen.h"
#include "core/wire/client.h"
#include "core/wire/h2.h"
#include "core/base/limits.h"
#include "core/wire/tls.h"

struct client {
	struct h2_io io;
	struct tls_ctx *tls;
	struct h2_client *h2;
	char endpoint[512];
	char authority[300];
	bool is_tcp;
	uint64_t timeout_ms;
	void (*on_open)(void *arg);
	void *on_open_arg;
};

struct endpoint {
	bool tcp;
	char path[108];			/* unix */
	char host[256];			/* tcp, without brackets */
	uint16_t port;
};

static int endpoint_parse(const char *s, struct endpoint *ep, struct errmsg *em)
{
	memset(ep, 0, sizeof(*ep));
	if (!strncmp(s, "unix://", 7)) {
		if (strlen(s + 7) >= sizeof(ep->path) || !s[7])
			goto bad;
		strcpy(ep->path, s + 7);
		return 0;
	}
	if (strncmp(s, "tcp://", 6))
		goto bad;
	ep->tcp = true;
	if (addr_split(s + 6, ep->host, sizeof(ep->host), &ep->port))
		goto bad;
	return 0;
bad:
	return errmsg_set(em, -EINVAL,
			  "Endpoint '%s' is not unix:///PATH or tcp://HOST:PORT (HOST numeric, [IPv6] or localhost)",
			  s);
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now = grpc_now_ms();
	int rc;

	if (now >= deadline)
		return -ETIMEDOUT;
	/* UINT64_MAX: no deadline (a stream) */
	rc = poll(&p, 1, deadline == UINT64_MAX ? -1 :
			 deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now));
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	return rc ? 0 : -ETIMEDOUT;
}

static int connect_fd(struct client *c, const struct endpoint *ep, uint64_t deadline,
		      struct errmsg *em)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_un *su = (struct sockaddr_un *)&ss;
	const char *host = ep->host;
	socklen_t len, elen = sizeof(int);
	int fd, err = 0, one = 1;

	if (!ep->tcp) {
		su->sun_family = AF_UNIX;
		strcpy(su->sun_path, ep->path);
		len = sizeof(*su);
	} else {
		if (!strcmp(host, "localhost"))
			host = "127.0.0.1";	/* no NSS in a static binary */
		if (addr_parse(host, ep->port, &ss, &len))
			return errmsg_set(em, -EINVAL,
					  "'%s' is not a numeric address: bpfctl does not resolve host names (use 127.0.0.1, [::1] or localhost)",
					  ep->host);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errmsg_set(em, -errno, "Failed to create a socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		err = -errno;
		if (err == -EINPROGRESS || err == -EAGAIN) {
			err = wait_fd(fd, POLLOUT, deadline);
			if (!err && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen))
				err = -err;
		}
	}
	if (err) {
		close(fd);
		return errmsg_set(em, err, "Failed to connect to '%s': %s%s", c->endpoint,
				  strerror(-err),
				  err == -ENOENT || err == -ECONNREFUSED ? " (is bpfd running?)" : "");
	}
	if (ep->tcp)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->io.fd = fd;
	return 0;
}

static void cert_path(char *buf, size_t size, const char *given, const char *rel)
{
	snprintf(buf, size, "%s", given ? given : "");
	if (!given)
		snprintf(buf, size, "%s/%s", CERTGEN_DIR, rel);
}

static int tls_start(struct client *c, const struct client_opts *o, const struct endpoint *ep,
		     uint64_t deadline, struct errmsg *em)
{
	char ca[512], cert[512], key[512];
	struct in6_addr a;
	const char *name;
	int err;

	cert_path(ca, sizeof(ca), o->ca, CERTGEN_CA_PEM);
	cert_path(cert, sizeof(cert), o->cert, CERTGEN_CLIENT_PEM);
	cert_path(key, sizeof(key), o->key, CERTGEN_CLIENT_KEY);
	/* mbedtls 2.28 matches only DNS names (SAN dNSName or CN), never IP
	 * address SANs: for a numeric host verify the server as "localhost",
	 * which the certificates made by bpfd (certgen_ensure) carry. */
	name = ep->host;
	if (inet_pton(AF_INET, name, &a) == 1 || inet_pton(AF_INET6, name, &a) == 1)
		name = "localhost";
	err = tls_client_new(ca, cert, key, name, em, &c->tls);
	if (err)
		return err;
	err = tls_conn_new(c->tls, c->io.fd, &c->io.tls);
	if (err)
		return errmsg_set(em, err, "Failed to start TLS: %s", strerror(-err));
	for (;;) {
		err = tls_conn_handshake(c->io.tls);
		if (err != -EAGAIN)
			break;
		err = wait_fd(c->io.fd, tls_conn_wants(c->io.tls), deadline);
		if (err)
			break;
	}
	if (err == -ETIMEDOUT)
		return errmsg_set(em, err, "TLS handshake with '%s' timed out", c->endpoint);
	if (err)
		return errmsg_set(em, err, "TLS handshake with '%s' failed: %s", c->endpoint,
				  tls_conn_errstr(c->io.tls));
	return 0;
}

int client_open(const struct client_opts *o, struct client **ret, struct errmsg *em)
{
	const char *ep_str = o->endpoint;
	struct client *c;
	struct endpoint ep;
	uint64_t deadline;
	int err;

	if (!ep_str || !*ep_str)
		ep_str = secure_getenv("BPFD_ENDPOINT");
	if (!ep_str || !*ep_str)
		ep_str = CLIENT_DEFAULT_ENDPOINT;
	err = endpoint_parse(ep_str, &ep, em);
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c)
		return errmsg_set(em, -ENOMEM, "Out of memory");
	c->io.fd = -1;
	c->is_tcp = ep.tcp;
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : CLIENT_DEFAULT_TIMEOUT_MS;
	snprintf(c->endpoint, sizeof(c->endpoint), "%s", ep_str);
	if (ep.tcp)
		snprintf(c->authority, sizeof(c->authority), "%s:%d", ep.host, ep.port);
	else
		snprintf(c->authority, sizeof(c->authority), "localhost");
	deadline = grpc_now_ms() + c->timeout_ms;
	err = connect_fd(c, &ep, deadline, em);
	if (!err && ep.tcp)
		err = tls_start(c, o, &ep, deadline, em);
	if (!err) {
		err = h2_client_new(&c->h2);
		if (err)
			errmsg_set(em, err, "Failed to start HTTP/2: %s", strerror(-err));
	}
	if (err) {
		client_close(c);
		return err;
	}
	*ret = c;
	return 0;
}

void client_close(struct client *c)
{
	if (!c)
		return;
	h2_client_free(c->h2);
	tls_conn_free(c->io.tls);
	tls_ctx_free(c->tls);
	if (c->io.fd >= 0)
		close(c->io.fd);
	free(c);
}

void client_on_open(struct client *c, void (*fn)(void *arg), void *arg)
{
	c->on_open = fn;
	c->on_open_arg = arg;
}

void client_shutdown(struct client *c)
{
	/* poll() in the other thread wakes up, and its read() sees the end */
	if (c->io.fd >= 0)
		(void)shutdown(c->io.fd, SHUT_RDWR);
}

const char *client_endpoint(const struct client *c)
{
	return c->endpoint;
}

static bool buf_write(pb_ostream_t *s, const pb_byte_t *b, size_t n)
{
	return !grpc_buf_append(s->state, b, n);
}

/* Write everything nghttp2 has queued. */
static int pump_out(struct client *c, uint64_t deadline)
{
	const uint8_t *p;
	ssize_t n, w;
	int err;

	for (;;) {
		n = h2_client_send(c->h2, &p);
		if (n < 0)
			return n;
		if (!n)
			break;
		while (n > 0) {
			w = h2_io_write(&c->io, p, n);
			if (w == -EAGAIN) {
				err = wait_fd(c->io.fd, c->io.tls ? tls_conn_wants(c->io.tls) : POLLOUT,
					      deadline);
				if (err)
					return err;
				continue;
			}
			if (w < 0)
				return w;
			p += w;
			n -= w;
		}
	}
	while (c->io.tls && (err = h2_io_flush(&c->io)) == -EAGAIN) {
		err = wait_fd(c->io.fd, POLLOUT, deadline);
		if (err)
			return err;
	}
	return 0;
}

static int pump_in(struct client *c, uint64_t deadline)
{
	uint8_t buf[16384];
	ssize_t n;
	int err;

	for (;;) {
		n = h2_io_read(&c->io, buf, sizeof(buf));
		if (n == -EAGAIN) {
			short ev = c->io.tls ? tls_conn_wants(c->io.tls) : POLLIN;

			err = wait_fd(c->io.fd, ev ? ev : POLLIN, deadline);
			if (err)
				return err;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return n;
		return h2_client_recv(c->h2, buf, n);
	}
}

static void status_set(struct client_status *st, enum grpc_status code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void status_set(struct client_status *st, enum grpc_status code, const char *fmt, ...)
{
	va_list ap;

	st->code = code;
	va_start(ap, fmt);
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	va_end(ap);
}

static void finish(struct client *c, const char *method, const pb_msgdesc_t *resp_fields,
		   void *resp, struct client_status *st)
{
	struct h2_client_result *res = h2_client_result(c->h2);
	pb_istream_t is;

	if (res->body_err == -EMSGSIZE)
		return status_set(st, GRPC_RESOURCE_EXHAUSTED,
				  "The reply to %s is larger than %u bytes", method,
				  CLIENT_MAX_RECV_MSG);
	if (res->grpc_status < 0) {
		if (res->http_status && res->http_status != 200)
			return status_set(st, GRPC_UNKNOWN, "'%s' answered HTTP status %d: not a gRPC server?",
					  c->endpoint, res->http_status);
		if (res->goaway[0])	/* e.g. a connection limit: the daemon says which */
			return status_set(st, GRPC_UNAVAILABLE, "'%s': %s", c->endpoint,
					  res->goaway);
		return status_set(st, GRPC_UNAVAILABLE,
				  "'%s' ended the call without a status (HTTP/2 error code %u)",
				  c->endpoint, res->rst_code);
	}
	st->code = res->grpc_status;
	snprintf(st->message, sizeof(st->message), "%s", res->message);
	if (st->code != GRPC_OK || !resp_fields)	/* a stream: messages went by */
		return;
	if (grpc_reader_finish(&res->body))
		return status_set(st, GRPC_INTERNAL, "The reply to %s carries no complete message",
				  method);
	is = pb_istream_from_buffer(res->body.buf.data, res->body.buf.len);
	if (!pb_decode(&is, resp_fields, resp))
		return status_set(st, GRPC_INTERNAL, "Failed to decode the reply to %s: %s",
				  method, PB_GET_ERROR(&is));
}

/* The server closed: take what it sent before (a GOAWAY saying why). */
static void drain_in(struct client *c)
{
	uint8_t buf[4096];
	ssize_t n;

	while ((n = h2_io_read(&c->io, buf, sizeof(buf))) > 0)
		if (h2_client_recv(c->h2, buf, n))
			break;
}

static void call_end(struct client *c, const char *method, int err,
		     const pb_msgdesc_t *resp_fields, void *resp, struct client_status *st);

/* Encode req and send it as a call of method; then read until the call is
 * over or the deadline.  0 with *ret_err the transport's result, or the
 * local error before anything was sent (st set for an encoding failure). */
static int call_run(struct client *c, const char *method, const pb_msgdesc_t *req_fields,
		    const void *req, uint64_t timeout_ms, uint64_t deadline,
		    struct client_status *st, int *ret_err)
{
	pb_ostream_t os = { .callback = buf_write, .max_size = SIZE_MAX };
	struct grpc_buf body = { 0 };
	struct h2_client_result *res;
	int err;

	memset(st, 0, sizeof(*st));
	*ret_err = 1;
	os.state = &body;
	if (!pb_encode(&os, req_fields, req)) {
		status_set(st, GRPC_INTERNAL, "Failed to encode the request: %s", PB_GET_ERROR(&os));
		err = 0;
		goto out;
	}
	err = h2_client_call(c->h2, c->is_tcp ? "https" : "http", c->authority, method,
			     body.data, body.len, timeout_ms, CLIENT_MAX_RECV_MSG);
	if (err)
		goto out;
	res = h2_client_result(c->h2);
	while (!res->closed) {
		err = pump_out(c, deadline);
		if (!err && !res->closed)
			err = pump_in(c, deadline);
		if (err)
			break;
		if (c->on_open && res->http_status) {
			c->on_open(c->on_open_arg);
			c->on_open = NULL;
		}
	}
	c->on_open = NULL;
	*ret_err = err;
	err = 0;
out:
	grpc_buf_fini(&body);
	return err;
}

int client_call(struct client *c, const char *method, const pb_msgdesc_t *req_fields,
		const void *req, const pb_msgdesc_t *resp_fields, void *resp,
		struct client_status *st)
{
	int err, terr;

	err = call_run(c, method, req_fields, req, c->timeout_ms,
		       grpc_now_ms() + c->timeout_ms, st, &terr);
	if (err || terr == 1)
		return err;
	if (terr == -ENOMEM)
		return -ENOMEM;
	call_end(c, method, terr, resp_fields, resp, st);
	return 0;
}

struct stream_ctx {
	const pb_msgdesc_t *fields;
	void *resp;
	int (*on_msg)(void *arg, void *resp);
	void *arg;
	char err[256];
	bool stopped;
};

static int stream_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct stream_ctx *sc = arg;
	pb_istream_t is = pb_istream_from_buffer(msg, len);
	int err;

	if (!pb_decode(&is, sc->fields, sc->resp)) {
		snprintf(sc->err, sizeof(sc->err), "%s", PB_GET_ERROR(&is));
		return -EBADMSG;
	}
	err = sc->on_msg(sc->arg, sc->resp);
	if (err)
		sc->stopped = true;
	return err;
}

int client_stream(struct client *c, const char *method, const pb_msgdesc_t *req_fields,
		  const void *req, const pb_msgdesc_t *resp_fields, void *resp,
		  int (*on_msg)(void *arg, void *resp), void *arg, struct client_status *st)
{
	struct stream_ctx sc = { .fields = resp_fields, .resp = resp, .on_msg = on_msg,
				 .arg = arg };
	int err, terr;

	h2_client_on_message(c->h2, stream_msg, &sc);
	err = call_run(c, method, req_fields, req, 0, UINT64_MAX, st, &terr);
	h2_client_on_message(c->h2, NULL, NULL);
	if (err || terr == 1)
		return err;
	if (sc.err[0])
		status_set(st, GRPC_INTERNAL, "Failed to decode a message of %s: %s", method,
			   sc.err);
	else if (sc.stopped)
		status_set(st, GRPC_CANCELLED, "Stopped by the reader");
	else
		call_end(c, method, terr, NULL, NULL, st);
	return 0;
}

static void call_end(struct client *c, const char *method, int err,
		     const pb_msgdesc_t *resp_fields, void *resp, struct client_status *st)
{
	struct h2_client_result *res = h2_client_result(c->h2);

	if (err == -EPIPE || err == -ECONNRESET)
		drain_in(c);
	if (err && res->goaway[0])	/* refused, e.g. a connection limit: it says why */
		status_set(st, GRPC_UNAVAILABLE, "'%s': %s", c->endpoint, res->goaway);
	else if (err == -ETIMEDOUT)
		status_set(st, GRPC_DEADLINE_EXCEEDED, "No reply from '%s' within %llu ms",
			   c->endpoint, (unsigned long long)c->timeout_ms);
	else if (err == -ENOMEM)
		status_set(st, GRPC_RESOURCE_EXHAUSTED, "Out of memory");
	else if (err)
		status_set(st, GRPC_UNAVAILABLE, "Connection to '%s' lost: %s", c->endpoint,
			   err == -EPROTO ? "HTTP/2 protocol error" : strerror(-err));
	else
		finish(c, method, resp_fields, resp, st);
}
