/* SPDX-License-Identifier: Apache-2.0 */
/* event.c - the event bus: a bounded ring under a mutex, an eventfd for the front */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/base/event.h"

static const char *const kind_names[__EVENT_MAX] = {
	[EVENT_LOAD] = "load",
	[EVENT_UNLOAD] = "unload",
	[EVENT_MODIFY] = "modify",
	[EVENT_CHAIN_REORDERED] = "chain_reordered",
	[EVENT_CHAIN_JOINED] = "chain_joined",
	[EVENT_CHAIN_LEFT] = "chain_left",
	[EVENT_PROGRAM_VANISHED] = "program_vanished",
	[EVENT_IFACE_GONE] = "interface_gone",
	[EVENT_IFACE_RENAMED] = "interface_renamed",
	[EVENT_IFACE_MOVED] = "interface_moved",
	[EVENT_PULL_PROGRESS] = "pull_progress",
	[EVENT_PULL_END] = "pull_end",
};

static struct {
	pthread_mutex_t lock;
	struct event *ring;
	size_t cap, head, n;	/* ring[head] is the oldest of n */
	uint64_t seq;
	uint64_t lost;
	int fd;
	bool on;
} bus = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

static __thread const char *cur_caller;

const char *event_kind_name(enum event_kind k)
{
	if ((unsigned int)k >= __EVENT_MAX || !kind_names[k])
		return "unknown";
	return kind_names[k];
}

int event_bus_init(size_t cap)
{
	int fd;

	if (!cap)
		return -EINVAL;
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&bus.lock);
	bus.ring = calloc(cap, sizeof(*bus.ring));
	if (!bus.ring) {
		pthread_mutex_unlock(&bus.lock);
		close(fd);
		return -ENOMEM;
	}
	bus.cap = cap;
	bus.head = bus.n = 0;
	bus.lost = 0;
	bus.fd = fd;
	bus.on = true;
	pthread_mutex_unlock(&bus.lock);
	return fd;
}

void event_bus_fini(void)
{
	pthread_mutex_lock(&bus.lock);
	bus.on = false;
	free(bus.ring);
	bus.ring = NULL;
	bus.cap = bus.n = bus.head = 0;
	if (bus.fd >= 0)
		close(bus.fd);
	bus.fd = -1;
	pthread_mutex_unlock(&bus.lock);
}

void event_caller_set(const char *caller)
{
	cur_caller = caller;
}

void event_emit(const struct event *e)
{
	struct timespec ts;
	struct event *slot;
	uint64_t one = 1;

	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&bus.lock);
	if (!bus.on)
		goto out;
	if (bus.n == bus.cap) {
		/* the front is far behind: the oldest goes */
		bus.head = (bus.head + 1) % bus.cap;
		bus.n--;
		bus.lost++;
	}
	slot = &bus.ring[(bus.head + bus.n) % bus.cap];
	*slot = *e;
	slot->seq = ++bus.seq;
	slot->time_ns = (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (!slot->caller[0])
		snprintf(slot->caller, sizeof(slot->caller), "%s",
			 cur_caller ? cur_caller : "kernel");
	bus.n++;
	if (write(bus.fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so it is readable anyway */
	}
out:
	pthread_mutex_unlock(&bus.lock);
}

void event_emitf(enum event_kind kind, uint32_t id, const char *attach, const char *fmt, ...)
{
	struct event e = { .kind = kind, .id = id };
	va_list ap;

	if (attach)
		snprintf(e.attach, sizeof(e.attach), "%s", attach);
	va_start(ap, fmt);
	vsnprintf(e.detail, sizeof(e.detail), fmt, ap);
	va_end(ap);
	event_emit(&e);
}

size_t event_take(struct event *ret, size_t max, uint64_t *ret_lost)
{
	uint64_t v;
	size_t i;

	pthread_mutex_lock(&bus.lock);
	for (i = 0; i < max && bus.n; i++) {
		ret[i] = bus.ring[bus.head];
		bus.head = (bus.head + 1) % bus.cap;
		bus.n--;
	}
	if (!bus.n && bus.fd >= 0 && read(bus.fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing was signalled */
	}
	*ret_lost = bus.lost;
	bus.lost = 0;
	pthread_mutex_unlock(&bus.lock);
	return i;
}
