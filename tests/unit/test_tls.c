/* SPDX-License-Identifier: Apache-2.0 */
/* test_tls.c - certificate generation, mTLS handshakes over socketpairs, openssl interop */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "core/base/errmsg.h"
#include "core/wire/certgen.h"
#include "core/wire/tls.h"
#include "harness.h"

#define TIMEOUT_MS 10000

/* ---- helpers ------------------------------------------------------------ */

/* One base directory, made by the parent and removed when it exits (tests
 * end with _exit(), so only the parent runs atexit handlers); each test
 * process works in base/<pid>. */
static char basedir[256], tmpdir[300];

static void rm_basedir(void)
{
	char cmd[512];

	if (basedir[0] && !getenv("TEST_TLS_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", basedir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", basedir);
	}
}

__attribute__((constructor))
static void make_basedir(void)
{
	snprintf(basedir, sizeof(basedir), "%s/test_tls.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(basedir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(rm_basedir);
}

static const char *tdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "%s/%d", basedir, (int)getpid());
		if (mkdir(tmpdir, 0700)) {
			perror("mkdir");
			_exit(1);
		}
	}
	return tmpdir;
}

__attribute__((format(printf, 1, 2)))
static const char *path(const char *fmt, ...)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8], rel[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(b, 512, "%s/%s", tdir(), rel);
	return b;
}

/* Run a shell command, capture stdout+stderr into out; returns exit status. */
__attribute__((format(printf, 3, 4)))
static int run(char *out, size_t len, const char *fmt, ...)
{
	char cmd[2048];
	size_t n = 0, r;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n + 1 < len && (r = fread(out + n, 1, len - n - 1, f)) > 0)
		n += r;
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool have_openssl(void)
{
	char out[256];

	return run(out, sizeof(out), "openssl version") == 0;
}

static int gen(const char *sub, const char *host)
{
	struct errmsg em = { 0 };
	int err;

	err = certgen_ensure(path("%s", sub), host, &em);
	if (err)
		fprintf(stderr, "  certgen_ensure: %s\n", em.msg);
	return err;
}

static bool read_all(const char *p, char *buf, size_t len)
{
	FILE *f = fopen(p, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return true;
}

struct peer {
	struct tls_ctx *ctx;
	struct tls_conn *conn;
	int fd;
	int err;	/* handshake result: 1 = running */
};

static int server_ctx(const char *dir, struct tls_ctx **ret)
{
	struct errmsg em = { 0 };
	int err;

	err = tls_server_new(path("%s/ca/ca.pem", dir), path("%s/bpfd/bpfd.pem", dir),
			     path("%s/bpfd/bpfd.key", dir), &em, ret);
	if (err)
		fprintf(stderr, "  tls_server_new: %s\n", em.msg);
	return err;
}

/* Client with CA from ca_dir and certificate from cert_dir (NULL: none). */
static int client_ctx(const char *ca_dir, const char *cert_dir, const char *name,
		      struct tls_ctx **ret)
{
	struct errmsg em = { 0 };
	int err;

	err = tls_client_new(path("%s/ca/ca.pem", ca_dir),
			     cert_dir ? path("%s/bpfd-client/bpfd-client.pem", cert_dir) : NULL,
			     cert_dir ? path("%s/bpfd-client/bpfd-client.key", cert_dir) : NULL,
			     name, &em, ret);
	if (err)
		fprintf(stderr, "  tls_client_new: %s\n", em.msg);
	return err;
}

static int peers_open(struct peer *s, struct peer *c)
{
	int sv[2], err;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		return -errno;
	s->fd = sv[0];
	c->fd = sv[1];
	s->err = c->err = 1;
	err = tls_conn_new(s->ctx, s->fd, &s->conn);
	if (!err)
		err = tls_conn_new(c->ctx, c->fd, &c->conn);
	return err;
}

static void peer_close(struct peer *p)
{
	tls_conn_free(p->conn);
	tls_ctx_free(p->ctx);
	if (p->fd >= 0)
		close(p->fd);
}

static void peers_close(struct peer *s, struct peer *c)
{
	peer_close(s);
	peer_close(c);
}

/* Both sides' messages, for the test log. */
static void peers_print_errors(const struct peer *s, const struct peer *c)
{
	fprintf(stderr, "  server: %s\n  client: %s\n", tls_conn_errstr(s->conn),
		tls_conn_errstr(c->conn));
}

/* Drive both handshakes with poll() until each has succeeded or failed.
 * A side that fails shuts its socket down, as a server would close it. */
static bool handshake_both(struct peer *s, struct peer *c)
{
	struct peer *p[2] = { s, c };
	struct pollfd pfd[2];
	int i, n, rounds = 0;

	for (;;) {
		for (i = 0; i < 2; i++) {
			if (p[i]->err != 1)
				continue;
			p[i]->err = tls_conn_handshake(p[i]->conn);
			if (p[i]->err == -EAGAIN)
				p[i]->err = 1;
			else if (p[i]->err < 0)
				shutdown(p[i]->fd, SHUT_RDWR);
		}
		if (s->err != 1 && c->err != 1)
			return true;
		for (i = n = 0; i < 2; i++) {
			if (p[i]->err != 1)
				continue;
			pfd[n].fd = p[i]->fd;
			pfd[n].events = tls_conn_wants(p[i]->conn);
			pfd[n].revents = 0;
			n++;
		}
		if (poll(pfd, n, TIMEOUT_MS) <= 0 || ++rounds > 1000) {
			fprintf(stderr, "  handshake stuck\n");
			return false;
		}
	}
}

/* The in-process fixture: a server context with the certificates in srv_dir,
 * a client trusting the CA in ca_dir with the certificate from cert_dir
 * (NULL: none) that asks for name, and the two ends of a socketpair. */
static bool peers_connect(struct peer *s, struct peer *c, const char *srv_dir,
			  const char *ca_dir, const char *cert_dir, const char *name)
{
	return ASSERT_OK(server_ctx(srv_dir, &s->ctx), "server ctx") &&
	       ASSERT_OK(client_ctx(ca_dir, cert_dir, name, &c->ctx), "client ctx") &&
	       ASSERT_OK(peers_open(s, c), "conns");
}

/* peers_connect(), then both handshakes run to their end (either result). */
static bool peers_handshake(struct peer *s, struct peer *c, const char *srv_dir,
			    const char *ca_dir, const char *cert_dir, const char *name)
{
	return peers_connect(s, c, srv_dir, ca_dir, cert_dir, name) &&
	       ASSERT_TRUE(handshake_both(s, c), "handshake finished");
}

/* Certificates in "c" and a server and a "localhost" client made from them,
 * connected; the handshake has not started. */
static bool peers_default(struct peer *s, struct peer *c)
{
	return ASSERT_OK(gen("c", "h"), "certs") &&
	       peers_connect(s, c, "c", "c", "c", "localhost");
}

/* peers_default(), and both handshakes succeeded. */
static bool peers_ready(struct peer *s, struct peer *c)
{
	return peers_default(s, c) &&
	       ASSERT_TRUE(handshake_both(s, c), "handshake") &&
	       ASSERT_OK(s->err, "server") && ASSERT_OK(c->err, "client");
}

/* One step of sending buf[*done..len) on p: write what p takes, or flush once
 * all of it is taken. false on an I/O error (in *n when a write failed). */
static bool echo_send(struct peer *p, const unsigned char *buf, size_t len, size_t *done,
		      ssize_t *n)
{
	if (*done == len)
		return tls_conn_flush(p->conn) >= -EAGAIN;
	*n = tls_conn_write(p->conn, buf + *done, len - *done);
	if (*n < 0 && *n != -EAGAIN)
		return false;
	if (*n > 0)
		*done += *n;
	return true;
}

/* Read what p has for buf[*got..len). false on an I/O error or EOF (in *n). */
static bool echo_recv(struct peer *p, unsigned char *buf, size_t len, size_t *got, ssize_t *n)
{
	while (*got < len) {
		*n = tls_conn_read(p->conn, buf + *got, len - *got);
		if (*n == -EAGAIN)
			break;
		if (*n <= 0)
			return false;
		*got += *n;
	}
	return true;
}

/* Write all of buf with poll, reading from the other side meanwhile is the
 * caller's business; here: send len bytes from a to b and echo them back. */
static bool echo_roundtrip(struct peer *a, struct peer *b, size_t len)
{
	unsigned char *out = malloc(len), *mid = malloc(len), *back = malloc(len);
	size_t a_sent = 0, b_got = 0, b_sent = 0, a_got = 0, i;
	struct pollfd pfd[2];
	ssize_t n = 0;
	bool ok = false;

	if (!out || !mid || !back)
		goto out;
	for (i = 0; i < len; i++)
		out[i] = (unsigned char)(i * 7 + i / 251);
	while (a_got < len) {
		/* a writes; b reads and echoes what it got; a reads back */
		if (!echo_send(a, out, len, &a_sent, &n) ||
		    !echo_recv(b, mid, len, &b_got, &n) ||
		    !echo_send(b, mid, b_got, &b_sent, &n) ||
		    !echo_recv(a, back, len, &a_got, &n))
			goto io_err;
		if (a_got == len)
			break;
		pfd[0] = (struct pollfd){ .fd = a->fd, .events = tls_conn_wants(a->conn) | POLLIN };
		pfd[1] = (struct pollfd){ .fd = b->fd, .events = tls_conn_wants(b->conn) | POLLIN };
		if (a_sent < len)
			pfd[0].events |= POLLOUT;
		if (b_sent < b_got)
			pfd[1].events |= POLLOUT;
		if (poll(pfd, 2, TIMEOUT_MS) <= 0) {
			fprintf(stderr, "  echo stuck: a_sent %zu b_got %zu b_sent %zu a_got %zu\n",
				a_sent, b_got, b_sent, a_got);
			goto out;
		}
	}
	ok = !memcmp(out, back, len) && !memcmp(out, mid, len);
	if (!ok)
		fprintf(stderr, "  echoed data differs\n");
	goto out;
io_err:
	fprintf(stderr, "  echo: I/O error %zd: %s / %s\n", n,
		tls_conn_errstr(a->conn), tls_conn_errstr(b->conn));
out:
	free(out);
	free(mid);
	free(back);
	return ok;
}

/* ---- certificate generation ---------------------------------------------- */

static void certs_generate(void)
{
	const char *keys[] = { "ca/ca.key", "bpfd/bpfd.key", "bpfd-client/bpfd-client.key" };
	const char *dirs[] = { "c", "c/ca", "c/bpfd", "c/bpfd-client" };
	char out[16384];
	struct stat st;
	size_t i;

	if (!ASSERT_OK(gen("c", "node-1.example.org"), "certgen_ensure"))
		return;
	for (i = 0; i < 3; i++) {
		ASSERT_OK(stat(path("c/%s", keys[i]), &st), keys[i]);
		ASSERT_EQ(st.st_mode & 07777, 0600, keys[i]);
	}
	for (i = 0; i < 4; i++) {
		ASSERT_OK(stat(path("%s", dirs[i]), &st), dirs[i]);
		ASSERT_EQ(st.st_mode & 07777, 0700, dirs[i]);
	}
	ASSERT_OK(stat(path("c/bpfd/bpfd.pem"), &st), "bpfd.pem");
	ASSERT_EQ(st.st_mode & 07777, 0644, "bpfd.pem mode");
	if (!have_openssl())
		test_skip("openssl not installed: files checked, contents not");

	ASSERT_EQ(run(out, sizeof(out), "cd %s/c && openssl verify -CAfile ca/ca.pem bpfd/bpfd.pem bpfd-client/bpfd-client.pem",
		      tdir()), 0, "openssl verify");
	ASSERT_STRSTR(out, "bpfd/bpfd.pem: OK", "verify server");
	ASSERT_STRSTR(out, "bpfd-client/bpfd-client.pem: OK", "verify client");

	ASSERT_EQ(run(out, sizeof(out), "openssl x509 -noout -text -in %s", path("c/ca/ca.pem")),
		  0, "x509 ca");
	ASSERT_STRSTR(out, "Subject: CN = bpfd-ca", "ca subject");
	ASSERT_STRSTR(out, "Basic Constraints: critical", "ca basicConstraints critical");
	ASSERT_STRSTR(out, "CA:TRUE", "ca CA:TRUE");
	ASSERT_STRSTR(out, "Certificate Sign, CRL Sign", "ca keyUsage");
	ASSERT_STRSTR(out, "ecdsa-with-SHA256", "ca signature");
	ASSERT_STRSTR(out, "prime256v1", "ca P-256");

	ASSERT_EQ(run(out, sizeof(out), "openssl x509 -noout -text -in %s", path("c/bpfd/bpfd.pem")),
		  0, "x509 server");
	ASSERT_STRSTR(out, "Subject: CN = bpfd\n", "server subject");
	ASSERT_STRSTR(out, "Issuer: CN = bpfd-ca", "server issuer");
	ASSERT_STRSTR(out, "DNS:localhost, DNS:127.0.0.1, IP Address:127.0.0.1, DNS:node-1.example.org",
		      "server SANs");
	ASSERT_STRSTR(out, "TLS Web Server Authentication", "server EKU");
	ASSERT_STRSTR(out, "ecdsa-with-SHA256", "server signature");
	ASSERT_STRSTR(out, "prime256v1", "server P-256");

	ASSERT_EQ(run(out, sizeof(out), "openssl x509 -noout -text -in %s",
		      path("c/bpfd-client/bpfd-client.pem")), 0, "x509 client");
	ASSERT_STRSTR(out, "Subject: CN = bpfd-client", "client subject");
	ASSERT_STRSTR(out, "TLS Web Client Authentication", "client EKU");

	/* openssl reads the keys and they match the certificates */
	ASSERT_EQ(run(out, sizeof(out), "cd %s/c && test \"$(openssl x509 -noout -pubkey -in bpfd/bpfd.pem)\" = \"$(openssl pkey -pubout -in bpfd/bpfd.key)\"",
		      tdir()), 0, "server key matches");
	/* 825 days for leaves, 10 years for the CA */
	ASSERT_EQ(run(out, sizeof(out), "openssl x509 -noout -checkend %d -in %s",
		      824 * 86400, path("c/bpfd/bpfd.pem")), 0, "leaf valid 824 days");
	ASSERT_EQ(run(out, sizeof(out), "openssl x509 -noout -checkend %d -in %s",
		      826 * 86400, path("c/bpfd/bpfd.pem")), 1, "leaf expires by 826 days");
	ASSERT_EQ(run(out, sizeof(out), "openssl x509 -noout -checkend %d -in %s",
		      3649 * 86400, path("c/ca/ca.pem")), 0, "ca valid 3649 days");
}

static void certs_idempotent(void)
{
	const char *files[] = { "ca/ca.pem", "ca/ca.key", "bpfd/bpfd.pem", "bpfd/bpfd.key",
				"bpfd-client/bpfd-client.pem", "bpfd-client/bpfd-client.key" };
	static char before[6][4096], after[4096];
	struct stat st0[6], st;
	size_t i;

	if (!ASSERT_OK(gen("c", "h"), "first"))
		return;
	for (i = 0; i < 6; i++) {
		ASSERT_OK(stat(path("c/%s", files[i]), &st0[i]), files[i]);
		ASSERT_TRUE(read_all(path("c/%s", files[i]), before[i], sizeof(before[i])),
			    files[i]);
	}
	usleep(20000);
	ASSERT_OK(gen("c", "other-host"), "second");
	for (i = 0; i < 6; i++) {
		ASSERT_OK(stat(path("c/%s", files[i]), &st), files[i]);
		ASSERT_TRUE(st.st_mtim.tv_sec == st0[i].st_mtim.tv_sec &&
			    st.st_mtim.tv_nsec == st0[i].st_mtim.tv_nsec, "mtime unchanged");
		ASSERT_EQ(st.st_ino, st0[i].st_ino, "same inode");
		ASSERT_TRUE(read_all(path("c/%s", files[i]), after, sizeof(after)), files[i]);
		ASSERT_STREQ(after, before[i], files[i]);
	}
	ASSERT_EQ(run(after, sizeof(after), "ls -A %s/c/ca %s/c/bpfd | grep -c '[.]tmp'", tdir(), tdir()),
		  1, "no temp files left");
}

/* Missing leaves are issued from the existing CA; existing files stay. */
static void certs_partial(void)
{
	static char ca0[4096], srv0[4096], buf[4096], out[4096];
	struct tls_ctx *ctx = NULL;
	struct errmsg em = { 0 };

	if (!ASSERT_OK(gen("c", "h"), "first"))
		return;
	read_all(path("c/ca/ca.pem"), ca0, sizeof(ca0));
	read_all(path("c/bpfd/bpfd.pem"), srv0, sizeof(srv0));
	ASSERT_OK(unlink(path("c/bpfd-client/bpfd-client.pem")), "rm client pem");
	ASSERT_OK(unlink(path("c/bpfd-client/bpfd-client.key")), "rm client key");
	ASSERT_OK(unlink(path("c/bpfd/bpfd.pem")), "rm server pem, keep key");
	if (!ASSERT_OK(gen("c", "h"), "second"))
		return;
	read_all(path("c/ca/ca.pem"), buf, sizeof(buf));
	ASSERT_STREQ(buf, ca0, "CA untouched");
	read_all(path("c/bpfd/bpfd.pem"), buf, sizeof(buf));
	ASSERT_TRUE(strcmp(buf, srv0) != 0, "new server certificate");
	/* ... for the old key: the pair loads */
	ASSERT_OK(tls_server_new(path("c/ca/ca.pem"), path("c/bpfd/bpfd.pem"),
				 path("c/bpfd/bpfd.key"), &em, &ctx), em.msg);
	tls_ctx_free(ctx);
	if (have_openssl())
		ASSERT_EQ(run(out, sizeof(out), "cd %s/c && openssl verify -CAfile ca/ca.pem bpfd/bpfd.pem bpfd-client/bpfd-client.pem",
			      tdir()), 0, "openssl verify");

	/* the CA key is gone: a missing leaf cannot be issued */
	ASSERT_OK(unlink(path("c/ca/ca.key")), "rm ca key");
	ASSERT_OK(gen("c", "h"), "nothing to issue: fine without CA key");
	ASSERT_OK(unlink(path("c/bpfd-client/bpfd-client.pem")), "rm client pem");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(certgen_ensure(path("c"), "h", &em), -ENOENT, "no CA key");
	ASSERT_STRSTR(em.msg, path("c/ca/ca.key"), "message names the CA key");

	/* a leaf without any CA: no new CA that could not have issued it */
	ASSERT_OK(unlink(path("c/ca/ca.pem")), "rm ca pem");
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(certgen_ensure(path("c"), "h", &em), -ENOENT, "leaf without CA");
	ASSERT_STRSTR(em.msg, path("c/bpfd/bpfd.pem"), "message names the leaf");
	ASSERT_EQ(access(path("c/ca/ca.pem"), F_OK), -1, "no CA created");
}

/* Leaves issued by an existing CA made elsewhere (openssl): multi-RDN issuer
 * name with a repeated OU, a PKCS#8 key, an SKI not derived the usual way,
 * and a CA that expires before 825 days. */
static void certs_external_ca(void)
{
	struct peer s = { .fd = -1 }, c = { .fd = -1 };
	char out[8192];

	if (!have_openssl())
		test_skip("openssl not installed");
	ASSERT_OK(mkdir(path("x"), 0700), "mkdir");
	ASSERT_OK(mkdir(path("x/ca"), 0700), "mkdir ca");
	if (!ASSERT_EQ(run(out, sizeof(out),
			   "cd %s/x/ca && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
			   " -keyout ca.key -out ca.pem -days 30 -subj '/C=DE/O=Example Org/OU=Ops/OU=Infra/CN=Corp CA'"
			   " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
			   " -addext subjectKeyIdentifier=01:02:03:04:05:06:07:08 -addext authorityKeyIdentifier=none",
			   tdir()), 0, "openssl req"))
		return;
	if (!ASSERT_OK(gen("x", "h"), "issue from external CA"))
		return;
	ASSERT_EQ(run(out, sizeof(out), "cd %s/x && openssl verify -CAfile ca/ca.pem bpfd/bpfd.pem bpfd-client/bpfd-client.pem",
		      tdir()), 0, "openssl verify");
	ASSERT_EQ(run(out, sizeof(out), "openssl x509 -noout -issuer -ext authorityKeyIdentifier -in %s",
		      path("x/bpfd/bpfd.pem")), 0, "x509");
	ASSERT_STRSTR(out, "issuer=C = DE, O = Example Org, OU = Ops, OU = Infra, CN = Corp CA", "issuer");
	ASSERT_STRSTR(out, "01:02:03:04:05:06:07:08", "AKI = CA's SKI");
	ASSERT_EQ(run(out, sizeof(out), "openssl x509 -noout -checkend %d -in %s", 31 * 86400,
		      path("x/bpfd/bpfd.pem")), 1, "leaf ends with the CA");
	if (peers_connect(&s, &c, "x", "x", "x", "localhost") &&
	    ASSERT_TRUE(handshake_both(&s, &c), "handshake")) {
		ASSERT_OK(s.err, tls_conn_errstr(s.conn));
		ASSERT_OK(c.err, tls_conn_errstr(c.conn));
	}
	peers_close(&s, &c);
}

static void certs_bad_dir(void)
{
	struct errmsg em = { 0 };
	int fd;

	fd = open(path("file"), O_CREAT | O_WRONLY, 0600);
	close(fd);
	ASSERT_EQ(certgen_ensure(path("file/certs"), "h", &em), -ENOTDIR, "dir under a file");
	ASSERT_STRSTR(em.msg, path("file"), "message names the path");
}

/* ---- contexts --------------------------------------------------------------- */

static void ctx_bad_files(void)
{
	struct tls_ctx *ctx = NULL;
	struct errmsg em = { 0 };
	int fd;

	if (!ASSERT_OK(gen("c", "h"), "certs"))
		return;
	ASSERT_EQ(tls_server_new(path("nope.pem"), path("c/bpfd/bpfd.pem"),
				 path("c/bpfd/bpfd.key"), &em, &ctx), -ENOENT, "missing CA");
	ASSERT_STRSTR(em.msg, path("nope.pem"), "names the path");

	fd = open(path("junk.pem"), O_CREAT | O_WRONLY, 0600);
	ASSERT_EQ(write(fd, "hello\n", 6), 6, "write junk");
	close(fd);
	memset(&em, 0, sizeof(em));
	ASSERT_EQ(tls_server_new(path("c/ca/ca.pem"), path("junk.pem"),
				 path("c/bpfd/bpfd.key"), &em, &ctx), -EINVAL, "junk cert");
	ASSERT_STRSTR(em.msg, path("junk.pem"), "names the path");

	memset(&em, 0, sizeof(em));
	ASSERT_EQ(tls_server_new(path("c/ca/ca.pem"), path("c/bpfd/bpfd.pem"),
				 path("junk.pem"), &em, &ctx), -EINVAL, "junk key");
	ASSERT_STRSTR(em.msg, "private key", "says key");

	memset(&em, 0, sizeof(em));
	ASSERT_EQ(tls_server_new(path("c/ca/ca.pem"), path("c/bpfd/bpfd.pem"),
				 path("c/bpfd-client/bpfd-client.key"), &em, &ctx),
		  -EINVAL, "mismatched key");
	ASSERT_STRSTR(em.msg, "does not belong", "mismatch message");

	memset(&em, 0, sizeof(em));
	ASSERT_EQ(tls_client_new(path("c/ca/ca.pem"), NULL, NULL, NULL, &em, &ctx),
		  -EINVAL, "client needs a name");
}

/* PEM text works as well as a path. */
static void ctx_inline_pem(void)
{
	static char ca[4096], crt[4096], key[4096];
	struct tls_ctx *ctx = NULL;
	struct errmsg em = { 0 };

	if (!ASSERT_OK(gen("c", "h"), "certs"))
		return;
	read_all(path("c/ca/ca.pem"), ca, sizeof(ca));
	read_all(path("c/bpfd/bpfd.pem"), crt, sizeof(crt));
	read_all(path("c/bpfd/bpfd.key"), key, sizeof(key));
	ASSERT_OK(tls_server_new(ca, crt, key, &em, &ctx), em.msg);
	tls_ctx_free(ctx);
}

/* ---- handshakes --------------------------------------------------------------- */

static void handshake_ok(void)
{
	struct peer s = { .fd = -1 }, c = { .fd = -1 };

	if (!peers_default(&s, &c))
		goto out;
	ASSERT_EQ(tls_conn_read(s.conn, (char[1]){ 0 }, 1), -ENOTCONN, "read before handshake");
	if (!ASSERT_TRUE(handshake_both(&s, &c), "handshake finished"))
		goto out;
	if (!ASSERT_OK(s.err, tls_conn_errstr(s.conn)) || !ASSERT_OK(c.err, tls_conn_errstr(c.conn)))
		goto out;
	ASSERT_STREQ(tls_conn_alpn(s.conn), "h2", "server ALPN");
	ASSERT_STREQ(tls_conn_alpn(c.conn), "h2", "client ALPN");
	ASSERT_STREQ(tls_conn_peer_cn(s.conn), "bpfd-client", "server sees client CN");
	ASSERT_STREQ(tls_conn_peer_cn(c.conn), "bpfd", "client sees server CN");
	ASSERT_EQ(tls_conn_handshake(s.conn), 0, "handshake again is a no-op");

	ASSERT_TRUE(echo_roundtrip(&c, &s, 5), "small client->server->client");
	ASSERT_TRUE(echo_roundtrip(&s, &c, 100), "small server->client->server");
	/* far more than the socket buffers: partial records, -EAGAIN, flush */
	ASSERT_TRUE(echo_roundtrip(&c, &s, 3 << 20), "3 MiB echo");

	/* pending: a short read leaves the rest of the record buffered */
	{
		char b[16];
		ssize_t n;

		ASSERT_EQ(tls_conn_write(c.conn, "0123456789", 10), 10, "write 10");
		ASSERT_EQ(tls_conn_flush(c.conn), 0, "flushed");
		do {
			n = tls_conn_read(s.conn, b, 4);
		} while (n == -EAGAIN && poll(&(struct pollfd){ .fd = s.fd, .events = POLLIN }, 1, TIMEOUT_MS) > 0);
		ASSERT_EQ(n, 4, "read 4");
		ASSERT_EQ(tls_conn_pending(s.conn), 6, "6 pending");
		ASSERT_EQ(tls_conn_read(s.conn, b, sizeof(b)), 6, "read the rest");
		ASSERT_EQ(tls_conn_pending(s.conn), 0, "none pending");
	}

	/* clean close: close_notify reads as EOF */
	ASSERT_EQ(tls_conn_close_notify(c.conn), 0, "close_notify");
	ASSERT_EQ(tls_conn_write(c.conn, "x", 1), -EPIPE, "write after close_notify");
	poll(&(struct pollfd){ .fd = s.fd, .events = POLLIN }, 1, TIMEOUT_MS);
	ASSERT_EQ(tls_conn_read(s.conn, (char[8]){ 0 }, 8), 0, "EOF at server");
	ASSERT_EQ(tls_conn_read(s.conn, (char[8]){ 0 }, 8), 0, "EOF again");
out:
	peers_close(&s, &c);
}

/* Back-pressure: a peer that does not read fills the socket; bytes already
 * taken stay queued (POLLOUT), and after a flush only POLLIN is wanted. */
static void conn_backpressure(void)
{
	struct peer s = { .fd = -1 }, c = { .fd = -1 };
	static char chunk[16384], sink[65536];
	size_t sent = 0, got = 0;
	ssize_t n;
	int i;

	if (!peers_ready(&s, &c))
		goto out;
	ASSERT_EQ(tls_conn_wants(c.conn), POLLIN, "idle: POLLIN");
	for (i = 0; i < 10000; i++) {
		n = tls_conn_write(c.conn, chunk, sizeof(chunk));
		if (n == -EAGAIN)
			break;
		if (!ASSERT_TRUE(n > 0, "write"))
			goto out;
		sent += n;
	}
	ASSERT_EQ(n, -EAGAIN, "socket full");
	ASSERT_EQ(tls_conn_wants(c.conn), POLLOUT, "queued: POLLOUT");
	ASSERT_EQ(tls_conn_flush(c.conn), -EAGAIN, "cannot flush yet");
	while (got < sent) {
		n = tls_conn_read(s.conn, sink, sizeof(sink));
		if (n == -EAGAIN) {
			if (tls_conn_flush(c.conn) < -EAGAIN)
				break;
			poll(&(struct pollfd){ .fd = s.fd, .events = POLLIN }, 1, TIMEOUT_MS);
			continue;
		}
		if (!ASSERT_TRUE(n > 0, "read"))
			goto out;
		got += n;
	}
	ASSERT_EQ(got, sent, "every byte taken arrived");
	ASSERT_EQ(tls_conn_flush(c.conn), 0, "flushed");
	ASSERT_EQ(tls_conn_wants(c.conn), POLLIN, "after flush: POLLIN only");
out:
	peers_close(&s, &c);
}

/* Peer closes the socket without close_notify: EOF too; then write fails. */
static void conn_peer_gone(void)
{
	struct peer s = { .fd = -1 }, c = { .fd = -1 };
	ssize_t n;
	int i;

	if (!peers_ready(&s, &c))
		goto out;
	close(c.fd);
	c.fd = -1;
	ASSERT_EQ(tls_conn_read(s.conn, (char[8]){ 0 }, 8), 0, "EOF");
	for (i = 0, n = 1; i < 100 && n > 0; i++)
		n = tls_conn_write(s.conn, "data", 4);
	ASSERT_TRUE(n == -EPIPE || n == -ECONNRESET, "write to a closed peer fails (no SIGPIPE)");
	ASSERT_EQ(tls_conn_write(s.conn, "data", 4), n, "error is sticky");
out:
	peers_close(&s, &c);
}

static void handshake_no_client_cert(void)
{
	struct peer s = { .fd = -1 }, c = { .fd = -1 };

	if (!ASSERT_OK(gen("c", "h"), "certs") ||
	    !peers_handshake(&s, &c, "c", "c", NULL, "localhost"))
		goto out;
	ASSERT_EQ(s.err, -EACCES, "server refuses");
	ASSERT_STRSTR(tls_conn_errstr(s.conn), "client certificate required", "server message");
	ASSERT_EQ(c.err, -EACCES, "client fails");
	ASSERT_STRSTR(tls_conn_errstr(c.conn), "requires a client certificate", "client message");
	ASSERT_EQ(tls_conn_read(s.conn, (char[8]){ 0 }, 8), -EACCES, "sticky");
	ASSERT_TRUE(tls_conn_peer_cn(s.conn) == NULL, "no peer CN");
	peers_print_errors(&s, &c);
out:
	peers_close(&s, &c);
}

static void handshake_other_ca(void)
{
	struct peer s = { .fd = -1 }, c = { .fd = -1 };

	if (!ASSERT_OK(gen("c", "h"), "certs") || !ASSERT_OK(gen("evil", "h"), "other CA") ||
	    !peers_handshake(&s, &c, "c", "c", "evil", "localhost"))
		goto out;
	ASSERT_EQ(s.err, -EACCES, "server refuses");
	ASSERT_STRSTR(tls_conn_errstr(s.conn), "not signed by the configured CA", "server message");
	ASSERT_STRSTR(tls_conn_errstr(s.conn), path("c/ca/ca.pem"), "names the CA file");
	ASSERT_EQ(c.err, -EACCES, "client fails");
	ASSERT_STRSTR(tls_conn_errstr(c.conn), "rejected our certificate", "client message");
	peers_print_errors(&s, &c);
out:
	peers_close(&s, &c);
}

/* The client does not trust the server's CA. */
static void handshake_untrusted_server(void)
{
	struct peer s = { .fd = -1 }, c = { .fd = -1 };

	if (!ASSERT_OK(gen("c", "h"), "certs") || !ASSERT_OK(gen("evil", "h"), "other CA") ||
	    !peers_handshake(&s, &c, "evil", "c", "c", "localhost"))
		goto out;
	ASSERT_EQ(c.err, -EACCES, "client refuses");
	ASSERT_STRSTR(tls_conn_errstr(c.conn), "server certificate", "client message");
	ASSERT_STRSTR(tls_conn_errstr(c.conn), "not signed by the configured CA", "client message");
	ASSERT_TRUE(s.err < 0, "server fails");
out:
	peers_close(&s, &c);
}

static void handshake_wrong_name(void)
{
	struct peer s = { .fd = -1 }, c = { .fd = -1 };

	if (!ASSERT_OK(gen("c", "h"), "certs") ||
	    !peers_handshake(&s, &c, "c", "c", "c", "wrong.example"))
		goto out;
	ASSERT_EQ(c.err, -EACCES, "client refuses");
	ASSERT_STRSTR(tls_conn_errstr(c.conn), "not valid for the name \"wrong.example\"",
		      "client message");
	ASSERT_EQ(s.err, -EACCES, "server sees the rejection");
	peers_print_errors(&s, &c);
out:
	peers_close(&s, &c);
}

/* Names in the generated server certificate that mbedtls can match. */
static void handshake_names(void)
{
	const char *names[] = { "localhost", "127.0.0.1", "node-7.example" };
	size_t i;

	if (!ASSERT_OK(gen("c", "node-7.example"), "certs"))
		return;
	for (i = 0; i < 3; i++) {
		struct peer s = { .fd = -1 }, c = { .fd = -1 };

		if (peers_handshake(&s, &c, "c", "c", "c", names[i])) {
			ASSERT_OK(c.err, names[i]);
			ASSERT_OK(s.err, names[i]);
		}
		peers_close(&s, &c);
	}
}

/* Plain text on the TLS port fails cleanly. */
static void handshake_garbage(void)
{
	struct peer s = { .fd = -1 }, c = { .fd = -1 };
	const char junk[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	int i;

	if (!peers_default(&s, &c))
		goto out;
	ASSERT_EQ(write(c.fd, junk, sizeof(junk) - 1), (ssize_t)sizeof(junk) - 1, "write junk");
	for (i = 0; i < 10 && (s.err = tls_conn_handshake(s.conn)) == -EAGAIN; i++)
		poll(&(struct pollfd){ .fd = s.fd, .events = POLLIN }, 1, TIMEOUT_MS);
	ASSERT_EQ(s.err, -EPROTO, "server fails with EPROTO");
	fprintf(stderr, "  server: %s\n", tls_conn_errstr(s.conn));
	close(c.fd);
	c.fd = -1;
out:
	peers_close(&s, &c);
}

/* ---- openssl interop ---------------------------------------------------------- */

static int listen_lo(int *ret_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 4) || getsockname(fd, (struct sockaddr *)&sa, &sl))
		return -errno;
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

/* Start argv with stdin/stdout(+stderr) on pipes. */
static pid_t spawn(char *const argv[], int *ret_in, int *ret_out)
{
	int in[2], out[2];
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*ret_in = in[1];
	*ret_out = out[0];
	return pid;
}

/* Read from fd until it closes, needle shows up, or the timeout. */
static bool read_until(int fd, char *buf, size_t len, const char *needle)
{
	size_t n = 0;
	ssize_t r;

	buf[0] = '\0';
	while (n + 1 < len) {
		if (poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, TIMEOUT_MS) <= 0)
			return false;
		r = read(fd, buf + n, len - n - 1);
		if (r <= 0)
			break;
		n += r;
		buf[n] = '\0';
		if (needle && strstr(buf, needle))
			return true;
	}
	return needle ? strstr(buf, needle) != NULL : true;
}

/* Accept one connection on lfd and handshake it with poll. */
static int serve_handshake(int lfd, struct tls_ctx *ctx, struct tls_conn **ret_conn, int *ret_fd)
{
	int fd, err;

	if (poll(&(struct pollfd){ .fd = lfd, .events = POLLIN }, 1, TIMEOUT_MS) <= 0)
		return -ETIMEDOUT;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	err = tls_conn_new(ctx, fd, ret_conn);
	while (!err && (err = tls_conn_handshake(*ret_conn)) == -EAGAIN) {
		if (poll(&(struct pollfd){ .fd = fd, .events = tls_conn_wants(*ret_conn) },
			 1, TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		err = 0;
	}
	return err;
}

static ssize_t read_wait(struct tls_conn *c, int fd, char *buf, size_t len)
{
	ssize_t n;

	while ((n = tls_conn_read(c, buf, len)) == -EAGAIN)
		if (poll(&(struct pollfd){ .fd = fd, .events = tls_conn_wants(c) }, 1, TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
	return n;
}

static ssize_t write_wait(struct tls_conn *c, int fd, const char *buf, size_t len)
{
	ssize_t n;

	while ((n = tls_conn_write(c, buf, len)) == -EAGAIN)
		if (poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
	while (n > 0 && tls_conn_flush(c) == -EAGAIN)
		poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, TIMEOUT_MS);
	return n;
}

static int close_wait(struct tls_conn *c, int fd)
{
	int err;

	while ((err = tls_conn_close_notify(c)) == -EAGAIN)
		poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, TIMEOUT_MS);
	return err;
}

/* One openssl s_client or s_server run against our side of a connection. */
struct interop {
	struct tls_ctx *ctx;
	struct tls_conn *conn;
	int lfd;	/* our listening socket (s_client tests) */
	int fd;		/* our end of the connection */
	int in, out;	/* openssl's stdin, and its stdout+stderr */
	pid_t pid;	/* openssl */
	char addr[32];	/* 127.0.0.1:PORT */
};
#define INTEROP_INIT { .lfd = -1, .fd = -1, .in = -1, .out = -1, .pid = -1 }

static void interop_close(struct interop *t)
{
	int st;

	if (t->in >= 0)
		close(t->in);
	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, &st, 0);
	}
	if (t->out >= 0)
		close(t->out);
	tls_conn_free(t->conn);
	tls_ctx_free(t->ctx);
	if (t->fd >= 0)
		close(t->fd);
	if (t->lfd >= 0)
		close(t->lfd);
}

/* For an openssl s_client: certificates, our server context and a socket
 * listening on t->addr. */
static bool interop_listen(struct interop *t)
{
	int port;

	if (!have_openssl())
		test_skip("openssl not installed");
	if (!ASSERT_OK(gen("c", "h"), "certs") || !ASSERT_OK(server_ctx("c", &t->ctx), "server ctx"))
		return false;
	t->lfd = listen_lo(&port);
	if (!ASSERT_OK(t->lfd, "listen"))
		return false;
	snprintf(t->addr, sizeof(t->addr), "127.0.0.1:%d", port);
	return true;
}

/* openssl s_client with the generated client certificate -> our server. */
static void interop_s_client(void)
{
	struct interop t = INTEROP_INIT;
	char buf[8192];
	ssize_t n;

	if (!interop_listen(&t))
		goto out;
	{
		char *argv[] = { "openssl", "s_client", "-connect", t.addr,
			"-CAfile", (char *)path("c/ca/ca.pem"),
			"-cert", (char *)path("c/bpfd-client/bpfd-client.pem"),
			"-key", (char *)path("c/bpfd-client/bpfd-client.key"),
			"-alpn", "h2", "-servername", "localhost",
			"-verify_hostname", "localhost", "-verify_return_error",
			"-ign_eof", NULL };
		t.pid = spawn(argv, &t.in, &t.out);
	}
	if (!ASSERT_TRUE(t.pid > 0, "spawn openssl s_client"))
		goto out;
	if (!ASSERT_OK(serve_handshake(t.lfd, t.ctx, &t.conn, &t.fd),
		       t.conn ? tls_conn_errstr(t.conn) : "accept"))
		goto out;
	ASSERT_STREQ(tls_conn_alpn(t.conn), "h2", "ALPN");
	ASSERT_STREQ(tls_conn_peer_cn(t.conn), "bpfd-client", "peer CN");
	ASSERT_EQ(write(t.in, "hello from openssl\n", 19), 19, "stdin");
	n = read_wait(t.conn, t.fd, buf, sizeof(buf) - 1);
	if (!ASSERT_EQ(n, 19, "server read"))
		goto out;
	buf[n] = '\0';
	ASSERT_STREQ(buf, "hello from openssl\n", "data from s_client");
	ASSERT_EQ(write_wait(t.conn, t.fd, "echo: hello\n", 12), 12, "server write");
	ASSERT_OK(close_wait(t.conn, t.fd), "close_notify");
	ASSERT_TRUE(read_until(t.out, buf, sizeof(buf), NULL), "s_client output");
	ASSERT_STRSTR(buf, "ALPN protocol: h2", "s_client saw ALPN h2");
	ASSERT_STRSTR(buf, "Verify return code: 0 (ok)", "s_client verified us");
	ASSERT_STRSTR(buf, "echo: hello", "s_client got our data");
	ASSERT_STRSTR(buf, "TLSv1.2", "TLS 1.2");
out:
	interop_close(&t);
}

/* openssl s_client without a certificate: our server refuses it cleanly. */
static void interop_s_client_no_cert(void)
{
	struct interop t = INTEROP_INIT;
	char buf[8192];
	int err;

	if (!interop_listen(&t))
		goto out;
	{
		char *argv[] = { "openssl", "s_client", "-connect", t.addr,
			"-CAfile", (char *)path("c/ca/ca.pem"), "-alpn", "h2",
			"-servername", "localhost", NULL };
		t.pid = spawn(argv, &t.in, &t.out);
	}
	if (!ASSERT_TRUE(t.pid > 0, "spawn"))
		goto out;
	err = serve_handshake(t.lfd, t.ctx, &t.conn, &t.fd);
	ASSERT_EQ(err, -EACCES, "refused");
	ASSERT_STRSTR(t.conn ? tls_conn_errstr(t.conn) : "", "client certificate required",
		      "message");
	close(t.fd);
	t.fd = -1;
	close(t.in);
	t.in = -1;
	read_until(t.out, buf, sizeof(buf), NULL);
	ASSERT_STRSTR(buf, "alert handshake failure", "s_client saw the alert");
out:
	interop_close(&t);
}

/* Our client -> openssl s_server -Verify 1 -alpn h2 -rev (echoes reversed). */
static void interop_s_server(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct interop t = INTEROP_INIT;
	char buf[8192];
	int port, err;
	ssize_t n;

	if (!have_openssl())
		test_skip("openssl not installed");
	if (!ASSERT_OK(gen("c", "h"), "certs") ||
	    !ASSERT_OK(client_ctx("c", "c", "localhost", &t.ctx), "client ctx"))
		goto out;
	t.fd = listen_lo(&port);	/* reserve a free port, then hand it over */
	if (!ASSERT_OK(t.fd, "port"))
		goto out;
	close(t.fd);
	t.fd = -1;
	snprintf(t.addr, sizeof(t.addr), "127.0.0.1:%d", port);
	{
		char *argv[] = { "openssl", "s_server", "-accept", t.addr,
			"-cert", (char *)path("c/bpfd/bpfd.pem"),
			"-key", (char *)path("c/bpfd/bpfd.key"),
			"-CAfile", (char *)path("c/ca/ca.pem"),
			"-Verify", "1", "-verify_return_error", "-alpn", "h2",
			"-rev", "-naccept", "1", NULL };
		t.pid = spawn(argv, &t.in, &t.out);
	}
	if (!ASSERT_TRUE(t.pid > 0, "spawn openssl s_server"))
		goto out;
	if (!ASSERT_TRUE(read_until(t.out, buf, sizeof(buf), "ACCEPT"), "s_server ready")) {
		fprintf(stderr, "  s_server: %s\n", buf);
		goto out;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	t.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (connect(t.fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS) {
		ASSERT_OK(-errno, "connect");
		goto out;
	}
	err = tls_conn_new(t.ctx, t.fd, &t.conn);
	while (!err && (err = tls_conn_handshake(t.conn)) == -EAGAIN) {
		poll(&(struct pollfd){ .fd = t.fd, .events = tls_conn_wants(t.conn) }, 1,
		     TIMEOUT_MS);
		err = 0;
	}
	if (!ASSERT_OK(err, t.conn ? tls_conn_errstr(t.conn) : "conn"))
		goto out;
	ASSERT_STREQ(tls_conn_alpn(t.conn), "h2", "ALPN");
	ASSERT_STREQ(tls_conn_peer_cn(t.conn), "bpfd", "server CN");
	ASSERT_EQ(write_wait(t.conn, t.fd, "hello\n", 6), 6, "write");
	n = read_wait(t.conn, t.fd, buf, sizeof(buf) - 1);
	if (ASSERT_TRUE(n > 0, "read reply")) {
		buf[n] = '\0';
		ASSERT_STRSTR(buf, "olleh", "s_server reversed our line");
	}
	ASSERT_OK(close_wait(t.conn, t.fd), "close_notify");
out:
	interop_close(&t);
}

TEST_MAIN("tls",
	  TEST(certs_generate),
	  TEST(certs_idempotent),
	  TEST(certs_partial),
	  TEST(certs_external_ca),
	  TEST(certs_bad_dir),
	  TEST(ctx_bad_files),
	  TEST(ctx_inline_pem),
	  TEST(handshake_ok),
	  TEST(conn_backpressure),
	  TEST(conn_peer_gone),
	  TEST(handshake_no_client_cert),
	  TEST(handshake_other_ca),
	  TEST(handshake_untrusted_server),
	  TEST(handshake_wrong_name),
	  TEST(handshake_names),
	  TEST(handshake_garbage),
	  TEST(interop_s_client),
	  TEST(interop_s_client_no_cert),
	  TEST(interop_s_server))
