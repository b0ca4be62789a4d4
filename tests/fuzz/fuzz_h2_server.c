/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_h2_server.c - libFuzzer target: a server session (h2 + gRPC framing + the
 * rpc method table) fed raw bytes after the client preface.  The rpc ops are fakes:
 * no kernel, no program manager. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/event.h"
#include "core/events.h"
#include "core/wire/h2.h"
#include "core/rpc.h"

static int f_next(void *ctx, uint32_t id, uint32_t *ret)
{
	(void)ctx;
	if (id >= 3)
		return -ENOENT;
	*ret = id + 1;
	return 0;
}

static int f_kernel(void *ctx, uint32_t id, bpfd_v1_KernelProgramInfo *k)
{
	(void)ctx;
	if (id == 0 || id > 3)
		return -ENOENT;
	k->id = id;
	k->program_type = 6;
	snprintf(k->name, sizeof(k->name), "p%u", id);
	k->map_ids_count = 2;
	return 0;
}

static int f_info(void *ctx, uint32_t id, bpfd_v1_ProgramInfo *p, uint32_t *type)
{
	(void)ctx;
	if (id != 2)
		return -ENOENT;
	snprintf(p->name, sizeof(p->name), "owned");
	p->metadata_count = 1;
	snprintf(p->metadata[0].key, sizeof(p->metadata[0].key), "k");
	*type = 6;
	return 0;
}

static int f_load(void *ctx, const bpfd_v1_LoadRequest *req, const struct caller *caller,
		  bpfd_v1_LoadResponse *resp, struct errmsg *em)
{
	(void)ctx, (void)caller;
	if (req->name[0] == 'o') {
		resp->has_kernel_info = true;
		resp->kernel_info.id = 1;
		return 0;
	}
	return errmsg_set(em, -EINVAL, "bad request '%s'", req->name);
}

static int f_unload(void *ctx, uint32_t id, struct errmsg *em)
{
	(void)ctx;
	return id == 2 ? 0 : errmsg_set(em, -ENOENT, "no %u", id);
}

static int f_pull(void *ctx, const bpfd_v1_PullBytecodeRequest *req,
		  bpfd_v1_PullBytecodeResponse *resp, struct errmsg *em)
{
	(void)ctx, (void)req, (void)resp;
	return errmsg_set(em, -EOPNOTSUPP, "no images here");
}

static const struct rpc_ops ops = {
	.load = f_load, .unload = f_unload, .pull_bytecode = f_pull,
	.prog_next = f_next, .prog_kernel = f_kernel, .prog_info = f_info,
};

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static void drain(struct h2_server *s)
{
	const uint8_t *p;
	int i;

	if (!s)
		return;
	for (i = 0; i < 1000 && h2_server_send(s, &p) > 0; i++)
		;
}

/* Events for the Events calls of the input: more than a reader's queue holds,
 * so a reader that opened no window is dropped. */
static void events(struct events_hub *hub, struct h2_server *s)
{
	int i;

	for (i = 0; i < 6; i++)
		event_emitf(EVENT_LOAD, i + 1, "xdp fuzz0", "loaded program %d", i + 1);
	events_hub_run(hub);
	drain(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool bus;
	struct events_hub *hub = NULL;
	struct rpc rpc = { .ops = &ops };
	/* budgets small enough for fuzzed input to reach them */
	struct h2_budget budget = { .max = 6000 };
	struct h2_server_opts o = { .max_msg = 4096, .handler = rpc_handle, .arg = &rpc,
				    .peer = "fuzz", .max_streams = 8, .max_buffered = 5000,
				    .total = &budget, .msg_timeout_ms = 1000 };
	struct h2_server *s = NULL;
	size_t half = size / 2;

	if (!bus && event_bus_init(64) >= 0)
		bus = true;
	if (events_hub_new(4, 2, &hub))
		return 0;
	rpc.hub = hub;
	if (h2_server_new(&o, &s)) {
		events_hub_free(hub);
		return 0;
	}
	/* the preface, then the input in two reads (frames split across reads) */
	if (!h2_server_recv(s, (const uint8_t *)preface, sizeof(preface) - 1) &&
	    !h2_server_recv(s, data, half)) {
		drain(s);
		events(hub, s);
		if (!h2_server_recv(s, data + half, size - half)) {
			drain(s);
			events(hub, s);
			(void)h2_server_expire(s, UINT64_MAX - 1);
			h2_server_shutdown(s);
			drain(s);
		}
	}
	(void)h2_server_alive(s);
	if (h2_server_buffered(s) != budget.used || budget.used > budget.max)
		abort();	/* the accounting is off */
	h2_server_free(s);
	events(hub, NULL);
	if (events_hub_readers(hub))
		abort();	/* a reader whose call is over is still held */
	events_hub_free(hub);
	if (budget.used || budget.sessions)
		abort();	/* bytes or the session not given back */
	return 0;
}
