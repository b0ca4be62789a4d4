/* SPDX-License-Identifier: Apache-2.0 */
/* config.c - daemon configuration: defaults and the TOML subset of bpfd.toml
 *
 * A file is parsed in two passes.  The first turns the text into a small tree
 * (tables, arrays of tables, values) and enforces TOML's rules: a key or a
 * table is defined once, dotted keys only extend tables they created.  The
 * second walks the tree in document order against the schema below and fills
 * a copy of the configuration, which replaces the caller's only when all of it
 * is valid.  Every error names the line and column (in characters).
 *
 * The TOML subset: comments; [tables] and [[arrays of tables]] with dotted
 * names; bare, "basic" and 'literal' keys, dotted keys; "basic" strings with
 * the escapes \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX, 'literal' strings;
 * integers (decimal, 0x, 0o, 0b, with '_' between digits); true and false;
 * one-level arrays of those.  Not supported (an error says so): multi-line
 * strings, floats, dates and times, inline tables, nested arrays.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/config/config.h"
#include "core/base/opts.h"

#define CONFIG_MAX_FILE		(1u << 20)	/* bytes read by config_load() */
#define CONFIG_MAX_NODES	4096		/* keys, values and tables in a file */
#define CONFIG_MAX_PARTS	16		/* parts of one dotted key or header */
#define CONFIG_MAX_STR		4096		/* bytes in one string or key */
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

enum tkind { TK_TABLE, TK_TABLES, TK_STR, TK_INT, TK_BOOL, TK_ARRAY };

struct tnode {
	enum tkind kind;
	char *key;		/* name in the parent; NULL for elements */
	const char *kpos;	/* the key or [header] in the text */
	const char *vpos;	/* the value in the text */
	bool defined;		/* a table defined by its own [header] */
	bool dotted;		/* a table created by a dotted key */
	struct tnode *child;	/* members in document order */
	struct tnode *last;
	struct tnode *next;
	char *str;
	int64_t num;		/* TK_INT value, TK_BOOL 0/1 */
};

struct kpart {
	char *s;
	const char *pos;
};

struct kpath {
	struct kpart v[CONFIG_MAX_PARTS];
	size_t n;
};

struct parser {
	const char *text;
	const char *p;
	const char *end;
	const char *name;	/* file name for messages, or NULL */
	struct tnode *root;
	struct tnode *table;	/* where key = value lines go */
	size_t n_nodes;
	struct errmsg *em;
};

/* ------------------------------------------------------------------ */
/* Messages                                                            */

/* Copy s[0..len) for a one-line message: control characters escaped, at most
 * about 60 bytes (a longer text ends with "..."). */
static const char *quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 8 < size; i++) {
		unsigned char c = s[i];

		if (n >= 60 && (c & 0xc0) != 0x80) {
			n += snprintf(buf + n, size - n, "...");
			break;
		}
		if (c < 0x20 || c == 0x7f)
			n += snprintf(buf + n, size - n, "\\x%02x", c);
		else
			buf[n++] = c;
	}
	buf[n] = '\0';
	return buf;
}

#define Q(buf, s)	quote(buf, sizeof(buf), (s), strlen(s))

/* Bytes in the (already validated) UTF-8 character at p. */
static size_t char_len(const char *p)
{
	unsigned char c = *p;

	return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

static void text_where(const char *text, const char *at, int *ret_line, int *ret_col)
{
	int line = 1, col = 1;
	const char *s;

	for (s = text; s < at; s++) {
		if (*s == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)*s & 0xc0) != 0x80) {
			col++;
		}
	}
	*ret_line = line;
	*ret_col = col;
}

static int line_of(const struct parser *ps, const char *at)
{
	int line, col;

	text_where(ps->text, at, &line, &col);
	return line;
}

__attribute__((format(printf, 3, 4)))
static int perr(struct parser *ps, const char *at, const char *fmt, ...)
{
	char msg[1024];
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	text_where(ps->text, at, &line, &col);
	if (ps->name)
		return errmsg_set(ps->em, -EINVAL, "%s:%d:%d: %s", ps->name, line, col, msg);
	return errmsg_set(ps->em, -EINVAL, "line %d, column %d: %s", line, col, msg);
}

static const char *kind_str(enum tkind k)
{
	switch (k) {
	case TK_TABLE:
		return "a table";
	case TK_TABLES:
		return "an array of tables";
	case TK_STR:
		return "a string";
	case TK_INT:
		return "an integer";
	case TK_BOOL:
		return "a boolean";
	case TK_ARRAY:
		return "an array";
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* The tree                                                            */

static void node_free(struct tnode *n)
{
	struct tnode *c, *next;

	if (!n)
		return;
	for (c = n->child; c; c = next) {
		next = c->next;
		node_free(c);
	}
	free(n->key);
	free(n->str);
	free(n);
}

static int node_new(struct parser *ps, enum tkind kind, const char *pos,
		    struct tnode **ret_node)
{
	struct tnode *n;

	if (ps->n_nodes >= CONFIG_MAX_NODES)
		return perr(ps, pos, "too many keys, values and tables (more than %d)",
			    CONFIG_MAX_NODES);
	n = calloc(1, sizeof(*n));
	if (!n)
		return errmsg_set(ps->em, -ENOMEM, "out of memory parsing the configuration");
	ps->n_nodes++;
	n->kind = kind;
	n->kpos = pos;
	n->vpos = pos;
	*ret_node = n;
	return 0;
}

static void node_add(struct tnode *parent, struct tnode *n)
{
	if (parent->last)
		parent->last->next = n;
	else
		parent->child = n;
	parent->last = n;
}

static struct tnode *node_find(const struct tnode *t, const char *key)
{
	struct tnode *c;

	for (c = t->child; c; c = c->next)
		if (!strcmp(c->key, key))
			return c;
	return NULL;
}

/* A new member of t named by (and taking) the key part k. */
static int node_add_key(struct parser *ps, struct tnode *t, enum tkind kind,
			struct kpart *k, struct tnode **ret_node)
{
	struct tnode *n = NULL;
	int err;

	err = node_new(ps, kind, k->pos, &n);
	if (err)
		return err;
	n->key = k->s;
	k->s = NULL;
	node_add(t, n);
	*ret_node = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lexing                                                              */

/* Valid UTF-8 and no control characters but tab, LF and CR LF (TOML 1.0). */
static int check_text(struct parser *ps)
{
	const unsigned char *s = (const unsigned char *)ps->text;
	const unsigned char *end = (const unsigned char *)ps->end;
	uint32_t cp;
	int i, n;

	while (s < end) {
		if (*s == '\r' && (s + 1 == end || s[1] != '\n'))
			return perr(ps, (const char *)s,
				    "a carriage return must be followed by a line feed");
		if ((*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r') || *s == 0x7f)
			return perr(ps, (const char *)s,
				    "control character 0x%02x is not allowed (TOML allows tab and newline only)",
				    *s);
		if (*s < 0x80) {
			s++;
			continue;
		}
		n = *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : *s >= 0xc2 ? 2 : 0;
		if (!n || *s > 0xf4 || end - s < n)
			goto bad;
		cp = *s & (0x7f >> n);
		for (i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		s += n;
	}
	return 0;
bad:
	return perr(ps, (const char *)s, "invalid UTF-8 (byte 0x%02x); save the file as UTF-8",
		    *s);
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

static void skip_comment(struct parser *ps)
{
	if (ps->p < ps->end && *ps->p == '#')
		while (ps->p < ps->end && *ps->p != '\n')
			ps->p++;
}

/* Whitespace, newlines and comments (inside arrays). */
static void skip_blank(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		skip_comment(ps);
		if (ps->p < ps->end && (*ps->p == '\n' || *ps->p == '\r'))
			ps->p++;
		else
			return;
	}
}

static bool at_eol(const struct parser *ps)
{
	return ps->p == ps->end || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '#';
}

/* Whitespace, a comment, then the end of the line (consumed). */
static int end_line(struct parser *ps, const char *after)
{
	char b[80];

	skip_ws(ps);
	skip_comment(ps);
	if (ps->p == ps->end)
		return 0;
	if (*ps->p == '\r')
		ps->p++;
	if (*ps->p == '\n') {
		ps->p++;
		return 0;
	}
	return perr(ps, ps->p, "expected the end of the line after %s, found '%s'", after,
		    quote(b, sizeof(b), ps->p, char_len(ps->p)));
}

static bool is_bare(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static size_t utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | cp >> 12;
		out[1] = 0x80 | (cp >> 6 & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | cp >> 18;
	out[1] = 0x80 | (cp >> 12 & 0x3f);
	out[2] = 0x80 | (cp >> 6 & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* After a backslash in a basic string: decode one escape into out. */
static int parse_escape(struct parser *ps, char *out, size_t *ret_len)
{
	const char *esc = ps->p - 1;
	uint32_t cp = 0;
	int i, n, d;
	char b[16];

	if (ps->p == ps->end)
		return perr(ps, esc, "unterminated string");
	switch (*ps->p) {
	case 'b': cp = '\b'; break;
	case 't': cp = '\t'; break;
	case 'n': cp = '\n'; break;
	case 'f': cp = '\f'; break;
	case 'r': cp = '\r'; break;
	case '"': cp = '"'; break;
	case '\\': cp = '\\'; break;
	case 'u':
	case 'U':
		n = *ps->p == 'u' ? 4 : 8;
		for (i = 1; i <= n; i++) {
			d = ps->p + i < ps->end ? parse_hex_digit(ps->p[i]) : -1;
			if (d < 0)
				return perr(ps, esc, "\\%c needs %d hexadecimal digits", *ps->p, n);
			cp = cp << 4 | d;
		}
		if (!cp)
			return perr(ps, esc, "\\u0000 (NUL) is not allowed in strings");
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return perr(ps, esc, "\\%c%.*s is not a Unicode scalar value", *ps->p, n,
				    ps->p + 1);
		ps->p += n;
		break;
	default:
		return perr(ps, esc,
			    "invalid escape '\\%s' (valid: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX; or use a 'literal string')",
			    quote(b, sizeof(b), ps->p, char_len(ps->p)));
	}
	ps->p++;
	*ret_len = utf8_put(out, cp);
	return 0;
}

/* A "basic" or 'literal' string at ps->p; *ret_str is malloc'ed. */
static int parse_string(struct parser *ps, char **ret_str)
{
	const char *start = ps->p;
	char quote_c = *ps->p;
	char buf[CONFIG_MAX_STR + 8];
	size_t n = 0, k = 0;
	char *s;
	int err;

	if (ps->end - ps->p >= 3 && ps->p[1] == quote_c && ps->p[2] == quote_c)
		return perr(ps, start, "multi-line strings (%c%c%c) are not supported", quote_c,
			    quote_c, quote_c);
	ps->p++;
	for (;;) {
		if (ps->p == ps->end || *ps->p == '\n' || *ps->p == '\r')
			return perr(ps, start, "unterminated string: no closing %c on this line",
				    quote_c);
		if (*ps->p == quote_c) {
			ps->p++;
			break;
		}
		if (quote_c == '"' && *ps->p == '\\') {
			ps->p++;
			err = parse_escape(ps, buf + n, &k);
			if (err)
				return err;
			n += k;
		} else {
			buf[n++] = *ps->p++;
		}
		if (n > CONFIG_MAX_STR)
			return perr(ps, start, "strings longer than %d bytes are not supported",
				    CONFIG_MAX_STR);
	}
	s = malloc(n + 1);
	if (!s)
		return errmsg_set(ps->em, -ENOMEM, "out of memory parsing the configuration");
	memcpy(s, buf, n);
	s[n] = '\0';
	*ret_str = s;
	return 0;
}

static int parse_simple_key(struct parser *ps, struct kpart *k)
{
	const char *start = ps->p;
	char b[16];

	k->pos = start;
	if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\''))
		return parse_string(ps, &k->s);
	while (ps->p < ps->end && is_bare(*ps->p))
		ps->p++;
	if (ps->p == start) {
		if (at_eol(ps))
			return perr(ps, start, "expected a key");
		return perr(ps, start,
			    "expected a key (letters, digits, '_' and '-', or a quoted string), found '%s'",
			    quote(b, sizeof(b), ps->p, char_len(ps->p)));
	}
	if (ps->p - start > CONFIG_MAX_STR)
		return perr(ps, start, "keys longer than %d bytes are not supported",
			    CONFIG_MAX_STR);
	k->s = strndup(start, ps->p - start);
	if (!k->s)
		return errmsg_set(ps->em, -ENOMEM, "out of memory parsing the configuration");
	return 0;
}

/* key, or key.key..., with whitespace around the dots. */
static int parse_key(struct parser *ps, struct kpath *kp)
{
	int err;

	for (;;) {
		skip_ws(ps);
		if (kp->n == CONFIG_MAX_PARTS)
			return perr(ps, ps->p, "keys with more than %d dotted parts are not supported",
				    CONFIG_MAX_PARTS);
		err = parse_simple_key(ps, &kp->v[kp->n]);
		if (err)
			return err;
		kp->n++;
		skip_ws(ps);
		if (ps->p == ps->end || *ps->p != '.')
			return 0;
		ps->p++;
	}
}

static void kpath_free(struct kpath *kp)
{
	size_t i;

	for (i = 0; i < kp->n; i++)
		free(kp->v[i].s);
	kp->n = 0;
}

/* "a.b.c" for messages. */
static const char *kpath_str(char *buf, size_t size, const struct kpath *kp, size_t n)
{
	size_t i, len = 0;
	char b[80];

	buf[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i ? "." : "", Q(b, kp->v[i].s));
	return buf;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

static bool is_tok(char c)
{
	return is_bare(c) || c == '+' || c == '.' || c == ':';
}

/* A TOML integer in s[0..n): 0 or a reason in *ret_why. */
static int parse_int(const char *s, size_t n, int64_t *ret, const char **ret_why)
{
	uint64_t v = 0, limit = INT64_MAX;
	bool neg = false, digit = false;
	unsigned int base = 10;
	size_t i = 0;
	int d;

	if (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-';
		i++;
	}
	if (n - i > 1 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'o' || s[i + 1] == 'b')) {
		if (i) {
			*ret_why = "a sign is not allowed before 0x, 0o or 0b";
			return -EINVAL;
		}
		base = s[i + 1] == 'x' ? 16 : s[i + 1] == 'o' ? 8 : 2;
		i += 2;
	} else if (n - i > 1 && s[i] == '0') {
		*ret_why = "leading zeros are not allowed in decimal integers";
		return -EINVAL;
	}
	if (neg)
		limit = (uint64_t)INT64_MAX + 1;
	if (i == n) {
		*ret_why = "digits expected";
		return -EINVAL;
	}
	for (; i < n; i++) {
		if (s[i] == '_') {
			if (!digit || i + 1 == n || parse_hex_digit(s[i + 1]) < 0) {
				*ret_why = "'_' must be between two digits";
				return -EINVAL;
			}
			digit = false;
			continue;
		}
		d = parse_hex_digit(s[i]);
		if (d < 0 || (unsigned int)d >= base) {
			*ret_why = "not a digit";
			return -EINVAL;
		}
		if (v > (limit - d) / base) {
			*ret_why = "out of the range of 64-bit integers";
			return -ERANGE;
		}
		v = v * base + d;
		digit = true;
	}
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int parse_scalar(struct parser *ps, struct tnode *v)
{
	const char *start = ps->p, *why = NULL;
	size_t n, i;
	bool based;
	char b[80];

	while (ps->p < ps->end && is_tok(*ps->p))
		ps->p++;
	n = ps->p - start;
	if (!n) {
		if (ps->p < ps->end && *ps->p == '{')
			return perr(ps, start,
				    "inline tables ({ ... }) are not supported; write a [table] section instead");
		return perr(ps, start,
			    "expected a value: a \"string\", an integer, true, false or an [array]");
	}
	if ((n == 4 && !memcmp(start, "true", 4)) || (n == 5 && !memcmp(start, "false", 5))) {
		v->kind = TK_BOOL;
		v->num = n == 4;
		return 0;
	}
	i = (*start == '+' || *start == '-') ? 1 : 0;
	if (n - i == 3 && (!memcmp(start + i, "inf", 3) || !memcmp(start + i, "nan", 3)))
		return perr(ps, start, "floating-point numbers are not supported");
	if (!(i < n && start[i] >= '0' && start[i] <= '9'))
		return perr(ps, start, "invalid value '%s'; a string needs quotes: \"%s\"",
			    quote(b, sizeof(b), start, n), quote(b, sizeof(b), start, n));
	based = n - i > 1 && start[i] == '0' && strchr("xob", start[i + 1]);
	if (memchr(start, ':', n) || (!based && memchr(start + i, '-', n - i)))
		return perr(ps, start, "dates and times are not supported");
	if (!based && (memchr(start, '.', n) || memchr(start, 'e', n) || memchr(start, 'E', n)))
		return perr(ps, start, "floating-point numbers are not supported");
	if (parse_int(start, n, &v->num, &why))
		return perr(ps, start, "invalid integer '%s': %s", quote(b, sizeof(b), start, n),
			    why);
	v->kind = TK_INT;
	return 0;
}

static int parse_value(struct parser *ps, struct tnode *v, bool in_array);

static int parse_array(struct parser *ps, struct tnode *arr)
{
	const char *start = ps->p;
	struct tnode *e;
	int err;

	arr->kind = TK_ARRAY;
	ps->p++;
	for (;;) {
		skip_blank(ps);
		if (ps->p == ps->end)
			return perr(ps, start, "unterminated array: no closing ']'");
		if (*ps->p == ']')
			break;
		err = node_new(ps, TK_INT, ps->p, &e);
		if (err)
			return err;
		node_add(arr, e);
		err = parse_value(ps, e, true);
		if (err)
			return err;
		skip_blank(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']')
			break;
		return perr(ps, ps->p == ps->end ? start : ps->p,
			    ps->p == ps->end ? "unterminated array: no closing ']'"
					     : "expected ',' or ']' after an array element");
	}
	ps->p++;
	return 0;
}

static int parse_value(struct parser *ps, struct tnode *v, bool in_array)
{
	v->vpos = ps->p;
	if (ps->p == ps->end)
		return perr(ps, ps->p, "expected a value");
	if (*ps->p == '"' || *ps->p == '\'') {
		v->kind = TK_STR;
		return parse_string(ps, &v->str);
	}
	if (*ps->p == '[') {
		if (in_array)
			return perr(ps, ps->p, "nested arrays are not supported");
		return parse_array(ps, v);
	}
	return parse_scalar(ps, v);
}

/* ------------------------------------------------------------------ */
/* Lines                                                               */

static int parse_keyval(struct parser *ps)
{
	struct tnode *t = ps->table, *c, *v = NULL;
	struct kpath kp = { 0 };
	char b[256];
	size_t i;
	int err;

	err = parse_key(ps, &kp);
	if (err)
		goto out;
	if (ps->p == ps->end || *ps->p != '=') {
		err = perr(ps, ps->p, "expected '=' after the key '%s'",
			   kpath_str(b, sizeof(b), &kp, kp.n));
		goto out;
	}
	ps->p++;
	skip_ws(ps);
	if (at_eol(ps)) {
		err = perr(ps, ps->p, "expected a value after '%s ='",
			   kpath_str(b, sizeof(b), &kp, kp.n));
		goto out;
	}
	for (i = 0; i + 1 < kp.n; i++) {
		c = node_find(t, kp.v[i].s);
		if (!c) {
			err = node_add_key(ps, t, TK_TABLE, &kp.v[i], &c);
			if (err)
				goto out;
			c->dotted = true;
		} else if (c->kind != TK_TABLE || !c->dotted) {
			err = perr(ps, kp.v[i].pos,
				   "'%s' is already %s (line %d); a dotted key cannot add to it",
				   kpath_str(b, sizeof(b), &kp, i + 1), kind_str(c->kind),
				   line_of(ps, c->kpos));
			goto out;
		}
		t = c;
	}
	c = node_find(t, kp.v[kp.n - 1].s);
	if (c) {
		err = perr(ps, kp.v[kp.n - 1].pos, "duplicate key '%s' (first defined on line %d)",
			   kpath_str(b, sizeof(b), &kp, kp.n), line_of(ps, c->kpos));
		goto out;
	}
	err = node_new(ps, TK_INT, kp.v[0].pos, &v);
	if (err)
		goto out;
	err = parse_value(ps, v, false);
	if (err)
		goto out;
	v->key = kp.v[kp.n - 1].s;
	kp.v[kp.n - 1].s = NULL;
	node_add(t, v);
	v = NULL;
	err = end_line(ps, "the value");
out:
	node_free(v);
	kpath_free(&kp);
	return err;
}

/* The table a [header] or [[header]] names, created as needed. */
static int header_table(struct parser *ps, struct kpath *kp, bool array, const char *hpos)
{
	struct tnode *t = ps->root, *c, *e;
	struct kpart *last = &kp->v[kp->n - 1];
	char b[256];
	size_t i;
	int err;

	for (i = 0; i + 1 < kp->n; i++) {
		c = node_find(t, kp->v[i].s);
		if (!c) {
			err = node_add_key(ps, t, TK_TABLE, &kp->v[i], &c);
			if (err)
				return err;
		} else if (c->kind == TK_TABLES) {
			c = c->last;
		} else if (c->kind != TK_TABLE) {
			return perr(ps, kp->v[i].pos, "'%s' is already %s (line %d), not a table",
				    kpath_str(b, sizeof(b), kp, i + 1), kind_str(c->kind),
				    line_of(ps, c->kpos));
		}
		t = c;
	}
	c = node_find(t, last->s);
	if (!array) {
		if (!c) {
			err = node_add_key(ps, t, TK_TABLE, last, &c);
			if (err)
				return err;
		} else if (c->kind == TK_TABLES) {
			return perr(ps, hpos, "[%s] is an array of tables (line %d); write [[%s]]",
				    kpath_str(b, sizeof(b), kp, kp->n), line_of(ps, c->kpos), b);
		} else if (c->kind != TK_TABLE || c->defined || c->dotted) {
			return perr(ps, hpos, "[%s] is already defined as %s on line %d",
				    kpath_str(b, sizeof(b), kp, kp->n), kind_str(c->kind),
				    line_of(ps, c->kpos));
		}
		c->kpos = hpos;
		c->defined = true;
		ps->table = c;
		return 0;
	}
	if (!c) {
		err = node_add_key(ps, t, TK_TABLES, last, &c);
		if (err)
			return err;
		c->kpos = hpos;
	} else if (c->kind != TK_TABLES) {
		return perr(ps, hpos, "[[%s]] is already defined as %s on line %d",
			    kpath_str(b, sizeof(b), kp, kp->n), kind_str(c->kind),
			    line_of(ps, c->kpos));
	}
	err = node_new(ps, TK_TABLE, hpos, &e);
	if (err)
		return err;
	e->defined = true;
	node_add(c, e);
	ps->table = e;
	return 0;
}

static int parse_header(struct parser *ps)
{
	const char *hpos = ps->p;
	struct kpath kp = { 0 };
	bool array;
	int err;

	array = ps->end - ps->p >= 2 && ps->p[1] == '[';
	ps->p += array ? 2 : 1;
	err = parse_key(ps, &kp);
	if (err)
		goto out;
	if (array && (ps->end - ps->p < 2 || ps->p[0] != ']' || ps->p[1] != ']')) {
		err = perr(ps, ps->p, "expected ']]' to close the [[table]] header");
		goto out;
	}
	if (!array && (ps->p == ps->end || *ps->p != ']')) {
		err = perr(ps, ps->p, "expected ']' to close the [table] header");
		goto out;
	}
	ps->p += array ? 2 : 1;
	err = header_table(ps, &kp, array, hpos);
	if (err)
		goto out;
	err = end_line(ps, array ? "the [[table]] header" : "the [table] header");
out:
	kpath_free(&kp);
	return err;
}

static int parse_document(struct parser *ps)
{
	int err;

	err = check_text(ps);
	if (err)
		return err;
	while (ps->p < ps->end) {
		skip_ws(ps);
		if (at_eol(ps))
			err = end_line(ps, "a comment");
		else if (*ps->p == '[')
			err = parse_header(ps);
		else
			err = parse_keyval(ps);
		if (err)
			return err;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The schema                                                          */

struct endpoint {
	const struct tnode *table;
	const struct tnode *type;
	const struct tnode *path;
	const struct tnode *address;
	const struct tnode *port;
	const struct tnode *enabled;
};

struct stage {
	struct bpfd_config cfg;
	const struct tnode *rundir;	/* [runtime] dir */
	const struct tnode *unix_ep;	/* the enabled unix endpoint */
	const struct tnode *tcp_ep;	/* the enabled tcp endpoint */
	bool endpoints;			/* [[grpc.endpoints]] present */
	struct endpoint ep;		/* the endpoint being read */
	const char *iface;		/* the [interfaces.NAME] being read */
	const struct tnode *iface_node;
};

struct field {
	const char *key;
	enum tkind kind;
	int (*set)(struct parser *ps, const struct tnode *v, struct stage *st);
};

/* Apply each member of table t through the field list; "where" names t in
 * messages ("in [grpc]", "at the top level"). */
static int apply_fields(struct parser *ps, const struct tnode *t, const char *where,
			const struct field *fields, struct stage *st)
{
	const struct field *f;
	const struct tnode *c;
	char known[256], b[80];
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
			if (c->kind == TK_TABLE || c->kind == TK_TABLES)
				return perr(ps, c->kpos, "unknown table '%s' %s (known: %s)",
					    Q(b, c->key), where, known);
			return perr(ps, c->kpos, "unknown key '%s' %s (known: %s)",
				    Q(b, c->key), where, known);
		}
		if (c->kind != f->kind)
			return perr(ps, c->kind == TK_TABLE || c->kind == TK_TABLES ? c->kpos : c->vpos,
				    "'%s' %s must be %s, not %s", f->key, where,
				    kind_str(f->kind), kind_str(c->kind));
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
static int set_path(struct parser *ps, const struct tnode *v, const char *what, char *dst,
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

static int set_xdp_mode(struct parser *ps, const struct tnode *v, struct stage *st)
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
	{ "xdp_mode", TK_STR, set_xdp_mode },
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

static int set_interfaces(struct parser *ps, const struct tnode *t, struct stage *st)
{
	const struct tnode *c;
	char where[64], b[80];
	int err;

	for (c = t->child; c; c = c->next) {
		if (c->kind != TK_TABLE)
			return perr(ps, c->kpos,
				    "[interfaces] holds one [interfaces.NAME] table per interface; '%s' is %s",
				    Q(b, c->key), kind_str(c->kind));
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

/* [[grpc.endpoints]] */

static int ep_type(struct parser *ps, const struct tnode *v, struct stage *st)
{
	char b[80];

	if (strcmp(v->str, "unix") && strcmp(v->str, "tcp"))
		return perr(ps, v->vpos, "endpoint type '%s' is not \"unix\" or \"tcp\"",
			    Q(b, v->str));
	st->ep.type = v;
	return 0;
}

#define EP_SETTER(name)								\
static int ep_##name(struct parser *ps, const struct tnode *v, struct stage *st) \
{										\
	(void)ps;								\
	st->ep.name = v;							\
	return 0;								\
}
EP_SETTER(path)
EP_SETTER(address)
EP_SETTER(port)
EP_SETTER(enabled)

static const struct field ep_fields[] = {
	{ "type", TK_STR, ep_type },
	{ "path", TK_STR, ep_path },
	{ "address", TK_STR, ep_address },
	{ "port", TK_INT, ep_port },
	{ "enabled", TK_BOOL, ep_enabled },
	{ NULL }
};

static int ep_apply_unix(struct parser *ps, const struct endpoint *ep, struct stage *st)
{
	const struct tnode *bad = ep->address ? ep->address : ep->port;
	struct bpfd_config *cfg = &st->cfg;
	char path[SUN_PATH_SIZE];
	int err;

	if (bad)
		return perr(ps, bad->kpos, "'%s' belongs to tcp endpoints; a unix endpoint has path and enabled",
			    bad->key);
	if (ep->path) {
		err = set_path(ps, ep->path, "unix socket path", path, sizeof(path));
		if (err)
			return err;
	}
	if (ep->enabled && !ep->enabled->num)
		return 0;
	if (st->unix_ep)
		return perr(ps, ep->table->kpos,
			    "only one unix endpoint can be enabled; another is on line %d",
			    line_of(ps, st->unix_ep->kpos));
	st->unix_ep = ep->table;
	if (ep->path) {
		strcpy(cfg->socket_path, path);
		cfg->socket_path_set = true;
	}
	return 0;
}

static int ep_apply_tcp(struct parser *ps, const struct endpoint *ep, struct stage *st)
{
	struct bpfd_config *cfg = &st->cfg;
	unsigned char addr[sizeof(struct in6_addr)];
	char b[80];

	if (ep->path)
		return perr(ps, ep->path->kpos,
			    "'path' belongs to unix endpoints; a tcp endpoint has address, port and enabled");
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
			    line_of(ps, st->tcp_ep->kpos));
	st->tcp_ep = ep->table;
	if (ep->address)
		strcpy(cfg->tcp_addr, ep->address->str);
	if (ep->port)
		cfg->tcp_port = ep->port->num;
	return 0;
}

static int set_endpoints(struct parser *ps, const struct tnode *t, struct stage *st)
{
	const struct tnode *e;
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

static int set_max_msg(struct parser *ps, const struct tnode *v, struct stage *st)
{
	if (v->num < MAX_MSG_MIN || v->num > MAX_MSG_MAX)
		return perr(ps, v->vpos, "max_message_size %lld is out of range (%u-%u bytes)",
			    (long long)v->num, MAX_MSG_MIN, MAX_MSG_MAX);
	st->cfg.max_msg = v->num;
	return 0;
}

static const struct field grpc_fields[] = {
	{ "endpoints", TK_TABLES, set_endpoints },
	{ "max_message_size", TK_INT, set_max_msg },
	{ NULL }
};

/* [signing] */

static int set_allow_unsigned(struct parser *ps, const struct tnode *v, struct stage *st)
{
	(void)ps;
	st->cfg.allow_unsigned = v->num;
	return 0;
}

static const struct field signing_fields[] = {
	{ "allow_unsigned", TK_BOOL, set_allow_unsigned },
	{ NULL }
};

/* [tls] */

static int set_certs_dir(struct parser *ps, const struct tnode *v, struct stage *st)
{
	return set_path(ps, v, "[tls] certs_dir", st->cfg.certs_dir, CERTS_DIR_MAX);
}

static int set_ca_cert(struct parser *ps, const struct tnode *v, struct stage *st)
{
	return set_path(ps, v, "[tls] ca_cert", st->cfg.tls_ca, sizeof(st->cfg.tls_ca));
}

static int set_cert(struct parser *ps, const struct tnode *v, struct stage *st)
{
	return set_path(ps, v, "[tls] cert", st->cfg.tls_cert, sizeof(st->cfg.tls_cert));
}

static int set_key(struct parser *ps, const struct tnode *v, struct stage *st)
{
	return set_path(ps, v, "[tls] key", st->cfg.tls_key, sizeof(st->cfg.tls_key));
}

static const struct field tls_fields[] = {
	{ "certs_dir", TK_STR, set_certs_dir },
	{ "ca_cert", TK_STR, set_ca_cert },
	{ "cert", TK_STR, set_cert },
	{ "key", TK_STR, set_key },
	{ NULL }
};

/* [runtime] */

static int set_rundir(struct parser *ps, const struct tnode *v, struct stage *st)
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

static int set_image_dir(struct parser *ps, const struct tnode *v, struct stage *st)
{
	return set_path(ps, v, "[runtime] image_dir", st->cfg.image_dir,
			sizeof(st->cfg.image_dir));
}

static const struct field runtime_fields[] = {
	{ "dir", TK_STR, set_rundir },
	{ "image_dir", TK_STR, set_image_dir },
	{ NULL }
};

#define TABLE_SETTER(name, where)						\
static int set_##name(struct parser *ps, const struct tnode *t, struct stage *st) \
{										\
	return apply_fields(ps, t, where, name##_fields, st);			\
}
TABLE_SETTER(grpc, "in [grpc]")
TABLE_SETTER(signing, "in [signing]")
TABLE_SETTER(tls, "in [tls]")
TABLE_SETTER(runtime, "in [runtime]")

static const struct field root_fields[] = {
	{ "interfaces", TK_TABLE, set_interfaces },
	{ "grpc", TK_TABLE, set_grpc },
	{ "signing", TK_TABLE, set_signing },
	{ "tls", TK_TABLE, set_tls },
	{ "runtime", TK_TABLE, set_runtime },
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
	return 0;
}

static int config_parse_named(struct bpfd_config *cfg, const char *name, const char *text,
			      size_t len, struct errmsg *em)
{
	struct parser ps = {
		.text = text, .p = text, .end = text + len, .name = name, .em = em,
	};
	struct stage *st = NULL;
	int err;

	/* A UTF-8 byte order mark is not part of the document. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		ps.text = ps.p = text + 3;
	err = node_new(&ps, TK_TABLE, ps.text, &ps.root);
	if (err)
		goto out;
	ps.root->defined = true;
	ps.table = ps.root;
	err = parse_document(&ps);
	if (err)
		goto out;
	st = calloc(1, sizeof(*st));
	if (!st) {
		err = errmsg_set(em, -ENOMEM, "out of memory parsing the configuration");
		goto out;
	}
	st->cfg = *cfg;
	err = apply_fields(&ps, ps.root, "at the top level", root_fields, st);
	if (err)
		goto out;
	err = stage_finish(&ps, st);
	if (err)
		goto out;
	*cfg = st->cfg;
out:
	free(st);
	node_free(ps.root);
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
	snprintf(cfg->tcp_addr, sizeof(cfg->tcp_addr), "::1");
	cfg->tcp_port = 50051;
	snprintf(cfg->certs_dir, sizeof(cfg->certs_dir), "%s", BPFD_CERTS_DIR);
	cfg->max_msg = BPFD_MAX_MSG;
	cfg->allow_unsigned = true;
	snprintf(cfg->image_dir, sizeof(cfg->image_dir), "%s", BPFD_IMAGE_DIR);
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
