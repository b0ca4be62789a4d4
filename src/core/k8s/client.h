/* SPDX-License-Identifier: Apache-2.0 */
/* client.h - REST calls on the Kubernetes API (get, list, create, update, status,
 * merge patch, delete, watch) over a transport: HTTPS in the agent (k8s/transport.c),
 * a scripted fake in the unit tests */
#ifndef BPFD_CORE_K8S_CLIENT_H
#define BPFD_CORE_K8S_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "core/k8s/api.h"

struct errmsg;

#define K8S_MAX_PATH	1024

/* Body bytes of a 2xx answer as they arrive (a watch).  Non-zero (-errno) aborts. */
typedef int (*k8s_body_fn)(void *arg, const void *data, size_t len, struct errmsg *em);

struct k8s_req {
	const char *method;		/* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *path;		/* "/apis/bpfd.dev/v1alpha1/xdpprograms?watch=1..." */
	const char *body;		/* NULL: none */
	size_t body_len;
	const char *content_type;	/* of body: "application/json" when NULL */
	k8s_body_fn on_body;		/* NULL: keep the body in the response */
	void *arg;
	unsigned int timeout_s;		/* longest silence; 0: the transport's default */
};

struct k8s_resp {
	int status;			/* HTTP status */
	char *body;			/* kept body (NUL-terminated), NULL if none */
	size_t body_len;
	unsigned int retry_after_s;	/* Retry-After of a 429/503, 0 if none */
};

/* One connection policy to one API server.  request() returns 0 when an HTTP
 * response came (any status) and -errno when none did (-ECONNREFUSED,
 * -ETIMEDOUT, -ECONNRESET mid-body, -EACCES for an untrusted server ..., em
 * says which; status is then that of a response whose body broke off, else 0);
 * resp must be released with k8s_resp_fini() either way. */
struct k8s_transport {
	int (*request)(struct k8s_transport *t, const struct k8s_req *req,
		       struct k8s_resp *resp, struct errmsg *em);
	void (*free)(struct k8s_transport *t);
};

void k8s_resp_fini(struct k8s_resp *resp);

/*
 * The errno of an API answer, from its HTTP status and Status reason:
 *   2xx 0; 400 -EINVAL; 401 -EACCES (bad credentials); 403 -EPERM (RBAC);
 *   404 -ENOENT; 409 AlreadyExists -EEXIST; 409 other (Conflict: a stale
 *   resourceVersion) -EAGAIN; 410 -ESTALE (resourceVersion too old: re-list);
 *   415 -EOPNOTSUPP; 422 -EINVAL; 429 -EBUSY; 504 -ETIMEDOUT; other 5xx -EIO;
 *   anything else -EPROTO.
 */
int k8s_errno(int http_status, const struct k8s_status *st);

/*
 * The path of a resource: "/api/v1/..." for the core group (group "" or NULL),
 * "/apis/GROUP/VERSION/..." otherwise; namespace, name and subresource may be
 * NULL.  Names are checked to be RFC 1123 subdomains (no '/', '?', '%').
 * 0, or -ENAMETOOLONG/-EINVAL + em.
 */
int k8s_path(char *buf, size_t size, const char *group, const char *version,
	     const char *plural, const char *ns, const char *name, const char *sub,
	     struct errmsg *em);

/* Append "?key=value" or "&key=value" to path, percent-encoding value.
 * 0 or -ENAMETOOLONG + em. */
int k8s_path_query(char *path, size_t size, const char *key, const char *value,
		   struct errmsg *em);

/*
 * The calls.  Each returns 0 on a 2xx and fills *ret (a parsed object the
 * caller owns) where it has one; otherwise k8s_errno() of the answer with em
 * holding the API server's message ("PUT /apis/...: 409 Conflict: the object
 * has been modified ...") and st (may be NULL) the Status, or the transport's
 * -errno.
 */
int k8s_get(struct k8s_transport *t, const char *path, cJSON **ret,
	    struct k8s_status *st, struct errmsg *em);
/* POST obj to the collection path. */
int k8s_create(struct k8s_transport *t, const char *path, const cJSON *obj,
	       cJSON **ret, struct k8s_status *st, struct errmsg *em);
/* PUT obj (with its metadata.resourceVersion) to the object's path (or its
 * /status path). */
int k8s_update(struct k8s_transport *t, const char *path, const cJSON *obj,
	       cJSON **ret, struct k8s_status *st, struct errmsg *em);
/* PATCH with application/merge-patch+json. */
int k8s_merge_patch(struct k8s_transport *t, const char *path, const cJSON *patch,
		    cJSON **ret, struct k8s_status *st, struct errmsg *em);
/* DELETE; ret may be NULL (the answer is the object while finalizers hold it,
 * else a Status). */
int k8s_delete(struct k8s_transport *t, const char *path, cJSON **ret,
	       struct k8s_status *st, struct errmsg *em);

/*
 * Read-modify-write with optimistic concurrency: GET path, call mutate on the
 * object (it returns 1 to write it, 0 when nothing needs to change, or -errno),
 * PUT it back (to path + put_suffix, e.g. "/status", or path when NULL); on 409
 * Conflict start again with a fresh GET, up to 10 times (then -EAGAIN).
 * *ret (may be NULL) gets the object as written (or as read when unchanged).
 */
typedef int (*k8s_mutate_fn)(void *arg, cJSON *obj, struct errmsg *em);
int k8s_update_retry(struct k8s_transport *t, const char *path, const char *put_suffix,
		     k8s_mutate_fn mutate, void *arg, cJSON **ret, struct errmsg *em);

#endif
