/* SPDX-License-Identifier: Apache-2.0 */
/* toml.h - a TOML (subset) parser: text to a tree of tables and values
 *
 * The parser knows no schema: it enforces TOML's own rules (a key or a table
 * is defined once, dotted keys only extend tables they created) and leaves
 * the meaning of keys to its caller, which walks the tree and reports its
 * errors at a node's position with toml_err().
 *
 * The subset: comments; [tables] and [[arrays of tables]] with dotted names;
 * bare, "basic" and 'literal' keys, dotted keys; "basic" strings with the
 * escapes \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX, 'literal' strings; integers
 * (decimal, 0x, 0o, 0b, with '_' between digits); true and false; arrays of
 * those and of inline tables; inline tables { k = v, ... } (on one line, values
 * of any of these kinds; an inline table is a TOML_TABLE that nothing can extend
 * later).  Not supported (an error says so): multi-line strings, floats, dates
 * and times, arrays directly inside arrays.
 */
#ifndef BPFD_CORE_TOML_H
#define BPFD_CORE_TOML_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errmsg;

#define TOML_MAX_NODES		4096	/* keys, values and tables in a document */
#define TOML_MAX_PARTS		16	/* parts of one dotted key or header */
#define TOML_MAX_STR		4096	/* bytes in one string or key */
#define TOML_MAX_DEPTH		16	/* arrays and inline tables nested in a value */

enum toml_kind {
	TOML_TABLE,		/* members in child */
	TOML_TABLES,		/* [[array of tables]]: one TOML_TABLE per element */
	TOML_STR,
	TOML_INT,
	TOML_BOOL,
	TOML_ARRAY,		/* elements (values, no key) in child */
};

/* One table, array or value.  The tree is read-only for callers. */
struct toml_node {
	enum toml_kind kind;
	char *key;		/* name in the parent; NULL for elements and the root */
	/* Where the node is in the document's text, for toml_line() and
	 * toml_err(): the key, the [header] or [[header]] of a table; the
	 * value itself (vpos; the same as kpos for tables). */
	const char *kpos;
	const char *vpos;
	struct toml_node *child;	/* members or elements in document order */
	struct toml_node *next;		/* the next sibling */
	char *str;		/* TOML_STR: NUL-terminated UTF-8 (no NUL inside) */
	int64_t num;		/* TOML_INT value, TOML_BOOL 0/1 */
	/* the parser's own */
	struct toml_node *last;
	bool defined;		/* a table defined by its own [header] */
	bool dotted;		/* a table created by a dotted key */
	bool inline_table;	/* a table written { ... }: complete, never extended */
};

/* A parsed document: its root table and the text it points into. */
struct toml_doc;

/*
 * Parse text[0..len) (UTF-8; a leading byte order mark is skipped) into
 * *ret_doc, owned by the caller (toml_free()).  text must stay unchanged and
 * allocated for as long as the document lives: positions point into it.
 * name (may be NULL; kept by pointer, same lifetime) is the file name that
 * messages start with.  Returns 0, -EINVAL for a document that is not valid
 * TOML or uses an unsupported part of it (em: "NAME:LINE:COL: what is wrong"
 * or, without a name, "line L, column C: what is wrong"; columns count
 * characters), or -ENOMEM.
 */
int toml_parse(const char *name, const char *text, size_t len, struct errmsg *em,
	       struct toml_doc **ret_doc);
/* Free a document (NULL is fine) and every node in it. */
void toml_free(struct toml_doc *doc);

/* The top-level table. */
const struct toml_node *toml_root(const struct toml_doc *doc);
/* The member of table t named key, or NULL. */
const struct toml_node *toml_find(const struct toml_node *t, const char *key);
/* "a table", "an array of tables", "a string", "an integer", ... */
const char *toml_kind_str(enum toml_kind kind);

/* The line (from 1) of pos, a position in the document's text (a node's kpos
 * or vpos). */
int toml_line(const struct toml_doc *doc, const char *pos);
/* Set em to "NAME:LINE:COL: <message>" (or "line L, column C: <message>")
 * for the position pos in the document's text; returns -EINVAL. */
__attribute__((format(printf, 4, 5)))
int toml_err(const struct toml_doc *doc, const char *pos, struct errmsg *em,
	     const char *fmt, ...);
__attribute__((format(printf, 4, 0)))
int toml_verr(const struct toml_doc *doc, const char *pos, struct errmsg *em,
	      const char *fmt, va_list ap);

/* Copy s[0..len) into buf for a one-line message: control characters
 * escaped, at most about 60 bytes (a longer text ends with "...").
 * Returns buf. */
const char *toml_quote(char *buf, size_t size, const char *s, size_t len);

#endif
