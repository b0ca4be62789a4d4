/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_record.c - libFuzzer target: a program record file from
 * <rundir>/programs/<id>, which the daemon reads at start-up: the header check
 * (store_check) and the decode of the record (store_decode).
 * Besides sanitizer findings it aborts when a file that passes the check is not
 * exactly what store_frame() makes of its payload, when a record that decodes does
 * not survive encode + decode unchanged, or a decoded string is not terminated. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/state/store.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bpfd_state_ProgramRecord a, b;
	const uint8_t *pb;
	const char *why;
	uint8_t *buf = NULL;
	size_t len = 0, plen;

	if (!store_check(data, size, &pb, &plen, &why)) {
		CHECK(pb == data + STORE_HDR_SIZE && plen == size - STORE_HDR_SIZE);
		CHECK(store_frame(pb, plen, &buf, &len) == 0);
		CHECK(len == size && !memcmp(buf, data, size));
		free(buf);
		buf = NULL;
	} else {
		CHECK(why != NULL);
	}
	if (store_decode(data, size, &a))
		return 0;
	CHECK(a.format == STORE_FORMAT && a.id && a.has_info);
	TERMINATED(a.kind);
	TERMINATED(a.tag);
	TERMINATED(a.prog_pin);
	TERMINATED(a.link_pin);
	TERMINATED(a.map_pin_dir);
	TERMINATED(a.target_path);
	TERMINATED(a.info.name);
	TERMINATED(a.info.map_pin_path);
	CHECK(a.info.global_data_count <= sizeof(a.info.global_data) / sizeof(a.info.global_data[0]));
	CHECK(a.info.metadata_count <= sizeof(a.info.metadata) / sizeof(a.info.metadata[0]));
	CHECK(store_encode(&a, &buf, &len) == 0);
	CHECK(store_decode(buf, len, &b) == 0);
	CHECK(!memcmp(&a, &b, sizeof(a)));
	free(buf);
	return 0;
}
