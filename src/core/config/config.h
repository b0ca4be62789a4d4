/* SPDX-License-Identifier: Apache-2.0 */
/* config.h - daemon configuration: defaults, /etc/bpfd/bpfd.toml, command-line overrides */
#ifndef BPFD_CORE_CONFIG_H
#define BPFD_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/errmsg.h"
#include "core/config/policy.h"

#define BPFD_CONFIG_FILE	"/etc/bpfd/bpfd.toml"
#define BPFD_RUNDIR		"/run/bpfd"
#define BPFD_CERTS_DIR		"/etc/bpfd/certs"
#define BPFD_MAX_SIGNING_KEYS	16
#define BPFD_IMAGE_DIR		"/var/lib/bpfd/io.bpfd.image.content"
#define BPFD_PROGRAMS_DIR	"/etc/bpfd/programs.d"
#define BPFD_MAX_MSG		(4u << 20)	/* largest gRPC message accepted */
#define BPFD_MAX_IFACES		64
#define BPFD_METRICS_LABELS_MAX	8	/* [metrics] labels */
#define BPFD_METRICS_LABEL_SIZE	128	/* a metadata key, with its NUL */

/* What one client may hold of the daemon ([grpc] in bpfd.toml; dist/bpfd.toml
 * documents each).  Times in seconds.  All size_t: no padding, one setter. */
struct server_limits {
	size_t max_streams;		/* concurrent streams per connection: 100 */
	size_t max_buffered_conn;	/* bytes of incomplete requests per connection: 16 MiB */
	size_t max_buffered_total;	/* ... in the whole daemon: 64 MiB */
	size_t message_timeout;	/* a request must arrive whole within: 60 */
	size_t handshake_timeout;	/* TLS handshake + HTTP/2 preface within: 10 */
	size_t idle_timeout;	/* a connection without a call is closed after: 300 */
	size_t max_unix_conns;		/* connections on the unix socket: 128 */
	size_t max_tcp_conns;		/* connections on TCP: 1000 */
	size_t max_conns_per_uid;	/* unix connections of one uid (SO_PEERCRED): 32 */
	size_t max_conns_per_addr;	/* TCP connections of one IPv4 address or IPv6 /64: 32 */
};

/* [registry]: how images are pulled (registry.h takes these as registry_opts). */
#define REGISTRY_MAX_LIST	32
struct registry_config {
	char insecure[REGISTRY_MAX_LIST][256];	/* host[:port] reached over plain HTTP */
	size_t n_insecure;
	char ca_files[REGISTRY_MAX_LIST][256];	/* CAs trusted besides the system bundle */
	size_t n_ca_files;
	unsigned int connect_timeout_ms;	/* 10000 */
	unsigned int read_timeout_ms;		/* 30000 */
	uint64_t max_blob_bytes;		/* 256 MiB */
};

enum xdp_mode {
	XDP_MODE_DEFAULT = 0,	/* drv, falling back to skb when the driver refuses */
	XDP_MODE_SKB,
	XDP_MODE_DRV,
	XDP_MODE_HW,
};

struct iface_config {
	char name[16];
	enum xdp_mode xdp_mode;
};

#define EVENT_QUEUE_DEFAULT	1024	/* [monitor] event_queue */
#define EVENT_READERS_DEFAULT	64	/* [monitor] event_readers */

struct bpfd_config {
	char rundir[256];	/* /run/bpfd: records, socket */
	char bpffs[256];	/* <rundir>/fs: pins (bpffs mounted there if none is) */
	char xdp_bpffs[256];	/* libxdp's bpffs root for dispatcher pins: /sys/fs/bpf */
	bool unix_enabled;
	char socket_path[256];	/* <rundir>/bpfd.sock */
	char socket_group[64];	/* group owning the socket when it exists: "bpfd" */
	bool socket_group_set;	/* group given in the file: it must exist */
	unsigned int socket_mode;	/* permission bits of the socket: 0660 */
	bool tcp_enabled;
	char tcp_addr[64];	/* numeric address, default "::1" */
	uint16_t tcp_port;	/* default 50051 */
	char certs_dir[256];	/* /etc/bpfd/certs/{ca,bpfd,bpfd-client}/ */
	/* [tls] ca_cert, cert, key: explicit PEM files for the TCP endpoint; "" means
	 * the file under certs_dir (config_tls_file()).  Explicit files are used as they
	 * are: nothing is generated for them. */
	char tls_ca[256];
	char tls_cert[256];
	char tls_key[256];
	bool socket_path_set;	/* socket_path given explicitly: rundir changes keep it */
	size_t max_msg;		/* default BPFD_MAX_MSG */
	struct server_limits limits;
	bool allow_unsigned;	/* images without signature accepted (default true) */
	struct registry_config registry;
	bool verify_enabled;	/* [signing] verify_enabled: check signatures (default true) */
	char signing_keys[BPFD_MAX_SIGNING_KEYS][256];	/* [signing] keys: PEM public keys */
	size_t n_signing_keys;
	char image_dir[256];
	char programs_dir[256];	/* [runtime] programs_dir: programs loaded at start */
	bool unload_on_exit;	/* [runtime]: unload every program on SIGTERM/SIGINT */
	int log_level;		/* [log] level: LOG_ERR..LOG_DEBUG, -1 not set */
	int log_target;		/* [log] target: enum log_target (core/base/log.h) */
	int stats_mode;		/* [monitor] stats: enum stats_mode (core/base/stats_gate.h) */
	unsigned int stats_grace;	/* [monitor] stats_grace: seconds on-demand stats stay on */
	size_t event_queue;	/* [monitor] event_queue: events a reader may lag behind */
	size_t event_readers;	/* [monitor] event_readers: Events calls at once; 0 none */
	struct iface_config ifaces[BPFD_MAX_IFACES];
	size_t n_ifaces;
	struct policy policy;	/* [[policy]] rules (names resolved at start-up) */
	/* [metrics]: the Prometheus endpoint, served when a port is set */
	bool metrics_enabled;
	char metrics_addr[64];	/* numeric address, default "127.0.0.1" */
	uint16_t metrics_port;
	/* bpfd metadata keys shown as labels of the per-program metrics */
	char metrics_labels[BPFD_METRICS_LABELS_MAX][BPFD_METRICS_LABEL_SIZE];
	size_t n_metrics_labels;
};

/* Fill cfg with the defaults (paths derived from BPFD_RUNDIR). */
void config_defaults(struct bpfd_config *cfg);
/* Re-derive the paths that depend on rundir (bpffs, and the socket unless a
 * configuration file set it: socket_path_set) after rundir changed. */
void config_set_rundir(struct bpfd_config *cfg, const char *rundir);
/* Parse TOML text (the subset documented in dist/bpfd.toml) over the values in cfg.
 * Unknown keys are errors naming the key and line.  0 or -EINVAL with em set to one
 * line "line L, column C: what is wrong"; cfg is changed only on success. */
int config_parse(struct bpfd_config *cfg, const char *text, size_t len, struct errmsg *em);
/* Read and parse a file; a missing file (ENOENT) is not an error when !must_exist
 * (cfg is left alone).  Errors: -ENOENT/-EACCES/... opening or reading it,
 * -EFBIG for a file over 1 MiB, -EINVAL for a bad file; em then reads
 * "PATH:LINE:COL: what is wrong" (one line). */
int config_load(struct bpfd_config *cfg, const char *path, bool must_exist, struct errmsg *em);
/* The XDP mode configured for an interface (XDP_MODE_DEFAULT when none). */
enum xdp_mode config_xdp_mode(const struct bpfd_config *cfg, const char *iface);
/* The Prometheus label name of metadata key: characters outside [a-zA-Z0-9_]
 * become '_', and a leading digit gets a '_' before it; at most size - 1 bytes. */
void config_label_name(const char *key, char *buf, size_t size);
/* "skb", "drv", "hw" or "default". */
const char *config_xdp_mode_str(enum xdp_mode mode);

enum config_tls_file {
	CONFIG_TLS_CA,		/* CA that client certificates must chain to */
	CONFIG_TLS_CERT,	/* the server's certificate (chain) */
	CONFIG_TLS_KEY,		/* the server's private key */
};
/* Write the path of a TLS file into buf: the explicit [tls] file if one is set,
 * else certs_dir + the default name (certgen.h: CERTGEN_CA_PEM ...).  Returns true when the
 * file was set explicitly, false when it is derived from certs_dir.  A path
 * longer than size is truncated (the parser keeps both parts within 255 bytes). */
bool config_tls_file(const struct bpfd_config *cfg, enum config_tls_file which,
		     char *buf, size_t size);

#endif
