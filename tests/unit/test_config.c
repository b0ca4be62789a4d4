/* SPDX-License-Identifier: Apache-2.0 */
/* test_config.c - bpfd.toml: the TOML subset, the schema, messages, config_load, dist/bpfd.toml */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "harness.h"
#include "core/base/log.h"
#include "core/base/stats_gate.h"
#include "core/config/config.h"

static int parse(struct bpfd_config *cfg, const char *text, struct errmsg *em)
{
	config_defaults(cfg);
	memset(em, 0, sizeof(*em));
	return config_parse(cfg, text, strlen(text), em);
}

/* Parse text; it must succeed and leave no message. */
static bool good(int line, struct bpfd_config *cfg, const char *text)
{
	struct errmsg em;
	char what[256];
	int err = parse(cfg, text, &em);

	snprintf(what, sizeof(what), "good text of line %d: %.200s", line, em.msg);
	return test__check(err == 0 && !em.msg[0], __FILE__, line, what, "got %d", err);
}
#define GOOD(cfg, text) good(__LINE__, (cfg), (text))

static void defaults(void)
{
	struct bpfd_config cfg;

	config_defaults(&cfg);
	ASSERT_STREQ(cfg.rundir, "/run/bpfd", "rundir");
	ASSERT_STREQ(cfg.bpffs, "/run/bpfd/fs", "bpffs");
	ASSERT_STREQ(cfg.socket_path, "/run/bpfd/bpfd.sock", "socket");
	ASSERT_TRUE(cfg.unix_enabled, "unix on");
	ASSERT_FALSE(cfg.tcp_enabled, "tcp off");
	ASSERT_STREQ(cfg.tcp_addr, "::1", "tcp addr");
	ASSERT_EQ(cfg.tcp_port, 50051, "tcp port");
	ASSERT_EQ(cfg.max_msg, 4 << 20, "max msg");
	ASSERT_TRUE(cfg.allow_unsigned, "allow_unsigned");
	ASSERT_STREQ(cfg.certs_dir, "/etc/bpfd/certs", "certs");
	ASSERT_EQ(cfg.n_ifaces, 0, "no interfaces");
	ASSERT_FALSE(cfg.socket_path_set, "socket not explicit");
	ASSERT_FALSE(cfg.unload_on_exit, "programs stay loaded at exit");
	ASSERT_EQ(cfg.log_level, -1, "no [log] level: $BPFD_LOG or info");
	ASSERT_EQ(cfg.log_target, LOG_TARGET_STDERR, "log to stderr");
	ASSERT_EQ(cfg.stats_mode, STATS_ON_DEMAND, "stats on demand");
	ASSERT_EQ(cfg.stats_grace, 60, "stats grace 60 s");
}

/* [monitor] */
static void monitor(void)
{
	struct bpfd_config cfg;

	if (GOOD(&cfg, "[monitor]\nstats = \"always\"\n"))
		ASSERT_EQ(cfg.stats_mode, STATS_ALWAYS, "always");
	if (GOOD(&cfg, "[monitor]\nstats = \"off\"\nstats_grace = 5\n")) {
		ASSERT_EQ(cfg.stats_mode, STATS_OFF, "off");
		ASSERT_EQ(cfg.stats_grace, 5, "grace");
	}
	if (GOOD(&cfg, "monitor.stats = \"on-demand\"\nmonitor.stats_grace = 86400\n")) {
		ASSERT_EQ(cfg.stats_mode, STATS_ON_DEMAND, "on-demand");
		ASSERT_EQ(cfg.stats_grace, 86400, "a day");
		ASSERT_EQ(cfg.event_queue, EVENT_QUEUE_DEFAULT, "event_queue default");
		ASSERT_EQ(cfg.event_readers, EVENT_READERS_DEFAULT, "event_readers default");
	}
	if (GOOD(&cfg, "[monitor]\nevent_queue = 16\nevent_readers = 0\n")) {
		ASSERT_EQ(cfg.event_queue, 16, "event_queue");
		ASSERT_EQ(cfg.event_readers, 0, "event stream off");
	}
}

/* [registry] */
static void registry(void)
{
	struct bpfd_config cfg;

	config_defaults(&cfg);
	ASSERT_EQ(cfg.registry.n_insecure, 0, "no insecure registry by default");
	ASSERT_EQ(cfg.registry.connect_timeout_ms, 10000, "connect timeout default");
	ASSERT_EQ(cfg.registry.read_timeout_ms, 30000, "read timeout default");
	ASSERT_EQ(cfg.registry.max_blob_bytes, 256ull << 20, "max blob default");
	if (GOOD(&cfg, "[registry]\ninsecure = [\"127.0.0.1:5000\", \"localhost\"]\n"
		       "ca_files = [\"/etc/bpfd/a.pem\"]\nconnect_timeout_ms = 250\n"
		       "read_timeout_ms = 1500\nmax_blob_bytes = 1_048_576\n")) {
		ASSERT_EQ(cfg.registry.n_insecure, 2, "two insecure");
		ASSERT_STREQ(cfg.registry.insecure[0], "127.0.0.1:5000", "insecure 0");
		ASSERT_STREQ(cfg.registry.insecure[1], "localhost", "insecure 1");
		ASSERT_EQ(cfg.registry.n_ca_files, 1, "one CA file");
		ASSERT_STREQ(cfg.registry.ca_files[0], "/etc/bpfd/a.pem", "CA file");
		ASSERT_EQ(cfg.registry.connect_timeout_ms, 250, "connect timeout");
		ASSERT_EQ(cfg.registry.read_timeout_ms, 1500, "read timeout");
		ASSERT_EQ(cfg.registry.max_blob_bytes, 1u << 20, "max blob");
	}
	if (GOOD(&cfg, "[registry]\ninsecure = []\n"))
		ASSERT_EQ(cfg.registry.n_insecure, 0, "empty list");
}

/* [log] and [runtime] unload_on_exit */
static void log_and_exit(void)
{
	struct bpfd_config cfg;

	if (GOOD(&cfg, "[log]\nlevel = \"debug\"\ntarget = \"syslog\"\n[runtime]\nunload_on_exit = true\n")) {
		ASSERT_EQ(cfg.log_level, LOG_DEBUG, "debug");
		ASSERT_EQ(cfg.log_target, LOG_TARGET_SYSLOG, "syslog");
		ASSERT_TRUE(cfg.unload_on_exit, "unload_on_exit");
	}
	if (GOOD(&cfg, "log.level = \"error\"\nlog.target = \"stderr\"\nruntime.unload_on_exit = false\n")) {
		ASSERT_EQ(cfg.log_level, LOG_ERR, "error");
		ASSERT_EQ(cfg.log_target, LOG_TARGET_STDERR, "stderr");
		ASSERT_FALSE(cfg.unload_on_exit, "unload_on_exit false");
	}
	if (GOOD(&cfg, "[log]\nlevel = \"warn\"\n"))
		ASSERT_EQ(cfg.log_level, LOG_WARNING, "warn");
	if (GOOD(&cfg, "[log]\nlevel = \"info\"\n"))
		ASSERT_EQ(cfg.log_level, LOG_INFO, "info");
}

static void empty_and_comments(void)
{
	struct bpfd_config cfg, def;

	config_defaults(&def);
	if (GOOD(&cfg, ""))
		ASSERT_EQ(memcmp(&cfg, &def, sizeof(cfg)), 0, "empty = defaults");
	if (GOOD(&cfg, "# only a comment\n\n   \t\n# another # with hash\n"))
		ASSERT_EQ(memcmp(&cfg, &def, sizeof(cfg)), 0, "comments = defaults");
	if (GOOD(&cfg, "[signing]\n[grpc]\n[tls]\n[runtime]\n[interfaces]\n[log]\n[monitor]\n"))
		ASSERT_EQ(memcmp(&cfg, &def, sizeof(cfg)), 0, "empty tables = defaults");
	GOOD(&cfg, "\n\n[signing] # trailing comment\nallow_unsigned=false#x");
	ASSERT_FALSE(cfg.allow_unsigned, "no newline at EOF, no spaces");
}

static void signing(void)
{
	struct bpfd_config cfg;
	struct errmsg em = { { 0 } };

	config_defaults(&cfg);
	ASSERT_TRUE(cfg.verify_enabled, "verify_enabled by default");
	ASSERT_EQ(cfg.n_signing_keys, 0, "no keys by default");
	if (GOOD(&cfg, "[signing]\nverify_enabled = false\nkeys = [\"/etc/bpfd/a.pub\", \"/etc/bpfd/b.pub\"]\n")) {
		ASSERT_FALSE(cfg.verify_enabled, "verify_enabled");
		ASSERT_EQ(cfg.n_signing_keys, 2, "two keys");
		ASSERT_STREQ(cfg.signing_keys[1], "/etc/bpfd/b.pub", "second key");
	}
	ASSERT_EQ(parse(&cfg, "[signing]\nkeys = [\"cosign.pub\"]\n", &em), -EINVAL, "relative");
	ASSERT_STRSTR(em.msg, "[signing] keys 'cosign.pub' must be an absolute path", "reason");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(parse(&cfg, "[signing]\nkeys = [1]\n", &em), -EINVAL, "not a string");
	ASSERT_STRSTR(em.msg, "file names (strings)", "reason");
}

static const char full_text[] =
	"# bpfd.toml\n"
	"[interfaces.eth0]\n"
	"xdp_mode = \"skb\"\n"
	"[interfaces.\"eth0.100\"]   # a VLAN device: a dot needs quotes\n"
	"xdp_mode = 'drv'\n"
	"[ interfaces . 'veth-x_1' ]\n"
	"  xdp_mode  =  \"hw\"\n"
	"\n"
	"[[grpc.endpoints]]\n"
	"type = \"unix\"\n"
	"path = \"/tmp/x/bpfd.sock\"\n"
	"enabled = true\n"
	"[[grpc.endpoints]]\n"
	"type = \"tcp\"\n"
	"address = \"127.0.0.1\"\n"
	"port = 0xC383\n"
	"enabled = true\n"
	"[grpc]\n"
	"max_message_size = 8_388_608\n"
	"[signing]\n"
	"allow_unsigned = false\n"
	"[tls]\n"
	"certs_dir = '/etc/bpfd/other-certs'\n"
	"ca_cert = \"/etc/pki/ca.pem\"\n"
	"cert = \"/etc/pki/bpfd.pem\"\n"
	"key = \"/etc/pki/bpfd.key\"\n"
	"[runtime]\n"
	"dir = \"/run/bpfd-test\"\n"
	"image_dir = \"/var/lib/bpfd-images\"\n"
	"programs_dir = \"/srv/progs.d\"\n";

static void full(void)
{
	struct bpfd_config cfg;
	char buf[256];

	if (!GOOD(&cfg, full_text))
		return;
	ASSERT_EQ(cfg.n_ifaces, 3, "interfaces");
	ASSERT_STREQ(cfg.ifaces[1].name, "eth0.100", "quoted dotted name");
	ASSERT_EQ(config_xdp_mode(&cfg, "eth0"), XDP_MODE_SKB, "eth0 skb");
	ASSERT_EQ(config_xdp_mode(&cfg, "eth0.100"), XDP_MODE_DRV, "eth0.100 drv");
	ASSERT_EQ(config_xdp_mode(&cfg, "veth-x_1"), XDP_MODE_HW, "veth hw");
	ASSERT_EQ(config_xdp_mode(&cfg, "eth1"), XDP_MODE_DEFAULT, "unlisted");
	ASSERT_STREQ(config_xdp_mode_str(config_xdp_mode(&cfg, "eth0")), "skb", "mode str");
	ASSERT_STREQ(config_xdp_mode_str(XDP_MODE_DEFAULT), "default", "default str");
	ASSERT_TRUE(cfg.unix_enabled, "unix");
	ASSERT_STREQ(cfg.socket_path, "/tmp/x/bpfd.sock", "socket path");
	ASSERT_TRUE(cfg.socket_path_set, "socket explicit");
	ASSERT_TRUE(cfg.tcp_enabled, "tcp");
	ASSERT_STREQ(cfg.tcp_addr, "127.0.0.1", "tcp addr");
	ASSERT_EQ(cfg.tcp_port, 50051, "hex port");
	ASSERT_EQ(cfg.max_msg, 8 << 20, "max msg with underscores");
	ASSERT_FALSE(cfg.allow_unsigned, "allow_unsigned");
	ASSERT_STREQ(cfg.certs_dir, "/etc/bpfd/other-certs", "literal string");
	ASSERT_STREQ(cfg.rundir, "/run/bpfd-test", "rundir");
	ASSERT_STREQ(cfg.bpffs, "/run/bpfd-test/fs", "bpffs follows rundir");
	ASSERT_STREQ(cfg.image_dir, "/var/lib/bpfd-images", "image dir");
	ASSERT_STREQ(cfg.programs_dir, "/srv/progs.d", "programs dir");
	ASSERT_TRUE(config_tls_file(&cfg, CONFIG_TLS_CA, buf, sizeof(buf)), "ca explicit");
	ASSERT_STREQ(buf, "/etc/pki/ca.pem", "ca");
	ASSERT_TRUE(config_tls_file(&cfg, CONFIG_TLS_KEY, buf, sizeof(buf)), "key explicit");
	ASSERT_STREQ(buf, "/etc/pki/bpfd.key", "key");
	/* --rundir on the command line keeps a configured socket */
	config_set_rundir(&cfg, "/tmp/other");
	ASSERT_STREQ(cfg.socket_path, "/tmp/x/bpfd.sock", "socket kept");
	ASSERT_STREQ(cfg.bpffs, "/tmp/other/fs", "bpffs moved");
}

static void tls_files(void)
{
	struct bpfd_config cfg;
	char buf[256];

	if (!GOOD(&cfg, "[tls]\ncerts_dir = \"/srv/c\"\ncert = \"/x/y.pem\"\n"))
		return;
	ASSERT_FALSE(config_tls_file(&cfg, CONFIG_TLS_CA, buf, sizeof(buf)), "ca derived");
	ASSERT_STREQ(buf, "/srv/c/ca/ca.pem", "ca path");
	ASSERT_TRUE(config_tls_file(&cfg, CONFIG_TLS_CERT, buf, sizeof(buf)), "cert explicit");
	ASSERT_STREQ(buf, "/x/y.pem", "cert path");
	ASSERT_FALSE(config_tls_file(&cfg, CONFIG_TLS_KEY, buf, sizeof(buf)), "key derived");
	ASSERT_STREQ(buf, "/srv/c/bpfd/bpfd.key", "key path");
}

static void endpoints(void)
{
	struct bpfd_config cfg;

	/* A list of endpoints replaces the default (unix on). */
	if (GOOD(&cfg, "[[grpc.endpoints]]\ntype = \"tcp\"\n")) {
		ASSERT_FALSE(cfg.unix_enabled, "tcp only: unix off");
		ASSERT_TRUE(cfg.tcp_enabled, "tcp on (enabled defaults to true)");
		ASSERT_STREQ(cfg.tcp_addr, "::1", "default address");
		ASSERT_EQ(cfg.tcp_port, 50051, "default port");
	}
	if (GOOD(&cfg, "[[grpc.endpoints]]\ntype = \"unix\"\nenabled = false\n"
		       "[[grpc.endpoints]]\ntype = \"tcp\"\naddress = \"::1\"\nport = 50051\n"
		       "enabled = false\n")) {
		ASSERT_FALSE(cfg.unix_enabled, "unix disabled");
		ASSERT_FALSE(cfg.tcp_enabled, "tcp disabled");
	}
	/* A disabled endpoint's values are checked but not used. */
	if (GOOD(&cfg, "[[grpc.endpoints]]\ntype = \"unix\"\npath = \"/a.sock\"\nenabled = false\n"
		       "[[grpc.endpoints]]\ntype = \"unix\"\n")) {
		ASSERT_TRUE(cfg.unix_enabled, "second unix on");
		ASSERT_STREQ(cfg.socket_path, "/run/bpfd/bpfd.sock", "default path");
		ASSERT_FALSE(cfg.socket_path_set, "not explicit");
	}
	if (GOOD(&cfg, "[[grpc.endpoints]]\ntype = \"tcp\"\naddress = \"fe80::1\"\nport = 1\n"))
		ASSERT_EQ(cfg.tcp_port, 1, "port 1");
	if (GOOD(&cfg, "[[grpc.endpoints]]\ntype = \"tcp\"\nport = 65535\n"))
		ASSERT_EQ(cfg.tcp_port, 65535, "port 65535");
}

/* The limits of what a client may hold: defaults, every key, defaults that grow
 * with max_message_size. */
static void server_limits(void)
{
	static const struct server_limits def = {
		.max_streams = 100, .max_buffered_conn = 16 << 20,
		.max_buffered_total = 64 << 20, .message_timeout = 60, .handshake_timeout = 10,
		.idle_timeout = 300, .max_unix_conns = 128, .max_tcp_conns = 1000,
		.max_conns_per_uid = 32, .max_conns_per_addr = 32,
	}, set = {
		.max_streams = 8, .max_buffered_conn = 5000000, .max_buffered_total = 6000000,
		.message_timeout = 7, .handshake_timeout = 2, .idle_timeout = 3,
		.max_unix_conns = 9, .max_tcp_conns = 10, .max_conns_per_uid = 4,
		.max_conns_per_addr = 5,
	};
	struct bpfd_config cfg;

	config_defaults(&cfg);
	ASSERT_EQ(memcmp(&cfg.limits, &def, sizeof(def)), 0, "defaults");
	if (GOOD(&cfg, "[grpc]\nmax_streams_per_connection = 8\n"
		       "max_buffered_per_connection = 5_000_000\nmax_buffered_total = 6_000_000\n"
		       "message_timeout = 7\nhandshake_timeout = 2\nidle_timeout = 3\n"
		       "max_unix_connections = 9\nmax_tcp_connections = 10\n"
		       "max_connections_per_uid = 4\nmax_connections_per_address = 5\n"))
		ASSERT_EQ(memcmp(&cfg.limits, &set, sizeof(set)), 0, "every key set");
	if (GOOD(&cfg, "[grpc]\nmax_message_size = 33_554_432\n")) {
		ASSERT_EQ(cfg.limits.max_buffered_conn, (32 << 20) + 5, "per connection grows");
		ASSERT_EQ(cfg.limits.max_buffered_total, 64 << 20, "total still enough");
	}
	if (GOOD(&cfg, "[grpc]\nmax_message_size = 0x4000_0000\n"))
		ASSERT_EQ(cfg.limits.max_buffered_total, (1 << 30) + 5, "total grows");
}

static void rundir(void)
{
	struct bpfd_config cfg;

	if (GOOD(&cfg, "[runtime]\ndir = \"/tmp/r\"\n")) {
		ASSERT_STREQ(cfg.rundir, "/tmp/r", "rundir");
		ASSERT_STREQ(cfg.socket_path, "/tmp/r/bpfd.sock", "socket follows");
		ASSERT_STREQ(cfg.bpffs, "/tmp/r/fs", "bpffs follows");
	}
	/* Order in the file does not matter: an explicit socket wins. */
	if (GOOD(&cfg, "[[grpc.endpoints]]\ntype = \"unix\"\npath = \"/s.sock\"\n"
		       "[runtime]\ndir = \"/tmp/r\"\n"))
		ASSERT_STREQ(cfg.socket_path, "/s.sock", "explicit socket kept");
}

static void toml_syntax(void)
{
	struct bpfd_config cfg;

	/* dotted keys, quoted keys, whitespace around dots */
	if (GOOD(&cfg, "grpc.max_message_size = 65536\ninterfaces.lo.xdp_mode = \"skb\"\n"
		       "\"signing\" . 'allow_unsigned' = false\n")) {
		ASSERT_EQ(cfg.max_msg, 65536, "dotted key");
		ASSERT_EQ(config_xdp_mode(&cfg, "lo"), XDP_MODE_SKB, "dotted iface");
		ASSERT_FALSE(cfg.allow_unsigned, "quoted dotted key");
	}
	/* a dotted key in a table, then a sub-table of the dotted table */
	if (GOOD(&cfg, "[interfaces]\neth0.xdp_mode = \"drv\"\n[interfaces.eth1]\nxdp_mode = \"hw\"\n"))
		ASSERT_EQ(cfg.n_ifaces, 2, "two interfaces");
	/* a super-table after its sub-table */
	if (GOOD(&cfg, "[interfaces.eth0]\nxdp_mode = \"drv\"\n[interfaces]\n"))
		ASSERT_EQ(cfg.n_ifaces, 1, "super-table later");
	/* CRLF line ends, tabs, BOM */
	if (GOOD(&cfg, "\xef\xbb\xbf[signing]\r\n\tallow_unsigned\t=\ttrue\t# c\r\n"))
		ASSERT_TRUE(cfg.allow_unsigned, "crlf");
	/* escapes: \u and \U become UTF-8; \t \" \\ */
	if (GOOD(&cfg, "[tls]\ncerts_dir = \"/c\\u00e9rts/\\U0001F600/a\\\\b\\\"c\"\n"))
		ASSERT_STREQ(cfg.certs_dir, "/c\xc3\xa9rts/\xf0\x9f\x98\x80/a\\b\"c", "escapes");
	/* literal strings keep backslashes */
	if (GOOD(&cfg, "[tls]\ncerts_dir = '/a\\n\\b'\n"))
		ASSERT_STREQ(cfg.certs_dir, "/a\\n\\b", "literal");
	/* UTF-8 in comments */
	GOOD(&cfg, "# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n");
	/* integers: signs, underscores, 0o, 0b */
	if (GOOD(&cfg, "[[grpc.endpoints]]\ntype=\"tcp\"\nport=0o1_7\n"))
		ASSERT_EQ(cfg.tcp_port, 15, "octal");
	if (GOOD(&cfg, "[[grpc.endpoints]]\ntype=\"tcp\"\nport=0b1000_0000\n"))
		ASSERT_EQ(cfg.tcp_port, 128, "binary");
	if (GOOD(&cfg, "[grpc]\nmax_message_size=0x10_0000\n"))
		ASSERT_EQ(cfg.max_msg, 1 << 20, "hex with underscore");
}

/* Arrays parse; none of the schema's keys takes one. */
static void arrays(void)
{
	struct bpfd_config cfg;
	struct errmsg em;

	ASSERT_EQ(parse(&cfg, "[signing]\nallow_unsigned = [ true, false, ]\n", &em), -EINVAL,
		  "array for a boolean");
	ASSERT_STREQ(em.msg, "line 2, column 18: 'allow_unsigned' in [signing] must be a boolean, not an array",
		     "array type error");
	ASSERT_EQ(parse(&cfg, "[signing]\nallow_unsigned = [\n  1, # one\n  \"two\",\n  'three'\n\n]\n",
			&em), -EINVAL, "multi-line array");
	ASSERT_STRSTR(em.msg, "line 2, column 18: 'allow_unsigned' in [signing] must be a boolean",
		      "multi-line array parsed");
	ASSERT_EQ(parse(&cfg, "[signing]\nallow_unsigned = []\n", &em), -EINVAL, "empty array");
	ASSERT_STRSTR(em.msg, "must be a boolean, not an array", "empty array parsed");
}

struct bad {
	const char *text;
	const char *msg;	/* the whole expected message */
};

static const struct bad bad_syntax[] = {
	{ "[signing", "line 1, column 9: expected ']' to close the [table] header" },
	{ "[[grpc.endpoints]\n", "line 1, column 17: expected ']]' to close the [[table]] header" },
	{ "[ [grpc]]\n", "line 1, column 3: expected a key (letters, digits, '_' and '-', or a quoted string), found '['" },
	{ "[]\n", "line 1, column 2: expected a key (letters, digits, '_' and '-', or a quoted string), found ']'" },
	{ "[a.]\n", "line 1, column 4: expected a key (letters, digits, '_' and '-', or a quoted string), found ']'" },
	{ "[signing] x\n", "line 1, column 11: expected the end of the line after the [table] header, found 'x'" },
	{ "a\n", "line 1, column 2: expected '=' after the key 'a'" },
	{ "a b = 1\n", "line 1, column 3: expected '=' after the key 'a'" },
	{ "a =\n", "line 1, column 4: expected a value after 'a ='" },
	{ "a = # c\n", "line 1, column 5: expected a value after 'a ='" },
	{ "= 1\n", "line 1, column 1: expected a key (letters, digits, '_' and '-', or a quoted string), found '='" },
	{ "a = 1 2\n", "line 1, column 7: expected the end of the line after the value, found '2'" },
	{ "a = \"x\"y\n", "line 1, column 8: expected the end of the line after the value, found 'y'" },
	{ "a = \"abc\n", "line 1, column 5: unterminated string: no closing \" on this line" },
	{ "a = 'abc", "line 1, column 5: unterminated string: no closing ' on this line" },
	{ "a = \"\"\"x\"\"\"\n", "line 1, column 5: multi-line strings (\"\"\") are not supported" },
	{ "a = '''x'''\n", "line 1, column 5: multi-line strings (''') are not supported" },
	{ "a = \"\\q\"\n", "line 1, column 6: invalid escape '\\q' (valid: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX; or use a 'literal string')" },
	{ "a = \"\\u12\"\n", "line 1, column 6: \\u needs 4 hexadecimal digits" },
	{ "a = \"\\U0000004\"\n", "line 1, column 6: \\U needs 8 hexadecimal digits" },
	{ "a = \"\\u0000\"\n", "line 1, column 6: \\u0000 (NUL) is not allowed in strings" },
	{ "a = \"\\ud800\"\n", "line 1, column 6: \\ud800 is not a Unicode scalar value" },
	{ "a = \"\\U00110000\"\n", "line 1, column 6: \\U00110000 is not a Unicode scalar value" },
	{ "a = \"\\", "line 1, column 6: unterminated string" },
	{ "a = unix\n", "line 1, column 5: invalid value 'unix'; a string needs quotes: \"unix\"" },
	{ "a = True\n", "line 1, column 5: invalid value 'True'; a string needs quotes: \"True\"" },
	{ "a = true1\n", "line 1, column 5: invalid value 'true1'; a string needs quotes: \"true1\"" },
	{ "a = 1.5\n", "line 1, column 5: floating-point numbers are not supported" },
	{ "a = 1e3\n", "line 1, column 5: floating-point numbers are not supported" },
	{ "a = -inf\n", "line 1, column 5: floating-point numbers are not supported" },
	{ "a = nan\n", "line 1, column 5: floating-point numbers are not supported" },
	{ "a = 1979-05-27\n", "line 1, column 5: dates and times are not supported" },
	{ "a = 07:32:00\n", "line 1, column 5: dates and times are not supported" },
	{ "a = 012\n", "line 1, column 5: invalid integer '012': leading zeros are not allowed in decimal integers" },
	{ "a = 1__2\n", "line 1, column 5: invalid integer '1__2': '_' must be between two digits" },
	{ "a = 12_\n", "line 1, column 5: invalid integer '12_': '_' must be between two digits" },
	{ "a = 0x_1\n", "line 1, column 5: invalid integer '0x_1': '_' must be between two digits" },
	{ "a = 0x\n", "line 1, column 5: invalid integer '0x': digits expected" },
	{ "a = 0xg\n", "line 1, column 5: invalid integer '0xg': not a digit" },
	{ "a = 0b102\n", "line 1, column 5: invalid integer '0b102': not a digit" },
	{ "a = -0x1\n", "line 1, column 5: invalid integer '-0x1': a sign is not allowed before 0x, 0o or 0b" },
	{ "a = 9223372036854775808\n", "line 1, column 5: invalid integer '9223372036854775808': out of the range of 64-bit integers" },
	{ "a = 0x8000000000000000\n", "line 1, column 5: invalid integer '0x8000000000000000': out of the range of 64-bit integers" },
	{ "a = { b = 1 \n", "line 1, column 5: unterminated inline table: no closing '}' on this line (an inline table is written on one line)" },
	{ "a = { b = 1, }\n", "line 1, column 14: a trailing ',' is not allowed in an inline table" },
	{ "a = { b = 1 c = 2 }\n", "line 1, column 13: expected ',' or '}' after a key = value in an inline table" },
	{ "a = { b = 1, b = 2 }\n", "line 1, column 14: duplicate key 'b' (first defined on line 1)" },
	{ "a = { b = 1 }\n[a]\n", "line 2, column 1: [a] is already defined as a table on line 1" },
	{ "a = { b = 1 }\n[a.c]\n", "line 2, column 2: 'a' is an inline table (line 1): it cannot be extended" },
	{ "a = { b = 1 }\na.c = 2\n", "line 2, column 1: 'a' is already a table (line 1); a dotted key cannot add to it" },
	{ "a = {b={c={d={e={f={g={h={i={j={k={l={m={n={o={p={q={}}}}}}}}}}}}}}}}}\n", "line 1, column 53: values nested more than 16 deep are not supported" },
	{ "a = [ [1] ]\n", "line 1, column 7: nested arrays are not supported" },
	{ "a = [ 1 2 ]\n", "line 1, column 9: expected ',' or ']' after an array element" },
	{ "a = [ 1,\n 2\n", "line 1, column 5: unterminated array: no closing ']'" },
	{ "a = [ , ]\n", "line 1, column 7: expected a value: a \"string\", an integer, true, false, an [array] or an { inline table }" },
	{ "a = 1\na = 2\n", "line 2, column 1: duplicate key 'a' (first defined on line 1)" },
	{ "a = 1\n\"a\" = 2\n", "line 2, column 1: duplicate key 'a' (first defined on line 1)" },
	{ "[t]\n[t]\n", "line 2, column 1: [t] is already defined as a table on line 1" },
	{ "[t.u]\n[t]\n[t]\n", "line 3, column 1: [t] is already defined as a table on line 2" },
	{ "t = 1\n[t]\n", "line 2, column 1: [t] is already defined as an integer on line 1" },
	{ "t = 1\n[t.u]\n", "line 2, column 2: 't' is already an integer (line 1), not a table" },
	{ "[[t]]\n[t]\n", "line 2, column 1: [t] is an array of tables (line 1); write [[t]]" },
	{ "[t]\n[[t]]\n", "line 2, column 1: [[t]] is already defined as a table on line 1" },
	{ "t = [1]\n[[t]]\n", "line 2, column 1: [[t]] is already defined as an array on line 1" },
	{ "a.b = 1\n[a]\n", "line 2, column 1: [a] is already defined as a table on line 1" },
	{ "a.b = 1\na.b.c = 2\n", "line 2, column 3: 'a.b' is already an integer (line 1); a dotted key cannot add to it" },
	{ "[a.b]\n[a]\nb.c = 1\n", "line 3, column 1: 'b' is already a table (line 1); a dotted key cannot add to it" },
	{ "a.b = 1\na.b = 2\n", "line 2, column 3: duplicate key 'a.b' (first defined on line 1)" },
	{ "a = 1\r\r\n", "line 1, column 6: a carriage return must be followed by a line feed" },
	{ "a = \"\x01\"\n", "line 1, column 6: control character 0x01 is not allowed (TOML allows tab and newline only)" },
	{ "# \x7f\n", "line 1, column 3: control character 0x7f is not allowed (TOML allows tab and newline only)" },
	{ "a = 1\n# \xc3\n", "line 2, column 3: invalid UTF-8 (byte 0xc3); save the file as UTF-8" },
	{ "# \xc0\x80\n", "line 1, column 3: invalid UTF-8 (byte 0xc0); save the file as UTF-8" },
	{ "# \xed\xa0\x80\n", "line 1, column 3: invalid UTF-8 (byte 0xed); save the file as UTF-8" },
	{ "# \xf4\x90\x80\x80\n", "line 1, column 3: invalid UTF-8 (byte 0xf4); save the file as UTF-8" },
	{ "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q = 1\n", "line 1, column 33: keys with more than 16 dotted parts are not supported" },
	{ "\xc3\xa9 = 1\n", "line 1, column 1: expected a key (letters, digits, '_' and '-', or a quoted string), found '\xc3\xa9'" },
	/* columns count characters, not bytes */
	{ "\"\xc3\xa9\xc3\xa9\" = 1 x\n", "line 1, column 10: expected the end of the line after the value, found 'x'" },
};

static const struct bad bad_schema[] = {
	{ "[interface.eth0]\nxdp_mode = \"skb\"\n", "line 1, column 2: unknown table 'interface' at the top level (known: interfaces, grpc, signing, registry, tls, runtime, log, monitor, policy, metrics)" },
	{ "foo = 1\n", "line 1, column 1: unknown key 'foo' at the top level (known: interfaces, grpc, signing, registry, tls, runtime, log, monitor, policy, metrics)" },
	{ "grpc = 1\n", "line 1, column 8: 'grpc' at the top level must be a table, not an integer" },
	{ "[[signing]]\n", "line 1, column 1: 'signing' at the top level must be a table, not an array of tables" },
	{ "[signing]\nallow_unsigned = \"yes\"\n", "line 2, column 18: 'allow_unsigned' in [signing] must be a boolean, not a string" },
	{ "[signing]\nverify = true\n", "line 2, column 1: unknown key 'verify' in [signing] (known: allow_unsigned, verify_enabled, keys)" },
	{ "[interfaces.eth0]\nxdp_mode = \"native\"\n", "line 2, column 12: xdp_mode 'native' for interface eth0 is not one of skb, drv, hw" },
	{ "[interfaces.eth0]\nmode = \"skb\"\n", "line 2, column 1: unknown key 'mode' in [interfaces.eth0] (known: xdp_mode)" },
	{ "[interfaces]\neth0 = \"skb\"\n", "line 2, column 1: [interfaces] holds one [interfaces.NAME] table per interface; 'eth0' is a string" },
	{ "[interfaces.\"a/b\"]\n", "line 1, column 1: 'a/b' is not a valid interface name (1-15 bytes, no '/', ':' or whitespace)" },
	{ "[interfaces.abcdefghijklmnop]\n", "line 1, column 1: 'abcdefghijklmnop' is not a valid interface name (1-15 bytes, no '/', ':' or whitespace)" },
	{ "[interfaces.\"\"]\n", "line 1, column 1: '' is not a valid interface name (1-15 bytes, no '/', ':' or whitespace)" },
	{ "[interfaces.\"..\"]\n", "line 1, column 1: '..' is not a valid interface name (1-15 bytes, no '/', ':' or whitespace)" },
	{ "[interfaces.\"a b\"]\n", "line 1, column 1: 'a b' is not a valid interface name (1-15 bytes, no '/', ':' or whitespace)" },
	{ "[interfaces.\"a\\tb\"]\n", "line 1, column 1: 'a\\x09b' is not a valid interface name (1-15 bytes, no '/', ':' or whitespace)" },
	{ "[interfaces.eth0.x]\n", "line 1, column 1: unknown table 'x' in [interfaces.eth0] (known: xdp_mode)" },
	{ "[[grpc.endpoints]]\npath = \"/a\"\n", "line 1, column 1: [[grpc.endpoints]] #1 needs a type: type = \"unix\" (with path) or type = \"tcp\" (with address and port)" },
	{ "[[grpc.endpoints]]\ntype = \"udp\"\n", "line 2, column 8: endpoint type 'udp' is not \"unix\" or \"tcp\"" },
	{ "[[grpc.endpoints]]\ntype = \"unix\"\n[[grpc.endpoints]]\ntype = 1\n", "line 4, column 8: 'type' in [[grpc.endpoints]] #2 must be a string, not an integer" },
	{ "[[grpc.endpoints]]\ntype = \"unix\"\nport = 1\n", "line 3, column 1: 'port' belongs to tcp endpoints; a unix endpoint has path, mode, group and enabled" },
	{ "[[grpc.endpoints]]\ntype = \"tcp\"\npath = \"/a\"\n", "line 3, column 1: 'path' belongs to unix endpoints; a tcp endpoint has address, port and enabled" },
	{ "[[grpc.endpoints]]\ntype = \"unix\"\nhost = \"x\"\n", "line 3, column 1: unknown key 'host' in [[grpc.endpoints]] #1 (known: type, path, address, port, enabled, mode, group)" },
	{ "[[grpc.endpoints]]\ntype = \"unix\"\npath = \"bpfd.sock\"\n", "line 3, column 8: unix socket path 'bpfd.sock' must be an absolute path (starting with '/')" },
	{ "[[grpc.endpoints]]\ntype = \"unix\"\npath = \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n", "line 3, column 8: unix socket path is too long (108 bytes; at most 107)" },
	{ "[[grpc.endpoints]]\ntype = \"unix\"\npath = \"/a\\nb\"\n", "line 3, column 8: unix socket path '/a\\x0ab' contains a control character" },
	{ "[[grpc.endpoints]]\ntype = \"unix\"\n[[grpc.endpoints]]\ntype = \"unix\"\n", "line 3, column 1: only one unix endpoint can be enabled; another is on line 1" },
	{ "[[grpc.endpoints]]\ntype = \"tcp\"\n[[grpc.endpoints]]\ntype = \"tcp\"\nport = 1\n", "line 3, column 1: only one tcp endpoint can be enabled; another is on line 1" },
	{ "[[grpc.endpoints]]\ntype = \"tcp\"\nport = 0\n", "line 3, column 8: port 0 is out of range (1-65535)" },
	{ "[[grpc.endpoints]]\ntype = \"tcp\"\nport = 65536\n", "line 3, column 8: port 65536 is out of range (1-65535)" },
	{ "[[grpc.endpoints]]\ntype = \"tcp\"\nport = -1\n", "line 3, column 8: port -1 is out of range (1-65535)" },
	{ "[[grpc.endpoints]]\ntype = \"tcp\"\nport = \"50051\"\n", "line 3, column 8: 'port' in [[grpc.endpoints]] #1 must be an integer, not a string" },
	{ "[[grpc.endpoints]]\ntype = \"tcp\"\naddress = \"localhost\"\n", "line 3, column 11: address 'localhost' is not a numeric IPv4 or IPv6 address (e.g. \"::1\" or \"127.0.0.1\"; no names, no brackets)" },
	{ "[[grpc.endpoints]]\ntype = \"tcp\"\naddress = \"[::1]\"\n", "line 3, column 11: address '[::1]' is not a numeric IPv4 or IPv6 address (e.g. \"::1\" or \"127.0.0.1\"; no names, no brackets)" },
	{ "[[grpc.endpoints]]\ntype = \"tcp\"\nenabled = 1\n", "line 3, column 11: 'enabled' in [[grpc.endpoints]] #1 must be a boolean, not an integer" },
	{ "[grpc.endpoints]\ntype = \"unix\"\n", "line 1, column 1: 'endpoints' in [grpc] must be an array of tables, not a table" },
	{ "[grpc]\nmax_message_size = 1024\n", "line 2, column 20: max_message_size 1024 is out of range (65536-1073741824 bytes)" },
	{ "[grpc]\nmax_message_size = 0x40000001\n", "line 2, column 20: max_message_size 1073741825 is out of range (65536-1073741824 bytes)" },
	{ "[grpc]\nmax_msg = 1\n", "line 2, column 1: unknown key 'max_msg' in [grpc] (known: endpoints, max_message_size, max_streams_per_connection, max_buffered_per_connection, max_buffered_total, message_timeout, handshake_timeout, idle_timeout, max_unix_connections, max_tcp_connections, max_connections_per_uid, max_connections_per_address)" },
	{ "[grpc]\nmax_streams_per_connection = 0\n", "line 2, column 30: max_streams_per_connection 0 is out of range (1-1000)" },
	{ "[grpc]\nidle_timeout = true\n", "line 2, column 16: 'idle_timeout' in [grpc] must be an integer, not a boolean" },
	{ "[grpc]\nhandshake_timeout = 0\n", "line 2, column 21: handshake_timeout 0 is out of range (1-3600)" },
	{ "[grpc]\nmax_connections_per_uid = 65537\n", "line 2, column 27: max_connections_per_uid 65537 is out of range (1-65536)" },
	{ "[grpc]\nmax_buffered_per_connection = 1_048_576\n", "line 1, column 1: [grpc] max_buffered_per_connection (1048576) must hold one message of max_message_size (4194304) and its 5-byte prefix" },
	{ "[grpc]\nmax_message_size = 8_388_608\nmax_buffered_per_connection = 8_388_608\n", "line 1, column 1: [grpc] max_buffered_per_connection (8388608) must hold one message of max_message_size (8388608) and its 5-byte prefix" },
	{ "[grpc]\nmax_buffered_total = 8_388_608\n", "line 1, column 1: [grpc] max_buffered_total (8388608) must be at least max_buffered_per_connection (16777216)" },
	{ "[tls]\ncert = \"bpfd.pem\"\n", "line 2, column 8: [tls] cert 'bpfd.pem' must be an absolute path (starting with '/')" },
	{ "[tls]\nclient_cert = \"/a\"\n", "line 2, column 1: unknown key 'client_cert' in [tls] (known: certs_dir, ca_cert, cert, key)" },
	{ "[runtime]\ndir = \"\"\n", "line 2, column 7: [runtime] dir '' must be an absolute path (starting with '/')" },
	{ "[runtime]\ndir = \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n", "line 2, column 7: [runtime] dir is too long for the socket <dir>/bpfd.sock (at most 97 bytes); choose a shorter dir or set the socket path in [[grpc.endpoints]]" },
	{ "[runtime]\ntmpdir = \"/a\"\n", "line 2, column 1: unknown key 'tmpdir' in [runtime] (known: dir, image_dir, programs_dir, unload_on_exit)" },
	{ "[runtime]\nunload_on_exit = \"yes\"\n", "line 2, column 18: 'unload_on_exit' in [runtime] must be a boolean, not a string" },
	{ "[log]\nlevel = \"verbose\"\n", "line 2, column 9: [log] level 'verbose' is not one of error, warn, info, debug" },
	{ "[log]\nlevel = 7\n", "line 2, column 9: 'level' in [log] must be a string, not an integer" },
	{ "[log]\ntarget = \"journal\"\n", "line 2, column 10: [log] target 'journal' is not one of stderr, syslog" },
	{ "[log]\nfile = \"/var/log/bpfd.log\"\n", "line 2, column 1: unknown key 'file' in [log] (known: level, target)" },
	{ "[monitor]\nstats = \"sometimes\"\n", "line 2, column 9: [monitor] stats 'sometimes' is not one of on-demand, always, off" },
	{ "[monitor]\nstats = true\n", "line 2, column 9: 'stats' in [monitor] must be a string, not a boolean" },
	{ "[monitor]\nstats_grace = 0\n", "line 2, column 15: [monitor] stats_grace 0 is out of range: give seconds from 1 to 86400" },
	{ "[monitor]\nstats_grace = 86401\n", "line 2, column 15: [monitor] stats_grace 86401 is out of range: give seconds from 1 to 86400" },
	{ "[monitor]\ninterval = 1\n", "line 2, column 1: unknown key 'interval' in [monitor] (known: stats, stats_grace, event_queue, event_readers)" },
	{ "[monitor]\nevent_queue = 0\n", "line 2, column 15: [monitor] event_queue 0 is out of range: give a number of events from 1 to 65536" },
	{ "[monitor]\nevent_readers = 2000\n", "line 2, column 17: [monitor] event_readers 2000 is out of range: give 0 (no event stream) to 1024" },
	{ "[signing]\nallow_unsigned = true\n[tls]\n[signing.x]\n", "line 4, column 1: unknown table 'x' in [signing] (known: allow_unsigned, verify_enabled, keys)" },
	{ "[registry]\ninsecure = [\"http://127.0.0.1:5000\"]\n", "line 2, column 13: [registry] insecure entry 'http://127.0.0.1:5000' is not HOST or HOST:PORT (no scheme, path or spaces), e.g. \"127.0.0.1:5000\"" },
	{ "[registry]\ninsecure = \"127.0.0.1:5000\"\n", "line 2, column 12: 'insecure' in [registry] must be an array, not a string" },
	{ "[registry]\ninsecure = [1]\n", "line 2, column 13: [registry] insecure holds strings, not an integer" },
	{ "[registry]\nca_files = [\"ca.pem\"]\n", "line 2, column 13: [registry] ca_files entry 'ca.pem' must be an absolute path (starting with '/')" },
	{ "[registry]\nconnect_timeout_ms = 0\n", "line 2, column 22: [registry] connect_timeout_ms 0 is out of range: give milliseconds from 1 to 600000" },
	{ "[registry]\nread_timeout_ms = 600001\n", "line 2, column 19: [registry] read_timeout_ms 600001 is out of range: give milliseconds from 1 to 600000" },
	{ "[registry]\nmax_blob_bytes = 10\n", "line 2, column 18: [registry] max_blob_bytes 10 is out of range (4096-1099511627776)" },
	{ "[registry]\nproxy = \"x\"\n", "line 2, column 1: unknown key 'proxy' in [registry] (known: insecure, ca_files, connect_timeout_ms, read_timeout_ms, max_blob_bytes)" },
	/* user text in messages is escaped and shortened */
	{ "\"a\\nb\" = 1\n", "line 1, column 1: unknown key 'a\\x0ab' at the top level (known: interfaces, grpc, signing, registry, tls, runtime, log, monitor, policy, metrics)" },
	{ "[interfaces.eth0]\nxdp_mode = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n", "line 2, column 12: xdp_mode 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' for interface eth0 is not one of skb, drv, hw" },
};

static void check_bad(const struct bad *cases, size_t n)
{
	struct bpfd_config cfg, def;
	struct errmsg em;
	size_t i;
	int err;

	config_defaults(&def);
	for (i = 0; i < n; i++) {
		err = parse(&cfg, cases[i].text, &em);
		ASSERT_EQ(err, -EINVAL, cases[i].text);
		ASSERT_STREQ(em.msg, cases[i].msg, cases[i].text);
		ASSERT_EQ(memcmp(&cfg, &def, sizeof(cfg)), 0, "cfg unchanged on error");
		ASSERT_FALSE(strchr(em.msg, '\n'), "one line");
	}
}

static void syntax_errors(void)
{
	check_bad(bad_syntax, sizeof(bad_syntax) / sizeof(bad_syntax[0]));
}

static void schema_errors(void)
{
	check_bad(bad_schema, sizeof(bad_schema) / sizeof(bad_schema[0]));
}

/* A [tls] table whose certs_dir is "/" and len more bytes. */
static void long_certs_dir(char *text, size_t len)
{
	int n = sprintf(text, "[tls]\ncerts_dir = \"/");

	memset(text + n, 'a', len);
	strcpy(text + n + len, "\"\n");
}

/* Limits: interface count, node count, string length. */
static void limits(void)
{
	struct bpfd_config cfg;
	struct errmsg em;
	char *text = malloc(1 << 20);
	size_t n = 0;
	int i;

	if (!ASSERT_TRUE(text, "malloc"))
		return;
	for (i = 0; i < BPFD_MAX_IFACES; i++)
		n += sprintf(text + n, "[interfaces.e%d]\nxdp_mode = \"skb\"\n", i);
	if (GOOD(&cfg, text))
		ASSERT_EQ(cfg.n_ifaces, BPFD_MAX_IFACES, "max interfaces");
	n += sprintf(text + n, "[interfaces.last]\nxdp_mode = \"drv\"\n");
	ASSERT_EQ(parse(&cfg, text, &em), -EINVAL, "one interface too many");
	ASSERT_STREQ(em.msg, "line 129, column 1: too many [interfaces.NAME] tables (at most 64)",
		     "too many interfaces");

	n = 0;
	for (i = 0; i < 5000; i++)
		n += sprintf(text + n, "k%d = %d\n", i, i);
	ASSERT_EQ(parse(&cfg, text, &em), -EINVAL, "too many keys");
	ASSERT_STREQ(em.msg, "line 4096, column 1: too many keys, values and tables (more than 4096)",
		     "node limit");

	long_certs_dir(text, 5000);
	ASSERT_EQ(parse(&cfg, text, &em), -EINVAL, "long string");
	ASSERT_STREQ(em.msg, "line 2, column 13: strings longer than 4096 bytes are not supported",
		     "string limit");
	long_certs_dir(text, 300);
	ASSERT_EQ(parse(&cfg, text, &em), -EINVAL, "long path");
	ASSERT_STREQ(em.msg, "line 2, column 13: [tls] certs_dir is too long (301 bytes; at most 226)",
		     "field size");
	free(text);
}

/* A NUL byte inside the text, and text that is not NUL-terminated. */
static void binary_input(void)
{
	struct bpfd_config cfg;
	struct errmsg em = { { 0 } };
	char *heap;

	config_defaults(&cfg);
	ASSERT_EQ(config_parse(&cfg, "a = 1\n\0b = 2\n", 13, &em), -EINVAL, "NUL");
	ASSERT_STREQ(em.msg, "line 2, column 1: control character 0x00 is not allowed (TOML allows tab and newline only)",
		     "NUL message");
	/* exactly the bytes of "[signing]\nallow_unsigned=false", no terminator */
	heap = malloc(30);
	if (!ASSERT_TRUE(heap, "malloc"))
		return;
	memcpy(heap, "[signing]\nallow_unsigned=false", 30);
	memset(&em, 0, sizeof(em));
	ASSERT_OK(config_parse(&cfg, heap, 30, &em), em.msg);
	ASSERT_FALSE(cfg.allow_unsigned, "unterminated buffer");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(config_parse(&cfg, heap, 27, &em), -EINVAL, "cut in a bool");
	ASSERT_STREQ(em.msg, "line 2, column 16: invalid value 'fa'; a string needs quotes: \"fa\"",
		     "cut message");
	free(heap);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

static void load(void)
{
	char dir[] = "/tmp/test_config.XXXXXX", path[PATH_MAX];
	struct bpfd_config cfg, def;
	struct errmsg em = { { 0 } };
	char want[PATH_MAX + 128];
	int fd;

	if (!ASSERT_TRUE(mkdtemp(dir), "mkdtemp"))
		return;
	config_defaults(&def);
	config_defaults(&cfg);
	snprintf(path, sizeof(path), "%s/missing.toml", dir);
	ASSERT_EQ(config_load(&cfg, path, false, &em), 0, "missing, optional");
	ASSERT_STREQ(em.msg, "", "silent");
	ASSERT_EQ(memcmp(&cfg, &def, sizeof(cfg)), 0, "defaults kept");
	ASSERT_EQ(config_load(&cfg, path, true, &em), -ENOENT, "missing, required");
	snprintf(want, sizeof(want), "cannot open the configuration file '%s': No such file or directory",
		 path);
	ASSERT_STREQ(em.msg, want, "missing message");

	memset(&em, 0, sizeof(em));
	ASSERT_EQ(config_load(&cfg, dir, false, &em), -EINVAL, "a directory");
	snprintf(want, sizeof(want), "the configuration file '%s' is not a regular file", dir);
	ASSERT_STREQ(em.msg, want, "directory message");

	snprintf(path, sizeof(path), "%s/bad.toml", dir);
	write_file(path, "[signing]\n\nallow_unsigned = maybe\n");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(config_load(&cfg, path, false, &em), -EINVAL, "bad file");
	snprintf(want, sizeof(want), "%s:3:18: invalid value 'maybe'; a string needs quotes: \"maybe\"",
		 path);
	ASSERT_STREQ(em.msg, want, "file:line:col message");

	snprintf(path, sizeof(path), "%s/good.toml", dir);
	write_file(path, "[signing]\nallow_unsigned = false\n");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(config_load(&cfg, path, true, &em), 0, em.msg);
	ASSERT_FALSE(cfg.allow_unsigned, "loaded");

	snprintf(path, sizeof(path), "%s/big.toml", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (ASSERT_OK(fd, "create big")) {
		ASSERT_OK(ftruncate(fd, (1 << 20) + 1), "ftruncate");
		close(fd);
		memset(&em, 0, sizeof(em));
		ASSERT_EQ(config_load(&cfg, path, true, &em), -EFBIG, "too big");
		ASSERT_STRSTR(em.msg, "is too large (1048577 bytes; at most 1048576)", "big message");
	}
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "%s/noperm.toml", dir);
		write_file(path, "");
		chmod(path, 0);
		memset(&em, 0, sizeof(em));
		ASSERT_EQ(config_load(&cfg, path, false, &em), -EACCES, "unreadable is an error");
	}
	snprintf(want, sizeof(want), "rm -rf '%s'", dir);
	if (system(want))
		fprintf(stderr, "  could not remove %s\n", dir);
}

/* Find a file of the source tree from the current directory or from this file's. */
static FILE *open_src(const char *rel, char *path, size_t size)
{
	const char *slash = strrchr(__FILE__, '/');
	FILE *f;

	snprintf(path, size, "%s", rel);
	f = fopen(path, "r");
	if (f || !slash)
		return f;
	snprintf(path, size, "%.*s/../../%s", (int)(slash - __FILE__), __FILE__, rel);
	return fopen(path, "r");
}

static char *read_src(const char *rel, char *path, size_t size)
{
	FILE *f = open_src(rel, path, size);
	char *text;
	size_t n;

	if (!f)
		return NULL;
	text = calloc(1, 1 << 20);
	n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (text)
		text[n] = '\0';
	return text;
}

/* dist/bpfd.toml parses as shipped (everything commented out: the defaults). */
static void dist_example(void)
{
	struct bpfd_config cfg, def;
	struct errmsg em = { { 0 } };
	char path[PATH_MAX];
	FILE *f = open_src("dist/bpfd.toml", path, sizeof(path));

	if (!ASSERT_TRUE(f, "dist/bpfd.toml found"))
		return;
	fclose(f);
	config_defaults(&cfg);
	config_defaults(&def);
	if (!ASSERT_OK(config_load(&cfg, path, true, &em), em.msg))
		return;
	ASSERT_EQ(memcmp(&cfg, &def, sizeof(cfg)), 0, "the shipped file keeps the defaults");
}

/* With its examples uncommented ("#key = value", "#[table]"; prose is "## ..."), the
 * example parses too, and the examples show the defaults where they can. */
static void dist_example_uncommented(void)
{
	struct bpfd_config cfg;
	char path[PATH_MAX], *text, *out, *line, *save = NULL;
	size_t n = 0, examples = 0;
	char buf[256];

	text = read_src("dist/bpfd.toml", path, sizeof(path));
	if (!ASSERT_TRUE(text, "dist/bpfd.toml read"))
		return;
	out = calloc(1, strlen(text) + 1);
	if (!ASSERT_TRUE(out, "malloc"))
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' && line[1] != '#' && line[1] != ' ' && line[1] != '\0') {
			line++;
			examples++;
		}
		n += sprintf(out + n, "%s\n", line);
	}
	ASSERT_TRUE(examples >= 15, "every option has an example line");
	if (!GOOD(&cfg, out))
		fprintf(stderr, "  uncommented example:\n%s", out);
	ASSERT_EQ(config_xdp_mode(&cfg, "eth0"), XDP_MODE_DRV, "example interface");
	ASSERT_TRUE(cfg.unix_enabled, "unix endpoint");
	ASSERT_STREQ(cfg.socket_path, "/run/bpfd/bpfd.sock", "default socket");
	ASSERT_FALSE(cfg.tcp_enabled, "tcp example is disabled");
	ASSERT_STREQ(cfg.tcp_addr, "::1", "tcp address");
	ASSERT_EQ(cfg.tcp_port, 50051, "tcp port");
	ASSERT_EQ(cfg.max_msg, BPFD_MAX_MSG, "max message");
	ASSERT_TRUE(cfg.allow_unsigned, "allow_unsigned");
	ASSERT_STREQ(cfg.certs_dir, BPFD_CERTS_DIR, "certs dir");
	config_tls_file(&cfg, CONFIG_TLS_CERT, buf, sizeof(buf));
	ASSERT_STREQ(buf, BPFD_CERTS_DIR "/bpfd/bpfd.pem", "cert");
	ASSERT_STREQ(cfg.rundir, BPFD_RUNDIR, "rundir");
	ASSERT_STREQ(cfg.image_dir, BPFD_IMAGE_DIR, "image dir");
	ASSERT_STREQ(cfg.programs_dir, BPFD_PROGRAMS_DIR, "programs dir");
	ASSERT_FALSE(cfg.unload_on_exit, "unload_on_exit example");
	ASSERT_EQ(cfg.log_level, LOG_INFO, "[log] level example");
	ASSERT_EQ(cfg.log_target, LOG_TARGET_STDERR, "[log] target example");
	ASSERT_EQ(cfg.stats_mode, STATS_ON_DEMAND, "[monitor] stats example");
	ASSERT_EQ(cfg.stats_grace, 60, "[monitor] stats_grace example");
	ASSERT_EQ(cfg.registry.n_insecure, 1, "[registry] insecure example");
	ASSERT_EQ(cfg.registry.max_blob_bytes, 256ull << 20, "[registry] max_blob_bytes example");
	free(out);
	free(text);
}

TEST_MAIN("config",
	  TEST(defaults),
	  TEST(empty_and_comments),
	  TEST(signing),
	  TEST(log_and_exit),
	  TEST(monitor),
	  TEST(registry),
	  TEST(full),
	  TEST(tls_files),
	  TEST(endpoints),
	  TEST(server_limits), TEST(rundir),
	  TEST(toml_syntax),
	  TEST(arrays),
	  TEST(syntax_errors),
	  TEST(schema_errors),
	  TEST(limits),
	  TEST(binary_input),
	  TEST(load),
	  TEST(dist_example),
	  TEST(dist_example_uncommented))
