/* SPDX-License-Identifier: Apache-2.0 */
/* toml.c - the TOML subset of toml.h: text to a tree, TOML's rules enforced,
 * no schema.  Every error names the line and column (in characters). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/errmsg.h"
#include "core/base/opts.h"
#include "core/config/toml.h"

struct kpart {
	char *s;
	const char *pos;
};

struct kpath {
	struct kpart v[TOML_MAX_PARTS];
	size_t n;
};

struct toml_doc {
	const char *text;	/* after the byte order mark */
	const char *name;	/* file name for messages, or NULL */
	struct toml_node *root;
};

struct parser {
	const char *text;
	const char *p;
	const char *end;
	const char *name;	/* file name for messages, or NULL */
	struct toml_node *root;
	struct toml_node *table;	/* where key = value lines go */
	size_t n_nodes;
	int depth;		/* inline tables and arrays open around ps->p */
	struct errmsg *em;
};

/* ------------------------------------------------------------------ */
/* Messages                                                            */

const char *toml_quote(char *buf, size_t size, const char *s, size_t len)
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

#define Q(buf, s)	toml_quote(buf, sizeof(buf), (s), strlen(s))

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

__attribute__((format(printf, 5, 0)))
static int where_verr(const char *text, const char *name, const char *at,
		      struct errmsg *em, const char *fmt, va_list ap)
{
	char raw[1024], msg[1024];
	size_t i, n = 0;
	int line, col;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* one line: a value or key quoted raw into the message (a string with a
	 * "\n" escape in it) has its control characters escaped here */
	for (i = 0; raw[i] && n + 5 < sizeof(msg); i++) {
		unsigned char ch = raw[i];

		if (ch < 0x20 || ch == 0x7f)
			n += snprintf(msg + n, sizeof(msg) - n, "\\x%02x", ch);
		else
			msg[n++] = ch;
	}
	msg[n] = '\0';
	text_where(text, at, &line, &col);
	if (name)
		return errmsg_set(em, -EINVAL, "%s:%d:%d: %s", name, line, col, msg);
	return errmsg_set(em, -EINVAL, "line %d, column %d: %s", line, col, msg);
}

__attribute__((format(printf, 3, 4)))
static int perr(struct parser *ps, const char *at, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = where_verr(ps->text, ps->name, at, ps->em, fmt, ap);
	va_end(ap);
	return err;
}

const char *toml_kind_str(enum toml_kind k)
{
	switch (k) {
	case TOML_TABLE:
		return "a table";
	case TOML_TABLES:
		return "an array of tables";
	case TOML_STR:
		return "a string";
	case TOML_INT:
		return "an integer";
	case TOML_BOOL:
		return "a boolean";
	case TOML_ARRAY:
		return "an array";
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* The tree                                                            */

static void node_free(struct toml_node *n)
{
	struct toml_node *c, *next;

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

static int node_new(struct parser *ps, enum toml_kind kind, const char *pos,
		    struct toml_node **ret_node)
{
	struct toml_node *n;

	if (ps->n_nodes >= TOML_MAX_NODES)
		return perr(ps, pos, "too many keys, values and tables (more than %d)",
			    TOML_MAX_NODES);
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

static void node_add(struct toml_node *parent, struct toml_node *n)
{
	if (parent->last)
		parent->last->next = n;
	else
		parent->child = n;
	parent->last = n;
}

static struct toml_node *node_find(const struct toml_node *t, const char *key)
{
	struct toml_node *c;

	for (c = t->child; c; c = c->next)
		if (!strcmp(c->key, key))
			return c;
	return NULL;
}

/* A new member of t named by (and taking) the key part k. */
static int node_add_key(struct parser *ps, struct toml_node *t, enum toml_kind kind,
			struct kpart *k, struct toml_node **ret_node)
{
	struct toml_node *n = NULL;
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
		    toml_quote(b, sizeof(b), ps->p, char_len(ps->p)));
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
			    toml_quote(b, sizeof(b), ps->p, char_len(ps->p)));
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
	char buf[TOML_MAX_STR + 8];
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
		if (n > TOML_MAX_STR)
			return perr(ps, start, "strings longer than %d bytes are not supported",
				    TOML_MAX_STR);
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
			    toml_quote(b, sizeof(b), ps->p, char_len(ps->p)));
	}
	if (ps->p - start > TOML_MAX_STR)
		return perr(ps, start, "keys longer than %d bytes are not supported",
			    TOML_MAX_STR);
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
		if (kp->n == TOML_MAX_PARTS)
			return perr(ps, ps->p, "keys with more than %d dotted parts are not supported",
				    TOML_MAX_PARTS);
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

static int parse_scalar(struct parser *ps, struct toml_node *v)
{
	const char *start = ps->p, *why = NULL;
	size_t n, i;
	bool based;
	char b[80];

	while (ps->p < ps->end && is_tok(*ps->p))
		ps->p++;
	n = ps->p - start;
	if (!n)
		return perr(ps, start,
			    "expected a value: a \"string\", an integer, true, false, an [array] or an { inline table }");
	if ((n == 4 && !memcmp(start, "true", 4)) || (n == 5 && !memcmp(start, "false", 5))) {
		v->kind = TOML_BOOL;
		v->num = n == 4;
		return 0;
	}
	i = (*start == '+' || *start == '-') ? 1 : 0;
	if (n - i == 3 && (!memcmp(start + i, "inf", 3) || !memcmp(start + i, "nan", 3)))
		return perr(ps, start, "floating-point numbers are not supported");
	if (!(i < n && start[i] >= '0' && start[i] <= '9'))
		return perr(ps, start, "invalid value '%s'; a string needs quotes: \"%s\"",
			    toml_quote(b, sizeof(b), start, n), toml_quote(b, sizeof(b), start, n));
	based = n - i > 1 && start[i] == '0' && strchr("xob", start[i + 1]);
	if (memchr(start, ':', n) || (!based && memchr(start + i, '-', n - i)))
		return perr(ps, start, "dates and times are not supported");
	if (!based && (memchr(start, '.', n) || memchr(start, 'e', n) || memchr(start, 'E', n)))
		return perr(ps, start, "floating-point numbers are not supported");
	if (parse_int(start, n, &v->num, &why))
		return perr(ps, start, "invalid integer '%s': %s", toml_quote(b, sizeof(b), start, n),
			    why);
	v->kind = TOML_INT;
	return 0;
}

static int parse_value(struct parser *ps, struct toml_node *v, bool in_array);
static int parse_keyval_in(struct parser *ps, struct toml_node *t);

static int parse_array(struct parser *ps, struct toml_node *arr)
{
	const char *start = ps->p;
	struct toml_node *e;
	int err;

	arr->kind = TOML_ARRAY;
	ps->p++;
	for (;;) {
		skip_blank(ps);
		if (ps->p == ps->end)
			return perr(ps, start, "unterminated array: no closing ']'");
		if (*ps->p == ']')
			break;
		err = node_new(ps, TOML_INT, ps->p, &e);
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

/* { key = value, ... } on one line (TOML 1.0: no newline, no trailing comma);
 * the table is complete: no [header] or dotted key may add to it later. */
static int parse_inline_table(struct parser *ps, struct toml_node *t)
{
	const char *start = ps->p;
	int err;

	t->kind = TOML_TABLE;
	t->defined = true;
	t->inline_table = true;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		skip_ws(ps);
		if (at_eol(ps))
			return perr(ps, start,
				    "unterminated inline table: no closing '}' on this line (an inline table is written on one line)");
		if (*ps->p == '}')
			return perr(ps, ps->p, "a trailing ',' is not allowed in an inline table");
		err = parse_keyval_in(ps, t);
		if (err)
			return err;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}')
			break;
		if (at_eol(ps))
			return perr(ps, start,
				    "unterminated inline table: no closing '}' on this line (an inline table is written on one line)");
		return perr(ps, ps->p, "expected ',' or '}' after a key = value in an inline table");
	}
	ps->p++;
	return 0;
}

static int parse_value(struct parser *ps, struct toml_node *v, bool in_array)
{
	int err;

	v->vpos = ps->p;
	if (ps->p == ps->end)
		return perr(ps, ps->p, "expected a value");
	if (*ps->p == '"' || *ps->p == '\'') {
		v->kind = TOML_STR;
		return parse_string(ps, &v->str);
	}
	if (*ps->p != '[' && *ps->p != '{')
		return parse_scalar(ps, v);
	if (*ps->p == '[' && in_array)
		return perr(ps, ps->p, "nested arrays are not supported");
	if (ps->depth >= TOML_MAX_DEPTH)
		return perr(ps, ps->p, "values nested more than %d deep are not supported",
			    TOML_MAX_DEPTH);
	ps->depth++;
	if (*ps->p == '[')
		err = parse_array(ps, v);
	else
		err = parse_inline_table(ps, v);
	ps->depth--;
	return err;
}

/* ------------------------------------------------------------------ */
/* Lines                                                               */

/* key = value at ps->p (after whitespace), the value added to table t: a
 * dotted key creates (or extends the dotted) tables under t. */
static int parse_keyval_in(struct parser *ps, struct toml_node *t)
{
	struct toml_node *c, *v = NULL;
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
			err = node_add_key(ps, t, TOML_TABLE, &kp.v[i], &c);
			if (err)
				goto out;
			c->dotted = true;
		} else if (c->kind != TOML_TABLE || !c->dotted) {
			err = perr(ps, kp.v[i].pos,
				   "'%s' is already %s (line %d); a dotted key cannot add to it",
				   kpath_str(b, sizeof(b), &kp, i + 1), toml_kind_str(c->kind),
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
	err = node_new(ps, TOML_INT, kp.v[0].pos, &v);
	if (err)
		goto out;
	err = parse_value(ps, v, false);
	if (err)
		goto out;
	v->key = kp.v[kp.n - 1].s;
	kp.v[kp.n - 1].s = NULL;
	node_add(t, v);
	v = NULL;
out:
	node_free(v);
	kpath_free(&kp);
	return err;
}

static int parse_keyval(struct parser *ps)
{
	int err;

	err = parse_keyval_in(ps, ps->table);
	if (err)
		return err;
	return end_line(ps, "the value");
}

/* The table a [header] or [[header]] names, created as needed. */
static int header_table(struct parser *ps, struct kpath *kp, bool array, const char *hpos)
{
	struct toml_node *t = ps->root, *c, *e;
	struct kpart *last = &kp->v[kp->n - 1];
	char b[256];
	size_t i;
	int err;

	for (i = 0; i + 1 < kp->n; i++) {
		c = node_find(t, kp->v[i].s);
		if (!c) {
			err = node_add_key(ps, t, TOML_TABLE, &kp->v[i], &c);
			if (err)
				return err;
		} else if (c->kind == TOML_TABLES) {
			c = c->last;
		} else if (c->kind != TOML_TABLE) {
			return perr(ps, kp->v[i].pos, "'%s' is already %s (line %d), not a table",
				    kpath_str(b, sizeof(b), kp, i + 1), toml_kind_str(c->kind),
				    line_of(ps, c->kpos));
		} else if (c->inline_table) {
			return perr(ps, kp->v[i].pos,
				    "'%s' is an inline table (line %d): it cannot be extended",
				    kpath_str(b, sizeof(b), kp, i + 1), line_of(ps, c->kpos));
		}
		t = c;
	}
	c = node_find(t, last->s);
	if (!array) {
		if (!c) {
			err = node_add_key(ps, t, TOML_TABLE, last, &c);
			if (err)
				return err;
		} else if (c->kind == TOML_TABLES) {
			return perr(ps, hpos, "[%s] is an array of tables (line %d); write [[%s]]",
				    kpath_str(b, sizeof(b), kp, kp->n), line_of(ps, c->kpos), b);
		} else if (c->kind != TOML_TABLE || c->defined || c->dotted) {
			return perr(ps, hpos, "[%s] is already defined as %s on line %d",
				    kpath_str(b, sizeof(b), kp, kp->n), toml_kind_str(c->kind),
				    line_of(ps, c->kpos));
		}
		c->kpos = hpos;
		c->defined = true;
		ps->table = c;
		return 0;
	}
	if (!c) {
		err = node_add_key(ps, t, TOML_TABLES, last, &c);
		if (err)
			return err;
		c->kpos = hpos;
	} else if (c->kind != TOML_TABLES) {
		return perr(ps, hpos, "[[%s]] is already defined as %s on line %d",
			    kpath_str(b, sizeof(b), kp, kp->n), toml_kind_str(c->kind),
			    line_of(ps, c->kpos));
	}
	err = node_new(ps, TOML_TABLE, hpos, &e);
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
/* API                                                                 */

int toml_parse(const char *name, const char *text, size_t len, struct errmsg *em,
	       struct toml_doc **ret_doc)
{
	struct parser ps = {
		.text = text, .p = text, .end = text + len, .name = name, .em = em,
	};
	struct toml_doc *doc;
	int err;

	/* A UTF-8 byte order mark is not part of the document. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		ps.text = ps.p = text + 3;
	doc = calloc(1, sizeof(*doc));
	if (!doc)
		return errmsg_set(em, -ENOMEM, "out of memory parsing the configuration");
	err = node_new(&ps, TOML_TABLE, ps.text, &ps.root);
	if (err)
		goto out;
	ps.root->defined = true;
	ps.table = ps.root;
	err = parse_document(&ps);
	if (err)
		goto out;
	doc->text = ps.text;
	doc->name = name;
	doc->root = ps.root;
	ps.root = NULL;
	*ret_doc = doc;
	doc = NULL;
out:
	node_free(ps.root);
	free(doc);
	return err;
}

void toml_free(struct toml_doc *doc)
{
	if (!doc)
		return;
	node_free(doc->root);
	free(doc);
}

const struct toml_node *toml_root(const struct toml_doc *doc)
{
	return doc->root;
}

const struct toml_node *toml_find(const struct toml_node *t, const char *key)
{
	return node_find(t, key);
}

int toml_line(const struct toml_doc *doc, const char *pos)
{
	int line, col;

	text_where(doc->text, pos, &line, &col);
	return line;
}

int toml_verr(const struct toml_doc *doc, const char *pos, struct errmsg *em,
	      const char *fmt, va_list ap)
{
	return where_verr(doc->text, doc->name, pos, em, fmt, ap);
}

int toml_err(const struct toml_doc *doc, const char *pos, struct errmsg *em,
	     const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = where_verr(doc->text, doc->name, pos, em, fmt, ap);
	va_end(ap);
	return err;
}
