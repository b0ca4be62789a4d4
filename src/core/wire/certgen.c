/* SPDX-License-Identifier: Apache-2.0 */
/* certgen.c - a private CA with server and client certificates for bpfd's
 * certs_dir (mbedtls 2.28 x509write; loading and the RNG are tls.c's) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "core/base/errmsg.h"
#include "core/base/fs.h"
#include "core/base/log.h"
#include "core/wire/certgen.h"
#include "core/wire/tls_int.h"

#define CA_DAYS		3650
#define LEAF_DAYS	825		/* the CA/Browser Forum limit of 2018 */

struct cert_spec {
	const char *subject;	/* "CN=..." */
	bool is_ca;
	unsigned int key_usage;
	const char *eku_oid;	/* extendedKeyUsage, or NULL */
	size_t eku_len;
	const char *hostname;	/* server: subjectAltNames; NULL otherwise */
	unsigned int days;
};

struct san {
	unsigned char tag;	/* context-specific [2] dNSName or [7] iPAddress */
	const void *data;
	size_t len;
};

/* Add the DER in [p, end) (built backwards in a buffer) as an extension. */
static int put_ext(mbedtls_x509write_cert *w, const char *oid, size_t oid_len,
		   int critical, const unsigned char *p, const unsigned char *end)
{
	return mbedtls_x509write_crt_set_extension(w, oid, oid_len, critical, p,
						   end - p);
}

/* ExtendedKeyUsage ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId */
static int set_eku(mbedtls_x509write_cert *w, const char *oid, size_t oid_len)
{
	unsigned char buf[512], *p = buf + sizeof(buf);
	size_t len = 0;
	int ret;

	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_oid(&p, buf, oid, oid_len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(&p, buf,
			MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return put_ext(w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
		       MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0, p,
		       buf + sizeof(buf));
}

/* A name we may put in a dNSName: letters, digits, '-', '.', '_'. */
static bool is_dns_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789-._") == n;
}

/* SubjectAltName ::= GeneralNames ::= SEQUENCE OF GeneralName; mbedtls 2.28
 * has no writer for it.  The DER is built backwards, so write the last first. */
static int set_san(mbedtls_x509write_cert *w, const char *hostname)
{
	static const unsigned char lo4[] = { 127, 0, 0, 1 };
	const unsigned char dns = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2;
	const unsigned char ip = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
	struct san sans[4] = {
		{ dns, "localhost", 9 },
		{ dns, "127.0.0.1", 9 },
		{ ip, lo4, sizeof(lo4) },
	};
	unsigned char buf[512], *p = buf + sizeof(buf);
	size_t n = 3, len = 0, l;
	int ret;

	if (hostname && *hostname && strcmp(hostname, "localhost") != 0 &&
	    strcmp(hostname, "127.0.0.1") != 0) {
		if (is_dns_name(hostname))
			sans[n++] = (struct san){ dns, hostname, strlen(hostname) };
		else
			log_warn("tls: hostname \"%s\" is not a DNS name; not adding it to the server certificate",
				 hostname);
	}
	while (n--) {
		l = 0;
		MBEDTLS_ASN1_CHK_ADD(l, mbedtls_asn1_write_raw_buffer(&p, buf,
					sans[n].data, sans[n].len));
		MBEDTLS_ASN1_CHK_ADD(l, mbedtls_asn1_write_len(&p, buf, l));
		MBEDTLS_ASN1_CHK_ADD(l, mbedtls_asn1_write_tag(&p, buf, sans[n].tag));
		len += l;
	}
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(&p, buf,
			MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return put_ext(w, MBEDTLS_OID_SUBJECT_ALT_NAME,
		       MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, p,
		       buf + sizeof(buf));
}

/* Find the subjectKeyIdentifier in the issuer's raw extensions. */
static int find_ski(const mbedtls_x509_crt *crt, unsigned char **ret_p,
		    size_t *ret_len)
{
	unsigned char *p = crt->v3_ext.p, *end, *ext_end;
	mbedtls_asn1_buf oid;
	size_t len;
	int crit, ret;

	if (!p)
		return -ENOENT;
	end = p + crt->v3_ext.len;
	if (mbedtls_asn1_get_tag(&p, end, &len,
				 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		return -EINVAL;
	while (p < end) {
		if (mbedtls_asn1_get_tag(&p, end, &len,
				MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
			return -EINVAL;
		ext_end = p + len;
		if (mbedtls_asn1_get_tag(&p, ext_end, &oid.len, MBEDTLS_ASN1_OID))
			return -EINVAL;
		oid.p = p;
		p += oid.len;
		ret = mbedtls_asn1_get_bool(&p, ext_end, &crit);
		if (ret && ret != MBEDTLS_ERR_ASN1_UNEXPECTED_TAG)
			return -EINVAL;
		if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING))
			return -EINVAL;
		if (!MBEDTLS_OID_CMP(MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER, &oid)) {
			if (mbedtls_asn1_get_tag(&p, ext_end, &len,
						 MBEDTLS_ASN1_OCTET_STRING))
				return -EINVAL;
			*ret_p = p;
			*ret_len = len;
			return 0;
		}
		p = ext_end;
	}
	return -ENOENT;
}

/* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier }
 * copied from the issuer's SKI, so that chains built by key id work even for
 * a CA whose SKI was not computed the way mbedtls does it. */
static int set_aki(mbedtls_x509write_cert *w, const mbedtls_x509_crt *issuer)
{
	unsigned char buf[512], *p = buf + sizeof(buf), *ski;
	size_t len = 0, ski_len;
	int ret;

	if (find_ski(issuer, &ski, &ski_len) || ski_len > 64)
		return 0;
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(&p, buf, ski, ski_len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(&p, buf,
			MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(&p, buf,
			MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return put_ext(w, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
		       MBEDTLS_OID_SIZE(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER), 0,
		       p, buf + sizeof(buf));
}

/* The writer keeps names in reverse order (it emits DER backwards), so
 * prepend a copy of each RDN of the issuer's subject. */
static int set_issuer(mbedtls_x509write_cert *w, const mbedtls_x509_name *name)
{
	mbedtls_asn1_named_data *cur;

	for (; name; name = name->next) {
		if (!name->oid.p)
			continue;
		cur = calloc(1, sizeof(*cur));
		if (!cur)
			return MBEDTLS_ERR_X509_ALLOC_FAILED;
		cur->next = w->issuer;
		w->issuer = cur;
		cur->oid = name->oid;
		cur->val = name->val;
		cur->oid.p = malloc(name->oid.len);
		cur->val.p = malloc(name->val.len ? name->val.len : 1);
		if (!cur->oid.p || !cur->val.p)
			return MBEDTLS_ERR_X509_ALLOC_FAILED;
		memcpy(cur->oid.p, name->oid.p, name->oid.len);
		memcpy(cur->val.p, name->val.p, name->val.len);
	}
	return 0;
}

static int set_serial(mbedtls_x509write_cert *w, struct tls_rng *rng)
{
	unsigned char raw[16];
	mbedtls_mpi serial;
	int ret;

	mbedtls_mpi_init(&serial);
	ret = mbedtls_ctr_drbg_random(&rng->drbg, raw, sizeof(raw));
	if (ret)
		goto out;
	raw[0] = (raw[0] & 0x7f) | 0x40;	/* positive, 16 bytes */
	ret = mbedtls_mpi_read_binary(&serial, raw, sizeof(raw));
	if (!ret)
		ret = mbedtls_x509write_crt_set_serial(w, &serial);
out:
	mbedtls_mpi_free(&serial);
	return ret;
}

static time_t x509_time_to_unix(const mbedtls_x509_time *t)
{
	struct tm tm = {
		.tm_year = t->year - 1900, .tm_mon = t->mon - 1, .tm_mday = t->day,
		.tm_hour = t->hour, .tm_min = t->min, .tm_sec = t->sec,
	};

	return timegm(&tm);
}

static int set_validity(mbedtls_x509write_cert *w, unsigned int days,
			const mbedtls_x509_crt *issuer)
{
	char from[16], to[16];
	time_t now = time(NULL), start, end;
	struct tm tm;

	start = now - 3600;	/* tolerate a peer whose clock is a bit behind */
	end = now + (time_t)days * 86400;
	if (issuer && x509_time_to_unix(&issuer->valid_to) < end)
		end = x509_time_to_unix(&issuer->valid_to);
	strftime(from, sizeof(from), "%Y%m%d%H%M%S", gmtime_r(&start, &tm));
	strftime(to, sizeof(to), "%Y%m%d%H%M%S", gmtime_r(&end, &tm));
	return mbedtls_x509write_crt_set_validity(w, from, to);
}

/* Sign a certificate for key as spec says, by issuer/issuer_key or, with
 * issuer NULL, by key itself; PEM into pem. Returns an mbedtls code. */
static int cert_sign(struct tls_rng *rng, const struct cert_spec *spec,
		     mbedtls_pk_context *key, const mbedtls_x509_crt *issuer,
		     mbedtls_pk_context *issuer_key, unsigned char *pem,
		     size_t pem_len)
{
	mbedtls_x509write_cert w;
	int ret;

	mbedtls_x509write_crt_init(&w);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, key);
	mbedtls_x509write_crt_set_issuer_key(&w, issuer ? issuer_key : key);
	ret = mbedtls_x509write_crt_set_subject_name(&w, spec->subject);
	if (!ret)
		ret = issuer ? set_issuer(&w, &issuer->subject)
			     : mbedtls_x509write_crt_set_issuer_name(&w, spec->subject);
	if (!ret)
		ret = set_serial(&w, rng);
	if (!ret)
		ret = set_validity(&w, spec->days, issuer);
	if (!ret)
		ret = mbedtls_x509write_crt_set_basic_constraints(&w, spec->is_ca,
								  spec->is_ca ? 0 : -1);
	if (!ret)
		ret = mbedtls_x509write_crt_set_subject_key_identifier(&w);
	if (!ret)
		ret = issuer ? set_aki(&w, issuer)
			     : mbedtls_x509write_crt_set_authority_key_identifier(&w);
	if (!ret)
		ret = mbedtls_x509write_crt_set_key_usage(&w, spec->key_usage);
	if (!ret && spec->eku_oid)
		ret = set_eku(&w, spec->eku_oid, spec->eku_len);
	if (!ret && spec->hostname)
		ret = set_san(&w, spec->hostname);
	if (!ret)
		ret = mbedtls_x509write_crt_pem(&w, pem, pem_len,
						mbedtls_ctr_drbg_random, &rng->drbg);
	mbedtls_x509write_crt_free(&w);
	return ret;
}

/* mkdir -p: parents 0755, the directory itself 0700. */
static int make_dir(const char *path, struct errmsg *em)
{
	int err;

	err = fs_mkdir_p(path, 0700);
	if (err)
		return errmsg_set(em, err, "cannot create directory %s: %s", path,
				  strerror(-err));
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, err = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Write data to a new file path with mode: temp file, fsync, then link it in
 * unless path exists (never replaces anything). */
static int write_new_file(const char *path, const void *data, size_t len,
			  mode_t mode, struct errmsg *em)
{
	char tmp[PATH_MAX];
	const char *p = data;
	ssize_t n;
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp))
		return errmsg_set(em, -ENAMETOOLONG, "path too long: %s", path);
	fd = mkostemp(tmp, O_CLOEXEC);	/* 0600 */
	if (fd < 0)
		return errmsg_set(em, -errno, "cannot create %s: %s", tmp,
				  strerror(errno));
	if (fchmod(fd, mode) < 0)
		err = -errno;
	while (!err && len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		else {
			p += n;
			len -= n;
		}
	}
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (err) {
		errmsg_set(em, err, "cannot write %s: %s", tmp, strerror(-err));
		goto out;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		goto synced;
	/* filesystems without RENAME_NOREPLACE: link() never replaces either */
	if ((errno != EINVAL && errno != ENOSYS) || link(tmp, path) < 0) {
		err = -errno;
		errmsg_set(em, err, err == -EEXIST ?
			   "%s appeared while bpfd was creating it; left it alone" :
			   "cannot create %s: %s", path, strerror(-err));
		goto out;
	}
synced:
	err = fsync_dir_of(path);
	if (err)
		errmsg_set(em, err, "cannot sync the directory of %s: %s", path,
			   strerror(-err));
out:
	unlink(tmp);	/* ENOENT after a rename */
	return err;
}

/* Does path exist?  1 yes, 0 no, -errno if we cannot tell. */
static int file_exists(const char *path, struct errmsg *em)
{
	struct stat st;

	if (!lstat(path, &st))
		return 1;
	if (errno == ENOENT)
		return 0;
	return errmsg_set(em, -errno, "cannot access %s: %s", path, strerror(errno));
}

struct pair {
	char pem[PATH_MAX];
	char key[PATH_MAX];
	int has_pem;
	int has_key;
};

static int pair_init(struct pair *pr, const char *dir, const char *pem,
		     const char *key, struct errmsg *em)
{
	if (snprintf(pr->pem, sizeof(pr->pem), "%s/%s", dir, pem) >= PATH_MAX ||
	    snprintf(pr->key, sizeof(pr->key), "%s/%s", dir, key) >= PATH_MAX)
		return errmsg_set(em, -ENAMETOOLONG, "directory name too long: %s", dir);
	pr->has_pem = file_exists(pr->pem, em);
	if (pr->has_pem < 0)
		return pr->has_pem;
	pr->has_key = file_exists(pr->key, em);
	return pr->has_key < 0 ? pr->has_key : 0;
}

/* Load pr's key if it exists, else generate a new one. */
static int key_get(struct tls_rng *rng, const struct pair *pr, mbedtls_pk_context *key,
		   struct errmsg *em)
{
	int ret;

	if (pr->has_key)
		return tls_load_key(pr->key, key, em);
	ret = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (!ret)
		ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key),
					  mbedtls_ctr_drbg_random, &rng->drbg);
	if (ret)
		return errmsg_set(em, tls_errno(ret, -EIO, "ecp_gen_key"),
				  "cannot generate a key for %s", pr->key);
	return 0;
}

/* Create pr's certificate (and key, unless it exists). */
static int pair_issue(struct tls_rng *rng, struct pair *pr,
		      const struct cert_spec *spec, const mbedtls_x509_crt *issuer,
		      mbedtls_pk_context *issuer_key, struct errmsg *em)
{
	unsigned char pem[4096], key_pem[1024];
	mbedtls_pk_context key;
	char text[160];
	int ret, err;

	mbedtls_pk_init(&key);
	err = key_get(rng, pr, &key, em);
	if (err)
		goto out;
	ret = cert_sign(rng, spec, &key, issuer, issuer_key, pem, sizeof(pem));
	if (ret) {
		err = errmsg_set(em, tls_errno(ret, -EINVAL, "x509write_crt"),
				 "cannot create certificate %s: %s", pr->pem,
				 tls_mbedtls_text(ret, text, sizeof(text)));
		goto out;
	}
	if (!pr->has_key) {
		ret = mbedtls_pk_write_key_pem(&key, key_pem, sizeof(key_pem));
		if (ret) {
			err = errmsg_set(em, tls_errno(ret, -EINVAL, "pk_write_key_pem"),
					 "cannot encode key %s", pr->key);
			goto out;
		}
		err = write_new_file(pr->key, key_pem, strlen((char *)key_pem),
				     0600, em);
		if (err)
			goto out;
		pr->has_key = 1;
	}
	err = write_new_file(pr->pem, pem, strlen((char *)pem), 0644, em);
	if (err)
		goto out;
	pr->has_pem = 1;
	log_info("tls: created %s", pr->pem);
out:
	mbedtls_platform_zeroize(key_pem, sizeof(key_pem));
	mbedtls_pk_free(&key);
	return err;
}

/* Load the CA to issue leaves with, and check it can do so. */
static int ca_load(const struct pair *ca, mbedtls_x509_crt *crt,
		   mbedtls_pk_context *key, const char *need, struct errmsg *em)
{
	int err;

	if (!ca->has_key)
		return errmsg_set(em, -ENOENT,
				  "cannot issue %s: the CA key %s is missing; put it back, or create the certificate yourself",
				  need, ca->key);
	err = tls_load_crt(ca->pem, "CA certificate", crt, em);
	if (!err)
		err = tls_load_key(ca->key, key, em);
	if (err)
		return err;
	if (!crt->ca_istrue ||
	    mbedtls_x509_crt_check_key_usage(crt, MBEDTLS_X509_KU_KEY_CERT_SIGN))
		return errmsg_set(em, -EINVAL, "cannot issue %s: %s is not a CA certificate",
				  need, ca->pem);
	if (mbedtls_x509_time_is_past(&crt->valid_to))
		return errmsg_set(em, -EKEYEXPIRED,
				  "cannot issue %s: the CA certificate %s has expired; replace the CA (and every certificate it issued)",
				  need, ca->pem);
	if (mbedtls_pk_check_pair(&crt->pk, key))
		return errmsg_set(em, -EINVAL, "CA key %s does not belong to %s",
				  ca->key, ca->pem);
	return 0;
}

int certgen_ensure(const char *dir, const char *hostname, struct errmsg *em)
{
	const struct cert_spec ca_spec = {
		.subject = "CN=bpfd-ca", .is_ca = true,
		.key_usage = MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN,
		.days = CA_DAYS,
	};
	struct cert_spec leaf_spec[2] = {
		{ .subject = "CN=bpfd", .key_usage = MBEDTLS_X509_KU_DIGITAL_SIGNATURE,
		  .eku_oid = MBEDTLS_OID_SERVER_AUTH,
		  .eku_len = MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH),
		  .days = LEAF_DAYS },
		{ .subject = "CN=bpfd-client", .key_usage = MBEDTLS_X509_KU_DIGITAL_SIGNATURE,
		  .eku_oid = MBEDTLS_OID_CLIENT_AUTH,
		  .eku_len = MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH),
		  .days = LEAF_DAYS },
	};
	struct pair *ca = NULL, *leaf = NULL;
	mbedtls_x509_crt ca_crt;
	mbedtls_pk_context ca_key;
	char host[256], sub[PATH_MAX];
	struct tls_rng rng;
	int i, err;

	mbedtls_x509_crt_init(&ca_crt);
	mbedtls_pk_init(&ca_key);
	tls_rng_init(&rng);
	if (!dir)
		dir = CERTGEN_DIR;
	if (!hostname) {
		if (gethostname(host, sizeof(host)) < 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		hostname = host;
	}
	leaf_spec[0].hostname = hostname;

	ca = calloc(3, sizeof(*ca));
	if (!ca) {
		err = -ENOMEM;
		goto out;
	}
	leaf = ca + 1;
	err = pair_init(ca, dir, CERTGEN_CA_PEM, CERTGEN_CA_KEY, em);
	if (!err)
		err = pair_init(&leaf[0], dir, CERTGEN_SERVER_PEM, CERTGEN_SERVER_KEY, em);
	if (!err)
		err = pair_init(&leaf[1], dir, CERTGEN_CLIENT_PEM, CERTGEN_CLIENT_KEY, em);
	if (err)
		goto out;
	if (ca->has_pem && leaf[0].has_pem && leaf[1].has_pem)
		goto out;	/* the common case: nothing to do */

	for (i = 0; i < 2 && !ca->has_pem && !ca->has_key; i++) {
		if (leaf[i].has_pem) {
			err = errmsg_set(em, -ENOENT,
					 "%s exists but the CA that issued it is missing (%s); restore %s and %s, or remove %s to start over",
					 leaf[i].pem, ca->pem, ca->pem, ca->key, dir);
			goto out;
		}
	}
	err = make_dir(dir, em);
	if (err)
		goto out;
	err = tls_rng_seed(&rng, em);
	if (err)
		goto out;
	if (!ca->has_pem) {
		snprintf(sub, sizeof(sub), "%s/ca", dir);
		err = make_dir(sub, em);
		if (!err)
			err = pair_issue(&rng, ca, &ca_spec, NULL, NULL, em);
		if (err)
			goto out;
	}
	for (i = 0; i < 2; i++) {
		if (leaf[i].has_pem)
			continue;
		if (!ca_crt.raw.p) {
			err = ca_load(ca, &ca_crt, &ca_key, leaf[i].pem, em);
			if (err)
				goto out;
		}
		snprintf(sub, sizeof(sub), "%s/%s", dir, i ? "bpfd-client" : "bpfd");
		err = make_dir(sub, em);
		if (!err)
			err = pair_issue(&rng, &leaf[i], &leaf_spec[i], &ca_crt,
					 &ca_key, em);
		if (err)
			goto out;
	}
out:
	mbedtls_x509_crt_free(&ca_crt);
	mbedtls_pk_free(&ca_key);
	tls_rng_free(&rng);
	free(ca);
	return err;
}
