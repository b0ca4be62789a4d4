/* SPDX-License-Identifier: Apache-2.0 */
/* events.c - Events readers: the bus's events onto each reader's bounded stream */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/event.h"
#include "core/base/log.h"
#include "core/events.h"
#include "core/rpc.h"

struct reader {
	struct grpc_ostream *os;
	char peer[128];
	uint64_t sent;
};

struct events_hub {
	size_t queue;
	size_t max;
	struct reader *r;
	size_t n;
};

/* Events taken from the bus per round: the rest waits for the next round. */
#define HUB_BATCH	64

int events_hub_new(size_t queue, size_t max_readers, struct events_hub **ret)
{
	struct events_hub *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->queue = queue;
	h->max = max_readers;
	if (max_readers) {
		h->r = calloc(max_readers, sizeof(*h->r));
		if (!h->r) {
			free(h);
			return -ENOMEM;
		}
	}
	*ret = h;
	return 0;
}

static void reader_drop(struct events_hub *h, size_t i)
{
	grpc_ostream_put(h->r[i].os);
	h->r[i] = h->r[--h->n];
}

/* Forget readers whose call is over (the peer went away). */
static void prune(struct events_hub *h)
{
	size_t i = 0;

	while (i < h->n) {
		if (h->r[i].os->closed) {
			log_info("Event reader %s went away", h->r[i].peer);
			reader_drop(h, i);
		} else {
			i++;
		}
	}
}

void events_hub_free(struct events_hub *h)
{
	if (!h)
		return;
	while (h->n) {
		grpc_ostream_end(h->r[0].os, false, GRPC_UNAVAILABLE, "bpfd is shutting down");
		reader_drop(h, 0);
	}
	free(h->r);
	free(h);
}

size_t events_hub_readers(const struct events_hub *h)
{
	return h ? h->n : 0;
}

int events_hub_subscribe(struct events_hub *h, size_t max_msg, const char *peer,
			 struct grpc_ostream **ret, struct errmsg *em)
{
	struct grpc_ostream *os;

	if (!h || !h->max)
		return errmsg_set(em, -EOPNOTSUPP,
				  "The event stream is off in this daemon ([monitor] event_readers = 0)");
	prune(h);
	if (h->n == h->max)
		return errmsg_set(em, -EUSERS,
				  "%zu event readers are attached already, the limit ([monitor] event_readers): close one first",
				  h->max);
	os = grpc_ostream_new(h->queue, max_msg);
	if (!os)
		return errmsg_set(em, -ENOMEM, "Out of memory");
	h->r[h->n] = (struct reader){ .os = os };
	snprintf(h->r[h->n].peer, sizeof(h->r[h->n].peer), "%s", peer ? peer : "?");
	h->n++;
	log_info("Event reader %s attached (%zu now)", peer ? peer : "?", h->n);
	*ret = grpc_ostream_get(os);
	return 0;
}

/* Queue one encoded event on reader i: false when the reader was dropped. */
static bool reader_push(struct events_hub *h, size_t i, const uint8_t *msg, size_t len)
{
	struct reader *rd = &h->r[i];
	size_t lost;
	int err;

	err = grpc_ostream_push(rd->os, msg, len);
	if (!err) {
		rd->sent++;
		return true;
	}
	if (err == -ENOBUFS) {
		/* the ones it never gets, this one included (a message
		 * partly sent is finished first) */
		lost = grpc_ostream_queued(rd->os) - (rd->os->off ? 1 : 0) + 1;
		grpc_ostream_end(rd->os, true, GRPC_RESOURCE_EXHAUSTED,
				 "event reader too slow: %zu events dropped (more than [monitor] event_queue = %zu waited for it); read the stream as it comes and call Events again",
				 lost, h->queue);
		log_warn("Dropping event reader %s: %zu events waited for it (event_queue %zu), %llu were delivered",
			 rd->peer, lost, h->queue, (unsigned long long)rd->sent);
	} else if (err != -EPIPE) {
		grpc_ostream_end(rd->os, true, GRPC_INTERNAL, "Failed to queue an event: %s",
				 strerror(-err));
	}
	reader_drop(h, i);
	return false;
}

void events_hub_run(void *arg)
{
	struct events_hub *h = arg;
	struct event ev[HUB_BATCH];
	uint8_t buf[RPC_EVENT_MAX];
	uint64_t lost;
	size_t n, k, i, len;

	do {
		n = event_take(ev, HUB_BATCH, &lost);
		if (lost)
			log_warn("%llu events were dropped before the event readers saw them (the daemon was busy)",
				 (unsigned long long)lost);
		if (!h)
			continue;
		prune(h);
		for (k = 0; k < n; k++) {
			if (rpc_event_encode(&ev[k], buf, sizeof(buf), &len)) {
				log_warn("Failed to encode event %llu", (unsigned long long)ev[k].seq);
				continue;
			}
			for (i = 0; i < h->n;)
				if (reader_push(h, i, buf, len))
					i++;
		}
	} while (n == HUB_BATCH);
}
