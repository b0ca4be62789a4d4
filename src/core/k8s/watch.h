/* SPDX-License-Identifier: Apache-2.0 */
/* watch.h - the body of a watch response: newline-delimited JSON events cut into
 * lines however the bytes arrive (chunk boundaries mean nothing) */
#ifndef BPFD_CORE_K8S_WATCH_H
#define BPFD_CORE_K8S_WATCH_H

#include <stddef.h>

#include <cJSON.h>

#include "core/k8s/api.h"

struct errmsg;

#define K8S_WATCH_MAX_LINE	(4u << 20)	/* one event: an object of up to ~3 MiB (etcd's
						 * request limit is 1.5 MiB) */

/* Called for each complete event; obj is owned by the callee.  A non-zero return
 * (-errno) stops the stream and is returned by k8s_watch_dec_feed(). */
typedef int (*k8s_event_fn)(void *arg, enum k8s_event_type type, cJSON *obj,
			    struct errmsg *em);

struct k8s_watch_dec {
	char *buf;		/* the incomplete last line */
	size_t len, cap;
	size_t max_line;	/* 0: K8S_WATCH_MAX_LINE */
	k8s_event_fn on_event;
	void *arg;
	unsigned long events;	/* events delivered */
};

void k8s_watch_dec_init(struct k8s_watch_dec *d, k8s_event_fn fn, void *arg);
void k8s_watch_dec_fini(struct k8s_watch_dec *d);

/* Feed body bytes.  Calls on_event for every line completed by them (empty lines
 * are skipped).  Errors: -EPROTO (a line that is no event, em says why), -EFBIG
 * (a line over max_line), -ENOMEM, or what on_event returned.  After an error
 * the decoder must not be fed again. */
int k8s_watch_dec_feed(struct k8s_watch_dec *d, const void *data, size_t len,
		       struct errmsg *em);

/* Bytes of an incomplete event held back (a stream that ends with some was cut
 * in the middle of an event: that event is lost and the watch must resume from
 * the last resourceVersion delivered, which is what a watcher does anyway). */
static inline size_t k8s_watch_dec_pending(const struct k8s_watch_dec *d)
{
	return d->len;
}

#endif
