/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_decode.h - one libFuzzer target per request message: decode it with the
 * server's own decode function (rpc_decode), then encode it back */
#ifndef BPFD_TESTS_FUZZ_DECODE_H
#define BPFD_TESTS_FUZZ_DECODE_H

#include <stdint.h>
#include <stdlib.h>

#include <pb_encode.h>

#include "core/rpc.h"

#define FUZZ_DECODE(type)						\
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)		\
{									\
	struct errmsg em = { { 0 } };					\
	type *msg = calloc(1, sizeof(*msg));				\
	size_t n;							\
									\
	if (!msg)							\
		return 0;						\
	if (!rpc_decode(type##_fields, data, size, msg, &em)) {		\
		/* whatever decodes must encode again */		\
		if (!pb_get_encoded_size(&n, type##_fields, msg))	\
			abort();					\
	} else if (!em.msg[0]) {					\
		abort();	/* an error must say why */		\
	}								\
	free(msg);							\
	return 0;							\
}

#endif
