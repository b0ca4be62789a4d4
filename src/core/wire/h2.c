/* SPDX-License-Identifier: Apache-2.0 */
/* h2.c - nghttp2 glue: gRPC server and client sessions over a byte transport */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "core/wire/h2.h"
#include "core/base/limits.h"
#include "core/base/log.h"
#include "core/wire/tls.h"

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), \
		   NGHTTP2_NV_FLAG_NO_COPY_NAME }

/* nghttp2 errors are translated here and never leave this file. */
static int h2_errno(int rv, const char *what)
{
	log_debug("nghttp2 %s: %s (%d)", what, nghttp2_strerror(rv), rv);
	switch (rv) {
	case NGHTTP2_ERR_NOMEM:
		return -ENOMEM;
	case NGHTTP2_ERR_INVALID_ARGUMENT:
		return -EINVAL;
	case NGHTTP2_ERR_BUFFER_ERROR:
		return -ENOBUFS;
	case NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE:
	case NGHTTP2_ERR_GOAWAY_ALREADY_SENT:
	case NGHTTP2_ERR_SESSION_CLOSING:
		return -ESHUTDOWN;
	default:
		return -EPROTO;
	}
}

/* ---- transport ---- */

ssize_t h2_io_read(struct h2_io *io, void *buf, size_t len)
{
	ssize_t n;

	if (io->tls)
		return tls_conn_read(io->tls, buf, len);
	do
		n = recv(io->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

ssize_t h2_io_write(struct h2_io *io, const void *buf, size_t len)
{
	ssize_t n;

	if (io->tls)
		return tls_conn_write(io->tls, buf, len);
	do
		n = send(io->fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

int h2_io_flush(struct h2_io *io)
{
	return io->tls ? tls_conn_flush(io->tls) : 0;
}

size_t h2_io_pending(const struct h2_io *io)
{
	return io->tls ? tls_conn_pending(io->tls) : 0;
}

/* ---- server ---- */

enum stream_state {
	ST_RECV,	/* request arriving */
	ST_REPLIED,	/* response submitted; further request bytes are dropped */
	ST_DEFERRED,	/* the handler answers later: h2_deferred_complete() */
};

struct h2_deferred {
	struct h2_server *s;
	struct h2_stream *st;	/* NULL: the stream is gone, the reply is dropped */
};

struct h2_stream {
	int32_t id;
	enum stream_state state;
	char path[H2_MAX_PATH];
	bool path_too_long;
	bool is_post;
	bool is_grpc;		/* content-type application/grpc[+proto|;...] */
	bool stop_after;	/* RST_STREAM(NO_ERROR) once the reply is out */
	bool stop_now;		/* the reply is out: send that RST_STREAM */
	size_t hdr_bytes;
	uint64_t start_ms;
	uint64_t deadline_ms;	/* 0: none */
	struct grpc_reader rd;
	struct grpc_buf body;	/* framed response message */
	size_t body_off;
	enum grpc_status status;
	/* a server-streaming response */
	struct grpc_ostream *os;
	struct h2_server *srv;
	bool os_deferred;	/* its data source said "nothing yet" */
	bool os_trailers;	/* its status went out */
	struct h2_deferred *deferred;	/* in ST_DEFERRED */
	struct h2_stream *prev, *next;
};

struct h2_server {
	nghttp2_session *ng;
	struct h2_server_opts o;
	char peer[128];
	uint64_t recv_ns;	/* when h2_server_recv() got the bytes it is parsing */
	struct h2_stream *streams;
	size_t n_streams;
	size_t pending;		/* response bytes not yet taken by nghttp2 */
	size_t buffered;	/* request bytes held in the streams' readers */
	uint64_t idle_since;	/* no stream open since then; 0 while one is */
	bool started;		/* the peer's preface and SETTINGS arrived */
	bool goaway;
	struct h2_server *bprev, *bnext;	/* the sessions sharing o.total */
	size_t n_stop;		/* streams with stop_now set */
};

/* Drop the request bytes of a stream and give them back to the budgets. */
static void stream_release(struct h2_server *s, struct h2_stream *st)
{
	s->buffered -= st->rd.buf.len;
	if (s->o.total)
		s->o.total->used -= st->rd.buf.len;
	grpc_reader_fini(&st->rd);
}

static void stream_free(struct h2_server *s, struct h2_stream *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else
		s->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	s->pending -= st->body.len - st->body_off;
	if (!--s->n_streams)
		s->idle_since = grpc_now_ms();
	if (st->stop_now)
		s->n_stop--;
	if (st->os) {
		/* the producer sees the reader is gone and lets go */
		st->os->closed = true;
		st->os->wake = NULL;
		grpc_ostream_put(st->os);
		st->os = NULL;
	}
	if (st->deferred)
		st->deferred->st = NULL;
	stream_release(s, st);
	grpc_buf_fini(&st->body);
	free(st);
}

static void log_call(struct h2_server *s, struct h2_stream *st)
{
	if (log_get_level() < LOG_DEBUG)
		return;
	log_debug("rpc %s peer=%s status=%s %llu ms", st->path[0] ? st->path : "(none)",
		  s->peer, grpc_status_name(st->status),
		  (unsigned long long)(grpc_now_ms() - st->start_ms));
}

static ssize_t body_read_cb(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
			    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct h2_server *s = arg;
	struct h2_stream *st = src->ptr;
	size_t n = st->body.len - st->body_off;
	nghttp2_nv trailer[] = { NV("grpc-status", "0") };
	int rv;

	(void)ng;
	if (n > len)
		n = len;
	memcpy(buf, st->body.data + st->body_off, n);
	st->body_off += n;
	s->pending -= n;
	if (st->body_off == st->body.len) {
		/* the status goes in trailers, after the message */
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		rv = nghttp2_submit_trailer(s->ng, id, trailer, 1);
		if (rv)
			return h2_errno(rv, "submit_trailer") == -ENOMEM ?
			       NGHTTP2_ERR_CALLBACK_FAILURE : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return n;
}

/* Clients limit the size of response headers (grpc-core: 8 KiB in all): keep a
 * long message (a verifier log) to its start and its end, which say the most. */
static void message_shorten(char *m)
{
	size_t len = strlen(m), head = H2_MAX_MESSAGE / 4, tail;
	static const char cut[] = " [...] ";

	if (len <= H2_MAX_MESSAGE * 3 / 4)
		return;
	tail = H2_MAX_MESSAGE * 3 / 4 - head - (sizeof(cut) - 1);
	memcpy(m + head, cut, sizeof(cut) - 1);
	memmove(m + head + sizeof(cut) - 1, m + len - tail, tail + 1);
}

/* Submit the reply of a stream: a response with body + trailers on success, a
 * trailers-only response otherwise.  http is the :status (200 for gRPC). */
static void reply_submit(struct h2_server *s, struct h2_stream *st, int http,
			 struct grpc_reply *r)
{
	char code[8], hstatus[8], *enc = NULL;
	nghttp2_nv hdrs[5];
	nghttp2_data_provider prd = { .source.ptr = st, .read_callback = body_read_cb };
	size_t n = 0, elen;
	int rv;

	st->state = ST_REPLIED;
	st->status = r->status;
	snprintf(hstatus, sizeof(hstatus), "%d", http);
	hdrs[n++] = (nghttp2_nv)NV(":status", hstatus);
	hdrs[n++] = (nghttp2_nv)NV("content-type", "application/grpc");
	if (r->status == GRPC_OK && r->body.len >= GRPC_HDR_LEN) {
		hdrs[n++] = (nghttp2_nv)NV("grpc-accept-encoding", "identity");
		st->body = r->body;
		memset(&r->body, 0, sizeof(r->body));
		s->pending += st->body.len;
		rv = nghttp2_submit_response(s->ng, st->id, hdrs, n, &prd);
	} else {
		if (r->status == GRPC_OK)	/* a handler that produced no message */
			r->status = st->status = GRPC_INTERNAL;
		snprintf(code, sizeof(code), "%d", r->status);
		hdrs[n++] = (nghttp2_nv)NV("grpc-status", code);
		if (r->message[0]) {
			message_shorten(r->message);
			elen = grpc_percent_encode(r->message, NULL, 0);
			if (elen > H2_MAX_MESSAGE)
				elen = H2_MAX_MESSAGE;
			enc = malloc(elen + 1);
			if (enc) {
				grpc_percent_encode(r->message, enc, elen + 1);
				hdrs[n++] = (nghttp2_nv)NV("grpc-message", enc);
			}
		}
		rv = nghttp2_submit_response(s->ng, st->id, hdrs, n, NULL);
	}
	free(enc);
	if (rv)
		(void)h2_errno(rv, "submit_response");
	log_call(s, st);
}

/* The status of a streaming response, as trailers (END_STREAM). */
static int stream_trailers(struct h2_server *s, struct h2_stream *st)
{
	struct grpc_ostream *os = st->os;
	char code[8], *enc = NULL;
	nghttp2_nv t[2];
	size_t n = 0, elen;
	int rv;

	st->os_trailers = true;
	st->status = os->status;
	snprintf(code, sizeof(code), "%d", os->status);
	t[n++] = (nghttp2_nv)NV("grpc-status", code);
	if (os->message[0]) {
		elen = grpc_percent_encode(os->message, NULL, 0);
		enc = malloc(elen + 1);
		if (enc) {
			grpc_percent_encode(os->message, enc, elen + 1);
			t[n++] = (nghttp2_nv)NV("grpc-message", enc);
		}
	}
	rv = nghttp2_submit_trailer(s->ng, st->id, t, n);
	free(enc);
	if (rv)
		return h2_errno(rv, "submit_trailer");
	log_call(s, st);
	return 0;
}

static ssize_t stream_read_cb(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
			      uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct h2_server *s = arg;
	struct h2_stream *st = src->ptr;
	size_t n;

	(void)ng, (void)id;
	if (!st->os || st->os_trailers)
		return NGHTTP2_ERR_DEFERRED;
	n = grpc_ostream_take(st->os, buf, len);
	if (n)
		return n;
	if (!st->os->ended) {
		st->os_deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
	if (stream_trailers(s, st))
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

/* The producer queued a message or ended the stream. */
static void stream_wake(void *arg)
{
	struct h2_stream *st = arg;
	struct h2_server *s = st->srv;
	struct grpc_ostream *os = st->os;
	int32_t win;

	if (!os || st->os_trailers)
		return;
	win = nghttp2_session_get_stream_remote_window_size(s->ng, st->id);
	if (nghttp2_session_get_remote_window_size(s->ng) < win)
		win = nghttp2_session_get_remote_window_size(s->ng);
	/* Ended with nothing left to send, while the data source waits (for us,
	 * or for a window the peer does not open): the status needs no window,
	 * so a reader that reads nothing still gets it. */
	if (os->ended && !os->n && (st->os_deferred || win <= 0)) {
		(void)stream_trailers(s, st);
		return;
	}
	if (st->os_deferred) {
		st->os_deferred = false;
		(void)nghttp2_session_resume_data(s->ng, st->id);
	}
}

/* A server-streaming reply: the headers now, then what the producer queues. */
static void stream_submit(struct h2_server *s, struct h2_stream *st, struct grpc_reply *r)
{
	nghttp2_nv hdrs[] = {
		NV(":status", "200"), NV("content-type", "application/grpc"),
		NV("grpc-accept-encoding", "identity"),
	};
	nghttp2_data_provider prd = { .source.ptr = st, .read_callback = stream_read_cb };
	int rv;

	st->state = ST_REPLIED;
	st->os = r->stream;
	r->stream = NULL;
	st->srv = s;
	st->os->wake = stream_wake;
	st->os->wake_arg = st;
	rv = nghttp2_submit_response(s->ng, st->id, hdrs, 3, &prd);
	if (rv)
		(void)h2_errno(rv, "submit_response");
	if (s->goaway)
		grpc_ostream_end(st->os, false, GRPC_UNAVAILABLE, "bpfd is shutting down");
}

static void reply_error(struct h2_server *s, struct h2_stream *st, int http,
			enum grpc_status status, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void reply_error(struct h2_server *s, struct h2_stream *st, int http,
			enum grpc_status status, const char *fmt, ...)
{
	struct grpc_reply r;
	va_list ap;

	grpc_reply_init(&r, s->o.max_msg);
	r.status = status;
	va_start(ap, fmt);
	vsnprintf(r.message, sizeof(r.message), fmt, ap);
	va_end(ap);
	reply_submit(s, st, http, &r);
	grpc_reply_fini(&r);
}

/* The request is incomplete but answered: ask the client to stop sending
 * (RFC 9113 8.1), after the reply went out: nghttp2 drops a queued reply when
 * RST_STREAM is submitted before it is sent. */
static void stream_stop(struct h2_server *s, struct h2_stream *st)
{
	(void)s;
	st->stop_after = true;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
	struct h2_server *s = arg;
	struct h2_stream *st;

	if (f->hd.type != NGHTTP2_HEADERS || !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	/* Not from here: nghttp2_session_mem_send() runs this callback before it
	 * hands out the frame's bytes, and a RST_STREAM submitted now replaces them. */
	if (st && st->stop_after && !st->stop_now) {
		st->stop_now = true;
		s->n_stop++;
	}
	return 0;
}

static void send_stops(struct h2_server *s)
{
	struct h2_stream *st;

	for (st = s->streams; st && s->n_stop; st = st->next) {
		if (!st->stop_now)
			continue;
		st->stop_now = false;
		s->n_stop--;
		if (!nghttp2_session_get_stream_remote_close(s->ng, st->id))
			(void)nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id,
							NGHTTP2_NO_ERROR);
	}
	s->n_stop = 0;
}

static void dispatch(struct h2_server *s, struct h2_stream *st)
{
	struct grpc_call call = {
		.path = st->path, .peer = s->peer, .caller = s->o.caller,
		.deadline_ms = st->deadline_ms,
		.recv_ns = s->recv_ns,
	};
	struct grpc_reply r;
	int err;

	if (st->state != ST_RECV)
		return;
	if (st->deadline_ms && grpc_now_ms() >= st->deadline_ms)
		return reply_error(s, st, 200, GRPC_DEADLINE_EXCEEDED,
				   "Deadline exceeded before the request was complete");
	err = grpc_reader_finish(&st->rd);
	if (err == -ENODATA)
		return reply_error(s, st, 200, GRPC_INTERNAL,
				   "The request carries no message: a unary call sends exactly one");
	if (err)
		return reply_error(s, st, 200, GRPC_INTERNAL,
				   "The request message was cut short: the stream ended after %zu of %u bytes",
				   st->rd.buf.len, st->rd.need);
	if (st->rd.compressed)
		return reply_error(s, st, 200, GRPC_UNIMPLEMENTED,
				   "Compressed messages are not supported: send with grpc-encoding identity");
	call.msg = st->rd.buf.data;
	call.len = st->rd.buf.len;
	grpc_reply_init(&r, s->o.max_msg);
	r.session = s;
	s->o.handler(s->o.arg, &call, &r);
	stream_release(s, st);
	if (r.deferred) {
		st->state = ST_DEFERRED;
		st->deferred = r.deferred;
		r.deferred->s = s;
		r.deferred->st = st;
	} else if (r.stream && r.status == GRPC_OK) {
		stream_submit(s, st, &r);
	} else {
		reply_submit(s, st, 200, &r);
	}
	grpc_reply_fini(&r);
}

struct h2_deferred *h2_reply_defer(struct grpc_reply *reply)
{
	if (!reply->session || reply->deferred)
		return NULL;
	reply->deferred = calloc(1, sizeof(*reply->deferred));
	return reply->deferred;
}

bool h2_deferred_waited(const struct h2_deferred *d)
{
	return d && d->st;
}

void h2_deferred_complete(struct h2_deferred *d, struct grpc_reply *reply)
{
	if (!d)
		return;
	if (d->st) {
		d->st->deferred = NULL;
		reply_submit(d->s, d->st, 200, reply);
	}
	free(d);
}

/* Headers are complete: check what can be checked before the body. */
static void headers_done(struct h2_server *s, struct h2_stream *st)
{
	if (st->state != ST_RECV)
		return;
	if (!st->is_post) {
		reply_error(s, st, 405, GRPC_UNIMPLEMENTED,
			    "Only POST is served here: this is a gRPC endpoint (bpfd.v1.Bpfd)");
		stream_stop(s, st);
	} else if (!st->is_grpc) {
		reply_error(s, st, 415, GRPC_INTERNAL,
			    "content-type must be application/grpc: this is a gRPC endpoint (bpfd.v1.Bpfd)");
		stream_stop(s, st);
	} else if (st->path_too_long || !st->path[0]) {
		reply_error(s, st, 200, GRPC_UNIMPLEMENTED, "Unknown method: the path is %s",
			    st->path_too_long ? "too long" : "missing");
		stream_stop(s, st);
	}
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
	struct h2_server *s = arg;
	struct h2_stream *st;

	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;	/* resets this stream only */
	st->id = f->hd.stream_id;
	st->start_ms = grpc_now_ms();
	grpc_reader_init(&st->rd, s->o.max_msg);
	st->next = s->streams;
	if (st->next)
		st->next->prev = st;
	s->streams = st;
	s->n_streams++;
	s->idle_since = 0;
	nghttp2_session_set_stream_user_data(ng, st->id, st);
	return 0;
}

static bool ctype_is_grpc(const uint8_t *v, size_t len)
{
	static const char ct[] = "application/grpc";
	size_t n = sizeof(ct) - 1;

	if (len < n || strncasecmp((const char *)v, ct, n))
		return false;
	return len == n || v[n] == '+' || v[n] == ';';
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *arg)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	uint64_t ms;

	(void)flags, (void)arg;
	if (!st || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	st->hdr_bytes += namelen + valuelen + 32;
	if (st->hdr_bytes > H2_MAX_HEADER_LIST)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;	/* trailers from the client carry nothing we use */
	if (namelen == 5 && !memcmp(name, ":path", 5)) {
		if (valuelen >= sizeof(st->path)) {
			st->path_too_long = true;
		} else {
			memcpy(st->path, value, valuelen);
			st->path[valuelen] = '\0';
		}
	} else if (namelen == 7 && !memcmp(name, ":method", 7)) {
		st->is_post = valuelen == 4 && !memcmp(value, "POST", 4);
	} else if (namelen == 12 && !memcmp(name, "content-type", 12)) {
		st->is_grpc = ctype_is_grpc(value, valuelen);
	} else if (namelen == 12 && !memcmp(name, "grpc-timeout", 12)) {
		if (!grpc_timeout_parse((const char *)value, valuelen, &ms))
			st->deadline_ms = st->start_ms + ms;
	}
	return 0;
}

/* The largest request of the session that holds the most of budget t. */
static struct h2_stream *budget_victim(struct h2_budget *t, struct h2_server **ret_s)
{
	struct h2_server *s, *big = NULL;
	struct h2_stream *st, *vst = NULL;

	for (s = t->sessions; s; s = s->bnext)
		if (s->buffered && (!big || s->buffered > big->buffered))
			big = s;
	if (!big)
		return NULL;
	for (st = big->streams; st; st = st->next)
		if (st->state == ST_RECV && (!vst || st->rd.buf.len > vst->rd.buf.len))
			vst = st;
	*ret_s = big;
	return vst;
}

/* Refuse the request on st for holding too much: its bytes go back at once. */
static void refuse_buffered(struct h2_server *s, struct h2_stream *st, const char *why)
{
	struct h2_budget *t = s->o.total;

	if (t) {
		if (grpc_now_ms() - t->last_warn >= 1000) {
			log_warn("Refusing a request of %s: %s", s->peer, why);
			t->last_warn = grpc_now_ms();
		} else {
			log_debug("Refusing a request of %s: %s", s->peer, why);
		}
	}
	reply_error(s, st, 200, GRPC_RESOURCE_EXHAUSTED, "%s", why);
	stream_release(s, st);
	stream_stop(s, st);
}

/* Would len more request bytes on stream st go over a budget (len bounds what
 * its reader keeps of them)?  Over the connection's, st is refused; over the
 * daemon's, the largest requests of the connections holding the most are, until
 * the bytes fit: st only when it is the largest of the largest. */
static bool over_budget(struct h2_server *s, struct h2_stream *st, size_t len)
{
	struct h2_budget *t = s->o.total;
	struct h2_stream *vst;
	struct h2_server *vs;
	char why[256];

	if (s->o.max_buffered && s->buffered + len > s->o.max_buffered) {
		snprintf(why, sizeof(why),
			 "This connection holds %zu bytes of incomplete requests, the limit is %zu (max_buffered_per_connection): send fewer large requests at once",
			 s->buffered, s->o.max_buffered);
		refuse_buffered(s, st, why);
		return true;
	}
	while (t && t->max && t->used + len > t->max) {
		vst = budget_victim(t, &vs);
		snprintf(why, sizeof(why),
			 "The daemon holds %zu bytes of incomplete requests (max_buffered_total %zu) and this connection the most of them (%zu): its largest request was dropped; send large requests one at a time",
			 t->used, t->max, vst ? vs->buffered : s->buffered);
		if (!vst || vst == st) {
			refuse_buffered(s, st, why);
			return true;
		}
		refuse_buffered(vs, vst, why);
	}
	return false;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id,
			 const uint8_t *data, size_t len, void *arg)
{
	struct h2_server *s = arg;
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
	size_t before;
	int err;

	(void)flags;
	if (!st || st->state != ST_RECV || over_budget(s, st, len))
		return 0;
	before = st->rd.buf.len;
	err = grpc_reader_feed(&st->rd, data, len);
	s->buffered += st->rd.buf.len - before;
	if (s->o.total)
		s->o.total->used += st->rd.buf.len - before;
	if (!err)
		return 0;
	if (err == -EMSGSIZE)
		reply_error(s, st, 200, GRPC_RESOURCE_EXHAUSTED,
			    "Request message of %u bytes is larger than the limit of %zu bytes (max_msg)",
			    st->rd.need, st->rd.max);
	else if (err == -EPROTO)
		reply_error(s, st, 200, GRPC_UNIMPLEMENTED,
			    "More than one request message: the methods of bpfd.v1.Bpfd are unary");
	else if (err == -ENOMEM)
		reply_error(s, st, 200, GRPC_RESOURCE_EXHAUSTED,
			    "Out of memory while receiving the request");
	else
		reply_error(s, st, 200, GRPC_INTERNAL,
			    "Invalid message prefix: the compressed-flag byte must be 0 or 1");
	stream_release(s, st);
	stream_stop(s, st);
	return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
	struct h2_server *s = arg;
	struct h2_stream *st;

	if (f->hd.type == NGHTTP2_SETTINGS)
		s->started = true;	/* nghttp2 checked the preface before it */
	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		return 0;
	st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (!st)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
		headers_done(s, st);
	if (f->hd.flags & NGHTTP2_FLAG_END_STREAM)
		dispatch(s, st);
	return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *arg)
{
	struct h2_server *s = arg;
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);

	(void)code;
	if (st)
		stream_free(s, st);
	return 0;
}

static nghttp2_session_callbacks *server_callbacks(void)
{
	static nghttp2_session_callbacks *cbs;

	if (cbs)
		return cbs;
	if (nghttp2_session_callbacks_new(&cbs))
		return NULL;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
	return cbs;
}

int h2_server_new(const struct h2_server_opts *o, struct h2_server **ret)
{
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
		  o->max_streams ? o->max_streams : H2_MAX_CONCURRENT_STREAMS },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, H2_MAX_HEADER_LIST },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_INITIAL_WINDOW },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
	};
	nghttp2_session_callbacks *cbs = server_callbacks();
	nghttp2_option *opt = NULL;
	struct h2_server *s;
	int rv, err = -ENOMEM;

	s = calloc(1, sizeof(*s));
	if (!s || !cbs || nghttp2_option_new(&opt))
		goto out;
	s->o = *o;
	snprintf(s->peer, sizeof(s->peer), "%s", o->peer ? o->peer : "?");
	s->o.peer = s->peer;
	s->idle_since = grpc_now_ms();
	if (s->o.total) {
		s->bnext = s->o.total->sessions;
		if (s->bnext)
			s->bnext->bprev = s;
		s->o.total->sessions = s;
	}
	/* Streams beyond MAX_CONCURRENT_STREAMS are refused by nghttp2 itself:
	 * RST_STREAM(REFUSED_STREAM) before the peer acknowledged our SETTINGS,
	 * GOAWAY(PROTOCOL_ERROR) after. */
	nghttp2_option_set_max_outbound_ack(opt, 1000);
	nghttp2_option_set_max_settings(opt, 32);
	rv = nghttp2_session_server_new2(&s->ng, cbs, s, opt);
	if (rv) {
		err = h2_errno(rv, "session_server_new");
		goto out;
	}
	rv = nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
	if (!rv)
		rv = nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0,
							   H2_CONN_WINDOW);
	if (rv) {
		err = h2_errno(rv, "submit_settings");
		goto out;
	}
	*ret = s;
	s = NULL;
	err = 0;
out:
	nghttp2_option_del(opt);
	h2_server_free(s);
	return err;
}

void h2_server_free(struct h2_server *s)
{
	if (!s)
		return;
	nghttp2_session_del(s->ng);	/* closes streams: on_stream_close frees them */
	while (s->streams)
		stream_free(s, s->streams);
	if (s->bprev)
		s->bprev->bnext = s->bnext;
	else if (s->o.total && s->o.total->sessions == s)
		s->o.total->sessions = s->bnext;
	if (s->bnext)
		s->bnext->bprev = s->bprev;
	free(s);
}

int h2_server_recv(struct h2_server *s, const uint8_t *data, size_t len)
{
	struct timespec ts;
	ssize_t rv;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->recv_ns = (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	rv = nghttp2_session_mem_recv(s->ng, data, len);

	if (rv < 0)
		return h2_errno(rv, "mem_recv") == -ENOMEM ? -ENOMEM : -EPROTO;
	return 0;
}

ssize_t h2_server_send(struct h2_server *s, const uint8_t **ret_data)
{
	ssize_t rv;

	if (s->n_stop)
		send_stops(s);
	rv = nghttp2_session_mem_send(s->ng, ret_data);

	if (rv < 0)
		return h2_errno(rv, "mem_send") == -ENOMEM ? -ENOMEM : -EPROTO;
	return rv;
}

bool h2_server_alive(const struct h2_server *s)
{
	return nghttp2_session_want_read(s->ng) || nghttp2_session_want_write(s->ng);
}

size_t h2_server_pending(const struct h2_server *s)
{
	return s->pending;
}

bool h2_server_deferred(const struct h2_server *s)
{
	const struct h2_stream *st;

	for (st = s->streams; st; st = st->next)
		if (st->state == ST_DEFERRED)
			return true;
	return false;
}

size_t h2_server_streams(const struct h2_server *s)
{
	return s->n_streams;
}

size_t h2_server_buffered(const struct h2_server *s)
{
	return s->buffered;
}

bool h2_server_started(const struct h2_server *s)
{
	return s->started;
}

uint64_t h2_server_idle_since(const struct h2_server *s)
{
	return s->idle_since;
}

uint64_t h2_server_expire(struct h2_server *s, uint64_t now_ms)
{
	struct h2_stream *st;
	uint64_t next = 0, arrive;

	for (st = s->streams; st; st = st->next) {
		if (st->state == ST_DEFERRED) {
			if (!st->deadline_ms || st->deadline_ms > now_ms) {
				if (st->deadline_ms && (!next || st->deadline_ms < next))
					next = st->deadline_ms;
				continue;
			}
			/* the deferred answer, when it comes, is dropped */
			st->deferred->st = NULL;
			st->deferred = NULL;
			reply_error(s, st, 200, GRPC_DEADLINE_EXCEEDED,
				    "Deadline exceeded: no answer within the call's grpc-timeout");
			continue;
		}
		if (st->state != ST_RECV)
			continue;
		arrive = s->o.msg_timeout_ms ? st->start_ms + s->o.msg_timeout_ms : 0;
		if (st->deadline_ms && st->deadline_ms <= now_ms) {
			reply_error(s, st, 200, GRPC_DEADLINE_EXCEEDED,
				    "Deadline exceeded: the request was not complete within its grpc-timeout");
		} else if (arrive && arrive <= now_ms) {
			reply_error(s, st, 200, GRPC_DEADLINE_EXCEEDED,
				    "The request did not arrive whole within %llu s (message_timeout); %zu bytes came",
				    (unsigned long long)(s->o.msg_timeout_ms / 1000), st->rd.buf.len);
		} else {
			if (st->deadline_ms && (!next || st->deadline_ms < next))
				next = st->deadline_ms;
			if (arrive && (!next || arrive < next))
				next = arrive;
			continue;
		}
		stream_release(s, st);
		stream_stop(s, st);
	}
	return next;
}

void h2_server_shutdown(struct h2_server *s)
{
	struct h2_stream *st;

	if (s->goaway)
		return;
	s->goaway = true;
	/* a streaming call never ends by itself */
	for (st = s->streams; st; st = st->next)
		if (st->os)
			grpc_ostream_end(st->os, false, GRPC_UNAVAILABLE,
					 "bpfd is shutting down");
	(void)nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE,
				    nghttp2_session_get_last_proc_stream_id(s->ng),
				    NGHTTP2_NO_ERROR, NULL, 0);
}

ssize_t h2_server_refusal(const char *why, uint8_t *buf, size_t size)
{
	nghttp2_session *ng = NULL;
	const uint8_t *p;
	ssize_t n, len = 0;
	int rv;

	rv = nghttp2_session_server_new(&ng, server_callbacks(), NULL);
	if (!rv)
		rv = nghttp2_submit_settings(ng, NGHTTP2_FLAG_NONE, NULL, 0);
	if (!rv)
		rv = nghttp2_submit_goaway(ng, NGHTTP2_FLAG_NONE, 0, NGHTTP2_ENHANCE_YOUR_CALM,
					   (const uint8_t *)why, strlen(why));
	while (!rv && (n = nghttp2_session_mem_send(ng, &p)) > 0) {
		if ((size_t)(len + n) > size) {
			rv = NGHTTP2_ERR_BUFFER_ERROR;
			break;
		}
		memcpy(buf + len, p, n);
		len += n;
	}
	nghttp2_session_del(ng);
	return rv ? h2_errno(rv, "refusal") : len;
}

/* ---- client ---- */

struct h2_client {
	nghttp2_session *ng;
	int32_t stream;		/* current call, 0 if none */
	struct grpc_buf req;	/* framed request */
	size_t req_off;
	struct h2_client_result res;
	int (*on_msg)(void *arg, const uint8_t *msg, size_t len);	/* a stream */
	void *on_msg_arg;
};

void h2_client_on_message(struct h2_client *c,
			  int (*fn)(void *arg, const uint8_t *msg, size_t len), void *arg)
{
	c->on_msg = fn;
	c->on_msg_arg = arg;
}

/* A stream's bytes: each complete message goes to on_msg, one at a time. */
static int cl_stream_feed(struct h2_client *c, const uint8_t *data, size_t len)
{
	struct grpc_reader *r = &c->res.body;
	size_t want, k;
	int err;

	while (len) {
		want = r->hdr_have < GRPC_HDR_LEN ? GRPC_HDR_LEN - r->hdr_have :
						   r->need - r->buf.len;
		k = want < len ? want : len;
		err = grpc_reader_feed(r, data, k);
		if (err)
			return err;
		data += k;
		len -= k;
		if (!r->done)
			continue;
		err = c->on_msg(c->on_msg_arg, r->buf.data, r->buf.len);
		grpc_reader_fini(r);
		grpc_reader_init(r, r->max);
		if (err)
			return err;
	}
	return 0;
}

static ssize_t req_read_cb(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
			   uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct h2_client *c = arg;
	size_t n = c->req.len - c->req_off;

	(void)ng, (void)id, (void)src;
	if (n > len)
		n = len;
	memcpy(buf, c->req.data + c->req_off, n);
	c->req_off += n;
	if (c->req_off == c->req.len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return n;
}

static int cl_on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
			size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
			void *arg)
{
	struct h2_client *c = arg;
	char tmp[16];

	(void)ng, (void)flags;
	if (f->hd.stream_id != c->stream)
		return 0;
	if (namelen == 7 && !memcmp(name, ":status", 7) && valuelen < sizeof(tmp)) {
		memcpy(tmp, value, valuelen);
		tmp[valuelen] = '\0';
		c->res.http_status = atoi(tmp);
	} else if (namelen == 11 && !memcmp(name, "grpc-status", 11) && valuelen < sizeof(tmp)) {
		memcpy(tmp, value, valuelen);
		tmp[valuelen] = '\0';
		c->res.grpc_status = atoi(tmp);
	} else if (namelen == 12 && !memcmp(name, "grpc-message", 12)) {
		grpc_percent_decode((const char *)value, valuelen, c->res.message,
				    sizeof(c->res.message));
	}
	return 0;
}

static int cl_on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id,
			    const uint8_t *data, size_t len, void *arg)
{
	struct h2_client *c = arg;
	int err;

	(void)ng, (void)flags;
	if (id != c->stream || c->res.body_err)
		return 0;
	if (c->on_msg)
		err = cl_stream_feed(c, data, len);
	else
		err = grpc_reader_feed(&c->res.body, data, len);
	if (err) {
		c->res.body_err = err;
		(void)nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
	}
	return 0;
}

static int cl_on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *arg)
{
	struct h2_client *c = arg;

	(void)ng;
	if (id != c->stream)
		return 0;
	c->res.closed = true;
	c->res.rst_code = code;
	c->stream = 0;
	return 0;
}

static int cl_on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
	struct h2_client *c = arg;

	(void)ng;
	/* The reason a server gives for a GOAWAY that ends the session. */
	if (f->hd.type == NGHTTP2_GOAWAY && f->goaway.error_code)
		snprintf(c->res.goaway, sizeof(c->res.goaway), "%.*s",
			 (int)f->goaway.opaque_data_len, (const char *)f->goaway.opaque_data);
	/* A GOAWAY that excludes our stream ends the call (it never ran). */
	if (f->hd.type == NGHTTP2_GOAWAY && c->stream &&
	    c->stream > f->goaway.last_stream_id) {
		c->res.rst_code = f->goaway.error_code ? f->goaway.error_code : NGHTTP2_REFUSED_STREAM;
		c->res.closed = true;
	}
	return 0;
}

int h2_client_new(struct h2_client **ret)
{
	static nghttp2_session_callbacks *cbs;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20 },
	};
	struct h2_client *c;
	int rv;

	if (!cbs) {
		if (nghttp2_session_callbacks_new(&cbs))
			return -ENOMEM;
		nghttp2_session_callbacks_set_on_header_callback(cbs, cl_on_header);
		nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cl_on_data_chunk);
		nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cl_on_stream_close);
		nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cl_on_frame_recv);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rv = nghttp2_session_client_new(&c->ng, cbs, c);
	if (!rv)
		rv = nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv, 2);
	if (!rv)
		rv = nghttp2_session_set_local_window_size(c->ng, NGHTTP2_FLAG_NONE, 0, 4u << 20);
	if (rv) {
		h2_client_free(c);
		return h2_errno(rv, "session_client_new");
	}
	*ret = c;
	return 0;
}

void h2_client_free(struct h2_client *c)
{
	if (!c)
		return;
	nghttp2_session_del(c->ng);
	grpc_buf_fini(&c->req);
	grpc_reader_fini(&c->res.body);
	free(c);
}

int h2_client_call(struct h2_client *c, const char *scheme, const char *authority,
		   const char *path, const uint8_t *msg, size_t len,
		   uint64_t timeout_ms, size_t max_recv)
{
	char tmo[24] = "";
	nghttp2_nv hdrs[] = {
		NV(":method", "POST"),
		NV(":scheme", scheme),
		NV(":authority", authority),
		NV(":path", path),
		NV("content-type", "application/grpc"),
		NV("te", "trailers"),
		NV("user-agent", "bpfd-client/" BPFD_VERSION),
		NV("grpc-timeout", tmo),
	};
	nghttp2_data_provider prd = { .read_callback = req_read_cb };
	int32_t id;
	int err;

	if (c->stream)
		return -EBUSY;
	if (len > UINT32_MAX)
		return -EMSGSIZE;
	grpc_reader_fini(&c->res.body);
	memset(&c->res, 0, sizeof(c->res));
	c->res.grpc_status = -1;
	grpc_reader_init(&c->res.body, max_recv);
	c->req.len = 0;
	c->req_off = 0;
	err = grpc_buf_reserve(&c->req, GRPC_HDR_LEN + len);
	if (err)
		return err;
	grpc_hdr_put(c->req.data, len);
	if (len)
		memcpy(c->req.data + GRPC_HDR_LEN, msg, len);
	c->req.len = GRPC_HDR_LEN + len;
	grpc_timeout_format(timeout_ms, tmo, sizeof(tmo));
	hdrs[7].valuelen = strlen(tmo);
	id = nghttp2_submit_request(c->ng, NULL, hdrs, timeout_ms ? 8 : 7, &prd, c);
	if (id < 0)
		return h2_errno(id, "submit_request");
	c->stream = id;
	return 0;
}

int h2_client_recv(struct h2_client *c, const uint8_t *data, size_t len)
{
	ssize_t rv = nghttp2_session_mem_recv(c->ng, data, len);

	if (rv < 0)
		return h2_errno(rv, "mem_recv") == -ENOMEM ? -ENOMEM : -EPROTO;
	return 0;
}

ssize_t h2_client_send(struct h2_client *c, const uint8_t **ret_data)
{
	ssize_t rv = nghttp2_session_mem_send(c->ng, ret_data);

	if (rv < 0)
		return h2_errno(rv, "mem_send") == -ENOMEM ? -ENOMEM : -EPROTO;
	return rv;
}

struct h2_client_result *h2_client_result(struct h2_client *c)
{
	return &c->res;
}

bool h2_client_alive(const struct h2_client *c)
{
	return nghttp2_session_want_read(c->ng) || nghttp2_session_want_write(c->ng);
}
