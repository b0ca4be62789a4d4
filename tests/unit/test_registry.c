/* SPDX-License-Identifier: Apache-2.0 */
/* test_registry.c - the HTTP/1.1 client (wire/http1.c) and the registry client
 * (image/registry.c) against scripted peers on 127.0.0.1 in this process.
 *
 * `test_registry pull ...` is also the driver of tests/integration/t_registry.sh,
 * which runs the real peers (docker-registry, token server, proxy): see usage(). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "digest.h"
#include "core/image/registry.h"
#include "core/image/store.h"
#include "core/wire/errmap.h"
#include "core/wire/http1.h"

/* ---- pure parsing ------------------------------------------------------ */

struct collect {
	char buf[4096];
	size_t len;
	int calls;
	int fail_with;
};

static int collect_body(void *arg, const void *data, size_t len, struct errmsg *em)
{
	struct collect *c = arg;

	c->calls++;
	if (c->fail_with)
		return errmsg_set(em, c->fail_with, "the callback refuses");
	if (c->len + len > sizeof(c->buf))
		return -EFBIG;
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	return 0;
}

static int parse(const char *text, bool head, uint64_t max, http1_body_fn cb, void *arg,
		 struct http1_response *r, struct errmsg *em)
{
	memset(em, 0, sizeof(*em));
	return http1_parse_response(text, strlen(text), head, max, cb, arg, r, em);
}

static void response_content_length(void)
{
	struct http1_response r;
	struct errmsg em;

	ASSERT_OK(parse("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
			"Docker-Content-Digest: sha256:abc\r\nX-Other: 1\r\nContent-Length: 5\r\n\r\nhello",
			false, 0, NULL, NULL, &r, &em), em.msg);
	ASSERT_EQ(r.status, 200, "status");
	ASSERT_STREQ(r.content_type, "application/vnd.oci.image.manifest.v1+json", "content type");
	ASSERT_STREQ(r.docker_content_digest, "sha256:abc", "digest header");
	ASSERT_EQ(r.content_length, 5, "content length");
	ASSERT_EQ(r.body_len, 5, "body length");
	ASSERT_STREQ(r.body, "hello", "body");
	ASSERT_TRUE(!r.www_authenticate && !r.location, "absent headers are NULL");
	http1_response_free(&r);
	/* header names are case-insensitive; a header split over parser calls is whole */
	ASSERT_OK(parse("HTTP/1.0 401 Unauthorized\r\nwww-AUTHENTICATE: Bearer realm=\"x\"\r\n"
			"content-length: 2\r\n\r\n{}", false, 0, NULL, NULL, &r, &em), em.msg);
	ASSERT_EQ(r.status, 401, "401");
	ASSERT_STREQ(r.www_authenticate, "Bearer realm=\"x\"", "www-authenticate");
	ASSERT_STREQ(r.body, "{}", "error body kept");
	http1_response_free(&r);
}

static void response_chunked(void)
{
	struct http1_response r;
	struct collect c = { 0 };
	struct errmsg em;

	ASSERT_OK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
			false, 0, collect_body, &c, &r, &em), em.msg);
	ASSERT_EQ(r.content_length, -1, "no content length");
	ASSERT_EQ(r.body_total, 11, "body total");
	ASSERT_EQ(c.len, 11, "streamed");
	ASSERT_TRUE(!memcmp(c.buf, "hello world", 11), "streamed bytes");
	ASSERT_TRUE(!r.body, "nothing kept when streaming");
	http1_response_free(&r);
	/* a body without length runs to the end of the connection */
	ASSERT_OK(parse("HTTP/1.1 200 OK\r\n\r\nuntil close", false, 0, NULL, NULL, &r, &em), em.msg);
	ASSERT_STREQ(r.body, "until close", "close-delimited body");
	http1_response_free(&r);
}

static void response_head_and_errors(void)
{
	struct http1_response r;
	struct collect c = { 0 };
	struct errmsg em;

	ASSERT_OK(parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true, 10, NULL, NULL,
			&r, &em), em.msg);
	ASSERT_EQ(r.content_length, 100, "HEAD: length without body, no cap");
	http1_response_free(&r);

	ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", false, 10, NULL, NULL,
			&r, &em), -EFBIG, "Content-Length over the cap");
	ASSERT_STRSTR(em.msg, "more than the limit of 10", em.msg);
	http1_response_free(&r);
	ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			"8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n", false, 10, NULL, NULL, &r, &em),
		  -EFBIG, "chunked over the cap");
	http1_response_free(&r);

	ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false, 0, NULL, NULL,
			&r, &em), -ECONNRESET, "truncated body");
	ASSERT_STRSTR(em.msg, "middle of the response body", em.msg);
	http1_response_free(&r);
	ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Le", false, 0, NULL, NULL, &r, &em),
		  -ECONNRESET, "truncated headers");
	http1_response_free(&r);
	ASSERT_EQ(parse("", false, 0, NULL, NULL, &r, &em), -ECONNRESET, "nothing at all");
	http1_response_free(&r);
	ASSERT_EQ(parse("SSH-2.0-OpenSSH_9.2\r\n", false, 0, NULL, NULL, &r, &em), -EPROTO,
		  "not HTTP");
	ASSERT_STRSTR(em.msg, "malformed HTTP response", em.msg);
	http1_response_free(&r);
	ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, 0,
			NULL, NULL, &r, &em), -EPROTO, "bad chunk size");
	http1_response_free(&r);

	/* an error status never reaches the body callback; its body is kept */
	ASSERT_OK(parse("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", false, 0,
			collect_body, &c, &r, &em), em.msg);
	ASSERT_EQ(c.calls, 0, "no callback for 404");
	ASSERT_STREQ(r.body, "not found", "404 body");
	http1_response_free(&r);
	/* the callback's error ends the parse */
	c.fail_with = -ENOSPC;
	ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", false, 0, collect_body,
			&c, &r, &em), -ENOSPC, "callback error");
	ASSERT_STREQ(em.msg, "the callback refuses", em.msg);
	http1_response_free(&r);
}

static void response_header_limits(void)
{
	struct http1_response r;
	struct errmsg em;
	char *text = malloc(40000);
	size_t n;

	n = sprintf(text, "HTTP/1.1 200 OK\r\nX-Long: ");
	memset(text + n, 'a', 20000);
	strcpy(text + n + 20000, "\r\nContent-Length: 0\r\n\r\n");
	ASSERT_EQ(parse(text, false, 0, NULL, NULL, &r, &em), -EPROTO, "one huge header");
	ASSERT_STRSTR(em.msg, "longer than", em.msg);
	http1_response_free(&r);
	free(text);
}

static void challenge(void)
{
	struct http1_challenge c;
	struct errmsg em = { 0 };

	ASSERT_OK(http1_parse_challenge("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\"",
					&c, &em), em.msg);
	ASSERT_STREQ(c.scheme, "Bearer", "scheme");
	ASSERT_STREQ(c.realm, "https://auth.docker.io/token", "realm");
	ASSERT_STREQ(c.service, "registry.docker.io", "service");
	ASSERT_STREQ(c.scope, "repository:library/alpine:pull", "scope");
	ASSERT_OK(http1_parse_challenge("  basic   realm=test-realm , charset=\"UTF-8\"", &c, &em),
		  em.msg);
	ASSERT_STREQ(c.scheme, "basic", "scheme as sent");
	ASSERT_STREQ(c.realm, "test-realm", "token value");
	ASSERT_OK(http1_parse_challenge("Bearer realm=\"a\\\"b\",error=\"insufficient_scope\"", &c,
					&em), em.msg);
	ASSERT_STREQ(c.realm, "a\"b", "quoted-pair");
	ASSERT_STREQ(c.error, "insufficient_scope", "error");
	ASSERT_OK(http1_parse_challenge("Basic realm=\"one\", Bearer realm=\"two\"", &c, &em), em.msg);
	ASSERT_STREQ(c.scheme, "Basic", "first challenge");
	ASSERT_STREQ(c.realm, "one", "first challenge's realm");
	ASSERT_EQ(http1_parse_challenge("", &c, &em), -EINVAL, "empty");
	ASSERT_STRSTR(em.msg, "no scheme", em.msg);
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(http1_parse_challenge("Bearer realm=\"open", &c, &em), -EINVAL, "unterminated");
	ASSERT_STRSTR(em.msg, "unterminated", em.msg);
}

static void urls_and_proxies(void)
{
	struct http1_url u;
	struct errmsg em = { 0 };

	ASSERT_OK(http1_parse_url("https://Reg.example:5000/v2/a/b/manifests/x?y=1#frag", &u, &em),
		  em.msg);
	ASSERT_TRUE(u.tls, "https");
	ASSERT_STREQ(u.host, "Reg.example", "host");
	ASSERT_EQ(u.port, 5000, "port");
	ASSERT_STREQ(u.path, "/v2/a/b/manifests/x?y=1", "path and query, no fragment");
	ASSERT_OK(http1_parse_url("http://[::1]/", &u, &em), em.msg);
	ASSERT_STREQ(u.host, "::1", "IPv6 without brackets");
	ASSERT_EQ(u.port, 80, "default port");
	ASSERT_OK(http1_parse_url("https://h", &u, &em), em.msg);
	ASSERT_STREQ(u.path, "/", "empty path");
	ASSERT_EQ(u.port, 443, "https port");
	ASSERT_EQ(http1_parse_url("ftp://h/x", &u, &em), -EINVAL, "ftp");
	ASSERT_EQ(http1_parse_url("https://user:pw@h/x", &u, &em), -EINVAL, "credentials in URL");
	ASSERT_EQ(http1_parse_url("/relative", &u, &em), -EINVAL, "relative");

	ASSERT_TRUE(http1_no_proxy_match("localhost,.example.com", "reg.example.com", 443),
		    ".domain suffix");
	ASSERT_TRUE(http1_no_proxy_match("example.com", "example.com", 443), "exact");
	ASSERT_TRUE(http1_no_proxy_match("example.com", "a.example.com", 443), "domain suffix");
	ASSERT_FALSE(http1_no_proxy_match("example.com", "badexample.com", 443), "not a suffix");
	ASSERT_TRUE(http1_no_proxy_match(" 127.0.0.1:5000 ", "127.0.0.1", 5000), "host:port");
	ASSERT_FALSE(http1_no_proxy_match("127.0.0.1:5000", "127.0.0.1", 5001), "other port");
	ASSERT_TRUE(http1_no_proxy_match("*", "anything", 1), "star");
	ASSERT_TRUE(http1_no_proxy_match("[::1]", "::1", 80), "IPv6 literal");
	ASSERT_FALSE(http1_no_proxy_match("", "a", 1), "empty list");
	ASSERT_FALSE(http1_no_proxy_match(NULL, "a", 1), "no list");
}

static void insecure_list_and_errmap(void)
{
	const char *list[] = { "127.0.0.1:5000", "localhost" };
	struct registry_opts o = { .insecure = list, .n_insecure = 2 };

	ASSERT_TRUE(registry_is_insecure(&o, "127.0.0.1:5000"), "exact");
	ASSERT_FALSE(registry_is_insecure(&o, "127.0.0.1:5001"), "other port");
	ASSERT_TRUE(registry_is_insecure(&o, "localhost:9999"), "host matches every port");
	ASSERT_TRUE(registry_is_insecure(&o, "LOCALHOST"), "case");
	ASSERT_FALSE(registry_is_insecure(&o, "localhost.example:1"), "not a prefix match");
	ASSERT_FALSE(registry_is_insecure(NULL, "localhost"), "no options");

	ASSERT_EQ(grpc_status_from_errno(-ENOENT), GRPC_NOT_FOUND, "404");
	ASSERT_EQ(grpc_status_from_errno(-ENOKEY), GRPC_UNAUTHENTICATED, "401");
	ASSERT_EQ(grpc_status_from_errno(-EACCES), GRPC_PERMISSION_DENIED, "403");
	ASSERT_EQ(grpc_status_from_errno(-EHOSTUNREACH), GRPC_UNAVAILABLE, "unreachable");
	ASSERT_EQ(grpc_status_from_errno(-EFBIG), GRPC_RESOURCE_EXHAUSTED, "too big");
}

/* ---- scripted peers ------------------------------------------------------- */

#define PEER_MAX 8

/* A server on 127.0.0.1 that answers its i-th connection with reply[i] (NULL:
 * read the request and say nothing until the test ends) and keeps each request. */
struct peer {
	int fd;
	uint16_t port;
	const char *reply[PEER_MAX];
	size_t n;
	char req[PEER_MAX][4096];
	size_t served;
	pthread_t th;
};

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	size_t i, n;
	ssize_t r;
	int c;

	for (i = 0; i < p->n; i++) {
		c = accept(p->fd, NULL, NULL);
		if (c < 0)
			return NULL;
		n = 0;
		while (n < sizeof(p->req[i]) - 1 && !strstr(p->req[i], "\r\n\r\n")) {
			r = read(c, p->req[i] + n, sizeof(p->req[i]) - 1 - n);
			if (r <= 0)
				break;
			n += r;
			p->req[i][n] = '\0';
		}
		/* a request body (Content-Length) is read too */
		{
			const char *cl = strcasestr(p->req[i], "Content-Length: "), *end;
			size_t want;

			end = strstr(p->req[i], "\r\n\r\n");
			if (cl && end) {
				want = (size_t)(end + 4 - p->req[i]) + strtoul(cl + 16, NULL, 10);
				while (n < want && n < sizeof(p->req[i]) - 1) {
					r = read(c, p->req[i] + n, sizeof(p->req[i]) - 1 - n);
					if (r <= 0)
						break;
					n += r;
					p->req[i][n] = '\0';
				}
			}
		}
		p->served = i + 1;
		if (!p->reply[i]) {
			pause();	/* never answers; the test process exits */
		}
		if (write(c, p->reply[i], strlen(p->reply[i])) < 0)
			break;
		close(c);
	}
	return NULL;
}

static void peer_start(struct peer *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(p->fd, 8) || getsockname(p->fd, (struct sockaddr *)&sa, &sl)) {
		perror("peer");
		exit(1);
	}
	p->port = ntohs(sa.sin_port);
	pthread_create(&p->th, NULL, peer_main, p);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct http1_client *client(unsigned int read_ms)
{
	struct http1_opts o = { .read_timeout_ms = read_ms, .connect_timeout_ms = 2000,
				.https_proxy = "", .http_proxy = "", .no_proxy = "" };
	struct http1_client *c = NULL;
	struct errmsg em = { 0 };

	if (http1_client_new(&o, &c, &em))
		fprintf(stderr, "client: %s\n", em.msg);
	return c;
}

static void silent_server_times_out(void)
{
	struct peer p = { .n = 1 };
	struct http1_request req = { 0 };
	struct http1_response r;
	struct errmsg em = { 0 };
	struct http1_client *c = client(300);
	char url[64];
	int64_t t0;

	peer_start(&p);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v2/", p.port);
	req.url = url;
	t0 = mono_ms();
	ASSERT_EQ(http1_request(c, &req, &r, &em), -ETIMEDOUT, "silent server");
	ASSERT_STRSTR(em.msg, "accepted the connection but sent nothing for 300 ms", em.msg);
	ASSERT_TRUE(mono_ms() - t0 < 3000, "within the read timeout (not hanging)");
	http1_response_free(&r);
	http1_client_free(c);
}

static void connection_refused(void)
{
	struct peer p = { 0 };
	struct http1_request req = { 0 };
	struct http1_response r;
	struct errmsg em = { 0 };
	struct http1_client *c = client(300);
	char url[64];

	peer_start(&p);		/* take a free port ... */
	close(p.fd);		/* ... and free it again (n = 0: the thread is done) */
	pthread_join(p.th, NULL);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v2/", p.port);
	req.url = url;
	ASSERT_EQ(http1_request(c, &req, &r, &em), -ECONNREFUSED, "closed port");
	ASSERT_STRSTR(em.msg, "cannot connect to 127.0.0.1", em.msg);
	http1_response_free(&r);
	http1_client_free(c);
}

/* A redirect to another origin (blob storage) loses Authorization; one to the
 * same origin keeps it. */
/* Writes (the Kubernetes agent): a body with its Content-Length, no redirect
 * followed, Retry-After kept, methods checked. */
static void write_methods(void)
{
	struct peer p = { .n = 2, .reply = {
		"HTTP/1.1 307 Temporary Redirect\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n" } };
	struct http1_header h = { "Content-Type", "application/merge-patch+json" };
	struct http1_request req = { .method = "PATCH", .headers = &h, .n_headers = 1,
				     .body = "{\"a\":1}", .body_len = 7 };
	struct http1_response r;
	struct errmsg em = { 0 };
	struct http1_client *c = client(2000);
	char url[64];

	peer_start(&p);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", p.port);
	req.url = url;
	ASSERT_OK(http1_request(c, &req, &r, &em), em.msg);
	ASSERT_EQ(r.status, 307, "a write follows no redirect");
	ASSERT_STRSTR(p.req[0], "PATCH /x HTTP/1.1\r\n", "method");
	ASSERT_STRSTR(p.req[0], "Content-Length: 7\r\n", "length");
	ASSERT_STRSTR(p.req[0], "Content-Type: application/merge-patch+json", "type");
	ASSERT_STRSTR(p.req[0], "\r\n\r\n{\"a\":1}", "body after the head");
	http1_response_free(&r);
	req = (struct http1_request){ .method = "DELETE", .url = url };
	ASSERT_OK(http1_request(c, &req, &r, &em), em.msg);
	ASSERT_EQ(r.status, 429, "status");
	ASSERT_STREQ(r.retry_after, "7", "Retry-After");
	ASSERT_FALSE(strstr(p.req[1], "Content-Length"), "no body, no length");
	http1_response_free(&r);
	req.method = "BREW";
	ASSERT_EQ(http1_request(c, &req, &r, &em), -EINVAL, "unknown method");
	http1_response_free(&r);
	http1_client_free(c);
}

static void redirect_drops_authorization(void)
{
	struct peer a = { .n = 2 }, b = { .n = 1 };
	struct http1_request req = { .authorization = "Bearer secret-token" };
	struct http1_response r;
	struct errmsg em = { 0 };
	struct http1_client *c = client(2000);
	char url[64], r0[256];

	peer_start(&a);
	peer_start(&b);
	snprintf(r0, sizeof(r0), "HTTP/1.1 307 Temporary Redirect\r\nLocation: /blob2\r\nContent-Length: 0\r\n\r\n");
	a.reply[0] = r0;
	static char r1[256];
	snprintf(r1, sizeof(r1), "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%u/storage?sig=1\r\nContent-Length: 3\r\n\r\nxyz", b.port);
	a.reply[1] = r1;
	b.reply[0] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nblob";
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/blob", a.port);
	req.url = url;
	ASSERT_OK(http1_request(c, &req, &r, &em), em.msg);
	ASSERT_EQ(r.status, 200, "final status");
	ASSERT_STREQ(r.body, "blob", "final body");
	ASSERT_EQ(r.redirects, 2, "two redirects");
	ASSERT_STRSTR(a.req[0], "Authorization: Bearer secret-token", "first request authorized");
	ASSERT_STRSTR(a.req[1], "GET /blob2 HTTP/1.1", "relative Location");
	ASSERT_STRSTR(a.req[1], "Authorization: Bearer secret-token", "same origin keeps it");
	ASSERT_STRSTR(b.req[0], "GET /storage?sig=1 HTTP/1.1", "query kept");
	ASSERT_FALSE(strstr(b.req[0], "Authorization"), "other origin: no Authorization");
	ASSERT_STRSTR(r.url, "/storage?sig=1", "final URL");
	http1_response_free(&r);
	http1_client_free(c);
}

/* A chunked 2xx body streams to the callback over a real connection; the cap
 * stops a longer one. */
static void chunked_stream_and_cap(void)
{
	struct peer a = { .n = 2 };
	struct http1_request req = { .on_body = collect_body };
	struct http1_response r;
	struct http1_opts o = { .max_body = 8, .https_proxy = "", .http_proxy = "" };
	struct http1_client *c = NULL;
	struct collect col = { 0 };
	struct errmsg em = { 0 };
	char url[64];

	ASSERT_OK(http1_client_new(&o, &c, &em), em.msg);
	peer_start(&a);
	a.reply[0] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n";
	a.reply[1] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n";
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/blob", a.port);
	req.url = url;
	req.arg = &col;
	ASSERT_OK(http1_request(c, &req, &r, &em), em.msg);
	ASSERT_EQ(col.len, 8, "streamed bytes");
	ASSERT_TRUE(!memcmp(col.buf, "abcdefgh", 8), "streamed content");
	ASSERT_STRSTR(a.req[0], "Connection: close", "one request per connection");
	ASSERT_STRSTR(a.req[0], "Host: 127.0.0.1:", "Host header with the port");
	http1_response_free(&r);
	ASSERT_EQ(http1_request(c, &req, &r, &em), -EFBIG, "over max_body");
	ASSERT_STRSTR(em.msg, "more than the limit of 8 bytes", em.msg);
	http1_response_free(&r);
	http1_client_free(c);
}

static void redirect_loop(void)
{
	static char loop[256];
	struct peer a = { .n = 3 };
	struct http1_request req = { 0 };
	struct http1_response r;
	struct http1_opts o = { .max_redirects = 2, .https_proxy = "", .http_proxy = "" };
	struct http1_client *c = NULL;
	struct errmsg em = { 0 };
	char url[64];

	ASSERT_OK(http1_client_new(&o, &c, &em), em.msg);
	peer_start(&a);
	snprintf(loop, sizeof(loop), "HTTP/1.1 301 Moved\r\nLocation: http://127.0.0.1:%u/again\r\n\r\n",
		 a.port);
	a.reply[0] = a.reply[1] = a.reply[2] = loop;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", a.port);
	req.url = url;
	ASSERT_EQ(http1_request(c, &req, &r, &em), -ELOOP, "redirect loop");
	ASSERT_STRSTR(em.msg, "more than 2 redirects", em.msg);
	http1_response_free(&r);
	http1_client_free(c);
}

/* Basic credentials from $DOCKER_CONFIG answer a Basic challenge; a manifest
 * whose bytes do not match the digest asked for is refused; no credentials ->
 * -ENOKEY (UNAUTHENTICATED). */
static void registry_basic_and_digest(void)
{
	static char ok_manifest[512];
	const char *doc = "{\"schemaVersion\":2}";
	char dir[] = "/tmp/bpfd-test-reg.XXXXXX", path[128], digest[IMAGE_DIGEST_LEN + 1];
	char b[IMAGE_DIGEST_LEN + 1], mt[IMAGE_MT_MAX + 1];
	const char *ins[1];
	char insbuf[32];
	struct peer p = { .n = 4 };
	struct registry_opts o = { .insecure = ins, .n_insecure = 1, .read_timeout_ms = 2000 };
	struct registry_session *s = NULL;
	struct image_ref ref;
	struct errmsg em = { 0 };
	char refs[128], *data = NULL;
	size_t len = 0;
	FILE *f;

	setenv("https_proxy", "", 1);
	setenv("http_proxy", "", 1);
	ASSERT_TRUE(mkdtemp(dir), "mkdtemp");
	snprintf(path, sizeof(path), "%s/config.json", dir);
	peer_start(&p);
	f = fopen(path, "w");
	/* "dGVzdHVzZXI6dGVzdHBhc3M=" is testuser:testpass */
	fprintf(f, "{\"auths\":{\"other:1\":{\"auth\":\"eDp5\"},\"http://127.0.0.1:%u/v1/\":{\"auth\":\"dGVzdHVzZXI6dGVzdHBhc3M=\"}}}",
		p.port);
	fclose(f);
	setenv("DOCKER_CONFIG", dir, 1);
	snprintf(insbuf, sizeof(insbuf), "127.0.0.1:%u", p.port);
	ins[0] = insbuf;
	digest_of(doc, strlen(doc), digest);
	snprintf(ok_manifest, sizeof(ok_manifest),
		 "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nDocker-Content-Digest: %s\r\nContent-Length: %zu\r\n\r\n%s",
		 MT_OCI_MANIFEST, digest, strlen(doc), doc);
	p.reply[0] = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n";
	p.reply[1] = ok_manifest;
	p.reply[2] = ok_manifest;	/* asked for by another digest: refused */
	p.reply[3] = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n";
	snprintf(refs, sizeof(refs), "127.0.0.1:%u/bpf/x:v1", p.port);
	ASSERT_OK(image_ref_parse(refs, &ref, &em), em.msg);
	ASSERT_OK(registry_open(&ref, NULL, &o, &s, &em), em.msg);
	ASSERT_OK(registry_get_manifest(s, "v1", &data, &len, mt, b, &em), em.msg);
	ASSERT_STREQ(b, digest, "digest of the bytes");
	ASSERT_STREQ(mt, MT_OCI_MANIFEST, "media type");
	ASSERT_EQ(len, strlen(doc), "length");
	ASSERT_FALSE(strstr(p.req[0], "Authorization"), "first try anonymous");
	ASSERT_STRSTR(p.req[1], "Authorization: Basic dGVzdHVzZXI6dGVzdHBhc3M=", "Docker config credentials");
	ASSERT_STRSTR(p.req[1], "GET /v2/bpf/x/manifests/v1 HTTP/1.1", "manifest path");
	ASSERT_STRSTR(p.req[1], "Accept: " IMAGE_MANIFEST_ACCEPT, "Accept lists OCI and Docker types");
	free(data);
	data = NULL;
	ASSERT_EQ(registry_get_manifest(s, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
					&data, &len, mt, b, &em), -EBADMSG, "digest mismatch");
	ASSERT_STRSTR(em.msg, "whose sha256 is", em.msg);
	ASSERT_FALSE(strstr(em.msg, "dGVzdHVz"), "no credentials in messages");
	registry_close(s);

	/* without credentials (Docker config ignored): UNAUTHENTICATED */
	{
		struct registry_auth none = { .no_docker_config = true };

		memset(&em, 0, sizeof(em));
		ASSERT_OK(registry_open(&ref, &none, &o, &s, &em), em.msg);
		ASSERT_EQ(registry_get_manifest(s, "v1", &data, &len, NULL, NULL, &em), -ENOKEY,
			  "401 without credentials");
		ASSERT_STRSTR(em.msg, "requires credentials", em.msg);
		ASSERT_EQ(grpc_status_from_errno(-ENOKEY), GRPC_UNAUTHENTICATED, "UNAUTHENTICATED");
		registry_close(s);
	}
	/* bad -r syntax is refused before any I/O */
	{
		struct registry_auth bad = { .basic = "bm9jb2xvbg==" };	/* "nocolon" */

		memset(&em, 0, sizeof(em));
		ASSERT_EQ(registry_open(&ref, &bad, &o, &s, &em), -EINVAL, "no colon");
		ASSERT_STRSTR(em.msg, "not base64 of USER:PASSWORD", em.msg);
	}
	unlink(path);
	rmdir(dir);
}

/* ---- driver for t_registry.sh ---------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: test_registry pull REF --store DIR [--insecure HOST[:PORT]]... [--ca FILE]...\n"
		"         [--no-system-ca] [--auth BASE64 | --user U --password P] [--no-docker-config]\n"
		"         [--connect-ms N] [--read-ms N] [--max-blob N] [--arch A [--variant V]]\n"
		"         [--manifest TAG]   (instead of a pull: GET that manifest and print its digest)\n"
		"Prints 'digest D', 'blobs N', 'cached N'; on error 'error ERRNO GRPC: message' on\n"
		"stderr and exit 1.\n");
}

struct counts {
	unsigned int blobs, cached, reports;
};

static void progress(void *arg, const struct registry_progress *p)
{
	struct counts *c = arg;

	c->reports++;
	if ((p->phase == REGISTRY_PHASE_CONFIG || p->phase == REGISTRY_PHASE_LAYER) &&
	    p->done == p->total && (p->cached || p->done))
		p->cached ? c->cached++ : c->blobs++;
}

static const char *errname(int err)
{
	switch (err) {
	case -ENOENT:		return "ENOENT";
	case -ENOKEY:		return "ENOKEY";
	case -EACCES:		return "EACCES";
	case -EHOSTUNREACH:	return "EHOSTUNREACH";
	case -EBADMSG:		return "EBADMSG";
	case -EFBIG:		return "EFBIG";
	case -EINVAL:		return "EINVAL";
	case -EPROTO:		return "EPROTO";
	default:		return "other";
	}
}

static const char *grpcname(enum grpc_status st)
{
	switch (st) {
	case GRPC_NOT_FOUND:		return "NOT_FOUND";
	case GRPC_UNAUTHENTICATED:	return "UNAUTHENTICATED";
	case GRPC_PERMISSION_DENIED:	return "PERMISSION_DENIED";
	case GRPC_UNAVAILABLE:		return "UNAVAILABLE";
	case GRPC_RESOURCE_EXHAUSTED:	return "RESOURCE_EXHAUSTED";
	case GRPC_INVALID_ARGUMENT:	return "INVALID_ARGUMENT";
	default:			return "OTHER";
	}
}

static int driver(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "store", required_argument, NULL, 's' },
		{ "insecure", required_argument, NULL, 'i' },
		{ "ca", required_argument, NULL, 'c' },
		{ "no-system-ca", no_argument, NULL, 'N' },
		{ "auth", required_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "no-docker-config", no_argument, NULL, 'D' },
		{ "connect-ms", required_argument, NULL, 'C' },
		{ "read-ms", required_argument, NULL, 'R' },
		{ "max-blob", required_argument, NULL, 'M' },
		{ "arch", required_argument, NULL, 'A' },
		{ "variant", required_argument, NULL, 'V' },
		{ "manifest", required_argument, NULL, 'm' },
		{ NULL }
	};
	const char *ins[16], *cas[16], *store_dir = NULL, *manifest = NULL;
	struct registry_opts o = { .insecure = ins, .ca_files = cas };
	struct registry_auth auth = { 0 };
	struct registry_session *s = NULL;
	struct image_store *store = NULL;
	struct counts counts = { 0 };
	char digest[IMAGE_DIGEST_LEN + 1], mt[IMAGE_MT_MAX + 1], *data = NULL;
	struct image_ref ref;
	struct errmsg em = { 0 };
	size_t len;
	int c, err;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': store_dir = optarg; break;
		case 'i': if (o.n_insecure < 16) ins[o.n_insecure++] = optarg; break;
		case 'c': if (o.n_ca_files < 16) cas[o.n_ca_files++] = optarg; break;
		case 'N': o.no_system_ca = true; break;
		case 'a': auth.basic = optarg; break;
		case 'u': auth.username = optarg; break;
		case 'p': auth.password = optarg; break;
		case 'D': auth.no_docker_config = true; break;
		case 'C': o.connect_timeout_ms = atoi(optarg); break;
		case 'R': o.read_timeout_ms = atoi(optarg); break;
		case 'M': o.max_blob_bytes = strtoull(optarg, NULL, 0); break;
		case 'A': o.arch = optarg; break;
		case 'V': o.variant = optarg; break;
		case 'm': manifest = optarg; break;
		default: usage(); return 2;
		}
	}
	if (optind + 1 != argc || (!store_dir && !manifest)) {
		usage();
		return 2;
	}
	err = image_ref_parse(argv[optind], &ref, &em);
	if (!err && store_dir)
		err = image_store_open(store_dir, &store, &em);
	if (!err)
		err = registry_open(&ref, &auth, &o, &s, &em);
	if (!err && manifest) {
		err = registry_get_manifest(s, manifest, &data, &len, mt, digest, &em);
		if (!err)
			printf("manifest %s %s %zu\n", mt, digest, len);
		free(data);
	} else if (!err) {
		err = registry_session_pull(s, store, progress, &counts, digest, &em);
		if (!err)
			printf("digest %s\nblobs %u\ncached %u\nreports %u\n", digest, counts.blobs,
			       counts.cached, counts.reports);
	}
	registry_close(s);
	image_store_close(store);
	if (err) {
		fprintf(stderr, "error %s %s: %s\n", errname(err),
			grpcname(grpc_status_from_errno(err)), em.msg);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		TEST(response_content_length),
		TEST(response_chunked),
		TEST(response_head_and_errors),
		TEST(response_header_limits),
		TEST(challenge),
		TEST(urls_and_proxies),
		TEST(insecure_list_and_errmap),
		TEST(silent_server_times_out),
		TEST(connection_refused),
		TEST(redirect_drops_authorization),
		TEST(write_methods),
		TEST(chunked_stream_and_cap),
		TEST(redirect_loop),
		TEST(registry_basic_and_digest),
	};

	if (argc > 1 && !strcmp(argv[1], "pull"))
		return driver(argc - 1, argv + 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test__run("registry", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
