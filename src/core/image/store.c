/* SPDX-License-Identifier: Apache-2.0 */
/* store.c - image content store: sha256-addressed blobs, an atomic reference index */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <mbedtls/sha256.h>

#include "core/base/fs.h"
#include "core/image/manifest.h"
#include "core/image/store.h"

#define INDEX_NAME	"index.json"
#define TMP_PREFIX	".tmp-"
#define INDEX_VERSION	1
#define HASH_CHUNK	(64u << 10)

struct image_store {
	char dir[PATH_MAX];
	int dirfd;
	int blobfd;		/* DIR/blobs/sha256 */
	int lockfd;		/* DIR/lock, flock(2) between processes */
	pthread_mutex_t mu;	/* flock does not serialise threads sharing lockfd */
};

struct image_blob_writer {
	struct image_store *s;
	char digest[IMAGE_DIGEST_LEN + 1];
	char tmp[NAME_MAX + 1];
	int fd;
	uint64_t size, max;
	mbedtls_sha256_context sha;
};

struct index {
	struct image_store_entry *e;
	size_t n;
};

/* A set of digests (reachable blobs), sorted once built. */
struct dset {
	char (*d)[IMAGE_DIGEST_LEN + 1];
	size_t n, cap;
};

static unsigned tmp_counter;

static const char *hex_of(const char *digest)
{
	return digest + strlen("sha256:");
}

static void sha_hex(const unsigned char sum[32], char out[IMAGE_DIGEST_LEN + 1])
{
	int i;

	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", sum[i]);
}

static int subdir_open(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0700) && errno != EEXIST)
		return -errno;
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int image_store_open(const char *dir, struct image_store **ret_store, struct errmsg *em)
{
	struct image_store *s;
	int blobs = -1, err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dirfd = s->blobfd = s->lockfd = -1;
	pthread_mutex_init(&s->mu, NULL);
	if (snprintf(s->dir, sizeof(s->dir), "%s", dir) >= (int)sizeof(s->dir)) {
		err = errmsg_set(em, -ENAMETOOLONG, "image store path too long: %s", dir);
		goto out;
	}
	err = fs_mkdir_p(dir, 0700);
	if (err) {
		errmsg_set(em, err, "cannot create the image store %s: %s", dir,
			   strerror(-err));
		goto out;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	blobs = s->dirfd < 0 ? -1 : subdir_open(s->dirfd, "blobs");
	s->blobfd = blobs < 0 ? -1 : subdir_open(blobs, "sha256");
	s->lockfd = s->blobfd < 0 ? -1 : openat(s->dirfd, "lock", O_RDWR | O_CREAT |
						O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s->lockfd < 0)
		err = errmsg_set(em, -errno, "cannot open the image store %s: %s", dir,
				 strerror(errno));
out:
	if (blobs >= 0)
		close(blobs);
	if (err) {
		image_store_close(s);
		return err;
	}
	*ret_store = s;
	return 0;
}

const char *image_store_dir(const struct image_store *s)
{
	return s->dir;
}

void image_store_close(struct image_store *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->blobfd >= 0)
		close(s->blobfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static int lock(struct image_store *s, int how, struct errmsg *em)
{
	pthread_mutex_lock(&s->mu);
	while (flock(s->lockfd, how)) {
		if (errno == EINTR)
			continue;
		pthread_mutex_unlock(&s->mu);
		return errmsg_set(em, -errno, "cannot lock the image store %s: %s",
				  s->dir, strerror(errno));
	}
	return 0;
}

static void unlock(struct image_store *s)
{
	flock(s->lockfd, LOCK_UN);
	pthread_mutex_unlock(&s->mu);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/* A new temporary file in dirfd: TMP_PREFIX + tag + pid + counter. */
static int tmp_create(int dirfd, const char *tag, char name[NAME_MAX + 1])
{
	int fd;

	snprintf(name, NAME_MAX + 1, TMP_PREFIX "%.16s-%d-%u", tag, (int)getpid(),
		 __atomic_fetch_add(&tmp_counter, 1, __ATOMIC_RELAXED));
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	return fd < 0 ? -errno : fd;
}

/* fsync fd, rename tmp to name in dirfd, fsync the folder. */
static int tmp_publish(int dirfd, int fd, const char *tmp, const char *name)
{
	if (fsync(fd) || renameat(dirfd, tmp, dirfd, name) || fsync(dirfd))
		return -errno;
	return 0;
}

int image_store_blob_begin(struct image_store *s, const char *digest, uint64_t max_size,
			   struct image_blob_writer **ret_w, struct errmsg *em)
{
	struct image_blob_writer *w;

	if (!image_digest_valid(digest))
		return errmsg_set(em, -EINVAL, "'%s' is not a sha256 digest", digest);
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->s = s;
	w->max = max_size;
	strcpy(w->digest, digest);
	w->fd = tmp_create(s->blobfd, hex_of(digest), w->tmp);
	if (w->fd < 0) {
		int err = w->fd;

		free(w);
		return errmsg_set(em, err, "cannot create a blob in %s/blobs/sha256: %s",
				  s->dir, strerror(-err));
	}
	mbedtls_sha256_init(&w->sha);
	mbedtls_sha256_starts_ret(&w->sha, 0);
	*ret_w = w;
	return 0;
}

int image_store_blob_write(struct image_blob_writer *w, const void *data, size_t len,
			   struct errmsg *em)
{
	int err;

	if (w->max && (len > w->max || w->size > w->max - len))
		return errmsg_set(em, -EFBIG, "blob %s is larger than %llu bytes",
				  w->digest, (unsigned long long)w->max);
	mbedtls_sha256_update_ret(&w->sha, data, len);
	err = write_all(w->fd, data, len);
	if (err)
		return errmsg_set(em, err, "cannot write blob %s to %s: %s", w->digest,
				  w->s->dir, strerror(-err));
	w->size += len;
	return 0;
}

void image_store_blob_abort(struct image_blob_writer *w)
{
	if (!w)
		return;
	close(w->fd);
	unlinkat(w->s->blobfd, w->tmp, 0);
	mbedtls_sha256_free(&w->sha);
	free(w);
}

int image_store_blob_commit(struct image_blob_writer *w, struct errmsg *em)
{
	unsigned char sum[32];
	char got[IMAGE_DIGEST_LEN + 1];
	int err = 0;

	mbedtls_sha256_finish_ret(&w->sha, sum);
	sha_hex(sum, got);
	if (strcmp(got, w->digest))
		err = errmsg_set(em, -EBADMSG, "the content received for blob %s has "
				 "sha256 %s: it was not stored", w->digest, got);
	else if (fchmod(w->fd, 0444) || (err = tmp_publish(w->s->blobfd, w->fd, w->tmp,
							    hex_of(w->digest))))
		err = errmsg_set(em, err ? err : -errno, "cannot store blob %s in %s: %s",
				 w->digest, w->s->dir, strerror(err ? -err : errno));
	image_store_blob_abort(w);	/* closes; unlinks the temporary if left */
	return err;
}

int image_store_blob_put(struct image_store *s, const char *digest, const void *data,
			 size_t len, struct errmsg *em)
{
	struct image_blob_writer *w;
	int err;

	err = image_store_blob_begin(s, digest, 0, &w, em);
	if (err)
		return err;
	err = image_store_blob_write(w, data, len, em);
	if (err) {
		image_store_blob_abort(w);
		return err;
	}
	return image_store_blob_commit(w, em);
}

bool image_store_blob_has(struct image_store *s, const char *digest)
{
	struct stat st;

	return image_digest_valid(digest) &&
	       !fstatat(s->blobfd, hex_of(digest), &st, AT_SYMLINK_NOFOLLOW) &&
	       S_ISREG(st.st_mode);
}

/* Open a stored blob for reading: a regular file, no symlinks. */
static int blob_fd(struct image_store *s, const char *digest, struct stat *st,
		   struct errmsg *em)
{
	int fd;

	if (!image_digest_valid(digest))
		return errmsg_set(em, -EINVAL, "'%s' is not a sha256 digest", digest);
	fd = openat(s->blobfd, hex_of(digest), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errmsg_set(em, -errno, errno == ENOENT ? "blob %s is not in the "
				  "image store" : "cannot open blob %s: %s", digest,
				  strerror(errno));
	if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
		close(fd);
		return errmsg_set(em, -EIO, "blob %s in %s is not a regular file",
				  digest, s->dir);
	}
	return fd;
}

static int damaged(struct image_store *s, const char *digest, const char *got,
		   struct errmsg *em)
{
	unlinkat(s->blobfd, hex_of(digest), 0);
	return errmsg_set(em, -EBADMSG, "blob %s in the image store %s has changed "
			  "(its sha256 is now %s); it was removed, pull the image "
			  "again", digest, s->dir, got);
}

int image_sha256_fd(int fd, char ret_digest[IMAGE_DIGEST_LEN + 1])
{
	mbedtls_sha256_context sha;
	unsigned char sum[32];
	uint8_t *buf = malloc(HASH_CHUNK);
	ssize_t n = 0;

	if (!buf)
		return -ENOMEM;
	mbedtls_sha256_init(&sha);
	mbedtls_sha256_starts_ret(&sha, 0);
	while ((n = read(fd, buf, HASH_CHUNK)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			mbedtls_sha256_update_ret(&sha, buf, n);
	if (n < 0)
		n = -errno;
	mbedtls_sha256_finish_ret(&sha, sum);
	mbedtls_sha256_free(&sha);
	free(buf);
	sha_hex(sum, ret_digest);
	return n < 0 ? (int)n : 0;
}

int image_store_blob_open(struct image_store *s, const char *digest, uint64_t *ret_size,
			  struct errmsg *em)
{
	char got[IMAGE_DIGEST_LEN + 1];
	struct stat st;
	int fd, err;

	fd = blob_fd(s, digest, &st, em);
	if (fd < 0)
		return fd;
	err = image_sha256_fd(fd, got);
	if (err && err != -ENOMEM)
		err = errmsg_set(em, err, "cannot read blob %s: %s", digest, strerror(-err));
	if (!err && strcmp(got, digest))
		err = damaged(s, digest, got, em);
	if (!err && lseek(fd, 0, SEEK_SET) < 0)
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	if (ret_size)
		*ret_size = st.st_size;
	return fd;
}

int image_store_blob_read(struct image_store *s, const char *digest, size_t max,
			  char **ret_data, size_t *ret_len, struct errmsg *em)
{
	unsigned char sum[32];
	char got[IMAGE_DIGEST_LEN + 1];
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, err = 0;

	fd = blob_fd(s, digest, &st, em);
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > max) {
		err = errmsg_set(em, -EFBIG, "blob %s is %llu bytes, more than the %zu "
				 "expected", digest, (unsigned long long)st.st_size, max);
		goto out;
	}
	data = malloc(st.st_size + 1);
	if (!data) {
		err = -ENOMEM;
		goto out;
	}
	/* read one byte past the size seen: the file must not have grown */
	while (len <= (size_t)st.st_size) {
		n = read(fd, data + len, st.st_size + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	if (len != (size_t)st.st_size) {
		err = errmsg_set(em, -EIO, "blob %s changed size while it was read",
				 digest);
		goto out;
	}
	mbedtls_sha256_ret((unsigned char *)data, len, sum, 0);
	sha_hex(sum, got);
	if (strcmp(got, digest)) {
		err = damaged(s, digest, got, em);
		goto out;
	}
	data[len] = '\0';
	*ret_data = data;
	*ret_len = len;
	data = NULL;
out:
	free(data);
	close(fd);
	return err;
}

/* --- the reference index --- */

static int canonical(const char *reference, char out[IMAGE_STORE_REF_MAX + 1],
		     struct errmsg *em)
{
	struct image_ref r;
	int err;

	err = image_ref_parse(reference, &r, em);
	if (err)
		return err;
	return image_ref_format(&r, out, IMAGE_STORE_REF_MAX + 1) < 0 ? -ENAMETOOLONG : 0;
}

static int index_damaged(struct image_store *s, const char *why, struct errmsg *em)
{
	return errmsg_set(em, -EIO, "the image index %s/" INDEX_NAME " is damaged (%s); "
			  "move it away and pull the images again", s->dir, why);
}

static bool whole(const cJSON *v, double min)
{
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= min &&
	       v->valuedouble < 9007199254740992.0 &&
	       v->valuedouble == (double)(int64_t)v->valuedouble;
}

static int entry_from_json(struct image_store *s, const cJSON *j,
			   struct image_store_entry *e, struct errmsg *em)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(j, "reference");
	const cJSON *dig = cJSON_GetObjectItemCaseSensitive(j, "digest");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(j, "size");
	const cJSON *used = cJSON_GetObjectItemCaseSensitive(j, "last_used");
	char canon[IMAGE_STORE_REF_MAX + 1];

	if (!cJSON_IsString(ref) || canonical(ref->valuestring, canon, NULL) ||
	    strcmp(canon, ref->valuestring))
		return index_damaged(s, "an entry has no canonical reference", em);
	if (!cJSON_IsString(dig) || !image_digest_valid(dig->valuestring))
		return index_damaged(s, "an entry has no valid digest", em);
	if (!whole(size, 0) || !whole(used, -9007199254740991.0))
		return index_damaged(s, "an entry has no valid size or last_used", em);
	strcpy(e->reference, canon);
	strcpy(e->digest, dig->valuestring);
	e->size = (uint64_t)size->valuedouble;
	e->last_used = (int64_t)used->valuedouble;
	return 0;
}

static int index_parse(struct image_store *s, const char *text, size_t len,
		       struct index *ix, struct errmsg *em)
{
	const cJSON *ver, *list, *j;
	cJSON *root;
	size_t i;
	int err = 0;

	root = cJSON_ParseWithLength(text, len);
	if (!root)
		return index_damaged(s, "not JSON", em);
	ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	list = cJSON_GetObjectItemCaseSensitive(root, "images");
	if (!cJSON_IsNumber(ver) || ver->valuedouble != INDEX_VERSION || !cJSON_IsArray(list)) {
		err = index_damaged(s, "no version 1 and images list", em);
		goto out;
	}
	if (cJSON_GetArraySize(list) > IMAGE_STORE_MAX_ENTRIES) {
		err = index_damaged(s, "too many entries", em);
		goto out;
	}
	ix->e = calloc(cJSON_GetArraySize(list) + 1, sizeof(*ix->e));
	if (!ix->e) {
		err = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(j, list) {
		err = entry_from_json(s, j, &ix->e[ix->n], em);
		if (err)
			goto out;
		for (i = 0; i < ix->n; i++)
			if (!strcmp(ix->e[i].reference, ix->e[ix->n].reference)) {
				err = index_damaged(s, "a reference appears twice", em);
				goto out;
			}
		ix->n++;
	}
out:
	cJSON_Delete(root);
	return err;
}

/* Load the index (the lock is held); a missing index is empty. */
static int index_load(struct image_store *s, struct index *ix, struct errmsg *em)
{
	struct stat st;
	char *text = NULL;
	ssize_t n;
	size_t len = 0;
	int fd, err = 0;

	memset(ix, 0, sizeof(*ix));
	fd = openat(s->dirfd, INDEX_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return errmsg_set(em, -errno, "cannot open %s/" INDEX_NAME ": %s", s->dir,
				  strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > IMAGE_STORE_MAX_INDEX) {
		err = index_damaged(s, "not a regular file of at most 4 MiB", em);
		goto out;
	}
	text = malloc(st.st_size + 1);
	if (!text) {
		err = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = errmsg_set(em, n ? -errno : -EIO, "cannot read %s/" INDEX_NAME,
					 s->dir);
			goto out;
		}
		len += n;
	}
	err = index_parse(s, text, len, ix, em);
out:
	free(text);
	close(fd);
	if (err) {
		free(ix->e);
		memset(ix, 0, sizeof(*ix));
	}
	return err;
}

static cJSON *index_json(const struct index *ix)
{
	cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray(), *j;
	size_t i;

	if (!root || !list)
		goto fail;
	cJSON_AddItemToObject(root, "images", list);
	if (!cJSON_AddNumberToObject(root, "version", INDEX_VERSION))
		goto fail_root;
	for (i = 0; i < ix->n; i++) {
		j = cJSON_CreateObject();
		if (!j)
			goto fail_root;
		cJSON_AddItemToArray(list, j);
		if (!cJSON_AddStringToObject(j, "reference", ix->e[i].reference) ||
		    !cJSON_AddStringToObject(j, "digest", ix->e[i].digest) ||
		    !cJSON_AddNumberToObject(j, "size", (double)ix->e[i].size) ||
		    !cJSON_AddNumberToObject(j, "last_used", (double)ix->e[i].last_used))
			goto fail_root;
	}
	return root;
fail:
	cJSON_Delete(list);
fail_root:
	cJSON_Delete(root);
	return NULL;
}

/* Replace the index: temporary file, fsync, rename, fsync the folder. */
static int index_save(struct image_store *s, const struct index *ix, struct errmsg *em)
{
	char tmp[NAME_MAX + 1], *text = NULL;
	cJSON *root;
	int fd = -1, err;

	root = index_json(ix);
	text = root ? cJSON_Print(root) : NULL;
	cJSON_Delete(root);
	if (!text)
		return errmsg_set(em, -ENOMEM, "out of memory writing the image index");
	fd = tmp_create(s->dirfd, "index", tmp);
	err = fd < 0 ? fd : write_all(fd, text, strlen(text));
	if (!err)
		err = tmp_publish(s->dirfd, fd, tmp, INDEX_NAME);
	if (err) {
		errmsg_set(em, err, "cannot write %s/" INDEX_NAME ": %s", s->dir,
			   strerror(-err));
		if (fd >= 0)
			unlinkat(s->dirfd, tmp, 0);
	}
	if (fd >= 0)
		close(fd);
	cJSON_free(text);
	return err;
}

static struct image_store_entry *index_find(struct index *ix, const char *reference)
{
	size_t i;

	for (i = 0; i < ix->n; i++)
		if (!strcmp(ix->e[i].reference, reference))
			return &ix->e[i];
	return NULL;
}

/* --- blobs an image uses --- */

static int dset_add(struct dset *set, const char *digest)
{
	void *p;
	size_t i;

	for (i = 0; i < set->n; i++)
		if (!strcmp(set->d[i], digest))
			return 0;
	if (set->n == set->cap) {
		set->cap = set->cap ? 2 * set->cap : 16;
		p = realloc(set->d, set->cap * sizeof(*set->d));
		if (!p)
			return -ENOMEM;
		set->d = p;
	}
	strcpy(set->d[set->n++], digest);
	return 0;
}

static int dset_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Add digest and the blobs it names.  complete: every blob a manifest names
 * must be there (an index's manifests are optional); else missing or
 * unreadable blobs are skipped. */
static int reach(struct image_store *s, const char *digest, bool complete, int depth,
		 struct dset *set, struct errmsg *em)
{
	struct image_manifest m;
	struct image_index *idx = NULL;
	char *data = NULL;
	size_t len, i;
	int kind, err;

	err = dset_add(set, digest);
	if (err)
		return err;
	err = image_store_blob_read(s, digest, IMAGE_MAX_MANIFEST, &data, &len,
				    complete ? em : NULL);
	if (err)
		return complete || err == -ENOMEM ? err : 0;
	kind = image_doc_kind(data, len, NULL, complete ? em : NULL);
	if (kind == IMAGE_DOC_MANIFEST) {
		err = image_manifest_parse(data, len, NULL, &m, complete ? em : NULL);
		for (i = 0; !err && i <= m.n_layers; i++) {
			const char *d = i ? m.layers[i - 1].digest : m.config.digest;

			if (complete && !image_store_blob_has(s, d))
				err = errmsg_set(em, -ENOENT, "blob %s of image %s is not "
						 "in the store", d, digest);
			else
				err = dset_add(set, d);
		}
	} else if (kind == IMAGE_DOC_INDEX && depth == 0) {
		idx = malloc(sizeof(*idx));
		err = idx ? image_index_parse(data, len, NULL, idx, complete ? em : NULL) :
			    -ENOMEM;
		for (i = 0; !err && i < idx->n_manifests; i++)
			if (image_store_blob_has(s, idx->manifests[i].desc.digest))
				err = reach(s, idx->manifests[i].desc.digest, false, 1,
					    set, em);
	} else {
		err = kind < 0 ? kind : -EINVAL;
	}
	free(idx);
	free(data);
	if (err && complete)
		errmsg_prefix(em, "cannot store image %s", digest);
	return complete || err == -ENOMEM ? err : 0;
}

static uint64_t dset_bytes(struct image_store *s, const struct dset *set)
{
	struct stat st;
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < set->n; i++)
		if (!fstatat(s->blobfd, hex_of(set->d[i]), &st, AT_SYMLINK_NOFOLLOW))
			sum += st.st_size;
	return sum;
}

int image_store_tag_set(struct image_store *s, const char *reference, const char *digest,
			struct errmsg *em)
{
	char canon[IMAGE_STORE_REF_MAX + 1];
	struct image_store_entry *e;
	struct dset set = { 0 };
	struct index ix = { 0 };
	void *p;
	int err;

	err = canonical(reference, canon, em);
	if (err)
		return err;
	if (!image_digest_valid(digest))
		return errmsg_set(em, -EINVAL, "'%s' is not a sha256 digest", digest);
	err = lock(s, LOCK_EX, em);
	if (err)
		return err;
	err = reach(s, digest, true, 0, &set, em);
	if (!err)
		err = index_load(s, &ix, em);
	if (err)
		goto out;
	e = index_find(&ix, canon);
	if (!e) {
		if (ix.n >= IMAGE_STORE_MAX_ENTRIES) {
			err = errmsg_set(em, -ENOSPC, "the image store holds %d images "
					 "already; remove some", IMAGE_STORE_MAX_ENTRIES);
			goto out;
		}
		p = realloc(ix.e, (ix.n + 1) * sizeof(*ix.e));
		if (!p) {
			err = -ENOMEM;
			goto out;
		}
		ix.e = p;
		e = &ix.e[ix.n++];
		strcpy(e->reference, canon);
	}
	strcpy(e->digest, digest);
	e->size = dset_bytes(s, &set);
	e->last_used = time(NULL);
	err = index_save(s, &ix, em);
out:
	unlock(s);
	free(set.d);
	free(ix.e);
	return err;
}

/* Load the index under a shared lock. */
static int index_read(struct image_store *s, struct index *ix, struct errmsg *em)
{
	int err;

	err = lock(s, LOCK_SH, em);
	if (err)
		return err;
	err = index_load(s, ix, em);
	unlock(s);
	return err;
}

int image_store_tag_get(struct image_store *s, const char *reference,
			char ret_digest[IMAGE_DIGEST_LEN + 1], struct errmsg *em)
{
	char canon[IMAGE_STORE_REF_MAX + 1];
	struct image_store_entry *e;
	struct index ix;
	int err;

	err = canonical(reference, canon, em);
	if (!err)
		err = index_read(s, &ix, em);
	if (err)
		return err;
	e = index_find(&ix, canon);
	if (e)
		strcpy(ret_digest, e->digest);
	else
		err = errmsg_set(em, -ENOENT, "image %s is not in the image store", canon);
	free(ix.e);
	return err;
}

/* Load, change one entry (touch or remove), save, under the lock. */
static int entry_change(struct image_store *s, const char *reference, bool remove,
			struct errmsg *em)
{
	char canon[IMAGE_STORE_REF_MAX + 1];
	struct image_store_entry *e;
	struct index ix = { 0 };
	int err;

	err = canonical(reference, canon, em);
	if (err)
		return err;
	err = lock(s, LOCK_EX, em);
	if (err)
		return err;
	err = index_load(s, &ix, em);
	if (err)
		goto out;
	e = index_find(&ix, canon);
	if (!e) {
		err = errmsg_set(em, -ENOENT, "image %s is not in the image store", canon);
		goto out;
	}
	if (remove) {
		memmove(e, e + 1, (ix.e + --ix.n - e) * sizeof(*e));
	} else {
		/* last_used to the minute: a load from a warm store writes no index */
		if (e->last_used <= time(NULL) && e->last_used + IMAGE_STORE_TOUCH_SLACK > time(NULL))
			goto out;
		e->last_used = time(NULL);
	}
	err = index_save(s, &ix, em);
out:
	unlock(s);
	free(ix.e);
	return err;
}

int image_store_touch(struct image_store *s, const char *reference, struct errmsg *em)
{
	return entry_change(s, reference, false, em);
}

int image_store_remove(struct image_store *s, const char *reference, struct errmsg *em)
{
	return entry_change(s, reference, true, em);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct image_store_entry *)a)->reference,
		      ((const struct image_store_entry *)b)->reference);
}

int image_store_list(struct image_store *s, struct image_store_entry **ret, size_t *ret_n,
		     struct errmsg *em)
{
	struct index ix;
	int err;

	err = index_read(s, &ix, em);
	if (err)
		return err;
	if (ix.n)
		qsort(ix.e, ix.n, sizeof(*ix.e), entry_cmp);
	*ret = ix.e;
	*ret_n = ix.n;
	return 0;
}

/* Remove blob files (and temporaries) no entry uses, older than grace. */
static int prune_blobs(struct image_store *s, struct dset *set, unsigned grace,
		       struct image_store_prune_stats *st, struct errmsg *em)
{
	char digest[IMAGE_DIGEST_LEN + 1];
	time_t now = time(NULL);
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int fd;

	if (set->n)	/* an empty set may have no array: qsort(NULL, 0) is undefined */
		qsort(set->d, set->n, sizeof(*set->d), dset_cmp);
	fd = dup(s->blobfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return errmsg_set(em, -errno, "cannot list %s/blobs/sha256: %s", s->dir,
				  strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(digest, sizeof(digest), "sha256:%.64s", de->d_name);
		if (!strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) ||
		    strlen(de->d_name) != 64 || !image_digest_valid(digest))
			digest[0] = '\0';
		if (digest[0] && set->n &&
		    bsearch(digest, set->d, set->n, sizeof(*set->d), dset_cmp))
			continue;
		if (fstatat(s->blobfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ||
		    sb.st_mtime + (time_t)grace > now)
			continue;
		if (unlinkat(s->blobfd, de->d_name, S_ISDIR(sb.st_mode) ? AT_REMOVEDIR : 0))
			continue;
		st->blobs++;
		st->bytes += sb.st_size;
	}
	closedir(d);
	return 0;
}

int image_store_prune(struct image_store *s, int64_t unused_before, unsigned grace,
		      struct image_store_prune_stats *ret_stats, struct errmsg *em)
{
	struct image_store_prune_stats st = { 0 };
	struct dset set = { 0 };
	struct index ix = { 0 };
	size_t i, kept = 0;
	int err;

	err = lock(s, LOCK_EX, em);
	if (err)
		return err;
	err = index_load(s, &ix, em);
	if (err)
		goto out;
	for (i = 0; i < ix.n; i++) {
		if (unused_before && ix.e[i].last_used < unused_before) {
			st.entries++;
			continue;
		}
		ix.e[kept++] = ix.e[i];
	}
	ix.n = kept;
	if (st.entries)
		err = index_save(s, &ix, em);
	for (i = 0; !err && i < ix.n; i++)
		err = reach(s, ix.e[i].digest, false, 0, &set, em);
	if (!err)
		err = prune_blobs(s, &set, grace, &st, em);
out:
	unlock(s);
	free(set.d);
	free(ix.e);
	if (!err && ret_stats)
		*ret_stats = st;
	return err;
}
