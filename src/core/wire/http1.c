/* SPDX-License-Identifier: Apache-2.0 */
/* http1.c - HTTP/1.1 client: one request per connection, plain or TLS (tls.c),
 * responses parsed by libhttp-parser; proxies (CONNECT), redirects, deadlines */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>

#include "core/base/log.h"
#include "core/wire/http1.h"
#include "core/wire/tls.h"

#define DEFAULT_CONNECT_MS	10000
#define DEFAULT_READ_MS		30000
#define RX_BUF			16384
#define MAX_HEADER_LINE		8192	/* one header's name or value */
#define MAX_REQUEST_HEAD	16384

struct http1_client {
	struct http1_opts opts;
	struct tls_ctx *tls;		/* made on the first https request */
	char **ca_files;		/* copies of opts.ca_files */
	char *https_proxy, *http_proxy, *no_proxy;
};

/* ---- URLs ---------------------------------------------------------------- */

int http1_parse_url(const char *url, struct http1_url *ret, struct errmsg *em)
{
	struct http_parser_url u;
	size_t len = strlen(url), n;
	const char *s;

	memset(ret, 0, sizeof(*ret));
	http_parser_url_init(&u);
	if (len >= HTTP1_MAX_URL)
		return errmsg_set(em, -EINVAL, "URL of %zu bytes is too long (at most %d)", len,
				  HTTP1_MAX_URL - 1);
	if (http_parser_parse_url(url, len, 0, &u) || !(u.field_set & (1 << UF_SCHEMA)) ||
	    !(u.field_set & (1 << UF_HOST)))
		return errmsg_set(em, -EINVAL, "'%.200s' is not an absolute http:// or https:// URL", url);
	s = url + u.field_data[UF_SCHEMA].off;
	n = u.field_data[UF_SCHEMA].len;
	if (n == 5 && !strncasecmp(s, "https", 5))
		ret->tls = true;
	else if (!(n == 4 && !strncasecmp(s, "http", 4)))
		return errmsg_set(em, -EINVAL, "URL '%.200s' has scheme '%.*s'; only http and https are supported",
				  url, (int)n, s);
	if (u.field_set & (1 << UF_USERINFO))
		return errmsg_set(em, -EINVAL, "URL '%.200s' carries credentials; give them separately",
				  url);
	n = u.field_data[UF_HOST].len;
	if (!n || n >= sizeof(ret->host))
		return errmsg_set(em, -EINVAL, "URL '%.200s' has an empty or too long host", url);
	memcpy(ret->host, url + u.field_data[UF_HOST].off, n);
	ret->host[n] = '\0';
	ret->port = (u.field_set & (1 << UF_PORT)) ? u.port : ret->tls ? 443 : 80;
	if (!ret->port)
		return errmsg_set(em, -EINVAL, "URL '%.200s' has port 0", url);
	if (u.field_set & (1 << UF_PATH)) {
		/* the path runs to the fragment, query included */
		n = (u.field_set & (1 << UF_FRAGMENT)) ?
			(size_t)u.field_data[UF_FRAGMENT].off - 1 - u.field_data[UF_PATH].off :
			len - u.field_data[UF_PATH].off;
		memcpy(ret->path, url + u.field_data[UF_PATH].off, n);
		ret->path[n] = '\0';
	} else if (u.field_set & (1 << UF_QUERY)) {
		snprintf(ret->path, sizeof(ret->path), "/?%.*s", (int)u.field_data[UF_QUERY].len,
			 url + u.field_data[UF_QUERY].off);
	} else {
		strcpy(ret->path, "/");
	}
	return 0;
}

/* host[:port] as the Host header and CONNECT want it (IPv6 in brackets). */
static void host_port(const struct http1_url *u, bool always_port, char *buf, size_t len)
{
	bool v6 = strchr(u->host, ':') != NULL;
	bool dflt = u->port == (u->tls ? 443 : 80);

	if (dflt && !always_port)
		snprintf(buf, len, v6 ? "[%s]" : "%s", u->host);
	else
		snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", u->host, u->port);
}

static bool same_origin(const struct http1_url *a, const struct http1_url *b)
{
	return a->tls == b->tls && a->port == b->port && !strcasecmp(a->host, b->host);
}

/* The target of a Location header, relative to base. */
static int resolve_location(const char *base, const struct http1_url *bu, const char *loc,
			    char *out, size_t len, struct errmsg *em)
{
	const char *q;
	char hp[300];
	int n;

	if (!strncasecmp(loc, "http://", 7) || !strncasecmp(loc, "https://", 8)) {
		n = snprintf(out, len, "%s", loc);
	} else if (loc[0] == '/' && loc[1] == '/') {
		n = snprintf(out, len, "%s:%s", bu->tls ? "https" : "http", loc);
	} else {
		host_port(bu, false, hp, sizeof(hp));
		if (loc[0] == '/') {
			n = snprintf(out, len, "%s://%s%s", bu->tls ? "https" : "http", hp, loc);
		} else {
			/* relative to the directory of the base path */
			q = strrchr(bu->path, '/');
			n = snprintf(out, len, "%s://%s%.*s/%s", bu->tls ? "https" : "http", hp,
				     (int)(q ? q - bu->path : 0), bu->path, loc);
		}
	}
	if (n < 0 || (size_t)n >= len)
		return errmsg_set(em, -EINVAL, "redirect from %.200s to a URL that is too long", base);
	return 0;
}

/* ---- NO_PROXY ------------------------------------------------------------ */

bool http1_no_proxy_match(const char *no_proxy, const char *host, uint16_t port)
{
	const char *p = no_proxy, *e, *colon;
	size_t hl = strlen(host), n, nn;
	char entry[256];
	long eport;

	if (!p)
		return false;
	while (*p) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, ", \t");
		n = e - p;
		if (!n || n >= sizeof(entry)) {
			p = e;
			continue;
		}
		memcpy(entry, p, n);
		entry[n] = '\0';
		p = e;
		if (!strcmp(entry, "*"))
			return true;
		eport = 0;
		colon = strrchr(entry, ':');
		if (colon && !strchr(entry, ']') && strchr(entry, ':') == colon) {
			eport = strtol(colon + 1, NULL, 10);
			entry[colon - entry] = '\0';
		} else if (entry[0] == '[' && (colon = strstr(entry, "]:"))) {
			eport = strtol(colon + 2, NULL, 10);
			entry[colon - entry + 1] = '\0';
		}
		if (eport && eport != port)
			continue;
		/* strip brackets of an IPv6 literal and a leading dot */
		{
			char *s = entry;

			if (s[0] == '[') {
				s++;
				s[strcspn(s, "]")] = '\0';
			}
			if (s[0] == '.')
				s++;
			nn = strlen(s);
			if (!nn)
				continue;
			if (nn == hl && !strcasecmp(s, host))
				return true;
			if (hl > nn && host[hl - nn - 1] == '.' && !strcasecmp(host + hl - nn, s))
				return true;
		}
	}
	return false;
}

/* ---- WWW-Authenticate ----------------------------------------------------- */

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int http1_parse_challenge(const char *value, struct http1_challenge *ret, struct errmsg *em)
{
	const char *s = skip_ows(value), *k;
	char val[HTTP1_MAX_URL];
	size_t kn, vn, n;
	char *dst;
	size_t dst_len;

	memset(ret, 0, sizeof(*ret));
	for (n = 0; is_tchar(s[n]); n++)
		;
	if (!n)
		return errmsg_set(em, -EINVAL, "WWW-Authenticate '%.100s' has no scheme", value);
	if (n >= sizeof(ret->scheme))
		return errmsg_set(em, -EINVAL, "WWW-Authenticate scheme '%.*s' is too long", (int)n, s);
	memcpy(ret->scheme, s, n);
	s = skip_ows(s + n);
	while (*s) {
		k = s;
		for (kn = 0; is_tchar(k[kn]); kn++)
			;
		s = skip_ows(k + kn);
		if (!kn || *s != '=')
			break;	/* the next challenge (or token68): only the first one counts */
		s = skip_ows(s + 1);
		vn = 0;
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				if (vn + 1 >= sizeof(val))
					return errmsg_set(em, -EINVAL, "WWW-Authenticate parameter '%.*s' is too long",
							  (int)kn, k);
				val[vn++] = *s;
			}
			if (*s != '"')
				return errmsg_set(em, -EINVAL, "WWW-Authenticate '%.100s' has an unterminated quoted string",
						  value);
			s++;
		} else {
			for (; is_tchar(*s) || *s == '/' || *s == ':'; s++) {
				if (vn + 1 >= sizeof(val))
					return errmsg_set(em, -EINVAL, "WWW-Authenticate parameter '%.*s' is too long",
							  (int)kn, k);
				val[vn++] = *s;
			}
		}
		val[vn] = '\0';
		dst = NULL;
		dst_len = 0;
		if (kn == 5 && !strncasecmp(k, "realm", 5)) {
			dst = ret->realm;
			dst_len = sizeof(ret->realm);
		} else if (kn == 7 && !strncasecmp(k, "service", 7)) {
			dst = ret->service;
			dst_len = sizeof(ret->service);
		} else if (kn == 5 && !strncasecmp(k, "scope", 5)) {
			dst = ret->scope;
			dst_len = sizeof(ret->scope);
		} else if (kn == 5 && !strncasecmp(k, "error", 5)) {
			dst = ret->error;
			dst_len = sizeof(ret->error);
		}
		if (dst) {
			if (vn >= dst_len)
				return errmsg_set(em, -EINVAL, "WWW-Authenticate parameter '%.*s' is too long (%zu bytes)",
						  (int)kn, k, vn);
			memcpy(dst, val, vn + 1);
		}
		s = skip_ows(s);
		if (*s != ',')
			break;
		s = skip_ows(s + 1);
	}
	return 0;
}

/* ---- response parsing ----------------------------------------------------- */

struct rx {
	http_parser p;
	struct http1_response *resp;
	bool is_head;
	uint64_t max_body;
	http1_body_fn on_body;
	void *arg;
	struct errmsg *em;
	int err;		/* from a callback */
	bool done;
	bool in_value;
	size_t head_bytes;
	char name[128];		/* the header being read; longer names are not ours */
	size_t name_len;
	char *value;
	size_t value_len;
	size_t body_cap;	/* allocated resp->body */
};

static int rx_fail(struct rx *rx, int err)
{
	rx->err = err;
	return -1;
}

static int rx_store_header(struct rx *rx)
{
	struct http1_response *r = rx->resp;
	char **dst = NULL;

	if (!rx->in_value)
		return 0;
	rx->name[rx->name_len < sizeof(rx->name) ? rx->name_len : sizeof(rx->name) - 1] = '\0';
	if (!strcasecmp(rx->name, "content-type"))
		dst = &r->content_type;
	else if (!strcasecmp(rx->name, "www-authenticate"))
		dst = &r->www_authenticate;
	else if (!strcasecmp(rx->name, "docker-content-digest"))
		dst = &r->docker_content_digest;
	else if (!strcasecmp(rx->name, "location"))
		dst = &r->location;
	else if (!strcasecmp(rx->name, "retry-after"))
		dst = &r->retry_after;
	/* the first of a repeated header counts (a registry sends one) */
	if (dst && !*dst) {
		*dst = strndup(rx->value ? rx->value : "", rx->value_len);
		if (!*dst)
			return -ENOMEM;
	}
	rx->name_len = 0;
	rx->value_len = 0;
	rx->in_value = false;
	return 0;
}

static int rx_head_bytes(struct rx *rx, size_t len)
{
	rx->head_bytes += len;
	if (rx->head_bytes > HTTP1_MAX_HEADERS) {
		errmsg_set(rx->em, -EPROTO, "the response headers are longer than %d bytes",
			   HTTP1_MAX_HEADERS);
		return rx_fail(rx, -EPROTO);
	}
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct rx *rx = p->data;
	size_t n;
	int err;

	if (rx_head_bytes(rx, len))
		return -1;
	if (rx->in_value) {
		err = rx_store_header(rx);
		if (err)
			return rx_fail(rx, err);
	}
	n = len;
	if (rx->name_len + n >= sizeof(rx->name))
		n = rx->name_len < sizeof(rx->name) - 1 ? sizeof(rx->name) - 1 - rx->name_len : 0;
	memcpy(rx->name + rx->name_len, at, n);
	rx->name_len += n;
	if (n < len)
		rx->name_len = sizeof(rx->name);	/* too long: matches nothing */
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct rx *rx = p->data;
	char *v;

	if (rx_head_bytes(rx, len))
		return -1;
	rx->in_value = true;
	if (rx->value_len + len > MAX_HEADER_LINE) {
		errmsg_set(rx->em, -EPROTO, "a response header is longer than %d bytes",
			   MAX_HEADER_LINE);
		return rx_fail(rx, -EPROTO);
	}
	v = realloc(rx->value, rx->value_len + len + 1);
	if (!v)
		return rx_fail(rx, -ENOMEM);
	memcpy(v + rx->value_len, at, len);
	rx->value = v;
	rx->value_len += len;
	return 0;
}

static bool is_2xx(int status)
{
	return status >= 200 && status < 300;
}

static int on_headers_complete(http_parser *p)
{
	struct rx *rx = p->data;
	struct http1_response *r = rx->resp;
	int err;

	err = rx_store_header(rx);
	if (err)
		return rx_fail(rx, err);
	r->status = p->status_code;
	/* http_parser takes 1-3 digits; we sent no Expect, so no 1xx is due */
	if (r->status < 200 || r->status > 599) {
		errmsg_set(rx->em, -EPROTO, "the response has status %d; want 200-599", r->status);
		return rx_fail(rx, -EPROTO);
	}
	/* http_parser sets content_length to ULLONG_MAX when there is none */
	r->content_length = (p->flags & F_CHUNKED) || p->content_length == ULLONG_MAX ?
			    -1 : (int64_t)p->content_length;
	if (is_2xx(r->status) && !rx->is_head && rx->max_body && r->content_length >= 0 &&
	    (uint64_t)r->content_length > rx->max_body) {
		errmsg_set(rx->em, -EFBIG, "the response body is %lld bytes, more than the limit of %llu",
			   (long long)r->content_length, (unsigned long long)rx->max_body);
		return rx_fail(rx, -EFBIG);
	}
	return rx->is_head ? 1 : 0;
}

static int keep_body(struct rx *rx, const char *at, size_t len, size_t cap)
{
	struct http1_response *r = rx->resp;
	size_t want;
	char *b;

	if (r->body_len >= cap)
		return 0;	/* an error body: the start is enough */
	if (len > cap - r->body_len)
		len = cap - r->body_len;
	if (r->body_len + len + 1 > rx->body_cap) {
		want = rx->body_cap ? rx->body_cap : 4096;
		while (want < r->body_len + len + 1)
			want *= 2;
		b = realloc(r->body, want);
		if (!b)
			return -ENOMEM;
		r->body = b;
		rx->body_cap = want;
	}
	memcpy(r->body + r->body_len, at, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct rx *rx = p->data;
	struct http1_response *r = rx->resp;
	int err;

	r->body_total += len;
	if (!is_2xx(r->status)) {
		err = keep_body(rx, at, len, HTTP1_MAX_ERROR_BODY);
		return err ? rx_fail(rx, err) : 0;
	}
	if (rx->max_body && r->body_total > rx->max_body) {
		errmsg_set(rx->em, -EFBIG, "the response body is more than the limit of %llu bytes",
			   (unsigned long long)rx->max_body);
		return rx_fail(rx, -EFBIG);
	}
	if (rx->on_body) {
		err = rx->on_body(rx->arg, at, len, rx->em);
		return err ? rx_fail(rx, err < 0 ? err : -EIO) : 0;
	}
	err = keep_body(rx, at, len, SIZE_MAX - 1);
	return err ? rx_fail(rx, err) : 0;
}

static int on_message_complete(http_parser *p)
{
	struct rx *rx = p->data;

	rx->done = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings rx_settings = {
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

static void rx_init(struct rx *rx, struct http1_response *resp, bool is_head, uint64_t max_body,
		    http1_body_fn cb, void *arg, struct errmsg *em)
{
	memset(rx, 0, sizeof(*rx));
	http_parser_init(&rx->p, HTTP_RESPONSE);
	rx->p.data = rx;
	rx->resp = resp;
	rx->is_head = is_head;
	rx->max_body = max_body;
	rx->on_body = cb;
	rx->arg = arg;
	rx->em = em;
	resp->content_length = -1;
}

static void rx_free(struct rx *rx)
{
	free(rx->value);
	rx->value = NULL;
}

/* Feed bytes (len 0: the peer closed).  0 to go on, 1 when the response is
 * complete, or -errno with em set. */
static int rx_feed(struct rx *rx, const char *data, size_t len)
{
	enum http_errno herr;
	size_t n;

	if (rx->done)
		return 1;
	n = http_parser_execute(&rx->p, &rx_settings, data, len);
	if (rx->err)
		return rx->err;
	herr = HTTP_PARSER_ERRNO(&rx->p);
	if (herr == HPE_PAUSED || rx->done)
		return 1;
	if (!len && (herr == HPE_INVALID_EOF_STATE || herr == HPE_OK))
		return errmsg_set(rx->em, -ECONNRESET,
				  rx->resp->status ? "the connection closed in the middle of the response body"
						   : "the connection closed before a complete response arrived");
	if (herr != HPE_OK)
		return errmsg_set(rx->em, -EPROTO, "malformed HTTP response: %s",
				  http_errno_description(herr));
	if (n != len)
		return errmsg_set(rx->em, -EPROTO, "malformed HTTP response");
	return 0;
}

int http1_parse_response(const char *data, size_t len, bool is_head, uint64_t max_body,
			 http1_body_fn cb, void *arg, struct http1_response *resp,
			 struct errmsg *em)
{
	struct rx rx;
	int ret;

	memset(resp, 0, sizeof(*resp));
	rx_init(&rx, resp, is_head, max_body, cb, arg, em);
	ret = rx_feed(&rx, data, len);
	if (!ret)
		ret = rx_feed(&rx, NULL, 0);
	rx_free(&rx);
	return ret < 0 ? ret : 0;
}

void http1_response_free(struct http1_response *r)
{
	if (!r)
		return;
	free(r->content_type);
	free(r->www_authenticate);
	free(r->docker_content_digest);
	free(r->location);
	free(r->retry_after);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* ---- connections ---------------------------------------------------------- */

struct conn {
	int fd;
	struct tls_conn *tls;
	const char *what;	/* "registry.example:443" for messages */
	unsigned int read_ms;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline (ms, monotonic).  0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int tcp_connect(const char *host, uint16_t port, int64_t deadline, int *ret_fd,
		       struct errmsg *em)
{
	/* no AI_ADDRCONFIG: on a host whose only addresses are loopback (an embedded
	 * host, a VM without network) it makes even "127.0.0.1" unresolvable */
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	char sport[8];
	socklen_t sl;
	int fd = -1, err = -EHOSTUNREACH, soerr, gai;

	snprintf(sport, sizeof(sport), "%u", port);
	gai = getaddrinfo(host, sport, &hints, &res);
	if (gai) {
		if (gai == EAI_SYSTEM)
			return errmsg_set(em, -errno, "cannot resolve %s: %s", host, strerror(errno));
		return errmsg_set(em, gai == EAI_NONAME || gai == EAI_NODATA ? -ENOENT : -EHOSTUNREACH,
				  "cannot resolve host %s: %s", host, gai_strerror(gai));
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		err = -errno;
		if (err == -EINPROGRESS) {
			err = wait_fd(fd, POLLOUT, deadline);
			if (!err) {
				sl = sizeof(soerr);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
					err = -errno;
				else
					err = -soerr;
				if (!err)
					break;
			}
		}
		close(fd);
		fd = -1;
		if (err == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (err == -ETIMEDOUT)
			return errmsg_set(em, err, "connecting to %s port %u timed out", host, port);
		return errmsg_set(em, err, "cannot connect to %s port %u: %s", host, port,
				  strerror(-err));
	}
	*ret_fd = fd;
	return 0;
}

/* Write once on the connection: bytes taken (> 0), -EAGAIN, or -errno. */
static ssize_t conn_write_some(struct conn *c, const char *buf, size_t len)
{
	ssize_t n;

	if (c->tls)
		return len ? tls_conn_write(c->tls, buf, len) : tls_conn_flush(c->tls);
	do
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

/* Send all of buf (and, with TLS, what is queued) within read_ms. */
static int conn_send(struct conn *c, const char *buf, size_t len, struct errmsg *em)
{
	int64_t deadline = now_ms() + c->read_ms;
	ssize_t n;
	int err;

	while (len || (c->tls && tls_conn_wants(c->tls) & POLLOUT)) {
		n = conn_write_some(c, buf, len);
		if (n > 0) {
			buf += n;
			len -= n;
			continue;
		}
		if (n == 0)
			continue;	/* TLS: the queue is flushed */
		if (n != -EAGAIN)
			return errmsg_set(em, (int)n, "sending the request to %s failed: %s", c->what,
					  c->tls ? tls_conn_errstr(c->tls) : strerror((int)-n));
		err = wait_fd(c->fd, c->tls ? tls_conn_wants(c->tls) : POLLOUT, deadline);
		if (err == -ETIMEDOUT)
			return errmsg_set(em, err, "%s accepted no request bytes for %u ms",
					  c->what, c->read_ms);
		if (err)
			return errmsg_set(em, err, "waiting for %s: %s", c->what, strerror(-err));
	}
	return 0;
}

/* Read some bytes: > 0, 0 at EOF, or -errno with em set.  read_ms of silence
 * is -ETIMEDOUT. */
static ssize_t conn_read(struct conn *c, char *buf, size_t len, struct errmsg *em)
{
	int64_t deadline = now_ms() + c->read_ms;
	ssize_t n;
	int err;

	for (;;) {
		if (c->tls) {
			n = tls_conn_read(c->tls, buf, len);
			if (n >= 0)
				return n;
			if (n != -EAGAIN)
				return errmsg_set(em, (int)n, "reading from %s failed: %s", c->what,
						  tls_conn_errstr(c->tls));
		} else {
			n = recv(c->fd, buf, len, 0);
			if (n >= 0)
				return n;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return errmsg_set(em, -errno, "reading from %s failed: %s",
						  c->what, strerror(errno));
		}
		err = wait_fd(c->fd, c->tls ? tls_conn_wants(c->tls) : POLLIN, deadline);
		if (err == -ETIMEDOUT)
			return errmsg_set(em, err, "%s accepted the connection but sent nothing for %u ms (read timeout); is it an HTTP server, and is it overloaded?",
					  c->what, c->read_ms);
		if (err)
			return errmsg_set(em, err, "waiting for %s: %s", c->what, strerror(-err));
	}
}

static int conn_handshake(struct http1_client *hc, struct conn *c, const char *host,
			  int64_t deadline, struct errmsg *em)
{
	int err;

	err = tls_conn_new(hc->tls, c->fd, &c->tls);
	if (!err)
		err = tls_conn_set_hostname(c->tls, host);	/* or the request's server_name */
	if (err)
		return errmsg_set(em, err, "cannot start TLS with %s: %s", c->what, strerror(-err));
	while ((err = tls_conn_handshake(c->tls)) == -EAGAIN) {
		err = wait_fd(c->fd, tls_conn_wants(c->tls), deadline);
		if (err == -ETIMEDOUT)
			return errmsg_set(em, err, "the TLS handshake with %s did not finish within %u ms (connect timeout); is it a TLS port?",
					  c->what, hc->opts.connect_timeout_ms);
		if (err)
			return errmsg_set(em, err, "waiting for %s: %s", c->what, strerror(-err));
	}
	if (err)
		return errmsg_set(em, err, "TLS with %s failed: %s", c->what, tls_conn_errstr(c->tls));
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->tls) {
		tls_conn_close_notify(c->tls);
		tls_conn_free(c->tls);
		c->tls = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* ---- proxies -------------------------------------------------------------- */

static const char *env2(const char *a, const char *b)
{
	const char *v = getenv(a);

	return v && *v ? v : getenv(b);
}

/* The proxy for u, or NULL: "" and NO_PROXY mean none. */
static const char *proxy_for(const struct http1_client *hc, const struct http1_url *u)
{
	const char *p = u->tls ? hc->https_proxy : hc->http_proxy;

	if (!p || !*p)
		return NULL;
	if (http1_no_proxy_match(hc->no_proxy, u->host, u->port))
		return NULL;
	return p;
}

static int parse_proxy(const char *proxy, struct http1_url *pu, struct errmsg *em)
{
	char buf[HTTP1_MAX_URL];
	int err;

	if (!strstr(proxy, "://"))
		snprintf(buf, sizeof(buf), "http://%s", proxy);
	else
		snprintf(buf, sizeof(buf), "%s", proxy);
	err = http1_parse_url(buf, pu, em);
	if (err) {
		errmsg_prefix(em, "proxy");
		return err;
	}
	if (pu->tls)
		return errmsg_set(em, -EINVAL, "proxy %s: an https:// proxy is not supported; give http://HOST:PORT",
				  proxy);
	if (!strstr(proxy, "://") || pu->port == 80) {
		/* curl's default proxy port is 1080 when none is given */
		const char *hostpart = strstr(buf, "://") + 3;

		if (!strchr(hostpart + (hostpart[0] == '[' ? strcspn(hostpart, "]") : 0), ':'))
			pu->port = 1080;
	}
	return 0;
}

/* Open a tunnel through the proxy with CONNECT host:port; the proxy's
 * answer is read byte by byte so that nothing of the TLS stream is eaten. */
static int proxy_connect(struct conn *c, const struct http1_url *target, int64_t deadline,
			 struct errmsg *em)
{
	struct http1_response resp = { 0 };
	char hp[300], req[700], head[4096];
	size_t n = 0;
	ssize_t r;
	struct rx rx;
	int len, err;
	unsigned int saved = c->read_ms;
	int64_t left = deadline - now_ms();

	host_port(target, true, hp, sizeof(hp));
	len = snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: bpfd/%s\r\n\r\n",
		       hp, hp, BPFD_VERSION);
	c->read_ms = left > 0 ? (unsigned int)left : 1;
	err = conn_send(c, req, len, em);
	while (!err) {
		if (n == sizeof(head)) {
			err = errmsg_set(em, -EPROTO, "the answer of proxy %s to CONNECT is longer than %zu bytes",
					 c->what, sizeof(head));
			break;
		}
		r = conn_read(c, head + n, 1, em);
		if (r < 0) {
			err = (int)r;
			break;
		}
		if (r == 0) {
			err = errmsg_set(em, -ECONNRESET, "proxy %s closed the connection after CONNECT %s",
					 c->what, hp);
			break;
		}
		n++;
		if (n >= 4 && !memcmp(head + n - 4, "\r\n\r\n", 4))
			break;
	}
	c->read_ms = saved;
	if (err)
		return err;
	rx_init(&rx, &resp, true, 0, NULL, NULL, em);
	err = rx_feed(&rx, head, n);
	rx_free(&rx);
	if (err < 0) {
		http1_response_free(&resp);
		errmsg_prefix(em, "proxy %s", c->what);
		return err;
	}
	if (!is_2xx(resp.status)) {
		err = errmsg_set(em, resp.status == 407 ? -EACCES : -EPROTO,
				 "proxy %s refused CONNECT %s with HTTP status %d", c->what, hp, resp.status);
		http1_response_free(&resp);
		return err;
	}
	http1_response_free(&resp);
	return 0;
}

/* ---- requests ------------------------------------------------------------- */

static int ensure_tls(struct http1_client *hc, struct errmsg *em)
{
	int err;

	if (hc->tls)
		return 0;
	err = tls_https_client_new((const char *const *)hc->ca_files, hc->opts.n_ca_files,
				   !hc->opts.no_system_ca, em, &hc->tls);
	if (!err && hc->opts.client_cert)
		err = tls_https_client_cert(hc->tls, hc->opts.client_cert, hc->opts.client_key, em);
	if (err) {
		tls_ctx_free(hc->tls);
		hc->tls = NULL;
	}
	return err;
}

static int build_request(const struct http1_request *req, const struct http1_url *u,
			 bool via_proxy, const char *url, bool with_auth, char *buf, size_t size,
			 struct errmsg *em)
{
	char hp[300];
	size_t i, n;
	int len;

	host_port(u, false, hp, sizeof(hp));
	len = snprintf(buf, size, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: bpfd/%s\r\n"
		       "Accept-Encoding: identity\r\nConnection: close\r\n",
		       req->method ? req->method : "GET", via_proxy && !u->tls ? url : u->path,
		       hp, BPFD_VERSION);
	if (len < 0 || (size_t)len >= size)
		return errmsg_set(em, -EINVAL, "the request for %.200s is too long", url);
	n = len;
	for (i = 0; i < req->n_headers; i++) {
		if (strpbrk(req->headers[i].name, "\r\n:") || strpbrk(req->headers[i].value, "\r\n"))
			return errmsg_set(em, -EINVAL, "request header '%.60s' contains a line break",
					  req->headers[i].name);
		len = snprintf(buf + n, size - n, "%s: %s\r\n", req->headers[i].name,
			       req->headers[i].value);
		if (len < 0 || (size_t)len >= size - n)
			return errmsg_set(em, -EINVAL, "the request for %.200s is too long", url);
		n += len;
	}
	if (req->body || (req->method && (!strcmp(req->method, "POST") ||
					  !strcmp(req->method, "PUT") || !strcmp(req->method, "PATCH")))) {
		len = snprintf(buf + n, size - n, "Content-Length: %zu\r\n", req->body_len);
		if (len < 0 || (size_t)len >= size - n)
			return errmsg_set(em, -EINVAL, "the request for %.200s is too long", url);
		n += len;
	}
	if (with_auth && req->authorization) {
		if (strpbrk(req->authorization, "\r\n"))
			return errmsg_set(em, -EINVAL, "the credentials contain a line break");
		len = snprintf(buf + n, size - n, "Authorization: %s\r\n", req->authorization);
		if (len < 0 || (size_t)len >= size - n)
			return errmsg_set(em, -EINVAL, "the credentials are too long");
		n += len;
	}
	if (n + 3 > size)
		return errmsg_set(em, -EINVAL, "the request for %.200s is too long", url);
	memcpy(buf + n, "\r\n", 3);
	return (int)(n + 2);
}

/* One request/response exchange on a new connection. */
static int exchange(struct http1_client *hc, const struct http1_request *req, const char *url,
		    bool with_auth, struct http1_response *resp, struct errmsg *em)
{
	struct conn c = { .fd = -1, .read_ms = req->read_timeout_ms ? req->read_timeout_ms :
							 hc->opts.read_timeout_ms };
	struct http1_url u, pu;
	const char *proxy;
	char what[300], pwhat[300];
	char *head = NULL, *buf = NULL;
	int64_t deadline;
	ssize_t n;
	struct rx rx;
	bool is_head = req->method && !strcmp(req->method, "HEAD");
	int err, len;

	rx_init(&rx, resp, is_head, hc->opts.max_body, req->on_body, req->arg, em);
	err = http1_parse_url(url, &u, em);
	if (err)
		goto out;
	host_port(&u, true, what, sizeof(what));
	c.what = what;
	if (u.tls) {
		err = ensure_tls(hc, em);
		if (err)
			goto out;
	}
	head = malloc(MAX_REQUEST_HEAD);
	buf = malloc(RX_BUF);
	if (!head || !buf) {
		err = -ENOMEM;
		goto out;
	}
	proxy = proxy_for(hc, &u);
	len = build_request(req, &u, proxy != NULL, url, with_auth, head, MAX_REQUEST_HEAD, em);
	if (len < 0) {
		err = len;
		goto out;
	}
	deadline = now_ms() + hc->opts.connect_timeout_ms;
	if (proxy) {
		err = parse_proxy(proxy, &pu, em);
		if (err)
			goto out;
		host_port(&pu, true, pwhat, sizeof(pwhat));
		err = tcp_connect(pu.host, pu.port, deadline, &c.fd, em);
		if (err) {
			errmsg_prefix(em, "proxy %s", pwhat);
			goto out;
		}
		if (u.tls) {
			c.what = pwhat;
			err = proxy_connect(&c, &u, deadline, em);
			c.what = what;
			if (err)
				goto out;
		}
		log_debug("http: %s via proxy %s", what, pwhat);
	} else {
		err = tcp_connect(u.host, u.port, deadline, &c.fd, em);
		if (err)
			goto out;
	}
	if (u.tls) {
		err = conn_handshake(hc, &c, req->server_name ? req->server_name : u.host, deadline,
				     em);
		if (err)
			goto out;
	}
	err = conn_send(&c, head, len, em);
	if (!err && req->body_len)
		err = conn_send(&c, req->body, req->body_len, em);
	if (err)
		goto out;
	for (;;) {
		n = conn_read(&c, buf, RX_BUF, em);
		if (n < 0) {
			err = (int)n;
			break;
		}
		err = rx_feed(&rx, buf, n);
		if (err) {
			if (err > 0)
				err = 0;
			break;
		}
	}
	if (err)
		errmsg_prefix(em, "%s %s", req->method ? req->method : "GET", url);
out:
	snprintf(resp->url, sizeof(resp->url), "%s", url);
	if (head)
		memset(head, 0, MAX_REQUEST_HEAD);	/* it held the credentials */
	free(head);
	free(buf);
	rx_free(&rx);
	conn_close(&c);
	return err;
}

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

int http1_request(struct http1_client *hc, const struct http1_request *req,
		  struct http1_response *resp, struct errmsg *em)
{
	struct http1_url first, cur, next;
	char url[HTTP1_MAX_URL], loc[HTTP1_MAX_URL];
	unsigned int hops = 0;
	bool with_auth = true;
	int err;

	memset(resp, 0, sizeof(*resp));
	if (!req->url)
		return errmsg_set(em, -EINVAL, "a request needs a URL");
	if (req->method && strcmp(req->method, "GET") && strcmp(req->method, "HEAD") &&
	    strcmp(req->method, "POST") && strcmp(req->method, "PUT") &&
	    strcmp(req->method, "PATCH") && strcmp(req->method, "DELETE"))
		return errmsg_set(em, -EINVAL, "method %.20s is not supported", req->method);
	if (req->body_len && !req->body)
		return errmsg_set(em, -EINVAL, "a request body of %zu bytes without the bytes",
				  req->body_len);
	err = http1_parse_url(req->url, &first, em);
	if (err)
		return err;
	snprintf(url, sizeof(url), "%s", req->url);
	for (;;) {
		err = exchange(hc, req, url, with_auth, resp, em);
		if (err)
			return err;
		if (!is_redirect(resp->status) || !resp->location || req->body ||
		    (req->method && strcmp(req->method, "GET") && strcmp(req->method, "HEAD")))
			return 0;
		if (hops >= hc->opts.max_redirects)
			return errmsg_set(em, -ELOOP, "GET %.200s: more than %u redirects", req->url,
					  hc->opts.max_redirects);
		err = http1_parse_url(url, &cur, em);
		if (!err)
			err = resolve_location(url, &cur, resp->location, loc, sizeof(loc), em);
		if (!err)
			err = http1_parse_url(loc, &next, em);
		if (err) {
			errmsg_prefix(em, "redirect from %.200s", url);
			return err;
		}
		if (cur.tls && !next.tls)
			return errmsg_set(em, -EINVAL, "%.200s redirects from https to plain http (%.200s); refused",
					  url, loc);
		if (!same_origin(&first, &next))
			with_auth = false;
		log_debug("http: %d redirect to %s://%s:%u%s", resp->status,
			  next.tls ? "https" : "http", next.host, next.port, "/...");
		snprintf(url, sizeof(url), "%s", loc);
		http1_response_free(resp);
		resp->redirects = ++hops;
	}
}

/* ---- clients -------------------------------------------------------------- */

void http1_client_free(struct http1_client *c)
{
	size_t i;

	if (!c)
		return;
	tls_ctx_free(c->tls);
	for (i = 0; c->ca_files && i < c->opts.n_ca_files; i++)
		free(c->ca_files[i]);
	free(c->ca_files);
	free(c->https_proxy);
	free(c->http_proxy);
	free(c->no_proxy);
	free(c);
}

static int dup_opt(const char *given, const char *env_a, const char *env_b, char **ret)
{
	const char *v = given ? given : env2(env_a, env_b);

	*ret = NULL;
	if (!v)
		return 0;
	*ret = strdup(v);
	return *ret ? 0 : -ENOMEM;
}

int http1_client_new(const struct http1_opts *opts, struct http1_client **ret,
		     struct errmsg *em)
{
	struct http1_client *c;
	size_t i;
	int err = -ENOMEM;

	c = calloc(1, sizeof(*c));
	if (!c)
		return errmsg_set(em, -ENOMEM, "out of memory");
	if (opts)
		c->opts = *opts;
	if (!c->opts.connect_timeout_ms)
		c->opts.connect_timeout_ms = DEFAULT_CONNECT_MS;
	if (!c->opts.read_timeout_ms)
		c->opts.read_timeout_ms = DEFAULT_READ_MS;
	if (!c->opts.max_redirects)
		c->opts.max_redirects = HTTP1_MAX_REDIRECTS;
	c->opts.ca_files = NULL;
	c->ca_files = calloc(c->opts.n_ca_files + 1, sizeof(*c->ca_files));
	if (!c->ca_files)
		goto out;
	for (i = 0; i < c->opts.n_ca_files; i++) {
		c->ca_files[i] = strdup(opts->ca_files[i]);
		if (!c->ca_files[i])
			goto out;
	}
	if (dup_opt(c->opts.https_proxy, "https_proxy", "HTTPS_PROXY", &c->https_proxy) ||
	    dup_opt(c->opts.http_proxy, "http_proxy", "HTTP_PROXY", &c->http_proxy) ||
	    dup_opt(c->opts.no_proxy, "no_proxy", "NO_PROXY", &c->no_proxy))
		goto out;
	c->opts.https_proxy = c->opts.http_proxy = c->opts.no_proxy = NULL;
	/* load the CAs now, so that a bad ca_file is reported up front */
	if (c->opts.n_ca_files) {
		err = ensure_tls(c, em);
		if (err)
			goto out;
	}
	*ret = c;
	return 0;
out:
	http1_client_free(c);
	return err == -ENOMEM ? errmsg_set(em, err, "out of memory") : err;
}
