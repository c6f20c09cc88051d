# limpet - one Makefile. `make` builds everything into build/; `make V=1` shows the commands.
.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

BUILD   := build
CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
ARCH    := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTI   := $(shell $(CC) -print-multiarch 2>/dev/null)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

SAN      ?= -fsanitize=address,undefined -fno-omit-frame-pointer
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Iuser -I$(BUILD)/skel
LDLIBS   := -lxdp -lbpf -lelf -lz
BPFFLAGS := -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf \
	    $(if $(MULTI),-I/usr/include/$(MULTI))

ABI      := $(wildcard include/limpet/*.h)
BPF_HDRS := $(wildcard bpf/*.h) $(ABI)
BPF_PROGS := balancer decap baseline bench_wrap pass rig_gen rig_count
SKELS    := $(patsubst %,$(BUILD)/skel/%.skel.h,$(BPF_PROGS))

# user space: one folder per subsystem (DESIGN.md section 2); a folder's *.c are its module,
# but for the programs' main files
MAINS      := user/daemon/limpetd.c user/ctl/limpetctl.c
mod         = $(filter-out $(MAINS),$(wildcard user/$(1)/*.c))
obj         = $(patsubst user/%.c,$(BUILD)/obj/%.o,$(1))
san         = $(patsubst user/%.c,$(BUILD)/san/%.o,$(1))
USER_HDRS  := $(wildcard user/*/*.h)

# the dataplane and what it stands on
DP_SRCS     := $(call mod,dataplane) $(call mod,maglev) $(call mod,common)
CONFIG_SRCS := $(call mod,config)
# compiling the config model into dataplane state
APPLY_SRCS  := $(call mod,apply)
# the daemon: its own modules, the API, the prober and the dataplane, compiled from the config
# model
D_SRCS      := $(call mod,daemon) $(call mod,api) $(call mod,health) $(call mod,l7) $(APPLY_SRCS) \
	       $(CONFIG_SRCS)
D_OBJS      := $(call obj,$(D_SRCS))
D_SAN       := $(call san,$(D_SRCS))
DP_OBJS     := $(call obj,$(DP_SRCS))
DP_SAN      := $(call san,$(DP_SRCS))
CONFIG_SAN  := $(call san,$(CONFIG_SRCS))
PKT_SAN     := $(BUILD)/san/pkt.o
D_LIBS      := $(LDLIBS) -ljansson -lmicrohttpd -lhttp_parser -lsystemd -lcrypto -pthread

PROGS    := $(BUILD)/limpetd $(BUILD)/limpetctl $(BUILD)/limpet-backend $(BUILD)/namesrv \
	    $(BUILD)/rigclient $(BUILD)/fakesrv $(BUILD)/rawhttp
TESTS    := $(BUILD)/test_maglev $(BUILD)/test_config $(BUILD)/test_edit $(BUILD)/test_apply \
	    $(BUILD)/test_xdp $(BUILD)/test_sticky $(BUILD)/limpetd-san $(BUILD)/test_metrics $(BUILD)/limpetctl-san \
	    $(BUILD)/test_probe $(BUILD)/test_health $(BUILD)/test_l7_policy $(BUILD)/test_l7_http
BENCHES  := $(BUILD)/bench_xdp $(BUILD)/bench_rig $(BUILD)/bench_rig_backends $(BUILD)/bench_api \
	    $(BUILD)/bench_health
# what the benchmarks share (farm setup, the 1M clients, CPU pinning, statistics)
BENCH_COMMON := tests/bench/bench_common.c tests/bench/bench_common.h

.PHONY: all deps test bench demo clean
all: $(PROGS) $(TESTS) $(BENCHES) $(patsubst %,$(BUILD)/bpf/%.bpf.o,$(BPF_PROGS))

deps:
	$(Q)./scripts/deps.sh

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPFFLAGS) -c $< -o $@

$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

$(BUILD)/obj/%.o: user/%.c $(USER_HDRS) $(ABI) $(BUILD)/skel/balancer.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: user/%.c $(USER_HDRS) $(ABI) $(BUILD)/skel/balancer.skel.h
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -c $< -o $@

$(BUILD)/san/pkt.o: tests/bpf/pkt.c tests/bpf/pkt.h $(ABI)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -Itests/bpf -c $< -o $@

# what the cmocka unit tests share
UNIT_HELPERS := $(BUILD)/san/unit_helpers.o
$(UNIT_HELPERS): tests/unit/helpers.c tests/unit/helpers.h $(USER_HDRS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -c $< -o $@

$(BUILD)/obj/pkt.o: tests/bpf/pkt.c tests/bpf/pkt.h $(ABI)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf -c $< -o $@

$(BUILD)/limpetd: user/daemon/limpetd.c $(D_OBJS) $(DP_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(D_LIBS) -o $@

# the daemon as the end-to-end tests run it: with ASan/UBSan
$(BUILD)/limpetd-san: user/daemon/limpetd.c $(D_SAN) $(DP_SAN)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ $(D_LIBS) -o $@

# the API's command-line client
CTL_SRCS    := $(call mod,ctl)
CTL_LIBS    := -lcurl -ljansson
CTL_HDRS    := $(wildcard user/ctl/*.h)

# its objects need no BPF skeleton (the pattern rules above wait for one)
$(BUILD)/obj/ctl/%.o: user/ctl/%.c $(CTL_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/san/ctl/%.o: user/ctl/%.c $(CTL_HDRS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -c $< -o $@

$(BUILD)/limpetctl: user/ctl/limpetctl.c $(call obj,$(CTL_SRCS))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(CTL_LIBS) -o $@

# the client as the end-to-end tests run it: with ASan/UBSan
$(BUILD)/limpetctl-san: user/ctl/limpetctl.c $(call san,$(CTL_SRCS))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ $(CTL_LIBS) -o $@

$(BUILD)/limpet-backend: user/backend/limpet-backend
	$(call msg,COPY,$@)
	$(Q)mkdir -p $(@D)
	$(Q)install -m 0755 $< $@

# rig fixture: the backends' HTTP/UDP name server (not part of the product)
$(BUILD)/namesrv: tools/namesrv.c tools/fixture.c tools/fixture.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< tools/fixture.c -o $@

# rig fixture: fake smtp/mysql/pgsql/http servers for the health-probe tests
$(BUILD)/fakesrv: tools/fakesrv.c tools/fixture.c tools/fixture.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< tools/fixture.c -o $@

# rig fixture: exact bytes over TCP, what comes back printed (the L7 proxy's parsing tests)
$(BUILD)/rawhttp: tools/rawhttp.c tools/fixture.c tools/fixture.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< tools/fixture.c -o $@

$(BUILD)/rigclient: tools/rigclient.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(BUILD)/test_maglev: tests/unit/test_maglev.c $(BUILD)/san/maglev/maglev.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ -lcmocka -o $@

$(BUILD)/test_config: tests/unit/test_config.c $(CONFIG_SAN) $(BUILD)/san/maglev/maglev.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ -ljansson -lcmocka -o $@

$(BUILD)/test_edit: tests/unit/test_edit.c $(CONFIG_SAN) $(BUILD)/san/maglev/maglev.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ -ljansson -lcmocka -o $@

# the health probes' protocols (not the prober): pure functions fed real greeting bytes
PROBE_SRCS  := $(wildcard user/health/probe*.c)
$(BUILD)/test_probe: tests/unit/test_probe.c $(call san,$(PROBE_SRCS)) $(CONFIG_SAN) \
		     $(BUILD)/san/maglev/maglev.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ -ljansson -lhttp_parser -lcmocka -o $@

# the prober's engine against listeners of its own on 127.0.0.1 and ::1 (log.o wants libbpf)
$(BUILD)/test_health: tests/unit/test_health.c $(call san,$(call mod,health)) $(CONFIG_SAN) \
		      $(BUILD)/san/maglev/maglev.o $(BUILD)/san/common/log.o $(UNIT_HELPERS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ $(LDLIBS) -ljansson -lhttp_parser -lcmocka -o $@

# the L7 proxy's policy half: snapshot, pick, cookie tokens and secret, counters
L7_POLICY_SRCS := $(addprefix user/l7/,snapshot.c balance.c counters.c cookie.c sticky.c addr.c)
$(BUILD)/test_l7_policy: tests/unit/test_l7_policy.c $(call san,$(L7_POLICY_SRCS)) $(CONFIG_SAN) \
			 $(BUILD)/san/maglev/maglev.o $(UNIT_HELPERS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ -ljansson -lcrypto -lcmocka -lm -pthread -o $@

# the L7 engine's pure HTTP pieces: parsing, head rewriting, PROXY headers
L7_HTTP_SRCS := user/l7/http.c user/l7/head.c user/l7/io.c user/l7/proxyproto.c
$(BUILD)/test_l7_http: tests/unit/test_l7_http.c $(call san,$(L7_HTTP_SRCS))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ -lhttp_parser -lcmocka -o $@

# runs tests/unit/check_metrics.py (python3-prometheus-client) on what it renders
$(BUILD)/test_metrics: tests/unit/test_metrics.c $(call san,user/api/metrics.c)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ -ljansson -lcmocka -o $@

# runs as root in the rig's LB namespace: loads the balancer (not attached)
$(BUILD)/test_apply: tests/unit/test_apply.c tests/bpf/pkt.h $(call san,$(APPLY_SRCS)) $(CONFIG_SAN) \
		     $(DP_SAN) $(PKT_SAN) $(UNIT_HELPERS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) -Itests/bpf $< $(call san,$(APPLY_SRCS)) $(CONFIG_SAN) $(DP_SAN) \
		$(PKT_SAN) $(UNIT_HELPERS) $(LDLIBS) \
		-ljansson -lcmocka -o $@

$(BUILD)/test_xdp: tests/bpf/test_xdp.c $(wildcard tests/bpf/*.h) $(DP_SAN) $(PKT_SAN)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) -Itests/bpf $< $(DP_SAN) $(PKT_SAN) $(LDLIBS) -o $@

$(BUILD)/test_sticky: tests/bpf/test_sticky.c $(wildcard tests/bpf/*.h) $(DP_SAN) $(PKT_SAN)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) -Itests/bpf $< $(DP_SAN) $(PKT_SAN) $(LDLIBS) -o $@

$(BUILD)/bench_xdp: tests/bench/bench_xdp.c $(BENCH_COMMON) $(DP_OBJS) $(BUILD)/obj/pkt.o $(SKELS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf $< tests/bench/bench_common.c $(DP_OBJS) $(BUILD)/obj/pkt.o \
		$(LDLIBS) -o $@

# the live-frame rig (a veth pair) and the rate through the backends (the bridge rig)
RIG_BENCHES := $(BUILD)/bench_rig $(BUILD)/bench_rig_backends
$(RIG_BENCHES): $(BUILD)/%: tests/bench/%.c $(BENCH_COMMON) $(DP_OBJS) $(BUILD)/obj/pkt.o $(SKELS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf $< tests/bench/bench_common.c $(DP_OBJS) $(BUILD)/obj/pkt.o \
		$(LDLIBS) -o $@

$(BUILD)/bench_api: tests/bench/bench_api.c $(call obj,user/maglev/maglev.c)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -lbpf -lcurl -lmicrohttpd -ljansson -lpthread -o $@

# the prober's benchmark helper: config, listeners on the backends, probe spread
$(BUILD)/bench_health: tests/bench/bench_health.c
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< -lm -o $@

# the config/API fuzzer (libFuzzer): clang only, its own sanitizer build of the config module;
# UBSan does not recover, so undefined behaviour is a crash the fuzzer saves. `make fuzz` runs
# it FUZZ_TIME seconds on a copy of the seeds (new inputs: build/fuzz-corpus, crashes:
# build/fuzz-artifacts); tests/fuzz/run.sh is the bounded run of `make test`.
FUZZ_TIME  ?= 300
FUZZ_SAN   := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	      -fno-omit-frame-pointer
FUZZ_SRCS  := tests/fuzz/fuzz_config.c $(CONFIG_SRCS) user/maglev/maglev.c
FUZZ_ARGS  := -timeout=10 -rss_limit_mb=2048 -dict=tests/fuzz/fuzz_config.dict \
	      -artifact_prefix=$(BUILD)/fuzz-artifacts/

.PHONY: fuzz
$(BUILD)/fuzz_config: $(FUZZ_SRCS) $(USER_HDRS) $(ABI)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Iuser $(FUZZ_SAN) \
		-g -O1 $(FUZZ_SRCS) -ljansson -o $@

fuzz: $(BUILD)/fuzz_config
	$(Q)mkdir -p $(BUILD)/fuzz-corpus $(BUILD)/fuzz-artifacts
	$(Q)cp tests/fuzz/corpus/* $(BUILD)/fuzz-corpus/
	$(Q)UBSAN_OPTIONS=print_stacktrace=1 $(BUILD)/fuzz_config -max_total_time=$(FUZZ_TIME) \
		$(FUZZ_ARGS) $(BUILD)/fuzz-corpus

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./tests/run.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./scripts/bench.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./scripts/demo.sh

# two limpet nodes behind a router's ECMP, the VIPs announced over BGP by BIRD (section 8)
.PHONY: demo-cluster
demo-cluster: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./scripts/demo-cluster.sh

# --- install: `make install [PREFIX=/usr/local] [DESTDIR=]`, `make uninstall` the same way.
# limpetd's balancer is embedded in the binary (libbpf skeleton); lib/limpet holds the objects
# loaded from files: decap (limpet-backend's ipip mode) and pass (the veth peers' XDP_PASS).
# The unit and /etc/default/limpet are generated/copied from packaging/; the man pages are
# whatever man/*.8 and man/*.5 exist.
PREFIX     ?= /usr/local
SBINDIR    := $(PREFIX)/sbin
BINDIR     := $(PREFIX)/bin
LIBDIR     := $(PREFIX)/lib/limpet
DOCDIR     := $(PREFIX)/share/doc/limpet
MANDIR     := $(PREFIX)/share/man
SYSTEMD_UNIT_DIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
DEFAULTS   := /etc/default/limpet
INST_BPF   := decap pass
EXAMPLES   := $(filter-out examples/bird,$(wildcard examples/*))
EX_BIRD    := $(wildcard examples/bird/*)
MAN8       := $(wildcard man/*.8)
MAN5       := $(wildcard man/*.5)
INSTALL    ?= install

.PHONY: install uninstall
install: $(BUILD)/limpetd $(BUILD)/limpetctl $(patsubst %,$(BUILD)/bpf/%.bpf.o,$(INST_BPF)) \
	 packaging/limpetd.service.in packaging/limpet.default
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(DOCDIR)/examples/bird $(DESTDIR)$(SYSTEMD_UNIT_DIR) $(DESTDIR)/etc/default
	$(Q)$(INSTALL) -m 0755 $(BUILD)/limpetd user/backend/limpet-backend $(DESTDIR)$(SBINDIR)/
	$(Q)$(INSTALL) -m 0755 $(BUILD)/limpetctl $(DESTDIR)$(BINDIR)/
	$(Q)$(INSTALL) -m 0644 $(patsubst %,$(BUILD)/bpf/%.bpf.o,$(INST_BPF)) $(DESTDIR)$(LIBDIR)/
	$(Q)$(INSTALL) -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	$(Q)$(INSTALL) -m 0644 $(EX_BIRD) $(DESTDIR)$(DOCDIR)/examples/bird/
	$(Q)$(if $(MAN8),$(INSTALL) -d $(DESTDIR)$(MANDIR)/man8 && \
		$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/)
	$(Q)$(if $(MAN5),$(INSTALL) -d $(DESTDIR)$(MANDIR)/man5 && \
		$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' packaging/limpetd.service.in \
		>$(DESTDIR)$(SYSTEMD_UNIT_DIR)/limpetd.service
	$(Q)chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/limpetd.service
	@# a conffile: an operator's settings are never overwritten
	$(Q)[ -e $(DESTDIR)$(DEFAULTS) ] || \
		$(INSTALL) -m 0644 packaging/limpet.default $(DESTDIR)$(DEFAULTS)

# removes what install put; /etc/default/limpet only when it is still the shipped one
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/limpetd $(DESTDIR)$(SBINDIR)/limpet-backend \
		$(DESTDIR)$(BINDIR)/limpetctl $(patsubst %,$(DESTDIR)$(LIBDIR)/%.bpf.o,$(INST_BPF)) \
		$(patsubst examples/%,$(DESTDIR)$(DOCDIR)/examples/%,$(EXAMPLES) $(EX_BIRD)) \
		$(patsubst man/%,$(DESTDIR)$(MANDIR)/man8/%,$(MAN8)) \
		$(patsubst man/%,$(DESTDIR)$(MANDIR)/man5/%,$(MAN5)) \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/limpetd.service
	$(Q)rmdir $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DOCDIR)/examples/bird $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(DOCDIR) 2>/dev/null || :
	$(Q)if cmp -s packaging/limpet.default $(DESTDIR)$(DEFAULTS); then \
		rm -f $(DESTDIR)$(DEFAULTS); \
	elif [ -e $(DESTDIR)$(DEFAULTS) ]; then \
		echo "uninstall: keeping $(DESTDIR)$(DEFAULTS) (changed since install)"; fi

# --- the Debian package: build/limpet_<version>_<arch>.deb from `make install DESTDIR=build/deb-root
# PREFIX=/usr` and packaging/debian/ (scripts/mkdeb.sh says how; packaging/README the rest)
.PHONY: deb
deb: deps
	$(Q)MAKE="$(MAKE)" ./scripts/mkdeb.sh

clean:
	rm -rf $(BUILD)
