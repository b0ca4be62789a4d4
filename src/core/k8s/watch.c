/* SPDX-License-Identifier: Apache-2.0 */
/* watch.c - newline-delimited watch events from a byte stream */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/errmsg.h"
#include "core/k8s/watch.h"

void k8s_watch_dec_init(struct k8s_watch_dec *d, k8s_event_fn fn, void *arg)
{
	memset(d, 0, sizeof(*d));
	d->on_event = fn;
	d->arg = arg;
}

void k8s_watch_dec_fini(struct k8s_watch_dec *d)
{
	free(d->buf);
	d->buf = NULL;
	d->len = d->cap = 0;
}

static int line_done(struct k8s_watch_dec *d, const char *line, size_t len,
		     struct errmsg *em)
{
	enum k8s_event_type type;
	cJSON *obj = NULL;
	int err;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return 0;
	err = k8s_event_parse(line, len, &type, &obj, em);
	if (err)
		return err;
	d->events++;
	return d->on_event(d->arg, type, obj, em);
}

static int keep(struct k8s_watch_dec *d, const char *p, size_t n, size_t max,
		struct errmsg *em)
{
	size_t cap;
	char *nb;

	if (d->len + n > max)
		return errmsg_set(em, -EFBIG, "a watch event is over %zu bytes", max);
	if (d->len + n > d->cap) {
		cap = d->cap ? d->cap : 4096;
		while (cap < d->len + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		nb = realloc(d->buf, cap);
		if (!nb)
			return errmsg_set(em, -ENOMEM, "out of memory for a watch event");
		d->buf = nb;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
	return 0;
}

int k8s_watch_dec_feed(struct k8s_watch_dec *d, const void *data, size_t len,
		       struct errmsg *em)
{
	size_t max = d->max_line ? d->max_line : K8S_WATCH_MAX_LINE;
	const char *p = data, *end = p + len, *nl;
	size_t n;
	int err;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return keep(d, p, (size_t)(end - p), max, em);
		if (d->len) {
			/* the end of a line begun in an earlier piece */
			err = keep(d, p, (size_t)(nl - p), max, em);
			if (err)
				return err;
			n = d->len;
			d->len = 0;
			err = line_done(d, d->buf, n, em);
		} else {
			if ((size_t)(nl - p) > max)
				return errmsg_set(em, -EFBIG, "a watch event is over %zu bytes", max);
			err = line_done(d, p, (size_t)(nl - p), em);
		}
		if (err)
			return err;
		p = nl + 1;
	}
	return 0;
}
