/* SPDX-License-Identifier: Apache-2.0 */
/* ref.c - image references: parse, Docker Hub naming, canonical form */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/image/ref.h"

#define SHA256_PREFIX	"sha256:"

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool image_digest_valid(const char *s)
{
	size_t i;

	if (!s || strncmp(s, SHA256_PREFIX, strlen(SHA256_PREFIX)))
		return false;
	s += strlen(SHA256_PREFIX);
	for (i = 0; i < 64; i++)
		if (!is_lower_hex(s[i]))
			return false;
	return s[64] == '\0';
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A DNS label: alphanumerics, '-' inside. */
static bool label_valid(const char *s, size_t n)
{
	size_t i;

	if (!n || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool port_valid(const char *s, size_t n)
{
	unsigned long port = 0;
	size_t i;

	if (!n || n > 5)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		port = port * 10 + (s[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

/* host[:port] where host is dotted DNS labels or a [bracketed IPv6 address]. */
static int host_check(const char *in, const char *h, size_t n, struct errmsg *em)
{
	const char *colon, *p, *dot, *label, *end = h + n;
	size_t i;

	if (h[0] == '[') {
		p = memchr(h, ']', n);
		if (!p || p == h + 1)
			return errmsg_set(em, -EINVAL, "image reference '%s': registry "
					  "'%.*s' has no closing ']'", in, (int)n, h);
		for (i = 1; h + i < p; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.')
				return errmsg_set(em, -EINVAL, "image reference '%s': "
						  "'%.*s' is not an IPv6 address", in,
						  (int)(p - h + 1), h);
		colon = p + 1 < end ? p + 1 : NULL;
		if (colon && *colon != ':')
			return errmsg_set(em, -EINVAL, "image reference '%s': registry "
					  "'%.*s' has text after ']' that is not a :port",
					  in, (int)n, h);
	} else {
		colon = memchr(h, ':', n);
		p = colon ? colon : end;
		for (label = h;; label = dot + 1) {
			dot = memchr(label, '.', p - label);
			if (!label_valid(label, (dot ? dot : p) - label))
				return errmsg_set(em, -EINVAL, "image reference '%s': "
						  "registry '%.*s' is not a host name (each "
						  "dot-separated part is letters, digits and "
						  "inner '-')", in, (int)n, h);
			if (!dot)
				break;
		}
	}
	if (colon && !port_valid(colon + 1, end - colon - 1))
		return errmsg_set(em, -EINVAL, "image reference '%s': registry port "
				  "'%.*s' is not a number from 1 to 65535", in,
				  (int)(end - colon - 1), colon + 1);
	return 0;
}

/* One repository path component: [a-z0-9]+ joined by '.', '_', '__' or '-'+. */
static bool component_valid(const char *s, size_t n)
{
	size_t i;

	if (!n || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (i = 1; i < n; i++) {
		if (is_lower_alnum(s[i]))
			continue;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += s[i + 1] == '_' ? 2 : 1;
		else if (s[i] == '-')
			while (s[i] == '-')
				i++;
		else
			return false;
		if (i >= n || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

static int repo_check(const char *in, const char *r, size_t n, struct errmsg *em)
{
	const char *end = r + n, *slash;
	size_t i;

	if (!n)
		return errmsg_set(em, -EINVAL, "image reference '%s' has no repository "
				  "name", in);
	for (i = 0; i < n; i++)
		if (r[i] >= 'A' && r[i] <= 'Z')
			return errmsg_set(em, -EINVAL, "image reference '%s': repository "
					  "names must be lowercase ('%.*s')", in, (int)n, r);
	while (r < end) {
		slash = memchr(r, '/', end - r);
		if (!slash)
			slash = end;
		if (!component_valid(r, slash - r))
			return errmsg_set(em, -EINVAL, "image reference '%s': repository "
					  "path component '%.*s' is not valid (lowercase "
					  "letters and digits, joined by '.', '_', '__' or "
					  "'-')", in, (int)(slash - r), r);
		if (slash + 1 == end)
			return errmsg_set(em, -EINVAL, "image reference '%s': repository "
					  "ends with '/'", in);
		r = slash + 1;
	}
	return 0;
}

static int tag_check(const char *in, const char *t, size_t n, struct errmsg *em)
{
	size_t i;

	if (!n)
		return errmsg_set(em, -EINVAL, "image reference '%s' ends with ':' but "
				  "has no tag after it", in);
	if (n > IMAGE_TAG_MAX)
		return errmsg_set(em, -EINVAL, "image reference '%s': the tag is %zu "
				  "characters long, at most %d are allowed", in, n,
				  IMAGE_TAG_MAX);
	for (i = 0; i < n; i++) {
		if (is_alnum(t[i]) || t[i] == '_' || (i && (t[i] == '.' || t[i] == '-')))
			continue;
		return errmsg_set(em, -EINVAL, "image reference '%s': tag '%.*s' may "
				  "only hold letters, digits, '_', and after the first "
				  "character '.' and '-'", in, (int)n, t);
	}
	return 0;
}

static int digest_check(const char *in, const char *d, struct errmsg *em)
{
	const char *colon = strchr(d, ':');

	if (!colon)
		return errmsg_set(em, -EINVAL, "image reference '%s': '@%s' is not a "
				  "digest; write @sha256:<64 hex digits>", in, d);
	if (strncmp(d, SHA256_PREFIX, strlen(SHA256_PREFIX)))
		return errmsg_set(em, -EINVAL, "image reference '%s': digest algorithm "
				  "'%.*s' is not supported, only sha256", in,
				  (int)(colon - d), d);
	if (!image_digest_valid(d))
		return errmsg_set(em, -EINVAL, "image reference '%s': digest '%s' must "
				  "be sha256: followed by 64 lowercase hex digits", in, d);
	return 0;
}

/* Is the first path component a registry host? (Docker's rule.) */
static bool first_is_host(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) || s[0] == '[' ||
	       (n == strlen("localhost") && !memcmp(s, "localhost", n));
}

static int split_check(const char *in, struct errmsg *em)
{
	const unsigned char *p;

	if (!in[0])
		return errmsg_set(em, -EINVAL, "the image reference is empty");
	if (strlen(in) > IMAGE_REF_MAX)
		return errmsg_set(em, -EINVAL, "the image reference is %zu characters "
				  "long, at most %d are allowed", strlen(in), IMAGE_REF_MAX);
	for (p = (const unsigned char *)in; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return errmsg_set(em, -EINVAL, "image reference '%s' holds a space, "
					  "control or non-ASCII character", in);
	if (strstr(in, "://"))
		return errmsg_set(em, -EINVAL, "image reference '%s' has a URL scheme; "
				  "write it without one (host/repository:tag)", in);
	return 0;
}

int image_ref_parse(const char *in, struct image_ref *ret_ref, struct errmsg *em)
{
	struct image_ref r = { 0 };
	const char *at, *name_end, *slash, *last_slash, *colon, *repo;
	size_t hlen = 0, i;
	int err;

	err = split_check(in, em);
	if (err)
		return err;
	at = strchr(in, '@');
	name_end = at ? at : in + strlen(in);
	if (at) {
		if (strchr(at + 1, '@'))
			return errmsg_set(em, -EINVAL, "image reference '%s' has more "
					  "than one '@'", in);
		err = digest_check(in, at + 1, em);
		if (err)
			return err;
		snprintf(r.digest, sizeof(r.digest), "%s", at + 1);
	}
	slash = memchr(in, '/', name_end - in);
	repo = in;
	if (slash && first_is_host(in, slash - in)) {
		hlen = slash - in;
		if (hlen > IMAGE_HOST_MAX)
			return errmsg_set(em, -EINVAL, "image reference '%s': the registry "
					  "name is longer than %d characters", in,
					  IMAGE_HOST_MAX);
		err = host_check(in, in, hlen, em);
		if (err)
			return err;
		for (i = 0; i < hlen; i++)
			r.host[i] = tolower((unsigned char)in[i]);
		repo = slash + 1;
	} else {
		snprintf(r.host, sizeof(r.host), "%s", IMAGE_DOCKER_HUB);
	}
	last_slash = memrchr(repo, '/', name_end - repo);
	colon = memchr(last_slash ? last_slash : repo, ':',
		       name_end - (last_slash ? last_slash : repo));
	if (colon) {
		err = tag_check(in, colon + 1, name_end - colon - 1, em);
		if (err)
			return err;
		snprintf(r.tag, sizeof(r.tag), "%.*s", (int)(name_end - colon - 1),
			 colon + 1);
		name_end = colon;
	} else if (!at) {
		snprintf(r.tag, sizeof(r.tag), "latest");
	}
	err = repo_check(in, repo, name_end - repo, em);
	if (err)
		return err;
	if (!strcmp(r.host, "index.docker.io")) {
		memset(r.host, 0, sizeof(r.host));
		snprintf(r.host, sizeof(r.host), "%s", IMAGE_DOCKER_HUB);
	}
	if (!strcmp(r.host, IMAGE_DOCKER_HUB) && !memchr(repo, '/', name_end - repo))
		snprintf(r.repo, sizeof(r.repo), "library/");
	if (strlen(r.host) + 1 + strlen(r.repo) + (name_end - repo) > IMAGE_REPO_MAX)
		return errmsg_set(em, -EINVAL, "image reference '%s': the name (registry "
				  "and repository) is longer than %d characters", in,
				  IMAGE_REPO_MAX);
	memcpy(r.repo + strlen(r.repo), repo, name_end - repo);
	*ret_ref = r;
	return 0;
}

int image_ref_format(const struct image_ref *ref, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%s/%s%s%s%s%s", ref->host, ref->repo,
		     ref->tag[0] ? ":" : "", ref->tag,
		     ref->digest[0] ? "@" : "", ref->digest);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}

const char *image_ref_target(const struct image_ref *ref)
{
	return ref->digest[0] ? ref->digest : ref->tag;
}

const char *image_ref_registry(const struct image_ref *ref)
{
	return strcmp(ref->host, IMAGE_DOCKER_HUB) ? ref->host : "registry-1.docker.io";
}
