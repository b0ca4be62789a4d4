/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_config.c - libFuzzer target for the bpfd.toml parser (config_parse)
 *
 * Besides ASan/UBSan/leak findings it aborts when the parser breaks its
 * contract: the same input must give the same result twice; success leaves no
 * message and a configuration whose strings end within their fields; failure
 * is -EINVAL (or -ENOMEM) with a one-line "line L, column C: ..." message and
 * the configuration untouched.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config/config.h"
#include "fuzz.h"

static void check_ok(const struct bpfd_config *c)
{
	size_t i;

	TERMINATED(c->rundir);
	TERMINATED(c->bpffs);
	TERMINATED(c->socket_path);
	TERMINATED(c->tcp_addr);
	TERMINATED(c->certs_dir);
	TERMINATED(c->tls_ca);
	TERMINATED(c->tls_cert);
	TERMINATED(c->tls_key);
	TERMINATED(c->image_dir);
	CHECK(c->rundir[0] == '/');
	CHECK(c->socket_path[0] == '/');
	CHECK(strlen(c->socket_path) < 108);
	CHECK(c->certs_dir[0] == '/');
	CHECK(c->tcp_port >= 1);
	CHECK(c->max_msg >= 65536 && c->max_msg <= (1u << 30));
	CHECK(c->n_ifaces <= BPFD_MAX_IFACES);
	for (i = 0; i < c->n_ifaces; i++) {
		TERMINATED(c->ifaces[i].name);
		CHECK(c->ifaces[i].name[0]);
		CHECK(c->ifaces[i].xdp_mode >= XDP_MODE_SKB && c->ifaces[i].xdp_mode <= XDP_MODE_HW);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfd_config *a, *b, *def;
	struct errmsg *ea, *eb;
	int ra, rb;

	a = malloc(sizeof(*a));
	b = malloc(sizeof(*b));
	def = malloc(sizeof(*def));
	ea = calloc(1, sizeof(*ea));
	eb = calloc(1, sizeof(*eb));
	CHECK(a && b && def && ea && eb);
	config_defaults(a);
	config_defaults(b);
	config_defaults(def);

	ra = config_parse(a, (const char *)data, size, ea);
	rb = config_parse(b, (const char *)data, size, eb);
	CHECK(ra == rb);
	CHECK(!strcmp(ea->msg, eb->msg));
	CHECK(!memcmp(a, b, sizeof(*a)));
	if (ra == 0) {
		CHECK(ea->msg[0] == '\0');
		check_ok(a);
	} else {
		CHECK(ra == -EINVAL || ra == -ENOMEM);
		CHECK(!strncmp(ea->msg, "line ", 5) || ra == -ENOMEM);
		CHECK(!strchr(ea->msg, '\n'));
		CHECK(!memcmp(a, def, sizeof(*a)));
	}
	free(a);
	free(b);
	free(def);
	free(ea);
	free(eb);
	return 0;
}
