/* SPDX-License-Identifier: Apache-2.0 */
/* base64.c - RFC 4648 base64 decode and encode */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/base/base64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *text, size_t len, unsigned char **ret, size_t *ret_len)
{
	unsigned char *out;
	uint32_t acc = 0;
	size_t i, n = 0, bits = 0, pad = 0, sym = 0;
	int v;

	out = malloc(len / 4 * 3 + 4);
	if (!out)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		if (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')
			continue;
		if (text[i] == '=') {
			pad++;
			continue;
		}
		v = value(text[i]);
		if (v < 0 || pad)	/* a symbol after padding is wrong too */
			goto bad;
		sym++;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* one leftover symbol carries no full byte; padding must complete a quantum */
	if (sym % 4 == 1 || pad > 2 || (pad && (sym + pad) % 4))
		goto bad;
	out[n] = '\0';
	*ret = out;
	*ret_len = n;
	return 0;
bad:
	free(out);
	return -EINVAL;
}

char *base64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out, *o;
	uint32_t v;
	size_t i;

	out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	o = out;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		*o++ = alphabet[v & 63];
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}
