/* SPDX-License-Identifier: Apache-2.0 */
/* log.c - leveled logging to stderr (journald-aware) */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/log.h"

static const char *log_prog = "bpfd";
static int log_level = -1;
static int log_journal = -1;

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
		if (lvl >= 0)
			log_level = lvl;
		else
			fprintf(stderr, "%s: warning: BPFD_LOG='%s' is not one of error, warn, info, debug, ignoring\n",
				log_prog, env);
	}
	return log_level;
}

void log_init(const char *prog)
{
	log_prog = prog;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	(void)log_get_level();
}

void log_set_level(int level)
{
	log_level = level;
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
		log_journal = getenv("JOURNAL_STREAM") != NULL;
	if (log_journal)
		n = snprintf(line, sizeof(line), "<%d>", level);
	else
		n = snprintf(line, sizeof(line), "%s: %s", log_prog, names[level]);
	va_start(ap, fmt);
	if (n < sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (err && n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - n, ": %s", strerror(err < 0 ? -err : err));
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	line[n] = '\0';
	fputs(line, stderr);
	errno = saved;
}
