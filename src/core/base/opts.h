/* SPDX-License-Identifier: Apache-2.0 */
/* opts.h - option tables bound to an options struct; subcommand tables */
#ifndef BPFD_CORE_OPTS_H
#define BPFD_CORE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A repeatable string option; v points into argv (not owned), the array is owned. */
struct str_list {
	const char **v;
	size_t n;
};
void str_list_free(struct str_list *l);
int str_list_add(struct str_list *l, const char *s);

enum opt_kind {
	OPTK_FLAG,	/* bool, set to true */
	OPTK_COUNT,	/* int, incremented (-v -v) */
	OPTK_STR,	/* const char *, points into argv */
	OPTK_INT,	/* int32_t */
	OPTK_U32,	/* uint32_t */
	OPTK_U64,	/* uint64_t */
	OPTK_LIST,	/* struct str_list, one entry per use */
	OPTK_LISTN,	/* struct str_list, one or more entries per use ("-g A=1 B=2"):
			 * the arguments after the value are taken too, up to one that
			 * starts with '-' or is one of the spec's list_stop words */
};

struct opt {
	const char *lname;	/* long name without "--"; NULL ends the table */
	int sname;		/* short letter or 0 */
	enum opt_kind kind;
	size_t off;		/* offsetof() the field in the options struct */
	const char *metavar;	/* "NAME" for options that take a value */
	const char *help;
	bool hidden;		/* not shown by --help */
};

#define OPT_FLAG(l, s, T, f, h)		{ l, s, OPTK_FLAG, offsetof(T, f), NULL, h, false }
#define OPT_COUNT(l, s, T, f, h)	{ l, s, OPTK_COUNT, offsetof(T, f), NULL, h, false }
#define OPT_STR(l, s, T, f, mv, h)	{ l, s, OPTK_STR, offsetof(T, f), mv, h, false }
#define OPT_INT(l, s, T, f, mv, h)	{ l, s, OPTK_INT, offsetof(T, f), mv, h, false }
#define OPT_U32(l, s, T, f, mv, h)	{ l, s, OPTK_U32, offsetof(T, f), mv, h, false }
#define OPT_U64(l, s, T, f, mv, h)	{ l, s, OPTK_U64, offsetof(T, f), mv, h, false }
#define OPT_LIST(l, s, T, f, mv, h)	{ l, s, OPTK_LIST, offsetof(T, f), mv, h, false }
#define OPT_LISTN(l, s, T, f, mv, h)	{ l, s, OPTK_LISTN, offsetof(T, f), mv, h, false }
#define OPT_HIDDEN_FLAG(l, T, f)	{ l, 0, OPTK_FLAG, offsetof(T, f), NULL, NULL, true }
#define OPT_HIDDEN_STR(l, T, f, mv)	{ l, 0, OPTK_STR, offsetof(T, f), mv, NULL, true }
#define OPT_END				{ NULL, 0, 0, 0, NULL, NULL, false }

struct opts_spec {
	const char *prog;	/* "bpfctl list", used in messages */
	const char *usage;	/* synopsis after "Usage: ", lines separated by '\n' */
	const char *desc;	/* one paragraph, may be NULL */
	const struct opt *optv;
	const char *footer;	/* printed after the options, may be NULL */
	const char *const *list_stop;	/* NULL-ended words that end an OPTK_LISTN's values */
};

/* Status codes of opts_parse() besides an argv index. */
#define OPTS_HELP	(-1000)	/* --help was printed to stdout: exit 0 */
#define OPTS_USAGE	(-1001)	/* a usage error was printed to stderr: exit 2 */

/* Parse options in argv[1..] into opts, stopping at the first non-option argument or
 * after "--".  Returns the index of the first unparsed argument, OPTS_HELP or OPTS_USAGE.
 * -h/--help is always accepted.  Values are checked (integers, ranges). */
int opts_parse(const struct opts_spec *spec, void *opts, int argc, char **argv);
void opts_help(const struct opts_spec *spec, FILE *f);
/* Print "PROG: MESSAGE" and "Try 'PROG --help'." to stderr; returns OPTS_USAGE. */
int opts_usage_error(const struct opts_spec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The one wording of a bad option value: "PROG: OPT 'VALUE' is not WHAT" (without OPT
 * when it is NULL: a positional argument), VALUE being len bytes of val, cut after 64;
 * returns OPTS_USAGE. */
int opts_bad_value(const struct opts_spec *spec, const char *opt, const char *val, size_t len,
		   const char *what);
/* Map an opts_parse() status (<0) to an exit code: OPTS_HELP 0, otherwise 2. */
int opts_exit_code(int status);

/* Integer parsing with the whole string checked: 0 or -EINVAL / -ERANGE. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret);
int parse_u64(const char *s, uint64_t max, uint64_t *ret);
/* The value (0 to 15) of the hexadecimal digit c (either case), or -EINVAL. */
int parse_hex_digit(int c);

/* Subcommands (bpftool / xdp-tools style). */
struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);	/* argv[0] is the command name; returns exit code */
	const char *doc;
};

/* Run the command named by argv[1] (exact or unique prefix); handles --help,
 * --version, "help [COMMAND [ARGS]...]" (the same as "COMMAND [ARGS]... --help")
 * and unknown or ambiguous names (exit 2). */
int cmd_dispatch(const char *prog, const char *desc, const struct cmd *cmds,
		 int argc, char **argv);

#endif
