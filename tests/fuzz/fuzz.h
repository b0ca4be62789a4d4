/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz.h - what the libFuzzer targets share: a contract check that aborts (libFuzzer
 * then saves the input as a crash) naming the file, line and condition */
#ifndef BPFD_TESTS_FUZZ_H
#define BPFD_TESTS_FUZZ_H

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

/* a fixed-size string field ends within its size */
#define TERMINATED(field)	CHECK(memchr((field), '\0', sizeof(field)) != NULL)

#endif
