#!/bin/sh
# deps.sh - install every Debian package the build, the tests, the VM and the benchmarks
# need (non-interactive, idempotent). With --if-missing, do nothing when all are present.
# Also builds the Kubernetes test bed once (scripts/k8s-build.sh).
# (systemd: its systemd-analyze checks dist/bpfd.service; installing it does not change
# the init system, systemd-sysv would.  openrc: openrc-run runs dist/bpfd.openrc in
# t_config; it installs beside systemd and does not become the init either.)
set -eu
PKGS="make gcc clang llvm pkg-config dpkg-dev file binutils
libbpf-dev libelf-dev zlib1g-dev libnghttp2-dev libmbedtls-dev nanopb protobuf-compiler
libclang-rt-14-dev
bpftool xdp-tools iproute2 iputils-ping procps psmisc kmod util-linux
qemu-system-x86 busybox-static cpio xz-utils
python3 python3-grpcio python3-protobuf protobuf-compiler-grpc python3-h2 python3-yaml
nghttp2-client curl openssl ca-certificates jq buildah
systemd openrc
libhttp-parser-dev docker-registry prometheus skopeo apache2-utils python3-cryptography
libyaml-dev golang-go rsync etcd-server etcd-client golang-github-modern-go-reflect2-dev
"
# node + npm for the grpc-js client test; keep a node that is already installed.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"

missing() {
	for p in $PKGS; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			echo "$p"
	done
}

need_src=0
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	need_src=1
fi

todo=$(missing)
if [ "${1:-}" = --if-missing ] && [ -z "$todo" ] && [ $need_src = 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: must run as root to install: $todo" >&2
	exit 1
fi
if [ $need_src = 1 ]; then
	# `apt-get source` (vendor/) needs source entries for the configured suites.
	cat >/etc/apt/sources.list.d/bpfd-deb-src.sources <<EOT
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
EOT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
todo=$(missing)
if [ -n "$todo" ]; then
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $todo >/dev/null
fi
echo "deps: all packages installed"
# The bpfd-agent test bed (tests/k8s/testbed.sh): kube-apiserver, kube-controller-manager
# and kubectl built once from Debian's kubernetes source package (about 7 minutes on two
# cores), cached in /var/cache/bpfd-k8s/<source version>/.  Not by --if-missing (make
# check): the agent tests skip, saying so, until `make deps` has built them.
"$(dirname "$0")/k8s-build.sh"
