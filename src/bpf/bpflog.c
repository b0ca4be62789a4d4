/* SPDX-License-Identifier: Apache-2.0 */
/* bpflog.c - libbpf's print hook: its lines go to bpfd's log, not to stderr */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "bpf/bpflog.h"
#include "core/base/log.h"

static __thread enum bpflog_mode mode;

static int print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	if (mode == BPFLOG_OFF)
		return 0;
	if (!(mode == BPFLOG_WARN && level == LIBBPF_WARN) && log_get_level() < LOG_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (mode == BPFLOG_WARN && level == LIBBPF_WARN)
		log_warn("libbpf: %s", line);
	else
		log_debug("libbpf%s: %s", level == LIBBPF_WARN ? " warning" : "", line);
	return 0;
}

static void install(void)
{
	libbpf_set_print(print);
}

void bpflog_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, install);
}

enum bpflog_mode bpflog_set(enum bpflog_mode m)
{
	enum bpflog_mode old = mode;

	bpflog_init();
	mode = m;
	return old;
}
