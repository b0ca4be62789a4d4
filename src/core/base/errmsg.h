/* SPDX-License-Identifier: Apache-2.0 */
/* errmsg.h - a sentence for the person who caused an error: what is wrong, what to do */
#ifndef BPFD_CORE_ERRMSG_H
#define BPFD_CORE_ERRMSG_H

struct errmsg {
	char msg[4096];
};

/* Format the message into em (which may be NULL) unless one is already set, so the
 * innermost, most specific message wins.  Returns err (0 or -errno) for `return errmsg_set(...)`. */
int errmsg_set(struct errmsg *em, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, but replaces a message already set. */
int errmsg_reset(struct errmsg *em, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the current message with "PREFIX: " (or set it to PREFIX if empty). */
void errmsg_prefix(struct errmsg *em, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline int errmsg_isset(const struct errmsg *em)
{
	return em && em->msg[0];
}

#endif
