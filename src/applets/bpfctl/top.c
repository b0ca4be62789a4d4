/* SPDX-License-Identifier: Apache-2.0 */
/* top.c - bpfctl top: a live view of the busiest programs from the daemon's List
 * (run statistics), in a terminal (plain ANSI escapes) or in batch mode */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <pb_decode.h>

#include "applets/bpfctl/bpfctl.h"
#include "cJSON.h"

#define HIST_LEN	48	/* samples in the history graph */

enum col { COL_ID, COL_NAME, COL_KIND, COL_ATTACH, COL_OWNER, COL_EVENTS, COL_AVG, COL_CPU,
	   N_COLS };

static const struct column {
	const char *key;	/* -s KEY */
	const char *title;
	int width;		/* negative: left-aligned */
	bool numeric;		/* sorted largest first */
} cols[N_COLS] = {
	[COL_ID] = { "id", "ID", 7, false },
	[COL_NAME] = { "name", "NAME", -16, false },
	[COL_KIND] = { "kind", "KIND", -11, false },
	[COL_ATTACH] = { "attach", "ATTACH POINT", -26, false },
	[COL_OWNER] = { "owner", "OWNER", -16, false },
	[COL_EVENTS] = { "events", "EVENTS/S", 11, true },
	[COL_AVG] = { "avg", "AVG NS", 9, true },
	[COL_CPU] = { "cpu", "CPU%", 7, true },
};

struct top_opts {
	struct bpfctl_common c;
	bool batch;
	const char *iterations;
	const char *delay;
	const char *sort;
};

static const struct opt top_optv[] = {
	OPT_FLAG("batch", 'b', struct top_opts, batch,
		 "batch mode: print each sample as lines (also when not on a terminal)"),
	OPT_STR("iterations", 'n', struct top_opts, iterations, "N",
		"stop after N samples (default: until q or Ctrl-C; batch: forever)"),
	OPT_STR("delay", 'd', struct top_opts, delay, "SECONDS",
		"time between samples (default 1; 0.1 to 3600)"),
	OPT_STR("sort", 's', struct top_opts, sort, "COLUMN",
		"sort by id, name, kind, attach, owner, events, avg or cpu (default cpu)"),
	BPFCTL_COMMON_OPTS(struct top_opts),
	OPT_END
};

static const struct opts_spec top_spec = {
	.prog = "bpfctl top",
	.usage = "bpfctl top [-b] [-n N] [-d SECONDS] [-s COLUMN] [-o text|json]",
	.desc = "Show the busiest BPF programs, from the daemon's run statistics: events per\n"
		"second, average run time and estimated CPU share (of one CPU) over each\n"
		"interval.  Every program in the kernel is shown; OWNER is bpfd's metadata\n"
		"of its programs (\"bpfd\" without metadata), \"not bpfd's\" for others.\n"
		"Keys: q quit, up/down select (its history is graphed), < > sort column,\n"
		"1-8 sort by that column, r reverse.  -o json: one line per sample.",
	.optv = top_optv,
};

struct top_row {
	uint32_t id;
	char name[128];
	char kind[32];
	char attach[256];
	char owner[128];
	bool stats;		/* the daemon sent counts */
	uint64_t cnt;
	uint64_t time_ns;
	bool rated;		/* a previous sample exists: the rates mean something */
	double eps;		/* events (runs) per second */
	double avg;		/* ns per run in the interval */
	double cpu;		/* % of one CPU */
	double hist[HIST_LEN];	/* eps of the last samples, oldest first */
	size_t n_hist;
};

struct sample {
	struct top_row *v;	/* in id order (the daemon's walk) */
	size_t n;
	size_t cap;
	bool stats;
	struct timespec at;
	bpfd_v1_ListResponse_ListResult *res;	/* decode scratch */
	bool oom;
};

struct top {
	struct top_opts o;
	struct sample cur;
	struct sample prev;
	enum col sort;
	bool reverse;
	uint32_t sel;		/* the selected program's id, 0 none */
	size_t *order;		/* display order: indexes into cur.v */
	double delay;
	bool tty;
	struct termios saved;
};

/* ---- one sample: a List ---- */

static void iface_dir(char *buf, size_t size, const char *iface, const char *dir)
{
	snprintf(buf, size, "%s/%s", iface, dir[0] ? dir : "ingress");
}

static void attach_text(const bpfd_v1_ProgramInfo *p, char *buf, size_t size)
{
	const bpfd_v1_AttachInfo *a = &p->attach;

	buf[0] = '\0';
	if (!p->has_attach)
		return;
	switch (a->which_info) {
	case bpfd_v1_AttachInfo_xdp_attach_info_tag:
		snprintf(buf, size, "%s", a->info.xdp_attach_info.iface);
		break;
	case bpfd_v1_AttachInfo_tc_attach_info_tag:
		iface_dir(buf, size, a->info.tc_attach_info.iface,
			  a->info.tc_attach_info.direction);
		break;
	case bpfd_v1_AttachInfo_tcx_attach_info_tag:
		iface_dir(buf, size, a->info.tcx_attach_info.iface,
			  a->info.tcx_attach_info.direction);
		break;
	case bpfd_v1_AttachInfo_tracepoint_attach_info_tag:
		snprintf(buf, size, "%s", a->info.tracepoint_attach_info.tracepoint);
		break;
	case bpfd_v1_AttachInfo_kprobe_attach_info_tag:
		snprintf(buf, size, "%s", a->info.kprobe_attach_info.fn_name);
		break;
	case bpfd_v1_AttachInfo_uprobe_attach_info_tag:
		snprintf(buf, size, "%.150s:%.100s", a->info.uprobe_attach_info.target,
			 a->info.uprobe_attach_info.has_fn_name ?
			 a->info.uprobe_attach_info.fn_name : "");
		break;
	case bpfd_v1_AttachInfo_fentry_attach_info_tag:
		snprintf(buf, size, "%s", a->info.fentry_attach_info.fn_name);
		break;
	case bpfd_v1_AttachInfo_fexit_attach_info_tag:
		snprintf(buf, size, "%s", a->info.fexit_attach_info.fn_name);
		break;
	}
}

static void owner_text(const bpfd_v1_ListResponse_ListResult *res, char *buf, size_t size)
{
	size_t i, n = 0;

	if (!res->has_info) {
		snprintf(buf, size, "not bpfd's");
		return;
	}
	snprintf(buf, size, "bpfd");
	for (i = 0; i < res->info.metadata_count && n < size; i++)
		n += snprintf(buf + n, size - n, "%s%s=%s", i ? "," : "",
			      res->info.metadata[i].key, res->info.metadata[i].value);
}

static bool result_decode(pb_istream_t *s, const pb_field_t *f, void **arg)
{
	struct sample *sm = *arg;
	bpfd_v1_ListResponse_ListResult *res = sm->res;
	struct top_row *r;
	size_t cap;

	(void)f;
	memset(res, 0, sizeof(*res));
	if (!pb_decode(s, bpfd_v1_ListResponse_ListResult_fields, res))
		return false;
	if (sm->n == sm->cap) {
		cap = sm->cap ? sm->cap * 2 : 64;
		r = reallocarray(sm->v, cap, sizeof(*r));
		if (!r) {
			sm->oom = true;
			return false;
		}
		sm->v = r;
		sm->cap = cap;
	}
	r = &sm->v[sm->n++];
	memset(r, 0, sizeof(*r));
	r->id = res->kernel_info.id;
	snprintf(r->name, sizeof(r->name), "%s",
		 res->has_info && res->info.name[0] ? res->info.name : res->kernel_info.name);
	show_prog_kind(res->has_info ? &res->info : NULL, res->kernel_info.program_type,
		       r->kind, sizeof(r->kind));
	if (res->has_info)
		attach_text(&res->info, r->attach, sizeof(r->attach));
	owner_text(res, r->owner, sizeof(r->owner));
	r->stats = res->kernel_info.has_run_count && res->kernel_info.has_run_time_ns;
	r->cnt = res->kernel_info.run_count;
	r->time_ns = res->kernel_info.run_time_ns;
	if (r->stats)
		sm->stats = true;
	return true;
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec - b->tv_sec) + (a->tv_nsec - b->tv_nsec) / 1e9;
}

/* Rates of each program of cur from its counts in prev (both in id order). */
static void rate(struct top *t)
{
	double dt = ts_diff(&t->cur.at, &t->prev.at);
	const struct top_row *p;
	struct top_row *r;
	size_t i, j = 0;
	uint64_t dc, dn;

	for (i = 0; i < t->cur.n; i++) {
		r = &t->cur.v[i];
		while (j < t->prev.n && t->prev.v[j].id < r->id)
			j++;
		if (j == t->prev.n || t->prev.v[j].id != r->id)
			continue;
		p = &t->prev.v[j];
		memcpy(r->hist, p->hist, sizeof(r->hist));
		r->n_hist = p->n_hist;
		if (!r->stats || !p->stats || dt <= 0 || r->cnt < p->cnt || r->time_ns < p->time_ns)
			continue;
		dc = r->cnt - p->cnt;
		dn = r->time_ns - p->time_ns;
		r->rated = true;
		r->eps = dc / dt;
		r->avg = dc ? (double)dn / dc : 0;
		r->cpu = dn / (dt * 1e9) * 100;
		if (r->n_hist == HIST_LEN)
			memmove(r->hist, r->hist + 1, sizeof(r->hist[0]) * (HIST_LEN - 1));
		else
			r->n_hist++;
		r->hist[r->n_hist - 1] = r->eps;
	}
}

static int take_sample(struct top *t)
{
	bpfd_v1_ListRequest req = { 0 };
	bpfd_v1_ListResponse resp = { .results = { .funcs.decode = result_decode,
						   .arg = &t->cur } };
	struct sample tmp;
	int rc;

	tmp = t->prev;
	t->prev = t->cur;
	t->cur = tmp;
	t->cur.n = 0;
	t->cur.stats = false;
	t->cur.oom = false;
	req.has_bpfd_programs_only = true;
	req.bpfd_programs_only = false;
	rc = bpfctl_call(&t->o.c, "/bpfd.v1.Bpfd/List", bpfd_v1_ListRequest_fields, &req,
			 bpfd_v1_ListResponse_fields, &resp);
	if (rc)
		return rc;
	if (t->cur.oom)
		return bpfctl_error(&t->o.c, "Out of memory");
	clock_gettime(CLOCK_MONOTONIC, &t->cur.at);
	rate(t);
	return 0;
}

/* ---- order ---- */

static struct top *sort_top;	/* qsort has no argument */

static int cmp_rows(const void *a, const void *b)
{
	const struct top_row *x = &sort_top->cur.v[*(const size_t *)a];
	const struct top_row *y = &sort_top->cur.v[*(const size_t *)b];
	enum col sc = sort_top->sort < N_COLS ? sort_top->sort : COL_CPU;
	double dx = 0, dy = 0;
	int c = 0;

	switch (sc) {
	case COL_ID: c = x->id < y->id ? -1 : x->id > y->id; break;
	case COL_NAME: c = strcmp(x->name, y->name); break;
	case COL_KIND: c = strcmp(x->kind, y->kind); break;
	case COL_ATTACH: c = strcmp(x->attach, y->attach); break;
	case COL_OWNER: c = strcmp(x->owner, y->owner); break;
	case COL_EVENTS: dx = x->eps; dy = y->eps; break;
	case COL_AVG: dx = x->avg; dy = y->avg; break;
	case COL_CPU: dx = x->cpu; dy = y->cpu; break;
	default: break;
	}
	if (cols[sc].numeric)
		c = dx < dy ? 1 : dx > dy ? -1 : 0;	/* largest first */
	if (!c)
		c = x->id < y->id ? -1 : x->id > y->id;
	return sort_top->reverse ? -c : c;
}

static int order(struct top *t)
{
	size_t *o = reallocarray(t->order, t->cur.n ? t->cur.n : 1, sizeof(*o));
	size_t i;

	if (!o)
		return -ENOMEM;
	t->order = o;
	for (i = 0; i < t->cur.n; i++)
		o[i] = i;
	sort_top = t;
	qsort(o, t->cur.n, sizeof(*o), cmp_rows);
	return 0;
}

/* ---- printing ---- */

static void cell(char *buf, size_t size, const struct top_row *r, enum col c)
{
	if (c >= COL_EVENTS && !r->rated) {
		snprintf(buf, size, "%s", r->stats ? "-" : "n/a");
		return;
	}
	switch (c) {
	case COL_ID: snprintf(buf, size, "%u", r->id); break;
	case COL_NAME: snprintf(buf, size, "%s", r->name); break;
	case COL_KIND: snprintf(buf, size, "%s", r->kind); break;
	case COL_ATTACH: snprintf(buf, size, "%s", r->attach[0] ? r->attach : "-"); break;
	case COL_OWNER: snprintf(buf, size, "%s", r->owner); break;
	case COL_EVENTS: snprintf(buf, size, "%.1f", r->eps); break;
	case COL_AVG: snprintf(buf, size, "%.0f", r->avg); break;
	case COL_CPU: snprintf(buf, size, "%.2f", r->cpu); break;
	default: buf[0] = '\0';
	}
}

/* One line of the table into buf: columns cut to their width. */
static void table_line(char *buf, size_t size, const struct top_row *r, const struct top *t)
{
	char v[300];
	size_t n = 0;
	int c, w;

	for (c = 0; c < N_COLS && n < size; c++) {
		w = abs(cols[c].width);
		if (r)
			cell(v, sizeof(v), r, c);
		else
			snprintf(v, sizeof(v), "%s%s", cols[c].title,
				 t && (int)t->sort == c ? (t->reverse ? "^" : "v") : "");
		if ((int)strlen(v) > w)
			v[w] = '\0';
		n += snprintf(buf + n, size - n, "%s%*s", c ? " " : "",
			      cols[c].width, v);
	}
}

static void summary(char *buf, size_t size, const struct top *t)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&now, &tm));
	snprintf(buf, size, "bpfctl top - %s, %zu programs, %s, sorted by %s%s", when,
		 t->cur.n, t->cur.stats ? "run statistics on" :
		 "no run statistics (the daemon's [monitor] stats is off, or it cannot enable them)",
		 cols[t->sort].key, t->reverse ? " (reversed)" : "");
}

static void print_batch(struct top *t)
{
	char line[512];
	size_t i;

	summary(line, sizeof(line), t);
	printf("%s\n", line);
	table_line(line, sizeof(line), NULL, NULL);
	printf("%s\n", line);
	for (i = 0; i < t->cur.n; i++) {
		table_line(line, sizeof(line), &t->cur.v[t->order[i]], NULL);
		printf("%s\n", line);
	}
	printf("\n");
	fflush(stdout);
}

static cJSON *row_json(const struct top_row *r)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id", r->id);
	cJSON_AddStringToObject(o, "name", r->name);
	cJSON_AddStringToObject(o, "kind", r->kind);
	cJSON_AddStringToObject(o, "attach_point", r->attach);
	cJSON_AddStringToObject(o, "owner", r->owner);
	if (r->stats) {
		cJSON_AddNumberToObject(o, "run_count", r->cnt);
		cJSON_AddNumberToObject(o, "run_time_ns", r->time_ns);
	} else {
		cJSON_AddNullToObject(o, "run_count");
		cJSON_AddNullToObject(o, "run_time_ns");
	}
	if (r->rated) {
		cJSON_AddNumberToObject(o, "events_per_sec", r->eps);
		cJSON_AddNumberToObject(o, "avg_ns", r->avg);
		cJSON_AddNumberToObject(o, "cpu_percent", r->cpu);
	} else {
		cJSON_AddNullToObject(o, "events_per_sec");
		cJSON_AddNullToObject(o, "avg_ns");
		cJSON_AddNullToObject(o, "cpu_percent");
	}
	return o;
}

/* One line: {"time": ..., "run_stats": bool, "sort": ..., "programs": [...]}. */
static int print_json(struct top *t)
{
	cJSON *root = cJSON_CreateObject(), *arr, *o;
	char *s = NULL;
	size_t i;
	int rc = -ENOMEM;

	if (!root)
		return rc;
	cJSON_AddNumberToObject(root, "time", (double)time(NULL));
	cJSON_AddBoolToObject(root, "run_stats", t->cur.stats);
	cJSON_AddStringToObject(root, "sort", cols[t->sort].key);
	arr = cJSON_AddArrayToObject(root, "programs");
	for (i = 0; arr && i < t->cur.n; i++) {
		o = row_json(&t->cur.v[t->order[i]]);
		if (!o)
			goto out;
		cJSON_AddItemToArray(arr, o);
	}
	s = cJSON_PrintUnformatted(root);
	if (s) {
		printf("%s\n", s);
		fflush(stdout);
		rc = 0;
	}
out:
	cJSON_free(s);
	cJSON_Delete(root);
	return rc;
}

/* ---- the terminal ---- */

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static struct termios *restore_tio;

static void term_restore(void)
{
	if (!restore_tio)
		return;
	fputs("\033[?25h\033[?1049l", stdout);	/* cursor back, main screen */
	fflush(stdout);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, restore_tio);
	restore_tio = NULL;
}

static int term_setup(struct top *t)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &t->saved) < 0)
		return -errno;
	raw = t->saved;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
		return -errno;
	restore_tio = &t->saved;
	atexit(term_restore);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	fputs("\033[?1049h\033[?25l", stdout);	/* alternate screen, no cursor */
	return 0;
}

/* A graph of v[0..n) in block characters, scaled to its largest value. */
static void sparkline(char *buf, size_t size, const double *v, size_t n, double *ret_max)
{
	static const char *const bars[] = { "\u2581", "\u2582", "\u2583", "\u2584",
					     "\u2585", "\u2586", "\u2587", "\u2588" };
	double max = 0;
	size_t i, len = 0;
	int b;

	for (i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	buf[0] = '\0';
	for (i = 0; i < n && len + 4 < size; i++) {
		b = max > 0 ? (int)(v[i] / max * 7 + 0.5) : 0;
		len += snprintf(buf + len, size - len, "%s", bars[b < 0 ? 0 : b > 7 ? 7 : b]);
	}
	*ret_max = max;
}

static size_t sel_index(const struct top *t)
{
	size_t i;

	for (i = 0; i < t->cur.n; i++)
		if (t->cur.v[t->order[i]].id == t->sel)
			return i;
	return 0;
}

static void draw(struct top *t)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	char line[1024], graph[HIST_LEN * 4 + 1];
	const struct top_row *s = NULL;
	size_t i, first = 0, rows, sel;
	double max;

	ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws);
	if (ws.ws_row < 8)
		ws.ws_row = 8;
	rows = ws.ws_row - 7;
	if (t->cur.n && !t->sel)
		t->sel = t->cur.v[t->order[0]].id;
	sel = sel_index(t);
	if (t->cur.n)
		t->sel = t->cur.v[t->order[sel]].id;
	if (sel >= rows)
		first = sel - rows + 1;
	fputs("\033[H\033[2J", stdout);
	summary(line, sizeof(line), t);
	printf("%.*s\r\n", ws.ws_col, line);
	printf("%.*s\r\n", ws.ws_col,
	       "q quit  up/down select  < > sort column  1-8 sort by column  r reverse");
	table_line(line, sizeof(line), NULL, t);
	printf("\033[7m%-*.*s\033[0m\r\n", ws.ws_col, ws.ws_col, line);
	for (i = first; i < t->cur.n && i < first + rows; i++) {
		table_line(line, sizeof(line), &t->cur.v[t->order[i]], NULL);
		printf("%s%.*s%s\r\n", i == sel ? "\033[1m>" : " ", ws.ws_col - 1, line,
		       i == sel ? "\033[0m" : "");
	}
	if (t->cur.n)
		s = &t->cur.v[t->order[sel]];
	printf("\033[%d;1H", ws.ws_row - 2);
	if (s) {
		sparkline(graph, sizeof(graph), s->hist, s->n_hist, &max);
		printf("%.*s\r\n", ws.ws_col, "events/s of the selected program, oldest first:");
		printf("%u %.20s  %s  (max %.1f/s)", s->id, s->name, graph, max);
	}
	fflush(stdout);
}

/* Handle the keys read; returns true to quit. */
static bool keys(struct top *t)
{
	char buf[64];
	size_t sel;
	ssize_t n, i;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	for (i = 0; i < n; i++) {
		sel = sel_index(t);
		switch (buf[i]) {
		case 'q':
		case 3:		/* Ctrl-C in raw mode */
			return true;
		case '<':
			t->sort = t->sort ? t->sort - 1 : N_COLS - 1;
			break;
		case '>':
			t->sort = (t->sort + 1) % N_COLS;
			break;
		case 'r':
			t->reverse = !t->reverse;
			break;
		case 'k':
		case 'j':
			if (buf[i] == 'k' && sel > 0)
				t->sel = t->cur.v[t->order[sel - 1]].id;
			else if (buf[i] == 'j' && sel + 1 < t->cur.n)
				t->sel = t->cur.v[t->order[sel + 1]].id;
			break;
		case '\033':	/* ESC [ A / B: the arrows */
			if (i + 2 < n && buf[i + 1] == '[') {
				if (buf[i + 2] == 'A' && sel > 0)
					t->sel = t->cur.v[t->order[sel - 1]].id;
				else if (buf[i + 2] == 'B' && sel + 1 < t->cur.n)
					t->sel = t->cur.v[t->order[sel + 1]].id;
				i += 2;
			}
			break;
		default:
			if (buf[i] >= '1' && buf[i] < '1' + N_COLS) {
				t->sort = buf[i] - '1';
				t->reverse = false;
			}
		}
	}
	return false;
}

/* Wait for the next sample: delay seconds, or less when keys come (redrawn). */
static bool wait_next(struct top *t)
{
	struct timespec start, now;
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	double left;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = t->delay - ts_diff(&now, &start);
		if (left <= 0)
			return false;
		if (!t->tty) {
			if (nanosleep(&(struct timespec){ (time_t)left,
				      (long)((left - (time_t)left) * 1e9) }, NULL) < 0 && stop_sig)
				return true;
			continue;
		}
		if (poll(&p, 1, (int)(left * 1000) + 1) < 0 && stop_sig)
			return true;
		if (stop_sig)
			return true;
		if (p.revents && keys(t))
			return true;
		if (p.revents && !order(t))
			draw(t);
	}
}

static int parse_args(struct top *t, long *ret_n)
{
	char *end;
	int c;

	if (t->o.iterations) {
		errno = 0;
		*ret_n = strtol(t->o.iterations, &end, 10);
		if (errno || *end || end == t->o.iterations || *ret_n < 1)
			return opts_bad_value(&top_spec, "--iterations", t->o.iterations,
					      strlen(t->o.iterations), "a number of samples (1 or more)");
	}
	if (t->o.delay) {
		errno = 0;
		t->delay = strtod(t->o.delay, &end);
		if (errno || *end || end == t->o.delay || !(t->delay >= 0.1 && t->delay <= 3600))
			return opts_bad_value(&top_spec, "--delay", t->o.delay, strlen(t->o.delay),
					      "seconds from 0.1 to 3600");
	}
	if (t->o.sort) {
		for (c = 0; c < N_COLS && strcmp(cols[c].key, t->o.sort); c++)
			;
		if (c == N_COLS)
			return opts_bad_value(&top_spec, "--sort", t->o.sort, strlen(t->o.sort),
					      "id, name, kind, attach, owner, events, avg or cpu");
		t->sort = c;
	}
	return 0;
}

int bpfctl_top(int argc, char **argv)
{
	struct top *t = calloc(1, sizeof(*t));
	long n = 0, i;
	bool json;
	int idx, rc = 2;

	if (!t)
		return 1;
	t->delay = 1;
	t->sort = COL_CPU;
	idx = bpfctl_parse(&top_spec, &t->o, argc, argv, NULL, 0);
	if (idx < 0) {
		rc = opts_exit_code(idx);
		goto out;
	}
	if (bpfctl_common_check(&top_spec, &t->o.c) || parse_args(t, &n))
		goto out;
	json = bpfctl_json(&t->o.c);
	t->cur.res = calloc(1, sizeof(*t->cur.res));
	t->prev.res = calloc(1, sizeof(*t->prev.res));
	if (!t->cur.res || !t->prev.res) {
		rc = bpfctl_error(&t->o.c, "Out of memory");
		goto out;
	}
	t->tty = !t->o.batch && !json && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	/* the first sample on the main screen: an error there stays readable */
	rc = take_sample(t);
	if (rc)
		goto out;
	if (t->tty && term_setup(t)) {
		rc = bpfctl_error(&t->o.c, "Cannot set up the terminal: %s; use -b", strerror(errno));
		goto out;
	}
	if (!t->tty) {
		struct sigaction sa = { .sa_handler = on_signal };

		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	for (i = 0; !n || i < n; i++) {
		if (i && wait_next(t))
			break;
		rc = i ? take_sample(t) : 0;
		if (rc)
			break;
		if (order(t)) {
			rc = bpfctl_error(&t->o.c, "Out of memory");
			break;
		}
		if (t->tty)
			draw(t);
		else if (json ? print_json(t) : (print_batch(t), 0))
			rc = bpfctl_error(&t->o.c, "Out of memory");
		if (rc || stop_sig)
			break;
	}
out:
	term_restore();
	if (t) {
		free(t->cur.v);
		free(t->prev.v);
		free(t->cur.res);
		free(t->prev.res);
		free(t->order);
		free(t);
	}
	return rc;
}
