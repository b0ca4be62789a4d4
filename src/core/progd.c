/* SPDX-License-Identifier: Apache-2.0 */
/* progd.c - programs.d files: parse, write, and bring bpfd's programs in line */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpf/hook.h"
#include "core/base/chain.h"
#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/config/toml.h"
#include "core/progd.h"

/* ------------------------------------------------------------------ */
/* Parsing one file                                                    */

static bool proceed_on_default(enum chain_kind ck, const struct attach_spec *a);

struct pctx {
	const struct toml_doc *doc;
	struct errmsg *em;
	const char *where;	/* "in [[programs]]", "in xdp_attach", ... for messages */
};

static int type_err(struct pctx *c, const struct toml_node *v, const char *want)
{
	return toml_err(c->doc, v->vpos, c->em, "'%s' %s must be %s, not %s", v->key,
			c->where, want, toml_kind_str(v->kind));
}

static int get_str(struct pctx *c, const struct toml_node *v, char *buf, size_t size)
{
	if (v->kind != TOML_STR)
		return type_err(c, v, "a string");
	if (strlen(v->str) >= size)
		return toml_err(c->doc, v->vpos, c->em,
				"'%s' %s is %zu bytes long; the limit is %zu", v->key, c->where,
				strlen(v->str), size - 1);
	memcpy(buf, v->str, strlen(v->str) + 1);
	return 0;
}

static int get_int(struct pctx *c, const struct toml_node *v, int64_t min, int64_t max,
		   int64_t *ret)
{
	if (v->kind != TOML_INT)
		return type_err(c, v, "an integer");
	if (v->num < min || v->num > max)
		return toml_err(c->doc, v->vpos, c->em,
				"'%s' %s is %lld; it must be between %lld and %lld", v->key,
				c->where, (long long)v->num, (long long)min, (long long)max);
	*ret = v->num;
	return 0;
}

static int get_bool(struct pctx *c, const struct toml_node *v, bool *ret)
{
	if (v->kind != TOML_BOOL)
		return type_err(c, v, "a boolean (true or false)");
	*ret = v->num;
	return 0;
}

static int unknown_key(struct pctx *c, const struct toml_node *v, const char *known)
{
	return toml_err(c->doc, v->kpos, c->em, "unknown key '%s' %s (known: %s)", v->key,
			c->where, known);
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = tolower((unsigned char)*s);
}

/* proceed_on = ["pass", "dispatcher_return"] (names) or codes. */
static int get_proceed_on(struct pctx *c, const struct toml_node *v, enum chain_kind ck,
			  struct attach_spec *a)
{
	const struct toml_node *e;
	char name[32];
	int32_t code;

	if (v->kind != TOML_ARRAY)
		return type_err(c, v, "an array of action names");
	for (e = v->child; e; e = e->next) {
		if (a->n_proceed_on == PLAN_PROCEED_ON_MAX)
			return toml_err(c->doc, e->vpos, c->em,
					"'proceed_on' %s has more than %d actions", c->where,
					PLAN_PROCEED_ON_MAX);
		if (e->kind == TOML_INT && e->num >= INT32_MIN && e->num <= INT32_MAX) {
			code = e->num;
		} else if (e->kind == TOML_STR && strlen(e->str) < sizeof(name)) {
			memcpy(name, e->str, strlen(e->str) + 1);
			lower(name);
			if (chain_action_parse(ck, name, &code))
				return toml_err(c->doc, e->vpos, c->em,
						"'%s' in 'proceed_on' %s is not a known %s action",
						e->str, c->where, chain_kind_str(ck));
		} else {
			return toml_err(c->doc, e->vpos, c->em,
					"'proceed_on' %s holds action names (\"pass\", ...), not %s",
					c->where, toml_kind_str(e->kind));
		}
		a->proceed_on[a->n_proceed_on++] = code;
	}
	return 0;
}

/* The attach tables: which keys each takes. */
enum akey {
	AK_IFACE = 1 << 0,
	AK_PRIORITY = 1 << 1,
	AK_PROCEED_ON = 1 << 2,
	AK_DIRECTION = 1 << 3,
	AK_TRACEPOINT = 1 << 4,
	AK_FN_NAME = 1 << 5,
	AK_OFFSET = 1 << 6,
	AK_TARGET = 1 << 7,
	AK_RETPROBE = 1 << 8,
	AK_PID = 1 << 9,
	AK_NAMESPACE = 1 << 10,
};

static const struct attach_table {
	const char *table;	/* key in [[programs]] */
	const char *type;	/* program_type, lower case */
	enum obj_kind kind;
	unsigned int keys;
	unsigned int required;
	const char *known;
} attach_tables[] = {
	{ "xdp_attach", "xdp", OBJ_KIND_XDP, AK_IFACE | AK_PRIORITY | AK_PROCEED_ON,
	  AK_IFACE | AK_PRIORITY, "iface, priority, proceed_on" },
	{ "tc_attach", "tc", OBJ_KIND_TC,
	  AK_IFACE | AK_PRIORITY | AK_PROCEED_ON | AK_DIRECTION,
	  AK_IFACE | AK_PRIORITY | AK_DIRECTION, "iface, priority, direction, proceed_on" },
	{ "tcx_attach", "tcx", OBJ_KIND_TCX, AK_IFACE | AK_PRIORITY | AK_DIRECTION,
	  AK_IFACE | AK_PRIORITY | AK_DIRECTION, "iface, priority, direction" },
	{ "tracepoint_attach", "tracepoint", OBJ_KIND_TRACEPOINT, AK_TRACEPOINT,
	  AK_TRACEPOINT, "tracepoint" },
	{ "kprobe_attach", "kprobe", OBJ_KIND_KPROBE,
	  AK_FN_NAME | AK_OFFSET | AK_RETPROBE | AK_NAMESPACE, AK_FN_NAME,
	  "fn_name, offset, retprobe, namespace" },
	{ "uprobe_attach", "uprobe", OBJ_KIND_UPROBE,
	  AK_FN_NAME | AK_OFFSET | AK_TARGET | AK_RETPROBE | AK_PID | AK_NAMESPACE,
	  AK_TARGET, "fn_name, offset, target, retprobe, pid, namespace" },
	{ "fentry_attach", "fentry", OBJ_KIND_FENTRY, AK_FN_NAME, AK_FN_NAME, "fn_name" },
	{ "fexit_attach", "fexit", OBJ_KIND_FEXIT, AK_FN_NAME, AK_FN_NAME, "fn_name" },
};
#define N_ATTACH (sizeof(attach_tables) / sizeof(attach_tables[0]))

static const struct {
	const char *name;
	enum akey bit;
} akey_names[] = {
	{ "iface", AK_IFACE }, { "priority", AK_PRIORITY }, { "proceed_on", AK_PROCEED_ON },
	{ "direction", AK_DIRECTION }, { "tracepoint", AK_TRACEPOINT },
	{ "fn_name", AK_FN_NAME }, { "offset", AK_OFFSET }, { "target", AK_TARGET },
	{ "retprobe", AK_RETPROBE }, { "pid", AK_PID }, { "namespace", AK_NAMESPACE },
};

static enum akey akey_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(akey_names) / sizeof(akey_names[0]); i++)
		if (!strcmp(akey_names[i].name, name))
			return akey_names[i].bit;
	return 0;
}

static int attach_value(struct pctx *c, const struct attach_table *at,
			const struct toml_node *v, enum akey k, struct attach_spec *a)
{
	int64_t n;
	bool b = false;
	int err;

	switch (k) {
	case AK_IFACE:
		return get_str(c, v, a->iface, sizeof(a->iface));
	case AK_PRIORITY:
		err = get_int(c, v, 0, INT32_MAX, &n);
		a->priority = n;
		return err;
	case AK_PROCEED_ON:
		return get_proceed_on(c, v, at->kind == OBJ_KIND_XDP ? CHAIN_XDP : CHAIN_TC, a);
	case AK_DIRECTION:
		err = get_str(c, v, a->direction, sizeof(a->direction));
		lower(a->direction);
		if (!err && strcmp(a->direction, "ingress") && strcmp(a->direction, "egress"))
			return toml_err(c->doc, v->vpos, c->em,
					"'direction' %s is '%s'; it must be \"ingress\" or \"egress\"",
					c->where, v->str);
		return err;
	case AK_TRACEPOINT:
		return get_str(c, v, a->tracepoint, sizeof(a->tracepoint));
	case AK_FN_NAME:
		a->has_fn_name = true;
		return get_str(c, v, a->fn_name, sizeof(a->fn_name));
	case AK_OFFSET:
		err = get_int(c, v, 0, INT64_MAX, &n);
		a->offset = n;
		return err;
	case AK_TARGET:
		return get_str(c, v, a->target, sizeof(a->target));
	case AK_RETPROBE:
		err = get_bool(c, v, &b);
		if (!err && b)
			a->kind = at->kind == OBJ_KIND_KPROBE ? OBJ_KIND_KRETPROBE
							       : OBJ_KIND_URETPROBE;
		return err;
	case AK_PID:
		err = get_int(c, v, 1, INT32_MAX, &n);
		a->has_pid = true;
		a->pid = n;
		return err;
	case AK_NAMESPACE:
		a->has_namespace = true;
		return get_str(c, v, a->ns, sizeof(a->ns));
	}
	return -EINVAL;
}

static int parse_attach(struct pctx *c, const struct attach_table *at,
			const struct toml_node *t, struct attach_spec *a)
{
	const char *where = c->where;
	char w[64];
	const struct toml_node *v;
	unsigned int seen = 0;
	enum akey k;
	size_t i;
	int err = 0;

	if (t->kind != TOML_TABLE)
		return type_err(c, t, "a table ({ ... })");
	snprintf(w, sizeof(w), "in %s", at->table);
	c->where = w;
	memset(a, 0, sizeof(*a));
	a->kind = at->kind;
	for (v = t->child; v && !err; v = v->next) {
		k = akey_of(v->key);
		if (!(k & at->keys))
			err = unknown_key(c, v, at->known);
		else
			err = attach_value(c, at, v, k, a);
		seen |= k;
	}
	for (i = 0; !err && i < sizeof(akey_names) / sizeof(akey_names[0]); i++)
		if ((at->required & akey_names[i].bit) && !(seen & akey_names[i].bit))
			err = toml_err(c->doc, t->vpos, c->em, "%s needs '%s'", at->table,
				       akey_names[i].name);
	c->where = where;
	return err;
}

static int hex_digit(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' :
	       ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
	       ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* One global: "0A0B0C0D" (hex, as bpfctl -g) or [10, 11, 12, 13] (bytes, as the
 * original's files). */
static int parse_global(struct pctx *c, const struct toml_node *v, struct global_kv *g)
{
	const struct toml_node *e;
	size_t i, n;

	if (strlen(v->key) >= sizeof(g->key))
		return toml_err(c->doc, v->kpos, c->em,
				"global name '%.40s...' is longer than %zu bytes", v->key,
				sizeof(g->key) - 1);
	memcpy(g->key, v->key, strlen(v->key) + 1);
	g->size = 0;
	if (v->kind == TOML_STR) {
		n = strlen(v->str);
		if (!n || n % 2 || n / 2 > sizeof(g->value))
			return toml_err(c->doc, v->vpos, c->em,
					"global '%s' must be an even number of hex digits (1 to %zu bytes)",
					v->key, sizeof(g->value));
		for (i = 0; i < n; i += 2) {
			if (hex_digit(v->str[i]) < 0 || hex_digit(v->str[i + 1]) < 0)
				return toml_err(c->doc, v->vpos, c->em,
						"global '%s' is not hex: '%c%c' at byte %zu",
						v->key, v->str[i], v->str[i + 1], i / 2);
			g->value[g->size++] = hex_digit(v->str[i]) << 4 | hex_digit(v->str[i + 1]);
		}
		return 0;
	}
	if (v->kind != TOML_ARRAY)
		return toml_err(c->doc, v->vpos, c->em,
				"global '%s' must be a hex string (\"0A0B\") or an array of bytes, not %s",
				v->key, toml_kind_str(v->kind));
	for (e = v->child; e; e = e->next) {
		if (e->kind != TOML_INT || e->num < 0 || e->num > 255)
			return toml_err(c->doc, e->vpos, c->em,
					"global '%s' holds bytes: integers from 0 to 255", v->key);
		if (g->size == sizeof(g->value))
			return toml_err(c->doc, e->vpos, c->em,
					"global '%s' is longer than %zu bytes", v->key,
					sizeof(g->value));
		g->value[g->size++] = e->num;
	}
	if (!g->size)
		return toml_err(c->doc, v->vpos, c->em, "global '%s' is empty", v->key);
	return 0;
}

static int parse_globals(struct pctx *c, const struct toml_node *t, struct prog_spec *s)
{
	const struct toml_node *v;
	int err;

	if (t->kind != TOML_TABLE)
		return type_err(c, t, "a table of globals ({ NAME = \"0A0B\" })");
	for (v = t->child; v; v = v->next) {
		if (s->n_globals == PLAN_GLOBALS_MAX)
			return toml_err(c->doc, v->kpos, c->em, "more than %d globals",
					PLAN_GLOBALS_MAX);
		err = parse_global(c, v, &s->globals[s->n_globals++]);
		if (err)
			return err;
	}
	return 0;
}

static int parse_metadata(struct pctx *c, const struct toml_node *t, struct prog_spec *s)
{
	const char *where = c->where;
	const struct toml_node *v;
	struct meta_kv *m;
	int err = 0;

	if (t->kind != TOML_TABLE)
		return type_err(c, t, "a table of strings ({ key = \"value\" })");
	c->where = "in metadata";
	for (v = t->child; v && !err; v = v->next) {
		if (s->n_metadata == PLAN_METADATA_MAX) {
			err = toml_err(c->doc, v->kpos, c->em, "more than %d metadata entries",
				       PLAN_METADATA_MAX);
			break;
		}
		m = &s->metadata[s->n_metadata++];
		if (strlen(v->key) >= sizeof(m->key))
			err = toml_err(c->doc, v->kpos, c->em,
				       "metadata key is longer than %zu bytes", sizeof(m->key) - 1);
		else
			memcpy(m->key, v->key, strlen(v->key) + 1);
		if (!err)
			err = get_str(c, v, m->value, sizeof(m->value));
	}
	c->where = where;
	return err;
}

static int parse_image(struct pctx *c, const struct toml_node *t, struct progd_entry *e)
{
	static const char *const policies[] = { "always", "ifnotpresent", "never" };
	const char *where = c->where;
	const struct toml_node *v;
	char buf[PROGD_URL_SIZE] = "";
	bool url = false;
	size_t i;
	int err = 0;

	if (t->kind != TOML_TABLE)
		return type_err(c, t, "a table ({ image_url = \"...\" })");
	c->where = "in bytecode_image";
	e->image_pull_policy = 1;	/* IfNotPresent */
	for (v = t->child; v && !err; v = v->next) {
		if (!strcmp(v->key, "image_url") || !strcmp(v->key, "url")) {
			err = get_str(c, v, e->image_url, sizeof(e->image_url));
			url = !err && e->image_url[0];
		} else if (!strcmp(v->key, "image_pull_policy")) {
			err = get_str(c, v, buf, 32);
			lower(buf);
			for (i = 0; !err && i < 3 && strcmp(buf, policies[i]); i++)
				;
			if (!err && i == 3)
				err = toml_err(c->doc, v->vpos, c->em,
					       "'image_pull_policy' is '%s'; it must be \"Always\", \"IfNotPresent\" or \"Never\"",
					       v->str);
			e->image_pull_policy = i;
		} else if (!strcmp(v->key, "username")) {
			err = get_str(c, v, e->username, sizeof(e->username));
			e->has_auth = true;
		} else if (!strcmp(v->key, "password")) {
			err = get_str(c, v, e->password, sizeof(e->password));
			e->has_auth = true;
		} else {
			err = unknown_key(c, v, "image_url, image_pull_policy, username, password");
		}
	}
	if (!err && !url)
		err = toml_err(c->doc, t->vpos, c->em, "bytecode_image needs 'image_url'");
	if (!err && strlen(e->image_url) >= sizeof(e->plan.spec.image_url))
		err = toml_err(c->doc, t->vpos, c->em, "'image_url' is longer than %zu bytes",
			       sizeof(e->plan.spec.image_url) - 1);
	if (!err) {
		snprintf(e->plan.spec.image_url, sizeof(e->plan.spec.image_url), "%s",
			 e->image_url);
		e->plan.spec.image_pull_policy = e->image_pull_policy;
	}
	explicit_bzero(buf, sizeof(buf));
	c->where = where;
	return err;
}

static const struct attach_table *attach_table_of(const char *key)
{
	size_t i;

	for (i = 0; i < N_ATTACH; i++)
		if (!strcmp(attach_tables[i].table, key))
			return &attach_tables[i];
	return NULL;
}

/* program_type: the original's "Xdp", "Tc", "Tracepoint", any case; it must agree
 * with the attach table.  kretprobe and uretprobe name the return probes. */
static int check_type(struct pctx *c, const struct toml_node *v,
		      const struct attach_table *at, struct attach_spec *a)
{
	char t[32];
	int err;

	err = get_str(c, v, t, sizeof(t));
	if (err)
		return err;
	lower(t);
	if (!strcmp(t, at->type))
		return 0;
	if (at->kind == OBJ_KIND_KPROBE && !strcmp(t, "kretprobe")) {
		a->kind = OBJ_KIND_KRETPROBE;
		return 0;
	}
	if (at->kind == OBJ_KIND_UPROBE && !strcmp(t, "uretprobe")) {
		a->kind = OBJ_KIND_URETPROBE;
		return 0;
	}
	return toml_err(c->doc, v->vpos, c->em,
			"program_type '%s' does not match %s (program_type \"%s\")", v->str,
			at->table, at->type);
}

#define ENTRY_KEYS "name, file_path, bytecode_image, program_type, global_data, metadata, " \
		   "xdp_attach, tc_attach, tcx_attach, tracepoint_attach, kprobe_attach, " \
		   "uprobe_attach, fentry_attach, fexit_attach"

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n--) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The fingerprint: of the entry as progd_write_entry() writes it, so what does not
 * change the program (comments, order of keys, spelling of a type) does not
 * change it either. */
static int fingerprint(struct progd_entry *e)
{
	char *buf = NULL;
	size_t len = 0;
	uint64_t h;
	FILE *f;
	int err;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	err = progd_write_entry(f, &e->plan.spec, e->image_url[0] ? e->image_url : NULL,
				e->image_pull_policy);
	if (fclose(f) || !buf)
		err = err ?: -ENOMEM;
	if (!err) {
		h = fnv1a(0xcbf29ce484222325ULL, buf, len);
		snprintf(e->plan.entry, sizeof(e->plan.entry), "%016llx",
			 (unsigned long long)h);
	}
	free(buf);
	return err;
}

static int parse_entry(struct pctx *c, const struct toml_node *t, const char *source,
		       struct progd_entry *e)
{
	const struct toml_node *v, *type = NULL, *attach = NULL, *name = NULL;
	const struct attach_table *at = NULL;
	struct prog_spec *s = &e->plan.spec;
	bool file = false, image = false;
	int err = 0;

	memset(e, 0, sizeof(*e));
	e->line = toml_line(c->doc, t->kpos);
	c->where = "in [[programs]]";
	snprintf(s->source, sizeof(s->source), "%s", source);
	for (v = t->child; v && !err; v = v->next) {
		if (!strcmp(v->key, "name")) {
			name = v;
			err = get_str(c, v, s->name, sizeof(s->name));
		} else if (!strcmp(v->key, "file_path")) {
			file = true;
			err = get_str(c, v, s->path, sizeof(s->path));
			if (!err && s->path[0] != '/')
				err = toml_err(c->doc, v->vpos, c->em,
					       "file_path '%s' is not an absolute path", v->str);
		} else if (!strcmp(v->key, "bytecode_image")) {
			image = true;
			err = parse_image(c, v, e);
		} else if (!strcmp(v->key, "program_type")) {
			type = v;
		} else if (!strcmp(v->key, "global_data")) {
			err = parse_globals(c, v, s);
		} else if (!strcmp(v->key, "metadata")) {
			err = parse_metadata(c, v, s);
		} else if (attach_table_of(v->key)) {
			if (attach)
				err = toml_err(c->doc, v->kpos, c->em,
					       "an entry attaches once: '%s' and '%s' (line %d) both given",
					       v->key, attach->key, toml_line(c->doc, attach->kpos));
			attach = v;
		} else {
			err = unknown_key(c, v, ENTRY_KEYS);
		}
	}
	if (err)
		return err;
	if (!name || !s->name[0])
		return toml_err(c->doc, t->kpos, c->em,
				"[[programs]] needs 'name': the BPF function to load");
	if (file == image)
		return toml_err(c->doc, t->kpos, c->em,
				"[[programs]] '%s' needs exactly one of 'file_path' and 'bytecode_image'",
				s->name);
	if (!attach)
		return toml_err(c->doc, t->kpos, c->em,
				"[[programs]] '%s' needs an attach table: xdp_attach, tc_attach, tcx_attach, tracepoint_attach, kprobe_attach, uprobe_attach, fentry_attach or fexit_attach",
				s->name);
	at = attach_table_of(attach->key);
	err = parse_attach(c, at, attach, &s->attach);
	if (!err && type)
		err = check_type(c, type, at, &s->attach);
	if (err)
		return err;
	/* the default spelled out is the default: also where no chain takes it */
	if ((at->kind == OBJ_KIND_XDP && proceed_on_default(CHAIN_XDP, &s->attach)) ||
	    (at->kind == OBJ_KIND_TC && proceed_on_default(CHAIN_TC, &s->attach)))
		s->attach.n_proceed_on = 0;
	e->plan.bytecode = image ? PLAN_BYTECODE_IMAGE : PLAN_BYTECODE_FILE;
	e->plan.has_attach = true;
	return fingerprint(e);
}

int progd_parse(const char *path, const char *source, const char *text, size_t len,
		struct progd_entry **ret, size_t *ret_n, struct errmsg *em)
{
	const struct toml_node *root, *v, *t;
	struct progd_entry *v_e = NULL;
	struct toml_doc *doc = NULL;
	struct pctx c = { .em = em, .where = "at the top level" };
	size_t n = 0, i = 0;
	int err;

	err = toml_parse(path, text, len, em, &doc);
	if (err)
		return err;
	c.doc = doc;
	root = toml_root(doc);
	for (v = root->child; v; v = v->next) {
		if (strcmp(v->key, "programs")) {
			err = unknown_key(&c, v, "programs ([[programs]] entries)");
			goto out;
		}
		if (v->kind != TOML_TABLES) {
			err = toml_err(doc, v->kpos, em,
				       "'programs' must be an array of tables: write [[programs]]");
			goto out;
		}
		for (t = v->child; t; t = t->next)
			n++;
	}
	if (n > PROGD_MAX_ENTRIES) {
		err = toml_err(doc, root->kpos, em, "more than %d [[programs]] entries",
			       PROGD_MAX_ENTRIES);
		goto out;
	}
	v_e = calloc(n ? n : 1, sizeof(*v_e));
	if (!v_e) {
		err = errmsg_set(em, -ENOMEM, "out of memory reading %s", path);
		goto out;
	}
	v = toml_find(root, "programs");
	for (t = v ? v->child : NULL; t; t = t->next) {
		err = parse_entry(&c, t, source, &v_e[i++]);
		if (err)
			goto out;
	}
	*ret = v_e;
	*ret_n = n;
	v_e = NULL;
out:
	if (v_e)
		explicit_bzero(v_e, n * sizeof(*v_e));	/* credentials */
	free(v_e);
	toml_free(doc);
	return err;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void put_key(FILE *f, const char *k)
{
	const char *s;

	for (s = k; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			break;
	if (*k && !*s)
		fputs(k, f);
	else
		put_str(f, k);
}

static void put_proceed_on(FILE *f, enum chain_kind ck, const struct attach_spec *a)
{
	const char *name;
	size_t i;

	fputs(", proceed_on = [", f);
	for (i = 0; i < a->n_proceed_on; i++) {
		name = chain_action_str(ck, a->proceed_on[i]);
		fputs(i ? ", " : "", f);
		if (name)
			put_str(f, name);
		else
			fprintf(f, "%d", a->proceed_on[i]);
	}
	fputc(']', f);
}

/* The default proceed-on, however spelled, is the same as none: written as none
 * (a directly attached program, which takes no proceed-on, shows the default). */
static bool proceed_on_default(enum chain_kind ck, const struct attach_spec *a)
{
	uint32_t mask;

	if (!a->n_proceed_on)
		return true;
	if (chain_proceed_on_encode(ck, a->proceed_on, a->n_proceed_on, &mask, NULL))
		return false;
	return mask == (ck == CHAIN_XDP ? CHAIN_XDP_DEFAULT_MASK : CHAIN_TC_DEFAULT_MASK);
}

static void put_hook(FILE *f, const char *table, const struct attach_spec *a)
{
	fprintf(f, "%s = { iface = ", table);
	put_str(f, a->iface);
	fprintf(f, ", priority = %d", a->priority);
	if (a->kind != OBJ_KIND_XDP) {
		fputs(", direction = ", f);
		put_str(f, a->direction[0] ? a->direction : "ingress");
	}
	if (a->kind == OBJ_KIND_XDP && !proceed_on_default(CHAIN_XDP, a))
		put_proceed_on(f, CHAIN_XDP, a);
	if (a->kind == OBJ_KIND_TC && !proceed_on_default(CHAIN_TC, a))
		put_proceed_on(f, CHAIN_TC, a);
	fputs(" }\n", f);
}

static void put_probe(FILE *f, const char *table, const struct attach_spec *a, bool uprobe)
{
	bool first = true;

	fprintf(f, "%s = {", table);
	if (a->has_fn_name) {
		fputs(" fn_name = ", f);
		put_str(f, a->fn_name);
		first = false;
	}
	if (uprobe) {
		fputs(first ? " target = " : ", target = ", f);
		put_str(f, a->target);
		first = false;
	}
	if (a->offset)
		fprintf(f, "%s offset = %llu", first ? "" : ",", (unsigned long long)a->offset);
	if (a->kind == OBJ_KIND_KRETPROBE || a->kind == OBJ_KIND_URETPROBE)
		fputs(", retprobe = true", f);
	if (uprobe && a->has_pid)
		fprintf(f, ", pid = %d", a->pid);
	if (a->has_namespace) {
		fputs(", namespace = ", f);
		put_str(f, a->ns);
	}
	fputs(" }\n", f);
}

static void put_attach(FILE *f, const struct attach_spec *a)
{
	switch (a->kind) {
	case OBJ_KIND_XDP:
		fputs("program_type = \"xdp\"\n", f);
		return put_hook(f, "xdp_attach", a);
	case OBJ_KIND_TC:
		fputs("program_type = \"tc\"\n", f);
		return put_hook(f, "tc_attach", a);
	case OBJ_KIND_TCX:
		fputs("program_type = \"tcx\"\n", f);
		return put_hook(f, "tcx_attach", a);
	case OBJ_KIND_TRACEPOINT:
		fputs("program_type = \"tracepoint\"\ntracepoint_attach = { tracepoint = ", f);
		put_str(f, a->tracepoint);
		fputs(" }\n", f);
		return;
	case OBJ_KIND_KPROBE:
	case OBJ_KIND_KRETPROBE:
		fprintf(f, "program_type = \"%s\"\n", obj_kind_str(a->kind));
		return put_probe(f, "kprobe_attach", a, false);
	case OBJ_KIND_UPROBE:
	case OBJ_KIND_URETPROBE:
		fprintf(f, "program_type = \"%s\"\n", obj_kind_str(a->kind));
		return put_probe(f, "uprobe_attach", a, true);
	case OBJ_KIND_FENTRY:
	case OBJ_KIND_FEXIT:
		fprintf(f, "program_type = \"%s\"\n%s_attach = { fn_name = ",
			obj_kind_str(a->kind), obj_kind_str(a->kind));
		put_str(f, a->fn_name);
		fputs(" }\n", f);
		return;
	default:
		return;
	}
}

int progd_write_entry(FILE *f, const struct prog_spec *s, const char *image_url,
		      int image_pull_policy)
{
	static const char *const policies[] = { "Always", "IfNotPresent", "Never" };
	size_t i, j;

	fputs("[[programs]]\nname = ", f);
	put_str(f, s->name);
	fputc('\n', f);
	if (image_url) {
		fputs("bytecode_image = { image_url = ", f);
		put_str(f, image_url);
		fprintf(f, ", image_pull_policy = \"%s\" }\n",
			policies[image_pull_policy >= 0 && image_pull_policy < 3 ?
				 image_pull_policy : 1]);
	} else {
		fputs("file_path = ", f);
		put_str(f, s->path);
		fputc('\n', f);
	}
	put_attach(f, &s->attach);
	if (s->n_globals) {
		fputs("global_data = {", f);
		for (i = 0; i < s->n_globals; i++) {
			fputs(i ? ", " : " ", f);
			put_key(f, s->globals[i].key);
			fputs(" = \"", f);
			for (j = 0; j < s->globals[i].size; j++)
				fprintf(f, "%02X", s->globals[i].value[j]);
			fputc('"', f);
		}
		fputs(" }\n", f);
	}
	if (s->n_metadata) {
		fputs("metadata = {", f);
		for (i = 0; i < s->n_metadata; i++) {
			fputs(i ? ", " : " ", f);
			put_key(f, s->metadata[i].key);
			fputs(" = ", f);
			put_str(f, s->metadata[i].value);
		}
		fputs(" }\n", f);
	}
	return ferror(f) ? -EIO : 0;
}

/* ------------------------------------------------------------------ */
/* The report                                                          */

const char *progd_action_str(enum progd_action a)
{
	switch (a) {
	case PROGD_LOADED:
		return "loaded";
	case PROGD_KEPT:
		return "kept";
	case PROGD_REPLACED:
		return "replaced";
	case PROGD_MODIFIED:
		return "modified";
	case PROGD_UNLOADED:
		return "unloaded";
	case PROGD_ERROR:
		return "error";
	}
	return "?";
}

static struct progd_change *report_add(struct progd_report *rep, enum progd_action a,
				       const char *source, const char *name)
{
	struct progd_change *v;
	size_t cap;

	if (rep->n == rep->cap) {
		cap = rep->cap ? rep->cap * 2 : 16;
		v = realloc(rep->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		rep->v = v;
		rep->cap = cap;
	}
	v = &rep->v[rep->n++];
	memset(v, 0, sizeof(*v));
	v->action = a;
	snprintf(v->source, sizeof(v->source), "%s", source);
	snprintf(v->name, sizeof(v->name), "%s", name ? name : "");
	return v;
}

void progd_report_free(struct progd_report *rep)
{
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

void progd_report_log(const struct progd_report *rep, const char *why)
{
	size_t i, count[PROGD_ERROR + 1] = { 0 };
	const struct progd_change *c;

	for (i = 0; i < rep->n; i++) {
		c = &rep->v[i];
		count[c->action]++;
		if (c->action == PROGD_ERROR)
			log_err("programs.d: %s", c->error);
		else if (c->action == PROGD_REPLACED)
			log_info("programs.d: %s '%s': program %u replaced by %u", c->source,
				 c->name, c->old_id, c->id);
		else if (c->action != PROGD_KEPT)
			log_info("programs.d: %s '%s': program %u %s", c->source, c->name,
				 c->id, progd_action_str(c->action));
	}
	log_info("programs.d (%s): %zu loaded, %zu kept, %zu replaced, %zu modified, "
		 "%zu unloaded, %zu error(s)", why, count[PROGD_LOADED], count[PROGD_KEPT],
		 count[PROGD_REPLACED], count[PROGD_MODIFIED], count[PROGD_UNLOADED],
		 count[PROGD_ERROR]);
}

/* ------------------------------------------------------------------ */
/* A pass over the directory                                           */

struct owned {
	uint32_t id;
	char source[PLAN_SOURCE_SIZE];
	char entry[PLAN_ENTRY_SIZE];
	char name[PLAN_NAME_SIZE];
	bool claimed;
};

struct pfile {
	char source[PLAN_SOURCE_SIZE];
	struct progd_entry *e;
	size_t n;
	bool bad;
};

struct pass {
	const struct progd_ops *ops;
	void *ctx;
	struct progd_report *rep;
	struct owned *own;
	size_t n_own;
	struct pfile *files;
	size_t n_files;
	struct prog_view *view;		/* scratch */
	bool dir_bad;			/* the directory could not be read */
};

static int owned_collect(struct pass *p)
{
	struct owned *o;
	uint32_t id = 0, next;
	size_t cap = 0;
	int err;

	while (!(err = p->ops->next(p->ctx, id, &next))) {
		id = next;
		if (p->ops->view(p->ctx, id, p->view))
			continue;
		if (strncmp(p->view->spec.source, PROGD_SOURCE_PREFIX,
			    strlen(PROGD_SOURCE_PREFIX)))
			continue;
		if (p->n_own == cap) {
			cap = cap ? cap * 2 : 16;
			o = realloc(p->own, cap * sizeof(*o));
			if (!o)
				return -ENOMEM;
			p->own = o;
		}
		o = &p->own[p->n_own++];
		memset(o, 0, sizeof(*o));
		o->id = id;
		snprintf(o->source, sizeof(o->source), "%s", p->view->spec.source);
		snprintf(o->entry, sizeof(o->entry), "%s", p->view->entry);
		snprintf(o->name, sizeof(o->name), "%s", p->view->spec.name);
	}
	return err == -ENOENT ? 0 : err;
}

static int error_add(struct pass *p, const char *source, const char *name, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));
static int error_add(struct pass *p, const char *source, const char *name, const char *fmt,
		     ...)
{
	struct progd_change *c = report_add(p->rep, PROGD_ERROR, source, name);
	va_list ap;

	if (!c)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return 0;
}

static int read_file(const char *path, char **ret, size_t *ret_len, struct errmsg *em)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errmsg_set(em, -errno, "%s: cannot open it: %s", path, strerror(errno));
	err = fs_read_fd(fd, PROGD_MAX_FILE, ret, ret_len);
	close(fd);
	if (err == -EINVAL)
		return errmsg_set(em, err, "%s: not a regular file", path);
	if (err == -EFBIG)
		return errmsg_set(em, err, "%s: larger than %u bytes", path, PROGD_MAX_FILE);
	if (err)
		return errmsg_set(em, err, "%s: cannot read it: %s", path, strerror(-err));
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_toml_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && len > 5 && !strcmp(n + len - 5, ".toml");
}

/* The *.toml names of dir, sorted: 0 (none when dir is missing) or -errno. */
static int list_dir(const char *dir, char ***ret, size_t *ret_n)
{
	char **names = NULL, **nn;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	*ret = NULL;
	*ret_n = 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!is_toml_name(de->d_name) ||
		    strlen(PROGD_SOURCE_PREFIX) + strlen(de->d_name) >= PLAN_SOURCE_SIZE)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				err = -ENOMEM;
				break;
			}
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	*ret = names;
	*ret_n = n;
	return err;
}

static int files_read(struct pass *p, const char *dir)
{
	struct errmsg em = { "" };
	char **names = NULL, path[PATH_MAX], *text;
	struct pfile *f;
	size_t i, n = 0, len = 0;
	int err;

	err = list_dir(dir, &names, &n);
	if (err) {
		p->dir_bad = true;
		error_add(p, "programs.d", NULL,
			  "%s: cannot read the directory: %s; its programs are kept as they are",
			  dir, strerror(-err));
		goto out;
	}
	p->files = calloc(n ? n : 1, sizeof(*p->files));
	if (!p->files) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		f = &p->files[p->n_files++];
		snprintf(f->source, sizeof(f->source), "%s%s", PROGD_SOURCE_PREFIX, names[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		text = NULL;
		em.msg[0] = '\0';
		err = read_file(path, &text, &len, &em);
		if (!err)
			err = progd_parse(path, f->source, text, len, &f->e, &f->n, &em);
		free(text);
		if (err == -ENOMEM)
			goto out;
		if (err) {
			f->bad = true;
			err = error_add(p, f->source, NULL,
					"%s; the file is skipped (its programs are kept as they are)",
					em.msg);
			if (err)
				goto out;
		}
	}
	err = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	/* a directory that cannot be read: act on nothing */
	if (err && err != -ENOMEM)
		err = 0;
	return err;
}

static struct pfile *file_find(struct pass *p, const char *source)
{
	size_t i;

	for (i = 0; i < p->n_files; i++)
		if (!strcmp(p->files[i].source, source))
			return &p->files[i];
	return NULL;
}

static struct owned *owned_find(struct pass *p, const char *source, const char *entry,
				const char *name)
{
	size_t i;

	for (i = 0; i < p->n_own; i++) {
		struct owned *o = &p->own[i];

		if (o->claimed || strcmp(o->source, source))
			continue;
		if ((entry && !strcmp(o->entry, entry)) || (name && !strcmp(o->name, name)))
			return o;
	}
	return NULL;
}

static int unload_one(struct pass *p, struct owned *o)
{
	struct errmsg em = { "" };
	struct progd_change *c;
	int err;

	o->claimed = true;
	err = p->ops->unload(p->ctx, o->id, &em);
	if (err && err != -ENOENT)
		return error_add(p, o->source, o->name, "%s '%s': cannot unload program %u: %s",
				 o->source, o->name, o->id, em.msg[0] ? em.msg : strerror(-err));
	c = report_add(p->rep, PROGD_UNLOADED, o->source, o->name);
	if (!c)
		return -ENOMEM;
	c->id = o->id;
	return 0;
}

/* Do old (a view) and the entry attach at the same XDP or TC hook? */
static bool same_hook(const struct attach_spec *old, const struct attach_spec *a)
{
	if (old->kind != a->kind || (a->kind != OBJ_KIND_XDP && a->kind != OBJ_KIND_TC))
		return false;
	if (strcmp(old->iface, a->iface))
		return false;
	return a->kind == OBJ_KIND_XDP || !strcmp(old->direction, a->direction);
}

/* The plan that loads the program of view v again (its entry's fingerprint kept). */
static void plan_of_view(const struct prog_view *v, const char *entry, struct load_plan *ret)
{
	struct attach_spec *a = &ret->spec.attach;

	memset(ret, 0, sizeof(*ret));
	ret->bytecode = PLAN_BYTECODE_FILE;
	ret->has_attach = true;
	ret->spec = v->spec;
	a->position = 0;
	if ((a->kind == OBJ_KIND_XDP && proceed_on_default(CHAIN_XDP, a)) ||
	    (a->kind == OBJ_KIND_TC && proceed_on_default(CHAIN_TC, a)))
		a->n_proceed_on = 0;
	snprintf(ret->entry, sizeof(ret->entry), "%s", entry);
}

static int replaced(struct pass *p, const struct pfile *f, const char *name, uint32_t id,
		    struct owned *old)
{
	struct progd_change *c;

	c = report_add(p->rep, old ? PROGD_REPLACED : PROGD_LOADED, f->source, name);
	if (!c)
		return -ENOMEM;
	c->id = id;
	c->old_id = old ? old->id : 0;
	return 0;
}

/*
 * The new program of a changed entry could not go beside the old one on its XDP or
 * TC hook (directly attached programs: one per hook): unload the old one, load the
 * new one; when that fails too, load the old one again from its view.
 */
/* Load the plan of entry e: through the image path for a bytecode_image entry. */
static int entry_load(struct pass *p, const struct progd_entry *e, struct errmsg *em)
{
	if (e->plan.bytecode != PLAN_BYTECODE_IMAGE)
		return p->ops->load(p->ctx, &e->plan, p->view, em);
	if (!p->ops->load_image)
		return errmsg_set(em, -EOPNOTSUPP,
				  "bytecode images cannot be loaded here (no image store): give the entry a file_path");
	return p->ops->load_image(p->ctx, &e->plan, e->has_auth ? e->username : NULL,
				  e->password, p->view, em);
}

static int replace_in_place(struct pass *p, const struct pfile *f, const struct progd_entry *e,
			    struct owned *old)
{
	const char *name = e->plan.spec.name;
	struct errmsg em = { "" }, em2 = { "" };
	struct load_plan *back;
	int err;

	back = malloc(sizeof(*back));
	if (!back)
		return -ENOMEM;
	plan_of_view(p->view, old->entry, back);
	old->claimed = true;
	err = p->ops->unload(p->ctx, old->id, &em);
	if (err && err != -ENOENT) {
		err = error_add(p, f->source, name, "%s:%d: [[programs]] '%s': cannot unload program %u to replace it: %s",
				f->source, e->line, name, old->id,
				em.msg[0] ? em.msg : strerror(-err));
		goto out;
	}
	em.msg[0] = '\0';
	err = entry_load(p, e, &em);
	if (!err) {
		err = replaced(p, f, name, p->view->id, old);
		goto out;
	}
	if (err == -ENOMEM)
		goto out;
	if (back->spec.from_image && p->ops->load_image) {
		/* the old program's image, as the store has it */
		back->bytecode = PLAN_BYTECODE_IMAGE;
		back->spec.image_pull_policy = 1;	/* IfNotPresent */
	}
	if (back->bytecode == PLAN_BYTECODE_IMAGE ?
	    p->ops->load_image(p->ctx, back, NULL, NULL, p->view, &em2) :
	    p->ops->load(p->ctx, back, p->view, &em2))
		err = error_add(p, f->source, name, "%s:%d: [[programs]] '%s': %s; the program of the previous entry (%u) could not be loaded again: %s",
				f->source, e->line, name, em.msg[0] ? em.msg : strerror(-err),
				old->id, em2.msg[0] ? em2.msg : "error");
	else
		err = error_add(p, f->source, name, "%s:%d: [[programs]] '%s': %s; the program of the previous entry was loaded again as %u",
				f->source, e->line, name, em.msg[0] ? em.msg : strerror(-err),
				p->view->id);
out:
	free(back);
	return err;
}

/*
 * Entry e differs from the entry of old's program in its priority alone (the entry
 * as progd_write_entry() writes it, with old's priority, has old's fingerprint):
 * move old in place (Modify: same id, the chain swapped atomically) and record the
 * new fingerprint.  1 when it was not such a change (nothing done), 0 when old was
 * moved, else the error (reported).
 */
static int modify_in_place(struct pass *p, const struct pfile *f, const struct progd_entry *e,
			   struct owned *old)
{
	const char *name = e->plan.spec.name;
	struct progd_entry *tmp = NULL;
	struct modify_plan *mp = NULL;
	struct errmsg em = { "" };
	struct progd_change *c;
	int err = 1;

	if (!p->ops->modify || p->ops->view(p->ctx, old->id, p->view))
		return 1;
	switch (p->view->spec.attach.kind) {
	case OBJ_KIND_XDP: case OBJ_KIND_TC: case OBJ_KIND_TCX:
		break;
	default:
		return 1;
	}
	if (p->view->spec.attach.priority == e->plan.spec.attach.priority ||
	    strcmp(p->view->attach_mode, "direct") == 0)
		return 1;
	tmp = calloc(1, sizeof(*tmp));
	mp = calloc(1, sizeof(*mp));
	if (!tmp || !mp) {
		err = -ENOMEM;
		goto out;
	}
	/* the old program as an entry, at the new priority */
	plan_of_view(p->view, "", &tmp->plan);
	tmp->plan.spec.attach.priority = e->plan.spec.attach.priority;
	snprintf(tmp->image_url, sizeof(tmp->image_url), "%s", e->image_url);
	tmp->image_pull_policy = e->image_pull_policy;
	if (fingerprint(tmp) || strcmp(tmp->plan.entry, e->plan.entry))
		goto out;	/* more than the priority changed: err stays 1 */
	mp->id = old->id;
	mp->has_priority = true;
	mp->priority = e->plan.spec.attach.priority;
	snprintf(mp->entry, sizeof(mp->entry), "%s", e->plan.entry);
	old->claimed = true;
	err = p->ops->modify(p->ctx, mp, p->view, &em);
	if (err == -ENOMEM)
		goto out;
	if (err) {
		err = error_add(p, f->source, name, "%s:%d: [[programs]] '%s': cannot move program %u to priority %d: %s; it stays at priority %d",
				f->source, e->line, name, old->id, mp->priority,
				em.msg[0] ? em.msg : strerror(-err), p->view->spec.attach.priority);
		goto out;
	}
	c = report_add(p->rep, PROGD_MODIFIED, f->source, name);
	if (!c) {
		err = -ENOMEM;
		goto out;
	}
	c->id = old->id;
out:
	free(tmp);
	free(mp);
	return err;
}

/* Load entry e of file f; old (may be NULL) is the program it replaces: the new one
 * goes first, then the old one (so a chain never lacks it), except where the hook
 * holds one program only (replace_in_place()).  A change of the priority alone
 * moves old in place (modify_in_place()). */
static int load_one(struct pass *p, const struct pfile *f, const struct progd_entry *e,
		    struct owned *old)
{
	const char *name = e->plan.spec.name;
	struct errmsg em = { "" };
	int err;

	if (old) {
		err = modify_in_place(p, f, e, old);
		if (err <= 0)
			return err;
	}
	err = entry_load(p, e, &em);
	if (err == -ENOMEM)
		return err;
	/* the hook holds one program, and the old one is on it */
	if (err == -HOOK_EPRECONDITION && old && !p->ops->view(p->ctx, old->id, p->view) &&
	    same_hook(&p->view->spec.attach, &e->plan.spec.attach) &&
	    !strcmp(p->view->attach_mode, "direct"))
		return replace_in_place(p, f, e, old);
	if (err) {
		if (old)
			old->claimed = true;
		return error_add(p, f->source, name, "%s:%d: [[programs]] '%s': %s%s", f->source,
				 e->line, name, em.msg[0] ? em.msg : strerror(-err),
				 old ? "; the program of the previous entry stays" : "");
	}
	err = replaced(p, f, name, p->view->id, old);
	if (err || !old)
		return err;
	old->claimed = true;
	em.msg[0] = '\0';
	err = p->ops->unload(p->ctx, old->id, &em);
	if (err && err != -ENOENT)
		return error_add(p, f->source, name, "%s '%s': cannot unload program %u it replaced: %s",
				 f->source, name, old->id, em.msg[0] ? em.msg : strerror(-err));
	return 0;
}

static int sync_file(struct pass *p, struct pfile *f)
{
	struct progd_change *c;
	struct owned *o;
	bool *done;
	size_t i;
	int err = 0;

	if (f->bad) {
		for (i = 0; i < p->n_own; i++)
			if (!strcmp(p->own[i].source, f->source))
				p->own[i].claimed = true;
		return 0;
	}
	done = calloc(f->n ? f->n : 1, sizeof(*done));
	if (!done)
		return -ENOMEM;
	for (i = 0; i < f->n; i++) {
		o = owned_find(p, f->source, f->e[i].plan.entry, NULL);
		if (!o)
			continue;
		o->claimed = done[i] = true;
		c = report_add(p->rep, PROGD_KEPT, f->source, f->e[i].plan.spec.name);
		if (!c) {
			err = -ENOMEM;
			goto out;
		}
		c->id = o->id;
	}
	for (i = 0; i < f->n && !err; i++)
		if (!done[i])
			err = load_one(p, f, &f->e[i],
				       owned_find(p, f->source, NULL, f->e[i].plan.spec.name));
	for (i = 0; i < p->n_own && !err; i++)
		if (!p->own[i].claimed && !strcmp(p->own[i].source, f->source))
			err = unload_one(p, &p->own[i]);
out:
	free(done);
	return err;
}

int progd_sync(const char *dir, const struct progd_ops *ops, void *ctx,
	       struct progd_report *rep)
{
	struct pass p = { .ops = ops, .ctx = ctx, .rep = rep };
	size_t i;
	int err;

	p.view = malloc(sizeof(*p.view));
	if (!p.view)
		return -ENOMEM;
	err = owned_collect(&p);
	if (err) {
		error_add(&p, "programs.d", NULL,
			  "cannot list the programs bpfd holds: %s; programs.d not read",
			  strerror(-err));
		goto out;
	}
	err = files_read(&p, dir);
	if (err)
		goto out;
	/* the programs of removed files first: their room may be what a new entry needs */
	for (i = 0; i < p.n_own && !err && !p.dir_bad; i++)
		if (!file_find(&p, p.own[i].source))
			err = unload_one(&p, &p.own[i]);
	for (i = 0; i < p.n_files && !err; i++)
		err = sync_file(&p, &p.files[i]);
out:
	for (i = 0; i < p.n_files; i++) {
		/* credentials must not linger in freed memory */
		if (p.files[i].e)
			explicit_bzero(p.files[i].e, p.files[i].n * sizeof(*p.files[i].e));
		free(p.files[i].e);
	}
	free(p.files);
	free(p.own);
	free(p.view);
	return err;
}
