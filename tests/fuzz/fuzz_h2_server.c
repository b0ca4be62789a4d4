/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_h2_server.c - libFuzzer target: a server session fed raw bytes after the client
 * preface, as server.c feeds it what each read() returns: HTTP/2 (nghttp2), gRPC
 * framing, the rpc method table, the [[policy]] decisions and the daemon's own
 * conversion of the wire's messages to the manager's plain structs (rpc_kernel_ops);
 * the event hub of Events is real; only the manager and the kernel behind it are
 * fakes (no image store, no programs.d:
 * those methods answer UNAVAILABLE).  An odd-sized input comes from
 * a local caller that rules restrict (uid 1001), an even-sized one from root. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/log.h"
#include "core/base/event.h"
#include "core/events.h"
#include "core/wire/h2.h"
#include "core/rpc.h"
#include "fuzz.h"

/* The plain side (what the kernel executor runs): programs 1..3, bpfd owns 2. */
static int f_next(void *ctx, uint32_t id, uint32_t *ret)
{
	(void)ctx;
	if (id >= 3)
		return -ENOENT;
	*ret = id + 1;
	return 0;
}

static int f_kinfo(void *ctx, uint32_t id, struct kinfo_prog *k)
{
	(void)ctx;
	if (id == 0 || id > 3)
		return -ENOENT;
	memset(k, 0, sizeof(*k));
	k->id = id;
	k->type = 6;
	snprintf(k->name, sizeof(k->name), "p%u", id);
	k->n_map_ids = 2;
	k->stats = id == 3;
	return 0;
}

static void view_fill(struct prog_view *v, const struct prog_spec *spec)
{
	memset(v, 0, sizeof(*v));
	v->id = 2;
	v->managed_type = 6;
	if (spec)
		v->spec = *spec;
	else {
		snprintf(v->spec.name, sizeof(v->spec.name), "owned");
		v->spec.attach.kind = OBJ_KIND_XDP;
		snprintf(v->spec.attach.iface, sizeof(v->spec.attach.iface), "eth0");
		v->spec.attach.priority = 50;
		v->spec.n_metadata = 1;
		snprintf(v->spec.metadata[0].key, sizeof(v->spec.metadata[0].key), "k");
		snprintf(v->spec.loaded_by, sizeof(v->spec.loaded_by), "uid=1001");
	}
	snprintf(v->attach_mode, sizeof(v->attach_mode), "dispatcher");
	v->n_map_used_by = 1;
	v->map_used_by[0] = 2;
}

static int f_view(void *ctx, uint32_t id, struct prog_view *v)
{
	(void)ctx;
	if (id != 2)
		return -ENOENT;
	view_fill(v, NULL);
	return 0;
}

/* What the front hands the executor: self-contained, every string terminated. */
static int f_load(void *ctx, const struct load_plan *p, struct prog_view *ret,
		  struct kinfo_prog *ret_kinfo, struct errmsg *em)
{
	const struct prog_spec *s = &p->spec;
	size_t i;

	(void)ctx;
	TERMINATED(s->name);
	TERMINATED(s->path);
	TERMINATED(s->attach.iface);
	TERMINATED(s->attach.direction);
	TERMINATED(s->attach.tracepoint);
	TERMINATED(s->attach.fn_name);
	TERMINATED(s->attach.target);
	TERMINATED(s->attach.ns);
	TERMINATED(s->loaded_by);
	TERMINATED(p->uuid);
	CHECK(s->attach.n_proceed_on <= PLAN_PROCEED_ON_MAX);
	CHECK(s->n_globals <= PLAN_GLOBALS_MAX && s->n_metadata <= PLAN_METADATA_MAX);
	for (i = 0; i < s->n_globals; i++) {
		TERMINATED(s->globals[i].key);
		CHECK(s->globals[i].size <= PLAN_GLOBAL_SIZE);
	}
	for (i = 0; i < s->n_metadata; i++) {
		TERMINATED(s->metadata[i].key);
		TERMINATED(s->metadata[i].value);
	}
	CHECK(p->n_groups <= PLAN_GROUPS_MAX);
	if (s->name[0] != 'o')
		return errmsg_set(em, -EINVAL, "bad request '%s'", s->name);
	view_fill(ret, s);
	if (ret_kinfo && f_kinfo(ctx, ret->id, ret_kinfo))
		ret_kinfo->id = 0;
	return 0;
}

static int f_unload(void *ctx, uint32_t id, struct errmsg *em)
{
	(void)ctx;
	return id == 2 ? 0 : errmsg_set(em, -ENOENT, "no %u", id);
}

static bool f_stats(void *ctx)
{
	(void)ctx;
	return true;
}

static const struct rpc_kernel_ops kops = {
	.load = f_load, .unload = f_unload, .next = f_next,
	.kinfo = f_kinfo, .view = f_view, .stats = f_stats,
};
static struct rpc_kernel kern = { .ops = &kops };

/* uid 1001: xdp and tracepoints on eth0 at priorities 10..100, two programs at most;
 * gid 1003: List and Get */
static struct policy policy = {
	.rules = {
		{ .line = 1, .has_uid = true, .uid = 1001, .has_kinds = true,
		  .kinds = 1u << OBJ_KIND_XDP | 1u << OBJ_KIND_TRACEPOINT,
		  .has_ifaces = true, .ifaces = { "eth0" }, .n_ifaces = 1,
		  .has_prio_min = true, .prio_min = 10, .has_prio_max = true, .prio_max = 100,
		  .has_max_programs = true, .max_programs = 2 },
		{ .line = 9, .has_gid = true, .gid = 1003, .read_only = true },
	},
	.n_rules = 2,
};

static struct caller restricted = {
	.kind = CALLER_UNIX, .pid = 42, .uid = 1001, .gid = 1003, .n_groups = 1,
	.groups = { 1003 }, .name = "uid=1001",
};
static struct caller root = { .kind = CALLER_UNIX, .pid = 1, .name = "uid=0(root)" };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_h2_server");
	log_set_level(LOG_ERR);	/* a line per refused call slows the fuzzer down */
	return 0;
}

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
	struct rpc rpc = { .ops = &rpc_kernel_ops, .ctx = &kern, .policy = &policy };
	/* budgets small enough for fuzzed input to reach them */
	struct h2_budget budget = { .max = 6000 };
	struct h2_server_opts o = { .max_msg = 4096, .handler = rpc_handle, .arg = &rpc,
				    .peer = "fuzz", .max_streams = 8, .max_buffered = 5000,
				    .total = &budget, .msg_timeout_ms = 1000,
				    .caller = size & 1 ? &restricted : &root };
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
