/* SPDX-License-Identifier: Apache-2.0 */
/* common.c - bpfctl: endpoint/TLS/output options, calls, error printing */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/bpfctl/bpfctl.h"
#include "cJSON.h"
#include "core/base/log.h"
#include "core/config/config.h"

/* The daemon's endpoint when neither --endpoint nor $BPFD_ENDPOINT names one, as the
 * original bpfctl found it: the enabled unix endpoint of the daemon's configuration
 * file ($BPFD_CONFIG, else /etc/bpfd/bpfd.toml; a missing default file means the
 * daemon's defaults), else the built-in default.  A file that does not parse is
 * reported and the default used. */
static const char *config_endpoint(void)
{
	static char url[sizeof("unix://") + sizeof(((struct bpfd_config *)0)->socket_path)];
	const char *path = secure_getenv("BPFD_CONFIG");
	struct errmsg em = { "" };
	struct bpfd_config *cfg;
	int err;

	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return CLIENT_DEFAULT_ENDPOINT;
	config_defaults(cfg);
	err = config_load(cfg, path && *path ? path : BPFD_CONFIG_FILE, path && *path, &em);
	if (err)
		log_warn("%s; connecting to %s", em.msg, CLIENT_DEFAULT_ENDPOINT);
	else if (cfg->unix_enabled)
		snprintf(url, sizeof(url), "unix://%s", cfg->socket_path);
	free(cfg);
	return !err && url[0] ? url : CLIENT_DEFAULT_ENDPOINT;
}

int bpfctl_common_check(const struct opts_spec *spec, struct bpfctl_common *c)
{
	const char *env;

	if (c->output && strcmp(c->output, "text") && strcmp(c->output, "json"))
		return opts_bad_value(spec, "--output", c->output, strlen(c->output),
				      "text or json");
	if (!c->endpoint || !*c->endpoint) {
		env = secure_getenv("BPFD_ENDPOINT");
		c->endpoint = env && *env ? env : config_endpoint();
	}
	if (!c->ca)
		c->ca = secure_getenv("BPFD_CA");
	if (!c->cert)
		c->cert = secure_getenv("BPFD_CERT");
	if (!c->key)
		c->key = secure_getenv("BPFD_KEY");
	return 0;
}

int bpfctl_parse(const struct opts_spec *spec, void *opts, int argc, char **argv,
		 char **pos, int max)
{
	int idx, n = 0;

	for (;;) {
		idx = opts_parse(spec, opts, argc, argv);
		if (idx < 0)
			return idx;
		if (idx >= argc)
			return n;
		if (n == max)
			return opts_usage_error(spec, "unexpected argument '%s'", argv[idx]);
		pos[n++] = argv[idx];
		/* argv[idx] becomes argv[0], which opts_parse() skips */
		argv += idx;
		argc -= idx;
	}
}

const struct opt bpfctl_id_optv[] = {
	BPFCTL_COMMON_OPTS(struct bpfctl_id_opts),
	OPT_END
};

int bpfctl_parse_id(const struct opts_spec *spec, struct bpfctl_id_opts *o, int argc,
		    char **argv, bool zero_ok, uint32_t *ret_id)
{
	char *pos[1];
	int n;

	n = bpfctl_parse(spec, o, argc, argv, pos, 1);
	if (n < 0)
		return n;
	if (bpfctl_common_check(spec, &o->c))
		return OPTS_USAGE;
	if (n < 1)
		return opts_usage_error(spec, "missing program ID");
	return bpfctl_prog_id(spec, NULL, pos[0], zero_ok, ret_id);
}

int bpfctl_prog_id(const struct opts_spec *spec, const char *what, const char *s,
		   bool zero_ok, uint32_t *ret)
{
	uint64_t id;

	if (parse_u64(s, UINT32_MAX, &id) || (!id && !zero_ok))
		return opts_bad_value(spec, what, s, strlen(s), zero_ok ?
				      "a program ID (a number up to 4294967295)" :
				      "a program ID (a number from 1 to 4294967295)");
	*ret = id;
	return 0;
}

int bpfctl_too_long(const struct opts_spec *spec, const char *what, size_t len, size_t limit)
{
	return opts_usage_error(spec, "%s is %zu bytes long; the limit is %zu", what, len, limit);
}

int bpfctl_too_many(const struct opts_spec *spec, const char *what, size_t limit)
{
	return opts_usage_error(spec, "too many %s (limit %zu)", what, limit);
}

int bpfctl_kv(const struct opts_spec *spec, const char *opt, const char *arg, size_t len,
	      char *key, size_t ksize, char *val, size_t vsize)
{
	const char *eq = memchr(arg, '=', len);
	size_t kl, vl;
	char what[256];

	if (!eq || eq == arg)
		return opts_bad_value(spec, opt, arg, len, "KEY=VALUE");
	kl = eq - arg;
	vl = len - kl - 1;
	if (kl >= ksize) {
		snprintf(what, sizeof(what), "%s key", opt);
		return bpfctl_too_long(spec, what, kl, ksize - 1);
	}
	memcpy(key, arg, kl);
	key[kl] = '\0';
	if (vl >= vsize) {
		/* the key is short enough to name; a value this long is not echoed */
		snprintf(what, sizeof(what), "%s value of '%s'", opt, key);
		return bpfctl_too_long(spec, what, vl, vsize - 1);
	}
	memcpy(val, eq + 1, vl);
	val[vl] = '\0';
	return 0;
}

bool bpfctl_json(const struct bpfctl_common *c)
{
	return c->json || (c->output && !strcmp(c->output, "json"));
}

int bpfctl_error(const struct bpfctl_common *c, const char *fmt, ...)
{
	char msg[4096];
	cJSON *o;
	char *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!bpfctl_json(c)) {
		fprintf(stderr, "Error: %s\n", msg);
		return 1;
	}
	o = cJSON_CreateObject();
	if (o && cJSON_AddStringToObject(o, "error", msg) && (s = cJSON_PrintUnformatted(o))) {
		fprintf(stderr, "%s\n", s);
		cJSON_free(s);
	} else {
		fprintf(stderr, "Error: %s\n", msg);
	}
	cJSON_Delete(o);
	return 1;
}

int bpfctl_call_quiet(const struct bpfctl_common *c, const char *method,
		      const pb_msgdesc_t *req_fields, const void *req,
		      const pb_msgdesc_t *resp_fields, void *resp, struct client_status *st,
		      struct errmsg *em)
{
	struct client_opts o = {
		.endpoint = c->endpoint, .ca = c->ca, .cert = c->cert, .key = c->key,
	};
	struct client *cl = NULL;
	int err;

	err = client_open(&o, &cl, em);
	if (err)
		return err;
	err = client_call(cl, method, req_fields, req, resp_fields, resp, st);
	client_close(cl);
	if (err)
		return errmsg_set(em, err, "%s", strerror(-err));
	return 0;
}

int bpfctl_call(const struct bpfctl_common *c, const char *method,
		const pb_msgdesc_t *req_fields, const void *req,
		const pb_msgdesc_t *resp_fields, void *resp)
{
	struct errmsg em = { "" };
	struct client_status st;
	int err;

	err = bpfctl_call_quiet(c, method, req_fields, req, resp_fields, resp, &st, &em);
	return bpfctl_call_result(c, err, &em, &st);
}

int bpfctl_call_result(const struct bpfctl_common *c, int err, const struct errmsg *em,
		       const struct client_status *st)
{
	if (err)
		return bpfctl_error(c, "%s", em->msg[0] ? em->msg : strerror(-err));
	if (st->code != GRPC_OK)
		return bpfctl_error(c, "%s", st->message[0] ? st->message :
				    grpc_status_name(st->code));
	return 0;
}

int bpfctl_priority(const struct opts_spec *spec, const char *s, int32_t *ret)
{
	int64_t v;

	if (parse_i64(s, INT32_MIN, INT32_MAX, &v))
		return opts_bad_value(spec, "--priority", s, strlen(s), "a number");
	*ret = v;
	return 0;
}

int bpfctl_proceed_on(const struct opts_spec *spec, enum chain_kind kind,
		      const struct str_list *l, int32_t *codes, pb_size_t *ret_n, size_t max)
{
	char name[32], what[64];
	const char *p, *end;
	size_t i, n = 0;

	for (i = 0; i < l->n; i++) {
		for (p = l->v[i]; *p; p = *end ? end + 1 : end) {
			end = p + strcspn(p, ",");
			snprintf(name, sizeof(name), "%.*s", (int)(end - p), p);
			if (n == max)
				return bpfctl_too_many(spec, "--proceed-on values", max);
			if (chain_action_parse(kind, name, &codes[n])) {
				snprintf(what, sizeof(what), "a %s action (see --help)",
					 chain_kind_str(kind));
				return opts_bad_value(spec, "--proceed-on", p, end - p, what);
			}
			n++;
		}
	}
	*ret_n = n;
	return 0;
}
