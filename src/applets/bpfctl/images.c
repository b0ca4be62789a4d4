/* SPDX-License-Identifier: Apache-2.0 */
/* images.c - bpfctl images: the daemon's local image store; remove and prune entries */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applets/bpfctl/bpfctl.h"

struct images_opts {
	struct bpfctl_common c;
	struct str_list remove;
	bool prune;
};

static const struct opt images_optv[] = {
	OPT_LIST("rm", 0, struct images_opts, remove, "REFERENCE",
		 "remove this image from the store; repeatable"),
	OPT_FLAG("prune", 0, struct images_opts, prune,
		 "remove every image no program loaded by bpfd uses"),
	BPFCTL_COMMON_OPTS(struct images_opts),
	OPT_END
};

static const struct opts_spec images_spec = {
	.prog = "bpfctl images",
	.usage = "bpfctl images [--rm REFERENCE]... [--prune] [-o text|json]",
	.desc = "List the bytecode images in the daemon's local store ([runtime] image_dir):\n"
		"reference, digest, size, when it was last pulled or loaded from, and the\n"
		"programs loaded from it.  --rm and --prune remove entries, and the blobs\n"
		"no entry uses any more.",
	.optv = images_optv,
};

static void size_str(uint64_t b, char *buf, size_t len)
{
	if (b < 10 * 1024)
		snprintf(buf, len, "%llu B", (unsigned long long)b);
	else if (b < 10ull << 20)
		snprintf(buf, len, "%llu KiB", (unsigned long long)(b >> 10));
	else
		snprintf(buf, len, "%llu MiB", (unsigned long long)(b >> 20));
}

static void print_table(const bpfd_v1_ListImagesResponse *r)
{
	char size[32], when[32], used[128];
	size_t i, j, wr = strlen("Reference"), n;
	time_t t;

	for (i = 0; i < r->images_count; i++)
		if (strlen(r->images[i].reference) > wr)
			wr = strlen(r->images[i].reference);
	printf(" %-*s  %-71s  %-9s  %-25s  %s\n", (int)wr, "Reference", "Digest", "Size",
	       "Last Used", "Used By");
	for (i = 0; i < r->images_count; i++) {
		const bpfd_v1_ListImagesResponse_Image *im = &r->images[i];

		size_str(im->size, size, sizeof(size));
		t = im->last_used;
		if (!strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", localtime(&t)))
			when[0] = '\0';
		n = snprintf(used, sizeof(used), "%s", im->used_by_count ? "" : "-");
		for (j = 0; j < im->used_by_count && n < sizeof(used); j++)
			n += snprintf(used + n, sizeof(used) - n, "%s%u", j ? "," : "",
				      im->used_by[j]);
		printf(" %-*s  %-71s  %-9s  %-25s  %s\n", (int)wr, im->reference, im->digest,
		       size, when, used);
	}
}

static int list(struct images_opts *o)
{
	bpfd_v1_ListImagesRequest req = bpfd_v1_ListImagesRequest_init_zero;
	bpfd_v1_ListImagesResponse *resp = calloc(1, sizeof(*resp));
	struct out *out = NULL;
	size_t i, j;
	int rc;

	if (!resp)
		return bpfctl_error(&o->c, "Out of memory");
	rc = bpfctl_call(&o->c, "/bpfd.v1.Bpfd/ListImages", bpfd_v1_ListImagesRequest_fields,
			 &req, bpfd_v1_ListImagesResponse_fields, resp);
	if (rc)
		goto out;
	if (!bpfctl_json(&o->c)) {
		print_table(resp);
		goto out;
	}
	out = out_new(stdout, true, true);
	if (!out) {
		rc = bpfctl_error(&o->c, "Out of memory");
		goto out;
	}
	out_begin_list(out, NULL);
	for (i = 0; i < resp->images_count; i++) {
		out_begin_object(out, NULL);
		out_str(out, "reference", NULL, resp->images[i].reference);
		out_str(out, "digest", NULL, resp->images[i].digest);
		out_u64(out, "size", NULL, resp->images[i].size);
		out_i64(out, "last_used", NULL, resp->images[i].last_used);
		out_begin_list(out, "used_by");
		for (j = 0; j < resp->images[i].used_by_count; j++)
			out_u64(out, NULL, NULL, resp->images[i].used_by[j]);
		out_end(out);
		out_end(out);
	}
	out_end(out);
	rc = out_finish(out) ? bpfctl_error(&o->c, "Out of memory") : 0;
	out = NULL;
out:
	out_free(out);
	free(resp);
	return rc;
}

static int remove_images(struct images_opts *o)
{
	bpfd_v1_RemoveImagesRequest *req = calloc(1, sizeof(*req));
	bpfd_v1_RemoveImagesResponse *resp = calloc(1, sizeof(*resp));
	const size_t max = sizeof(req->references) / sizeof(req->references[0]);
	struct out *out = NULL;
	size_t i;
	int rc;

	if (!req || !resp) {
		rc = bpfctl_error(&o->c, "Out of memory");
		goto out;
	}
	if (o->remove.n > max) {
		rc = opts_exit_code(bpfctl_too_many(&images_spec, "--rm references", max));
		goto out;
	}
	for (i = 0; i < o->remove.n; i++) {
		if (strlen(o->remove.v[i]) >= sizeof(req->references[0])) {
			rc = opts_exit_code(bpfctl_too_long(&images_spec, "--rm", strlen(o->remove.v[i]),
							    sizeof(req->references[0]) - 1));
			goto out;
		}
		strcpy(req->references[i], o->remove.v[i]);
	}
	req->references_count = o->remove.n;
	req->prune = o->prune;
	rc = bpfctl_call(&o->c, "/bpfd.v1.Bpfd/RemoveImages", bpfd_v1_RemoveImagesRequest_fields,
			 req, bpfd_v1_RemoveImagesResponse_fields, resp);
	if (rc)
		goto out;
	out = out_new(stdout, bpfctl_json(&o->c), true);
	if (!out) {
		rc = bpfctl_error(&o->c, "Out of memory");
		goto out;
	}
	out_begin_object(out, NULL);
	out_begin_list(out, "removed");
	for (i = 0; i < resp->removed_count; i++)
		out_str(out, NULL, "Removed %s\n", resp->removed[i]);
	out_end(out);
	out_u64(out, "blobs", "Deleted %llu blobs", resp->blobs);
	out_u64(out, "bytes", ", %llu bytes\n", resp->bytes);
	out_end(out);
	rc = out_finish(out) ? bpfctl_error(&o->c, "Out of memory") : 0;
	out = NULL;
out:
	out_free(out);
	free(req);
	free(resp);
	return rc;
}

int bpfctl_images(int argc, char **argv)
{
	struct images_opts o = { 0 };
	int rc;

	rc = bpfctl_parse(&images_spec, &o, argc, argv, NULL, 0);
	if (rc < 0) {
		rc = opts_exit_code(rc);
		goto out;
	}
	rc = 2;
	if (bpfctl_common_check(&images_spec, &o.c))
		goto out;
	rc = o.remove.n || o.prune ? remove_images(&o) : list(&o);
out:
	str_list_free(&o.remove);
	return rc;
}
