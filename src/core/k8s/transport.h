/* SPDX-License-Identifier: Apache-2.0 */
/* transport.h - the k8s_transport of the agent: HTTPS (wire/http1.c, mbedtls) to the
 * API server of a k8s_config, with its bearer token or client certificate */
#ifndef BPFD_CORE_K8S_TRANSPORT_H
#define BPFD_CORE_K8S_TRANSPORT_H

#include "core/k8s/client.h"
#include "core/k8s/kconfig.h"

struct errmsg;

#define K8S_CONNECT_TIMEOUT_MS	10000
#define K8S_READ_TIMEOUT_MS	30000	/* a request other than a watch */
#define K8S_MAX_BODY		(64u << 20)	/* a list of many objects */

/*
 * A transport for one thread (each watching thread makes its own).  cfg is
 * copied where needed but its token file is re-read per request, so it must
 * outlive the transport.  The CA of cfg is the only trust (no system bundle).
 * 0 with *ret (free with (*ret)->free(*ret)), or -errno with em naming the CA
 * or certificate file that is wrong.
 */
int k8s_https_new(const struct k8s_config *cfg, struct k8s_transport **ret, struct errmsg *em);

#endif
