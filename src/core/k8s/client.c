/* SPDX-License-Identifier: Apache-2.0 */
/* client.c - REST calls on the Kubernetes API over a k8s_transport */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "core/base/errmsg.h"
#include "core/k8s/client.h"

#define UPDATE_TRIES 10

void k8s_resp_fini(struct k8s_resp *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

int k8s_errno(int http_status, const struct k8s_status *st)
{
	const char *reason = st ? st->reason : "";

	if (http_status >= 200 && http_status < 300)
		return 0;
	switch (http_status) {
	case 400:
	case 422:
		return -EINVAL;
	case 401:
		return -EACCES;
	case 403:
		return -EPERM;
	case 404:
		return -ENOENT;
	case 409:
		return strcmp(reason, "AlreadyExists") ? -EAGAIN : -EEXIST;
	case 410:
		return -ESTALE;
	case 415:
		return -EOPNOTSUPP;
	case 429:
		return -EBUSY;
	case 504:
		return -ETIMEDOUT;
	}
	return http_status >= 500 && http_status < 600 ? -EIO : -EPROTO;
}

/* An RFC 1123 subdomain (lower case alphanumerics, '-', '.'), as object names are. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n >= K8S_MAX_NAME)
		return false;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '.'))
			return false;
	}
	return true;
}

int k8s_path(char *buf, size_t size, const char *group, const char *version,
	     const char *plural, const char *ns, const char *name, const char *sub,
	     struct errmsg *em)
{
	const char *parts[] = { ns, name };
	size_t i;
	int n;

	for (i = 0; i < 2; i++) {
		if (parts[i] && !name_ok(parts[i]))
			return errmsg_set(em, -EINVAL,
					  "'%.80s' is not a valid Kubernetes name (lower case "
					  "letters, digits, '-' and '.')", parts[i]);
	}
	if (group && *group)
		n = snprintf(buf, size, "/apis/%s/%s", group, version);
	else
		n = snprintf(buf, size, "/api/%s", version);
	if (n >= 0 && (size_t)n < size && ns)
		n += snprintf(buf + n, size - (size_t)n, "/namespaces/%s", ns);
	if (n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, "/%s", plural);
	if (n >= 0 && (size_t)n < size && name)
		n += snprintf(buf + n, size - (size_t)n, "/%s", name);
	if (n >= 0 && (size_t)n < size && sub)
		n += snprintf(buf + n, size - (size_t)n, "/%s", sub);
	if (n < 0 || (size_t)n >= size)
		return errmsg_set(em, -ENAMETOOLONG, "the path of %s '%s' is too long", plural,
				  name ? name : "");
	return 0;
}

int k8s_path_query(char *path, size_t size, const char *key, const char *value,
		   struct errmsg *em)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path), n0 = n;
	const unsigned char *v;
	int w;

	w = snprintf(path + n, size - n, "%c%s=", strchr(path, '?') ? '&' : '?', key);
	if (w < 0 || (size_t)w >= size - n)
		goto toolong;
	n += (size_t)w;
	for (v = (const unsigned char *)value; *v; v++) {
		if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		    (*v >= '0' && *v <= '9') || strchr("-._~", *v)) {
			if (n + 1 >= size)
				goto toolong;
			path[n++] = (char)*v;
		} else {
			if (n + 3 >= size)
				goto toolong;
			path[n++] = '%';
			path[n++] = hex[*v >> 4];
			path[n++] = hex[*v & 15];
		}
	}
	path[n] = '\0';
	return 0;
toolong:
	path[n0] = '\0';
	return errmsg_set(em, -ENAMETOOLONG, "the query %s=%.64s makes the URL too long", key,
			  value);
}

/* Do one call; a 2xx body is parsed into *ret when ret is set. */
static int call(struct k8s_transport *t, const char *method, const char *path,
		const cJSON *obj, const char *ctype, cJSON **ret, struct k8s_status *st,
		struct errmsg *em)
{
	struct k8s_req req = { .method = method, .path = path, .content_type = ctype };
	struct k8s_resp resp = { 0 };
	struct k8s_status s0;
	char *text = NULL;
	int err;

	if (!st)
		st = &s0;
	memset(st, 0, sizeof(*st));
	if (obj) {
		text = cJSON_PrintUnformatted(obj);
		if (!text)
			return errmsg_set(em, -ENOMEM, "out of memory for a request body");
		req.body = text;
		req.body_len = strlen(text);
	}
	err = t->request(t, &req, &resp, em);
	if (err) {
		errmsg_prefix(em, "%s %s", method, path);
		goto out;
	}
	if (resp.status >= 200 && resp.status < 300) {
		st->code = resp.status;
		if (ret) {
			err = k8s_object_parse(resp.body ? resp.body : "", resp.body_len, ret, em);
			if (err)
				errmsg_prefix(em, "%s %s", method, path);
		}
		goto out;
	}
	k8s_status_from_body(resp.status, resp.body, resp.body_len, st);
	err = k8s_errno(resp.status, st);
	errmsg_set(em, err, "%s %s: %d %s: %s", method, path, resp.status,
		   st->reason[0] ? st->reason : "error", st->message);
out:
	k8s_resp_fini(&resp);
	cJSON_free(text);
	return err;
}

int k8s_get(struct k8s_transport *t, const char *path, cJSON **ret,
	    struct k8s_status *st, struct errmsg *em)
{
	return call(t, "GET", path, NULL, NULL, ret, st, em);
}

int k8s_create(struct k8s_transport *t, const char *path, const cJSON *obj,
	       cJSON **ret, struct k8s_status *st, struct errmsg *em)
{
	return call(t, "POST", path, obj, NULL, ret, st, em);
}

int k8s_update(struct k8s_transport *t, const char *path, const cJSON *obj,
	       cJSON **ret, struct k8s_status *st, struct errmsg *em)
{
	return call(t, "PUT", path, obj, NULL, ret, st, em);
}

int k8s_merge_patch(struct k8s_transport *t, const char *path, const cJSON *patch,
		    cJSON **ret, struct k8s_status *st, struct errmsg *em)
{
	return call(t, "PATCH", path, patch, "application/merge-patch+json", ret, st, em);
}

int k8s_delete(struct k8s_transport *t, const char *path, cJSON **ret,
	       struct k8s_status *st, struct errmsg *em)
{
	struct k8s_status s0;
	int err;

	if (!st)
		st = &s0;
	err = call(t, "DELETE", path, NULL, NULL, NULL, st, em);
	/* the answer is the object (finalizers hold it) or a Status: read it again */
	if (!err && ret)
		err = call(t, "GET", path, NULL, NULL, ret, st, em);
	return err;
}

int k8s_update_retry(struct k8s_transport *t, const char *path, const char *put_suffix,
		     k8s_mutate_fn mutate, void *arg, cJSON **ret, struct errmsg *em)
{
	char put_path[K8S_MAX_PATH];
	cJSON *obj = NULL, *written = NULL;
	int err = -EAGAIN, try, r;

	if (snprintf(put_path, sizeof(put_path), "%s%s", path,
		     put_suffix ? put_suffix : "") >= (int)sizeof(put_path))
		return errmsg_set(em, -ENAMETOOLONG, "the path %.64s... is too long", path);
	for (try = 0; try < UPDATE_TRIES; try++) {
		err = k8s_get(t, path, &obj, NULL, em);
		if (err)
			goto out;
		r = mutate(arg, obj, em);
		if (r < 0) {
			err = r;
			goto out;
		}
		if (r == 0) {
			written = obj;
			obj = NULL;
			err = 0;
			goto out;
		}
		err = k8s_update(t, put_path, obj, &written, NULL, em);
		if (err != -EAGAIN)
			goto out;
		/* 409 Conflict: someone wrote in between; read again */
		if (em)
			em->msg[0] = '\0';
		cJSON_Delete(obj);
		obj = NULL;
	}
	errmsg_set(em, -EAGAIN, "PUT %s: still conflicting after %d tries", put_path,
		   UPDATE_TRIES);
out:
	cJSON_Delete(obj);
	if (!err && ret)
		*ret = written;
	else
		cJSON_Delete(written);
	return err;
}
