/* SPDX-License-Identifier: Apache-2.0 */
/* caps.c - capabilities of the calling thread without libcap: capget/capset, bounding set */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/securebits.h>

#include "core/base/caps.h"

/* capability(7) names by number; CAP_LAST_CAP of kernel 6.x is 40 */
static const char *const cap_name[] = {
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner",
	"cap_fsetid", "cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap",
	"cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast",
	"cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner",
	"cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace",
	"cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
	"cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod",
	"cap_lease", "cap_audit_write", "cap_audit_control", "cap_setfcap",
	"cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
	"cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf",
	"cap_checkpoint_restore",
};

int caps_get(struct caps *ret)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	ret->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	ret->prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	ret->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

int caps_set(const struct caps *c)
{
	/* pid 0: the calling thread, the only one capset may change */
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)c->eff, (uint32_t)c->prm, (uint32_t)c->inh },
		{ (uint32_t)(c->eff >> 32), (uint32_t)(c->prm >> 32), (uint32_t)(c->inh >> 32) },
	};

	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

int caps_bound(uint64_t keep)
{
	int cap, r;

	for (cap = 0; cap < 64; cap++) {
		if (keep & CAPS_BIT(cap))
			continue;
		r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0 && errno == EINVAL)
			break;		/* past the kernel's last capability */
		if (r <= 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	}
	/* ambient capabilities outlive execve(); kernels before 4.3 have none */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

int caps_limit(uint64_t keep)
{
	struct caps c;
	int err;

	err = caps_get(&c);
	if (err)
		return err;
	c.prm &= keep;
	c.eff = c.prm;
	c.inh = 0;
	return caps_set(&c);
}

int caps_drop_all(void)
{
	static const struct caps none;
	unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
			     SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED;
	int cur;

	/* without CAP_SETPCAP (not root) there is no root to fix up: skip */
	cur = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (cur >= 0 && prctl(PR_SET_SECUREBITS, (unsigned long)cur | bits, 0, 0, 0) < 0 &&
	    errno != EPERM)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return caps_set(&none);
}

static int hex_field(const char *line, const char *key, uint64_t *ret)
{
	size_t n = strlen(key);
	unsigned long long v;

	if (strncmp(line, key, n) || sscanf(line + n, " %llx", &v) != 1)
		return 0;
	*ret = v;
	return 1;
}

int caps_status_read(pid_t tid, struct caps_status *ret)
{
	char path[64], line[256];
	FILE *f;
	int got = 0;

	memset(ret, 0, sizeof(*ret));
	ret->no_new_privs = -1;
	ret->seccomp = -1;
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid ? tid : gettid());
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		got += hex_field(line, "CapInh:", &ret->c.inh);
		got += hex_field(line, "CapPrm:", &ret->c.prm);
		got += hex_field(line, "CapEff:", &ret->c.eff);
		got += hex_field(line, "CapBnd:", &ret->bnd);
		(void)hex_field(line, "CapAmb:", &ret->amb);
		if (!strncmp(line, "NoNewPrivs:", 11))
			ret->no_new_privs = (int)strtol(line + 11, NULL, 10);
		else if (!strncmp(line, "Seccomp:", 8))
			ret->seccomp = (int)strtol(line + 8, NULL, 10);
	}
	fclose(f);
	return got == 4 ? 0 : -ENODATA;
}

size_t caps_names(uint64_t mask, char *buf, size_t len)
{
	size_t n = 0;
	int cap, w;

	if (len)
		buf[0] = '\0';
	if (!mask)
		return (size_t)snprintf(buf, len, "none");
	for (cap = 0; cap < 64; cap++) {
		if (!(mask & CAPS_BIT(cap)))
			continue;
		if (cap < (int)(sizeof(cap_name) / sizeof(cap_name[0])))
			w = snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "%s%s",
				     n ? "," : "", cap_name[cap]);
		else
			w = snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "%scap_%d",
				     n ? "," : "", cap);
		n += (size_t)w;
	}
	return n;
}
