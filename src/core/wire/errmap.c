/* SPDX-License-Identifier: Apache-2.0 */
/* errmap.c - -errno to gRPC status (style.md 4.4) */
#include <errno.h>

#include "core/wire/errmap.h"

enum grpc_status grpc_status_from_errno(int err)
{
	switch (err) {
	case 0:			return GRPC_OK;
	case -EINVAL:
	case -ENOEXEC:		/* not a BPF ELF file */
	case -EILSEQ:		/* a probe offset inside an instruction */
	case -ENAMETOOLONG:	return GRPC_INVALID_ARGUMENT;
	case -ENOENT:
	case -ESRCH:		/* no such function in the object */
	case -ENODEV:		return GRPC_NOT_FOUND;	/* no such interface */
	case -EEXIST:		return GRPC_ALREADY_EXISTS;
	case -EPERM:
	case -EACCES:		return GRPC_PERMISSION_DENIED;
	case -ENOMEM:
	case -ENOSPC:
	case -E2BIG:
	case -EFBIG:
	case -EUSERS:		return GRPC_RESOURCE_EXHAUSTED;	/* EUSERS: too many event readers */
	case -EOPNOTSUPP:	return GRPC_UNIMPLEMENTED;
	case -ETIMEDOUT:	return GRPC_DEADLINE_EXCEEDED;
	case -EBUSY:
	case -EAGAIN:
	case -EHOSTUNREACH:	/* an image registry cannot be reached */
	case -ECONNREFUSED:
	case -ENETUNREACH:	return GRPC_UNAVAILABLE;
	case -ENOKEY:		return GRPC_UNAUTHENTICATED;	/* registry credentials */
	case -ECANCELED:	return GRPC_CANCELLED;
	case -EL2HLT:		return GRPC_FAILED_PRECONDITION;	/* HOOK_EPRECONDITION */
	default:		return GRPC_INTERNAL;
	}
}
