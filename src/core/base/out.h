/* SPDX-License-Identifier: Apache-2.0 */
/* out.h - one call per field for text and JSON output (iproute2's PRINT_ANY idea,
 * on cJSON): in text mode the format is printed, in JSON mode key and value are
 * added to the current object or array */
#ifndef BPFD_CORE_OUT_H
#define BPFD_CORE_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct out;

/* New output to f (stdout usually); json selects JSON, pretty cJSON_Print.
 * NULL on allocation failure. */
struct out *out_new(FILE *f, bool json, bool pretty);
/* In JSON mode print the document (followed by a newline); then free.  Returns
 * 0, or -ENOMEM when the document, or a text table row, could not be built. */
int out_finish(struct out *o);
void out_free(struct out *o);
bool out_is_json(const struct out *o);

/* Containers; key is NULL inside an array (and for the top level). */
void out_begin_object(struct out *o, const char *key);
void out_begin_list(struct out *o, const char *key);
void out_end(struct out *o);

/* Text tables (JSON mode: no-ops).  Between begin and end each call that prints
 * text is one row, its fmt "LABEL\tVALUE" without a newline; end prints the
 * title, then every row as " LABEL  VALUE" with the labels padded to the longest
 * (a row with an empty VALUE, or no tab, is the label alone).  The title is bold
 * green when the output is a terminal.  A table still open is ended by
 * out_finish(). */
void out_table_begin(struct out *o, const char *title);
void out_table_end(struct out *o);

/* Fields: fmt is a printf format for the value in text mode (NULL: no text). */
void out_str(struct out *o, const char *key, const char *fmt, const char *v);
void out_u64(struct out *o, const char *key, const char *fmt, uint64_t v);
void out_i64(struct out *o, const char *key, const char *fmt, int64_t v);
void out_bool(struct out *o, const char *key, const char *fmt, bool v);
void out_null(struct out *o, const char *key);
/* Text only (ignored in JSON mode). */
void out_text(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
