/* SPDX-License-Identifier: Apache-2.0 */
/* caller.h - who is calling: the peer of a connection (uid and groups on the unix
 * socket, certificate names on TCP), its name for logs and records, and the
 * /etc/passwd and /etc/group lookups behind those names (no NSS: the binary is
 * static) */
#ifndef BPFD_CORE_BASE_CALLER_H
#define BPFD_CORE_BASE_CALLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CALLER_MAX_GROUPS	128	/* supplementary groups kept of a peer */
#define CALLER_MAX_SANS		8	/* DNS subjectAltNames kept of a certificate */
#define CALLER_NAME_SIZE	128	/* "uid=1000(alice)", "cn=client1" */
#define CALLER_CN_SIZE		128

enum caller_kind {
	CALLER_UNKNOWN = 0,	/* the kernel did not say (SO_PEERCRED failed) */
	CALLER_UNIX,		/* a local process on the unix socket */
	CALLER_TLS,		/* a TCP client with a verified certificate */
};

/* One connection's peer, filled when it is accepted (and, on TCP, after the
 * handshake); it does not change during the connection. */
struct caller {
	enum caller_kind kind;
	/* CALLER_UNIX: SO_PEERCRED and SO_PEERGROUPS at connect() time */
	int32_t pid;
	uint32_t uid;
	uint32_t gid;
	uint32_t groups[CALLER_MAX_GROUPS];	/* supplementary groups */
	size_t n_groups;
	/* CALLER_TLS: the verified client certificate */
	char cn[CALLER_CN_SIZE];		/* subject CN, "" none */
	char sans[CALLER_MAX_SANS][CALLER_CN_SIZE];	/* DNS subjectAltNames */
	size_t n_sans;
	/* for logs, messages and ProgramInfo.owner: "uid=1000(alice)" (the name
	 * when /etc/passwd has one), "cn=client1", "unknown caller" */
	char name[CALLER_NAME_SIZE];
};

/* Fill c->name from the other fields (uid names from passwd, may be NULL:
 * /etc/passwd). */
void caller_set_name(struct caller *c, const char *passwd);
/* The caller is in group gid (its primary group or a supplementary one). */
bool caller_in_group(const struct caller *c, uint32_t gid);
/* The certificate carries name as its CN or as a DNS subjectAltName. */
bool caller_has_cert_name(const struct caller *c, const char *name);

/* Lookups in files of the passwd(5) and group(5) format, without NSS.  0 with
 * the result, -ENOENT when there is no such entry, or -errno reading the file. */
int ident_user_uid(const char *passwd, const char *name, uint32_t *ret_uid);
int ident_user_name(const char *passwd, uint32_t uid, char *buf, size_t size);
int ident_group_gid(const char *group, const char *name, uint32_t *ret_gid);

#endif
