/* SPDX-License-Identifier: Apache-2.0 */
/* tls.c - mbedtls 2.28: mutual TLS 1.2 with ALPN h2 (certificates: certgen.c) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_internal.h>	/* mbedtls_ssl_flush_output() */
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include "core/base/errmsg.h"
#include "core/base/log.h"
#include "core/wire/tls.h"
#include "core/wire/tls_int.h"

#if MBEDTLS_VERSION_MAJOR != 2
#error "tls.c is written against the mbedtls 2.28 API"
#endif

#define TLS_MAX_FILE	(1 << 20)	/* certificate bundles are far smaller */

struct tls_ctx {
	bool is_server;
	bool has_cert;
	bool https;		/* HTTP/1.1 client: ALPN http/1.1, name per connection */
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt cert;
	mbedtls_pk_context key;
	struct tls_rng rng;
	char *verify_name;	/* client: expected server name */
	char ca_desc[256];	/* where the CA came from, for messages */
};

struct tls_conn {
	struct tls_ctx *ctx;
	mbedtls_ssl_context ssl;
	int fd;
	int wants;		/* POLLIN/POLLOUT wanted by the last -EAGAIN */
	int io_errno;		/* errno of the last failed send/recv */
	int fatal;		/* sticky error once the session is dead */
	bool hs_done;
	bool eof;
	bool close_queued;
	char peer_cn[128];
	char peer_sans[TLS_PEER_SANS][128];	/* DNS subjectAltNames */
	size_t n_peer_sans;
	char peer_subject[256];	/* leaf seen by the verify callback */
	char peer_issuer[256];
	char host[256];		/* https: the name verified (tls_conn_set_hostname) */
	char err[768];
};

/* ALPN: gRPC needs HTTP/2 and nothing else. */
static const char *tls_alpn[] = { "h2", NULL };
/* ALPN for HTTPS clients (registries): a server that ignores ALPN is fine. */
static const char *tls_alpn_http1[] = { "http/1.1", NULL };

/* TLS 1.2 suites acceptable for HTTP/2 (RFC 7540 9.2.2: ephemeral + AEAD). */
static const int tls_suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0
};

/* The last translation in this thread, for tls_strerror(). */
static __thread int tls_last_mbedtls, tls_last_errno;

/* ---- error translation ---------------------------------------------- */

const char *tls_mbedtls_text(int ret, char *buf, size_t len)
{
	mbedtls_strerror(ret, buf, len);
	return buf;
}

static bool is_alloc_failure(int ret)
{
	int hi = -(-ret & 0xff80), lo = -(-ret & 0x7f);

	return hi == MBEDTLS_ERR_SSL_ALLOC_FAILED ||
	       hi == MBEDTLS_ERR_X509_ALLOC_FAILED ||
	       hi == MBEDTLS_ERR_PK_ALLOC_FAILED ||
	       hi == MBEDTLS_ERR_PEM_ALLOC_FAILED ||
	       hi == MBEDTLS_ERR_ECP_ALLOC_FAILED ||
	       hi == MBEDTLS_ERR_CIPHER_ALLOC_FAILED ||
	       hi == MBEDTLS_ERR_MD_ALLOC_FAILED ||
	       lo == MBEDTLS_ERR_MPI_ALLOC_FAILED ||
	       lo == MBEDTLS_ERR_ASN1_ALLOC_FAILED;
}

/* Translate an mbedtls error into -errno (dflt unless a better one fits) and
 * keep the original code in a debug line.  Only tls.c and certgen.c see
 * mbedtls codes. */
int tls_errno(int ret, int dflt, const char *what)
{
	char buf[160];
	int err = dflt;

	if (ret >= 0)
		return ret;
	tls_last_mbedtls = ret;
	if (is_alloc_failure(ret))
		err = -ENOMEM;
	else if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
		 ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		err = -EAGAIN;
	else if (ret == MBEDTLS_ERR_NET_CONN_RESET)
		err = -ECONNRESET;
	else if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ||
		 ret == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE ||
		 ret == MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE ||
		 ret == MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED ||
		 ret == MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED)
		err = -EACCES;
	else if (ret == MBEDTLS_ERR_ENTROPY_SOURCE_FAILED ||
		 ret == MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED)
		err = -EIO;
	tls_last_errno = err;
	log_debug("tls: %s: mbedtls -0x%04x: %s", what, (unsigned int)-ret,
		  tls_mbedtls_text(ret, buf, sizeof(buf)));
	return err;
}

const char *tls_strerror(int err, char *buf, size_t len)
{
	char text[160];

	if (!len)
		return buf;
	if (tls_last_mbedtls && tls_last_errno == err)
		snprintf(buf, len, "%s (mbedtls -0x%04x: %s)", strerror(-err),
			 (unsigned int)-tls_last_mbedtls,
			 tls_mbedtls_text(tls_last_mbedtls, text, sizeof(text)));
	else
		snprintf(buf, len, "%s", strerror(-err));
	return buf;
}

/* ---- RNG --------------------------------------------------------------- */

void tls_rng_init(struct tls_rng *rng)
{
	mbedtls_entropy_init(&rng->entropy);
	mbedtls_ctr_drbg_init(&rng->drbg);
}

void tls_rng_free(struct tls_rng *rng)
{
	mbedtls_ctr_drbg_free(&rng->drbg);
	mbedtls_entropy_free(&rng->entropy);
}

/* mbedtls_entropy uses getrandom() (or /dev/urandom) as its source. */
int tls_rng_seed(struct tls_rng *rng, struct errmsg *em)
{
	static const char pers[] = "bpfd-tls";
	int ret;

	ret = mbedtls_ctr_drbg_seed(&rng->drbg, mbedtls_entropy_func,
				    &rng->entropy, (const unsigned char *)pers,
				    sizeof(pers) - 1);
	if (ret)
		return errmsg_set(em, tls_errno(ret, -EIO, "ctr_drbg_seed"),
				  "cannot seed the random number generator from the kernel (getrandom)");
	return 0;
}

/* ---- loading certificates and keys ----------------------------------- */

static bool is_inline_pem(const char *src)
{
	return !strncmp(src, "-----BEGIN", 10);
}

static const char *src_name(const char *src)
{
	return is_inline_pem(src) ? "(inline PEM)" : src;
}

/* Read a whole file, NUL-terminated.  *ret_len is what mbedtls wants: with
 * the NUL for PEM, without for DER. */
static int read_file(const char *path, unsigned char **ret_buf, size_t *ret_len)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	if (st.st_size > TLS_MAX_FILE) {
		err = -EFBIG;
		goto out;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		off += n;
	}
	buf[off] = '\0';
	*ret_len = memmem(buf, off, "-----BEGIN", 10) ? off + 1 : off;
	*ret_buf = buf;
	buf = NULL;
out:
	if (buf) {
		mbedtls_platform_zeroize(buf, st.st_size);
		free(buf);
	}
	close(fd);
	return err;
}

static int read_src(const char *src, const char *what, unsigned char **ret_buf,
		    size_t *ret_len, struct errmsg *em)
{
	int err;

	if (is_inline_pem(src)) {
		*ret_buf = (unsigned char *)strdup(src);
		if (!*ret_buf)
			return -ENOMEM;
		*ret_len = strlen(src) + 1;
		return 0;
	}
	err = read_file(src, ret_buf, ret_len);
	if (err == -EFBIG)
		return errmsg_set(em, err, "%s %s is larger than %d bytes; is it the right file?",
				  what, src, TLS_MAX_FILE);
	if (err == -EINVAL)
		return errmsg_set(em, err, "%s %s is not a regular file", what, src);
	if (err)
		return errmsg_set(em, err, "cannot read %s %s: %s", what, src,
				  strerror(-err));
	return 0;
}

static void free_secret(unsigned char *buf, size_t len)
{
	if (!buf)
		return;
	mbedtls_platform_zeroize(buf, len);
	free(buf);
}

int tls_load_crt(const char *src, const char *what, mbedtls_x509_crt *crt,
		    struct errmsg *em)
{
	unsigned char *buf = NULL;
	char text[160];
	size_t len = 0;
	int ret, err;

	err = read_src(src, what, &buf, &len, em);
	if (err)
		return err;
	ret = mbedtls_x509_crt_parse(crt, buf, len);
	if (ret < 0) {
		err = errmsg_set(em, tls_errno(ret, -EINVAL, "x509_crt_parse"),
				 "%s %s is not a valid PEM or DER certificate: %s",
				 what, src_name(src), tls_mbedtls_text(ret, text, sizeof(text)));
		goto out;
	}
	if (ret > 0)
		log_warn("%s %s: skipped %d certificate(s) that do not parse",
			 what, src_name(src), ret);
	if (mbedtls_x509_time_is_past(&crt->valid_to))
		log_warn("%s %s expired on %04d-%02d-%02d; peers will reject it",
			 what, src_name(src), crt->valid_to.year,
			 crt->valid_to.mon, crt->valid_to.day);
out:
	free(buf);
	return err;
}

int tls_load_key(const char *src, mbedtls_pk_context *key, struct errmsg *em)
{
	unsigned char *buf = NULL;
	char text[160];
	size_t len = 0;
	int ret, err;

	err = read_src(src, "private key", &buf, &len, em);
	if (err)
		return err;
	ret = mbedtls_pk_parse_key(key, buf, len, NULL, 0);
	if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED ||
	    ret == MBEDTLS_ERR_PK_PASSWORD_MISMATCH)
		err = errmsg_set(em, tls_errno(ret, -EINVAL, "pk_parse_key"),
				 "private key %s is encrypted; bpfd needs it unencrypted (keep it mode 0600)",
				 src_name(src));
	else if (ret)
		err = errmsg_set(em, tls_errno(ret, -EINVAL, "pk_parse_key"),
				 "private key %s is not a valid PEM or DER key: %s",
				 src_name(src), tls_mbedtls_text(ret, text, sizeof(text)));
	free_secret(buf, len);
	return err;
}

/* ---- contexts ---------------------------------------------------------- */

void tls_ctx_free(struct tls_ctx *ctx)
{
	if (!ctx)
		return;
	mbedtls_ssl_config_free(&ctx->conf);
	mbedtls_x509_crt_free(&ctx->ca);
	mbedtls_x509_crt_free(&ctx->cert);
	mbedtls_pk_free(&ctx->key);
	tls_rng_free(&ctx->rng);
	free(ctx->verify_name);
	free(ctx);
}

/* The context's own certificate and key, checked to belong together. */
static int load_own(struct tls_ctx *ctx, const char *cert, const char *key, struct errmsg *em)
{
	int ret, err;

	err = tls_load_crt(cert, "certificate", &ctx->cert, em);
	if (err)
		return err;
	err = tls_load_key(key, &ctx->key, em);
	if (err)
		return err;
	ret = mbedtls_pk_check_pair(&ctx->cert.pk, &ctx->key);
	if (ret)
		return errmsg_set(em, tls_errno(ret, -EINVAL, "pk_check_pair"),
				  "private key %s does not belong to certificate %s",
				  src_name(key), src_name(cert));
	ctx->has_cert = true;
	return 0;
}

static int ctx_load(struct tls_ctx *ctx, const char *ca, const char *cert,
		    const char *key, struct errmsg *em)
{
	int err;

	err = tls_load_crt(ca, "CA certificate", &ctx->ca, em);
	if (err)
		return err;
	snprintf(ctx->ca_desc, sizeof(ctx->ca_desc), "%s", src_name(ca));
	if (!cert)
		return 0;
	return load_own(ctx, cert, key, em);
}

static struct tls_ctx *ctx_alloc(void)
{
	struct tls_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	mbedtls_ssl_config_init(&ctx->conf);
	mbedtls_x509_crt_init(&ctx->ca);
	mbedtls_x509_crt_init(&ctx->cert);
	mbedtls_pk_init(&ctx->key);
	tls_rng_init(&ctx->rng);
	return ctx;
}

/* What every context has: TLS 1.2 at least, the RNG, peers verified against
 * ctx->ca, the ALPN list. */
static int ctx_conf(struct tls_ctx *ctx, int endpoint, const char **alpn, struct errmsg *em)
{
	int ret;

	ret = mbedtls_ssl_config_defaults(&ctx->conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
					  MBEDTLS_SSL_PRESET_DEFAULT);
	if (!ret) {
		mbedtls_ssl_conf_min_version(&ctx->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
					     MBEDTLS_SSL_MINOR_VERSION_3);
		mbedtls_ssl_conf_rng(&ctx->conf, mbedtls_ctr_drbg_random, &ctx->rng.drbg);
		mbedtls_ssl_conf_authmode(&ctx->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_ca_chain(&ctx->conf, &ctx->ca, NULL);
		ret = mbedtls_ssl_conf_alpn_protocols(&ctx->conf, alpn);
	}
	if (ret)
		return errmsg_set(em, tls_errno(ret, -EINVAL, "ssl_config"),
				  "cannot set up the TLS configuration");
	return 0;
}

static int ctx_new(bool server, const char *ca, const char *cert,
		   const char *key, const char *verify_name, struct errmsg *em,
		   struct tls_ctx **ret_ctx)
{
	struct tls_ctx *ctx;
	int ret, err;

	ctx = ctx_alloc();
	if (!ctx)
		return -ENOMEM;
	ctx->is_server = server;

	if (verify_name) {
		ctx->verify_name = strdup(verify_name);
		if (!ctx->verify_name) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = tls_rng_seed(&ctx->rng, em);
	if (err)
		goto out;
	err = ctx_load(ctx, ca, cert, key, em);
	if (err)
		goto out;
	err = ctx_conf(ctx, server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT, tls_alpn, em);
	if (err)
		goto out;
	mbedtls_ssl_conf_max_version(&ctx->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&ctx->conf, tls_suites);
	ret = 0;
	if (ctx->has_cert)
		ret = mbedtls_ssl_conf_own_cert(&ctx->conf, &ctx->cert, &ctx->key);
	if (ret) {
		err = errmsg_set(em, tls_errno(ret, -EINVAL, "ssl_conf"),
				 "cannot use certificate %s with TLS", src_name(cert));
		goto out;
	}
	*ret_ctx = ctx;
	ctx = NULL;
out:
	tls_ctx_free(ctx);
	return err;
}

int tls_server_new(const char *ca, const char *cert, const char *key,
		   struct errmsg *em, struct tls_ctx **ret_ctx)
{
	if (!ca || !cert || !key)
		return errmsg_set(em, -EINVAL, "the TLS server needs a CA certificate, a certificate and its key");
	return ctx_new(true, ca, cert, key, NULL, em, ret_ctx);
}

int tls_client_new(const char *ca, const char *cert, const char *key,
		   const char *verify_name, struct errmsg *em,
		   struct tls_ctx **ret_ctx)
{
	if (!ca || !!cert != !!key)
		return errmsg_set(em, -EINVAL, "the TLS client needs a CA certificate, and either both a certificate and its key or neither");
	if (!verify_name || !*verify_name)
		return errmsg_set(em, -EINVAL, "the TLS client needs the server name to verify");
	return ctx_new(false, ca, cert, key, verify_name, em, ret_ctx);
}

#define TLS_SYSTEM_CA	"/etc/ssl/certs/ca-certificates.crt"

int tls_https_client_new(const char *const *ca_files, size_t n_ca_files, bool system_ca,
			 struct errmsg *em, struct tls_ctx **ret_ctx)
{
	struct tls_ctx *ctx;
	size_t i, n = 0;
	int err;

	if (!system_ca && !n_ca_files)
		return errmsg_set(em, -EINVAL, "the HTTPS client needs the system CA bundle or a CA file");
	ctx = ctx_alloc();
	if (!ctx)
		return -ENOMEM;
	ctx->https = true;
	err = tls_rng_seed(&ctx->rng, em);
	if (err)
		goto out;
	if (system_ca) {
		err = tls_load_crt(TLS_SYSTEM_CA, "system CA bundle", &ctx->ca, em);
		if (err) {
			errmsg_prefix(em, "install the ca-certificates package or set [registry] ca_files");
			goto out;
		}
		n = snprintf(ctx->ca_desc, sizeof(ctx->ca_desc), "%s", TLS_SYSTEM_CA);
	}
	for (i = 0; i < n_ca_files; i++) {
		err = tls_load_crt(ca_files[i], "CA file", &ctx->ca, em);
		if (err)
			goto out;
		if (n < sizeof(ctx->ca_desc))
			n += snprintf(ctx->ca_desc + n, sizeof(ctx->ca_desc) - n, "%s%s",
				      n ? ", " : "", src_name(ca_files[i]));
	}
	err = ctx_conf(ctx, MBEDTLS_SSL_IS_CLIENT, tls_alpn_http1, em);
	if (err)
		goto out;
	*ret_ctx = ctx;
	ctx = NULL;
out:
	tls_ctx_free(ctx);
	return err;
}

int tls_https_client_cert(struct tls_ctx *ctx, const char *cert, const char *key,
			  struct errmsg *em)
{
	int ret, err;

	if (!cert || !key)
		return errmsg_set(em, -EINVAL, "a client certificate needs its key and a key its "
				  "certificate");
	err = load_own(ctx, cert, key, em);
	if (err)
		return err;
	ret = mbedtls_ssl_conf_own_cert(&ctx->conf, &ctx->cert, &ctx->key);
	if (ret)
		return errmsg_set(em, tls_errno(ret, -EINVAL, "ssl_conf_own_cert"),
				  "cannot use certificate %s with TLS", src_name(cert));
	return 0;
}

/* ---- connections ------------------------------------------------------- */

static int bio_send(void *arg, const unsigned char *buf, size_t len)
{
	struct tls_conn *c = arg;
	ssize_t n;

	for (;;) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return (int)n;
		if (errno != EINTR)
			break;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	c->io_errno = errno;
	if (errno == EPIPE || errno == ECONNRESET)
		return MBEDTLS_ERR_NET_CONN_RESET;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *arg, unsigned char *buf, size_t len)
{
	struct tls_conn *c = arg;
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf, len, 0);
		if (n >= 0)
			return (int)n;
		if (errno != EINTR)
			break;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return MBEDTLS_ERR_SSL_WANT_READ;
	c->io_errno = errno;
	if (errno == ECONNRESET)
		return MBEDTLS_ERR_NET_CONN_RESET;
	return MBEDTLS_ERR_NET_RECV_FAILED;
}

/* Does crt list host, an IPv4 or IPv6 literal, as an iPAddress subjectAltName?
 * mbedtls 2.28 matches DNS names only, but keeps the other entries raw. */
static bool ip_san_match(const mbedtls_x509_crt *crt, const char *host)
{
	const mbedtls_x509_sequence *san;
	unsigned char addr[16];
	size_t len;

	if (!host || !*host)
		return false;
	if (inet_pton(AF_INET, host, addr) == 1)
		len = 4;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		len = 16;
	else
		return false;
	for (san = &crt->subject_alt_names; san && san->buf.p; san = san->next)
		if (san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) &&
		    san->buf.len == len && !memcmp(san->buf.p, addr, len))
			return true;
	return false;
}

/* Remember the leaf's names for messages, whatever the verdict; accept an IP
 * address SAN equal to the address connected to. */
static int verify_cb(void *arg, mbedtls_x509_crt *crt, int depth,
		     uint32_t *flags)
{
	struct tls_conn *c = arg;

	if (depth == 0 && (*flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) && ip_san_match(crt, c->host))
		*flags &= ~MBEDTLS_X509_BADCERT_CN_MISMATCH;
	if (depth == 0) {
		if (mbedtls_x509_dn_gets(c->peer_subject, sizeof(c->peer_subject),
					 &crt->subject) < 0)
			c->peer_subject[0] = '\0';
		if (mbedtls_x509_dn_gets(c->peer_issuer, sizeof(c->peer_issuer),
					 &crt->issuer) < 0)
			c->peer_issuer[0] = '\0';
	}
	return 0;
}

int tls_conn_new(struct tls_ctx *ctx, int fd, struct tls_conn **ret_conn)
{
	struct tls_conn *c;
	int ret, err = 0;

	if (!ctx || fd < 0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ctx = ctx;
	c->fd = fd;
	mbedtls_ssl_init(&c->ssl);
	ret = mbedtls_ssl_setup(&c->ssl, &ctx->conf);
	if (!ret && ctx->verify_name) {
		ret = mbedtls_ssl_set_hostname(&c->ssl, ctx->verify_name);
		snprintf(c->host, sizeof(c->host), "%s", ctx->verify_name);
	}
	if (ret) {
		err = tls_errno(ret, -ENOMEM, "ssl_setup");
		goto out;
	}
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	mbedtls_ssl_set_verify(&c->ssl, verify_cb, c);
	*ret_conn = c;
	c = NULL;
out:
	tls_conn_free(c);
	return err;
}

int tls_conn_set_hostname(struct tls_conn *c, const char *name)
{
	int ret;

	if (!name || strlen(name) >= sizeof(c->host))
		return -EINVAL;
	snprintf(c->host, sizeof(c->host), "%s", name);
	ret = mbedtls_ssl_set_hostname(&c->ssl, name);
	return ret ? tls_errno(ret, -EINVAL, "ssl_set_hostname") : 0;
}

void tls_conn_free(struct tls_conn *c)
{
	if (!c)
		return;
	mbedtls_ssl_free(&c->ssl);
	free(c);
}

__attribute__((format(printf, 2, 3)))
static void conn_msg(struct tls_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

static const char *peer_role(const struct tls_conn *c)
{
	return c->ctx->is_server ? "client" : "server";
}

static const char *peer_desc(const struct tls_conn *c)
{
	return c->peer_subject[0] ? c->peer_subject : "(unknown subject)";
}

static const char *alert_name(int alert)
{
	switch (alert) {
	case MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE:	return "unexpected_message";
	case MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC:	return "bad_record_mac";
	case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:	return "handshake_failure";
	case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:		return "bad_certificate";
	case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT:	return "unsupported_certificate";
	case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED:		return "certificate_revoked";
	case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:		return "certificate_expired";
	case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:		return "certificate_unknown";
	case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER:	return "illegal_parameter";
	case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:		return "unknown_ca";
	case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:	return "access_denied";
	case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR:		return "decode_error";
	case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR:	return "decrypt_error";
	case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION:	return "protocol_version";
	case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY: return "insufficient_security";
	case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR:	return "internal_error";
	case 116:					return "certificate_required";
	case MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL: return "no_application_protocol";
	default:					return "other";
	}
}

/* The peer sent a fatal alert during the handshake. */
static int explain_alert(struct tls_conn *c)
{
	const char *role = peer_role(c);
	int alert = c->ssl.in_msg ? c->ssl.in_msg[1] : -1;

	switch (alert) {
	case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
	case 116:
		if (!c->ctx->is_server && !c->ctx->has_cert) {
			conn_msg(c, "the server requires a client certificate (alert %s); configure a certificate and key signed by its CA",
				 alert_name(alert));
			return -EACCES;
		}
		conn_msg(c, "the %s aborted the TLS handshake (alert %s): no common cipher suite or parameters, or it refused our certificate",
			 role, alert_name(alert));
		return -EPROTO;
	case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
	case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT:
	case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED:
	case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:
	case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:
	case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
	case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:
		conn_msg(c, "the %s rejected our certificate (alert %s); its log says why: it must be signed by a CA the %s trusts, be valid now and allow %s authentication%s",
			 role, alert_name(alert), role,
			 c->ctx->is_server ? "server" : "client",
			 c->ctx->is_server ? ", and list the name the client connects to" : "");
		return -EACCES;
	case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION:
		conn_msg(c, "the %s does not speak TLS 1.2 (alert protocol_version); bpfd supports TLS 1.2 only",
			 role);
		return -EPROTO;
	case MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL:
		conn_msg(c, "the %s does not speak HTTP/2 (alert no_application_protocol for ALPN \"h2\")",
			 role);
		return -EPROTO;
	default:
		conn_msg(c, "the %s aborted the TLS handshake (alert %d, %s)",
			 role, alert, alert_name(alert));
		return -EPROTO;
	}
}

/* Certificate verification failed on our side: say why, most useful first. */
static int explain_verify(struct tls_conn *c)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
	const char *role = peer_role(c), *who = peer_desc(c);
	char info[512];

	if (flags & MBEDTLS_X509_BADCERT_MISSING)
		conn_msg(c, "%s certificate required: the %s sent none; give it a certificate and key signed by the CA in %s",
			 role, role, c->ctx->ca_desc);
	else if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
		conn_msg(c, "%s certificate \"%s\" (issuer \"%s\") is not signed by the configured CA %s%s",
			 role, who, c->peer_issuer, c->ctx->ca_desc,
			 c->ctx->https ? "; add its CA to [registry] ca_files" : "");
	else if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
		conn_msg(c, "%s certificate \"%s\" or its CA has expired; issue a new one",
			 role, who);
	else if (flags & MBEDTLS_X509_BADCERT_FUTURE)
		conn_msg(c, "%s certificate \"%s\" or its CA is not valid yet; check the clocks",
			 role, who);
	else if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
		conn_msg(c, "server certificate \"%s\" is not valid for the name \"%s\" (matched against its DNS and IP address subjectAltNames, and its CN); connect using a name it lists",
			 who, c->host[0] ? c->host : c->ctx->verify_name ? c->ctx->verify_name : "");
	else if (flags & (MBEDTLS_X509_BADCERT_KEY_USAGE |
			  MBEDTLS_X509_BADCERT_EXT_KEY_USAGE |
			  MBEDTLS_X509_BADCERT_NS_CERT_TYPE))
		conn_msg(c, "%s certificate \"%s\" is not allowed for TLS %s authentication (keyUsage/extendedKeyUsage)",
			 role, who, role);
	else if (flags & (MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK |
			  MBEDTLS_X509_BADCERT_BAD_KEY))
		conn_msg(c, "%s certificate \"%s\" uses a signature algorithm or key that is not accepted (use ECDSA P-256 or RSA >= 2048 with SHA-256)",
			 role, who);
	else {
		if (mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags) < 0)
			info[0] = '\0';
		info[strcspn(info, "\n")] = '\0';
		conn_msg(c, "%s certificate \"%s\" failed verification: %s",
			 role, who, info[0] ? info : "unknown reason");
	}
	return -EACCES;
}

/* The handshake failed with mbedtls error ret: fill c->err, return -errno. */
static int explain_handshake(struct tls_conn *c, int ret)
{
	const char *role = peer_role(c);
	char text[160];
	int err = tls_errno(ret, -EPROTO, "handshake");

	switch (ret) {
	case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
		/* RFC 5246 7.4.6: answer a missing certificate with handshake_failure */
		mbedtls_ssl_send_alert_message(&c->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
					       MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
		conn_msg(c, "client certificate required: the client sent none; give it a certificate and key signed by the CA in %s",
			 c->ctx->ca_desc);
		return -EACCES;
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
	case MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE:
		if (mbedtls_ssl_get_verify_result(&c->ssl))
			return explain_verify(c);
		break;
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
		return explain_alert(c);
	case MBEDTLS_ERR_SSL_CONN_EOF:
	case MBEDTLS_ERR_NET_CONN_RESET:
	case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
		conn_msg(c, "the %s closed the connection during the TLS handshake%s",
			 role, c->ctx->is_server ? "" :
			 " (it may require a client certificate or not trust ours; see its log)");
		return c->io_errno ? -c->io_errno : -ECONNRESET;
	case MBEDTLS_ERR_NET_SEND_FAILED:
	case MBEDTLS_ERR_NET_RECV_FAILED:
		conn_msg(c, "TLS handshake with the %s failed: %s", role,
			 strerror(c->io_errno));
		return -c->io_errno;
	case MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN:
	case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE:
	case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION:
		conn_msg(c, "no common TLS version or cipher suite with the %s (bpfd speaks TLS 1.2 with ECDHE and AES-GCM or ChaCha20-Poly1305)",
			 role);
		return -EPROTO;
	case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO:
		/* the server refused the client's ALPN list with an alert */
		if (c->ssl.out_msgtype == MBEDTLS_SSL_MSG_ALERT && c->ssl.out_msg &&
		    c->ssl.out_msg[1] == MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL) {
			conn_msg(c, "the client offered ALPN protocols but not \"h2\"; bpfd speaks gRPC over HTTP/2 only");
			return -EPROTO;
		}
		/* fall through */
	case MBEDTLS_ERR_SSL_INVALID_RECORD:
	case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO:
		if (c->ctx->https) {
			conn_msg(c, "the server does not speak TLS 1.2 (a plain-HTTP registry? then list it in [registry] insecure): %s",
				 tls_mbedtls_text(ret, text, sizeof(text)));
			return -EPROTO;
		}
		conn_msg(c, "the %s does not speak TLS 1.2 with ALPN \"h2\" (plain-text HTTP/2 on a TLS port?): %s",
			 role, tls_mbedtls_text(ret, text, sizeof(text)));
		return -EPROTO;
	default:
		break;
	}
	conn_msg(c, "TLS handshake with the %s failed: %s", role,
		 tls_mbedtls_text(ret, text, sizeof(text)));
	return err;
}

static void copy_printable(char *dst, size_t size, const unsigned char *src,
			   size_t len)
{
	size_t i;

	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[len] = '\0';
}

static void save_peer_cn(struct tls_conn *c)
{
	const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(&c->ssl);
	const mbedtls_x509_sequence *san;
	const mbedtls_x509_name *n;

	/* the DNS names, for [[policy]] client_cn; other SAN types are not names */
	for (san = crt ? &crt->subject_alt_names : NULL; san && c->n_peer_sans < TLS_PEER_SANS;
	     san = san->next)
		if (san->buf.p && san->buf.len &&
		    san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME))
			copy_printable(c->peer_sans[c->n_peer_sans++], sizeof(c->peer_sans[0]),
				       san->buf.p, san->buf.len);

	for (n = crt ? &crt->subject : NULL; n; n = n->next) {
		if (!MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid)) {
			copy_printable(c->peer_cn, sizeof(c->peer_cn),
				       n->val.p, n->val.len);
			return;
		}
	}
}

static int want(struct tls_conn *c, int ret)
{
	c->wants = ret == MBEDTLS_ERR_SSL_WANT_WRITE ? POLLOUT : POLLIN;
	return -EAGAIN;
}

static bool is_want(int ret)
{
	return ret == MBEDTLS_ERR_SSL_WANT_READ ||
	       ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

int tls_conn_handshake(struct tls_conn *c)
{
	const char *alpn;
	int ret;

	if (c->fatal)
		return c->fatal;
	if (c->hs_done)
		return 0;
	ret = mbedtls_ssl_handshake(&c->ssl);
	if (is_want(ret))
		return want(c, ret);
	if (ret) {
		c->fatal = explain_handshake(c, ret);
		return c->fatal;
	}
	alpn = mbedtls_ssl_get_alpn_protocol(&c->ssl);
	if (!c->ctx->is_server && !c->ctx->https && (!alpn || strcmp(alpn, "h2") != 0)) {
		mbedtls_ssl_send_alert_message(&c->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
					       MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL);
		conn_msg(c, "the server did not agree to HTTP/2 (ALPN \"h2\"); is it a bpfd gRPC endpoint?");
		c->fatal = -EPROTO;
		return c->fatal;
	}
	save_peer_cn(c);
	c->hs_done = true;
	c->wants = 0;
	log_debug("tls: handshake done: %s %s, ALPN %s, peer CN %s",
		  mbedtls_ssl_get_version(&c->ssl),
		  mbedtls_ssl_get_ciphersuite(&c->ssl), alpn ? alpn : "(none)",
		  c->peer_cn[0] ? c->peer_cn : "(none)");
	return 0;
}

/* mbedtls only says WANT_WRITE while a record is partly unsent (out_left),
 * so POLLOUT is exactly "output queued"; it never lingers after a flush. */
int tls_conn_wants(const struct tls_conn *c)
{
	int ev = c->wants & POLLIN;

	if (c->ssl.out_left)
		ev |= POLLOUT;
	return ev ? ev : POLLIN;
}

/* A read or write after the handshake failed with ret. */
static int io_fail(struct tls_conn *c, int ret, const char *op)
{
	char text[160];
	int err;

	if (is_want(ret))
		return want(c, ret);
	err = tls_errno(ret, -EPROTO, op);
	if (ret == MBEDTLS_ERR_NET_SEND_FAILED ||
	    ret == MBEDTLS_ERR_NET_RECV_FAILED ||
	    (ret == MBEDTLS_ERR_NET_CONN_RESET && c->io_errno))
		err = -c->io_errno;
	if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE)
		conn_msg(c, "the %s aborted the TLS session (alert %s)",
			 peer_role(c), alert_name(c->ssl.in_msg[1]));
	else
		conn_msg(c, "TLS %s failed: %s", op,
			 err == -EPROTO ? tls_mbedtls_text(ret, text, sizeof(text))
					: strerror(-err));
	c->fatal = err;
	return err;
}

ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t len)
{
	int ret;

	if (c->fatal)
		return c->fatal;
	if (!c->hs_done)
		return -ENOTCONN;
	if (c->eof)
		return 0;
	if (!len)
		return -EINVAL;
	if (len > INT_MAX)
		len = INT_MAX;
	ret = mbedtls_ssl_read(&c->ssl, buf, len);
	if (ret > 0)
		return ret;
	if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
	    ret == MBEDTLS_ERR_SSL_CONN_EOF) {
		log_debug("tls: %s closed the session%s", peer_role(c),
			  ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ? " (close_notify)" : "");
		c->eof = true;
		return 0;
	}
	return io_fail(c, ret, "read");
}

int tls_conn_flush(struct tls_conn *c)
{
	int ret;

	if (c->fatal)
		return c->fatal;
	if (!c->ssl.out_left)
		return 0;
	ret = mbedtls_ssl_flush_output(&c->ssl);
	if (ret)
		return io_fail(c, ret, "write");
	return 0;
}

ssize_t tls_conn_write(struct tls_conn *c, const void *buf, size_t len)
{
	int max, ret, err;

	if (c->fatal)
		return c->fatal;
	if (!c->hs_done)
		return -ENOTCONN;
	if (c->close_queued)
		return -EPIPE;
	if (!len)
		return -EINVAL;
	err = tls_conn_flush(c);
	if (err)
		return err;
	max = mbedtls_ssl_get_max_out_record_payload(&c->ssl);
	if (max <= 0)
		return io_fail(c, max, "write");
	if (len > (size_t)max)
		len = max;
	ret = mbedtls_ssl_write(&c->ssl, buf, len);
	if (ret > 0)
		return ret;
	/* mbedtls encrypted the record but could not send all of it: it is
	 * ours now, and tls_conn_flush() (or the next write) sends the rest. */
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE && c->ssl.out_left) {
		c->wants = POLLOUT;
		return len;
	}
	return io_fail(c, ret, "write");
}

size_t tls_conn_pending(const struct tls_conn *c)
{
	return mbedtls_ssl_get_bytes_avail(&c->ssl);
}

const char *tls_conn_alpn(const struct tls_conn *c)
{
	return c->hs_done ? mbedtls_ssl_get_alpn_protocol(&c->ssl) : NULL;
}

const char *tls_conn_peer_cn(const struct tls_conn *c)
{
	return c->hs_done && c->peer_cn[0] ? c->peer_cn : NULL;
}

const char *tls_conn_peer_san(const struct tls_conn *c, size_t i)
{
	return c->hs_done && i < c->n_peer_sans ? c->peer_sans[i] : NULL;
}

const char *tls_conn_errstr(const struct tls_conn *c)
{
	return c->err;
}

int tls_conn_close_notify(struct tls_conn *c)
{
	int ret, err;

	if (c->fatal)
		return c->fatal;
	if (!c->hs_done)
		return 0;
	/* mbedtls_ssl_close_notify() only flushes if output is queued, so
	 * queue the alert ourselves once the way is clear. */
	err = tls_conn_flush(c);
	if (err || c->close_queued)
		return err;
	ret = mbedtls_ssl_close_notify(&c->ssl);
	if (ret && !(ret == MBEDTLS_ERR_SSL_WANT_WRITE && c->ssl.out_left))
		return io_fail(c, ret, "close_notify");
	c->close_queued = true;
	if (c->ssl.out_left)
		return want(c, MBEDTLS_ERR_SSL_WANT_WRITE);
	return 0;
}
