/* SPDX-License-Identifier: Apache-2.0 */
/* progress.h - the progress of image pulls: the daemon's pull_progress and
 * pull_end events (throttled), and the lines a client draws from them on a
 * terminal (bpfctl pull-bytecode, load-from-image) */
#ifndef BPFD_CORE_IMAGE_PROGRESS_H
#define BPFD_CORE_IMAGE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"
#include "core/base/event.h"
#include "core/image/pull.h"

/* At most one pull_progress event per layer in this time, besides a layer's
 * first and its complete one: a fast local pull does not flood the bus. */
#define PULL_REPORT_INTERVAL_NS	(100ull * 1000 * 1000)

/*
 * One pull's reporter (the daemon): pull_report_progress() is the pull's
 * image_progress_fn; pull_report_end() once the pull is over.  The events
 * carry the reference as the request gave it (a reference never holds
 * credentials: image_ref_parse() refuses a user:password@ form), the layer's
 * digest and its bytes, and the caller event_caller_set() gave the thread.
 * One thread uses a reporter; reporters of several threads are fine.
 */
struct pull_report {
	char image[EVENT_IMAGE_SIZE];
	uint64_t pull;			/* the pull's number; 0 until its first event */
	/* the last event: */
	bool ev_any;
	unsigned int ev_layer;		/* its layer's index */
	uint64_t ev_done;		/* its bytes */
	uint64_t ev_ns;			/* when (CLOCK_MONOTONIC) */
	/* every callback: */
	bool in_layer;
	unsigned int layer;		/* the index of the layer in progress */
	bool layer_counted;		/* ... in fetched (or cached) */
	unsigned int n_layers;
	unsigned int layers_seen, layers_cached;
	uint64_t fetched;		/* bytes of the layers downloaded */
	uint64_t total;			/* sizes of the layers seen */
};

void pull_report_init(struct pull_report *r, const char *image);
/* An image_progress_fn (arg: the struct pull_report): emits a pull_progress
 * event when pull_report_due() says so. */
void pull_report_progress(void *arg, const struct image_progress *p);
/* The pull is over (err 0: digest is what the reference points at; else em
 * says why): one pull_end event, if the pull sent pull_progress events. */
void pull_report_end(struct pull_report *r, int err, const char *digest,
		     const struct errmsg *em);
/* The throttle: is p at now_ns (monotonic) an event?  A layer's first call
 * and its complete one always are, the rest at most one per
 * PULL_REPORT_INTERVAL_NS, never one that repeats the last.  Yes updates
 * r's last event. */
bool pull_report_due(struct pull_report *r, const struct image_progress *p, uint64_t now_ns);

/*
 * A client's view of its pull: the layers' lines, redrawn in place.  Feed it
 * the events of the Events stream; it keeps those of its image (the pull with
 * the highest number: a pull of the same image queued before the client's
 * sends its events first).  Plain data, no I/O.
 */
#define PULL_VIEW_ROWS	16		/* IMAGE_MAX_LAYERS */

struct pull_view_row {
	char layer[EVENT_LAYER_SIZE];
	uint64_t done, total;
};

struct pull_view {
	char image[EVENT_IMAGE_SIZE];	/* as the daemon cuts it */
	uint64_t pull;			/* the pull shown; 0: none yet */
	bool ended;			/* its pull_end came */
	struct pull_view_row rows[PULL_VIEW_ROWS];
	size_t n;
	size_t drawn;			/* lines on the terminal */
};

void pull_view_init(struct pull_view *v, const char *image);
/* One event of the stream (the Event message's fields): true when the lines
 * to draw changed. */
bool pull_view_event(struct pull_view *v, const char *kind, const char *image,
		     const char *layer, uint64_t done, uint64_t total, uint64_t pull);
/* A pull is shown and its pull_end has not come yet. */
bool pull_view_waiting(const struct pull_view *v);
/* The text that redraws the lines: the cursor back to the first line drawn
 * before (ANSI cursor up), then one line per layer, each cleared first
 * ("sha256:0123456789ab  1.2 MiB / 3.4 MiB", "  done" when complete).
 * Returns its length (at most size - 1; a longer text is cut); marks the
 * lines drawn. */
size_t pull_view_draw(struct pull_view *v, char *buf, size_t size);
/* "512 B", "12.3 KiB", "1.2 MiB", "2.0 GiB" (1024-based, one decimal). */
void pull_size_str(uint64_t bytes, char *buf, size_t size);

#endif
