/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_chain.c - libFuzzer target: dispatcher configs read back from the kernel (any
 * CAP_BPF process can attach a look-alike), proceed-on lists from the wire, run order.
 * The first byte picks what the rest is fed to. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/chain.h"

static void conf(const uint8_t *d, size_t n, int tc)
{
	struct chain_entry e[CHAIN_MAX_PROGS];
	struct chain_xdp_conf xc;
	struct chain_tc_conf tcc;
	size_t cnt = 99;
	int v, err;

	err = tc ? chain_tc_conf_parse(d, n, e, &cnt) : chain_xdp_conf_parse(d, n, e, &cnt, &v);
	if (err)
		return;
	if (cnt > CHAIN_MAX_PROGS)
		abort();
	/* what parses must write back byte for byte in the fields bpfd owns */
	if (tc) {
		if (chain_tc_conf_fill(&tcc, e, cnt) || tcc.num_progs_enabled != d[0])
			abort();
	} else if (chain_xdp_conf_fill(&xc, e, cnt) || xc.num_progs_enabled != d[2] ||
		   memcmp(xc.chain_call_actions, d + 4, 4 * cnt)) {
		abort();
	}
}

static void proceed_on(const uint8_t *d, size_t n, enum chain_kind k)
{
	int32_t codes[64], back[64];
	uint32_t mask, mask2;
	size_t cnt = n / 4 > 64 ? 64 : n / 4, m;

	memcpy(codes, d, cnt * 4);
	if (chain_proceed_on_encode(k, codes, cnt, &mask, NULL))
		return;
	m = chain_proceed_on_decode(k, mask, back, 64);
	if (m > 32 || chain_proceed_on_encode(k, back, m, &mask2, NULL))
		abort();
	if (m && mask2 != mask)
		abort();
}

static void order(const uint8_t *d, size_t n)
{
	struct chain_entry e[16] = { 0 }, add = { 0 };
	size_t cnt = n / 8 > 16 ? 16 : n / 8, i, pos;

	for (i = 0; i < cnt; i++) {
		memcpy(&e[i].priority, d + 8 * i, 4);
		e[i].prog_id = d[8 * i + 4] % 4;	/* ties on purpose */
		e[i].name[0] = 'a' + d[8 * i + 5] % 3;
	}
	chain_sort(e, cnt);
	for (i = 1; i < cnt; i++)
		if (chain_entry_cmp(&e[i - 1], &e[i]) > 0)
			abort();
	if (!cnt)
		return;
	add = e[d[0] % cnt];
	pos = chain_insert_pos(e, cnt, &add);
	if (pos > cnt || (pos < cnt && chain_entry_cmp(&add, &e[pos]) >= 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	switch (data[0] % 5) {
	case 0:
		conf(data + 1, size - 1, 0);
		break;
	case 1:
		conf(data + 1, size - 1, 1);
		break;
	case 2:
		proceed_on(data + 1, size - 1, CHAIN_XDP);
		break;
	case 3:
		proceed_on(data + 1, size - 1, CHAIN_TC);
		break;
	default:
		order(data + 1, size - 1);
		break;
	}
	return 0;
}
