#!/bin/sh
# t_registry.sh - the registry client (src/core/image/registry.c over wire/http1.c) against
# real peers on 127.0.0.1: Debian's docker-registry plain, TLS with a test CA + htpasswd,
# TLS + bearer tokens from a token server this test runs; a CONNECT proxy; a server that
# never answers.  Images are hand-built OCI layouts pushed with skopeo (gzip and plain
# layers, a multi-arch index).  The driver is build/tests/unit/test_registry pull.
# vm: no (protocol only)
. "$(dirname "$0")/lib.sh"

B=${BPFD_BUILD:-$(pwd)/build}
DRV="$B/tests/unit/test_registry"
PY=/usr/bin/python3
P="$T_TMP/pki"

need() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || { echo "  missing $c: run make deps"; exit 1; }
	done
}
need docker-registry skopeo openssl htpasswd jq
[ -x "$DRV" ] || { echo "  missing $DRV: make O=build unit tests first"; exit 1; }

# A free TCP port on 127.0.0.1 (the kernel picks it; a race with other tests is unlikely).
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---- PKI ---------------------------------------------------------------------
mkdir -p "$P"
mkcert() {	# NAME SAN CA
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$1.key" \
		-out "$P/$1.csr" -subj "/CN=$1" 2>/dev/null &&
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' "$2" >"$P/$1.ext" &&
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$3.crt" -CAkey "$P/$3.key" -CAcreateserial \
		-out "$P/$1.crt" -days 30 -extfile "$P/$1.ext" 2>/dev/null
}
mkca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$1.key" \
		-out "$P/$1.crt" -days 30 -subj "/CN=$1" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
mkca test-ca || fail "openssl CA"
mkca other-ca || fail "openssl other CA"
mkcert server 'IP:127.0.0.1,DNS:localhost' test-ca || fail "server cert"
mkcert nameonly 'DNS:localhost' test-ca || fail "name-only cert"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/token.key" \
	-out "$P/token.crt" -days 30 -subj "/CN=test-token-signer" 2>/dev/null || fail "token cert"
mkdir -p "$P/certdir" && cp "$P/test-ca.crt" "$P/certdir/ca.crt"
htpasswd -Bbn testuser testpass >"$T_TMP/htpasswd" 2>/dev/null || fail "htpasswd"
AUTH=$(printf %s testuser:testpass | base64 -w0)
BADAUTH=$(printf %s testuser:wrong | base64 -w0)

# ---- peers -------------------------------------------------------------------
# The token server: ES256 JWTs with the signer in x5c; testuser:testpass get what they
# ask for, anonymous callers pull only, wrong passwords 401.  Logs one line per request.
cat >"$T_TMP/tokenserver.py" <<'EOF'
import base64, http.server, json, sys, time, uuid, urllib.parse
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
port, keyf, crtf, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
key = serialization.load_pem_private_key(open(keyf, "rb").read(), None)
crt = x509.load_pem_x509_certificate(open(crtf, "rb").read())
x5c = base64.b64encode(crt.public_bytes(serialization.Encoding.DER)).decode()
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        user = ""
        a = self.headers.get("Authorization", "")
        if a.startswith("Basic "):
            u, _, p = base64.b64decode(a[6:]).decode().partition(":")
            if (u, p) != ("testuser", "testpass"):
                open(log, "a").write("reject %s\n" % u)
                self.send_response(401); self.send_header("Content-Length", "0"); self.end_headers(); return
            user = u
        access = []
        for s in q.get("scope", []):
            t, n, acts = s.split(":", 2)
            acts = acts.split(",") if user else [x for x in acts.split(",") if x == "pull"]
            access.append({"type": t, "name": n, "actions": acts})
        open(log, "a").write("token user=%s service=%s scope=%s\n" % (user or "-", ",".join(q.get("service", [])), ",".join(q.get("scope", []))))
        now = int(time.time())
        hdr = {"typ": "JWT", "alg": "ES256", "x5c": [x5c]}
        cl = {"iss": "test-issuer", "sub": user, "aud": q.get("service", [""])[0], "exp": now + 300,
              "nbf": now - 10, "iat": now, "jti": str(uuid.uuid4()), "access": access}
        si = b64(json.dumps(hdr).encode()) + "." + b64(json.dumps(cl).encode())
        r, s = decode_dss_signature(key.sign(si.encode(), ec.ECDSA(hashes.SHA256())))
        tok = si + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        body = json.dumps({"token": tok, "expires_in": 300}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF

# A CONNECT proxy that logs each tunnel.
cat >"$T_TMP/proxy.py" <<'EOF'
import socket, sys, threading
port, log = int(sys.argv[1]), sys.argv[2]
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except OSError: pass
    finally:
        try: b.shutdown(socket.SHUT_WR)
        except OSError: pass
def serve(c):
    head = b""
    while b"\r\n\r\n" not in head:
        d = c.recv(1)
        if not d: return
        head += d
    line = head.split(b"\r\n")[0].decode()
    m, target, _ = line.split(" ")
    open(log, "a").write(line + "\n")
    if m == "GET" and target.startswith("http://"):
        hp, _, path = target[7:].partition("/")
        h, p = hp.rsplit(":", 1)
        u = socket.create_connection((h, int(p)), 2)
        u.sendall(head.replace(target.encode(), b"/" + path.encode(), 1))
        pipe(u, c); c.close(); return
    if m != "CONNECT":
        c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"); c.close(); return
    h, p = target.rsplit(":", 1)
    try: u = socket.create_connection((h, int(p)), 2)
    except OSError:
        c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"); c.close(); return
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
    pipe(c, u)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF

# A server that accepts connections and never says a word.
cat >"$T_TMP/silent.py" <<'EOF'
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
EOF

# ---- images --------------------------------------------------------------------
# mklayout.py DIR TAG SPEC... with SPEC = ARCH:gzip|raw:FILE; more than one SPEC makes an
# OCI index.  Deterministic tar (posix, mtime 0, root owner), config with the eBPF labels.
cat >"$T_TMP/mklayout.py" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
out, tag, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out + "/blobs/sha256", exist_ok=True)
def put(b):
    d = hashlib.sha256(b).hexdigest()
    open("%s/blobs/sha256/%s" % (out, d), "wb").write(b)
    return "sha256:" + d
def image(arch, comp, path):
    data = open(path, "rb").read()
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo(os.path.basename(path)); ti.size = len(data); ti.mtime = 0; ti.mode = 0o644
        t.addfile(ti, io.BytesIO(data))
    tar = bio.getvalue()
    layer = gzip.compress(tar, 9, mtime=0) if comp == "gzip" else tar
    lmt = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if comp == "gzip" else "")
    name = os.path.basename(path)
    cfg = json.dumps({"architecture": arch, "os": "linux",
        "config": {"Labels": {"io.ebpf.program_type": "xdp", "io.ebpf.filename": name,
                              "io.ebpf.program_name": "pass", "io.ebpf.bpf_function_name": "xdp_pass",
                              "io.ebpf.programs": json.dumps({"xdp_pass": "xdp"}), "io.ebpf.maps": "{}"}},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]}},
        separators=(",", ":")).encode()
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cfg), "size": len(cfg)},
        "layers": [{"mediaType": lmt, "digest": put(layer), "size": len(layer)}]},
        separators=(",", ":")).encode()
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(m), "size": len(m),
            "platform": {"architecture": arch, "os": "linux"}}
descs = [image(*s.split(":", 2)) for s in specs]
if len(descs) == 1:
    top = dict(descs[0]); del top["platform"]
else:
    idx = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                      "manifests": descs}, separators=(",", ":")).encode()
    top = {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(idx), "size": len(idx)}
top["annotations"] = {"org.opencontainers.image.ref.name": tag}
json.dump({"schemaVersion": 2, "manifests": [top]}, open(out + "/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(out + "/oci-layout", "w"))
print(top["digest"])
EOF

OBJ=$(ls "${BPFD_TESTBPF:-$B/tests/bpf}"/*.o 2>/dev/null | head -n 1)
[ -n "$OBJ" ] || { OBJ="$T_TMP/xdp_pass.o"; head -c 4096 /dev/urandom >"$OBJ"; }
head -c 3000 /dev/urandom >"$T_TMP/arm64.o"
D_GZ=$($PY "$T_TMP/mklayout.py" "$T_TMP/lay-gz" gz "amd64:gzip:$OBJ") || fail "layout gz"
D_RAW=$($PY "$T_TMP/mklayout.py" "$T_TMP/lay-raw" raw "amd64:raw:$OBJ") || fail "layout raw"
D_MULTI=$($PY "$T_TMP/mklayout.py" "$T_TMP/lay-multi" multi "amd64:gzip:$OBJ" "arm64:gzip:$T_TMP/arm64.o") ||
	fail "layout multi"
ARM_LAYER=$(jq -r '.manifests[1].digest' "$T_TMP/lay-multi/blobs/sha256/${D_MULTI#sha256:}")
ARM_LAYER=$(jq -r '.layers[0].digest' "$T_TMP/lay-multi/blobs/sha256/${ARM_LAYER#sha256:}")
AMD_LAYER=$(jq -r '.manifests[0].digest' "$T_TMP/lay-multi/blobs/sha256/${D_MULTI#sha256:}")
AMD_LAYER=$(jq -r '.layers[0].digest' "$T_TMP/lay-multi/blobs/sha256/${AMD_LAYER#sha256:}")
RAW_LAYER=$(jq -r '.layers[0].digest' "$T_TMP/lay-raw/blobs/sha256/${D_RAW#sha256:}")

# push DEST [skopeo args]: the three layouts as bpf/x:gz, :raw and :multi
push() {
	dest=$1
	shift
	skopeo copy -q "$@" "oci:$T_TMP/lay-gz:gz" "docker://$dest/bpf/x:gz" &&
	skopeo copy -q --preserve-digests "$@" "oci:$T_TMP/lay-raw:raw" "docker://$dest/bpf/x:raw" &&
	skopeo copy -q --all --preserve-digests "$@" "oci:$T_TMP/lay-multi:multi" "docker://$dest/bpf/x:multi"
}

PLAIN=$(free_port)
registry plain "$PLAIN"
push "127.0.0.1:$PLAIN" --dest-tls-verify=false >"$T_TMP/push.log" 2>&1 ||
	{ cat "$T_TMP/push.log" >&2; fail "skopeo push to the plain registry"; }

# pull OUT REF ARGS...: run the driver; its stdout in $OUT.out, stderr in $OUT.err, rc in $rc
pull() {
	out=$1
	shift
	"$DRV" pull "$@" >"$T_TMP/$out.out" 2>"$T_TMP/$out.err" </dev/null
	rc=$?
}
expect_ok() {
	[ $rc = 0 ] || fail "$1: rc $rc: $(cat "$T_TMP/$1.err")"
}
# expect_err OUT ERRNO GRPC TEXT
expect_err() {
	[ $rc = 1 ] || fail "$1: rc $rc, want 1: $(cat "$T_TMP/$1.out" "$T_TMP/$1.err")"
	grep -q "^error $2 $3: " "$T_TMP/$1.err" || fail "$1: want $2 $3, got: $(cat "$T_TMP/$1.err")"
	grep -qF -- "$4" "$T_TMP/$1.err" || fail "$1: no '$4' in: $(cat "$T_TMP/$1.err")"
	! grep -q "$AUTH\|testpass\|Bearer ey" "$T_TMP/$1.err" || fail "$1: credentials in the message"
}
field() { sed -n "s/^$2 //p" "$T_TMP/$1.out"; }
has_blob() { [ -f "$1/blobs/sha256/${2#sha256:}" ]; }

unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy NO_PROXY no_proxy
export DOCKER_CONFIG="$T_TMP/no-docker-config"

test_plain_gzip_and_cache() {
	S="$T_TMP/s-plain"
	pull a "127.0.0.1:$PLAIN/bpf/x:gz" --store "$S" --insecure "127.0.0.1:$PLAIN"
	expect_ok a
	[ "$(field a digest)" = "$D_GZ" ] || fail "digest $(field a digest), want $D_GZ (the layout's)"
	[ "$(field a blobs)" = 2 ] || fail "want config + layer downloaded: $(cat "$T_TMP/a.out")"
	for d in $(jq -r '.config.digest, .layers[].digest' "$T_TMP/lay-gz/blobs/sha256/${D_GZ#sha256:}") "$D_GZ"; do
		has_blob "$S" "$d" || fail "blob $d not in the store"
		cmp -s "$S/blobs/sha256/${d#sha256:}" "$T_TMP/lay-gz/blobs/sha256/${d#sha256:}" ||
			fail "blob $d differs from the pushed one"
	done
	pull b "127.0.0.1:$PLAIN/bpf/x:gz" --store "$S" --insecure "127.0.0.1"
	expect_ok b
	[ "$(field b cached)" = 2 ] && [ "$(field b blobs)" = 0 ] ||
		fail "second pull should use the store: $(cat "$T_TMP/b.out")"
	# by digest
	pull c "127.0.0.1:$PLAIN/bpf/x@$D_GZ" --store "$S" --insecure "127.0.0.1:$PLAIN"
	expect_ok c
	[ "$(field c digest)" = "$D_GZ" ] || fail "pull by digest"
}

test_plain_uncompressed_layer() {
	S="$T_TMP/s-raw"
	pull a "127.0.0.1:$PLAIN/bpf/x:raw" --store "$S" --insecure "127.0.0.1:$PLAIN"
	expect_ok a
	[ "$(field a digest)" = "$D_RAW" ] || fail "digest $(field a digest), want $D_RAW"
	has_blob "$S" "$RAW_LAYER" || fail "uncompressed layer not stored"
	tar -tf "$S/blobs/sha256/${RAW_LAYER#sha256:}" | grep -qx "$(basename "$OBJ")" ||
		fail "the stored layer is not the tar with the object"
}

test_multi_arch_index() {
	S="$T_TMP/s-multi"
	pull a "127.0.0.1:$PLAIN/bpf/x:multi" --store "$S" --insecure "127.0.0.1:$PLAIN" --arch arm64
	expect_ok a
	[ "$(field a digest)" = "$D_MULTI" ] || fail "returns the index digest $D_MULTI, got $(field a digest)"
	has_blob "$S" "$ARM_LAYER" || fail "arm64 layer not stored"
	! has_blob "$S" "$AMD_LAYER" || fail "amd64 layer stored for an arm64 pull"
	pull b "127.0.0.1:$PLAIN/bpf/x:multi" --store "$S" --insecure "127.0.0.1:$PLAIN" --arch amd64
	expect_ok b
	has_blob "$S" "$AMD_LAYER" || fail "amd64 layer not stored"
	pull c "127.0.0.1:$PLAIN/bpf/x:multi" --store "$S" --insecure "127.0.0.1:$PLAIN" --arch s390x
	expect_err c ENOENT NOT_FOUND "no image for linux/s390x (it has: linux/amd64, linux/arm64)"
}

test_not_found() {
	pull a "127.0.0.1:$PLAIN/bpf/x:nope" --store "$T_TMP/s-nf" --insecure "127.0.0.1:$PLAIN"
	expect_err a ENOENT NOT_FOUND "manifest nope of 127.0.0.1:$PLAIN/bpf/x not found in registry 127.0.0.1:$PLAIN (HTTP 404, MANIFEST_UNKNOWN: manifest unknown)"
	pull b "127.0.0.1:$PLAIN/bpf/none:v1" --store "$T_TMP/s-nf" --insecure "127.0.0.1:$PLAIN"
	expect_err b ENOENT NOT_FOUND "HTTP 404"
	[ -z "$(ls "$T_TMP/s-nf/blobs/sha256" 2>/dev/null)" ] || fail "a failed pull stored blobs"
}

test_limits_and_plain_without_insecure() {
	pull a "127.0.0.1:$PLAIN/bpf/x:gz" --store "$T_TMP/s-lim" --insecure "127.0.0.1:$PLAIN" --max-blob 100
	expect_err a EFBIG RESOURCE_EXHAUSTED "max_blob_bytes (100)"
	# https to a plain-HTTP registry: refused, nothing stored
	pull b "127.0.0.1:$PLAIN/bpf/x:gz" --store "$T_TMP/s-lim2"
	expect_err b EHOSTUNREACH UNAVAILABLE "a plain-HTTP registry? then list it in [registry] insecure"
	[ -z "$(ls "$T_TMP/s-lim2/blobs/sha256" 2>/dev/null)" ] || fail "blobs stored"
}

test_silent_server_times_out() {
	port=$(free_port)
	$PY "$T_TMP/silent.py" "$port" &
	on_exit "kill $!"
	wait_port "$port"
	t0=$(date +%s%N)
	pull a "127.0.0.1:$port/bpf/x:gz" --store "$T_TMP/s-to" --insecure "127.0.0.1:$port" --read-ms 400
	ms=$((($(date +%s%N) - t0) / 1000000))
	expect_err a EHOSTUNREACH UNAVAILABLE "accepted the connection but sent nothing for 400 ms"
	[ $ms -lt 5000 ] || fail "took $ms ms"
	echo "  timeout after $ms ms (read timeout 400 ms)"
}

# TLS + htpasswd
TLS=$(free_port)
registry tls "$TLS" "  tls:
    certificate: $P/server.crt
    key: $P/server.key
auth:
  htpasswd:
    realm: test-realm
    path: $T_TMP/htpasswd"
push "127.0.0.1:$TLS" --dest-cert-dir "$P/certdir" --dest-creds testuser:testpass >"$T_TMP/push.log" 2>&1 ||
	{ cat "$T_TMP/push.log" >&2; fail "skopeo push to the TLS registry"; }

test_tls_basic_auth() {
	pull a "127.0.0.1:$TLS/bpf/x:gz" --store "$T_TMP/s-tls" --ca "$P/test-ca.crt" --auth "$AUTH"
	expect_ok a
	[ "$(field a digest)" = "$D_GZ" ] || fail "digest over TLS"
	pull b "localhost:$TLS/bpf/x:multi" --store "$T_TMP/s-tls" --ca "$P/test-ca.crt" --user testuser --password testpass
	expect_ok b
	pull c "127.0.0.1:$TLS/bpf/x:gz" --store "$T_TMP/s-tls2" --ca "$P/test-ca.crt" --no-docker-config
	expect_err c ENOKEY UNAUTHENTICATED "requires credentials"
	pull d "127.0.0.1:$TLS/bpf/x:gz" --store "$T_TMP/s-tls2" --ca "$P/test-ca.crt" --auth "$BADAUTH"
	expect_err d ENOKEY UNAUTHENTICATED "rejected the credentials given"
	pull e "127.0.0.1:$TLS/bpf/x:gz" --store "$T_TMP/s-tls2" --ca "$P/test-ca.crt" --auth 'not base64!'
	expect_err e EINVAL INVALID_ARGUMENT "not base64 of USER:PASSWORD"
	[ -z "$(ls "$T_TMP/s-tls2/blobs/sha256" 2>/dev/null)" ] || fail "blobs stored"
}

test_tls_docker_config() {
	mkdir -p "$T_TMP/dc"
	printf '{"auths":{"https://127.0.0.1:%s":{"auth":"%s"}}}' "$TLS" "$AUTH" >"$T_TMP/dc/config.json"
	export DOCKER_CONFIG="$T_TMP/dc"
	pull a "127.0.0.1:$TLS/bpf/x:raw" --store "$T_TMP/s-dc" --ca "$P/test-ca.crt"
	expect_ok a
	[ "$(field a digest)" = "$D_RAW" ] || fail "digest"
}

test_tls_untrusted_refused() {
	pull a "127.0.0.1:$TLS/bpf/x:gz" --store "$T_TMP/s-u" --ca "$P/other-ca.crt" --auth "$AUTH"
	expect_err a EHOSTUNREACH UNAVAILABLE "is not signed by the configured CA"
	pull b "127.0.0.1:$TLS/bpf/x:gz" --store "$T_TMP/s-u" --auth "$AUTH"
	expect_err b EHOSTUNREACH UNAVAILABLE "/etc/ssl/certs/ca-certificates.crt"
	# insecure (plain http) to a TLS port: the registry answers 400
	pull c "127.0.0.1:$TLS/bpf/x:gz" --store "$T_TMP/s-u" --insecure "127.0.0.1:$TLS" --auth "$AUTH"
	expect_err c EPROTO OTHER "wrongly listed in [registry] insecure"
	[ -z "$(ls "$T_TMP/s-u/blobs/sha256" 2>/dev/null)" ] || fail "blobs stored"
}

# TLS (name-only certificate) + bearer tokens
TOKP=$(free_port)
$PY "$T_TMP/tokenserver.py" "$TOKP" "$P/token.key" "$P/token.crt" "$T_TMP/token.log" 2>"$T_TMP/ts.err" &
on_exit "kill $!"
wait_port "$TOKP" "$T_TMP/ts.err"
TOK=$(free_port)
registry tok "$TOK" "  tls:
    certificate: $P/nameonly.crt
    key: $P/nameonly.key
auth:
  token:
    realm: http://127.0.0.1:$TOKP/token
    service: test-registry
    issuer: test-issuer
    rootcertbundle: $P/token.crt"
push "localhost:$TOK" --dest-cert-dir "$P/certdir" --dest-creds testuser:testpass >"$T_TMP/push.log" 2>&1 ||
	{ cat "$T_TMP/push.log" >&2; fail "skopeo push to the token registry"; }

test_bearer_token() {
	: >"$T_TMP/token.log"
	pull a "localhost:$TOK/bpf/x:gz" --store "$T_TMP/s-tok" --ca "$P/test-ca.crt"
	expect_ok a
	[ "$(field a digest)" = "$D_GZ" ] || fail "digest"
	grep -q "^token user=- service=test-registry scope=repository:bpf/x:pull$" "$T_TMP/token.log" ||
		fail "no anonymous token request: $(cat "$T_TMP/token.log")"
	[ "$(grep -c '^token' "$T_TMP/token.log")" = 1 ] || fail "the session should reuse its token: $(cat "$T_TMP/token.log")"
	# credentials go to a plain-http realm only when it is marked insecure
	pull b "localhost:$TOK/bpf/x:multi" --store "$T_TMP/s-tok" --ca "$P/test-ca.crt" --auth "$AUTH"
	expect_err b EACCES PERMISSION_DENIED "does not send credentials there"
	pull c "localhost:$TOK/bpf/x:multi" --store "$T_TMP/s-tok" --ca "$P/test-ca.crt" --auth "$AUTH" \
		--insecure "127.0.0.1:$TOKP"
	expect_ok c
	grep -q "^token user=testuser " "$T_TMP/token.log" || fail "no token for testuser"
	pull d "localhost:$TOK/bpf/x:gz" --store "$T_TMP/s-tok2" --ca "$P/test-ca.crt" --auth "$BADAUTH" \
		--insecure "127.0.0.1:$TOKP"
	expect_err d ENOKEY UNAUTHENTICATED "token server http://127.0.0.1:$TOKP/token rejected the credentials given"
}

test_tls_wrong_name_refused() {
	# the certificate names localhost only
	pull a "127.0.0.1:$TOK/bpf/x:gz" --store "$T_TMP/s-wn" --ca "$P/test-ca.crt"
	expect_err a EHOSTUNREACH UNAVAILABLE "is not valid for the name \"127.0.0.1\""
}

test_https_proxy() {
	port=$(free_port)
	$PY "$T_TMP/proxy.py" "$port" "$T_TMP/proxy.log" 2>"$T_TMP/proxy.err" &
	on_exit "kill $!"
	wait_port "$port" "$T_TMP/proxy.err"
	export HTTPS_PROXY="http://127.0.0.1:$port"
	pull a "127.0.0.1:$TLS/bpf/x:gz" --store "$T_TMP/s-px" \
		--ca "$P/test-ca.crt" --auth "$AUTH"
	expect_ok a
	grep -q "^CONNECT 127.0.0.1:$TLS HTTP/1.1$" "$T_TMP/proxy.log" || fail "no CONNECT through the proxy"
	n=$(wc -l <"$T_TMP/proxy.log")
	export HTTPS_PROXY="127.0.0.1:$port" NO_PROXY="localhost,127.0.0.1"
	pull b "127.0.0.1:$TLS/bpf/x:raw" \
		--store "$T_TMP/s-px" --ca "$P/test-ca.crt" --auth "$AUTH"
	expect_ok b
	[ "$(wc -l <"$T_TMP/proxy.log")" = "$n" ] || fail "NO_PROXY ignored"
	# plain http goes through the proxy as GET http://...
	unset NO_PROXY
	export HTTP_PROXY="http://127.0.0.1:$port"
	pull p "127.0.0.1:$PLAIN/bpf/x:gz" --store "$T_TMP/s-px3" --insecure "127.0.0.1:$PLAIN"
	expect_ok p
	[ "$(field p digest)" = "$D_GZ" ] || fail "digest through the http proxy"
	grep -q "^GET http://127.0.0.1:$PLAIN/v2/bpf/x/blobs/sha256:" "$T_TMP/proxy.log" ||
		fail "no absolute-URL GET through the proxy: $(cat "$T_TMP/proxy.log")"
	unset HTTP_PROXY
	# a proxy that is down: UNAVAILABLE naming the proxy
	dead=$(free_port)
	export HTTPS_PROXY="http://127.0.0.1:$dead"
	pull c "127.0.0.1:$TLS/bpf/x:gz" --store "$T_TMP/s-px2" \
		--ca "$P/test-ca.crt" --auth "$AUTH"
	expect_err c EHOSTUNREACH UNAVAILABLE "proxy 127.0.0.1:$dead"
}

test_cosign_tag_manifest() {
	# what imageload asks for: an arbitrary tag's manifest (404 when unsigned)
	pull a "127.0.0.1:$PLAIN/bpf/x:gz" --manifest "sha256-${D_GZ#sha256:}.sig" --insecure "127.0.0.1:$PLAIN"
	expect_err a ENOENT NOT_FOUND "not found"
	pull b "127.0.0.1:$PLAIN/bpf/x:gz" --manifest raw --insecure "127.0.0.1:$PLAIN"
	expect_ok b
	[ "$(cat "$T_TMP/b.out")" = "manifest application/vnd.oci.image.manifest.v1+json $D_RAW $(stat -c %s "$T_TMP/lay-raw/blobs/sha256/${D_RAW#sha256:}")" ] ||
		fail "manifest line: $(cat "$T_TMP/b.out")"
}

run_tests registry test_plain_gzip_and_cache test_plain_uncompressed_layer test_multi_arch_index \
	test_not_found test_limits_and_plain_without_insecure test_silent_server_times_out \
	test_tls_basic_auth test_tls_docker_config test_tls_untrusted_refused test_bearer_token \
	test_tls_wrong_name_refused test_https_proxy test_cosign_tag_manifest
