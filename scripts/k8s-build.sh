#!/bin/sh
# k8s-build.sh - build kube-apiserver, kube-controller-manager and kubectl from Debian's
# `kubernetes` source package for the bpfd-agent test bed (tests/k8s/testbed.sh), once.
#
# The binaries land in $BPFD_K8S_CACHE/<source version>/bin (default /var/cache/bpfd-k8s)
# and are reused by every later run; a new Debian source version builds into a new folder.
# A cold build takes about 7 minutes on 2 cores (docs: ../../shared notes kubernetes.md):
#   - Kubernetes 1.20 vendors github.com/modern-go/reflect2 1.0.1, which crashes on Go >= 1.18
#     (map iterator layout); it is replaced by Debian's golang-github-modern-go-reflect2-dev.
#   - 1.20 builds in GOPATH mode through its own `make`, which needs rsync.
# Usage: scripts/k8s-build.sh [--print-dir]   (--print-dir: print the cache folder, build nothing)
set -eu

CACHE=${BPFD_K8S_CACHE:-/var/cache/bpfd-k8s}

src_version() {
	apt-cache showsrc kubernetes 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n 1
}

ver=$(src_version)
if [ -z "$ver" ]; then
	echo "k8s-build: apt-cache knows no source package 'kubernetes': add deb-src entries" \
		"(scripts/deps.sh does) and run apt-get update" >&2
	exit 1
fi
out=$CACHE/$ver
if [ "${1:-}" = --print-dir ]; then
	echo "$out"
	exit 0
fi
BINS="kube-apiserver kube-controller-manager kubectl"
have_all() {
	for b in $BINS; do
		[ -x "$out/bin/$b" ] || return 1
	done
}
if have_all; then
	echo "k8s-build: cached in $out/bin"
	exit 0
fi
if [ "$(id -u)" != 0 ] && ! mkdir -p "$CACHE" 2>/dev/null; then
	echo "k8s-build: cannot create $CACHE: run as root or set BPFD_K8S_CACHE" >&2
	exit 1
fi
for t in go rsync make tar; do
	command -v $t >/dev/null 2>&1 || {
		echo "k8s-build: '$t' is missing: run scripts/deps.sh" >&2
		exit 1
	}
done
R2=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -d "$R2" ] || {
	echo "k8s-build: $R2 missing: apt-get install golang-github-modern-go-reflect2-dev" >&2
	exit 1
}

mkdir -p "$CACHE"
# One builder at a time; a second caller waits and then finds the cache filled.
exec 9>"$CACHE/.lock"
flock 9
if have_all; then
	echo "k8s-build: cached in $out/bin"
	exit 0
fi

work=$CACHE/build-$ver
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
echo "k8s-build: building Kubernetes $ver (about 7 minutes on 2 cores) in $work"
(cd "$work" && apt-get source --download-only kubernetes >/dev/null)
orig=$(ls "$work"/kubernetes_*.orig.tar.* | head -n 1)
tar -C "$work" -xf "$orig"
tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
[ -f "$tree/cmd/kube-apiserver/apiserver.go" ] || {
	echo "k8s-build: $orig holds no kube-apiserver source" >&2
	exit 1
}
rm -rf "$tree/vendor/github.com/modern-go/reflect2"
cp -r "$R2" "$tree/vendor/github.com/modern-go/reflect2"
mkdir -p "$tree/.home" "$tree/.go"
(
	cd "$tree"
	export GOPATH="$tree/.go" CGO_ENABLED=0 HOME="$tree/.home" GOFLAGS= GOCACHE="$tree/.gocache"
	make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kubectl" \
		>"$work/build.log" 2>&1
) || {
	tail -n 30 "$work/build.log" >&2
	echo "k8s-build: make failed (log above)" >&2
	exit 1
}
mkdir -p "$out.tmp/bin"
for b in $BINS; do
	f=$(find "$tree/_output" -type f -name "$b" -perm -u+x | head -n 1)
	[ -n "$f" ] || {
		echo "k8s-build: $b was not built" >&2
		exit 1
	}
	cp "$f" "$out.tmp/bin/$b"
done
rm -rf "$out"
mv "$out.tmp" "$out"
echo "k8s-build: built in $(($(date +%s) - start)) s, cached in $out/bin"
