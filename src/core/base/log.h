/* SPDX-License-Identifier: Apache-2.0 */
/* log.h - one line per event on stderr or to syslog, levels from <syslog.h> */
#ifndef BPFD_CORE_LOG_H
#define BPFD_CORE_LOG_H

#include <syslog.h>

/* Set the program name used as prefix and the level (LOG_ERR..LOG_DEBUG).  The initial
 * level comes from $BPFD_LOG (error|warn|info|debug), default LOG_INFO. */
void log_init(const char *prog);
/* Set the level from the command line: neither $BPFD_LOG nor the configuration file
 * changes it afterwards. */
void log_set_level(int level);
/* The level a configuration file asks for: applied unless $BPFD_LOG or
 * log_set_level() chose one (the environment wins over the file). */
void log_set_default_level(int level);
int log_get_level(void);
/* Parse "error", "warn", "info", "debug"; returns the level or -EINVAL. */
int log_level_parse(const char *s);

enum log_target {
	LOG_TARGET_STDERR,
	LOG_TARGET_SYSLOG,	/* syslog(3), facility LOG_DAEMON, ident PROG, with the pid */
};

/* Parse "stderr" or "syslog"; returns the target or -EINVAL. */
int log_target_parse(const char *s);
/* The daemon's logging: lines go to target, and on stderr each line starts with a
 * local timestamp ("2026-12-06T20:54:16.123+0000 ") unless systemd runs the daemon
 * ($JOURNAL_STREAM or $INVOCATION_ID set), whose journal stamps lines itself.  Without
 * this call (the client applets) stderr lines carry no timestamp. */
void log_setup_daemon(enum log_target target);

/* Print one line: "PROG: error: MSG[: strerror(-err)]"; when stderr is the journal's
 * stream ($JOURNAL_STREAM names it) the line starts with "<N>" (sd-daemon(3) priority)
 * instead of "PROG: ".  err is 0 or a negative errno. */
void log_msg(int level, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...)	log_msg(LOG_ERR, 0, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, 0, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, 0, __VA_ARGS__)
/* log with ": <strerror(-err)>" appended; evaluates to err */
#define log_errno(level, err, fmt, ...) \
	({ int _e = (err); log_msg(level, _e, fmt, ##__VA_ARGS__); _e; })

#endif
