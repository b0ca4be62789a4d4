/* SPDX-License-Identifier: Apache-2.0 */
/* event.h - the daemon's event bus: what happened to programs and hooks (load,
 * unload, modify, chain changes, programs that vanished, interfaces that went),
 * queued by any thread and taken by the front, which streams them to the
 * readers of the Events method (core/events.c). */
#ifndef BPFD_CORE_BASE_EVENT_H
#define BPFD_CORE_BASE_EVENT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum event_kind {
	EVENT_NONE = 0,
	EVENT_LOAD,
	EVENT_UNLOAD,
	EVENT_MODIFY,
	EVENT_CHAIN_REORDERED,	/* bpfd's members of a chain run in another order */
	EVENT_CHAIN_JOINED,	/* a program that is not bpfd's joined a chain of bpfd's */
	EVENT_CHAIN_LEFT,	/* a program that is not bpfd's left it */
	EVENT_PROGRAM_VANISHED,	/* a program bpfd attached is no longer on its hook */
	EVENT_IFACE_GONE,	/* an interface carrying bpfd's programs was deleted */
	EVENT_IFACE_RENAMED,
	EVENT_IFACE_MOVED,	/* ... moved to another network namespace */
	EVENT_PULL_PROGRESS,	/* a layer of an image pull: bytes of total (pull) */
	EVENT_PULL_END,		/* the pull that sent EVENT_PULL_PROGRESS is over */
	__EVENT_MAX,
};

#define EVENT_ATTACH_SIZE	288
#define EVENT_CALLER_SIZE	128
#define EVENT_DETAIL_SIZE	256
#define EVENT_IMAGE_SIZE	512	/* a longer reference is cut (Event.image) */
#define EVENT_LAYER_SIZE	72	/* "sha256:" + 64 hex */

struct event {
	uint64_t seq;				/* set by event_emit() */
	uint64_t time_ns;			/* CLOCK_REALTIME, set by event_emit() */
	enum event_kind kind;
	uint32_t id;				/* program id, 0 none */
	/* what the kind is about: the bus holds thousands of events, so the
	 * pull kinds' strings share the room of the program kinds' */
	union {
		char attach[EVENT_ATTACH_SIZE];	/* "xdp v0", "tc v0 ingress", ... */
		struct {			/* EVENT_PULL_* */
			char image[EVENT_IMAGE_SIZE];	/* as the request gave it */
			char layer[EVENT_LAYER_SIZE];	/* PROGRESS: its digest */
		};
	};
	uint64_t bytes_done;			/* EVENT_PULL_*: see bpfd.proto Event */
	uint64_t bytes_total;
	uint64_t pull;				/* the pull's number */
	char caller[EVENT_CALLER_SIZE];		/* who asked, or "kernel" */
	char detail[EVENT_DETAIL_SIZE];
};

/* "load", "unload", "program_vanished", ...; "unknown" outside the table. */
const char *event_kind_name(enum event_kind k);

/*
 * Start the bus: up to cap events wait for the front between two of its
 * drains (the oldest are dropped beyond that, and counted).  Returns an
 * eventfd that turns readable when events wait, or -errno.  Until it is
 * called (unit tests, bpfctl) event_emit() does nothing.
 */
int event_bus_init(size_t cap);
void event_bus_fini(void);

/* Queue an event; any thread.  caller "" is filled from event_caller_set()
 * of this thread, else "kernel".  seq and time_ns are set here. */
void event_emit(const struct event *e);
/* The same, built from parts; attach may be NULL (a program kind). */
void event_emitf(enum event_kind kind, uint32_t id, const char *attach,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Who the current job of this thread runs for (a client's peer name), NULL to
 * clear: the events the job emits carry it.  Thread-local. */
void event_caller_set(const char *caller);

/* The front: take up to max waiting events in order (clears the eventfd when
 * none is left); *ret_lost gets how many were dropped for a full bus since
 * the last take.  Returns the number taken. */
size_t event_take(struct event *ret, size_t max, uint64_t *ret_lost);

#endif
