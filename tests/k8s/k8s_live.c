/* SPDX-License-Identifier: Apache-2.0 */
/* k8s_live.c - the agent's Kubernetes client against the real kube-apiserver of
 * tests/k8s/testbed.sh (run by tests/integration/t_k8s_client.sh with the test bed's
 * env file in the environment): bearer token, client certificate and in-cluster
 * service account authentication; 401/403/404/409/422 answers; list + watch with
 * resourceVersion resume, bookmarks, 410 after an etcd compaction, an API server
 * killed and restarted mid-watch; the status subresource; 409 retries. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"
#include "core/base/errmsg.h"
#include "core/k8s/api.h"
#include "core/k8s/client.h"
#include "core/k8s/kconfig.h"
#include "core/k8s/reflector.h"
#include "core/k8s/transport.h"

#define XDP "/apis/bpfd.dev/v1alpha1/xdpprograms"
#define BPFP "/apis/bpfd.dev/v1alpha1/bpfprograms"

static const char *env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v) {
		fprintf(stderr, "  %s is not set: run me from tests/integration/t_k8s_client.sh\n",
			name);
		exit(1);
	}
	return v;
}

/* A kubeconfig for the test bed's server with this user section. */
static void kubeconfig(const char *path, const char *user_yaml)
{
	FILE *f = fopen(path, "w");

	if (!f)
		exit(1);
	fprintf(f, "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
		"contexts:\n- name: t\n  context: {cluster: c, user: u}\n"
		"clusters:\n- name: c\n  cluster:\n    server: %s\n"
		"    certificate-authority: %s\nusers:\n- name: u\n  user:\n%s",
		env("K8S_SERVER"), env("K8S_CA"), user_yaml);
	fclose(f);
}

static char tmp[64];

static struct k8s_transport *connect_as(const char *user_yaml, struct k8s_config *cfg)
{
	struct k8s_transport *t = NULL;
	struct errmsg em = { 0 };
	char path[128];

	if (!tmp[0] && !mkdtemp(strcpy(tmp, "/tmp/k8s_live.XXXXXX")))
		exit(1);
	snprintf(path, sizeof(path), "%s/kubeconfig", tmp);
	kubeconfig(path, user_yaml);
	if (!ASSERT_OK(k8s_config_from_kubeconfig(path, NULL, cfg, &em), em.msg))
		exit(1);
	if (!ASSERT_OK(k8s_https_new(cfg, &t, &em), em.msg))
		exit(1);
	return t;
}

static struct k8s_transport *admin(struct k8s_config *cfg)
{
	char user[256];

	snprintf(user, sizeof(user), "    token: %s\n", env("K8S_ADMIN_TOKEN"));
	return connect_as(user, cfg);
}

static cJSON *xdp_obj(const char *name, int priority)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "{\"apiVersion\":\"bpfd.dev/v1alpha1\",\"kind\":\"XdpProgram\","
		 "\"metadata\":{\"name\":\"%s\",\"labels\":{\"t\":\"live\"}},"
		 "\"spec\":{\"bpffunctionname\":\"xdp_pass\",\"nodeselector\":{},"
		 "\"bytecode\":{\"path\":\"/x.o\"},\"interfaceselector\":{\"interfaces\":[\"eth0\"]},"
		 "\"priority\":%d}}", name, priority);
	return cJSON_Parse(text);
}

static int create_xdp(struct k8s_transport *t, const char *name, int prio, char *rv)
{
	cJSON *o = xdp_obj(name, prio), *out = NULL;
	struct errmsg em = { 0 };
	int err;

	err = k8s_create(t, XDP, o, &out, NULL, &em);
	if (err)
		fprintf(stderr, "  create %s: %s\n", name, em.msg);
	if (!err && rv)
		snprintf(rv, K8S_MAX_RV, "%s", k8s_meta_str(out, "resourceVersion"));
	cJSON_Delete(o);
	cJSON_Delete(out);
	return err;
}

static int delete_xdp(struct k8s_transport *t, const char *name)
{
	char path[256];
	struct errmsg em = { 0 };

	snprintf(path, sizeof(path), XDP "/%s", name);
	return k8s_delete(t, path, NULL, NULL, &em);
}

static void set_priority(struct k8s_transport *t, const char *name, int prio)
{
	char path[256], text[64];
	struct errmsg em = { 0 };
	cJSON *p;

	snprintf(path, sizeof(path), XDP "/%s", name);
	snprintf(text, sizeof(text), "{\"spec\":{\"priority\":%d}}", prio);
	p = cJSON_Parse(text);
	ASSERT_OK(k8s_merge_patch(t, path, p, NULL, NULL, &em), em.msg);
	cJSON_Delete(p);
}

struct log {
	pthread_mutex_t lock;
	char text[8192];
};

static void record(void *arg, enum k8s_event_type type, const cJSON *obj)
{
	struct log *l = arg;
	size_t n;

	pthread_mutex_lock(&l->lock);
	n = strlen(l->text);
	snprintf(l->text + n, sizeof(l->text) - n, "%s %s;", k8s_event_type_str(type),
		 k8s_meta_str(obj, "name"));
	pthread_mutex_unlock(&l->lock);
}

/* ---- authentication and errors ---- */

static void auth_token_cert_bad(void)
{
	struct k8s_config c1, c2, c3;
	struct k8s_transport *t, *tn, *tb;
	struct errmsg em = { 0 };
	char user[512];
	cJSON *node = NULL;

	t = admin(&c1);
	node = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":"
			   "{\"name\":\"node1\",\"labels\":{\"role\":\"edge\"}}}");
	ASSERT_OK(k8s_create(t, "/api/v1/nodes", node, NULL, NULL, &em), em.msg);
	cJSON_Delete(node);
	node = NULL;

	/* x509 client certificate of system:node:node1: the Node authorizer lets it
	 * read its own Node */
	snprintf(user, sizeof(user), "    client-certificate: %s\n    client-key: %s\n",
		 env("K8S_NODE1_CERT"), env("K8S_NODE1_KEY"));
	tn = connect_as(user, &c2);
	memset(&em, 0, sizeof(em));
	if (ASSERT_OK(k8s_get(tn, "/api/v1/nodes/node1", &node, NULL, &em), em.msg))
		ASSERT_STREQ(k8s_meta_label(node, "role"), "edge", "node label");
	cJSON_Delete(node);
	/* ... but not bpfd.dev resources (no RBAC for system:nodes) */
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_get(tn, XDP "/none", &node, NULL, &em), -EPERM, "403 for the node");
	ASSERT_STRSTR(em.msg, "403 Forbidden", "message");

	tb = connect_as("    token: not-a-token\n", &c3);
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_get(tb, "/api/v1/nodes/node1", &node, NULL, &em), -EACCES, "401");
	ASSERT_STRSTR(em.msg, "401 Unauthorized", "message");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_get(t, XDP "/missing", &node, NULL, &em), -ENOENT, "404");
	t->free(t);
	tn->free(tn);
	tb->free(tb);
	k8s_config_fini(&c1);
	k8s_config_fini(&c2);
	k8s_config_fini(&c3);
}

static void create_conflicts_invalid(void)
{
	struct k8s_config c;
	struct k8s_transport *t = admin(&c);
	struct errmsg em = { 0 };
	cJSON *o, *got = NULL;

	ASSERT_OK(create_xdp(t, "cci", 10, NULL), "create");
	ASSERT_EQ(create_xdp(t, "cci", 10, NULL), -EEXIST, "409 AlreadyExists");
	o = xdp_obj("cci-bad", 5000);
	ASSERT_EQ(k8s_create(t, XDP, o, NULL, NULL, &em), -EINVAL, "422 priority");
	ASSERT_STRSTR(em.msg, "spec.priority", "names the field");
	cJSON_Delete(o);
	/* the schema default was applied by the server */
	memset(&em, 0, sizeof(em));
	if (ASSERT_OK(k8s_get(t, XDP "/cci", &got, NULL, &em), em.msg)) {
		o = cJSON_GetArrayItem((cJSON *)k8s_json_get(got, "spec.proceedon"), 1);
		ASSERT_STREQ(cJSON_GetStringValue(o), "dispatcher_return", "default proceedon");
	}
	/* a stale resourceVersion: 409 Conflict */
	set_priority(t, "cci", 11);
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_update(t, XDP "/cci", got, NULL, NULL, &em), -EAGAIN, "409 Conflict");
	ASSERT_STRSTR(em.msg, "modified", "message");
	cJSON_Delete(got);
	delete_xdp(t, "cci");
	t->free(t);
	k8s_config_fini(&c);
}

struct racer {
	struct k8s_transport *other;
	int calls;
};

/* The first time, another client changes the object between our GET and PUT. */
static int race_mutate(void *arg, cJSON *obj, struct errmsg *em)
{
	struct racer *r = arg;
	cJSON *labels;

	(void)em;
	if (r->calls++ == 0)
		set_priority(r->other, "race", 77);
	labels = (cJSON *)k8s_json_get(obj, "metadata.labels");
	cJSON_DeleteItemFromObject(labels, "mine");
	cJSON_AddStringToObject(labels, "mine", "yes");
	return 1;
}

static void update_retry_on_conflict(void)
{
	struct k8s_config c1, c2;
	struct k8s_transport *t = admin(&c1);
	struct racer r = { .other = admin(&c2) };
	struct errmsg em = { 0 };
	cJSON *out = NULL;

	ASSERT_OK(create_xdp(t, "race", 1, NULL), "create");
	if (ASSERT_OK(k8s_update_retry(t, XDP "/race", NULL, race_mutate, &r, &out, &em), em.msg)) {
		ASSERT_EQ(r.calls, 2, "one 409, one retry");
		ASSERT_STREQ(k8s_meta_label(out, "mine"), "yes", "our label");
		ASSERT_EQ(cJSON_GetNumberValue(k8s_json_get(out, "spec.priority")), 77,
			  "their priority kept");
	}
	cJSON_Delete(out);
	delete_xdp(t, "race");
	t->free(t);
	r.other->free(r.other);
	k8s_config_fini(&c1);
	k8s_config_fini(&c2);
}

static int add_condition(void *arg, cJSON *obj, struct errmsg *em)
{
	cJSON *st = cJSON_GetObjectItem(obj, "status"), *conds, *c;

	(void)arg;
	(void)em;
	if (!st)
		st = cJSON_AddObjectToObject(obj, "status");
	conds = cJSON_AddArrayToObject(st, "conditions");
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", "Loaded");
	cJSON_AddStringToObject(c, "status", "True");
	cJSON_AddStringToObject(c, "reason", "bpfdLoaded");
	cJSON_AddStringToObject(c, "message", "loaded");
	cJSON_AddStringToObject(c, "lastTransitionTime", "2026-12-06T00:00:00Z");
	cJSON_AddItemToArray(conds, c);
	/* a spec change in a /status write is ignored by the server */
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(obj, "spec"), "type",
				  cJSON_CreateString("changed"));
	return 1;
}

static void status_subresource(void)
{
	struct k8s_config c;
	struct k8s_transport *t = admin(&c);
	struct errmsg em = { 0 };
	cJSON *o, *out = NULL;

	o = cJSON_Parse("{\"apiVersion\":\"bpfd.dev/v1alpha1\",\"kind\":\"BpfProgram\","
			"\"metadata\":{\"name\":\"st-node1-eth0\"},\"spec\":{\"type\":\"xdp\"}}");
	ASSERT_OK(k8s_create(t, BPFP, o, NULL, NULL, &em), em.msg);
	cJSON_Delete(o);
	if (ASSERT_OK(k8s_update_retry(t, BPFP "/st-node1-eth0", "/status", add_condition, NULL,
				       &out, &em), em.msg)) {
		ASSERT_STREQ(k8s_json_str(out, "spec.type"), "xdp", "spec untouched");
		o = cJSON_GetArrayItem((cJSON *)k8s_json_get(out, "status.conditions"), 0);
		ASSERT_STREQ(k8s_json_str(o, "reason"), "bpfdLoaded", "condition written");
		ASSERT_EQ(k8s_meta_generation(out), 1, "status writes keep the generation");
	}
	cJSON_Delete(out);
	k8s_delete(t, BPFP "/st-node1-eth0", NULL, NULL, &em);
	t->free(t);
	k8s_config_fini(&c);
}

/* ---- list and watch ---- */

static void reflector_live(void)
{
	struct k8s_config c;
	struct k8s_transport *t = admin(&c), *tw = admin(&c);
	struct log l = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct k8s_reflector r;
	struct errmsg em = { 0 };
	char name[32];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "rl-%d", i);
		ASSERT_OK(create_xdp(t, name, i, NULL), "create");
	}
	k8s_reflector_init(&r, tw, XDP, "t=live", NULL, record, &l, &em);
	r.page_size = 2;	/* three pages */
	r.watch_timeout_s = 2;
	if (!ASSERT_OK(k8s_reflector_step(&r, &em), em.msg))
		return;
	ASSERT_STRSTR(l.text, "ADDED rl-0;ADDED rl-1;ADDED rl-2;ADDED rl-3;ADDED rl-4;", "list");
	/* changes after the list's RV come with the next watch */
	l.text[0] = '\0';
	set_priority(t, "rl-1", 100);
	delete_xdp(t, "rl-2");
	ASSERT_OK(create_xdp(t, "rl-5", 5, NULL), "create rl-5");
	ASSERT_OK(k8s_reflector_step(&r, &em), em.msg);
	ASSERT_STREQ(l.text, "MODIFIED rl-1;DELETED rl-2;ADDED rl-5;", "watched");
	ASSERT_EQ(r.watches, 1, "the server ended the watch at timeoutSeconds");
	ASSERT_EQ(r.lists, 1, "no re-list");
	ASSERT_EQ(r.n, 5, "cache");
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "rl-%d", i);
		delete_xdp(t, name);
	}
	k8s_reflector_fini(&r);
	t->free(t);
	tw->free(tw);
	k8s_config_fini(&c);
}

static long long etcd_revision(void)
{
	char cmd[512], out[64] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ETCDCTL_API=3 etcdctl --endpoints=%s endpoint status -w json"
		 " | jq '.[0].Status.header.revision'", env("K8S_ETCD"));
	p = popen(cmd, "r");
	if (!p || !fgets(out, sizeof(out), p))
		out[0] = '\0';
	if (p)
		pclose(p);
	return atoll(out);
}

static void watch_expired_after_compaction(void)
{
	struct k8s_config c;
	struct k8s_transport *t = admin(&c), *tw = admin(&c);
	struct log l = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct k8s_reflector r;
	struct errmsg em = { 0 };
	char cmd[512];
	long long rev;

	ASSERT_OK(create_xdp(t, "gone-a", 1, NULL), "create a");
	ASSERT_OK(create_xdp(t, "gone-b", 2, NULL), "create b");
	k8s_reflector_init(&r, tw, XDP, "t=live", NULL, record, &l, &em);
	r.watch_timeout_s = 2;
	if (!ASSERT_OK(k8s_reflector_step(&r, &em), em.msg))
		return;
	/* while the agent is away: changes, then etcd compacts past its RV */
	delete_xdp(t, "gone-a");
	ASSERT_OK(create_xdp(t, "gone-c", 3, NULL), "create c");
	set_priority(t, "gone-b", 9);
	rev = etcd_revision();
	if (!ASSERT_TRUE(rev > 0, "etcd revision"))
		return;
	snprintf(cmd, sizeof(cmd), "ETCDCTL_API=3 etcdctl --endpoints=%s compact %lld >/dev/null",
		 env("K8S_ETCD"), rev);
	if (!ASSERT_EQ(system(cmd), 0, "etcdctl compact"))
		return;
	l.text[0] = '\0';
	/* 1.20: 200 + ERROR event 410 Expired, then a re-list showing the differences */
	ASSERT_OK(k8s_reflector_step(&r, &em), em.msg);
	if (!r.expired) {
		/* the watch cache may still serve the old RV for a moment: its events */
		ASSERT_STRSTR(l.text, "DELETED gone-a", "events from the watch cache");
	} else {
		ASSERT_STREQ(r.rv, "", "expired: list next");
		ASSERT_OK(k8s_reflector_step(&r, &em), em.msg);
		ASSERT_STRSTR(l.text, "DELETED gone-a;", "diff: deleted");
		ASSERT_STRSTR(l.text, "ADDED gone-c;", "diff: added");
		ASSERT_STRSTR(l.text, "MODIFIED gone-b;", "diff: modified");
		ASSERT_EQ(r.lists, 2, "listed again");
	}
	ASSERT_EQ(r.n, 2, "b and c");
	/* a watch from an RV etcd no longer has is answered 410 by the server itself */
	snprintf(r.rv, sizeof(r.rv), "%d", 5);
	r.expired = 0;
	ASSERT_OK(k8s_reflector_step(&r, &em), em.msg);
	ASSERT_EQ(r.expired, 1, "410 for an RV before the compaction");
	delete_xdp(t, "gone-b");
	delete_xdp(t, "gone-c");
	k8s_reflector_fini(&r);
	t->free(t);
	tw->free(tw);
	k8s_config_fini(&c);
}

struct stepper {
	struct k8s_reflector *r;
	int err;
	char msg[4096];
};

static void *step_thread(void *arg)
{
	struct stepper *s = arg;
	struct errmsg em = { 0 };

	s->err = k8s_reflector_step(s->r, &em);
	snprintf(s->msg, sizeof(s->msg), "%s", em.msg);
	return NULL;
}

static void apiserver_restart_mid_watch(void)
{
	struct k8s_config c;
	struct k8s_transport *t = admin(&c), *tw = admin(&c);
	struct log l = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct stepper s = { 0 };
	struct k8s_reflector r;
	struct errmsg em = { 0 };
	char cmd[512], rv_before[K8S_MAX_RV];
	pthread_t th;
	int i, err;

	ASSERT_OK(create_xdp(t, "rs-a", 1, NULL), "create");
	k8s_reflector_init(&r, tw, XDP, "t=live", NULL, record, &l, &em);
	r.watch_timeout_s = 60;
	if (!ASSERT_OK(k8s_reflector_step(&r, &em), em.msg))
		return;
	snprintf(rv_before, sizeof(rv_before), "%s", r.rv);
	s.r = &r;
	pthread_create(&th, NULL, step_thread, &s);
	usleep(500000);		/* the watch is open */
	snprintf(cmd, sizeof(cmd), "%s/../k8s/testbed.sh restart-apiserver %s >/dev/null 2>&1",
		 env("K8S_TESTS"), env("K8S_DIR"));
	/* the restarted server must not inherit the harness's result pipe */
	fcntl(test__skip_fd, F_SETFD, FD_CLOEXEC);
	if (!ASSERT_EQ(system(cmd), 0, "restart the API server"))
		return;
	pthread_join(th, NULL);
	/* the killed watch ended (an error or a cut stream, whichever the socket said) */
	if (s.err)
		fprintf(stderr, "  (the broken watch: %s)\n", s.msg);
	ASSERT_STREQ(r.rv, rv_before, "the RV survives");
	ASSERT_OK(create_xdp(t, "rs-b", 2, NULL), "create after the restart");
	l.text[0] = '\0';
	r.watch_timeout_s = 2;
	/* resumes from the RV: the event written after the restart, no re-list */
	for (i = 0; i < 20; i++) {
		memset(&em, 0, sizeof(em));
		err = k8s_reflector_step(&r, &em);
		if (!err && strstr(l.text, "ADDED rs-b"))
			break;
		usleep(200000);
	}
	ASSERT_STRSTR(l.text, "ADDED rs-b;", "nothing lost");
	/* 1.20's restarted watch cache starts at etcd's current revision: a watch from
	 * an older RV gets 410 and the reflector lists again (seen here); else it resumes */
	ASSERT_TRUE(r.lists == 1 || (r.lists == 2 && r.expired == 1), "resumed, or one re-list after 410");
	ASSERT_FALSE(strstr(l.text, "ADDED rs-a"), "no duplicate of what was cached");
	delete_xdp(t, "rs-a");
	delete_xdp(t, "rs-b");
	k8s_reflector_fini(&r);
	t->free(t);
	tw->free(tw);
	k8s_config_fini(&c);
}

/* ---- in-cluster: the bpfd-agent service account (dist/k8s/rbac.yaml) ---- */

static void in_cluster_service_account(void)
{
	char dir[160], cmd[1024], port[16];
	struct k8s_config c;
	struct k8s_transport *t = NULL;
	struct errmsg em = { 0 };
	const char *server = env("K8S_SERVER");
	cJSON *o;

	snprintf(dir, sizeof(dir), "%s/sa", tmp[0] ? tmp : "/tmp");
	mkdir(dir, 0700);
	/* the token controller of kube-controller-manager makes the secret */
	snprintf(cmd, sizeof(cmd),
		 "for i in $(seq 100); do s=$(%s --kubeconfig %s -n bpfd get sa bpfd-agent "
		 "-o jsonpath='{.secrets[0].name}' 2>/dev/null) && [ -n \"$s\" ] && break; "
		 "sleep 0.1; done; %s --kubeconfig %s -n bpfd get secret $s "
		 "-o jsonpath='{.data.token}' | base64 -d >%s/token && cp %s %s/ca.crt && "
		 "echo bpfd >%s/namespace", env("K8S_KUBECTL"), env("K8S_KUBECONFIG"),
		 env("K8S_KUBECTL"), env("K8S_KUBECONFIG"), dir, env("K8S_CA"), dir, dir);
	if (!ASSERT_EQ(system(cmd), 0, "service account token"))
		return;
	snprintf(port, sizeof(port), "%s", strrchr(server, ':') + 1);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	if (!ASSERT_OK(k8s_config_in_cluster(dir, &c, &em), em.msg))
		return;
	ASSERT_STREQ(c.namespace, "bpfd", "namespace");
	if (!ASSERT_OK(k8s_https_new(&c, &t, &em), em.msg))
		return;
	/* verified as kubernetes.default.svc, authorized by the agent's ClusterRole */
	ASSERT_EQ(k8s_get(t, XDP "/nothing-here", &o, NULL, &em), -ENOENT,
		  "404: trusted and allowed to read (403 if not)");
	memset(&em, 0, sizeof(em));
	o = xdp_obj("sa-made", 1);
	ASSERT_EQ(k8s_create(t, XDP, o, NULL, NULL, &em), -EPERM, "the agent may not create "
		  "XdpPrograms");
	ASSERT_STRSTR(em.msg, "system:serviceaccount:bpfd:bpfd-agent", "names the identity");
	cJSON_Delete(o);
	t->free(t);
	k8s_config_fini(&c);
}

TEST_MAIN("k8s_live",
	  TEST(auth_token_cert_bad), TEST(create_conflicts_invalid),
	  TEST(update_retry_on_conflict), TEST(status_subresource), TEST(reflector_live),
	  TEST(watch_expired_after_compaction), TEST(apiserver_restart_mid_watch),
	  TEST(in_cluster_service_account))
