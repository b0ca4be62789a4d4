/* SPDX-License-Identifier: Apache-2.0 */
/* test_k8s.c - the agent's Kubernetes client without a server: the API's JSON, watch
 * streams cut anywhere, label selectors, base64, YAML, kubeconfig and in-cluster
 * configuration, the list/watch resourceVersion state machine and 409 retries
 * against a scripted transport (answers as the real 1.20 server gives them:
 * ../shared/notes/kubernetes.md) */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "harness.h"
#include "core/base/base64.h"
#include "core/base/errmsg.h"
#include "core/k8s/api.h"
#include "core/k8s/bpfprog.h"
#include "core/k8s/client.h"
#include "core/k8s/kconfig.h"
#include "core/k8s/reflector.h"
#include "core/k8s/watch.h"
#include "core/k8s/yamljson.h"

#define OBJ(name, rv) "{\"apiVersion\":\"bpfd.dev/v1alpha1\",\"kind\":\"XdpProgram\"," \
	"\"metadata\":{\"name\":\"" name "\",\"resourceVersion\":\"" rv "\",\"generation\":1}," \
	"\"spec\":{\"priority\":50}}"
#define EV(type, obj) "{\"type\":\"" type "\",\"object\":" obj "}\n"
#define LIST(rv, cont, items) "{\"kind\":\"XdpProgramList\",\"apiVersion\":\"bpfd.dev/v1alpha1\"," \
	"\"metadata\":{\"resourceVersion\":\"" rv "\",\"continue\":\"" cont "\"},\"items\":[" items "]}"
#define GONE_EVENT "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\"," \
	"\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: 5 (230)\"," \
	"\"reason\":\"Expired\",\"code\":410}}\n"
#define STATUS(code, reason, msg) "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{}," \
	"\"status\":\"Failure\",\"message\":\"" msg "\",\"reason\":\"" reason "\",\"code\":" #code "}"

/* ---- the API's JSON ---- */

static void event_parse(void)
{
	const char *ok = EV("MODIFIED", OBJ("a", "17"));
	enum k8s_event_type type;
	struct errmsg em = { 0 };
	struct k8s_status st;
	cJSON *obj = NULL;

	if (!ASSERT_OK(k8s_event_parse(ok, strlen(ok), &type, &obj, &em), "MODIFIED"))
		return;
	ASSERT_EQ(type, K8S_MODIFIED, "type");
	ASSERT_STREQ(k8s_meta_str(obj, "resourceVersion"), "17", "rv");
	ASSERT_EQ(k8s_meta_generation(obj), 1, "generation");
	cJSON_Delete(obj);

	ASSERT_OK(k8s_event_parse(GONE_EVENT, strlen(GONE_EVENT), &type, &obj, &em), "ERROR");
	ASSERT_EQ(type, K8S_ERROR, "type ERROR");
	ASSERT_OK(k8s_status_from_json(obj, &st), "status");
	ASSERT_EQ(st.code, 410, "code");
	ASSERT_TRUE(k8s_status_is_expired(&st), "expired");
	cJSON_Delete(obj);

	const char *bm = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"XdpProgram\","
			 "\"apiVersion\":\"bpfd.dev/v1alpha1\",\"metadata\":{\"resourceVersion\":\"99\"}}}";
	ASSERT_OK(k8s_event_parse(bm, strlen(bm), &type, &obj, &em), "BOOKMARK");
	ASSERT_EQ(type, K8S_BOOKMARK, "type BOOKMARK");
	cJSON_Delete(obj);

	static const char *const bad[] = {
		"not json", "{}", "{\"type\":\"ADDED\"}", "{\"type\":\"RENAMED\",\"object\":{}}",
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\"}}}",
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}}}",
		"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}",
		"{\"type\":7,\"object\":{}}", "[1,2]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&em, 0, sizeof(em));
		obj = NULL;
		ASSERT_EQ(k8s_event_parse(bad[i], strlen(bad[i]), &type, &obj, &em), -EPROTO,
			  bad[i]);
		ASSERT_TRUE(em.msg[0], "message set");
		ASSERT_TRUE(!obj, "no object");
	}
}

static void status_body(void)
{
	const char *body = STATUS(409, "Conflict", "the object has been modified; please "
				  "apply your changes to the latest version and try again");
	struct k8s_status st;

	k8s_status_from_body(409, body, strlen(body), &st);
	ASSERT_EQ(st.code, 409, "code");
	ASSERT_STREQ(st.reason, "Conflict", "reason");
	ASSERT_STRSTR(st.message, "has been modified", "message");
	ASSERT_EQ(k8s_errno(409, &st), -EAGAIN, "conflict -> EAGAIN");
	body = STATUS(409, "AlreadyExists", "x");
	k8s_status_from_body(409, body, strlen(body), &st);
	ASSERT_EQ(k8s_errno(409, &st), -EEXIST, "already exists -> EEXIST");

	k8s_status_from_body(502, "<html>Bad gateway\n<body>", 24, &st);
	ASSERT_EQ(st.code, 502, "proxy page code");
	ASSERT_STREQ(st.message, "<html>Bad gateway", "first line");
	ASSERT_EQ(k8s_errno(502, &st), -EIO, "5xx");
	ASSERT_EQ(k8s_errno(410, &st), -ESTALE, "410");
	ASSERT_EQ(k8s_errno(403, &st), -EPERM, "403");
	ASSERT_EQ(k8s_errno(401, &st), -EACCES, "401");
	ASSERT_EQ(k8s_errno(404, &st), -ENOENT, "404");
	ASSERT_EQ(k8s_errno(422, &st), -EINVAL, "422");
	ASSERT_EQ(k8s_errno(201, &st), 0, "201");
}

static void list_parse(void)
{
	const char *body = LIST("217", "tok", OBJ("a", "5") "," OBJ("b", "9"));
	char rv[K8S_MAX_RV], cont[64];
	struct errmsg em = { 0 };
	cJSON *list = NULL;

	if (!ASSERT_OK(k8s_list_parse(body, strlen(body), &list, rv, cont, sizeof(cont), &em),
		       em.msg))
		return;
	ASSERT_STREQ(rv, "217", "list rv");
	ASSERT_STREQ(cont, "tok", "continue");
	ASSERT_EQ(cJSON_GetArraySize(k8s_list_items(list)), 2, "items");
	cJSON_Delete(list);
	body = LIST("", "", "");
	ASSERT_EQ(k8s_list_parse(body, strlen(body), &list, rv, cont, sizeof(cont), &em),
		  -EPROTO, "no rv");
	body = "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{\"metadata\":{}}]}";
	ASSERT_EQ(k8s_list_parse(body, strlen(body), &list, rv, cont, sizeof(cont), &em),
		  -EPROTO, "item without name");
	body = "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":null}";
	ASSERT_OK(k8s_list_parse(body, strlen(body), &list, rv, cont, sizeof(cont), &em),
		  "items null (an empty Go slice)");
	cJSON_Delete(list);
}

static int sel(const char *selector, const char *labels)
{
	cJSON *s = cJSON_Parse(selector), *l = labels ? cJSON_Parse(labels) : NULL;
	struct errmsg em = { 0 };
	int r = k8s_selector_match(s, l, &em);

	cJSON_Delete(s);
	cJSON_Delete(l);
	return r;
}

static void selector(void)
{
	const char *l = "{\"zone\":\"a\",\"role\":\"edge\"}";

	ASSERT_EQ(sel("{}", l), 1, "{} selects all");
	ASSERT_EQ(sel("{}", NULL), 1, "{} selects no labels too");
	ASSERT_EQ(sel("{\"matchLabels\":{\"zone\":\"a\"}}", l), 1, "matchLabels");
	ASSERT_EQ(sel("{\"matchLabels\":{\"zone\":\"b\"}}", l), 0, "matchLabels other value");
	ASSERT_EQ(sel("{\"matchLabels\":{\"zone\":\"a\",\"x\":\"y\"}}", l), 0, "all must match");
	ASSERT_EQ(sel("{\"matchExpressions\":[{\"key\":\"role\",\"operator\":\"In\","
		      "\"values\":[\"core\",\"edge\"]}]}", l), 1, "In");
	ASSERT_EQ(sel("{\"matchExpressions\":[{\"key\":\"role\",\"operator\":\"NotIn\","
		      "\"values\":[\"edge\"]}]}", l), 0, "NotIn");
	ASSERT_EQ(sel("{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"NotIn\","
		      "\"values\":[\"x\"]}]}", l), 1, "NotIn without the label");
	ASSERT_EQ(sel("{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"Exists\"}]}", l),
		  0, "Exists");
	ASSERT_EQ(sel("{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"DoesNotExist\"}]}",
		      l), 1, "DoesNotExist");
	ASSERT_EQ(sel("{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"Near\"}]}", l),
		  -EINVAL, "unknown operator");
	ASSERT_EQ(sel("{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"In\"}]}", l),
		  -EINVAL, "In without values");
	ASSERT_EQ(sel("{\"matchLabels\":{\"zone\":1}}", l), -EINVAL, "matchLabels not a string");
}

/* ---- watch streams ---- */

struct collected {
	char log[4096];
	int n;
};

static int collect(void *arg, enum k8s_event_type type, cJSON *obj, struct errmsg *em)
{
	struct collected *c = arg;
	size_t len = strlen(c->log);

	(void)em;
	snprintf(c->log + len, sizeof(c->log) - len, "%s %s %s;", k8s_event_type_str(type),
		 k8s_meta_str(obj, "name") ?: "-", k8s_meta_str(obj, "resourceVersion") ?: "-");
	c->n++;
	cJSON_Delete(obj);
	return 0;
}

static void watch_split_anywhere(void)
{
	const char *stream = EV("ADDED", OBJ("a", "1")) "\r\n\n" EV("MODIFIED", OBJ("a", "2"))
		"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"3\"}}}\n"
		EV("DELETED", OBJ("a", "4"));
	const char *want = "ADDED a 1;MODIFIED a 2;BOOKMARK - 3;DELETED a 4;";
	size_t len = strlen(stream), step, off, n;
	struct k8s_watch_dec d;
	struct collected c;
	struct errmsg em;

	/* every piece size from 1 byte to all at once gives the same events */
	for (step = 1; step <= len; step += (step < 40 ? 1 : 97)) {
		memset(&c, 0, sizeof(c));
		memset(&em, 0, sizeof(em));
		k8s_watch_dec_init(&d, collect, &c);
		for (off = 0; off < len; off += n) {
			n = len - off < step ? len - off : step;
			if (!ASSERT_OK(k8s_watch_dec_feed(&d, stream + off, n, &em), em.msg))
				break;
		}
		ASSERT_STREQ(c.log, want, "events");
		ASSERT_EQ(k8s_watch_dec_pending(&d), 0, "nothing pending");
		k8s_watch_dec_fini(&d);
	}
}

static void watch_bad_and_big(void)
{
	struct k8s_watch_dec d;
	struct collected c = { 0 };
	struct errmsg em = { 0 };
	char big[300];

	k8s_watch_dec_init(&d, collect, &c);
	ASSERT_EQ(k8s_watch_dec_feed(&d, "{\"type\":\"ADDED\"}\n", 17, &em), -EPROTO, "bad event");
	ASSERT_STRSTR(em.msg, "no object", "message");
	k8s_watch_dec_fini(&d);

	k8s_watch_dec_init(&d, collect, &c);
	d.max_line = 256;
	memset(big, 'x', sizeof(big));
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_watch_dec_feed(&d, big, 200, &em), 0, "under the limit so far");
	ASSERT_EQ(k8s_watch_dec_feed(&d, big, 100, &em), -EFBIG, "over the limit");
	k8s_watch_dec_fini(&d);

	/* a stream cut in the middle of an event keeps it pending (not delivered) */
	k8s_watch_dec_init(&d, collect, &c);
	memset(&c, 0, sizeof(c));
	ASSERT_OK(k8s_watch_dec_feed(&d, EV("ADDED", OBJ("a", "1")), 40, &em), "partial");
	ASSERT_EQ(c.n, 0, "no event yet");
	ASSERT_EQ(k8s_watch_dec_pending(&d), 40, "pending");
	k8s_watch_dec_fini(&d);
}

/* ---- base64, YAML, configuration ---- */

static void b64(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					   "Zm9vYmFy" };
	unsigned char *out;
	size_t i, n;
	char *e;

	for (i = 0; i < 7; i++) {
		e = base64_encode(plain[i], strlen(plain[i]));
		ASSERT_STREQ(e, enc[i], "encode");
		free(e);
		if (!ASSERT_OK(base64_decode(enc[i], strlen(enc[i]), &out, &n), enc[i]))
			continue;
		ASSERT_EQ(n, strlen(plain[i]), "decoded length");
		ASSERT_STREQ((char *)out, plain[i], "decode");
		free(out);
	}
	ASSERT_OK(base64_decode("Zm9v\nYmFy\n", 10, &out, &n), "newlines skipped");
	free(out);
	ASSERT_OK(base64_decode("Zm8", 3, &out, &n), "unpadded");
	ASSERT_STREQ((char *)out, "fo", "unpadded value");
	free(out);
	ASSERT_EQ(base64_decode("Zm9v!", 5, &out, &n), -EINVAL, "bad character");
	ASSERT_EQ(base64_decode("Z", 1, &out, &n), -EINVAL, "one symbol");
	ASSERT_EQ(base64_decode("Zg==Zg==", 8, &out, &n), -EINVAL, "data after padding");
	ASSERT_EQ(base64_decode("Zg=", 3, &out, &n), -EINVAL, "short padding");
}

static void yaml(void)
{
	const char *text = "a: 1\nb: [x, \"2\", true, null]\nc:\n  d: &anchor {e: f}\n"
			   "  g: *anchor\n'h': '007'\n";
	struct errmsg em = { 0 };
	cJSON *root = NULL;
	char *out;

	if (!ASSERT_OK(yamljson_parse(text, strlen(text), "test", &root, &em), em.msg))
		return;
	out = cJSON_PrintUnformatted(root);
	ASSERT_STREQ(out, "{\"a\":1,\"b\":[\"x\",\"2\",true,null],\"c\":{\"d\":{\"e\":\"f\"},"
		     "\"g\":{\"e\":\"f\"}},\"h\":\"007\"}", "tree");
	free(out);
	cJSON_Delete(root);

	memset(&em, 0, sizeof(em));
	ASSERT_EQ(yamljson_parse("a: [1,\n", 7, "broken", &root, &em), -EINVAL, "broken");
	ASSERT_STRSTR(em.msg, "broken line", "message has the line");

	/* billion laughs: aliases that expand past the node limit */
	char bomb[2048];
	int i, n = snprintf(bomb, sizeof(bomb), "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 9; i++)
		n += snprintf(bomb + n, sizeof(bomb) - (size_t)n,
			      "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
			      i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(yamljson_parse(bomb, (size_t)n, "bomb", &root, &em), -E2BIG, "alias bomb");
}

static char tmpdir[64];

static const char *write_tmp(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	if (!tmpdir[0] && !mkdtemp(strcpy(tmpdir, "/tmp/test_k8s.XXXXXX")))
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

#define KUBECONFIG_HEAD "apiVersion: v1\nkind: Config\ncurrent-context: one\n" \
	"contexts:\n- name: one\n  context: {cluster: c1, user: u1, namespace: bpfd}\n" \
	"- name: two\n  context: {cluster: c2, user: u2}\n"

static void kubeconfig(void)
{
	struct k8s_config c;
	struct errmsg em = { 0 };
	const char *path;
	char tok[64];

	/* "LS0tLS1CRUdJTiBYLS0tLS0K" = "-----BEGIN X-----\n" */
	path = write_tmp("kc", KUBECONFIG_HEAD
			 "clusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443/\n"
			 "    certificate-authority: pki/ca.crt\n"
			 "- name: c2\n  cluster:\n    server: https://[::1]:6443\n"
			 "    certificate-authority-data: LS0tLS1CRUdJTiBYLS0tLS0K\n"
			 "    tls-server-name: api.example\n"
			 "users:\n- name: u1\n  user:\n    token: abc123\n"
			 "- name: u2\n  user:\n    client-certificate: /etc/c.crt\n"
			 "    client-key-data: LS0tLS1CRUdJTiBYLS0tLS0K\n");
	if (!ASSERT_TRUE(path, "write kubeconfig"))
		return;
	if (!ASSERT_OK(k8s_config_from_kubeconfig(path, NULL, &c, &em), em.msg))
		return;
	ASSERT_STREQ(c.server, "https://127.0.0.1:6443", "server, slash dropped");
	ASSERT_STRSTR(c.ca, "/pki/ca.crt", "relative CA path");
	ASSERT_TRUE(c.ca[0] == '/', "made absolute");
	ASSERT_STREQ(c.token, "abc123", "token");
	ASSERT_STREQ(c.namespace, "bpfd", "namespace");
	ASSERT_OK(k8s_config_token(&c, tok, sizeof(tok), &em), "token");
	ASSERT_STREQ(tok, "abc123", "token value");
	ASSERT_EQ(k8s_config_token(&c, tok, 4, &em), -ENOSPC, "token buffer too small");
	k8s_config_fini(&c);

	if (!ASSERT_OK(k8s_config_from_kubeconfig(path, "two", &c, &em), em.msg))
		return;
	ASSERT_STREQ(c.server, "https://[::1]:6443", "IPv6 server");
	ASSERT_STREQ(c.ca, "-----BEGIN X-----\n", "CA data decoded");
	ASSERT_STREQ(c.tls_server_name, "api.example", "tls-server-name");
	ASSERT_STREQ(c.cert, "/etc/c.crt", "absolute cert path kept");
	ASSERT_STREQ(c.key, "-----BEGIN X-----\n", "key data");
	ASSERT_TRUE(!c.token, "no token");
	k8s_config_fini(&c);

	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_config_from_kubeconfig(path, "three", &c, &em), -ENOENT, "no context");
	ASSERT_STRSTR(em.msg, "no context 'three'", "message");
}

static void kubeconfig_refused(void)
{
	static const struct {
		const char *users, *cluster_extra, *server, *want;
	} cases[] = {
		{ "    exec: {command: x}\n", "", "https://h:1", "uses 'exec'" },
		{ "    username: a\n", "", "https://h:1", "uses 'username'" },
		{ "    token: t\n", "    insecure-skip-tls-verify: true\n", "https://h:1",
		  "insecure-skip-tls-verify" },
		{ "    token: t\n", "", "http://h:1", "plain http is not supported" },
		{ "    token: t\n", "", "https://h:1/prefix", "has a path" },
		{ "    client-certificate: a.crt\n", "", "https://h:1", "no client key" },
		{ "    token: t\n", "    certificate-authority-data: bm90IHBlbQ==\n",
		  "https://h:1", "not base64 of a PEM" },
	};
	struct k8s_config c;
	struct errmsg em;
	char text[1024];
	const char *path;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), KUBECONFIG_HEAD "clusters:\n- name: c1\n  cluster:\n"
			 "    server: %s\n%susers:\n- name: u1\n  user:\n%s", cases[i].server,
			 cases[i].cluster_extra, cases[i].users);
		path = write_tmp("bad", text);
		memset(&em, 0, sizeof(em));
		ASSERT_ERR(k8s_config_from_kubeconfig(path, NULL, &c, &em), cases[i].want);
		ASSERT_STRSTR(em.msg, cases[i].want, "message");
	}
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_config_from_kubeconfig("/nonexistent/kc", NULL, &c, &em), -ENOENT,
		  "missing file");
	ASSERT_STRSTR(em.msg, "/nonexistent/kc", "names the file");
}

static void in_cluster(void)
{
	struct k8s_config c;
	struct errmsg em = { 0 };
	char dir[128], tok[64];

	unsetenv("KUBERNETES_SERVICE_HOST");
	ASSERT_EQ(k8s_config_in_cluster("/nonexistent", &c, &em), -ENOENT, "not in a pod");
	ASSERT_STRSTR(em.msg, "KUBERNETES_SERVICE_HOST", "message");
	if (!ASSERT_TRUE(write_tmp("token", "tok-1\n"), "token file"))
		return;
	write_tmp("namespace", "bpfd");
	write_tmp("ca.crt", "-----BEGIN CERTIFICATE-----\n");
	snprintf(dir, sizeof(dir), "%s", tmpdir);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	memset(&em, 0, sizeof(em));
	if (!ASSERT_OK(k8s_config_in_cluster(dir, &c, &em), em.msg))
		return;
	ASSERT_STREQ(c.server, "https://[fd00::1]:443", "server");
	ASSERT_STREQ(c.tls_server_name, K8S_IN_CLUSTER_NAME, "verified name");
	ASSERT_STREQ(c.namespace, "bpfd", "namespace");
	ASSERT_OK(k8s_config_token(&c, tok, sizeof(tok), &em), "token");
	ASSERT_STREQ(tok, "tok-1", "token");
	/* a rotated token is read again */
	write_tmp("token", "tok-2");
	ASSERT_OK(k8s_config_token(&c, tok, sizeof(tok), &em), "token again");
	ASSERT_STREQ(tok, "tok-2", "rotated token");
	k8s_config_fini(&c);
	setenv("KUBERNETES_SERVICE_PORT", "443x", 1);
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_config_in_cluster(dir, &c, &em), -EINVAL, "bad port");
}

/* ---- a scripted transport ---- */

struct answer {
	const char *method;	/* expected method */
	const char *path_has;	/* expected substring of the path */
	int err;		/* transport error instead of an answer */
	int status;
	const char *body;
	int cut;		/* deliver the body, then fail with -ECONNRESET */
};

struct fake {
	struct k8s_transport t;
	const struct answer *a;
	size_t n, next;
	char paths[16][1200];
	char bodies[16][512];
};

static int fake_request(struct k8s_transport *t, const struct k8s_req *req,
			struct k8s_resp *resp, struct errmsg *em)
{
	struct fake *f = (struct fake *)t;
	const struct answer *a;
	size_t len, off, n;
	int err;

	memset(resp, 0, sizeof(*resp));
	if (f->next >= f->n)
		return errmsg_set(em, -ECONNREFUSED, "script exhausted at %s %s", req->method,
				  req->path);
	if (f->next < 16) {
		snprintf(f->paths[f->next], sizeof(f->paths[0]), "%s %s", req->method, req->path);
		snprintf(f->bodies[f->next], sizeof(f->bodies[0]), "%.*s", (int)req->body_len,
			 req->body ? req->body : "");
	}
	a = &f->a[f->next++];
	if (strcmp(a->method, req->method) || !strstr(req->path, a->path_has)) {
		fprintf(stderr, "  unexpected request %s %s (want %s ...%s...)\n", req->method,
			req->path, a->method, a->path_has);
		return errmsg_set(em, -EPROTO, "unexpected request");
	}
	if (a->err)
		return errmsg_set(em, a->err, "scripted error %d", a->err);
	resp->status = a->status;
	len = a->body ? strlen(a->body) : 0;
	if (req->on_body && a->status / 100 == 2) {
		/* in odd pieces, as chunked encoding may cut it */
		for (off = 0; off < len; off += n) {
			n = len - off < 13 ? len - off : 13;
			err = req->on_body(req->arg, a->body + off, n, em);
			if (err)
				return err;
		}
		return a->cut ? errmsg_set(em, -ECONNRESET, "connection reset") : 0;
	}
	resp->body = strdup(a->body ? a->body : "");
	resp->body_len = len;
	return 0;
}

static void fake_init(struct fake *f, const struct answer *a, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->t.request = fake_request;
	f->a = a;
	f->n = n;
}

static void record_change(void *arg, enum k8s_event_type type, const cJSON *obj)
{
	struct collected *c = arg;
	size_t len = strlen(c->log);

	snprintf(c->log + len, sizeof(c->log) - len, "%s %s %s;", k8s_event_type_str(type),
		 k8s_meta_str(obj, "name"), k8s_meta_str(obj, "resourceVersion"));
	c->n++;
}

#define XDP "/apis/bpfd.dev/v1alpha1/xdpprograms"

static void reflector_list_watch_resume(void)
{
	const struct answer script[] = {
		/* paged list: two pages */
		{ "GET", XDP "?limit=2", 0, 200, LIST("100", "c1", OBJ("a", "10") "," OBJ("b", "11")) },
		{ "GET", "continue=c1", 0, 200, LIST("100", "", OBJ("c", "12")) },
		/* watch from the list's RV; the server ends it at timeoutSeconds */
		{ "GET", "watch=1&allowWatchBookmarks=true&resourceVersion=100", 0, 200,
		  EV("MODIFIED", OBJ("a", "101")) EV("DELETED", OBJ("b", "102"))
		  "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"150\"}}}\n" },
		/* resumes from the bookmark; this one drops mid-event */
		{ "GET", "resourceVersion=150", 0, 200, EV("ADDED", OBJ("d", "151"))
		  "{\"type\":\"ADDED\",\"obj", 1 },
		{ "GET", "resourceVersion=151", -ECONNREFUSED },
		{ "GET", "resourceVersion=151", -ECONNREFUSED },
		{ "GET", "resourceVersion=151", 0, 200, "" },
	};
	struct collected c = { 0 };
	struct k8s_reflector r;
	struct errmsg em = { 0 };
	struct fake f;
	cJSON *o;

	fake_init(&f, script, sizeof(script) / sizeof(script[0]));
	if (!ASSERT_OK(k8s_reflector_init(&r, &f.t, XDP, NULL, NULL, record_change, &c, &em),
		       "init"))
		return;
	r.page_size = 2;
	ASSERT_OK(k8s_reflector_step(&r, &em), em.msg);
	ASSERT_STREQ(r.rv, "100", "list rv");
	ASSERT_TRUE(r.synced, "synced");
	ASSERT_EQ(r.n, 3, "three cached");
	ASSERT_STREQ(c.log, "ADDED a 10;ADDED b 11;ADDED c 12;", "initial adds");
	c.log[0] = '\0';
	ASSERT_OK(k8s_reflector_step(&r, &em), em.msg);
	ASSERT_STREQ(c.log, "MODIFIED a 101;DELETED b 102;", "watch events");
	ASSERT_STREQ(r.rv, "150", "bookmark moved the rv");
	ASSERT_EQ(r.bookmarks, 1, "bookmarks");
	c.log[0] = '\0';
	ASSERT_OK(k8s_reflector_step(&r, &em), "a dropped watch is no error");
	ASSERT_STREQ(c.log, "ADDED d 151;", "the complete event before the cut");
	ASSERT_STREQ(r.rv, "151", "rv of the last complete event");
	ASSERT_EQ(k8s_reflector_step(&r, &em), -ECONNREFUSED, "server down");
	ASSERT_EQ(r.backoff_ms, K8S_BACKOFF_MIN_MS, "backoff starts");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_reflector_step(&r, &em), -ECONNREFUSED, "still down");
	ASSERT_EQ(r.backoff_ms, 2 * K8S_BACKOFF_MIN_MS, "backoff doubles");
	ASSERT_STREQ(r.rv, "151", "rv kept while down");
	ASSERT_OK(k8s_reflector_step(&r, &em), "back");
	ASSERT_EQ(r.backoff_ms, 0, "backoff reset");
	ASSERT_EQ(r.lists, 1, "one list in all");
	o = k8s_reflector_get(&r, NULL, "a");
	ASSERT_STREQ(k8s_meta_str(o, "resourceVersion"), "101", "cached a");
	cJSON_Delete(o);
	ASSERT_TRUE(!k8s_reflector_get(&r, NULL, "b"), "b deleted");
	o = k8s_reflector_list(&r);
	ASSERT_EQ(cJSON_GetArraySize(o), 3, "a c d");
	cJSON_Delete(o);
	k8s_reflector_fini(&r);
}

static void reflector_expired(void)
{
	const struct answer script[] = {
		{ "GET", "limit=", 0, 200, LIST("5", "", OBJ("a", "3") "," OBJ("b", "4")) },
		/* 1.20 answers a compacted RV with 200 + an ERROR event 410 */
		{ "GET", "resourceVersion=5", 0, 200, GONE_EVENT },
		/* the re-list shows what happened meanwhile */
		{ "GET", "limit=", 0, 200, LIST("300", "", OBJ("a", "250") "," OBJ("c", "260")) },
		{ "GET", "resourceVersion=300", 0, 410, STATUS(410, "Gone", "too old") },
		{ "GET", "limit=", 0, 200, LIST("301", "", OBJ("a", "250") "," OBJ("c", "260")) },
	};
	struct collected c = { 0 };
	struct k8s_reflector r;
	struct errmsg em = { 0 };
	struct fake f;

	fake_init(&f, script, sizeof(script) / sizeof(script[0]));
	k8s_reflector_init(&r, &f.t, XDP, "app=x", "metadata.name=a", record_change, &c, &em);
	ASSERT_OK(k8s_reflector_step(&r, &em), em.msg);
	ASSERT_STRSTR(f.paths[0], "labelSelector=app%3Dx&fieldSelector=metadata.name%3Da",
		      "selectors encoded");
	c.log[0] = '\0';
	ASSERT_OK(k8s_reflector_step(&r, &em), "410 event");
	ASSERT_EQ(r.expired, 1, "expired counted");
	ASSERT_STREQ(r.rv, "", "rv dropped");
	ASSERT_EQ(r.backoff_ms, 0, "no backoff for 410");
	ASSERT_OK(k8s_reflector_step(&r, &em), "re-list");
	ASSERT_STREQ(c.log, "MODIFIED a 250;ADDED c 260;DELETED b 4;", "the diff");
	ASSERT_OK(k8s_reflector_step(&r, &em), "HTTP 410");
	ASSERT_EQ(r.expired, 2, "expired twice");
	c.log[0] = '\0';
	ASSERT_OK(k8s_reflector_step(&r, &em), "re-list 2");
	ASSERT_STREQ(c.log, "", "nothing changed");
	ASSERT_STREQ(r.rv, "301", "new rv");
	k8s_reflector_fini(&r);
}

/* A watch answered 200 that breaks before any event (an idle watch: the server went
 * away, or a load balancer cut it) resumes from its RV like one that had events; a
 * connection that breaks before any answer is a failure (backoff). */
static void reflector_idle_watch_cut(void)
{
	const struct answer script[] = {
		{ "GET", "limit=", 0, 200, LIST("40", "", OBJ("a", "30")) },
		{ "GET", "resourceVersion=40", 0, 200, "", 1 },
		{ "GET", "resourceVersion=40", -ECONNRESET },
		{ "GET", "resourceVersion=40", 0, 200, EV("MODIFIED", OBJ("a", "41")) },
	};
	struct collected c = { 0 };
	struct k8s_reflector r;
	struct errmsg em = { 0 };
	struct fake f;

	fake_init(&f, script, sizeof(script) / sizeof(script[0]));
	k8s_reflector_init(&r, &f.t, XDP, NULL, NULL, record_change, &c, &em);
	ASSERT_OK(k8s_reflector_step(&r, &em), em.msg);
	ASSERT_OK(k8s_reflector_step(&r, &em), "an idle watch cut is no error");
	ASSERT_EQ(r.backoff_ms, 0, "no backoff");
	ASSERT_STREQ(r.rv, "40", "rv kept");
	ASSERT_EQ(k8s_reflector_step(&r, &em), -ECONNRESET, "reset before an answer");
	ASSERT_EQ(r.backoff_ms, K8S_BACKOFF_MIN_MS, "backoff");
	ASSERT_STREQ(r.rv, "40", "rv still kept");
	c.log[0] = '\0';
	memset(&em, 0, sizeof(em));
	ASSERT_OK(k8s_reflector_step(&r, &em), em.msg);
	ASSERT_STREQ(c.log, "MODIFIED a 41;", "resumed");
	ASSERT_EQ(r.lists, 1, "no re-list");
	k8s_reflector_fini(&r);
}

static void reflector_errors(void)
{
	const struct answer script[] = {
		{ "GET", "limit=", 0, 403, STATUS(403, "Forbidden", "User \\\"system:node:node1\\\" "
			  "cannot list resource \\\"xdpprograms\\\"") },
		{ "GET", "limit=", 0, 404, "404 page not found" },
		{ "GET", "limit=", 0, 200, "{\"items\":[]}" },
		/* the continue token expired mid-list: start again */
		{ "GET", "limit=", 0, 200, LIST("7", "c1", OBJ("a", "3")) },
		{ "GET", "continue=c1", 0, 410, STATUS(410, "Expired", "continue expired") },
		{ "GET", "limit=", 0, 200, LIST("9", "", OBJ("b", "8")) },
		{ "GET", "resourceVersion=9", 0, 200,
		  "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":500,"
		  "\"reason\":\"InternalError\",\"message\":\"etcd down\"}}\n" },
	};
	struct collected c = { 0 };
	struct k8s_reflector r;
	struct errmsg em = { 0 };
	struct fake f;

	fake_init(&f, script, sizeof(script) / sizeof(script[0]));
	k8s_reflector_init(&r, &f.t, XDP, NULL, NULL, record_change, &c, &em);
	ASSERT_EQ(k8s_reflector_step(&r, &em), -EPERM, "403");
	ASSERT_STRSTR(em.msg, "cannot list resource", "API message kept");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_reflector_step(&r, &em), -ENOENT, "404 (CRD missing)");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_reflector_step(&r, &em), -EPROTO, "not a list");
	ASSERT_EQ(r.failures, 3, "failures");
	ASSERT_EQ(r.backoff_ms, 4 * K8S_BACKOFF_MIN_MS, "backoff grows");
	memset(&em, 0, sizeof(em));
	ASSERT_OK(k8s_reflector_step(&r, &em), em.msg);
	ASSERT_STREQ(c.log, "ADDED b 8;", "only the restarted list counts");
	ASSERT_EQ(r.n, 1, "one cached");
	ASSERT_EQ(k8s_reflector_step(&r, &em), -EIO, "ERROR event 500");
	ASSERT_STRSTR(em.msg, "etcd down", "message");
	k8s_reflector_fini(&r);
}

static void path_and_query(void)
{
	char p[K8S_MAX_PATH];
	struct errmsg em = { 0 };

	ASSERT_OK(k8s_path(p, sizeof(p), "bpfd.dev", "v1alpha1", "bpfprograms", NULL, "x-node1",
			   "status", &em), "path");
	ASSERT_STREQ(p, "/apis/bpfd.dev/v1alpha1/bpfprograms/x-node1/status", "group path");
	ASSERT_OK(k8s_path(p, sizeof(p), "", "v1", "secrets", "bpfd", "pull", NULL, &em), "core");
	ASSERT_STREQ(p, "/api/v1/namespaces/bpfd/secrets/pull", "core path");
	ASSERT_EQ(k8s_path(p, sizeof(p), "", "v1", "nodes", NULL, "../x", NULL, &em), -EINVAL,
		  "bad name");
	ASSERT_EQ(k8s_path(p, 20, "bpfd.dev", "v1alpha1", "xdpprograms", NULL, NULL, NULL, &em),
		  -ENAMETOOLONG, "too long");
	snprintf(p, sizeof(p), "/api/v1/nodes");
	ASSERT_OK(k8s_path_query(p, sizeof(p), "labelSelector", "a in (x,y),!b", &em), "query");
	ASSERT_STREQ(p, "/api/v1/nodes?labelSelector=a%20in%20%28x%2Cy%29%2C%21b", "encoded");
	ASSERT_EQ(k8s_path_query(p, 60, "x", "yyyyyyyyyyyyyyyyyyyyyyyyyy", &em), -ENAMETOOLONG,
		  "query too long");
	ASSERT_STREQ(p, "/api/v1/nodes?labelSelector=a%20in%20%28x%2Cy%29%2C%21b", "unchanged");
}

static int add_label(void *arg, cJSON *obj, struct errmsg *em)
{
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata"), *labels;

	(void)em;
	(*(int *)arg)++;
	labels = cJSON_AddObjectToObject(meta, "labels");
	cJSON_AddStringToObject(labels, "k", "v");
	return 1;
}

static void update_conflict_retry(void)
{
	const struct answer script[] = {
		{ "GET", XDP "/a", 0, 200, OBJ("a", "10") },
		{ "PUT", XDP "/a", 0, 409, STATUS(409, "Conflict", "the object has been modified") },
		{ "GET", XDP "/a", 0, 200, OBJ("a", "11") },
		{ "PUT", XDP "/a", 0, 200, OBJ("a", "12") },
	};
	struct errmsg em = { 0 };
	struct fake f;
	cJSON *out = NULL;
	int calls = 0;

	fake_init(&f, script, sizeof(script) / sizeof(script[0]));
	if (!ASSERT_OK(k8s_update_retry(&f.t, XDP "/a", NULL, add_label, &calls, &out, &em),
		       em.msg))
		return;
	ASSERT_EQ(calls, 2, "mutated twice");
	ASSERT_STRSTR(f.bodies[3], "\"resourceVersion\":\"11\"", "second PUT carries the new rv");
	ASSERT_STRSTR(f.bodies[3], "\"labels\":{\"k\":\"v\"}", "and the change");
	ASSERT_STREQ(k8s_meta_str(out, "resourceVersion"), "12", "result");
	cJSON_Delete(out);
}

static void calls_map_errors(void)
{
	const struct answer script[] = {
		{ "POST", XDP, 0, 409, STATUS(409, "AlreadyExists", "xdpprograms \\\"a\\\" already exists") },
		{ "PATCH", XDP "/a", 0, 415, STATUS(415, "UnsupportedMediaType", "x") },
		{ "DELETE", XDP "/a", 0, 404, STATUS(404, "NotFound", "xdpprograms \\\"a\\\" not found") },
		{ "GET", XDP "/a", -ETIMEDOUT },
	};
	struct errmsg em = { 0 };
	cJSON *obj = cJSON_Parse(OBJ("a", "1")), *out = NULL;
	struct k8s_status st;
	struct fake f;

	fake_init(&f, script, sizeof(script) / sizeof(script[0]));
	ASSERT_EQ(k8s_create(&f.t, XDP, obj, &out, &st, &em), -EEXIST, "exists");
	ASSERT_STRSTR(em.msg, "POST " XDP ": 409 AlreadyExists: xdpprograms \"a\" already exists",
		      "message");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_merge_patch(&f.t, XDP "/a", obj, NULL, &st, &em), -EOPNOTSUPP, "415");
	ASSERT_STRSTR(f.paths[1], "PATCH", "patch method");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_delete(&f.t, XDP "/a", NULL, &st, &em), -ENOENT, "404");
	ASSERT_EQ(st.code, 404, "status code");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(k8s_get(&f.t, XDP "/a", &out, NULL, &em), -ETIMEDOUT, "transport error");
	ASSERT_STRSTR(em.msg, "GET " XDP "/a", "names the call");
	cJSON_Delete(obj);
}


/* ---- the agent's objects ---- */

static void bpfprog_points_and_names(void)
{
	const struct bpfprog_kind *xdp = bpfprog_kind_find("XdpProgram");
	const struct bpfprog_kind *tp = bpfprog_kind_find("TracepointProgram");
	const struct bpfprog_kind *fe = bpfprog_kind_find("FentryProgram");
	cJSON *p1 = cJSON_Parse("{\"metadata\":{\"name\":\"Pass_All\",\"uid\":\"u-1\"},"
				"\"spec\":{\"interfaceselector\":{\"interfaces\":[\"eth0\",\"veth_1\"]}}}");
	cJSON *p2 = cJSON_Parse("{\"metadata\":{\"name\":\"p\",\"uid\":\"u\"},"
				"\"spec\":{\"interfaceselector\":{\"primarynodeinterface\":true}}}");
	cJSON *p3 = cJSON_Parse("{\"metadata\":{\"name\":\"kill\",\"uid\":\"u-3\"},"
				"\"spec\":{\"names\":[\"syscalls/sys_enter_kill\"]}}");
	cJSON *p4 = cJSON_Parse("{\"metadata\":{\"name\":\"f\",\"uid\":\"u\"},\"spec\":{}}");
	const char *pts[BPFPROG_MAX_POINTS];
	struct errmsg em = { 0 };
	char name[K8S_MAX_NAME], fin[128];
	cJSON *bp;

	ASSERT_EQ(bpfprog_points(xdp, p1, NULL, pts, &em), 2, "two interfaces");
	ASSERT_STREQ(pts[1], "veth_1", "second");
	ASSERT_EQ(bpfprog_points(xdp, p2, "ens3", pts, &em), 1, "primary");
	ASSERT_STREQ(pts[0], "ens3", "primary interface");
	ASSERT_EQ(bpfprog_points(xdp, p2, NULL, pts, &em), -EINVAL, "no primary");
	ASSERT_EQ(bpfprog_points(tp, p3, NULL, pts, &em), 1, "one tracepoint");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(bpfprog_points(fe, p4, NULL, pts, &em), -EINVAL, "fentry without func_name");
	ASSERT_STRSTR(em.msg, "names no attach point", "message");

	ASSERT_OK(bpfprog_name("kill", "node1", "syscalls/sys_enter_kill", name, sizeof(name)), "name");
	ASSERT_STREQ(name, "kill-node1-syscalls-sys-enter-kill", "the original's tracepoint naming");
	ASSERT_OK(bpfprog_name("Pass_All", "node1", "veth_1", name, sizeof(name)), "name");
	ASSERT_STREQ(name, "pass-all-node1-veth-1", "lower case, '_' to '-'");
	bpfprog_finalizer(tp, fin, sizeof(fin));
	ASSERT_STREQ(fin, "bpfd.dev.tracepointprogramcontroller/finalizer", "finalizer");

	bp = bpfprog_new(xdp, p1, "node1", "eth0", &em);
	if (ASSERT_TRUE(bp, em.msg)) {
		ASSERT_STREQ(k8s_meta_str(bp, "name"), "pass-all-node1-eth0", "name");
		ASSERT_STREQ(k8s_meta_label(bp, "bpfd.dev/ownedByProgram"), "Pass_All", "owner label");
		ASSERT_STREQ(k8s_meta_label(bp, "kubernetes.io/hostname"), "node1", "node label");
		ASSERT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(k8s_json_get(bp,
			     "metadata.annotations"), "bpfd.dev.xdpprogramcontroller/interface")),
			     "eth0", "attach point annotation");
		ASSERT_TRUE(k8s_meta_has_finalizer(bp, "bpfd.dev.xdpprogramcontroller/finalizer"),
			    "finalizer");
		ASSERT_STREQ(k8s_json_str(cJSON_GetArrayItem((cJSON *)k8s_json_get(bp,
			     "metadata.ownerReferences"), 0), "uid"), "u-1", "owner uid");
		ASSERT_STREQ(k8s_json_str(bp, "spec.type"), "xdp", "type");
		cJSON_Delete(bp);
	}
	cJSON_Delete(p1);
	cJSON_Delete(p2);
	cJSON_Delete(p3);
	cJSON_Delete(p4);
}

static void bpfprog_node(void)
{
	cJSON *node = cJSON_Parse("{\"metadata\":{\"name\":\"node1\",\"labels\":{\"role\":\"edge\"}},"
				  "\"status\":{\"addresses\":[{\"type\":\"Hostname\",\"address\":\"n1\"},"
				  "{\"type\":\"InternalIP\",\"address\":\"10.1.2.3\"}]}}");
	cJSON *p = cJSON_Parse("{\"spec\":{\"nodeselector\":{\"matchLabels\":{\"role\":\"edge\"}}}}");
	cJSON *q = cJSON_Parse("{\"spec\":{\"nodeselector\":{\"matchLabels\":{\"role\":\"core\"}}}}");
	struct errmsg em = { 0 };

	ASSERT_EQ(bpfprog_node_selected(p, node, &em), 1, "selected");
	ASSERT_EQ(bpfprog_node_selected(q, node, &em), 0, "not selected");
	ASSERT_STREQ(bpfprog_node_internal_ip(node), "10.1.2.3", "InternalIP");
	cJSON_Delete(node);
	cJSON_Delete(p);
	cJSON_Delete(q);
}

TEST_MAIN("k8s",
	  TEST(event_parse), TEST(status_body), TEST(list_parse), TEST(selector),
	  TEST(watch_split_anywhere), TEST(watch_bad_and_big), TEST(b64), TEST(yaml),
	  TEST(kubeconfig), TEST(kubeconfig_refused), TEST(in_cluster),
	  TEST(reflector_list_watch_resume), TEST(reflector_expired), TEST(reflector_idle_watch_cut),
	  TEST(reflector_errors),
	  TEST(path_and_query), TEST(update_conflict_retry), TEST(calls_map_errors),
	  TEST(bpfprog_points_and_names), TEST(bpfprog_node))
