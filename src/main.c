/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - multi-call entry point: pick an applet by argv[0] or argv[1] */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/applets.h"

static const struct applet applets[] = {
#define APPLET(name, fn, summary) { name, fn, summary },
#include "applets/applets.def"
#undef APPLET
};
#define N_APPLETS (sizeof(applets) / sizeof(applets[0]))

static const struct applet *applet_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_APPLETS; i++)
		if (!strcmp(applets[i].name, name))
			return &applets[i];
	return NULL;
}

static int usage(FILE *f)
{
	size_t i;

	fprintf(f, "bpfd %s - multi-call binary: eBPF program manager\n\n"
		"Usage: bpfd [DAEMON OPTIONS]         run the daemon (see 'bpfd --help')\n"
		"       bpfd APPLET [ARGS]            run an applet\n"
		"       APPLET [ARGS]                 through a link named after the applet\n"
		"       bpfd --list                   list the applets\n"
		"       bpfd --install [-s] DIR       create links to bpfd for each applet in DIR\n"
		"                                     (-s: symbolic links)\n"
		"       bpfd --version\n\nApplets:\n", BPFD_VERSION);
	for (i = 0; i < N_APPLETS; i++)
		fprintf(f, "  %-12s %s\n", applets[i].name, applets[i].summary);
	return f == stdout ? EXIT_SUCCESS : 2;
}

/* Create DIR/<applet> for every applet except bpfd itself, pointing at this binary. */
static int install_links(const char *dir, int symbolic)
{
	char self[PATH_MAX], path[PATH_MAX];
	ssize_t n;
	size_t i;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		fprintf(stderr, "bpfd: cannot find own path in /proc/self/exe: %s\n",
			strerror(errno));
		return EXIT_FAILURE;
	}
	self[n] = '\0';
	for (i = 0; i < N_APPLETS; i++) {
		if (!strcmp(applets[i].name, "bpfd"))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, applets[i].name) >= (int)sizeof(path)) {
			fprintf(stderr, "bpfd: install directory '%s' is too long\n", dir);
			return EXIT_FAILURE;
		}
		(void)unlink(path);
		if ((symbolic ? symlink(self, path) : link(self, path)) < 0) {
			fprintf(stderr, "bpfd: cannot create %s link '%s' -> '%s': %s%s\n",
				symbolic ? "symbolic" : "hard", path, self, strerror(errno),
				!symbolic && errno == EXDEV ? " (use -s across file systems)" : "");
			return EXIT_FAILURE;
		}
		printf("%s -> %s\n", path, self);
	}
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	const char *base;
	const struct applet *a;
	size_t i;

	if (argc < 1)
		return 2;
	base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	a = applet_find(base);
	if (a && strcmp(a->name, "bpfd"))
		return a->main(argc, argv);
	/* Called as bpfd (or under an unknown name): multiplexer verbs, then applets. */
	if (argc >= 2) {
		if (!strcmp(argv[1], "--list")) {
			for (i = 0; i < N_APPLETS; i++)
				printf("%s\n", applets[i].name);
			return EXIT_SUCCESS;
		}
		if (!strcmp(argv[1], "--install")) {
			int sym = argc >= 3 && !strcmp(argv[2], "-s");

			if (argc != 3 + sym) {
				fprintf(stderr, "bpfd: --install needs one directory: bpfd --install [-s] DIR\n");
				return 2;
			}
			return install_links(argv[2 + sym], sym);
		}
		if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
			printf("bpfd %s\n", BPFD_VERSION);
			return EXIT_SUCCESS;
		}
		if (!strcmp(argv[1], "--applets"))
			return usage(stdout);
		if (argv[1][0] != '-') {
			a = applet_find(argv[1]);
			if (!a) {
				fprintf(stderr, "bpfd: unknown applet '%s' (applets: bpfd, bpfctl, bpfd-agent)\n",
					argv[1]);
				return 2;
			}
			return a->main(argc - 1, argv + 1);
		}
	}
	return bpfd_main(argc, argv);
}
