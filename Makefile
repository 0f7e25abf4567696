# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# attls build.  Out-of-tree into $(OUTPUT); `make V=1` shows commands.
#   make            build bpf object, skeleton, attlsd, attlsctl
#   make deps       apt-get install what is missing (build + tests)
#   make demo       the README demo (installs deps itself)
#   make check      unit + integration tests, the integration tests again
#                   under ASan+UBSan (make asan-check), bounded fuzzing
#                   (installs deps itself)
#   make vmlinux    regenerate vmlinux/vmlinux.h from $(VMLINUX_BTF)

OUTPUT    ?= .output
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= cc
PYTHON    ?= python3
ARCH      ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
PREFIX    ?= /usr/local

CFLAGS    ?= -g -O2
WARN      := -Wall -Wextra -Werror
ALL_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -I$(OUTPUT) -MMD -MP
LDLIBS    := -lbpf -lelf -lz -lssl -lcrypto -ljson-c -lpthread

# clang -target bpf does not search the host's system include dirs: add them
# after ours (libbpf-bootstrap), so <bpf/bpf_helpers.h> resolves.
CLANG_BPF_SYS_INCLUDES = $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS = -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	-Ivmlinux -Ibpf $(CLANG_BPF_SYS_INCLUDES) -MMD -MP

POLICY_SRCS := $(wildcard policy/*.c)
USER_SRCS   := $(wildcard user/*.c)
CLI_SRCS    := $(wildcard cli/*.c)
UNIT_SRCS   := $(wildcard tests/unit/*.c)

POLICY_OBJS := $(POLICY_SRCS:%.c=$(OUTPUT)/%.o)
USER_OBJS   := $(USER_SRCS:%.c=$(OUTPUT)/%.o)
CLI_OBJS    := $(CLI_SRCS:%.c=$(OUTPUT)/%.o)
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(OUTPUT)/tests/%)

BPF_OBJ  := $(OUTPUT)/attls.bpf.o
SKEL     := $(OUTPUT)/attls.skel.h
ATTLSD   := $(OUTPUT)/attlsd
ATTLSCTL := $(OUTPUT)/attlsctl

# libattls: the application control library (user/lib/, docs/appctl.md).
# Not part of attlsd (USER_SRCS is user/*.c only): applications link it.
LIBATTLS_SOVER := 1
LIBATTLS_A     := $(OUTPUT)/lib/libattls.a
LIBATTLS_SO    := $(OUTPUT)/lib/libattls.so.$(LIBATTLS_SOVER)
LIBATTLS_PC    := $(OUTPUT)/lib/attls.pc
# The sample controlling application of the integration tests.
STARTTLS_SRV   := $(OUTPUT)/tests/starttls_srv

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean deps demo check test unit integration vmlinux install bench

all: $(ATTLSD) $(ATTLSCTL) $(LIBATTLS_A) $(LIBATTLS_SO) $(LIBATTLS_PC) $(STARTTLS_SRV)

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/user $(OUTPUT)/policy $(OUTPUT)/cli $(OUTPUT)/tests $(OUTPUT)/tests/unit $(OUTPUT)/lib $(OUTPUT)/tests/helpers:
	$(Q)mkdir -p $@

# BPF: .bpf.c -> .tmp.bpf.o -> bpftool gen object -> .bpf.o -> gen skeleton
$(OUTPUT)/bpf/%.tmp.bpf.o: bpf/%.bpf.c Makefile | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MF $(@:.o=.d) -c $< -o $@

$(OUTPUT)/%.bpf.o: $(OUTPUT)/bpf/%.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name attls_bpf > $@

# User space.  Every user object may include the skeleton, so it is built
# first; -MMD records the real header dependencies after that.
$(OUTPUT)/%.o: %.c Makefile $(SKEL) | $(OUTPUT)/user $(OUTPUT)/policy $(OUTPUT)/cli $(OUTPUT)/tests/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(ATTLSD): $(USER_OBJS) $(POLICY_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# attlsctl shares only leaf helpers with the daemon (formatting, JSON,
# logging), never the daemon's modules.
CLI_SHARED := $(OUTPUT)/user/log.o $(OUTPUT)/user/addr.o $(OUTPUT)/user/aj.o \
	      $(OUTPUT)/user/rc_table.o

$(ATTLSCTL): $(CLI_OBJS) $(POLICY_OBJS) $(CLI_SHARED)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/lib/libattls.o: user/lib/libattls.c Makefile | $(OUTPUT)/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -c $< -o $@

$(LIBATTLS_A): $(OUTPUT)/lib/libattls.o
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIBATTLS_SO): $(OUTPUT)/lib/libattls.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -shared -Wl,-soname,libattls.so.$(LIBATTLS_SOVER) $^ -o $@
	$(Q)ln -sf libattls.so.$(LIBATTLS_SOVER) $(OUTPUT)/lib/libattls.so

$(LIBATTLS_PC): Makefile | $(OUTPUT)/lib
	$(call msg,GEN,$@)
	$(Q)printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: attls\nDescription: attls application control (AT-TLS SIOCTTLSCTL)\nVersion: 1.0\nLibs: -L$${libdir} -lattls\nCflags: -I$${includedir}\n' '$(PREFIX)' > $@

$(OUTPUT)/tests/helpers/%.o: tests/helpers/%.c Makefile | $(OUTPUT)/tests/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Iuser/lib -c $< -o $@

# Linked with the static library, as an application would (-lattls).
$(STARTTLS_SRV): $(OUTPUT)/tests/helpers/starttls_srv.o $(LIBATTLS_A)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -lcrypto -o $@

# Unit tests: one binary per tests/unit/*.c, linked with the policy library.
$(OUTPUT)/tests/%: $(OUTPUT)/tests/unit/%.o $(POLICY_OBJS) $(OUTPUT)/user/log.o $(OUTPUT)/user/addr.o $(OUTPUT)/user/rc_table.o | $(OUTPUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Unit tests of daemon modules link those modules as well.
$(OUTPUT)/tests/test_keyring: $(OUTPUT)/user/keyring.o $(OUTPUT)/user/tlsinfo.o \
	$(OUTPUT)/user/rc.o $(OUTPUT)/user/aj.o

$(OUTPUT)/tests/test_trace: $(OUTPUT)/user/trace.o $(OUTPUT)/user/rc.o
$(OUTPUT)/tests/test_engine_sess: $(OUTPUT)/user/engine_sess.o

$(OUTPUT)/tests/test_appctl_class: $(OUTPUT)/user/appctl_class.o
$(OUTPUT)/tests/test_jw: $(OUTPUT)/user/jw.o $(OUTPUT)/user/aj.o

unit: $(UNIT_BINS)
	$(Q)$(PYTHON) tests/run_unit.py $(UNIT_BINS)

# Exit 77 = skipped (not root, no BTF, no cgroup v2): a skip, not a failure.
INTEGRATION_SUITES := tests/integration.py tests/integration_zert.py \
	tests/integration_diag.py tests/integration_af.py tests/integration_priv.py \
	tests/integration_appctl.py tests/integration_hostile.py tests/integration_ftp.py \
	tests/integration_crl.py
integration: all
	$(Q)for t in $(INTEGRATION_SUITES); do \
	  $(PYTHON) $$t --build $(OUTPUT); rc=$$?; \
	  if [ $$rc -eq 77 ]; then echo "$$t SKIPPED (see above)"; \
	  elif [ $$rc -ne 0 ]; then exit $$rc; fi; \
	done

test: unit integration

deps:
	$(Q)./packaging/install-deps.sh

# The README's two commands: each installs what it needs first.
check:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit integration asan-check fuzz-check

demo:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./tests/demo.sh $(OUTPUT)

vmlinux:
	$(call msg,GEN,vmlinux/vmlinux.h)
	$(Q){ echo "/* vmlinux.h: generated by 'make vmlinux' from kernel $$(uname -r) $$(uname -m) BTF ($(VMLINUX_BTF))."; \
	     echo " * Do not edit; regenerate only with 'make vmlinux'. */"; \
	     $(BPFTOOL) btf dump file $(VMLINUX_BTF) format c; } > vmlinux/vmlinux.h.tmp
	$(Q)mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(ATTLSD) $(DESTDIR)$(PREFIX)/sbin/attlsd
	install -m 0755 $(ATTLSCTL) $(DESTDIR)$(PREFIX)/bin/attlsctl
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0644 user/lib/attls.h $(DESTDIR)$(PREFIX)/include/attls.h
	install -m 0644 $(LIBATTLS_A) $(DESTDIR)$(PREFIX)/lib/libattls.a
	install -m 0755 $(LIBATTLS_SO) $(DESTDIR)$(PREFIX)/lib/libattls.so.$(LIBATTLS_SOVER)
	ln -sf libattls.so.$(LIBATTLS_SOVER) $(DESTDIR)$(PREFIX)/lib/libattls.so
	install -m 0644 $(LIBATTLS_PC) $(DESTDIR)$(PREFIX)/lib/pkgconfig/attls.pc

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*/*.d $(OUTPUT)/*/*/*.d)

# ---------------------------------------------------------------------------
# Fuzzing the policy front end (tests/fuzz/).  Owned by the policy work;
# self-contained: nothing above depends on it.
#   make fuzz [FUZZ_SECONDS=60]   build the libFuzzer target with ASan+UBSan
#                                 and run it on the seed corpus
#   make fuzz-check               the malformed-policy corpus check, then a
#                                 FUZZ_CHECK_SECONDS (20 s) fuzzing run
# New inputs go to $(OUTPUT)/fuzz/corpus, crashes to $(OUTPUT)/fuzz/crash-*.
# ---------------------------------------------------------------------------
FUZZ_SECONDS       ?= 60
FUZZ_CHECK_SECONDS ?= 20
FUZZ_DIR    := $(OUTPUT)/fuzz
FUZZ_BIN    := $(FUZZ_DIR)/fuzz_policy
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $(WARN) -std=gnu11 -D_GNU_SOURCE
FUZZ_OPTS   := -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-dict=tests/fuzz/policy.dict -artifact_prefix=$(FUZZ_DIR)/

$(FUZZ_DIR) $(FUZZ_DIR)/corpus:
	$(Q)mkdir -p $@

$(FUZZ_BIN): tests/fuzz/fuzz_policy.c $(POLICY_SRCS) $(wildcard policy/*.h) Makefile | $(FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) tests/fuzz/fuzz_policy.c $(POLICY_SRCS) -o $@

fuzz: $(FUZZ_BIN) | $(FUZZ_DIR)/corpus
	$(Q)$(FUZZ_BIN) $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECONDS) \
		$(FUZZ_DIR)/corpus tests/fuzz/corpus

fuzz-check: $(FUZZ_BIN) $(OUTPUT)/tests/test_malformed
	$(Q)$(OUTPUT)/tests/test_malformed
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS)
	$(Q)$(MAKE) --no-print-directory fuzz-ctl CTL_FUZZ_SECONDS=$(FUZZ_CHECK_OTHER_SECONDS)
	$(Q)$(MAKE) --no-print-directory fuzz-observe OBS_FUZZ_SECONDS=$(FUZZ_CHECK_OTHER_SECONDS)
	$(Q)$(MAKE) --no-print-directory fuzz-ftp FTP_FUZZ_SECONDS=$(FTP_FUZZ_CHECK_SECONDS)

.PHONY: fuzz fuzz-check

# ---------------------------------------------------------------------------
# bench: attls against stunnel4, side by side (issue 7; tests/bench/).
# Self-contained: nothing above depends on it, and `make check` does not
# run it.
#   make bench                  deps, build, the full run (~5-10 min):
#                               docs/benchmarks.md and docs/benchmarks.json
#   make bench BENCH_QUICK=1    smoke run (~1 min), same outputs, marked QUICK
#   make bench BENCH_ARGS='--only bulk,latency --reps 3'   (bench.py --help)
# ---------------------------------------------------------------------------
BENCHTOOL := $(OUTPUT)/benchtool

$(BENCHTOOL): tests/bench/benchtool.c Makefile | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g $(WARN) -std=gnu11 $< -lssl -lcrypto -lpthread -o $@

bench:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory all $(BENCHTOOL)
	$(Q)$(PYTHON) tests/bench/bench.py --build $(OUTPUT) \
		$(if $(filter-out 0,$(BENCH_QUICK)),--quick) $(BENCH_ARGS)

.PHONY: bench
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# zERT stream observation (issue 6; user/observe.c, tests/fuzz/fuzz_observe.c).
# Self-contained: nothing above depends on it.
#   test_observe links the parsers (make unit runs it with the others)
#   make fuzz-observe [OBS_FUZZ_SECONDS=60]   libFuzzer with ASan+UBSan on
#                     the seed corpus (tests/fuzz/mkseeds_observe.py made it)
#   make zert-bench   records/s at 5,000 new connections/s (docs/zert.md)
# New inputs go to $(OUTPUT)/fuzz-observe/corpus, crashes beside it.
# ---------------------------------------------------------------------------
$(OUTPUT)/tests/test_observe: $(OUTPUT)/user/observe.o

# The FTP helper (ApplicationProtocol FTP; user/ftp.c, tests/fuzz/fuzz_ftp.c)
$(OUTPUT)/tests/test_ftp: $(OUTPUT)/user/ftp.o

OBS_FUZZ_SECONDS ?= 60
OBS_FUZZ_DIR     := $(OUTPUT)/fuzz-observe
OBS_FUZZ_BIN     := $(OBS_FUZZ_DIR)/fuzz_observe
OBS_FUZZ_CFLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $(WARN) -std=gnu11 -D_GNU_SOURCE

$(OBS_FUZZ_DIR) $(OBS_FUZZ_DIR)/corpus:
	$(Q)mkdir -p $@

$(OBS_FUZZ_BIN): tests/fuzz/fuzz_observe.c user/observe.c user/observe.h Makefile | $(OBS_FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(OBS_FUZZ_CFLAGS) tests/fuzz/fuzz_observe.c user/observe.c -lcrypto -o $@

# tests/zert_bench.py's load generator (not part of `make all`)
CONNLOAD := $(OUTPUT)/connload

$(CONNLOAD): tests/helpers/connload.c Makefile | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g $(WARN) -std=gnu11 -D_GNU_SOURCE $< -o $@

fuzz-observe: $(OBS_FUZZ_BIN) | $(OBS_FUZZ_DIR)/corpus
	$(Q)$(OBS_FUZZ_BIN) -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=$(OBS_FUZZ_DIR)/ -max_total_time=$(OBS_FUZZ_SECONDS) \
		$(OBS_FUZZ_DIR)/corpus tests/fuzz/corpus-observe

zert-bench: all $(CONNLOAD)
	$(Q)$(PYTHON) tests/zert_bench.py --build $(OUTPUT)

.PHONY: fuzz-observe zert-bench
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# Soak (tests/soak.py, not part of make check): SOAK_SECONDS of connection
# churn through the server and the client role at SOAK_RATE new connections
# a second each, attlsd's RSS, descriptors, pinned-map entries and the TCP
# sockets sampled and checked flat.  SOAK_DOC=1 writes the figures into
# docs/benchmarks.md ("## Soak").
# ---------------------------------------------------------------------------
SOAK_SECONDS ?= 600
SOAK_RATE    ?= 20
SOAK_DOC     ?= 0

soak: all
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) SOAK_RATE=$(SOAK_RATE) SOAK_DOC=$(SOAK_DOC) \
		$(PYTHON) tests/soak.py --build $(OUTPUT)

.PHONY: soak

# Sanitizers (issue 9): attlsd and attlsctl built with ASan+UBSan into
# $(ASAN_OUTPUT), and every integration suite runs against them.  A
# sanitizer report anywhere (errors, UBSan, leaks at clean exit) fails.
# Self-contained: nothing above depends on it; `make check` runs it.
#   make asan          build $(ASAN_OUTPUT)/attlsd, attlsctl, libattls
#   make asan-check    that build, then the integration suites --sanitize
#                      (ASAN_TESTS='-k NAME ...' narrows them)
# ---------------------------------------------------------------------------
ASAN_OUTPUT ?= .output-asan
ASAN_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
ASAN_TESTS  ?=

asan:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(ASAN_OUTPUT) \
		CFLAGS="$(ASAN_CFLAGS)" all

asan-check: asan
	$(Q)for t in $(INTEGRATION_SUITES); do \
	  $(PYTHON) $$t --build $(ASAN_OUTPUT) --sanitize $(ASAN_TESTS); rc=$$?; \
	  if [ $$rc -eq 77 ]; then echo "$$t (ASan) SKIPPED (see above)"; \
	  elif [ $$rc -ne 0 ]; then exit $$rc; fi; \
	done

.PHONY: asan asan-check
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# The control socket's request syntax (issue 9; user/ctl_proto.c,
# tests/fuzz/fuzz_ctl.c, tests/unit/test_ctl_proto.c).
#   make fuzz-ctl [CTL_FUZZ_SECONDS=60]   libFuzzer with ASan+UBSan on the
#                 committed seeds (tests/fuzz/corpus-ctl, which also holds
#                 the regression inputs)
# fuzz-check runs it, and fuzz-observe, for FUZZ_CHECK_OTHER_SECONDS each.
# ---------------------------------------------------------------------------
$(OUTPUT)/tests/test_ctl_proto: $(OUTPUT)/user/ctl_proto.o

CTL_FUZZ_SECONDS ?= 60
FUZZ_CHECK_OTHER_SECONDS ?= 10
CTL_FUZZ_DIR     := $(OUTPUT)/fuzz-ctl
CTL_FUZZ_BIN     := $(CTL_FUZZ_DIR)/fuzz_ctl

$(CTL_FUZZ_DIR) $(CTL_FUZZ_DIR)/corpus:
	$(Q)mkdir -p $@

$(CTL_FUZZ_BIN): tests/fuzz/fuzz_ctl.c user/ctl_proto.c user/ctl_proto.h Makefile | $(CTL_FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) tests/fuzz/fuzz_ctl.c user/ctl_proto.c -ljson-c -o $@

fuzz-ctl: $(CTL_FUZZ_BIN) | $(CTL_FUZZ_DIR)/corpus
	$(Q)$(CTL_FUZZ_BIN) -max_len=70000 -timeout=10 -rss_limit_mb=2048 \
		-dict=tests/fuzz/ctl.dict -artifact_prefix=$(CTL_FUZZ_DIR)/ \
		-max_total_time=$(CTL_FUZZ_SECONDS) \
		$(CTL_FUZZ_DIR)/corpus tests/fuzz/corpus-ctl

.PHONY: fuzz-ctl
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# The FTP helper (ApplicationProtocol FTP; user/ftp.c, docs/ftp.md).
#   make fuzz-ftp [FTP_FUZZ_SECONDS=60]   libFuzzer with ASan+UBSan on the
#                     seed corpus tests/fuzz/corpus-ftp; fuzz-check runs it
#                     for FTP_FUZZ_CHECK_SECONDS (10 s)
# ---------------------------------------------------------------------------
FTP_FUZZ_SECONDS       ?= 60
FTP_FUZZ_CHECK_SECONDS ?= 10
FTP_FUZZ_DIR := $(OUTPUT)/fuzz-ftp
FTP_FUZZ_BIN := $(FTP_FUZZ_DIR)/fuzz_ftp

$(FTP_FUZZ_DIR) $(FTP_FUZZ_DIR)/corpus:
	$(Q)mkdir -p $@

$(FTP_FUZZ_BIN): tests/fuzz/fuzz_ftp.c user/ftp.c user/ftp.h Makefile | $(FTP_FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(OBS_FUZZ_CFLAGS) tests/fuzz/fuzz_ftp.c user/ftp.c -o $@

fuzz-ftp: $(FTP_FUZZ_BIN) | $(FTP_FUZZ_DIR)/corpus
	$(Q)$(FTP_FUZZ_BIN) -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=$(FTP_FUZZ_DIR)/ -max_total_time=$(FTP_FUZZ_SECONDS) \
		$(FTP_FUZZ_DIR)/corpus tests/fuzz/corpus-ftp

.PHONY: fuzz-ftp
# ---------------------------------------------------------------------------
