/* SPDX-License-Identifier: Apache-2.0 */
/* test_log.c - log levels (command line > $BPFD_LOG > [log] level) and line formats
 * (timestamps outside systemd, "<N>" into the journal); each test runs in its own fork */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "core/base/log.h"

/* Point stderr at a temporary file; returns its stream for reading back. */
static FILE *capture(void)
{
	FILE *f = tmpfile();

	if (f)
		dup2(fileno(f), 2);
	return f;
}

static void read_back(FILE *f, char *buf, size_t size)
{
	size_t n;

	fflush(stderr);
	rewind(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
}

static void level_order(void)
{
	unsetenv("BPFD_LOG");
	log_init("bpfd");
	ASSERT_EQ(log_get_level(), LOG_INFO, "default info");
	log_set_default_level(LOG_WARNING);
	ASSERT_EQ(log_get_level(), LOG_WARNING, "the file's level applies");
	log_set_level(LOG_DEBUG);
	log_set_default_level(LOG_ERR);
	ASSERT_EQ(log_get_level(), LOG_DEBUG, "the command line wins over the file");
}

static void env_wins_over_file(void)
{
	setenv("BPFD_LOG", "error", 1);
	log_init("bpfd");
	log_set_default_level(LOG_DEBUG);
	ASSERT_EQ(log_get_level(), LOG_ERR, "$BPFD_LOG wins over the file");
	log_set_level(LOG_INFO);
	ASSERT_EQ(log_get_level(), LOG_INFO, "the command line wins over $BPFD_LOG");
}

static void bad_env_ignored(void)
{
	FILE *f = capture();
	char buf[512];

	ASSERT_TRUE(f, "tmpfile");
	setenv("BPFD_LOG", "loud", 1);
	log_init("bpfd");
	log_set_default_level(LOG_WARNING);
	ASSERT_EQ(log_get_level(), LOG_WARNING, "a bad $BPFD_LOG leaves the file's level");
	read_back(f, buf, sizeof(buf));
	ASSERT_STRSTR(buf, "BPFD_LOG='loud' is not one of error, warn, info, debug", "warned");
}

static void stamped_outside_systemd(void)
{
	FILE *f = capture();
	char buf[512];

	ASSERT_TRUE(f, "tmpfile");
	unsetenv("BPFD_LOG");
	unsetenv("JOURNAL_STREAM");
	unsetenv("INVOCATION_ID");
	log_init("bpfd");
	log_info("before setup");
	log_setup_daemon(LOG_TARGET_STDERR);
	log_warn("after setup");
	read_back(f, buf, sizeof(buf));
	ASSERT_TRUE(!strncmp(buf, "bpfd: before setup\n", 19), "no stamp for the client applets");
	/* "YYYY-MM-DDTHH:MM:SS.mmm+ZZZZ bpfd: warning: after setup" */
	ASSERT_TRUE(strlen(buf) > 19 + 29, "second line");
	ASSERT_TRUE(buf[19 + 4] == '-' && buf[19 + 10] == 'T' && buf[19 + 19] == '.' &&
		    buf[19 + 28] == ' ', buf);
	ASSERT_STREQ(buf + 19 + 29, "bpfd: warning: after setup\n", "then the usual line");
}

static void systemd_no_stamp(void)
{
	FILE *f = capture();
	char buf[512];

	ASSERT_TRUE(f, "tmpfile");
	unsetenv("JOURNAL_STREAM");
	setenv("INVOCATION_ID", "0123", 1);
	log_init("bpfd");
	log_setup_daemon(LOG_TARGET_STDERR);
	log_err("x");
	read_back(f, buf, sizeof(buf));
	ASSERT_STREQ(buf, "bpfd: error: x\n", "no timestamp under systemd");
}

static void journal_prefix(void)
{
	FILE *f = capture();
	struct stat st;
	char buf[512], env[64];

	ASSERT_TRUE(f, "tmpfile");
	ASSERT_OK(fstat(2, &st), "fstat");
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	unsetenv("BPFD_LOG");
	log_init("bpfd");
	log_setup_daemon(LOG_TARGET_STDERR);
	log_warn("w");
	log_info("i");
	read_back(f, buf, sizeof(buf));
	ASSERT_STREQ(buf, "<4>w\n<6>i\n", "sd-daemon priorities");
}

static void targets(void)
{
	ASSERT_EQ(log_target_parse("stderr"), LOG_TARGET_STDERR, "stderr");
	ASSERT_EQ(log_target_parse("syslog"), LOG_TARGET_SYSLOG, "syslog");
	ASSERT_ERR(log_target_parse("journal"), "journal");
}

TEST_MAIN("log",
	  TEST(level_order),
	  TEST(env_wins_over_file),
	  TEST(bad_env_ignored),
	  TEST(stamped_outside_systemd),
	  TEST(systemd_no_stamp),
	  TEST(journal_prefix),
	  TEST(targets))
