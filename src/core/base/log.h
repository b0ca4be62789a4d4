/* SPDX-License-Identifier: Apache-2.0 */
/* log.h - one line per event on stderr, levels from <syslog.h> */
#ifndef BPFD_CORE_LOG_H
#define BPFD_CORE_LOG_H

#include <syslog.h>

/* Set the program name used as prefix and the level (LOG_ERR..LOG_DEBUG).  The initial
 * level comes from $BPFD_LOG (error|warn|info|debug), default LOG_INFO. */
void log_init(const char *prog);
void log_set_level(int level);
int log_get_level(void);
/* Parse "error", "warn", "info", "debug"; returns the level or -EINVAL. */
int log_level_parse(const char *s);

/* Print one line: "PROG: error: MSG[: strerror(-err)]"; with $JOURNAL_STREAM set the
 * line starts with "<N>" instead, for journald. err is 0 or a negative errno. */
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
