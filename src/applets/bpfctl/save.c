/* SPDX-License-Identifier: Apache-2.0 */
/* save.c - bpfctl save [FILE]: the programs bpfd holds, as a programs.d file */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pb_decode.h>

#include "applets/bpfctl/bpfctl.h"
#include "core/progd.h"
#include "core/state/record.h"

struct save_opts {
	struct bpfctl_common c;
	bool api_only;
};

static const struct opt save_optv[] = {
	OPT_FLAG("api-only", 'a', struct save_opts, api_only,
		 "only programs loaded through the API (not those of programs.d files)"),
	BPFCTL_COMMON_OPTS(struct save_opts),
	OPT_END
};

static const struct opts_spec save_spec = {
	.prog = "bpfctl save",
	.usage = "bpfctl save [--api-only] [FILE]",
	.desc = "Write the programs bpfd holds now as a programs.d file: one [[programs]]\n"
		"entry each (file, kind, attach point, priority, direction, proceed-on,\n"
		"globals, metadata), so that bpfd loads them again at its next start when\n"
		"FILE is in its programs.d directory (default /etc/bpfd/programs.d).  FILE\n"
		"is replaced atomically; without FILE (or with -) the entries go to stdout.\n"
		"Positions are not saved: they follow from the priorities.  A program that\n"
		"shares another's maps (map owner) is saved without that link, with a\n"
		"warning.  Saving into programs.d while another file there holds the same\n"
		"programs loads them twice: use --api-only to leave those out.",
	.optv = save_optv,
};

struct save_state {
	FILE *f;
	bpfd_v1_ListResponse_ListResult *res;
	struct prog_view *view;
	bool api_only;
	size_t n, skipped;
	int err;
};

static bool result_save(pb_istream_t *s, const pb_field_t *field, void **arg)
{
	struct save_state *st = *arg;
	bpfd_v1_ListResponse_ListResult *res = st->res;

	(void)field;
	memset(res, 0, sizeof(*res));
	if (!pb_decode(s, bpfd_v1_ListResponse_ListResult_fields, res))
		return false;
	if (!res->has_info)
		return true;
	if (res->info.record_damaged[0]) {
		fprintf(stderr, "bpfctl save: program %u skipped: its record is damaged (%s)\n",
			res->kernel_info.id, res->info.record_damaged);
		st->skipped++;
		return true;
	}
	if (st->api_only && strncmp(res->info.source, PROGD_SOURCE_PREFIX,
				    strlen(PROGD_SOURCE_PREFIX)) == 0)
		return true;
	record_info_from_pb(&res->info, st->view);
	if (st->view->spec.has_map_owner)
		fprintf(stderr,
			"bpfctl save: program %u shares the maps of program %u: saved without that (map owners are not saved)\n",
			res->kernel_info.id, st->view->spec.map_owner_id);
	fprintf(st->f, "%s# program %u, source %s\n", st->n ? "\n" : "", res->kernel_info.id,
		res->info.source[0] ? res->info.source : "unknown");
	if (progd_write_entry(st->f, &st->view->spec, NULL, 0)) {
		st->err = -EIO;
		return false;
	}
	st->n++;
	return true;
}

/* A temporary file beside path, renamed over it when complete. */
static FILE *open_tmp(const char *path, char *tmp, size_t size)
{
	int fd;
	FILE *f;

	if (snprintf(tmp, size, "%s.XXXXXX", path) >= (int)size)
		return errno = ENAMETOOLONG, NULL;
	fd = mkstemp(tmp);
	if (fd < 0)
		return NULL;
	(void)fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
	}
	return f;
}

int bpfctl_save(int argc, char **argv)
{
	struct save_opts o = { 0 };
	struct save_state st = { 0 };
	bpfd_v1_ListRequest *req = NULL;
	bpfd_v1_ListResponse resp = { .results = { .funcs.decode = result_save, .arg = &st } };
	char *pos[1] = { NULL }, tmp[PATH_MAX] = "";
	const char *path;
	int n, rc = 2;

	n = bpfctl_parse(&save_spec, &o, argc, argv, pos, 1);
	if (n < 0)
		return opts_exit_code(n);
	if (bpfctl_common_check(&save_spec, &o.c))
		return 2;
	path = n && strcmp(pos[0], "-") ? pos[0] : NULL;
	st.api_only = o.api_only;
	req = calloc(1, sizeof(*req));
	st.res = calloc(1, sizeof(*st.res));
	st.view = calloc(1, sizeof(*st.view));
	if (!req || !st.res || !st.view) {
		rc = bpfctl_error(&o.c, "Out of memory");
		goto out;
	}
	st.f = path ? open_tmp(path, tmp, sizeof(tmp)) : stdout;
	if (!st.f) {
		rc = bpfctl_error(&o.c, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	fprintf(st.f, "# bpfd programs.d file written by 'bpfctl save'\n\n");
	req->has_bpfd_programs_only = true;
	req->bpfd_programs_only = true;
	rc = bpfctl_call(&o.c, "/bpfd.v1.Bpfd/List", bpfd_v1_ListRequest_fields, req,
			 bpfd_v1_ListResponse_fields, &resp);
	if (!rc && st.err)
		rc = bpfctl_error(&o.c, "cannot write %s: %s", path ? path : "stdout",
				  strerror(-st.err));
	if (path) {
		if (fflush(st.f) || fsync(fileno(st.f)))
			rc = rc ?: bpfctl_error(&o.c, "cannot write %s: %s", path, strerror(errno));
		if (fclose(st.f) && !rc)
			rc = bpfctl_error(&o.c, "cannot write %s: %s", path, strerror(errno));
		if (!rc && rename(tmp, path))
			rc = bpfctl_error(&o.c, "cannot replace %s: %s", path, strerror(errno));
		if (rc)
			unlink(tmp);
		else
			fprintf(stderr, "bpfctl save: %zu program%s written to %s\n", st.n,
				st.n == 1 ? "" : "s", path);
	} else {
		fflush(stdout);
	}
out:
	free(req);
	free(st.res);
	free(st.view);
	return rc;
}
