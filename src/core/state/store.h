/* SPDX-License-Identifier: Apache-2.0 */
/* store.h - program records on disk: <dir>/<kernel program id>, one protobuf
 * bpfd.state.ProgramRecord per file, replaced atomically (temp + fsync + rename). */
#ifndef BPFD_CORE_STORE_H
#define BPFD_CORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "bpfd_state.pb.h"
#include "core/base/errmsg.h"

#define STORE_FORMAT	1

struct store;

/* Open (create, mode 0700) the record directory and remove temp files left by an
 * interrupted write.  0 or -errno with em set. */
int store_open(const char *dir, struct store **ret_store, struct errmsg *em);
void store_close(struct store *s);
const char *store_dir(const struct store *s);

/* Encode r into a malloc'ed buffer (*ret_buf, caller frees).  0 or -errno. */
int store_encode(const bpfd_state_ProgramRecord *r, uint8_t **ret_buf, size_t *ret_len);
/* Decode and check a record (format, id, kind, strings).  -EBADMSG when it is not
 * a valid record.  r is fully overwritten. */
int store_decode(const uint8_t *buf, size_t len, bpfd_state_ProgramRecord *r);

/* Write the record of r->id: temp file, fsync, rename over <dir>/<id>, fsync dir.
 * When it fails nothing is left (the old record, if any, is unchanged). */
int store_put(struct store *s, const bpfd_state_ProgramRecord *r, struct errmsg *em);
/* Remove the record of id (missing is fine); the directory is fsynced. */
int store_del(struct store *s, uint32_t id);

/* Call fn for every file in the directory named by a decimal id, with its bytes (not
 * decoded: the caller decides).  Other names are reported with buf == NULL and id 0.
 * fn returning non-zero stops the walk and is returned. */
typedef int (*store_walk_fn)(uint32_t id, const char *name, const uint8_t *buf,
			     size_t len, void *ctx);
int store_walk(struct store *s, store_walk_fn fn, void *ctx);
/* Remove the file name from the directory (for records that fail to decode). */
int store_remove_name(struct store *s, const char *name);

#endif
