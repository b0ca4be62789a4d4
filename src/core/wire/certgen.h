/* SPDX-License-Identifier: Apache-2.0 */
/* certgen.h - a private CA with server and client certificates (mbedtls 2.28),
 * made under the daemon's certs_dir when [tls] names no files */
#ifndef BPFD_CORE_CERTGEN_H
#define BPFD_CORE_CERTGEN_H

struct errmsg;

/* Default directory of certgen_ensure() and the file names under it
 * (config.c keeps its own copy of the names: config may not include wire). */
#define CERTGEN_DIR		"/etc/bpfd/certs"
#define CERTGEN_CA_PEM		"ca/ca.pem"
#define CERTGEN_CA_KEY		"ca/ca.key"
#define CERTGEN_SERVER_PEM	"bpfd/bpfd.pem"
#define CERTGEN_SERVER_KEY	"bpfd/bpfd.key"
#define CERTGEN_CLIENT_PEM	"bpfd-client/bpfd-client.pem"
#define CERTGEN_CLIENT_KEY	"bpfd-client/bpfd-client.key"

/*
 * Make sure a CA, a server and a client certificate exist under dir (NULL
 * means CERTGEN_DIR): DIR/ca/ca.{pem,key}, DIR/bpfd/bpfd.{pem,key},
 * DIR/bpfd-client/bpfd-client.{pem,key}.  Missing pieces are created:
 * ECDSA P-256 keys, ecdsa-with-SHA256 signatures, random 128-bit serials;
 *   CA      CN=bpfd-ca, basicConstraints CA:TRUE (critical), keyUsage
 *	     keyCertSign+cRLSign, 10 years;
 *   server  CN=bpfd, SAN DNS:localhost, DNS:127.0.0.1, IP:127.0.0.1,
 *	     DNS:<hostname>, extendedKeyUsage serverAuth, 825 days;
 *   client  CN=bpfd-client, extendedKeyUsage clientAuth, 825 days
 * (leaves: keyUsage digitalSignature, never beyond the CA's notAfter).
 * hostname NULL means gethostname(); a name that is not a valid DNS name is
 * left out.  Existing files are never modified or replaced:
 *   - a certificate that exists is kept as it is, even without its key (keys
 *     may be kept elsewhere);
 *   - a key without its certificate gets a new certificate for that key;
 *   - leaves are issued by the existing CA when there is one; its key must
 *     then be present.  No new CA is made while a leaf certificate exists,
 *     since that leaf could not chain to it.
 * Directories are created 0700 (parents of dir 0755), keys 0600 and
 * certificates 0644, each written to a temporary file, fsync'ed and linked
 * into place only if the name is still free.  Returns 0 (also when nothing
 * was missing) or -errno with em naming the path and what to do. */
int certgen_ensure(const char *dir, const char *hostname, struct errmsg *em);

#endif
