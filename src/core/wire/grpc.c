/* SPDX-License-Identifier: Apache-2.0 */
/* grpc.c - gRPC framing, status names, grpc-message encoding, grpc-timeout */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/wire/grpc.h"
#include "core/base/opts.h"

static const char *const status_names[] = {
	[GRPC_OK] = "OK",
	[GRPC_CANCELLED] = "CANCELLED",
	[GRPC_UNKNOWN] = "UNKNOWN",
	[GRPC_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
	[GRPC_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
	[GRPC_NOT_FOUND] = "NOT_FOUND",
	[GRPC_ALREADY_EXISTS] = "ALREADY_EXISTS",
	[GRPC_PERMISSION_DENIED] = "PERMISSION_DENIED",
	[GRPC_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
	[GRPC_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
	[GRPC_ABORTED] = "ABORTED",
	[GRPC_OUT_OF_RANGE] = "OUT_OF_RANGE",
	[GRPC_UNIMPLEMENTED] = "UNIMPLEMENTED",
	[GRPC_INTERNAL] = "INTERNAL",
	[GRPC_UNAVAILABLE] = "UNAVAILABLE",
	[GRPC_DATA_LOSS] = "DATA_LOSS",
	[GRPC_UNAUTHENTICATED] = "UNAUTHENTICATED",
};

const char *grpc_status_name(int code)
{
	if (code < 0 || code > GRPC_UNAUTHENTICATED)
		return "UNKNOWN";
	return status_names[code];
}

void grpc_hdr_put(uint8_t hdr[GRPC_HDR_LEN], uint32_t len)
{
	hdr[0] = 0;
	hdr[1] = len >> 24;
	hdr[2] = len >> 16;
	hdr[3] = len >> 8;
	hdr[4] = len;
}

int grpc_hdr_parse(const uint8_t hdr[GRPC_HDR_LEN], bool *ret_compressed,
		   uint32_t *ret_len)
{
	if (hdr[0] > 1)
		return -EINVAL;
	*ret_compressed = hdr[0];
	*ret_len = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 |
		   (uint32_t)hdr[3] << 8 | hdr[4];
	return 0;
}

size_t grpc_percent_encode(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0, w, written = 0;
	bool plain, full = !size;

	for (; *p; p++) {
		plain = *p >= 0x20 && *p <= 0x7e && *p != '%';
		w = plain ? 1 : 3;
		/* never write a partial escape: stop at the first one that does not fit */
		if (!full && n + w < size) {
			if (plain) {
				out[n] = *p;
			} else {
				out[n] = '%';
				out[n + 1] = hex[*p >> 4];
				out[n + 2] = hex[*p & 15];
			}
			written = n + w;
		} else {
			full = true;
		}
		n += w;
	}
	if (size)
		out[written] = '\0';
	return n;
}

size_t grpc_percent_decode(const char *in, size_t len, char *out, size_t size)
{
	size_t i, n = 0;
	int c, hi, lo;

	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == '%' && i + 2 < len &&
		    (hi = parse_hex_digit(in[i + 1])) >= 0 && (lo = parse_hex_digit(in[i + 2])) >= 0) {
			c = hi << 4 | lo;
			i += 2;
		}
		if (n + 1 < size)
			out[n] = c;
		n++;
	}
	if (size)
		out[n < size ? n : size - 1] = '\0';
	return n;
}

int grpc_timeout_parse(const char *s, size_t len, uint64_t *ret_ms)
{
	uint64_t v = 0, ms;
	size_t i;

	/* TimeoutValue is 1 to 8 ASCII digits, then one unit letter. */
	if (len < 2 || len > 9)
		return -EINVAL;
	for (i = 0; i < len - 1; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	switch (s[len - 1]) {
	case 'H': ms = v * 3600000; break;
	case 'M': ms = v * 60000; break;
	case 'S': ms = v * 1000; break;
	case 'm': ms = v; break;
	case 'u': ms = (v + 999) / 1000; break;
	case 'n': ms = (v + 999999) / 1000000; break;
	default: return -EINVAL;
	}
	*ret_ms = ms;
	return 0;
}

int grpc_timeout_format(uint64_t ms, char *buf, size_t size)
{
	if (ms <= 99999999)
		return snprintf(buf, size, "%llum", (unsigned long long)ms);
	if (ms / 1000 <= 99999999)
		return snprintf(buf, size, "%lluS", (unsigned long long)(ms / 1000));
	if (ms / 60000 <= 99999999)
		return snprintf(buf, size, "%lluM", (unsigned long long)(ms / 60000));
	return snprintf(buf, size, "99999999H");
}

/* Room for extra more bytes, doubling the capacity but never past limit. */
static int buf_grow(struct grpc_buf *b, size_t extra, size_t limit)
{
	size_t cap = b->cap ? b->cap : 256;
	uint8_t *p;

	if (extra > SIZE_MAX / 2 - b->len)
		return -E2BIG;
	if (b->len + extra <= b->cap)
		return 0;
	while (cap < b->len + extra)
		cap *= 2;
	if (cap > limit)
		cap = limit;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int grpc_buf_reserve(struct grpc_buf *b, size_t extra)
{
	return buf_grow(b, extra, SIZE_MAX);
}

int grpc_buf_reserve_exact(struct grpc_buf *b, size_t extra)
{
	return buf_grow(b, extra, b->len + extra > b->cap ? b->len + extra : b->cap);
}

int grpc_buf_append(struct grpc_buf *b, const void *data, size_t len)
{
	int err;

	if (!len)
		return 0;
	err = grpc_buf_reserve(b, len);
	if (err)
		return err;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void grpc_buf_fini(struct grpc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void grpc_reader_init(struct grpc_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void grpc_reader_fini(struct grpc_reader *r)
{
	grpc_buf_fini(&r->buf);
}

int grpc_reader_feed(struct grpc_reader *r, const uint8_t *data, size_t len)
{
	size_t n;
	int err;

	while (len) {
		if (r->done)
			return -EPROTO;
		if (r->hdr_have < GRPC_HDR_LEN) {
			n = GRPC_HDR_LEN - r->hdr_have;
			if (n > len)
				n = len;
			memcpy(r->hdr + r->hdr_have, data, n);
			r->hdr_have += n;
			data += n;
			len -= n;
			if (r->hdr_have < GRPC_HDR_LEN)
				return 0;
			err = grpc_hdr_parse(r->hdr, &r->compressed, &r->need);
			if (err)
				return err;
			if (r->need > r->max)
				return -EMSGSIZE;
			if (!r->need) {
				r->done = true;
				continue;
			}
		}
		n = r->need - r->buf.len;
		if (n > len)
			n = len;
		/* what a reader holds stays what arrived, never more than announced */
		err = buf_grow(&r->buf, n, r->need);
		if (!err)
			err = grpc_buf_append(&r->buf, data, n);
		if (err)
			return err;
		data += n;
		len -= n;
		if (r->buf.len == r->need)
			r->done = true;
	}
	return 0;
}

int grpc_reader_finish(const struct grpc_reader *r)
{
	if (r->done)
		return 0;
	return r->hdr_have ? -EPROTO : -ENODATA;
}

void grpc_reply_init(struct grpc_reply *r, size_t max_msg)
{
	memset(r, 0, sizeof(*r));
	r->max_msg = max_msg;
}

void grpc_reply_fini(struct grpc_reply *r)
{
	grpc_buf_fini(&r->body);
	grpc_ostream_put(r->stream);
	r->stream = NULL;
}

struct grpc_ostream *grpc_ostream_new(size_t cap, size_t max_msg)
{
	struct grpc_ostream *os = calloc(1, sizeof(*os));

	if (!os || !cap)
		goto fail;
	os->msg = calloc(cap, sizeof(*os->msg));
	os->len = calloc(cap, sizeof(*os->len));
	if (!os->msg || !os->len)
		goto fail;
	os->cap = cap;
	os->max_msg = max_msg;
	os->refs = 1;
	return os;
fail:
	if (os) {
		free(os->msg);
		free(os->len);
	}
	free(os);
	errno = ENOMEM;
	return NULL;
}

struct grpc_ostream *grpc_ostream_get(struct grpc_ostream *os)
{
	os->refs++;
	return os;
}

/* Drop the messages from the (head + from)-th on. */
static void ostream_drop_from(struct grpc_ostream *os, size_t from)
{
	size_t i;

	for (i = from; i < os->n; i++) {
		free(os->msg[(os->head + i) % os->cap]);
		os->msg[(os->head + i) % os->cap] = NULL;
	}
	if (from < os->n)
		os->n = from;
	if (!os->n)
		os->off = 0;
}

void grpc_ostream_put(struct grpc_ostream *os)
{
	if (!os || --os->refs > 0)
		return;
	ostream_drop_from(os, 0);
	free(os->msg);
	free(os->len);
	free(os);
}

static void ostream_wake(struct grpc_ostream *os)
{
	if (os->wake)
		os->wake(os->wake_arg);
}

int grpc_ostream_push(struct grpc_ostream *os, const uint8_t *data, size_t len)
{
	size_t slot;
	uint8_t *m;

	if (os->ended || os->closed)
		return -EPIPE;
	if (len > os->max_msg || len > UINT32_MAX)
		return -EMSGSIZE;
	if (os->n == os->cap)
		return -ENOBUFS;
	m = malloc(GRPC_HDR_LEN + len);
	if (!m)
		return -ENOMEM;
	grpc_hdr_put(m, len);
	if (len)
		memcpy(m + GRPC_HDR_LEN, data, len);
	slot = (os->head + os->n) % os->cap;
	os->msg[slot] = m;
	os->len[slot] = GRPC_HDR_LEN + len;
	os->n++;
	ostream_wake(os);
	return 0;
}

size_t grpc_ostream_queued(const struct grpc_ostream *os)
{
	return os->n;
}

size_t grpc_ostream_end(struct grpc_ostream *os, bool discard, enum grpc_status status,
			const char *fmt, ...)
{
	size_t before = os->n;
	va_list ap;

	if (os->ended)
		return 0;
	if (discard)
		ostream_drop_from(os, os->off ? 1 : 0);
	os->ended = true;
	os->status = status;
	va_start(ap, fmt);
	vsnprintf(os->message, sizeof(os->message), fmt, ap);
	va_end(ap);
	ostream_wake(os);
	return before - os->n;
}

size_t grpc_ostream_take(struct grpc_ostream *os, uint8_t *buf, size_t len)
{
	size_t done = 0, k;

	while (done < len && os->n) {
		k = os->len[os->head] - os->off;
		if (k > len - done)
			k = len - done;
		memcpy(buf + done, os->msg[os->head] + os->off, k);
		done += k;
		os->off += k;
		if (os->off < os->len[os->head])
			break;
		free(os->msg[os->head]);
		os->msg[os->head] = NULL;
		os->head = (os->head + 1) % os->cap;
		os->n--;
		os->off = 0;
	}
	return done;
}

void grpc_reply_error(struct grpc_reply *r, enum grpc_status status, const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
	r->body.len = 0;
}

int grpc_reply_begin(struct grpc_reply *r)
{
	r->body.len = 0;
	return grpc_buf_reserve(&r->body, GRPC_HDR_LEN) ?:
	       (r->body.len = GRPC_HDR_LEN, 0);
}

int grpc_reply_end(struct grpc_reply *r)
{
	size_t n = r->body.len - GRPC_HDR_LEN;

	if (n > r->max_msg || n > UINT32_MAX)
		return -EMSGSIZE;
	grpc_hdr_put(r->body.data, n);
	return 0;
}

uint64_t grpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
