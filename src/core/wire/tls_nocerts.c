/* SPDX-License-Identifier: Apache-2.0 */
/* tls_nocerts.c - keep mbedtls's test certificates out of the static binary
 *
 * Debian's libmbedx509.a is built without -ffunction-sections, so x509.c.o comes with
 * mbedtls_x509_self_test(), which names four of the test certificates of certs.c.o; that
 * reference alone pulled certs.c.o (54 KB of test keys and certificates) into bpfd.
 * Nothing here runs the self-test.  Defining the four symbols it names satisfies the
 * reference, so the linker leaves certs.c.o in the archive; a self-test run anyway
 * would fail to parse the empty certificates, not crash.  The declarations come from
 * mbedtls's own header: if a new mbedtls changes them, this fails to compile, and if
 * something starts to need certs.c.o, the link fails on the duplicate symbols. */
#include <stddef.h>

#include <mbedtls/certs.h>

const char *mbedtls_test_ca_crt = "";
const size_t mbedtls_test_ca_crt_len = 0;
const char *mbedtls_test_cli_crt = "";
const size_t mbedtls_test_cli_crt_len = 0;
