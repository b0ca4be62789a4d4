/* SPDX-License-Identifier: Apache-2.0 */
/* api.h - the JSON of the Kubernetes API the agent reads: Status, lists, watch events,
 * object metadata (cJSON trees; every input is untrusted and checked) */
#ifndef BPFD_CORE_K8S_API_H
#define BPFD_CORE_K8S_API_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

struct errmsg;

#define K8S_MAX_RV	64	/* resourceVersion: opaque, an etcd revision in practice */
#define K8S_MAX_NAME	254	/* RFC 1123 subdomain + NUL */
#define K8S_MAX_REASON	128
#define K8S_MAX_MESSAGE	1024

enum k8s_event_type {
	K8S_ADDED,
	K8S_MODIFIED,
	K8S_DELETED,
	K8S_BOOKMARK,
	K8S_ERROR,
};

/* "ADDED" ... for logs. */
const char *k8s_event_type_str(enum k8s_event_type t);

/* A meta/v1 Status: the body of every API error, and the object of an ERROR event. */
struct k8s_status {
	int code;				/* HTTP status it stands for; 0 if absent */
	char reason[K8S_MAX_REASON];		/* "Expired", "Conflict", "NotFound" ... */
	char message[K8S_MAX_MESSAGE];
};

/* Read a Status object.  Returns 0, or -EINVAL when obj is not a Status (kind
 * other than "Status", or no object at all); fields that are absent stay empty. */
int k8s_status_from_json(const cJSON *obj, struct k8s_status *ret);

/* Read the Status in an error response body (JSON text, not NUL-terminated).
 * A body that is not a Status (a proxy's HTML page) gives code = http_status and
 * the first line of the body (printable characters only) as message.  Never fails. */
void k8s_status_from_body(int http_status, const char *body, size_t len,
			  struct k8s_status *ret);

/* Is this the "resource version too old" answer (HTTP 410, or a Status of code 410
 * or reason "Expired"/"Gone")?  A list or watch must then start over with a fresh list. */
bool k8s_status_is_expired(const struct k8s_status *st);

/*
 * Parse one line of a watch stream: {"type": T, "object": {...}}.  On success
 * *ret_type is set and *ret_obj holds the object (owned by the caller,
 * cJSON_Delete()).  An ERROR event's object is a Status (see
 * k8s_status_from_json()).  Errors (-EPROTO) with em naming what is wrong: not
 * JSON, no or an unknown type, no object, an ADDED/MODIFIED/DELETED/BOOKMARK
 * object without metadata.resourceVersion.
 */
int k8s_event_parse(const char *line, size_t len, enum k8s_event_type *ret_type,
		    cJSON **ret_obj, struct errmsg *em);

/*
 * Parse a list response ({"kind": "...List", "metadata": {"resourceVersion",
 * "continue"}, "items": [...]}).  *ret_list is the whole tree (the caller owns
 * it; items are taken from it with k8s_list_items()); rv and cont receive the
 * list's resourceVersion and continue token ("" when absent).  -EPROTO + em for
 * anything else, or items that are not objects with a name and a resourceVersion.
 */
int k8s_list_parse(const char *body, size_t len, cJSON **ret_list,
		   char rv[K8S_MAX_RV], char *cont, size_t cont_size, struct errmsg *em);
cJSON *k8s_list_items(cJSON *list);

/* Parse one object (a GET/POST/PUT answer): a JSON object with metadata.name and
 * metadata.resourceVersion.  0 with *ret owned by the caller, or -EPROTO + em. */
int k8s_object_parse(const char *body, size_t len, cJSON **ret, struct errmsg *em);

/* metadata.FIELD of obj as a string, or NULL (borrowed from obj). */
const char *k8s_meta_str(const cJSON *obj, const char *field);
/* metadata.generation, or -1. */
long long k8s_meta_generation(const cJSON *obj);
/* metadata.labels[key], or NULL (borrowed). */
const char *k8s_meta_label(const cJSON *obj, const char *key);
/* Is metadata.deletionTimestamp set? */
bool k8s_meta_deleting(const cJSON *obj);
/* Does metadata.finalizers hold f? */
bool k8s_meta_has_finalizer(const cJSON *obj, const char *f);

/* Child of obj at a dotted path ("spec.interfaceselector.interfaces"), or NULL. */
const cJSON *k8s_json_get(const cJSON *obj, const char *path);
/* The string at path, or NULL (borrowed). */
const char *k8s_json_str(const cJSON *obj, const char *path);

/*
 * Does the label selector (a meta/v1 LabelSelector object: matchLabels and
 * matchExpressions with In/NotIn/Exists/DoesNotExist) select an object with these
 * labels (a JSON object of strings, may be NULL)?  An empty or NULL selector
 * selects everything.  Returns 1 (selected), 0 (not), or -EINVAL + em for a
 * malformed selector (unknown operator, In without values ...).
 */
int k8s_selector_match(const cJSON *selector, const cJSON *labels, struct errmsg *em);

#endif
