#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# mkseeds.py - (re)generate the generated part of the committed seed corpus,
# tests/fuzz/corpus/<target>/gen-*, from real data: the request messages encoded by
# protoc from bpfd.proto, HTTP/2 sessions made by python3-h2 carrying them, tar(1)
# layers, the built BPF objects, the example configuration, real rtnetlink replies
# of this kernel, a record file written by a real daemon.  Hand-written seeds (no
# "gen-" prefix) are kept.  Run from the repository root after `make`:
#   tests/fuzz/mkseeds.py [BUILD_DIR]      (root: the netlink replies and the record)
# then review and commit tests/fuzz/corpus/.
import gzip, io, os, shutil, socket, struct, subprocess, sys, tarfile, tempfile, time

B = sys.argv[1] if len(sys.argv) > 1 else "build"
C = "tests/fuzz/corpus"


def put(target, name, data):
    d = os.path.join(C, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "gen-" + name), "wb") as f:
        f.write(data)


def clear():
    for t in os.listdir(C) if os.path.isdir(C) else []:
        for n in os.listdir(os.path.join(C, t)):
            if n.startswith("gen-"):
                os.unlink(os.path.join(C, t, n))


def encode(msg, text):
    return subprocess.run(["protoc", "-Iproto", "--encode=bpfd.v1." + msg, "bpfd.proto"],
                          input=text.encode(), stdout=subprocess.PIPE, check=True).stdout


# Requests as bpfctl and the agent send them (every attach kind, metadata, globals).
LOADS = {
    "xdp": 'bytecode { file: "/usr/lib/bpfd/xdp_count.bpf.o" } name: "xdp_count" program_type: 6 '
           'attach { xdp_attach_info { priority: 50 iface: "eth0" proceed_on: [2, 31] } } '
           'metadata { key: "app" value: "web" } global_data { key: "conf" value: "\\001\\000\\000\\000" }',
    "tc": 'bytecode { file: "/tmp/tc.o" } name: "tc_count" program_type: 3 '
          'attach { tc_attach_info { priority: 5 iface: "veth1" direction: "egress" proceed_on: [0, 3] } }',
    "tcx": 'bytecode { file: "/tmp/tcx.o" } name: "tcx_count" program_type: 3 '
           'attach { tcx_attach_info { priority: 1 iface: "lo" direction: "ingress" } }',
    "tracepoint": 'bytecode { file: "/tmp/p.o" } name: "tp_count" program_type: 5 '
                  'attach { tracepoint_attach_info { tracepoint: "syscalls/sys_enter_openat" } } '
                  'uuid: "6c0f3a4e-1c9b-4f7e-a1c2-000000000001" map_owner_id: 7',
    "kprobe": 'bytecode { file: "/tmp/p.o" } name: "kp_count" program_type: 2 '
              'attach { kprobe_attach_info { fn_name: "do_unlinkat" offset: 0 retprobe: true namespace: "" } }',
    "uprobe": 'bytecode { file: "/tmp/p.o" } name: "up_count" program_type: 2 '
              'attach { uprobe_attach_info { fn_name: "malloc" target: "libc" pid: 1 offset: 16 } }',
    "fentry": 'bytecode { file: "/tmp/p.o" } name: "fe_count" program_type: 26 '
              'attach { fentry_attach_info { fn_name: "do_unlinkat" } }',
    "fexit": 'bytecode { file: "/tmp/p.o" } name: "fx_count" program_type: 26 '
             'attach { fexit_attach_info { fn_name: "do_unlinkat" } }',
    "image": 'bytecode { image { url: "quay.io/bpfd-bytecode/xdp_pass:latest" image_pull_policy: 1 '
             'username: "u" password: "p" } } name: "pass" program_type: 6 '
             'attach { xdp_attach_info { priority: 0 iface: "eth0" } }',
}
OTHERS = {
    "UnloadRequest": {"id": "id: 42"},
    "GetRequest": {"id": "id: 4294967295"},
    "ListRequest": {"all": "", "xdp-bpfd": "program_type: 6 bpfd_programs_only: true",
                    "metadata": 'match_metadata { key: "app" value: "web" } '
                                'match_metadata { key: "uuid" value: "x" }'},
    "PullBytecodeRequest": {"image": 'image { url: "localhost:5000/prog:v1" image_pull_policy: 0 }'},
    "RemoveImagesRequest": {"refs": 'references: "localhost:5000/prog:v1" '
                                    'references: "quay.io/bpfd-bytecode/xdp_pass@sha256:' + "ab" * 32 + '"',
                            "prune": "prune: true"},
    "ReloadRequest": {"empty": ""},
    "ListImagesRequest": {"empty": ""},
}
TARGET = {"UnloadRequest": "unload", "GetRequest": "get", "ListRequest": "list",
          "PullBytecodeRequest": "pull_bytecode", "RemoveImagesRequest": "remove_images",
          "ReloadRequest": "reload", "ListImagesRequest": "list_images"}


def requests():
    out = {}
    for k, t in LOADS.items():
        out[("Load", k)] = encode("LoadRequest", t)
        put("fuzz_load_request", k, out[("Load", k)])
    for msg, seeds in OTHERS.items():
        target = "fuzz_" + TARGET[msg] + "_request"
        for k, t in seeds.items():
            out[(msg[:-7], k)] = encode(msg, t)
            put(target, k, out[(msg[:-7], k)])
    return out


def h2(reqs):
    try:
        import h2.config, h2.connection
    except ImportError:
        print("mkseeds: no python3-h2: HTTP/2 seeds not made", file=sys.stderr)
        return

    def session(calls, extra=None):
        c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        c.initiate_connection()
        sid = 1
        for method, body in calls:
            hd = [(":method", "POST"), (":scheme", "http"), (":authority", "localhost"),
                  (":path", "/bpfd.v1.Bpfd/" + method), ("content-type", "application/grpc"),
                  ("te", "trailers"), ("grpc-timeout", "100m"), ("user-agent", "grpc-c/1.51")]
            c.send_headers(sid, hd)
            frame = b"\0" + struct.pack(">I", len(body)) + body
            # the message in two DATA frames, as a client with small frames sends it
            c.send_data(sid, frame[:len(frame) // 2])
            c.send_data(sid, frame[len(frame) // 2:], end_stream=True)
            sid += 2
        if extra:
            extra(c)
        return c.data_to_send()[24:]	# the target sends the preface itself

    ping = struct.pack(">I", 8)[1:] + b"\x06\0\0\0\0\0" + b"87654321"	# 17 bytes
    for (method, k), body in reqs.items():
        data = session([(method, body)])
        # the target's caller is uid 1001 (under [[policy]]) for odd sizes, root for even
        for d in (data, data + ping):
            put("fuzz_h2_server", "%s-%s-%s" % (method.lower(), k, "uid1001" if len(d) & 1
                                                else "root"), d)
    put("fuzz_h2_server", "list-get-ping",
        session([("List", reqs[("List", "all")]), ("Get", reqs[("Get", "id")])],
                lambda c: c.ping(b"12345678")))
    put("fuzz_h2_server", "unknown-method", session([("Nope", b"")]))

    def reset(c):
        c.reset_stream(1)
        c.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 4})
        c.close_connection()
    put("fuzz_h2_server", "load-reset-goaway", session([("Load", reqs[("Load", "xdp")])], reset))


def tars():
    def layer(fmt, compress):
        bio = io.BytesIO()
        with tarfile.open(fileobj=bio, mode="w", format=fmt) as t:
            def add(name, data=None, kind=tarfile.REGTYPE, link=""):
                i = tarfile.TarInfo(name)
                i.type, i.mode, i.mtime, i.linkname = kind, 0o644, 1700000000, link
                if kind == tarfile.DIRTYPE:
                    i.mode = 0o755
                i.size = len(data) if data else 0
                t.addfile(i, io.BytesIO(data) if data else None)
            add("./", kind=tarfile.DIRTYPE)
            add("./bpf", kind=tarfile.DIRTYPE)
            obj = os.path.join(B, "bpf", "xdp_pass.bpf.o")
            add("./bpf/xdp_pass.bpf.o", open(obj, "rb").read() if os.path.exists(obj) else b"\177ELF")
            add("./bpf/" + "d" * 80 + "/" + "n" * 90 + ".o", b"long name")
            add("./bpf/.wh.old.o")
            add("./link", kind=tarfile.SYMTYPE, link="bpf/xdp_pass.bpf.o")
        data = bio.getvalue()
        return gzip.compress(data, mtime=0) if compress else data
    put("fuzz_tar", "ustar.tar", layer(tarfile.USTAR_FORMAT, False))
    put("fuzz_tar", "gnu.tgz", layer(tarfile.GNU_FORMAT, True))
    put("fuzz_tar", "pax.tar", layer(tarfile.PAX_FORMAT, False))
    put("fuzz_tar", "pax.tgz", layer(tarfile.PAX_FORMAT, True))


def elves():
    # the objects whose function fuzz_elf knows (it looks for these names)
    for d in (os.path.join(B, "bpf"), os.path.join(B, "tests", "bpf")):
        if not os.path.isdir(d):
            print("mkseeds: no %s (make first): ELF seeds not made" % d, file=sys.stderr)
            continue
        for n in sorted(os.listdir(d)):
            if n.endswith(".bpf.o") and not n.startswith("probe"):
                put("fuzz_elf", n[:-len(".bpf.o")] + ".elf", open(os.path.join(d, n), "rb").read())
    # patch lists: (offset, byte) pairs on the embedded dispatcher
    put("fuzz_elf", "patch-header", struct.pack("<IB", 0x10, 0) + struct.pack("<IB", 0x28, 0xff))


def configs():
    text = open("dist/bpfd.toml", "rb").read()
    for t in ("fuzz_config", "fuzz_toml"):
        put(t, "bpfd.toml", text)
    # fuzz_policy: 16 bytes that pick callers and targets, then the configuration
    put("fuzz_policy", "bpfd.toml", bytes(range(0x21, 0x31)) + text)


def image_index():
    # the image store's index.json as image/store.c writes it
    d = "sha256:" + "ab" * 32
    e = '{"reference":"%s","digest":"%s","size":%d,"last_used":%d}'
    put("fuzz_image_index", "two", ('{"version":1,"images":[%s,%s]}' % (
        e % ("docker.io/library/xdp:v1", d, 4096, 1700000000),
        e % ("quay.io/bpfd-bytecode/go-xdp-counter@" + "sha256:" + "cd" * 32,
             "sha256:" + "cd" * 32, 123, 1700000500))).encode())
    put("fuzz_image_index", "empty", b'{"version":1,"images":[]}')


def chain():
    # first byte: 0 xdp config, 1 tc config, 2/3 proceed-on, 4 run order
    xdp = bytes([0, 2, 3, 0]) + struct.pack("<10I", *(1 << 2, 1 << 2, 0, 0, 0, 0, 0, 0, 0, 0))
    xdp += struct.pack("<10I", *(10, 50, 0, 0, 0, 0, 0, 0, 0, 0))
    put("fuzz_chain", "xdp-conf", bytes([0]) + xdp)
    put("fuzz_chain", "tc-conf", bytes([1, 2, 0, 0, 0]) + struct.pack("<20I", *([1] * 20)))
    put("fuzz_chain", "xdp-proceed", bytes([2]) + struct.pack("<3i", 2, 31, 1))
    put("fuzz_chain", "tc-proceed", bytes([3]) + struct.pack("<3i", 0, 3, -1))
    put("fuzz_chain", "order", bytes([4]) + b"".join(struct.pack("<iBBxx", p, i, n)
                                                     for p, i, n in ((50, 1, 0), (10, 2, 1), (50, 3, 2))))


def netlink():
    # real replies of this kernel: an error with the extended ack message; lo and an ack
    try:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        s.setsockopt(270, 11, 1)	# SOL_NETLINK, NETLINK_EXT_ACK
        s.bind((0, 0))
    except OSError as e:
        print("mkseeds: netlink: %s" % e, file=sys.stderr)
        return

    def talk(name, mtype, flags, payload, seq):
        hdr = struct.pack("=IHHII", 16 + len(payload), mtype, flags, seq, 0)
        s.send(hdr + payload)
        data = b""
        s.settimeout(1)
        try:
            while True:
                chunk = s.recv(65536)
                data += chunk
                last = struct.unpack_from("=IH", chunk, 0)
                # stop at an error/ack or the end of a dump
                if any(struct.unpack_from("=H", chunk, o)[0] in (2, 3) for o in [0]) or \
                        not flags & 0x300:
                    break
        except socket.timeout:
            pass
        put("fuzz_netlink", name, struct.pack("=I", seq) + data)
    RTM_GETLINK, RTM_NEWQDISC = 18, 36
    ifinfo = struct.pack("=BxHiII", 0, 0, 1, 0, 0)	# lo
    talk("getlink-lo", RTM_GETLINK, 0x1 | 0x4, ifinfo, 1001)
    tcmsg = struct.pack("=BxxxiIII", 0, 999999, 0xffff0000, 0xfffffff1, 0)
    kind = b"clsact\0"
    attr = struct.pack("=HH", 4 + len(kind), 1) + kind + b"\0" * ((4 - len(kind) % 4) % 4)
    talk("newqdisc-noif", RTM_NEWQDISC, 0x1 | 0x4 | 0x400 | 0x200, tcmsg + attr, 1002)


def record():
    # a record file as the daemon writes it: load a tracepoint program, copy the record
    bpfd = os.path.abspath(os.path.join(B, "bpfd"))
    prog = os.path.abspath(os.path.join(B, "tests", "bpf", "prog_counter.bpf.o"))
    if os.geteuid() or not os.path.exists(bpfd) or not os.path.exists(prog):
        print("mkseeds: record seeds need root and %s, %s" % (bpfd, prog), file=sys.stderr)
        return
    run = tempfile.mkdtemp(prefix="bpfd-seed.")
    d = subprocess.Popen([bpfd, "--rundir", run], stderr=subprocess.DEVNULL)
    try:
        sock = os.path.join(run, "bpfd.sock")
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        env = dict(os.environ, BPFD_ENDPOINT="unix://" + sock)
        for args in (["-m", "app=seed", "tracepoint", "-t", "syscalls/sys_enter_getpid"],
                     ["tracepoint", "-t", "sched/sched_process_exit"]):
            subprocess.run([bpfd, "bpfctl", "load-from-file", "-p", prog, "-n", "tp_count"] + args,
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pdir = os.path.join(run, "programs")
        for i, n in enumerate(sorted(os.listdir(pdir)) if os.path.isdir(pdir) else []):
            put("fuzz_record", "tracepoint-%d" % i, open(os.path.join(pdir, n), "rb").read())
        for n in sorted(os.listdir(pdir)) if os.path.isdir(pdir) else []:
            subprocess.run([bpfd, "bpfctl", "unload", n], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    finally:
        d.terminate()
        d.wait()
        subprocess.run(["umount", os.path.join(run, "fs")], stderr=subprocess.DEVNULL)
        shutil.rmtree(run, ignore_errors=True)


clear()
r = requests()
h2(r)
tars()
elves()
configs()
image_index()
chain()
netlink()
record()
for t in sorted(os.listdir(C)):
    print("%-28s %d seeds" % (t, len(os.listdir(os.path.join(C, t)))))
