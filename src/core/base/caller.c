/* SPDX-License-Identifier: Apache-2.0 */
/* caller.c - the peer of a connection: its name, group membership, certificate names;
 * passwd/group lookups without NSS */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/caller.h"

#define PASSWD_FILE	"/etc/passwd"

/*
 * Scan a passwd(5) or group(5) file ("name:password:ID:..."): the entry whose
 * name is name (name != NULL), or whose ID is id.  Copies the name into buf and
 * returns the ID through *ret_id.  0, -ENOENT, or -errno opening the file.
 */
static int scan(const char *path, const char *name, uint32_t id, char *buf, size_t size,
		uint32_t *ret_id)
{
	char line[4096], *pw, *num, *end;
	unsigned long v;
	int err = -ENOENT;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		pw = strchr(line, ':');
		if (!pw || pw == line)
			continue;
		*pw++ = '\0';
		num = strchr(pw, ':');
		if (!num)
			continue;
		num++;
		errno = 0;
		v = strtoul(num, &end, 10);
		if (end == num || (*end != ':' && *end != '\n' && *end) || errno ||
		    v > 0xfffffffful)
			continue;
		if (name ? strcmp(line, name) : v != id)
			continue;
		if (buf)
			snprintf(buf, size, "%s", line);
		if (ret_id)
			*ret_id = v;
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

int ident_user_uid(const char *passwd, const char *name, uint32_t *ret_uid)
{
	return scan(passwd, name, 0, NULL, 0, ret_uid);
}

int ident_user_name(const char *passwd, uint32_t uid, char *buf, size_t size)
{
	return scan(passwd, NULL, uid, buf, size, NULL);
}

int ident_group_gid(const char *group, const char *name, uint32_t *ret_gid)
{
	return scan(group, name, 0, NULL, 0, ret_gid);
}

void caller_set_name(struct caller *c, const char *passwd)
{
	char user[64];

	switch (c->kind) {
	case CALLER_UNIX:
		if (!ident_user_name(passwd ? passwd : PASSWD_FILE, c->uid, user, sizeof(user)))
			snprintf(c->name, sizeof(c->name), "uid=%u(%s)", c->uid, user);
		else
			snprintf(c->name, sizeof(c->name), "uid=%u", c->uid);
		break;
	case CALLER_TLS:
		if (c->cn[0])
			snprintf(c->name, sizeof(c->name), "cn=%.120s", c->cn);
		else if (c->n_sans)
			snprintf(c->name, sizeof(c->name), "dns=%.120s", c->sans[0]);
		else
			snprintf(c->name, sizeof(c->name), "tls client without a name");
		break;
	default:
		snprintf(c->name, sizeof(c->name), "unknown caller");
	}
}

bool caller_in_group(const struct caller *c, uint32_t gid)
{
	size_t i;

	if (c->kind != CALLER_UNIX)
		return false;
	if (c->gid == gid)
		return true;
	for (i = 0; i < c->n_groups && i < CALLER_MAX_GROUPS; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

bool caller_has_cert_name(const struct caller *c, const char *name)
{
	size_t i;

	if (c->kind != CALLER_TLS || !name[0])
		return false;
	if (!strcmp(c->cn, name))
		return true;
	for (i = 0; i < c->n_sans && i < CALLER_MAX_SANS; i++)
		if (!strcmp(c->sans[i], name))
			return true;
	return false;
}
