/* SPDX-License-Identifier: Apache-2.0 */
/* progress.c - a pull's progress on a terminal: the daemon's Events stream,
 * read in a thread beside the call, drawn as one line per layer */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applets/bpfctl/bpfctl.h"
#include "core/image/progress.h"

/* How long the call waits for the stream to open, and after the answer for
 * the pull's last events (they travel apart from the answer). */
#define WATCH_OPEN_MS	2000
#define WATCH_END_MS	2000

struct watch {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct client *cl;
	struct pull_view view;
	bool open;		/* the stream is open in the daemon, or over */
	bool over;		/* the stream ended (refused, off, gone) */
	bool stop;		/* draw no more */
	bpfd_v1_Event ev;
};

static void draw(struct watch *w)
{
	char buf[PULL_VIEW_ROWS * 96 + 16];
	size_t n = pull_view_draw(&w->view, buf, sizeof(buf));

	if (fwrite(buf, 1, n, stdout) != n || fflush(stdout))
		w->stop = true;
}

static int on_event(void *arg, void *msg)
{
	struct watch *w = arg;
	const bpfd_v1_Event *e = msg;
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	if (w->stop)
		rc = 1;
	else if (pull_view_event(&w->view, e->kind, e->image, e->layer, e->bytes_done,
				 e->bytes_total, e->pull))
		draw(w);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static void on_open(void *arg)
{
	struct watch *w = arg;

	pthread_mutex_lock(&w->mu);
	w->open = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

static void *watch_thread(void *arg)
{
	bpfd_v1_EventsRequest req = bpfd_v1_EventsRequest_init_zero;
	struct watch *w = arg;
	struct client_status st;

	/* an error (Events refused by [[policy]], the stream off, a daemon that
	 * is too old) only means no progress is shown */
	client_on_open(w->cl, on_open, w);
	(void)client_stream(w->cl, "/bpfd.v1.Bpfd/Events", bpfd_v1_EventsRequest_fields, &req,
			    bpfd_v1_Event_fields, &w->ev, on_event, w, &st);
	pthread_mutex_lock(&w->mu);
	w->open = w->over = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Wait on w->cond until ms from now: false when the time is up. */
static bool wait_ms(struct watch *w, struct timespec *deadline, long ms)
{
	if (!deadline->tv_sec) {
		clock_gettime(CLOCK_REALTIME, deadline);
		deadline->tv_sec += ms / 1000;
		deadline->tv_nsec += ms % 1000 * 1000000;
		if (deadline->tv_nsec >= 1000000000) {
			deadline->tv_sec++;
			deadline->tv_nsec -= 1000000000;
		}
	}
	return pthread_cond_timedwait(&w->cond, &w->mu, deadline) != ETIMEDOUT;
}

/* Open the Events stream before the call, so that the pull's first events
 * reach it: 0, or -errno (no progress then). */
static int watch_start(const struct bpfctl_common *c, const char *url, struct watch *w)
{
	struct client_opts o = {
		.endpoint = c->endpoint, .ca = c->ca, .cert = c->cert, .key = c->key,
	};
	struct errmsg em = { "" };
	struct timespec deadline = { 0 };
	int err;

	memset(w, 0, sizeof(*w));
	pull_view_init(&w->view, url);
	err = client_open(&o, &w->cl, &em);
	if (err)
		return err;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
	err = -pthread_create(&w->thread, NULL, watch_thread, w);
	if (err) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->mu);
		client_close(w->cl);
		return err;
	}
	pthread_mutex_lock(&w->mu);
	while (!w->open && wait_ms(w, &deadline, WATCH_OPEN_MS))
		;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

/* The call is over (ok: it succeeded): the pull's last events are drawn,
 * then the stream ends. */
static void watch_stop(struct watch *w, bool ok)
{
	struct timespec deadline = { 0 };

	pthread_mutex_lock(&w->mu);
	while (ok && !w->over && !w->stop && pull_view_waiting(&w->view) &&
	       wait_ms(w, &deadline, WATCH_END_MS))
		;
	w->stop = true;
	pthread_mutex_unlock(&w->mu);
	client_shutdown(w->cl);
	pthread_join(w->thread, NULL);
	client_close(w->cl);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
}

int bpfctl_call_pull(const struct bpfctl_common *c, const char *url, const char *method,
		     const pb_msgdesc_t *req_fields, const void *req,
		     const pb_msgdesc_t *resp_fields, void *resp)
{
	struct errmsg em = { "" };
	struct client_status st;
	struct watch *w = NULL;
	bool hint = false;
	int err;

	if (!bpfctl_json(c) && isatty(STDOUT_FILENO)) {
		w = malloc(sizeof(*w));
		if (w && watch_start(c, url, w)) {
			free(w);
			w = NULL;
		}
	} else if (!bpfctl_json(c) && isatty(STDERR_FILENO)) {
		/* stdout is not a terminal: say on stderr what is going on until the
		 * answer, then leave only the answer */
		fprintf(stderr, "Pulling %s ...", url);
		hint = true;
	}
	err = bpfctl_call_quiet(c, method, req_fields, req, resp_fields, resp, &st, &em);
	if (w) {
		watch_stop(w, !err && st.code == GRPC_OK);
		free(w);
	}
	if (hint)
		fprintf(stderr, "\r\033[K");
	return bpfctl_call_result(c, err, &em, &st);
}
