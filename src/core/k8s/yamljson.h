/* SPDX-License-Identifier: Apache-2.0 */
/* yamljson.h - one YAML document (libyaml) as a cJSON tree: what a kubeconfig is */
#ifndef BPFD_CORE_K8S_YAMLJSON_H
#define BPFD_CORE_K8S_YAMLJSON_H

#include <stddef.h>

#include <cJSON.h>

struct errmsg;

#define YAMLJSON_MAX_NODES	100000	/* aliases expand: bound the tree ("billion laughs") */
#define YAMLJSON_MAX_DEPTH	64

/*
 * Parse the first document of text (JSON is YAML too).  Mappings become objects
 * (keys must be scalars), sequences arrays; plain scalars null/~/true/false and
 * numbers become those JSON values, every other scalar (and any quoted one) a
 * string.  0 with *ret owned by the caller, or -EINVAL with em giving the line
 * and libyaml's problem, -E2BIG over the limits above, -ENOMEM.  what names the
 * input in messages ("kubeconfig /root/.kube/config").
 */
int yamljson_parse(const char *text, size_t len, const char *what, cJSON **ret,
		   struct errmsg *em);

#endif
