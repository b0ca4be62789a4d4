/* SPDX-License-Identifier: Apache-2.0 */
/* transport.c - HTTPS to the API server (wire/http1.c) with the agent's credentials */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/errmsg.h"
#include "core/k8s/kconfig.h"
#include "core/k8s/transport.h"
#include "core/wire/http1.h"

struct k8s_https {
	struct k8s_transport t;
	const struct k8s_config *cfg;
	struct http1_client *c;
	char *auth;		/* "Bearer ..." buffer, K8S_MAX_TOKEN + 8 */
};

static void https_free(struct k8s_transport *t)
{
	struct k8s_https *h = (struct k8s_https *)t;

	if (!h)
		return;
	http1_client_free(h->c);
	if (h->auth)
		memset(h->auth, 0, K8S_MAX_TOKEN + 8);
	free(h->auth);
	free(h);
}

static int https_request(struct k8s_transport *t, const struct k8s_req *req,
			 struct k8s_resp *resp, struct errmsg *em)
{
	struct k8s_https *h = (struct k8s_https *)t;
	struct http1_header hdr[2] = {
		{ "Accept", "application/json" },
		{ "Content-Type", req->content_type ? req->content_type : "application/json" },
	};
	struct http1_request hr = {
		.method = req->method,
		.headers = hdr,
		.n_headers = req->body ? 2 : 1,
		.body = req->body,
		.body_len = req->body_len,
		.server_name = h->cfg->tls_server_name[0] ? h->cfg->tls_server_name : NULL,
		.read_timeout_ms = req->timeout_s ? req->timeout_s * 1000 : K8S_READ_TIMEOUT_MS,
		.on_body = req->on_body,
		.arg = req->arg,
	};
	struct http1_response hresp;
	char url[HTTP1_MAX_URL];
	int err;

	memset(resp, 0, sizeof(*resp));
	if (snprintf(url, sizeof(url), "%s%s", h->cfg->server, req->path) >= (int)sizeof(url))
		return errmsg_set(em, -ENAMETOOLONG, "the URL of %.100s... is too long", req->path);
	strcpy(h->auth, "Bearer ");
	err = k8s_config_token(h->cfg, h->auth + 7, K8S_MAX_TOKEN, em);
	if (err)
		return err;
	if (h->auth[7])
		hr.authorization = h->auth;
	hr.url = url;
	err = http1_request(h->c, &hr, &hresp, em);
	memset(h->auth, 0, K8S_MAX_TOKEN + 8);
	/* on an error, the status of a response that began and then broke (0: none) */
	resp->status = hresp.status;
	if (!err) {
		resp->body = hresp.body;
		resp->body_len = hresp.body_len;
		hresp.body = NULL;
		if (hresp.retry_after)
			resp->retry_after_s = (unsigned int)strtoul(hresp.retry_after, NULL, 10);
	}
	http1_response_free(&hresp);
	return err;
}

int k8s_https_new(const struct k8s_config *cfg, struct k8s_transport **ret, struct errmsg *em)
{
	const char *cas[1] = { cfg->ca };
	struct http1_opts o = {
		.ca_files = cas,
		.n_ca_files = cfg->ca ? 1 : 0,
		.no_system_ca = cfg->ca != NULL,
		.client_cert = cfg->cert,
		.client_key = cfg->key,
		.connect_timeout_ms = K8S_CONNECT_TIMEOUT_MS,
		.read_timeout_ms = K8S_READ_TIMEOUT_MS,
		.max_body = K8S_MAX_BODY,
		.max_redirects = 0,
	};
	struct k8s_https *h;
	int err;

	h = calloc(1, sizeof(*h));
	if (!h)
		return errmsg_set(em, -ENOMEM, "out of memory");
	h->t.request = https_request;
	h->t.free = https_free;
	h->cfg = cfg;
	h->auth = calloc(1, K8S_MAX_TOKEN + 8);
	if (!h->auth) {
		https_free(&h->t);
		return errmsg_set(em, -ENOMEM, "out of memory");
	}
	err = http1_client_new(&o, &h->c, em);
	if (err) {
		errmsg_prefix(em, "the API server connection (%s)", cfg->source);
		https_free(&h->t);
		return err;
	}
	*ret = &h->t;
	return 0;
}
