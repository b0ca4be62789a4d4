/* SPDX-License-Identifier: Apache-2.0 */
/* addr.h - numeric socket addresses for the TCP endpoints (no name lookups:
 * the binary is static and does no NSS) */
#ifndef BPFD_CORE_ADDR_H
#define BPFD_CORE_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Split "HOST:PORT" or "[HOST]:PORT" into host (without the brackets; at most
 * size - 1 bytes) and *ret_port.  Without brackets the last ':' separates the
 * port, so "::1:50051" is host "::1".  PORT is decimal, 1-65535.  host is not
 * checked further (addr_parse() does that).  Returns 0, or -EINVAL with host
 * and *ret_port left alone. */
int addr_split(const char *s, char *host, size_t size, uint16_t *ret_port);

/* Fill *ss (zeroed first) and *ret_len with the IPv4 or IPv6 socket address
 * of the numeric host (no brackets: "127.0.0.1", "::1") and port.  Returns 0,
 * or -EINVAL when host is neither a numeric IPv4 nor IPv6 address; the caller
 * words the message, since only it knows where host came from. */
int addr_parse(const char *host, uint16_t port, struct sockaddr_storage *ss,
	       socklen_t *ret_len);

#endif
