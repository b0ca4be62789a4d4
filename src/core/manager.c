/* SPDX-License-Identifier: Apache-2.0 */
/* manager.c - program manager (first cut: owns nothing yet; Load/Unload not available) */
#include <errno.h>
#include <stdlib.h>

#include "core/manager.h"

struct mgr {
	const struct bpfd_config *cfg;
};

int mgr_new(const struct bpfd_config *cfg, struct mgr **ret, struct errmsg *em)
{
	struct mgr *m;

	(void)em;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = cfg;
	*ret = m;
	return 0;
}

void mgr_free(struct mgr *m)
{
	free(m);
}

int mgr_load(struct mgr *m, const bpfd_v1_LoadRequest *req, bpfd_v1_LoadResponse *resp,
	     struct errmsg *em)
{
	(void)m, (void)req, (void)resp;
	return errmsg_set(em, -EOPNOTSUPP,
			  "Load is not available in this build of bpfd yet: the program manager is not implemented");
}

int mgr_unload(struct mgr *m, uint32_t id, struct errmsg *em)
{
	(void)m, (void)id;
	return errmsg_set(em, -EOPNOTSUPP,
			  "Unload is not available in this build of bpfd yet: the program manager is not implemented");
}

int mgr_pull_bytecode(struct mgr *m, const bpfd_v1_PullBytecodeRequest *req, struct errmsg *em)
{
	(void)m, (void)req;
	return errmsg_set(em, -EOPNOTSUPP,
			  "PullBytecode is not available in this build of bpfd yet: bytecode images are not implemented");
}

int mgr_prog_info(struct mgr *m, uint32_t id, bpfd_v1_ProgramInfo *ret, uint32_t *ret_type)
{
	(void)m, (void)id, (void)ret, (void)ret_type;
	return -ENOENT;
}
