/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_metrics_http.c - libFuzzer target for the request path of the metrics
 * endpoint: httpd_req_feed() (libhttp-parser with bpfd's bounds), metrics_route()
 * and the response head.
 *
 * The first byte picks the size of the pieces the rest is fed in (a peer's
 * reads split anywhere) and, in its top bit, whether the peer closes after it.  Besides ASan/UBSan findings it aborts when the
 * request path breaks its contract: fed in pieces or at once gives the same
 * result (for a refused request: refused both ways); a result is complete (method and path set, path a prefix-free copy
 * of the target's path) or an error with one of the statuses documented, never
 * both; no more than HTTPD_MAX_REQUEST bytes are read; the route is 200, 404
 * or 405 (with Allow) and the head of every answer formats.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "core/wire/httpd.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_metrics_http: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

static int feed(struct httpd_req *r, const uint8_t *data, size_t size, size_t piece, bool eof)
{
	size_t off = 0, n;
	int rc = 0;

	httpd_req_init(r);
	while (off < size) {
		n = size - off < piece ? size - off : piece;
		rc = httpd_req_feed(r, (const char *)data + off, n);
		off += n;
		if (rc)
			break;
	}
	if (!rc && eof)
		rc = httpd_req_eof(r);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct httpd_req a, b;
	struct httpd_resp resp = { 0 };
	const char *allow;
	char head[512];
	size_t piece;
	bool eof;
	int ra, rb, st;

	if (!size)
		return 0;
	piece = data[0] % 64 + 1;
	eof = data[0] & 0x80;		/* the peer closes after the bytes */
	data++;
	size--;
	ra = feed(&a, data, size, size ? size : 1, eof);
	rb = feed(&b, data, size, piece, eof);
	/* a request with several faults may be refused for another one of
	 * them when split (libhttp-parser reports the target at its end) */
	CHECK(ra == rb);
	CHECK(ra < 0 || (a.status == b.status && a.complete == b.complete));
	CHECK(ra < 0 || (!strcmp(a.method, b.method) && !strcmp(a.path, b.path)));
	CHECK(a.total <= HTTPD_MAX_REQUEST && b.total <= HTTPD_MAX_REQUEST);
	CHECK(strlen(a.target) == a.target_len && a.target_len < HTTPD_MAX_PATH);
	CHECK(strlen(a.path) < HTTPD_MAX_PATH);
	if (ra < 0) {
		CHECK(a.status == 400 || a.status == 413 || a.status == 414 || a.status == 505);
		st = a.status;
	} else if (ra > 0) {
		CHECK(a.complete && !a.status && a.method[0]);
		CHECK(!a.path[0] || strstr(a.target, a.path));
		st = metrics_route(&a, &allow);
		CHECK(st == 200 || st == 404 || (st == 405 && allow));
		CHECK(st != 200 || !strcmp(a.path, "/metrics"));
		resp.allow = allow;
	} else {
		CHECK(!a.complete && !a.status);
		return 0;
	}
	resp.status = st;
	resp.len = size;
	CHECK(httpd_resp_head(&resp, head, sizeof(head)) > 0);
	CHECK(!strncmp(head, "HTTP/1.1 ", 9));
	return 0;
}
