/* SPDX-License-Identifier: Apache-2.0 */
/* config.c - daemon configuration: defaults and the schema of bpfd.toml
 *
 * A file is read in two passes.  The first, toml.c, turns the text into a
 * small tree (tables, arrays of tables, values) and enforces TOML's rules.
 * The second, here, walks the tree in document order against the schema below
 * and fills a copy of the configuration, which replaces the caller's only when
 * all of it is valid.  Every error names the line and column (in characters).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/base/log.h"
#include "core/base/stats_gate.h"
#include "core/config/config.h"
#include "core/config/policy.h"
#include "core/config/toml.h"

#define CONFIG_MAX_FILE		(1u << 20)	/* bytes read by config_load() */
#define SUN_PATH_SIZE		sizeof(((struct sockaddr_un *)0)->sun_path)
#define MAX_MSG_MIN		(64u << 10)
#define MAX_MSG_MAX		(1u << 30)

/* Default file names under certs_dir, as the daemon generates them (certgen.h). */
static const char *const tls_default_names[] = {
	[CONFIG_TLS_CA] = "ca/ca.pem",
	[CONFIG_TLS_CERT] = "bpfd/bpfd.pem",
	[CONFIG_TLS_KEY] = "bpfd/bpfd.key",
};
#define CERTS_DIR_MAX	(256 - sizeof("/bpfd-client/bpfd-client.pem"))

/* ------------------------------------------------------------------ */
/* The schema                                                          */

#define Q(buf, s)	toml_quote(buf, sizeof(buf), (s), strlen(s))

/* The parsed document (for positions in messages) and where errors go. */
struct parser {
	const struct toml_doc *doc;
	struct errmsg *em;
};

__attribute__((format(printf, 3, 4)))
static int perr(struct parser *ps, const char *at, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = toml_verr(ps->doc, at, ps->em, fmt, ap);
	va_end(ap);
	return err;
}

struct endpoint {
	const struct toml_node *table;
	const struct toml_node *type;
	const struct toml_node *path;
	const struct toml_node *address;
	const struct toml_node *port;
	const struct toml_node *enabled;
	const struct toml_node *mode;
	const struct toml_node *group;
};

struct stage {
	struct bpfd_config cfg;
	const struct toml_node *rundir;		/* [runtime] dir */
	const struct toml_node *unix_ep;	/* the enabled unix endpoint */
	const struct toml_node *tcp_ep;		/* the enabled tcp endpoint */
	bool endpoints;				/* [[grpc.endpoints]] present */
	struct endpoint ep;			/* the endpoint being read */
	const char *iface;			/* the [interfaces.NAME] being read */
	const struct toml_node *iface_node;
	const struct toml_node *grpc_table;	/* [grpc], for errors about its limits */
	bool buffered_conn_set;			/* max_buffered_per_connection given */
	bool buffered_total_set;		/* max_buffered_total given */
	struct policy_rule *rule;		/* the [[policy]] being read */
};

struct field {
	const char *key;
	enum toml_kind kind;
	int (*set)(struct parser *ps, const struct toml_node *v, struct stage *st);
};

/* Apply each member of table t through the field list; "where" names t in
 * messages ("in [grpc]", "at the top level"). */
static int apply_fields(struct parser *ps, const struct toml_node *t, const char *where,
			const struct field *fields, struct stage *st)
{
	const struct field *f;
	const struct toml_node *c;
	char known[512], b[80];
	size_t n;
	int err;

	for (c = t->child; c; c = c->next) {
		for (f = fields; f->key && strcmp(f->key, c->key); f++)
			;
		if (!f->key) {
			n = 0;
			known[0] = '\0';
			for (f = fields; f->key && n < sizeof(known); f++)
				n += snprintf(known + n, sizeof(known) - n, "%s%s",
					      f == fields ? "" : ", ", f->key);
			if (c->kind == TOML_TABLE || c->kind == TOML_TABLES)
				return perr(ps, c->kpos, "unknown table '%s' %s (known: %s)",
					    Q(b, c->key), where, known);
			return perr(ps, c->kpos, "unknown key '%s' %s (known: %s)",
				    Q(b, c->key), where, known);
		}
		if (c->kind != f->kind)
			return perr(ps, c->kind == TOML_TABLE || c->kind == TOML_TABLES ? c->kpos : c->vpos,
				    "'%s' %s must be %s, not %s", f->key, where,
				    toml_kind_str(f->kind), toml_kind_str(c->kind));
		err = f->set(ps, c, st);
		if (err)
			return err;
	}
	return 0;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* An absolute path of at most max - 1 bytes into dst. */
static int set_path(struct parser *ps, const struct toml_node *v, const char *what, char *dst,
		    size_t max)
{
	char b[80];
	size_t len = strlen(v->str);

	if (v->str[0] != '/')
		return perr(ps, v->vpos, "%s '%s' must be an absolute path (starting with '/')",
			    what, Q(b, v->str));
	if (has_ctl(v->str))
		return perr(ps, v->vpos, "%s '%s' contains a control character", what,
			    Q(b, v->str));
	if (len >= max)
		return perr(ps, v->vpos, "%s is too long (%zu bytes; at most %zu)", what, len,
			    max - 1);
	memcpy(dst, v->str, len + 1);
	return 0;
}

/* [interfaces.NAME] */

static int set_xdp_mode(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	static const char *const names[] = {
		[XDP_MODE_SKB] = "skb", [XDP_MODE_DRV] = "drv", [XDP_MODE_HW] = "hw",
	};
	struct iface_config *ic;
	char b[80];
	int m;

	for (m = XDP_MODE_SKB; m <= XDP_MODE_HW; m++)
		if (!strcmp(v->str, names[m]))
			break;
	if (m > XDP_MODE_HW)
		return perr(ps, v->vpos, "xdp_mode '%s' for interface %s is not one of skb, drv, hw",
			    Q(b, v->str), st->iface);
	if (st->cfg.n_ifaces == BPFD_MAX_IFACES)
		return perr(ps, st->iface_node->kpos,
			    "too many [interfaces.NAME] tables (at most %d)", BPFD_MAX_IFACES);
	ic = &st->cfg.ifaces[st->cfg.n_ifaces++];
	memset(ic, 0, sizeof(*ic));
	strcpy(ic->name, st->iface);
	ic->xdp_mode = m;
	return 0;
}

static const struct field iface_fields[] = {
	{ "xdp_mode", TOML_STR, set_xdp_mode },
	{ NULL }
};

/* Linux's dev_valid_name(): 1-15 bytes, not . or .., no '/', ':' or space. */
static bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= sizeof(((struct iface_config *)0)->name) || !strcmp(s, ".") ||
	    !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s == ' ' || (unsigned char)*s < 0x21 ||
		    *s == 0x7f)
			return false;
	return true;
}

static int set_interfaces(struct parser *ps, const struct toml_node *t, struct stage *st)
{
	const struct toml_node *c;
	char where[64], b[80];
	int err;

	for (c = t->child; c; c = c->next) {
		if (c->kind != TOML_TABLE)
			return perr(ps, c->kpos,
				    "[interfaces] holds one [interfaces.NAME] table per interface; '%s' is %s",
				    Q(b, c->key), toml_kind_str(c->kind));
		if (!ifname_valid(c->key))
			return perr(ps, c->kpos,
				    "'%s' is not a valid interface name (1-15 bytes, no '/', ':' or whitespace)",
				    Q(b, c->key));
		st->iface = c->key;
		st->iface_node = c;
		snprintf(where, sizeof(where), "in [interfaces.%s]", c->key);
		err = apply_fields(ps, c, where, iface_fields, st);
		if (err)
			return err;
	}
	return 0;
}

/* A user or group name: 1 to size - 1 bytes, no ':', whitespace or control
 * characters (what passwd(5) and group(5) can hold). */
static bool name_valid(const char *s, size_t size)
{
	size_t n = strlen(s);

	if (!n || n >= size)
		return false;
	for (; *s; s++)
		if (*s == ':' || *s == ' ' || (unsigned char)*s < 0x21 || *s == 0x7f)
			return false;
	return true;
}

/* [[grpc.endpoints]] */

static int ep_type(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	char b[80];

	if (strcmp(v->str, "unix") && strcmp(v->str, "tcp"))
		return perr(ps, v->vpos, "endpoint type '%s' is not \"unix\" or \"tcp\"",
			    Q(b, v->str));
	st->ep.type = v;
	return 0;
}

#define EP_SETTER(name)								\
static int ep_##name(struct parser *ps, const struct toml_node *v, struct stage *st) \
{										\
	(void)ps;								\
	st->ep.name = v;							\
	return 0;								\
}
EP_SETTER(path)
EP_SETTER(address)
EP_SETTER(port)
EP_SETTER(enabled)
EP_SETTER(mode)
EP_SETTER(group)

static const struct field ep_fields[] = {
	{ "type", TOML_STR, ep_type },
	{ "path", TOML_STR, ep_path },
	{ "address", TOML_STR, ep_address },
	{ "port", TOML_INT, ep_port },
	{ "enabled", TOML_BOOL, ep_enabled },
	{ "mode", TOML_INT, ep_mode },
	{ "group", TOML_STR, ep_group },
	{ NULL }
};

static int ep_apply_unix(struct parser *ps, const struct endpoint *ep, struct stage *st)
{
	const struct toml_node *bad = ep->address ? ep->address : ep->port;
	struct bpfd_config *cfg = &st->cfg;
	char path[SUN_PATH_SIZE], b[80];
	int err;

	if (bad)
		return perr(ps, bad->kpos, "'%s' belongs to tcp endpoints; a unix endpoint has path, mode, group and enabled",
			    bad->key);
	if (ep->path) {
		err = set_path(ps, ep->path, "unix socket path", path, sizeof(path));
		if (err)
			return err;
	}
	if (ep->mode && (ep->mode->num < 0 || ep->mode->num > 0777))
		return perr(ps, ep->mode->vpos,
			    "socket mode %#llo is not a permission mode: give 0o600 to 0o777, e.g. mode = 0o660",
			    (long long)ep->mode->num);
	if (ep->group && !name_valid(ep->group->str, sizeof(cfg->socket_group)))
		return perr(ps, ep->group->vpos,
			    "socket group '%s' is not a group name (1-%zu bytes, no ':', whitespace or control characters)",
			    Q(b, ep->group->str), sizeof(cfg->socket_group) - 1);
	if (ep->enabled && !ep->enabled->num)
		return 0;
	if (st->unix_ep)
		return perr(ps, ep->table->kpos,
			    "only one unix endpoint can be enabled; another is on line %d",
			    toml_line(ps->doc, st->unix_ep->kpos));
	st->unix_ep = ep->table;
	if (ep->path) {
		strcpy(cfg->socket_path, path);
		cfg->socket_path_set = true;
	}
	if (ep->mode)
		cfg->socket_mode = ep->mode->num;
	if (ep->group) {
		strcpy(cfg->socket_group, ep->group->str);
		cfg->socket_group_set = true;
	}
	return 0;
}

static int ep_apply_tcp(struct parser *ps, const struct endpoint *ep, struct stage *st)
{
	const struct toml_node *bad;
	struct bpfd_config *cfg = &st->cfg;
	unsigned char addr[sizeof(struct in6_addr)];
	char b[80];

	bad = ep->path ? ep->path : ep->mode ? ep->mode : ep->group;
	if (bad)
		return perr(ps, bad->kpos,
			    "'%s' belongs to unix endpoints; a tcp endpoint has address, port and enabled",
			    bad->key);
	if (ep->address && (strlen(ep->address->str) >= sizeof(cfg->tcp_addr) ||
			    (inet_pton(AF_INET, ep->address->str, addr) != 1 &&
			     inet_pton(AF_INET6, ep->address->str, addr) != 1)))
		return perr(ps, ep->address->vpos,
			    "address '%s' is not a numeric IPv4 or IPv6 address (e.g. \"::1\" or \"127.0.0.1\"; no names, no brackets)",
			    Q(b, ep->address->str));
	if (ep->port && (ep->port->num < 1 || ep->port->num > 65535))
		return perr(ps, ep->port->vpos, "port %lld is out of range (1-65535)",
			    (long long)ep->port->num);
	if (ep->enabled && !ep->enabled->num)
		return 0;
	if (st->tcp_ep)
		return perr(ps, ep->table->kpos,
			    "only one tcp endpoint can be enabled; another is on line %d",
			    toml_line(ps->doc, st->tcp_ep->kpos));
	st->tcp_ep = ep->table;
	if (ep->address)
		strcpy(cfg->tcp_addr, ep->address->str);
	if (ep->port)
		cfg->tcp_port = ep->port->num;
	return 0;
}

static int set_endpoints(struct parser *ps, const struct toml_node *t, struct stage *st)
{
	const struct toml_node *e;
	char where[64];
	int err, i = 0;

	st->endpoints = true;
	for (e = t->child; e; e = e->next) {
		snprintf(where, sizeof(where), "in [[grpc.endpoints]] #%d", ++i);
		memset(&st->ep, 0, sizeof(st->ep));
		st->ep.table = e;
		err = apply_fields(ps, e, where, ep_fields, st);
		if (err)
			return err;
		if (!st->ep.type)
			return perr(ps, e->kpos,
				    "[[grpc.endpoints]] #%d needs a type: type = \"unix\" (with path) or type = \"tcp\" (with address and port)",
				    i);
		if (!strcmp(st->ep.type->str, "unix"))
			err = ep_apply_unix(ps, &st->ep, st);
		else
			err = ep_apply_tcp(ps, &st->ep, st);
		if (err)
			return err;
	}
	return 0;
}

static int set_max_msg(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	if (v->num < MAX_MSG_MIN || v->num > MAX_MSG_MAX)
		return perr(ps, v->vpos, "max_message_size %lld is out of range (%u-%u bytes)",
			    (long long)v->num, MAX_MSG_MIN, MAX_MSG_MAX);
	st->cfg.max_msg = v->num;
	return 0;
}

/* The integer limits of [grpc]: key, where in struct server_limits, range. */
struct limit_key {
	const char *key;
	size_t off;		/* of a size_t in struct server_limits */
	long long min, max;
};

#define LIMIT(k, field, lo, hi) { k, offsetof(struct server_limits, field), lo, hi }
static const struct limit_key limit_keys[] = {
	LIMIT("max_streams_per_connection", max_streams, 1, 1000),
	LIMIT("max_buffered_per_connection", max_buffered_conn, 64 << 10, 1ll << 32),
	LIMIT("max_buffered_total", max_buffered_total, 64 << 10, 1ll << 36),
	LIMIT("message_timeout", message_timeout, 1, 86400),
	LIMIT("handshake_timeout", handshake_timeout, 1, 3600),
	LIMIT("idle_timeout", idle_timeout, 1, 86400),
	LIMIT("max_unix_connections", max_unix_conns, 1, 65536),
	LIMIT("max_tcp_connections", max_tcp_conns, 1, 65536),
	LIMIT("max_connections_per_uid", max_conns_per_uid, 1, 65536),
	LIMIT("max_connections_per_address", max_conns_per_addr, 1, 65536),
};

static int set_limit(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	const struct limit_key *k = limit_keys;

	while (strcmp(k->key, v->key))
		k++;
	if (v->num < k->min || v->num > k->max)
		return perr(ps, v->vpos, "%s %lld is out of range (%lld-%lld)", k->key,
			    (long long)v->num, k->min, k->max);
	if (k->off == offsetof(struct server_limits, max_buffered_conn))
		st->buffered_conn_set = true;
	if (k->off == offsetof(struct server_limits, max_buffered_total))
		st->buffered_total_set = true;
	*(size_t *)((char *)&st->cfg.limits + k->off) = v->num;
	return 0;
}

static const struct field grpc_fields[] = {
	{ "endpoints", TOML_TABLES, set_endpoints },
	{ "max_message_size", TOML_INT, set_max_msg },
	{ "max_streams_per_connection", TOML_INT, set_limit },
	{ "max_buffered_per_connection", TOML_INT, set_limit },
	{ "max_buffered_total", TOML_INT, set_limit },
	{ "message_timeout", TOML_INT, set_limit },
	{ "handshake_timeout", TOML_INT, set_limit },
	{ "idle_timeout", TOML_INT, set_limit },
	{ "max_unix_connections", TOML_INT, set_limit },
	{ "max_tcp_connections", TOML_INT, set_limit },
	{ "max_connections_per_uid", TOML_INT, set_limit },
	{ "max_connections_per_address", TOML_INT, set_limit },
	{ NULL }
};

/* [signing] */

static int set_allow_unsigned(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	(void)ps;
	st->cfg.allow_unsigned = v->num;
	return 0;
}

static int set_verify_enabled(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	(void)ps;
	st->cfg.verify_enabled = v->num;
	return 0;
}

/* keys = ["/etc/bpfd/cosign.pub", ...]: the public keys image signatures are
 * checked against (read when an image is pulled). */
static int set_signing_keys(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	const struct toml_node *e;
	size_t n = 0;
	int err;

	for (e = v->child; e; e = e->next) {
		if (e->kind != TOML_STR)
			return perr(ps, e->vpos, "[signing] keys holds file names (strings)");
		if (n == BPFD_MAX_SIGNING_KEYS)
			return perr(ps, e->vpos, "[signing] keys names more than %d keys",
				    BPFD_MAX_SIGNING_KEYS);
		err = set_path(ps, e, "[signing] keys", st->cfg.signing_keys[n],
			       sizeof(st->cfg.signing_keys[n]));
		if (err)
			return err;
		n++;
	}
	st->cfg.n_signing_keys = n;
	return 0;
}

static const struct field signing_fields[] = {
	{ "allow_unsigned", TOML_BOOL, set_allow_unsigned },
	{ "verify_enabled", TOML_BOOL, set_verify_enabled },
	{ "keys", TOML_ARRAY, set_signing_keys },
	{ NULL }
};

/* [registry] */

/* host or host:port as a registry reference names it: no scheme, path or space. */
static bool registry_host_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 255)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(".-:[]_", *s)))
			return false;
	return true;
}

static int set_registry_list(struct parser *ps, const struct toml_node *v, const char *key,
			     char (*dst)[256], size_t *ret_n, bool paths)
{
	const struct toml_node *e;
	char what[64], b[80];
	size_t n = 0;
	int err;

	snprintf(what, sizeof(what), "[registry] %s entry", key);
	for (e = v->child; e; e = e->next) {
		if (e->kind != TOML_STR)
			return perr(ps, e->vpos, "[registry] %s holds strings, not %s", key,
				    toml_kind_str(e->kind));
		if (n == REGISTRY_MAX_LIST)
			return perr(ps, e->vpos, "[registry] %s has more than %d entries", key,
				    REGISTRY_MAX_LIST);
		if (paths) {
			err = set_path(ps, e, what, dst[n], sizeof(dst[n]));
			if (err)
				return err;
		} else {
			if (!registry_host_valid(e->str))
				return perr(ps, e->vpos, "%s '%s' is not HOST or HOST:PORT (no scheme, path or spaces), e.g. \"127.0.0.1:5000\"",
					    what, Q(b, e->str));
			snprintf(dst[n], sizeof(dst[n]), "%s", e->str);
		}
		n++;
	}
	*ret_n = n;
	return 0;
}

static int set_insecure(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	return set_registry_list(ps, v, "insecure", st->cfg.registry.insecure,
				 &st->cfg.registry.n_insecure, false);
}

static int set_ca_files(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	return set_registry_list(ps, v, "ca_files", st->cfg.registry.ca_files,
				 &st->cfg.registry.n_ca_files, true);
}

#define REGISTRY_TIMEOUT_MAX	600000

static int set_registry_timeout(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	if (v->num < 1 || v->num > REGISTRY_TIMEOUT_MAX)
		return perr(ps, v->vpos, "[registry] %s %lld is out of range: give milliseconds from 1 to %d",
			    v->key, (long long)v->num, REGISTRY_TIMEOUT_MAX);
	if (!strcmp(v->key, "connect_timeout_ms"))
		st->cfg.registry.connect_timeout_ms = v->num;
	else
		st->cfg.registry.read_timeout_ms = v->num;
	return 0;
}

static int set_max_blob(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	if (v->num < 4096 || v->num > (1ll << 40))
		return perr(ps, v->vpos, "[registry] max_blob_bytes %lld is out of range (4096-%lld)",
			    (long long)v->num, 1ll << 40);
	st->cfg.registry.max_blob_bytes = v->num;
	return 0;
}

static const struct field registry_fields[] = {
	{ "insecure", TOML_ARRAY, set_insecure },
	{ "ca_files", TOML_ARRAY, set_ca_files },
	{ "connect_timeout_ms", TOML_INT, set_registry_timeout },
	{ "read_timeout_ms", TOML_INT, set_registry_timeout },
	{ "max_blob_bytes", TOML_INT, set_max_blob },
	{ NULL }
};

/* [tls] */

static int set_certs_dir(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	return set_path(ps, v, "[tls] certs_dir", st->cfg.certs_dir, CERTS_DIR_MAX);
}

static int set_ca_cert(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	return set_path(ps, v, "[tls] ca_cert", st->cfg.tls_ca, sizeof(st->cfg.tls_ca));
}

static int set_cert(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	return set_path(ps, v, "[tls] cert", st->cfg.tls_cert, sizeof(st->cfg.tls_cert));
}

static int set_key(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	return set_path(ps, v, "[tls] key", st->cfg.tls_key, sizeof(st->cfg.tls_key));
}

static const struct field tls_fields[] = {
	{ "certs_dir", TOML_STR, set_certs_dir },
	{ "ca_cert", TOML_STR, set_ca_cert },
	{ "cert", TOML_STR, set_cert },
	{ "key", TOML_STR, set_key },
	{ NULL }
};

/* [runtime] */

static int set_rundir(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	char dir[sizeof(st->cfg.rundir)];
	int err;

	/* Room for <dir>/fs in bpffs; the socket is checked once endpoints are known. */
	err = set_path(ps, v, "[runtime] dir", dir, sizeof(dir) - strlen("/fs"));
	if (err)
		return err;
	st->rundir = v;
	return 0;
}

static int set_image_dir(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	return set_path(ps, v, "[runtime] image_dir", st->cfg.image_dir,
			sizeof(st->cfg.image_dir));
}

static int set_programs_dir(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	return set_path(ps, v, "[runtime] programs_dir", st->cfg.programs_dir,
			sizeof(st->cfg.programs_dir));
}

static int set_unload_on_exit(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	(void)ps;
	st->cfg.unload_on_exit = v->num;
	return 0;
}

static const struct field runtime_fields[] = {
	{ "dir", TOML_STR, set_rundir },
	{ "image_dir", TOML_STR, set_image_dir },
	{ "programs_dir", TOML_STR, set_programs_dir },
	{ "unload_on_exit", TOML_BOOL, set_unload_on_exit },
	{ NULL }
};

/* [log] */

static int set_log_level(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	char b[80];
	int lvl = log_level_parse(v->str);

	if (lvl < 0)
		return perr(ps, v->vpos, "[log] level '%s' is not one of error, warn, info, debug",
			    Q(b, v->str));
	st->cfg.log_level = lvl;
	return 0;
}

static int set_log_target(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	char b[80];
	int t = log_target_parse(v->str);

	if (t < 0)
		return perr(ps, v->vpos, "[log] target '%s' is not one of stderr, syslog",
			    Q(b, v->str));
	st->cfg.log_target = t;
	return 0;
}

static const struct field log_fields[] = {
	{ "level", TOML_STR, set_log_level },
	{ "target", TOML_STR, set_log_target },
	{ NULL }
};

/* [monitor] */

static int set_stats(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	char b[80];
	int m = stats_mode_parse(v->str);

	if (m < 0)
		return perr(ps, v->vpos, "[monitor] stats '%s' is not one of on-demand, always, off",
			    Q(b, v->str));
	st->cfg.stats_mode = m;
	return 0;
}

#define STATS_GRACE_MAX	86400

static int set_stats_grace(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	if (v->num < 1 || v->num > STATS_GRACE_MAX)
		return perr(ps, v->vpos, "[monitor] stats_grace %lld is out of range: give seconds from 1 to %d",
			    (long long)v->num, STATS_GRACE_MAX);
	st->cfg.stats_grace = v->num;
	return 0;
}

#define EVENT_QUEUE_MAX		65536
#define EVENT_READERS_MAX	1024

static int set_event_queue(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	if (v->num < 1 || v->num > EVENT_QUEUE_MAX)
		return perr(ps, v->vpos, "[monitor] event_queue %lld is out of range: give a number of events from 1 to %d",
			    (long long)v->num, EVENT_QUEUE_MAX);
	st->cfg.event_queue = v->num;
	return 0;
}

static int set_event_readers(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	if (v->num < 0 || v->num > EVENT_READERS_MAX)
		return perr(ps, v->vpos, "[monitor] event_readers %lld is out of range: give 0 (no event stream) to %d",
			    (long long)v->num, EVENT_READERS_MAX);
	st->cfg.event_readers = v->num;
	return 0;
}

static const struct field monitor_fields[] = {
	{ "stats", TOML_STR, set_stats },
	{ "stats_grace", TOML_INT, set_stats_grace },
	{ "event_queue", TOML_INT, set_event_queue },
	{ "event_readers", TOML_INT, set_event_readers },
	{ NULL }
};

/* [[policy]] */

#define POLICY_ID_MAX	0xfffffffell	/* (uid_t)-1 means "no change" to the kernel */
#define POLICY_PRIO_MAX	0x7fffffffll

static int rule_user(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	char b[80];

	if (!name_valid(v->str, sizeof(st->rule->user)))
		return perr(ps, v->vpos, "user '%s' is not a user name (1-%zu bytes, no ':', whitespace or control characters)",
			    Q(b, v->str), sizeof(st->rule->user) - 1);
	strcpy(st->rule->user, v->str);
	return 0;
}

static int rule_group(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	char b[80];

	if (!name_valid(v->str, sizeof(st->rule->group)))
		return perr(ps, v->vpos, "group '%s' is not a group name (1-%zu bytes, no ':', whitespace or control characters)",
			    Q(b, v->str), sizeof(st->rule->group) - 1);
	strcpy(st->rule->group, v->str);
	return 0;
}

static int rule_id(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	bool uid = !strcmp(v->key, "uid");

	if (v->num < 0 || v->num > POLICY_ID_MAX)
		return perr(ps, v->vpos, "%s %lld is out of range (0-%lld)", v->key,
			    (long long)v->num, POLICY_ID_MAX);
	if (uid) {
		st->rule->has_uid = true;
		st->rule->uid = v->num;
	} else {
		st->rule->has_gid = true;
		st->rule->gid = v->num;
	}
	return 0;
}

static int rule_cn(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	size_t len = strlen(v->str);

	if (!len || len >= sizeof(st->rule->client_cn) || has_ctl(v->str))
		return perr(ps, v->vpos, "client_cn must be a certificate name of 1-%zu bytes without control characters",
			    sizeof(st->rule->client_cn) - 1);
	strcpy(st->rule->client_cn, v->str);
	return 0;
}

/* Every element of array a is a string. */
static int str_array(struct parser *ps, const struct toml_node *a)
{
	const struct toml_node *e;

	for (e = a->child; e; e = e->next)
		if (e->kind != TOML_STR)
			return perr(ps, e->vpos, "'%s' holds strings, not %s", a->key,
				    toml_kind_str(e->kind));
	return 0;
}

static int rule_kinds(struct parser *ps, const struct toml_node *a, struct stage *st)
{
	const struct toml_node *e;
	uint32_t bit;
	char b[80];
	int err;

	err = str_array(ps, a);
	if (err)
		return err;
	st->rule->has_kinds = true;
	for (e = a->child; e; e = e->next) {
		bit = policy_kind_bit(e->str);
		if (!bit)
			return perr(ps, e->vpos, "kind '%s' is not one of xdp, tc, tcx, tracepoint, kprobe, uprobe, fentry, fexit",
				    Q(b, e->str));
		st->rule->kinds |= bit;
	}
	return 0;
}

static int rule_ifaces(struct parser *ps, const struct toml_node *a, struct stage *st)
{
	struct policy_rule *r = st->rule;
	const struct toml_node *e;
	char b[80];
	int err;

	err = str_array(ps, a);
	if (err)
		return err;
	r->has_ifaces = true;
	for (e = a->child; e; e = e->next) {
		if (strcmp(e->str, "*") && !ifname_valid(e->str))
			return perr(ps, e->vpos, "'%s' is not an interface name (1-15 bytes, no '/', ':' or whitespace) or \"*\" (any)",
				    Q(b, e->str));
		if (r->n_ifaces == POLICY_MAX_IFACES)
			return perr(ps, e->vpos, "too many interfaces (at most %d; \"*\" allows any)",
				    POLICY_MAX_IFACES);
		strcpy(r->ifaces[r->n_ifaces++], e->str);
	}
	return 0;
}

static int rule_prio(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	if (v->num < 0 || v->num > POLICY_PRIO_MAX)
		return perr(ps, v->vpos, "%s %lld is out of range (0-%lld)", v->key,
			    (long long)v->num, POLICY_PRIO_MAX);
	if (!strcmp(v->key, "priority_min")) {
		st->rule->has_prio_min = true;
		st->rule->prio_min = v->num;
	} else {
		st->rule->has_prio_max = true;
		st->rule->prio_max = v->num;
	}
	return 0;
}

static int rule_max_programs(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	if (v->num < 1 || v->num > 65536)
		return perr(ps, v->vpos, "max_programs %lld is out of range (1-65536; kinds = [] allows no load at all)",
			    (long long)v->num);
	st->rule->has_max_programs = true;
	st->rule->max_programs = v->num;
	return 0;
}

static int rule_read_only(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	(void)ps;
	st->rule->read_only = v->num;
	return 0;
}

static const struct field policy_fields[] = {
	{ "user", TOML_STR, rule_user },
	{ "uid", TOML_INT, rule_id },
	{ "group", TOML_STR, rule_group },
	{ "gid", TOML_INT, rule_id },
	{ "client_cn", TOML_STR, rule_cn },
	{ "kinds", TOML_ARRAY, rule_kinds },
	{ "interfaces", TOML_ARRAY, rule_ifaces },
	{ "priority_min", TOML_INT, rule_prio },
	{ "priority_max", TOML_INT, rule_prio },
	{ "max_programs", TOML_INT, rule_max_programs },
	{ "read_only", TOML_BOOL, rule_read_only },
	{ NULL }
};

/* What depends on more than one key of a rule. */
static int rule_finish(struct parser *ps, const struct toml_node *t, int i,
		       const struct policy_rule *r)
{
	bool local = r->user[0] || r->has_uid || r->group[0] || r->has_gid;

	if (r->user[0] && toml_find(t, "uid"))
		return perr(ps, toml_find(t, "uid")->kpos, "[[policy]] #%d: give user or uid, not both", i);
	if (r->group[0] && toml_find(t, "gid"))
		return perr(ps, toml_find(t, "gid")->kpos, "[[policy]] #%d: give group or gid, not both", i);
	if (!local && !r->client_cn[0])
		return perr(ps, t->kpos, "[[policy]] #%d matches nobody: give user, uid, group, gid (unix socket callers) or client_cn (TCP clients)",
			    i);
	if (local && r->client_cn[0])
		return perr(ps, toml_find(t, "client_cn")->kpos,
			    "[[policy]] #%d: client_cn matches TCP clients and user/uid/group/gid unix socket callers; no caller is both: write two rules",
			    i);
	if (r->read_only && (r->has_kinds || r->has_ifaces || r->has_prio_min ||
			     r->has_prio_max || r->has_max_programs))
		return perr(ps, toml_find(t, "read_only")->kpos,
			    "[[policy]] #%d: read_only = true allows List and Get only; kinds, interfaces, priority_min/max and max_programs grant loads: drop one or the other",
			    i);
	if (r->has_prio_min && r->has_prio_max && r->prio_min > r->prio_max)
		return perr(ps, toml_find(t, "priority_max")->vpos,
			    "[[policy]] #%d: priority_max %d is below priority_min %d", i,
			    r->prio_max, r->prio_min);
	return 0;
}

static int set_policy(struct parser *ps, const struct toml_node *t, struct stage *st)
{
	struct policy *p = &st->cfg.policy;
	const struct toml_node *e;
	char where[64];
	int err, i = 0;

	p->n_rules = 0;
	for (e = t->child; e; e = e->next) {
		snprintf(where, sizeof(where), "in [[policy]] #%d", ++i);
		if (p->n_rules == POLICY_MAX_RULES)
			return perr(ps, e->kpos, "too many [[policy]] rules (at most %d)",
				    POLICY_MAX_RULES);
		st->rule = &p->rules[p->n_rules];
		memset(st->rule, 0, sizeof(*st->rule));
		st->rule->line = toml_line(ps->doc, e->kpos);
		err = apply_fields(ps, e, where, policy_fields, st);
		if (!err)
			err = rule_finish(ps, e, i, st->rule);
		if (err)
			return err;
		p->n_rules++;
	}
	return 0;
}

/* [metrics] */

static int set_metrics_address(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	unsigned char addr[16];
	char b[80];

	if (strlen(v->str) >= sizeof(st->cfg.metrics_addr) ||
	    (inet_pton(AF_INET, v->str, addr) != 1 && inet_pton(AF_INET6, v->str, addr) != 1))
		return perr(ps, v->vpos,
			    "[metrics] address '%s' is not a numeric IPv4 or IPv6 address (e.g. \"127.0.0.1\" or \"::1\"; no names, no brackets)",
			    Q(b, v->str));
	strcpy(st->cfg.metrics_addr, v->str);
	return 0;
}

static int set_metrics_port(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	if (v->num < 1 || v->num > 65535)
		return perr(ps, v->vpos, "[metrics] port %lld is out of range (1-65535)",
			    (long long)v->num);
	st->cfg.metrics_port = v->num;
	st->cfg.metrics_enabled = true;
	return 0;
}

void config_label_name(const char *key, char *buf, size_t size)
{
	size_t n = 0;

	if (!size)
		return;
	if (*key >= '0' && *key <= '9' && n + 1 < size)
		buf[n++] = '_';
	for (; *key && n + 1 < size; key++)
		buf[n++] = (*key >= 'a' && *key <= 'z') || (*key >= 'A' && *key <= 'Z') ||
			   (*key >= '0' && *key <= '9') || *key == '_' ? *key : '_';
	buf[n] = '\0';
}

/* the labels every per-program metric has already */
static const char *const metrics_fixed_labels[] = { "id", "name", "kind", "attach_point", NULL };

static int check_label(struct parser *ps, const struct toml_node *e, struct stage *st)
{
	char b[80], name[BPFD_METRICS_LABEL_SIZE + 1], other[BPFD_METRICS_LABEL_SIZE + 1];
	const char *const *f;
	size_t i;

	if (e->kind != TOML_STR)
		return perr(ps, e->vpos, "[metrics] labels must be strings (metadata keys), not %s",
			    toml_kind_str(e->kind));
	if (!e->str[0] || strlen(e->str) >= BPFD_METRICS_LABEL_SIZE)
		return perr(ps, e->vpos, "[metrics] labels: a metadata key has 1 to %d bytes",
			    BPFD_METRICS_LABEL_SIZE - 1);
	config_label_name(e->str, name, sizeof(name));
	for (f = metrics_fixed_labels; *f; f++)
		if (!strcmp(name, *f) || !strncmp(name, "__", 2))
			return perr(ps, e->vpos,
				    "[metrics] labels: '%s' would be the label '%s', which bpfd sets itself (id, name, kind, attach_point; names starting with __ are Prometheus')",
				    Q(b, e->str), name);
	for (i = 0; i < st->cfg.n_metrics_labels; i++) {
		config_label_name(st->cfg.metrics_labels[i], other, sizeof(other));
		if (!strcmp(name, other))
			return perr(ps, e->vpos,
				    "[metrics] labels: '%s' and '%s' both become the label '%s'; list one of them",
				    Q(b, e->str), st->cfg.metrics_labels[i], name);
	}
	return 0;
}

static int set_metrics_labels(struct parser *ps, const struct toml_node *v, struct stage *st)
{
	const struct toml_node *e;
	int err;

	st->cfg.n_metrics_labels = 0;
	for (e = v->child; e; e = e->next) {
		if (st->cfg.n_metrics_labels == BPFD_METRICS_LABELS_MAX)
			return perr(ps, e->vpos, "[metrics] labels: at most %d metadata keys",
				    BPFD_METRICS_LABELS_MAX);
		err = check_label(ps, e, st);
		if (err)
			return err;
		strcpy(st->cfg.metrics_labels[st->cfg.n_metrics_labels++], e->str);
	}
	return 0;
}

static const struct field metrics_fields[] = {
	{ "address", TOML_STR, set_metrics_address },
	{ "port", TOML_INT, set_metrics_port },
	{ "labels", TOML_ARRAY, set_metrics_labels },
	{ NULL }
};

#define TABLE_SETTER(name, where)						\
static int set_##name(struct parser *ps, const struct toml_node *t, struct stage *st) \
{										\
	return apply_fields(ps, t, where, name##_fields, st);			\
}
TABLE_SETTER(signing, "in [signing]")
TABLE_SETTER(registry, "in [registry]")

static int set_grpc(struct parser *ps, const struct toml_node *t, struct stage *st)
{
	st->grpc_table = t;
	return apply_fields(ps, t, "in [grpc]", grpc_fields, st);
}
TABLE_SETTER(tls, "in [tls]")
TABLE_SETTER(runtime, "in [runtime]")
TABLE_SETTER(log, "in [log]")
TABLE_SETTER(monitor, "in [monitor]")
TABLE_SETTER(metrics, "in [metrics]")

static const struct field root_fields[] = {
	{ "interfaces", TOML_TABLE, set_interfaces },
	{ "grpc", TOML_TABLE, set_grpc },
	{ "signing", TOML_TABLE, set_signing },
	{ "registry", TOML_TABLE, set_registry },
	{ "tls", TOML_TABLE, set_tls },
	{ "runtime", TOML_TABLE, set_runtime },
	{ "log", TOML_TABLE, set_log },
	{ "monitor", TOML_TABLE, set_monitor },
	{ "policy", TOML_TABLES, set_policy },
	{ "metrics", TOML_TABLE, set_metrics },
	{ NULL }
};

/* What depends on more than one key. */
static int stage_finish(struct parser *ps, struct stage *st)
{
	struct bpfd_config *cfg = &st->cfg;

	if (st->rundir) {
		if (!cfg->socket_path_set &&
		    strlen(st->rundir->str) + strlen("/bpfd.sock") >= SUN_PATH_SIZE)
			return perr(ps, st->rundir->vpos,
				    "[runtime] dir is too long for the socket <dir>/bpfd.sock (at most %zu bytes); choose a shorter dir or set the socket path in [[grpc.endpoints]]",
				    SUN_PATH_SIZE - 1 - strlen("/bpfd.sock"));
		config_set_rundir(cfg, st->rundir->str);
	}
	if (st->endpoints) {
		cfg->unix_enabled = st->unix_ep != NULL;
		cfg->tcp_enabled = st->tcp_ep != NULL;
	}
	/* A request of max_message_size must fit in what one connection may buffer:
	 * the defaults grow with it, values given must be consistent. */
	if (!st->buffered_conn_set && cfg->limits.max_buffered_conn < cfg->max_msg + 5)
		cfg->limits.max_buffered_conn = cfg->max_msg + 5;
	if (!st->buffered_total_set && cfg->limits.max_buffered_total < cfg->limits.max_buffered_conn)
		cfg->limits.max_buffered_total = cfg->limits.max_buffered_conn;
	if (cfg->limits.max_buffered_conn < cfg->max_msg + 5)
		return perr(ps, st->grpc_table ? st->grpc_table->kpos : toml_root(ps->doc)->kpos,
			    "[grpc] max_buffered_per_connection (%zu) must hold one message of max_message_size (%zu) and its 5-byte prefix",
			    cfg->limits.max_buffered_conn, cfg->max_msg);
	if (cfg->limits.max_buffered_total < cfg->limits.max_buffered_conn)
		return perr(ps, st->grpc_table ? st->grpc_table->kpos : toml_root(ps->doc)->kpos,
			    "[grpc] max_buffered_total (%zu) must be at least max_buffered_per_connection (%zu)",
			    cfg->limits.max_buffered_total, cfg->limits.max_buffered_conn);
	return 0;
}

static int config_parse_named(struct bpfd_config *cfg, const char *name, const char *text,
			      size_t len, struct errmsg *em)
{
	struct parser ps = { .em = em };
	struct toml_doc *doc = NULL;
	struct stage *st = NULL;
	int err;

	err = toml_parse(name, text, len, em, &doc);
	if (err)
		goto out;
	ps.doc = doc;
	st = calloc(1, sizeof(*st));
	if (!st) {
		err = errmsg_set(em, -ENOMEM, "out of memory parsing the configuration");
		goto out;
	}
	st->cfg = *cfg;
	err = apply_fields(&ps, toml_root(doc), "at the top level", root_fields, st);
	if (err)
		goto out;
	err = stage_finish(&ps, st);
	if (err)
		goto out;
	*cfg = st->cfg;
out:
	free(st);
	toml_free(doc);
	return err;
}

/* ------------------------------------------------------------------ */
/* API                                                                 */

void config_set_rundir(struct bpfd_config *cfg, const char *rundir)
{
	snprintf(cfg->rundir, sizeof(cfg->rundir), "%s", rundir);
	snprintf(cfg->bpffs, sizeof(cfg->bpffs), "%s/fs", rundir);
	if (!cfg->socket_path_set)
		snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s/bpfd.sock", rundir);
}

void config_defaults(struct bpfd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	config_set_rundir(cfg, BPFD_RUNDIR);
	snprintf(cfg->xdp_bpffs, sizeof(cfg->xdp_bpffs), "/sys/fs/bpf");
	cfg->unix_enabled = true;
	snprintf(cfg->socket_group, sizeof(cfg->socket_group), "bpfd");
	cfg->socket_mode = 0660;
	snprintf(cfg->tcp_addr, sizeof(cfg->tcp_addr), "::1");
	cfg->tcp_port = 50051;
	snprintf(cfg->certs_dir, sizeof(cfg->certs_dir), "%s", BPFD_CERTS_DIR);
	cfg->max_msg = BPFD_MAX_MSG;
	cfg->limits = (struct server_limits){
		.max_streams = 100,
		.max_buffered_conn = 16u << 20,
		.max_buffered_total = 64u << 20,
		.message_timeout = 60,
		.handshake_timeout = 10,
		.idle_timeout = 300,
		.max_unix_conns = 128,
		.max_tcp_conns = 1000,
		.max_conns_per_uid = 32,
		.max_conns_per_addr = 32,
	};
	cfg->allow_unsigned = true;
	cfg->registry.connect_timeout_ms = 10000;
	cfg->registry.read_timeout_ms = 30000;
	cfg->registry.max_blob_bytes = 256ull << 20;
	cfg->verify_enabled = true;
	snprintf(cfg->image_dir, sizeof(cfg->image_dir), "%s", BPFD_IMAGE_DIR);
	snprintf(cfg->programs_dir, sizeof(cfg->programs_dir), "%s", BPFD_PROGRAMS_DIR);
	cfg->log_level = -1;
	cfg->log_target = LOG_TARGET_STDERR;
	cfg->stats_mode = STATS_ON_DEMAND;
	cfg->stats_grace = STATS_GRACE_DEFAULT;
	snprintf(cfg->metrics_addr, sizeof(cfg->metrics_addr), "127.0.0.1");
	cfg->event_queue = EVENT_QUEUE_DEFAULT;
	cfg->event_readers = EVENT_READERS_DEFAULT;
}

int config_parse(struct bpfd_config *cfg, const char *text, size_t len, struct errmsg *em)
{
	return config_parse_named(cfg, NULL, text, len, em);
}

int config_load(struct bpfd_config *cfg, const char *path, bool must_exist, struct errmsg *em)
{
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT && !must_exist)
			return 0;
		return errmsg_set(em, err, "cannot open the configuration file '%s': %s", path,
				  strerror(-err));
	}
	if (fstat(fd, &st)) {
		err = errmsg_set(em, -errno, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = errmsg_set(em, -EINVAL, "the configuration file '%s' is not a regular file",
				 path);
		goto out;
	}
	if (st.st_size > CONFIG_MAX_FILE) {
		err = errmsg_set(em, -EFBIG, "the configuration file '%s' is too large (%lld bytes; at most %u)",
				 path, (long long)st.st_size, CONFIG_MAX_FILE);
		goto out;
	}
	text = malloc(CONFIG_MAX_FILE + 1);
	if (!text) {
		err = errmsg_set(em, -ENOMEM, "out of memory reading '%s'", path);
		goto out;
	}
	/* Read to EOF: the size may have changed since fstat(). */
	for (;;) {
		n = read(fd, text + len, CONFIG_MAX_FILE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errmsg_set(em, -errno, "cannot read the configuration file '%s': %s",
					 path, strerror(errno));
			goto out;
		}
		if (!n)
			break;
		len += n;
		if (len > CONFIG_MAX_FILE) {
			err = errmsg_set(em, -EFBIG, "the configuration file '%s' is too large (at most %u bytes)",
					 path, CONFIG_MAX_FILE);
			goto out;
		}
	}
	err = config_parse_named(cfg, path, text, len, em);
out:
	free(text);
	close(fd);
	return err;
}

enum xdp_mode config_xdp_mode(const struct bpfd_config *cfg, const char *iface)
{
	size_t i;

	for (i = 0; i < cfg->n_ifaces; i++)
		if (!strcmp(cfg->ifaces[i].name, iface))
			return cfg->ifaces[i].xdp_mode;
	return XDP_MODE_DEFAULT;
}

const char *config_xdp_mode_str(enum xdp_mode mode)
{
	switch (mode) {
	case XDP_MODE_SKB:
		return "skb";
	case XDP_MODE_DRV:
		return "drv";
	case XDP_MODE_HW:
		return "hw";
	case XDP_MODE_DEFAULT:
		break;
	}
	return "default";
}

bool config_tls_file(const struct bpfd_config *cfg, enum config_tls_file which, char *buf,
		     size_t size)
{
	const char *set = which == CONFIG_TLS_CA ? cfg->tls_ca :
			  which == CONFIG_TLS_CERT ? cfg->tls_cert : cfg->tls_key;

	if (set[0]) {
		snprintf(buf, size, "%s", set);
		return true;
	}
	snprintf(buf, size, "%s/%s", cfg->certs_dir, tls_default_names[which]);
	return false;
}
