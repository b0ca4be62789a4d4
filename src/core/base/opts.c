/* SPDX-License-Identifier: Apache-2.0 */
/* opts.c - getopt_long driven by option tables; subcommand dispatch */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/opts.h"

void str_list_free(struct str_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int str_list_add(struct str_list *l, const char *s)
{
	const char **v;

	v = reallocarray(l->v, l->n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[l->n++] = s;
	l->v = v;
	return 0;
}

int parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 0);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -EINVAL;
}

int opts_usage_error(const struct opts_spec *spec, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", spec->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", spec->prog);
	return OPTS_USAGE;
}

int opts_bad_value(const struct opts_spec *spec, const char *opt, const char *val, size_t len,
		   const char *what)
{
	return opts_usage_error(spec, "%s%s'%.*s%s' is not %s", opt ?: "", opt ? " " : "",
				(int)(len > 64 ? 64 : len), val, len > 64 ? "..." : "", what);
}

int opts_exit_code(int status)
{
	return status == OPTS_HELP ? 0 : 2;
}

void opts_help(const struct opts_spec *spec, FILE *f)
{
	const struct opt *o;
	const char *u = spec->usage, *nl;
	char left[64];
	int first = 1;

	while (u && *u) {
		nl = strchr(u, '\n');
		fprintf(f, "%s%.*s\n", first ? "Usage: " : "       ",
			(int)(nl ? nl - u : (long)strlen(u)), u);
		first = 0;
		u = nl ? nl + 1 : NULL;
	}
	if (spec->desc)
		fprintf(f, "\n%s\n", spec->desc);
	fprintf(f, "\nOptions:\n");
	for (o = spec->optv; o && o->lname; o++) {
		if (o->hidden)
			continue;
		snprintf(left, sizeof(left), "%c%c%s--%s%s%s",
			 o->sname ? '-' : ' ', o->sname ? o->sname : ' ',
			 o->sname ? ", " : "  ", o->lname,
			 o->metavar ? " " : "", o->metavar ? o->metavar : "");
		if (strlen(left) > 26)
			fprintf(f, "  %s\n  %-26s %s\n", left, "", o->help ? o->help : "");
		else
			fprintf(f, "  %-26s %s\n", left, o->help ? o->help : "");
	}
	fprintf(f, "  %-26s %s\n", "-h, --help", "show this help and exit");
	if (spec->footer)
		fprintf(f, "\n%s\n", spec->footer);
}

static int opt_store(const struct opts_spec *spec, const struct opt *o, void *opts,
		     const char *arg)
{
	char *field = (char *)opts + o->off;
	char name[64], what[64];
	int64_t i;
	uint64_t u;
	int err = 0;

	switch (o->kind) {
	case OPTK_FLAG:
		*(bool *)field = true;
		return 0;
	case OPTK_COUNT:
		(*(int *)field)++;
		return 0;
	case OPTK_STR:
		*(const char **)field = arg;
		return 0;
	case OPTK_LIST:
	case OPTK_LISTN:
		if (str_list_add((struct str_list *)field, arg))
			return opts_usage_error(spec, "out of memory");
		return 0;
	case OPTK_INT:
		err = parse_i64(arg, INT32_MIN, INT32_MAX, &i);
		if (!err)
			*(int32_t *)field = i;
		break;
	case OPTK_U32:
		err = parse_u64(arg, UINT32_MAX, &u);
		if (!err)
			*(uint32_t *)field = u;
		break;
	case OPTK_U64:
		err = parse_u64(arg, UINT64_MAX, &u);
		if (!err)
			*(uint64_t *)field = u;
		break;
	}
	if (!err)
		return 0;
	snprintf(name, sizeof(name), "--%s", o->lname);
	if (o->kind == OPTK_INT)
		snprintf(what, sizeof(what), "an integer from %d to %d", INT32_MIN, INT32_MAX);
	else
		snprintf(what, sizeof(what), "a number from 0 to %" PRIu64,
			 o->kind == OPTK_U32 ? (uint64_t)UINT32_MAX : UINT64_MAX);
	return opts_bad_value(spec, name, arg, strlen(arg), what);
}

static bool list_stop(const struct opts_spec *spec, const char *arg)
{
	const char *const *w;

	if (arg[0] == '-')
		return true;
	for (w = spec->list_stop; w && *w; w++)
		if (!strcmp(*w, arg))
			return true;
	return false;
}

int opts_parse(const struct opts_spec *spec, void *opts, int argc, char **argv)
{
	struct option *lopts = NULL;
	char sopts[256] = "+:h";
	const struct opt *o;
	size_t n = 0, k, sl = 3;
	int c, idx, ret;

	for (o = spec->optv; o && o->lname; o++)
		n++;
	lopts = calloc(n + 2, sizeof(*lopts));
	if (!lopts)
		return opts_usage_error(spec, "out of memory");
	for (k = 0; k < n; k++) {
		o = &spec->optv[k];
		lopts[k].name = o->lname;
		lopts[k].has_arg = (o->kind == OPTK_FLAG || o->kind == OPTK_COUNT) ?
				   no_argument : required_argument;
		lopts[k].val = 256 + k;
		if (o->sname && sl + 3 < sizeof(sopts)) {
			sopts[sl++] = o->sname;
			if (lopts[k].has_arg)
				sopts[sl++] = ':';
		}
	}
	lopts[n].name = "help";
	lopts[n].val = 'h';
	sopts[sl] = '\0';

	optind = 0;	/* glibc: full re-initialisation */
	opterr = 0;
	for (;;) {
		idx = -1;
		c = getopt_long(argc, argv, sopts, lopts, &idx);
		if (c == -1)
			break;
		if (c == 'h') {
			opts_help(spec, stdout);
			ret = OPTS_HELP;
			goto out;
		}
		if (c == '?') {
			if (optopt)
				ret = opts_usage_error(spec, "unknown option '-%c'", optopt);
			else
				ret = opts_usage_error(spec, "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
		if (c == ':') {
			ret = opts_usage_error(spec, "option '%s' needs a value", argv[optind - 1]);
			goto out;
		}
		if (c >= 256) {
			o = &spec->optv[c - 256];
		} else {
			for (o = spec->optv; o->lname && o->sname != c; o++)
				;
		}
		ret = opt_store(spec, o, opts, optarg);
		/* more values of a LISTN: the value was a whole argument, so getopt
		 * continues at optind, which may move on */
		while (!ret && o->kind == OPTK_LISTN && optind < argc && !list_stop(spec, argv[optind]))
			ret = opt_store(spec, o, opts, argv[optind++]);
		if (ret)
			goto out;
	}
	ret = optind;
out:
	free(lopts);
	return ret;
}

static void cmd_help(const char *prog, const char *desc, const struct cmd *cmds, FILE *f)
{
	const struct cmd *c;

	fprintf(f, "Usage: %s COMMAND [OPTIONS] [ARGS]\n", prog);
	if (desc)
		fprintf(f, "\n%s\n", desc);
	fprintf(f, "\nCommands:\n");
	for (c = cmds; c->name; c++)
		if (c->doc)
			fprintf(f, "  %-16s %s\n", c->name, c->doc);
	fprintf(f, "\nRun '%s COMMAND --help' or '%s help COMMAND' for the options of a command.\n",
		prog, prog);
}

int cmd_dispatch(const char *prog, const char *desc, const struct cmd *cmds,
		 int argc, char **argv)
{
	const struct cmd *c, *found = NULL;
	char **hargv;
	size_t len;
	int matches = 0, rc;

	if (argc < 2) {
		fprintf(stderr, "%s: missing command\nTry '%s --help'.\n", prog, prog);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    (!strcmp(argv[1], "help") && argc == 2)) {
		cmd_help(prog, desc, cmds, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {
		/* "help COMMAND [ARGS]..." is "COMMAND [ARGS]... --help" */
		hargv = calloc(argc + 1, sizeof(*hargv));
		if (!hargv) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return 1;
		}
		hargv[0] = argv[0];
		memcpy(hargv + 1, argv + 2, (argc - 2) * sizeof(*hargv));
		hargv[argc - 1] = (char *)"--help";
		rc = cmd_dispatch(prog, desc, cmds, argc, hargv);
		free(hargv);
		return rc;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("%s %s\n", prog, BPFD_VERSION);
		return 0;
	}
	len = strlen(argv[1]);
	for (c = cmds; c->name; c++) {
		if (!strcmp(c->name, argv[1])) {
			found = c;
			matches = 1;
			break;
		}
		if (argv[1][0] != '-' && len && !strncmp(c->name, argv[1], len) && c->doc) {
			found = c;
			matches++;
		}
	}
	if (matches == 1)
		return found->fn(argc - 1, argv + 1);
	if (matches > 1)
		fprintf(stderr, "%s: command '%s' is ambiguous\nTry '%s --help'.\n", prog, argv[1], prog);
	else if (argv[1][0] == '-')
		fprintf(stderr, "%s: unknown option '%s'\nTry '%s --help'.\n", prog, argv[1], prog);
	else
		fprintf(stderr, "%s: unknown command '%s'\nTry '%s --help'.\n", prog, argv[1], prog);
	return 2;
}
