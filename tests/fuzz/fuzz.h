/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz.h - what the libFuzzer targets share: a contract check that aborts (libFuzzer
 * then saves the input as a crash) naming the file, line and condition */
#ifndef BPFD_TESTS_FUZZ_H
#define BPFD_TESTS_FUZZ_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: broken: %s\n",		\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* A failure (err < 0) carries a message of printable characters (newlines and tabs
 * allowed), unless it is -ENOMEM; msg is the errmsg's text. */
static inline void fuzz_check_msg(int err, const char *msg)
{
	const char *c;

	if (!err)
		return;
	CHECK(msg[0] || err == -ENOMEM);
	for (c = msg; *c; c++)
		CHECK((unsigned char)*c >= ' ' || *c == '\n' || *c == '\t');
}

/* a fixed-size string field ends within its size */
#define TERMINATED(field)	CHECK(memchr((field), '\0', sizeof(field)) != NULL)

#endif
