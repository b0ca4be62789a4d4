# image_lib.sh - bytecode images in a local registry, for t_image_registry.sh and
# t_image_progress.sh (sourced after lib.sh and prog_lib.sh): OCI layouts built by hand
# around prog_counter.bpf.o, pushed with skopeo to Debian's docker-registry on 127.0.0.1
# (lib.sh's registry), and a private daemon whose [registry] trusts that plain-HTTP
# registry.
PY=/usr/bin/python3

# image_need CMD...: the script needs docker-registry, skopeo and CMD... (make deps
# installs them); a missing one fails the script.
image_need() {
	for _c in docker-registry skopeo "$@"; do
		command -v "$_c" >/dev/null 2>&1 || { echo "  missing $_c: run make deps"; exit 1; }
	done
}

# image_layout DIR TAG OBJ [KIB:tar|KIB:gzip ...]: an OCI layout whose layers are
# random bytes of each KIB KiB (in a plain tar, or gzipped), then OBJ as counter.o
# gzipped, with the legacy labels of its tracepoint program and TAG as its program
# name (so every tag has a digest of its own).  The random bytes are the same in every
# layout of the script, so the layers of a second tag are in the store already.
# Prints "MANIFEST_DIGEST LAYER:SIZE...".
image_layout() {
	$PY - "$PROG_TOP/seed" "$@" <<'P'
import gzip, hashlib, io, json, os, random, sys, tarfile
seed, out, tag, obj = sys.argv[1:5]
if not os.path.exists(seed):
    open(seed, "wb").write(os.urandom(8))
rnd = random.Random(open(seed, "rb").read())
os.makedirs(out + "/blobs/sha256", exist_ok=True)
def put(b):
    d = hashlib.sha256(b).hexdigest()
    open("%s/blobs/sha256/%s" % (out, d), "wb").write(b)
    return "sha256:" + d
def tar(name, data):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 0; ti.mode = 0o644
        t.addfile(ti, io.BytesIO(data))
    return bio.getvalue()
layers = []   # (blob, uncompressed tar, media type suffix)
for i, spec in enumerate(sys.argv[5:]):
    kib, comp = spec.split(":")
    t = tar("filler%d.bin" % (i + 1), rnd.randbytes(int(kib) << 10))
    layers.append((t, t, "tar") if comp == "tar" else (gzip.compress(t, 6, mtime=0), t, "tar+gzip"))
t = tar("counter.o", open(obj, "rb").read())
layers.append((gzip.compress(t, 9, mtime=0), t, "tar+gzip"))
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {
    "io.ebpf.program_type": "tracepoint", "io.ebpf.filename": "counter.o",
    "io.ebpf.program_name": tag, "io.ebpf.bpf_function_name": "tp_count"}},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(u).hexdigest()
                                              for _, u, _ in layers]}},
    separators=(",", ":")).encode()
descs = [{"mediaType": "application/vnd.oci.image.layer.v1." + mt, "digest": put(b),
          "size": len(b)} for b, _, mt in layers]
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cfg),
               "size": len(cfg)},
    "layers": descs}, separators=(",", ":")).encode()
d = put(m)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": d, "size": len(m), "annotations": {"org.opencontainers.image.ref.name": tag}}]},
    open(out + "/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(out + "/oci-layout", "w"))
print(d, " ".join("%s:%d" % (x["digest"], x["size"]) for x in descs))
P
}

# image_push PORT REPO:TAG [KIB:tar|KIB:gzip ...]: image_layout's image pushed to the
# registry on 127.0.0.1:PORT; prints "MANIFEST_DIGEST LAYER:SIZE..." as the registry has
# it (skopeo compresses a plain tar layer on the way).
image_push() {
	_port=$1 _ref=$2
	shift 2
	_lay=$T_TMP/lay-${_ref##*:}
	image_layout "$_lay" "${_ref##*:}" "$COUNTER_OBJ" "$@" >/dev/null || fail "layout of $_ref"
	skopeo copy -q --dest-tls-verify=false "oci:$_lay:${_ref##*:}" "docker://127.0.0.1:$_port/$_ref" \
		>"$T_TMP/push.log" 2>&1 || fail "skopeo: $(cat "$T_TMP/push.log")"
	$PY - "http://127.0.0.1:$_port/v2/${_ref%:*}/manifests/${_ref##*:}" <<'P' || fail "manifest of $_ref"
import hashlib, json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Accept":
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"})
body = urllib.request.urlopen(req).read()
m = json.loads(body)
print("sha256:" + hashlib.sha256(body).hexdigest(),
      " ".join("%s:%d" % (l["digest"], l["size"]) for l in m["layers"]))
P
}

# image_daemon PORT [EXTRA TOML [DAEMON ARGS...]]: prog_setup_private's daemon with the
# config $CONF: the registry on 127.0.0.1:PORT is insecure (plain HTTP), reads time out
# after $READ_MS ms (default 10000), the image store is its own.
image_daemon() {
	CONF=$T_TMP/bpfd-$1.toml
	cat >"$CONF" <<C
[registry]
insecure = ["127.0.0.1:$1"]
connect_timeout_ms = 2000
read_timeout_ms = ${READ_MS:-10000}
[runtime]
image_dir = "$T_TMP/images-$1"
${2:-}
C
	shift
	[ $# -gt 0 ] && shift
	prog_setup_private --config "$CONF" "$@"
}
