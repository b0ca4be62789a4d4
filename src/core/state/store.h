/* SPDX-License-Identifier: Apache-2.0 */
/* store.h - program records on disk: <dir>/<kernel program id>, one protobuf
 * bpfd.state.ProgramRecord per file behind a checksummed header, replaced atomically
 * (temp + fsync + rename).  A file that fails its check is moved aside to
 * <dir>/damaged/, never deleted.
 *
 * File layout (little-endian):
 *   0  magic "BPFR"
 *   4  u32 file version (STORE_FILE_VERSION)
 *   8  u32 length of the encoded record that follows
 *  12  u32 CRC-32 (zlib) of bytes 0-11 and of the encoded record
 *  16  the encoded record
 * Files written before the header existed (a bare protobuf) fail the check like any
 * damaged file: that format never shipped.  The program such a file describes is kept
 * (see recovery in manager.c); only the record is set aside. */
#ifndef BPFD_CORE_STORE_H
#define BPFD_CORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "bpfd_state.pb.h"
#include "core/base/errmsg.h"

#define STORE_FORMAT		1	/* ProgramRecord.format */
#define STORE_FILE_VERSION	1	/* the header's version */
#define STORE_HDR_SIZE		16
#define STORE_DAMAGED_DIR	"damaged"

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

/* The file image of an encoded record: header + pb (*ret_buf malloc'ed, caller frees).
 * 0 or -errno. */
int store_frame(const uint8_t *pb, size_t len, uint8_t **ret_buf, size_t *ret_len);
/* Check a file image: 0 with *ret_pb and *ret_len giving the encoded record inside buf,
 * or -EBADMSG with *why (static string) saying what is wrong. */
int store_check(const uint8_t *buf, size_t len, const uint8_t **ret_pb, size_t *ret_len,
		const char **why);

/* Write the record of r->id: temp file, fsync, rename over <dir>/<id>, fsync dir.
 * When it fails nothing is left (the old record, if any, is unchanged); a full file
 * system is -ENOSPC (or -EDQUOT) with em saying so. */
int store_put(struct store *s, const bpfd_state_ProgramRecord *r, struct errmsg *em);
/* The same, written to <dir>/<name> instead (a hidden name: store_walk() reports it
 * with id 0 and recovery reads it back with store_get_named()): the pending-modify
 * markers hold the record a modify is about to make true. */
int store_put_named(struct store *s, const char *name, const bpfd_state_ProgramRecord *r,
		    struct errmsg *em);
/* Read, check and decode the record file <dir>/<name>: 0, -ENOENT, -EBADMSG. */
int store_get_named(struct store *s, const char *name, bpfd_state_ProgramRecord *r);
/* Remove the record of id (missing is fine); the directory is fsynced. */
int store_del(struct store *s, uint32_t id);

/* Write a small marker file <dir>/<name> (mode 0600, must not exist) holding text,
 * fsync it and the directory.  When it fails nothing is left; em says why. */
int store_put_marker(struct store *s, const char *name, const char *text,
		     struct errmsg *em);

/* One file of the record directory, as store_walk() reports it. */
struct store_entry {
	uint32_t id;		/* the decimal id the file is named by, 0 for other names */
	const char *name;	/* the file name */
	const uint8_t *pb;	/* the encoded record (header and checksum checked; not
				 * decoded: the caller decides), NULL when damaged or
				 * not a record */
	size_t len;
	const char *damaged;	/* id != 0 and pb == NULL: what is wrong with the file */
};

/* Call fn for every file in the directory except temp files and the damaged/
 * directory.  fn returning non-zero stops the walk and is returned. */
typedef int (*store_walk_fn)(const struct store_entry *e, void *ctx);
int store_walk(struct store *s, store_walk_fn fn, void *ctx);
/* Remove the file name from the directory (for files that are not records). */
int store_remove_name(struct store *s, const char *name);
/* Move the file name aside to <dir>/damaged/<name>.damaged-<UTC time> (never deleted:
 * a person may want to read it); the path is left in ret_path.  0 or -errno. */
int store_move_aside(struct store *s, const char *name, char *ret_path, size_t size);
/* The description of a failed state write for messages: for a full file system
 * (ENOSPC, EDQUOT) what to do, else "". */
const char *store_err_hint(int err);

#endif
