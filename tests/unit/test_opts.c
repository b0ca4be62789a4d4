/* SPDX-License-Identifier: Apache-2.0 */
/* test_opts.c - option tables, integer parsing, subcommand dispatch */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "core/base/opts.h"

struct o {
	bool flag;
	int count;
	const char *str;
	int32_t i;
	uint32_t u;
	uint64_t u64;
	struct str_list l;
	struct str_list ln;
};

static const struct opt optv[] = {
	OPT_FLAG("flag", 'f', struct o, flag, "a flag"),
	OPT_COUNT("verbose", 'v', struct o, count, "count"),
	OPT_STR("str", 's', struct o, str, "S", "a string"),
	OPT_INT("int", 'i', struct o, i, "N", "an int"),
	OPT_U32("u32", 0, struct o, u, "N", "a u32"),
	OPT_U64("u64", 0, struct o, u64, "N", "a u64"),
	OPT_LIST("list", 'l', struct o, l, "V", "repeatable"),
	OPT_LISTN("many", 'm', struct o, ln, "V...", "several values per use"),
	OPT_END
};
static const char *const stop[] = { "kind", NULL };
static const struct opts_spec spec = { .prog = "t", .usage = "t [OPTIONS]", .optv = optv,
				       .list_stop = stop };

static void parse_all(void)
{
	char *argv[] = { "t", "-f", "-vv", "--str", "x", "-i", "-5", "--u32=7", "--u64",
			 "0x10", "-l", "a", "--list", "b", "pos", "-f", NULL };
	struct o o = { 0 };
	int idx = opts_parse(&spec, &o, 16, argv);

	ASSERT_EQ(idx, 14, "index of first positional");
	ASSERT_TRUE(o.flag, "flag");
	ASSERT_EQ(o.count, 2, "count");
	ASSERT_STREQ(o.str, "x", "str");
	ASSERT_EQ(o.i, -5, "int");
	ASSERT_EQ(o.u, 7, "u32");
	ASSERT_EQ(o.u64, 16, "u64 hex");
	ASSERT_EQ(o.l.n, 2, "list count");
	ASSERT_STREQ(o.l.v[1], "b", "list item");
	str_list_free(&o.l);
}

/* -m takes every following argument up to an option or a stop word; -l takes one */
static void parse_multi_value(void)
{
	char *a1[] = { "t", "-m", "a", "b", "--many=c", "d", "-f", "e", NULL };
	char *a2[] = { "t", "-ma", "b", "kind", "x", NULL };
	char *a3[] = { "t", "-l", "a", "b", "-m", "c", NULL };
	char *a4[] = { "t", "-m", "a", "--", "b", NULL };
	struct o o = { 0 };

	ASSERT_EQ(opts_parse(&spec, &o, 8, a1), 7, "first positional after -f");
	ASSERT_EQ(o.ln.n, 4, "four values");
	ASSERT_STREQ(o.ln.v[1], "b", "second value of the first use");
	ASSERT_STREQ(o.ln.v[3], "d", "second value of --many=");
	ASSERT_TRUE(o.flag, "-f after the values");
	str_list_free(&o.ln);
	ASSERT_EQ(opts_parse(&spec, &o, 5, a2), 3, "a stop word ends the values");
	ASSERT_EQ(o.ln.n, 2, "-ma b");
	str_list_free(&o.ln);
	ASSERT_EQ(opts_parse(&spec, &o, 6, a3), 3, "a repeatable list takes one value");
	ASSERT_EQ(o.l.n, 1, "one -l value");
	str_list_free(&o.l);
	ASSERT_EQ(opts_parse(&spec, &o, 5, a4), 4, "-- ends the values and the options");
	ASSERT_EQ(o.ln.n, 1, "one -m value before --");
	str_list_free(&o.ln);
}

static void parse_errors(void)
{
	char *a1[] = { "t", "--int", "12x", NULL };
	char *a2[] = { "t", "--u32", "-1", NULL };
	char *a3[] = { "t", "--nope", NULL };
	char *a4[] = { "t", "--str", NULL };
	char *a5[] = { "t", "--int", "3000000000", NULL };
	struct o o = { 0 };

	ASSERT_EQ(opts_parse(&spec, &o, 3, a1), OPTS_USAGE, "bad int");
	ASSERT_EQ(opts_parse(&spec, &o, 3, a2), OPTS_USAGE, "negative u32");
	ASSERT_EQ(opts_parse(&spec, &o, 2, a3), OPTS_USAGE, "unknown");
	ASSERT_EQ(opts_parse(&spec, &o, 2, a4), OPTS_USAGE, "missing value");
	ASSERT_EQ(opts_parse(&spec, &o, 3, a5), OPTS_USAGE, "int range");
	ASSERT_EQ(opts_exit_code(OPTS_USAGE), 2, "usage exit code");
	ASSERT_EQ(opts_bad_value(&spec, "--x", "v", 1, "w"), OPTS_USAGE, "bad value");
}

static void parse_ints(void)
{
	int64_t i;
	uint64_t u;

	ASSERT_OK(parse_i64("-12", -100, 100, &i), "-12");
	ASSERT_EQ(i, -12, "value");
	ASSERT_EQ(parse_i64("", 0, 1, &i), -EINVAL, "empty");
	ASSERT_EQ(parse_i64("101", -100, 100, &i), -ERANGE, "range");
	ASSERT_EQ(parse_u64("-1", UINT64_MAX, &u), -EINVAL, "negative");
	ASSERT_OK(parse_u64("18446744073709551615", UINT64_MAX, &u), "max");
	ASSERT_EQ(parse_u64("18446744073709551616", UINT64_MAX, &u), -ERANGE, "overflow");
}

static int ran;
static int cmd_alpha(int argc, char **argv) { (void)argc; (void)argv; ran = 1; return 0; }
static int cmd_alps(int argc, char **argv) { (void)argc; (void)argv; ran = 2; return 0; }
static int cmd_beta(int argc, char **argv) { (void)argc; return argv[0][0] == 'b' ? 5 : 0; }
static const struct cmd cmds[] = {
	{ "alpha", cmd_alpha, "a" }, { "alps", cmd_alps, "b" }, { "beta", cmd_beta, "c" },
	{ NULL, NULL, NULL }
};

static void dispatch(void)
{
	char *a1[] = { "p", "alpha", NULL };
	char *a2[] = { "p", "alp", NULL };
	char *a3[] = { "p", "be", NULL };
	char *a4[] = { "p", "gamma", NULL };
	char *a5[] = { "p", "alps", NULL };

	ASSERT_EQ(cmd_dispatch("p", NULL, cmds, 2, a1), 0, "exact");
	ASSERT_EQ(ran, 1, "alpha ran");
	ASSERT_EQ(cmd_dispatch("p", NULL, cmds, 2, a2), 2, "ambiguous prefix");
	ASSERT_EQ(cmd_dispatch("p", NULL, cmds, 2, a3), 5, "unique prefix");
	ASSERT_EQ(cmd_dispatch("p", NULL, cmds, 2, a4), 2, "unknown");
	ASSERT_EQ(cmd_dispatch("p", NULL, cmds, 2, a5), 0, "exact beats prefix");
	ASSERT_EQ(ran, 2, "alps ran");
}

static int help_seen;
static int cmd_helped(int argc, char **argv)
{
	help_seen = argc == 3 && !strcmp(argv[0], "gam") && !strcmp(argv[1], "x") &&
		    !strcmp(argv[2], "--help") && !argv[3];
	return 7;
}
static const struct cmd hcmds[] = { { "gamma", cmd_helped, "g" }, { NULL, NULL, NULL } };

/* "help CMD ARGS" runs "CMD ARGS --help"; "help" alone is the command list */
static void dispatch_help(void)
{
	char *a1[] = { "p", "help", "gam", "x", NULL };
	char *a2[] = { "p", "help", NULL };
	char *a3[] = { "p", "help", "nope", NULL };

	ASSERT_EQ(cmd_dispatch("p", NULL, hcmds, 4, a1), 7, "help runs the command");
	ASSERT_TRUE(help_seen, "with its arguments and --help");
	ASSERT_EQ(cmd_dispatch("p", NULL, hcmds, 2, a2), 0, "help alone");
	ASSERT_EQ(cmd_dispatch("p", NULL, hcmds, 3, a3), 2, "help of an unknown command");
}

TEST_MAIN("opts", TEST(parse_all), TEST(parse_multi_value), TEST(parse_errors), TEST(parse_ints), TEST(dispatch),
	  TEST(dispatch_help))
