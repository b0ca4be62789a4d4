/* SPDX-License-Identifier: Apache-2.0 */
/* registry.c - OCI distribution v2 client: manifests, indexes and blobs into the
 * content store; anonymous, basic and bearer-token authentication */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "core/base/dockerkey.h"
#include "core/base/log.h"
#include "core/image/manifest.h"
#include "core/image/registry.h"
#include "core/wire/http1.h"

#define MAX_CRED		4096	/* "Basic ..." or "Bearer ..." */
#define MAX_TOKEN_REPLY		(256u << 10)
#define MAX_DOCKER_CONFIG	(1u << 20)
#define PROGRESS_STEP		(64u << 10)

struct registry_session {
	struct image_ref ref;
	struct http1_client *http;
	char hostport[IMAGE_HOST_MAX + 1];	/* what is connected to */
	char base[IMAGE_HOST_MAX + 16];		/* "https://host[:port]" */
	bool insecure;
	const struct registry_opts *opts;	/* the caller's, for insecure lookups */
	struct registry_opts defaults;
	uint64_t max_blob;
	char *basic;		/* "Basic <b64>" from the caller or Docker config */
	char *authz;		/* what is sent now: NULL, basic, or "Bearer ..." */
	bool basic_from_docker;
	char refname[IMAGE_STORE_REF_MAX + 1];	/* for messages */
};

/* ---- small helpers ---------------------------------------------------------- */

static void free_secret(char *s)
{
	if (!s)
		return;
	mbedtls_platform_zeroize(s, strlen(s));
	free(s);
}

static void hex_digest(const unsigned char sum[32], char out[IMAGE_DIGEST_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[sum[i] >> 4];
		out[8 + 2 * i] = hex[sum[i] & 15];
	}
	out[IMAGE_DIGEST_LEN] = '\0';
}

static void digest_of(const void *data, size_t len, char out[IMAGE_DIGEST_LEN + 1])
{
	unsigned char sum[32];

	mbedtls_sha256_ret(data, len, sum, 0);
	hex_digest(sum, out);
}

/* Append s to the URL in buf, percent-encoding all but unreserved characters. */
static int url_append_enc(char *buf, size_t size, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(buf);

	for (; *s; s++) {
		unsigned char c = *s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~:", c)) {
			if (n + 1 >= size)
				return -EINVAL;
			buf[n++] = c;
		} else {
			if (n + 3 >= size)
				return -EINVAL;
			buf[n++] = '%';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 15];
		}
	}
	buf[n] = '\0';
	return 0;
}

bool registry_is_insecure(const struct registry_opts *opts, const char *hostport)
{
	size_t i, n;
	const char *e;

	if (!opts)
		return false;
	for (i = 0; i < opts->n_insecure; i++) {
		e = opts->insecure[i];
		if (!strcasecmp(e, hostport))
			return true;
		/* a host without a port: every port of that host */
		n = strlen(e);
		if (!strchr(e, ':') && !strncasecmp(hostport, e, n) && hostport[n] == ':')
			return true;
	}
	return false;
}

void registry_opts_from_config(const struct registry_config *rc, struct registry_opts *opts,
			       struct registry_opts_ptrs *ptrs)
{
	size_t i;

	memset(opts, 0, sizeof(*opts));
	for (i = 0; i < rc->n_insecure && i < REGISTRY_MAX_LIST; i++)
		ptrs->insecure[i] = rc->insecure[i];
	for (i = 0; i < rc->n_ca_files && i < REGISTRY_MAX_LIST; i++)
		ptrs->ca_files[i] = rc->ca_files[i];
	opts->insecure = ptrs->insecure;
	opts->n_insecure = rc->n_insecure;
	opts->ca_files = ptrs->ca_files;
	opts->n_ca_files = rc->n_ca_files;
	opts->connect_timeout_ms = rc->connect_timeout_ms;
	opts->read_timeout_ms = rc->read_timeout_ms;
	opts->max_blob_bytes = rc->max_blob_bytes;
}

/* The reason in a registry's error body: "CODE: message" of the first error. */
static void registry_reason(const struct http1_response *r, char *buf, size_t len)
{
	const cJSON *errs, *e, *code, *msg;
	cJSON *doc;

	buf[0] = '\0';
	if (!r->body || !r->body_len)
		return;
	doc = cJSON_ParseWithLength(r->body, r->body_len);
	errs = doc ? cJSON_GetObjectItemCaseSensitive(doc, "errors") : NULL;
	e = cJSON_IsArray(errs) ? cJSON_GetArrayItem(errs, 0) : NULL;
	code = e ? cJSON_GetObjectItemCaseSensitive(e, "code") : NULL;
	msg = e ? cJSON_GetObjectItemCaseSensitive(e, "message") : NULL;
	if (cJSON_IsString(code))
		snprintf(buf, len, ", %.64s%s%.200s", code->valuestring,
			 cJSON_IsString(msg) ? ": " : "", cJSON_IsString(msg) ? msg->valuestring : "");
	cJSON_Delete(doc);
	/* strip control characters a hostile server may send */
	for (; *buf; buf++)
		if ((unsigned char)*buf < 0x20 || *buf == 0x7f)
			*buf = '?';
}

/* Normalise a failure to reach the registry (http1 errors) to -EHOSTUNREACH. */
static int net_error(int err)
{
	switch (err) {
	case -ETIMEDOUT:
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -ENETUNREACH:
	case -EHOSTUNREACH:
	case -EHOSTDOWN:
	case -EPIPE:
	case -EACCES:		/* certificate not trusted */
	case -ENOENT:		/* no such host */
	case -EPROTO:		/* TLS or HTTP broken on the way */
	case -EADDRNOTAVAIL:
		return -EHOSTUNREACH;
	default:
		return err;
	}
}

/* ---- credentials ---------------------------------------------------------- */

/* Check that b64 is base64 of "user:password". */
static int basic_check(const char *b64, const char *what, struct errmsg *em)
{
	unsigned char buf[1024];
	size_t n = 0;
	int ret;

	ret = mbedtls_base64_decode(buf, sizeof(buf) - 1, &n, (const unsigned char *)b64,
				    strlen(b64));
	if (ret || !n || !memchr(buf, ':', n)) {
		mbedtls_platform_zeroize(buf, sizeof(buf));
		return errmsg_set(em, -EINVAL, "%s: not base64 of USER:PASSWORD (as `printf %%s user:pass | base64 -w0` gives)",
				  what);
	}
	mbedtls_platform_zeroize(buf, sizeof(buf));
	return 0;
}

static int basic_set(struct registry_session *s, const char *b64)
{
	size_t n = strlen(b64);

	if (n > MAX_CRED - 8)
		return -EINVAL;
	s->basic = malloc(n + 7);
	if (!s->basic)
		return -ENOMEM;
	memcpy(s->basic, "Basic ", 6);
	memcpy(s->basic + 6, b64, n + 1);
	return 0;
}

static int basic_from_pair(struct registry_session *s, const char *user, const char *pass,
			   struct errmsg *em)
{
	unsigned char plain[1024], enc[1400];
	size_t n, olen = 0;
	int err;

	n = snprintf((char *)plain, sizeof(plain), "%s:%s", user, pass);
	if (n >= sizeof(plain) || strchr(user, ':'))
		return errmsg_set(em, -EINVAL, "the registry user name may not contain ':' and both must fit in 1023 bytes");
	if (mbedtls_base64_encode(enc, sizeof(enc), &olen, plain, n))
		err = -EINVAL;
	else
		err = basic_set(s, (const char *)enc);
	mbedtls_platform_zeroize(plain, sizeof(plain));
	mbedtls_platform_zeroize(enc, sizeof(enc));
	return err;
}

static char *read_small_file(const char *path, size_t max, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	size_t off = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
		goto out;
	buf = malloc(st.st_size + 1);
	if (!buf)
		goto out;
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, st.st_size - off);
		if (n <= 0)
			break;
		off += n;
	}
	buf[off] = '\0';
	*ret_len = off;
out:
	close(fd);
	return buf;
}

/* Credentials of the Docker client configuration for the session's host. */
static int docker_config_auth(struct registry_session *s, struct errmsg *em)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	const cJSON *auths, *e, *a;
	char path[4096];
	char *text;
	size_t len = 0;
	cJSON *doc;
	int err = 0;

	if (dir && *dir)
		snprintf(path, sizeof(path), "%s/config.json", dir);
	else if (home && *home)
		snprintf(path, sizeof(path), "%s/.docker/config.json", home);
	else
		return 0;
	text = read_small_file(path, MAX_DOCKER_CONFIG, &len);
	if (!text)
		return 0;
	doc = cJSON_ParseWithLength(text, len);
	mbedtls_platform_zeroize(text, len);
	free(text);
	if (!doc) {
		log_warn("registry: %s is not JSON; its credentials are not used", path);
		return 0;
	}
	auths = cJSON_GetObjectItemCaseSensitive(doc, "auths");
	if (!cJSON_IsObject(auths))
		auths = NULL;
	cJSON_ArrayForEach(e, auths) {
		if (!e->string || !docker_key_matches(e->string, s->ref.host))
			continue;
		a = cJSON_GetObjectItemCaseSensitive(e, "auth");
		if (!cJSON_IsString(a) || !*a->valuestring)
			continue;
		err = basic_check(a->valuestring, "the \"auth\" entry", em);
		if (err) {
			errmsg_prefix(em, "%s: auths \"%.100s\"", path, e->string);
			break;
		}
		err = basic_set(s, a->valuestring);
		s->basic_from_docker = true;
		log_debug("registry: using the credentials for %s from %s", s->ref.host, path);
		break;
	}
	/* the parsed strings held secrets too */
	cJSON_ArrayForEach(e, auths) {
		a = cJSON_GetObjectItemCaseSensitive(e, "auth");
		if (cJSON_IsString(a))
			mbedtls_platform_zeroize(a->valuestring, strlen(a->valuestring));
	}
	cJSON_Delete(doc);
	return err;
}

/* ---- sessions --------------------------------------------------------------- */

void registry_close(struct registry_session *s)
{
	if (!s)
		return;
	if (s->authz != s->basic)
		free_secret(s->authz);
	free_secret(s->basic);
	http1_client_free(s->http);
	free(s);
}

int registry_open(const struct image_ref *ref, const struct registry_auth *auth,
		  const struct registry_opts *opts, struct registry_session **ret,
		  struct errmsg *em)
{
	struct http1_opts ho = { 0 };
	struct registry_session *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return errmsg_set(em, -ENOMEM, "out of memory");
	s->ref = *ref;
	s->opts = opts ? opts : &s->defaults;
	image_ref_format(ref, s->refname, sizeof(s->refname));
	snprintf(s->hostport, sizeof(s->hostport), "%s", image_ref_registry(ref));
	s->insecure = registry_is_insecure(s->opts, s->hostport) ||
		      registry_is_insecure(s->opts, ref->host);
	snprintf(s->base, sizeof(s->base), "%s://%s", s->insecure ? "http" : "https", s->hostport);
	s->max_blob = s->opts->max_blob_bytes ? s->opts->max_blob_bytes : REGISTRY_DEFAULT_MAX_BLOB;

	if (auth && auth->basic && *auth->basic) {
		err = basic_check(auth->basic, "the registry credentials", em);
		if (!err)
			err = basic_set(s, auth->basic);
	} else if (auth && auth->username && *auth->username) {
		err = basic_from_pair(s, auth->username, auth->password ? auth->password : "", em);
	} else if (!auth || !auth->no_docker_config) {
		err = docker_config_auth(s, em);
	} else {
		err = 0;
	}
	if (err)
		goto fail;

	ho.ca_files = s->opts->ca_files;
	ho.n_ca_files = s->opts->n_ca_files;
	ho.no_system_ca = s->opts->no_system_ca;
	ho.connect_timeout_ms = s->opts->connect_timeout_ms;
	ho.read_timeout_ms = s->opts->read_timeout_ms;
	err = http1_client_new(&ho, &s->http, em);
	if (err)
		goto fail;
	*ret = s;
	return 0;
fail:
	registry_close(s);
	return err;
}

/* May credentials travel to url (https, or a host marked insecure)? */
static bool secure_for(const struct registry_session *s, const char *url)
{
	struct http1_url u;
	char hp[300];

	if (http1_parse_url(url, &u, NULL))
		return false;
	if (u.tls)
		return true;
	snprintf(hp, sizeof(hp), "%s:%u", u.host, u.port);
	return registry_is_insecure(s->opts, hp);
}

/* Fetch a bearer token for the challenge c. */
static int fetch_token(struct registry_session *s, const struct http1_challenge *c,
		       struct errmsg *em)
{
	struct http1_request req = { .method = "GET" };
	struct http1_response resp;
	char url[HTTP1_MAX_URL], scope[1200], reason[300];
	const cJSON *tok;
	cJSON *doc = NULL;
	size_t n;
	int err;

	if (strncasecmp(c->realm, "https://", 8) && strncasecmp(c->realm, "http://", 7))
		return errmsg_set(em, -EPROTO, "registry %s: the token realm '%.200s' is not an http(s) URL",
				  s->hostport, c->realm);
	if (c->scope[0])
		snprintf(scope, sizeof(scope), "%s", c->scope);
	else
		snprintf(scope, sizeof(scope), "repository:%s:pull", s->ref.repo);
	n = snprintf(url, sizeof(url), "%s%s", c->realm, strchr(c->realm, '?') ? "&" : "?");
	err = n >= sizeof(url) ? -EINVAL : 0;
	if (!err && c->service[0]) {
		strcat(url, "service=");
		err = url_append_enc(url, sizeof(url), c->service);
		if (!err && strlen(url) + 1 < sizeof(url))
			strcat(url, "&");
	}
	if (!err && strlen(url) + 7 < sizeof(url)) {
		strcat(url, "scope=");
		err = url_append_enc(url, sizeof(url), scope);
	}
	if (err)
		return errmsg_set(em, -EPROTO, "registry %s: the token realm URL is too long", s->hostport);
	if (s->basic) {
		if (!secure_for(s, url))
			return errmsg_set(em, -EACCES, "registry %s: the token server %.200s is plain http; bpfd does not send credentials there unless its host:port is in [registry] insecure",
					  s->hostport, c->realm);
		req.authorization = s->basic;
	}
	req.url = url;
	err = http1_request(s->http, &req, &resp, em);
	if (err) {
		errmsg_prefix(em, "registry %s: token server", s->hostport);
		err = net_error(err);
		goto out;
	}
	if (resp.status == 401) {
		err = errmsg_set(em, -ENOKEY, "registry %s: the token server %.200s rejected %s (HTTP 401)",
				 s->hostport, c->realm,
				 s->basic ? s->basic_from_docker ? "the credentials of the Docker configuration"
								  : "the credentials given"
					  : "an anonymous request; give credentials (bpfctl -r)");
		goto out;
	}
	if (resp.status == 403) {
		err = errmsg_set(em, -EACCES, "registry %s: the token server denied access to %s (HTTP 403)",
				 s->hostport, scope);
		goto out;
	}
	if (resp.status != 200) {
		registry_reason(&resp, reason, sizeof(reason));
		err = errmsg_set(em, resp.status >= 500 || resp.status == 429 ? -EHOSTUNREACH : -EPROTO,
				 "registry %s: the token server %.200s answered HTTP %d%s", s->hostport,
				 c->realm, resp.status, reason);
		goto out;
	}
	if (resp.body_len > MAX_TOKEN_REPLY) {
		err = errmsg_set(em, -EPROTO, "registry %s: the token reply is too long", s->hostport);
		goto out;
	}
	doc = resp.body ? cJSON_ParseWithLength(resp.body, resp.body_len) : NULL;
	tok = doc ? cJSON_GetObjectItemCaseSensitive(doc, "token") : NULL;
	if (!cJSON_IsString(tok) || !*tok->valuestring)
		tok = doc ? cJSON_GetObjectItemCaseSensitive(doc, "access_token") : NULL;
	if (!cJSON_IsString(tok) || !*tok->valuestring || strlen(tok->valuestring) > MAX_CRED - 8 ||
	    strpbrk(tok->valuestring, "\r\n")) {
		err = errmsg_set(em, -EPROTO, "registry %s: the token server's reply has no usable \"token\"",
				 s->hostport);
		goto out;
	}
	if (s->authz != s->basic)
		free_secret(s->authz);
	s->authz = malloc(strlen(tok->valuestring) + 8);
	if (!s->authz) {
		err = -ENOMEM;
		goto out;
	}
	sprintf(s->authz, "Bearer %s", tok->valuestring);
	mbedtls_platform_zeroize(tok->valuestring, strlen(tok->valuestring));
	log_debug("registry: %s: got a bearer token for %s", s->hostport, scope);
out:
	cJSON_Delete(doc);
	if (resp.body)
		mbedtls_platform_zeroize(resp.body, resp.body_len);
	http1_response_free(&resp);
	return err;
}

/* Answer a 401: set up credentials for the retry from the challenge. */
static int handle_401(struct registry_session *s, const struct http1_response *r, bool retried,
		      struct errmsg *em)
{
	struct http1_challenge c;
	int err;

	if (!r->www_authenticate)
		return errmsg_set(em, -ENOKEY, "registry %s refused %s (HTTP 401) without saying how to authenticate",
				  s->hostport, s->refname);
	err = http1_parse_challenge(r->www_authenticate, &c, em);
	if (err) {
		errmsg_prefix(em, "registry %s", s->hostport);
		return -EPROTO;
	}
	if (retried || (!strcasecmp(c.scheme, "Basic") && s->authz == s->basic && s->authz)) {
		if (!s->basic)
			return errmsg_set(em, -ENOKEY, "registry %s requires credentials to pull %s (HTTP 401%s%s); give them with bpfctl -r/--registry-auth or in the Docker configuration",
					  s->hostport, s->refname, c.error[0] ? ", " : "", c.error);
		if (!strcmp(c.error, "insufficient_scope"))
			return errmsg_set(em, -EACCES, "registry %s: the credentials do not allow pulling %s (insufficient_scope)",
					  s->hostport, s->refname);
		return errmsg_set(em, -ENOKEY, "registry %s rejected %s for %s (HTTP 401)", s->hostport,
				  s->basic_from_docker ? "the credentials of the Docker configuration"
						       : "the credentials given", s->refname);
	}
	if (!strcasecmp(c.scheme, "Bearer")) {
		if (!c.realm[0])
			return errmsg_set(em, -EPROTO, "registry %s: a Bearer challenge without realm",
					  s->hostport);
		return fetch_token(s, &c, em);
	}
	if (!strcasecmp(c.scheme, "Basic")) {
		if (!s->basic)
			return errmsg_set(em, -ENOKEY, "registry %s requires credentials to pull %s (HTTP 401, Basic realm \"%.100s\"); give them with bpfctl -r/--registry-auth or in the Docker configuration",
					  s->hostport, s->refname, c.realm);
		/* the base URL is https unless [registry] insecure lists the host */
		if (s->authz != s->basic)
			free_secret(s->authz);
		s->authz = s->basic;
		return 0;
	}
	return errmsg_set(em, -EPROTO, "registry %s asks for authentication scheme '%s'; bpfd speaks Basic and Bearer",
			  s->hostport, c.scheme);
}

/* A request to the registry with the session's credentials; a 401 is answered
 * once (token or basic) and the request repeated.  The caller judges the
 * final status other than 401. */
static int reg_request(struct registry_session *s, struct http1_request *req,
		       struct http1_response *resp, struct errmsg *em)
{
	bool retried = false;
	int err;

	for (;;) {
		req->authorization = s->authz;
		err = http1_request(s->http, req, resp, em);
		if (err)
			return err == -EFBIG || err == -EBADMSG || err == -ENOSPC || err == -EIO ||
			       err == -ENOMEM || err == -EINVAL ? err : net_error(err);
		if (resp->status != 401)
			return 0;
		err = handle_401(s, resp, retried, em);
		if (err)
			return err;
		retried = true;
		http1_response_free(resp);
	}
}

/* A non-2xx answer to GET what: -errno with the reason. */
static int status_error(struct registry_session *s, const struct http1_response *r,
			const char *what, struct errmsg *em)
{
	char reason[300];

	registry_reason(r, reason, sizeof(reason));
	switch (r->status) {
	case 404:
		return errmsg_set(em, -ENOENT, "%s not found in registry %s (HTTP 404%s)", what,
				  s->hostport, reason);
	case 403:
		return errmsg_set(em, -EACCES, "registry %s denied access to %s (HTTP 403%s)",
				  s->hostport, what, reason);
	case 429:
		return errmsg_set(em, -EHOSTUNREACH, "registry %s is rate-limiting us (HTTP 429%s); try again later",
				  s->hostport, reason);
	case 400:
		if (s->insecure)
			return errmsg_set(em, -EPROTO, "registry %s answered HTTP 400 for %s%s; is it an HTTPS registry wrongly listed in [registry] insecure?",
					  s->hostport, what, reason);
		/* fall through */
	default:
		if (r->status >= 500)
			return errmsg_set(em, -EHOSTUNREACH, "registry %s failed to serve %s (HTTP %d%s)",
					  s->hostport, what, r->status, reason);
		return errmsg_set(em, -EPROTO, "registry %s answered HTTP %d for %s%s", s->hostport,
				  r->status, what, reason);
	}
}

int registry_get_manifest(struct registry_session *s, const char *target, char **ret_data,
			  size_t *ret_len, char *ret_media_type,
			  char ret_digest[IMAGE_DIGEST_LEN + 1], struct errmsg *em)
{
	struct http1_header accept = { "Accept", IMAGE_MANIFEST_ACCEPT };
	struct http1_request req = { .method = "GET", .headers = &accept, .n_headers = 1 };
	struct http1_response resp;
	char url[HTTP1_MAX_URL], what[600], digest[IMAGE_DIGEST_LEN + 1];
	size_t ct;
	int err;

	snprintf(what, sizeof(what), "manifest %s of %s/%s", target, s->hostport, s->ref.repo);
	if (!*target || strpbrk(target, "/?#% ") ||
	    (size_t)snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", s->base, s->ref.repo,
			     target) >= sizeof(url))
		return errmsg_set(em, -EINVAL, "'%.128s' is not a tag or digest", target);
	req.url = url;
	err = reg_request(s, &req, &resp, em);
	if (err)
		goto out;
	if (resp.status != 200) {
		err = status_error(s, &resp, what, em);
		goto out;
	}
	if (resp.body_len > IMAGE_MAX_MANIFEST) {
		err = errmsg_set(em, -EFBIG, "%s is %zu bytes, more than %u", what, resp.body_len,
				 IMAGE_MAX_MANIFEST);
		goto out;
	}
	if (!resp.body) {
		err = errmsg_set(em, -EPROTO, "%s: the registry sent an empty body", what);
		goto out;
	}
	digest_of(resp.body, resp.body_len, digest);
	if (image_digest_valid(target) && strcmp(target, digest)) {
		err = errmsg_set(em, -EBADMSG, "%s: the registry sent a document whose sha256 is %s",
				 what, digest);
		goto out;
	}
	if (resp.docker_content_digest && !strncmp(resp.docker_content_digest, "sha256:", 7) &&
	    strcmp(resp.docker_content_digest, digest)) {
		err = errmsg_set(em, -EBADMSG, "%s: Docker-Content-Digest says %.80s but the bytes hash to %s",
				 what, resp.docker_content_digest, digest);
		goto out;
	}
	if (ret_media_type) {
		ret_media_type[0] = '\0';
		if (resp.content_type) {
			ct = strcspn(resp.content_type, "; \t");
			if (ct > IMAGE_MT_MAX)
				ct = IMAGE_MT_MAX;
			memcpy(ret_media_type, resp.content_type, ct);
			ret_media_type[ct] = '\0';
		}
	}
	if (ret_digest)
		strcpy(ret_digest, digest);
	*ret_data = resp.body;
	*ret_len = resp.body_len;
	resp.body = NULL;
out:
	http1_response_free(&resp);
	return err;
}

struct blob_sink {
	struct registry_session *s;
	struct image_blob_writer *w;	/* to the store, or */
	char *buf;			/* into memory */
	size_t len, max;
	mbedtls_sha256_context sha;
	registry_progress_fn cb;
	void *arg;
	struct registry_progress prog;
	uint64_t next_report;
};

static int sink_body(void *arg, const void *data, size_t len, struct errmsg *em)
{
	struct blob_sink *k = arg;
	int err;

	if (k->prog.done + len > k->prog.total && k->prog.total)
		return errmsg_set(em, -EBADMSG, "blob %s is longer than the %llu bytes its descriptor gives",
				  k->prog.digest, (unsigned long long)k->prog.total);
	if (k->w) {
		err = image_store_blob_write(k->w, data, len, em);
		if (err)
			return err;
	} else {
		if (k->len + len > k->max)
			return errmsg_set(em, -EFBIG, "blob %s is more than %zu bytes", k->prog.digest,
					  k->max);
		memcpy(k->buf + k->len, data, len);
		k->len += len;
		mbedtls_sha256_update_ret(&k->sha, data, len);
	}
	k->prog.done += len;
	if (k->cb && k->prog.done >= k->next_report) {
		k->next_report = k->prog.done + PROGRESS_STEP;
		k->cb(k->arg, &k->prog);
	}
	return 0;
}

static int blob_get(struct registry_session *s, const char *digest, struct blob_sink *k,
		    struct errmsg *em)
{
	struct http1_request req = { .method = "GET", .on_body = sink_body, .arg = k };
	struct http1_response resp;
	char url[HTTP1_MAX_URL], what[700];
	int err;

	snprintf(what, sizeof(what), "blob %s of %s/%s", digest, s->hostport, s->ref.repo);
	snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", s->base, s->ref.repo, digest);
	req.url = url;
	err = reg_request(s, &req, &resp, em);
	if (!err && resp.status != 200)
		err = status_error(s, &resp, what, em);
	http1_response_free(&resp);
	return err;
}

int registry_get_blob(struct registry_session *s, const char *digest, size_t max,
		      char **ret_data, size_t *ret_len, struct errmsg *em)
{
	struct blob_sink k = { .s = s, .max = max };
	unsigned char sum[32];
	char got[IMAGE_DIGEST_LEN + 1];
	int err;

	if (!image_digest_valid(digest))
		return errmsg_set(em, -EINVAL, "'%.80s' is not a sha256 digest", digest);
	k.buf = malloc(max + 1);
	if (!k.buf)
		return errmsg_set(em, -ENOMEM, "out of memory for a blob of %zu bytes", max);
	k.prog.digest = digest;
	mbedtls_sha256_init(&k.sha);
	mbedtls_sha256_starts_ret(&k.sha, 0);
	err = blob_get(s, digest, &k, em);
	if (!err) {
		mbedtls_sha256_finish_ret(&k.sha, sum);
		hex_digest(sum, got);
		if (strcmp(got, digest))
			err = errmsg_set(em, -EBADMSG, "blob %s of %s/%s: the registry sent bytes whose sha256 is %s",
					 digest, s->hostport, s->ref.repo, got);
	}
	mbedtls_sha256_free(&k.sha);
	if (err) {
		free(k.buf);
		return err;
	}
	k.buf[k.len] = '\0';
	*ret_data = k.buf;
	*ret_len = k.len;
	return 0;
}

/* Fetch one blob of a manifest into the store unless it is there. */
static int blob_to_store(struct registry_session *s, struct image_store *store,
			 const struct image_desc *d, struct registry_progress *prog,
			 registry_progress_fn cb, void *arg, struct errmsg *em)
{
	struct blob_sink k = { .s = s, .cb = cb, .arg = arg };
	int err;

	prog->digest = d->digest;
	prog->total = d->size;
	prog->done = 0;
	prog->cached = false;
	if (d->size > s->max_blob)
		return errmsg_set(em, -EFBIG, "%s: blob %s is %llu bytes, more than [registry] max_blob_bytes (%llu)",
				  s->refname, d->digest, (unsigned long long)d->size,
				  (unsigned long long)s->max_blob);
	if (image_store_blob_has(store, d->digest)) {
		prog->cached = true;
		prog->done = d->size;
		if (cb)
			cb(arg, prog);
		return 0;
	}
	if (cb)
		cb(arg, prog);
	err = image_store_blob_begin(store, d->digest, d->size, &k.w, em);
	if (err)
		return err;
	k.prog = *prog;
	k.next_report = PROGRESS_STEP;
	err = blob_get(s, d->digest, &k, em);
	if (!err && k.prog.done != d->size)
		err = errmsg_set(em, -EBADMSG, "blob %s: the registry sent %llu bytes, its descriptor says %llu",
				 d->digest, (unsigned long long)k.prog.done,
				 (unsigned long long)d->size);
	if (err) {
		image_store_blob_abort(k.w);
		return err;
	}
	err = image_store_blob_commit(k.w, em);	/* checks the sha256 */
	if (err) {
		errmsg_prefix(em, "%s from %s", d->digest, s->hostport);
		return err;
	}
	prog->done = k.prog.done;
	if (cb)
		cb(arg, prog);
	return 0;
}

int registry_session_pull(struct registry_session *s, struct image_store *store,
			  registry_progress_fn cb, void *arg,
			  char digest[IMAGE_DIGEST_LEN + 1], struct errmsg *em)
{
	struct registry_progress prog = { .phase = REGISTRY_PHASE_MANIFEST };
	const struct image_platform_desc *pick;
	struct image_manifest *m = NULL;
	struct image_index *idx = NULL;
	char mt[IMAGE_MT_MAX + 1], top[IMAGE_DIGEST_LEN + 1], mdig[IMAGE_DIGEST_LEN + 1];
	const char *arch = s->opts->arch, *variant = s->opts->variant;
	char *doc = NULL;
	size_t len = 0, i;
	int kind, err;

	err = registry_get_manifest(s, image_ref_target(&s->ref), &doc, &len, mt, top, em);
	if (err)
		goto out;
	kind = image_doc_kind(doc, len, mt[0] ? mt : NULL, em);
	if (kind < 0) {
		err = kind;
		errmsg_prefix(em, "%s", s->refname);
		goto out;
	}
	prog.digest = top;
	prog.total = prog.done = len;
	if (cb)
		cb(arg, &prog);
	err = image_store_blob_put(store, top, doc, len, em);
	if (err)
		goto out;
	strcpy(mdig, top);
	if (kind == IMAGE_DOC_INDEX) {
		idx = calloc(1, sizeof(*idx));
		if (!idx) {
			err = -ENOMEM;
			goto out;
		}
		err = image_index_parse(doc, len, mt[0] ? mt : NULL, idx, em);
		if (!err && !arch)
			err = image_arch_host(&arch, &variant, em);
		if (!err)
			err = image_index_pick(idx, arch, variant ? variant : "", &pick, em);
		if (err) {
			errmsg_prefix(em, "%s", s->refname);
			goto out;
		}
		strcpy(mdig, pick->desc.digest);
		free(doc);
		doc = NULL;
		err = registry_get_manifest(s, mdig, &doc, &len, mt, NULL, em);
		if (err)
			goto out;
		if (!mt[0])
			snprintf(mt, sizeof(mt), "%s", pick->desc.media_type);
		prog.digest = mdig;
		prog.total = prog.done = len;
		if (cb)
			cb(arg, &prog);
		err = image_store_blob_put(store, mdig, doc, len, em);
		if (err)
			goto out;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		err = -ENOMEM;
		goto out;
	}
	err = image_manifest_parse(doc, len, mt[0] ? mt : NULL, m, em);
	if (err) {
		errmsg_prefix(em, "%s (manifest %s)", s->refname, mdig);
		goto out;
	}
	prog.phase = REGISTRY_PHASE_CONFIG;
	err = blob_to_store(s, store, &m->config, &prog, cb, arg, em);
	if (err)
		goto out;
	prog.phase = REGISTRY_PHASE_LAYER;
	prog.n_layers = m->n_layers;
	for (i = 0; i < m->n_layers; i++) {
		prog.layer = i;
		err = blob_to_store(s, store, &m->layers[i], &prog, cb, arg, em);
		if (err)
			goto out;
	}
	prog.phase = REGISTRY_PHASE_DONE;
	prog.digest = top;
	if (cb)
		cb(arg, &prog);
	strcpy(digest, top);
	log_info("registry: pulled %s: %s", s->refname, top);
out:
	free(m);
	free(idx);
	free(doc);
	return err;
}

int registry_pull(const struct image_ref *ref, const struct registry_auth *auth,
		  const struct registry_opts *opts, struct image_store *store,
		  registry_progress_fn cb, void *arg, char digest[IMAGE_DIGEST_LEN + 1],
		  struct errmsg *em)
{
	struct registry_session *s = NULL;
	int err;

	err = registry_open(ref, auth, opts, &s, em);
	if (!err)
		err = registry_session_pull(s, store, cb, arg, digest, em);
	registry_close(s);
	return err;
}
