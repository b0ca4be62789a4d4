/* SPDX-License-Identifier: Apache-2.0 */
/* tls.c - mbedtls 2.28: mutual TLS 1.2 with ALPN h2, and a private CA for bpfd */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
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

#if MBEDTLS_VERSION_MAJOR != 2
#error "tls.c is written against the mbedtls 2.28 API"
#endif

#define TLS_MAX_FILE	(1 << 20)	/* certificate bundles are far smaller */
#define CA_DAYS		3650
#define LEAF_DAYS	825		/* the CA/Browser Forum limit of 2018 */

struct rng {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

struct tls_ctx {
	bool is_server;
	bool has_cert;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt cert;
	mbedtls_pk_context key;
	struct rng rng;
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
	char peer_subject[256];	/* leaf seen by the verify callback */
	char peer_issuer[256];
	char err[768];
};

/* ALPN: gRPC needs HTTP/2 and nothing else. */
static const char *tls_alpn[] = { "h2", NULL };

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

static const char *mbedtls_text(int ret, char *buf, size_t len)
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
 * keep the original code in a debug line.  Only this file sees mbedtls codes. */
static int tls_errno(int ret, int dflt, const char *what)
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
		  mbedtls_text(ret, buf, sizeof(buf)));
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
			 mbedtls_text(tls_last_mbedtls, text, sizeof(text)));
	else
		snprintf(buf, len, "%s", strerror(-err));
	return buf;
}

/* ---- RNG --------------------------------------------------------------- */

static void rng_init(struct rng *rng)
{
	mbedtls_entropy_init(&rng->entropy);
	mbedtls_ctr_drbg_init(&rng->drbg);
}

static void rng_free(struct rng *rng)
{
	mbedtls_ctr_drbg_free(&rng->drbg);
	mbedtls_entropy_free(&rng->entropy);
}

/* mbedtls_entropy uses getrandom() (or /dev/urandom) as its source. */
static int rng_seed(struct rng *rng, struct errmsg *em)
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

static int load_crt(const char *src, const char *what, mbedtls_x509_crt *crt,
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
				 what, src_name(src), mbedtls_text(ret, text, sizeof(text)));
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

static int load_key(const char *src, mbedtls_pk_context *key, struct errmsg *em)
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
				 src_name(src), mbedtls_text(ret, text, sizeof(text)));
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
	rng_free(&ctx->rng);
	free(ctx->verify_name);
	free(ctx);
}

static int ctx_load(struct tls_ctx *ctx, const char *ca, const char *cert,
		    const char *key, struct errmsg *em)
{
	int ret, err;

	err = load_crt(ca, "CA certificate", &ctx->ca, em);
	if (err)
		return err;
	snprintf(ctx->ca_desc, sizeof(ctx->ca_desc), "%s", src_name(ca));
	if (!cert)
		return 0;
	err = load_crt(cert, "certificate", &ctx->cert, em);
	if (err)
		return err;
	err = load_key(key, &ctx->key, em);
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

static int ctx_new(bool server, const char *ca, const char *cert,
		   const char *key, const char *verify_name, struct errmsg *em,
		   struct tls_ctx **ret_ctx)
{
	struct tls_ctx *ctx;
	int ret, err;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->is_server = server;
	mbedtls_ssl_config_init(&ctx->conf);
	mbedtls_x509_crt_init(&ctx->ca);
	mbedtls_x509_crt_init(&ctx->cert);
	mbedtls_pk_init(&ctx->key);
	rng_init(&ctx->rng);

	if (verify_name) {
		ctx->verify_name = strdup(verify_name);
		if (!ctx->verify_name) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = rng_seed(&ctx->rng, em);
	if (err)
		goto out;
	err = ctx_load(ctx, ca, cert, key, em);
	if (err)
		goto out;
	ret = mbedtls_ssl_config_defaults(&ctx->conf,
					  server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
					  MBEDTLS_SSL_TRANSPORT_STREAM,
					  MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret) {
		err = errmsg_set(em, tls_errno(ret, -EINVAL, "ssl_config_defaults"),
				 "cannot set up the TLS configuration");
		goto out;
	}
	mbedtls_ssl_conf_min_version(&ctx->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&ctx->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&ctx->conf, tls_suites);
	mbedtls_ssl_conf_rng(&ctx->conf, mbedtls_ctr_drbg_random, &ctx->rng.drbg);
	mbedtls_ssl_conf_authmode(&ctx->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&ctx->conf, &ctx->ca, NULL);
	ret = mbedtls_ssl_conf_alpn_protocols(&ctx->conf, tls_alpn);
	if (!ret && ctx->has_cert)
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

/* Remember the leaf's names for messages, whatever the verdict. */
static int verify_cb(void *arg, mbedtls_x509_crt *crt, int depth,
		     uint32_t *flags)
{
	struct tls_conn *c = arg;

	(void)flags;
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
	if (!ret && ctx->verify_name)
		ret = mbedtls_ssl_set_hostname(&c->ssl, ctx->verify_name);
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
		conn_msg(c, "%s certificate \"%s\" (issuer \"%s\") is not signed by the configured CA %s",
			 role, who, c->peer_issuer, c->ctx->ca_desc);
	else if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
		conn_msg(c, "%s certificate \"%s\" or its CA has expired; issue a new one",
			 role, who);
	else if (flags & MBEDTLS_X509_BADCERT_FUTURE)
		conn_msg(c, "%s certificate \"%s\" or its CA is not valid yet; check the clocks",
			 role, who);
	else if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
		conn_msg(c, "server certificate \"%s\" is not valid for the name \"%s\" (mbedtls 2.28 matches DNS names and the CN only, not IP address SANs); connect using a name it lists, e.g. \"localhost\"",
			 who, c->ctx->verify_name ? c->ctx->verify_name : "");
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
		conn_msg(c, "the %s does not speak TLS 1.2 with ALPN \"h2\" (plain-text HTTP/2 on a TLS port?): %s",
			 role, mbedtls_text(ret, text, sizeof(text)));
		return -EPROTO;
	default:
		break;
	}
	conn_msg(c, "TLS handshake with the %s failed: %s", role,
		 mbedtls_text(ret, text, sizeof(text)));
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
	const mbedtls_x509_name *n;

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
	if (!c->ctx->is_server && (!alpn || strcmp(alpn, "h2") != 0)) {
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
			 err == -EPROTO ? mbedtls_text(ret, text, sizeof(text))
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

/* ---- certificate generation ------------------------------------------ */

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

static int set_serial(mbedtls_x509write_cert *w, struct rng *rng)
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
static int cert_sign(struct rng *rng, const struct cert_spec *spec,
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

/* mkdir that accepts an existing directory. */
static int make_dir(const char *path, mode_t mode, struct errmsg *em)
{
	struct stat st;

	if (!mkdir(path, mode))
		return 0;
	if (errno == EEXIST && !stat(path, &st) && S_ISDIR(st.st_mode))
		return 0;
	if (errno == EEXIST)
		errno = ENOTDIR;
	return errmsg_set(em, -errno, "cannot create directory %s: %s", path,
			  strerror(errno));
}

/* mkdir -p: parents 0755, the directory itself 0700. */
static int make_dirs(const char *dir, struct errmsg *em)
{
	char path[PATH_MAX];
	char *s;
	int err;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return errmsg_set(em, -ENAMETOOLONG, "directory name too long: %s", dir);
	for (s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		err = make_dir(path, 0755, em);
		*s = '/';
		if (err)
			return err;
	}
	return make_dir(path, 0700, em);
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
static int key_get(struct rng *rng, const struct pair *pr, mbedtls_pk_context *key,
		   struct errmsg *em)
{
	int ret;

	if (pr->has_key)
		return load_key(pr->key, key, em);
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
static int pair_issue(struct rng *rng, struct pair *pr,
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
				 mbedtls_text(ret, text, sizeof(text)));
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
	err = load_crt(ca->pem, "CA certificate", crt, em);
	if (!err)
		err = load_key(ca->key, key, em);
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

int tls_certs_ensure(const char *dir, const char *hostname, struct errmsg *em)
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
	struct rng rng;
	int i, err;

	mbedtls_x509_crt_init(&ca_crt);
	mbedtls_pk_init(&ca_key);
	rng_init(&rng);
	if (!dir)
		dir = TLS_CERTS_DIR;
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
	err = pair_init(ca, dir, TLS_CA_PEM, TLS_CA_KEY, em);
	if (!err)
		err = pair_init(&leaf[0], dir, TLS_SERVER_PEM, TLS_SERVER_KEY, em);
	if (!err)
		err = pair_init(&leaf[1], dir, TLS_CLIENT_PEM, TLS_CLIENT_KEY, em);
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
	err = make_dirs(dir, em);
	if (err)
		goto out;
	err = rng_seed(&rng, em);
	if (err)
		goto out;
	if (!ca->has_pem) {
		snprintf(sub, sizeof(sub), "%s/ca", dir);
		err = make_dir(sub, 0700, em);
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
		err = make_dir(sub, 0700, em);
		if (!err)
			err = pair_issue(&rng, &leaf[i], &leaf_spec[i], &ca_crt,
					 &ca_key, em);
		if (err)
			goto out;
	}
out:
	mbedtls_x509_crt_free(&ca_crt);
	mbedtls_pk_free(&ca_key);
	rng_free(&rng);
	free(ca);
	return err;
}
