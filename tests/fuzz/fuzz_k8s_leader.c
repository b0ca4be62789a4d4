/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_k8s_leader.c - libFuzzer target for what the elected bpfd-agent reads from the
 * API server: a Lease record (core/k8s/lease.c) and the *Program, BpfPrograms and Nodes
 * its aggregate conditions come from (core/k8s/progstatus.c)
 *
 * The input is JSON {"lease": {...}, "status": N, "program": {...}, "bpfprograms":
 * [...], "nodes": [...]} (any part may be missing or of another type; an input that is
 * no JSON object is used as the BpfPrograms array and as the Lease body text).  The
 * scripted server answers every Lease request with status N (default 200) and the
 * lease.  Besides ASan/UBSan/leak findings it aborts when a contract breaks: a round
 * gives 1 or 0 as l->held says, or a documented -errno with a printable message; a
 * condition is one of the four types with a terminated message; applied, the
 * condition is the program's only one and applying it again changes nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "fuzz.h"
#include "core/base/errmsg.h"
#include "core/k8s/client.h"
#include "core/k8s/lease.h"
#include "core/k8s/progstatus.h"

struct server {
	struct k8s_transport t;
	const char *body;
	size_t len;
	int status;
};

static int answer(struct k8s_transport *t, const struct k8s_req *req, struct k8s_resp *resp,
		  struct errmsg *em)
{
	struct server *s = (struct server *)t;

	(void)em;
	(void)req;
	memset(resp, 0, sizeof(*resp));
	resp->status = s->status;
	resp->body = malloc(s->len + 1);
	if (!resp->body)
		return -ENOMEM;
	memcpy(resp->body, s->body, s->len);
	resp->body[s->len] = '\0';
	resp->body_len = s->len;
	return 0;
}

static void check_msg(int err, const struct errmsg *em)
{
	fuzz_check_msg(err, em->msg);
}

static void lease(const char *body, size_t len, int status)
{
	struct server s = { .t.request = answer, .body = body, .len = len, .status = status };
	long long now[] = { 0, 5000, 100000 };
	struct errmsg em;
	struct k8s_lease l;
	size_t i;
	int r;

	memset(&em, 0, sizeof(em));
	CHECK(!k8s_lease_init(&l, &s.t, "bpfd", "bpfd-agent-leader", "node1", 15, &em));
	for (i = 0; i < sizeof(now) / sizeof(now[0]); i++) {
		memset(&em, 0, sizeof(em));
		r = k8s_lease_try(&l, now[i], &em);
		CHECK(r == 0 || r == 1 || r < 0);
		if (r >= 0)
			CHECK(r == (int)l.held);
		check_msg(r < 0 ? r : 0, &em);
		TERMINATED(l.holder);
		TERMINATED(l.seen_rv);
		/* 0 until a record was read */
		CHECK(l.seen_duration_s <= 3600);
	}
	memset(&em, 0, sizeof(em));
	r = k8s_lease_release(&l, &em);
	check_msg(r, &em);
	CHECK(!l.held);
}

static void check_status(const struct progstatus *st)
{
	static const char *const types[] = { "ReconcileSuccess", "ReconcileError",
					     "NotYetLoaded", "DeleteError" };
	size_t i;
	bool known = false;

	for (i = 0; i < 4; i++)
		known |= st->type && !strcmp(st->type, types[i]);
	CHECK(known && st->reason && *st->reason);
	TERMINATED(st->message);
}

static void status(cJSON *program, const cJSON *bps, const cJSON *nodes)
{
	const struct bpfprog_kind *k = bpfprog_kind_find("TracepointProgram");
	struct progstatus st;
	int n, r;

	n = progstatus_judge_deletion(k, program, bps, &st);
	CHECK(n >= 0 && n <= cJSON_GetArraySize(bps));
	check_status(&st);
	progstatus_judge(program, bps, nodes, &st);
	check_status(&st);
	if (!cJSON_IsObject(program))
		return;
	r = progstatus_apply(program, &st);
	CHECK(r == 0 || r == 1 || r == -ENOMEM);
	if (r >= 0) {
		CHECK(progstatus_same(program, &st));
		CHECK(progstatus_apply(program, &st) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *root = cJSON_ParseWithLength((const char *)data, size), *prog, *st;
	char *text = NULL;

	if (!cJSON_IsObject(root)) {
		lease((const char *)data, size, 200);
		prog = cJSON_Parse("{\"metadata\":{\"name\":\"p\",\"uid\":\"u\"}}");
		status(prog, root, NULL);
		cJSON_Delete(prog);
		cJSON_Delete(root);
		return 0;
	}
	st = cJSON_GetObjectItemCaseSensitive(root, "status");
	text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(root, "lease"));
	lease(text ? text : "", text ? strlen(text) : 0,
	      cJSON_IsNumber(st) && st->valuedouble >= 100 && st->valuedouble < 600 ?
	      (int)st->valuedouble : 200);
	cJSON_free(text);
	prog = cJSON_GetObjectItemCaseSensitive(root, "program");
	status(prog, cJSON_GetObjectItemCaseSensitive(root, "bpfprograms"),
	       cJSON_GetObjectItemCaseSensitive(root, "nodes"));
	cJSON_Delete(root);
	return 0;
}
