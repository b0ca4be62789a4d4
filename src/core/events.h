/* SPDX-License-Identifier: Apache-2.0 */
/* events.h - the readers of the Events method: the front takes the event bus
 * (core/base/event.h) and queues each event on every reader's stream; a reader
 * that lets more than its queue wait is ended and dropped, so no reader can
 * hold up the daemon or the others.  Front thread only. */
#ifndef BPFD_CORE_EVENTS_H
#define BPFD_CORE_EVENTS_H

#include <stddef.h>

#include "core/base/errmsg.h"
#include "core/wire/grpc.h"

struct events_hub;

/* queue: events one reader may have waiting; max_readers: Events calls at
 * once (0: the stream is off).  0 or -ENOMEM. */
int events_hub_new(size_t queue, size_t max_readers, struct events_hub **ret);
/* Ends every reader's call (UNAVAILABLE) and frees the hub (NULL is fine). */
void events_hub_free(struct events_hub *h);
/* A new reader: *ret is a reference to its stream (for the reply).  0, or
 * -EUSERS with as many readers as allowed, -ENOMEM; em says why. */
int events_hub_subscribe(struct events_hub *h, size_t max_msg, const char *peer,
			 struct grpc_ostream **ret, struct errmsg *em);
/* Take what waits on the bus and queue it on every reader (the server's
 * source callback: arg is the hub). */
void events_hub_run(void *arg);
/* Readers attached now. */
size_t events_hub_readers(const struct events_hub *h);

#endif
