/* SPDX-License-Identifier: Apache-2.0 */
/* bpfctl.h - the bpfctl subcommands (one file each under src/applets/bpfctl/) */
#ifndef BPFD_APPLETS_BPFCTL_H
#define BPFD_APPLETS_BPFCTL_H

#include <stdbool.h>
#include <stdint.h>

#include <pb.h>

#include "bpfd.pb.h"
#include "core/base/chain.h"
#include "core/config/config.h"
#include "core/wire/client.h"
#include "core/base/opts.h"
#include "core/base/out.h"

/* Each returns an exit code: 0 ok, 1 error from the daemon, 2 usage. argv[0] = command. */
int bpfctl_events(int argc, char **argv);
int bpfctl_get(int argc, char **argv);
int bpfctl_list(int argc, char **argv);
int bpfctl_load_from_file(int argc, char **argv);
int bpfctl_modify(int argc, char **argv);
int bpfctl_reload(int argc, char **argv);
int bpfctl_save(int argc, char **argv);
int bpfctl_top(int argc, char **argv);
int bpfctl_load_from_image(int argc, char **argv);
int bpfctl_pull_bytecode(int argc, char **argv);
int bpfctl_images(int argc, char **argv);
int bpfctl_unload(int argc, char **argv);

/* ---- common.c: connection and output options shared by every command ---- */

struct bpfctl_common {
	const char *endpoint;
	const char *ca;
	const char *cert;
	const char *key;
	const char *output;	/* "text" or "json" */
	bool json;		/* -j: same as -o json */
};

/* Put these in a command's option table; its opts struct embeds a struct
 * bpfctl_common named c. */
#define BPFCTL_COMMON_OPTS(T)							\
	OPT_STR("endpoint", 0, T, c.endpoint, "URL",				\
		"daemon endpoint: unix:///PATH or tcp://HOST:PORT (default: "	\
		"$BPFD_ENDPOINT, else the enabled unix endpoint of $BPFD_CONFIG " \
		"or " BPFD_CONFIG_FILE ", else " CLIENT_DEFAULT_ENDPOINT ")"),	\
	OPT_STR("ca", 0, T, c.ca, "FILE",					\
		"CA certificate for tcp:// (default /etc/bpfd/certs/ca/ca.pem)"), \
	OPT_STR("cert", 0, T, c.cert, "FILE",					\
		"client certificate for tcp:// (default "			\
		"/etc/bpfd/certs/bpfd-client/bpfd-client.pem)"),		\
	OPT_STR("key", 0, T, c.key, "FILE",					\
		"client key for tcp:// (default "				\
		"/etc/bpfd/certs/bpfd-client/bpfd-client.key)"),		\
	OPT_STR("output", 'o', T, c.output, "FORMAT", "text (default) or json"), \
	OPT_FLAG("json", 'j', T, c.json, "same as -o json")

/* Check -o; fill the defaults: the endpoint from $BPFD_ENDPOINT, else the daemon's
 * configuration file (its enabled unix endpoint), else CLIENT_DEFAULT_ENDPOINT; the
 * TLS files from $BPFD_CA, $BPFD_CERT, $BPFD_KEY.  0 or OPTS_USAGE (message printed). */
int bpfctl_common_check(const struct opts_spec *spec, struct bpfctl_common *c);
bool bpfctl_json(const struct bpfctl_common *c);
/* opts_parse() that also takes options after positional arguments
 * ("get 5 -o json"): the positionals go to pos (at most max).  Returns their
 * number, or OPTS_HELP / OPTS_USAGE (message printed). */
int bpfctl_parse(const struct opts_spec *spec, void *opts, int argc, char **argv,
		 char **pos, int max);
/* The options of a command that takes only the common ones and one program ID
 * (get, unload): its spec's optv is bpfctl_id_optv, its opts a struct
 * bpfctl_id_opts. */
struct bpfctl_id_opts {
	struct bpfctl_common c;
};
extern const struct opt bpfctl_id_optv[];
/* Parse such a command's arguments: 0 with *ret_id set (0 only when zero_ok),
 * or OPTS_HELP / OPTS_USAGE (message printed). */
int bpfctl_parse_id(const struct opts_spec *spec, struct bpfctl_id_opts *o, int argc,
		    char **argv, bool zero_ok, uint32_t *ret_id);

/* The usage errors more than one command or option reports, each worded once.  Each
 * prints "PROG: ..." and returns OPTS_USAGE. */
/* what (an option such as "--map-owner-id", or NULL for the positional ID) is not
 * a program ID; 0 or OPTS_USAGE.  zero_ok: 0 is accepted (get). */
int bpfctl_prog_id(const struct opts_spec *spec, const char *what, const char *s,
		   bool zero_ok, uint32_t *ret);
/* (A bad value: opts_bad_value().) */
/* "WHAT is LEN bytes long; the limit is LIMIT": never echoes the value itself. */
int bpfctl_too_long(const struct opts_spec *spec, const char *what, size_t len, size_t limit);
/* "too many WHAT (limit LIMIT)". */
int bpfctl_too_many(const struct opts_spec *spec, const char *what, size_t limit);
/* One "KEY=VALUE" of option opt (len bytes at arg, no ',') into key and val (sizes with
 * the NUL, as in the request): the errors above. */
int bpfctl_kv(const struct opts_spec *spec, const char *opt, const char *arg, size_t len,
	      char *key, size_t ksize, char *val, size_t vsize);
/* A --priority value (syntax only: a number; the daemon checks its meaning). */
int bpfctl_priority(const struct opts_spec *spec, const char *s, int32_t *ret);
/* --proceed-on values of kind (repeatable, comma lists) into codes (room for max). */
int bpfctl_proceed_on(const struct opts_spec *spec, enum chain_kind kind,
		      const struct str_list *l, int32_t *codes, pb_size_t *ret_n, size_t max);
/* Print "Error: MSG", or {"error": "MSG"} in JSON mode, to stderr (stdout carries
 * only results); returns 1 (the exit code of a failed command). */
int bpfctl_error(const struct bpfctl_common *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Connect, call, close: 0 when the daemon answered OK (resp decoded), else
 * the error is printed and 1 is returned. */
int bpfctl_call(const struct bpfctl_common *c, const char *method,
		const pb_msgdesc_t *req_fields, const void *req,
		const pb_msgdesc_t *resp_fields, void *resp);
/* What bpfctl_call() returns and prints for bpfctl_call_quiet()'s result. */
int bpfctl_call_result(const struct bpfctl_common *c, int err, const struct errmsg *em,
		       const struct client_status *st);
/* The same without printing: -errno with em set when the daemon could not be asked,
 * else 0 with the answer's status in *st (resp decoded when it is OK). */
int bpfctl_call_quiet(const struct bpfctl_common *c, const char *method,
		      const pb_msgdesc_t *req_fields, const void *req,
		      const pb_msgdesc_t *resp_fields, void *resp, struct client_status *st,
		      struct errmsg *em);

/* ---- progress.c: a call that pulls an image ---- */

/* bpfctl_call() of a PullBytecode or a Load from image url.  When stdout is a
 * terminal (and the output text), the daemon's Events stream is read beside
 * the call and each layer of the pull is drawn as a line redrawn in place,
 * "sha256:0123456789ab  1.2 MiB / 3.4 MiB"; the lines stay above the answer.
 * Without the stream (refused, off, an older daemon) the call goes on as
 * bpfctl_call() does.  Else nothing but the answer is printed. */
int bpfctl_call_pull(const struct bpfctl_common *c, const char *url, const char *method,
		     const pb_msgdesc_t *req_fields, const void *req,
		     const pb_msgdesc_t *resp_fields, void *resp);

/* ---- load.c: the image options load-from-image and pull-bytecode share ---- */

/* -i, -r, -p into the fields image_url, auth and policy of T. */
#define BPFCTL_IMAGE_OPTS(T)							\
	OPT_STR("image-url", 'i', T, image_url, "URL",				\
		"the bytecode image: [HOST[:PORT]/]REPO[:TAG][@sha256:DIGEST] (required)"), \
	OPT_STR("registry-auth", 'r', T, auth, "AUTH",				\
		"registry credentials: base64 of USER:PASSWORD"),		\
	OPT_STR("pull-policy", 'p', T, policy, "POLICY",			\
		"Always, IfNotPresent (default) or Never")

/* -i URL, -r AUTH (base64 of USER:PASSWORD), -p POLICY (default IfNotPresent)
 * into im: 0 or OPTS_USAGE (message printed; credentials never echoed). */
int bpfctl_image_fill(const struct opts_spec *spec, const char *url, const char *auth,
		      const char *policy, bpfd_v1_BytecodeImage *im);

/* ---- show.c: printing programs ---- */

/* Print one program: the "Bpfd State" and "Kernel State" tables of the
 * original bpfctl, or a JSON object with snake_case keys.  info is NULL for a
 * program bpfd does not own.  Returns 0 or -ENOMEM. */
int show_program(const bpfd_v1_ProgramInfo *info, const bpfd_v1_KernelProgramInfo *k,
		 bool json);
/* Print one program to o: the two tables in text mode, in JSON mode an object
 * added to the current list (or as the root). */
void show_program_out(struct out *o, const bpfd_v1_ProgramInfo *info,
		      const bpfd_v1_KernelProgramInfo *k);
/* Name of a program type as list shows it ("xdp", "tc", "probe",
 * "cgroup_skb"), or "unknown(N)" written to buf. */
const char *show_prog_type(uint32_t type, char *buf, size_t size);
/* The kind a program is shown as: show_prog_type(type), except "tcx" for a TCX
 * program bpfd manages (info, may be NULL, says so; the kernel's type is SCHED_CLS). */
const char *show_prog_kind(const bpfd_v1_ProgramInfo *info, uint32_t type, char *buf,
			   size_t size);
/* Parse a type name of `list -p` (socket-filter, kprobe/probe, tc, xdp, ...,
 * '_' or '-', or a number): 0 or -EINVAL. */
int show_prog_type_parse(const char *s, uint32_t *ret);

#endif
