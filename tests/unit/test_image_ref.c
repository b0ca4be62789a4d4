/* SPDX-License-Identifier: Apache-2.0 */
/* test_image_ref.c - image references: Docker naming, canonical form, errors */
#include <errno.h>

#include "harness.h"
#include "core/image/ref.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct good_case {
	const char *in;
	const char *host, *repo, *tag, *digest;
	const char *canonical;
};

static const struct good_case goods[] = {
	{ "alpine", "docker.io", "library/alpine", "latest", "",
	  "docker.io/library/alpine:latest" },
	{ "alpine:3.19", "docker.io", "library/alpine", "3.19", "",
	  "docker.io/library/alpine:3.19" },
	{ "bpfd/xdp_pass", "docker.io", "bpfd/xdp_pass", "latest", "",
	  "docker.io/bpfd/xdp_pass:latest" },
	{ "docker.io/alpine", "docker.io", "library/alpine", "latest", "",
	  "docker.io/library/alpine:latest" },
	{ "index.docker.io/library/alpine:edge", "docker.io", "library/alpine",
	  "edge", "", "docker.io/library/alpine:edge" },
	{ "index.docker.io/alpine", "docker.io", "library/alpine", "latest", "",
	  "docker.io/library/alpine:latest" },
	{ "quay.io/bpfd-bytecode/xdp_pass:latest", "quay.io",
	  "bpfd-bytecode/xdp_pass", "latest", "",
	  "quay.io/bpfd-bytecode/xdp_pass:latest" },
	{ "Quay.IO/bpfd/x", "quay.io", "bpfd/x", "latest", "", "quay.io/bpfd/x:latest" },
	{ "localhost/xdp", "localhost", "xdp", "latest", "", "localhost/xdp:latest" },
	{ "localhost:5000/bpf/xdp-pass:v1", "localhost:5000", "bpf/xdp-pass", "v1", "",
	  "localhost:5000/bpf/xdp-pass:v1" },
	{ "127.0.0.1:5000/a/b/c:V1_x.y-z", "127.0.0.1:5000", "a/b/c", "V1_x.y-z", "",
	  "127.0.0.1:5000/a/b/c:V1_x.y-z" },
	{ "[::1]:5000/xdp", "[::1]:5000", "xdp", "latest", "", "[::1]:5000/xdp:latest" },
	{ "registry:5000/xdp", "registry:5000", "xdp", "latest", "",
	  "registry:5000/xdp:latest" },
	/* "localhost:5000" alone is Docker Hub's library/localhost, tag 5000 */
	{ "localhost:5000", "docker.io", "library/localhost", "5000", "",
	  "docker.io/library/localhost:5000" },
	{ "quay.io/x/y@sha256:" D64, "quay.io", "x/y", "", "sha256:" D64,
	  "quay.io/x/y@sha256:" D64 },
	{ "quay.io/x/y:v2@sha256:" D64, "quay.io", "x/y", "v2", "sha256:" D64,
	  "quay.io/x/y:v2@sha256:" D64 },
	{ "alpine@sha256:" D64, "docker.io", "library/alpine", "", "sha256:" D64,
	  "docker.io/library/alpine@sha256:" D64 },
	{ "a.b/x__y/a-b/a--b/a.b_c", "a.b", "x__y/a-b/a--b/a.b_c", "latest", "",
	  "a.b/x__y/a-b/a--b/a.b_c:latest" },
	{ "my-reg.example.com:443/team/prog:_t", "my-reg.example.com:443", "team/prog",
	  "_t", "", "my-reg.example.com:443/team/prog:_t" },
};

struct bad_case {
	const char *in;
	const char *why;	/* part of the message */
};

static const struct bad_case bads[] = {
	{ "", "empty" },
	{ "quay.io/x y", "space" },
	{ "https://quay.io/x", "URL scheme" },
	{ "quay.io/X", "lowercase" },
	{ "Alpine", "lowercase" },
	{ "quay.io/", "no repository" },
	{ ":v1", "no repository" },
	{ "quay.io/x:", "no tag after it" },
	{ "quay.io/x:-v", "tag '-v'" },
	{ "quay.io/x:a/b", "not valid" },
	{ "quay.io/x//y", "component ''" },
	{ "quay.io/x/", "ends with '/'" },
	{ "quay.io/_x", "component '_x'" },
	{ "quay.io/x..y", "component 'x..y'" },
	{ "quay.io/x___y", "component 'x___y'" },
	{ "quay.io/x-", "component 'x-'" },
	{ "quay..io/x", "not a host name" },
	{ "quay.io./x", "not a host name" },
	{ "-quay.io/x", "not a host name" },
	{ "quay_x.io/x", "not a host name" },
	{ "quay.io:0/x", "port '0'" },
	{ "quay.io:65536/x", "port '65536'" },
	{ "quay.io:/x", "port ''" },
	{ "quay.io:5x/x", "port '5x'" },
	{ "[::1/x", "no closing ']'" },
	{ "[zz]/x", "not an IPv6" },
	{ "[::1]x/y", "not a :port" },
	{ "x@sha256:" D64 "@sha256:" D64, "more than one '@'" },
	{ "x@" D64, "not a digest" },
	{ "x@sha512:" D64, "'sha512' is not supported" },
	{ "x@sha256:" D64 "0", "64 lowercase hex" },
	{ "x@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	  "64 lowercase hex" },
	{ "x@sha256:abc", "64 lowercase hex" },
	{ "x@", "not a digest" },
	{ "x:t\x01", "control" },
	{ "x:caf\xc3\xa9", "non-ASCII" },
};

static void parse_good(void)
{
	struct image_ref r, again;
	struct errmsg em;
	char buf[IMAGE_REF_MAX + 80], what[128];
	size_t i;

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good_case *c = &goods[i];

		memset(&em, 0, sizeof(em));
		snprintf(what, sizeof(what), "parse %s", c->in);
		if (!test__check(image_ref_parse(c->in, &r, &em) == 0, __FILE__, __LINE__,
				 what, "%s", em.msg))
			continue;
		ASSERT_STREQ(r.host, c->host, what);
		ASSERT_STREQ(r.repo, c->repo, what);
		ASSERT_STREQ(r.tag, c->tag, what);
		ASSERT_STREQ(r.digest, c->digest, what);
		ASSERT_EQ(image_ref_format(&r, buf, sizeof(buf)), strlen(c->canonical), what);
		ASSERT_STREQ(buf, c->canonical, what);
		/* the canonical form is a fixed point */
		ASSERT_OK(image_ref_parse(buf, &again, &em), what);
		ASSERT_TRUE(!memcmp(&r, &again, sizeof(r)), what);
	}
}

static void parse_bad(void)
{
	struct image_ref r;
	struct errmsg em;
	char what[128];
	size_t i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		memset(&em, 0, sizeof(em));
		snprintf(what, sizeof(what), "parse '%s'", bads[i].in);
		ASSERT_EQ(image_ref_parse(bads[i].in, &r, &em), -EINVAL, what);
		ASSERT_STRSTR(em.msg, bads[i].why, what);
	}
}

static void lengths(void)
{
	char big[IMAGE_REF_MAX + 100], tag[IMAGE_TAG_MAX + 2];
	struct image_ref r;
	struct errmsg em = { 0 };

	memset(tag, 'a', sizeof(tag) - 1);
	tag[IMAGE_TAG_MAX] = '\0';
	snprintf(big, sizeof(big), "quay.io/x:%s", tag);
	ASSERT_OK(image_ref_parse(big, &r, &em), "128-character tag");
	tag[IMAGE_TAG_MAX] = 'a';
	tag[IMAGE_TAG_MAX + 1] = '\0';
	snprintf(big, sizeof(big), "quay.io/x:%s", tag);
	ASSERT_EQ(image_ref_parse(big, &r, &em), -EINVAL, "129-character tag");
	ASSERT_STRSTR(em.msg, "129 characters", "tag length message");

	/* name = "quay.io/" + repo: 255 characters fit, 256 do not */
	memset(big, 'a', sizeof(big));
	memcpy(big, "quay.io/", 8);
	big[255] = '\0';
	memset(&em, 0, sizeof(em));
	ASSERT_OK(image_ref_parse(big, &r, &em), "255-character name");
	big[255] = 'a';
	big[256] = '\0';
	ASSERT_EQ(image_ref_parse(big, &r, &em), -EINVAL, "256-character name");
	ASSERT_STRSTR(em.msg, "longer than 255", "name length message");

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(image_ref_parse(big, &r, &em), -EINVAL, "over-long reference");
	ASSERT_STRSTR(em.msg, "at most 1024", "reference length message");
}

static void format_small_buffer(void)
{
	struct image_ref r;
	char buf[8];

	ASSERT_OK(image_ref_parse("alpine", &r, NULL), "parse");
	ASSERT_EQ(image_ref_format(&r, buf, sizeof(buf)), -ENAMETOOLONG, "truncated");
	ASSERT_EQ(strlen(buf), 7, "terminated");
}

static void target_and_registry(void)
{
	struct image_ref r;

	ASSERT_OK(image_ref_parse("alpine:3", &r, NULL), "parse");
	ASSERT_STREQ(image_ref_target(&r), "3", "tag target");
	ASSERT_STREQ(image_ref_registry(&r), "registry-1.docker.io", "hub API host");
	ASSERT_OK(image_ref_parse("localhost:5000/a:t@sha256:" D64, &r, NULL), "parse");
	ASSERT_STREQ(image_ref_target(&r), "sha256:" D64, "digest wins");
	ASSERT_STREQ(image_ref_registry(&r), "localhost:5000", "other registries as is");
}

static void digests(void)
{
	ASSERT_TRUE(image_digest_valid("sha256:" D64), "valid");
	ASSERT_FALSE(image_digest_valid("sha256:" D64 "0"), "65 digits");
	ASSERT_FALSE(image_digest_valid("sha256:" "0123"), "short");
	ASSERT_FALSE(image_digest_valid("SHA256:" D64), "prefix case");
	ASSERT_FALSE(image_digest_valid("sha256:" "0123456789abcdeF0123456789abcdef"
					"0123456789abcdef0123456789abcdef"), "upper hex");
	ASSERT_FALSE(image_digest_valid("sha256:" "0123456789abcdeg0123456789abcdef"
					"0123456789abcdef0123456789abcdef"), "not hex");
	ASSERT_FALSE(image_digest_valid(NULL), "NULL");
	ASSERT_FALSE(image_digest_valid(""), "empty");
}

TEST_MAIN("image_ref", TEST(parse_good), TEST(parse_bad), TEST(lengths),
	  TEST(format_small_buffer), TEST(target_and_registry), TEST(digests))
