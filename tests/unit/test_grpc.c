/* SPDX-License-Identifier: Apache-2.0 */
/* test_grpc.c - gRPC framing, grpc-message encoding, grpc-timeout, errmap, and the
 * h2 server/client sessions and rpc method table wired together in memory */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <nghttp2/nghttp2.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "harness.h"
#include "core/wire/errmap.h"
#include "core/wire/grpc.h"
#include "core/wire/h2.h"
#include "core/rpc.h"
#include "core/wire/server.h"

static void hdr_roundtrip(void)
{
	uint8_t h[GRPC_HDR_LEN];
	bool comp;
	uint32_t len;

	grpc_hdr_put(h, 0x01020304);
	ASSERT_EQ(h[0], 0, "flag");
	ASSERT_EQ(h[1], 1, "big-endian");
	ASSERT_OK(grpc_hdr_parse(h, &comp, &len), "parse");
	ASSERT_EQ(len, 0x01020304, "len");
	ASSERT_FALSE(comp, "not compressed");
	h[0] = 2;
	ASSERT_EQ(grpc_hdr_parse(h, &comp, &len), -EINVAL, "bad flag");
}

static void percent_encode(void)
{
	char out[64];
	size_t n;

	n = grpc_percent_encode("a b%c\n\xc3\xa9", out, sizeof(out));
	ASSERT_STREQ(out, "a b%25c%0A%C3%A9", "encoded");
	ASSERT_EQ(n, strlen("a b%25c%0A%C3%A9"), "length");
	/* truncation never leaves half an escape */
	n = grpc_percent_encode("ab%", out, 4);
	ASSERT_STREQ(out, "ab", "truncated before the escape");
	ASSERT_EQ(n, 5, "needed length");
	ASSERT_EQ(grpc_percent_encode("xyz", NULL, 0), 3, "sizing call");
}

static void percent_decode(void)
{
	char out[64];

	grpc_percent_decode("a%20b%zz%4", strlen("a%20b%zz%4"), out, sizeof(out));
	ASSERT_STREQ(out, "a b%zz%4", "invalid escapes kept");
	grpc_percent_decode("%C3%A9%25", 9, out, sizeof(out));
	ASSERT_STREQ(out, "\xc3\xa9%", "utf-8 and percent");
	ASSERT_EQ(grpc_percent_decode("abcdef", 6, out, 4), 6, "length beyond size");
	ASSERT_STREQ(out, "abc", "truncated");
}

static void timeout_parse(void)
{
	static const struct { const char *s; int err; uint64_t ms; } t[] = {
		{ "1n", 0, 1 }, { "1000000n", 0, 1 }, { "1000001n", 0, 2 },
		{ "999u", 0, 1 }, { "100m", 0, 100 }, { "3S", 0, 3000 },
		{ "2M", 0, 120000 }, { "1H", 0, 3600000 }, { "99999999m", 0, 99999999 },
		{ "4966m", 0, 4966 }, { "123456789m", -EINVAL, 0 }, { "", -EINVAL, 0 },
		{ "5", -EINVAL, 0 }, { "5x", -EINVAL, 0 }, { "-1m", -EINVAL, 0 },
		{ "m", -EINVAL, 0 }, { "1 S", -EINVAL, 0 },
	};
	uint64_t ms;
	size_t i;
	int err;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ms = 0;
		err = grpc_timeout_parse(t[i].s, strlen(t[i].s), &ms);
		ASSERT_EQ(err, t[i].err, t[i].s);
		if (!err)
			ASSERT_EQ(ms, t[i].ms, t[i].s);
	}
}

static void timeout_format(void)
{
	char buf[32];
	uint64_t ms;

	grpc_timeout_format(2500, buf, sizeof(buf));
	ASSERT_STREQ(buf, "2500m", "ms");
	grpc_timeout_format(1000ull * 100000000, buf, sizeof(buf));
	ASSERT_STREQ(buf, "1666666M", "8 digits at most: minutes");
	ASSERT_OK(grpc_timeout_parse(buf, strlen(buf), &ms), "reparse");
}

static void reader_split(void)
{
	static const uint8_t msg[] = { 0, 0, 0, 0, 3, 'a', 'b', 'c' };
	struct grpc_reader r;
	size_t i;

	grpc_reader_init(&r, 16);
	ASSERT_EQ(grpc_reader_finish(&r), -ENODATA, "nothing yet");
	for (i = 0; i < sizeof(msg); i++) {
		ASSERT_OK(grpc_reader_feed(&r, msg + i, 1), "byte by byte");
		if (i < sizeof(msg) - 1)
			ASSERT_EQ(grpc_reader_finish(&r), -EPROTO, "cut short");
	}
	ASSERT_OK(grpc_reader_finish(&r), "complete");
	ASSERT_EQ(r.buf.len, 3, "len");
	ASSERT_TRUE(!memcmp(r.buf.data, "abc", 3), "content");
	ASSERT_EQ(grpc_reader_feed(&r, msg, 1), -EPROTO, "second message");
	grpc_reader_fini(&r);
}

static void reader_limit(void)
{
	static const uint8_t big[] = { 0, 0, 0x40, 0, 1 };	/* 4 MiB + 1 */
	static const uint8_t empty[] = { 0, 0, 0, 0, 0 };
	struct grpc_reader r;

	grpc_reader_init(&r, 4u << 20);
	/* refused at the prefix, before any of the body was buffered */
	ASSERT_EQ(grpc_reader_feed(&r, big, sizeof(big)), -EMSGSIZE, "too big");
	ASSERT_EQ(r.buf.cap, 0, "nothing allocated");
	grpc_reader_fini(&r);
	grpc_reader_init(&r, 0);
	ASSERT_OK(grpc_reader_feed(&r, empty, sizeof(empty)), "empty message");
	ASSERT_OK(grpc_reader_finish(&r), "empty is complete");
	grpc_reader_fini(&r);
}

static void errmap_table(void)
{
	ASSERT_EQ(grpc_status_from_errno(0), GRPC_OK, "0");
	ASSERT_EQ(grpc_status_from_errno(-EINVAL), GRPC_INVALID_ARGUMENT, "EINVAL");
	ASSERT_EQ(grpc_status_from_errno(-ENOENT), GRPC_NOT_FOUND, "ENOENT");
	ASSERT_EQ(grpc_status_from_errno(-EEXIST), GRPC_ALREADY_EXISTS, "EEXIST");
	ASSERT_EQ(grpc_status_from_errno(-EPERM), GRPC_PERMISSION_DENIED, "EPERM");
	ASSERT_EQ(grpc_status_from_errno(-EACCES), GRPC_PERMISSION_DENIED, "EACCES");
	ASSERT_EQ(grpc_status_from_errno(-ENOSPC), GRPC_RESOURCE_EXHAUSTED, "ENOSPC");
	ASSERT_EQ(grpc_status_from_errno(-E2BIG), GRPC_RESOURCE_EXHAUSTED, "E2BIG");
	ASSERT_EQ(grpc_status_from_errno(-EOPNOTSUPP), GRPC_UNIMPLEMENTED, "EOPNOTSUPP");
	ASSERT_EQ(grpc_status_from_errno(-ETIMEDOUT), GRPC_DEADLINE_EXCEEDED, "ETIMEDOUT");
	ASSERT_EQ(grpc_status_from_errno(-EBUSY), GRPC_UNAVAILABLE, "EBUSY");
	ASSERT_EQ(grpc_status_from_errno(-ECANCELED), GRPC_CANCELLED, "ECANCELED");
	ASSERT_EQ(grpc_status_from_errno(-EXDEV), GRPC_INTERNAL, "unknown");
	ASSERT_STREQ(grpc_status_name(GRPC_NOT_FOUND), "NOT_FOUND", "name");
	ASSERT_STREQ(grpc_status_name(99), "UNKNOWN", "out of range");
}

/* ---- fake program manager: programs 3, 7 (owned, metadata app=a) and 9 ---- */

static int fake_next(void *ctx, uint32_t id, uint32_t *ret)
{
	static const uint32_t ids[] = { 3, 7, 9 };
	size_t i;

	(void)ctx;
	for (i = 0; i < 3; i++)
		if (ids[i] > id) {
			*ret = ids[i];
			return 0;
		}
	return -ENOENT;
}

static int fake_kernel(void *ctx, uint32_t id, bpfd_v1_KernelProgramInfo *k)
{
	(void)ctx;
	if (id != 3 && id != 7 && id != 9)
		return -ENOENT;
	k->id = id;
	k->program_type = id == 7 ? 28 : 6;	/* 7 is EXT in the kernel */
	snprintf(k->name, sizeof(k->name), "prog%u", id);
	return 0;
}

static int fake_info(void *ctx, uint32_t id, bpfd_v1_ProgramInfo *p, uint32_t *type)
{
	(void)ctx;
	if (id != 7)
		return -ENOENT;
	snprintf(p->name, sizeof(p->name), "owned");
	p->metadata_count = 1;
	snprintf(p->metadata[0].key, sizeof(p->metadata[0].key), "app");
	snprintf(p->metadata[0].value, sizeof(p->metadata[0].value), "a");
	*type = 6;	/* a dispatcher member reported as xdp */
	return 0;
}

static int fake_load(void *ctx, const bpfd_v1_LoadRequest *req, const struct caller *caller,
		     bpfd_v1_LoadResponse *resp, struct errmsg *em)
{
	(void)ctx, (void)req, (void)resp, (void)caller;
	return errmsg_set(em, -EOPNOTSUPP, "not here: 100%% fake");
}

static int fake_unload(void *ctx, uint32_t id, struct errmsg *em)
{
	char log[4000];

	(void)ctx;
	if (id == 5) {	/* a long message, like a verifier log */
		memset(log, 'x', sizeof(log) - 1);
		log[sizeof(log) - 1] = '\0';
		return errmsg_set(em, -EINVAL, "head %s tail", log);
	}
	return errmsg_set(em, -ENOENT, "bpfd does not own program %u", id);
}

static int fake_pull(void *ctx, const bpfd_v1_PullBytecodeRequest *req,
		     bpfd_v1_PullBytecodeResponse *resp, struct errmsg *em)
{
	(void)ctx, (void)req, (void)resp, (void)em;
	return 0;
}

static const struct rpc_ops fake_ops = {
	.load = fake_load, .unload = fake_unload, .pull_bytecode = fake_pull,
	.prog_next = fake_next, .prog_kernel = fake_kernel, .prog_info = fake_info,
};

/* Run one call through a client session and a server session joined in memory. */
static int call(const char *path, const pb_msgdesc_t *rf, const void *req, size_t max_msg,
		struct h2_client_result **ret, struct h2_client **ret_c)
{
	struct rpc rpc = { .ops = &fake_ops };
	struct h2_server_opts so = { .max_msg = max_msg, .handler = rpc_handle, .arg = &rpc,
				     .peer = "test" };
	static struct h2_server *s;
	struct h2_client *c = NULL;
	uint8_t buf[1 << 16];
	pb_ostream_t os = pb_ostream_from_buffer(buf, sizeof(buf));
	const uint8_t *p;
	ssize_t n;
	int i, err;

	if (!pb_encode(&os, rf, req))
		return -EINVAL;
	err = h2_server_new(&so, &s) ?: h2_client_new(&c);
	if (err)
		return err;
	err = h2_client_call(c, "http", "localhost", path, buf, os.bytes_written, 5000, 1 << 20);
	for (i = 0; !err && i < 100 && !h2_client_result(c)->closed; i++) {
		while (!err && (n = h2_client_send(c, &p)) > 0)
			err = h2_server_recv(s, p, n);
		while (!err && (n = h2_server_send(s, &p)) > 0)
			err = h2_client_recv(c, p, n);
	}
	h2_server_free(s);
	*ret = h2_client_result(c);
	*ret_c = c;
	return err;
}

/* A call that must end with status: its result for the caller to check the
 * message in (all zero when the call itself failed); the caller frees *ret_c. */
static const struct h2_client_result *call_status(const char *path, const pb_msgdesc_t *rf,
						  const void *req, size_t max_msg,
						  const char *what, int status,
						  const char *status_what,
						  struct h2_client **ret_c)
{
	static const struct h2_client_result failed;
	struct h2_client_result *res = NULL;

	*ret_c = NULL;
	if (!ASSERT_OK(call(path, rf, req, max_msg, &res, ret_c), what) || !res)
		return &failed;
	ASSERT_EQ(res->grpc_status, status, status_what);
	return res;
}

struct seen {
	uint32_t ids[8];
	bool owned[8];
	uint32_t types[8];
	size_t n;
};

static bool seen_decode(pb_istream_t *s, const pb_field_t *f, void **arg)
{
	static bpfd_v1_ListResponse_ListResult res;
	struct seen *sn = *arg;

	(void)f;
	memset(&res, 0, sizeof(res));
	if (!pb_decode(s, bpfd_v1_ListResponse_ListResult_fields, &res) || sn->n == 8)
		return false;
	sn->ids[sn->n] = res.kernel_info.id;
	sn->owned[sn->n] = res.has_info;
	sn->types[sn->n++] = res.kernel_info.program_type;
	return true;
}

static int list(const bpfd_v1_ListRequest *req, struct seen *sn)
{
	bpfd_v1_ListResponse resp = { .results = { .funcs.decode = seen_decode, .arg = sn } };
	struct h2_client_result *res;
	struct h2_client *c = NULL;
	pb_istream_t is;
	int err;

	memset(sn, 0, sizeof(*sn));
	err = call("/bpfd.v1.Bpfd/List", bpfd_v1_ListRequest_fields, req, 1 << 20, &res, &c);
	if (!err && res->grpc_status != GRPC_OK)
		err = -EPROTO;
	if (!err) {
		is = pb_istream_from_buffer(res->body.buf.data, res->body.buf.len);
		if (!pb_decode(&is, bpfd_v1_ListResponse_fields, &resp))
			err = -EBADMSG;
	}
	h2_client_free(c);
	return err;
}

static void rpc_list_filters(void)
{
	static bpfd_v1_ListRequest req;
	struct seen sn;

	memset(&req, 0, sizeof(req));
	if (!ASSERT_OK(list(&req, &sn), "list all"))
		return;
	ASSERT_EQ(sn.n, 3, "three programs");
	ASSERT_EQ(sn.ids[1], 7, "order");
	ASSERT_TRUE(sn.owned[1] && !sn.owned[0] && !sn.owned[2], "only 7 owned");
	ASSERT_EQ(sn.types[1], 6, "managed kind reported, not EXT");

	req.has_bpfd_programs_only = req.bpfd_programs_only = true;
	ASSERT_OK(list(&req, &sn), "owned only");
	ASSERT_EQ(sn.n, 1, "one owned");

	memset(&req, 0, sizeof(req));
	req.has_program_type = true;
	req.program_type = 6;
	ASSERT_OK(list(&req, &sn), "type xdp");
	ASSERT_EQ(sn.n, 3, "all are xdp as reported");

	memset(&req, 0, sizeof(req));
	req.match_metadata_count = 1;
	strcpy(req.match_metadata[0].key, "app");
	strcpy(req.match_metadata[0].value, "a");
	ASSERT_OK(list(&req, &sn), "metadata");
	ASSERT_EQ(sn.n, 1, "metadata match");
	ASSERT_EQ(sn.ids[0], 7, "the owned one");
	req.match_metadata_count = 2;
	strcpy(req.match_metadata[1].key, "app");
	strcpy(req.match_metadata[1].value, "b");
	ASSERT_OK(list(&req, &sn), "metadata, all pairs");
	ASSERT_EQ(sn.n, 0, "second pair does not match");
}

/* ---- a List's walk: ops with a walk of their own, shared by Lists read before it ---- */

static struct {
	int walks;
	int asked;		/* want_kernel answered yes */
	uint64_t changes;
} fw;

static int fake_walk(void *ctx, struct rpc_walk *w)
{
	static bpfd_v1_ProgramInfo info;
	static bpfd_v1_KernelProgramInfo k;
	uint32_t id = 0, type = 0;
	bool owned;
	int err;

	fw.walks++;
	while (!fake_next(ctx, id, &id)) {
		owned = !fake_info(ctx, id, &info, &type);
		if (!w->want_kernel(w, id, owned, false)) {
			err = w->prog(w, id, NULL, NULL, 0, false);
		} else {
			fw.asked++;
			memset(&k, 0, sizeof(k));
			fake_kernel(ctx, id, &k);
			if (owned)
				k.program_type = type;
			err = w->prog(w, id, &k, owned ? &info : NULL, k.program_type, false);
		}
		if (err)
			return err;
	}
	return 0;
}

static uint64_t fake_changes(void *ctx)
{
	(void)ctx;
	return fw.changes;
}

static const struct rpc_ops walk_ops = {
	.load = fake_load, .unload = fake_unload, .pull_bytecode = fake_pull,
	.prog_next = fake_next, .prog_kernel = fake_kernel, .prog_info = fake_info,
	.prog_walk = fake_walk, .changes = fake_changes,
};

/* One List of every program through rpc_handle(), its request read at recv_ns. */
static int list_at(uint64_t recv_ns, struct seen *sn)
{
	static bpfd_v1_ListRequest req;
	bpfd_v1_ListResponse resp = { .results = { .funcs.decode = seen_decode, .arg = sn } };
	uint8_t buf[64];
	pb_ostream_t os = pb_ostream_from_buffer(buf, sizeof(buf));
	struct grpc_call cl = { .path = "/bpfd.v1.Bpfd/List", .msg = buf, .recv_ns = recv_ns };
	struct rpc rpc = { .ops = &walk_ops };
	struct grpc_reply r;
	pb_istream_t is;
	int err = 0;

	memset(sn, 0, sizeof(*sn));
	memset(&req, 0, sizeof(req));
	if (!pb_encode(&os, bpfd_v1_ListRequest_fields, &req))
		return -EINVAL;
	cl.len = os.bytes_written;
	grpc_reply_init(&r, 1 << 20);
	rpc_handle(&rpc, &cl, &r);
	if (r.status != GRPC_OK || r.body.len < GRPC_HDR_LEN)
		err = -EPROTO;
	if (!err) {
		is = pb_istream_from_buffer(r.body.data + GRPC_HDR_LEN, r.body.len - GRPC_HDR_LEN);
		if (!pb_decode(&is, bpfd_v1_ListResponse_fields, &resp))
			err = -EBADMSG;
	}
	grpc_reply_fini(&r);
	return err;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void rpc_list_walk_shared(void)
{
	struct seen sn;

	memset(&fw, 0, sizeof(fw));
	if (!ASSERT_OK(list_at(0, &sn), "first List"))
		return;
	ASSERT_EQ(fw.walks, 1, "walked");
	ASSERT_EQ(sn.n, 3, "three programs");
	ASSERT_TRUE(sn.owned[1] && !sn.owned[0] && !sn.owned[2], "only 7 owned");
	ASSERT_EQ(sn.types[1], 6, "managed kind reported, not EXT");
	ASSERT_EQ(fw.asked, 3, "the kernel's info of each");
	/* read before that walk began, nothing changed since: answered from it */
	ASSERT_OK(list_at(1, &sn), "second List");
	ASSERT_EQ(fw.walks, 1, "no second walk");
	ASSERT_EQ(sn.n, 3, "same answer");
	ASSERT_EQ(sn.ids[2], 9, "same answer");
	/* read after it began: a walk of its own; what the kernel tells of the
	 * programs bpfd does not own is kept, bpfd's own is asked again */
	ASSERT_OK(list_at(mono_ns(), &sn), "third List");
	ASSERT_EQ(fw.walks, 2, "walked again");
	ASSERT_EQ(fw.asked, 4, "only the owned program's info read again");
	ASSERT_EQ(sn.n, 3, "all three");
	ASSERT_EQ(sn.types[0], 6, "kept result of 3");
	/* a load, unload or modify since: walked, whenever it was read */
	fw.changes++;
	ASSERT_OK(list_at(1, &sn), "List after a change");
	ASSERT_EQ(fw.walks, 3, "walked after the change");
	/* time unknown (0): never shared */
	ASSERT_OK(list_at(0, &sn), "List of unknown time");
	ASSERT_EQ(fw.walks, 4, "walked");
	ASSERT_EQ(sn.n, 3, "all three");
}

static void rpc_errors(void)
{
	bpfd_v1_GetRequest get = { .id = 42 };
	bpfd_v1_UnloadRequest un = { .id = 3 };
	bpfd_v1_GetRequest empty = { 0 };
	const struct h2_client_result *res;
	struct h2_client *c;

	res = call_status("/bpfd.v1.Bpfd/Get", bpfd_v1_GetRequest_fields, &get, 1 << 20, "get",
			  GRPC_NOT_FOUND, "missing id", &c);
	ASSERT_STRSTR(res->message, "no program with id 42", "message");
	h2_client_free(c);

	res = call_status("/bpfd.v1.Bpfd/Unload", bpfd_v1_UnloadRequest_fields, &un, 1 << 20,
			  "unload", GRPC_NOT_FOUND, "errno mapped", &c);
	ASSERT_STRSTR(res->message, "does not own program 3", "errmsg text");
	h2_client_free(c);

	un.id = 5;
	res = call_status("/bpfd.v1.Bpfd/Unload", bpfd_v1_UnloadRequest_fields, &un, 1 << 20,
			  "unload, long message", GRPC_INVALID_ARGUMENT, "status", &c);
	ASSERT_TRUE(strlen(res->message) <= 3072, "message shortened");
	ASSERT_TRUE(!strncmp(res->message, "head x", 6), "keeps the start");
	ASSERT_STRSTR(res->message, " [...] x", "marks the cut");
	ASSERT_STRSTR(res->message, "x tail", "keeps the end");
	h2_client_free(c);

	res = call_status("/bpfd.v1.Bpfd/Load", bpfd_v1_GetRequest_fields, &empty, 1 << 20,
			  "load", GRPC_UNIMPLEMENTED, "EOPNOTSUPP", &c);
	ASSERT_STREQ(res->message, "not here: 100% fake", "percent-encoded and decoded");
	h2_client_free(c);

	call_status("/bpfd.v1.Bpfd/Nope", bpfd_v1_GetRequest_fields, &get, 1 << 20,
		    "unknown method", GRPC_UNIMPLEMENTED, "UNIMPLEMENTED", &c);
	h2_client_free(c);

	get.id = 3;
	call_status("/bpfd.v1.Bpfd/Get", bpfd_v1_GetRequest_fields, &get, 1, "tiny max_msg",
		    GRPC_RESOURCE_EXHAUSTED, "request over the limit", &c);
	h2_client_free(c);
}

static void rpc_malformed(void)
{
	static const uint8_t junk[] = { 0x0a, 0xff, 0xff };	/* field 1, length too long */
	struct grpc_call cl = { .path = "/bpfd.v1.Bpfd/Get", .msg = junk, .len = sizeof(junk) };
	struct rpc rpc = { .ops = &fake_ops };
	struct grpc_reply r;

	grpc_reply_init(&r, 1 << 20);
	rpc_handle(&rpc, &cl, &r);
	ASSERT_EQ(r.status, GRPC_INVALID_ARGUMENT, "malformed protobuf");
	ASSERT_STRSTR(r.message, "Malformed GetRequest", "names the message");
	grpc_reply_fini(&r);
}

/* ---- budgets: an nghttp2 client that sends requests in parts ---- */

#define RAW_STREAMS 8

struct raw_stream {
	int32_t id;
	uint8_t *data;		/* framed message */
	size_t len, off;	/* what exists, what went out */
	size_t avail;		/* what may go out so far */
	int status;		/* grpc-status, -1 none */
	bool closed;
};

struct raw {
	nghttp2_session *ng;
	struct raw_stream st[RAW_STREAMS];
	size_t n;
};

static struct raw_stream *raw_find(struct raw *r, int32_t id)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->st[i].id == id)
			return &r->st[i];
	return NULL;
}

static ssize_t raw_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
			uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct raw_stream *st = src->ptr;
	size_t n = st->avail - st->off;

	(void)ng, (void)id, (void)arg;
	if (!n)
		return NGHTTP2_ERR_DEFERRED;
	if (n > len)
		n = len;
	memcpy(buf, st->data + st->off, n);
	st->off += n;
	if (st->off == st->len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return n;
}

static int raw_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
		      size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		      void *arg)
{
	struct raw_stream *st = raw_find(arg, f->hd.stream_id);

	(void)ng, (void)flags;
	if (st && namelen == 11 && !memcmp(name, "grpc-status", 11) && valuelen < 4)
		st->status = atoi((const char *)value);	/* followed by other header bytes */
	return 0;
}

static int raw_close(nghttp2_session *ng, int32_t id, uint32_t code, void *arg)
{
	struct raw_stream *st = raw_find(arg, id);

	(void)ng, (void)code;
	if (st)
		st->closed = true;
	return 0;
}

static int raw_new(struct raw *r)
{
	nghttp2_session_callbacks *cbs;
	int rv;

	memset(r, 0, sizeof(*r));
	if (nghttp2_session_callbacks_new(&cbs))
		return -ENOMEM;
	nghttp2_session_callbacks_set_on_header_callback(cbs, raw_header);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, raw_close);
	rv = nghttp2_session_client_new(&r->ng, cbs, r);
	nghttp2_session_callbacks_del(cbs);
	if (!rv)
		rv = nghttp2_submit_settings(r->ng, NGHTTP2_FLAG_NONE, NULL, 0);
	return rv ? -EPROTO : 0;
}

static void raw_free(struct raw *r)
{
	size_t i;

	nghttp2_session_del(r->ng);
	for (i = 0; i < r->n; i++)
		free(r->st[i].data);
}

/* A List call announcing a message of len bytes, of which none is sent yet. */
static struct raw_stream *raw_call(struct raw *r, uint32_t len)
{
	static const nghttp2_nv hdrs[] = {
#define RNV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, 0 }
		RNV(":method", "POST"), RNV(":scheme", "http"), RNV(":authority", "x"),
		RNV(":path", "/bpfd.v1.Bpfd/List"), RNV("content-type", "application/grpc"),
#undef RNV
	};
	nghttp2_data_provider prd = { .read_callback = raw_read };
	struct raw_stream *st;

	if (r->n == RAW_STREAMS)
		return NULL;
	st = &r->st[r->n];
	memset(st, 0, sizeof(*st));
	st->status = -1;
	st->len = GRPC_HDR_LEN + len;
	st->data = calloc(1, st->len);	/* zeros: a valid, empty-looking ListRequest */
	if (!st->data)
		return NULL;
	grpc_hdr_put(st->data, len);
	prd.source.ptr = st;
	st->id = nghttp2_submit_request(r->ng, NULL, hdrs, 5, &prd, NULL);
	if (st->id < 0)
		return NULL;
	r->n++;
	return st;
}

/* Let n more bytes of the stream go (GRPC_HDR_LEN of them are the prefix). */
static void raw_more(struct raw *r, struct raw_stream *st, size_t n)
{
	st->avail = st->avail + n > st->len ? st->len : st->avail + n;
	(void)nghttp2_session_resume_data(r->ng, st->id);
}

/* Move bytes both ways until neither side has anything to say. */
static int raw_pump(struct raw *r, struct h2_server *s)
{
	const uint8_t *p;
	ssize_t n;
	int i, err = 0;

	for (i = 0; i < 100; i++) {
		bool moved = false;

		while (!err && (n = nghttp2_session_mem_send(r->ng, &p)) > 0) {
			err = h2_server_recv(s, p, n);
			moved = true;
		}
		while (!err && (n = h2_server_send(s, &p)) > 0) {
			if (nghttp2_session_mem_recv(r->ng, p, n) != n)
				err = -EPROTO;
			moved = true;
		}
		if (err || !moved)
			break;
	}
	return err;
}

static int raw_server(struct h2_budget *b, size_t max_buffered, struct h2_server **ret)
{
	static struct rpc rpc = { .ops = &fake_ops };
	struct h2_server_opts o = {
		.max_msg = 1 << 20, .handler = rpc_handle, .arg = &rpc, .peer = "test",
		.max_buffered = max_buffered, .total = b,
	};

	return h2_server_new(&o, ret);
}

/* One connection over its budget: the request that would go over is refused,
 * the one already held goes on and completes; the bytes are given back. */
static void budget_connection(void)
{
	struct h2_budget b = { .max = 1 << 20 };
	struct h2_server *s = NULL;
	struct raw_stream *a, *c;
	struct raw r;

	if (!ASSERT_OK(raw_new(&r), "client") || !ASSERT_OK(raw_server(&b, 200000, &s), "server"))
		goto out;
	a = raw_call(&r, 150000);
	c = raw_call(&r, 150000);
	if (!ASSERT_TRUE(a && c, "streams"))
		goto out;
	raw_more(&r, a, GRPC_HDR_LEN + 100000);
	ASSERT_OK(raw_pump(&r, s), "pump a");
	ASSERT_EQ(h2_server_buffered(s), 100000, "a held");
	ASSERT_EQ(b.used, 100000, "budget charged");
	raw_more(&r, c, GRPC_HDR_LEN + 120000);
	ASSERT_OK(raw_pump(&r, s), "pump c");
	ASSERT_EQ(c->status, GRPC_RESOURCE_EXHAUSTED, "c refused");
	ASSERT_EQ(a->status, -1, "a not answered yet");
	ASSERT_EQ(h2_server_buffered(s), 100000, "c's bytes given back");
	ASSERT_EQ(b.used, 100000, "budget: only a");
	raw_more(&r, a, 50000);
	ASSERT_OK(raw_pump(&r, s), "pump a to its end");
	/* zeros are not a valid ListRequest: the call ran and answered */
	ASSERT_NEQ(a->status, -1, "a answered");
	ASSERT_NEQ(a->status, GRPC_RESOURCE_EXHAUSTED, "a not refused");
	ASSERT_EQ(h2_server_buffered(s), 0, "nothing held");
	ASSERT_EQ(b.used, 0, "budget empty");
out:
	h2_server_free(s);
	raw_free(&r);
}

/* The daemon's budget: the largest request of the connection holding the most
 * is refused, so a small call of another connection gets through. */
static void budget_total(void)
{
	struct h2_budget b = { .max = 300000 };
	struct h2_server *s1 = NULL, *s2 = NULL;
	struct raw_stream *big, *small1, *small2;
	struct raw r1, r2;

	if (!ASSERT_OK(raw_new(&r1), "client 1") || !ASSERT_OK(raw_new(&r2), "client 2") ||
	    !ASSERT_OK(raw_server(&b, 1 << 20, &s1), "server 1") ||
	    !ASSERT_OK(raw_server(&b, 1 << 20, &s2), "server 2"))
		goto out;
	big = raw_call(&r1, 400000);
	small1 = raw_call(&r1, 1000);
	small2 = raw_call(&r2, 60000);
	if (!ASSERT_TRUE(big && small1 && small2, "streams"))
		goto out;
	raw_more(&r1, small1, GRPC_HDR_LEN + 500);
	raw_more(&r1, big, GRPC_HDR_LEN + 250000);
	ASSERT_OK(raw_pump(&r1, s1), "pump 1");
	ASSERT_EQ(b.used, 250500, "held by connection 1");
	raw_more(&r2, small2, GRPC_HDR_LEN + 60000);
	ASSERT_OK(raw_pump(&r2, s2), "pump 2");
	ASSERT_OK(raw_pump(&r1, s1), "pump 1 again: its reply");
	ASSERT_EQ(big->status, GRPC_RESOURCE_EXHAUSTED, "the largest request refused");
	ASSERT_EQ(small1->status, -1, "connection 1's small request goes on");
	ASSERT_NEQ(small2->status, GRPC_RESOURCE_EXHAUSTED, "connection 2's request served");
	ASSERT_TRUE(small2->closed, "connection 2's call complete");
	ASSERT_EQ(b.used, 500, "budget: small1 only");
	/* a session that goes gives its bytes back */
	h2_server_free(s1);
	s1 = NULL;
	ASSERT_EQ(b.used, 0, "budget empty after the session");
	ASSERT_TRUE(b.sessions == s2, "session list");
out:
	h2_server_free(s1);
	h2_server_free(s2);
	raw_free(&r1);
	raw_free(&r2);
}

/* A request that does not arrive whole within msg_timeout_ms is answered, and
 * its bytes go back. */
static void budget_message_timeout(void)
{
	static struct rpc rpc = { .ops = &fake_ops };
	struct h2_budget b = { .max = 1 << 20 };
	struct h2_server_opts o = {
		.max_msg = 1 << 20, .handler = rpc_handle, .arg = &rpc, .peer = "test",
		.total = &b, .msg_timeout_ms = 5000,
	};
	struct h2_server *s = NULL;
	struct raw_stream *a;
	struct raw r;
	uint64_t next;

	if (!ASSERT_OK(raw_new(&r), "client") || !ASSERT_OK(h2_server_new(&o, &s), "server"))
		goto out;
	a = raw_call(&r, 1000);
	if (!ASSERT_TRUE(a, "stream"))
		goto out;
	raw_more(&r, a, GRPC_HDR_LEN + 999);
	ASSERT_OK(raw_pump(&r, s), "pump");
	ASSERT_EQ(h2_server_idle_since(s), 0, "not idle with a call open");
	next = h2_server_expire(s, grpc_now_ms());
	ASSERT_TRUE(next > grpc_now_ms() + 4000 && next <= grpc_now_ms() + 5000, "deadline");
	ASSERT_EQ(b.used, 999, "held");
	ASSERT_EQ(h2_server_expire(s, next), 0, "expired, none left");
	ASSERT_OK(raw_pump(&r, s), "pump the answer");
	ASSERT_EQ(a->status, GRPC_DEADLINE_EXCEEDED, "answered");
	ASSERT_EQ(b.used, 0, "given back");
	ASSERT_TRUE(a->closed, "stream over");
	ASSERT_NEQ(h2_server_idle_since(s), 0, "idle again");
out:
	h2_server_free(s);
	raw_free(&r);
}

/* A refused peer is told why: SETTINGS and a GOAWAY whose debug data the client
 * keeps. */
static void refusal_goaway(void)
{
	struct h2_client *c = NULL;
	uint8_t buf[256];
	ssize_t n;

	n = h2_server_refusal("too many (max_x)", buf, sizeof(buf));
	if (!ASSERT_OK(n, "refusal") || !ASSERT_OK(h2_client_new(&c), "client"))
		goto out;
	ASSERT_EQ(h2_server_refusal("too many (max_x)", buf, 20), -ENOBUFS, "small buffer");
	ASSERT_OK(h2_client_recv(c, buf, n), "client reads it");
	ASSERT_STREQ(h2_client_result(c)->goaway, "too many (max_x)", "reason");
out:
	h2_client_free(c);
}

static void group_lookup(void)
{
	char path[] = "/tmp/test_grpc_group.XXXXXX";
	unsigned int gid = 0;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	if (!ASSERT_OK(fd, "mkstemp"))
		return;
	f = fdopen(fd, "w");
	fputs("root:x:0:\nbpfdx:x:7:\nbad:x:nope:\nbpfd:x:4242:alice,bob\n", f);
	fclose(f);
	ASSERT_OK(server_group_lookup(path, "bpfd", &gid), "bpfd");
	ASSERT_EQ(gid, 4242, "gid, not the prefix match bpfdx");
	ASSERT_EQ(server_group_lookup(path, "bad", &gid), -ENOENT, "non-numeric gid");
	ASSERT_EQ(server_group_lookup(path, "bpf", &gid), -ENOENT, "prefix of a name");
	ASSERT_EQ(server_group_lookup("/nonexistent/group", "bpfd", &gid), -ENOENT, "no file");
	unlink(path);
}

/* A handler that answers later: the stream waits, nothing is sent, until the
 * deferred reply is completed; a completion after the session went is dropped. */
static struct h2_deferred *deferred;

static void defer_handler(void *arg, const struct grpc_call *call, struct grpc_reply *reply)
{
	(void)arg;
	(void)call;
	deferred = h2_reply_defer(reply);
}

static void pump(struct h2_client *c, struct h2_server *s)
{
	const uint8_t *p;
	ssize_t n;
	int i, err = 0;

	for (i = 0; !err && i < 20; i++) {
		while (!err && (n = h2_client_send(c, &p)) > 0)
			err = h2_server_recv(s, p, n);
		while (!err && (n = h2_server_send(s, &p)) > 0)
			err = h2_client_recv(c, p, n);
	}
	ASSERT_OK(err, "pump");
}

static void deferred_reply(void)
{
	struct h2_server_opts so = { .max_msg = 1 << 16, .handler = defer_handler,
				     .peer = "test" };
	struct h2_server *s = NULL;
	struct h2_client *c = NULL;
	struct grpc_reply r;
	uint8_t msg[3] = { 0x08, 0x01, 0 };

	if (!ASSERT_OK(h2_server_new(&so, &s), "server") || !ASSERT_OK(h2_client_new(&c), "client"))
		goto out;
	ASSERT_OK(h2_client_call(c, "http", "localhost", "/x/Y", msg, 2, 0, 1 << 16), "call");
	pump(c, s);
	if (!ASSERT_TRUE(deferred != NULL, "the handler deferred"))
		goto out;
	ASSERT_TRUE(h2_deferred_waited(deferred), "the stream waits");
	ASSERT_TRUE(!h2_client_result(c)->closed, "no answer yet");
	ASSERT_EQ(h2_server_streams(s), 1, "one stream open");
	grpc_reply_init(&r, 1 << 16);
	ASSERT_OK(grpc_reply_begin(&r), "begin");
	ASSERT_OK(grpc_buf_append(&r.body, msg, 2), "body");
	ASSERT_OK(grpc_reply_end(&r), "end");
	h2_deferred_complete(deferred, &r);
	grpc_reply_fini(&r);
	deferred = NULL;
	pump(c, s);
	ASSERT_TRUE(h2_client_result(c)->closed, "answered");
	ASSERT_EQ(h2_client_result(c)->grpc_status, 0, "OK");
	ASSERT_EQ(h2_client_result(c)->body.buf.len, 2, "the message");

	/* a second call whose session goes before the answer */
	h2_client_free(c);
	c = NULL;
	h2_server_free(s);
	s = NULL;
	if (!ASSERT_OK(h2_server_new(&so, &s), "server 2") || !ASSERT_OK(h2_client_new(&c), "client 2"))
		goto out;
	ASSERT_OK(h2_client_call(c, "http", "localhost", "/x/Y", msg, 2, 0, 1 << 16), "call 2");
	pump(c, s);
	ASSERT_TRUE(deferred && h2_deferred_waited(deferred), "deferred again");
	h2_server_free(s);
	s = NULL;
	ASSERT_TRUE(!h2_deferred_waited(deferred), "nobody waits after the session went");
	grpc_reply_init(&r, 1 << 16);
	grpc_reply_error(&r, GRPC_INTERNAL, "late");
	h2_deferred_complete(deferred, &r);	/* dropped, freed */
	grpc_reply_fini(&r);
	deferred = NULL;
out:
	h2_client_free(c);
	h2_server_free(s);
}

TEST_MAIN("grpc",
	  TEST(hdr_roundtrip), TEST(percent_encode), TEST(percent_decode),
	  TEST(timeout_parse), TEST(timeout_format), TEST(reader_split), TEST(reader_limit),
	  TEST(errmap_table), TEST(rpc_list_filters), TEST(rpc_list_walk_shared), TEST(rpc_errors), TEST(rpc_malformed),
	  TEST(group_lookup), TEST(budget_connection), TEST(budget_total),
	  TEST(budget_message_timeout), TEST(refusal_goaway), TEST(deferred_reply))
