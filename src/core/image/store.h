/* SPDX-License-Identifier: Apache-2.0 */
/* store.h - the local image content store: blobs by digest and a reference index */
#ifndef BPFD_CORE_IMAGE_STORE_H
#define BPFD_CORE_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"
#include "core/image/ref.h"

/* DIR/blobs/sha256/<hex>   each blob, read-only, named by its sha256
 * DIR/index.json           canonical reference -> manifest digest, size, last use
 * DIR/lock                 flock(2): index changes and prune are serialised */
#define IMAGE_STORE_MAX_INDEX	(4u << 20)	/* index.json */
#define IMAGE_STORE_MAX_ENTRIES	4096
#define IMAGE_STORE_TOUCH_SLACK	60	/* seconds: last_used is kept to the minute */
#define IMAGE_STORE_REF_MAX	(IMAGE_HOST_MAX + 1 + IMAGE_REPO_MAX + 1 + \
				 IMAGE_TAG_MAX + 1 + IMAGE_DIGEST_LEN)

struct image_store;
struct image_blob_writer;

struct image_store_entry {
	char reference[IMAGE_STORE_REF_MAX + 1];	/* canonical (image_ref_format) */
	char digest[IMAGE_DIGEST_LEN + 1];		/* the manifest (or index) */
	uint64_t size;		/* bytes of the blobs it uses, when it was stored */
	int64_t last_used;	/* unix seconds: stored or image_store_touch */
};

struct image_store_prune_stats {
	size_t entries;		/* index entries removed */
	size_t blobs;		/* blob files removed */
	uint64_t bytes;		/* their size */
};

/* Open (creating it and its folders, 0700) the store at dir.  0 or -errno, em set. */
int image_store_open(const char *dir, struct image_store **ret_store, struct errmsg *em);
void image_store_close(struct image_store *s);
/* The folder the store was opened at. */
const char *image_store_dir(const struct image_store *s);

/* Write a blob in pieces: its sha256 is computed on the way and must equal
 * digest at commit; more than max_size bytes is -EFBIG (0: no limit).  The blob
 * appears (read-only, fsynced, renamed into place) only at a successful commit;
 * commit and abort free w whatever happens.  A digest mismatch is -EBADMSG. */
int image_store_blob_begin(struct image_store *s, const char *digest, uint64_t max_size,
			   struct image_blob_writer **ret_w, struct errmsg *em);
int image_store_blob_write(struct image_blob_writer *w, const void *data, size_t len,
			   struct errmsg *em);
int image_store_blob_commit(struct image_blob_writer *w, struct errmsg *em);
void image_store_blob_abort(struct image_blob_writer *w);
/* All of the above for a blob in memory. */
int image_store_blob_put(struct image_store *s, const char *digest, const void *data,
			 size_t len, struct errmsg *em);

/* Is the blob there?  (Not verified: use blob_open or blob_read for that.) */
bool image_store_blob_has(struct image_store *s, const char *digest);
/* The sha256 of what is left to read of fd, as "sha256:<hex>".  0 or -errno. */
int image_sha256_fd(int fd, char ret_digest[IMAGE_DIGEST_LEN + 1]);

/* Open a blob after checking its sha256 again: returns an fd at offset 0 that
 * the caller closes, and its size.  -ENOENT if absent; -EBADMSG if the content
 * no longer matches (the blob is then removed so that a pull fetches it again). */
int image_store_blob_open(struct image_store *s, const char *digest, uint64_t *ret_size,
			  struct errmsg *em);
/* Read a blob of at most max bytes into memory (the caller frees *ret_data),
 * checking the sha256 of exactly the bytes returned.  Errors as blob_open, and
 * -EFBIG when larger than max. */
int image_store_blob_read(struct image_store *s, const char *digest, size_t max,
			  char **ret_data, size_t *ret_len, struct errmsg *em);

/* Point reference (any form image_ref_parse takes; stored canonical) at the
 * manifest or index digest.  The manifest and every blob it names (an index:
 * its manifests that are stored) must be in the store, which makes an entry
 * exist only for a complete image.  last_used is now. */
int image_store_tag_set(struct image_store *s, const char *reference, const char *digest,
			struct errmsg *em);
/* The digest reference points at; -ENOENT if it is not in the store. */
int image_store_tag_get(struct image_store *s, const char *reference,
			char ret_digest[IMAGE_DIGEST_LEN + 1], struct errmsg *em);
/* Set last_used of reference to now, unless it is already within
 * IMAGE_STORE_TOUCH_SLACK seconds of now (nothing is written then).  -ENOENT if
 * it is not in the store. */
int image_store_touch(struct image_store *s, const char *reference, struct errmsg *em);
/* Every entry, sorted by reference; the caller frees *ret. */
int image_store_list(struct image_store *s, struct image_store_entry **ret, size_t *ret_n,
		     struct errmsg *em);
/* Remove reference from the index (its blobs go at the next prune).  -ENOENT if absent. */
int image_store_remove(struct image_store *s, const char *reference, struct errmsg *em);
/* Remove the entries last used before unused_before (0: none), then every blob
 * and leftover temporary file no entry uses that is older than grace seconds
 * (a pull in progress writes blobs before it sets its reference). */
int image_store_prune(struct image_store *s, int64_t unused_before, unsigned grace,
		      struct image_store_prune_stats *ret_stats, struct errmsg *em);

#endif
