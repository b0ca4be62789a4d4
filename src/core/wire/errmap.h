/* SPDX-License-Identifier: Apache-2.0 */
/* errmap.h - the one table from -errno to a gRPC status */
#ifndef BPFD_CORE_ERRMAP_H
#define BPFD_CORE_ERRMAP_H

#include "core/wire/grpc.h"

/* err is 0 or a negative errno; anything not in the table is GRPC_INTERNAL. */
enum grpc_status grpc_status_from_errno(int err);

#endif
