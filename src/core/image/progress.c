// SPDX-License-Identifier: Apache-2.0
/* progress.c - image pull progress: throttled events in the daemon, a client's lines */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/image/progress.h"
#include "core/image/manifest.h"
#include "core/image/ref.h"

_Static_assert(IMAGE_DIGEST_LEN < EVENT_LAYER_SIZE, "a digest fits Event.layer");
_Static_assert(PULL_VIEW_ROWS >= IMAGE_MAX_LAYERS, "a row per layer");

static uint64_t pull_counter;

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

void pull_report_init(struct pull_report *r, const char *image)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->image, sizeof(r->image), "%s", image);
}

bool pull_report_due(struct pull_report *r, const struct image_progress *p, uint64_t now_ns)
{
	bool first = !r->ev_any || p->layer != r->ev_layer;

	if (!first) {
		if (p->done == r->ev_done)
			return false;	/* nothing new (a complete layer again) */
		if (p->done != p->total && now_ns - r->ev_ns < PULL_REPORT_INTERVAL_NS)
			return false;
	}
	r->ev_any = true;
	r->ev_layer = p->layer;
	r->ev_done = p->done;
	r->ev_ns = now_ns;
	return true;
}

/* The pull's sums, from every call. */
static void account(struct pull_report *r, const struct image_progress *p)
{
	if (!r->in_layer || p->layer != r->layer) {
		r->in_layer = true;
		r->layer = p->layer;
		r->layer_counted = p->cached;
		r->layers_seen++;
		r->layers_cached += p->cached;
		r->total += p->total;
	}
	if (!r->layer_counted && p->done == p->total) {
		r->fetched += p->total;
		r->layer_counted = true;
	}
	r->n_layers = p->n_layers;
}

static void emit(struct pull_report *r, enum event_kind kind, const char *layer,
		 uint64_t done, uint64_t total, const char *detail)
{
	struct event e = { .kind = kind, .bytes_done = done, .bytes_total = total,
			   .pull = r->pull };

	snprintf(e.image, sizeof(e.image), "%s", r->image);
	snprintf(e.layer, sizeof(e.layer), "%s", layer);
	snprintf(e.detail, sizeof(e.detail), "%s", detail);
	event_emit(&e);
}

void pull_report_progress(void *arg, const struct image_progress *p)
{
	struct pull_report *r = arg;
	char detail[EVENT_DETAIL_SIZE];

	account(r, p);
	if (!pull_report_due(r, p, mono_ns()))
		return;
	if (!r->pull)
		r->pull = __atomic_add_fetch(&pull_counter, 1, __ATOMIC_RELAXED);
	snprintf(detail, sizeof(detail), "layer %u of %u%s", p->layer + 1, p->n_layers,
		 p->cached ? ", in the store already" : p->done == p->total ? ", downloaded" : "");
	emit(r, EVENT_PULL_PROGRESS, p->digest, p->done, p->total, detail);
}

void pull_report_end(struct pull_report *r, int err, const char *digest,
		     const struct errmsg *em)
{
	char detail[EVENT_DETAIL_SIZE], size[32];

	if (!r->pull)
		return;
	pull_size_str(r->fetched, size, sizeof(size));
	if (err)
		snprintf(detail, sizeof(detail), "failed: %.240s",
			 em && em->msg[0] ? em->msg : strerror(-err));
	else
		snprintf(detail, sizeof(detail), "pulled %s: %u of %u layers downloaded (%s)",
			 digest, r->layers_seen - r->layers_cached, r->n_layers, size);
	emit(r, EVENT_PULL_END, "", r->fetched, r->total, detail);
	r->pull = 0;
}

/* ---- a client's lines ---- */

void pull_view_init(struct pull_view *v, const char *image)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->image, sizeof(v->image), "%s", image);
}

/* Another pull (a newer one): its lines go below those drawn, which stay. */
static void view_reset(struct pull_view *v, uint64_t pull)
{
	v->pull = pull;
	v->ended = false;
	v->n = 0;
	v->drawn = 0;
}

bool pull_view_event(struct pull_view *v, const char *kind, const char *image,
		     const char *layer, uint64_t done, uint64_t total, uint64_t pull)
{
	bool progress = !strcmp(kind, "pull_progress");
	struct pull_view_row *row = NULL;
	size_t i;

	if ((!progress && strcmp(kind, "pull_end")) || strcmp(image, v->image) ||
	    !pull || pull < v->pull)
		return false;
	if (pull > v->pull)
		view_reset(v, pull);
	if (!progress) {
		v->ended = true;
		return false;
	}
	for (i = 0; i < v->n && !row; i++)
		if (!strcmp(v->rows[i].layer, layer))
			row = &v->rows[i];
	if (!row) {
		if (v->n == PULL_VIEW_ROWS || !layer[0])
			return false;
		row = &v->rows[v->n++];
		snprintf(row->layer, sizeof(row->layer), "%s", layer);
	}
	row->done = done;
	row->total = total;
	return true;
}

bool pull_view_waiting(const struct pull_view *v)
{
	return v->pull && !v->ended;
}

void pull_size_str(uint64_t b, char *buf, size_t size)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double x = b;
	size_t u = 0;

	if (b < 1024) {
		snprintf(buf, size, "%llu B", (unsigned long long)b);
		return;
	}
	x /= 1024;
	/* 1023.96 KiB would print as "1024.0 KiB" */
	while (x >= 1024 - 0.05 && u < sizeof(unit) / sizeof(unit[0]) - 1) {
		x /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", x, unit[u]);
}

static size_t put(char *buf, size_t size, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t put(char *buf, size_t size, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (off >= size - 1)
		return off;
	va_start(ap, fmt);
	n = vsnprintf(buf + off, size - off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return off;
	return off + (size_t)n < size ? off + n : size - 1;
}

size_t pull_view_draw(struct pull_view *v, char *buf, size_t size)
{
	char done[32], total[32];
	size_t off = 0, i;
	int short_len;

	if (!size)
		return 0;
	buf[0] = '\0';
	if (v->drawn)
		off = put(buf, size, off, "\033[%zuA", v->drawn);
	for (i = 0; i < v->n; i++) {
		const struct pull_view_row *r = &v->rows[i];

		/* sha256: and 12 digits, as docker shows a layer */
		short_len = strncmp(r->layer, "sha256:", 7) ? 19 : 7 + 12;
		pull_size_str(r->done, done, sizeof(done));
		pull_size_str(r->total, total, sizeof(total));
		off = put(buf, size, off, "\r\033[K%.*s  %s / %s%s\n", short_len, r->layer, done,
			  total, r->done == r->total ? "  done" : "");
	}
	v->drawn = v->n;
	return off;
}
