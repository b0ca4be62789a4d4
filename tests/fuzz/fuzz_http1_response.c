/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_http1_response.c - libFuzzer target for the HTTP/1.1 response path of the
 * registry client: status line, headers, Content-Length and chunked bodies
 * (http1_parse_response), WWW-Authenticate challenges (http1_parse_challenge) and
 * Location URLs (http1_parse_url).
 *
 * Input: one flag byte (bit 0 HEAD, bit 1 stream the body to a callback, bit 2 a
 * 64-byte body cap), then the bytes of the response.  Besides ASan/UBSan findings it
 * aborts when the contract breaks: errors are negative with a message; a parsed
 * response has a status of 200-599, never more body than the cap, a streamed 2xx body
 * is not kept, a kept one is NUL-terminated; challenges have a scheme.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/errmsg.h"
#include "core/wire/http1.h"
#include "fuzz.h"

static int count_body(void *arg, const void *data, size_t len, struct errmsg *em)
{
	uint64_t *n = arg;

	(void)data;
	(void)em;
	*n += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errmsg *em = calloc(1, sizeof(*em));
	struct http1_challenge *ch = malloc(sizeof(*ch));
	struct http1_response r;
	struct http1_url *u = malloc(sizeof(*u));
	uint64_t streamed = 0, cap;
	bool head, stream;
	char *text;
	int err;

	CHECK(em && ch && u);
	if (!size)
		goto out;
	head = data[0] & 1;
	stream = data[0] & 2;
	cap = data[0] & 4 ? 64 : 0;
	err = http1_parse_response((const char *)data + 1, size - 1, head, cap,
				   stream ? count_body : NULL, &streamed, &r, em);
	if (err) {
		CHECK(err < 0 && em->msg[0]);
	} else {
		CHECK(r.status >= 200 && r.status <= 599);
		CHECK(r.body_len <= r.body_total || (!stream && r.body_len == r.body_total));
		if (cap && r.status >= 200 && r.status < 300)
			CHECK(r.body_total <= cap);
		if (stream && r.status >= 200 && r.status < 300) {
			CHECK(!r.body && streamed == r.body_total);
		}
		if (r.body)
			CHECK(r.body[r.body_len] == '\0');
		if (head)
			CHECK(r.body_total == 0);
		if (r.www_authenticate) {
			memset(em, 0, sizeof(*em));
			if (!http1_parse_challenge(r.www_authenticate, ch, em))
				CHECK(ch->scheme[0]);
			else
				CHECK(em->msg[0]);
		}
		if (r.location) {
			memset(em, 0, sizeof(*em));
			if (!http1_parse_url(r.location, u, em))
				CHECK(u->host[0] && u->port && u->path[0] == '/');
		}
	}
	http1_response_free(&r);
	/* the whole input as a header value too */
	text = malloc(size);
	CHECK(text);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	memset(em, 0, sizeof(*em));
	if (!http1_parse_challenge(text, ch, em))
		CHECK(ch->scheme[0] && strlen(ch->realm) < sizeof(ch->realm));
	http1_no_proxy_match(text, "registry.example.com", 443);
	free(text);
out:
	free(u);
	free(ch);
	free(em);
	return 0;
}
