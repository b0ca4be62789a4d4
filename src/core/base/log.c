/* SPDX-License-Identifier: Apache-2.0 */
/* log.c - leveled logging to stderr (journald-aware, timestamps for the daemon) or syslog */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "core/base/log.h"

static const char *log_prog = "bpfd";
static int log_level = -1;
static int log_journal = -1;
static bool log_level_fixed;	/* set by $BPFD_LOG or log_set_level() */
static bool log_stamp;		/* timestamps on stderr */
static enum log_target log_target = LOG_TARGET_STDERR;

int log_level_parse(const char *s)
{
	if (!strcmp(s, "error") || !strcmp(s, "err"))
		return LOG_ERR;
	if (!strcmp(s, "warn") || !strcmp(s, "warning"))
		return LOG_WARNING;
	if (!strcmp(s, "info"))
		return LOG_INFO;
	if (!strcmp(s, "debug") || !strcmp(s, "trace"))
		return LOG_DEBUG;
	return -EINVAL;
}

int log_get_level(void)
{
	const char *env;
	int lvl;

	if (log_level >= 0)
		return log_level;
	log_level = LOG_INFO;
	env = getenv("BPFD_LOG");
	if (env && *env) {
		lvl = log_level_parse(env);
		if (lvl >= 0) {
			log_level = lvl;
			log_level_fixed = true;
		} else
			fprintf(stderr, "%s: warning: BPFD_LOG='%s' is not one of error, warn, info, debug, ignoring\n",
				log_prog, env);
	}
	return log_level;
}

/* Is stderr the journal's stream?  systemd sets $JOURNAL_STREAM to "DEV:INODE" of it;
 * a child whose stderr was redirected inherits the variable but not the stream. */
static bool journal_stream(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_init(const char *prog)
{
	log_prog = prog;
	log_journal = journal_stream();
	(void)log_get_level();
}

void log_set_level(int level)
{
	(void)log_get_level();	/* warn about a bad $BPFD_LOG once */
	log_level = level;
	log_level_fixed = true;
}

void log_set_default_level(int level)
{
	(void)log_get_level();
	if (!log_level_fixed)
		log_level = level;
}

int log_target_parse(const char *s)
{
	if (!strcmp(s, "stderr"))
		return LOG_TARGET_STDERR;
	if (!strcmp(s, "syslog"))
		return LOG_TARGET_SYSLOG;
	return -EINVAL;
}

void log_setup_daemon(enum log_target target)
{
	if (log_journal < 0)
		log_journal = journal_stream();
	log_stamp = !log_journal && !getenv("JOURNAL_STREAM") && !getenv("INVOCATION_ID");
	if (target == LOG_TARGET_SYSLOG && log_target != LOG_TARGET_SYSLOG)
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (target != LOG_TARGET_SYSLOG && log_target == LOG_TARGET_SYSLOG)
		closelog();
	log_target = target;
}

/* "2026-12-06T20:54:16.123+0000 " into buf; 0 bytes when the clock fails. */
static size_t timestamp(char *buf, size_t size)
{
	struct timeval tv;
	struct tm tm;
	char zone[8];
	size_t n;

	if (gettimeofday(&tv, NULL) < 0 || !localtime_r(&tv.tv_sec, &tm))
		return 0;
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!n || !strftime(zone, sizeof(zone), "%z", &tm))
		return 0;
	n += snprintf(buf + n, size - n, ".%03ld%s ", (long)tv.tv_usec / 1000, zone);
	return n < size ? n : 0;
}

void log_msg(int level, int err, const char *fmt, ...)
{
	static const char *const names[] = {
		[LOG_EMERG] = "error: ", [LOG_ALERT] = "error: ",
		[LOG_CRIT] = "error: ", [LOG_ERR] = "error: ",
		[LOG_WARNING] = "warning: ", [LOG_NOTICE] = "",
		[LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
	};
	char line[4096];
	size_t n = 0;
	va_list ap;
	int saved = errno;

	if (level > log_get_level())
		return;
	if (level < 0 || level > LOG_DEBUG)
		level = LOG_ERR;
	if (log_journal < 0)
		log_journal = journal_stream();
	if (log_target == LOG_TARGET_SYSLOG) {
		/* syslog adds time, ident and pid; the level is its priority */
		n = snprintf(line, sizeof(line), "%s", level == LOG_DEBUG ? "debug: " : "");
	} else if (log_journal) {
		n = snprintf(line, sizeof(line), "<%d>", level);
	} else {
		n = log_stamp ? timestamp(line, sizeof(line)) : 0;
		n += snprintf(line + n, sizeof(line) - n, "%s: %s", log_prog, names[level]);
	}
	va_start(ap, fmt);
	if (n < sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (err && n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - n, ": %s", strerror(err < 0 ? -err : err));
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	if (log_target == LOG_TARGET_SYSLOG) {
		line[n] = '\0';
		syslog(LOG_DAEMON | level, "%s", line);
		errno = saved;
		return;
	}
	line[n++] = '\n';
	line[n] = '\0';
	fputs(line, stderr);
	errno = saved;
}
