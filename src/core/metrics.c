/* SPDX-License-Identifier: Apache-2.0 */
/* metrics.c - the Prometheus endpoint: counters of the gRPC dispatch, a scrape of
 * the kernel's programs as one executor job, the text exposition format, and the
 * thread that serves it (core/wire/httpd.c) */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/kinfo.h"
#include "core/base/log.h"
#include "core/base/obj_kind.h"
#include "core/metrics.h"
#include "core/state/manager.h"
#include "core/wire/grpc.h"

/* ---- counters ---- */

#define RPC_METHODS_MAX	32
#define RPC_CODES	(GRPC_UNAUTHENTICATED + 1)

/* upper bounds of the load latency buckets, in seconds */
static const double load_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS	(sizeof(load_buckets) / sizeof(load_buckets[0]))

static struct {
	pthread_mutex_t lock;
	struct {
		const char *method;	/* NULL: unknown methods */
		uint64_t calls[RPC_CODES];
	} rpc[RPC_METHODS_MAX];
	size_t n_rpc;
	uint64_t load_le[N_BUCKETS];	/* loads at most load_buckets[i] (not cumulative) */
	uint64_t load_n;
	uint64_t load_ns;
} ctr = { .lock = PTHREAD_MUTEX_INITIALIZER };

void metrics_rpc_done(const char *method, int code)
{
	size_t i;

	if (code < 0 || code >= RPC_CODES)
		code = GRPC_UNKNOWN;
	pthread_mutex_lock(&ctr.lock);
	for (i = 0; i < ctr.n_rpc; i++)
		if (ctr.rpc[i].method == method ||
		    (method && ctr.rpc[i].method && !strcmp(ctr.rpc[i].method, method)))
			break;
	if (i == ctr.n_rpc && i < RPC_METHODS_MAX)
		ctr.rpc[ctr.n_rpc++].method = method;
	if (i < RPC_METHODS_MAX)
		ctr.rpc[i].calls[code]++;
	pthread_mutex_unlock(&ctr.lock);
}

void metrics_load_observe(uint64_t ns)
{
	double s = ns / 1e9;
	size_t i;

	pthread_mutex_lock(&ctr.lock);
	for (i = 0; i < N_BUCKETS && s > load_buckets[i]; i++)
		;
	if (i < N_BUCKETS)
		ctr.load_le[i]++;
	ctr.load_n++;
	ctr.load_ns += ns;
	pthread_mutex_unlock(&ctr.lock);
}

/* ---- the scrape: one executor job ---- */

#define ATTACH_SIZE	320

struct snap_prog {
	uint32_t id;
	bool owned;
	uint64_t run_cnt;
	uint64_t run_time_ns;
	char name[PLAN_NAME_SIZE];
	char kind[32];
	char attach[ATTACH_SIZE];
	char iface[PLAN_IFACE_SIZE];	/* chain members: interface and hook */
	char hook[24];
	char labels[BPFD_METRICS_LABELS_MAX][PLAN_META_SIZE];
};

struct snap {
	struct metrics *m;
	bool stats;			/* the kernel counted runs */
	struct snap_prog *v;
	size_t n;
	size_t cap;
};

struct metrics {
	const struct bpfd_config *cfg;
	struct rpc_exec *rx;
	struct httpd *httpd;
	int stop[2];			/* a pipe: written to stop the thread */
	pthread_t thread;
	bool running;
	char label_names[BPFD_METRICS_LABELS_MAX][BPFD_METRICS_LABEL_SIZE + 1];
};

/* Where a program is attached, as text: "eth0", "eth0/ingress",
 * "syscalls/sys_enter_openat", "do_unlinkat+0x10", "/usr/lib/libc.so.6:malloc". */
static void attach_text(const struct attach_spec *a, char *buf, size_t size)
{
	const char *dir = a->direction[0] ? a->direction : "ingress";

	switch (a->kind) {
	case OBJ_KIND_XDP:
		snprintf(buf, size, "%s", a->iface);
		break;
	case OBJ_KIND_TC:
	case OBJ_KIND_TCX:
		snprintf(buf, size, "%s/%s", a->iface, dir);
		break;
	case OBJ_KIND_TRACEPOINT:
		snprintf(buf, size, "%s", a->tracepoint);
		break;
	case OBJ_KIND_KPROBE:
	case OBJ_KIND_KRETPROBE:
		if (a->offset)
			snprintf(buf, size, "%s+0x%llx", a->fn_name, (unsigned long long)a->offset);
		else
			snprintf(buf, size, "%s", a->fn_name);
		break;
	case OBJ_KIND_UPROBE:
	case OBJ_KIND_URETPROBE:
		snprintf(buf, size, "%.*s:%.*s", 200, a->target, 100,
			 a->has_fn_name ? a->fn_name : "");
		break;
	case OBJ_KIND_FENTRY:
	case OBJ_KIND_FEXIT:
		snprintf(buf, size, "%s", a->fn_name);
		break;
	default:
		buf[0] = '\0';
	}
}

static void snap_owned(const struct metrics *m, struct snap_prog *p, const struct prog_view *v)
{
	const struct attach_spec *a = &v->spec.attach;
	size_t i, j;

	p->owned = true;
	snprintf(p->name, sizeof(p->name), "%s", v->spec.name);
	snprintf(p->kind, sizeof(p->kind), "%s", obj_kind_str(a->kind));
	attach_text(a, p->attach, sizeof(p->attach));
	if (a->kind == OBJ_KIND_XDP || a->kind == OBJ_KIND_TC || a->kind == OBJ_KIND_TCX) {
		snprintf(p->iface, sizeof(p->iface), "%s", a->iface);
		if (a->kind == OBJ_KIND_XDP)
			snprintf(p->hook, sizeof(p->hook), "xdp");
		else
			snprintf(p->hook, sizeof(p->hook), "%s-%s", obj_kind_str(a->kind),
				 a->direction[0] ? a->direction : "ingress");
	}
	for (i = 0; i < m->cfg->n_metrics_labels; i++)
		for (j = 0; j < v->spec.n_metadata; j++)
			if (!strcmp(v->spec.metadata[j].key, m->cfg->metrics_labels[i]))
				snprintf(p->labels[i], sizeof(p->labels[i]), "%s",
					 v->spec.metadata[j].value);
}

static int snap_add(struct snap *s, struct snap_prog **ret)
{
	struct snap_prog *v;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 64;
		v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	*ret = &s->v[s->n++];
	memset(*ret, 0, sizeof(**ret));
	return 0;
}

/* In the executor: every program in the kernel, bpfd's view of its own. */
static int job_scrape(void *arg)
{
	struct snap *s = arg;
	struct rpc_exec *r = s->m->rx;
	const struct rpc_kernel *in = &r->inner;
	struct prog_view *view = malloc(sizeof(*view));
	struct kinfo_prog kp;
	struct snap_prog *p;
	const char *t;
	uint32_t id = 0;
	int err;

	if (!view)
		return -ENOMEM;
	/* a scrape is someone watching: on-demand stats stay on */
	rpc_exec_stats_ask(r);
	s->stats = r->stats.on;
	for (;;) {
		err = in->ops->next(in->ctx, id, &id);
		if (err)
			break;
		if (in->ops->kinfo(in->ctx, id, &kp))
			continue;	/* unloaded since */
		err = snap_add(s, &p);
		if (err)
			break;
		p->id = id;
		p->run_cnt = kp.run_cnt;
		p->run_time_ns = kp.run_time_ns;
		if (!in->ops->view(in->ctx, id, view)) {
			snap_owned(s->m, p, view);
			continue;
		}
		snprintf(p->name, sizeof(p->name), "%s", kp.name);
		t = kinfo_type_name(kp.type);
		snprintf(p->kind, sizeof(p->kind), "%s", t ? t : "unknown");
	}
	free(view);
	return err == -ENOENT ? 0 : err;
}

/* ---- the exposition format ---- */

struct sbuf {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t cap;
	char *p;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && b->len + n < b->cap) {
			b->len += n;
			return;
		}
		cap = b->cap ? b->cap * 2 : 16384;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

/* A label value: \ " and newline escaped. */
static void sb_value(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			sb_printf(b, "\\\\");
		else if (*s == '"')
			sb_printf(b, "\\\"");
		else if (*s == '\n')
			sb_printf(b, "\\n");
		else
			sb_printf(b, "%c", *s);
	}
}

static void sb_family(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prog_labels(struct sbuf *b, const struct metrics *m, const struct snap_prog *p)
{
	size_t i;

	sb_printf(b, "{id=\"%u\",name=\"", p->id);
	sb_value(b, p->name);
	sb_printf(b, "\",kind=\"");
	sb_value(b, p->kind);
	sb_printf(b, "\",attach_point=\"");
	sb_value(b, p->attach);
	sb_printf(b, "\"");
	for (i = 0; i < m->cfg->n_metrics_labels; i++) {
		sb_printf(b, ",%s=\"", m->label_names[i]);
		sb_value(b, p->labels[i]);
		sb_printf(b, "\"");
	}
	sb_printf(b, "}");
}

static void fmt_programs(struct sbuf *b, const struct metrics *m, const struct snap *s)
{
	size_t i;

	if (!s->stats)
		return;
	sb_family(b, "bpfd_program_runs_total", "counter",
		  "Runs of the program the kernel counted while run statistics were on.");
	for (i = 0; i < s->n; i++) {
		sb_printf(b, "bpfd_program_runs_total");
		prog_labels(b, m, &s->v[i]);
		sb_printf(b, " %llu\n", (unsigned long long)s->v[i].run_cnt);
	}
	sb_family(b, "bpfd_program_run_time_seconds_total", "counter",
		  "Time the program ran in the runs counted.");
	for (i = 0; i < s->n; i++) {
		sb_printf(b, "bpfd_program_run_time_seconds_total");
		prog_labels(b, m, &s->v[i]);
		sb_printf(b, " %.9f\n", s->v[i].run_time_ns / 1e9);
	}
}

/* Counts of distinct (a, b) pairs among the programs: by kind and owner, or
 * chain members by interface and hook. */
struct pair_count {
	const char *a;
	const char *b;
	size_t n;
};

static size_t pair_add(struct pair_count *v, size_t n, const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].a, a) && !strcmp(v[i].b, b))
			break;
	if (i == n)
		v[n++] = (struct pair_count){ .a = a, .b = b };
	v[i].n++;
	return n;
}

static void fmt_pairs(struct sbuf *b, const char *name, const char *la, const char *lb,
		      const struct pair_count *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sb_printf(b, "%s{%s=\"", name, la);
		sb_value(b, v[i].a);
		sb_printf(b, "\",%s=\"", lb);
		sb_value(b, v[i].b);
		sb_printf(b, "\"} %zu\n", v[i].n);
	}
}

static void fmt_counts(struct sbuf *b, const struct snap *s)
{
	struct pair_count *v = calloc(s->n + 1, sizeof(*v));
	size_t i, n = 0;

	if (!v) {
		b->oom = true;
		return;
	}
	sb_family(b, "bpfd_programs", "gauge",
		  "Programs loaded in the kernel, by kind (bpfd's kind for its own, the kernel's program type for others) and owner.");
	for (i = 0; i < s->n; i++)
		n = pair_add(v, n, s->v[i].kind, s->v[i].owned ? "bpfd" : "other");
	fmt_pairs(b, "bpfd_programs", "kind", "owner", v, n);
	sb_family(b, "bpfd_chain_members", "gauge",
		  "bpfd's programs on each interface's XDP, TC and TCX hooks.");
	n = 0;
	for (i = 0; i < s->n; i++)
		if (s->v[i].hook[0])
			n = pair_add(v, n, s->v[i].iface, s->v[i].hook);
	fmt_pairs(b, "bpfd_chain_members", "interface", "hook", v, n);
	free(v);
}

static void fmt_counters(struct sbuf *b)
{
	const char *method;
	uint64_t cum = 0;
	size_t i;
	int c;

	pthread_mutex_lock(&ctr.lock);
	sb_family(b, "bpfd_rpc_calls_total", "counter",
		  "gRPC calls answered, by method and status code.");
	for (i = 0; i < ctr.n_rpc; i++) {
		method = ctr.rpc[i].method;
		if (method && strrchr(method, '/'))
			method = strrchr(method, '/') + 1;
		for (c = 0; c < RPC_CODES; c++) {
			if (!ctr.rpc[i].calls[c])
				continue;
			sb_printf(b, "bpfd_rpc_calls_total{method=\"");
			sb_value(b, method ? method : "unknown");
			sb_printf(b, "\",code=\"%s\"} %llu\n", grpc_status_name(c),
				  (unsigned long long)ctr.rpc[i].calls[c]);
		}
	}
	sb_family(b, "bpfd_load_duration_seconds", "histogram",
		  "Time from a Load request read to its reply ready, failed loads included.");
	for (i = 0; i < N_BUCKETS; i++) {
		cum += ctr.load_le[i];
		sb_printf(b, "bpfd_load_duration_seconds_bucket{le=\"%g\"} %llu\n",
			  load_buckets[i], (unsigned long long)cum);
	}
	sb_printf(b, "bpfd_load_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
		  (unsigned long long)ctr.load_n);
	sb_printf(b, "bpfd_load_duration_seconds_sum %.9f\n", ctr.load_ns / 1e9);
	sb_printf(b, "bpfd_load_duration_seconds_count %llu\n", (unsigned long long)ctr.load_n);
	pthread_mutex_unlock(&ctr.lock);
}

/* The daemon's resident set, from /proc/self/statm; 0 when unreadable. */
static uint64_t rss_bytes(void)
{
	unsigned long long size, res = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void fmt_daemon(struct sbuf *b, const struct snap *s)
{
	sb_family(b, "bpfd_run_stats_enabled", "gauge",
		  "1 while the kernel's run statistics are on ([monitor] stats).");
	sb_printf(b, "bpfd_run_stats_enabled %d\n", s->stats);
	sb_family(b, "process_resident_memory_bytes", "gauge", "Resident memory of the daemon.");
	sb_printf(b, "process_resident_memory_bytes %llu\n", (unsigned long long)rss_bytes());
}

/* ---- the endpoint ---- */

int metrics_route(const struct httpd_req *req, const char **ret_allow)
{
	*ret_allow = NULL;
	if (strcmp(req->path, "/metrics"))
		return 404;
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		*ret_allow = "GET, HEAD";
		return 405;
	}
	return 200;
}

static void text_body(struct httpd_resp *resp, const char *text)
{
	resp->body = strdup(text);
	resp->len = resp->body ? strlen(resp->body) : 0;
}

static void handle(void *arg, const struct httpd_req *req, struct httpd_resp *resp)
{
	struct metrics *m = arg;
	struct snap s = { .m = m };
	struct sbuf b = { 0 };
	int err;

	resp->status = metrics_route(req, &resp->allow);
	if (resp->status == 404)
		return text_body(resp, "Not found: bpfd serves GET /metrics\n");
	if (resp->status == 405)
		return text_body(resp, "Method not allowed: use GET (or HEAD) /metrics\n");
	err = exec_call(m->rx->ex, job_scrape, &s);
	if (err) {
		log_warn("Metrics scrape failed: %s", strerror(-err));
		resp->status = err == -ESHUTDOWN ? 503 : 500;
		free(s.v);
		return text_body(resp, "The scrape of the kernel's programs failed; see the daemon's log\n");
	}
	fmt_programs(&b, m, &s);
	fmt_counts(&b, &s);
	fmt_counters(&b);
	fmt_daemon(&b, &s);
	free(s.v);
	if (b.oom) {
		free(b.p);
		resp->status = 500;
		return text_body(resp, "Out of memory\n");
	}
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->body = b.p;
	resp->len = b.len;
}

int metrics_new(const struct bpfd_config *cfg, struct rpc_exec *rx, struct errmsg *em,
		struct metrics **ret)
{
	struct metrics *m = calloc(1, sizeof(*m));
	size_t i;
	int err;

	if (!m)
		return errmsg_set(em, -ENOMEM, "Out of memory");
	m->cfg = cfg;
	m->rx = rx;
	m->stop[0] = m->stop[1] = -1;
	for (i = 0; i < cfg->n_metrics_labels; i++)
		config_label_name(cfg->metrics_labels[i], m->label_names[i],
				  sizeof(m->label_names[i]));
	if (pipe2(m->stop, O_CLOEXEC) < 0) {
		err = errmsg_set(em, -errno, "Failed to create a pipe: %s", strerror(errno));
		goto out;
	}
	err = httpd_new(cfg->metrics_addr, cfg->metrics_port, handle, m, em, &m->httpd);
out:
	if (err) {
		metrics_free(m);
		return err;
	}
	log_info("Serving metrics on http://%s%s%s:%u/metrics", strchr(cfg->metrics_addr, ':') ? "[" : "",
		 cfg->metrics_addr, strchr(cfg->metrics_addr, ':') ? "]" : "", httpd_port(m->httpd));
	*ret = m;
	return 0;
}

uint16_t metrics_port(const struct metrics *m)
{
	return httpd_port(m->httpd);
}

static void *metrics_thread(void *arg)
{
	struct metrics *m = arg;
	int err;

	err = httpd_run(m->httpd, m->stop[0]);
	if (err)
		log_errno(LOG_ERR, err, "The metrics endpoint failed; it serves no more");
	return NULL;
}

int metrics_start(struct metrics *m)
{
	int err = pthread_create(&m->thread, NULL, metrics_thread, m);

	if (err)
		return -err;
	pthread_setname_np(m->thread, "bpfd-metrics");
	m->running = true;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	if (m->running) {
		(void)!write(m->stop[1], "x", 1);
		pthread_join(m->thread, NULL);
	}
	httpd_free(m->httpd);
	if (m->stop[0] >= 0)
		close(m->stop[0]);
	if (m->stop[1] >= 0)
		close(m->stop[1]);
	free(m);
}
