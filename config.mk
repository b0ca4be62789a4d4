# config.mk - committed build knobs; personal overrides go in local.mk (ignored by git).
VERSION    ?= 0.1.0
CC         := gcc
CLANG      ?= clang
LLVM_STRIP ?= llvm-strip
CFLAGS     ?= -O2 -g
# Added after CFLAGS for the code off the daemon's serving path (Makefile COLD_DIRS):
# about 35 KB less binary; empty for CFLAGS everywhere.
COLD_CFLAGS ?= -Os
STATIC     ?= 1
WERROR     ?= 0
SAN        ?= 0
PREFIX     ?= /usr/local
# `make install`: bpfd and its applet links in $(PREFIX)/sbin; the systemd unit in
# SYSTEMDUNITDIR (/usr/local/lib/systemd/system is on systemd's unit path for units an
# administrator installs; /etc/systemd/system stays for their overrides); the init
# script INIT (sysv: dist/bpfd.init, openrc: dist/bpfd.openrc, none) as
# $(SYSCONFDIR)/init.d/bpfd; the example bpfd.toml and both init scripts in DOCDIR.
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR     ?= $(PREFIX)/share/doc/bpfd
INIT       ?= sysv
PKG_CONFIG ?= pkg-config
# Where the VM test bed caches Debian's kernel package (tests/vm/vm.sh).
VM_CACHE   ?= /var/cache/bpfd-vm
# Seconds each libFuzzer target runs in `make check` (27 targets: about 5 minutes; `make fuzz`
# runs each for FUZZ_TIME).
FUZZ_SECONDS ?= 10
FUZZ_TIME  ?= 600
# SANITIZE=1 (or SAN=1): ASan+UBSan, dynamically linked, into build-san unless O is given.
SANITIZE   ?= 0
# nanopb options: the runtime (vendor/nanopb) and the generated code must agree.
# 32-bit field sizes because a ProgramInfo is larger than 64 KiB; strings are
# validated as UTF-8, as proto3 requires.
NANOPB_DEFS := -DPB_FIELD_32BIT=1 -DPB_VALIDATE_UTF8=1
# Order matters for static archives: http_parser (HTTP/1.1: registry, metrics, agent), yaml (kubeconfig), nghttp2, mbedtls (tls, x509, crypto), libbpf, libelf, zlib.
LIBS       := -lhttp_parser -lyaml -lnghttp2 -lmbedtls -lmbedx509 -lmbedcrypto -lbpf -lelf -lz
