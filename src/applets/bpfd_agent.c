/* SPDX-License-Identifier: Apache-2.0 */
/* bpfd_agent.c - the Kubernetes node agent applet: connects to the API server
 * (in-cluster or --kubeconfig) and keeps list+watch caches of its Node, the
 * bpfd.dev program kinds and the BpfPrograms of its node (reconcile: not yet) */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applets/agent/agent.h"
#include "bpfd.pb.h"
#include "applets/applets.h"
#include "core/base/errmsg.h"
#include "core/base/log.h"
#include "core/base/opts.h"
#include "core/k8s/api.h"
#include "core/k8s/bpfprog.h"
#include "core/k8s/client.h"
#include "core/k8s/kconfig.h"
#include "core/k8s/reflector.h"
#include "core/k8s/transport.h"
#include "core/wire/client.h"

#define GROUP	"bpfd.dev"
#define AGENT_LEASE_NAME	"bpfd-agent-leader"
#define VERSION	"v1alpha1"

struct agent_opts {
	const char *kubeconfig;
	const char *context;
	const char *node;
	const char *endpoint;
	const char *sa_dir;
	const char *log_level;
	int verbose;
	bool version;
	bool sync_once;
	bool no_leader_elect;
	const char *lease_ns;
	unsigned int lease_duration;
	unsigned int resync;
};

static const struct opt agent_optv[] = {
	OPT_STR("kubeconfig", 0, struct agent_opts, kubeconfig, "FILE",
		"kubeconfig of the API server (token or client certificate);\n"
		"                             default: in-cluster (service account)"),
	OPT_STR("context", 0, struct agent_opts, context, "NAME",
		"context of the kubeconfig (default: its current-context)"),
	OPT_STR("node", 0, struct agent_opts, node, "NAME",
		"the Kubernetes node this agent runs on (default: $NODENAME)"),
	OPT_STR("endpoint", 0, struct agent_opts, endpoint, "URL",
		"the local bpfd (default: $BPFD_ENDPOINT, else " CLIENT_DEFAULT_ENDPOINT ")"),
	OPT_STR("log-level", 0, struct agent_opts, log_level, "LEVEL",
		"error, warn, info or debug (default: $BPFD_LOG, else info)"),
	OPT_COUNT("verbose", 'v', struct agent_opts, verbose, "more log output (-v info, -vv debug)"),
	OPT_FLAG("sync-once", 0, struct agent_opts, sync_once,
		 "list every watched resource once, print what the node sees as JSON and exit"),
	OPT_FLAG("no-leader-elect", 0, struct agent_opts, no_leader_elect,
		 "take no part in the leader election (this agent never writes the\n"
		 "                             programs' aggregate status)"),
	OPT_U32("lease-duration", 0, struct agent_opts, lease_duration, "SECONDS",
		"leaseDurationSeconds of the leader Lease, 2-3600 (default 15);\n"
		"                             the leader renews it every third of that"),
	OPT_STR("lease-namespace", 0, struct agent_opts, lease_ns, "NS",
		"namespace of the leader Lease " AGENT_LEASE_NAME " (default: $POD_NAMESPACE,\n"
		"                             else bpfd)"),
	OPT_U32("resync", 0, struct agent_opts, resync, "SECONDS",
		"a full pass at least every SECONDS, 1-3600 (default 5); a watch\n"
		"                             event or an event of bpfd's Events stream starts\n"
		"                             one at once"),
	OPT_FLAG("version", 'V', struct agent_opts, version, "print the version and exit"),
	OPT_HIDDEN_STR("sa-dir", struct agent_opts, sa_dir, "DIR"),
	OPT_END
};

static const struct opts_spec agent_spec = {
	.prog = "bpfd-agent",
	.usage = "bpfd-agent [--kubeconfig FILE [--context NAME]] [--node NAME] [OPTIONS]",
	.desc = "Kubernetes node agent: watches this node's Node, the bpfd.dev program resources\n"
		"(XdpProgram, TcProgram, TcxProgram, TracepointProgram, KprobeProgram,\n"
		"UprobeProgram, FentryProgram, FexitProgram) and the BpfPrograms of this node,\n"
		"resuming each watch from its resourceVersion and listing again after 410 Gone,\n"
		"and makes the node match: one BpfProgram per program and attach point (name\n"
		"PROGRAM-NODE-ATTACHPOINT), loaded through the local bpfd when the program's\n"
		"nodeselector selects this node, unloaded when not or when it is deleted, with\n"
		"the condition Loaded, NotLoaded (with bpfd's error) or NotSelected.  A change\n"
		"of priority or proceed-on (XDP, TC, TCX) is made in place (Modify: the program\n"
		"id stays), any other change loads again.  spec.mapownerselector shares the\n"
		"maps of the one loaded BpfProgram of this node it selects (else\n"
		"MapOwnerNotFound or MapOwnerNotLoaded); spec.bytecode.image.imagepullsecret\n"
		"names a kubernetes.io/dockerconfigjson Secret whose credentials for the\n"
		"image's registry go to bpfd with the load (else BytecodeSelectorError).\n"
		"The agents elect one leader through the Lease " AGENT_LEASE_NAME " (holder: the\n"
		"node's name; renewed every third of its duration, taken over when it expires,\n"
		"given up on SIGTERM/SIGINT).  The leader watches the BpfPrograms of all nodes\n"
		"and writes each program's condition: NotYetLoaded (a node has not reported),\n"
		"ReconcileSuccess, ReconcileError (naming the nodes that failed) or DeleteError\n"
		"(while nodes still unload it); it puts the finalizer " AGENT_LEADER_FINALIZER "\n"
		"on every program and removes it once every node has unloaded the program.",
	.optv = agent_optv,
	.footer = "Environment: NODENAME (the node), KUBERNETES_SERVICE_HOST and\n"
		  "KUBERNETES_SERVICE_PORT (in-cluster), POD_NAMESPACE (the Lease's namespace),\n"
		  "BPFD_LOG (log level).\n",
};

/* What the agent watches; Node and BpfProgram are narrowed to its node. */
struct watched {
	const char *kind;
	const char *group;
	const char *version;
	const char *plural;
};

static const struct watched watched[] = {
	{ "Node", "", "v1", "nodes" },
	{ "XdpProgram", GROUP, VERSION, "xdpprograms" },
	{ "TcProgram", GROUP, VERSION, "tcprograms" },
	{ "TcxProgram", GROUP, VERSION, "tcxprograms" },
	{ "TracepointProgram", GROUP, VERSION, "tracepointprograms" },
	{ "KprobeProgram", GROUP, VERSION, "kprobeprograms" },
	{ "UprobeProgram", GROUP, VERSION, "uprobeprograms" },
	{ "FentryProgram", GROUP, VERSION, "fentryprograms" },
	{ "FexitProgram", GROUP, VERSION, "fexitprograms" },
	{ "BpfProgram", GROUP, VERSION, "bpfprograms" },
};
#define N_WATCHED (sizeof(watched) / sizeof(watched[0]))

struct watcher {
	const struct watched *w;
	const char *node;
	struct k8s_transport *t;
	struct k8s_reflector r;
	pthread_t thread;
	bool started;
};

static pthread_mutex_t changes_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changes_cond = PTHREAD_COND_INITIALIZER;
static unsigned long changes;

static void changes_kick(void)
{
	pthread_mutex_lock(&changes_lock);
	changes++;
	pthread_cond_broadcast(&changes_cond);
	pthread_mutex_unlock(&changes_lock);
}

static void on_change(void *arg, enum k8s_event_type type, const cJSON *obj)
{
	struct watcher *w = arg;

	log_info("%s '%s' %s (resourceVersion %s, node %s)", w->w->kind,
		 k8s_meta_str(obj, "name"), k8s_event_type_str(type),
		 k8s_meta_str(obj, "resourceVersion"), w->node);
	changes_kick();
	agent_leader_kick();
}

/* bpfd's Events stream: what changes on the daemon's side alone (a program
 * unloaded by someone else or gone from the kernel, an interface deleted)
 * starts a pass at once instead of at the next resync.  Pull progress changes
 * nothing.  While the stream is down (bpfd restarting, Events refused by its
 * policy) the resync alone keeps the node right. */
static int on_bpfd_event(void *arg, void *msg)
{
	const bpfd_v1_Event *e = msg;
	const char *node = arg;

	if (!strncmp(e->kind, "pull_", 5))
		return 0;
	log_debug("bpfd event %llu: %s of program %u (%s), node %s",
		  (unsigned long long)e->seq, e->kind, e->id, e->detail, node);
	changes_kick();
	return 0;
}

static void *bpfd_events_thread(void *arg)
{
	bpfd_v1_EventsRequest req = bpfd_v1_EventsRequest_init_zero;
	const struct agent *a = arg;
	struct client_opts o = { .endpoint = a->endpoint };
	struct client_status st;
	struct client *cl;
	bpfd_v1_Event *ev = malloc(sizeof(*ev));
	struct errmsg em;
	bool up = false;

	if (!ev) {
		log_warn("No memory for bpfd's Events stream; node %s relies on the resync", a->node);
		return NULL;
	}
	for (;;) {
		memset(&em, 0, sizeof(em));
		memset(&st, 0, sizeof(st));
		if (!client_open(&o, &cl, &em)) {
			if (!up)
				log_info("node %s: following bpfd's Events stream at %s", a->node,
					 a->endpoint);
			up = true;
			(void)client_stream(cl, "/bpfd.v1.Bpfd/Events", bpfd_v1_EventsRequest_fields,
					    &req, bpfd_v1_Event_fields, ev, on_bpfd_event,
					    (void *)a->node, &st);
			client_close(cl);
		}
		if (up) {
			log_info("node %s: bpfd's Events stream ended (%s); a pass now, and "
				 "the resync until it is back", a->node, st.message[0] ? st.message :
				 em.msg[0] ? em.msg : grpc_status_name(st.code));
			changes_kick();	/* the daemon may have restarted */
		}
		up = false;
		sleep(2);
	}
	return NULL;
}

static void *watch_thread(void *arg)
{
	struct watcher *w = arg;
	struct errmsg em;
	struct timespec ts;
	int err;

	for (;;) {
		memset(&em, 0, sizeof(em));
		err = k8s_reflector_step(&w->r, &em);
		if (!err)
			continue;
		log_warn("Failed to watch %s for node %s: %s; retrying in %u ms", w->w->plural,
			 w->node, em.msg[0] ? em.msg : strerror(-err), w->r.backoff_ms);
		ts.tv_sec = w->r.backoff_ms / 1000;
		ts.tv_nsec = (long)(w->r.backoff_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static int watcher_init(struct watcher *w, const struct watched *what, const char *node,
			const struct k8s_config *cfg, struct errmsg *em)
{
	char path[K8S_MAX_PATH], sel[300];
	const char *label = NULL, *field = NULL;
	int err;

	w->w = what;
	w->node = node;
	err = k8s_path(path, sizeof(path), what->group, what->version, what->plural, NULL,
		       NULL, NULL, em);
	if (err)
		return err;
	if (!strcmp(what->kind, "Node")) {
		snprintf(sel, sizeof(sel), "metadata.name=%s", node);
		field = sel;
	} else if (!strcmp(what->kind, "BpfProgram")) {
		snprintf(sel, sizeof(sel), "kubernetes.io/hostname=%s", node);
		label = sel;
	}
	err = k8s_https_new(cfg, &w->t, em);
	if (err)
		return err;
	return k8s_reflector_init(&w->r, w->t, path, label, field, on_change, w, em);
}

/* --sync-once: one list of each, printed as {"Node": [...], "XdpProgram": [...]}. */
static int sync_once(struct watcher *ws, size_t n)
{
	cJSON *out = cJSON_CreateObject();
	struct errmsg em;
	char *text;
	size_t i;
	int err = 0;

	for (i = 0; i < n && out; i++) {
		memset(&em, 0, sizeof(em));
		err = k8s_reflector_step(&ws[i].r, &em);
		if (err) {
			log_err("Failed to list %s for node %s: %s", ws[i].w->plural, ws[i].node,
				em.msg);
			break;
		}
		cJSON_AddItemToObject(out, ws[i].w->kind, k8s_reflector_list(&ws[i].r));
	}
	if (!err && out && (text = cJSON_Print(out))) {
		printf("%s\n", text);
		cJSON_free(text);
	}
	cJSON_Delete(out);
	return err ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int load_config(const struct agent_opts *o, struct k8s_config *cfg)
{
	struct errmsg em = { "" };
	int err;

	if (o->kubeconfig)
		err = k8s_config_from_kubeconfig(o->kubeconfig, o->context, cfg, &em);
	else
		err = k8s_config_in_cluster(o->sa_dir, cfg, &em);
	if (err)
		log_err("%s", em.msg);
	return err;
}

static void *signal_thread(void *arg)
{
	sigset_t *sigs = arg;
	int sig;

	if (!sigwait(sigs, &sig))
		log_info("signal %d: stopping", sig);
	agent_leader_stop();
	/* the watches block in requests: the process ends with them */
	fflush(NULL);
	_exit(EXIT_SUCCESS);
	return NULL;
}

/* Pass after every change, and every resync seconds at the latest. */
static void reconcile_loop(struct agent *a, unsigned int resync)
{
	unsigned long seen = 0;
	struct errmsg em;
	struct timespec ts;
	int r, last_err = 0;

	for (;;) {
		pthread_mutex_lock(&changes_lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += resync;
		while (changes == seen &&
		       pthread_cond_timedwait(&changes_cond, &changes_lock, &ts) == 0)
			;
		seen = changes;
		pthread_mutex_unlock(&changes_lock);
		memset(&em, 0, sizeof(em));
		r = agent_reconcile(a, &em);
		if (r < 0 && r != last_err)
			log_warn("Failed to reconcile node %s: %s; retrying", a->node, em.msg);
		last_err = r < 0 ? r : 0;
		if (r > 0)
			usleep(100000);	/* our own writes come back as watch events */
		if (r > 0) {
			pthread_mutex_lock(&changes_lock);
			seen--;		/* pass again */
			pthread_mutex_unlock(&changes_lock);
		}
	}
}

static int start_leader(const struct agent_opts *o, struct agent *a,
			const struct k8s_config *cfg)
{
	struct agent_leader_cfg lc = {
		.ns = o->lease_ns ? o->lease_ns : getenv("POD_NAMESPACE"),
		.name = AGENT_LEASE_NAME,
		.duration_s = o->lease_duration ? o->lease_duration : 15,
	};
	struct errmsg em = { "" };

	if (!lc.ns || !*lc.ns)
		lc.ns = "bpfd";
	if (agent_leader_start(a, cfg, &lc, &em)) {
		log_err("%s", em.msg);
		return -1;
	}
	return 0;
}

static int run(const struct agent_opts *o, const char *node)
{
	struct watcher ws[N_WATCHED] = { 0 };
	struct k8s_config cfg = { 0 };
	struct errmsg em = { "" };
	struct agent a = { .node = node };
	static sigset_t sigs;
	pthread_t th;
	size_t i;
	int rc = EXIT_FAILURE;

	if (load_config(o, &cfg))
		return EXIT_FAILURE;
	log_info("node %s: API server %s (%s)", node, cfg.server, cfg.source);
	for (i = 0; i < N_WATCHED; i++) {
		if (watcher_init(&ws[i], &watched[i], node, &cfg, &em)) {
			log_err("%s", em.msg);
			goto out;
		}
	}
	if (o->sync_once) {
		rc = sync_once(ws, N_WATCHED);
		goto out;
	}
	if (k8s_https_new(&cfg, &a.t, &em)) {
		log_err("%s", em.msg);
		goto out;
	}
	a.endpoint = o->endpoint ? o->endpoint : getenv("BPFD_ENDPOINT");
	if (!a.endpoint || !*a.endpoint)
		a.endpoint = CLIENT_DEFAULT_ENDPOINT;
	a.nodes = &ws[0].r;
	a.bpfprograms = &ws[N_WATCHED - 1].r;
	for (i = 1; i + 1 < N_WATCHED; i++) {
		a.kinds[a.n_kinds].kind = bpfprog_kind_find(watched[i].kind);
		a.kinds[a.n_kinds++].programs = &ws[i].r;
	}
	/* signals are read by one thread; the others never see them */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (pthread_create(&th, NULL, signal_thread, &sigs)) {
		log_err("Failed to start the signal thread");
		goto out;
	}
	for (i = 0; i < N_WATCHED; i++) {
		if (pthread_create(&ws[i].thread, NULL, watch_thread, &ws[i])) {
			log_err("Failed to start the watch of %s", ws[i].w->plural);
			goto out;
		}
		ws[i].started = true;
	}
	if (!o->no_leader_elect && start_leader(o, &a, &cfg))
		goto out;
	if (pthread_create(&th, NULL, bpfd_events_thread, &a)) {
		log_err("Failed to start the thread of bpfd's Events stream");
		goto out;
	}
	log_info("node %s: reconciling with bpfd at %s", node, a.endpoint);
	reconcile_loop(&a, o->resync ? o->resync : 5);
out:
	for (i = 0; i < N_WATCHED; i++) {
		if (ws[i].started)
			continue;
		if (ws[i].r.path[0])
			k8s_reflector_fini(&ws[i].r);
		if (ws[i].t)
			ws[i].t->free(ws[i].t);
	}
	if (a.t)
		a.t->free(a.t);
	k8s_config_fini(&cfg);
	return rc;
}

int bpfd_agent_main(int argc, char **argv)
{
	struct agent_opts o = { 0 };
	const char *node;
	int idx, lvl;

	log_init("bpfd-agent");
	idx = opts_parse(&agent_spec, &o, argc, argv);
	if (idx < 0)
		return opts_exit_code(idx);
	if (idx < argc)
		return opts_exit_code(opts_usage_error(&agent_spec, "unexpected argument '%s'", argv[idx]));
	if (o.version) {
		printf("bpfd-agent %s\n", BPFD_VERSION);
		return EXIT_SUCCESS;
	}
	if (o.log_level) {
		lvl = log_level_parse(o.log_level);
		if (lvl < 0)
			return opts_exit_code(opts_usage_error(&agent_spec,
				"--log-level '%s' is not one of error, warn, info, debug", o.log_level));
		log_set_level(lvl);
	} else if (o.verbose) {
		log_set_level(o.verbose > 1 ? LOG_DEBUG : LOG_INFO);
	}
	if (o.lease_duration && (o.lease_duration < 2 || o.lease_duration > 3600))
		return opts_exit_code(opts_usage_error(&agent_spec,
			"--lease-duration %u is not within 2..3600 seconds", o.lease_duration));
	if (o.resync > 3600)
		return opts_exit_code(opts_usage_error(&agent_spec,
			"--resync %u is not within 1..3600 seconds", o.resync));
	if (o.context && !o.kubeconfig)
		return opts_exit_code(opts_usage_error(&agent_spec, "--context needs --kubeconfig"));
	node = o.node ? o.node : getenv("NODENAME");
	if (!node || !*node)
		return opts_exit_code(opts_usage_error(&agent_spec,
			"no node name: give --node or set NODENAME (the DaemonSet sets it from "
			"spec.nodeName)"));
	return run(&o, node);
}
