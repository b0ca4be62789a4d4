/* SPDX-License-Identifier: Apache-2.0 */
/* events.c - bpfctl events: print the daemon's events as they happen */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "applets/bpfctl/bpfctl.h"

struct events_opts {
	uint64_t count;
	struct bpfctl_common c;
};

static const struct opt events_optv[] = {
	OPT_U64("count", 'n', struct events_opts, count, "N",
		"exit after N events (default: run until interrupted or the daemon ends the stream)"),
	BPFCTL_COMMON_OPTS(struct events_opts),
	OPT_END
};

static const struct opts_spec events_spec = {
	.prog = "bpfctl events",
	.usage = "bpfctl events [-n N] [-o text|json]",
	.desc = "Print what happens to programs and their hooks as it happens, one line per\n"
		"event: load, unload, modify, chain_reordered, chain_joined and chain_left\n"
		"(programs not bpfd's on a chain of bpfd's), program_vanished (no longer on\n"
		"its hook: Get and List show why), interface_gone, interface_renamed,\n"
		"interface_moved; each with its time (UTC), program id, attach point and\n"
		"caller (the client that asked, or \"kernel\" for what the daemon saw).\n"
		"Image pulls from a registry: pull_progress (a layer's digest and bytes of\n"
		"its size, at most ten a second per layer) and pull_end, with the image and\n"
		"the pull's number.\n"
		"With -o json each event is one JSON object on its own line.  A reader that\n"
		"falls more than [monitor] event_queue events behind is dropped by the\n"
		"daemon with an error saying how many events it missed.",
	.optv = events_optv,
};

struct events_state {
	const struct events_opts *o;
	uint64_t seen;
	bool oom;
};

static int print_event(void *arg, void *msg)
{
	struct events_state *es = arg;
	const bpfd_v1_Event *e = msg;
	struct out *o = out_new(stdout, bpfctl_json(&es->o->c), false);

	if (!o) {
		es->oom = true;
		return -ENOMEM;
	}
	out_begin_object(o, NULL);
	out_u64(o, "seq", NULL, e->seq);
	out_str(o, "time", "%s ", e->time);
	out_str(o, "kind", "%s", e->kind);
	out_u64(o, "id", e->id ? " id=%llu" : NULL, e->id);
	out_str(o, "attach_point", e->attach_point[0] ? " [%s]" : NULL, e->attach_point);
	if (e->pull) {
		out_str(o, "image", " %s", e->image);
		out_u64(o, "pull", " (pull %llu)", e->pull);
		out_str(o, "layer", e->layer[0] ? " %s" : NULL, e->layer);
		out_u64(o, "bytes_done", " %llu", e->bytes_done);
		out_u64(o, "bytes_total", " of %llu bytes", e->bytes_total);
	}
	out_str(o, "caller", " by %s", e->caller);
	out_str(o, "detail", e->detail[0] ? ": %s" : NULL, e->detail);
	out_text(o, "\n");
	out_end(o);
	if (out_finish(o)) {
		es->oom = true;
		return -ENOMEM;
	}
	es->seen++;
	return es->o->count && es->seen >= es->o->count ? 1 : 0;
}

int bpfctl_events(int argc, char **argv)
{
	struct events_opts o = { 0 };
	bpfd_v1_EventsRequest req = bpfd_v1_EventsRequest_init_zero;
	bpfd_v1_Event ev = { 0 };
	struct events_state es = { .o = &o };
	struct client_opts co = { 0 };
	struct errmsg em = { "" };
	struct client_status st;
	struct client *cl = NULL;
	int err;

	err = bpfctl_parse(&events_spec, &o, argc, argv, NULL, 0);
	if (err < 0)
		return opts_exit_code(err);
	if (bpfctl_common_check(&events_spec, &o.c))
		return 2;
	co = (struct client_opts){ .endpoint = o.c.endpoint, .ca = o.c.ca, .cert = o.c.cert,
				   .key = o.c.key };
	err = client_open(&co, &cl, &em);
	if (err)
		return bpfctl_error(&o.c, "%s", em.msg[0] ? em.msg : strerror(-err));
	setvbuf(stdout, NULL, _IOLBF, 0);
	err = client_stream(cl, "/bpfd.v1.Bpfd/Events", bpfd_v1_EventsRequest_fields, &req,
			    bpfd_v1_Event_fields, &ev, print_event, &es, &st);
	client_close(cl);
	if (err || es.oom)
		return bpfctl_error(&o.c, "%s", strerror(err ? -err : ENOMEM));
	if (st.code == GRPC_CANCELLED && o.count && es.seen >= o.count)
		return 0;	/* -n N: we stopped */
	if (st.code != GRPC_OK)
		return bpfctl_error(&o.c, "%s", st.message[0] ? st.message :
				    grpc_status_name(st.code));
	return 0;
}
