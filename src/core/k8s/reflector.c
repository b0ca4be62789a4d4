/* SPDX-License-Identifier: Apache-2.0 */
/* reflector.c - list + watch of one resource into a cache (resourceVersion rules) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "core/base/errmsg.h"
#include "core/base/log.h"
#include "core/k8s/reflector.h"
#include "core/k8s/watch.h"

#define DEFAULT_PAGE		500
#define DEFAULT_WATCH_S		300
#define WATCH_SLACK_S		30	/* silence allowed past timeoutSeconds */
#define MAX_LIST_RESTARTS	3	/* a continue token that expires mid-list */

int k8s_reflector_init(struct k8s_reflector *r, struct k8s_transport *t, const char *path,
		       const char *label_selector, const char *field_selector,
		       k8s_change_fn fn, void *arg, struct errmsg *em)
{
	memset(r, 0, sizeof(*r));
	if (snprintf(r->path, sizeof(r->path), "%s", path) >= (int)sizeof(r->path) ||
	    snprintf(r->label_selector, sizeof(r->label_selector), "%s",
		     label_selector ? label_selector : "") >= (int)sizeof(r->label_selector) ||
	    snprintf(r->field_selector, sizeof(r->field_selector), "%s",
		     field_selector ? field_selector : "") >= (int)sizeof(r->field_selector))
		return errmsg_set(em, -ENAMETOOLONG, "the path or a selector of %.64s is too long",
				  path);
	if (path[0] != '/' || strchr(path, '?'))
		return errmsg_set(em, -EINVAL, "'%.64s' is not a collection path", path);
	r->t = t;
	r->on_change = fn;
	r->arg = arg;
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

void k8s_reflector_fini(struct k8s_reflector *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		cJSON_Delete(r->objs[i]);
	free(r->objs);
	r->objs = NULL;
	r->n = r->cap = 0;
	pthread_mutex_destroy(&r->lock);
}

static int key_cmp(const char *ns1, const char *n1, const char *ns2, const char *n2)
{
	int c = strcmp(ns1 ? ns1 : "", ns2 ? ns2 : "");

	return c ? c : strcmp(n1 ? n1 : "", n2 ? n2 : "");
}

static int obj_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return key_cmp(k8s_meta_str(x, "namespace"), k8s_meta_str(x, "name"),
		       k8s_meta_str(y, "namespace"), k8s_meta_str(y, "name"));
}

/* Index of ns/name in a sorted array, or -(insertion point) - 1. */
static long find(cJSON *const *v, size_t n, const char *ns, const char *name)
{
	size_t lo = 0, hi = n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = key_cmp(k8s_meta_str(v[mid], "namespace"), k8s_meta_str(v[mid], "name"),
			    ns, name);
		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

static int grow(cJSON ***v, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 16;
	cJSON **nv;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nv = reallocarray(*v, ncap, sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static void set_rv(struct k8s_reflector *r, const cJSON *obj)
{
	const char *rv = k8s_meta_str(obj, "resourceVersion");

	if (rv && strlen(rv) < sizeof(r->rv))
		strcpy(r->rv, rv);
}

/* ---- list ---- */

static int list_path(struct k8s_reflector *r, char *path, size_t size, const char *cont,
		     struct errmsg *em)
{
	char limit[16];
	int err;

	snprintf(path, size, "%s", r->path);
	snprintf(limit, sizeof(limit), "%u", r->page_size ? r->page_size : DEFAULT_PAGE);
	err = k8s_path_query(path, size, "limit", limit, em);
	if (!err && *cont)
		err = k8s_path_query(path, size, "continue", cont, em);
	if (!err && r->label_selector[0])
		err = k8s_path_query(path, size, "labelSelector", r->label_selector, em);
	if (!err && r->field_selector[0])
		err = k8s_path_query(path, size, "fieldSelector", r->field_selector, em);
	return err;
}

/* GET one page; its items are moved to (v, n). */
static int list_page(struct k8s_reflector *r, char *cont, size_t cont_size, char *rv,
		     cJSON ***v, size_t *n, size_t *cap, struct errmsg *em)
{
	struct k8s_req req = { .method = "GET" };
	struct k8s_resp resp = { 0 };
	char path[K8S_MAX_PATH + 2048];
	struct k8s_status st;
	cJSON *list = NULL, *items, *it;
	int err;

	err = list_path(r, path, sizeof(path), cont, em);
	if (err)
		return err;
	req.path = path;
	err = r->t->request(r->t, &req, &resp, em);
	if (err) {
		errmsg_prefix(em, "list %s", r->path);
		goto out;
	}
	if (resp.status != 200) {
		k8s_status_from_body(resp.status, resp.body, resp.body_len, &st);
		err = k8s_errno(resp.status, &st);
		errmsg_set(em, err, "list %s: %d %s: %s", r->path, resp.status,
			   st.reason[0] ? st.reason : "error", st.message);
		goto out;
	}
	err = k8s_list_parse(resp.body ? resp.body : "", resp.body_len, &list, rv, cont,
			     cont_size, em);
	if (err) {
		errmsg_prefix(em, "list %s", r->path);
		goto out;
	}
	items = k8s_list_items(list);
	while (items && (it = cJSON_DetachItemFromArray(items, 0))) {
		err = grow(v, cap, *n + 1);
		if (err) {
			cJSON_Delete(it);
			errmsg_set(em, err, "out of memory for the list of %s", r->path);
			goto out;
		}
		(*v)[(*n)++] = it;
	}
out:
	cJSON_Delete(list);
	k8s_resp_fini(&resp);
	return err;
}

/* Tell the handler what differs between the old cache and the new one. */
static void diff(struct k8s_reflector *r, cJSON **old, size_t n_old, cJSON **cur, size_t n_cur)
{
	const char *rv_old, *rv_cur;
	size_t i;
	long j;

	if (!r->on_change)
		return;
	for (i = 0; i < n_cur; i++) {
		j = find(old, n_old, k8s_meta_str(cur[i], "namespace"),
			 k8s_meta_str(cur[i], "name"));
		if (j < 0) {
			r->on_change(r->arg, K8S_ADDED, cur[i]);
			continue;
		}
		rv_old = k8s_meta_str(old[j], "resourceVersion");
		rv_cur = k8s_meta_str(cur[i], "resourceVersion");
		if (strcmp(rv_old, rv_cur))
			r->on_change(r->arg, K8S_MODIFIED, cur[i]);
	}
	for (i = 0; i < n_old; i++) {
		if (find(cur, n_cur, k8s_meta_str(old[i], "namespace"),
			 k8s_meta_str(old[i], "name")) < 0)
			r->on_change(r->arg, K8S_DELETED, old[i]);
	}
}

static int do_list(struct k8s_reflector *r, struct errmsg *em)
{
	char cont[4096] = "", rv[K8S_MAX_RV] = "";
	cJSON **v = NULL, **old;
	size_t n = 0, cap = 0, n_old, i;
	int err, restarts = 0;

	for (;;) {
		err = list_page(r, cont, sizeof(cont), rv, &v, &n, &cap, em);
		if (err == -ESTALE && cont[0] && restarts++ < MAX_LIST_RESTARTS) {
			/* the continue token expired (compaction): from the start */
			for (i = 0; i < n; i++)
				cJSON_Delete(v[i]);
			n = 0;
			cont[0] = '\0';
			if (em)
				em->msg[0] = '\0';
			continue;
		}
		if (err)
			goto fail;
		if (!cont[0])
			break;
	}
	if (n)	/* an empty list leaves v NULL: qsort(NULL, 0) is undefined (UBSan) */
		qsort(v, n, sizeof(*v), obj_cmp);
	pthread_mutex_lock(&r->lock);
	old = r->objs;
	n_old = r->n;
	r->objs = v;
	r->n = n;
	r->cap = cap;
	pthread_mutex_unlock(&r->lock);
	strcpy(r->rv, rv);
	r->synced = true;
	r->lists++;
	diff(r, old, n_old, v, n);
	for (i = 0; i < n_old; i++)
		cJSON_Delete(old[i]);
	free(old);
	log_debug("listed %s: %zu objects at resourceVersion %s", r->path, n, r->rv);
	return 0;
fail:
	for (i = 0; i < n; i++)
		cJSON_Delete(v[i]);
	free(v);
	return err;
}

/* ---- watch ---- */

struct watch_ctx {
	struct k8s_reflector *r;
	struct k8s_watch_dec dec;
	bool got_bytes;
	bool expired;
};

static int apply(struct k8s_reflector *r, enum k8s_event_type type, cJSON *obj)
{
	const char *ns = k8s_meta_str(obj, "namespace"), *name = k8s_meta_str(obj, "name");
	cJSON *gone = NULL;
	long i;
	int err = 0;

	pthread_mutex_lock(&r->lock);
	i = find(r->objs, r->n, ns, name);
	if (type == K8S_DELETED) {
		if (i >= 0) {
			gone = r->objs[i];
			memmove(r->objs + i, r->objs + i + 1, (r->n - (size_t)i - 1) * sizeof(*r->objs));
			r->n--;
		}
	} else if (i >= 0) {
		gone = r->objs[i];
		r->objs[i] = obj;
	} else {
		err = grow(&r->objs, &r->cap, r->n + 1);
		if (!err) {
			i = -i - 1;
			memmove(r->objs + i + 1, r->objs + i, (r->n - (size_t)i) * sizeof(*r->objs));
			r->objs[i] = obj;
			r->n++;
		}
	}
	pthread_mutex_unlock(&r->lock);
	if (err)
		return err;
	set_rv(r, obj);
	r->events++;
	if (r->on_change)
		r->on_change(r->arg, type == K8S_ADDED && gone ? K8S_MODIFIED : type, obj);
	cJSON_Delete(gone);
	if (type == K8S_DELETED)
		cJSON_Delete(obj);
	return 0;
}

static int on_event(void *arg, enum k8s_event_type type, cJSON *obj, struct errmsg *em)
{
	struct watch_ctx *w = arg;
	struct k8s_status st;
	int err;

	switch (type) {
	case K8S_BOOKMARK:
		set_rv(w->r, obj);
		w->r->bookmarks++;
		cJSON_Delete(obj);
		return 0;
	case K8S_ERROR:
		k8s_status_from_json(obj, &st);
		cJSON_Delete(obj);
		if (k8s_status_is_expired(&st)) {
			w->expired = true;
			return -ESTALE;
		}
		err = st.code ? k8s_errno(st.code, &st) : -EPROTO;
		return errmsg_set(em, err ? err : -EPROTO, "watch %s: ERROR event: %d %s: %s",
				  w->r->path, st.code, st.reason, st.message);
	default:
		err = apply(w->r, type, obj);
		if (err) {
			cJSON_Delete(obj);
			return errmsg_set(em, err, "out of memory for the cache of %s",
					  w->r->path);
		}
		return 0;
	}
}

static int on_body(void *arg, const void *data, size_t len, struct errmsg *em)
{
	struct watch_ctx *w = arg;

	w->got_bytes = true;
	return k8s_watch_dec_feed(&w->dec, data, len, em);
}

static int watch_path(struct k8s_reflector *r, char *path, size_t size, struct errmsg *em)
{
	char tmo[16];
	int err;

	snprintf(path, size, "%s", r->path);
	snprintf(tmo, sizeof(tmo), "%u", r->watch_timeout_s ? r->watch_timeout_s : DEFAULT_WATCH_S);
	err = k8s_path_query(path, size, "watch", "1", em);
	if (!err)
		err = k8s_path_query(path, size, "allowWatchBookmarks", "true", em);
	if (!err)
		err = k8s_path_query(path, size, "resourceVersion", r->rv, em);
	if (!err)
		err = k8s_path_query(path, size, "timeoutSeconds", tmo, em);
	if (!err && r->label_selector[0])
		err = k8s_path_query(path, size, "labelSelector", r->label_selector, em);
	if (!err && r->field_selector[0])
		err = k8s_path_query(path, size, "fieldSelector", r->field_selector, em);
	return err;
}

static int do_watch(struct k8s_reflector *r, struct errmsg *em)
{
	struct watch_ctx w = { .r = r };
	struct k8s_req req = { .method = "GET", .on_body = on_body, .arg = &w };
	struct k8s_resp resp = { 0 };
	char path[K8S_MAX_PATH + 1024];
	struct k8s_status st;
	int err;

	err = watch_path(r, path, sizeof(path), em);
	if (err)
		return err;
	req.path = path;
	req.timeout_s = (r->watch_timeout_s ? r->watch_timeout_s : DEFAULT_WATCH_S) + WATCH_SLACK_S;
	k8s_watch_dec_init(&w.dec, on_event, &w);
	err = r->t->request(r->t, &req, &resp, em);
	if (w.expired || (!err && resp.status == 410)) {
		/* too old: forget the RV, list again at once */
		log_info("watch %s from resourceVersion %s: 410 Gone (%s), listing again",
			 r->path, r->rv, w.expired ? "ERROR event" : "HTTP status");
		r->rv[0] = '\0';
		r->expired++;
		if (em)
			em->msg[0] = '\0';
		err = 0;
		goto out;
	}
	if (err) {
		if ((w.got_bytes || resp.status == 200) &&
		    (err == -ECONNRESET || err == -ETIMEDOUT || err == -EPIPE)) {
			/* a watch that ran and then broke (the server went away, a proxy
			 * or load balancer cut it), also one that had nothing to say yet
			 * (no events, no bookmarks: an idle watch): resume from the RV */
			log_info("watch %s broke (%s), resuming from resourceVersion %s", r->path,
				 em ? em->msg : "", r->rv);
			if (em)
				em->msg[0] = '\0';
			err = 0;
		} else {
			errmsg_prefix(em, "watch %s", r->path);
		}
		goto out;
	}
	if (resp.status != 200) {
		k8s_status_from_body(resp.status, resp.body, resp.body_len, &st);
		err = k8s_errno(resp.status, &st);
		errmsg_set(em, err, "watch %s: %d %s: %s", r->path, resp.status,
			   st.reason[0] ? st.reason : "error", st.message);
		if (resp.retry_after_s)
			r->backoff_ms = resp.retry_after_s * 1000 / 2;
		goto out;
	}
	r->watches++;
	if (k8s_watch_dec_pending(&w.dec))
		log_debug("watch %s ended in the middle of an event, resuming from %s", r->path,
			  r->rv);
out:
	k8s_watch_dec_fini(&w.dec);
	k8s_resp_fini(&resp);
	return err;
}

int k8s_reflector_step(struct k8s_reflector *r, struct errmsg *em)
{
	int err;

	err = r->rv[0] ? do_watch(r, em) : do_list(r, em);
	if (err == -ESTALE) {
		/* a 410 on the list itself (resourceVersion expired): list afresh */
		r->rv[0] = '\0';
		r->expired++;
		err = 0;
		if (em)
			em->msg[0] = '\0';
	}
	if (!err) {
		r->backoff_ms = 0;
		return 0;
	}
	r->failures++;
	if (r->backoff_ms < K8S_BACKOFF_MIN_MS)
		r->backoff_ms = K8S_BACKOFF_MIN_MS;
	else
		r->backoff_ms = r->backoff_ms * 2 > K8S_BACKOFF_MAX_MS ? K8S_BACKOFF_MAX_MS
									: r->backoff_ms * 2;
	return err;
}

cJSON *k8s_reflector_get(struct k8s_reflector *r, const char *ns, const char *name)
{
	cJSON *copy = NULL;
	long i;

	pthread_mutex_lock(&r->lock);
	i = find(r->objs, r->n, ns, name);
	if (i >= 0)
		copy = cJSON_Duplicate(r->objs[i], true);
	pthread_mutex_unlock(&r->lock);
	return copy;
}

cJSON *k8s_reflector_list(struct k8s_reflector *r)
{
	cJSON *arr = cJSON_CreateArray(), *c;
	size_t i;

	if (!arr)
		return NULL;
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->n; i++) {
		c = cJSON_Duplicate(r->objs[i], true);
		if (!c || !cJSON_AddItemToArray(arr, c)) {
			cJSON_Delete(c);
			cJSON_Delete(arr);
			arr = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return arr;
}
