/* SPDX-License-Identifier: Apache-2.0 */
/* test_k8s_leader.c - what the elected agent does without a server: leader election
 * (core/k8s/lease.c) against a scripted API server (create, the race on create, expiry
 * measured on the candidate's clock, renewal, the 409 of a lost race, leading on while
 * the server is away only until 2/3 of the duration, release; answers as the real 1.20
 * server gives them: kubernetes.md), and the *Programs' aggregate conditions
 * (core/k8s/progstatus.c) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/base/errmsg.h"
#include "core/k8s/client.h"
#include "core/k8s/lease.h"
#include "core/k8s/progstatus.h"

#define LEASES "/apis/coordination.k8s.io/v1/namespaces/bpfd/leases"
#define LEASE LEASES "/bpfd-agent-leader"
#define OBJ(holder, rv) "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\"," \
	"\"metadata\":{\"name\":\"bpfd-agent-leader\",\"namespace\":\"bpfd\"," \
	"\"resourceVersion\":\"" rv "\"},\"spec\":{" holder "\"leaseDurationSeconds\":15," \
	"\"renewTime\":\"2026-12-07T02:30:00.000000Z\",\"leaseTransitions\":2}}"
#define HOLDER(h) "\"holderIdentity\":\"" h "\","
#define STATUS(code, reason) "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{}," \
	"\"status\":\"Failure\",\"message\":\"m\",\"reason\":\"" reason "\",\"code\":" #code "}"

struct answer {
	const char *method;
	const char *path;
	int err;		/* a transport error instead of an answer */
	int status;
	const char *body;
};

struct script {
	struct k8s_transport t;
	const struct answer *a;
	size_t n, next;
	char sent[8][1024];	/* request bodies */
};

static int scripted(struct k8s_transport *t, const struct k8s_req *req, struct k8s_resp *resp,
		    struct errmsg *em)
{
	struct script *s = (struct script *)t;
	const struct answer *a;

	memset(resp, 0, sizeof(*resp));
	if (s->next >= s->n)
		return errmsg_set(em, -ECONNREFUSED, "script exhausted at %s %s", req->method,
				  req->path);
	if (s->next < 8)
		snprintf(s->sent[s->next], sizeof(s->sent[0]), "%.*s", (int)req->body_len,
			 req->body ? req->body : "");
	a = &s->a[s->next++];
	if (strcmp(a->method, req->method) || strcmp(a->path, req->path)) {
		fprintf(stderr, "  unexpected %s %s (want %s %s)\n", req->method, req->path,
			a->method, a->path);
		return errmsg_set(em, -EPROTO, "unexpected request");
	}
	if (a->err)
		return errmsg_set(em, a->err, "scripted error");
	resp->status = a->status;
	resp->body = strdup(a->body ? a->body : "");
	resp->body_len = strlen(resp->body);
	return 0;
}

static void script_init(struct script *s, const struct answer *a, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->t.request = scripted;
	s->a = a;
	s->n = n;
}

/* Script the answers a and make the candidate node1 of a 15 s Lease. */
static bool start(struct k8s_lease *l, struct script *s, const struct answer *a, size_t n)
{
	struct errmsg em = { 0 };

	script_init(s, a, n);
	return ASSERT_OK(k8s_lease_init(l, &s->t, "bpfd", "bpfd-agent-leader", "node1", 15, &em),
			 em.msg);
}

#define RUN(l, now, want) ({						\
	struct errmsg _em = { 0 };					\
	ASSERT_EQ(k8s_lease_try(l, now, &_em), want, _em.msg[0] ? _em.msg : #now); \
})

static void create_when_missing(void)
{
	const struct answer a[] = {
		{ "GET", LEASE, 0, 404, STATUS(404, "NotFound") },
		{ "POST", LEASES, 0, 201, OBJ(HOLDER("node1"), "7") },
		{ "GET", LEASE, 0, 200, OBJ(HOLDER("node1"), "7") },
		{ "PUT", LEASE, 0, 200, OBJ(HOLDER("node1"), "8") },
	};
	struct k8s_lease l;
	struct script s;

	if (!start(&l, &s, a, 4))
		return;
	RUN(&l, 0, 1);
	ASSERT_TRUE(l.held, "held");
	ASSERT_STRSTR(s.sent[1], "\"holderIdentity\":\"node1\"", "holder");
	ASSERT_STRSTR(s.sent[1], "\"leaseDurationSeconds\":15", "duration");
	ASSERT_STRSTR(s.sent[1], "\"acquireTime\":\"", "acquired");
	ASSERT_STRSTR(s.sent[1], "\"namespace\":\"bpfd\"", "namespace");
	/* renewed with the resourceVersion read: optimistic concurrency */
	RUN(&l, 5000, 1);
	ASSERT_STRSTR(s.sent[3], "\"resourceVersion\":\"7\"", "renew carries the rv");
	ASSERT_EQ(l.renewed_ms, 5000, "renewed at");
	ASSERT_EQ(l.transitions, 1, "acquired once");
}

static void create_race_lost(void)
{
	const struct answer a[] = {
		{ "GET", LEASE, 0, 404, STATUS(404, "NotFound") },
		{ "POST", LEASES, 0, 409, STATUS(409, "AlreadyExists") },
	};
	struct k8s_lease l;
	struct script s;

	if (!start(&l, &s, a, 2))
		return;
	RUN(&l, 0, 0);
	ASSERT_FALSE(l.held, "not held");
}

static void expiry_on_own_clock(void)
{
	const struct answer a[] = {
		{ "GET", LEASE, 0, 200, OBJ(HOLDER("node2"), "5") },
		{ "GET", LEASE, 0, 200, OBJ(HOLDER("node2"), "6") },	/* renewed by node2 */
		{ "GET", LEASE, 0, 200, OBJ(HOLDER("node2"), "6") },
		{ "GET", LEASE, 0, 200, OBJ(HOLDER("node2"), "6") },
		{ "PUT", LEASE, 0, 200, OBJ(HOLDER("node1"), "9") },
	};
	struct k8s_lease l;
	struct script s;

	if (!start(&l, &s, a, 5))
		return;
	RUN(&l, 1000, 0);
	ASSERT_STREQ(l.holder, "node2", "holder seen");
	RUN(&l, 14000, 0);
	/* 15 s after the first sight of rv 5, but rv 6 came at 14 s */
	RUN(&l, 20000, 0);
	RUN(&l, 29000, 1);
	ASSERT_STRSTR(s.sent[4], "\"resourceVersion\":\"6\"", "take carries the rv");
	ASSERT_STRSTR(s.sent[4], "\"holderIdentity\":\"node1\"", "new holder");
	ASSERT_STRSTR(s.sent[4], "\"leaseTransitions\":3", "one more transition");
}

static void free_lease_taken_at_once(void)
{
	const struct answer a[] = {
		{ "GET", LEASE, 0, 200, OBJ("", "5") },
		{ "PUT", LEASE, 0, 409, STATUS(409, "Conflict") },	/* another was faster */
		{ "GET", LEASE, 0, 200, OBJ(HOLDER("node3"), "6") },
	};
	struct k8s_lease l;
	struct script s;

	if (!start(&l, &s, a, 3))
		return;
	RUN(&l, 0, 0);
	ASSERT_STRSTR(s.sent[1], "\"holderIdentity\":\"node1\"", "tried to take it");
	ASSERT_FALSE(l.held, "lost the race");
	RUN(&l, 1000, 0);
	ASSERT_STREQ(l.holder, "node3", "the winner");
}

static void server_away(void)
{
	const struct answer a[] = {
		{ "GET", LEASE, 0, 200, OBJ(HOLDER("node1"), "5") },	/* ours (a restart) */
		{ "PUT", LEASE, 0, 200, OBJ(HOLDER("node1"), "6") },
		{ "GET", LEASE, -ECONNREFUSED },
		{ "GET", LEASE, 0, 503, STATUS(503, "ServiceUnavailable") },
		{ "GET", LEASE, -ETIMEDOUT },
	};
	struct k8s_lease l;
	struct script s;

	if (!start(&l, &s, a, 5))
		return;
	RUN(&l, 0, 1);
	RUN(&l, 5000, -ECONNREFUSED);
	ASSERT_TRUE(l.held, "leads on at 5 s");
	RUN(&l, 9000, -EIO);
	ASSERT_TRUE(l.held, "leads on at 9 s");
	RUN(&l, 10000, -ETIMEDOUT);
	ASSERT_FALSE(l.held, "stops at 2/3 of 15 s");
}

static void release(void)
{
	const struct answer a[] = {
		{ "GET", LEASE, 0, 404, STATUS(404, "NotFound") },
		{ "POST", LEASES, 0, 201, OBJ(HOLDER("node1"), "7") },
		{ "GET", LEASE, 0, 200, OBJ(HOLDER("node1"), "7") },
		{ "PUT", LEASE, 0, 200, OBJ("", "8") },
	};
	struct errmsg em = { 0 };
	struct k8s_lease l;
	struct script s;

	if (!start(&l, &s, a, 4))
		return;
	RUN(&l, 0, 1);
	ASSERT_OK(k8s_lease_release(&l, &em), em.msg);
	ASSERT_FALSE(l.held, "not held");
	ASSERT_FALSE(strstr(s.sent[3], "holderIdentity"), "holder removed");
	ASSERT_STRSTR(s.sent[3], "\"leaseDurationSeconds\":1", "short duration");
	ASSERT_STRSTR(s.sent[3], "\"resourceVersion\":\"7\"", "with the rv");
	/* not held: nothing to send */
	ASSERT_OK(k8s_lease_release(&l, &em), "again");
	ASSERT_EQ(s.next, 4, "no request");
}

static void bad_arguments(void)
{
	struct errmsg em = { 0 };
	struct k8s_lease l;
	struct script s;

	script_init(&s, NULL, 0);
	ASSERT_EQ(k8s_lease_init(&l, &s.t, "bpfd", "x", "node1", 1, &em), -EINVAL, "duration 1");
	ASSERT_STRSTR(em.msg, "2..3600", "says the range");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_lease_init(&l, &s.t, "Bad_NS", "x", "node1", 15, &em), -EINVAL, "namespace");
	ASSERT_STRSTR(em.msg, "Bad_NS", "names it");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_lease_init(&l, &s.t, "bpfd", "x", "", 15, &em), -EINVAL, "identity");
}

/* ---- aggregate conditions ---- */

#define PROG "{\"metadata\":{\"name\":\"tp\",\"uid\":\"u-1\",\"generation\":3}}"
#define BP(name, node, uid, conds) "{\"metadata\":{\"name\":\"" name "\"," \
	"\"labels\":{\"kubernetes.io/hostname\":\"" node "\"}," \
	"\"finalizers\":[\"bpfd.dev.tracepointprogramcontroller/finalizer\"]," \
	"\"ownerReferences\":[{\"uid\":\"" uid "\"}]},\"spec\":{\"node\":\"" node "\"}," \
	"\"status\":{\"conditions\":[" conds "]}}"
#define COND(type, msg) "{\"type\":\"" type "\",\"message\":\"" msg "\"}"
#define NODES "[{\"metadata\":{\"name\":\"node1\"}},{\"metadata\":{\"name\":\"node2\"}}]"

static void judge(const char *bps, const char *nodes, struct progstatus *st)
{
	cJSON *p = cJSON_Parse(PROG), *b = cJSON_Parse(bps), *n = cJSON_Parse(nodes);

	progstatus_judge(p, b, n, st);
	cJSON_Delete(p);
	cJSON_Delete(b);
	cJSON_Delete(n);
}

static void aggregate_success_and_waiting(void)
{
	struct progstatus st;

	judge("[" BP("tp-node1", "node1", "u-1", COND("Loaded", "ok")) ","
	      BP("tp-node2", "node2", "u-1", COND("NotSelected", "not here")) "]", NODES, &st);
	ASSERT_STREQ(st.type, "ReconcileSuccess", "loaded or not selected everywhere");
	/* node2 has nothing yet; another program's BpfProgram on node2 does not count */
	judge("[" BP("tp-node1", "node1", "u-1", COND("Loaded", "ok")) ","
	      BP("other-node2", "node2", "u-2", COND("Loaded", "ok")) "]", NODES, &st);
	ASSERT_STREQ(st.type, "NotYetLoaded", "node2 missing");
	ASSERT_STREQ(st.reason, "ProgramsNotYetLoaded", "reason");
	ASSERT_STRSTR(st.message, "on nodes: node2", "names node2");
	ASSERT_FALSE(strstr(st.message, "node1"), "not node1");
	/* a BpfProgram without a condition yet */
	judge("[" BP("tp-node1", "node1", "u-1", "") ","
	      BP("tp-node2", "node2", "u-1", COND("Loaded", "ok")) "]", NODES, &st);
	ASSERT_STREQ(st.type, "NotYetLoaded", "no condition yet");
	ASSERT_STRSTR(st.message, "on nodes: node1", "names node1");
}

static void aggregate_error_names_nodes(void)
{
	struct progstatus st;

	judge("[" BP("tp-node1-a", "node1", "u-1", COND("Loaded", "ok")) ","
	      BP("tp-node2-a", "node2", "u-1", COND("Loaded", "x") "," COND("NotLoaded", "no file")) ","
	      BP("tp-node2-b", "node2", "u-1", COND("BytecodeSelectorError", "bad")) "]", "[]", &st);
	ASSERT_STREQ(st.type, "ReconcileError", "error");
	ASSERT_STRSTR(st.message, "failed on nodes: node2 (BpfProgram tp-node2-a: NotLoaded: no file; "
		      "BpfProgram tp-node2-b: BytecodeSelectorError: bad)", "names node2 once, each error");
	ASSERT_FALSE(strstr(st.message, "node1"), "not node1");
	/* an error wins over a node still missing */
	judge("[" BP("tp-node2", "node2", "u-1", COND("NotLoaded", "e")) "]", NODES, &st);
	ASSERT_STREQ(st.type, "ReconcileError", "error before waiting");
	/* node names that contain one another are still told apart */
	judge("[" BP("tp-a", "node10", "u-1", COND("NotLoaded", "e")) ","
	      BP("tp-b", "node1", "u-1", COND("NotLoaded", "e")) "]", "[]", &st);
	ASSERT_STRSTR(st.message, "nodes: node10, node1 (", "both nodes");
}

/* Errors longer than a condition's message: cut, and the cut shows ("..."). */
static void aggregate_long_errors(void)
{
	char long_msg[601], bps[8192];
	struct progstatus st;
	size_t len;
	int i, n = 0;

	memset(long_msg, 'e', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	n += snprintf(bps + n, sizeof(bps) - n, "[");
	for (i = 0; i < 6; i++)
		n += snprintf(bps + n, sizeof(bps) - n, "%s" BP("tp-%d", "node%d", "u-1",
			      COND("NotLoaded", "%s")), i ? "," : "", i, i, i, long_msg);
	snprintf(bps + n, sizeof(bps) - n, "]");
	judge(bps, "[]", &st);
	ASSERT_STREQ(st.type, "ReconcileError", "error");
	len = strlen(st.message);
	ASSERT_EQ(len, sizeof(st.message) - 1, "as long as a message may be");
	ASSERT_STREQ(st.message + len - 3, "...", "the cut shows");
	ASSERT_STRSTR(st.message, "failed on nodes: node0, node1", "names the nodes first");
}

static void aggregate_deletion_and_apply(void)
{
	const struct bpfprog_kind *k = bpfprog_kind_find("TracepointProgram");
	cJSON *p = cJSON_Parse(PROG), *b;
	struct progstatus st, ok = { .type = "ReconcileSuccess", .reason = "ReconcileSuccess",
				     .message = "m" };
	const char *since;

	b = cJSON_Parse("[" BP("tp-node1", "node1", "u-1", "") ","
			"{\"metadata\":{\"name\":\"tp-node2\",\"ownerReferences\":[{\"uid\":\"u-1\"}]},"
			"\"spec\":{\"node\":\"node2\"}}]");
	ASSERT_EQ(progstatus_judge_deletion(k, p, b, &st), 1, "node1 still holds it");
	ASSERT_STREQ(st.type, "DeleteError", "type");
	ASSERT_STRSTR(st.message, "on nodes: node1", "names node1");
	ASSERT_FALSE(strstr(st.message, "node2"), "node2 unloaded it");
	cJSON_Delete(b);
	b = cJSON_Parse("[]");
	ASSERT_EQ(progstatus_judge_deletion(k, p, b, &st), 0, "every node unloaded it");
	cJSON_Delete(b);

	ASSERT_EQ(progstatus_apply(p, &ok), 1, "written");
	ASSERT_TRUE(progstatus_same(p, &ok), "same");
	ASSERT_EQ(progstatus_apply(p, &ok), 0, "unchanged");
	ASSERT_EQ((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
		k8s_json_get(p, "status.conditions"), 0), "observedGeneration")), 3, "generation");
	cJSON_ReplaceItemInObject((cJSON *)cJSON_GetArrayItem(k8s_json_get(p, "status.conditions"), 0),
				  "lastTransitionTime", cJSON_CreateString("2020-01-01T00:00:00Z"));
	snprintf(ok.message, sizeof(ok.message), "other");
	ASSERT_EQ(progstatus_apply(p, &ok), 1, "message changed");
	since = k8s_json_str(cJSON_GetArrayItem(k8s_json_get(p, "status.conditions"), 0),
			     "lastTransitionTime");
	ASSERT_STREQ(since, "2020-01-01T00:00:00Z", "same type keeps its transition time");
	ok.type = "ReconcileError";
	ASSERT_EQ(progstatus_apply(p, &ok), 1, "type changed");
	since = k8s_json_str(cJSON_GetArrayItem(k8s_json_get(p, "status.conditions"), 0),
			     "lastTransitionTime");
	ASSERT_TRUE(since && strcmp(since, "2020-01-01T00:00:00Z"), "new transition time");
	ASSERT_EQ(cJSON_GetArraySize(k8s_json_get(p, "status.conditions")), 1, "one condition");
	cJSON_Delete(p);
}

TEST_MAIN("k8s_leader",
	  TEST(create_when_missing),
	  TEST(create_race_lost),
	  TEST(expiry_on_own_clock),
	  TEST(free_lease_taken_at_once),
	  TEST(server_away),
	  TEST(release),
	  TEST(bad_arguments),
	  TEST(aggregate_success_and_waiting),
	  TEST(aggregate_error_names_nodes), TEST(aggregate_long_errors),
	  TEST(aggregate_deletion_and_apply))
