/* SPDX-License-Identifier: Apache-2.0 */
/* pull.c - bpfctl pull-bytecode: fetch an image into the daemon's local store */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/bpfctl/bpfctl.h"

struct pull_opts {
	struct bpfctl_common c;
	const char *image_url;
	const char *auth;
	const char *policy;
};

static const struct opt pull_optv[] = {
	BPFCTL_IMAGE_OPTS(struct pull_opts),
	BPFCTL_COMMON_OPTS(struct pull_opts),
	OPT_END
};

static const struct opts_spec pull_spec = {
	.prog = "bpfctl pull-bytecode",
	.usage = "bpfctl pull-bytecode -i URL [-r AUTH] [-p Always|IfNotPresent|Never]",
	.desc = "Have the daemon fetch the eBPF bytecode image URL into its local store, so\n"
		"that later loads (pull policy IfNotPresent or Never) need no registry.  With\n"
		"IfNotPresent a stored image is not fetched again; Always asks the registry.\n"
		"The image's cosign signature is checked as [signing] in bpfd.toml says.\n"
		"Prints the digest the image reference points at.  On a terminal, one line\n"
		"per layer while the daemon pulls it from the registry, bytes of its size,\n"
		"redrawn until it is complete (from the daemon's Events stream: none without\n"
		"it); piped or with -o json, only the answer.",
	.optv = pull_optv,
};

int bpfctl_pull_bytecode(int argc, char **argv)
{
	struct pull_opts o = { 0 };
	bpfd_v1_PullBytecodeRequest *req = NULL;
	bpfd_v1_PullBytecodeResponse resp = bpfd_v1_PullBytecodeResponse_init_zero;
	struct out *out;
	int rc;

	rc = bpfctl_parse(&pull_spec, &o, argc, argv, NULL, 0);
	if (rc < 0)
		return opts_exit_code(rc);
	if (bpfctl_common_check(&pull_spec, &o.c))
		return 2;
	req = calloc(1, sizeof(*req));
	if (!req)
		return bpfctl_error(&o.c, "Out of memory");
	req->has_image = true;
	rc = bpfctl_image_fill(&pull_spec, o.image_url, o.auth, o.policy, &req->image);
	if (rc) {
		rc = opts_exit_code(rc);
		goto out;
	}
	/* the daemon answers once, when the image is stored: on a terminal the
	 * layers' progress until then */
	rc = bpfctl_call_pull(&o.c, req->image.url, "/bpfd.v1.Bpfd/PullBytecode",
			      bpfd_v1_PullBytecodeRequest_fields, req,
			      bpfd_v1_PullBytecodeResponse_fields, &resp);
	if (rc)
		goto out;
	out = out_new(stdout, bpfctl_json(&o.c), true);
	if (!out) {
		rc = bpfctl_error(&o.c, "Out of memory");
		goto out;
	}
	out_begin_object(out, NULL);
	out_str(out, "url", "Successfully downloaded bytecode %s", req->image.url);
	out_str(out, "digest", " (%s)\n", resp.digest);
	out_end(out);
	rc = out_finish(out) ? bpfctl_error(&o.c, "Out of memory") : 0;
out:
	explicit_bzero(req, sizeof(*req));
	free(req);
	return rc;
}
