/* SPDX-License-Identifier: Apache-2.0 */
/* test_pull_progress.c - image pull progress: the throttle, the daemon's
 * pull_progress/pull_end events and their wire form, a client's lines */
#include <string.h>

#include <pb_decode.h>

#include "harness.h"
#include "core/base/event.h"
#include "core/image/progress.h"
#include "core/rpc.h"

#define MS	(1000ull * 1000)
#define L1	"sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define L2	"sha256:2222222222222222222222222222222222222222222222222222222222222222"

static struct image_progress prog(unsigned int layer, const char *digest, uint64_t done,
				  uint64_t total)
{
	return (struct image_progress){ .digest = digest, .layer = layer, .n_layers = 2,
					.done = done, .total = total };
}

static void throttle(void)
{
	struct pull_report r;
	struct image_progress p;

	pull_report_init(&r, "example.com/a:1");
	p = prog(0, L1, 0, 1000);
	ASSERT_TRUE(pull_report_due(&r, &p, 1000 * MS), "a layer's first call");
	p.done = 100;
	ASSERT_FALSE(pull_report_due(&r, &p, 1050 * MS), "50 ms later: no");
	p.done = 200;
	ASSERT_FALSE(pull_report_due(&r, &p, 1099 * MS), "99 ms later: no");
	p.done = 300;
	ASSERT_TRUE(pull_report_due(&r, &p, 1100 * MS), "100 ms later: yes");
	ASSERT_FALSE(pull_report_due(&r, &p, 1300 * MS), "the same bytes again: no");
	p.done = 1000;
	ASSERT_TRUE(pull_report_due(&r, &p, 1101 * MS), "complete: at once");
	ASSERT_FALSE(pull_report_due(&r, &p, 1500 * MS), "complete again: no");
	p = prog(1, L2, 0, 0);
	ASSERT_TRUE(pull_report_due(&r, &p, 1102 * MS), "the next layer: at once");
	ASSERT_FALSE(pull_report_due(&r, &p, 1500 * MS), "an empty layer is complete at once");
}

/* The events a reporter emitted, taken from the bus. */
static size_t take(struct event *ev, size_t max)
{
	uint64_t lost;

	return event_take(ev, max, &lost);
}

static void report_events(void)
{
	struct event ev[64];
	struct pull_report r, quiet;
	struct image_progress p;
	struct errmsg em = { { 0 } };
	uint64_t pull, done;
	size_t n, i;

	if (!ASSERT_TRUE(event_bus_init(64) >= 0, "bus"))
		return;
	event_caller_set("uid=1000(alice)");
	pull_report_init(&r, "example.com/a:1");
	/* a layer of 4 MiB arriving in 64 KiB steps at once: its first and its
	 * complete call are events, the calls in between come too fast */
	for (done = 0; done <= 4 << 20; done += 64 << 10) {
		p = prog(0, L1, done, 4 << 20);
		pull_report_progress(&r, &p);
	}
	pull_report_progress(&r, &p);	/* complete again after the commit */
	p = prog(1, L2, 5, 5);
	p.cached = true;
	pull_report_progress(&r, &p);
	pull_report_end(&r, 0, "sha256:abc", NULL);
	n = take(ev, 64);
	if (!ASSERT_EQ(n, 4, "first, complete, the stored layer, the end"))
		return;
	pull = ev[0].pull;
	ASSERT_TRUE(pull > 0, "a pull number");
	for (i = 0; i < n; i++) {
		ASSERT_EQ(ev[i].pull, pull, "one pull number");
		ASSERT_STREQ(ev[i].image, "example.com/a:1", "the image");
		ASSERT_STREQ(ev[i].caller, "uid=1000(alice)", "the caller");
	}
	ASSERT_EQ(ev[0].kind, EVENT_PULL_PROGRESS, "progress");
	ASSERT_STREQ(ev[0].layer, L1, "its layer");
	ASSERT_EQ(ev[0].bytes_done, 0, "0 bytes");
	ASSERT_EQ(ev[0].bytes_total, 4 << 20, "of 4 MiB");
	ASSERT_EQ(ev[1].bytes_done, 4 << 20, "complete");
	ASSERT_STRSTR(ev[1].detail, "layer 1 of 2", "detail");
	ASSERT_STREQ(ev[2].layer, L2, "the stored layer");
	ASSERT_STRSTR(ev[2].detail, "in the store already", "said so");
	ASSERT_EQ(ev[3].kind, EVENT_PULL_END, "the end");
	ASSERT_STREQ(ev[3].layer, "", "no layer");
	ASSERT_EQ(ev[3].bytes_done, 4 << 20, "bytes downloaded: not the stored layer");
	ASSERT_EQ(ev[3].bytes_total, (4 << 20) + 5, "bytes of every layer");
	ASSERT_STRSTR(ev[3].detail, "pulled sha256:abc: 1 of 2 layers downloaded (4.0 MiB)",
		      "end detail");

	/* a pull that sent no progress (the manifest failed, the store had it)
	 * sends no end either */
	pull_report_init(&quiet, "example.com/b:1");
	errmsg_set(&em, -2, "no such tag");
	pull_report_end(&quiet, -2, "", &em);
	ASSERT_EQ(take(ev, 64), 0, "nothing");

	/* a failure after progress: the end says why; the next pull, another number */
	pull_report_init(&r, "example.com/a:1");
	p = prog(0, L1, 0, 10);
	pull_report_progress(&r, &p);
	pull_report_end(&r, -5, "", &em);
	ASSERT_EQ(take(ev, 64), 2, "progress and end");
	ASSERT_TRUE(ev[0].pull > pull, "a new number");
	ASSERT_STREQ(ev[1].detail, "failed: no such tag", "the reason");
	event_caller_set(NULL);
	event_bus_fini();
}

static void wire_form(void)
{
	struct event e = { .kind = EVENT_PULL_PROGRESS, .bytes_done = 3, .bytes_total = 9,
			   .pull = 7, .time_ns = 1 };
	bpfd_v1_Event m;
	uint8_t buf[RPC_EVENT_MAX];
	pb_istream_t is;
	size_t len;

	memset(e.image, 'i', sizeof(e.image) - 1);	/* the longest */
	snprintf(e.layer, sizeof(e.layer), "%s", L1);
	memset(e.caller, 'c', sizeof(e.caller) - 1);
	memset(e.detail, 'd', sizeof(e.detail) - 1);
	if (!ASSERT_OK(rpc_event_encode(&e, buf, sizeof(buf), &len), "encode the largest"))
		return;
	is = pb_istream_from_buffer(buf, len);
	memset(&m, 0, sizeof(m));
	if (!ASSERT_TRUE(pb_decode(&is, bpfd_v1_Event_fields, &m), "decode"))
		return;
	ASSERT_STREQ(m.kind, "pull_progress", "kind");
	ASSERT_EQ(strlen(m.image), EVENT_IMAGE_SIZE - 1, "image");
	ASSERT_STREQ(m.layer, L1, "layer");
	ASSERT_TRUE(m.bytes_done == 3 && m.bytes_total == 9 && m.pull == 7, "numbers");
	ASSERT_STREQ(m.attach_point, "", "no attach point");

	/* a program's event: its attach point, no pull fields */
	e = (struct event){ .kind = EVENT_LOAD, .id = 4 };
	snprintf(e.attach, sizeof(e.attach), "xdp v0");
	ASSERT_OK(rpc_event_encode(&e, buf, sizeof(buf), &len), "encode a load");
	is = pb_istream_from_buffer(buf, len);
	memset(&m, 0, sizeof(m));
	ASSERT_TRUE(pb_decode(&is, bpfd_v1_Event_fields, &m), "decode a load");
	ASSERT_STREQ(m.attach_point, "xdp v0", "attach point");
	ASSERT_TRUE(!m.image[0] && !m.layer[0] && !m.pull, "no pull fields");
}

static void sizes(void)
{
	char b[32];

	pull_size_str(0, b, sizeof(b));
	ASSERT_STREQ(b, "0 B", "0");
	pull_size_str(1023, b, sizeof(b));
	ASSERT_STREQ(b, "1023 B", "1023");
	pull_size_str(1024, b, sizeof(b));
	ASSERT_STREQ(b, "1.0 KiB", "1 KiB");
	pull_size_str(1258291, b, sizeof(b));
	ASSERT_STREQ(b, "1.2 MiB", "1.2 MiB");
	pull_size_str((1 << 20) - 1, b, sizeof(b));
	ASSERT_STREQ(b, "1.0 MiB", "not 1024.0 KiB");
	pull_size_str(3ull << 30, b, sizeof(b));
	ASSERT_STREQ(b, "3.0 GiB", "GiB");
}

static void view_lines(void)
{
	struct pull_view v;
	char buf[2048];
	size_t n;

	pull_view_init(&v, "example.com/a:1");
	ASSERT_FALSE(pull_view_waiting(&v), "nothing seen: no wait");
	ASSERT_FALSE(pull_view_event(&v, "load", "", "", 0, 0, 0), "another kind");
	ASSERT_FALSE(pull_view_event(&v, "pull_progress", "example.com/b:1", L1, 0, 9, 3),
		     "another image");
	ASSERT_TRUE(pull_view_event(&v, "pull_progress", "example.com/a:1", L1, 0, 2048, 3),
		    "ours");
	ASSERT_TRUE(pull_view_waiting(&v), "a pull shown: wait for its end");
	n = pull_view_draw(&v, buf, sizeof(buf));
	ASSERT_STREQ(buf, "\r\033[Ksha256:111111111111  0 B / 2.0 KiB\n", "first draw");
	ASSERT_EQ(n, strlen(buf), "length");
	ASSERT_TRUE(pull_view_event(&v, "pull_progress", "example.com/a:1", L1, 2048, 2048, 3),
		    "complete");
	ASSERT_TRUE(pull_view_event(&v, "pull_progress", "example.com/a:1", L2, 0, 10, 3),
		    "second layer");
	pull_view_draw(&v, buf, sizeof(buf));
	ASSERT_STREQ(buf, "\033[1A\r\033[Ksha256:111111111111  2.0 KiB / 2.0 KiB  done\n"
			  "\r\033[Ksha256:222222222222  0 B / 10 B\n",
		     "redrawn from the first line");
	ASSERT_FALSE(pull_view_event(&v, "pull_progress", "example.com/a:1", L2, 1, 10, 2),
		     "an older pull");
	ASSERT_FALSE(pull_view_event(&v, "pull_end", "example.com/a:1", "", 10, 10, 3), "end");
	ASSERT_FALSE(pull_view_waiting(&v), "ended");
	/* a newer pull of the image (ours after one queued before it) */
	ASSERT_TRUE(pull_view_event(&v, "pull_progress", "example.com/a:1", L2, 10, 10, 4),
		    "newer pull");
	ASSERT_TRUE(pull_view_waiting(&v), "its end is awaited");
	pull_view_draw(&v, buf, sizeof(buf));
	ASSERT_STREQ(buf, "\r\033[Ksha256:222222222222  10 B / 10 B  done\n",
		     "its lines below the old ones");
	n = pull_view_draw(&v, buf, 12);
	ASSERT_TRUE(n <= 11 && strlen(buf) == n, "cut to the buffer");
}

TEST_MAIN("pull_progress", TEST(throttle), TEST(report_events), TEST(wire_form), TEST(sizes),
	  TEST(view_lines))
