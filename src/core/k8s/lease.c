/* SPDX-License-Identifier: Apache-2.0 */
/* lease.c - leader election through a coordination.k8s.io/v1 Lease */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "core/base/errmsg.h"
#include "core/k8s/lease.h"

#define MAX_DURATION_S	3600	/* a record's leaseDurationSeconds beyond this is not believed */

void k8s_micro_time(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char s[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%06ldZ", s, ts.tv_nsec / 1000);
}

int k8s_lease_init(struct k8s_lease *l, struct k8s_transport *t, const char *ns,
		   const char *name, const char *identity, unsigned int duration_s,
		   struct errmsg *em)
{
	int err;

	memset(l, 0, sizeof(*l));
	if (duration_s < 2 || duration_s > MAX_DURATION_S)
		return errmsg_set(em, -EINVAL, "a lease duration of %u s is not within 2..%d s",
				  duration_s, MAX_DURATION_S);
	if (!identity || !*identity || strlen(identity) >= sizeof(l->identity))
		return errmsg_set(em, -EINVAL, "no valid identity for the Lease");
	err = k8s_path(l->path, sizeof(l->path), K8S_LEASE_GROUP, K8S_LEASE_VERSION, "leases",
		       ns, name, NULL, em) ?:
	      k8s_path(l->coll, sizeof(l->coll), K8S_LEASE_GROUP, K8S_LEASE_VERSION, "leases",
		       ns, NULL, NULL, em);
	if (err)
		return err;
	snprintf(l->ns, sizeof(l->ns), "%s", ns);
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->identity, sizeof(l->identity), "%s", identity);
	l->t = t;
	l->duration_s = duration_s;
	return 0;
}

/* Remember the record read; a new resourceVersion restarts the expiry clock. */
static void observe(struct k8s_lease *l, const cJSON *obj, long long now_ms)
{
	const char *rv = k8s_meta_str(obj, "resourceVersion") ?: "";
	const char *holder = k8s_json_str(obj, "spec.holderIdentity") ?: "";
	const cJSON *d = k8s_json_get(obj, "spec.leaseDurationSeconds");

	if (strcmp(rv, l->seen_rv) || !l->seen_ms) {
		snprintf(l->seen_rv, sizeof(l->seen_rv), "%s", rv);
		l->seen_ms = now_ms;
	}
	snprintf(l->holder, sizeof(l->holder), "%s", holder);
	l->seen_duration_s = l->duration_s;
	if (cJSON_IsNumber(d) && d->valuedouble >= 1 && d->valuedouble <= MAX_DURATION_S)
		l->seen_duration_s = (unsigned int)d->valuedouble;
}

static bool expired(const struct k8s_lease *l, long long now_ms)
{
	return now_ms - l->seen_ms >= (long long)l->seen_duration_s * 1000;
}

static int set_num(cJSON *obj, const char *key, double v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	return cJSON_AddNumberToObject(obj, key, v) ? 0 : -ENOMEM;
}

static int set_str(cJSON *obj, const char *key, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	return cJSON_AddStringToObject(obj, key, v) ? 0 : -ENOMEM;
}

/* Make obj's spec ours: renewed now, and acquired now when take is set. */
static int claim(struct k8s_lease *l, cJSON *obj, bool take)
{
	cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	const cJSON *tr;
	char now[40];
	double n = 0;

	if (!cJSON_IsObject(spec)) {
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "spec");
		spec = cJSON_AddObjectToObject(obj, "spec");
		if (!spec)
			return -ENOMEM;
	}
	k8s_micro_time(now, sizeof(now));
	tr = cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions");
	if (cJSON_IsNumber(tr) && tr->valuedouble >= 0)
		n = tr->valuedouble;
	if (take && l->holder[0] && strcmp(l->holder, l->identity))
		n++;
	return set_str(spec, "holderIdentity", l->identity) ?:
	       set_num(spec, "leaseDurationSeconds", l->duration_s) ?:
	       set_str(spec, "renewTime", now) ?:
	       (take ? set_str(spec, "acquireTime", now) : 0) ?:
	       set_num(spec, "leaseTransitions", n);
}

static int create(struct k8s_lease *l, long long now_ms, struct errmsg *em)
{
	cJSON *obj = cJSON_CreateObject(), *meta, *made = NULL;
	int err = -ENOMEM;

	meta = obj ? cJSON_AddObjectToObject(obj, "metadata") : NULL;
	if (!meta || set_str(obj, "apiVersion", K8S_LEASE_GROUP "/" K8S_LEASE_VERSION) ||
	    set_str(obj, "kind", "Lease") || set_str(meta, "name", l->name) ||
	    set_str(meta, "namespace", l->ns) || claim(l, obj, true)) {
		errmsg_set(em, err, "out of memory for a Lease");
		goto out;
	}
	err = k8s_create(l->t, l->coll, obj, &made, NULL, em);
	if (err == -EEXIST) {
		/* another candidate created it first */
		if (em)
			em->msg[0] = '\0';
		err = 0;
		l->held = false;
		goto out;
	}
	if (err)
		goto out;
	observe(l, made, now_ms);
	l->held = true;
	l->renewed_ms = now_ms;
	l->transitions++;
out:
	cJSON_Delete(made);
	cJSON_Delete(obj);
	return err;
}

/* PUT the claimed record back with the resourceVersion read. */
static int put(struct k8s_lease *l, cJSON *obj, bool take, long long now_ms,
	       struct errmsg *em)
{
	cJSON *written = NULL;
	int err;

	err = claim(l, obj, take);
	if (err)
		return errmsg_set(em, err, "out of memory for a Lease");
	err = k8s_update(l->t, l->path, obj, &written, NULL, em);
	if (err == -EAGAIN) {
		/* 409: someone wrote since we read; they won */
		if (em)
			em->msg[0] = '\0';
		l->held = false;
		return 0;
	}
	if (err)
		return err;
	if (take)
		l->transitions++;
	observe(l, written, now_ms);
	l->held = true;
	l->renewed_ms = now_ms;
	cJSON_Delete(written);
	return 0;
}

int k8s_lease_try(struct k8s_lease *l, long long now_ms, struct errmsg *em)
{
	cJSON *obj = NULL;
	int err;

	err = k8s_get(l->t, l->path, &obj, NULL, em);
	if (err == -ENOENT) {
		if (em)
			em->msg[0] = '\0';
		err = create(l, now_ms, em);
	} else if (!err) {
		observe(l, obj, now_ms);
		if (!strcmp(l->holder, l->identity))
			err = put(l, obj, false, now_ms, em);
		else if (!l->holder[0] || expired(l, now_ms))
			err = put(l, obj, true, now_ms, em);
		else
			l->held = false;
	}
	cJSON_Delete(obj);
	if (err) {
		/* the API server is away: lead on only while nobody may take over */
		if (l->held && now_ms - l->renewed_ms >= (long long)l->duration_s * 2000 / 3)
			l->held = false;
		errmsg_prefix(em, "Lease %s/%s", l->ns, l->name);
		return err;
	}
	return l->held ? 1 : 0;
}

static int unclaim(void *arg, cJSON *obj, struct errmsg *em)
{
	struct k8s_lease *l = arg;
	cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	char now[40];

	(void)em;
	if (!cJSON_IsObject(spec) ||
	    strcmp(k8s_json_str(obj, "spec.holderIdentity") ?: "", l->identity))
		return 0;
	k8s_micro_time(now, sizeof(now));
	cJSON_DeleteItemFromObjectCaseSensitive(spec, "holderIdentity");
	return set_num(spec, "leaseDurationSeconds", 1) ?: set_str(spec, "renewTime", now) ?: 1;
}

int k8s_lease_release(struct k8s_lease *l, struct errmsg *em)
{
	int err;

	if (!l->held)
		return 0;
	l->held = false;
	err = k8s_update_retry(l->t, l->path, NULL, unclaim, l, NULL, em);
	if (err)
		errmsg_prefix(em, "release Lease %s/%s", l->ns, l->name);
	return err;
}
