/* SPDX-License-Identifier: Apache-2.0 */
/* errmsg.c - human-readable error messages carried next to -errno results */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/base/errmsg.h"

static void errmsg_vset(struct errmsg *em, const char *fmt, va_list ap)
{
	vsnprintf(em->msg, sizeof(em->msg), fmt, ap);
}

int errmsg_set(struct errmsg *em, int err, const char *fmt, ...)
{
	va_list ap;

	if (!em || em->msg[0])
		return err;
	va_start(ap, fmt);
	errmsg_vset(em, fmt, ap);
	va_end(ap);
	return err;
}

int errmsg_reset(struct errmsg *em, int err, const char *fmt, ...)
{
	va_list ap;

	if (!em)
		return err;
	va_start(ap, fmt);
	errmsg_vset(em, fmt, ap);
	va_end(ap);
	return err;
}

void errmsg_prefix(struct errmsg *em, const char *fmt, ...)
{
	char prefix[1024], old[sizeof(em->msg)];
	va_list ap;

	if (!em)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (!em->msg[0]) {
		snprintf(em->msg, sizeof(em->msg), "%s", prefix);
		return;
	}
	memcpy(old, em->msg, sizeof(old));
	snprintf(em->msg, sizeof(em->msg), "%.1000s: %.3000s", prefix, old);
}
