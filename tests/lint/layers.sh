#!/bin/sh
# layers.sh - the include rules of docs/ARCHITECTURE.md, checked on every source file:
# each folder of src/ may include only the layers below it (and itself), so that no
# include runs upward and no include circle can form between layers.  Prints one
# PASS/FAIL line per folder and the closing `N passed, N failed` line.
#
#   src/core/base     base                          (what src/bpf may use)
#   src/core/config   base config
#   src/core/wire     base config wire
#   src/core/image    base config image
#   src/core/k8s      base config wire k8s          (the agent's Kubernetes client)
#   src/bpf           base bpf                      (the only code that touches libbpf)
#   src/core/state    base config image bpf state  (bpfd.pb.h only in record.[ch])
#   src/core          everything in core, bpf       (rpc.c: the one protobuf converter; daemon.c)
#   src/applets       everything
cd "$(dirname "$0")/../.." || exit 1

pass=0 failed=0

# allowed DIR LAYERS...: every quoted include of the .c/.h files directly in DIR names
# a header of one of LAYERS (a project path such as core/base/log.h or bpf/hook.h), or a
# generated/vendored header that the folder is allowed (listed in LAYERS as a file name).
allowed() {
	dir=$1; shift
	bad=$(grep -Hn '^#include "' "$dir"/*.c "$dir"/*.h 2>/dev/null | while IFS= read -r line; do
		inc=${line#*#include \"}; inc=${inc%%\"*}
		case $inc in
		core/*/*) layer=${inc#core/}; layer=core/${layer%%/*} ;;
		core/*) layer=core ;;
		bpf/*) layer=bpf ;;
		gen/*) layer=gen ;;
		*/*) layer=${inc%%/*} ;;
		*) layer=$inc ;;
		esac
		ok=
		for l in "$@"; do [ "$l" = "$layer" ] && ok=1; done
		[ -n "$ok" ] || echo "    ${line%%:#include*}: includes $inc"
	done)
	if [ -z "$bad" ]; then
		echo "  PASS: $dir"
		pass=$((pass + 1))
	else
		echo "  FAIL: $dir includes outside its layers ($*):"
		echo "$bad"
		failed=$((failed + 1))
	fi
}

allowed src/core/base   core/base cJSON.h
allowed src/core/config core/base core/config
allowed src/core/wire   core/base core/config core/wire
allowed src/core/image  core/base core/config core/wire core/image
allowed src/core/k8s    core/base core/config core/wire core/k8s
allowed src/bpf         core/base bpf gen
allowed src/core/state  core/base core/config core/image core/state bpf bpfd_state.pb.h bpfd.pb.h
allowed src/core        core core/base core/config core/wire core/image core/k8s core/state bpf \
			bpfd.pb.h cJSON.h
# The wire format stops at rpc.c: bpfd.v1 messages (bpfd.pb.h) appear only in rpc.[ch],
# the record format (state/record.[ch]: a record embeds ProgramInfo) and the applets.
wire=$(grep -ln '#include "bpfd.pb.h"' $(find src -name '*.[ch]') |
	grep -v -e '^src/core/rpc\.[ch]$' -e '^src/core/state/record\.[ch]$' -e '^src/applets/')
if [ -z "$wire" ]; then
	echo "  PASS: bpfd.pb.h only in rpc, the record format and the applets"
	pass=$((pass + 1))
else
	echo "  FAIL: the wire format leaks past rpc.c:" $wire
	failed=$((failed + 1))
fi
echo "layers: $pass passed, $failed failed"
[ "$failed" = 0 ]
