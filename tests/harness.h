/* SPDX-License-Identifier: Apache-2.0 */
/* harness.h - tiny unit-test harness: each test in its own process; skip = exit 77.
 * Assertions evaluate to true on success, so they fit the goto style:
 *	if (!ASSERT_OK(err, "store_open")) goto out;
 * The suite ends with the line "SUITE: N passed, N failed, N skipped". */
#ifndef BPFD_TESTS_HARNESS_H
#define BPFD_TESTS_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int test__failed;
static int test__skip_fd = -1;	/* where test_skip() writes its reason for the parent */

static inline bool test__check(bool ok, const char *file, int line, const char *what,
			       const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	test__failed = 1;
	fprintf(stderr, "  %s:%d: %s: ", file, line, what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return false;
}

#define ASSERT_TRUE(x, what) \
	test__check(!!(x), __FILE__, __LINE__, (what), "expected true")
#define ASSERT_FALSE(x, what) \
	test__check(!(x), __FILE__, __LINE__, (what), "expected false")
#define ASSERT_EQ(a, b, what) ({					\
	long long _a = (long long)(a), _b = (long long)(b);		\
	test__check(_a == _b, __FILE__, __LINE__, (what),		\
		    "got %lld, want %lld", _a, _b);			\
})
#define ASSERT_NEQ(a, b, what) ({					\
	long long _a = (long long)(a), _b = (long long)(b);		\
	test__check(_a != _b, __FILE__, __LINE__, (what),		\
		    "got %lld, want anything else", _a);		\
})
#define ASSERT_OK(err, what) ({						\
	long long _e = (long long)(err);				\
	test__check(_e >= 0, __FILE__, __LINE__, (what),		\
		    "error %lld (%s)", _e, _e < 0 ? strerror((int)-_e) : ""); \
})
#define ASSERT_ERR(err, what) ({					\
	long long _e = (long long)(err);				\
	test__check(_e < 0, __FILE__, __LINE__, (what),		\
		    "got %lld, want an error", _e);			\
})
#define ASSERT_STREQ(a, b, what) ({					\
	const char *_a = (a), *_b = (b);				\
	test__check(_a && _b && !strcmp(_a, _b), __FILE__, __LINE__,	\
		    (what), "got \"%s\", want \"%s\"", _a ? _a : "(null)", \
		    _b ? _b : "(null)");				\
})
#define ASSERT_STRSTR(hay, needle, what) ({				\
	const char *_h = (hay), *_n = (needle);				\
	test__check(_h && _n && strstr(_h, _n), __FILE__, __LINE__,	\
		    (what), "\"%s\" does not contain \"%s\"",		\
		    _h ? _h : "(null)", _n ? _n : "(null)");		\
})

/* Print the reason and end the test as skipped. */
static inline void test_skip(const char *why)
{
	if (test__skip_fd >= 0 && write(test__skip_fd, why, strlen(why)) < 0)
		printf("  skip reason: %s\n", why);
	fflush(stdout);
	_exit(77);
}

struct test {
	const char *name;
	void (*fn)(void);
};
#define TEST(fn) { #fn, fn }

static inline int test__run(const char *suite, const struct test *tests, size_t n,
			    int argc, char **argv)
{
	int pass = 0, fail = 0, skip = 0, status, fds[2];
	char why[512];
	ssize_t got;
	size_t i;
	pid_t pid;

	for (i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], tests[i].name))
			continue;
		fflush(stdout);
		fflush(stderr);
		if (pipe(fds) < 0) {
			perror("pipe");
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			close(fds[0]);
			test__skip_fd = fds[1];
			tests[i].fn();
			fflush(stdout);
			_exit(test__failed ? 1 : 0);
		}
		close(fds[1]);
		if (waitpid(pid, &status, 0) < 0)
			status = -1;
		got = read(fds[0], why, sizeof(why) - 1);
		why[got > 0 ? got : 0] = '\0';
		close(fds[0]);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("PASS: %s\n", tests[i].name);
			pass++;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
			printf("SKIP: %s (%s)\n", tests[i].name, why[0] ? why : "no reason given");
			skip++;
		} else {
			if (WIFSIGNALED(status))
				printf("FAIL: %s (killed by signal %d)\n", tests[i].name,
				       WTERMSIG(status));
			else
				printf("FAIL: %s\n", tests[i].name);
			fail++;
		}
	}
	printf("%s: %d passed, %d failed, %d skipped\n", suite, pass, fail, skip);
	return fail ? 1 : 0;
}

#define TEST_MAIN(suite, ...)						\
int main(int argc, char **argv)						\
{									\
	static const struct test tests[] = { __VA_ARGS__ };		\
	setvbuf(stdout, NULL, _IOLBF, 0);				\
	return test__run(suite, tests, sizeof(tests) / sizeof(tests[0]), \
			 argc, argv);					\
}

#endif
