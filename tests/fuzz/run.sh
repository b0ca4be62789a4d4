#!/bin/sh
# run.sh - run every libFuzzer target built in $BPFD_BUILD/fuzz for $FUZZ_SECONDS each,
# with a corpus under $BPFD_BUILD/fuzz-corpus/<target> (kept between runs).
# Prints PASS/FAIL per target and "fuzz: N passed, N failed".
set -u
B=${BPFD_BUILD:-build}
secs=${FUZZ_SECONDS:-15}
P=0 F=0
mkdir -p "$B/fuzz-logs"
seed_h2() {
	# a List and a Get over HTTP/2, made by python3-h2 when it is there
	/usr/bin/python3 - "$1" <<'PY' 2>/dev/null || true
import sys, h2.connection, h2.config
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
c.initiate_connection()
hd = [(":method", "POST"), (":scheme", "http"), (":authority", "x"),
      (":path", "/bpfd.v1.Bpfd/List"), ("content-type", "application/grpc"), ("te", "trailers"),
      ("grpc-timeout", "100m")]
c.send_headers(1, hd)
c.send_data(1, b"\0\0\0\0\2\x10\1", end_stream=True)
hd[3] = (":path", "/bpfd.v1.Bpfd/Get")
c.send_headers(3, hd)
c.send_data(3, b"\0\0\0\0\2\x08\2", end_stream=True)
c.ping(b"12345678")
open(sys.argv[1] + "/seed-list-get", "wb").write(c.data_to_send()[24:])
PY
}
seed_tar() {
	# a plain, a gzip and a pax layer made by tar(1)
	d=$(mktemp -d) || return
	mkdir -p "$d/src/bpf" && printf '\177ELF' >"$d/src/bpf/xdp.o" && printf a >"$d/src/a" &&
		tar -C "$d/src" -cf "$1/seed.tar" . && tar -C "$d/src" -czf "$1/seed.tgz" . &&
		tar -C "$d/src" --format=pax -cf "$1/seed-pax.tar" .
	rm -rf "$d"
}
found=0
for f in "$B"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	found=1
	name=$(basename "$f")
	corpus="$B/fuzz-corpus/$name"
	mkdir -p "$corpus"
	seeds="$(dirname "$0")/seeds/$name"	# committed seed inputs
	fresh=
	[ -z "$(ls "$corpus")" ] && fresh=1
	[ -n "$fresh" ] && [ -d "$seeds" ] && cp "$seeds"/* "$corpus"/
	[ "$name" = fuzz_h2_server ] && [ -n "$fresh" ] && seed_h2 "$corpus"
	[ "$name" = fuzz_tar ] && [ -z "$(ls "$corpus")" ] && seed_tar "$corpus"
	case $name in fuzz_config|fuzz_toml)	# the example configuration
		[ -e "$corpus/seed-bpfd.toml" ] ||
			cp "$(dirname "$0")/../../dist/bpfd.toml" "$corpus/seed-bpfd.toml" ;;
	esac
	log="$B/fuzz-logs/$name.log"
	if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$B/fuzz-logs/$name-" "$corpus" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		echo "PASS: $name (${execs:-?} runs in ${secs}s)"
		P=$((P + 1))
	else
		echo "FAIL: $name (log: $log)"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5 | sed 's/^/  /'
		F=$((F + 1))
	fi
done
[ $found = 1 ] || echo "no fuzz targets in $B/fuzz (make fuzz)"
echo "fuzz: $P passed, $F failed"
[ $F = 0 ]
