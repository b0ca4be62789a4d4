# Makefile - the only one (non-recursive). Knobs: config.mk; overrides: local.mk.
# `make help` lists the targets.
include config.mk
-include local.mk

ifeq ($(V),1)
  Q :=
  msg :=
else
  Q := @
  msg = @printf '  %-7s %s\n' '$(1)' '$(2)';
  MAKEFLAGS += --no-print-directory
endif

# SANITIZE=1 is SAN=1: ASan+UBSan, dynamic, built apart in build-san unless O is given
ifeq ($(SANITIZE),1)
  override SAN := 1
endif
O       ?= $(if $(filter 1,$(SAN)),build-san,build)
BIN     := $(O)/bpfd
GEN     := $(O)/gen
VND     := $(O)/vendor

# Vendored sources, fetched from pinned Debian source packages (scripts/vendor.sh).
CJSON_SRCS  := $(VND)/cjson/cJSON.c
NANOPB_SRCS := $(VND)/nanopb/pb_common.c $(VND)/nanopb/pb_decode.c $(VND)/nanopb/pb_encode.c
VENDOR_SRCS := $(CJSON_SRCS) $(NANOPB_SRCS)
PROTOS      := $(wildcard proto/*.proto)
PB_SRCS     := $(PROTOS:proto/%.proto=$(GEN)/%.pb.c)
PB_HDRS     := $(PB_SRCS:.c=.h)

# BPF objects embedded in the binary, and BPF objects used by tests.
BPF_SRCS     := $(wildcard src/bpf/*.bpf.c)
BPF_OBJS     := $(BPF_SRCS:src/bpf/%.bpf.c=$(O)/bpf/%.bpf.o)
TESTBPF_SRCS := $(wildcard tests/bpf/*.bpf.c)
TESTBPF_OBJS := $(TESTBPF_SRCS:tests/bpf/%.bpf.c=$(O)/tests/bpf/%.bpf.o)

APPLET_SRCS := src/main.c $(wildcard src/applets/*.c src/applets/*/*.c)
LIB_SRCS    := $(wildcard src/core/*.c src/core/*/*.c) $(filter-out %.bpf.c,$(wildcard src/bpf/*.c))
OBJS        := $(APPLET_SRCS:%.c=$(O)/%.o) $(LIB_SRCS:%.c=$(O)/%.o) \
               $(VENDOR_SRCS:$(VND)/%.c=$(O)/vendor-obj/%.o) $(PB_SRCS:%.c=%.o) \
               $(GEN)/bpf_objs.o
LIB_OBJS    := $(filter-out $(APPLET_SRCS:%.c=$(O)/%.o),$(OBJS))
LIB         := $(O)/libbpfd.a

UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%)
TOOL_SRCS   := $(wildcard tests/tools/*.c)
TOOL_BINS   := $(TOOL_SRCS:tests/tools/%.c=$(O)/tests/tools/%)
# Test drivers run by integration scripts (not on their own): the k8s client against a
# real API server (tests/integration/t_k8s_client.sh).
DRIVER_BINS := $(O)/tests/k8s/k8s_live
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(FUZZ_SRCS:tests/fuzz/%.c=$(O)/fuzz/%)
INTEGRATION := $(sort $(wildcard tests/integration/t_*.sh))

# Size: every function and object of ours in its own section, and the linker drops the
# ones nothing references: 25 KB of the stripped binary (Debian's static libraries are
# built without per-function sections: only whole unreferenced sections of theirs go).
SECTIONS   := -ffunction-sections -fdata-sections
LDGC       := -Wl,--gc-sections
# No .eh_frame for our C (about 65 KB): nothing unwinds through it (no C++, no
# pthread_exit/pthread_cancel, no backtrace()); gdb unwinds with .debug_frame, which -g
# still emits in the unstripped binary.  Sanitizer builds keep them for their stack traces.
NOUNWIND   := $(if $(filter 1,$(SAN)),,-fno-asynchronous-unwind-tables -fno-unwind-tables)
# Code off the daemon's serving path (the applets: bpfctl and the agent; images,
# Kubernetes, configuration) is compiled with COLD_CFLAGS (config.mk: -Os) after CFLAGS.
COLD_DIRS  := src/applets src/core/image src/core/k8s src/core/config
$(foreach d,$(COLD_DIRS),$(O)/$(d)/%.o): ALL_CFLAGS += $(COLD_CFLAGS)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ALL_CPPFLAGS := -D_GNU_SOURCE -DBPFD_VERSION='"$(VERSION)"' $(NANOPB_DEFS) \
                -Isrc -I$(O) -I$(GEN) -I$(VND)/cjson -I$(VND)/nanopb
ALL_CFLAGS := -std=gnu11 -Wall -Wextra -Wshadow -Wno-missing-field-initializers $(SECTIONS) \
              $(NOUNWIND) $(if $(filter 1,$(WERROR)),-Werror) $(if $(filter 1,$(SAN)),$(SANFLAGS)) $(CFLAGS)
VENDOR_CFLAGS := -std=gnu11 -w $(SECTIONS) $(NOUNWIND) $(if $(filter 1,$(SAN)),$(SANFLAGS)) $(CFLAGS)
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -Isrc -Isrc/bpf -Wall
LDSTATIC   := $(if $(filter 1,$(STATIC)),$(if $(filter 1,$(SAN)),,-static))
# Objects are rebuilt when the flags change (SAN=1 in the same O, another CFLAGS).
FLAGS_STAMP := $(O)/.flags
FLAGS_NOW   := $(strip $(ALL_CFLAGS) $(VENDOR_CFLAGS) $(LDSTATIC) cold: $(COLD_CFLAGS))
ifneq ($(FLAGS_NOW),$(strip $(shell cat $(FLAGS_STAMP) 2>/dev/null)))
  $(shell mkdir -p $(O) && echo '$(FLAGS_NOW)' >$(FLAGS_STAMP))
endif

.PHONY: all deps check check-unit check-integration check-host check-vm check-fuzz fuzz fuzz-build \
        fuzz-merge bench demo stress \
        install clean help proto vendor size
.DELETE_ON_ERROR:
# nothing is an intermediate file to delete: generated sources and the fuzz objects stay
.SECONDARY:

all: $(BIN) $(TESTBPF_OBJS)

$(BIN): $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDSTATIC) $(LDGC) -o $@ $^ $(LIBS) $(LDFLAGS)
	$(Q)strip -o $@.stripped $@ && printf '  %-7s %s: %s bytes (stripped: %s)\n' SIZE $@ \
		"$$(stat -c %s $@)" "$$(stat -c %s $@.stripped)"

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/%.o: %.c $(O)/config.h $(PB_HDRS) $(VND)/.stamp config.mk $(FLAGS_STAMP)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/vendor-obj/%.o: $(VND)/%.c $(VND)/.stamp config.mk $(FLAGS_STAMP)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(VENDOR_CFLAGS) -c -o $@ $<

$(GEN)/%.pb.o: $(GEN)/%.pb.c $(PB_HDRS) $(VND)/.stamp $(FLAGS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(VENDOR_CFLAGS) -c -o $@ $<

# Vendored third-party code: fetched and checksum-verified, never committed.
$(VND)/.stamp: vendor/cjson/UPSTREAM vendor/nanopb/UPSTREAM scripts/vendor.sh
	$(call msg,VENDOR,cjson nanopb)
	$(Q)scripts/vendor.sh vendor/cjson $(VND)/cjson
	$(Q)scripts/vendor.sh vendor/nanopb $(VND)/nanopb
	$(Q)touch $@
$(VENDOR_SRCS): $(VND)/.stamp
vendor: $(VND)/.stamp

# nanopb code generated at build time from proto/NAME.proto (+ proto/NAME.options).
$(GEN)/%.pb.c $(GEN)/%.pb.h: proto/%.proto proto/%.options
	$(call msg,PROTO,$<)
	@mkdir -p $(GEN)
	$(Q)protoc --plugin=protoc-gen-nanopb=/usr/bin/protoc-gen-nanopb -Iproto \
		--nanopb_out=-fproto/$*.options:$(GEN) $<
proto: $(PB_SRCS)

# Library feature probes (build/config.h).
$(O)/config.h: scripts/probe-libs.sh config.mk
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)CC='$(CC)' V='$(V)' sh scripts/probe-libs.sh >$@.tmp && mv $@.tmp $@

# BPF objects: compiled with clang, embedded with .incbin (the daemon never reads .o files).
# The embedded ones lose their DWARF (llvm-strip -g: half of each object); .BTF and .BTF.ext,
# which the kernel and libbpf use (CO-RE, func and line info in verifier logs), stay.
# The XDP dispatcher runs per packet: 32-bit ALU and jumps (every kernel with freplace
# has them) shorten each slot's proceed-on test.
$(O)/bpf/xdp_dispatcher.bpf.o $(O)/bpf/xdp_dispatcher_default.bpf.o: BPF_CFLAGS += -mcpu=v3
$(O)/bpf/xdp_dispatcher_default.bpf.o: src/bpf/xdp_dispatcher.bpf.c
$(O)/bpf/%.bpf.o: src/bpf/%.bpf.c $(wildcard src/bpf/*.h) config.mk
	$(call msg,BPF,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c -o $@ $< && $(LLVM_STRIP) -g $@
# The dispatch bench's floor programs are built as the XDP dispatcher is; the scripted
# dispatchers are the real ones (they include them) and are built as they are.
$(O)/tests/bpf/chain_floor_%.bpf.o $(O)/tests/bpf/chain_xdp_disp_test.bpf.o \
$(O)/tests/bpf/chain_xdp_default_disp_test.bpf.o: BPF_CFLAGS += -mcpu=v3
$(O)/tests/bpf/chain_xdp_disp_test.bpf.o $(O)/tests/bpf/chain_xdp_default_disp_test.bpf.o: \
		src/bpf/xdp_dispatcher.bpf.c
$(O)/tests/bpf/chain_tc_disp_test.bpf.o: src/bpf/tc_dispatcher.bpf.c
$(O)/tests/bpf/%.bpf.o: tests/bpf/%.bpf.c $(wildcard src/bpf/*.h tests/bpf/*.h)
	$(call msg,BPF,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c -o $@ $<
$(GEN)/bpf_objs.S $(GEN)/bpf_objs.inc &: $(BPF_OBJS) scripts/embed.sh
	$(call msg,EMBED,$(notdir $(BPF_OBJS)))
	@mkdir -p $(GEN)
	$(Q)sh scripts/embed.sh $(GEN)/bpf_objs $(BPF_OBJS)
$(GEN)/bpf_objs.o: $(GEN)/bpf_objs.S
	$(call msg,AS,$@)
	$(Q)$(CC) -c -o $@ $<
$(O)/src/bpf/embed.o: $(GEN)/bpf_objs.inc

# Unit tests link everything but main and the applets, dynamically.
$(O)/tests/unit/%: tests/unit/%.c tests/harness.h $(wildcard tests/unit/*.h) $(LIB)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) -Itests $(ALL_CFLAGS) -o $@ $< $(LIB) $(LIBS) $(LDFLAGS)

# Test tools (tests/tools/*.c): helpers the integration tests and benchmarks run.
$(O)/tests/tools/%: tests/tools/%.c $(wildcard tests/unit/*.h) $(LIB)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) -Itests $(ALL_CFLAGS) -o $@ $< $(LIB) $(LIBS) $(LDFLAGS)
$(O)/tests/k8s/%: tests/k8s/%.c tests/harness.h $(LIB)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) -Itests $(ALL_CFLAGS) -o $@ $< $(LIB) $(LIBS) $(LDFLAGS)

# Fuzz targets: clang, libFuzzer, ASan+UBSan; the library is rebuilt with the same flags.
# FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (libFuzzer's convention) lets checksums pass.
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
               -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_LIB_OBJS := $(patsubst $(O)/%,$(O)/fuzz-obj/%,$(filter-out $(GEN)/bpf_objs.o,$(LIB_OBJS))) $(GEN)/bpf_objs.o
$(O)/fuzz-obj/vendor-obj/%.o: $(VND)/%.c $(VND)/.stamp
	$(call msg,FUZZCC,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(ALL_CPPFLAGS) -std=gnu11 -w $(FUZZ_CFLAGS) -c -o $@ $<
$(O)/fuzz-obj/gen/%.o: $(GEN)/%.c
	$(call msg,FUZZCC,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(ALL_CPPFLAGS) -std=gnu11 -w $(FUZZ_CFLAGS) -c -o $@ $<
$(O)/fuzz-obj/%.o: %.c $(O)/config.h $(PB_HDRS) $(VND)/.stamp
	$(call msg,FUZZCC,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(ALL_CPPFLAGS) -std=gnu11 -Wall -Wno-missing-field-initializers $(FUZZ_CFLAGS) -c -o $@ $<
$(O)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(FUZZ_LIB_OBJS)
	$(call msg,FUZZLD,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(ALL_CPPFLAGS) -Itests -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(FUZZ_LIB_OBJS) $(LIBS)
fuzz-build: $(FUZZ_BINS)
# Each target FUZZ_TIME seconds (FUZZ_TARGETS='fuzz_a fuzz_b' for some) after replaying
# its crash inputs; findings: $(O)/fuzz-corpus, $(O)/fuzz-crashes (tests/fuzz/run.sh).
fuzz: $(FUZZ_BINS)
	@$(TEST_ENV) FUZZ_SECONDS=$(FUZZ_TIME) tests/fuzz/run.sh
# Minimise what fuzzing found into the committed seed corpus (only inputs that add
# coverage are copied): review and commit tests/fuzz/corpus/ afterwards.
fuzz-merge: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
		t=$$(basename $$f); [ -d $(O)/fuzz-corpus/$$t ] || continue; \
		mkdir -p tests/fuzz/corpus/$$t; \
		$$f -merge=1 -timeout=10 -rss_limit_mb=2048 tests/fuzz/corpus/$$t $(O)/fuzz-corpus/$$t \
			2>$(O)/fuzz-logs/$$t-merge.log | tail -n 0; \
		echo "  MERGE   $$t: $$(ls tests/fuzz/corpus/$$t | wc -l) seeds"; \
	done

# Tests. Every item prints PASS/FAIL/SKIP lines and a closing `N passed, N failed` line;
# tests/run.sh adds them up and prints the total last.
TEST_ENV := BPFD=$(abspath $(BIN)) BPFD_TESTBPF=$(abspath $(O)/tests/bpf) BPFD_BUILD=$(abspath $(O)) \
            VM_CACHE=$(VM_CACHE) FUZZ_SECONDS=$(FUZZ_SECONDS)
# SAN=1: every process of the tests writes its sanitizer reports to $(O)/san-reports
# (stderr stays what the tests read); tests/sanitize/reports.sh, run last, fails on any.
# Suppressions: tests/sanitize/*.supp, each entry with its reason.
SAN_REPORTS := $(abspath $(O))/san-reports
ifeq ($(SAN),1)
TEST_ENV += BPFD_SANITIZE=1 SAN_REPORTS=$(SAN_REPORTS) \
	ASAN_OPTIONS=log_path=$(SAN_REPORTS)/asan:halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1 \
	LSAN_OPTIONS=suppressions=$(abspath tests/sanitize/lsan.supp):print_suppressions=0 \
	UBSAN_OPTIONS=log_path=$(SAN_REPORTS)/ubsan:halt_on_error=1:print_stacktrace=1:suppressions=$(abspath tests/sanitize/ubsan.supp)
endif
SAN_FIRST   := $(if $(filter 1,$(SAN)),rm -rf $(SAN_REPORTS) && mkdir -p $(SAN_REPORTS) &&)
SAN_LAST    := $(if $(filter 1,$(SAN)),tests/sanitize/reports.sh)
# The emulated VM (one core) runs beside the host's suites; with SAN=1 it runs in turn, so
# that reports.sh, last, sees its reports.
VM_ITEM     := $(if $(filter 1,$(SAN)),,@)tests/vm/run-integration.sh
CHECK_ITEMS = $(VM_ITEM) tests/lint/layers.sh tests/lint/size.sh $(UNIT_BINS) $(INTEGRATION) \
              tests/vm/run-minimal.sh $(if $(FUZZ_BINS),tests/fuzz/run.sh) $(SAN_LAST)
check: deps-ok all $(UNIT_BINS) $(TOOL_BINS) $(DRIVER_BINS) $(FUZZ_BINS)
	@$(SAN_FIRST) $(TEST_ENV) tests/run.sh $(CHECK_ITEMS)
check-unit: $(UNIT_BINS)
	@$(SAN_FIRST) $(TEST_ENV) tests/run.sh $(UNIT_BINS) $(SAN_LAST)
check-integration: all $(UNIT_BINS) $(TOOL_BINS) $(DRIVER_BINS)
	@$(SAN_FIRST) $(TEST_ENV) tests/run.sh $(INTEGRATION) $(SAN_LAST)
check-host: all $(UNIT_BINS) $(TOOL_BINS) $(DRIVER_BINS)
	@$(SAN_FIRST) $(TEST_ENV) tests/run.sh tests/lint/layers.sh tests/lint/size.sh $(UNIT_BINS) $(INTEGRATION) $(SAN_LAST)
check-vm: all $(UNIT_BINS) $(TOOL_BINS)
	@$(SAN_FIRST) $(TEST_ENV) tests/run.sh tests/vm/run-integration.sh tests/vm/run-minimal.sh $(SAN_LAST)
check-fuzz: $(FUZZ_BINS)
	@$(TEST_ENV) tests/run.sh tests/fuzz/run.sh

# The crash and load tests at full size (make check runs them reduced): 500 operations
# with random SIGKILLs, 16 clients x 200 operations; on the host, then in the VM (chains).
STRESS_ENV := BPFD_CRASH_OPS=500 BPFD_LOAD_OPS=200
stress: all
	@$(TEST_ENV) $(STRESS_ENV) TEST_TIMEOUT=7200 tests/run.sh tests/integration/t_crash.sh \
		tests/integration/t_load.sh
	@$(TEST_ENV) TEST_TIMEOUT=7200 tests/vm/vm.sh run --timeout 7200 --env BPFD_CRASH_OPS=500 \
		--env BPFD_LOAD_OPS=200 -- tests/run.sh -l vm tests/integration/t_crash.sh \
		tests/integration/t_load.sh

# `make check` on a fresh machine installs what is missing first (same as `make deps`).
.PHONY: deps-ok
deps-ok:
	@scripts/deps.sh --if-missing

deps:
	@scripts/deps.sh

bench: all $(TOOL_BINS)
	@$(TEST_ENV) tests/bench/run.sh

demo: all
	@$(TEST_ENV) scripts/demo.sh

# The files under dist/ name /usr/local/sbin/bpfd: they get the binary's real place.
INSTALL_SED := sed 's|/usr/local/sbin/bpfd|$(PREFIX)/sbin/bpfd|g'
INIT_SCRIPT := $(if $(filter sysv,$(INIT)),dist/bpfd.init,$(if $(filter openrc,$(INIT)),dist/bpfd.openrc))

install: $(BIN)
	$(if $(filter sysv openrc none,$(INIT)),,$(error INIT=$(INIT): use sysv, openrc or none))
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/bpfd
	# relative links: they stay right when DESTDIR is a staging directory
	for a in $$($(BIN) --list); do \
		[ "$$a" = bpfd ] || ln -sfn bpfd $(DESTDIR)$(PREFIX)/sbin/$$a || exit 1; \
	done
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DOCDIR)
	$(INSTALL_SED) dist/bpfd.service >$(DESTDIR)$(SYSTEMDUNITDIR)/bpfd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/bpfd.service
	install -m 0644 dist/bpfd.toml $(DESTDIR)$(DOCDIR)/bpfd.toml
	for f in bpfd.init bpfd.openrc; do \
		$(INSTALL_SED) dist/$$f >$(DESTDIR)$(DOCDIR)/$$f && chmod 0755 $(DESTDIR)$(DOCDIR)/$$f || exit 1; \
	done
ifneq ($(INIT_SCRIPT),)
	install -d $(DESTDIR)$(SYSCONFDIR)/init.d
	$(INSTALL_SED) $(INIT_SCRIPT) >$(DESTDIR)$(SYSCONFDIR)/init.d/bpfd
	chmod 0755 $(DESTDIR)$(SYSCONFDIR)/init.d/bpfd
endif

size: $(BIN)
	@size $(BIN); ls -l $(BIN) $(BIN).stripped

clean:
	rm -rf $(O)

help:
	@echo 'Targets:'
	@echo '  all (default)  build $(BIN), statically linked, and the test BPF objects'
	@echo '  deps           install every Debian package the build, tests, VM and benchmarks need'
	@echo '  check          unit + host integration + VM (full and minimal) + fuzz tests'
	@echo '  check-unit, check-integration, check-vm, check-fuzz   one part of check; check-host = lint+unit+integration'
	@echo '  check SANITIZE=1   build with ASan+UBSan (dynamic, into build-san) and run every suite that'
	@echo '                 can run so; any sanitizer report fails it (tests/sanitize/reports.sh)'
	@echo '  bench          benchmarks (ratios against peers measured in the same run)'
	@echo '  stress         crash (500 ops, random SIGKILLs) and load (16 x 200) tests, host and VM'
	@echo '  demo           the README demo (daemon on a veth pair; in the VM if needed)'
	@echo '  fuzz           every libFuzzer target FUZZ_TIME s (600; FUZZ_TARGETS=NAMES for some) from'
	@echo '                 tests/fuzz/corpus after replaying tests/fuzz/regress; finds in $$(O)/fuzz-crashes'
	@echo '  fuzz-build     build them only;  fuzz-merge  add found inputs with new coverage to the corpus'
	@echo '  install        bpfd and applet links to $$(DESTDIR)$$(PREFIX)/sbin, the systemd unit,'
	@echo '                 $$(SYSCONFDIR)/init.d/bpfd (INIT=sysv|openrc|none), examples in $$(DOCDIR)'
	@echo '  proto, vendor  generate nanopb code / fetch vendored sources'
	@echo '  clean, size, help'
	@echo 'Variables: V=1 (verbose), O=DIR (build dir), SANITIZE=1 or SAN=1 (ASan+UBSan, dynamic), WERROR=1'

-include $(OBJS:.o=.d)
