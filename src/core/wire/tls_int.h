/* SPDX-License-Identifier: Apache-2.0 */
/* tls_int.h - tls.c's mbedtls helpers shared with certgen.c (not for use
 * outside src/core/wire/tls.c and certgen.c) */
#ifndef BPFD_CORE_TLS_INT_H
#define BPFD_CORE_TLS_INT_H

#include <stddef.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

struct errmsg;

struct tls_rng {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

/* mbedtls_strerror() into buf; returns buf. */
const char *tls_mbedtls_text(int ret, char *buf, size_t len);

/* Translate an mbedtls error ret (< 0) into -errno (dflt unless a better one
 * fits), remember it for tls_strerror() and log the original code at debug
 * level, naming the call in what.  ret >= 0 is returned as it is. */
int tls_errno(int ret, int dflt, const char *what);

void tls_rng_init(struct tls_rng *rng);
void tls_rng_free(struct tls_rng *rng);
/* Seed the CTR-DRBG from mbedtls_entropy (getrandom()).  0 or -errno + em. */
int tls_rng_seed(struct tls_rng *rng, struct errmsg *em);

/* Parse the certificate (chain) src into crt: a path or inline PEM (tls.h);
 * what names it in messages ("CA certificate").  Warns about an expired one.
 * 0 or -errno with em naming src and the problem. */
int tls_load_crt(const char *src, const char *what, mbedtls_x509_crt *crt,
		 struct errmsg *em);
/* Parse the unencrypted private key src into key.  0 or -errno + em. */
int tls_load_key(const char *src, mbedtls_pk_context *key, struct errmsg *em);

#endif
