/* SPDX-License-Identifier: Apache-2.0 */
/* test_addr.c - numeric TCP addresses: HOST:PORT splitting and sockaddrs */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include "harness.h"
#include "core/wire/addr.h"

static void split_ok(void)
{
	static const struct {
		const char *in, *host;
		int port;
	} v[] = {
		{ "127.0.0.1:50051", "127.0.0.1", 50051 },
		{ "[::1]:1", "::1", 1 },
		{ "::1:65535", "::1", 65535 },		/* the last ':' splits */
		{ "localhost:0080", "localhost", 80 },
		{ "[fe80::1%eth0]:9", "fe80::1%eth0", 9 },
	};
	char host[64];
	uint16_t port;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (!ASSERT_OK(addr_split(v[i].in, host, sizeof(host), &port), v[i].in))
			continue;
		ASSERT_STREQ(host, v[i].host, v[i].in);
		ASSERT_EQ(port, v[i].port, v[i].in);
	}
}

static void split_bad(void)
{
	static const char *const v[] = {
		"", "127.0.0.1", "127.0.0.1:", ":80", "[]:80", "[::1]", "[::1:80",
		"[::1]x:80", "h:0", "h:65536", "h:99999999999999999999", "h:+80",
		"h: 80", "h:0x50", "h:80 ",
	};
	char host[8] = "keep";
	uint16_t port = 7;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ASSERT_EQ(addr_split(v[i], host, sizeof(host), &port), -EINVAL, v[i]);
	ASSERT_EQ(addr_split("123456789:80", host, sizeof(host), &port), -EINVAL,
		  "host longer than the buffer");
	ASSERT_OK(addr_split("1234567:80", host, sizeof(host), &port), "host that just fits");
	ASSERT_STREQ(host, "1234567", "host that just fits");
	ASSERT_EQ(addr_split("h:x", host, sizeof(host), &port), -EINVAL, "h:x");
	ASSERT_STREQ(host, "1234567", "host left alone on failure");
	ASSERT_EQ(port, 80, "port left alone on failure");
}

static void parse(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = 0;

	if (ASSERT_OK(addr_parse("127.0.0.1", 50051, &ss, &len), "IPv4")) {
		ASSERT_EQ(ss.ss_family, AF_INET, "IPv4 family");
		ASSERT_EQ(len, sizeof(*s4), "IPv4 length");
		ASSERT_EQ(ntohs(s4->sin_port), 50051, "IPv4 port");
		ASSERT_EQ(ntohl(s4->sin_addr.s_addr), 0x7f000001, "IPv4 address");
	}
	if (ASSERT_OK(addr_parse("::1", 443, &ss, &len), "IPv6")) {
		ASSERT_EQ(ss.ss_family, AF_INET6, "IPv6 family");
		ASSERT_EQ(len, sizeof(*s6), "IPv6 length");
		ASSERT_EQ(ntohs(s6->sin6_port), 443, "IPv6 port");
		ASSERT_TRUE(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr), "IPv6 address");
	}
	ASSERT_EQ(addr_parse("localhost", 1, &ss, &len), -EINVAL, "a name");
	ASSERT_EQ(addr_parse("[::1]", 1, &ss, &len), -EINVAL, "brackets");
	ASSERT_EQ(addr_parse("", 1, &ss, &len), -EINVAL, "empty");
}

TEST_MAIN("addr",
	  TEST(split_ok),
	  TEST(split_bad),
	  TEST(parse))
