/* SPDX-License-Identifier: Apache-2.0 */
/* tls.h - mutual TLS 1.2 with ALPN h2 over non-blocking fds (mbedtls 2.28);
 * the certificates under certs_dir are made by certgen.h */
#ifndef BPFD_CORE_TLS_H
#define BPFD_CORE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct errmsg;

/* Configuration shared by many connections: role, CA chain, own certificate and
 * key, RNG.  Immutable once created; must outlive every tls_conn made from it.
 * Use it from one thread (the event loop). */
struct tls_ctx;
/* One TLS session over a caller-owned non-blocking socket. */
struct tls_conn;

/*
 * Certificates and keys below ("ca", "cert", "key") are each either a path to a
 * PEM (or DER) file or, when the string starts with "-----BEGIN", the PEM text
 * itself.  "cert" may hold a chain (leaf first).  Keys must be unencrypted.
 */

/* Create a server context: TLS 1.2 only, ECDHE + AEAD cipher suites, ALPN "h2"
 * only, client certificate REQUIRED and verified against "ca" (chain, validity,
 * extendedKeyUsage clientAuth if present).  A client that offers no ALPN at all
 * is accepted (tls_conn_alpn() is then NULL); one that offers only other
 * protocols is refused.  On success *ret_ctx is owned by the caller
 * (tls_ctx_free()).  Errors: -ENOENT/-EACCES/... reading a file, -EINVAL for a
 * file that does not parse or a key that does not match the certificate,
 * -ENOMEM; em (may be NULL) then names the file and the problem. */
int tls_server_new(const char *ca, const char *cert, const char *key,
		   struct errmsg *em, struct tls_ctx **ret_ctx);

/* Create a client context: TLS 1.2, ALPN "h2" (the handshake fails unless the
 * server selects it), the server certificate must chain to "ca" and carry
 * verify_name as a DNS subjectAltName (or CN).  mbedtls 2.28 does not match IP
 * address SANs: to reach 127.0.0.1 verify "localhost" or "127.0.0.1" (the
 * certificates of certgen_ensure() carry both as DNS names).  cert and key
 * are both NULL for a client without a certificate.  Ownership and errors as
 * tls_server_new(); -EINVAL also for a NULL verify_name or only one of
 * cert/key. */
int tls_client_new(const char *ca, const char *cert, const char *key,
		   const char *verify_name, struct errmsg *em,
		   struct tls_ctx **ret_ctx);

/* Create an HTTPS client context (registries, http1.c): TLS 1.2, ALPN
 * "http/1.1" offered but not required, no client certificate.  The server
 * must chain to a certificate of the system bundle
 * (/etc/ssl/certs/ca-certificates.crt, when system_ca) or of one of
 * ca_files (paths or inline PEM).  The name to verify is given per
 * connection with tls_conn_set_hostname(); an IP address literal matches an
 * iPAddress subjectAltName.  Ownership and errors as tls_server_new(). */
int tls_https_client_new(const char *const *ca_files, size_t n_ca_files, bool system_ca,
			 struct errmsg *em, struct tls_ctx **ret_ctx);

/* Give an HTTPS client context (tls_https_client_new()) a client certificate and
 * its key (paths or inline PEM) for servers that ask for one.  0, or -errno with
 * em naming the file that does not load or the key that does not match. */
int tls_https_client_cert(struct tls_ctx *ctx, const char *cert, const char *key,
			  struct errmsg *em);

/* Free a context (NULL is fine).  All its connections must be freed first. */
void tls_ctx_free(struct tls_ctx *ctx);

/* Start a session on the connected socket fd, which the caller keeps owning
 * (tls_conn_free() does not close it) and should have made O_NONBLOCK.  No I/O
 * happens here.  Writes use MSG_NOSIGNAL, so a closed peer gives -EPIPE or
 * -ECONNRESET, never SIGPIPE.  *ret_conn is owned by the caller
 * (tls_conn_free()).  Errors: -ENOMEM, -EINVAL. */
int tls_conn_new(struct tls_ctx *ctx, int fd, struct tls_conn **ret_conn);

/* The server name this client connection verifies and sends as SNI (a
 * context from tls_https_client_new() has none of its own).  Call before
 * the handshake.  0, -EINVAL (NULL or longer than 255 bytes) or -ENOMEM. */
int tls_conn_set_hostname(struct tls_conn *conn, const char *name);

/* Drive the handshake.  Returns 0 once it is complete (further calls return 0
 * again), -EAGAIN when it needs the socket to become ready for
 * tls_conn_wants(), or a fatal error; the connection is then unusable and
 * tls_conn_errstr() holds a sentence for the log:
 *   -EACCES	 peer certificate missing, not signed by the configured CA,
 *		 expired, wrong name or usage; or the peer rejected ours
 *   -EPROTO	 protocol failure (no common version/cipher/ALPN, bad record)
 *   -ECONNRESET peer closed or reset the connection mid-handshake
 *   -ENOMEM, or the errno of a failed send/recv.
 * The caller enforces a deadline: a peer that stops talking is never
 * detected here. */
int tls_conn_handshake(struct tls_conn *conn);

/* The poll() events the next call needs: POLLOUT exactly while encrypted
 * output is queued (see tls_conn_flush()), POLLIN if the last -EAGAIN came
 * from waiting for input, and POLLIN when nothing is pending at all.  Never 0. */
int tls_conn_wants(const struct tls_conn *conn);

/* Read decrypted application data.  Returns the byte count (> 0), 0 at end of
 * stream (close_notify, or the peer closed the socket without one), -EAGAIN
 * (see tls_conn_wants()), -ENOTCONN before the handshake completed, or a fatal
 * error (-ECONNRESET, -EPROTO for a corrupt or forged record, -ENOMEM, ...).
 * mbedtls decrypts a whole record at a time and returns only part of it if
 * buf is short: the rest is buffered (tls_conn_pending()) and poll() will not
 * report it, so read until -EAGAIN (or check tls_conn_pending()) before
 * polling again. */
ssize_t tls_conn_read(struct tls_conn *conn, void *buf, size_t len);

/* Encrypt and send up to len bytes (at most one record, 16 KiB).  Returns the
 * number of bytes taken (> 0): they are owned by the connection from then on,
 * even if part of the record is still queued because the socket is full (then
 * tls_conn_wants() includes POLLOUT; call tls_conn_flush() or write again when
 * writable).  Returns -EAGAIN when nothing was taken because earlier output
 * is still queued, -ENOTCONN before the handshake, -EINVAL for len == 0, or a
 * fatal error (-EPIPE, -ECONNRESET, ...).  Unlike mbedtls_ssl_write(), the
 * caller need not repeat the same buffer after -EAGAIN. */
ssize_t tls_conn_write(struct tls_conn *conn, const void *buf, size_t len);

/* Send output queued by an earlier tls_conn_write() or tls_conn_close_notify().
 * Returns 0 when nothing is left, -EAGAIN (wait for POLLOUT) or a fatal error. */
int tls_conn_flush(struct tls_conn *conn);

/* Number of decrypted bytes buffered and returned by the next tls_conn_read()
 * without any socket I/O. */
size_t tls_conn_pending(const struct tls_conn *conn);

/* The protocol agreed by ALPN ("h2"), or NULL if none (or before the
 * handshake completed).  Owned by the context; valid as long as it lives. */
const char *tls_conn_alpn(const struct tls_conn *conn);

/* Subject CN of the verified peer certificate, for logs, or NULL if the
 * handshake has not completed or the certificate has no CN.  Non-printable
 * characters are replaced by '?'.  Owned by conn. */
const char *tls_conn_peer_cn(const struct tls_conn *conn);
/* The i-th DNS subjectAltName of the verified peer certificate (at most
 * TLS_PEER_SANS are kept), or NULL past the last.  Owned by conn. */
#define TLS_PEER_SANS	8
const char *tls_conn_peer_san(const struct tls_conn *conn, size_t i);

/* Queue a close_notify alert and send it.  Returns 0 once it is sent, -EAGAIN
 * if it (or earlier output) is still queued (call again, or tls_conn_flush(),
 * when writable), or a fatal error.  Does nothing before the handshake
 * completed.  Does not shut down or close the socket. */
int tls_conn_close_notify(struct tls_conn *conn);

/* Free the session (NULL is fine).  Does not send close_notify and does not
 * close the fd. */
void tls_conn_free(struct tls_conn *conn);

/* A sentence describing the last fatal error of this connection, naming the
 * cause and, where it helps, the fix ("" if there was none).  Owned by conn;
 * valid until the next call on it. */
const char *tls_conn_errstr(const struct tls_conn *conn);

/* Format err (a -errno returned by a tls_ function) into buf, followed by the
 * text and code of the last mbedtls error seen by this thread, if any, e.g.
 * "Permission denied (mbedtls -0x2700: X509 - Certificate verification
 * failed)".  Returns buf. */
const char *tls_strerror(int err, char *buf, size_t len);

#endif
