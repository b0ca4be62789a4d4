/* SPDX-License-Identifier: Apache-2.0 */
/* config.c - defaults only, until the TOML parser lands */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"

void config_set_rundir(struct bpfd_config *cfg, const char *rundir)
{
	snprintf(cfg->rundir, sizeof(cfg->rundir), "%s", rundir);
	snprintf(cfg->bpffs, sizeof(cfg->bpffs), "%s/fs", rundir);
	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s/bpfd.sock", rundir);
}

void config_defaults(struct bpfd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	config_set_rundir(cfg, BPFD_RUNDIR);
	snprintf(cfg->xdp_bpffs, sizeof(cfg->xdp_bpffs), "/sys/fs/bpf");
	cfg->unix_enabled = true;
	snprintf(cfg->socket_group, sizeof(cfg->socket_group), "bpfd");
	snprintf(cfg->tcp_addr, sizeof(cfg->tcp_addr), "::1");
	cfg->tcp_port = 50051;
	snprintf(cfg->certs_dir, sizeof(cfg->certs_dir), "%s", BPFD_CERTS_DIR);
	cfg->max_msg = BPFD_MAX_MSG;
	cfg->allow_unsigned = true;
	snprintf(cfg->image_dir, sizeof(cfg->image_dir), "%s", BPFD_IMAGE_DIR);
}

int config_parse(struct bpfd_config *cfg, const char *text, size_t len, struct errmsg *em)
{
	(void)cfg, (void)text, (void)len;
	return errmsg_set(em, -EOPNOTSUPP, "configuration files are not supported yet");
}

int config_load(struct bpfd_config *cfg, const char *path, bool must_exist, struct errmsg *em)
{
	FILE *f = fopen(path, "r");

	(void)cfg;
	if (!f)
		return must_exist ? errmsg_set(em, -errno, "Failed to open '%s': %s", path,
					       strerror(errno)) : 0;
	fclose(f);
	return errmsg_set(em, -EOPNOTSUPP, "configuration files are not supported yet ('%s')", path);
}

enum xdp_mode config_xdp_mode(const struct bpfd_config *cfg, const char *iface)
{
	size_t i;

	for (i = 0; i < cfg->n_ifaces; i++)
		if (!strcmp(cfg->ifaces[i].name, iface))
			return cfg->ifaces[i].xdp_mode;
	return XDP_MODE_DEFAULT;
}
