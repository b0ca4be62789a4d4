/* SPDX-License-Identifier: Apache-2.0 */
/* test_progd.c - programs.d: entries of every kind, errors with file, line and key,
 * fingerprints, the writer's round trip, and a pass over a directory against a fake
 * manager (keep, replace, load, unload; a bad file skipped with its programs kept) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "bpf/hook.h"
#include "core/progd.h"

static int parse(const char *text, struct progd_entry **e, size_t *n, struct errmsg *em)
{
	memset(em, 0, sizeof(*em));
	return progd_parse("/etc/bpfd/programs.d/a.toml", "programs.d/a.toml", text,
			   strlen(text), e, n, em);
}

static const char every_kind[] =
	"[[programs]]\n"
	"name = \"pass\"\n"
	"file_path = \"/o/xdp.o\"\n"
	"program_type = \"Xdp\"\n"
	"global_data = { GLOBAL_u8 = [1], GLOBAL_u32 = \"0A0B0C0D\" }\n"
	"metadata = { owner = \"net\", \"a b\" = \"c\\\"d\" }\n"
	"xdp_attach = { iface = \"eth0\", priority = 50, proceed_on = [\"pass\", \"drop\"] }\n"
	"\n[[programs]]\nname = \"t\"\nfile_path = \"/o/tc.o\"\nprogram_type = \"Tc\"\n"
	"tc_attach = { iface = \"eth0\", priority = 10, direction = \"Egress\", proceed_on = [\"pipe\", 2] }\n"
	"\n[[programs]]\nname = \"x\"\nfile_path = \"/o/tcx.o\"\n"
	"tcx_attach = { iface = \"eth1\", priority = 1000, direction = \"ingress\" }\n"
	"\n[[programs]]\nname = \"tp\"\nfile_path = \"/o/tp.o\"\nprogram_type = \"Tracepoint\"\n"
	"tracepoint_attach = { tracepoint = \"syscalls/sys_enter_kill\" }\n"
	"\n[[programs]]\nname = \"k\"\nfile_path = \"/o/k.o\"\nprogram_type = \"kretprobe\"\n"
	"kprobe_attach = { fn_name = \"do_unlinkat\" }\n"
	"\n[[programs]]\nname = \"u\"\nfile_path = \"/o/u.o\"\n"
	"uprobe_attach = { target = \"libc\", fn_name = \"malloc\", offset = 4, pid = 7, retprobe = true }\n"
	"\n[[programs]]\nname = \"fe\"\nfile_path = \"/o/f.o\"\nfentry_attach = { fn_name = \"f\" }\n"
	"\n[[programs]]\nname = \"fx\"\nfile_path = \"/o/f.o\"\nfexit_attach = { fn_name = \"f\" }\n"
	"\n[[programs]]\nname = \"img\"\nprogram_type = \"xdp\"\n"
	"bytecode_image = { image_url = \"quay.io/a/b:v1\", image_pull_policy = \"Never\" }\n"
	"xdp_attach = { iface = \"lo\", priority = 1 }\n";

static void kinds(void)
{
	struct progd_entry *e = NULL;
	struct errmsg em;
	size_t n = 0;

	if (!ASSERT_OK(parse(every_kind, &e, &n, &em), em.msg))
		return;
	if (!ASSERT_EQ(n, 9, "entries"))
		goto out;
	ASSERT_EQ(e[0].plan.spec.attach.kind, OBJ_KIND_XDP, "xdp");
	ASSERT_EQ(e[0].line, 1, "line");
	ASSERT_STREQ(e[0].plan.spec.source, "programs.d/a.toml", "source");
	ASSERT_EQ(e[0].plan.spec.attach.n_proceed_on, 2, "proceed_on");
	ASSERT_EQ(e[0].plan.spec.attach.proceed_on[1], 1, "drop");
	ASSERT_EQ(e[0].plan.spec.n_globals, 2, "globals");
	ASSERT_EQ(e[0].plan.spec.globals[1].size, 4, "hex global");
	ASSERT_EQ(e[0].plan.spec.globals[1].value[3], 0x0d, "hex byte");
	ASSERT_STREQ(e[0].plan.spec.metadata[1].value, "c\"d", "metadata");
	ASSERT_EQ(strlen(e[0].plan.entry), 16, "fingerprint");
	ASSERT_STREQ(e[1].plan.spec.attach.direction, "egress", "direction lower-cased");
	ASSERT_EQ(e[1].plan.spec.attach.proceed_on[0], 3, "pipe");
	ASSERT_EQ(e[2].plan.spec.attach.kind, OBJ_KIND_TCX, "tcx");
	ASSERT_STREQ(e[3].plan.spec.attach.tracepoint, "syscalls/sys_enter_kill", "tp");
	ASSERT_EQ(e[4].plan.spec.attach.kind, OBJ_KIND_KRETPROBE, "kretprobe by type");
	ASSERT_EQ(e[5].plan.spec.attach.kind, OBJ_KIND_URETPROBE, "uretprobe by retprobe");
	ASSERT_EQ(e[5].plan.spec.attach.pid, 7, "pid");
	ASSERT_EQ(e[5].plan.spec.attach.offset, 4, "offset");
	ASSERT_EQ(e[6].plan.spec.attach.kind, OBJ_KIND_FENTRY, "fentry");
	ASSERT_EQ(e[7].plan.spec.attach.kind, OBJ_KIND_FEXIT, "fexit");
	ASSERT_EQ(e[8].plan.bytecode, PLAN_BYTECODE_IMAGE, "image");
	ASSERT_STREQ(e[8].image_url, "quay.io/a/b:v1", "image url");
	ASSERT_EQ(e[8].image_pull_policy, 2, "Never");
out:
	free(e);
}

struct bad {
	const char *text;
	const char *msg;
};

static const struct bad bads[] = {
	{ "[[programs]]\nname = \"a\"\nfile_path = \"/o\"\nxdp_attach = { iface = \"lo\", priority = \"x\" }\n",
	  "/etc/bpfd/programs.d/a.toml:4:41: 'priority' in xdp_attach must be an integer, not a string" },
	{ "[[programs]]\nname = \"a\"\nfile_path = \"/o\"\nxdp_attach = { iface = \"lo\" }\n",
	  "/etc/bpfd/programs.d/a.toml:4:14: xdp_attach needs 'priority'" },
	{ "[[programs]]\nname = \"a\"\nfile_path = \"o\"\ntracepoint_attach = { tracepoint = \"a/b\" }\n",
	  "/etc/bpfd/programs.d/a.toml:3:13: file_path 'o' is not an absolute path" },
	{ "[[programs]]\nname = \"a\"\nfile_path = \"/o\"\n",
	  "/etc/bpfd/programs.d/a.toml:1:1: [[programs]] 'a' needs an attach table: xdp_attach, tc_attach, tcx_attach, tracepoint_attach, kprobe_attach, uprobe_attach, fentry_attach or fexit_attach" },
	{ "[[programs]]\nfile_path = \"/o\"\ntracepoint_attach = { tracepoint = \"a/b\" }\n",
	  "/etc/bpfd/programs.d/a.toml:1:1: [[programs]] needs 'name': the BPF function to load" },
	{ "[[programs]]\nname = \"a\"\ntracepoint_attach = { tracepoint = \"a/b\" }\n",
	  "/etc/bpfd/programs.d/a.toml:1:1: [[programs]] 'a' needs exactly one of 'file_path' and 'bytecode_image'" },
	{ "[[programs]]\nname = \"a\"\nfile_path = \"/o\"\nprogram_type = \"Tc\"\ntracepoint_attach = { tracepoint = \"a/b\" }\n",
	  "/etc/bpfd/programs.d/a.toml:4:16: program_type 'Tc' does not match tracepoint_attach (program_type \"tracepoint\")" },
	{ "[[programs]]\nname = \"a\"\nfile_path = \"/o\"\ntc_attach = { iface = \"lo\", priority = 1, direction = \"up\" }\n",
	  "/etc/bpfd/programs.d/a.toml:4:55: 'direction' in tc_attach is 'up'; it must be \"ingress\" or \"egress\"" },
	{ "[[programs]]\nname = \"a\"\nfile_path = \"/o\"\nxdp_attach = { iface = \"lo\", priority = 1, proceed_on = [\"pipe\"] }\n",
	  "/etc/bpfd/programs.d/a.toml:4:58: 'pipe' in 'proceed_on' in xdp_attach is not a known xdp action" },
	{ "[[programs]]\nname = \"a\"\nfile_path = \"/o\"\nglobal_data = { g = \"0x1\" }\ntracepoint_attach = { tracepoint = \"a/b\" }\n",
	  "/etc/bpfd/programs.d/a.toml:4:21: global 'g' must be an even number of hex digits (1 to 1024 bytes)" },
	{ "[[programs]]\nname = \"a\"\nfile_path = \"/o\"\nglobal_data = { g = [256] }\ntracepoint_attach = { tracepoint = \"a/b\" }\n",
	  "/etc/bpfd/programs.d/a.toml:4:22: global 'g' holds bytes: integers from 0 to 255" },
	{ "[[programs]]\nname = \"a\"\nfile_path = \"/o\"\nmetadata = { k = 1 }\ntracepoint_attach = { tracepoint = \"a/b\" }\n",
	  "/etc/bpfd/programs.d/a.toml:4:18: 'k' in metadata must be a string, not an integer" },
	{ "[[programs]]\nname = \"a\"\nfile_path = \"/o\"\nkprobe_attach = { fn_name = \"f\", pid = 1 }\n",
	  "/etc/bpfd/programs.d/a.toml:4:34: unknown key 'pid' in kprobe_attach (known: fn_name, offset, retprobe, namespace)" },
	{ "[[programs]]\nname = \"a\"\nfile_path = \"/o\"\nxdp_attach = { iface = \"lo\", priority = 1 }\ntcx_attach = { iface = \"lo\", priority = 1, direction = \"ingress\" }\n",
	  "/etc/bpfd/programs.d/a.toml:5:1: an entry attaches once: 'tcx_attach' and 'xdp_attach' (line 4) both given" },
	{ "[[programs]]\nname = \"a\"\nbytecode_image = { image_pull_policy = \"Sometimes\", image_url = \"x\" }\nxdp_attach = { iface = \"lo\", priority = 1 }\n",
	  "/etc/bpfd/programs.d/a.toml:3:40: 'image_pull_policy' is 'Sometimes'; it must be \"Always\", \"IfNotPresent\" or \"Never\"" },
	{ "[programs]\nname = \"a\"\n",
	  "/etc/bpfd/programs.d/a.toml:1:1: 'programs' must be an array of tables: write [[programs]]" },
	{ "[[program]]\n",
	  "/etc/bpfd/programs.d/a.toml:1:1: unknown key 'program' at the top level (known: programs ([[programs]] entries))" },
	{ "[[programs]]\nname = \"a\nfile_path = \"/o\"\n",
	  "/etc/bpfd/programs.d/a.toml:2:8: unterminated string: no closing \" on this line" },
};

static void errors(void)
{
	struct progd_entry *e = NULL;
	struct errmsg em;
	size_t i, n = 0;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		e = NULL;
		if (!ASSERT_EQ(parse(bads[i].text, &e, &n, &em), -EINVAL, bads[i].text))
			free(e);
		ASSERT_STREQ(em.msg, bads[i].msg, bads[i].text);
	}
}

/* Comments, key order, spelling of a type, the default proceed-on written out: the
 * same fingerprint; a different priority or global: another. */
static void fingerprints(void)
{
	const char *a = "[[programs]]\nname = \"p\"\nfile_path = \"/o\"\nprogram_type = \"Xdp\"\n"
			"xdp_attach = { iface = \"lo\", priority = 5 }\nglobal_data = { g = \"01\" }\n";
	const char *b = "# same\n[[programs]]\nglobal_data = { g = [1] }\n"
			"xdp_attach = { proceed_on = [\"dispatcher_return\", \"pass\"], priority = 5, iface = \"lo\" }\n"
			"file_path = \"/o\" # path\nname = \"p\"\n";
	const char *c = "[[programs]]\nname = \"p\"\nfile_path = \"/o\"\n"
			"xdp_attach = { iface = \"lo\", priority = 6 }\nglobal_data = { g = \"01\" }\n";
	const char *d = "[[programs]]\nname = \"p\"\nfile_path = \"/o\"\n"
			"xdp_attach = { iface = \"lo\", priority = 5 }\nglobal_data = { g = \"02\" }\n";
	struct progd_entry *ea = NULL, *eb = NULL, *ec = NULL, *ed = NULL;
	struct errmsg em;
	size_t n;

	if (!ASSERT_OK(parse(a, &ea, &n, &em), em.msg) || !ASSERT_OK(parse(b, &eb, &n, &em), em.msg) ||
	    !ASSERT_OK(parse(c, &ec, &n, &em), em.msg) || !ASSERT_OK(parse(d, &ed, &n, &em), em.msg))
		goto out;
	ASSERT_STREQ(ea->plan.entry, eb->plan.entry, "same entry, other spelling");
	ASSERT_EQ(eb->plan.spec.attach.n_proceed_on, 0, "default proceed-on is none");
	ASSERT_TRUE(strcmp(ea->plan.entry, ec->plan.entry), "priority changes it");
	ASSERT_TRUE(strcmp(ea->plan.entry, ed->plan.entry), "global changes it");
out:
	free(ea);
	free(eb);
	free(ec);
	free(ed);
}

/* What progd_write_entry() writes parses back to the same plan. */
static void write_round_trip(void)
{
	struct progd_entry *e = NULL, *e2 = NULL;
	char *buf = NULL;
	size_t n = 0, n2 = 0, len = 0, i;
	struct errmsg em;
	FILE *f;

	if (!ASSERT_OK(parse(every_kind, &e, &n, &em), em.msg))
		return;
	f = open_memstream(&buf, &len);
	if (!ASSERT_TRUE(f, "memstream"))
		goto out;
	for (i = 0; i < n; i++)
		ASSERT_OK(progd_write_entry(f, &e[i].plan.spec, e[i].image_url[0] ? e[i].image_url : NULL,
					    e[i].image_pull_policy), "write");
	fclose(f);
	if (!ASSERT_OK(parse(buf, &e2, &n2, &em), em.msg)) {
		fprintf(stderr, "%s\n", buf);
		goto out;
	}
	if (!ASSERT_EQ(n2, n, "entries"))
		goto out;
	for (i = 0; i < n; i++) {
		ASSERT_STREQ(e2[i].plan.entry, e[i].plan.entry, e[i].plan.spec.name);
		ASSERT_TRUE(!memcmp(&e2[i].plan, &e[i].plan, sizeof(e[i].plan)), e[i].plan.spec.name);
	}
out:
	free(buf);
	free(e);
	free(e2);
}

/* ---- a pass against a fake manager ---- */

#define FAKE_MAX 32
struct fake {
	struct prog_view progs[FAKE_MAX];
	bool used[FAKE_MAX];
	uint32_t next_id;
	int loads, unloads;
	const char *fail_name;	/* loads of this function fail */
};

static int f_load(void *ctx, const struct load_plan *p, struct prog_view *ret, struct errmsg *em)
{
	struct fake *f = ctx;
	size_t i;

	if (f->fail_name && !strcmp(p->spec.name, f->fail_name))
		return errmsg_set(em, -EINVAL, "no function '%s'", p->spec.name);
	/* XDP attached directly: one program per interface */
	for (i = 0; p->spec.attach.kind == OBJ_KIND_XDP && i < FAKE_MAX; i++)
		if (f->used[i] && f->progs[i].spec.attach.kind == OBJ_KIND_XDP &&
		    !strcmp(f->progs[i].spec.attach.iface, p->spec.attach.iface))
			return errmsg_set(em, -HOOK_EPRECONDITION, "the XDP hook of %s already has program %u",
					  p->spec.attach.iface, f->progs[i].id);
	/* a global step of 9 does not verify */
	if (p->spec.n_globals && p->spec.globals[0].value[0] == 9)
		return errmsg_set(em, -EINVAL, "the verifier refused it");
	for (i = 0; i < FAKE_MAX && f->used[i]; i++)
		;
	if (i == FAKE_MAX)
		return -ENOSPC;
	f->used[i] = true;
	memset(&f->progs[i], 0, sizeof(f->progs[i]));
	f->progs[i].id = ++f->next_id;
	f->progs[i].spec = p->spec;
	memcpy(f->progs[i].entry, p->entry, sizeof(p->entry));
	if (p->spec.attach.kind == OBJ_KIND_XDP)
		strcpy(f->progs[i].attach_mode, "direct");
	*ret = f->progs[i];
	f->loads++;
	return 0;
}

static struct prog_view *f_find(struct fake *f, uint32_t id)
{
	size_t i;

	for (i = 0; i < FAKE_MAX; i++)
		if (f->used[i] && f->progs[i].id == id)
			return &f->progs[i];
	return NULL;
}

static int f_unload(void *ctx, uint32_t id, struct errmsg *em)
{
	struct fake *f = ctx;
	struct prog_view *v = f_find(f, id);

	if (!v)
		return errmsg_set(em, -ENOENT, "no program %u", id);
	f->used[v - f->progs] = false;
	f->unloads++;
	return 0;
}

static int f_next(void *ctx, uint32_t id, uint32_t *ret)
{
	struct fake *f = ctx;
	uint32_t best = 0;
	size_t i;

	for (i = 0; i < FAKE_MAX; i++)
		if (f->used[i] && f->progs[i].id > id && (!best || f->progs[i].id < best))
			best = f->progs[i].id;
	if (!best)
		return -ENOENT;
	*ret = best;
	return 0;
}

static int f_view(void *ctx, uint32_t id, struct prog_view *ret)
{
	struct prog_view *v = f_find(ctx, id);

	if (!v)
		return -ENOENT;
	*ret = *v;
	return 0;
}

static const struct progd_ops fake_ops = {
	.load = f_load, .unload = f_unload, .next = f_next, .view = f_view,
};

static char dir[] = "/tmp/test_progd.XXXXXX";

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		exit(1);
	fputs(text, f);
	fclose(f);
}

static void drop(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static int count(const struct progd_report *r, enum progd_action a)
{
	size_t i;
	int n = 0;

	for (i = 0; i < r->n; i++)
		n += r->v[i].action == a;
	return n;
}

static int pass(struct fake *f, struct progd_report *r)
{
	progd_report_free(r);
	return progd_sync(dir, &fake_ops, f, r);
}

#define TP(name, step) "[[programs]]\nname = \"" name "\"\nfile_path = \"/o\"\n" \
	"tracepoint_attach = { tracepoint = \"a/b\" }\nglobal_data = { step = \"" step "\" }\n"

static void sync_pass(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct progd_report r = { 0 };
	struct prog_view api = { 0 };
	struct load_plan p = { 0 };
	struct errmsg em = { { 0 } };
	uint32_t a_id, b_id;

	if (!f || !ASSERT_TRUE(mkdtemp(dir), "mkdtemp"))
		return;
	/* a program bpfd got from a Load call is never touched */
	strcpy(p.spec.name, "api_prog");
	strcpy(p.spec.source, PLAN_SOURCE_API);
	ASSERT_OK(f_load(f, &p, &api, &em), "api load");
	/* a missing directory is an empty one */
	drop("");
	rmdir(dir);
	ASSERT_OK(pass(f, &r), "missing dir");
	ASSERT_EQ(r.n, 0, "nothing");
	mkdir(dir, 0700);
	put("a.toml", TP("a", "01") TP("b", "01"));
	put("z.toml", "[[programs]]\nname = 1\n");
	put("notes.txt", "not toml");
	ASSERT_OK(pass(f, &r), "first");
	ASSERT_EQ(count(&r, PROGD_LOADED), 2, "loaded");
	ASSERT_EQ(count(&r, PROGD_ERROR), 1, "z.toml error");
	a_id = f->next_id - 1;
	b_id = f->next_id;
	/* nothing changed: nothing loaded */
	ASSERT_OK(pass(f, &r), "second");
	ASSERT_EQ(count(&r, PROGD_KEPT), 2, "kept");
	ASSERT_EQ(f->loads, 3, "no second load");
	/* b changed: replaced, a kept */
	put("a.toml", TP("a", "01") TP("b", "02"));
	ASSERT_OK(pass(f, &r), "change");
	ASSERT_EQ(count(&r, PROGD_REPLACED), 1, "replaced");
	ASSERT_TRUE(!f_find(f, b_id) && f_find(f, a_id), "old b gone, a stays");
	b_id = f->next_id;
	/* a failing replacement keeps the old program */
	f->fail_name = "b";
	put("a.toml", TP("a", "01") TP("b", "03"));
	ASSERT_OK(pass(f, &r), "failing change");
	ASSERT_EQ(count(&r, PROGD_ERROR), 2, "errors");
	ASSERT_STRSTR(r.v[r.n - 1].error, "programs.d/a.toml:6: [[programs]] 'b': no function 'b'; the program of the previous entry stays",
		      "error names file and line");
	ASSERT_TRUE(f_find(f, b_id) != NULL, "old b kept");
	f->fail_name = NULL;
	/* a file turned bad: its programs stay */
	put("a.toml", "[[programs]\n");
	ASSERT_OK(pass(f, &r), "bad file");
	ASSERT_TRUE(f_find(f, a_id) && f_find(f, b_id), "kept while bad");
	ASSERT_EQ(count(&r, PROGD_UNLOADED), 0, "nothing unloaded");
	/* an entry removed, then the file */
	put("a.toml", TP("a", "01"));
	ASSERT_OK(pass(f, &r), "entry removed");
	ASSERT_EQ(count(&r, PROGD_UNLOADED), 1, "b unloaded");
	drop("a.toml");
	ASSERT_OK(pass(f, &r), "file removed");
	ASSERT_EQ(count(&r, PROGD_UNLOADED), 1, "a unloaded");
	ASSERT_TRUE(f_find(f, api.id) != NULL, "the API program stays");
	ASSERT_EQ(f_next(f, api.id, &a_id), -ENOENT, "nothing else");
	progd_report_free(&r);
	drop("z.toml");
	drop("notes.txt");
	rmdir(dir);
	free(f);
}

#define XDP(step) "[[programs]]\nname = \"x\"\nfile_path = \"/o\"\n" \
	"xdp_attach = { iface = \"eth0\", priority = 5 }\nglobal_data = { step = \"" step "\" }\n"

/* A directly attached XDP program (one per hook) is replaced in place: the old one
 * goes first; when the new one fails, the old one is loaded again. */
static void direct_replace(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct progd_report r = { 0 };
	uint32_t id;

	if (!f || !ASSERT_TRUE(mkdtemp(dir), "mkdtemp"))
		return;
	put("x.toml", XDP("01"));
	ASSERT_OK(pass(f, &r), "first");
	ASSERT_EQ(count(&r, PROGD_LOADED), 1, "loaded");
	id = f->next_id;
	put("x.toml", XDP("02"));
	ASSERT_OK(pass(f, &r), "change");
	ASSERT_EQ(count(&r, PROGD_REPLACED), 1, "replaced in place");
	ASSERT_TRUE(!f_find(f, id) && f_find(f, f->next_id), "new one only");
	ASSERT_EQ(f_find(f, f->next_id)->spec.globals[0].value[0], 2, "the new global");
	put("x.toml", XDP("09"));
	ASSERT_OK(pass(f, &r), "failing change");
	ASSERT_EQ(count(&r, PROGD_ERROR), 1, "error");
	ASSERT_STRSTR(r.v[0].error, "the verifier refused it; the program of the previous entry was loaded again as",
		      "old one back");
	ASSERT_EQ(f_find(f, f->next_id)->spec.globals[0].value[0], 2, "the old global back");
	/* and it is kept as the previous entry's program: the entry is still the new one,
	 * so the next pass tries again, not a third program */
	ASSERT_OK(pass(f, &r), "again");
	ASSERT_EQ(count(&r, PROGD_ERROR), 1, "still refused");
	put("x.toml", XDP("02"));
	ASSERT_OK(pass(f, &r), "back to the old entry");
	ASSERT_EQ(count(&r, PROGD_KEPT), 1, "the reloaded program matches its entry");
	drop("x.toml");
	ASSERT_OK(pass(f, &r), "removed");
	ASSERT_EQ(count(&r, PROGD_UNLOADED), 1, "unloaded");
	progd_report_free(&r);
	rmdir(dir);
	free(f);
}

TEST_MAIN("progd",
	  TEST(direct_replace),
	  TEST(kinds),
	  TEST(errors),
	  TEST(fingerprints),
	  TEST(write_round_trip),
	  TEST(sync_pass))
