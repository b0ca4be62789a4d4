/* SPDX-License-Identifier: Apache-2.0 */
/* http1.h - a small HTTP/1.1 client (registries): plain TCP or TLS (tls.h),
 * responses parsed by libhttp-parser, proxies, redirects, deadlines */
#ifndef BPFD_CORE_HTTP1_H
#define BPFD_CORE_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"

#define HTTP1_MAX_URL		2048
#define HTTP1_MAX_HEADERS	16384	/* status line + header block of one response */
#define HTTP1_MAX_ERROR_BODY	(64u << 10)	/* non-2xx bodies kept for messages */
#define HTTP1_MAX_REDIRECTS	5

/* Shared by requests: CA certificates (loaded once), deadlines, limits.  Use
 * from one thread at a time; never from the executor thread (it blocks). */
struct http1_client;

struct http1_opts {
	const char *const *ca_files;	/* extra CA files (paths or inline PEM) */
	size_t n_ca_files;
	bool no_system_ca;	/* do not load /etc/ssl/certs/ca-certificates.crt */
	unsigned int connect_timeout_ms;	/* TCP + TLS handshake (+ proxy CONNECT); 0: 10000 */
	unsigned int read_timeout_ms;	/* longest silence while waiting for bytes; 0: 30000 */
	uint64_t max_body;	/* bytes of one response body; 0: no limit */
	unsigned int max_redirects;	/* 0: HTTP1_MAX_REDIRECTS */
	/* Proxies as curl reads them: NULL takes $HTTPS_PROXY/$https_proxy,
	 * $HTTP_PROXY/$http_proxy and $NO_PROXY/$no_proxy; "" means none. */
	const char *https_proxy;
	const char *http_proxy;
	const char *no_proxy;
	/* A client certificate and key (paths or inline PEM, as tls.h reads them) for
	 * servers that authenticate clients by x509 (a Kubernetes API server); NULL: none. */
	const char *client_cert;
	const char *client_key;
};

struct http1_header {
	const char *name;
	const char *value;
};

/* Body bytes of a 2xx response as they arrive.  A non-zero return (-errno)
 * aborts the request, which then returns it (the callback sets em). */
typedef int (*http1_body_fn)(void *arg, const void *data, size_t len, struct errmsg *em);

struct http1_request {
	const char *method;		/* "GET" (default), "HEAD", "POST", "PUT", "PATCH", "DELETE" */
	const char *url;		/* http://host[:port]/path or https://... */
	const struct http1_header *headers;	/* extra headers (Accept, Range ...) */
	size_t n_headers;
	/* The Authorization header value; sent only to the host of url: a
	 * redirect to another host (blob storage) drops it. */
	const char *authorization;
	http1_body_fn on_body;		/* NULL: keep the body in the response */
	void *arg;
	/* A request body (sent with Content-Length; set its Content-Type in headers).
	 * Requests with a body, and methods other than GET and HEAD, follow no redirect. */
	const void *body;
	size_t body_len;
	/* The name the server certificate must carry (and the SNI sent), when it is not
	 * the URL's host (kubeconfig tls-server-name); NULL: the host. */
	const char *server_name;
	unsigned int read_timeout_ms;	/* this request's longest silence; 0: the client's */
};

struct http1_response {
	int status;			/* 200, 404 ... of the final response */
	char *content_type;		/* NULL when absent (as the other headers) */
	char *www_authenticate;
	char *docker_content_digest;
	char *location;			/* of a redirect that was not followed */
	char *retry_after;		/* Retry-After of a 429/503 (seconds or a date) */
	int64_t content_length;		/* -1 when not given */
	char *body;			/* on_body NULL or status not 2xx: NUL-terminated */
	size_t body_len;
	uint64_t body_total;		/* bytes of body received (given to on_body or kept) */
	char url[HTTP1_MAX_URL];	/* the URL that answered, after redirects */
	unsigned int redirects;
};

/* Create a client.  Errors: the CA files (-ENOENT, -EINVAL ...) with em
 * naming the file, -ENOMEM.  *ret is freed with http1_client_free(). */
int http1_client_new(const struct http1_opts *opts, struct http1_client **ret,
		     struct errmsg *em);
void http1_client_free(struct http1_client *c);

/*
 * Do one request on a new connection (Connection: close) and read the whole
 * response.  Redirects (301, 302, 303, 307, 308) are followed up to
 * max_redirects times, across hosts and schemes (https -> http is refused).
 * A 2xx body goes to on_body when it is set, else into resp->body (capped by
 * max_body); other bodies are kept up to HTTP1_MAX_ERROR_BODY bytes.  Any
 * HTTP status is a success of this call: the caller judges resp->status.
 * Errors, each with em naming the URL and what happened:
 *   -EINVAL      a bad URL or request, or https to a server that sent a bad
 *                redirect
 *   -EHOSTUNREACH / -ECONNREFUSED / -ENETUNREACH / -ENOENT (no such host)
 *   -ETIMEDOUT   connect or TLS handshake over connect_timeout_ms, or no
 *                byte for read_timeout_ms ("the server accepted but did not answer")
 *   -EACCES      the server certificate is not trusted or not for this name
 *   -EPROTO      TLS failure, a malformed response, a proxy refusing CONNECT
 *   -EFBIG       a body over max_body
 *   -ELOOP       more than max_redirects redirects
 *   -ECONNRESET  the connection closed before the response was complete
 *   or the error on_body returned.
 * resp is filled on success and must be freed with http1_response_free()
 * whatever the result.
 */
int http1_request(struct http1_client *c, const struct http1_request *req,
		  struct http1_response *resp, struct errmsg *em);
void http1_response_free(struct http1_response *resp);

/* Parse an HTTP/1.1 response held in memory (no I/O): what http1_request()
 * does with the bytes of a connection.  For the fuzzer and unit tests.
 * is_head: the response to a HEAD (no body).  0 or -EPROTO/-EFBIG + em. */
int http1_parse_response(const char *data, size_t len, bool is_head, uint64_t max_body,
			 http1_body_fn on_body, void *arg, struct http1_response *resp,
			 struct errmsg *em);

/* One challenge of a WWW-Authenticate header (RFC 7235): the scheme and the
 * parameters the registry protocol uses.  Unknown parameters are ignored. */
struct http1_challenge {
	char scheme[16];		/* "Basic", "Bearer" (as sent) */
	char realm[HTTP1_MAX_URL];
	char service[256];
	char scope[1024];
	char error[64];			/* Bearer error="insufficient_scope" ... */
};

/* Parse the first challenge of value.  0, or -EINVAL with em saying what is
 * wrong (no scheme, an unterminated quoted string, a value too long). */
int http1_parse_challenge(const char *value, struct http1_challenge *ret, struct errmsg *em);

/* Split an http(s) URL.  port is the explicit one or 80/443.  host is
 * without brackets for IPv6.  0 or -EINVAL + em. */
struct http1_url {
	bool tls;
	char host[256];
	uint16_t port;
	char path[HTTP1_MAX_URL];	/* "/..." with the query, never empty */
};
int http1_parse_url(const char *url, struct http1_url *ret, struct errmsg *em);

/* Does the NO_PROXY list (comma-separated host names, ".domain" or
 * "domain" suffixes, host:port, "*") exclude host:port from the proxy? */
bool http1_no_proxy_match(const char *no_proxy, const char *host, uint16_t port);

#endif
